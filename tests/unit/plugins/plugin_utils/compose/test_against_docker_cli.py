# Copyright: crane.swarm developers
# GNU General Public License v3.0+ (see https://www.gnu.org/licenses/gpl-3.0.txt)
"""The compose reader against the docker CLI itself: `docker stack config` prints what
`docker stack deploy` reads (its loader: interpolation, short syntaxes, version check)
without an engine. Drawn inputs go to both; the answers must agree, errors included.

Skipped, saying so, where no docker CLI is installed.
"""

from __future__ import annotations

import json
import os
import shutil
import subprocess

import pytest
import yaml
from hypothesis import HealthCheck, example, given, settings, strategies as st

from ansible_collections.crane.swarm.plugins.module_utils.common.durations import parse_duration
from ansible_collections.crane.swarm.plugins.module_utils.common.sizes import parse_cpus, parse_size
from ansible_collections.crane.swarm.plugins.module_utils.stacks.spec import tagged_image
from ansible_collections.crane.swarm.plugins.plugin_utils.compose.convert import compose_to_bundle
from ansible_collections.crane.swarm.plugins.plugin_utils.compose.errors import ComposeError
from ansible_collections.crane.swarm.plugins.plugin_utils.compose.read import read_compose

DOCKER = shutil.which('docker')
pytestmark = pytest.mark.skipif(DOCKER is None, reason='no docker CLI here: `docker stack config` cannot be asked')
STACK = 's'
ENV = {'A': 'a', 'B': '', 'AB_C': 'x y'}  # C and D stay unset
CLI_SETTINGS = settings(max_examples=120, deadline=None, suppress_health_check=[HealthCheck.too_slow])


def cli_config(tmp_dir, text, env=None):
    """(the CLI's compose mapping, None) or (None, its error) for one compose file's text, or a list of
    them given as repeated -c in order."""
    argv = [DOCKER, 'stack', 'config']
    for index, file_text in enumerate(text if isinstance(text, list) else [text]):
        path = os.path.join(tmp_dir, 'file%d.yml' % index)
        with open(path, 'w', encoding='utf-8') as compose_file:
            compose_file.write(file_text)
        argv += ['-c', path]
    process_env = dict(env or {}, PATH=os.environ.get('PATH', ''), HOME=tmp_dir, DOCKER_CONFIG=tmp_dir)
    completed = subprocess.run(argv, capture_output=True, text=True, env=process_env, timeout=30, check=False)
    if completed.returncode != 0:
        return None, completed.stderr.strip()
    return yaml.safe_load(completed.stdout), None


def crane_service(text, env=None):
    """(our bundle service `web`, None) or (None, our error) for one compose file."""
    try:
        project, _warnings = read_compose([('docker-stack.yml', text)], dict(env or {}))
        bundle, _notes = compose_to_bundle(project, STACK)
    except ComposeError as error:
        return None, str(error)
    return bundle['Services']['web'], None


def service_text(**keys):
    service = dict({'image': 'nginx'}, **keys)
    return json.dumps({'services': {'web': service}, 'volumes': {'data': {}}})


# ---------------------------------------------------------------- interpolation

TEMPLATE_PIECES = st.sampled_from(['$', '$$', '{', '}', ':', '-', '?', 'A', 'B', 'C', 'AB_C', '_', 'x', ' ', '.',
                                   '${A}', '${C}', '${A:-d}', '${C:-d}', '${B:-d}', '${B-d}', '${C-d}',
                                   '${C:?gone}', '${B:?empty}', '${A?set}', '$A', '$C', '{{.Node.Hostname}}'])


@CLI_SETTINGS
@given(st.lists(TEMPLATE_PIECES, max_size=8).map(''.join))
def test_interpolation_gives_what_the_cli_gives(tmp_path_factory, template):
    text = service_text(labels={'t': template})
    theirs, their_error = cli_config(str(tmp_path_factory.mktemp('cli')), text, ENV)
    ours, our_error = crane_service(text, ENV)
    assert (their_error is None) == (our_error is None), (template, their_error, our_error)
    if theirs is not None:
        assert ours['ContainerLabels']['t'] == theirs['services']['web']['labels']['t'], template


# ---------------------------------------------------------------- ports, short syntax

PORT_NUMBERS = ['80', '8080', '1', '65535', '65536', '80-81', '81-80', '9000-9001', 'x', '']
# Target 0 is left out: the CLI's loader lets it through to the engine, crane refuses it at once.
TARGETS = st.sampled_from(PORT_NUMBERS)
PUBLISHED = st.sampled_from(PORT_NUMBERS + ['0', '0-1'])


