# -*- coding: utf-8 -*-
# Copyright: crane.swarm developers
# GNU General Public License v3.0+ (see https://www.gnu.org/licenses/gpl-3.0.txt)
"""The nodes of a swarm as inventory hosts, for the inventory plugin crane.swarm.swarm_nodes.

    hosts_from_nodes(nodes, options) -> [{'name': ..., 'vars': {...}, 'groups': [...]}, ...]

A pure function over the Engine API's Node objects (GET /nodes, decoded JSON): it names each
host, gives it its `swarm_*` variables and the groups it belongs to. The plugin adds them to
the inventory; nothing here talks to an engine or to the inventory.
"""

from __future__ import annotations

from ansible.plugins.inventory import to_safe_group_name

# Every inventory from this plugin has these groups, empty or not, so that a play for
# `swarm_drain` matches no host rather than warning about an unknown pattern.
ROLE_GROUPS = {'manager': 'swarm_managers', 'worker': 'swarm_workers'}
LEADER_GROUP = 'swarm_leader'
AVAILABILITIES = ('active', 'pause', 'drain')
STATES = ('ready', 'down', 'unknown', 'disconnected')
FIXED_GROUPS = (tuple(ROLE_GROUPS.values()) + (LEADER_GROUP,)
                + tuple('swarm_%s' % value for value in AVAILABILITIES + STATES))
LABEL_GROUP_PREFIX = 'swarm_label_'

DEFAULT_OPTIONS = {'hostname_from': 'hostname', 'address_as_ansible_host': True}

# When two nodes would have the same inventory name, the one in the best state keeps it.
_STATE_RANK = {'ready': 0, 'unknown': 1, 'disconnected': 2, 'down': 3}


def label_group_name(key, value, sanitize=to_safe_group_name):
    """The group of the nodes with label key=value: swarm_label_<key>_<value>, sanitised.

    A label without a value (`--label-add ssd`) gives swarm_label_<key>. Sanitising replaces
    every character that cannot be part of a variable name with `_` (Ansible's own rule).
    """
    key = '' if key is None else str(key)
    value = '' if value is None else str(value)
    raw = LABEL_GROUP_PREFIX + key + ('_' + value if value else '')
    return sanitize(raw)


def _host_of(addr):
    """The host part of host:port (IPv6 in brackets or not); None for an empty address."""
    if not addr:
        return None
    host = addr
    if addr.startswith('['):
        host = addr[1:].split(']', 1)[0]
    elif addr.count(':') == 1:
        host = addr.rsplit(':', 1)[0]
    return host or None


def _unspecified(addr):
    return not addr or addr in ('0.0.0.0', '::', '[::]')


def node_address(node):
    """The address a node is reached at: Status.Addr, or for a manager that reports 0.0.0.0 there
    (an engine that listens on all addresses), the host part of ManagerStatus.Addr."""
    addr = (node.get('Status') or {}).get('Addr')
    if _unspecified(addr):
        manager_host = _host_of((node.get('ManagerStatus') or {}).get('Addr'))
        if not _unspecified(manager_host):
            return manager_host
        return None
    return addr


def node_vars(node):
    """The swarm_* variables of one Node object."""
    spec = node.get('Spec') or {}
    description = node.get('Description') or {}
    platform = description.get('Platform') or {}
    status = node.get('Status') or {}
    manager = node.get('ManagerStatus')
    role = spec.get('Role')
    platform_text = '/'.join(part for part in (platform.get('OS'), platform.get('Architecture')) if part)
    variables = {
        'swarm_node_id': node.get('ID'),
        'swarm_hostname': description.get('Hostname'),
        'swarm_role': role,
        'swarm_availability': spec.get('Availability'),
        'swarm_state': status.get('State'),
        'swarm_addr': node_address(node),
        'swarm_engine_version': (description.get('Engine') or {}).get('EngineVersion'),
        'swarm_labels': dict(spec.get('Labels') or {}),
        'swarm_leader': bool((manager or {}).get('Leader')),
        'swarm_platform': platform_text or None,
    }
    if role == 'manager' or manager:
        variables['swarm_manager_reachability'] = (manager or {}).get('Reachability')
        variables['swarm_manager_addr'] = (manager or {}).get('Addr')
    return variables


def node_groups(variables, sanitize=to_safe_group_name):
    """The groups of a host with these swarm_* variables, in a stable order."""
    groups = []
    if variables['swarm_role'] in ROLE_GROUPS:
        groups.append(ROLE_GROUPS[variables['swarm_role']])
    if variables['swarm_leader']:
        groups.append(LEADER_GROUP)
    if variables['swarm_availability'] in AVAILABILITIES:
        groups.append('swarm_%s' % variables['swarm_availability'])
    if variables['swarm_state'] in STATES:
        groups.append('swarm_%s' % variables['swarm_state'])
    for key in sorted(variables['swarm_labels'], key=str):
        name = label_group_name(key, variables['swarm_labels'][key], sanitize)
        if name not in groups:
            groups.append(name)
    return groups


def _wanted_name(variables, hostname_from):
    if hostname_from == 'id':
        return variables['swarm_node_id']
    return variables['swarm_hostname'] or variables['swarm_node_id']


def hosts_from_nodes(nodes, options=None, sanitize=to_safe_group_name):
    """The inventory hosts of a swarm's nodes, sorted by name.

    options: hostname_from (`hostname` or `id`), address_as_ansible_host (bool).
    With hostname_from=hostname, nodes that share a hostname (a host that left and joined
    again leaves its old node behind, down) are told apart: the node in the best state
    (ready, unknown, disconnected, down; then the lowest ID) keeps the hostname, the others
    are named by their node ID. A node without a hostname is named by its ID too.
    """
    settings = dict(DEFAULT_OPTIONS)
    settings.update(dict((key, value) for key, value in (options or {}).items() if value is not None))
    hostname_from = settings['hostname_from']
    if hostname_from not in ('hostname', 'id'):
        raise ValueError('hostname_from must be hostname or id, not %r' % (hostname_from,))

    all_vars = [node_vars(node) for node in nodes or [] if (node or {}).get('ID')]
    ranked = sorted(all_vars, key=lambda item: (_STATE_RANK.get(item['swarm_state'], 4), item['swarm_node_id']))
    hosts = []
    taken = set()
    for variables in ranked:
        name = _wanted_name(variables, hostname_from)
        if name in taken:
            name = variables['swarm_node_id']
        taken.add(name)
        host_vars = dict(variables)
        if settings['address_as_ansible_host'] and variables['swarm_addr']:
            host_vars['ansible_host'] = variables['swarm_addr']
        hosts.append({'name': name, 'vars': host_vars, 'groups': node_groups(variables, sanitize)})
    return sorted(hosts, key=lambda host: host['name'])
