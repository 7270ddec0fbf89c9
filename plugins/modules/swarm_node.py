#!/usr/bin/python
# -*- coding: utf-8 -*-
# Copyright: crane.swarm developers
# GNU General Public License v3.0+ (see https://www.gnu.org/licenses/gpl-3.0.txt)

from __future__ import annotations

DOCUMENTATION = r"""
---
module: swarm_node
short_description: Manage one node of a Docker Swarm from a manager (labels, availability, role, removal)
version_added: 0.1.0
author:
  - crane.swarm developers (@crane)
description:
  - Runs on a swarm manager and changes any node of the swarm, found by hostname or node ID.
  - Sets node labels (merged into the current ones or replacing them), the availability
    (V(active), V(pause), V(drain)) and the role (V(manager) or V(worker)).
  - Removes a node from the swarm with O(state=absent). Only a node the swarm reports as
    C(down) is removed, unless O(force=true). A manager is demoted first, and only when
    the remaining managers keep quorum. An entry whose role is manager but that is no member
    of the raft (the old managers a forced new cluster dropped, see
    O(crane.swarm.swarm#module:force_new_cluster)) is removed without a demotion, which the engine
    refuses for it.
  - Every change of the manager set (promotion, demotion, removal of a manager) is checked
    against the Raft quorum first. A change that would leave fewer reachable managers than
    a majority of the remaining managers is refused with the arithmetic, and nothing is changed.
  - Only the fields that differ are sent; when nothing differs, the Engine is not called and
    the task reports no change.
  - The node's own engine is not contacted; to make a host join or leave a swarm, use
    M(crane.swarm.swarm) on that host.
extends_documentation_fragment:
  - crane.swarm.engine
  - crane.swarm.attributes
  - crane.swarm.attributes.actiongroup_docker
attributes:
  check_mode:
    support: full
  diff_mode:
    support: full
    details:
      - The diff shows the node's labels, availability and role before and after the change.
options:
  node:
    description:
      - The node to manage, by its hostname (as the swarm reports it, C(Description.Hostname))
        or its full node ID.
      - When a hostname matches several nodes (for example an old entry left C(down) after a
        host was reinstalled, and the new one), the one that is not C(down) is chosen. If that
        still leaves several, the task fails and names their IDs; use an ID then.
    type: str
    required: true
  state:
    description:
      - V(present) keeps the node in the swarm and applies O(labels), O(availability) and O(role).
      - V(absent) removes the node from the swarm's records. The host itself is not touched;
        a host that is still up keeps its swarm state until it leaves by itself. A node that is
        not C(down) is refused unless O(force=true). A manager is demoted first when quorum allows.
      - A node that is not found counts as already absent, and nothing changes.
    type: str
    choices: [present, absent]
    default: present
  labels:
    description:
      - Node labels to set, as a mapping of label name to value.
      - Values are strings; numbers are converted. A boolean is refused (quote it, for example
        V('true')), and an empty value (V(null)) sets the label with an empty string.
      - How these combine with the node's current labels is set by O(labels_state).
    type: dict
  labels_state:
    description:
      - V(merge) adds O(labels) to the node's labels and changes the values that differ; other
        labels stay.
      - V(replace) makes O(labels) the node's only labels (V({}) removes all). Without O(labels),
        the labels are left alone.
    type: str
    choices: [merge, replace]
    default: merge
  labels_to_remove:
    description:
      - Label names to remove from the node. Names the node does not have are ignored.
      - A name may not also appear in O(labels).
    type: list
    elements: str
  availability:
    description:
      - V(active) lets the scheduler place tasks on the node.
      - V(pause) keeps the running tasks but places no new ones.
      - V(drain) places no tasks and moves the running ones to other nodes; with O(wait=true)
        the task waits until no task runs on the node any more.
      - Left as it is when not given.
    type: str
    choices: [active, pause, drain]
  role:
    description:
      - V(manager) promotes the node, V(worker) demotes it. Left as it is when not given.
      - Checked against the quorum of the managers first, and refused when the change would
        break it. A node that is C(down) is not promoted.
    type: str
    choices: [manager, worker]
  force:
    description:
      - With O(state=absent), remove a node even when it is not C(down) (its engine still
        believes it is in the swarm until it leaves by itself).
      - Never overrides the quorum check.
    type: bool
    default: false
  wait:
    description:
      - After a role change, wait until the node has joined (or left) the managers' Raft
        cluster, so that a following task sees the new manager set.
      - With O(availability=drain), wait until no task of the node is running any more.
    type: bool
    default: true
  wait_timeout:
    description:
      - Seconds to wait for O(wait). The task fails when the time runs out (the change itself
        stays made).
      - Also bounds the wait for the demotion that precedes the removal of a manager with
        O(state=absent); that wait happens whatever O(wait) says, as a manager cannot be removed.
    type: int
    default: 120
notes:
  - Run it on a manager (for example with C(delegate_to) or a group of managers); a worker cannot
    change the swarm. The target node may be any node, including the manager the task runs on.
  - Demoting the node the task runs on makes that engine a worker; later tasks that need a manager
    must run elsewhere.
seealso:
  - module: crane.swarm.swarm_info
  - module: crane.swarm.swarm
"""

