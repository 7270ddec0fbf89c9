# -*- coding: utf-8 -*-
# Copyright: crane.swarm developers
# GNU General Public License v3.0+ (see https://www.gnu.org/licenses/gpl-3.0.txt)
"""What a stack is doing, from Engine API objects, as plain data.

A task is one attempt to run a service's slot; when its container dies the swarm
starts a new task in the same slot (or, for a global service, on the same node).
Grouping the task history by slot follows a replica across its restarts and
across hosts, which is how the seed report reads logs: per slot, not per host.
"""

from __future__ import annotations

import struct

from ansible_collections.crane.swarm.plugins.module_utils.stacks.terms import mode_kind, replicas

STACK_NAMESPACE_LABEL = 'com.docker.stack.namespace'

MODE_NAMES = {'Replicated': 'replicated', 'Global': 'global', 'ReplicatedJob': 'replicated-job',
              'GlobalJob': 'global-job'}


def mode_name(spec):
    """How swarm_stack_info names the mode of a ServiceSpec: replicated, global, replicated-job or global-job."""
    kind = mode_kind(spec.get('Mode'))
    return MODE_NAMES.get(kind, kind)


def service_summary(service, tasks):
    """Name, mode, image, ports and desired/running replicas of one service.

    Counts come from ServiceStatus (GET /services?status=true) when the engine gives it,
    else from the tasks.
    """
    spec = service['Spec']
    mode = mode_name(spec)
    status = service.get('ServiceStatus') or {}
    wanted = [task for task in tasks if task.get('DesiredState') == 'running']
    running = status.get('RunningTasks', sum(1 for task in wanted if task['Status'].get('State') == 'running'))
    if 'DesiredTasks' in status:
        desired = status['DesiredTasks']
    elif mode == 'replicated':
        desired = replicas(spec.get('Mode'))
    else:
        desired = len(wanted)
    ports = [dict(protocol=port.get('Protocol', 'tcp'), target=port.get('TargetPort'),
                  published=port.get('PublishedPort'), mode=port.get('PublishMode', 'ingress'))
             for port in (service.get('Endpoint') or {}).get('Ports') or []]
    return dict(
        name=spec['Name'], id=service['ID'], mode=mode,
        image=spec['TaskTemplate']['ContainerSpec']['Image'],
        replicas_desired=desired, replicas_running=running, ports=ports,
        update_state=(service.get('UpdateStatus') or {}).get('State'),
        update_message=(service.get('UpdateStatus') or {}).get('Message'),
    )


def task_record(task, hostnames):
    status = task.get('Status') or {}
    container = status.get('ContainerStatus') or {}
    return dict(
        id=task['ID'], state=status.get('State'), desired_state=task.get('DesiredState'),
        message=status.get('Message'), error=status.get('Err'),
        node=hostnames.get(task.get('NodeID'), task.get('NodeID')),
        container_id=container.get('ContainerID'), exit_code=container.get('ExitCode'),
        created=task.get('CreatedAt'), updated=task.get('UpdatedAt'), timestamp=status.get('Timestamp'),
        image=((task.get('Spec') or {}).get('ContainerSpec') or {}).get('Image'),
    )


def slots_of_service(service, tasks, hostnames):
    """The service's task history per slot (per node for global services), newest task first."""
    global_mode = mode_kind(service['Spec'].get('Mode')) in ('Global', 'GlobalJob')
    slots = {}
    for task in tasks:
        key = hostnames.get(task.get('NodeID'), task.get('NodeID')) if global_mode else task.get('Slot')
        slots.setdefault(key, []).append(task_record(task, hostnames))
    result = []
    for key in sorted(slots, key=lambda k: (str(type(k)), k)):
        history = sorted(slots[key], key=lambda record: record['created'] or '', reverse=True)
        entry = dict(node=key) if global_mode else dict(slot=key)
        entry.update(state=history[0]['state'], tasks=history)
        result.append(entry)
    return result


def demultiplex_logs(data):
    """Split the Engine's multiplexed log stream (8-byte frame headers) into text lines.

    Each frame is: stream type (1 stdout, 2 stderr), three zero bytes, a big-endian
    length, then that many bytes. A stream without headers (a TTY service) is plain text.
    """
    if len(data) < 8 or data[0] not in (0, 1, 2) or data[1:4] != b'\x00\x00\x00':
        return data.decode('utf-8', 'replace').splitlines()
    chunks = []
    offset = 0
    while offset + 8 <= len(data):
        length = struct.unpack('>I', data[offset + 4:offset + 8])[0]
        chunks.append(data[offset + 8:offset + 8 + length])
        offset += 8 + length
    return b''.join(chunks).decode('utf-8', 'replace').splitlines()


def merge_slot_logs(lines_by_task, limit):
    """Lines of all tasks of a slot in time order (lines start with RFC 3339 timestamps), the last `limit`."""
    merged = []
    for task_id, lines in lines_by_task.items():
        for line in lines:
            timestamp, dummy, text = line.partition(' ')
            merged.append((timestamp, task_id[:12], text))
    merged.sort()
    return ['%s %s %s' % entry for entry in merged[-limit:]] if limit else []
