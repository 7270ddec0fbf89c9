# Copyright: crane.swarm developers
# GNU General Public License v3.0+ (see https://www.gnu.org/licenses/gpl-3.0.txt)
"""The advertise_ipv4 filter: inventory hosts to the IPv4 addresses they advertise."""

from __future__ import annotations

import pytest

from ansible_collections.crane.swarm.plugins.filter.advertise_ipv4 import FilterModule, advertise_ipv4

HOSTVARS = {
    'node1': {'swarm_advertise_addr': '10.0.0.11:2377'},
    'node2': {'swarm_advertise_addr': '10.0.0.12'},
    'node3': {'swarm_advertise_addr': 'eth1'},
    'node4': {'ansible_host': '10.0.0.14'},
    'node5': {'swarm_advertise_addr': '10.0.0.15:4500'},
}


def test_hosts_map_to_their_address_without_the_port():
    assert advertise_ipv4(['node1', 'node2', 'node5'], HOSTVARS, 'swarm_advertise_addr') == {
        'node1': '10.0.0.11', 'node2': '10.0.0.12', 'node5': '10.0.0.15'}


def test_hosts_by_interface_name_without_an_address_or_unknown_are_left_out():
    assert advertise_ipv4(['node3', 'node4', 'node9'], HOSTVARS, 'swarm_advertise_addr') == {}


def test_the_order_of_the_hosts_is_kept():
    assert list(advertise_ipv4(['node5', 'node1'], HOSTVARS, 'swarm_advertise_addr')) == ['node5', 'node1']


def test_the_variable_is_the_callers_choice():
    hostvars = {'node1': {'lan_addr': '192.0.2.1:2377', 'swarm_advertise_addr': '10.0.0.11'}}
    assert advertise_ipv4(['node1'], hostvars, 'lan_addr') == {'node1': '192.0.2.1'}


@pytest.mark.parametrize('variable', ['', None, 3])
def test_a_missing_variable_name_is_refused(variable):
    with pytest.raises(TypeError, match='variable name'):
        advertise_ipv4(['node1'], HOSTVARS, variable)


def test_the_filter_is_registered_by_name():
    assert FilterModule().filters() == {'advertise_ipv4': advertise_ipv4}
