# -*- coding: utf-8 -*-
# Copyright: crane.swarm developers
# GNU General Public License v3.0+ (see https://www.gnu.org/licenses/gpl-3.0.txt)
"""Controller half of crane.swarm.swarm_stack: read, validate, and hand over the bundle.

The bundle file (or the compose files, read into a bundle by plugin_utils/compose/),
and the secret and config files it names, live on the controller. They are read
here, and the bundle is checked here, once: against the bundle schema, for meaning,
and for the Docker names the stack gives its objects (plugin_utils/bundle/check.py).
The options src, definition, compose and env are checked by their argument spec
(module_utils/stacks/options.py) and used here only; the module on the manager
receives the checked bundle and the file contents in private options, and checks
none of it again. Nothing reaches the manager when the bundle or a compose file has
a problem: every problem is reported with its JSON or compose path.
"""

from __future__ import annotations

import base64
import gc
import json
import os

from ansible.errors import AnsibleActionFail, AnsibleFileNotFound
from ansible.module_utils.common.text.converters import to_text
from ansible.plugins.action import ActionBase

from ansible_collections.crane.swarm.plugins.plugin_utils.bundle.check import check_bundle, json_path, without_extensions
from ansible_collections.crane.swarm.plugins.module_utils.engine.client import engine_argument_spec
from ansible_collections.crane.swarm.plugins.module_utils.engine.limits import MAX_CONFIG_BYTES, MAX_SECRET_BYTES
from ansible_collections.crane.swarm.plugins.module_utils.stacks.apply import echoed_arguments, registry_credentials_by_host
from ansible_collections.crane.swarm.plugins.module_utils.stacks.spec import HIDDEN
from ansible_collections.crane.swarm.plugins.module_utils.stacks.options import (
    BUNDLE_JSON, CONFIG_DATA, CONTROLLER_RULES, SECRET_DATA, SOURCE_OPTIONS, STACK_OPTIONS)
from ansible_collections.crane.swarm.plugins.plugin_utils.bundle.reader import load_bundle_text, read_bundle_file
from ansible_collections.crane.swarm.plugins.plugin_utils.compose.errors import ComposeError
from ansible_collections.crane.swarm.plugins.plugin_utils.compose.project import compose_bundle, dotenv_variables
from ansible_collections.crane.swarm.plugins.plugin_utils.controller_files import ControllerFileError, vault_reader
from ansible_collections.crane.swarm.plugins.plugin_utils.task_args import checked_task_args


