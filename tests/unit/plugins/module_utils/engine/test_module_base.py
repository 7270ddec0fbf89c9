# Copyright: crane.swarm developers
# GNU General Public License v3.0+ (see https://www.gnu.org/licenses/gpl-3.0.txt)
"""The module base: one error style and the swarm helpers, with a stand-in module and client."""

from __future__ import annotations

import pytest

from ansible_collections.crane.swarm.plugins.module_utils.engine import module_base
from ansible_collections.crane.swarm.plugins.module_utils.engine.client import EngineError


class Failed(Exception):
    pass


class StandInModule:
    def __init__(self, **params):
        self.params = dict(dict(docker_host='unix:///var/run/docker.sock', state='present'), **params)
        self.exited = None

    def fail_json(self, **result):
        raise Failed(result)

    def exit_json(self, **result):
        self.exited = result


class StandInClient:
    def __init__(self, answers):
        self.answers = answers
        self.asked = []

    def get(self, path, **kwargs):
        self.asked.append(path)
        answer = self.answers[path]
        if isinstance(answer, Exception):
            raise answer
        return answer


def task(answers, **params):
    return module_base.EngineTask(StandInModule(**params), StandInClient(answers), {'changed': True, 'done': ['a']})


def failure(call, *args):
    with pytest.raises(Failed) as failed:
        call(*args)
    return failed.value.args[0]


@pytest.mark.parametrize('error, missing', [
    (EngineError('rpc error: code = Unknown desc = The swarm does not have a leader.', status=503), True),
    (EngineError('rpc error: code = DeadlineExceeded desc = context deadline exceeded while waiting for the leader'),
     True),
    (EngineError('rpc error: code = DeadlineExceeded desc = context deadline exceeded', status=500), True),
    (EngineError('rpc error: code = Unavailable desc = connection error', status=500), True),
    (EngineError('This node is not a swarm manager.', status=503), True),
    (EngineError('node abc not found', status=404), False),
    (EngineError('GET /nodes failed: timed out'), False),
    (EngineError('permission denied'), False),
])
def test_leader_missing(error, missing):
    assert module_base.leader_missing(error) is missing


def test_require_manager_reads_the_engine_once_and_returns_its_swarm_state():
    swarm = {'LocalNodeState': 'active', 'ControlAvailable': True, 'NodeID': 'n1'}
    work = task({'/info': {'Swarm': swarm}})
    assert work.require_manager('listing nodes') == swarm
    assert work.require_manager('listing nodes again') == swarm
    assert work.client.asked == ['/info']


@pytest.mark.parametrize('swarm, why', [
    ({'LocalNodeState': 'active', 'ControlAvailable': False}, 'is a swarm worker'),
    ({'LocalNodeState': 'inactive'}, 'is not in a swarm'),
    ({'LocalNodeState': 'locked'}, 'is in swarm state locked'),
])
def test_require_manager_fails_in_one_message_with_the_result_so_far(swarm, why):
    result = failure(task({'/info': {'Swarm': swarm}}, docker_host='tcp://10.0.0.1:2376').require_manager,
                     'crane.swarm.swarm_node')
    assert result['msg'] == ('crane.swarm.swarm_node must run on a swarm manager, but the engine at '
                             'tcp://10.0.0.1:2376 %s; run the task on a manager (for example delegate_to: a manager '
                             'host)' % why)
    assert (result['changed'], result['done']) == (True, ['a'])


def test_a_failed_call_names_what_was_being_done():
    result = failure(task({'/nodes': EngineError('This node is not a swarm manager.', status=503)}).nodes)
    assert result['msg'] == 'listing the swarm nodes (GET /nodes) failed: This node is not a swarm manager.'
    assert result['done'] == ['a']


def test_find_node_fails_on_an_ambiguous_hostname():
    nodes = [{'ID': 'one', 'Description': {'Hostname': 'node2'}}, {'ID': 'two', 'Description': {'Hostname': 'node2'}}]
    work = task({})
    assert work.find_node(nodes, 'two') is nodes[1]
    assert work.find_node(nodes, 'node9') is None
    assert 'hostname node2 matches 2 nodes' in failure(work.find_node, nodes, 'node2')['msg']


class Broken(module_base.EngineTask):
    def __init__(self, module, client):
        super().__init__(module, client, {'changed': False, 'created': []})

    def present(self):
        self.result.update(changed=True, created=['web'])
        self.client.get('/services')


def test_an_uncaught_engine_error_fails_with_the_result_so_far(monkeypatch):
    client = StandInClient({'/services': EngineError('no such service')})
    monkeypatch.setattr(module_base, 'client_from_module', lambda module: client)
    result = failure(module_base.run_engine_task, StandInModule(), Broken)
    assert result == {'changed': True, 'created': ['web'], 'msg': 'Docker Engine API error: no such service'}


def test_a_task_that_runs_through_exits_with_its_result(monkeypatch):
    client = StandInClient({'/services': []})
    monkeypatch.setattr(module_base, 'client_from_module', lambda module: client)
    module = StandInModule()
    module_base.run_engine_task(module, Broken)
    assert module.exited == {'changed': True, 'created': ['web']}
