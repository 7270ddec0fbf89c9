# -*- coding: utf-8 -*-
# Copyright: crane.swarm developers
# GNU General Public License v3.0+ (see https://www.gnu.org/licenses/gpl-3.0.txt)
"""Quorum arithmetic of manager changes, on plain data."""

from __future__ import annotations

import pytest

from ansible_collections.crane.swarm.plugins.module_utils.swarm.quorum import (
    check_manager_change,
    fault_tolerance,
    majority,
    managers_from_nodes,
    plan_manager_change,
)


def api_node(node_id, hostname, role='worker', reachability=None, leader=False, state='ready'):
    """An Engine API Node object as GET /nodes returns it (the fields that matter here)."""
    node = {
        'ID': node_id,
        'Version': {'Index': 10},
        'Spec': {'Role': role, 'Availability': 'active', 'Labels': {}},
        'Description': {'Hostname': hostname, 'Engine': {'EngineVersion': '20.10.24'}},
        'Status': {'State': state, 'Addr': '172.30.0.%d' % (len(node_id) + 10)},
    }
    if reachability is not None:
        node['ManagerStatus'] = {'Reachability': reachability, 'Leader': leader, 'Addr': '172.30.0.1:2377'}
        if not leader:
            del node['ManagerStatus']['Leader']  # the engine omits Leader on followers
    return node


def managers(count, unreachable=()):
    """count managers m1..mN; m1 leads; the names in unreachable are unreachable."""
    result = []
    for index in range(1, count + 1):
        name = 'm%d' % index
        result.append({'id': 'id-' + name, 'hostname': name, 'reachable': name not in unreachable,
                       'leader': index == 1, 'addr': '10.0.0.%d:2377' % index})
    return result


@pytest.mark.parametrize('count, need, tolerate', [
    (0, 1, 0), (1, 1, 0), (2, 2, 0), (3, 2, 1), (4, 3, 1), (5, 3, 2), (6, 4, 2), (7, 4, 3),
])
def test_majority_and_fault_tolerance(count, need, tolerate):
    assert majority(count) == need
    assert fault_tolerance(count) == tolerate


def test_managers_from_nodes_keeps_raft_members_only():
    nodes = [
        api_node('a1', 'node1', role='manager', reachability='reachable', leader=True),
        api_node('b2', 'node2', role='manager', reachability='unreachable', state='down'),
        api_node('c3', 'node3'),
        # demotion in progress: desired role worker but still a Raft member
        api_node('d4', 'node4', role='worker', reachability='reachable'),
        # promotion requested but not a Raft member yet
        api_node('e5', 'node5', role='manager'),
    ]
    assert managers_from_nodes(nodes) == [
        {'id': 'a1', 'hostname': 'node1', 'reachable': True, 'leader': True, 'addr': '172.30.0.1:2377'},
        {'id': 'b2', 'hostname': 'node2', 'reachable': False, 'leader': False, 'addr': '172.30.0.1:2377'},
        {'id': 'd4', 'hostname': 'node4', 'reachable': True, 'leader': False, 'addr': '172.30.0.1:2377'},
    ]


def test_managers_from_nodes_unknown_reachability_is_not_reachable():
    nodes = [api_node('a1', 'node1', role='manager', reachability='unknown')]
    assert managers_from_nodes(nodes)[0]['reachable'] is False
    assert managers_from_nodes([]) == []
    assert managers_from_nodes(None) == []


# ----------------------------------------------------------------------------- one manager

def test_last_manager_cannot_be_demoted_removed_or_leave():
    for change in ('demote', 'remove', 'leave'):
        ok, message = check_manager_change(managers(1), change, 'id-m1')
        assert not ok, change
        assert 'would leave no manager' in message
        assert 'm1 is the last manager' in message
        assert 'promote another node first' in message


def test_promote_second_manager_warns_that_two_tolerate_nothing():
    plan = plan_manager_change(managers(1), 'promote', 'id-w1', node_name='w1')
    assert plan['ok']
    assert (plan['total_after'], plan['reachable_after'], plan['majority_after']) == (2, 2, 2)
    assert plan['message'].startswith('promoting w1: 1 -> 2 managers, 2 reachable, majority 2: quorum kept, '
                                      'fault tolerance stays 0')
    assert plan['warning'] and '2 managers tolerate no failure' in plan['warning']
    assert 'WARNING' in plan['message']


