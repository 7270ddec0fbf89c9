# Copyright: crane.swarm developers
# GNU General Public License v3.0+ (see https://www.gnu.org/licenses/gpl-3.0.txt)
"""crane.swarm.swarm on real engines: init, join, leave, settings, the clock precheck."""

from __future__ import annotations

import os
import sys

import pytest

import harness
from harness import FORM_SWARM3

REPO = os.path.dirname(os.path.dirname(os.path.dirname(os.path.abspath(__file__))))


def swarm_task(name='swarm', **options):
    return {'name': name, 'crane.swarm.swarm': options}


def play(hosts, *tasks):
    return {'hosts': hosts, 'gather_facts': False, 'tasks': list(tasks)}


def join_play(hosts, role='worker', token_var=None, **extra):
    token_var = token_var or 'hostvars.node1.init.join_tokens.%s' % role
    return play(hosts, swarm_task(
        'join', state='join', role=role, advertise_addr='{{ crane_sandbox_address }}',
        remote_addrs=['{{ hostvars.node1.crane_sandbox_address }}'],
        join_token='{{ %s }}' % token_var, **extra))


def init_play():
    return play('node1', dict(swarm_task('init', state='present', advertise_addr='{{ crane_sandbox_address }}'),
                              register='init'))


def managers(sandbox):
    lines = sandbox.docker('node1', 'node', 'ls', '--format', '{{.Hostname}} {{.ManagerStatus}}').stdout.splitlines()
    return sorted(line.split()[0] for line in lines if len(line.split()) > 1)


def test_form_swarm_then_rerun_changes_nothing(sandbox, swarm3, run_playbook):
    assert sandbox.swarm_state('node1')['ControlAvailable'] is True
    for host in ('node2', 'node3'):
        state = sandbox.swarm_state(host)
        assert state['LocalNodeState'] == 'active' and state['ControlAvailable'] is False
    rerun = run_playbook(FORM_SWARM3)
    assert rerun.changed == 0, rerun.output


def test_init_result_reports_membership_and_hides_tokens(sandbox, run_playbook):
    sandbox.reset_swarm()
    run = run_playbook([init_play(), play('node1', {'name': 'show', 'debug': {
        'msg': '{{ init.node_id }} {{ init.swarm_id }} {{ init.is_manager }} {{ init.join_tokens.worker | length }}'}})])
    live = sandbox.swarm_state('node1')
    shown = run.result('show', 'node1')['msg'].split()
    assert shown[0] == live['NodeID'] and shown[1] == live['Cluster']['ID'] and shown[2] == 'True'
    assert int(shown[3]) > 50
    assert 'censored' in run.result('init', 'node1')


def test_check_mode_on_fresh_node_changes_nothing(sandbox, run_playbook):
    sandbox.reset_swarm()
    run = run_playbook([init_play()], check=True, diff=True)
    assert run.result('init', 'node1')['changed'] is True
    assert sandbox.swarm_state('node1')['LocalNodeState'] == 'inactive'


def test_check_mode_join_changes_nothing(sandbox, swarm3, run_playbook):
    sandbox.docker('node3', 'swarm', 'leave')
    run = run_playbook([init_play(), join_play('node3')], check=True)
    assert run.result('join', 'node3')['changed'] is True
    assert run.result('init', 'node1')['changed'] is False
    assert sandbox.swarm_state('node3')['LocalNodeState'] == 'inactive'


def test_three_managers_and_manager_leave_keeps_quorum(sandbox, run_playbook):
    sandbox.reset_swarm()
    run_playbook([init_play(), join_play('node2:node3', role='manager')])
    assert managers(sandbox) == ['node1', 'node2', 'node3']
    rerun = run_playbook([init_play(), join_play('node2:node3', role='manager')])
    assert rerun.changed == 0

    left = run_playbook([play('node3', swarm_task('leave', state='absent'))])
    assert left.result('leave', 'node3')['changed'] is True
    assert sandbox.swarm_state('node3')['LocalNodeState'] == 'inactive'
    # node3 was demoted before it left: two managers remain, both reachable.
    assert managers(sandbox) == ['node1', 'node2']
    again = run_playbook([play('node3', swarm_task('leave', state='absent'))])
    assert again.changed == 0


def test_manager_leave_that_breaks_quorum_is_refused(sandbox, run_playbook):
    sandbox.reset_swarm()
    run_playbook([init_play(), join_play('node2:node3', role='manager')])
    sandbox.stop_engine('node3')
    try:
        refused = run_playbook([play('node2', swarm_task('leave', state='absent'))], expect_failure=True)
        message = refused.result('leave', 'node2')['msg']
        assert 'quorum' in message and '2 managers' in message, message
        assert sandbox.swarm_state('node2')['ControlAvailable'] is True
    finally:
        sandbox.start_engine('node3')


