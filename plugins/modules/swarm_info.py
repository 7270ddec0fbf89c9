#!/usr/bin/python
# -*- coding: utf-8 -*-
# Copyright: crane.swarm developers
# GNU General Public License v3.0+ (see https://www.gnu.org/licenses/gpl-3.0.txt)

from __future__ import annotations

DOCUMENTATION = r"""
---
module: swarm_info
short_description: Report a host's swarm membership and, on a manager, the swarm, its nodes and managers
version_added: 0.1.0
author:
  - crane.swarm developers (@crane)
description:
  - Runs on any host with a Docker Engine and reports whether the engine is in a swarm, with
    which node ID, and whether it is a manager.
  - On a manager it also reports the swarm itself (ID, creation time, a summary of its settings,
    the address pool), every node with its role, status, availability and labels, the managers
    with their Raft reachability, the current leader, and the number of services.
  - On a worker or an engine outside any swarm, only the local facts are available; RV(nodes)
    and RV(managers) are empty lists, RV(swarm) is empty and RV(leader) and RV(services_count)
    are null. Use RV(is_manager) to tell the two cases apart.
  - The join tokens are returned only on request (O(join_tokens=true)). The task's displayed
    result is then hidden at every verbosity, while a registered variable keeps the tokens.
  - Changes nothing.
extends_documentation_fragment:
  - crane.swarm.engine
  - crane.swarm.attributes
  - crane.swarm.attributes.actiongroup_docker
attributes:
  check_mode:
    support: full
    details:
      - The module only reads, so it runs the same in check mode.
  diff_mode:
    support: N/A
    details:
      - Nothing changes, so there is nothing to show.
options:
  join_tokens:
    description:
      - Also return the worker and manager join tokens (on a manager only).
      - The tokens let any host join the swarm. The displayed result of the task is hidden
        when they are returned; keep them out of files and logs.
    type: bool
    default: false
  nodes:
    description:
      - Return the list of all nodes in RV(nodes). With V(false), RV(nodes) is an empty list;
        RV(managers) and RV(leader) are still returned.
    type: bool
    default: true
notes:
  - A swarm whose managers are locked (autolock) reports RV(local_node_state=locked) and is
    treated like a worker until it is unlocked.
seealso:
  - module: crane.swarm.swarm_node
  - module: crane.swarm.swarm
"""

EXAMPLES = r"""
- name: Read the swarm from a manager
  crane.swarm.swarm_info:
  register: swarm
  delegate_to: "{{ groups['managers'][0] }}"
  run_once: true

- name: Show the nodes that are down
  ansible.builtin.debug:
    msg: "{{ swarm.nodes | selectattr('state', 'equalto', 'down') | map(attribute='hostname') | list }}"

- name: Which hosts are already members
  crane.swarm.swarm_info:
    nodes: false
  register: membership

- name: Fetch the join tokens for the hosts that still have to join (the output is hidden)
  crane.swarm.swarm_info:
    join_tokens: true
  register: tokens
  delegate_to: "{{ groups['managers'][0] }}"
  run_once: true
"""

