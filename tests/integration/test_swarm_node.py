# Copyright: crane.swarm developers
# GNU General Public License v3.0+ (see https://www.gnu.org/licenses/gpl-3.0.txt)
"""crane.swarm.swarm_node on real engines: labels, availability, roles, quorum, removal."""

from __future__ import annotations

import harness


def node_task(name, **options):
    return {'name': name, 'crane.swarm.swarm_node': options}


def play(hosts, *tasks):
    return {'hosts': hosts, 'gather_facts': False, 'tasks': list(tasks)}


def inspect(sandbox, node):
    """`docker node inspect` of a node, as node1 (the manager) sees it."""
    return sandbox.docker_json('node1', 'node', 'inspect', node)[0]


def managers(sandbox):
    lines = sandbox.docker('node1', 'node', 'ls', '--format', '{{.Hostname}} {{.ManagerStatus}}').stdout.splitlines()
    return sorted(line.split()[0] for line in lines if len(line.split()) > 1)


# ----------------------------------------------------------------------------- labels

def test_labels_merge_replace_remove_and_rerun(sandbox, swarm3, run_playbook):
    merge = node_task('labels', node='node2', labels={'tier': 'db', 'disk': 'ssd', 'rack': 12})
    run = run_playbook([play('node1', merge)])
    result = run.result('labels', 'node1')
    assert result['changed'] is True
    assert sorted(result['changes']) == ['labels.disk added: ssd', 'labels.rack added: 12', 'labels.tier added: db']
    assert inspect(sandbox, 'node2')['Spec']['Labels'] == {'tier': 'db', 'disk': 'ssd', 'rack': '12'}
    assert result['node']['id'] == swarm3['node2']
    assert result['node']['labels'] == {'tier': 'db', 'disk': 'ssd', 'rack': '12'}

    # The same request again: no change, and no update reached the engine (same object version).
    version = inspect(sandbox, 'node2')['Version']['Index']
    again = run_playbook([play('node1', merge)])
    assert again.changed == 0
    assert again.result('labels', 'node1')['changes'] == []
    assert inspect(sandbox, 'node2')['Version']['Index'] == version

    # Merge keeps the others; the node can be addressed by ID as well.
    run_playbook([play('node1', node_task('labels', node=swarm3['node2'], labels={'zone': 'a'}))])
    assert inspect(sandbox, 'node2')['Spec']['Labels'] == {'tier': 'db', 'disk': 'ssd', 'rack': '12', 'zone': 'a'}

    replace = node_task('labels', node='node2', labels={'tier': 'web', 'zone': 'a'}, labels_state='replace')
    run = run_playbook([play('node1', replace)])
    assert run.result('labels', 'node1')['changed'] is True
    assert inspect(sandbox, 'node2')['Spec']['Labels'] == {'tier': 'web', 'zone': 'a'}
    assert run_playbook([play('node1', replace)]).changed == 0

    remove = node_task('labels', node='node2', labels_to_remove=['tier', 'not-there'])
    run = run_playbook([play('node1', remove)])
    assert run.result('labels', 'node1')['changes'] == ['labels.tier removed (was: web)']
    assert inspect(sandbox, 'node2')['Spec']['Labels'] == {'zone': 'a'}
    assert run_playbook([play('node1', remove)]).changed == 0
    # Other nodes were never touched.
    assert not inspect(sandbox, 'node3')['Spec'].get('Labels')


def test_check_mode_changes_nothing_and_diff_shows_before_after(sandbox, swarm3, run_playbook):
    sandbox.docker('node1', 'node', 'update', '--label-add', 'tier=db', 'node3')
    before = inspect(sandbox, 'node3')
    task = node_task('change', node='node3', labels={'tier': 'web', 'ssd': 'yes'}, labels_state='replace',
                     availability='pause')
    run = run_playbook([play('node1', task)], check=True, diff=True)
    result = run.result('change', 'node1')
    assert result['changed'] is True
    assert run.changed == 1
    assert result['diff'] == {
        'before': {'labels': {'tier': 'db'}, 'availability': 'active', 'role': 'worker'},
        'after': {'labels': {'tier': 'web', 'ssd': 'yes'}, 'availability': 'pause', 'role': 'worker'},
    }
    assert result['node']['availability'] == 'pause'  # as it would be
    assert '-    "availability": "active"' in run.output and '+    "availability": "pause"' in run.output
    after = inspect(sandbox, 'node3')
    assert after['Version']['Index'] == before['Version']['Index']
    assert after['Spec'] == before['Spec']

    # The real run makes exactly the change check mode announced.
    real = run_playbook([play('node1', task)], diff=True)
    assert real.result('change', 'node1')['diff'] == result['diff']
    assert inspect(sandbox, 'node3')['Spec']['Labels'] == {'tier': 'web', 'ssd': 'yes'}
    assert inspect(sandbox, 'node3')['Spec']['Availability'] == 'pause'
    assert run_playbook([play('node1', task)], check=True, diff=True).changed == 0