def test_last_manager_leave_needs_force(sandbox, swarm3, run_playbook):
    refused = run_playbook([play('node1', swarm_task('leave', state='absent'))], expect_failure=True)
    assert 'last manager' in refused.result('leave', 'node1')['msg']
    assert sandbox.swarm_state('node1')['LocalNodeState'] == 'active'
    forced = run_playbook([play('node1', swarm_task('leave', state='absent', force=True))])
    assert forced.result('leave', 'node1')['changed'] is True
    assert sandbox.swarm_state('node1')['LocalNodeState'] == 'inactive'


def test_worker_leave_and_rejoin(sandbox, swarm3, run_playbook):
    run = run_playbook([play('node3', swarm_task('leave', state='absent'))])
    assert run.result('leave', 'node3')['changed'] is True
    assert sandbox.swarm_state('node3')['LocalNodeState'] == 'inactive'
    rejoin = run_playbook([init_play(), join_play('node3')])
    assert rejoin.result('join', 'node3')['changed'] is True
    assert sandbox.swarm_state('node3')['LocalNodeState'] == 'active'


def test_join_to_a_different_swarm_is_refused(sandbox, swarm3, run_playbook):
    # node2 leaves and founds swarm B; node3 stays a worker of swarm A (node1's).
    sandbox.docker('node2', 'swarm', 'leave')
    sandbox.docker('node2', 'swarm', 'init', '--advertise-addr', sandbox.address('node2'))
    swarm_b = sandbox.swarm_state('node2')['Cluster']['ID']
    plays = [
        play('node2', dict(swarm_task('tokens B', state='present'), register='swarm_b')),
        init_play(),
        # A worker of swarm A is asked to join swarm B: refused, checked through its CA file.
        play('node3', dict(swarm_task(
            'join B', state='join', remote_addrs=['{{ hostvars.node2.crane_sandbox_address }}'],
            join_token='{{ hostvars.node2.swarm_b.join_tokens.worker }}'), ignore_errors=True)),
        # The manager of swarm B is asked to join swarm A: refused, checked through its TrustRoot.
        play('node2', dict(swarm_task(
            'join A', state='join', role='manager', remote_addrs=['{{ hostvars.node1.crane_sandbox_address }}'],
            join_token='{{ hostvars.node1.init.join_tokens.manager }}'), ignore_errors=True)),
    ]
    run = run_playbook(plays)
    worker_msg = run.result('join B', 'node3')['msg']
    manager_msg = run.result('join A', 'node2')['msg']
    assert 'another swarm' in worker_msg, worker_msg
    assert 'another swarm' in manager_msg and swarm_b in manager_msg, manager_msg
    assert sandbox.swarm_state('node3')['RemoteManagers'][0]['Addr'].startswith(sandbox.address('node1'))
    assert sandbox.swarm_state('node2')['Cluster']['ID'] == swarm_b
    assert run.changed == 0


def test_settings_update_with_check_and_diff(sandbox, swarm3, run_playbook):
    settings = dict(state='present', task_history_retention_limit=3, dispatcher_heartbeat_period='7s',
                    snapshot_interval=5000, labels={'env': 'test'})
    checked = run_playbook([play('node1', swarm_task('configure', **settings))], check=True, diff=True)
    changes = checked.result('configure', 'node1')
    assert checked.changed == 1
    assert '"task_history_retention_limit": 3' in checked.output  # the diff is shown although tokens are hidden
    live = sandbox.api('node1', '/swarm')['Spec']
    assert live['Orchestration']['TaskHistoryRetentionLimit'] == 5
    assert 'censored' in changes

    run_playbook([play('node1', swarm_task('configure', **settings))])
    live = sandbox.api('node1', '/swarm')['Spec']
    assert live['Orchestration']['TaskHistoryRetentionLimit'] == 3
    assert live['Dispatcher']['HeartbeatPeriod'] == 7 * 10 ** 9
    assert live['Raft']['SnapshotInterval'] == 5000
    assert live['Labels'] == {'env': 'test'}
    assert run_playbook([play('node1', swarm_task('configure', **settings))]).changed == 0


def test_init_only_setting_conflict_is_an_error(sandbox, swarm3, run_playbook):
    run = run_playbook([play('node1', swarm_task('configure', state='present', default_addr_pool=['10.99.0.0/16']))],
                       expect_failure=True)
    message = run.result('configure', 'node1')['msg']
    assert 'default_addr_pool' in message and 'fixed' in message


