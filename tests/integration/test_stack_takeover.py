# Copyright: crane.swarm developers
# GNU General Public License v3.0+ (see https://www.gnu.org/licenses/gpl-3.0.txt)
"""crane.swarm.swarm_stack takes over a stack `docker stack deploy -c` made, and the two never flip-flop."""

from __future__ import annotations

import os
import sys
import time

import pytest

from harness import COLLECTIONS_ROOT, collections_path

collections_path()  # ansible_collections.crane.swarm -> this checkout, importable here too
if COLLECTIONS_ROOT not in sys.path:
    sys.path.insert(0, COLLECTIONS_ROOT)

from ansible_collections.crane.swarm.plugins.plugin_utils.compose.convert import compose_to_bundle  # noqa: E402
from ansible_collections.crane.swarm.plugins.plugin_utils.compose.read import read_compose  # noqa: E402

STACK = 'takeover'
COMPOSE = '''\
version: "3.8"
services:
  web:
    image: busybox:latest
    command: ["httpd", "-f", "-p", "8000"]
    environment:
      ZED: last
      ALPHA: first
      MIDDLE: "2"
    ports:
      - "18081:8000"
      - target: 9000
        published: 18080
        protocol: udp
    networks: [front, back]
    labels:
      tier: front
    deploy:
      labels:
        owner: team-a
    configs:
      - source: settings
        target: /etc/settings.conf
  worker:
    image: busybox
    command: sleep 3600
    networks: [back]
configs:
  settings:
    file: ./settings.conf
networks:
  front: {}
  back: {}
'''
SETTINGS = 'colour=blue\n'


def crane_bundle():
    project, dummy = read_compose([('docker-compose.yml', COMPOSE)], {})
    bundle, dummy = compose_to_bundle(project, STACK)
    # The compose option of swarm_stack will read the file on the controller; here its content goes inline.
    if 'Configs' in bundle:
        bundle['Configs']['settings'] = dict((key, value) for key, value in bundle['Configs']['settings'].items()
                                             if key != 'File')
        bundle['Configs']['settings']['Content'] = SETTINGS
    return bundle


def wait_running(sandbox, timeout=90):
    """Until both tasks run and no update is rolling (an update in progress moves the service's Version)."""
    deadline = time.monotonic() + timeout
    while True:
        states = [(service.get('UpdateStatus') or {}).get('State') for service in services(sandbox).values()]
        running = sandbox.docker('node1', 'stack', 'ps', STACK, '--filter', 'desired-state=running',
                                 '--format', '{{.CurrentState}}', check=False).stdout.split('\n')
        if len(task_ids(sandbox)) == 2 and all(state in (None, 'completed') for state in states) \
                and sum(line.startswith('Running') for line in running) == 2:
            return
        assert time.monotonic() < deadline, 'the stack did not settle: %s' % states
        time.sleep(1)


def cli_deploy(sandbox):
    sandbox.exec('node1', 'mkdir', '-p', '/tmp/takeover')
    sandbox.exec('node1', 'sh', '-c', 'cat > /tmp/takeover/docker-compose.yml', input_bytes=COMPOSE.encode())
    sandbox.exec('node1', 'sh', '-c', 'cat > /tmp/takeover/settings.conf', input_bytes=SETTINGS.encode())
    sandbox.exec('node1', 'sh', '-c', 'cd /tmp/takeover && docker stack deploy --resolve-image never '
                 '-c docker-compose.yml ' + STACK)


def crane(run_playbook, task, check=False):
    play = {'hosts': 'node1', 'gather_facts': False, 'tasks': [{'name': task, 'crane.swarm.swarm_stack': {
        'name': STACK, 'definition': crane_bundle(), 'wait_timeout': 120}}]}
    return run_playbook([play], check=check, diff=True)


def services(sandbox):
    names = sandbox.docker('node1', 'stack', 'services', STACK, '--format', '{{.Name}}').stdout.split()
    return dict((name, sandbox.docker_json('node1', 'service', 'inspect', name)[0]) for name in names)


def task_ids(sandbox):
    """The IDs of the stack's tasks meant to run: an update that restarts a task replaces its ID."""
    ids = []
    for name in services(sandbox):
        ids += sandbox.docker('node1', 'service', 'ps', name, '--filter', 'desired-state=running',
                              '--format', '{{.ID}}').stdout.split()
    return sorted(ids)


@pytest.fixture
def takeover_swarm(sandbox, shared_swarm3):
    yield shared_swarm3
    sandbox.docker('node1', 'stack', 'rm', STACK, check=False)
    # `stack rm` returns before the engine has removed the networks: the next test must not find them half gone.
    deadline = time.monotonic() + 60
    while sandbox.docker('node1', 'network', 'ls', '-q', '--filter', 'label=com.docker.stack.namespace=' + STACK).stdout:
        assert time.monotonic() < deadline, 'the stack networks were not removed'
        time.sleep(1)
    for kind in ('config', 'secret'):
        names = sandbox.docker('node1', kind, 'ls', '-q', '--filter', 'label=com.docker.stack.namespace=' + STACK).stdout
        if names.split():
            sandbox.docker('node1', kind, 'rm', *names.split(), check=False)


