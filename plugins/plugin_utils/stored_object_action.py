# -*- coding: utf-8 -*-
# Copyright: crane.swarm developers
# GNU General Public License v3.0+ (see https://www.gnu.org/licenses/gpl-3.0.txt)
"""Controller half of crane.swarm.swarm_secret and crane.swarm.swarm_config.

Every option is checked by the module's own argument spec first. The content is then read here:
`data` (base64-decoded with data_is_b64) or the file `src`, found as `copy` finds its source and
read through Ansible's loader (vault-encrypted files are decrypted). Its size is checked against
the swarm's limit, and the module receives it base64-encoded in a private no_log option, never
`data` or `src`. The result shows the task's options with the content hidden.
"""

from __future__ import annotations

import base64
import binascii

from ansible.errors import AnsibleActionFail, AnsibleFileNotFound
from ansible.module_utils.common.text.converters import to_bytes, to_text
from ansible.plugins.action import ActionBase

from ansible_collections.crane.swarm.plugins.module_utils.engine.limits import MAX_CONFIG_BYTES, MAX_SECRET_BYTES
from ansible_collections.crane.swarm.plugins.module_utils.swarm.stored_object_task import (
    CONTENT_OPTION, CONTROLLER_ONLY, STORED_OBJECT_RULES, versions_to_keep_problem)
from ansible_collections.crane.swarm.plugins.module_utils.swarm.stored_objects import LabelError, requested_labels
from ansible_collections.crane.swarm.plugins.plugin_utils.controller_files import ControllerFileError, vault_reader
from ansible_collections.crane.swarm.plugins.plugin_utils.task_args import checked_task_args, engine_module_spec

HIDDEN = 'VALUE_HIDDEN'


class StoredObjectAction(ActionBase):

    TRANSFERS_FILES = False
    kind = None  # 'secret' or 'config'
    module_options = None  # the module's options (module_utils/swarm/stored_object_task.py)

    def run(self, tmp=None, task_vars=None):
        result = super().run(tmp, task_vars)
        try:
            options = checked_task_args(self._task.args,
                                        *engine_module_spec(self.module_options, STORED_OBJECT_RULES),
                                        action=self._task.action)
            args = dict((key, value) for key, value in self._task.args.items() if key not in CONTROLLER_ONLY)
            if options['state'] == 'present':
                self._check_options(options)
                args[CONTENT_OPTION] = base64.b64encode(self._content(options)).decode('ascii')
        except AnsibleActionFail as exc:
            result.update(failed=True, changed=False, msg=to_text(exc))
            return result
        result.update(self._execute_module(module_name='crane.swarm.swarm_%s' % self.kind, module_args=args,
                                           task_vars=task_vars))
        if isinstance((result.get('invocation') or {}).get('module_args'), dict):
            shown = dict((key, value) for key, value in result['invocation']['module_args'].items()
                         if not key.startswith('_'))
            shown.update((key, options.get(key)) for key in CONTROLLER_ONLY)
            if shown.get('data') is not None:
                shown['data'] = HIDDEN
            result['invocation']['module_args'] = shown
        return result

    @staticmethod
    def _check_options(options):
        """The module's own checks of labels and versions_to_keep, made before the content is read."""
        problem = versions_to_keep_problem(options['versions_to_keep'])
        if problem:
            raise AnsibleActionFail(problem)
        try:
            requested_labels(options['labels'])
        except LabelError as exc:
            raise AnsibleActionFail(str(exc)) from None

    def _content(self, options):
        """The content's bytes, checked against the swarm's size limit, or AnsibleActionFail naming the option."""
        limit = MAX_SECRET_BYTES if self.kind == 'secret' else MAX_CONFIG_BYTES
        if options['src'] is not None:
            try:
                path = self._find_needle('files', options['src'])
            except AnsibleFileNotFound as exc:
                raise AnsibleActionFail('src: %s' % to_text(exc)) from None
            try:
                data = vault_reader(self._loader)(path, limit)
            except ControllerFileError as exc:
                raise AnsibleActionFail('src: %s' % exc) from None
            where = 'src (%s)' % path
        else:
            data = to_bytes(options['data'], errors='surrogate_or_strict')
            where = 'data'
            if options['data_is_b64']:
                try:
                    data = base64.b64decode(data, validate=True)
                except (binascii.Error, ValueError):
                    raise AnsibleActionFail('data: not valid base64 (data_is_b64 is true); give the base64 text, '
                                            'or set data_is_b64: false for plain text') from None
        if not data:
            raise AnsibleActionFail('%s: the content is empty: a swarm %s holds 1 to %d bytes' % (where, self.kind, limit))
        if len(data) > limit:
            raise AnsibleActionFail('%s: the content holds more than %d bytes, the most a swarm %s holds'
                                    % (where, limit, self.kind))
        return data
