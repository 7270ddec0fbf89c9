# Copyright: crane.swarm developers
# GNU General Public License v3.0+ (see https://www.gnu.org/licenses/gpl-3.0.txt)
"""network_create, network_changes and services_using: a network's create body, how a live one differs, its users."""

from __future__ import annotations

import copy

import pytest

from ansible_collections.crane.swarm.plugins.module_utils.networks import spec

NS = 'com.docker.stack.namespace'


def live_network(create):
    """GET /networks/{id} on Docker 20.10 for a network created with `create` (the engine's additions included)."""
    live = {key: copy.deepcopy(value) for key, value in create.items() if key not in ('CheckDuplicate',)}
    live.update({'Id': 'abc', 'Scope': 'swarm', 'EnableIPv6': False, 'Ingress': False, 'Containers': {}})
    live['Options'] = dict(create['Options'], **{'com.docker.network.driver.overlay.vxlanid_list': '4097'})
    live['IPAM'] = {'Driver': 'default', 'Options': None, 'Config': [{'Subnet': '10.0.5.0/24', 'Gateway': '10.0.5.1'}]}
    return live


def network_body(**definition):
    return spec.network_create('demo_back', definition, {NS: 'demo'})


def test_a_network_as_created_has_no_changes():
    assert spec.network_changes(live_network(network_body()), network_body()) == []
    asked = network_body(IPAM={'Config': [{'Subnet': '10.0.5.0/24'}]}, DriverOpts={'encrypted': ''})
    assert spec.network_changes(live_network(asked), asked) == []


@pytest.mark.parametrize('definition, field', [
    ({'Driver': 'bridge'}, 'Driver'), ({'DriverOpts': {'encrypted': ''}}, 'Options'), ({'Internal': True}, 'Internal'),
    ({'Attachable': True}, 'Attachable'), ({'Labels': {'a': 'b'}}, 'Labels'),
    ({'IPAM': {'Config': [{'Subnet': '10.0.6.0/24'}]}}, 'IPAM.Config'), ({'IPAM': {'Driver': 'other'}}, 'IPAM.Driver'),
])
def test_every_network_difference_is_found(definition, field):
    live = live_network(network_body())
    desired = spec.network_create('demo_back', definition, dict(definition.get('Labels', {}), **{NS: 'demo'}))
    changes = spec.network_changes(live, desired)
    assert [change[0] for change in changes if change[0] != 'Scope'] == [field]


def test_a_local_network_is_not_held_to_swarm_scope():
    desired = network_body(Driver='bridge')
    live = dict(live_network(desired), Scope='local')
    assert spec.network_changes(live, desired) == []
    assert spec.network_changes(dict(live, Scope='local'), network_body())[:2] == [
        ('Driver', 'bridge', 'overlay'), ('Scope', 'local', 'swarm')]


def service(name, *targets, old_style=False):
    attachments = [{'Target': target} for target in targets]
    service_spec = {'Name': name, 'TaskTemplate': {}}
    if old_style:
        service_spec['Networks'] = attachments
    else:
        service_spec['TaskTemplate']['Networks'] = attachments
    return {'ID': 'id-' + name, 'Spec': service_spec}


def test_services_using_by_id_name_and_old_form():
    """The one rule of swarm_network and the stack translation: TaskTemplate.Networks and the older Spec.Networks."""
    network = {'Id': 'n1', 'Name': 'backend'}
    services = [service('web', 'n1'), service('api', 'other', 'backend'), service('old', 'n1', old_style=True),
                service('alone'), service('elsewhere', 'n2'), {'ID': 'x', 'Spec': {'Name': 'bare'}}]
    assert spec.services_using(services, network) == ['api', 'old', 'web']
    assert spec.services_using([], network) == []
