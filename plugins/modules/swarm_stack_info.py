#!/usr/bin/python
# -*- coding: utf-8 -*-
# Copyright: crane.swarm developers
# GNU General Public License v3.0+ (see https://www.gnu.org/licenses/gpl-3.0.txt)

from __future__ import annotations

DOCUMENTATION = r"""
module: swarm_stack_info
short_description: Services, task history per slot and logs of a Docker Swarm stack
version_added: 0.1.0
author: crane.swarm developers (@crane)
description:
  - Reads a stack (the services labelled C(com.docker.stack.namespace=<name>), whether deployed by
    M(crane.swarm.swarm_stack) or by C(docker stack deploy)) from a manager.
  - Lists each service with its mode, image, ports and desired and running replicas.
  - Groups each service's task history by slot (by node for global services), so a replica can be
    followed across its restarts and across hosts, with state, error, node, container and exit code.
  - With O(logs=true), adds each slot's logs merged across all the slot's tasks in time order.
extends_documentation_fragment:
  - crane.swarm.engine
  - crane.swarm.attributes
  - crane.swarm.attributes.actiongroup_docker
attributes:
  check_mode:
    support: full
  diff_mode:
    support: none
options:
  name:
    description: Name of the stack.
    type: str
    required: true
  logs:
    description: Add each slot's logs, merged across the slot's tasks.
    type: bool
    default: false
  log_lines:
    description: With O(logs=true), the number of most recent lines kept per slot.
    type: int
    default: 100
notes:
  - Runs against a manager; workers cannot answer for the swarm.
seealso:
  - module: crane.swarm.swarm_stack
"""

EXAMPLES = r"""
- name: Read the stack and the last log lines of every slot
  crane.swarm.swarm_stack_info:
    name: shop
    logs: true
    log_lines: 20
  register: shop

- name: Show replicas
  ansible.builtin.debug:
    msg: "{{ shop.services | map(attribute='name') | zip(shop.services | map(attribute='replicas_running')) | list }}"
"""

RETURN = r"""
exists:
  description: Whether any service of the stack exists.
  returned: always
  type: bool
services:
  description: The stack's services.
  returned: always
  type: list
  elements: dict
  contains:
    name:
      description: Full service name (C(<stack>_<service>)).
      type: str
    id:
      description: Service ID.
      type: str
    mode:
      description: V(replicated), V(global), V(replicated-job) or V(global-job).
      type: str
    image:
      description: Image of the service's tasks.
      type: str
    replicas_desired:
      description: Tasks the swarm wants running.
      type: int
    replicas_running:
      description: Tasks running now.
      type: int
    ports:
      description: Published ports (protocol, target, published, mode).
      type: list
      elements: dict
    update_state:
      description: State of the last rolling update (for example V(completed), V(rollback_completed)), if any.
      type: str
    update_message:
      description: Message of the last rolling update, if any.
      type: str
    slots:
      description:
        - Task history per slot, newest task first. Entries of global services carry C(node) instead of C(slot).
        - Each task has id, state, desired_state, message, error, node, container_id, exit_code, created,
          updated, timestamp and image.
        - With O(logs=true), each slot also has C(logs), lines prefixed with their timestamp and task ID.
      type: list
      elements: dict
"""

import json

from ansible_collections.crane.swarm.plugins.module_utils.engine.module_base import (
    EngineTask, engine_module, run_engine_task)
from ansible_collections.crane.swarm.plugins.module_utils.stacks.status import (
    STACK_NAMESPACE_LABEL, demultiplex_logs, merge_slot_logs, service_summary, slots_of_service)


def read_stack(client, name):
    """Services, their tasks and the node names: three list calls, whatever the stack's size."""
    label = '%s=%s' % (STACK_NAMESPACE_LABEL, name)
    services = client.get('/services', params=dict(filters=json.dumps({'label': [label]}), status='true'))
    if not services:
        return [], [], {}
    tasks = client.get('/tasks', params=dict(filters=json.dumps({'service': [s['ID'] for s in services]})))
    hostnames = dict((node['ID'], node['Description']['Hostname']) for node in client.get('/nodes'))
    return services, tasks, hostnames


def slot_logs(client, slot, limit):
    lines_by_task = {}
    for task in slot['tasks']:
        data = client.get_bytes('/tasks/%s/logs' % task['id'],
                                params=dict(stdout='1', stderr='1', timestamps='1', tail=str(limit)))
        lines_by_task[task['id']] = demultiplex_logs(data or b'')
    return merge_slot_logs(lines_by_task, limit)


class StackInfo(EngineTask):
    def __init__(self, module, client):
        super().__init__(module, client, {})

    def engine_failure(self, error):
        return 'reading stack %s failed: %s (run this against a manager)' % (self.params['name'], error)

    def run(self):
        services, tasks, hostnames = read_stack(self.client, self.params['name'])
        summaries = []
        for service in sorted(services, key=lambda s: s['Spec']['Name']):
            own_tasks = [task for task in tasks if task['ServiceID'] == service['ID']]
            summary = service_summary(service, own_tasks)
            summary['slots'] = slots_of_service(service, own_tasks, hostnames)
            if self.params['logs']:
                for slot in summary['slots']:
                    slot['logs'] = slot_logs(self.client, slot, self.params['log_lines'])
            summaries.append(summary)
        return dict(changed=False, exists=bool(summaries), services=summaries)


def main():
    module = engine_module(
        dict(
            name=dict(type='str', required=True),
            logs=dict(type='bool', default=False),
            log_lines=dict(type='int', default=100),
        ),
        supports_check_mode=True,
    )
    run_engine_task(module, StackInfo)


if __name__ == '__main__':
    main()