@st.composite
def short_ports(draw):
    text = draw(TARGETS)
    if draw(st.booleans()):
        text = draw(PUBLISHED) + ':' + text
        if draw(st.booleans()):
            text = draw(st.sampled_from(['127.0.0.1', '0.0.0.0', '[::1]', 'host'])) + ':' + text
    if draw(st.booleans()):
        text += '/' + draw(st.sampled_from(['tcp', 'udp', 'sctp', 'TCP', 'http', '']))
    return text


def _port_order(port):
    # docker stack deploy sends ports sorted by published port (convert/service.go); `stack config` prints them as
    # written: compared in the deploy's order.
    return (port['PublishedPort'] or 0, port['Port'], port['Protocol'])


def their_ports(entries):
    return [dict(Port=entry['target'], PublishedPort=entry.get('published'), Protocol=entry.get('protocol') or 'tcp',
                 PublishMode=entry.get('mode') or 'ingress') for entry in entries]


def our_ports(entries):
    return [dict(Port=entry['Port'], PublishedPort=entry.get('PublishedPort'), Protocol=entry.get('Protocol') or 'tcp',
                 PublishMode=entry.get('PublishMode') or 'ingress') for entry in entries]


@CLI_SETTINGS
@given(st.lists(short_ports(), min_size=1, max_size=3))
def test_short_ports_give_what_the_cli_gives(tmp_path_factory, ports):
    text = service_text(ports=ports)
    theirs, their_error = cli_config(str(tmp_path_factory.mktemp('cli')), text)
    ours, our_error = crane_service(text)
    if theirs is not None:
        published = [(entry.get('published'), entry.get('protocol')) for entry in theirs['services']['web']['ports']
                     if entry.get('published') is not None]
        if len(set(published)) < len(published):
            their_error = 'the swarm refuses a port published twice'
    assert (their_error is None) == (our_error is None), (ports, their_error, our_error)
    if their_error is None:
        published = [int(entry['published']) if entry.get('published') is not None else None
                     for entry in theirs['services']['web'].get('ports', [])]
        expected = [dict(entry, PublishedPort=number)
                    for entry, number in zip(their_ports(theirs['services']['web'].get('ports', [])), published)]
        assert sorted(our_ports(ours.get('Ports', [])), key=_port_order) == sorted(expected, key=_port_order), ports


# ---------------------------------------------------------------- volumes, short syntax

@st.composite
def short_volumes(draw):
    target = draw(st.sampled_from(['/srv', '/srv/a', 'relative', '/srv:x']))
    # An undeclared volume is refused by `docker stack deploy` (convert), not by the loader `stack config` runs.
    source = draw(st.sampled_from([None, 'data', '/abs', '/abs/b']))
    text = target if source is None else source + ':' + target
    if draw(st.booleans()):
        modes = draw(st.lists(st.sampled_from(['ro', 'rw', 'z', 'Z', 'nocopy', 'shared', 'rshared', 'slave',
                                               'rslave', 'private', 'rprivate', 'consistent', 'cached',
                                               'delegated', 'bogus']), min_size=1, max_size=3))
        text += ':' + ','.join(modes)
    return text


def their_mounts(entries):
    mounts = []
    for entry in entries:
        source = entry.get('source')  # a stack volume keeps its compose name in the bundle's Mounts
        mounts.append(dict(Type=entry['type'], Source=source, Target=entry['target'],
                           ReadOnly=bool(entry.get('read_only')), Consistency=entry.get('consistency'),
                           Propagation=(entry.get('bind') or {}).get('propagation'),
                           NoCopy=bool((entry.get('volume') or {}).get('nocopy'))))
    return mounts


def our_mounts(entries):
    return [dict(Type=entry['Type'], Source=entry.get('Source'), Target=entry['Target'],
                 ReadOnly=bool(entry.get('ReadOnly')), Consistency=entry.get('Consistency'),
                 Propagation=(entry.get('BindOptions') or {}).get('Propagation'),
                 NoCopy=bool((entry.get('VolumeOptions') or {}).get('NoCopy'))) for entry in entries]


def deploy_refuses(entry):
    """What the CLI's loader lets through and its deploy (convert/volume.go) or the engine refuses:
    crane refuses it at once."""
    return (not entry['target'].startswith('/')  # the engine: the target must be absolute
            or (entry['type'] == 'volume' and 'bind' in entry)  # bind options are incompatible with type volume
            or (entry['type'] == 'bind' and 'volume' in entry))  # volume options are incompatible with type bind


