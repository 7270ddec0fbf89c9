# Copyright: crane.swarm developers
# GNU General Public License v3.0+ (see https://www.gnu.org/licenses/gpl-3.0.txt)
"""crane.swarm.swarm_info on real engines: managers, workers, non-members, hidden join tokens."""

from __future__ import annotations

import hashlib
import time


def info_task(name='info', register=None, **options):
    task = {'name': name, 'crane.swarm.swarm_info': options}
    if register:
        task['register'] = register
    return task


def play(hosts, *tasks):
    return {'hosts': hosts, 'gather_facts': False, 'tasks': list(tasks)}


def test_manager_and_workers_report_the_swarm(sandbox, swarm3, run_playbook):
    sandbox.docker('node1', 'node', 'update', '--label-add', 'tier=db', 'node2')
    sandbox.docker('node1', 'service', 'create', '--detach', '--name', 'info-probe', '--replicas', '0',
                   'busybox:latest', 'sleep', '3600')
    try:
        run = run_playbook([play('all', info_task())])
        check = run_playbook([play('all', info_task())], check=True)
    finally:
        sandbox.docker('node1', 'service', 'rm', 'info-probe', check=False)
    assert run.changed == 0 and check.changed == 0

    live = sandbox.swarm_state('node1')
    manager = run.result('info', 'node1')
    assert manager['is_manager'] is True and manager['is_member'] is True
    assert manager['local_node_state'] == 'active'
    assert manager['node_id'] == swarm3['node1']
    assert manager['swarm']['id'] == live['Cluster']['ID']
    assert manager['swarm']['data_path_port'] == 4789
    assert manager['swarm']['subnet_size'] == 24
    assert manager['swarm']['default_addr_pool'] == ['10.0.0.0/8']
    assert manager['swarm']['task_history_retention_limit'] == 5
    assert manager['services_count'] == 1
    assert 'join_tokens' not in manager
    assert 'censored' not in manager

    by_host = dict((node['hostname'], node) for node in manager['nodes'])
    assert sorted(by_host) == ['node1', 'node2', 'node3']
    for host in ('node1', 'node2', 'node3'):
        node = by_host[host]
        assert node['id'] == swarm3[host]
        assert node['state'] == 'ready'
        assert node['availability'] == 'active'
        assert node['addr'] == sandbox.address(host)
        assert node['engine_version'].startswith('20.10')
    assert by_host['node1']['role'] == 'manager' and by_host['node1']['leader'] is True
    assert by_host['node1']['reachability'] == 'reachable'
    assert by_host['node1']['manager_addr'] == '%s:2377' % sandbox.address('node1')
    assert by_host['node2']['role'] == 'worker' and by_host['node2']['reachability'] is None
    assert by_host['node2']['labels'] == {'tier': 'db'}
    assert manager['managers'] == [{
        'id': swarm3['node1'], 'hostname': 'node1', 'leader': True, 'reachability': 'reachable',
        'addr': '%s:2377' % sandbox.address('node1'), 'state': 'ready'}]
    assert manager['leader'] == {'id': swarm3['node1'], 'hostname': 'node1',
                                 'addr': '%s:2377' % sandbox.address('node1')}

    for host in ('node2', 'node3'):
        worker = run.result('info', host)
        assert worker['is_manager'] is False and worker['is_member'] is True
        assert worker['local_node_state'] == 'active'
        assert worker['node_id'] == swarm3[host]
        assert worker['node_addr'] == sandbox.address(host)
        assert worker['nodes'] == [] and worker['managers'] == []
        assert worker['swarm'] == {} and worker['leader'] is None and worker['services_count'] is None
        assert [m['addr'] for m in worker['remote_managers']] == ['%s:2377' % sandbox.address('node1')]

    # Check mode reports the same facts.
    assert check.result('info', 'node1')['nodes'] == manager['nodes']
    assert check.result('info', 'node2')['node_id'] == swarm3['node2']