RETURN = r"""
local_node_state:
  description: The engine's swarm state (V(inactive), V(pending), V(active), V(error), V(locked)).
  returned: always
  type: str
  sample: active
node_id:
  description: This engine's node ID; empty when it is in no swarm.
  returned: always
  type: str
  sample: 4qm8yd4xj0ncbqnf1ju5ugbyi
node_addr:
  description: The address this node uses in the swarm; empty when it is in no swarm.
  returned: always
  type: str
  sample: 172.30.0.11
is_manager:
  description: Whether this engine is an active swarm manager (see RV(error) for a manager that cannot read the swarm).
  returned: always
  type: bool
  sample: true
is_member:
  description: Whether this engine is an active member of a swarm (manager or worker).
  returned: always
  type: bool
  sample: true
engine_version:
  description: Version of this engine.
  returned: always
  type: str
  sample: 20.10.24+dfsg1
error:
  description:
    - The swarm error the engine reports, or why a manager could not read the swarm (for example
      when the managers lost quorum and have no leader).
    - In the latter case RV(is_manager) is true while RV(swarm), RV(nodes) and RV(managers) are empty;
      the task still succeeds, with a warning.
  returned: when there is one
  type: str
  sample: "this manager cannot read the swarm: rpc error: code = Unknown desc = The swarm does not have a leader..."

remote_managers:
  description: Managers this engine knows of (from a worker's point of view, the managers it may talk to).
  returned: always
  type: list
  elements: dict
  contains:
    node_id:
      description: Manager node ID.
      type: str
    addr:
      description: Manager address and port.
      type: str
      sample: 172.30.0.11:2377
swarm:
  description: The swarm, empty unless this engine is a manager.
  returned: always
  type: dict
  contains:
    id:
      description: Swarm ID.
      type: str
    created:
      description: When the swarm was created (RFC 3339).
      type: str
      sample: "2024-05-01T10:44:24.496525531Z"
    updated:
      description: When the swarm settings last changed (RFC 3339).
      type: str
    name:
      description: Swarm name (always C(default) for Docker's swarm).
      type: str
    labels:
      description: Swarm labels.
      type: dict
    task_history_retention_limit:
      description: Finished tasks kept per slot.
      type: int
      sample: 5
    snapshot_interval:
      description: Raft log entries between snapshots.
      type: int
      sample: 10000
    keep_old_snapshots:
      description: Old Raft snapshots kept.
      type: int
    log_entries_for_slow_followers:
      description: Raft log entries kept for slow followers after a snapshot.
      type: int
    election_tick:
      description: Raft election timeout, in ticks.
      type: int
      sample: 10
    heartbeat_tick:
      description: Raft heartbeat interval, in ticks.
      type: int
      sample: 1
    dispatcher_heartbeat_period:
      description: Seconds between the heartbeats nodes send to the managers.
      type: float
      sample: 5.0
    node_cert_expiry:
      description: Lifetime of node certificates, in seconds.
      type: float
      sample: 7776000.0
    autolock_managers:
      description: Whether managers are locked on restart and need the unlock key.
      type: bool
    log_driver:
      description: Default log driver of tasks, if set.
      type: str
    root_rotation_in_progress:
      description: Whether the swarm's root CA is being rotated.
      type: bool
    default_addr_pool:
      description: Address pools overlay networks get their subnets from.
      type: list
      elements: str
      sample: [10.0.0.0/8]
    subnet_size:
      description: Prefix length of the subnets allocated from RV(swarm.default_addr_pool).
      type: int
      sample: 24
    data_path_port:
      description: UDP port of the overlay (VXLAN) data path.
      type: int
      sample: 4789
    ca_force_rotate:
      description:
        - The counter whose increase rotates the root CA (O(crane.swarm.swarm#module:ca_force_rotate)); 0 when
          it was never raised.
      type: int
      sample: 0
    ca_digest:
      description:
        - SHA-256 of the swarm's root CA certificate (PEM), the one join tokens name. It changes when a CA
          rotation completes.
      type: str
    cert_issuer_digest:
      description:
        - SHA-256 of the issuer (subject and public key) of the certificates the swarm issues now. A node
          whose RV(nodes[].cert_issuer_digest) differs still holds a certificate of an earlier CA.
      type: str
nodes:
  description: All nodes of the swarm; empty unless this engine is a manager and O(nodes=true).
  returned: always
  type: list
  elements: dict
  contains:
    id:
      description: Node ID.
      type: str
    hostname:
      description: Hostname the node reported.
      type: str
      sample: node2
    role:
      description: V(manager) or V(worker).
      type: str
    state:
      description: Status as the managers see it (V(ready), V(down), V(unknown), V(disconnected)).
      type: str
      sample: ready
    availability:
      description: V(active), V(pause) or V(drain).
      type: str
    addr:
      description: Address the node connects from.
      type: str
      sample: 172.30.0.12
    engine_version:
      description: Version of the node's engine.
      type: str
    labels:
      description: Node labels.
      type: dict
    leader:
      description: Whether the node is the Raft leader.
      type: bool
    reachability:
      description: Raft reachability of a manager (V(reachable), V(unreachable), V(unknown)); null for a worker.
      type: str
    manager_addr:
      description: Address and port a manager listens on for the swarm; null for a worker.
      type: str
      sample: 172.30.0.11:2377
    ca_digest:
      description: SHA-256 of the root CA certificate the node trusts, as it last reported it.
      type: str
    cert_issuer_digest:
      description:
        - SHA-256 of the issuer (subject and public key) of the node's certificate, as it last reported it.
          It equals RV(swarm.cert_issuer_digest) once the node holds a certificate of the swarm's current CA.
      type: str
managers:
  description: The members of the Raft cluster; empty unless this engine is a manager.
  returned: always
  type: list
  elements: dict
  contains:
    id:
      description: Node ID.
      type: str
    hostname:
      description: Hostname the node reported.
      type: str
    leader:
      description: Whether the manager is the Raft leader.
      type: bool
    reachability:
      description: V(reachable), V(unreachable) or V(unknown).
      type: str
    addr:
      description: Address and port the manager listens on for the swarm.
      type: str
    state:
      description: Node status (V(ready), V(down), ...).
      type: str
leader:
  description: The Raft leader; null unless this engine is a manager (or while no leader is elected).
  returned: always
  type: dict
  contains:
    id:
      description: Node ID.
      type: str
    hostname:
      description: Hostname.
      type: str
    addr:
      description: Address and port the leader listens on for the swarm.
      type: str
services_count:
  description: Number of services in the swarm; null unless this engine is a manager.
  returned: always
  type: int
  sample: 3
join_tokens:
  description: The tokens hosts join with. The displayed task result is hidden when they are returned.
  returned: when O(join_tokens=true) and this engine is a manager
  type: dict
  contains:
    worker:
      description: Token to join as a worker.
      type: str
    manager:
      description: Token to join as a manager.
      type: str
ansible_facts:
  description: Facts for the controller, set when join tokens are returned.
  returned: when RV(join_tokens) is returned
  type: dict
  contains:
    crane_swarm_join_token_roles:
      description:
        - SHA-256 fingerprints of the join tokens, each with its role (V(worker) or V(manager)). Not secrets;
          a later M(crane.swarm.swarm) join with a token of the other role than its O(crane.swarm.swarm#module:role)
          is refused before it starts.
      type: dict
"""

