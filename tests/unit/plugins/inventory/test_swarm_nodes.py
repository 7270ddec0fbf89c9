# Copyright: crane.swarm developers
# GNU General Public License v3.0+ (see https://www.gnu.org/licenses/gpl-3.0.txt)
"""The swarm_nodes inventory: Engine API Node objects to hosts, variables and groups (pure data)."""

from __future__ import annotations

import pytest
import yaml
from ansible import constants as C
from ansible.inventory.data import InventoryData
from hypothesis import given, settings
from hypothesis import strategies as st

from ansible_collections.crane.swarm.plugins.inventory import swarm_nodes
from ansible_collections.crane.swarm.plugins.module_utils.engine.client import ENGINE_ARGUMENT_SPEC
from ansible_collections.crane.swarm.plugins.plugin_utils.inventory_nodes import (
    FIXED_GROUPS, hosts_from_nodes, label_group_name)


def node(node_id, hostname, role='worker', availability='active', state='ready', addr='10.0.0.1',
         labels=None, leader=False, manager_addr=None, reachability='reachable', os_name='linux', arch='x86_64'):
    """An Engine API Node object as GET /nodes gives it (the parts the plugin reads, and a few more)."""
    data = {
        'ID': node_id,
        'Version': {'Index': 9},
        'Spec': {'Labels': dict(labels or {}), 'Role': role, 'Availability': availability},
        'Description': {'Hostname': hostname, 'Platform': {'Architecture': arch, 'OS': os_name},
                        'Engine': {'EngineVersion': '20.10.24+dfsg1'}},
        'Status': {'State': state, 'Addr': addr},
    }
    if role == 'manager':
        data['ManagerStatus'] = {'Reachability': reachability, 'Addr': manager_addr or '%s:2377' % addr}
        if leader:
            data['ManagerStatus']['Leader'] = True
    return data


SWARM = [
    node('id1', 'node1', role='manager', leader=True, addr='10.0.0.11'),
    node('id2', 'node2', addr='10.0.0.12', labels={'tier': 'db', 'com.example.zone': 'eu-1'}),
    node('id3', 'node3', availability='drain', state='down', addr='10.0.0.13'),
]


def by_name(hosts):
    return dict((host['name'], host) for host in hosts)


def test_each_node_is_a_host_with_its_swarm_vars():
    hosts = by_name(hosts_from_nodes(SWARM))
    assert sorted(hosts) == ['node1', 'node2', 'node3']
    assert hosts['node1']['vars'] == {
        'swarm_node_id': 'id1', 'swarm_hostname': 'node1', 'swarm_role': 'manager',
        'swarm_availability': 'active', 'swarm_state': 'ready', 'swarm_addr': '10.0.0.11',
        'swarm_engine_version': '20.10.24+dfsg1', 'swarm_labels': {}, 'swarm_leader': True,
        'swarm_platform': 'linux/x86_64', 'swarm_manager_reachability': 'reachable',
        'swarm_manager_addr': '10.0.0.11:2377', 'ansible_host': '10.0.0.11'}
    worker = hosts['node2']['vars']
    assert worker['swarm_role'] == 'worker' and worker['swarm_leader'] is False
    assert worker['swarm_labels'] == {'tier': 'db', 'com.example.zone': 'eu-1'}
    assert 'swarm_manager_reachability' not in worker and 'swarm_manager_addr' not in worker


def test_groups_by_role_leader_availability_state_and_label():
    hosts = by_name(hosts_from_nodes(SWARM))
    assert hosts['node1']['groups'] == ['swarm_managers', 'swarm_leader', 'swarm_active', 'swarm_ready']
    assert hosts['node2']['groups'] == ['swarm_workers', 'swarm_active', 'swarm_ready',
                                        'swarm_label_com_example_zone_eu_1', 'swarm_label_tier_db']
    assert hosts['node3']['groups'] == ['swarm_workers', 'swarm_drain', 'swarm_down']


def test_the_fixed_groups():
    assert FIXED_GROUPS == ('swarm_managers', 'swarm_workers', 'swarm_leader', 'swarm_active', 'swarm_pause',
                            'swarm_drain', 'swarm_ready', 'swarm_down', 'swarm_unknown', 'swarm_disconnected')


def test_values_the_plugin_does_not_know_make_no_group():
    hosts = hosts_from_nodes([node('id1', 'node1', role='observer', availability='sleepy', state='strange')])
    assert hosts[0]['groups'] == []
    assert hosts[0]['vars']['swarm_state'] == 'strange'


def test_hosts_named_by_id():
    hosts = hosts_from_nodes(SWARM, {'hostname_from': 'id'})
    assert [host['name'] for host in hosts] == ['id1', 'id2', 'id3']
    assert hosts[0]['vars']['swarm_hostname'] == 'node1'


