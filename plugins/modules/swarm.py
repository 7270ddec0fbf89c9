#!/usr/bin/python
# -*- coding: utf-8 -*-
# Copyright: crane.swarm developers
# GNU General Public License v3.0+ (see https://www.gnu.org/licenses/gpl-3.0.txt)

from __future__ import annotations

DOCUMENTATION = r"""
module: swarm
short_description: Initialise, configure, join and leave a Docker Swarm on the local node
version_added: 0.1.0
author: crane.swarm developers (@crane)
description:
  - Manages the swarm membership of the node whose engine it talks to.
  - O(state=present) initialises a new swarm on a node in none, or updates the settings of the
    swarm from a manager, comparing only the settings given.
  - O(state=join) joins the swarm of O(remote_addrs) with O(join_token). A node already in that
    swarm with the asked role is left alone; a node in another swarm is an error that names both,
    never a silent success. With O(clock_servers) the clock precheck of M(crane.swarm.clock_check)
    runs first and a skewed host is refused before anything changes.
  - Before a join the module connects from this host to the swarm port of every address in
    O(remote_addrs) (when the engine is this host's, O(docker_host) a local socket). When none accepts
    the connection the join is refused before anything changes, with each address's answer
    (unreachable, refused, no answer) and the network fix; the ones that accept are tried first.
  - A join token does not say its role; the managers decide it. When crane.swarm.swarm or
    M(crane.swarm.swarm_info) returned the swarm's join tokens on a manager earlier in the run, the
    controller keeps their fingerprints (fact C(crane_swarm_join_token_roles) of that host, never the
    tokens) and refuses a O(join_token) of the other role than O(role) before anything changes.
    A token the controller has not seen is found out after the join; the node leaves again (a
    manager demotes itself first, so that the remaining managers keep their quorum) and the task
    fails naming the entry the managers keep (RV(left_node_id)).
  - A join that fails is undone (the node leaves), and the error names what went wrong and the fix.
    A token the managers refuse names O(join_token); a manager that does not answer on its swarm port
    points at the network (address, firewall); only a manager that accepted the connection but never
    completed the join points at clock skew, measured with O(clock_servers).
  - O(state=absent) leaves the swarm. A manager is demoted first so that the remaining managers
    keep a majority; leaving the last manager, or leaving when the others could not keep quorum,
    is refused unless O(force=true).
  - Results that carry join tokens or the unlock key are hidden from Ansible's output at every
    verbosity; registered variables keep them.
extends_documentation_fragment:
  - crane.swarm.engine
  - crane.swarm.attributes
  - crane.swarm.attributes.actiongroup_docker
attributes:
  check_mode:
    support: full
  diff_mode:
    support: full
    details: Shows the membership state and the managed settings before and after.
options:
  state:
    description:
      - V(present) initialises a swarm here or configures the swarm this manager belongs to.
      - V(join) joins an existing swarm.
      - V(absent) leaves the swarm.
    type: str
    choices: [present, join, absent]
    default: present
  role:
    description:
      - With O(state=join), the role this node must have. It must match the kind of O(join_token);
        a token of the other role is refused (see the description).
    type: str
    choices: [worker, manager]
    default: worker
  remote_addrs:
    description:
      - With O(state=join), addresses of managers of the swarm to join (C(host) or C(host:port);
        the port defaults to 2377).
      - The engine tries only the first address it is given; the module puts the addresses whose swarm
        port accepts a connection from this host first, and refuses the join when none does.
    type: list
    elements: str
  join_token:
    description:
      - With O(state=join), the worker or manager join token (result RV(join_tokens) of this module
        on a manager). Never logged.
    type: str
  advertise_addr:
    description:
      - Address (or interface name) other nodes reach this node at, optionally with a port.
    type: str
  listen_addr:
    description:
      - Address and port the node listens on for swarm traffic.
    type: str
    default: 0.0.0.0:2377
  data_path_addr:
    description:
      - Address or interface for the data path (overlay) traffic, to separate it from management
        traffic.
    type: str
  data_path_port:
    description:
      - UDP port of overlay (VXLAN) traffic, default 4789. Set at initialisation only.
    type: int
  default_addr_pool:
    description:
      - Address pools (CIDR) overlay networks get their subnets from. Set at initialisation only;
        a different value on an existing swarm is an error.
    type: list
    elements: str
  subnet_size:
    description:
      - Prefix length of each subnet taken from O(default_addr_pool). Set at initialisation only.
      - With O(default_addr_pool) and no O(subnet_size), 24 is sent (the engine would take 0).
    type: int
  force_new_cluster:
    description:
      - With O(state=present) on a manager whose swarm lost its managers' majority, form a new
        single-manager cluster from this manager's local state (disaster recovery, as
        C(docker swarm init --force-new-cluster)). Services, networks, secrets and configs are kept;
        the other managers' entries stay in the node list as managers that are no raft members
        until they are removed (M(crane.swarm.swarm_node)) and their hosts join again.
      - The module asks the swarm whether the majority is lost rather than trusting the leader /info
        reports. A read of the node list that fails because there is no leader for 20 seconds (about
        two elections) means lost; a read that answers counts the raft members the engine calls
        reachable and whose swarm port accepts a connection from this host now (when the engine is
        this host's), so that it sees a loss in the first seconds, before the engine does.
      - The new cluster listens on O(listen_addr) and advertises O(advertise_addr), or this node's
        current address.
      - When the swarm has its majority nothing is forced, the task reports no change and says why
        (RV(recovery)); the other options then configure the swarm as usual. C(changed) is true only
        when a new cluster was forced (or would be, in check mode).
      - It works on a manager that is active, or pending (a manager whose engine started while no leader
        could be reached, as on a host where a backup of C(<data root>/swarm) was put in place).
      - On a node in no swarm it initialises a new swarm, as without it.
    type: bool
    default: false
  autolock:
    description:
      - Lock managers' raft keys at rest; a restarted manager then needs the unlock key
        (result RV(unlock_key)).
    type: bool
  unlock_key:
    description:
      - Key that unlocks a locked manager (state C(locked) after its engine restarted with O(autolock)).
        With any O(state), a locked manager is unlocked first, then the state's work is done; a node
        that is not locked ignores it. Never logged.
      - A locked manager without O(unlock_key) fails naming this option; a key the engine refuses fails
        without changing anything (the key changes with each O(rotate_unlock_key)).
      - In check mode a locked manager is reported as changed (it would be unlocked) and nothing else
        is read, since a locked manager cannot serve the swarm.
    type: str
  task_history_retention_limit:
    description:
      - How many finished tasks (and their exited containers) the swarm keeps per slot. Low values
        reclaim exited containers instead of letting them pile up on hosts.
    type: int
  snapshot_interval:
    description: Raft log entries between snapshots.
    type: int
  keep_old_snapshots:
    description: Raft snapshots to keep beyond the current one.
    type: int
  log_entries_for_slow_followers:
    description: Raft log entries kept to sync slow followers after a snapshot.
    type: int
  election_tick:
    description: Raft ticks without a leader before an election starts.
    type: int
  heartbeat_tick:
    description: Raft ticks between heartbeats.
    type: int
  dispatcher_heartbeat_period:
    description:
      - How often nodes report to the managers, as a duration (V(5s)) or integer nanoseconds.
    type: raw
  node_cert_expiry:
    description:
      - Validity of node certificates, as a duration (V(2160h)) or integer nanoseconds.
    type: raw
  signing_ca_cert:
    description: PEM certificate of a new root CA for the swarm (CA rotation).
    type: str
  signing_ca_key:
    description: PEM key of O(signing_ca_cert). Never logged.
    type: str
  ca_force_rotate:
    description: Raise this counter to rotate the swarm's root CA.
    type: int
  external_cas:
    description: External certificate authorities that issue node certificates.
    type: list
    elements: dict
    suboptions:
      protocol:
        description: Protocol of the external CA.
        type: str
        default: cfssl
        choices: [cfssl]
      url:
        description: URL of the external CA.
        type: str
        required: true
      options:
        description: Options for the external CA driver.
        type: dict
      ca_cert:
        description: PEM root CA certificate the external CA issues under.
        type: str
  labels:
    description: Labels of the swarm itself (replaces the existing ones when given).
    type: dict
  rotate_worker_token:
    description: Issue a new worker join token (always reports a change).
    type: bool
    default: false
  rotate_manager_token:
    description: Issue a new manager join token (always reports a change).
    type: bool
    default: false
  rotate_unlock_key:
    description: Issue a new unlock key (always reports a change).
    type: bool
    default: false
  clock_servers:
    description:
      - With O(state=join), NTP servers to measure this host's clock against before joining.
        A host off by more than O(max_clock_offset) is refused and nothing changes.
      - When a join times out, the offset against these servers is reported in the error.
    type: list
    elements: str
  max_clock_offset:
    description: Largest clock offset in seconds tolerated by the join precheck.
    type: float
    default: 1.0
  join_timeout:
    description:
      - Seconds to wait for a join to complete. A join still pending then is undone and reported
        with what this host sees of the first manager (and the measured clock offset with O(clock_servers)).
      - The engine holds a join attempt that the managers do not complete for 20 seconds and cannot be
        made to leave before, so such a join takes at least that long whatever O(join_timeout) says.
        Managers that do not answer on their swarm port are found out before the join, within 5 seconds.
    type: int
    default: 60
  force:
    description:
      - With O(state=absent), leave even when this is the last manager or the remaining managers
        would lose quorum.
    type: bool
    default: false
notes:
  - Join tokens, the unlock key and the CA key are never printed, even at C(-vvv).
  - After a node leaves, the managers list it as C(down) until it is removed with
    M(crane.swarm.swarm_node) O(crane.swarm.swarm_node#module:state=absent).
seealso:
  - module: crane.swarm.swarm_node
  - module: crane.swarm.swarm_info
  - module: crane.swarm.clock_check
"""

