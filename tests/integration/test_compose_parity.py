# Copyright: crane.swarm developers
# GNU General Public License v3.0+ (see https://www.gnu.org/licenses/gpl-3.0.txt)
"""Parity: real public stack files give the same stack through crane.swarm as through `docker stack deploy`.

For each file under parity/stacks (sources and licences in parity/SOURCES.md), on the sandbox:

1. `docker stack deploy --resolve-image never -c FILE` on the manager, and a snapshot of the stack;
2. crane.swarm.swarm_stack `compose:` over that stack: no service, network, secret or config is written
   (the stack's objects keep their versions) and the task reports what it did;
3. the stack removed, then deployed by crane alone, and a second snapshot: the two snapshots,
   normalised, are equal except for what parity/allowed_differences.yml lists with its reason;
4. the CLI over crane's stack, then crane, twice: the second round changes nothing (no flip-flop).

The images are not pullable here (no registry): tasks do not start, which leaves every spec intact.
Named volumes are created by the tasks on their nodes, so the stacks' volumes are compared in the
services' mounts (driver, options and labels), which is where both tools write them.
The files are copied to the same absolute folder on the controller and on the manager, so relative
bind sources resolve to the same path for both tools.
"""

from __future__ import annotations

import fnmatch
import io
import os
import shutil
import tarfile
import time

import pytest
import yaml

HERE = os.path.dirname(os.path.abspath(__file__))
PARITY = os.path.join(HERE, 'parity')
STACKS = os.path.join(PARITY, 'stacks')
ALLOWED = os.path.join(PARITY, 'allowed_differences.yml')

# Values for the files' required variables, given to both tools the same way (the CLI's environment,
# crane's `env`); no .env file, which docker stack deploy does not read.
TRAEFIK_ENV = {'USERNAME': 'admin', 'HASHED_PASSWORD': '$apr1$stand$in', 'DOMAIN': 'parity.example.com',
               'EMAIL': 'ops@example.com'}
# stack name: (folder, compose file, variables)
FILES = {
    'swarmprom': ('swarmprom', 'docker-compose.yml', {}),
    'voting': ('voting', 'docker-stack.yml', {}),
    'atsea': ('atsea', 'docker-stack.yml', {}),
    'prometheus': ('prometheus', 'docker-stack.yml', {}),
    'elk': ('docker-elk', 'docker-stack.yml', {}),
    'portainer': ('portainer', 'docker-stack.yml', {}),
    'swarmpit': ('swarmpit', 'docker-compose.yml', {}),
    'dsr-swarmpit': ('dockerswarm-rocks-swarmpit', 'swarmpit.yml', {'DOMAIN': 'swarmpit.example.com'}),
    'dsr-traefik': ('dockerswarm-rocks-traefik', 'traefik.yml', TRAEFIK_ENV),
}
EXTERNAL_NETWORK = 'traefik-public'  # the dockerswarm.rocks files join it; it exists before them


def load_allowed():
    with open(ALLOWED) as stream:
        entries = yaml.safe_load(stream)
    for entry in entries:
        assert set(entry) == {'stacks', 'path', 'reason'} and entry['reason'].strip(), entry
        assert entry['stacks'] and set(entry['stacks']) <= set(FILES), entry
    return entries


# ---------------------------------------------------------------- snapshot and comparison (plain data)

def _drop(mapping, *keys):
    return dict((key, value) for key, value in mapping.items() if key not in keys)


def normalised_service(service, network_names, config_names, secret_names):
    """The spec the user wrote, with the engine's IDs turned into names; nothing else removed."""
    spec = service['Spec']
    task = spec.get('TaskTemplate') or {}
    networks = sorted(({'Target': network_names.get(item['Target'], item['Target']), 'Aliases': item.get('Aliases')}
                       for item in task.get('Networks') or []), key=lambda item: item['Target'])
    container = dict(task.get('ContainerSpec') or {})
    for key, names, id_key in (('Configs', config_names, 'ConfigID'), ('Secrets', secret_names, 'SecretID')):
        if key in container:
            container[key] = [dict(_drop(item, id_key), **{id_key: names.get(item[id_key], item[id_key])})
                              for item in container[key]]
    task = dict(_drop(task, 'Networks'), ContainerSpec=container)
    if networks:
        task['Networks'] = networks
    return dict(_drop(spec, 'TaskTemplate'), TaskTemplate=task)


def normalised_network(network):
    """What the stack asked for; the engine's allocation (subnet, VXLAN ID) and runtime state left out."""
    options = dict((key, value) for key, value in (network.get('Options') or {}).items()
                   if key != 'com.docker.network.driver.overlay.vxlanid_list')
    ipam = network.get('IPAM') or {}
    return {'Driver': network.get('Driver'), 'Scope': network.get('Scope'), 'Attachable': network.get('Attachable'),
            'Internal': network.get('Internal'), 'Ingress': network.get('Ingress'),
            'EnableIPv6': network.get('EnableIPv6'), 'Labels': network.get('Labels') or {}, 'Options': options,
            'IPAM': {'Driver': ipam.get('Driver'), 'Options': ipam.get('Options')}}