# ----------------------------------------------------------------------------- availability

def running_tasks(sandbox, node):
    out = sandbox.docker('node1', 'node', 'ps', node, '--filter', 'desired-state=running',
                         '--format', '{{.Name}} {{.CurrentState}}').stdout
    return [line for line in out.splitlines() if line.strip()]


def test_drain_moves_tasks_away(sandbox, swarm3, run_playbook):
    sandbox.docker('node1', 'service', 'create', '--detach', '--name', 't', '--replicas', '3',
                   'busybox:latest', 'sleep', '3600')
    try:
        # Spread scheduling puts one task on each node; node2 must run one before the drain.
        harness.wait_for('a running task of service t on node2',
                         lambda: any(' Running' in line for line in running_tasks(sandbox, 'node2')), timeout=90)
        assert sandbox.docker('node2', 'ps', '-q').stdout.strip()

        run = run_playbook([play('node1', node_task('drain', node='node2', availability='drain'))])
        result = run.result('drain', 'node1')
        assert result['changed'] is True
        assert result['changes'] == ['availability: active -> drain']
        assert result['node']['availability'] == 'drain'
        # The module waited: right after the task, nothing of the service runs on node2 any more
        # (busybox sleep ignores SIGTERM, so a task that did not wait would still see it running).
        assert running_tasks(sandbox, 'node2') == []
        assert sandbox.docker('node2', 'ps', '-q').stdout.strip() == ''
        assert inspect(sandbox, 'node2')['Spec']['Availability'] == 'drain'

        again = run_playbook([play('node1', node_task('drain', node='node2', availability='drain'))])
        assert again.changed == 0

        back = run_playbook([play('node1', node_task('active', node='node2', availability='active'))])
        assert back.result('active', 'node1')['changes'] == ['availability: drain -> active']
        assert inspect(sandbox, 'node2')['Spec']['Availability'] == 'active'
    finally:
        sandbox.docker('node1', 'service', 'rm', 't', check=False)


# ----------------------------------------------------------------------------- roles and quorum

def test_promote_then_quorum_refusal_then_remove_down_manager(sandbox, swarm3, run_playbook):
    promote = node_task('promote', node='{{ item }}', role='manager')
    promote['loop'] = ['node2', 'node3']
    run = run_playbook([play('node1', promote)])
    assert run.result('promote', 'node1')['changed'] is True
    # wait=true: when the task returns, both are reachable Raft members.
    assert managers(sandbox) == ['node1', 'node2', 'node3']
    for host in ('node2', 'node3'):
        assert inspect(sandbox, host)['ManagerStatus']['Reachability'] == 'reachable'
    assert run_playbook([play('node1', promote)]).changed == 0

    # With three reachable managers a demotion keeps quorum; check mode shows the arithmetic.
    demote = node_task('demote', node='node2', role='worker')
    checked = run_playbook([play('node1', demote)], check=True)
    quorum = checked.result('demote', 'node1')['quorum']
    assert quorum.startswith('demoting node2: 3 -> 2 managers, 2 reachable, majority 2: quorum kept, '
                             'fault tolerance drops 1 -> 0'), quorum
    assert managers(sandbox) == ['node1', 'node2', 'node3']

    sandbox.stop_engine('node3')
    try:
        harness.wait_for('node3 unreachable and down as node1 sees it',
                         lambda: (inspect(sandbox, 'node3').get('ManagerStatus', {}).get('Reachability') == 'unreachable'
                                  and inspect(sandbox, 'node3')['Status']['State'] == 'down'), timeout=90)
        version = inspect(sandbox, 'node2')['Version']['Index']
        refused = run_playbook([play('node1', demote)], expect_failure=True)
        result = refused.result('demote', 'node1')
        assert result['changed'] is False
        assert result['msg'] == ('demoting node2 would leave 2 managers of which 1 reachable; a swarm of 2 managers '
                                 'needs 2 reachable (a majority) to keep quorum; promote another node first or '
                                 'bring the unreachable managers back'), result['msg']
        assert managers(sandbox) == ['node1', 'node2', 'node3']
        assert inspect(sandbox, 'node2')['Version']['Index'] == version
        assert inspect(sandbox, 'node2')['Spec']['Role'] == 'manager'

        # Removing the down manager works: it is demoted first (quorum allows it), then removed.
        remove = node_task('remove', node='node3', state='absent')
        checked = run_playbook([play('node1', remove)], check=True)
        assert checked.result('remove', 'node1')['changes'] == ['role: manager -> worker', 'removed from the swarm']
        assert 'node3' in managers(sandbox)

        run = run_playbook([play('node1', remove)])
        result = run.result('remove', 'node1')
        assert result['changed'] is True
        assert result['quorum'].startswith('removing node3: 3 -> 2 managers, 2 reachable, majority 2')
        hostnames = sandbox.docker('node1', 'node', 'ls', '--format', '{{.Hostname}}').stdout.split()
        assert sorted(hostnames) == ['node1', 'node2']
        assert managers(sandbox) == ['node1', 'node2']
        assert run_playbook([play('node1', remove)]).changed == 0
    finally:
        sandbox.start_engine('node3')