EXAMPLES = r"""
- name: Initialise the swarm on the first manager
  crane.swarm.swarm:
    state: present
    advertise_addr: "{{ ansible_default_ipv4.address }}"
    task_history_retention_limit: 2
  register: swarm_init

- name: Join the workers, refusing hosts whose clock is off
  crane.swarm.swarm:
    state: join
    role: worker
    remote_addrs: ["{{ hostvars[groups['swarm_managers'][0]].ansible_default_ipv4.address }}"]
    join_token: "{{ hostvars[groups['swarm_managers'][0]].swarm_init.join_tokens.worker }}"
    clock_servers: [ntp.example.org]
    max_clock_offset: 0.5

- name: Recover a swarm whose managers lost their majority, on a surviving manager (no-op on a healthy swarm)
  crane.swarm.swarm:
    state: present
    force_new_cluster: true
    advertise_addr: "{{ ansible_default_ipv4.address }}"
  register: recovered

- name: Leave the swarm (a manager is demoted first when quorum allows)
  crane.swarm.swarm:
    state: absent
"""

RETURN = r"""
node_id:
  description: ID of this node in the swarm (empty when it is in none).
  returned: always
  type: str
swarm_id:
  description: ID of the swarm; known on managers only.
  returned: always
  type: str
is_manager:
  description: Whether this node is a manager.
  returned: always
  type: bool
local_node_state:
  description: The engine's view of this node's membership (inactive, pending, active, locked, error).
  returned: always
  type: str
join_tokens:
  description: The swarm's join tokens. Hidden from output; use a registered variable.
  returned: on managers
  type: dict
  contains:
    worker:
      description: Token that joins a node as a worker.
      type: str
    manager:
      description: Token that joins a node as a manager.
      type: str
unlock_key:
  description: Key that unlocks a restarted manager when autolock is on. Hidden from output.
  returned: on managers with autolock
  type: str
changes:
  description: Settings that changed (or would change in check mode), with before and after values.
  returned: always
  type: dict
clock:
  description: The clock precheck's report (see M(crane.swarm.clock_check)).
  returned: when O(clock_servers) was given with O(state=join)
  type: dict
remote_probe:
  description:
    - What this host saw when it connected to the swarm port of each address of O(remote_addrs), in order.
    - C(state) is V(open) (accepted), V(closed) (refused), V(filtered) (no answer), V(unreachable) or V(error).
  returned: with O(state=join) on a node in no swarm whose engine is this host's
  type: list
  elements: dict
  sample: [{host: 10.0.0.11, port: 2377, state: open, error: null, seconds: 0.001}]
left_node_id:
  description:
    - ID of the entry a failed join left in the managers' node list (the managers issued the node a
      certificate before the join was undone). Remove it with M(crane.swarm.swarm_node) on a manager.
  returned: when a join with a token of the other role, or one that did not complete, was undone
  type: str
recovery:
  description: What O(force_new_cluster) found on a manager, and whether it forced a new cluster.
  returned: with O(force_new_cluster=true) on a manager
  type: dict
  contains:
    majority_lost:
      description: Whether the swarm had lost its managers' majority.
      type: bool
    forced:
      description: Whether a new cluster was forced (false in check mode, where C(changed) says it would be).
      type: bool
    managers:
      description: Raft members counted (null when no read answered).
      type: int
    reachable:
      description: Raft members reachable, this node included (null when no read answered).
      type: int
    majority:
      description: Members needed for a majority (null when no read answered).
      type: int
    unreachable:
      description: Hostnames of the unreachable raft members.
      type: list
      elements: str
    reason:
      description: The evidence, in words.
      type: str
      sample: "1 of 3 managers reachable, 2 needed for a majority (unreachable: node2, node3): the majority is lost"
ansible_facts:
  description: Facts for the controller, set when join tokens are returned.
  returned: when RV(join_tokens) is returned
  type: dict
  contains:
    crane_swarm_join_token_roles:
      description:
        - SHA-256 fingerprints of the join tokens, each with its role (V(worker) or V(manager)). Not secrets;
          a later join with O(join_token) of the other role is refused before it starts.
      type: dict
"""