from ansible_collections.crane.swarm.plugins.module_utils.engine.client import EngineError
from ansible_collections.crane.swarm.plugins.module_utils.engine.module_base import (
    EngineTask, engine_module, leader_missing, run_engine_task)
from ansible_collections.crane.swarm.plugins.module_utils.swarm.info_options import SWARM_INFO_OPTIONS
from ansible_collections.crane.swarm.plugins.module_utils.swarm.membership import tls_digests
from ansible_collections.crane.swarm.plugins.module_utils.swarm.nodes import is_manager, leader, managers, node_summary

NANOSECONDS = 1000000000.0


def _seconds(nanoseconds):
    return None if nanoseconds is None else nanoseconds / NANOSECONDS


def swarm_summary(swarm):
    """GET /swarm, in the module's vocabulary (without the join tokens)."""
    spec = swarm.get('Spec') or {}
    orchestration = spec.get('Orchestration') or {}
    raft = spec.get('Raft') or {}
    dispatcher = spec.get('Dispatcher') or {}
    ca_config = spec.get('CAConfig') or {}
    encryption = spec.get('EncryptionConfig') or {}
    log_driver = (spec.get('TaskDefaults') or {}).get('LogDriver') or {}
    summary = {
        'id': swarm.get('ID'),
        'created': swarm.get('CreatedAt'),
        'updated': swarm.get('UpdatedAt'),
        'name': spec.get('Name'),
        'labels': dict(spec.get('Labels') or {}),
        'task_history_retention_limit': orchestration.get('TaskHistoryRetentionLimit'),
        'snapshot_interval': raft.get('SnapshotInterval'),
        'keep_old_snapshots': raft.get('KeepOldSnapshots'),
        'log_entries_for_slow_followers': raft.get('LogEntriesForSlowFollowers'),
        'election_tick': raft.get('ElectionTick'),
        'heartbeat_tick': raft.get('HeartbeatTick'),
        'dispatcher_heartbeat_period': _seconds(dispatcher.get('HeartbeatPeriod')),
        'node_cert_expiry': _seconds(ca_config.get('NodeCertExpiry')),
        'autolock_managers': bool(encryption.get('AutoLockManagers')),
        'log_driver': log_driver.get('Name'),
        'root_rotation_in_progress': bool(swarm.get('RootRotationInProgress')),
        'default_addr_pool': list(swarm.get('DefaultAddrPool') or []),
        'subnet_size': swarm.get('SubnetSize'),
        'data_path_port': swarm.get('DataPathPort'),
        'ca_force_rotate': ca_config.get('ForceRotate') or 0,
    }
    summary.update(tls_digests(swarm.get('TLSInfo')))
    return summary


