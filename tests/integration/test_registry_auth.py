# Copyright: crane.swarm developers
# GNU General Public License v3.0+ (see https://www.gnu.org/licenses/gpl-3.0.txt)
"""With-registry-auth end to end: a stack whose image is in the sandbox's TLS + htpasswd registry runs on
workers that never logged in, when the credentials come from the manager's docker config or from the task
(registry_credentials), and fails, each task's reason reported, without them or with a wrong password;
credentials that come later, or a fixed password, reach the service with the next run. No password, nor its
base64 forms, nor the X-Registry-Auth header, shows in any -vvv output or diff.

Every image is pushed here under a name of its own and removed from the pushing host: a node that runs it
pulled it from the registry, with the credentials the service carries (Registries.push).
"""

from __future__ import annotations

import base64
import json

import pytest

from harness import assert_never_shown, bundle, deploy, service

NODES = ('node1', 'node2', 'node3')
DOCKER_CONFIG = '/root/.docker/config.json'
# A task is converged once it ran for its service's UpdateConfig.Monitor (5 s unless set): 1 s keeps the tests short.
QUICK = {'UpdateConfig': {'Monitor': '1s'}}
# What the engine says of a task whose image its node could not pull (and has no copy of).
PULL_FAILURE = 'No such image: %s'


@pytest.fixture(scope='module')
def auth_swarm(sandbox, shared_swarm3, registries):
    """The shared swarm, the registries, and no docker config with credentials on any node; stacks removed after."""
    for host in NODES:
        assert sandbox.exec(host, 'test', '-e', DOCKER_CONFIG, check=False).returncode != 0, host
    yield registries
    for name in sandbox.docker('node1', 'stack', 'ls', '--format', '{{.Name}}', check=False).stdout.split():
        sandbox.docker('node1', 'stack', 'rm', name, check=False)


def pushed(sandbox, registries, name):
    """A fresh image `name` in the secure registry: (its tag, its digest); no node holds it, nor the tag."""
    ref = '%s/crane/%s:1' % (registries.secure, name)
    digest = registries.push(ref, name)
    for host in NODES:
        assert sandbox.docker(host, 'image', 'inspect', ref, check=False).returncode != 0, host
    return ref, digest


def has_image(sandbox, host, ref, digest):
    """Whether the host's engine holds the image the registry serves as ref@digest (pulled by a task)."""
    repository = ref.rpartition(':')[0]
    return sandbox.docker(host, 'image', 'inspect', '%s@%s' % (repository, digest), check=False).returncode == 0


def running_on(sandbox, service_name):
    """{node hostname: task IDs running} of a service, read with the docker CLI."""
    tasks = sandbox.docker('node1', 'service', 'ps', service_name, '--filter', 'desired-state=running',
                           '--format', '{{.ID}} {{.Node}} {{.CurrentState}}').stdout.split('\n')
    running = {}
    for line in filter(None, tasks):
        task_id, node, state = line.split(' ', 2)
        if state.startswith('Running'):
            running.setdefault(node, []).append(task_id)
    return running


def task_credentials(registries, variable='registry_password'):
    """registry_credentials whose password is a variable, as a vault would give it: ansible-core 2.19 shows the
    playbook's lines around a failed task, so a password written in the playbook would show there."""
    return [{'registry': registries.secure, 'username': registries.username, 'password': '{{ %s }}' % variable}]


def passwords(registries):
    """The extra variables that hold the passwords task_credentials names: the right one and a wrong one."""
    return dict(registry_password=registries.password, wrong_password='wrong-' + registries.password)


def test_credentials_in_the_managers_docker_config_reach_workers_that_never_logged_in(
        sandbox, auth_swarm, run_playbook):
    registries = auth_swarm
    ref, digest = pushed(sandbox, registries, 'auth-config')
    token = base64.b64encode(('%s:%s' % (registries.username, registries.password)).encode()).decode()
    sandbox.exec('node1', 'sh', '-c', 'mkdir -p /root/.docker && cat > %s' % DOCKER_CONFIG,
                 input_bytes=json.dumps({'auths': {registries.secure: {'auth': token}}}).encode())
    try:
        definition = bundle(agent=service(image=ref, Mode={'Global': {}}, WithRegistryAuth=True, **QUICK))
        run = run_playbook([deploy('cfg', definition=definition)], verbosity=3, diff=True)
        again = run_playbook([deploy('cfg', definition=definition)], verbosity=3)
    finally:
        sandbox.exec('node1', 'rm', '-f', DOCKER_CONFIG)
    result = run.result('deploy', 'node1')
    assert result['services']['created'] == ['cfg_agent'] and result['converged'] is True, result
    assert sorted(running_on(sandbox, 'cfg_agent')) == list(NODES)
    for host in NODES:
        assert has_image(sandbox, host, ref, digest), host
    for host in ('node2', 'node3'):
        assert sandbox.exec(host, 'test', '-e', DOCKER_CONFIG, check=False).returncode != 0, host
    assert again.changed == 0, again.output[-3000:]
    assert_never_shown(run, registries)
    assert_never_shown(again, registries)


