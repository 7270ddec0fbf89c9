# -*- coding: utf-8 -*-
# Copyright: crane.swarm developers
# GNU General Public License v3.0+ (see https://www.gnu.org/licenses/gpl-3.0.txt)
"""The base of every module that speaks to a Docker Engine.

    module = engine_module(dict(name=dict(...)), supports_check_mode=True)
    run_engine_task(module, MyTask)     # MyTask(EngineTask): present()/absent(), or its own run()

engine_module() builds the AnsibleModule from the module's own options and the
shared connection options (doc fragment crane.swarm.engine). run_engine_task()
builds the one client from them and fails the module in one style: a task
fails with self.fail(msg), which carries the result so far; an API call that
fails names what was being done ("<what> failed: <engine message>"); an engine
error nobody caught ends as task.engine_failure(error), which carries the
result too. The swarm helpers (is this engine a manager, the nodes, one node,
the managers) read the engine once and apply the pure rules of swarm.nodes.
"""

from __future__ import annotations

import time
import traceback

from ansible.module_utils.basic import AnsibleModule, missing_required_lib

from ansible_collections.crane.swarm.plugins.module_utils.engine.client import (
    ENGINE_REQUIRED_TOGETHER, MIN_DOCKER_SDK, EngineClient, EngineError, UnixSocketClient, connection_settings,
    engine_argument_spec, import_docker_sdk, sdk_version, uses_local_socket)
from ansible_collections.crane.swarm.plugins.module_utils.swarm.nodes import (
    find_node, is_manager, not_manager_reason)


def engine_module(argument_spec, required_together=None, **options):
    """The AnsibleModule of a module's own options merged with the connection options.

    options are AnsibleModule's other arguments (supports_check_mode, required_if, ...).
    """
    return AnsibleModule(argument_spec=engine_argument_spec(**argument_spec),
                         required_together=ENGINE_REQUIRED_TOGETHER + list(required_together or []),
                         **options)


def client_from_module(module):
    """Build the client from the module's connection options (connection_settings()), or fail the module."""
    settings = connection_settings(module.params)
    # Messages and the modules' own checks see the address the client uses.
    module.params['docker_host'] = settings['docker_host']
    if uses_local_socket(settings):
        try:
            return UnixSocketClient(settings['docker_host'], timeout=settings['timeout'],
                                    api_version=settings['api_version'])
        except EngineError as exc:
            module.fail_json(msg='%s (option docker_host or DOCKER_HOST)' % exc)
    try:
        docker = import_docker_sdk()
    except ImportError:
        module.fail_json(msg=missing_required_lib('docker (the docker SDK for Python, e.g. python3-docker), needed for '
                                                  'docker_host %s' % settings['docker_host']),
                         exception=traceback.format_exc())
    if sdk_version(docker) < MIN_DOCKER_SDK:
        module.fail_json(msg='docker SDK %s is too old: crane.swarm needs %s or newer (pip install "docker>=5.0.3" '
                             'or the distribution package python3-docker)'
                             % (docker.__version__, '.'.join(str(n) for n in MIN_DOCKER_SDK)))
    try:
        return EngineClient(**settings)
    except EngineError as exc:
        module.fail_json(msg='%s (option docker_host or DOCKER_HOST)' % exc)


# How a manager's engine words a raft read or write that found no leader: an election, or a lost majority.
NO_LEADER_MARKERS = ('leader', 'DeadlineExceeded', 'context deadline exceeded', 'code = Unavailable')


def leader_missing(error):
    """Whether an EngineError is a manager's answer while its swarm has no leader (lost quorum, an election).

    A manager without a leader answers swarm reads and writes with 503, or with a gRPC error naming the
    leader, a deadline or an unavailable peer.
    """
    return error.status == 503 or any(marker in str(error) for marker in NO_LEADER_MARKERS)


class EngineTask:
    """The work of one module run: the module, its one client, the result so far.

    run() calls the method named by the module's `state` (present, absent, ...)
    and returns the result. Every failure carries what the result already holds
    (what was changed before the failure, for example).
    """

    def __init__(self, module, client, result):
        self.module = module
        self.client = client
        self.params = module.params
        self.result = result
        self._swarm = None

    def fail(self, msg, **extra):
        values = dict(self.result)
        values.update(extra)
        values['msg'] = msg
        self.module.fail_json(**values)

    def engine_failure(self, error):
        """The message of an engine error that no step of the task caught."""
        return 'Docker Engine API error: %s' % error

    def call(self, method, path, what, **kwargs):
        """One API call; an engine error fails the module with `what` was being done."""
        try:
            return getattr(self.client, method)(path, **kwargs)
        except EngineError as exc:
            self.fail('%s failed: %s' % (what, exc))

    def run(self):
        getattr(self, self.params['state'])()
        return self.result

    def wait_until_gone(self, path, deadline, poll=0.5):
        """Poll GET `path` until the engine answers 404 (True) or time.monotonic() passes `deadline` (False).

        A removed object can linger on a manager for seconds while nodes release it.
        """
        while True:
            try:
                self.client.get(path)
            except EngineError as exc:
                if exc.status == 404:
                    return True
                self.fail('reading %s while waiting for its removal failed: %s' % (path, exc))
            if time.monotonic() >= deadline:
                return False
            time.sleep(poll)

    # -- the swarm, as this engine sees it

    def swarm_state(self):
        """The `Swarm` part of GET /info now: LocalNodeState, NodeID, ControlAvailable, ..."""
        info = self.call('get', '/info', 'reading the engine information (GET /info)') or {}
        return info.get('Swarm') or {}

    def require_manager(self, what):
        """This engine's swarm state; fails unless it is an active manager (read once a run).

        what: the task's work that needs the manager, as the failure names it.
        """
        if self._swarm is None:
            self._swarm = self.swarm_state()
        if not is_manager(self._swarm):
            self.fail('%s must run on a swarm manager, but the engine at %s %s; run the task on a manager '
                      '(for example delegate_to: a manager host)'
                      % (what, self.params['docker_host'], not_manager_reason(self._swarm)))
        return self._swarm

    def nodes(self):
        """Every node of the swarm (GET /nodes, on a manager)."""
        return self.call('get', '/nodes', 'listing the swarm nodes (GET /nodes)') or []

    def find_node(self, nodes, wanted):
        """The node of `nodes` whose ID or hostname is `wanted`, or None; fails when the hostname is ambiguous."""
        node, ambiguity = find_node(nodes, wanted)
        if ambiguity:
            self.fail(ambiguity)
        return node


def run_engine_task(module, task_class):
    """Build the client, run the task, and exit the module with its result."""
    task = task_class(module, client_from_module(module))
    try:
        result = task.run()
    except EngineError as exc:
        task.fail(task.engine_failure(exc))
    module.exit_json(**result)
