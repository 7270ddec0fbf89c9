# Copyright: crane.swarm developers
# GNU General Public License v3.0+ (see https://www.gnu.org/licenses/gpl-3.0.txt)
"""Results that carry join tokens or the unlock key stay censored, whatever the ansible-core release does."""

from __future__ import annotations

from ansible.plugins.action import ActionBase

from ansible_collections.crane.swarm.plugins.action.swarm_info import ActionModule as SwarmInfoAction

TOKENS = {'worker': 'SWMTKN-1-worker-secret', 'manager': 'SWMTKN-1-manager-secret'}


class Task:
    action = resolved_action = 'crane.swarm.swarm_info'
    diff = False

    def __init__(self, args):
        self.args = args


def run(monkeypatch, module_result):
    monkeypatch.setattr(ActionBase, 'run', lambda self, tmp=None, task_vars=None: {})
    plugin = SwarmInfoAction.__new__(SwarmInfoAction)
    plugin._task = Task({'join_tokens': True})
    plugin._execute_module = lambda **kwargs: dict(module_result)
    return plugin.run(task_vars={})


def test_a_result_with_tokens_stays_censored_when_the_executor_writes_the_task_no_log(monkeypatch):
    result = run(monkeypatch, {'changed': False, 'join_tokens': TOKENS})
    assert result['_ansible_no_log'] is True
    # What ansible-core 2.16.0-2.16.12 and 2.17.0-2.17.5 do after the action plugin returned:
    result['_ansible_no_log'] = False
    assert result['_ansible_no_log'] is True
    assert result['join_tokens'] == TOKENS  # a registered variable keeps them for the joins


def test_a_failed_result_drops_its_tokens_and_shows_its_message(monkeypatch):
    result = run(monkeypatch, {'failed': True, 'msg': 'port 2377 unreachable', 'join_tokens': TOKENS,
                               'unlock_key': 'SWMKEY-1-secret'})
    assert 'join_tokens' not in result and 'unlock_key' not in result
    assert not result.get('_ansible_no_log') and result['msg'] == 'port 2377 unreachable'
    assert 'secret' not in repr(result)


def test_a_result_without_secrets_is_shown(monkeypatch):
    result = run(monkeypatch, {'changed': False, 'join_tokens': {}})
    assert not result.get('_ansible_no_log')