@CLI_SETTINGS
@given(st.lists(short_volumes(), min_size=1, max_size=2))
def test_short_volumes_give_what_the_cli_gives(tmp_path_factory, volumes):
    text = service_text(volumes=volumes)
    theirs, their_error = cli_config(str(tmp_path_factory.mktemp('cli')), text)
    ours, our_error = crane_service(text)
    if theirs is not None and any(deploy_refuses(entry) for entry in theirs['services']['web'].get('volumes', [])):
        their_error = 'refused by docker stack deploy or the engine'
    assert (their_error is None) == (our_error is None), (volumes, their_error, our_error)
    if theirs is not None and their_error is None:
        assert our_mounts(ours.get('Mounts', [])) == their_mounts(theirs['services']['web'].get('volumes', [])), volumes


# ---------------------------------------------------------------- several files, merged

def service_keys():
    return st.fixed_dictionaries({}, optional={
        'image': st.sampled_from(['a', 'b:1']),
        'command': st.one_of(st.sampled_from(['echo "a b"', 'run -x', '']),
                             st.lists(st.sampled_from(['x', 'y z']), max_size=2)),
        'environment': st.one_of(
            st.dictionaries(st.sampled_from(['A', 'B', 'C']), st.one_of(st.none(), st.sampled_from(['1', '', 'v w']))),
            st.lists(st.sampled_from(['A=1', 'B=2', 'C', 'A=', 'C=x=y']), max_size=3, unique=True)),
        'labels': st.dictionaries(st.sampled_from(['l1', 'l2']), st.sampled_from(['x', ''])),
        'ports': st.lists(st.sampled_from(['80', '8080:80', '9000:90/udp', '8081:81']), max_size=2, unique=True),
        'volumes': st.lists(st.sampled_from(['data:/srv', '/h:/srv', '/h:/other:ro', 'data:/d:nocopy']),
                            max_size=2, unique=True),
        'deploy': st.fixed_dictionaries({}, optional={
            'replicas': st.integers(0, 3),
            'labels': st.dictionaries(st.sampled_from(['d1', 'd2']), st.sampled_from(['x', 'y']))}),
    })


def their_service(service):
    """The parts of a service from `docker stack config` that this test compares, in bundle terms."""
    deploy = service.get('deploy') or {}
    environment = service.get('environment') or {}
    return {
        'Image': tagged_image(service['image']) if service.get('image') else None,  # the client tags it
        'Args': service.get('command'),
        'Env': sorted(key if value is None else '%s=%s' % (key, value) for key, value in environment.items()) or None,
        'ContainerLabels': service.get('labels') or {},
        'Labels': deploy.get('labels') or {},
        'Replicas': 1 if deploy.get('replicas') is None else deploy['replicas'],  # convertDeployMode's default
        'Ports': sorted(their_ports(service.get('ports') or []), key=_port_order),
        'Mounts': sorted(map(json.dumps, their_mounts(service.get('volumes') or []))),
    }


def our_service(service):
    mode = service.get('Mode') or {}
    replicas = service.get('Replicas', (mode.get('Replicated') or {}).get('Replicas'))
    labels = dict(service.get('ContainerLabels') or {})
    return {
        'Image': service.get('Image'),
        'Args': service.get('Args'),
        'Env': service.get('Env') or None,
        'ContainerLabels': labels,
        # docker stack config prints the file, not the label docker stack deploy adds when it deploys
        'Labels': dict((key, value) for key, value in (service.get('Labels') or {}).items()
                       if key != 'com.docker.stack.image'),
        'Replicas': 1 if replicas is None else replicas,  # the bundle's default
        'Ports': sorted(our_ports(service.get('Ports') or []), key=_port_order),
        'Mounts': sorted(map(json.dumps, our_mounts(service.get('Mounts') or []))),
    }