def test_bad_duration_names_the_field(sandbox, swarm3, run_playbook):
    run = run_playbook([play('node1', swarm_task('configure', state='present', node_cert_expiry='90 days'))],
                       expect_failure=True)
    message = run.result('configure', 'node1')['msg']
    assert 'node_cert_expiry' in message and '2160h' in message


def test_join_tokens_never_appear_in_vvv_output(sandbox, run_playbook):
    sandbox.reset_swarm()
    run = run_playbook(FORM_SWARM3, verbosity=3)
    worker_token = sandbox.docker('node1', 'swarm', 'join-token', '-q', 'worker').stdout.strip()
    manager_token = sandbox.docker('node1', 'swarm', 'join-token', '-q', 'manager').stdout.strip()
    assert worker_token.startswith('SWMTKN-1-')
    assert sandbox.swarm_state('node3')['LocalNodeState'] == 'active'
    for secret in (worker_token, manager_token, worker_token.split('-')[-1], manager_token.split('-')[-1]):
        assert secret not in run.output


# ----------------------------------------------------------------------------- clock precheck


def test_join_refused_when_clock_is_off_by_5s(sandbox, swarm3, run_playbook, tmp_path):
    sandbox.docker('node3', 'swarm', 'leave')
    responder = harness.NtpResponder(sandbox.gateway, tmp_path, offset=5.0)
    try:
        run = run_playbook([init_play(), join_play('node3', clock_servers=[responder.server], max_clock_offset=1.0)],
                           expect_failure=True)
    finally:
        responder.stop()
    result = run.result('join', 'node3')
    assert 'refusing to join' in result['msg'] and 'max_offset 1.0' in result['msg'], result['msg']
    assert 4.5 < -result['clock']['offset'] < 5.5 or 4.5 < result['clock']['offset'] < 5.5
    assert sandbox.swarm_state('node3')['LocalNodeState'] == 'inactive'
    assert result['changed'] is False


@pytest.mark.skipif(not harness.chronyd_path(), reason='chronyd is not installed on this machine')
def test_join_passes_against_a_healthy_chrony_server(sandbox, swarm3, run_playbook, tmp_path):
    sandbox.docker('node3', 'swarm', 'leave')
    with harness.chrony_server(sandbox.gateway, tmp_path) as port:
        server = '%s:%d' % (sandbox.gateway, port)
        run = run_playbook([init_play(), join_play('node3', clock_servers=[server], max_clock_offset=0.5)])
    result = run.result('join', 'node3')
    assert result['changed'] is True
    assert abs(result['clock']['offset']) < 0.5
    assert sandbox.swarm_state('node3')['LocalNodeState'] == 'active'


def test_join_timeout_is_undone_and_reports_the_clock(sandbox, swarm3, run_playbook, tmp_path):
    """A join the manager accepts but that never completes ends in an error with the measured offset."""
    sandbox.docker('node3', 'swarm', 'leave')
    block = harness.ACCEPT_THEN_SILENCE
    sandbox.exec('node3', 'iptables', '-I', *block)
    responder = harness.NtpResponder(sandbox.gateway, tmp_path, offset=0.0)
    try:
        run = run_playbook([init_play(), join_play('node3', clock_servers=[responder.server], join_timeout=5)],
                           expect_failure=True)
    finally:
        responder.stop()
        sandbox.exec('node3', 'iptables', '-D', *block)
    message = run.result('join', 'node3')['msg']
    assert 'did not complete within 5 s' in message and 'cancelled' in message, message
    assert 'Clock offset' in message and 'within max_offset' in message, message
    assert sandbox.swarm_state('node3')['LocalNodeState'] == 'inactive'


def test_controller_side_sdk_7_talks_to_an_engine(sandbox, run_playbook):
    """The same client works with the controller venv's docker SDK 7.x (the hosts run Debian's 5.0.3)."""
    controller = {'ansible_connection': 'local', 'ansible_python_interpreter': sys.executable}
    run = run_playbook([{'hosts': 'localhost', 'gather_facts': False, 'vars': controller, 'tasks': [
        {'name': 'info', 'crane.swarm.swarm_info': {'docker_host': 'unix:///var/run/docker.sock'}},
        {'name': 'sdk', 'ansible.builtin.command': {'argv': [sys.executable, '-c', 'import docker; print(docker.__version__)']},
         'changed_when': False},
    ]}])
    assert run.result('sdk', 'localhost')['stdout'].startswith('7.')
    assert run.result('info', 'localhost')['local_node_state'] == 'inactive'
