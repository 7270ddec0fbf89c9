# -*- coding: utf-8 -*-
# Copyright: crane.swarm developers
# GNU General Public License v3.0+ (see https://www.gnu.org/licenses/gpl-3.0.txt)
"""Swarm settings: module options <-> the Engine API's SwarmSpec, as plain data.

Pure functions only (no Docker I/O), so the comparison that decides `changed`
is unit-tested on plain dicts:

    desired_settings(params)            -> {option: normalised value} for the options the user set
    live_settings(swarm)                -> the same options read from GET /swarm
    settings_changes(live, desired)     -> {option: (before, after)} only where they differ
    apply_settings(spec, desired)       -> the full SwarmSpec to POST to /swarm/update
    init_request(params)                -> the body of POST /swarm/init
    fixed_setting_conflicts(swarm, params) -> init-only options that differ from the live swarm
"""

from __future__ import annotations

import copy

from ansible_collections.crane.swarm.plugins.module_utils.common.durations import format_duration, parse_duration

# Updatable settings: option name -> path of the value inside SwarmSpec.
SPEC_PATHS = {
    'task_history_retention_limit': ('Orchestration', 'TaskHistoryRetentionLimit'),
    'snapshot_interval': ('Raft', 'SnapshotInterval'),
    'keep_old_snapshots': ('Raft', 'KeepOldSnapshots'),
    'log_entries_for_slow_followers': ('Raft', 'LogEntriesForSlowFollowers'),
    'election_tick': ('Raft', 'ElectionTick'),
    'heartbeat_tick': ('Raft', 'HeartbeatTick'),
    'dispatcher_heartbeat_period': ('Dispatcher', 'HeartbeatPeriod'),
    'node_cert_expiry': ('CAConfig', 'NodeCertExpiry'),
    'ca_force_rotate': ('CAConfig', 'ForceRotate'),
    'signing_ca_cert': ('CAConfig', 'SigningCACert'),
    'external_cas': ('CAConfig', 'ExternalCAs'),
    'autolock': ('EncryptionConfig', 'AutoLockManagers'),
    'labels': ('Labels',),
}
DURATION_OPTIONS = ('dispatcher_heartbeat_period', 'node_cert_expiry')

# The signing key is sent with its certificate but never read back by the API.
WRITE_ONLY_PATHS = {'signing_ca_key': ('CAConfig', 'SigningCAKey')}

DEFAULT_SUBNET_SIZE = 24

# Options that only POST /swarm/init takes: name -> key in the GET /swarm answer.
INIT_ONLY_LIVE_KEYS = {
    'default_addr_pool': 'DefaultAddrPool',
    'subnet_size': 'SubnetSize',
    'data_path_port': 'DataPathPort',
}


def _external_cas(value):
    return [dict(Protocol=entry.get('protocol', 'cfssl'), URL=entry['url'],
                 Options=entry.get('options') or {}, CACert=entry.get('ca_cert') or '')
            for entry in value]


def desired_settings(params):
    """Normalise the updatable options the user set (None means: not managed)."""
    desired = {}
    for option in SPEC_PATHS:
        value = params.get(option)
        if value is None:
            continue
        if option in DURATION_OPTIONS:
            value = parse_duration(value, option)
        elif option == 'external_cas':
            value = _external_cas(value)
        elif option == 'signing_ca_cert':
            value = value.strip() + '\n'
        desired[option] = value
    return desired


def _get_path(data, path):
    for key in path:
        if not isinstance(data, dict) or key not in data:
            return None
        data = data[key]
    return data


# What the API leaves out when a setting is at its zero value.
_LIVE_ZERO_VALUES = {'autolock': False, 'keep_old_snapshots': 0, 'ca_force_rotate': 0, 'labels': {}}


def _normalise_live(option, value):
    if option == 'external_cas':
        return [dict(Protocol=entry.get('Protocol', 'cfssl'), URL=entry.get('URL', ''),
                     Options=entry.get('Options') or {}, CACert=entry.get('CACert') or '')
                for entry in (value or [])]
    if option == 'signing_ca_cert' and value:
        return value.strip() + '\n'
    if value is None and option in _LIVE_ZERO_VALUES:
        return copy.deepcopy(_LIVE_ZERO_VALUES[option])
    return value


def live_settings(swarm):
    """Read every updatable option from a GET /swarm answer."""
    spec = swarm.get('Spec') or {}
    return dict((option, _normalise_live(option, _get_path(spec, path))) for option, path in SPEC_PATHS.items())


def settings_changes(live, desired):
    """Options whose desired value differs from the live one: {option: (before, after)}."""
    return dict((option, (live.get(option), value)) for option, value in desired.items()
                if live.get(option) != value)


def display_settings(settings):
    """Settings as a person reads them (durations as text), for diffs and results."""
    shown = {}
    for option, value in settings.items():
        if option in DURATION_OPTIONS and isinstance(value, int):
            value = format_duration(value)
        if option == 'signing_ca_cert' and value:
            value = '<certificate, %d bytes>' % len(value)
        shown[option] = value
    return shown


def apply_settings(spec, desired, params=None):
    """The full SwarmSpec for POST /swarm/update: the live spec with the desired values set."""
    new_spec = copy.deepcopy(spec)
    for option, value in desired.items():
        _assign(new_spec, SPEC_PATHS[option], value)
    if params and params.get('signing_ca_key') and 'signing_ca_cert' in desired:
        _assign(new_spec, WRITE_ONLY_PATHS['signing_ca_key'], params['signing_ca_key'].strip() + '\n')
    return new_spec


def _assign(data, path, value):
    for key in path[:-1]:
        if not isinstance(data.get(key), dict):
            data[key] = {}
        data = data[key]
    data[path[-1]] = value


def init_request(params):
    """Body of POST /swarm/init from the module options."""
    body = {
        'ListenAddr': params.get('listen_addr') or '0.0.0.0:2377',
        'AdvertiseAddr': params.get('advertise_addr') or '',
        'ForceNewCluster': bool(params.get('force_new_cluster')),
        'Spec': apply_settings({}, desired_settings(params), params),
    }
    if params.get('data_path_addr'):
        body['DataPathAddr'] = params['data_path_addr']
    if params.get('data_path_port') is not None:
        body['DataPathPort'] = params['data_path_port']
    if params.get('default_addr_pool'):
        body['DefaultAddrPool'] = list(params['default_addr_pool'])
        # The engine takes a pool without a size as size 0, and no network can then be made.
        body['SubnetSize'] = DEFAULT_SUBNET_SIZE
    if params.get('subnet_size') is not None:
        body['SubnetSize'] = params['subnet_size']
    return body


def fixed_setting_conflicts(swarm, params):
    """Init-only options the user set that differ from the live swarm: [(option, live, asked)]."""
    conflicts = []
    for option, live_key in INIT_ONLY_LIVE_KEYS.items():
        asked = params.get(option)
        if asked is None:
            continue
        live = swarm.get(live_key)
        if option == 'default_addr_pool':
            matches = sorted(live or []) == sorted(asked)
        else:
            matches = live == asked
        if not matches:
            conflicts.append((option, live, asked))
    return conflicts
