# Copyright: crane.swarm developers
# GNU General Public License v3.0+ (see https://www.gnu.org/licenses/gpl-3.0.txt)
"""The registry path of crane.swarm.stacks (with crane.swarm.engine) on the session sandbox's swarm.

The image archive path (every node loads the archive) runs in the molecule scenarios and `make demo`.
Here the engines start NOT trusting the sandbox's registries (the test takes back what the
`registries` fixture set up). The engine role then allows the plain registry as an insecure one:
the engine takes it on reload, so dockerd and its containers keep running and the swarm is left
alone. The stacks role runs twice in one playbook. For the plain registry it loads an archive (an
image no node has) into node1 only, pushes it anonymously, and deploys a stack that runs it on every
node, pinned by digest: node2 and node3 pulled it from the registry (no archive ever reached them).
For the secure registry (TLS from the sandbox's CA, htpasswd) it puts the CA in certs.d on every node,
pushes another archive with stacks_registry_username/password, and deploys a stack with
with_registry_auth: the workers pull it with the credentials the services carry (the role's default
stacks_registry_credentials), though no node has a docker config.json. Check mode before that pushes
and deploys nothing; a push with a wrong password fails, saying why, and is tried again by the next
run; a second run of both playbooks changes nothing; no form of a password shows in the -vvv output.
"""

from __future__ import annotations

import json
import urllib.error
import uuid

import pytest

import harness

STACK = 'regstack'
REPOSITORY = 'crane-role/app'
# The secure registry's stack and image: pushed with the account, pulled with the credentials the services carry.
SECURE_STACK = 'regsecure'
SECURE_REPOSITORY = 'crane-role/private'
DOCKER_CONFIG = '/root/.docker/config.json'
# The daemon.json crane.swarm.engine writes with its defaults: the cluster as the base roles left it.
ENGINE_DEFAULTS = {'log-driver': 'json-file', 'log-opts': {'max-size': '10m', 'max-file': '3'}, 'live-restore': False}


def engine_play(registries):
    return [{'name': 'engines allow the plain registry', 'hosts': 'swarm_managers:swarm_workers',
             'gather_facts': False,
             'vars': {'engine_daemon_options': {'insecure-registries': [registries.plain]}},
             'roles': ['crane.swarm.engine']}]


def stacks_play(registries, archives):
    """The stacks role for the plain registry (anonymous), then for the secure one (an account, a CA)."""
    image = '%s/%s:1' % (registries.plain, REPOSITORY)
    definition = {'Version': '0.1', 'Services': {
        'agent': {'Image': image, 'Command': ['sleep'], 'Args': ['3600'], 'Mode': {'Global': {}}},
        'worker': {'Image': image, 'Command': ['sleep'], 'Args': ['3600'], 'Replicas': 2}}}
    private = {'Version': '0.1', 'Services': {
        'agent': {'Image': '%s/%s:1' % (registries.secure, SECURE_REPOSITORY), 'Command': ['sleep'],
                  'Args': ['3600'], 'Mode': {'Global': {}}}}}
    return [{'name': 'stacks from the plain registry', 'hosts': 'node1', 'gather_facts': False,
             'vars': {
                 'stacks_registry': registries.plain,
                 'stacks_registry_archives': [archives['plain']],
                 'stacks_list': [{'name': STACK, 'definition': definition, 'resolve_image': 'always',
                                  'wait_timeout': 120}],
             },
             'roles': ['crane.swarm.stacks']},
            {'name': 'stacks from the secure registry', 'hosts': 'node1', 'gather_facts': False,
             'vars': {
                 'stacks_registry': registries.secure,
                 'stacks_registry_archives': [archives['secure']],
                 'stacks_registry_ca_files': {registries.secure: registries.ca_file},
                 'stacks_registry_username': registries.username,
                 # As a vault would give it (extra_vars): the playbook never holds it.
                 'stacks_registry_password': '{{ registry_password }}',
                 'stacks_list': [{'name': SECURE_STACK, 'definition': private, 'resolve_image': 'always',
                                  'with_registry_auth': True, 'wait_timeout': 120}],
             },
             'roles': ['crane.swarm.stacks']}]


def insecure_registries(sandbox, host):
    configs = sandbox.docker_json(host, 'info', '--format', '{{json .RegistryConfig.IndexConfigs}}')
    return sorted(name for name, config in configs.items() if not config['Secure'])


def engine_pid(sandbox, host):
    return sandbox.exec(host, 'systemctl', 'show', '-p', 'MainPID', '--value', 'docker.service').stdout.strip()


def write_daemon_json(sandbox, host, settings):
    sandbox.exec(host, 'sh', '-c', 'cat > /etc/docker/daemon.json',
                 input_bytes=(json.dumps(settings, indent=2) + '\n').encode())


