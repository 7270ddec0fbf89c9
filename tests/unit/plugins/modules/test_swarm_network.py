# Copyright: crane.swarm developers
# GNU General Public License v3.0+ (see https://www.gnu.org/licenses/gpl-3.0.txt)
"""crane.swarm.swarm_network's pure helpers: options -> NetworkCreate body, users, summaries."""

from __future__ import annotations

import pytest

from ansible_collections.crane.swarm.plugins.modules import swarm_network as mod
from ansible_collections.crane.swarm.plugins.module_utils.networks.spec import network_changes


def params(**given):
    """Module params as AnsibleModule fills them (defaults of the argument spec)."""
    base = dict(name='backend', state='present', driver='overlay', driver_opts=None, encrypted=None,
                attachable=False, internal=False, ipam=None, labels=None, scope=None, wait_timeout=60)
    base.update(given)
    return base


def ipam(config=None, driver='default', options=None):
    return dict(driver=driver, config=config, options=options)


def entry(subnet, ip_range=None, gateway=None, aux_addresses=None):
    return dict(subnet=subnet, ip_range=ip_range, gateway=gateway, aux_addresses=aux_addresses)


# ---- options -> body

def test_defaults_make_a_plain_overlay_network():
    body = mod.desired_network(params())
    assert body == {'Name': 'backend', 'CheckDuplicate': True, 'Driver': 'overlay', 'Options': {},
                    'Attachable': False, 'Internal': False, 'Labels': {}}


def test_every_option_reaches_the_body():
    body = mod.desired_network(params(
        driver_opts={'com.docker.network.driver.mtu': 1400}, encrypted=True, attachable=True, internal=True,
        labels={'team': 'payments', 'tier': 3},
        ipam=ipam([entry('10.20.0.0/24', ip_range='10.20.0.128/25', gateway='10.20.0.1')], options={'opt': 'x'}),
        scope='swarm'))
    assert body['Options'] == {'com.docker.network.driver.mtu': '1400', 'encrypted': ''}
    assert body['Attachable'] is True and body['Internal'] is True
    assert body['Labels'] == {'team': 'payments', 'tier': '3'}
    assert body['Scope'] == 'swarm'
    assert body['IPAM'] == {'Driver': 'default', 'Options': {'opt': 'x'}, 'Config': [
        {'Subnet': '10.20.0.0/24', 'IPRange': '10.20.0.128/25', 'Gateway': '10.20.0.1'}]}


def test_aux_addresses_for_a_local_network():
    body = mod.desired_network(params(driver='bridge', ipam=ipam([entry('10.21.0.0/24', aux_addresses={'r': '10.21.0.5'})])))
    assert body['IPAM']['Config'] == [{'Subnet': '10.21.0.0/24', 'AuxiliaryAddresses': {'r': '10.21.0.5'}}]


def test_ipam_entry_holds_only_what_was_given():
    body = mod.desired_network(params(ipam=ipam([entry('10.1.0.0/24'), entry('10.2.0.0/24', gateway='10.2.0.1')])))
    assert body['IPAM']['Config'] == [{'Subnet': '10.1.0.0/24'}, {'Subnet': '10.2.0.0/24', 'Gateway': '10.2.0.1'}]


def test_encrypted_keeps_a_value_given_in_driver_opts():
    body = mod.desired_network(params(encrypted=True, driver_opts={'encrypted': 'yes'}))
    assert body['Options'] == {'encrypted': 'yes'}


def test_local_driver_with_scope():
    body = mod.desired_network(params(driver='bridge', scope='local'))
    assert (body['Driver'], body['Scope']) == ('bridge', 'local')
    assert not mod.is_swarm_scoped(body)
    assert mod.is_swarm_scoped(mod.desired_network(params()))
    assert mod.is_swarm_scoped(mod.desired_network(params(driver='macvlan', scope='swarm')))


@pytest.mark.parametrize('given, words', [
    (dict(encrypted=False, driver_opts={'encrypted': ''}), 'keep only one'),
    (dict(driver='bridge', encrypted=True), 'overlay driver'),
    (dict(scope='local'), 'its scope is swarm'),
    (dict(labels={'on': True}), 'labels.on is the boolean True'),
    (dict(driver_opts={'x': ['a']}), 'driver_opts.x must be a string'),
    (dict(ipam=ipam(options={'o': False})), 'ipam.options.o'),
    (dict(driver='bridge', ipam=ipam([entry('10.0.0.0/24', aux_addresses={'a': True})])),
     'ipam.config[0].aux_addresses.a'),
    (dict(ipam=ipam([entry('10.0.0.0/24', aux_addresses={'a': '10.0.0.5'})])), 'does not keep auxiliary'),
    (dict(driver='macvlan', scope='swarm', ipam=ipam([entry('10.0.0.0/24', aux_addresses={'a': '10.0.0.5'})])),
     'swarm-scoped'),
])
def test_contradictions_are_refused_naming_the_option(given, words):
    with pytest.raises(mod.OptionError, match=r'(?i)' + words.replace('[', r'\[').replace(']', r'\]')):
        mod.desired_network(params(**given))