# ----------------------------------------------------------------------------- two managers

def test_two_managers_demote_one_keeps_quorum():
    ok, message = check_manager_change(managers(2), 'demote', 'id-m2')
    assert ok
    assert message == 'demoting m2: 2 -> 1 managers, 1 reachable, majority 1: quorum kept, fault tolerance stays 0'


def test_two_managers_one_down_demote_the_live_one_refused():
    ok, message = check_manager_change(managers(2, unreachable=('m2',)), 'demote', 'id-m1')
    assert not ok
    assert message.startswith('demoting m1 would leave 1 manager of which 0 reachable; a swarm of 1 manager '
                              'needs 1 reachable (a majority) to keep quorum')
    # quorum is already gone (1 of 2): the advice says so
    assert 'already lost quorum (1 of 2 managers reachable, 2 needed)' in message
    assert '--force-new-cluster' in message


def test_two_managers_one_down_remove_the_down_one_passes_the_arithmetic():
    plan = plan_manager_change(managers(2, unreachable=('m2',)), 'remove', 'id-m2')
    assert plan['ok']
    assert (plan['total_after'], plan['reachable_after']) == (1, 1)


# ----------------------------------------------------------------------------- three managers

def test_three_managers_demote_one_drops_fault_tolerance_to_zero():
    plan = plan_manager_change(managers(3), 'demote', 'id-m3')
    assert plan['ok']
    assert plan['message'].startswith(
        'demoting m3: 3 -> 2 managers, 2 reachable, majority 2: quorum kept, fault tolerance drops 1 -> 0')
    assert (plan['tolerance_before'], plan['tolerance_after']) == (1, 0)
    assert plan['warning'] and 'fault tolerance drops to 0' in plan['warning']
    assert 'WARNING: fault tolerance drops to 0' in plan['message']


def test_three_managers_one_unreachable_demote_a_reachable_one_refused():
    ok, message = check_manager_change(managers(3, unreachable=('m2',)), 'demote', 'id-m3')
    assert not ok
    assert message == ('demoting m3 would leave 2 managers of which 1 reachable; a swarm of 2 managers needs 2 '
                       'reachable (a majority) to keep quorum; promote another node first or bring the '
                       'unreachable managers back')


def test_three_managers_one_unreachable_demote_the_unreachable_one_allowed():
    plan = plan_manager_change(managers(3, unreachable=('m2',)), 'demote', 'id-m2')
    assert plan['ok']
    assert (plan['total_after'], plan['reachable_after'], plan['majority_after']) == (2, 2, 2)
    assert plan['warning']


def test_three_managers_leader_may_leave():
    ok, message = check_manager_change(managers(3), 'leave', 'id-m1')
    assert ok
    assert message.startswith('m1 leaving the swarm: 3 -> 2 managers, 2 reachable, majority 2')


def test_three_managers_two_unreachable_nothing_can_go():
    mgrs = managers(3, unreachable=('m2', 'm3'))
    for change, target in (('demote', 'id-m1'), ('remove', 'id-m2'), ('leave', 'id-m3')):
        ok, message = check_manager_change(mgrs, change, target)
        assert not ok, (change, target)
        assert 'needs 2 reachable (a majority)' in message
        assert 'already lost quorum (1 of 3 managers reachable, 2 needed)' in message


def test_promote_fourth_manager_with_one_unreachable():
    plan = plan_manager_change(managers(3, unreachable=('m3',)), 'promote', 'id-w1', node_name='w1')
    assert plan['ok']
    assert (plan['total_after'], plan['reachable_after'], plan['majority_after']) == (4, 3, 3)
    assert 'fault tolerance stays 1' in plan['message']
    assert plan['warning'] is None


def test_promote_while_quorum_is_lost_passes_the_arithmetic_with_a_warning():
    # 2 managers, 1 reachable; after: 3 managers, 2 reachable, majority 2
    plan = plan_manager_change(managers(2, unreachable=('m2',)), 'promote', 'id-w1')
    assert plan['ok']
    assert (plan['total_after'], plan['reachable_after'], plan['majority_after']) == (3, 2, 2)
    assert 'no quorum now (1 of 2 managers reachable, 2 needed)' in plan['warning']
    assert 'WARNING: the swarm has no quorum now' in plan['message']


