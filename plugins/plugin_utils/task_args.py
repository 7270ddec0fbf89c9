# -*- coding: utf-8 -*-
# Copyright: crane.swarm developers
# GNU General Public License v3.0+ (see https://www.gnu.org/licenses/gpl-3.0.txt)
"""The task's arguments checked on the controller, by the module's own argument spec, before anything runs.

    checked_task_args(task_args, argument_spec, rules, action) -> the validated options,
                                                                  or AnsibleActionFail

An action plugin that reads or refuses anything before its module runs checks every argument
first, so an unknown option (`srcc:`) gets Ansible's own "Unsupported parameters" answer rather
than a message about the options the user meant. The message never holds an option's value.
"""

from __future__ import annotations

from ansible.errors import AnsibleActionFail
from ansible.module_utils.common.arg_spec import ArgumentSpecValidator
from ansible.module_utils.errors import UnsupportedError

from ansible_collections.crane.swarm.plugins.module_utils.engine.client import (
    ENGINE_REQUIRED_TOGETHER, engine_argument_spec)


def checked_task_args(task_args, argument_spec, rules, action):
    """The validated options (defaults filled in) of task_args, or AnsibleActionFail with Ansible's message."""
    # Fallbacks read the environment of the host that runs the module, not the controller's.
    controller_spec = dict((name, dict((key, value) for key, value in entry.items() if key != 'fallback'))
                           for name, entry in argument_spec.items())
    validator = ArgumentSpecValidator(controller_spec, **rules)
    # An option set to null counts as not given (a required one is then missing); an unknown one is refused.
    # ansible-core's internal _ansible_* keys are no options (an earlier _execute_module may have added them).
    result = validator.validate(dict((name, value) for name, value in task_args.items()
                                     if (value is not None or name not in argument_spec)
                                     and not name.startswith('_ansible_')))
    if result.error_messages:
        unsupported = [error for error in result.errors.errors if isinstance(error, UnsupportedError)]
        if unsupported:
            # First and alone, as AnsibleModule reports it: the other messages follow from the typo.
            raise AnsibleActionFail('Unsupported parameters for (%s) module: %s' % (action, unsupported[0].msg))
        raise AnsibleActionFail('; '.join(result.error_messages))
    return result.validated_parameters


def engine_module_spec(options, rules=None):
    """(argument spec, rules) of an engine module: its own options (from module_utils, never the
    module file: importing a module on the controller broke ansible-core's retries) with the
    connection options."""
    rules = dict(rules or {})
    rules['required_together'] = ENGINE_REQUIRED_TOGETHER + list(rules.get('required_together') or [])
    return engine_argument_spec(**options), rules