def differences(cli, crane, path=''):
    """[(path, cli value, crane value)] where the two trees differ; dict keys and list indexes in the path."""
    if isinstance(cli, dict) and isinstance(crane, dict):
        found = []
        for key in sorted(set(cli) | set(crane)):
            found += differences(cli.get(key), crane.get(key), '%s.%s' % (path, key) if path else key)
        return found
    if isinstance(cli, list) and isinstance(crane, list) and len(cli) == len(crane):
        found = []
        for index, (left, right) in enumerate(zip(cli, crane)):
            found += differences(left, right, '%s[%d]' % (path, index))
        return found
    return [] if cli == crane else [(path, cli, crane)]


def unexplained_and_stale(found, allowed, stack):
    """Differences no entry of this stack allows, and this stack's entries that allow none of them."""
    entries = [entry for entry in allowed if stack in entry['stacks']]
    unexplained = [item for item in found if not any(fnmatch.fnmatchcase(item[0], entry['path']) for entry in entries)]
    stale = [entry for entry in entries if not any(fnmatch.fnmatchcase(item[0], entry['path']) for item in found)]
    return unexplained, stale


def test_the_comparison_finds_and_places_differences():
    """The comparison itself, on plain data: a test of this file's own logic, which the parity relies on."""
    cli = {'services': {'a': {'Labels': {'x': '1'}, 'Args': ['1', '2']}}, 'networks': {'n': {'Driver': 'overlay'}}}
    crane = {'services': {'a': {'Labels': {'x': '1', 'y': '2'}, 'Args': ['1', '3']}}, 'networks': {'n': {'Driver': 'overlay'}}}
    found = differences(cli, crane)
    assert found == [('services.a.Args[1]', '2', '3'), ('services.a.Labels.y', None, '2')]
    allowed = [{'stacks': ['s'], 'path': 'services.*.Labels.y', 'reason': 'r'},
               {'stacks': ['other', 's'], 'path': 'networks.n.Options', 'reason': 'r'},
               {'stacks': ['other'], 'path': 'services.a.Args[[]1]', 'reason': 'r'}]
    unexplained, stale = unexplained_and_stale(found, allowed, 's')
    assert unexplained == [('services.a.Args[1]', '2', '3')]
    assert stale == [allowed[1]]
    assert differences(cli, cli) == []


# ---------------------------------------------------------------- on the sandbox

def snapshot(sandbox, stack):
    """The stack's services, networks, secrets and configs as plain data keyed by name; object versions."""
    label = 'label=com.docker.stack.namespace=' + stack

    def inspect_all(kind, extra=()):
        ids = sandbox.docker('node1', kind, 'ls', '-q', '--filter', label, *extra).stdout.split()
        return sandbox.docker_json('node1', kind, 'inspect', *ids) if ids else []

    networks = inspect_all('network')
    configs = inspect_all('config')
    secrets = inspect_all('secret')
    services = inspect_all('service')
    network_names = dict((item['Id'], item['Name']) for item in networks)
    network_names.update((item['Id'], item['Name']) for item in sandbox.docker_json('node1', 'network', 'inspect', EXTERNAL_NETWORK))
    config_names = dict((item['ID'], item['Spec']['Name']) for item in configs)
    secret_names = dict((item['ID'], item['Spec']['Name']) for item in secrets)
    state = {
        'services': dict((item['Spec']['Name'], normalised_service(item, network_names, config_names, secret_names))
                         for item in services),
        'networks': dict((item['Name'], normalised_network(item)) for item in networks),
        'configs': dict((item['Spec']['Name'], _drop(item['Spec'], 'Name')) for item in configs),
        'secrets': dict((item['Spec']['Name'], _drop(item['Spec'], 'Name')) for item in secrets),
    }
    # Secrets are left out: crane tells whether the CLI's secret holds the file's data by updating it with
    # those data (the engine accepts that only when they are the same), which moves its version and nothing else.
    versions = dict(('%s %s' % (kind, item.get('ID') or item.get('Id')), (item.get('Version') or {}).get('Index'))
                    for kind, items in (('service', services), ('config', configs)) for item in items)
    versions.update(('secret %s' % item['ID'], item['Spec']['Name']) for item in secrets)
    versions.update(('network %s' % item['Id'], item['Name']) for item in networks)
    return state, versions


def stack_folder(sandbox):
    """The same absolute folder on the controller and on the manager (each is its own machine)."""
    return '/tmp/crane-parity-%s' % sandbox.tool.name


def copy_stacks(sandbox):
    folder = stack_folder(sandbox)
    shutil.rmtree(folder, ignore_errors=True)
    shutil.copytree(STACKS, folder)
    archive = io.BytesIO()
    with tarfile.open(fileobj=archive, mode='w') as tar:
        tar.add(STACKS, arcname='.')
    sandbox.exec('node1', 'sh', '-c', 'rm -rf {0} && mkdir -p {0} && tar -C {0} -xf -'.format(folder),
                 input_bytes=archive.getvalue())
    return folder


