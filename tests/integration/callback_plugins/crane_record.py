# Copyright: crane.swarm developers
# GNU General Public License v3.0+ (see https://www.gnu.org/licenses/gpl-3.0.txt)
"""Test-only callback: records every task result and the stats into a JSON file.

The stdout stays Ansible's normal output (tests grep it, e.g. for leaked
tokens), while tests read structured results from $CRANE_RECORD_FILE. It sees
results exactly as any callback does, so censored results stay censored.
"""

from __future__ import annotations

import json
import os
import time

from ansible.plugins.callback import CallbackBase

DOCUMENTATION = r"""
name: crane_record
type: aggregate
short_description: Record task results to a JSON file for crane.swarm's tests
description:
  - Writes every task result (with the seconds from the task's start on that host to its result,
    and the monotonic clock's reading at the result) and the final stats to the file named by E(CRANE_RECORD_FILE).
requirements:
  - enabled in configuration
"""


class CallbackModule(CallbackBase):
    CALLBACK_VERSION = 2.0
    CALLBACK_TYPE = 'aggregate'
    CALLBACK_NAME = 'crane_record'
    CALLBACK_NEEDS_ENABLED = True

    def __init__(self):
        super().__init__()
        self.tasks = []
        self.started = {}

    def v2_runner_on_start(self, host, task):
        self.started[(host.get_name(), task._uuid)] = time.monotonic()

    def _record(self, result, status):
        started = self.started.pop((result.host.get_name(), result.task._uuid), None)
        self.tasks.append(dict(task=result.task_name, task_id=result.task._uuid, host=result.host.get_name(),
                               status=status, seconds=None if started is None else round(time.monotonic() - started, 3),
                               ended=round(time.monotonic(), 3), result=self._plain(result.result)))

    @staticmethod
    def _plain(data):
        return json.loads(json.dumps(data, default=str))

    def v2_runner_on_ok(self, result):
        self._record(result, 'ok')

    def v2_runner_on_failed(self, result, ignore_errors=False):
        self._record(result, 'ignored' if ignore_errors else 'failed')

    def v2_runner_on_skipped(self, result):
        self._record(result, 'skipped')

    def v2_runner_on_unreachable(self, result):
        self._record(result, 'unreachable')

    def v2_playbook_on_stats(self, stats):
        hosts = sorted(stats.processed.keys())
        summary = dict((host, stats.summarize(host)) for host in hosts)
        path = os.environ.get('CRANE_RECORD_FILE')
        if path:
            with open(path, 'w') as record:
                json.dump(dict(tasks=self.tasks, stats=summary), record, indent=1)
