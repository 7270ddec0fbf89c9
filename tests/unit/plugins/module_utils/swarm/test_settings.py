# Copyright: crane.swarm developers
# GNU General Public License v3.0+ (see https://www.gnu.org/licenses/gpl-3.0.txt)
"""Swarm settings <-> SwarmSpec, on plain data."""

from __future__ import annotations

import pytest

from ansible_collections.crane.swarm.plugins.module_utils.swarm import settings as core

# A GET /swarm answer as Docker 20.10 gives it for a swarm made with defaults.
LIVE_SWARM = {
    'ID': 'q2ff3kxp1n4z', 'Version': {'Index': 10},
    'Spec': {
        'Name': 'default', 'Labels': {},
        'Orchestration': {'TaskHistoryRetentionLimit': 5},
        'Raft': {'SnapshotInterval': 10000, 'KeepOldSnapshots': 0, 'LogEntriesForSlowFollowers': 500,
                 'ElectionTick': 10, 'HeartbeatTick': 1},
        'Dispatcher': {'HeartbeatPeriod': 5000000000},
        'CAConfig': {'NodeCertExpiry': 7776000000000000},
        'TaskDefaults': {},
        'EncryptionConfig': {'AutoLockManagers': False},
    },
    'DefaultAddrPool': ['10.0.0.0/8'], 'SubnetSize': 24, 'DataPathPort': 4789,
}


def test_only_given_options_are_desired():
    assert core.desired_settings({'task_history_retention_limit': 2, 'autolock': None}) == {
        'task_history_retention_limit': 2}


def test_durations_are_normalised_to_nanoseconds():
    desired = core.desired_settings({'dispatcher_heartbeat_period': '5s', 'node_cert_expiry': '2160h'})
    assert desired == {'dispatcher_heartbeat_period': 5 * 10 ** 9, 'node_cert_expiry': 2160 * 3600 * 10 ** 9}


def test_bad_duration_names_the_option():
    with pytest.raises(ValueError, match='node_cert_expiry'):
        core.desired_settings({'node_cert_expiry': 'ninety days'})


def test_defaults_written_explicitly_are_no_change():
    desired = core.desired_settings({'dispatcher_heartbeat_period': '5s', 'node_cert_expiry': '2160h',
                                     'task_history_retention_limit': 5, 'autolock': False,
                                     'keep_old_snapshots': 0, 'labels': {}})
    assert core.settings_changes(core.live_settings(LIVE_SWARM), desired) == {}


def test_missing_zero_values_read_as_zero():
    swarm = {'Spec': {'Orchestration': {'TaskHistoryRetentionLimit': 5}}}
    live = core.live_settings(swarm)
    assert live['autolock'] is False and live['labels'] == {} and live['ca_force_rotate'] == 0


def test_changes_list_before_and_after():
    desired = core.desired_settings({'task_history_retention_limit': 1, 'election_tick': 10, 'autolock': True})
    assert core.settings_changes(core.live_settings(LIVE_SWARM), desired) == {
        'task_history_retention_limit': (5, 1), 'autolock': (False, True)}


def test_apply_keeps_unmanaged_fields_and_does_not_touch_input():
    desired = core.desired_settings({'task_history_retention_limit': 1, 'labels': {'a': 'b'}})
    spec = core.apply_settings(LIVE_SWARM['Spec'], desired)
    assert spec['Orchestration']['TaskHistoryRetentionLimit'] == 1
    assert spec['Labels'] == {'a': 'b'}
    assert spec['Raft'] == LIVE_SWARM['Spec']['Raft']
    assert LIVE_SWARM['Spec']['Orchestration']['TaskHistoryRetentionLimit'] == 5


def test_signing_key_is_sent_only_with_its_certificate():
    params = {'signing_ca_cert': 'CERT', 'signing_ca_key': 'KEY'}
    spec = core.apply_settings({}, core.desired_settings(params), params)
    assert spec['CAConfig'] == {'SigningCACert': 'CERT\n', 'SigningCAKey': 'KEY\n'}
    spec = core.apply_settings({}, {}, {'signing_ca_key': 'KEY'})
    assert 'CAConfig' not in spec


def test_external_cas_compare_equal_to_their_live_form():
    params = {'external_cas': [{'url': 'https://ca.example:8888', 'protocol': 'cfssl', 'options': None,
                                'ca_cert': None}]}
    live_swarm = {'Spec': {'CAConfig': {'ExternalCAs': [{'Protocol': 'cfssl', 'URL': 'https://ca.example:8888'}]}}}
    assert core.settings_changes(core.live_settings(live_swarm), core.desired_settings(params)) == {}


def test_init_request_carries_init_only_options():
    body = core.init_request({'advertise_addr': '10.1.0.5', 'default_addr_pool': ['10.20.0.0/16'],
                              'subnet_size': 26, 'data_path_port': 7789, 'task_history_retention_limit': 2})
    assert body['AdvertiseAddr'] == '10.1.0.5'
    assert body['ListenAddr'] == '0.0.0.0:2377'
    assert body['DefaultAddrPool'] == ['10.20.0.0/16'] and body['SubnetSize'] == 26
    assert body['DataPathPort'] == 7789
    assert body['Spec'] == {'Orchestration': {'TaskHistoryRetentionLimit': 2}}
    assert body['ForceNewCluster'] is False


def test_fixed_setting_conflicts():
    assert core.fixed_setting_conflicts(LIVE_SWARM, {'default_addr_pool': ['10.0.0.0/8'], 'subnet_size': 24}) == []
    assert core.fixed_setting_conflicts(LIVE_SWARM, {'data_path_port': 7789}) == [('data_path_port', 4789, 7789)]


def test_display_shows_durations_as_text_and_hides_certificates():
    shown = core.display_settings({'node_cert_expiry': 7776000000000000, 'signing_ca_cert': 'x' * 10})
    assert shown == {'node_cert_expiry': '2160h', 'signing_ca_cert': '<certificate, 10 bytes>'}


def test_pool_without_size_gets_the_default_size():
    """The engine takes an address pool without a size as size 0, and then no network can be made."""
    body = core.init_request({'default_addr_pool': ['10.20.0.0/16']})
    assert body['SubnetSize'] == 24
    assert 'SubnetSize' not in core.init_request({})