def untrust_registries(sandbox, registries):
    """Take back what the registries fixture set up: no insecure registry, no CA in certs.d.

    A reload keeps the insecure registries when daemon.json has no such key, so the engines reload
    an empty list first; then daemon.json is the engine role's defaults, as the base roles left it.
    """
    for host in sandbox.hosts:
        sandbox.exec(host, 'rm', '-rf', '/etc/docker/certs.d')
        write_daemon_json(sandbox, host, dict(ENGINE_DEFAULTS, **{'insecure-registries': []}))
        sandbox.exec(host, 'systemctl', 'reload', 'docker.service')
    for host in sandbox.hosts:
        harness.wait_for('%s to forget the insecure registry' % host,
                         lambda host=host: registries.plain not in insecure_registries(sandbox, host), timeout=20)
        write_daemon_json(sandbox, host, ENGINE_DEFAULTS)


def saved_image(sandbox, name, path):
    """A `docker save` archive of `name`, an image no node has (busybox with a label of its own), on the controller."""
    sandbox.exec('node1', 'docker', 'import', '-c', 'CMD ["sh"]', '-c', 'LABEL crane.content=%s' % uuid.uuid4().hex,
                 '-', name, input_bytes=harness.sandbox_tool.busybox_tarball())
    saved = sandbox.tool.exec('node1', 'docker', 'save', name)
    sandbox.docker('node1', 'image', 'rm', name)
    path.write_bytes(saved.stdout)
    return str(path)


@pytest.fixture
def archives(sandbox, tmp_path):
    """The archives to push: {'plain': app.tar, 'secure': private.tar}."""
    return {'plain': saved_image(sandbox, '%s:1' % REPOSITORY, tmp_path / 'app.tar'),
            'secure': saved_image(sandbox, '%s:1' % SECURE_REPOSITORY, tmp_path / 'private.tar')}


@pytest.fixture
def registry_stack(sandbox, shared_swarm3, registries):
    yield
    for stack in (STACK, SECURE_STACK):
        sandbox.docker('node1', 'stack', 'rm', stack, check=False)
    for host in sandbox.hosts:
        sandbox.docker(host, 'rm', '--force', 'crane-canary', check=False)
    harness.wait_for('the stacks\' containers to go', lambda: not any(
        sandbox.docker(host, 'ps', '-aq', '--filter', 'label=com.docker.stack.namespace=' + stack).stdout.split()
        for host in sandbox.hosts for stack in (STACK, SECURE_STACK)), timeout=60)
    for host in sandbox.hosts:
        for repository in ('%s/%s' % (registries.plain, REPOSITORY), '%s/%s' % (registries.secure, SECURE_REPOSITORY)):
            images = sandbox.docker(host, 'image', 'ls', '-q', repository).stdout.split()
            if images:
                sandbox.docker(host, 'image', 'rm', '--force', *set(images), check=False)
        sandbox.exec(host, 'rm', '-rf', '/var/lib/crane-swarm/images')


def running_nodes(sandbox, service_name):
    """The nodes on which the service's tasks run (asserting that every task it wants running runs)."""
    running = sandbox.docker('node1', 'service', 'ps', service_name, '--filter', 'desired-state=running',
                             '--format', '{{.Node}} {{.CurrentState}}').stdout.splitlines()
    assert all(line.split()[1] == 'Running' for line in running), running
    return sorted(line.split()[0] for line in running)


def no_docker_config(sandbox):
    """No node has a docker config.json: no engine host ever logged in to a registry."""
    for host in sandbox.hosts:
        assert sandbox.exec(host, 'test', '-e', DOCKER_CONFIG, check=False).returncode != 0, host


