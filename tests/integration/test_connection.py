# Copyright: crane.swarm developers
# GNU General Public License v3.0+ (see https://www.gnu.org/licenses/gpl-3.0.txt)
"""Where the modules find the engine: DOCKER_* variables, bare socket paths, module_defaults' group."""

from __future__ import annotations

# A second path to node1's engine: only a module that reads DOCKER_HOST or docker_host finds it.
OTHER_SOCKET = '/run/crane-other/docker.sock'
MISSING_SOCKET = '/run/crane-missing/docker.sock'


def play(tasks, **keywords):
    return dict(hosts='node1', gather_facts=False, tasks=tasks, **keywords)


def info(name, **options):
    return {'name': name, 'crane.swarm.swarm_info': options, 'ignore_errors': True}


def test_docker_host_comes_from_the_environment_and_a_bare_path_is_a_socket(sandbox, shared_swarm3, run_playbook):
    sandbox.exec('node1', 'sh', '-c', 'mkdir -p /run/crane-other && ln -sfn /var/run/docker.sock %s' % OTHER_SOCKET)
    run = run_playbook([play([
        dict(info('from DOCKER_HOST, missing'), environment={'DOCKER_HOST': 'unix://' + MISSING_SOCKET}),
        dict(info('from DOCKER_HOST, bare path'), environment={'DOCKER_HOST': OTHER_SOCKET}),
        dict(info('given wins over DOCKER_HOST', docker_host=OTHER_SOCKET),
             environment={'DOCKER_HOST': 'unix://' + MISSING_SOCKET}),
        dict(info('empty DOCKER_HOST is unset'), environment={'DOCKER_HOST': ''}),
    ])])
    missing = run.result('from DOCKER_HOST, missing', 'node1')
    assert run.status('from DOCKER_HOST, missing', 'node1') == 'ignored'
    assert MISSING_SOCKET in missing['msg'] and 'DOCKER_HOST' in missing['msg'], missing['msg']
    for task in ('from DOCKER_HOST, bare path', 'given wins over DOCKER_HOST', 'empty DOCKER_HOST is unset'):
        result = run.result(task, 'node1')
        assert run.status(task, 'node1') == 'ok', (task, result.get('msg'))
        assert result['is_manager'] is True and result['node_id'] == shared_swarm3['node1']


def test_module_defaults_group_sets_the_engine_for_every_module(sandbox, shared_swarm3, run_playbook):
    sandbox.exec('node1', 'sh', '-c', 'mkdir -p /run/crane-other && ln -sfn /var/run/docker.sock %s' % OTHER_SOCKET)
    group = 'group/crane.swarm.docker'
    tasks = [
        info('info'),
        {'name': 'stack info', 'crane.swarm.swarm_stack_info': {'name': 'none-such'}, 'ignore_errors': True},
        {'name': 'stack', 'crane.swarm.swarm_stack': {'name': 'none-such', 'state': 'absent'}, 'ignore_errors': True},
        {'name': 'network', 'crane.swarm.swarm_network': {'name': 'none-such', 'state': 'absent'},
         'ignore_errors': True},
    ]
    broken = run_playbook([play(tasks, module_defaults={group: {'docker_host': 'unix://' + MISSING_SOCKET}})])
    working = run_playbook([play(tasks, module_defaults={group: {'docker_host': OTHER_SOCKET}})])
    for task in ('info', 'stack info', 'stack', 'network'):
        failed = broken.result(task, 'node1')
        assert broken.status(task, 'node1') == 'ignored' and MISSING_SOCKET in failed['msg'], (task, failed.get('msg'))
        passed = working.result(task, 'node1')
        assert working.status(task, 'node1') == 'ok', (task, passed.get('msg'))
        assert passed.get('changed') is False