EXAMPLES = r"""
- name: Label node2 for the database placement constraint
  crane.swarm.swarm_node:
    node: node2
    labels:
      tier: db
      disk: ssd
  delegate_to: "{{ groups['managers'][0] }}"

- name: Keep exactly these labels on node3
  crane.swarm.swarm_node:
    node: node3
    labels:
      tier: web
    labels_state: replace

- name: Remove one label
  crane.swarm.swarm_node:
    node: node3
    labels_to_remove:
      - disk

- name: Drain node2 before maintenance and wait until its tasks moved away
  crane.swarm.swarm_node:
    node: node2
    availability: drain
    wait_timeout: 300

- name: Bring node2 back into scheduling
  crane.swarm.swarm_node:
    node: node2
    availability: active

- name: Promote two workers to get three managers
  crane.swarm.swarm_node:
    node: "{{ item }}"
    role: manager
  loop: [node2, node3]

- name: Remove a host that died for good (demoted first when it was a manager)
  crane.swarm.swarm_node:
    node: node3
    state: absent
"""

RETURN = r"""
node:
  description:
    - The node after the task; in check mode, the node as it would be.
    - With O(state=absent), the node as it was before its removal, or empty when it was not found.
  returned: always
  type: dict
  contains:
    id:
      description: Node ID.
      type: str
      sample: 4qm8yd4xj0ncbqnf1ju5ugbyi
    hostname:
      description: Hostname the node reported to the swarm.
      type: str
      sample: node2
    role:
      description: V(manager) or V(worker).
      type: str
      sample: worker
    availability:
      description: V(active), V(pause) or V(drain).
      type: str
      sample: active
    labels:
      description: Node labels.
      type: dict
      sample: {tier: db}
    state:
      description: Node status as the managers see it (C(ready), C(down), C(unknown), C(disconnected)).
      type: str
      sample: ready
    addr:
      description: Address the node connects from.
      type: str
      sample: 172.30.0.12
    engine_version:
      description: Version of the node's engine.
      type: str
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
changes:
  description: What was (or in check mode would be) changed, one line per change.
  returned: always
  type: list
  elements: str
  sample:
    - "labels.tier added: db"
    - "availability: active -> drain"
quorum:
  description: The quorum arithmetic of a role change or a manager removal.
  returned: when the task promotes, demotes or removes a manager
  type: str
  sample: "promoting node2: 1 -> 2 managers, 2 reachable, majority 2: quorum kept, fault tolerance stays 0"
diff:
  description: Labels, availability and role before and after (with O(state=absent), after is empty).
  returned: in diff mode
  type: dict
  sample: {before: {labels: {}, availability: active, role: worker}, after: {labels: {tier: db}, availability: active, role: worker}}
"""

import copy
import json
import time

from ansible_collections.crane.swarm.plugins.module_utils.engine.client import EngineError
from ansible_collections.crane.swarm.plugins.module_utils.engine.module_base import (
    EngineTask, engine_module, leader_missing, run_engine_task)
from ansible_collections.crane.swarm.plugins.module_utils.swarm.nodes import (
    hostname, is_manager, node_state, node_summary, string_values)