class ActionModule(ActionBase):

    TRANSFERS_FILES = False

    def run(self, tmp=None, task_vars=None):
        result = super().run(tmp, task_vars)
        try:
            options = controller_options(self._task.args, self._task.action)
        except AnsibleActionFail as exc:
            result.update(failed=True, changed=False, msg=to_text(exc))
            return result
        # The module receives the user's other options as given, never the stack's source, and private
        # options only from here.
        args = dict((key, value) for key, value in self._task.args.items()
                    if key not in SOURCE_OPTIONS and not key.startswith('_'))
        if options['state'] == 'present':
            try:
                if options['compose'] is not None:
                    # compose_to_bundle has checked the bundle it made (naming the compose keys).
                    bundle, source, base_dir, warnings = self._read_compose(options['compose'], options['env'],
                                                                            options['name'])
                    result.setdefault('warnings', []).extend(warnings)
                    problems = []
                else:
                    bundle, source, base_dir = self._read_bundle(options['src'], options['definition'])
                    problems = check_bundle(bundle, options['name'])
                if problems:
                    result.update(failed=True, changed=False, problems=[str(problem) for problem in problems],
                                  msg='bundle %s has %d problem(s), nothing was deployed:\n%s' % (
                                      source, len(problems), '\n'.join(str(problem) for problem in problems)))
                    return result
                args[BUNDLE_JSON] = json.dumps(without_extensions(bundle))
                args[SECRET_DATA] = self._file_contents(bundle.get('Secrets'), base_dir, 'Secrets')
                args[CONFIG_DATA] = self._file_contents(bundle.get('Configs'), base_dir, 'Configs')
            except ComposeError as exc:
                result.update(failed=True, changed=False, msg='compose: %s; nothing was deployed' % to_text(exc))
                return result
            except (AnsibleActionFail, ValueError) as exc:
                result.update(failed=True, changed=False, msg=to_text(exc))
                return result
        # ansible-core parses every source file of the module's payload into syntax trees here, and
        # the collector would walk the growing trees again and again: 0.15 s of a 200-service
        # no-op. Collection resumes when the module returns; this worker exits after the task.
        gc.disable()
        warnings = result.pop('warnings', [])
        try:
            result.update(self._execute_module(module_name='crane.swarm.swarm_stack', module_args=args,
                                               task_vars=task_vars))
        finally:
            gc.enable()
        if warnings:
            result['warnings'] = warnings + list(result.get('warnings') or [])
        module_args = (result.get('invocation') or {}).get('module_args')
        if isinstance(module_args, dict):
            result['invocation']['module_args'] = shown_arguments(module_args, self._task.args)
        return result

    def _read_bundle(self, src, definition):
        """(bundle, where it came from, the folder its File entries are relative to).

        Exactly one of `src` and `definition` is given: the argument spec saw to it.
        """
        if definition is not None:
            bundle = definition if isinstance(definition, dict) else load_bundle_text(to_text(definition), 'definition')
            return bundle, 'definition', self._loader.get_basedir()
        try:
            path = self._find_needle('files', src)
        except AnsibleFileNotFound as exc:
            raise AnsibleActionFail('src: %s' % to_text(exc))
        return load_bundle_text(self._read_text(path), path), path, os.path.dirname(path)

    def _read_compose(self, compose, env, stack):
        """(bundle, where it came from, the folder its files are relative to, warnings) of `compose`:
        one compose file or a list of them on the controller (merged in order, as repeated
        `docker stack deploy -c`), or one compose document as a mapping.

        Variables come from `env` and from a `.env` file beside the first compose file (`env` wins).
        """
        if isinstance(compose, dict):
            # JSON is YAML: the compose reader takes the mapping as the text of one file.
            sources, base_dir, shown = [('compose', json.dumps(compose))], self._loader.get_basedir(), 'compose'
        else:
            paths = [compose] if isinstance(compose, str) else compose
            if not isinstance(paths, list) or not paths or not all(isinstance(path, str) for path in paths):
                raise AnsibleActionFail('compose: expected a compose file, a list of them, or one compose '
                                        'document as a mapping')
            located = []
            for path in paths:
                try:
                    located.append(self._find_needle('files', path))
                except AnsibleFileNotFound as exc:
                    raise AnsibleActionFail('compose: %s' % to_text(exc))
            sources = [(path, self._read_text(path)) for path in located]
            base_dir, shown = os.path.dirname(located[0]), ', '.join(located)
        variables = {}
        dotenv = os.path.join(base_dir, '.env')
        if os.path.isfile(dotenv):
            variables.update(dotenv_variables(self._read_text(dotenv), dotenv))
        variables.update((str(key), '' if value is None else to_text(value)) for key, value in (env or {}).items())
        bundle, warnings = compose_bundle(sources, base_dir, variables, stack, self._read_text)
        return bundle, shown, base_dir, warnings

    def _read_text(self, path):
        """The text of a bundle, compose, .env or env_file file on the controller; vault-encrypted ones decrypted."""
        return read_bundle_file(path, read_bytes=vault_reader(self._loader))

    def _file_contents(self, definitions, base_dir, section):
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
                data = vault_reader(self._loader)(path, limit)
            except ControllerFileError as exc:
                raise AnsibleActionFail('%s: %s on the controller: %s' % (where, path, exc.reason)) from None
            if not data:
                raise AnsibleActionFail('%s: %s is empty: a swarm %s holds 1 to %d bytes' % (where, path, kind, limit))
            if len(data) > limit:
                raise AnsibleActionFail('%s: %s holds %d bytes or more: a swarm %s holds at most %d'
                                        % (where, path, limit + 1, kind, limit))
            contents[name] = base64.b64encode(data).decode('ascii')
        return contents


def controller_options(task_args, action='crane.swarm.swarm_stack'):
    """Every option of the task checked by the module's argument spec (options.STACK_OPTIONS and the
    connection options, with CONTROLLER_RULES), before anything is read: an unknown option is
    Ansible's own "Unsupported parameters" error; registry_credentials are checked further, each
    problem naming its entry's field. Raises AnsibleActionFail.
    """
    options = checked_task_args(task_args, engine_argument_spec(**STACK_OPTIONS), CONTROLLER_RULES, action)
    try:
        registry_credentials_by_host(options['registry_credentials'])
    except ValueError as exc:
        raise AnsibleActionFail(str(exc)) from None
    return options


def shown_arguments(module_args, task_args):
    """The task's arguments as its result shows them: what the user gave, the bundle and file contents summed up.

    The private options the module received are left out; the stack's source options, which
    the module never received, are shown as the user gave them (definition and an inline compose
    summed up, env with its values hidden: they may be passwords).
    Defence in depth: whatever the module echoed, no bundle and no file contents are shown.
    """
    shown = dict((key, value) for key, value in module_args.items() if not key.startswith('_'))
    shown.update((key, task_args.get(key)) for key in SOURCE_OPTIONS)
    if isinstance(shown.get('env'), dict):
        shown['env'] = dict((key, HIDDEN) for key in shown['env'])
    return echoed_arguments(shown)
