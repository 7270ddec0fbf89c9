# -*- coding: utf-8 -*-
# Copyright: crane.swarm developers
# GNU General Public License v3.0+ (see https://www.gnu.org/licenses/gpl-3.0.txt)
"""The swarm facts every module reads the same way: is this engine a manager, which node, the managers.

Pure functions over plain data: the `Swarm` part of GET /info, Engine API Node
objects (GET /nodes) and option values, as decoded JSON. The module base
(engine.module_base) wires them to the engine; nothing here talks to one.
"""

from __future__ import annotations


def is_manager(swarm):
    """Whether an engine is an active swarm manager, from the `Swarm` part of its GET /info."""
    swarm = swarm or {}
    return swarm.get('LocalNodeState') == 'active' and bool(swarm.get('ControlAvailable'))


def not_manager_reason(swarm):
    """Why an engine that is no active manager is none, completing "the engine at HOST ..."."""
    state = (swarm or {}).get('LocalNodeState') or 'inactive'
    if state == 'inactive':
        return 'is not in a swarm'
    if state == 'active':
        return 'is a swarm worker'
    return 'is in swarm state %s' % state


def hostname(node):
    """The hostname a node reported to the swarm (None when it reported none)."""
    return (node.get('Description') or {}).get('Hostname')


def node_state(node):
    """The node's status as the managers see it: ready, down, unknown, disconnected."""
    return (node.get('Status') or {}).get('State')


def node_summary(node):
    """One Engine API Node object, as the modules return it."""
    spec = node.get('Spec') or {}
    description = node.get('Description') or {}
    manager = node.get('ManagerStatus') or {}
    return {
        'id': node.get('ID'),
        'hostname': description.get('Hostname'),
        'role': spec.get('Role'),
        'state': node_state(node),
        'availability': spec.get('Availability'),
        'addr': (node.get('Status') or {}).get('Addr'),
        'engine_version': (description.get('Engine') or {}).get('EngineVersion'),
        'labels': dict(spec.get('Labels') or {}),
        'leader': bool(manager.get('Leader')),
        'reachability': manager.get('Reachability'),
        'manager_addr': manager.get('Addr'),
    }


def find_node(nodes, wanted):
    """Find one node by ID or hostname.

    Returns (node, None) when found, (None, None) when no node matches, and
    (None, message) when the hostname is ambiguous.
    """
    for node in nodes:
        if node.get('ID') == wanted:
            return node, None
    matches = [node for node in nodes if hostname(node) == wanted]
    if len(matches) == 1:
        return matches[0], None
    if not matches:
        return None, None
    live = [node for node in matches if node_state(node) != 'down']
    if len(live) == 1:
        return live[0], None
    candidates = live or matches
    described = ', '.join('%s (%s, %s)' % (node.get('ID'), (node.get('Spec') or {}).get('Role'), node_state(node))
                          for node in candidates)
    return None, ('node: hostname %s matches %d nodes that are %s: %s; set node to one of these IDs'
                  % (wanted, len(candidates), 'not down' if live else 'all down', described))


def managers(nodes):
    """The members of the Raft cluster among Node objects, in their order.

    A node counts as a manager when it carries ManagerStatus; Spec.Role alone
    is only the desired role. Each: id, hostname, leader (bool), reachability, addr, state.
    """
    found = []
    for node in nodes or []:
        status = node.get('ManagerStatus')
        if not status:
            continue
        found.append({
            'id': node.get('ID'),
            'hostname': hostname(node),
            'leader': bool(status.get('Leader')),
            'reachability': status.get('Reachability'),
            'addr': status.get('Addr'),
            'state': node_state(node),
        })
    return found


def leader(nodes):
    """The Raft leader among Node objects as {id, hostname, addr}, or None while there is none."""
    for manager in managers(nodes):
        if manager['leader']:
            return {'id': manager['id'], 'hostname': manager['hostname'], 'addr': manager['addr']}
    return None


def string_values(option, mapping, error=ValueError):
    """Labels (or options) as the Engine API takes them: string values, numbers converted, None empty.

    A boolean is refused, as is any other value: YAML turns an unquoted yes or true into
    one, which the engine would store as "True". Raises `error` naming option.key.
    """
    if mapping is None:
        return {}
    if not isinstance(mapping, dict):
        raise error('%s must be a mapping of name to string value' % option)
    converted = {}
    for key, value in mapping.items():
        if value is None:
            value = ''
        elif isinstance(value, bool):
            raise error('%s.%s is the boolean %s; the engine takes strings: quote it (%s: "%s")'
                        % (option, key, value, key, str(value).lower()))
        elif isinstance(value, (int, float)):
            value = str(value)
        elif not isinstance(value, str):
            raise error('%s.%s must be a string, not %s; write the value as a quoted string'
                        % (option, key, type(value).__name__))
        converted[str(key)] = value
    return converted
