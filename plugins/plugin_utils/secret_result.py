# -*- coding: utf-8 -*-
# Copyright: crane.swarm developers
# GNU General Public License v3.0+ (see https://www.gnu.org/licenses/gpl-3.0.txt)
"""Action plugin base that censors the display of results carrying secrets.

A module cannot mark its own result no_log (Ansible strips `_ansible_*` keys
from module output), and `no_log` on the parameters does not cover returned
values. The action plugin sets `_ansible_no_log` when the module returned a
secret, so callbacks print "output has been hidden" at any verbosity while the
registered variable keeps the values for later tasks (for example the join
token passed to the other hosts).
"""

from __future__ import annotations

from ansible.errors import AnsibleActionFail
from ansible.module_utils.common.text.converters import to_text
from ansible.plugins.action import ActionBase
from ansible.plugins.callback import CallbackBase

from ansible_collections.crane.swarm.plugins.module_utils.swarm.membership import TOKEN_ROLES_FACT, token_roles
from ansible_collections.crane.swarm.plugins.plugin_utils.task_args import checked_task_args, engine_module_spec

# Result keys whose values are secrets. A key counts only when it holds a value.
SECRET_RESULT_KEYS = ('join_tokens', 'unlock_key')


class CensoredResult(dict):
    """A task result whose `_ansible_no_log` mark, once set, stays set.

    ansible-core 2.16.0 to 2.16.12 and 2.17.0 to 2.17.5 overwrite the mark an action plugin set
    with the task's own no_log once the plugin returned (2.16.13 and 2.17.6 keep it), and so
    printed join tokens at -v. They write it with an item assignment, which this dict keeps True.
    """

    def __setitem__(self, key, value):
        if key == '_ansible_no_log' and self.get(key):
            value = True
        super().__setitem__(key, value)


class SecretResultAction(ActionBase):
    """Run the module of the same name; hide its displayed result if it holds a secret.

    module_options and module_rules: the module's argument spec and its rules (module_utils).

    Join tokens also leave their fingerprints (not the tokens) as a fact of the host, so that a
    join elsewhere with the token of the other role can be refused before it starts (refusal()).
    """

    module_options = None
    module_rules = None

    def run(self, tmp=None, task_vars=None):
        result = super().run(tmp, task_vars)
        # An ad hoc task of ansible-core 2.16 has no resolved_action.
        action = self._task.resolved_action or self._task.action
        try:
            checked_task_args(self._task.args, *engine_module_spec(self.module_options, self.module_rules),
                              action=self._task.action)
        except AnsibleActionFail as exc:
            result.update(failed=True, changed=False, msg=to_text(exc))
            return result
        refused = self.refusal(task_vars or {})
        if refused:
            result.update(failed=True, changed=False, msg=refused)
            return result
        # A copy: _execute_module adds ansible's internal _ansible_* keys to the arguments it gets, and a
        # retry (until:) runs this plugin again on the task's arguments.
        result.update(self._execute_module(module_name=action,
                                           module_args=dict(self._task.args),
                                           task_vars=task_vars))
        if result.get('join_tokens'):
            result.setdefault('ansible_facts', {})[TOKEN_ROLES_FACT] = token_roles(result['join_tokens'])
        secrets = [key for key in SECRET_RESULT_KEYS if result.get(key)]
        if secrets and result.get('failed'):
            # A failure is shown in full, so that its message is read: it carries no secret.
            for key in secrets:
                del result[key]
        elif secrets:
            result = CensoredResult(result)
            result['_ansible_no_log'] = True
            self._show_diff(result.get('diff'))
        return result

    def refusal(self, task_vars):
        """A reason to fail the task before the module runs, or None (this base never refuses)."""
        return None

    def published_token_roles(self, task_vars):
        """[(host, {fingerprint: role})] of the inventory's hosts that returned join tokens in this run."""
        hostvars = task_vars.get('hostvars') or {}
        published = []
        for host in (task_vars.get('groups') or {}).get('all', []):
            # An unrelated host whose variables do not template must not fail this task.
            try:
                facts = hostvars[host].get('ansible_facts') or {}
            except Exception:  # pylint: disable=broad-except
                continue
            if facts.get(TOKEN_ROLES_FACT):
                published.append((host, facts[TOKEN_ROLES_FACT]))
        return published

    def _show_diff(self, diff):
        """A censored result loses its diff in the callback; our diffs hold no secret, so show it here."""
        if diff and self._task.diff:
            self._display.display(CallbackBase()._get_diff(diff))
