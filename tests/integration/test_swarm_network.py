# Copyright: crane.swarm developers
# GNU General Public License v3.0+ (see https://www.gnu.org/licenses/gpl-3.0.txt)
"""crane.swarm.swarm_network on real engines: create, idempotence, refusal while in use, recreation, removal."""

from __future__ import annotations

import harness

NAME = 'crane-net'


def net_task(name, **options):
    return {'name': name, 'crane.swarm.swarm_network': dict({'name': NAME}, **options)}


def play(*tasks):
    return {'hosts': 'node1', 'gather_facts': False, 'tasks': list(tasks)}


def inspect(sandbox, name=NAME):
    """`docker network inspect` on the manager, or None when the network does not exist."""
    found = sandbox.docker('node1', 'network', 'inspect', name, check=False)
    if found.returncode != 0:
        return None
    return sandbox.docker_json('node1', 'network', 'inspect', name)[0]


def subnet_of(network):
    return [entry['Subnet'] for entry in network['IPAM']['Config']]


def start_user(sandbox, name='user1', node='node1'):
    """A service attached to the network, its task running on `node` (which then holds the network)."""
    sandbox.docker('node1', 'service', 'create', '--detach', '--name', name, '--network', NAME,
                   '--constraint', 'node.hostname==%s' % node, 'busybox:latest', 'sleep', '3600')
    harness.wait_for('a running task of %s' % name, lambda: 'Running' in sandbox.docker(
        'node1', 'service', 'ps', '--format', '{{.CurrentState}}', name).stdout)


FULL = dict(encrypted=True, attachable=True, driver_opts={'com.docker.network.driver.mtu': 1400},
            ipam={'config': [{'subnet': '10.77.0.0/24', 'gateway': '10.77.0.1'}]},
            labels={'team': 'payments', 'tier': 'back'})


def test_check_mode_then_create_every_property_then_rerun(sandbox, swarm3, run_playbook):
    # Check mode on a network that does not exist: reported, nothing created.
    run = run_playbook([play(net_task('create', **FULL))], check=True, diff=True)
    result = run.result('create', 'node1')
    assert (result['changed'], result['action']) == (True, 'create')
    assert result['network']['id'] is None and result['network']['attachable'] is True
    assert result['diff']['before'] == {} and result['diff']['after']['labels'] == FULL['labels']
    assert inspect(sandbox) is None

    run = run_playbook([play(net_task('create', **FULL))])
    result = run.result('create', 'node1')
    assert (result['changed'], result['action']) == (True, 'create')
    network = inspect(sandbox)
    assert network['Id'] == result['network']['id']
    assert (network['Driver'], network['Scope']) == ('overlay', 'swarm')
    assert network['Options']['encrypted'] == ''
    assert network['Options']['com.docker.network.driver.mtu'] == '1400'
    assert network['Attachable'] is True and network['Internal'] is False
    assert network['IPAM']['Config'] == [{'Subnet': '10.77.0.0/24', 'Gateway': '10.77.0.1'}]
    assert network['Labels'] == FULL['labels']
    assert result['network']['ipam']['config'] == [{'subnet': '10.77.0.0/24', 'gateway': '10.77.0.1'}]
    assert result['services'] == []

    # The same request again: nothing to do, and the network is the very same object.
    again = run_playbook([play(net_task('create', **FULL))], diff=True)
    assert again.changed == 0
    assert again.result('create', 'node1')['action'] == 'none'
    assert again.result('create', 'node1')['changes'] == []
    assert inspect(sandbox)['Id'] == network['Id'] and inspect(sandbox)['Created'] == network['Created']


def test_change_of_a_network_in_use_is_refused_then_recreated_without_users(sandbox, swarm3, run_playbook):
    first = {**FULL, 'ipam': {'config': [{'subnet': '10.78.0.0/24'}]}}
    run_playbook([play(net_task('create', **first))])
    before = inspect(sandbox)
    start_user(sandbox, 'user1', node='node1')

    moved = {**first, 'ipam': {'config': [{'subnet': '10.79.0.0/24'}]}}
    run = run_playbook([play(net_task('move', **moved))], expect_failure=True, diff=True)
    result = run.result('move', 'node1')
    assert run.status('move', 'node1') == 'failed'
    assert result['services'] == ['user1']
    assert 'user1' in result['msg'] and 'IPAM.Config' in result['msg'] and '10.79.0.0/24' in result['msg']
    assert 'Nothing was changed' in result['msg'] and 'run the task again' in result['msg']
    assert result['diff'] == {'before': {'IPAM.Config': [{'Subnet': '10.78.0.0/24'}]},
                              'after': {'IPAM.Config': [{'Subnet': '10.79.0.0/24'}]}}
    after = inspect(sandbox)
    assert (after['Id'], subnet_of(after)) == (before['Id'], ['10.78.0.0/24'])

    # Removal is refused the same way.
    run = run_playbook([play(net_task('remove', state='absent'))], expect_failure=True)
    assert run.result('remove', 'node1')['services'] == ['user1']
    assert 'user1' in run.result('remove', 'node1')['msg']
    assert inspect(sandbox)['Id'] == before['Id']

    # Check mode reports the recreation once nobody uses the network, and changes nothing.
    sandbox.docker('node1', 'service', 'rm', 'user1')
    run = run_playbook([play(net_task('move', **moved))], check=True)
    assert run.result('move', 'node1')['action'] == 'recreate'
    assert inspect(sandbox)['Id'] == before['Id']

    # For real: the manager ran the task, so its copy of the old network lingers for a while after the
    # removal, and the new one can only be created once it is gone.
    run = run_playbook([play(net_task('move', **moved))], diff=True)
    result = run.result('move', 'node1')
    assert (result['changed'], result['action']) == (True, 'recreate')
    assert result['changes'] == ['IPAM.Config: [{"Subnet": "10.78.0.0/24"}] -> [{"Subnet": "10.79.0.0/24"}]']
    after = inspect(sandbox)
    assert after['Id'] != before['Id'] and after['Id'] == result['network']['id']
    assert subnet_of(after) == ['10.79.0.0/24']
    assert after['Labels'] == FULL['labels'] and after['Options']['encrypted'] == ''
    assert run_playbook([play(net_task('move', **moved))]).changed == 0


def test_absent_then_immediately_create_again(sandbox, swarm3, run_playbook):
    run_playbook([play(net_task('create', **FULL))])
    # A task on the manager makes its engine hold a copy of the network, released a while after removal.
    start_user(sandbox, 'user1', node='node1')
    sandbox.docker('node1', 'service', 'rm', 'user1')
    old = inspect(sandbox)

    run = run_playbook([play(net_task('remove', state='absent'), net_task('create', **FULL))])
    removed = run.result('remove', 'node1')
    assert (removed['changed'], removed['action']) == (True, 'remove')
    assert removed['network']['id'] == old['Id']
    created = run.result('create', 'node1')
    assert (created['changed'], created['action']) == (True, 'create')
    new = inspect(sandbox)
    assert new['Id'] == created['network']['id'] != old['Id']

    # Absent twice: the second finds nothing to do.
    run = run_playbook([play(net_task('remove', state='absent'), net_task('again', state='absent'))])
    assert run.result('again', 'node1')['changed'] is False
    assert inspect(sandbox) is None
