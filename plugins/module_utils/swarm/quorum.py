# -*- coding: utf-8 -*-
# Copyright: crane.swarm developers
# GNU General Public License v3.0+ (see https://www.gnu.org/licenses/gpl-3.0.txt)
"""Raft quorum arithmetic for Swarm manager changes.

Pure functions over plain data (Engine API Node objects as decoded JSON, and
the manager summaries derived from them). Nothing here talks to an engine, so
every rule can be unit tested and reused by any module that changes the set
of managers (promote, demote, remove a node, leave the swarm).

The rule the swarm itself enforces: Raft commits a change only while a
majority of the managers (floor(n/2) + 1) can reach each other. A change to the
manager set is safe when, after it, the reachable managers still form a
majority of the managers that remain.
"""

from __future__ import annotations

from ansible_collections.crane.swarm.plugins.module_utils.swarm.nodes import managers

CHANGES = ('promote', 'demote', 'remove', 'leave')

_DOING = {
    'promote': 'promoting %s',
    'demote': 'demoting %s',
    'remove': 'removing %s',
    'leave': '%s leaving the swarm',
}


def majority(manager_count):
    """Managers that must be reachable for a swarm of manager_count managers to keep quorum."""
    return manager_count // 2 + 1


def fault_tolerance(manager_count):
    """How many managers may be lost while the swarm keeps quorum (never negative)."""
    return max((manager_count - 1) // 2, 0)


def managers_from_nodes(nodes):
    """The managers among Engine API Node objects (GET /nodes), as the quorum arithmetic counts them.

    The managers of nodes.managers() (the members of the Raft cluster), each as a dict:
    id, hostname, reachable (bool), leader (bool), addr.
    """
    return [{'id': manager['id'], 'hostname': manager['hostname'],
             'reachable': manager['reachability'] == 'reachable', 'leader': manager['leader'],
             'addr': manager['addr']}
            for manager in managers(nodes)]


def _label(manager_or_id):
    if isinstance(manager_or_id, dict):
        return manager_or_id.get('hostname') or manager_or_id.get('id')
    return manager_or_id


def plan_manager_change(managers, change, node_id, node_name=None):
    """Work out what a change does to the manager quorum.

    managers: the output of managers_from_nodes().
    change: one of 'promote', 'demote', 'remove', 'leave'.
    node_id: the node the change applies to (its ID; a hostname also matches).
    node_name: how to call the node in messages when it is not a manager
      (defaults to node_id).

    Returns a dict with ok (bool), message (str), warning (str or None), and
    the numbers: total_before, reachable_before, total_after, reachable_after,
    majority_after, tolerance_before, tolerance_after, affects_managers (bool).
    """
    if change not in CHANGES:
        raise ValueError('change must be one of %s, not %r' % (', '.join(CHANGES), change))

    target = None
    for manager in managers:
        if node_id in (manager.get('id'), manager.get('hostname')):
            target = manager
            break
    name = _label(target) if target else (node_name or node_id)
    doing = _DOING[change] % name

    total = len(managers)
    reachable = sum(1 for manager in managers if manager.get('reachable'))
    plan = {
        'ok': True,
        'warning': None,
        'total_before': total,
        'reachable_before': reachable,
        'total_after': total,
        'reachable_after': reachable,
        'majority_after': majority(total),
        'tolerance_before': fault_tolerance(total),
        'tolerance_after': fault_tolerance(total),
        'affects_managers': False,
    }

    if change == 'promote':
        if target is not None:
            plan['message'] = ('%s is already a manager: the %d managers (%d reachable) stay as they are'
                               % (name, total, reachable))
            return plan
        total_after, reachable_after = total + 1, reachable + 1
    else:
        if target is None:
            plan['message'] = ('%s is not a manager: the %d managers (%d reachable, majority %d) are unaffected'
                               % (name, total, reachable, majority(total)))
            return plan
        total_after = total - 1
        reachable_after = reachable - 1 if target.get('reachable') else reachable

    needed = majority(total_after)
    plan.update({
        'affects_managers': True,
        'total_after': total_after,
        'reachable_after': reachable_after,
        'majority_after': needed,
        'tolerance_after': fault_tolerance(total_after),
    })

    if total_after == 0:
        plan['ok'] = False
        plan['message'] = ('%s would leave no manager: %s is the last manager of the swarm and holds its whole state; '
                           'promote another node first' % (doing, name))
        return plan

    if reachable_after < needed:
        plan['ok'] = False
        if reachable < majority(total):
            advice = ('the swarm has already lost quorum (%d of %d managers reachable, %d needed): bring the '
                      'unreachable managers back, or recover on a surviving manager with the '
                      'crane.swarm.recover playbook (by hand, "docker swarm init --force-new-cluster")' % (reachable, total, majority(total)))
        else:
            advice = 'promote another node first or bring the unreachable managers back'
        plan['message'] = ('%s would leave %d manager%s of which %d reachable; a swarm of %d manager%s needs %d '
                           'reachable (a majority) to keep quorum; %s'
                           % (doing, total_after, _plural(total_after), reachable_after, total_after,
                              _plural(total_after), needed, advice))
        return plan

    before_ft, after_ft = plan['tolerance_before'], plan['tolerance_after']
    if after_ft == before_ft:
        tolerance = 'fault tolerance stays %d' % after_ft
    else:
        tolerance = 'fault tolerance %s %d -> %d' % ('rises' if after_ft > before_ft else 'drops', before_ft, after_ft)
    message = ('%s: %d -> %d managers, %d reachable, majority %d: quorum kept, %s'
               % (doing, total, total_after, reachable_after, needed, tolerance))

    warning = None
    if reachable < majority(total):
        warning = ('the swarm has no quorum now (%d of %d managers reachable, %d needed): the change cannot be '
                   'committed until the unreachable managers are back' % (reachable, total, majority(total)))
    elif after_ft == 0 and before_ft > 0:
        warning = ('fault tolerance drops to 0: with %d manager%s, losing one more manager loses quorum; '
                   'add managers to get back to an odd count of 3 or more'
                   % (total_after, _plural(total_after)))
    elif after_ft == 0 and total_after > 1 and reachable_after < total_after:
        warning = ('fault tolerance is 0 and %d of %d managers are unreachable: losing one more manager loses quorum'
                   % (total_after - reachable_after, total_after))
    elif after_ft == 0 and total_after == 2:
        warning = ('2 managers tolerate no failure (each of them is needed for the majority of 2); '
                   'an odd count of 3 or more managers tolerates failures')
    if warning:
        message = '%s; WARNING: %s' % (message, warning)
    plan['warning'] = warning
    plan['message'] = message
    return plan


def check_manager_change(managers, change, node_id):
    """Return (ok, message) for a manager change; see plan_manager_change()."""
    plan = plan_manager_change(managers, change, node_id)
    return plan['ok'], plan['message']


def _plural(count):
    return '' if count == 1 else 's'