def test_down_worker_is_removed_but_not_promoted(sandbox, swarm3, run_playbook):
    sandbox.stop_engine('node3')
    try:
        harness.wait_for('node3 down as node1 sees it',
                         lambda: inspect(sandbox, 'node3')['Status']['State'] == 'down', timeout=90)
        refused = run_playbook([play('node1', node_task('promote', node='node3', role='manager'))],
                               expect_failure=True)
        message = refused.result('promote', 'node1')['msg']
        assert 'node3' in message and 'is down' in message, message
        assert managers(sandbox) == ['node1']

        run = run_playbook([play('node1', node_task('remove', node='node3', state='absent'))])
        assert run.result('remove', 'node1')['changes'] == ['removed from the swarm']
        assert 'quorum' not in run.result('remove', 'node1')
        assert sorted(sandbox.docker('node1', 'node', 'ls', '--format', '{{.Hostname}}').stdout.split()) == \
            ['node1', 'node2']
    finally:
        sandbox.start_engine('node3')


def test_live_node_removal_needs_force_and_other_refusals(sandbox, swarm3, run_playbook):
    plays = [
        play('node1',
             dict(node_task('remove live', node='node3', state='absent'), ignore_errors=True),
             dict(node_task('unknown', node='node9', labels={'a': 'b'}), ignore_errors=True),
             dict(node_task('bool label', node='node2', labels={'ssd': True}), ignore_errors=True),
             dict(node_task('both', node='node2', labels={'a': 'b'}, labels_to_remove=['a']), ignore_errors=True),
             dict(node_task('last manager', node='node1', role='worker'), ignore_errors=True)),
        play('node2', dict(node_task('on a worker', node='node3', labels={'a': 'b'}), ignore_errors=True)),
    ]
    run = run_playbook(plays)
    assert run.changed == 0
    message = run.result('remove live', 'node1')['msg']
    assert 'is ready, not down' in message and 'force: true' in message, message
    assert 'no node node9 in this swarm' in run.result('unknown', 'node1')['msg']
    assert 'labels.ssd is the boolean True' in run.result('bool label', 'node1')['msg']
    assert 'labels_to_remove: a also set in labels' in run.result('both', 'node1')['msg']
    last = run.result('last manager', 'node1')['msg']
    assert 'demoting node1 would leave no manager' in last, last
    assert 'must run on a swarm manager' in run.result('on a worker', 'node2')['msg']
    assert sorted(sandbox.docker('node1', 'node', 'ls', '--format', '{{.Hostname}}').stdout.split()) == \
        ['node1', 'node2', 'node3']
    assert managers(sandbox) == ['node1']

    forced = run_playbook([play('node1', node_task('remove live', node='node3', state='absent', force=True))])
    assert forced.result('remove live', 'node1')['changed'] is True
    assert sorted(sandbox.docker('node1', 'node', 'ls', '--format', '{{.Hostname}}').stdout.split()) == \
        ['node1', 'node2']


def test_hostname_of_a_rejoined_host_picks_the_live_entry(sandbox, swarm3, run_playbook):
    # node3 leaves and joins again: the swarm keeps its old entry (down) next to the new one.
    sandbox.docker('node3', 'swarm', 'leave')
    harness.wait_for('the old node3 entry down', lambda: inspect(sandbox, swarm3['node3'])['Status']['State'] == 'down')
    token = sandbox.docker('node1', 'swarm', 'join-token', '-q', 'worker').stdout.strip()
    sandbox.docker('node3', 'swarm', 'join', '--token', token, '%s:2377' % sandbox.address('node1'))
    new_id = sandbox.swarm_state('node3')['NodeID']
    assert new_id != swarm3['node3']

    plays = [play(
        'node1',
        node_task('label', node='node3', labels={'generation': '2'}),
        dict(node_task('remove by hostname', node='node3', state='absent'), ignore_errors=True),
        node_task('remove old entry', node=swarm3['node3'], state='absent'),
    )]
    run = run_playbook(plays)
    assert run.result('label', 'node1')['node']['id'] == new_id
    assert inspect(sandbox, new_id)['Spec']['Labels'] == {'generation': '2'}
    message = run.result('remove by hostname', 'node1')['msg']
    assert 'is ready, not down' in message and swarm3['node3'] in message, message
    assert run.result('remove old entry', 'node1')['changed'] is True
    listed = sandbox.docker('node1', 'node', 'ls', '--format', '{{.ID}} {{.Hostname}}').stdout.split('\n')
    assert sorted(line.split()[1] for line in listed if line.strip()) == ['node1', 'node2', 'node3']
    assert any(line.startswith(new_id) for line in listed)
