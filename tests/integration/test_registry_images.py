# Copyright: crane.swarm developers
# GNU General Public License v3.0+ (see https://www.gnu.org/licenses/gpl-3.0.txt)
"""Images from a real registry: tags pinned to digests by resolve_image, and rolling image updates.

Every image here is pushed to the sandbox's plain registry by the `registries` fixture and removed from
the pushing host again, so a node that runs it pulled it, and a tag pushed twice really moves. What is
checked is what the engines hold: the service spec on the manager, the tasks, and on each node the
containers it runs and the repository digests of their images.
"""

from __future__ import annotations

import json
from urllib.parse import quote

import pytest

from harness import bundle, deploy, inspect, service, time_of

# A task that stops at once when told (sh ignores SIGTERM as PID 1 unless it traps it): no 10 s stop grace
# period in every rolling update.
QUICK_STOP = dict(Command=['sh', '-c'], Args=['trap "exit 0" TERM; sleep 3600 & wait'])
# Updates of the pinning tests: all tasks at once, and a 1 s stability window for the module's wait.
AT_ONCE = {'Parallelism': 0, 'Monitor': '1s'}


@pytest.fixture
def registry(registries, stack_swarm):
    """The sandbox's registries, with the shared swarm; the test's stacks are removed after it."""
    return registries


def image_of(sandbox, name):
    return inspect(sandbox, name)['Spec']['TaskTemplate']['ContainerSpec']['Image']


def tasks_of(sandbox, name):
    return sandbox.api('node1', '/tasks?filters=' + quote(json.dumps({'service': [name]})))


def running_on_nodes(sandbox, name):
    """{host: sorted [(image reference, crane.content label, repository digests)]} of the service's running
    containers, read on each node from its own engine."""
    found = {}
    for host in sandbox.hosts:
        ids = sandbox.docker(host, 'ps', '-q', '--filter', 'label=com.docker.swarm.service.name=' + name).stdout.split()
        found[host] = []
        for container in (sandbox.docker_json(host, 'container', 'inspect', *ids) if ids else []):
            image = sandbox.docker_json(host, 'image', 'inspect', container['Image'])[0]
            found[host].append((container['Config']['Image'], container['Config']['Labels'].get('crane.content'),
                                sorted(image.get('RepoDigests') or [])))
        found[host].sort()
    return found


def runs_everywhere(sandbox, name, tag, digest, content):
    """Each node runs exactly one task of the global service `name`, of `tag` pinned to `digest`, pulled by that node."""
    repository = tag.rpartition(':')[0]
    expected = [(tag + '@' + digest, content, [repository + '@' + digest])]
    return running_on_nodes(sandbox, name) == dict((host, expected) for host in sandbox.hosts)


def test_tags_resolve_to_the_registry_digest_which_every_node_pulls(sandbox, registry, run_playbook):
    tag = registry.plain + '/crane/pin:1'
    first = registry.push(tag, 'pin-one')

    def stack(b_env='B=1'):
        return bundle(a=service(tag, Mode={'Global': {}}, UpdateConfig=AT_ONCE, **QUICK_STOP),
                      b=service(tag, Env=[b_env], UpdateConfig=AT_ONCE, **QUICK_STOP))

    def run(*resolve_images, definition=None, diff=False):
        """One playbook deploying the stack once per resolve_image value, in order (tasks named after them)."""
        tasks = [deploy('pin', task='%d %s' % (number, value), definition=definition or stack(),
                        resolve_image=value)['tasks'][0] for number, value in enumerate(resolve_images)]
        return run_playbook([dict(deploy('pin'), tasks=tasks)], diff=diff)

    created = run('always', 'always')
    result = created.result('0 always', 'node1')
    assert result['services']['created'] == ['pin_a', 'pin_b'] and result['converged'] is True, result
    assert not created.result('1 always', 'node1')['changed']  # the tag still names the digest the services run
    assert image_of(sandbox, 'pin_a') == image_of(sandbox, 'pin_b') == tag + '@' + first
    assert runs_everywhere(sandbox, 'pin_a', tag, first, 'pin-one'), running_on_nodes(sandbox, 'pin_a')

    second = registry.push(tag, 'pin-two')
    assert second != first and registry.manifest_digest(tag) == second
    # never: the tag as written is the live tag pinned: nothing to do, the services stay on the old digest.
    # changed: nothing else changed, so nothing is resolved, and nothing rolls.
    assert run('never', 'changed').changed == 0
    assert image_of(sandbox, 'pin_a') == image_of(sandbox, 'pin_b') == tag + '@' + first

    # changed: the service updated for another reason is resolved too, and moves to the new digest; a stays.
    moved = run('changed', definition=stack(b_env='B=2'), diff=True).result('0 changed', 'node1')
    assert list(moved['services']['updated']) == ['pin_b'] and moved['services']['unchanged'] == ['pin_a'], moved
    assert image_of(sandbox, 'pin_b') == tag + '@' + second and image_of(sandbox, 'pin_a') == tag + '@' + first
    image_field = 'TaskTemplate.ContainerSpec.Image'
    assert moved['diff']['before']['pin_b'][image_field] == tag + '@' + first, moved['diff']
    assert moved['diff']['after']['pin_b'][image_field] == tag + '@' + second, moved['diff']

    # always: the unchanged service is resolved as well, and rolls to the new digest on every node.
    rolled = run('always', definition=stack(b_env='B=2'), diff=True).result('0 always', 'node1')
    assert list(rolled['services']['updated']) == ['pin_a'] and rolled['converged'] is True, rolled
    assert rolled['diff']['before'] == {'pin_a': {image_field: tag + '@' + first}}, rolled['diff']
    assert rolled['diff']['after'] == {'pin_a': {image_field: tag + '@' + second}}, rolled['diff']
    assert image_of(sandbox, 'pin_a') == tag + '@' + second
    assert runs_everywhere(sandbox, 'pin_a', tag, second, 'pin-two'), running_on_nodes(sandbox, 'pin_a')