# ---- the body against a live network, as the module compares them

def live_from(body, **engine_fills):
    """What GET /networks/{id} answers for a network created with `body` (engine additions included)."""
    live = {'Name': body['Name'], 'Id': 'n1', 'Driver': body['Driver'], 'Scope': body.get('Scope', 'swarm'),
            'Attachable': body['Attachable'], 'Internal': body['Internal'], 'Labels': body['Labels'],
            'Options': dict(body['Options'], **{'com.docker.network.driver.overlay.vxlanid_list': '4097'}),
            'IPAM': {'Driver': 'default', 'Options': None,
                     'Config': [{'Subnet': '10.0.0.0/24', 'Gateway': '10.0.0.1'}]}}
    if body.get('IPAM'):
        live['IPAM'] = dict(body['IPAM'], Options=body['IPAM']['Options'] or None)
    live.update(engine_fills)
    return live


def test_a_network_created_from_the_options_matches_them():
    for given in (params(), params(encrypted=True, attachable=True, labels={'a': 'b'}),
                  params(ipam=ipam([entry('10.9.0.0/24', gateway='10.9.0.1')]))):
        body = mod.desired_network(given)
        assert network_changes(live_from(body), body) == []


def test_engine_chosen_gateway_is_no_difference_but_a_subnet_change_is():
    body = mod.desired_network(params(ipam=ipam([entry('10.9.0.0/24')])))
    live = live_from(body)
    live['IPAM']['Config'] = [{'Subnet': '10.9.0.0/24', 'Gateway': '10.9.0.1'}]
    assert network_changes(live, body) == []
    moved = mod.desired_network(params(ipam=ipam([entry('10.8.0.0/24')])))
    changes = network_changes(live, moved)
    assert changes == [('IPAM.Config', [{'Subnet': '10.9.0.0/24'}], [{'Subnet': '10.8.0.0/24'}])]
    assert mod.change_lines(changes) == ['IPAM.Config: [{"Subnet": "10.9.0.0/24"}] -> [{"Subnet": "10.8.0.0/24"}]']


def test_leaving_out_encryption_and_labels_is_a_difference():
    live = live_from(mod.desired_network(params(encrypted=True, labels={'a': 'b'})))
    changes = network_changes(live, mod.desired_network(params()))
    assert sorted(field for field, before, after in changes) == ['Labels', 'Options']


# ---- users, names, summaries

def test_refusal_names_services_fields_and_the_fix():
    text = mod.refusal('backend', ['user1', 'user2'], [('IPAM.Config', [{'Subnet': 'a'}], [{'Subnet': 'b'}])])
    assert 'user1, user2' in text and '2 services use it' in text
    assert 'IPAM.Config: [{"Subnet": "a"}] -> [{"Subnet": "b"}]' in text
    assert 'Nothing was changed' in text and 'then run the task again' in text
    assert '1 service uses it: user1' in mod.refusal('backend', ['user1'], [('Labels', {}, {'a': 'b'})])


def test_pick_network_exact_name_and_scope():
    listed = [{'Name': 'backend-2', 'Id': 'a', 'Scope': 'swarm'}, {'Name': 'backend', 'Id': 'b', 'Scope': 'swarm'},
              {'Name': 'backend', 'Id': 'c', 'Scope': 'local', 'Driver': 'bridge'}]
    assert mod.pick_network(listed[:2], 'backend') == (listed[1], None)
    assert mod.pick_network(listed, 'backend', 'local') == (listed[2], None)
    found, ambiguity = mod.pick_network(listed, 'backend')
    assert found is None and 'b (None, swarm)' in ambiguity and 'set scope' in ambiguity
    assert mod.pick_network(listed, 'front') == (None, None)


def test_summary_of_live_network_and_of_a_request():
    body = mod.desired_network(params(encrypted=True, attachable=True, labels={'a': 'b'},
                                      ipam=ipam([entry('10.9.0.0/24', gateway='10.9.0.1')])))
    summary = mod.network_summary(live_from(body))
    assert summary == {'id': 'n1', 'name': 'backend', 'driver': 'overlay', 'scope': 'swarm', 'attachable': True,
                       'internal': False, 'labels': {'a': 'b'},
                       'options': {'encrypted': '', 'com.docker.network.driver.overlay.vxlanid_list': '4097'},
                       'ipam': {'driver': 'default', 'options': {},
                                'config': [{'subnet': '10.9.0.0/24', 'gateway': '10.9.0.1'}]}}
    would_be = mod.network_summary(body)
    assert would_be['id'] is None and would_be['scope'] == 'swarm'
    assert mod.network_summary(mod.desired_network(params(driver='bridge')))['scope'] == 'local'
    assert mod.network_summary(None) == {}
    assert 'id' not in mod.diff_view(body) and mod.diff_view(body)['labels'] == {'a': 'b'}