from ansible_collections.crane.swarm.plugins.module_utils.swarm.quorum import (
    managers_from_nodes,
    plan_manager_change,
)

POLL_SECONDS = 1.0


class SpecError(ValueError):
    """A requested change cannot be expressed; the message names the option and the fix."""


def spec_view(spec):
    """The user-facing part of a NodeSpec: labels, availability, role."""
    spec = spec or {}
    return {
        'labels': dict(spec.get('Labels') or {}),
        'availability': spec.get('Availability'),
        'role': spec.get('Role'),
    }


def plan_node_spec(current_spec, labels=None, labels_state='merge', labels_to_remove=None,
                   availability=None, role=None):
    """Apply the requested changes to a NodeSpec without touching anything.

    current_spec: the node's Spec as the Engine returns it (Name, Labels, Role, Availability).
    Returns a dict: spec (the complete new NodeSpec to send), changes (list of str),
    before and after (spec_view() of the current and the new spec), changed (bool).
    Raises SpecError when the request contradicts itself.
    """
    if labels_state not in ('merge', 'replace'):
        raise SpecError('labels_state must be merge or replace, not %r' % (labels_state,))
    labels_to_remove = list(labels_to_remove or [])
    wanted = None
    if labels is not None:
        wanted = string_values('labels', labels, SpecError)
        both = sorted(set(wanted) & set(labels_to_remove))
        if both:
            raise SpecError('labels_to_remove: %s also set in labels; keep each label name in only one of '
                            'labels and labels_to_remove' % ', '.join(both))

    new_spec = copy.deepcopy(current_spec or {})
    current_labels = dict(new_spec.get('Labels') or {})
    new_labels = dict(current_labels)
    if wanted is not None:
        if labels_state == 'replace':
            new_labels = dict(wanted)
        else:
            new_labels.update(wanted)
    for name in labels_to_remove:
        new_labels.pop(name, None)

    changes = []
    for name in sorted(set(current_labels) | set(new_labels)):
        if name not in new_labels:
            changes.append('labels.%s removed (was: %s)' % (name, current_labels[name]))
        elif name not in current_labels:
            changes.append('labels.%s added: %s' % (name, new_labels[name]))
        elif current_labels[name] != new_labels[name]:
            changes.append('labels.%s: %s -> %s' % (name, current_labels[name], new_labels[name]))
    new_spec['Labels'] = new_labels

    if availability is not None and new_spec.get('Availability') != availability:
        changes.append('availability: %s -> %s' % (new_spec.get('Availability'), availability))
        new_spec['Availability'] = availability
    if role is not None and new_spec.get('Role') != role:
        changes.append('role: %s -> %s' % (new_spec.get('Role'), role))
        new_spec['Role'] = role

    return {
        'spec': new_spec,
        'changes': changes,
        'changed': bool(changes),
        'before': spec_view(current_spec),
        'after': spec_view(new_spec),
    }


