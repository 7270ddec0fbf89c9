# Copyright: crane.swarm developers
# GNU General Public License v3.0+ (see https://www.gnu.org/licenses/gpl-3.0.txt)
"""Stack status from Engine API objects: summaries, slots, log streams."""

from __future__ import annotations

import struct

from ansible_collections.crane.swarm.plugins.module_utils.stacks import status as stack_status

HOSTS = {'n1': 'node1', 'n2': 'node2'}


def service(mode, status=None):
    spec = {'Name': 'shop_web', 'Mode': mode,
            'TaskTemplate': {'ContainerSpec': {'Image': 'busybox:latest'}}}
    data = {'ID': 's1', 'Spec': spec,
            'Endpoint': {'Ports': [{'Protocol': 'tcp', 'TargetPort': 80, 'PublishedPort': 30000,
                                    'PublishMode': 'ingress'}]}}
    if status:
        data['ServiceStatus'] = status
    return data


def task(task_id, slot, node, state, created, desired='running', exit_code=0, err=None):
    container = {'ContainerID': 'c' + task_id, 'ExitCode': exit_code}
    return {'ID': task_id, 'Slot': slot, 'NodeID': node, 'DesiredState': desired, 'CreatedAt': created,
            'Status': {'State': state, 'Err': err, 'ContainerStatus': container},
            'Spec': {'ContainerSpec': {'Image': 'busybox:latest'}}}


TASKS = [
    task('t1', 1, 'n1', 'failed', '2026-01-01T00:00:01Z', desired='shutdown', exit_code=1, err='non-zero exit (1)'),
    task('t2', 1, 'n2', 'running', '2026-01-01T00:00:05Z'),
    task('t3', 2, 'n1', 'running', '2026-01-01T00:00:02Z'),
]


def test_summary_counts_from_tasks_without_service_status():
    summary = stack_status.service_summary(service({'Replicated': {'Replicas': 3}}), TASKS)
    assert (summary['mode'], summary['replicas_desired'], summary['replicas_running']) == ('replicated', 3, 2)
    assert summary['ports'] == [{'protocol': 'tcp', 'target': 80, 'published': 30000, 'mode': 'ingress'}]


def test_summary_prefers_service_status():
    summary = stack_status.service_summary(service({'Global': {}}, {'RunningTasks': 1, 'DesiredTasks': 2}), TASKS)
    assert (summary['mode'], summary['replicas_desired'], summary['replicas_running']) == ('global', 2, 1)


def test_slots_follow_a_replica_across_restarts_and_hosts():
    slots = stack_status.slots_of_service(service({'Replicated': {'Replicas': 2}}), TASKS, HOSTS)
    assert [slot['slot'] for slot in slots] == [1, 2]
    first = slots[0]
    assert first['state'] == 'running'
    assert [t['id'] for t in first['tasks']] == ['t2', 't1']  # newest first
    assert [t['node'] for t in first['tasks']] == ['node2', 'node1']
    assert first['tasks'][1]['exit_code'] == 1 and first['tasks'][1]['error'] == 'non-zero exit (1)'


def test_global_services_group_by_node():
    tasks = [dict(t, Slot=0) for t in TASKS]
    slots = stack_status.slots_of_service(service({'Global': {}}), tasks, HOSTS)
    assert [slot['node'] for slot in slots] == ['node1', 'node2']
    assert [t['id'] for t in slots[0]['tasks']] == ['t3', 't1']


def frame(stream, text):
    payload = text.encode()
    return bytes([stream, 0, 0, 0]) + struct.pack('>I', len(payload)) + payload


def test_demultiplex_joins_frames_and_splits_lines():
    data = frame(1, '2026-01-01T00:00:01Z hello\n2026-01-01T00:00:02Z wo') + frame(2, 'rld\n')
    assert stack_status.demultiplex_logs(data) == ['2026-01-01T00:00:01Z hello', '2026-01-01T00:00:02Z world']


def test_tty_logs_are_plain_text():
    assert stack_status.demultiplex_logs(b'2026-01-01T00:00:01Z plain\n') == ['2026-01-01T00:00:01Z plain']


def test_slot_logs_merge_in_time_order_and_keep_the_last_lines():
    merged = stack_status.merge_slot_logs({
        'taskaaaaaaaaaaaa1': ['2026-01-01T00:00:01Z first', '2026-01-01T00:00:03Z third'],
        'taskbbbbbbbbbbbb2': ['2026-01-01T00:00:02Z second'],
    }, limit=2)
    assert merged == ['2026-01-01T00:00:02Z taskbbbbbbbb second', '2026-01-01T00:00:03Z taskaaaaaaaa third']