import os
import time

from ansible_collections.crane.swarm.plugins.module_utils.clock.check import check_clock, module_run_command
from ansible_collections.crane.swarm.plugins.module_utils.engine.client import EngineError
from ansible_collections.crane.swarm.plugins.module_utils.engine.module_base import (
    EngineTask, engine_module, leader_missing, run_engine_task)
from ansible_collections.crane.swarm.plugins.module_utils.swarm.membership import (
    ROOT_CA_FILE, ca_digest, describe_membership, describe_probes, join_error_hint, joined_same_swarm,
    normalise_addr, token_ca_digest, unreachable_managers_message)
from ansible_collections.crane.swarm.plugins.module_utils.swarm.membership_options import SWARM_OPTIONS, SWARM_RULES
from ansible_collections.crane.swarm.plugins.module_utils.swarm.nodes import is_manager, managers
from ansible_collections.crane.swarm.plugins.module_utils.swarm.port_probe import parse_target, probe_all
from ansible_collections.crane.swarm.plugins.module_utils.swarm.quorum import check_manager_change, managers_from_nodes
from ansible_collections.crane.swarm.plugins.module_utils.swarm.recovery import (
    majority_verdict, no_leader_verdict)
from ansible_collections.crane.swarm.plugins.module_utils.swarm.settings import (
    apply_settings, desired_settings, display_settings, fixed_setting_conflicts, init_request,
    live_settings, settings_changes)