@CLI_SETTINGS
@given(st.lists(service_keys(), min_size=2, max_size=3))
# Cases the drawing found once and must not lose: an empty label replaces, an unset environment value takes
# the variable before the merge, an empty list over none stays none.
@example([{'image': 'a', 'labels': {'l1': 'x'}}, {'labels': {'l1': ''}}])
@example([{'environment': {'A': '1'}, 'image': 'base'}, {'environment': {'A': None}}])
@example([{'image': 'base'}, {'ports': []}, {'ports': ['8080:80', '80']}])
def test_several_files_merge_as_the_cli_merges_them(tmp_path_factory, services):
    services[0].setdefault('image', 'base')
    texts = [json.dumps({'services': {'web': service}, 'volumes': {'data': {}}}) for service in services]
    theirs, their_error = cli_config(str(tmp_path_factory.mktemp('cli')), texts, ENV)
    try:
        project, _warnings = read_compose([('file%d.yml' % index, text) for index, text in enumerate(texts)], ENV)
        bundle, _notes = compose_to_bundle(project, STACK, env=ENV)
    except ComposeError as error:
        assert their_error is not None, (services, str(error))
        return
    assert their_error is None, (services, their_error)
    assert our_service(bundle['Services']['web']) == their_service(theirs['services']['web']), services


# ---------------------------------------------------------------- the other service keys

DURATIONS = st.sampled_from(['10s', '1m30s', '500ms', '0s', '2h', '1.5s', '90', 'abc'])
SIZES = st.sampled_from(['512M', '1g', '8M', '64k', '100', '1.5m', 'lots', '0'])
CPUS = st.sampled_from(['0.5', '1', '0.25', '2.0'])
SMALL = st.integers(0, 5)


def _optional(**strategies):
    return st.fixed_dictionaries({}, optional=strategies)


def update_configs(actions):
    return _optional(parallelism=SMALL, delay=DURATIONS, failure_action=st.sampled_from(actions), monitor=DURATIONS,
                     max_failure_ratio=st.sampled_from([0, 0.3, 1]), order=st.sampled_from(['stop-first', 'start-first']))


DEPLOY = _optional(
    mode=st.sampled_from(['replicated', 'global']),
    endpoint_mode=st.sampled_from(['vip', 'dnsrr']),
    resources=_optional(limits=_optional(cpus=CPUS, memory=SIZES, pids=SMALL),
                        reservations=_optional(cpus=CPUS, memory=SIZES)),
    restart_policy=_optional(condition=st.sampled_from(['none', 'on-failure', 'any']), delay=DURATIONS,
                             max_attempts=SMALL, window=DURATIONS),
    update_config=update_configs(['continue', 'pause', 'rollback']),
    rollback_config=update_configs(['continue', 'pause']),
    placement=_optional(constraints=st.lists(st.sampled_from(['node.role==manager', 'node.labels.a != b']),
                                             max_size=2, unique=True),
                        preferences=st.lists(st.just({'spread': 'node.labels.zone'}), max_size=1),
                        max_replicas_per_node=SMALL),
)

OTHER_KEYS = _optional(
    healthcheck=st.one_of(
        _optional(test=st.sampled_from(['curl x', ['CMD', 'true'], ['CMD-SHELL', 'exit 0'], ['NONE']]),
                  interval=DURATIONS, timeout=DURATIONS, retries=SMALL, start_period=DURATIONS,
                  start_interval=DURATIONS),
        st.just({'disable': True})),
    stop_grace_period=DURATIONS,
    logging=_optional(driver=st.sampled_from(['json-file', 'syslog']),
                      options=st.dictionaries(st.sampled_from(['max-size', 'max-file']), st.sampled_from(['10m', '3', 3]),
                                              min_size=1)),
    # oom_score_adj is left out: `docker stack config` (CLI 28.2) prints nothing of it, so there is nothing to compare.
    isolation=st.sampled_from(['default', 'process']),
    stdin_open=st.booleans(),
    ulimits=st.dictionaries(st.sampled_from(['nofile', 'nproc']),
                            st.one_of(SMALL, st.builds(lambda soft, extra: {'soft': soft, 'hard': soft + extra},
                                                       SMALL, SMALL))),
    extra_hosts=st.lists(st.sampled_from(['a:1.2.3.4', 'b=5.6.7.8', 'c:::1']), max_size=2, unique=True),
    dns=st.one_of(st.just('8.8.8.8'), st.lists(st.sampled_from(['1.1.1.1', '9.9.9.9']), max_size=2, unique=True)),
    dns_search=st.sampled_from(['example.org', ['a.example', 'b.example']]),
    user=st.sampled_from(['1000', 'app:app']),
    working_dir=st.just('/srv'),
    hostname=st.just('{{.Node.Hostname}}'),
    stop_signal=st.just('SIGINT'),
    init=st.booleans(),
    tty=st.booleans(),
    read_only=st.booleans(),
    cap_add=st.lists(st.sampled_from(['NET_ADMIN', 'SYS_TIME']), max_size=2, unique=True),
    cap_drop=st.lists(st.sampled_from(['ALL', 'CHOWN']), max_size=2, unique=True),
)


