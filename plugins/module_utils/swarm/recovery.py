# -*- coding: utf-8 -*-
# Copyright: crane.swarm developers
# GNU General Public License v3.0+ (see https://www.gnu.org/licenses/gpl-3.0.txt)
"""Has the swarm lost its managers' majority? Decided from plain data, for force_new_cluster.

/info keeps calling a manager "active, in control" after the other managers are gone, and for
the first seconds the leader still answers reads from its own store: neither says whether the
raft can commit. The evidence used instead, as a manager sees it:

- a raft-backed read (GET /nodes) that fails because there is no leader ("The swarm does not
  have a leader", a deadline exceeded, gRPC Unavailable, HTTP 503) for longer than an election
  takes: the majority is lost;
- a read that answers: the raft members (nodes with ManagerStatus) counted reachable by the
  engine AND, for the others than this node, whose swarm port accepts a connection from this
  host now (the engine notices a dead peer only after some heartbeats). Fewer than a majority
  of the members: lost; otherwise the swarm is healthy and nothing is forced.
"""

from __future__ import annotations

from ansible_collections.crane.swarm.plugins.module_utils.swarm.quorum import majority


def majority_verdict(raft_managers, self_id, open_addrs=None):
    """The verdict from an answered node list.

    raft_managers: nodes.managers() of GET /nodes (the raft members: id, hostname, reachability, addr).
    self_id: this node's ID (it counts as up: it answered).
    open_addrs: the manager addresses (host:port) whose swarm port accepted a connection from this
      host just now, or None when they could not be probed (the engine's word alone then).

    Returns dict(majority_lost, managers, reachable, majority, unreachable (hostnames), reason).
    """
    up, down = [], []
    for manager in raft_managers:
        alive = manager.get('id') == self_id or manager.get('reachability') == 'reachable'
        if alive and manager.get('id') != self_id and open_addrs is not None and manager.get('addr') not in open_addrs:
            alive = False
        (up if alive else down).append(manager.get('hostname') or manager.get('id'))
    total = len(raft_managers)
    needed = majority(total)
    lost = len(up) < needed
    reason = '%d of %d managers reachable, %d needed for a majority' % (len(up), total, needed)
    if down:
        reason += ' (unreachable: %s)' % ', '.join(sorted(down))
    reason += (': the majority is lost' if lost else ': the swarm has its majority, nothing is forced')
    return dict(majority_lost=lost, managers=total, reachable=len(up), majority=needed, unreachable=sorted(down),
                reason=reason)


def no_leader_verdict(message, waited):
    """The verdict when every raft-backed read failed for want of a leader during `waited` seconds."""
    return dict(majority_lost=True, managers=None, reachable=None, majority=None, unreachable=[],
                reason='the swarm had no leader for %d s (%s): the majority is lost' % (waited, message.strip()))