def test_credentials_given_in_the_task_deploy_a_compose_stack_with_no_docker_config_anywhere(
        sandbox, auth_swarm, run_playbook):
    registries = auth_swarm
    ref, digest = pushed(sandbox, registries, 'auth-task')
    compose = {'version': '3.8', 'services': {'web': {
        'image': ref, 'command': 'sleep 3600',
        'deploy': {'replicas': 3, 'placement': {'max_replicas_per_node': 1}, 'update_config': {'monitor': '1s'}}}}}
    options = dict(compose=compose, with_registry_auth=True, registry_credentials=task_credentials(registries))
    run = run_playbook([deploy('tsk', **options)], verbosity=3, diff=True, extra_vars=passwords(registries))
    result = run.result('deploy', 'node1')
    assert result['services']['created'] == ['tsk_web'] and result['converged'] is True, result
    running = running_on(sandbox, 'tsk_web')
    assert sorted(running) == list(NODES)
    for host in NODES:
        assert has_image(sandbox, host, ref, digest), host
        assert sandbox.exec(host, 'test', '-e', DOCKER_CONFIG, check=False).returncode != 0, host
    assert result['invocation']['module_args']['registry_credentials'][0]['password'] == 'VALUE_SPECIFIED_IN_NO_LOG_PARAMETER'
    assert_never_shown(run, registries)

    # Other credentials (here a wrong password) go to the service with an update of its label only: the
    # running tasks, which pulled already, are left alone.
    options['registry_credentials'] = task_credentials(registries, 'wrong_password')
    rerun = run_playbook([deploy('tsk', **options)], verbosity=3, diff=True, extra_vars=passwords(registries))
    result = rerun.result('deploy', 'node1')
    assert result['services']['updated'] == {'tsk_web': ['Labels']}, result
    assert result['converged'] is True and running_on(sandbox, 'tsk_web') == running, result
    assert_never_shown(rerun, registries, *passwords(registries).values())


def test_without_with_registry_auth_or_with_a_wrong_password_the_wait_says_why_and_a_rerun_fixes_it(
        sandbox, auth_swarm, run_playbook):
    registries = auth_swarm
    ref, digest = pushed(sandbox, registries, 'auth-fail')

    def agent(**extra):
        return service(image=ref, Mode={'Global': {}}, RestartPolicy={'Delay': '1s'}, **QUICK, **extra)

    # In check mode, without credentials anywhere: said before anything is deployed. Then one stack does not
    # send the task's credentials, the other sends a wrong password.
    play = deploy('nosend', 'check', definition=bundle(agent=agent(WithRegistryAuth=True)))
    play['tasks'][0]['check_mode'] = True
    play['tasks'] += deploy('nosend', 'nosend', definition=bundle(agent=agent()), wait_timeout=60,
                            registry_credentials=task_credentials(registries))['tasks']
    play['tasks'][1]['ignore_errors'] = True
    play['tasks'] += deploy('wrong', 'wrong', definition=bundle(agent=agent(WithRegistryAuth=True)), wait_timeout=60,
                            registry_credentials=task_credentials(registries, 'wrong_password'))['tasks']
    run = run_playbook([play], verbosity=3, diff=True, expect_failure=True, extra_vars=passwords(registries))
    warnings = run.result('check', 'node1').get('warnings', [])
    assert any("WithRegistryAuth: neither the task's registry_credentials nor the manager's docker config "
               '/root/.docker/config.json has credentials for %s, so the nodes pull %s' % (registries.secure, ref)
               in warning for warning in warnings), warnings
    for stack in ('nosend', 'wrong'):
        result = run.result(stack, 'node1')
        name = stack + '_agent'
        assert run.status(stack, 'node1') == ('ignored' if stack == 'nosend' else 'failed'), result
        assert result['changed'] is True and result['services']['created'] == [name], result
        assert result['converged'] is False and list(result['not_converged']) == [name], result
        errors = result['not_converged'][name]['task_errors']
        assert errors and all(PULL_FAILURE % ref in error for error in errors), errors
        assert result['msg'].startswith('stack %s did not converge: %s: its tasks keep failing' % (stack, name))
        assert PULL_FAILURE % ref in result['msg'], result['msg']
    assert not any(sandbox.docker(host, 'image', 'inspect', ref, check=False).returncode == 0 for host in NODES)
    assert_never_shown(run, registries, *passwords(registries).values())

    # Both send the right password now: updated (their label), their tasks pull and run.
    fixed = deploy('nosend', 'nosend', definition=bundle(agent=agent(WithRegistryAuth=True)),
                   registry_credentials=task_credentials(registries))
    fixed['tasks'] += deploy('wrong', 'wrong', definition=bundle(agent=agent(WithRegistryAuth=True)),
                             registry_credentials=task_credentials(registries))['tasks']
    rerun = run_playbook([fixed], verbosity=3, diff=True, extra_vars=passwords(registries))
    for stack in ('nosend', 'wrong'):
        result = rerun.result(stack, 'node1')
        name = stack + '_agent'
        assert result['services']['updated'] == {name: ['Labels']} and result['converged'] is True, result
        assert sorted(running_on(sandbox, name)) == list(NODES), name
    for host in NODES:
        assert has_image(sandbox, host, ref, digest), host
    assert_never_shown(rerun, registries, *passwords(registries).values())