def _duration(value):
    return None if value is None else parse_duration(value, 'x')


def _size(value):
    return None if value is None else parse_size(value, 'x') or None  # 0: no limit, printed as nothing


def _cpus(value):
    return None if value is None else float(parse_cpus(value, 'x')) or None


def _compact(mapping):
    """Without None, so that "not set" reads the same on both sides."""
    if isinstance(mapping, dict):
        kept = dict((key, _compact(value)) for key, value in mapping.items() if value is not None)
        return dict((key, value) for key, value in kept.items() if value != {})
    return mapping


def _update_view(config, keys):
    # Delay, Monitor and the ratio are plain values in the CLI's types: 0 prints as nothing, and sends 0 either way.
    return {'Parallelism': config.get(keys[0]), 'Delay': _duration(config.get(keys[1])) or None,
            'FailureAction': config.get(keys[2]), 'Monitor': _duration(config.get(keys[3])) or None,
            'MaxFailureRatio': config.get(keys[4]) or None, 'Order': config.get(keys[5])}


UPDATE_KEYS = ('parallelism', 'delay', 'failure_action', 'monitor', 'max_failure_ratio', 'order')
BUNDLE_UPDATE_KEYS = ('Parallelism', 'Delay', 'FailureAction', 'Monitor', 'MaxFailureRatio', 'Order')


def their_view(service):
    """`docker stack config`'s service in the terms compared here."""
    deploy = service.get('deploy') or {}
    resources = deploy.get('resources') or {}
    limits, reservations = resources.get('limits') or {}, resources.get('reservations') or {}
    restart = deploy.get('restart_policy') or {}
    placement = deploy.get('placement') or {}
    health = service.get('healthcheck')
    if health is not None:
        health = ({'Test': ['NONE']} if health.get('disable') else
                  {'Test': health.get('test'), 'Interval': _duration(health.get('interval')),
                   'Timeout': _duration(health.get('timeout')), 'Retries': health.get('retries'),
                   'StartPeriod': _duration(health.get('start_period')),
                   'StartInterval': _duration(health.get('start_interval'))})
    logging = service.get('logging')
    ulimits = service.get('ulimits') or {}
    return _compact({
        'Mode': 'global' if deploy.get('mode') == 'global' else 'replicated',
        'EndpointMode': deploy.get('endpoint_mode'),
        'Limits': {'CPUs': _cpus(limits.get('cpus')), 'Memory': _size(limits.get('memory')), 'Pids': limits.get('pids') or None},
        'Reservations': {'CPUs': _cpus(reservations.get('cpus')), 'Memory': _size(reservations.get('memory'))},
        'RestartPolicy': {'Condition': restart.get('condition'), 'Delay': _duration(restart.get('delay')),
                          'MaxAttempts': restart.get('max_attempts'), 'Window': _duration(restart.get('window'))},
        'UpdateConfig': _update_view(deploy.get('update_config') or {}, UPDATE_KEYS),
        'RollbackConfig': _update_view(deploy.get('rollback_config') or {}, UPDATE_KEYS),
        'Placement': {'Constraints': sorted(placement.get('constraints') or []) or None,
                      'Preferences': [entry['spread'] for entry in placement.get('preferences') or []] or None,
                      'MaxReplicas': placement.get('max_replicas_per_node') or None},
        'Healthcheck': health,
        'StopGracePeriod': _duration(service.get('stop_grace_period')),
        'LogDriver': logging and {'Name': logging.get('driver'), 'Options': logging.get('options') or None},
        # `nofile: 0` prints as {} (Go's zero values left out).
        'Ulimits': sorted((name, value, value) if isinstance(value, int)
                          else (name, value.get('soft', 0), value.get('hard', 0))
                          for name, value in ulimits.items()) or None,
        'Hosts': ['%s %s' % (entry.split(':', 1)[1], entry.split(':', 1)[0])
                  for entry in service.get('extra_hosts') or []] or None,
        'Nameservers': service.get('dns'), 'Search': service.get('dns_search'),
        'User': service.get('user'), 'WorkingDir': service.get('working_dir'), 'Hostname': service.get('hostname'),
        'StopSignal': service.get('stop_signal'), 'Init': service.get('init'), 'TTY': service.get('tty') or None,
        'ReadOnly': service.get('read_only') or None,
        'CapabilityAdd': service.get('cap_add') or None, 'CapabilityDrop': service.get('cap_drop') or None,
        'Isolation': service.get('isolation'),
        'StdinOpen': service.get('stdin_open') or None,
    })


