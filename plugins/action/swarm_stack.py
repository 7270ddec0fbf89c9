# -*- coding: utf-8 -*-
# Copyright: crane.swarm developers
# GNU General Public License v3.0+ (see https://www.gnu.org/licenses/gpl-3.0.txt)
"""Controller half of crane.swarm.swarm_stack: read, validate, and hand over the bundle.

The bundle file, and the secret and config files it names, live on the
controller. They are read here, the bundle is checked here against the
bundle schema and for meaning (plugin_utils/bundle/check.py), and the module on the
manager receives plain data. Nothing reaches the manager when the bundle has a
problem: every problem is reported with its JSON path.
"""

from __future__ import annotations

import base64
import gc
import json
import os

from ansible.errors import AnsibleActionFail, AnsibleFileNotFound
from ansible.module_utils.common.text.converters import to_text
from ansible.plugins.action import ActionBase

from ansible_collections.crane.swarm.plugins.plugin_utils.bundle.check import check_bundle, json_path
from ansible_collections.crane.swarm.plugins.module_utils.engine.limits import MAX_CONFIG_BYTES, MAX_SECRET_BYTES
from ansible_collections.crane.swarm.plugins.module_utils.stacks.apply import echoed_arguments
from ansible_collections.crane.swarm.plugins.plugin_utils.bundle.reader import load_bundle_text, read_bundle_file


class ActionModule(ActionBase):

    TRANSFERS_FILES = False

    def run(self, tmp=None, task_vars=None):
        result = super().run(tmp, task_vars)
        args = dict(self._task.args)
        bundle = None
        if args.get('state', 'present') == 'present':
            try:
                bundle, source, base_dir = self._read_bundle(args.pop('src', None), args.get('definition'))
                problems = check_bundle(bundle, args.get('name'))
                if problems:
                    result.update(failed=True, changed=False, problems=[str(problem) for problem in problems],
                                  msg='bundle %s has %d problem(s), nothing was deployed:\n%s' % (
                                      source, len(problems), '\n'.join(str(problem) for problem in problems)))
                    return result
                # As JSON text: the module would deep-copy a mapping of hundreds of services.
                args['definition'] = json.dumps(bundle)
                args['secret_data'] = self._file_contents(bundle.get('Secrets'), base_dir, 'Secrets')
                args['config_data'] = self._file_contents(bundle.get('Configs'), base_dir, 'Configs')
            except (AnsibleActionFail, ValueError) as exc:
                result.update(failed=True, changed=False, msg=to_text(exc))
                return result
        # ansible-core parses every source file of the module's payload into syntax trees here, and
        # the collector would walk the growing trees again and again: 0.15 s of a 200-service
        # no-op. Collection resumes when the module returns; this worker exits after the task.
        gc.disable()
        try:
            result.update(self._execute_module(module_name='crane.swarm.swarm_stack', module_args=args,
                                               task_vars=task_vars))
        finally:
            gc.enable()
        module_args = (result.get('invocation') or {}).get('module_args')
        if isinstance(module_args, dict):
            # Defence in depth: whatever the module echoed, no bundle and no file contents are shown.
            sent = dict((key, args[key]) for key in ('secret_data', 'config_data') if key in args)
            if bundle is not None:
                sent['definition'] = bundle
            result['invocation']['module_args'] = echoed_arguments(dict(module_args, **sent))
        return result

    def _read_bundle(self, src, definition):
        """(bundle, where it came from, the folder its File entries are relative to)."""
        if bool(src) == (definition is not None):
            raise AnsibleActionFail('give exactly one of src (a bundle file on the controller) and definition')
        if definition is not None:
            bundle = definition if isinstance(definition, dict) else load_bundle_text(to_text(definition), 'definition')
            return bundle, 'definition', self._loader.get_basedir()
        try:
            path = self._find_needle('files', src)
        except AnsibleFileNotFound as exc:
            raise AnsibleActionFail('src: %s' % to_text(exc))
        return load_bundle_text(read_bundle_file(path), path), path, os.path.dirname(path)

    @staticmethod
    def _file_contents(definitions, base_dir, section):
        """{logical name: base64 content} of the entries that name a File, read on the controller.

        A content the swarm would refuse (empty, or too large: swarmkit's limits)
        is refused here, before anything is created.
        """
        kind, limit = {'Secrets': ('secret', MAX_SECRET_BYTES), 'Configs': ('config', MAX_CONFIG_BYTES)}[section]
        contents = {}
        for name, definition in (definitions or {}).items():
            if not isinstance(definition, dict) or not definition.get('File'):
                continue
            where = json_path([section, name, 'File'])
            path = os.path.join(base_dir, os.path.expanduser(definition['File']))
            try:
                with open(path, 'rb') as content_file:
                    data = content_file.read(limit + 1)
            except (OSError, ValueError) as exc:  # ValueError: a NUL in the path
                raise AnsibleActionFail('%s: cannot read %s on the controller: %s'
                                        % (where, path, getattr(exc, 'strerror', None) or exc))
            if not data:
                raise AnsibleActionFail('%s: %s is empty: a swarm %s holds 1 to %d bytes' % (where, path, kind, limit))
            if len(data) > limit:
                raise AnsibleActionFail('%s: %s holds %d bytes or more: a swarm %s holds at most %d'
                                        % (where, path, limit + 1, kind, limit))
            contents[name] = base64.b64encode(data).decode('ascii')
        return contents