def test_a_registry_address_that_refuses_connections_never_blocks_a_local_image(sandbox, registry, run_playbook):
    # The sandbox's gateway, at a port nothing listens on: the registry is refused at once (the existing
    # test_swarm_stack test covers a registry name that does not resolve).
    tag = registry.plain.rpartition(':')[0] + ':5999/crane/local:1'
    for host in sandbox.hosts:
        sandbox.docker(host, 'tag', 'busybox:latest', tag)
    try:
        local = service(tag, UpdateConfig=AT_ONCE, **QUICK_STOP)
        run = run_playbook([deploy('loc', definition=bundle(a=local), resolve_image='always')])
        result = run.result('deploy', 'node1')
        assert any('resolve_image: kept %s as written' % tag in warning for warning in result['warnings']), result
        assert result['converged'] is True and image_of(sandbox, 'loc_a') == tag
    finally:
        sandbox.docker('node1', 'stack', 'rm', 'loc', check=False)
        for host in sandbox.hosts:
            sandbox.docker(host, 'image', 'rm', '--force', tag, check=False)  # an untag: busybox:latest stays


def test_a_new_digest_rolls_out_task_by_task_and_one_that_cannot_be_pulled_rolls_back(sandbox, registry, run_playbook):
    update = {'Parallelism': 1, 'Delay': '2s', 'Monitor': '1s', 'Order': 'start-first', 'FailureAction': 'rollback',
              'MaxFailureRatio': 0}

    def stack(image):
        return bundle(app=service(image, Replicas=3, UpdateConfig=update, RollbackConfig=AT_ONCE, **QUICK_STOP))

    tag = registry.plain + '/crane/roll:1'
    first = registry.push(tag, 'roll-one')
    run_playbook([deploy('roll', definition=stack(tag), resolve_image='always')])
    second = registry.push(tag, 'roll-two')
    rolled = run_playbook([deploy('roll', definition=stack(tag), resolve_image='always')]).result('deploy', 'node1')
    assert list(rolled['services']['updated']) == ['roll_app'] and rolled['converged'] is True, rolled

    tasks = tasks_of(sandbox, 'roll_app')
    old = dict((task['Slot'], task) for task in tasks if task['Spec']['ContainerSpec']['Image'] == tag + '@' + first)
    new = dict((task['Slot'], task) for task in tasks if task['Spec']['ContainerSpec']['Image'] == tag + '@' + second)
    assert sorted(new) == sorted(old) == [1, 2, 3], tasks
    assert all(task['Status']['State'] == 'running' for task in new.values()), new
    # One new task at a time, each at least the Delay (2 s) after the one before.
    created = sorted(time_of(task['CreatedAt']) for task in new.values())
    gaps = [later - earlier for earlier, later in zip(created, created[1:])]
    assert all(gap >= 2.0 for gap in gaps), 'new tasks created at %s' % sorted(t['CreatedAt'] for t in new.values())
    # start-first: in each slot the new task was running before the old one stopped.
    for slot, task in new.items():
        started = time_of(task['Status']['Timestamp'])  # still running: the time it started to
        stopped = time_of(old[slot]['Status']['Timestamp'])  # the time it reached its final state
        assert old[slot]['Status']['State'] in ('shutdown', 'complete') and started < stopped, (task, old[slot])

    missing = registry.plain + '/crane/roll:missing'
    failed = run_playbook([deploy('roll', definition=stack(missing), resolve_image='always')], expect_failure=True)
    result = failed.result('deploy', 'node1')
    assert any('kept %s as written' % missing in warning for warning in result['warnings']), result
    assert result['converged'] is False and 'rollback_completed' in result['msg'], result['msg']
    assert result['not_converged']['roll_app']['reason'] == 'rolled_back', result['not_converged']
    # The errors the module reports are those of the engine's tasks that tried the missing image.
    tried = [task for task in tasks_of(sandbox, 'roll_app') if task['Spec']['ContainerSpec']['Image'] == missing]
    errors = set(task['Status']['Err'] for task in tried if task['Status'].get('Err'))
    states = [(task['Status']['State'], task['Status'].get('Err')) for task in tried]
    assert errors and set(result['task_errors']['roll_app']) == errors, (result['task_errors'], states)
    assert all('No such image: ' + missing in error for error in errors), errors
    assert not any(task['Status']['State'] == 'running' for task in tried), states
    # The swarm rolled the service back to the digest it ran: in its spec and in its running tasks on the nodes.
    live = inspect(sandbox, 'roll_app')
    assert live['UpdateStatus']['State'] == 'rollback_completed', live['UpdateStatus']
    assert live['Spec']['TaskTemplate']['ContainerSpec']['Image'] == tag + '@' + second
    running = [entry for entries in running_on_nodes(sandbox, 'roll_app').values() for entry in entries]
    assert [(image, content) for image, content, dummy in running] == [(tag + '@' + second, 'roll-two')] * 3, running