def test_nodes_false_keeps_managers_and_leader(sandbox, swarm3, run_playbook):
    run = run_playbook([play('node1', info_task(nodes=False))])
    result = run.result('info', 'node1')
    assert result['nodes'] == []
    assert [m['hostname'] for m in result['managers']] == ['node1']
    assert result['leader']['hostname'] == 'node1'


def test_non_member_reports_inactive(sandbox, run_playbook):
    sandbox.reset_swarm()
    run = run_playbook([play('node1', info_task())])
    result = run.result('info', 'node1')
    assert result['local_node_state'] == 'inactive'
    assert result['is_manager'] is False and result['is_member'] is False
    assert result['node_id'] == '' and result['nodes'] == [] and result['managers'] == []
    assert result['leader'] is None and result['swarm'] == {}
    assert run.changed == 0


def test_join_tokens_only_on_request_and_never_displayed(sandbox, swarm3, run_playbook):
    worker_token = sandbox.docker('node1', 'swarm', 'join-token', '-q', 'worker').stdout.strip()
    manager_token = sandbox.docker('node1', 'swarm', 'join-token', '-q', 'manager').stdout.strip()
    assert worker_token.startswith('SWMTKN-1-') and manager_token.startswith('SWMTKN-1-')
    digests = {'worker': hashlib.sha1(worker_token.encode()).hexdigest(),
               'manager': hashlib.sha1(manager_token.encode()).hexdigest()}
    plays = [play(
        'node1',
        info_task('without tokens'),
        info_task('with tokens', register='tokens', join_tokens=True),
        # The registered variable keeps the tokens for later tasks; compare digests, never the values.
        {'name': 'tokens kept', 'ansible.builtin.assert': {'that': [
            "tokens.join_tokens.worker | hash('sha1') == digests.worker",
            "tokens.join_tokens.manager | hash('sha1') == digests.manager",
        ]}},
    )]
    run = run_playbook(plays, verbosity=3, extra_vars={'digests': digests})
    plain = run.result('without tokens', 'node1')
    assert 'join_tokens' not in plain and plain['is_manager'] is True
    hidden = run.result('with tokens', 'node1')
    assert 'censored' in hidden
    assert run.status('tokens kept', 'node1') == 'ok'
    for secret in (worker_token, manager_token, worker_token.split('-')[-1], manager_token.split('-')[-1],
                   worker_token.split('-')[2]):
        assert secret not in run.output

    # On a worker there are no tokens to give, and nothing is hidden.
    worker = run_playbook([play('node2', info_task('with tokens', join_tokens=True))])
    result = worker.result('with tokens', 'node2')
    assert 'join_tokens' not in result and 'censored' not in result
    assert result['is_manager'] is False


def test_manager_without_quorum_reports_instead_of_failing(sandbox, swarm3, run_playbook):
    sandbox.docker('node1', 'node', 'promote', 'node2')
    deadline = time.time() + 60
    while sandbox.swarm_state('node2').get('ControlAvailable') is not True:
        assert time.time() < deadline, 'node2 did not become a manager'
        time.sleep(0.5)
    # Two managers, one of them stopped: the other has no leader and answers 503 on swarm reads.
    sandbox.stop_engine('node2')
    try:
        deadline = time.time() + 60
        while sandbox.docker('node1', 'node', 'ls', check=False).returncode == 0:
            assert time.time() < deadline, 'node1 still has a leader'
            time.sleep(0.5)
        run = run_playbook([play('node1', info_task())])
    finally:
        sandbox.start_engine('node2')
    result = run.result('info', 'node1')
    assert result['is_manager'] is True
    assert 'cannot read the swarm' in result['error'] and '--force-new-cluster' in result['error']
    assert result['nodes'] == [] and result['managers'] == [] and result['swarm'] == {}
    assert result['node_id'] == swarm3['node1']
    assert 'cannot read the swarm' in run.output  # shown as a warning