class SwarmNode(EngineTask):
    def __init__(self, module, client):
        super().__init__(module, client, {'changed': False, 'changes': [], 'node': {}})

    # ------------------------------------------------------------------ engine access

    def node(self, node_id):
        return self.call('get', '/nodes/%s' % node_id, 'reading node %s (GET /nodes/%s)' % (node_id, node_id))

    def update(self, node, spec):
        node_id = node['ID']
        version = (node.get('Version') or {}).get('Index')
        self.call('post', '/nodes/%s/update' % node_id,
                  'updating node %s (POST /nodes/%s/update)' % (node_id, node_id),
                  body=spec, params={'version': version})

    # ------------------------------------------------------------------ waiting

    def deadline(self):
        return time.monotonic() + max(self.params['wait_timeout'], 0)

    def wait_role(self, node_id, role, local_node_id):
        """Wait until the node is (manager) or is no longer (worker) in the Raft cluster."""
        deadline = self.deadline()
        while True:
            if role == 'worker' and node_id == local_node_id:
                # This engine demoted itself: it can no longer list nodes, its /info tells.
                done = not is_manager(self.swarm_state())
            else:
                try:
                    node = self.client.get('/nodes/%s' % node_id)
                except EngineError as exc:
                    if leader_missing(exc):  # leadership is moving; ask again
                        node = None
                    else:
                        self.fail('reading node %s while waiting for its role failed: %s' % (node_id, exc))
                if node is None:
                    done = False
                elif role == 'manager':
                    done = (node.get('ManagerStatus') or {}).get('Reachability') == 'reachable'
                else:
                    done = not node.get('ManagerStatus')
            if done:
                return
            if time.monotonic() >= deadline:
                self.fail('node %s did not %s the managers within %d seconds (option wait_timeout); the role change '
                          'was made; check the node with "docker node ls" and its engine log'
                          % (node_id, 'join' if role == 'manager' else 'leave', self.params['wait_timeout']))
            time.sleep(POLL_SECONDS)

    def running_tasks(self, node_id):
        tasks = self.call('get', '/tasks', 'listing the tasks of node %s (GET /tasks)' % node_id,
                          params={'filters': json.dumps({'node': [node_id], 'desired-state': ['running']})}) or []
        more = self.call('get', '/tasks', 'listing the tasks of node %s (GET /tasks)' % node_id,
                         params={'filters': json.dumps({'node': [node_id]})}) or []
        seen = set(task.get('ID') for task in tasks)
        tasks.extend(task for task in more
                     if task.get('ID') not in seen and (task.get('Status') or {}).get('State') == 'running')
        return tasks

    def wait_drained(self, node_id):
        deadline = self.deadline()
        while True:
            tasks = self.running_tasks(node_id)
            if not tasks:
                return
            if time.monotonic() >= deadline:
                names = ', '.join(sorted('%s (service %s, %s)' % (task.get('ID'), task.get('ServiceID'),
                                                                  (task.get('Status') or {}).get('State'))
                                         for task in tasks))
                self.fail('node %s is drained but %d task%s still run%s on it after %d seconds (option '
                          'wait_timeout): %s; raise wait_timeout (tasks stop after their stop grace period) '
                          'or look at the tasks with "docker node ps"'
                          % (node_id, len(tasks), '' if len(tasks) == 1 else 's', 's' if len(tasks) == 1 else '',
                             self.params['wait_timeout'], names))
            time.sleep(POLL_SECONDS)

    # ------------------------------------------------------------------ quorum

    def check_quorum(self, nodes, change, node):
        plan = plan_manager_change(managers_from_nodes(nodes), change, node['ID'], node_name=hostname(node))
        if plan['affects_managers']:
            self.result['quorum'] = plan['message']
        if not plan['ok']:
            self.fail(plan['message'])
        if plan['warning']:
            self.module.warn(plan['warning'])
        return plan

    # ------------------------------------------------------------------ states

    def present(self):
        params = self.params
        local = self.require_manager('crane.swarm.swarm_node')
        nodes = self.nodes()
        node = self.find_node(nodes, params['node'])
        if node is None:
            known = ', '.join(sorted('%s (%s)' % (hostname(n), n.get('ID')) for n in nodes))
            self.fail('node: no node %s in this swarm; known nodes: %s; a host joins with crane.swarm.swarm'
                      % (params['node'], known))
        self.result['node'] = node_summary(node)
        try:
            plan = plan_node_spec(node.get('Spec'), labels=params['labels'], labels_state=params['labels_state'],
                                  labels_to_remove=params['labels_to_remove'],
                                  availability=params['availability'], role=params['role'])
        except SpecError as exc:
            self.fail(str(exc))

        role_change = plan['before']['role'] != plan['after']['role']
        if role_change:
            promote = plan['after']['role'] == 'manager'
            if promote and node_state(node) == 'down':
                self.fail('role: node %s (%s) is down; a down node cannot take a seat among the managers and '
                          'would count against the quorum once it is back; start its engine first'
                          % (hostname(node), node['ID']))
            self.check_quorum(nodes, 'promote' if promote else 'demote', node)

        self.result.update(changed=plan['changed'], changes=plan['changes'])
        if self.module._diff:
            self.result['diff'] = {'before': plan['before'], 'after': plan['after']}

        summary = node_summary(node)
        if self.module.check_mode:
            summary.update(plan['after'])
            self.result['node'] = summary
            return

        if plan['changed']:
            self.update(node, plan['spec'])
        if params['wait'] and role_change:
            self.wait_role(node['ID'], plan['after']['role'], local.get('NodeID'))
        if params['wait'] and params['availability'] == 'drain':
            self.wait_drained(node['ID'])

        if role_change and plan['after']['role'] == 'worker' and node['ID'] == local.get('NodeID'):
            summary.update(plan['after'])  # this engine is no manager any more: it cannot read the node back
        else:
            summary = node_summary(self.node(node['ID']) or node)
        self.result['node'] = summary

    def absent(self):
        params = self.params
        local = self.require_manager('crane.swarm.swarm_node')
        nodes = self.nodes()
        node = self.find_node(nodes, params['node'])
        if node is None:
            return
        name = hostname(node) or node['ID']
        state = node_state(node)
        self.result['node'] = node_summary(node)
        if node['ID'] == local.get('NodeID'):
            self.fail('node: %s is the node this task runs on; a manager cannot remove itself; make it leave with '
                      'crane.swarm.swarm (state=absent) on that host, or run this task on another manager' % name)
        if state != 'down' and not params['force']:
            stale = sorted(other['ID'] for other in nodes
                           if other['ID'] != node['ID'] and node_state(other) == 'down'
                           and hostname(other) == params['node'])
            hint = ('; to remove an old down entry of the same hostname, set node to its ID (%s)' % ', '.join(stale)
                    if stale else '')
            self.fail('node %s (%s) is %s, not down: removing a live node leaves its engine believing it is in the '
                      'swarm; make the host leave with crane.swarm.swarm (state=absent) first, wait until it shows '
                      'as down, or set force: true%s' % (name, node['ID'], state, hint))

        # A manager entry that is no raft member (the old managers a forced new cluster dropped) cannot be
        # demoted (the engine finds no raft member to demote); the engine removes it as it is.
        is_manager = bool(node.get('ManagerStatus'))
        changes = []
        if is_manager:
            self.check_quorum(nodes, 'remove', node)
            changes.append('role: manager -> worker')
        changes.append('removed from the swarm')
        self.result.update(changed=True, changes=changes)
        if self.module._diff:
            self.result['diff'] = {'before': spec_view(node.get('Spec')), 'after': {}}
        if self.module.check_mode:
            return

        if is_manager:
            spec = copy.deepcopy(node.get('Spec') or {})
            spec['Role'] = 'worker'
            if (node.get('Spec') or {}).get('Role') != 'worker':
                self.update(node, spec)
            self.wait_role(node['ID'], 'worker', local.get('NodeID'))
        self.call('delete', '/nodes/%s' % node['ID'], 'removing node %s (DELETE /nodes/%s)' % (name, node['ID']),
                  params={'force': 'true' if params['force'] else 'false'})


def main():
    argument_spec = dict(
        node=dict(type='str', required=True),
        state=dict(type='str', choices=['present', 'absent'], default='present'),
        labels=dict(type='dict'),
        labels_state=dict(type='str', choices=['merge', 'replace'], default='merge'),
        labels_to_remove=dict(type='list', elements='str'),
        availability=dict(type='str', choices=['active', 'pause', 'drain']),
        role=dict(type='str', choices=['manager', 'worker']),
        force=dict(type='bool', default=False),
        wait=dict(type='bool', default=True),
        wait_timeout=dict(type='int', default=120),
    )
    module = engine_module(argument_spec, supports_check_mode=True)
    if module.params['state'] == 'absent':
        extra = [name for name in ('labels', 'labels_to_remove', 'availability', 'role')
                 if module.params[name] is not None]
        if extra:
            module.fail_json(msg='state=absent removes the node; %s cannot be set with it: drop %s or use '
                                 'state=present' % (', '.join(extra), 'it' if len(extra) == 1 else 'them'))
    if module.params['wait_timeout'] < 0:
        module.fail_json(msg='wait_timeout must be 0 or more seconds, not %d' % module.params['wait_timeout'])

    run_engine_task(module, SwarmNode)


if __name__ == '__main__':
    main()