# ----------------------------------------------------------------------------- five and seven

def test_five_managers_two_unreachable_demote_a_third_refused():
    ok, message = check_manager_change(managers(5, unreachable=('m4', 'm5')), 'demote', 'id-m2')
    assert not ok
    assert 'would leave 4 managers of which 2 reachable; a swarm of 4 managers needs 3 reachable' in message


def test_five_managers_two_unreachable_remove_one_of_them():
    plan = plan_manager_change(managers(5, unreachable=('m4', 'm5')), 'remove', 'id-m5')
    assert plan['ok']
    assert (plan['total_after'], plan['reachable_after'], plan['majority_after']) == (4, 3, 3)
    assert (plan['tolerance_before'], plan['tolerance_after']) == (2, 1)
    assert 'fault tolerance drops 2 -> 1' in plan['message']
    assert plan['warning'] is None


def test_seven_managers_demote_one_healthy():
    plan = plan_manager_change(managers(7), 'demote', 'id-m7')
    assert plan['ok']
    assert plan['message'] == ('demoting m7: 7 -> 6 managers, 6 reachable, majority 4: quorum kept, '
                               'fault tolerance drops 3 -> 2')


def test_seven_managers_three_unreachable_edge():
    mgrs = managers(7, unreachable=('m5', 'm6', 'm7'))
    # removing an unreachable one: 6 managers, 4 reachable, majority 4 -> ok
    assert check_manager_change(mgrs, 'remove', 'id-m7')[0]
    # demoting a reachable one: 6 managers, 3 reachable, majority 4 -> refused
    ok, message = check_manager_change(mgrs, 'demote', 'id-m2')
    assert not ok
    assert 'would leave 6 managers of which 3 reachable; a swarm of 6 managers needs 4 reachable' in message
    assert 'promote another node first or bring the unreachable managers back' in message


def test_promote_to_three_raises_fault_tolerance():
    ok, message = check_manager_change(managers(2), 'promote', 'id-w1')
    assert ok
    assert message == 'promoting id-w1: 2 -> 3 managers, 3 reachable, majority 2: quorum kept, fault tolerance rises 0 -> 1'


# ----------------------------------------------------------------------------- workers and no-ops

def test_changes_of_a_worker_do_not_touch_the_managers():
    for change in ('demote', 'remove', 'leave'):
        plan = plan_manager_change(managers(1), change, 'id-w1', node_name='w1')
        assert plan['ok']
        assert not plan['affects_managers']
        assert plan['message'] == 'w1 is not a manager: the 1 managers (1 reachable, majority 1) are unaffected'


def test_promote_an_existing_manager_is_a_no_op():
    plan = plan_manager_change(managers(3), 'promote', 'id-m2')
    assert plan['ok'] and not plan['affects_managers']
    assert 'm2 is already a manager' in plan['message']


def test_target_by_hostname():
    ok, message = check_manager_change(managers(3, unreachable=('m2',)), 'demote', 'm3')
    assert not ok
    assert message.startswith('demoting m3 would leave')


def test_unknown_change_is_an_error():
    with pytest.raises(ValueError):
        check_manager_change(managers(3), 'explode', 'id-m1')


def test_interface_used_by_the_swarm_module():
    nodes = [
        api_node('a1', 'node1', role='manager', reachability='reachable', leader=True),
        api_node('b2', 'node2', role='manager', reachability='reachable'),
        api_node('c3', 'node3', role='manager', reachability='unreachable', state='down'),
    ]
    ok, message = check_manager_change(managers_from_nodes(nodes), 'leave', 'b2')
    assert not ok
    assert message.startswith('node2 leaving the swarm would leave 2 managers of which 1 reachable')
    ok, message = check_manager_change(managers_from_nodes(nodes), 'leave', 'c3')
    assert ok
    assert message.startswith('node3 leaving the swarm: 3 -> 2 managers, 2 reachable, majority 2')