def our_view(service):
    """Our bundle service in the same terms."""
    resources = service.get('Resources') or {}
    limits, reservations = resources.get('Limits') or {}, resources.get('Reservations') or {}
    restart = service.get('RestartPolicy') or {}
    placement = service.get('Placement') or {}
    health = service.get('Healthcheck')
    if health is not None:
        test = health.get('Test')
        health = {'Test': ['CMD-SHELL', test] if isinstance(test, str) else test,
                  'Interval': _duration(health.get('Interval')), 'Timeout': _duration(health.get('Timeout')),
                  'Retries': health.get('Retries'), 'StartPeriod': _duration(health.get('StartPeriod')),
                  'StartInterval': _duration(health.get('StartInterval'))}
    logging = service.get('LogDriver')
    dns = service.get('DNSConfig') or {}
    return _compact({
        'Mode': 'global' if 'Global' in (service.get('Mode') or {}) else 'replicated',
        'EndpointMode': service.get('EndpointMode'),
        'Limits': {'CPUs': _cpus(limits.get('CPUs')), 'Memory': _size(limits.get('Memory')), 'Pids': limits.get('Pids') or None},
        'Reservations': {'CPUs': _cpus(reservations.get('CPUs')), 'Memory': _size(reservations.get('Memory'))},
        'RestartPolicy': {'Condition': restart.get('Condition'), 'Delay': _duration(restart.get('Delay')),
                          'MaxAttempts': restart.get('MaxAttempts'), 'Window': _duration(restart.get('Window'))},
        'UpdateConfig': _update_view(service.get('UpdateConfig') or {}, BUNDLE_UPDATE_KEYS),
        'RollbackConfig': _update_view(service.get('RollbackConfig') or {}, BUNDLE_UPDATE_KEYS),
        'Placement': {'Constraints': sorted(placement.get('Constraints') or []) or None,
                      'Preferences': [entry['Spread'] for entry in placement.get('Preferences') or []] or None,
                      'MaxReplicas': placement.get('MaxReplicas') or None},
        'Healthcheck': health,
        'StopGracePeriod': _duration(service.get('StopGracePeriod')),
        'LogDriver': logging and {'Name': logging.get('Name'), 'Options': logging.get('Options') or None},
        'Ulimits': sorted((entry['Name'], entry['Soft'], entry['Hard']) for entry in service.get('Ulimits') or []) or None,
        'Hosts': service.get('Hosts') or None,
        'Nameservers': dns.get('Nameservers') or None, 'Search': dns.get('Search') or None,
        'User': service.get('User'), 'WorkingDir': service.get('WorkingDir'), 'Hostname': service.get('Hostname'),
        'StopSignal': service.get('StopSignal'), 'Init': service.get('Init'), 'TTY': service.get('TTY') or None,  # false: what the API leaves out
        'ReadOnly': service.get('ReadOnly') or None,
        'CapabilityAdd': service.get('CapabilityAdd') or None, 'CapabilityDrop': service.get('CapabilityDrop') or None,
        'Isolation': service.get('Isolation'),
        'StdinOpen': service.get('StdinOpen') or None,
    })


def swarm_refuses(view):
    """What `docker stack config` takes and the swarm refuses: memory below 4 MiB, limit or reservation
    (measured: "invalid memory value 65536: Must be at least 4MiB", engine 20.10)."""
    memory = [(view.get(key) or {}).get('Memory') for key in ('Limits', 'Reservations')]
    return any(value and value < 4 * 2 ** 20 for value in memory)


@CLI_SETTINGS
@given(DEPLOY, OTHER_KEYS)
def test_the_other_service_keys_give_what_the_cli_gives(tmp_path_factory, deploy, keys):
    text = service_text(deploy=deploy, **keys)
    theirs, their_error = cli_config(str(tmp_path_factory.mktemp('cli')), text)
    ours, our_error = crane_service(text)
    if theirs is not None and swarm_refuses(their_view(theirs['services']['web'])):
        their_error = 'refused by the swarm'
    assert (their_error is None) == (our_error is None), (deploy, keys, their_error, our_error)
    if their_error is None:
        assert our_view(ours) == their_view(theirs['services']['web']), (deploy, keys)