def assert_crane_leaves_it(sandbox, run_playbook, task, removed_configs=()):
    """crane over the stack as it is: no service write at all, in check mode or for real.

    `removed_configs`: crane's own config versions no service uses any more, which it removes (a change).
    """
    before = dict((name, service['Version']['Index']) for name, service in services(sandbox).items())
    tasks = task_ids(sandbox)
    checked = crane(run_playbook, task + ' (check)', check=True).result(task + ' (check)', 'node1')
    run = crane(run_playbook, task)
    result = run.result(task, 'node1')
    # Check mode tells what the run does: the removal of crane's unused config versions, nothing else.
    for outcome in (checked, result):
        assert outcome['changed'] is bool(removed_configs), outcome
        assert outcome['configs'] == {'created': [], 'removed': list(removed_configs)}, outcome
    assert result['services']['updated'] == {} and result['services']['created'] == []
    assert sorted(result['services']['unchanged']) == ['takeover_web', 'takeover_worker']
    assert dict((name, service['Version']['Index']) for name, service in services(sandbox).items()) == before
    assert task_ids(sandbox) == tasks


def test_cli_and_crane_take_turns_without_restarts(sandbox, takeover_swarm, run_playbook):
    cli_deploy(sandbox)
    wait_running(sandbox)
    assert_crane_leaves_it(sandbox, run_playbook, 'crane after the CLI')
    config_names = sandbox.docker('node1', 'config', 'ls', '--format', '{{.Name}}').stdout.split()
    assert config_names == ['takeover_settings']  # the CLI's config, reused: its content is the same

    tasks = task_ids(sandbox)
    cli_deploy(sandbox)
    time.sleep(2)  # a restart would have replaced a task by now (the update starts at once)
    assert task_ids(sandbox) == tasks

    assert_crane_leaves_it(sandbox, run_playbook, 'crane after the CLI again')


def test_cli_after_crane_restarts_no_task(sandbox, takeover_swarm, run_playbook):
    """crane sends what the CLI would (image tag, Privileges, order): the CLI's update restarts nothing.

    Only the service using the config rolls once: the CLI names it <stack>_<name>, crane adds a hash.
    """
    run = crane(run_playbook, 'crane first')
    assert sorted(run.result('crane first', 'node1')['services']['created']) == ['takeover_web', 'takeover_worker']
    worker = sandbox.docker('node1', 'service', 'ps', 'takeover_worker', '--filter', 'desired-state=running',
                            '--format', '{{.ID}}').stdout.split()
    cli_deploy(sandbox)
    time.sleep(2)  # a restart would have replaced the task by now (the update starts at once)
    assert sandbox.docker('node1', 'service', 'ps', 'takeover_worker', '--filter', 'desired-state=running',
                          '--format', '{{.ID}}').stdout.split() == worker
    wait_running(sandbox)
    crane_config = run.result('crane first', 'node1')['configs']['created']
    assert_crane_leaves_it(sandbox, run_playbook, 'crane after crane and the CLI', removed_configs=crane_config)
    assert_crane_leaves_it(sandbox, run_playbook, 'crane once more')


SECRET_COMPOSE = '''\
version: "3.8"
services:
  app:
    image: busybox:latest
    command: sleep 3600
    secrets: [token]
secrets:
  token:
    file: ./token.txt
'''


def test_a_cli_secret_is_kept_only_while_it_holds_the_files_content(sandbox, takeover_swarm, run_playbook):
    """The engine never returns a secret's data: crane keeps the CLI's secret only once the engine has
    accepted an update of it with the file's data (which it accepts only for the same data)."""
    folder = '/tmp/crane-takeover-secret-%s' % sandbox.tool.name  # the same path on the controller and node1
    os.makedirs(folder, exist_ok=True)
    for name, text in (('docker-compose.yml', SECRET_COMPOSE), ('token.txt', 'alpha\n')):
        with open(os.path.join(folder, name), 'w') as stream:
            stream.write(text)
        sandbox.exec('node1', 'sh', '-c', 'mkdir -p %s && cat > %s/%s' % (folder, folder, name), input_bytes=text.encode())
    sandbox.exec('node1', 'sh', '-c', 'cd %s && docker stack deploy --resolve-image never -c docker-compose.yml %s'
                 % (folder, STACK))
    version = services(sandbox)['takeover_app']['Version']['Index']

    def deploy(task, check=False):
        play = {'hosts': 'node1', 'gather_facts': False, 'tasks': [{'name': task, 'crane.swarm.swarm_stack': {
            'name': STACK, 'compose': os.path.join(folder, 'docker-compose.yml'), 'wait': False}}]}
        return run_playbook([play], check=check, diff=True).result(task, 'node1')

    predicted = deploy('check mode', check=True)
    assert any('check mode cannot tell' in warning for warning in predicted.get('warnings', [])), predicted
    assert sorted(predicted['services']['updated']) == ['takeover_app'], predicted  # shown as updated: unverified

    kept = deploy('same content')
    assert kept['changed'] is False, kept
    assert kept['services']['updated'] == {} and kept['secrets'] == {'created': [], 'removed': []}, kept
    assert services(sandbox)['takeover_app']['Version']['Index'] == version
    assert sandbox.docker('node1', 'secret', 'ls', '--format', '{{.Name}}').stdout.split() == ['takeover_token']

    with open(os.path.join(folder, 'token.txt'), 'w') as stream:
        stream.write('beta\n')
    replaced = deploy('new content')
    assert replaced['changed'] is True and sorted(replaced['services']['updated']) == ['takeover_app'], replaced
    assert [name.rsplit('_', 1)[0] for name in replaced['secrets']['created']] == ['takeover_token'], replaced
    assert replaced['secrets']['removed'] == ['takeover_token'], replaced  # the CLI's, no longer used
    assert deploy('again')['changed'] is False
