# Copyright: crane.swarm developers
# GNU General Public License v3.0+ (see https://www.gnu.org/licenses/gpl-3.0.txt)
"""Every action plugin checks all of the task's arguments on the controller before anything runs."""

from __future__ import annotations

import pytest
from ansible.plugins.action import ActionBase

from ansible_collections.crane.swarm.plugins.action.swarm import ActionModule as SwarmAction
from ansible_collections.crane.swarm.plugins.action.swarm_info import ActionModule as SwarmInfoAction


class Task:
    def __init__(self, name, args):
        self.action = self.resolved_action = 'crane.swarm.' + name
        self.args = args


def run(monkeypatch, plugin_class, name, args):
    """(result, whether the module was sent) of the action plugin on args."""
    monkeypatch.setattr(ActionBase, 'run', lambda self, tmp=None, task_vars=None: {})
    plugin = plugin_class.__new__(plugin_class)
    plugin._task = Task(name, args)
    sent = []
    plugin._execute_module = lambda **kwargs: sent.append(kwargs) or {'changed': False}
    return plugin.run(task_vars={}), bool(sent)


@pytest.mark.parametrize('plugin_class, name, args, message', [
    (SwarmAction, 'swarm', {'state': 'present', 'advertise_adress': '10.0.0.1'},
     'Unsupported parameters for (crane.swarm.swarm) module: advertise_adress. Supported parameters include: '),
    (SwarmAction, 'swarm', {'state': 'join', 'join_token': 'SWMTKN-1-x'},
     'state is join but all of the following are missing: remote_addrs'),
    (SwarmAction, 'swarm', {'state': 'present', 'signing_ca_key': 'k'},
     "missing parameter(s) required by 'signing_ca_key': signing_ca_cert"),
    (SwarmAction, 'swarm', {'state': 'present', 'client_cert': '/c.pem'},
     'parameters are required together: client_cert, client_key'),
    (SwarmInfoAction, 'swarm_info', {'join_token': True},
     'Unsupported parameters for (crane.swarm.swarm_info) module: join_token. Supported parameters include: '),
    (SwarmInfoAction, 'swarm_info', {'nodes': 'maybe'}, "argument 'nodes' is of type"),
])
def test_bad_arguments_fail_on_the_controller_and_the_module_is_never_sent(
        monkeypatch, plugin_class, name, args, message):
    result, sent = run(monkeypatch, plugin_class, name, args)
    assert not sent and result['failed'] and result['changed'] is False
    assert message in result['msg'], result['msg']
    assert 'SWMTKN' not in result['msg']


def test_good_arguments_reach_the_module_as_given(monkeypatch):
    result, sent = run(monkeypatch, SwarmInfoAction, 'swarm_info', {'nodes': False})
    assert sent and 'failed' not in result


def test_a_retry_runs_the_module_again_with_the_tasks_own_arguments(monkeypatch):
    """until/retries run the plugin again on the same task; ansible-core's _execute_module adds its
    _ansible_* keys to the arguments it is given, which must not reach the task's arguments."""
    monkeypatch.setattr(ActionBase, 'run', lambda self, tmp=None, task_vars=None: {})
    plugin = SwarmInfoAction.__new__(SwarmInfoAction)
    plugin._task = Task('swarm_info', {'nodes': True})
    sent = []

    def execute_module(module_name, module_args, task_vars):
        module_args['_ansible_check_mode'] = False  # as ansible-core's _update_module_args does
        sent.append(dict(module_args))
        return {'changed': False, 'nodes': []}
    plugin._execute_module = execute_module
    for attempt in (1, 2):
        result = plugin.run(task_vars={})
        assert 'failed' not in result and result['nodes'] == [], (attempt, result)
    assert plugin._task.args == {'nodes': True} and len(sent) == 2