def cli_deploy(sandbox, folder, stack):
    directory, compose_file, variables = FILES[stack]
    assignments = ' '.join("%s='%s'" % item for item in sorted(variables.items()))
    sandbox.exec('node1', 'sh', '-c', 'cd %s/%s && env %s docker stack deploy --resolve-image never -c %s %s'
                 % (folder, directory, assignments, compose_file, stack))


def crane_play(folder, stack, task, state='present'):
    directory, compose_file, variables = FILES[stack]
    options = {'name': stack, 'state': state}
    if state == 'present':
        options.update({'compose': os.path.join(folder, directory, compose_file), 'resolve_image': 'never',
                        'wait': False})
        if variables:
            options['env'] = variables
    return {'hosts': 'node1', 'gather_facts': False, 'tasks': [{'name': task, 'crane.swarm.swarm_stack': options}]}


def crane(run_playbook, folder, stack, task, state='present'):
    return run_playbook([crane_play(folder, stack, task, state)], diff=True).result(task, 'node1')


def written(result):
    """What a swarm_stack result says it wrote, as difference paths (none for a run that wrote nothing)."""
    paths = ['takeover.services.updated.%s' % name for name in sorted(result['services']['updated'])]
    paths += ['takeover.services.created.%s' % name for name in result['services']['created']]
    for kind in ('networks', 'secrets', 'configs'):
        for action in ('created', 'removed'):
            paths += ['takeover.%s.%s.%s' % (kind, action, name) for name in (result.get(kind) or {}).get(action) or []]
    return paths


def remove_stack(sandbox, run_playbook, folder, stack):
    crane(run_playbook, folder, stack, 'remove ' + stack, state='absent')
    deadline = time.monotonic() + 60
    while sandbox.docker('node1', 'network', 'ls', '-q', '--filter', 'label=com.docker.stack.namespace=' + stack).stdout:
        assert time.monotonic() < deadline, 'the networks of %s were not removed' % stack
        time.sleep(1)


@pytest.fixture(scope='module')
def parity_swarm(sandbox, shared_swarm3):
    sandbox.docker('node1', 'network', 'create', '--driver', 'overlay', '--attachable', EXTERNAL_NETWORK, check=False)
    folder = copy_stacks(sandbox)
    yield folder
    for stack in FILES:
        sandbox.docker('node1', 'stack', 'rm', stack, check=False)
    time.sleep(5)
    sandbox.docker('node1', 'network', 'rm', EXTERNAL_NETWORK, check=False)
    shutil.rmtree(folder, ignore_errors=True)


@pytest.mark.parametrize('stack', sorted(FILES))
def test_a_public_stack_file_deploys_as_the_cli_deploys_it(sandbox, parity_swarm, run_playbook, stack):
    allowed = load_allowed()
    try:
        problems = parity_problems(sandbox, run_playbook, parity_swarm, stack, allowed)
    finally:
        remove_stack(sandbox, run_playbook, parity_swarm, stack)
    assert not problems, '%s differs from the CLI where parity/allowed_differences.yml says nothing:\n  %s' % (
        stack, '\n  '.join(problems))


def parity_problems(sandbox, run_playbook, folder, stack, allowed):
    problems = []

    # 1, 2: the CLI's stack, then crane over it.
    cli_deploy(sandbox, folder, stack)
    by_cli, cli_versions = snapshot(sandbox, stack)
    assert by_cli['services'], 'the CLI deployed no service of %s' % stack
    takeover = crane(run_playbook, folder, stack, 'crane over the CLI')
    wrote = written(takeover)
    assert takeover['changed'] is bool(wrote), takeover
    found = [(path, None, 'written') for path in wrote]
    after_takeover, takeover_versions = snapshot(sandbox, stack)
    if not wrote:
        assert takeover_versions == cli_versions, 'crane wrote to the stack but reported nothing'
        assert after_takeover == by_cli

    # 3: crane alone, compared with the CLI's.
    remove_stack(sandbox, run_playbook, folder, stack)
    first = crane(run_playbook, folder, stack, 'crane first')
    assert first['changed'] is True and sorted(first['services']['created']) == sorted(by_cli['services'])
    by_crane, dummy = snapshot(sandbox, stack)
    found += differences(by_cli, by_crane)

    # 4: the CLI and crane in turn; the second round must change nothing.
    for round_number in (1, 2):
        cli_deploy(sandbox, folder, stack)
        again = crane(run_playbook, folder, stack, 'crane after the CLI, round %d' % round_number)
        if round_number == 2:
            found += [(path.replace('takeover.', 'round2.', 1), None, 'written') for path in written(again)]
            if not written(again):
                assert again['changed'] is False, again

    unexplained, stale = unexplained_and_stale(found, allowed, stack)
    for path, cli_value, crane_value in unexplained:
        problems.append('%s: CLI %r, crane %r' % (path, cli_value, crane_value))
    for entry in stale:
        problems.append('stale allow-list entry (no such difference in %s any more): %s' % (stack, entry['path']))
    return problems