def test_the_roles_trust_the_registries_push_once_and_every_node_pulls(
        sandbox, registries, registry_stack, archives, run_playbook):
    untrust_registries(sandbox, registries)
    image = '%s/%s:1' % (registries.plain, REPOSITORY)
    private = '%s/%s:1' % (registries.secure, SECURE_REPOSITORY)
    secret = {'registry_password': registries.password}
    no_docker_config(sandbox)
    pids, canaries = {}, {}
    for host in sandbox.hosts:
        for ref in (image, private):
            assert sandbox.docker(host, 'image', 'inspect', ref, check=False).returncode != 0  # no node has it
        sandbox.docker(host, 'run', '-d', '--name', 'crane-canary', 'busybox:latest', 'sleep', '3600')
        canaries[host] = sandbox.docker(host, 'inspect', '-f', '{{.State.StartedAt}}', 'crane-canary').stdout
        pids[host] = engine_pid(sandbox, host)

    engines = run_playbook(engine_play(registries))
    for host in sandbox.hosts:
        assert insecure_registries(sandbox, host) == [registries.plain]
        # Reloaded, not restarted: the same dockerd, its containers untouched, the node still in the swarm.
        assert engine_pid(sandbox, host) == pids[host]
        assert sandbox.docker(host, 'inspect', '-f', '{{.State.StartedAt}}', 'crane-canary').stdout == canaries[host]
        assert sandbox.swarm_state(host)['LocalNodeState'] == 'active'
        handler = engines.result('Restart docker', host)
        assert handler['changed'] and handler['invocation']['module_args']['state'] == 'reloaded', handler

    checked = run_playbook(stacks_play(registries, archives), check=True, verbosity=3, extra_vars=secret)
    assert checked.changed > 0, checked.stats  # the copies it would make
    assert sandbox.exec('node1', 'test', '-e', '/var/lib/crane-swarm/images', check=False).returncode != 0
    for ref in (image, private):
        with pytest.raises(urllib.error.HTTPError):  # nothing pushed
            registries.manifest_digest(ref)
    assert sandbox.docker('node1', 'stack', 'ls', '--format', '{{.Name}}').stdout.split() == []

    # A wrong password: the push fails, saying why, shows no form of either password, and forgets the copy.
    wrong = 'wrong-' + registries.password
    refused = run_playbook(stacks_play(registries, archives)[1:], verbosity=3, expect_failure=True,
                           extra_vars={'registry_password': wrong})
    assert 'pushing crane-role/private:1 to %s failed: ' % registries.secure in refused.output, refused.output[-3000:]
    assert sandbox.exec('node1', 'test', '-e', '/var/lib/crane-swarm/images/push/private.tar',
                        check=False).returncode != 0
    harness.assert_never_shown(refused, registries, wrong, registries.password)

    stacks = run_playbook(stacks_play(registries, archives), verbosity=3, extra_vars=secret)
    digest = registries.manifest_digest(image)
    pinned = '%s@%s' % (image, digest)
    for name in ('agent', 'worker'):
        service = sandbox.docker_json('node1', 'service', 'inspect', '%s_%s' % (STACK, name))[0]
        assert service['Spec']['TaskTemplate']['ContainerSpec']['Image'] == pinned
    assert running_nodes(sandbox, '%s_agent' % STACK) == sorted(sandbox.hosts)
    with open(registries.ca_file) as ca_file:
        ca = ca_file.read()
    for host in sandbox.hosts:
        assert sandbox.exec(host, 'cat', '/etc/docker/certs.d/%s/ca.crt' % registries.secure).stdout == ca
        by_digest = '%s/%s@%s' % (registries.plain, REPOSITORY, digest)
        assert by_digest in sandbox.docker_json(host, 'image', 'inspect', by_digest)[0]['RepoDigests']
    for host in ('node2', 'node3'):  # they pulled it: no archive was copied or loaded there
        assert sandbox.exec(host, 'test', '-e', '/var/lib/crane-swarm/images', check=False).returncode != 0
    for archive in ('app.tar', 'private.tar'):
        assert sandbox.exec('node1', 'test', '-f', '/var/lib/crane-swarm/images/push/' + archive).returncode == 0
    pushed = [entry for entry in stacks.tasks if entry['task'].endswith('Push the images to the registry')]
    assert [entry['result']['changed'] for entry in pushed] == [True, True], stacks.output[-3000:]

    # The secure registry: pushed with the account (it refuses anonymous pushes), the CA the role put in
    # certs.d trusted by every engine, and the workers, which never logged in, pulled with the credentials
    # the services carry.
    private_digest = registries.manifest_digest(private)
    service = sandbox.docker_json('node1', 'service', 'inspect', '%s_agent' % SECURE_STACK)[0]
    assert service['Spec']['TaskTemplate']['ContainerSpec']['Image'] == '%s@%s' % (private, private_digest)
    assert running_nodes(sandbox, '%s_agent' % SECURE_STACK) == sorted(sandbox.hosts)
    for host in ('node2', 'node3'):
        by_digest = '%s/%s@%s' % (registries.secure, SECURE_REPOSITORY, private_digest)
        assert by_digest in sandbox.docker_json(host, 'image', 'inspect', by_digest)[0]['RepoDigests']
    no_docker_config(sandbox)

    again_engines = run_playbook(engine_play(registries))
    again_stacks = run_playbook(stacks_play(registries, archives), verbosity=3, extra_vars=secret)
    assert again_engines.changed == 0, again_engines.stats
    assert again_stacks.changed == 0, again_stacks.output[-3000:]
    for host in sandbox.hosts:
        assert engine_pid(sandbox, host) == pids[host]
    for run in (checked, stacks, again_stacks):
        harness.assert_never_shown(run, registries)