POLL_INTERVAL = 0.5
# How long a manager that has just formed or joined a swarm may take to serve its control API
# once /info calls it a manager.
CONTROL_START_TIMEOUT = 30
# Seconds the probe of the managers' swarm port waits for answers (an address without a host
# on the local network answers `no route to host` after about 3 s of ARP).
PROBE_TIMEOUT = 5.0
# Docker answers POST /swarm/join after at most 20 s (its swarmConnectTimeout) and holds the
# attempt until then: a leave before that waits for it.
ENGINE_JOIN_HOLD = 20
# How long force_new_cluster lets reads fail for want of a leader before it calls the majority lost:
# an election in a healthy swarm takes a few seconds (election tick 10 x 1 s at most).
LEADER_WAIT = 20

ROTATIONS = (('rotate_worker_token', 'rotateWorkerToken'),
             ('rotate_manager_token', 'rotateManagerToken'),
             ('rotate_unlock_key', 'rotateManagerUnlockKey'))


class SwarmMembership(EngineTask):
    """The I/O around the pure core: read the node's state, decide, act, report."""

    def __init__(self, module, client):
        super().__init__(module, client, dict(changed=False, changes={}, node_id='', swarm_id='', is_manager=False))

    # -- reading

    def wait_for(self, predicate, timeout):
        """Poll GET /info until predicate(swarm_state) holds; return the last state."""
        deadline = time.time() + timeout
        state = self.swarm_state()
        while not predicate(state) and time.time() < deadline:
            time.sleep(POLL_INTERVAL)
            state = self.swarm_state()
        return state

    def read_swarm_once_serving(self, timeout):
        """GET /swarm, retrying a 503 for up to `timeout` seconds (0: one try).

        /info can call a manager that has just formed or joined active and in control a
        moment before its control socket answers; until then reads fail with 503 (gRPC
        Unavailable). An established manager's 503 (no leader) fails at once.
        """
        deadline = time.monotonic() + timeout
        while True:
            try:
                return self.client.get('/swarm')
            except EngineError as exc:
                if exc.status != 503 or time.monotonic() >= deadline:
                    self.fail('reading the swarm from this manager failed: %s' % exc)
            time.sleep(POLL_INTERVAL)

    def report_membership(self, state):
        """The result's membership facts, from GET /info."""
        self.result.update(node_id=state.get('NodeID') or '', is_manager=is_manager(state),
                           local_node_state=state.get('LocalNodeState'),
                           swarm_id=(state.get('Cluster') or {}).get('ID', ''))

    def report_state(self, state, control_start_timeout=0):
        """The result's membership facts; a manager's join tokens and unlock key.

        control_start_timeout: how long a manager this run has just made may take to serve /swarm.
        """
        self.report_membership(state)
        if is_manager(state):
            swarm = self.read_swarm_once_serving(control_start_timeout)
            self.result['join_tokens'] = dict(worker=swarm['JoinTokens']['Worker'],
                                              manager=swarm['JoinTokens']['Manager'])
            if (swarm.get('Spec', {}).get('EncryptionConfig') or {}).get('AutoLockManagers'):
                self.result['unlock_key'] = self.client.get('/swarm/unlockkey').get('UnlockKey')

    # -- state=present

    def present(self, state):
        node_state = state.get('LocalNodeState')
        if node_state == 'inactive':
            return self.initialise()
        # A manager restarted without a leader to reach (or restored from a backup) stays pending, in control.
        if self.params['force_new_cluster'] and state.get('ControlAvailable') and node_state in ('active', 'pending'):
            return self.force_new_cluster(state)
        if is_manager(state):
            return self.configure(state)
        if node_state == 'active':
            self.fail('state=present initialises a swarm or configures it from a manager, but this node is a '
                      'worker: %s. Run it against a manager, or use state=join for workers.'
                      % describe_membership(state))
        self.fail('this node is in swarm state %r (%s); state=present needs a node in no swarm or an active '
                  'manager' % (node_state, state.get('Error') or 'no error reported'))

    def initialise(self):
        body = init_request(self.params)
        settings = display_settings(desired_settings(self.params))
        self.result['changed'] = True
        self.result['changes'] = dict((option, (None, value)) for option, value in settings.items())
        self.result['diff'] = dict(before=dict(membership='none'), after=dict(membership='manager', **settings))
        if self.module.check_mode:
            return
        try:
            self.client.post('/swarm/init', body)
        except EngineError as exc:
            self.fail('swarm init failed: %s. Check advertise_addr/listen_addr (an address of this host) '
                      'and default_addr_pool/subnet_size.' % exc)
        self.report_state(self.wait_for(is_manager, CONTROL_START_TIMEOUT), CONTROL_START_TIMEOUT)

    def majority_verdict(self, state):
        """Ask the swarm whether its managers' majority is lost (recovery.majority_verdict), within LEADER_WAIT."""
        deadline = time.monotonic() + LEADER_WAIT
        while True:
            try:
                nodes = self.client.get('/nodes')
            except EngineError as exc:
                if not leader_missing(exc):
                    self.fail('reading the node list on this manager failed: %s' % exc)
                if time.monotonic() >= deadline:
                    return no_leader_verdict(str(exc), LEADER_WAIT)
                time.sleep(1)
                continue
            members = managers(nodes)
            peers = [member['addr'] for member in members
                     if member['id'] != state.get('NodeID') and member['reachability'] == 'reachable' and member['addr']]
            probes = self.probe_managers(peers, PROBE_TIMEOUT) if peers else []
            open_addrs = None if probes is None else set(
                addr for addr, probe in zip(peers, probes) if probe['state'] == 'open')
            return majority_verdict(members, state.get('NodeID'), open_addrs)

    def force_new_cluster(self, state):
        """A new single-manager cluster from this manager's state, only when the majority is lost."""
        verdict = self.majority_verdict(state)
        self.result['recovery'] = dict(verdict, forced=False)
        if not verdict['majority_lost']:
            return self.configure(state)
        self.result['changed'] = True
        diff = dict(before=dict(membership='manager', majority='lost', managers=verdict['managers']),
                    after=dict(membership='manager', majority='kept', managers=1))
        self.result['diff'] = diff
        if self.module.check_mode:
            self.report_membership(state)
            return
        body = dict(ListenAddr=self.params['listen_addr'],
                    AdvertiseAddr=self.params['advertise_addr'] or state.get('NodeAddr') or '', ForceNewCluster=True)
        if self.params['data_path_addr']:
            body['DataPathAddr'] = self.params['data_path_addr']
        try:
            self.client.post('/swarm/init', body)
        except EngineError as exc:
            self.fail('forcing a new cluster failed: %s (%s). Check listen_addr and advertise_addr (addresses of '
                      'this host).' % (exc, verdict['reason']))
        self.result['recovery']['forced'] = True
        forced = self.wait_for(is_manager, CONTROL_START_TIMEOUT)
        self.read_swarm_once_serving(CONTROL_START_TIMEOUT)
        self.configure(forced)
        changes = self.result.get('diff') or {}
        self.result['diff'] = dict(before=dict(changes.get('before') or {}, **diff['before']),
                                   after=dict(changes.get('after') or {}, **diff['after']))

    def configure(self, state):
        swarm = self.client.get('/swarm')
        conflicts = fixed_setting_conflicts(swarm, self.params)
        if conflicts:
            self.fail('; '.join('%s is fixed when a swarm is initialised: this swarm has %r, the task asks for %r'
                                % conflict for conflict in conflicts)
                      + '. Remove the option(s) or rebuild the swarm (state=absent on every node, then init).')
        live = live_settings(swarm)
        changes = settings_changes(live, desired_settings(self.params))
        rotations = [api_flag for option, api_flag in ROTATIONS if self.params[option]]
        self.result['changes'] = dict((option, (display_settings({option: before})[option],
                                                display_settings({option: after})[option]))
                                      for option, (before, after) in changes.items())
        for option, api_flag in ROTATIONS:
            if self.params[option]:
                self.result['changes'][option] = (None, 'rotated')
        new_values = dict((option, values[1]) for option, values in changes.items())
        before = display_settings(dict((option, live[option]) for option in changes))
        after = display_settings(new_values)
        self.result['diff'] = dict(before=dict(membership='manager', **before),
                                   after=dict(membership='manager', **after))
        if changes or rotations:
            self.result['changed'] = True
            if not self.module.check_mode:
                params = dict(version=swarm['Version']['Index'])
                for api_flag in rotations:
                    params[api_flag] = 'true'
                spec = apply_settings(swarm['Spec'], new_values, self.params)
                try:
                    self.client.post('/swarm/update', spec, params=params)
                except EngineError as exc:
                    self.fail('swarm update failed: %s' % exc)
        self.report_state(state)

    # -- state=join

    def join(self, state):
        if not self.params['remote_addrs'] or not self.params['join_token']:
            self.fail('state=join needs remote_addrs (manager addresses) and join_token')
        try:
            token_ca_digest(self.params['join_token'])
        except ValueError as exc:
            self.fail(str(exc))
        if state.get('LocalNodeState') == 'pending':
            state = self.wait_for(lambda s: s.get('LocalNodeState') != 'pending', self.params['join_timeout'])
        node_state = state.get('LocalNodeState')
        if node_state == 'active':
            return self.check_existing_membership(state)
        if node_state == 'locked':
            self.fail('this node is a locked manager of a swarm; unlock it (option unlock_key) or leave it first')
        if node_state != 'inactive':
            self.fail('this node is in swarm state %r (%s); leave the swarm (state=absent, force=true) and retry'
                      % (node_state, state.get('Error') or 'no error reported'))

        if self.params['clock_servers']:
            ok, report, message = self.measure_clock()
            self.result['clock'] = report
            if not ok:
                self.fail('refusing to join: %s' % message)

        remote_addrs = self.reachable_first(self.params['remote_addrs'])
        self.result['changed'] = True
        self.result['diff'] = dict(before=dict(membership='none'), after=dict(membership=self.params['role']))
        if self.module.check_mode:
            return
        started = time.monotonic()
        deadline = started + self.params['join_timeout']
        self.send_join(remote_addrs)
        joined = self.wait_for(lambda s: s.get('LocalNodeState') == 'active', max(0.0, deadline - time.monotonic()))
        if joined.get('LocalNodeState') != 'active':
            self.undo_join_and_fail(joined, remote_addrs, started)
        want_manager = self.params['role'] == 'manager'
        if want_manager:
            joined = self.wait_for(is_manager, 15)
        if is_manager(joined) != want_manager:
            self.undo_join_of_the_other_role(joined)
        self.report_state(joined, CONTROL_START_TIMEOUT)

    def probe_managers(self, remote_addrs, timeout):
        """Connect to each manager's swarm port from this host; None when the engine is not this host's."""
        if not self.client.docker_host.startswith('unix://'):
            return None
        try:
            targets = [parse_target(normalise_addr(addr)) for addr in remote_addrs]
        except ValueError as exc:
            self.fail('remote_addrs: %s' % exc)
        return probe_all(targets, timeout=min(timeout, PROBE_TIMEOUT))

    def reachable_first(self, remote_addrs):
        """remote_addrs with the managers that accept a connection first (the engine tries only the first).

        When none does, the join is refused before anything changes: a join to them would hang for
        the engine's 20 s and then for join_timeout.
        """
        probes = self.probe_managers(remote_addrs, self.params['join_timeout'])
        if probes is None:
            return remote_addrs
        self.result['remote_probe'] = probes
        reachable = [addr for addr, probe in zip(remote_addrs, probes) if probe['state'] == 'open']
        if not reachable:
            self.fail('refusing to join: no manager of remote_addrs accepts a connection on its swarm port; %s '
                      'Nothing was changed.' % unreachable_managers_message(probes))
        return reachable + [addr for addr in remote_addrs if addr not in reachable]

    def send_join(self, remote_addrs):
        body = dict(ListenAddr=self.params['listen_addr'], AdvertiseAddr=self.params['advertise_addr'] or '',
                    RemoteAddrs=remote_addrs, JoinToken=self.params['join_token'])
        if self.params['data_path_addr']:
            body['DataPathAddr'] = self.params['data_path_addr']
        try:
            self.client.post('/swarm/join', body)
        except EngineError as exc:
            if 'Timeout was reached' in str(exc) or (exc.status is None and 'timed out' in str(exc)):
                return  # the engine keeps trying in the background; join() waits for it
            hint = join_error_hint(str(exc))
            self.result['changed'] = False
            if hint:
                self.fail('joining %s failed: %s. Nothing was changed: %s.' % (remote_addrs[0], exc, hint))
            self.fail('joining %s failed: %s. Nothing was changed. Check remote_addrs and join_token (take it from a '
                      'manager: join_tokens of crane.swarm.swarm).' % (remote_addrs[0], exc))

    def undo_join_and_fail(self, state, remote_addrs, started):
        """A join still pending after join_timeout is undone so that nothing is left half-applied.

        The hint follows what this host sees of the managers now: a port that does not answer is
        the network's doing; a manager that accepts connections but does not complete the join
        points at clock skew (the node's certificates look expired or not yet valid).
        """
        self.leave(force=True)
        held = time.monotonic() - started
        detail = 'Joining %s did not complete within %d s (node state %r, %s); the attempt was cancelled%s. ' % (
            remote_addrs[0], self.params['join_timeout'], state.get('LocalNodeState'),
            state.get('Error') or 'no error reported',
            ' after %d s (the engine holds an attempt %d s before it can be cancelled)' % (held, ENGINE_JOIN_HOLD)
            if held > self.params['join_timeout'] + 1 else '')
        # A node ID means the managers issued the node a certificate: they list it until it is removed.
        self.result['changed'] = bool(state.get('NodeID'))
        if state.get('NodeID'):
            self.result['left_node_id'] = state['NodeID']
            detail += ('The managers keep its entry %s (down) until it is removed (crane.swarm.swarm_node, node: %s, '
                       'state: absent, on a manager). ' % (state['NodeID'], state['NodeID']))
        probes = self.probe_managers(remote_addrs[:1], PROBE_TIMEOUT)
        if probes is not None:
            self.result['remote_probe'] = probes
            if probes[0]['state'] != 'open':
                self.fail(detail + 'The manager is not reachable any more: ' + unreachable_managers_message(probes))
            detail += ('%s just now, so the network lets the join through to the manager\'s swarm port. '
                       % describe_probes(probes))
        if self.params['clock_servers']:
            ok, report, message = self.measure_clock()
            self.result['clock'] = report
            detail += 'Clock: %s' % message
        else:
            detail += ('The classic cause is clock skew between this host and the managers: set clock_servers '
                       '(NTP servers) to measure this host\'s offset before the join and to report it here, and run '
                       'a time daemon on every host.')
        self.fail(detail + ' Managers that lost their quorum cannot admit nodes either (crane.swarm.swarm_info on a '
                  'manager shows them).')

    def undo_join_of_the_other_role(self, state):
        """The token was of the other role (and the controller did not know it): leave, naming the entry left.

        A node that became a manager is demoted first, so that the raft shrinks back cleanly: a forced
        leave would leave the managers one member short of their quorum.
        """
        got = 'manager' if is_manager(state) else 'worker'
        node_id = state.get('NodeID') or ''
        if got == 'manager':
            self.prepare_manager_departure(state)
        self.leave(force=False)
        self.result.update(changed=True, left_node_id=node_id)
        self.fail('join_token is a %s token, but role=%s: the node joined the swarm as a %s and has left it again. '
                  'The managers keep its entry %s (down) in their node list until it is removed: run '
                  'crane.swarm.swarm_node with node: %s and state: absent on a manager. Pass the %s token (join_tokens.%s '
                  'of crane.swarm.swarm or crane.swarm.swarm_info on a manager); the controller then tells the '
                  'tokens apart before joining.' % (got, self.params['role'], got, node_id, node_id,
                                                    self.params['role'], self.params['role']))

    def measure_clock(self):
        try:
            return check_clock(self.params['clock_servers'], max_offset=self.params['max_clock_offset'],
                               run_command=module_run_command(self.module))
        except ValueError as exc:
            self.fail('clock_servers/max_clock_offset: %s' % exc)

    def local_ca_digest(self, state):
        """The digest of this node's swarm root CA, when it can be read."""
        if is_manager(state):
            return ca_digest(self.client.get('/swarm')['TLSInfo']['TrustRoot'])
        if not self.client.docker_host.startswith('unix://'):
            return None
        root_dir = self.client.get('/info').get('DockerRootDir') or '/var/lib/docker'
        try:
            with open(os.path.join(root_dir, ROOT_CA_FILE), 'rb') as ca_file:
                return ca_digest(ca_file.read())
        except OSError:
            return None

    def check_existing_membership(self, state):
        if not joined_same_swarm(self.params['join_token'], self.local_ca_digest(state),
                                 state.get('RemoteManagers'), self.params['remote_addrs']):
            self.fail('this node is already a member of another swarm: %s. The join_token belongs to a swarm whose '
                      'root CA digest is %s and which is reached at %s. Leave the current swarm first '
                      '(state=absent) if the node should move.'
                      % (describe_membership(state), token_ca_digest(self.params['join_token'])[:12],
                         ', '.join(self.params['remote_addrs'])))
        manager = is_manager(state)
        if manager != (self.params['role'] == 'manager'):
            self.fail('this node is already in this swarm as a %s, not a %s. Change roles from a manager with '
                      'crane.swarm.swarm_node (role: %s), which keeps quorum safe.'
                      % ('manager' if manager else 'worker', self.params['role'], self.params['role']))
        self.report_state(state)

    # -- state=absent

    def absent(self, state):
        node_state = state.get('LocalNodeState')
        if node_state == 'inactive':
            self.report_state(state)
            return
        self.result['diff'] = dict(before=dict(membership='manager' if is_manager(state) else 'worker'),
                                   after=dict(membership='none'))
        if is_manager(state) and not self.params['force']:
            self.prepare_manager_departure(state)
        self.result['changed'] = True
        if self.module.check_mode:
            return
        self.leave(force=self.params['force'] or node_state != 'active')
        self.report_state(self.swarm_state())

    def prepare_manager_departure(self, state):
        """Refuse a departure that breaks quorum; otherwise demote this node so the raft shrinks cleanly."""
        node_id = state['NodeID']
        managers = managers_from_nodes(self.nodes())
        if len(managers) <= 1:
            self.fail('this node is the last manager: leaving destroys the swarm for every node (its raft state '
                      'goes with it). Promote another node first, or pass force: true to tear the swarm down.')
        ok, message = check_manager_change(managers, 'leave', node_id)
        if not ok:
            self.fail('refusing to leave: %s. Pass force: true to leave anyway.' % message)
        if self.module.check_mode:
            return
        node = self.client.get('/nodes/%s' % node_id)
        spec = dict(node['Spec'], Role='worker')
        try:
            self.client.post('/nodes/%s/update' % node_id, spec, params=dict(version=node['Version']['Index']))
        except EngineError as exc:
            self.fail('demoting this manager before it leaves failed: %s' % exc)
        demoted = self.wait_for(lambda s: not is_manager(s), 60)
        if is_manager(demoted):
            self.fail('this manager was demoted but still acts as one after 60 s; leave again later')

    def leave(self, force):
        try:
            self.client.post('/swarm/leave', params=dict(force='true' if force else 'false'))
        except EngineError as exc:
            self.fail('leaving the swarm failed: %s' % exc)

    # -- locked managers

    def unlock(self, state):
        """A locked manager (autolock on, engine restarted) unlocked with unlock_key; None in check mode.

        Returns the node's state once it serves as a manager again (unchanged when it was not locked).
        The key never reaches a message: the engine's error does not repeat it, and the option is no_log.
        """
        if state.get('LocalNodeState') != 'locked':
            return state
        if not self.params['unlock_key']:
            self.fail('this manager is locked (autolock is on and its engine restarted): pass its unlock key in '
                      'unlock_key (the unlock_key result of crane.swarm.swarm on a manager, kept in your vault). '
                      'Nothing was changed.', local_node_state='locked', node_id=state.get('NodeID') or '')
        self.result.update(changed=True, local_node_state='locked', node_id=state.get('NodeID') or '')
        if self.module.check_mode:
            self.result['diff'] = dict(before=dict(local_node_state='locked'), after=dict(local_node_state='active'))
            return None
        try:
            self.client.post('/swarm/unlock', dict(UnlockKey=self.params['unlock_key']))
        except EngineError as exc:
            self.result['changed'] = False
            self.fail('unlocking this manager failed: %s. unlock_key is not the swarm\'s current unlock key (it '
                      'changes with each rotation; a manager that was down during one may still need the key before '
                      'it). Nothing was changed.' % exc)
        unlocked = self.wait_for(is_manager, CONTROL_START_TIMEOUT)
        if not is_manager(unlocked):
            self.fail('this manager took the unlock key but does not serve as a manager after %d s (state %r, %s)'
                      % (CONTROL_START_TIMEOUT, unlocked.get('LocalNodeState'), unlocked.get('Error') or 'no error'))
        self.read_swarm_once_serving(CONTROL_START_TIMEOUT)
        return unlocked

    def run(self):
        state = self.swarm_state()
        unlocked = self.unlock(state)
        if unlocked is None:
            return self.result  # check mode: the node stays locked, so nothing more of the swarm can be read
        getattr(self, self.params['state'])(unlocked)
        if unlocked is not state:
            diff = self.result.setdefault('diff', {})
            diff.setdefault('before', {})['local_node_state'] = 'locked'
            diff.setdefault('after', {})['local_node_state'] = unlocked.get('LocalNodeState')
        return self.result


def main():
    module = engine_module(SWARM_OPTIONS, supports_check_mode=True, **SWARM_RULES)
    try:
        desired_settings(module.params)
    except ValueError as exc:
        module.fail_json(msg=str(exc))
    run_engine_task(module, SwarmMembership)


if __name__ == '__main__':
    main()