def node_with_tls(node):
    """A node as node_summary() gives it, with the digests of its root CA and of its certificate's issuer."""
    summary = node_summary(node)
    summary.update(tls_digests((node.get('Description') or {}).get('TLSInfo')))
    return summary


def gather(client, want_nodes=True, want_tokens=False):
    """Read everything the module reports; raises EngineError."""
    info = client.get('/info') or {}
    local = info.get('Swarm') or {}
    state = local.get('LocalNodeState') or 'inactive'
    on_manager = is_manager(local)
    result = {
        'changed': False,
        'local_node_state': state,
        'node_id': local.get('NodeID') or '',
        'node_addr': local.get('NodeAddr') or '',
        'is_manager': on_manager,
        'is_member': state == 'active',
        'engine_version': info.get('ServerVersion'),
        'remote_managers': [{'node_id': manager.get('NodeID'), 'addr': manager.get('Addr')}
                            for manager in local.get('RemoteManagers') or []],
        'swarm': {},
        'nodes': [],
        'managers': [],
        'leader': None,
        'services_count': None,
    }
    if local.get('Error'):
        result['error'] = local['Error']
    if not on_manager:
        return result

    try:
        swarm = client.get('/swarm') or {}
        nodes = client.get('/nodes') or []
        services = client.get('/services') or []
    except EngineError as exc:
        if not leader_missing(exc):
            raise
        # A manager whose swarm has no leader (lost quorum) cannot answer: report what is known locally.
        result['error'] = ('this manager cannot read the swarm: %s (the managers have no leader; bring the '
                           'unreachable managers back, or recover with the crane.swarm.recover playbook; by hand, '
                           '"docker swarm init --force-new-cluster")'
                           % exc)
        return result
    result['swarm'] = swarm_summary(swarm)
    if want_nodes:
        result['nodes'] = sorted((node_with_tls(node) for node in nodes),
                                 key=lambda node: (node['hostname'] or '', node['id'] or ''))
    result['managers'] = sorted(managers(nodes), key=lambda member: (member['hostname'] or '', member['id'] or ''))
    result['leader'] = leader(nodes)
    result['services_count'] = len(services)
    if want_tokens:
        tokens = swarm.get('JoinTokens') or {}
        result['join_tokens'] = {'worker': tokens.get('Worker'), 'manager': tokens.get('Manager')}
    return result


class SwarmInfo(EngineTask):
    def __init__(self, module, client):
        super().__init__(module, client, {})

    def engine_failure(self, error):
        return 'reading the swarm from the engine at %s failed: %s' % (self.params['docker_host'], error)

    def run(self):
        self.result = gather(self.client, want_nodes=self.params['nodes'], want_tokens=self.params['join_tokens'])
        if self.result.get('error'):
            self.module.warn(self.result['error'])
        return self.result


def main():
    module = engine_module(SWARM_INFO_OPTIONS, supports_check_mode=True)
    run_engine_task(module, SwarmInfo)


if __name__ == '__main__':
    main()
