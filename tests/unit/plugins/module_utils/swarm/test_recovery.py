# -*- coding: utf-8 -*-
# Copyright: crane.swarm developers
# GNU General Public License v3.0+ (see https://www.gnu.org/licenses/gpl-3.0.txt)
"""force_new_cluster's decision: has the swarm lost its managers' majority? On plain data."""

from __future__ import annotations

from ansible_collections.crane.swarm.plugins.module_utils.swarm.nodes import managers
from ansible_collections.crane.swarm.plugins.module_utils.swarm.recovery import (
    majority_verdict, no_leader_verdict)


def api_manager(node_id, reachability='reachable', leader=False, state='ready', member=True):
    node = {'ID': node_id, 'Spec': {'Role': 'manager'}, 'Description': {'Hostname': 'host-' + node_id},
            'Status': {'State': state}}
    if member:
        node['ManagerStatus'] = {'Leader': leader, 'Reachability': reachability, 'Addr': '10.0.0.%s:2377' % node_id}
    return node


ADDRS = set('10.0.0.%d:2377' % i for i in range(1, 6))


def test_healthy_three_managers_is_not_lost():
    verdict = majority_verdict(managers([api_manager('1', leader=True), api_manager('2'), api_manager('3')]), '1', ADDRS)
    assert verdict['majority_lost'] is False
    assert (verdict['managers'], verdict['reachable'], verdict['majority']) == (3, 3, 2)
    assert 'nothing is forced' in verdict['reason']


def test_one_of_three_down_keeps_the_majority():
    nodes = [api_manager('1', leader=True), api_manager('2', 'unreachable', state='down'), api_manager('3')]
    verdict = majority_verdict(managers(nodes), '1', ADDRS)
    assert verdict['majority_lost'] is False and verdict['unreachable'] == ['host-2']


def test_two_of_three_unreachable_is_lost():
    nodes = [api_manager('1', leader=True), api_manager('2', 'unreachable'), api_manager('3', 'unreachable')]
    verdict = majority_verdict(managers(nodes), '1', ADDRS)
    assert verdict['majority_lost'] is True
    assert verdict['unreachable'] == ['host-2', 'host-3']
    assert verdict['reason'].startswith('1 of 3 managers reachable, 2 needed') and 'lost' in verdict['reason']


def test_stale_leader_view_is_not_trusted_when_the_ports_are_closed():
    """The first seconds after a loss: the engine still calls the dead peers reachable; their ports are closed."""
    nodes = [api_manager('1', leader=True), api_manager('2'), api_manager('3')]
    verdict = majority_verdict(managers(nodes), '1', {'10.0.0.1:2377'})
    assert verdict['majority_lost'] is True and verdict['reachable'] == 1


def test_without_probes_the_engine_decides():
    nodes = [api_manager('1', leader=True), api_manager('2'), api_manager('3', 'unreachable')]
    assert majority_verdict(managers(nodes), '1', None)['majority_lost'] is False


def test_this_node_counts_even_if_the_engine_says_otherwise():
    verdict = majority_verdict(managers([api_manager('1', 'unknown')]), '1', set())
    assert verdict['majority_lost'] is False and verdict['reachable'] == 1


def test_entries_that_are_no_raft_members_do_not_count():
    """After a forced new cluster the old managers keep Role manager but have no ManagerStatus."""
    nodes = [api_manager('1', leader=True), api_manager('2', member=False, state='down'),
             api_manager('3', member=False, state='unknown')]
    verdict = majority_verdict(managers(nodes), '1', ADDRS)
    assert verdict['majority_lost'] is False and verdict['managers'] == 1


def test_five_managers_two_lost_keeps_three():
    nodes = [api_manager(str(i)) for i in range(1, 6)]
    nodes[3]['ManagerStatus']['Reachability'] = nodes[4]['ManagerStatus']['Reachability'] = 'unreachable'
    verdict = majority_verdict(managers(nodes), '1', ADDRS)
    assert verdict['majority_lost'] is False and (verdict['reachable'], verdict['majority']) == (3, 3)


def test_no_leader_verdict_is_lost_and_says_how_long():
    verdict = no_leader_verdict(' The swarm does not have a leader. ', 20)
    assert verdict['majority_lost'] is True and verdict['managers'] is None
    assert verdict['reason'] == 'the swarm had no leader for 20 s (The swarm does not have a leader.): the majority is lost'
