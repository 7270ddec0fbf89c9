# Copyright: crane.swarm developers
# GNU General Public License v3.0+ (see https://www.gnu.org/licenses/gpl-3.0.txt)
"""The swarm facts every module reads the same way, on plain data: GET /info's Swarm and GET /nodes."""

from __future__ import annotations

import pytest

from ansible_collections.crane.swarm.plugins.module_utils.swarm import nodes as swarm_nodes


def api_node(node_id, hostname, state='ready', role='worker', reachability=None, leader=False):
    node = {'ID': node_id, 'Version': {'Index': 3},
            'Spec': {'Role': role, 'Availability': 'active', 'Labels': {'k': 'v'}},
            'Description': {'Hostname': hostname, 'Engine': {'EngineVersion': '24.0.7'}},
            'Status': {'State': state, 'Addr': '10.0.0.9'}}
    if reachability:
        node['ManagerStatus'] = {'Reachability': reachability, 'Addr': '10.0.0.9:2377'}
        if leader:
            node['ManagerStatus']['Leader'] = True
    return node


# ----------------------------------------------------------------------------- is this engine a manager

@pytest.mark.parametrize('swarm, manager, reason', [
    ({'LocalNodeState': 'active', 'ControlAvailable': True}, True, None),
    ({'LocalNodeState': 'active', 'ControlAvailable': False}, False, 'is a swarm worker'),
    ({'LocalNodeState': 'active'}, False, 'is a swarm worker'),
    ({'LocalNodeState': 'inactive', 'ControlAvailable': False}, False, 'is not in a swarm'),
    ({}, False, 'is not in a swarm'),
    (None, False, 'is not in a swarm'),
    ({'LocalNodeState': 'locked', 'ControlAvailable': False}, False, 'is in swarm state locked'),
    ({'LocalNodeState': 'pending', 'ControlAvailable': True}, False, 'is in swarm state pending'),
])
def test_an_engine_is_a_manager_when_active_with_control_available(swarm, manager, reason):
    assert swarm_nodes.is_manager(swarm) is manager
    if reason:
        assert swarm_nodes.not_manager_reason(swarm) == reason


# ----------------------------------------------------------------------------- finding the node

def test_find_node_by_id_and_hostname():
    nodes = [api_node('aaa', 'node1'), api_node('bbb', 'node2')]
    assert swarm_nodes.find_node(nodes, 'bbb') == (nodes[1], None)
    assert swarm_nodes.find_node(nodes, 'node1') == (nodes[0], None)
    assert swarm_nodes.find_node(nodes, 'node9') == (None, None)


def test_find_node_prefers_the_live_duplicate():
    nodes = [api_node('old', 'node2', state='down'), api_node('new', 'node2')]
    node, problem = swarm_nodes.find_node(nodes, 'node2')
    assert problem is None
    assert node['ID'] == 'new'


def test_find_node_ambiguous_names_the_ids():
    nodes = [api_node('one', 'node2'), api_node('two', 'node2'), api_node('old', 'node2', state='down')]
    node, problem = swarm_nodes.find_node(nodes, 'node2')
    assert node is None
    assert 'one (worker, ready)' in problem and 'two (worker, ready)' in problem
    assert 'old' not in problem
    assert 'set node to one of these IDs' in problem
    nodes = [api_node('x1', 'node3', state='down'), api_node('x2', 'node3', state='down')]
    node, problem = swarm_nodes.find_node(nodes, 'node3')
    assert node is None
    assert 'all down' in problem and 'x1' in problem and 'x2' in problem


# ----------------------------------------------------------------------------- summaries

def test_node_summary_of_a_worker_and_a_manager():
    assert swarm_nodes.node_summary(api_node('aaa', 'node1')) == {
        'id': 'aaa', 'hostname': 'node1', 'role': 'worker', 'availability': 'active', 'labels': {'k': 'v'},
        'state': 'ready', 'addr': '10.0.0.9', 'engine_version': '24.0.7', 'leader': False, 'reachability': None,
        'manager_addr': None}
    summary = swarm_nodes.node_summary(api_node('bbb', 'node2', role='manager', reachability='reachable', leader=True))
    assert (summary['leader'], summary['reachability'], summary['manager_addr']) == (True, 'reachable', '10.0.0.9:2377')


def test_node_summary_of_a_bare_node():
    assert swarm_nodes.node_summary({'ID': 'x'}) == {
        'id': 'x', 'hostname': None, 'role': None, 'availability': None, 'labels': {}, 'state': None, 'addr': None,
        'engine_version': None, 'leader': False, 'reachability': None, 'manager_addr': None}


def test_managers_are_the_raft_members_in_node_order_and_the_leader_among_them():
    nodes = [
        api_node('c3', 'node3', role='manager', reachability='unreachable', state='down'),
        api_node('w1', 'node4'),
        # promotion requested but not a Raft member yet: no ManagerStatus
        api_node('p5', 'node5', role='manager'),
        api_node('a1', 'node1', role='manager', reachability='reachable', leader=True),
    ]
    assert swarm_nodes.managers(nodes) == [
        {'id': 'c3', 'hostname': 'node3', 'leader': False, 'reachability': 'unreachable', 'addr': '10.0.0.9:2377',
         'state': 'down'},
        {'id': 'a1', 'hostname': 'node1', 'leader': True, 'reachability': 'reachable', 'addr': '10.0.0.9:2377',
         'state': 'ready'},
    ]
    assert swarm_nodes.leader(nodes) == {'id': 'a1', 'hostname': 'node1', 'addr': '10.0.0.9:2377'}
    assert swarm_nodes.leader(nodes[:3]) is None
    assert swarm_nodes.managers(None) == [] and swarm_nodes.leader([]) is None


# ----------------------------------------------------------------------------- label values

class OptionProblem(ValueError):
    pass


def test_string_values_converts_numbers_and_none():
    assert swarm_nodes.string_values('labels', {'rack': 12, 'weight': 0.5, 'empty': None, 'tier': 'db', 3: 'x'}) == {
        'rack': '12', 'weight': '0.5', 'empty': '', 'tier': 'db', '3': 'x'}
    assert swarm_nodes.string_values('labels', None) == {}
    assert swarm_nodes.string_values('labels', {}) == {}


@pytest.mark.parametrize('option, mapping, words', [
    ('labels', {'ssd': True}, 'labels.ssd is the boolean True; the engine takes strings: quote it (ssd: "true")'),
    ('driver_opts', {'on': False}, 'driver_opts.on is the boolean False; the engine takes strings: quote it (on: "false")'),
    ('labels', {'nested': {'a': 'b'}}, 'labels.nested must be a string, not dict; write the value as a quoted string'),
    ('ipam.options', ['a'], 'ipam.options must be a mapping of name to string value'),
])
def test_string_values_refuses_booleans_and_other_values_naming_the_option(option, mapping, words):
    with pytest.raises(OptionProblem) as error:
        swarm_nodes.string_values(option, mapping, OptionProblem)
    assert str(error.value) == words
    with pytest.raises(ValueError):
        swarm_nodes.string_values(option, mapping)