def test_a_hostname_shared_by_nodes_stays_with_the_ready_one():
    nodes = [node('aaa', 'node2', state='down', addr='10.0.0.99'), node('zzz', 'node2', addr='10.0.0.12'),
             node('mmm', 'node2', state='down', addr='10.0.0.98')]
    hosts = by_name(hosts_from_nodes(nodes))
    assert sorted(hosts) == ['aaa', 'mmm', 'node2']
    assert hosts['node2']['vars']['swarm_node_id'] == 'zzz'
    assert hosts['aaa']['vars']['swarm_hostname'] == 'node2'


def test_a_node_without_hostname_is_named_by_id():
    assert [host['name'] for host in hosts_from_nodes([node('id7', '')])] == ['id7']
    assert hosts_from_nodes([{'Spec': {}}, None]) == []


def test_a_manager_on_all_addresses_is_reached_at_its_manager_address():
    hosts = by_name(hosts_from_nodes([
        node('id1', 'node1', role='manager', addr='0.0.0.0', manager_addr='192.0.2.1:2377'),
        node('id2', 'node2', role='manager', addr='0.0.0.0', manager_addr='[fd00::2]:2377'),
        node('id3', 'node3', addr='0.0.0.0'),
    ]))
    assert hosts['node1']['vars']['ansible_host'] == hosts['node1']['vars']['swarm_addr'] == '192.0.2.1'
    assert hosts['node2']['vars']['ansible_host'] == 'fd00::2'
    # A worker has no other address to offer: no ansible_host rather than 0.0.0.0.
    assert hosts['node3']['vars']['swarm_addr'] is None and 'ansible_host' not in hosts['node3']['vars']


def test_ansible_host_can_be_left_alone():
    hosts = hosts_from_nodes(SWARM, {'address_as_ansible_host': False})
    assert all('ansible_host' not in host['vars'] for host in hosts)
    assert hosts[0]['vars']['swarm_addr'] == '10.0.0.11'


def test_options_given_as_null_take_their_defaults():
    assert hosts_from_nodes(SWARM, {'hostname_from': None, 'address_as_ansible_host': None}) == hosts_from_nodes(SWARM)


def test_an_unknown_hostname_from_is_refused():
    with pytest.raises(ValueError, match='hostname_from'):
        hosts_from_nodes(SWARM, {'hostname_from': 'ip'})


@pytest.mark.parametrize('key, value, group', [
    ('tier', 'db', 'swarm_label_tier_db'),
    ('com.example.zone', 'eu-1', 'swarm_label_com_example_zone_eu_1'),
    ('ssd', '', 'swarm_label_ssd'),
    ('9lives', 'a b/c', 'swarm_label_9lives_a_b_c'),
    ('k', '{{ lookup("pipe", "id") }}', 'swarm_label_k____lookup__pipe____id_____'),
])
def test_label_group_names(key, value, group):
    assert label_group_name(key, value) == group


def test_the_plugins_sanitiser_is_used():
    hosts = hosts_from_nodes(SWARM, sanitize=lambda name: name.upper())
    assert 'SWARM_LABEL_TIER_DB' in by_name(hosts)['node2']['groups']


def valid_group(name):
    """A name Ansible takes as a group as it is: no character to replace, kept by the inventory."""
    return (isinstance(name, str) and name.startswith('swarm_label_') and not C.INVALID_VARIABLE_NAMES.search(name)
            and InventoryData().add_group(name) == name)


@settings(max_examples=300, deadline=None)
@given(st.text(min_size=1), st.text())
def test_any_label_gives_a_valid_group_name(key, value):
    assert valid_group(label_group_name(key, value))


@settings(max_examples=150, deadline=None)
@given(st.dictionaries(st.text(min_size=1), st.text(), max_size=5))
def test_any_labels_never_break_the_mapping(labels):
    hosts = hosts_from_nodes([node('id1', 'node1', labels=labels)])
    label_groups = [group for group in hosts[0]['groups'] if group.startswith('swarm_label_')]
    assert all(valid_group(group) for group in label_groups)
    assert len(label_groups) == len(set(label_group_name(key, value) for key, value in labels.items()))
    assert hosts[0]['vars']['swarm_labels'] == labels


@pytest.mark.parametrize('name, wanted', [
    ('swarm_nodes.yml', True), ('prod.swarm_nodes.yaml', True), ('inventory.yml', False),
    ('swarm_nodes.yml.bak', False), ('docker_swarm.yml', False), ('missing.swarm_nodes.yml', None),
])
def test_verify_file_wants_its_own_config_names(tmp_path, name, wanted):
    path = tmp_path / name
    if wanted is not None:
        path.write_text('plugin: crane.swarm.swarm_nodes\n')
    assert swarm_nodes.InventoryModule().verify_file(str(path)) is bool(wanted)


def test_documented_connection_options_match_the_modules():
    options = yaml.safe_load(swarm_nodes.DOCUMENTATION)['options']
    for name, spec in ENGINE_ARGUMENT_SPEC.items():
        assert options[name]['type'] == spec['type'], name
        assert options[name].get('default') == spec.get('default'), name
        fallback = spec.get('fallback')
        env = [entry['name'] for entry in options[name].get('env', [])]
        assert env == (list(fallback[1]) if fallback else []), name
    assert options['hostname_from']['choices'] == ['hostname', 'id']
