# Copyright: crane.swarm developers
# GNU General Public License v3.0+ (see https://www.gnu.org/licenses/gpl-3.0.txt)
"""compose_to_bundle against the docker CLI's documented meaning (cli/compose/loader, cli/compose/convert).

Each good case gives the bundle expected; every converted bundle passes check_bundle; a few are also
translated by stacks/spec.py and compared with the service spec convert/service.go builds, written by hand.
"""

from __future__ import annotations

import time

import pytest
from hypothesis import HealthCheck, given, settings, strategies as st

from ansible_collections.crane.swarm.plugins.plugin_utils.bundle.check import check_bundle
from ansible_collections.crane.swarm.plugins.plugin_utils.compose.convert import compose_to_bundle
from ansible_collections.crane.swarm.plugins.plugin_utils.compose.errors import ComposeError
from ansible_collections.crane.swarm.plugins.module_utils.stacks.spec import desired_stack

STACK = 'demo'


def convert(service, **top):
    project = {'services': {'web': dict({'image': 'nginx:1.25'}, **service)}}
    project.update(top)
    bundle, notes = compose_to_bundle(project, STACK)
    assert check_bundle(bundle, STACK) == []
    return bundle, notes


def web(service, **top):
    return convert(service, **top)[0]['Services']['web']


GOOD = [
    # entrypoint is the bundle's Command, command its Args; strings split like a shell.
    ({'entrypoint': '/bin/sh -c', 'command': 'echo "hello world"'},
     {'Command': ['/bin/sh', '-c'], 'Args': ['echo', 'hello world']}),
    ({'command': ['a b', 'c']}, {'Args': ['a b', 'c']}),
    # environment: list or map, bare KEY kept bare, sorted (convertEnvironment).
    ({'environment': ['B=2', 'A=1', 'C']}, {'Env': ['A=1', 'B=2', 'C']}),
    ({'environment': {'Z': 1, 'A': 'x=y', 'N': None}}, {'Env': ['A=x=y', 'N', 'Z=1']}),
    # compose labels are container labels; deploy.labels are the service's.
    ({'labels': ['a=1', 'b']}, {'ContainerLabels': {'a': '1', 'b': ''}}),
    ({'deploy': {'labels': {'tier': 'web'}}},
     {'Labels': {'tier': 'web'}, 'Mode': {'Replicated': {'Replicas': 1}}}),
    # ports short syntax
    ({'ports': ['8080:80']}, {'Ports': [{'Port': 80, 'PublishedPort': 8080, 'Protocol': 'tcp', 'PublishMode': 'ingress'}]}),
    ({'ports': ['53:53/udp']}, {'Ports': [{'Port': 53, 'PublishedPort': 53, 'Protocol': 'udp', 'PublishMode': 'ingress'}]}),
    ({'ports': ['80']}, {'Ports': [{'Port': 80, 'Protocol': 'tcp', 'PublishMode': 'ingress'}]}),
    ({'ports': [80]}, {'Ports': [{'Port': 80, 'Protocol': 'tcp', 'PublishMode': 'ingress'}]}),
    ({'ports': ['9090-9091:8080-8081']},
     {'Ports': [{'Port': 8080, 'PublishedPort': 9090, 'Protocol': 'tcp', 'PublishMode': 'ingress'},
                {'Port': 8081, 'PublishedPort': 9091, 'Protocol': 'tcp', 'PublishMode': 'ingress'}]}),
    ({'ports': ['127.0.0.1:8080:80']},
     {'Ports': [{'Port': 80, 'PublishedPort': 8080, 'Protocol': 'tcp', 'PublishMode': 'ingress'}]}),
    # ports long syntax
    ({'ports': [{'target': 80, 'published': 8080, 'protocol': 'udp', 'mode': 'host'}]},
     {'Ports': [{'Port': 80, 'PublishedPort': 8080, 'Protocol': 'udp', 'PublishMode': 'host'}]}),
    # volumes
    ({'volumes': ['/srv:/data:ro', '/tmp/cache']},
     {'Mounts': [{'Type': 'bind', 'Source': '/srv', 'Target': '/data', 'ReadOnly': True},
                 {'Type': 'volume', 'Target': '/tmp/cache'}]}),
    ({'volumes': [{'type': 'tmpfs', 'target': '/run', 'tmpfs': {'size': 1000, 'mode': 0o1777}}]},
     {'Mounts': [{'Type': 'tmpfs', 'Target': '/run', 'TmpfsOptions': {'SizeBytes': 1000, 'Mode': 0o1777}}]}),
    ({'volumes': [{'type': 'bind', 'source': '/a', 'target': '/b', 'read_only': True,
                   'bind': {'propagation': 'rshared'}}]},
     {'Mounts': [{'Type': 'bind', 'Source': '/a', 'Target': '/b', 'ReadOnly': True,
                  'BindOptions': {'Propagation': 'rshared'}}]}),
    # healthcheck
    ({'healthcheck': {'test': 'curl -f http://localhost', 'interval': '10s', 'timeout': '2s', 'retries': 3,
                      'start_period': '5s'}},
     {'Healthcheck': {'Test': ['CMD-SHELL', 'curl -f http://localhost'], 'Interval': '10s', 'Timeout': '2s',
                      'Retries': 3, 'StartPeriod': '5s'}}),
    ({'healthcheck': {'disable': True}}, {'Healthcheck': {'Test': ['NONE']}}),
    # the rest of the container options
    ({'stop_grace_period': '1m30s', 'stop_signal': 'SIGQUIT', 'hostname': 'h', 'init': True, 'user': 1000,
      'working_dir': '/app', 'tty': True, 'read_only': True, 'cap_add': ['NET_ADMIN'], 'cap_drop': ['ALL']},
     {'StopGracePeriod': '1m30s', 'StopSignal': 'SIGQUIT', 'Hostname': 'h', 'Init': True, 'User': '1000',
      'WorkingDir': '/app', 'TTY': True, 'ReadOnly': True, 'CapabilityAdd': ['NET_ADMIN'], 'CapabilityDrop': ['ALL']}),
    ({'dns': '8.8.8.8', 'dns_search': ['example.com'], 'dns_opt': ['ndots:2']},
     {'DNSConfig': {'Nameservers': ['8.8.8.8'], 'Search': ['example.com'], 'Options': ['ndots:2']}}),
    ({'extra_hosts': ['db:10.0.0.2']}, {'Hosts': ['10.0.0.2 db']}),
    ({'extra_hosts': {'db': '10.0.0.2'}}, {'Hosts': ['10.0.0.2 db']}),
    ({'sysctls': ['net.core.somaxconn=1024']}, {'Sysctls': {'net.core.somaxconn': '1024'}}),
    ({'sysctls': {'net.core.somaxconn': 1024}}, {'Sysctls': {'net.core.somaxconn': '1024'}}),
    ({'ulimits': {'nproc': 65535, 'nofile': {'soft': 20000, 'hard': 40000}}},
     {'Ulimits': [{'Name': 'nofile', 'Soft': 20000, 'Hard': 40000}, {'Name': 'nproc', 'Soft': 65535, 'Hard': 65535}]}),
    ({'logging': {'driver': 'json-file', 'options': {'max-size': '10m'}}},
     {'LogDriver': {'Name': 'json-file', 'Options': {'max-size': '10m'}}}),
    # no driver: the engine's default driver with these options, as the CLI sends it (Name "")
    ({'logging': {'options': {'max-size': '10m'}}}, {'LogDriver': {'Options': {'max-size': '10m'}}}),
    ({'logging': {}}, {}),
    ({'healthcheck': {'test': ['CMD', 'true'], 'start_period': '30s', 'start_interval': '2s'}},
     {'Healthcheck': {'Test': ['CMD', 'true'], 'StartPeriod': '30s', 'StartInterval': '2s'}}),
    ({'oom_score_adj': -500, 'isolation': 'default', 'stdin_open': True},
     {'OomScoreAdj': -500, 'Isolation': 'default', 'StdinOpen': True}),
    ({'oom_score_adj': '300'}, {'OomScoreAdj': 300}),
    ({'credential_spec': {'file': 'gmsa.json'}}, {'CredentialSpec': {'File': 'gmsa.json'}}),
    ({'credential_spec': {'registry': 'gmsa'}}, {'CredentialSpec': {'Registry': 'gmsa'}}),
    # deploy
    ({'deploy': {'mode': 'global', 'endpoint_mode': 'dnsrr'}}, {'Mode': {'Global': {}}, 'EndpointMode': 'dnsrr'}),
    ({'deploy': {'mode': 'replicated-job', 'replicas': 3}},
     {'Mode': {'ReplicatedJob': {'MaxConcurrent': 3, 'TotalCompletions': 3}}}),
    ({'deploy': {'mode': 'global-job'}}, {'Mode': {'GlobalJob': {}}}),
    ({'deploy': {'replicas': 2, 'placement': {'constraints': ['node.role==worker'],
                                              'preferences': [{'spread': 'node.labels.zone'}],
                                              'max_replicas_per_node': 1}}},
     {'Mode': {'Replicated': {'Replicas': 2}},
      'Placement': {'Constraints': ['node.role==worker'], 'Preferences': [{'Spread': 'node.labels.zone'}],
                    'MaxReplicas': 1}}),
    ({'deploy': {'resources': {'limits': {'cpus': '0.5', 'memory': '512M', 'pids': 100},
                               'reservations': {'cpus': 0.25, 'memory': '128M', 'generic_resources': [
                                   {'discrete_resource_spec': {'kind': 'gpu', 'value': 2}}]}}}},
     {'Mode': {'Replicated': {'Replicas': 1}},
      'Resources': {'Limits': {'CPUs': '0.5', 'Memory': '512M', 'Pids': 100},
                    'Reservations': {'CPUs': 0.25, 'Memory': '128M', 'GenericResources': [{'Kind': 'gpu', 'Value': 2}]}}}),
    ({'deploy': {'restart_policy': {'condition': 'on-failure', 'delay': '5s', 'max_attempts': 3, 'window': '2m'},
                 'update_config': {'parallelism': 2, 'delay': '10s', 'failure_action': 'rollback', 'monitor': '30s',
                                   'max_failure_ratio': 0.3, 'order': 'start-first'},
                 'rollback_config': {'parallelism': 0, 'failure_action': 'continue'}}},
     {'Mode': {'Replicated': {'Replicas': 1}},
      'RestartPolicy': {'Condition': 'on-failure', 'Delay': '5s', 'MaxAttempts': 3, 'Window': '2m'},
      'UpdateConfig': {'Parallelism': 2, 'Delay': '10s', 'FailureAction': 'rollback', 'Monitor': '30s',
                       'MaxFailureRatio': 0.3, 'Order': 'start-first'},
      'RollbackConfig': {'Parallelism': 0, 'FailureAction': 'continue'}}),
]


@pytest.mark.parametrize('service, expected', GOOD)
def test_service_keys(service, expected):
    result = web(service)
    expected = dict({'Image': 'nginx:1.25', 'Networks': ['default']}, **expected)
    expected['Labels'] = dict(expected.get('Labels') or {})
    expected['Labels']['com.docker.stack.image'] = service.get('image', 'nginx:1.25')  # as the CLI labels it
    assert result == expected


def test_implicit_default_network_is_a_stack_overlay():
    bundle, _notes = convert({})
    assert bundle['Networks'] == {'default': {'Driver': 'overlay'}}
    assert bundle['Services']['web']['Networks'] == ['default']


def test_networks_list_map_and_top_level():
    top = {'networks': {'front': {'driver': 'overlay', 'attachable': True, 'internal': False,
                                  'driver_opts': {'encrypted': ''}, 'labels': ['a=b'],
                                  'ipam': {'driver': 'default', 'config': [{'subnet': '10.9.0.0/24'}]}},
                        'proxy': {'external': True}}}
    bundle, _notes = convert({'networks': {'front': {'aliases': ['www']}, 'proxy': None}}, **top)
    assert bundle['Services']['web']['Networks'] == [{'Target': 'front', 'Aliases': ['www']}, 'proxy']
    assert bundle['Networks'] == {
        'front': {'Driver': 'overlay', 'Attachable': True, 'Internal': False, 'DriverOpts': {'encrypted': ''},
                  'Labels': {'a': 'b'}, 'IPAM': {'Driver': 'default', 'Config': [{'Subnet': '10.9.0.0/24'}]}},
        'proxy': {'External': True}}
    bundle, _notes = convert({'networks': ['front']}, **top)
    assert bundle['Services']['web']['Networks'] == ['front']


def test_a_config_credential_spec_names_a_declared_config():
    bundle, _notes = convert({'credential_spec': {'config': 'gmsa'}}, configs={'gmsa': {'file': './gmsa.json'}})
    assert bundle['Services']['web']['CredentialSpec'] == {'Config': 'gmsa'}
    assert bundle['Configs'] == {'gmsa': {'File': './gmsa.json'}}


def test_secrets_and_configs_short_and_long():
    top = {'secrets': {'db': {'file': './db.txt'}, 'ext': {'external': True}},
           'configs': {'conf': {'file': './nginx.conf'}}}
    bundle, _notes = convert({'secrets': ['db', {'source': 'ext', 'target': 'pw', 'uid': '1', 'gid': 2, 'mode': 0o400}],
                              'configs': [{'source': 'conf', 'target': '/etc/nginx/nginx.conf'}]}, **top)
    service = bundle['Services']['web']
    assert service['Secrets'] == [{'Source': 'db'}, {'Source': 'ext', 'Target': 'pw', 'UID': '1', 'GID': '2', 'Mode': 0o400}]
    assert service['Configs'] == [{'Source': 'conf', 'Target': '/etc/nginx/nginx.conf'}]
    assert bundle['Secrets'] == {'db': {'File': './db.txt'}, 'ext': {'External': True}}
    assert bundle['Configs'] == {'conf': {'File': './nginx.conf'}}


def test_named_volumes_become_stack_volumes():
    bundle, notes = convert({'volumes': ['data:/var/lib/data:nocopy']}, volumes={'data': None})
    assert bundle['Services']['web']['Mounts'] == [
        {'Type': 'volume', 'Source': 'data', 'Target': '/var/lib/data', 'VolumeOptions': {'NoCopy': True}}]
    assert bundle['Volumes'] == {'data': {}} and notes == []
    top = {'volumes': {'ext': {'external': True, 'name': 'real'}, 'v': {'driver': 'local', 'labels': ['a=b'],
                                                                        'driver_opts': {'o': 1}, 'name': 'fixed'}}}
    bundle, _notes = convert({'volumes': [{'type': 'volume', 'source': 'ext', 'target': '/x'}]}, **top)
    assert bundle['Volumes'] == {'ext': {'External': True, 'Name': 'real'},
                                 'v': {'Name': 'fixed', 'Driver': 'local', 'DriverOpts': {'o': '1'}, 'Labels': {'a': 'b'}}}


def test_volumes_like_the_cli():
    # `docker stack deploy` 28.2 (docker/cli convert/volume.go) measured on the sandbox: the mounts of ms_plain.
    top = {'volumes': {'data': {'driver': 'local', 'driver_opts': {'type': 'tmpfs', 'device': 'tmpfs'},
                                'labels': {'k': 'v'}},
                       'named': {'name': 'vol-fixed'}, 'ext': {'external': True}}}
    bundle, _notes = compose_to_bundle({'services': {'plain': {'image': 'busybox:latest', 'volumes': [
        'data:/data', 'named:/named', 'ext:/ext']}}, **top}, 'ms')
    mounts = desired_stack('ms', bundle)['services']['ms_plain']['spec']['TaskTemplate']['ContainerSpec']['Mounts']
    assert mounts == [
        {'Type': 'volume', 'Source': 'ms_data', 'Target': '/data', 'VolumeOptions': {
            'Labels': {'com.docker.stack.namespace': 'ms', 'k': 'v'},
            'DriverConfig': {'Name': 'local', 'Options': {'device': 'tmpfs', 'type': 'tmpfs'}}}},
        {'Type': 'volume', 'Source': 'vol-fixed', 'Target': '/named',
         'VolumeOptions': {'Labels': {'com.docker.stack.namespace': 'ms'}}},
        # The CLI sends an empty VolumeOptions here; the comparison reads both alike (test_spec).
        {'Type': 'volume', 'Source': 'ext', 'Target': '/ext'}]


def test_names_and_unused_networks_like_the_cli():
    # Measured: only networks a service uses are created (default included), a `name:` as written, with the label.
    top = {'networks': {'front': {'name': 'front-fixed'}, 'unused': {}, 'edge': {'external': True, 'name': 'corp'}},
           'secrets': {'s': {'file': './s.txt', 'name': 'fixed-secret'}, 'e': {'external': True, 'name': 'ca'}},
           'configs': {'c': {'file': './c.txt', 'name': 'fixed-config'}}}
    project = {'services': {'plain': {'image': 'busybox:latest'},
                            'other': {'image': 'busybox:latest', 'networks': ['front', 'edge'], 'secrets': ['s', 'e'],
                                      'configs': ['c']}}}
    bundle, _notes = compose_to_bundle(dict(project, **top), 'ms')
    assert bundle['Networks'] == {'default': {'Driver': 'overlay'}, 'front': {'Name': 'front-fixed', 'Driver': 'overlay'},
                                  'edge': {'External': True, 'Name': 'corp'}}
    assert bundle['Secrets'] == {'s': {'Name': 'fixed-secret', 'File': './s.txt'}, 'e': {'External': True, 'Name': 'ca'}}
    assert bundle['Configs'] == {'c': {'Name': 'fixed-config', 'File': './c.txt'}}
    stack = desired_stack('ms', bundle, secret_data={'s': 'czEK'}, config_data={'c': 'YzEK'})
    assert sorted(stack['networks']) == ['front-fixed', 'ms_default'] and stack['external_networks'] == ['corp']
    assert stack['networks']['ms_default']['Labels'] == {'com.docker.stack.namespace': 'ms'}
    assert stack['networks']['ms_default']['Driver'] == 'overlay' and not stack['networks']['ms_default']['Attachable']
    assert stack['secrets']['s']['spec']['Name'] == 'fixed-secret' and stack['external_secrets'] == ['ca']
    other = stack['services']['ms_other']['spec']
    assert sorted(n['Target'] for n in other['TaskTemplate']['Networks']) == ['corp', 'front-fixed']
    assert sorted(r['SecretName'] for r in other['TaskTemplate']['ContainerSpec']['Secrets']) == ['ca', 'fixed-secret']
    assert stack['services']['ms_plain']['spec']['TaskTemplate']['Networks'] == [
        {'Target': 'ms_default', 'Aliases': ['plain']}]


def test_ignored_keys_are_reported_not_dropped_silently():
    _bundle, notes = convert({'build': '.', 'depends_on': ['db'], 'container_name': 'x', 'restart': 'always'})
    assert notes == ['Ignoring unsupported options: build, container_name, depends_on, restart (services.web)']


@pytest.mark.parametrize('restart, policy', [
    ('no', None), ('always', {'Condition': 'any'}), ('unless-stopped', {'Condition': 'any'}),
    ('on-failure', {'Condition': 'on-failure'}), ('on-failure:3', {'Condition': 'on-failure', 'MaxAttempts': 3})])
def test_restart_used_when_deploy_has_no_restart_policy(restart, policy):
    assert web({'restart': restart}).get('RestartPolicy') == policy
    assert web({'restart': restart, 'deploy': {'restart_policy': {'condition': 'none'}}})['RestartPolicy'] == {
        'Condition': 'none'}


def test_host_ip_noted():
    _bundle, notes = convert({'ports': ['127.0.0.1:8080:80']})
    assert notes == ['services.web.ports.0: the host IP 127.0.0.1 is ignored by swarm (as by the CLI)']


def test_env_file_hook():
    project = {'services': {'web': {'image': 'x', 'env_file': 'a.env', 'environment': {'A': '2'}}}}
    bundle, _notes = compose_to_bundle(project, STACK, env_file_values={'web': {'A': '1', 'B': '3'}})
    assert bundle['Services']['web']['Env'] == ['A=2', 'B=3']


def _cli_spec(name, container, **rest):
    """The ServiceSpec convert/service.go builds (with our stack labels), written by hand; the image
    label as docker stack deploy adds it."""
    spec = {'Name': 'demo_' + name, 'Labels': {'com.docker.stack.namespace': 'demo', 'com.docker.stack.image': 'nginx:1.25'},
            'TaskTemplate': {'ContainerSpec': dict({'Labels': {'com.docker.stack.namespace': 'demo'},
                                                    'Privileges': {}}, **container),
                             'Networks': [{'Target': 'demo_default', 'Aliases': [name]}],
                             'Placement': {}, 'Resources': {}},
            'Mode': {'Replicated': {'Replicas': 1}}, 'EndpointSpec': {'Mode': 'vip'}}
    for key, value in rest.items():
        if key in ('RestartPolicy', 'Resources'):
            spec['TaskTemplate'][key] = value
        else:
            spec[key] = value
    return spec


def _spec(service):
    bundle, _notes = convert(service)
    return desired_stack(STACK, bundle)['services']['demo_web']['spec']


def test_spec_like_the_cli_entrypoint_command_env():
    spec = _spec({'entrypoint': 'sh -c', 'command': ['echo hi'], 'environment': {'B': '1', 'A': '2'}})
    assert spec == _cli_spec('web', {'Image': 'nginx:1.25', 'Command': ['sh', '-c'], 'Args': ['echo hi'],
                                     'Env': ['A=2', 'B=1']})


def test_spec_like_the_cli_container_options_of_issue_12():
    # Measured: docker 28.2 `stack deploy -c` of these keys (engine 20.10 kept all but the two fields API 1.41
    # drops): OpenStdin, CredentialSpec.Config = the config's ID, a Runtime reference to it, LogDriver Name "".
    service = {'stdin_open': True, 'isolation': 'default', 'credential_spec': {'config': 'cs'},
               'logging': {'options': {'max-size': '10m'}},
               'healthcheck': {'test': ['CMD', 'true'], 'start_period': '10s', 'start_interval': '2s'}}
    bundle, _notes = convert(service, configs={'cs': {'file': './cs.json'}})
    stack = desired_stack(STACK, bundle, config_data={'cs': 'e30K'})
    config = stack['configs']['cs']['name']  # the CLI names it demo_cs; ours adds the content hash (known)
    spec = stack['services']['demo_web']['spec']
    assert spec['TaskTemplate']['LogDriver'] == {'Name': '', 'Options': {'max-size': '10m'}}
    container = spec['TaskTemplate']['ContainerSpec']
    assert container['OpenStdin'] is True and container['Isolation'] == 'default'
    assert container['Privileges'] == {'CredentialSpec': {'Config': config}}  # the module puts the ID there
    assert container['Configs'] == [{'ConfigName': config, 'Runtime': {}}]
    assert container['Healthcheck'] == {'Test': ['CMD', 'true'], 'StartPeriod': 10 * 10 ** 9,
                                        'StartInterval': 2 * 10 ** 9}


def test_spec_like_the_cli_ports_and_update_config():
    spec = _spec({'ports': ['8080:80'], 'deploy': {'replicas': 3, 'update_config': {'parallelism': 2, 'delay': '10s'},
                                                   'restart_policy': {'condition': 'on-failure'}}})
    expected = _cli_spec('web', {'Image': 'nginx:1.25'},
                         UpdateConfig={'Parallelism': 2, 'Delay': 10 * 10 ** 9, 'FailureAction': 'pause',
                                       'Order': 'stop-first'},
                         RestartPolicy={'Condition': 'on-failure'})
    expected['Mode'] = {'Replicated': {'Replicas': 3}}
    expected['EndpointSpec'] = {'Mode': 'vip', 'Ports': [
        {'Protocol': 'tcp', 'TargetPort': 80, 'PublishedPort': 8080, 'PublishMode': 'ingress'}]}
    assert spec == expected


BAD = [
    ({'deploy': {'replicas': 'three'}}, {}, "services.web.deploy.replicas: expected an integer, got 'three'"),
    ({'deploy': {'mode': 'solo'}}, {}, 'services.web.deploy.mode: expected one of replicated, global'),
    ({'deploy': {'mode': 'global', 'replicas': 2}}, {}, 'services.web.deploy.replicas: replicas cannot be set'),
    ({'deploy': {'colour': 1}}, {}, 'services.web.deploy.colour: unknown deploy key'),
    ({'ports': ['80:99999']}, {}, 'services.web.ports.0: expected ports from 1 to 65535'),
    ({'ports': ['80/icmp']}, {}, "services.web.ports.0: expected protocol tcp, udp or sctp, got 'icmp'"),
    ({'ports': ['1-3:4-5']}, {}, 'services.web.ports.0: a range of target ports needs a published range'),
    ({'ports': [{'published': 80}]}, {}, 'services.web.ports.0: a port needs `target`'),
    ({'ports': 'x'}, {}, 'services.web.ports: expected a list of ports'),
    ({'command': 'echo "open'}, {}, 'services.web.command: cannot split the command like a shell'),
    ({'environment': 5}, {}, 'services.web.environment: expected a mapping or a list of "KEY=value"'),
    ({'environment': ['=x']}, {}, 'services.web.environment.0: expected "KEY=value"'),
    ({'volumes': ['data:/x']}, {}, "services.web.volumes.0: volume 'data' is not declared"),
    ({'volumes': ['/a:/b:nocopy']}, {}, "services.web.volumes.0: nocopy applies to volumes, and '/a' is a bind mount"),
    ({'volumes': [{'type': 'nfs', 'target': '/x'}]}, {}, 'services.web.volumes.0.type: expected one of bind'),
    ({'networks': ['back']}, {}, "services.web.networks.back: network 'back' is not declared"),
    ({'secrets': ['pw']}, {}, "services.web.secrets.0: secret 'pw' is not declared"),
    ({'healthcheck': {'test': []}}, {}, 'services.web.healthcheck.test: expected a command'),
    # The docker CLI's compose schema refuses group_add (measured with docker 28.2).
    ({'group_add': ['x']}, {}, 'services.web.group_add: the docker CLI refuses it in a stack file; write Groups'),
    ({'isolation': 'vm'}, {}, "services.web.isolation: expected one of default, process, hyperv, got 'vm'"),
    ({'stdin_open': 'yes'}, {}, "services.web.stdin_open: expected true or false, got 'yes'"),
    ({'oom_score_adj': 1001}, {}, 'services.web.oom_score_adj: expected an integer from -1000 to 1000, got 1001'),
    ({'oom_score_adj': 1.5}, {}, 'services.web.oom_score_adj: expected an integer'),
    ({'credential_spec': {'file': 'a', 'registry': 'b'}}, {},
     'services.web.credential_spec: expected exactly one of config, file, registry, got file, registry'),
    ({'credential_spec': {}}, {}, 'services.web.credential_spec: expected exactly one of config, file, registry, got none'),
    ({'credential_spec': {'config': 'gmsa'}}, {}, "services.web.credential_spec.config: config 'gmsa' is not declared"),
    ({'credential_spec': {'url': 'x'}}, {}, 'services.web.credential_spec.url: unknown key'),
    ({'extra_hosts': ['nohost']}, {}, "services.web.extra_hosts.0: expected \"host:ip\", got 'nohost'"),
    ({'ulimits': {'nofile': {'soft': 'many', 'hard': 1}}}, {}, "services.web.ulimits.nofile.soft: expected an integer"),
    ({'init': 'yes'}, {}, "services.web.init: expected true or false, got 'yes'"),
    ({'colour': 'blue'}, {}, 'services.web.colour: unknown service key'),
    ({'healthcheck': {'disable': True, 'test': 'true'}}, {}, "services.web.healthcheck: test and disable can't"),
    ({'restart': 'sometimes'}, {}, "services.web.restart: unknown restart policy 'sometimes'"),
    ({'deploy': {'update_config': {'max_failure_ratio': 2}}}, {},
     'services.web.deploy.update_config.max_failure_ratio: expected a fraction from 0 to 1'),
    ({'env_file': 'a.env'}, {}, 'services.web.env_file: env_file must be read by the loader'),
    ({}, {'secrets': {'s': {'file': './s', 'template_driver': 'golang'}}}, 'secrets.s.template_driver: is not supported'),
    ({}, {'volumes': {'v': {'external': True, 'driver': 'local'}}}, 'volumes.v.driver: conflicts with `external: true`'),
    ({}, {'volumes': {'v': {'size': 1}}}, 'volumes.v.size: unknown key'),
    ({}, {'volumes': {'v': {'name': 3}}}, 'volumes.v.name: expected a string'),
    ({}, {'secrets': {'s': {}}}, 'secrets.s: expected `file:` or `external: true`'),
]


@pytest.mark.parametrize('service, top, message', BAD)
def test_bad_compose(service, top, message):
    project = {'services': {'web': dict({'image': 'nginx'}, **service)}}
    project.update(top)
    with pytest.raises(ComposeError) as caught:
        compose_to_bundle(project, STACK)
    assert str(caught.value).startswith(message)


def test_bad_top_level():
    for project, message in (([], '(top level): expected a mapping'), ({}, 'services: expected a mapping'),
                             ({'services': {'web': {}}}, 'services.web: a service needs `image`')):
        with pytest.raises(ComposeError) as caught:
            compose_to_bundle(project, STACK)
        assert str(caught.value).startswith(message)


# Nested keys are mostly compose's own words, so random values reach the converters of deep keys.
COMPOSE_WORDS = st.sampled_from(
    ['mode', 'replicas', 'labels', 'placement', 'resources', 'limits', 'reservations', 'cpus', 'memory', 'pids',
     'generic_resources', 'discrete_resource_spec', 'kind', 'value', 'restart_policy', 'update_config',
     'rollback_config', 'parallelism', 'delay', 'max_failure_ratio', 'order', 'condition', 'max_attempts',
     'target', 'published', 'protocol', 'type', 'source', 'read_only', 'bind', 'propagation', 'volume', 'nocopy',
     'tmpfs', 'size', 'test', 'interval', 'retries', 'disable', 'driver', 'options', 'soft', 'hard', 'constraints',
     'preferences', 'spread', 'max_replicas_per_node', 'endpoint_mode', 'aliases', 'uid', 'mode'])
JSONISH = st.recursive(
    st.none() | st.booleans() | st.integers(-2, 70000) | st.floats(allow_nan=True) | st.text(max_size=12)
    | st.sampled_from(['1', '10s', '0.5', 'global', 'replicated-job', 'host', '/a:/b:ro', '80:80', 'x=y']),
    lambda inner: st.lists(inner, max_size=4) | st.dictionaries(COMPOSE_WORDS | st.text(max_size=8), inner, max_size=4),
    max_leaves=12)
SERVICE_KEY_NAMES = st.sampled_from(sorted(
    ['image', 'entrypoint', 'command', 'environment', 'labels', 'ports', 'volumes', 'networks', 'secrets',
     'configs', 'deploy', 'healthcheck', 'stop_grace_period', 'logging', 'dns', 'extra_hosts', 'ulimits',
     'sysctls', 'user', 'tty', 'cap_add', 'build', 'env_file', 'x-any']))

SHAPED = st.dictionaries(COMPOSE_WORDS, JSONISH | st.dictionaries(COMPOSE_WORDS, JSONISH, max_size=4), max_size=6)
SERVICE_VALUES = JSONISH | SHAPED | st.lists(SHAPED, max_size=3)


@settings(max_examples=1500, deadline=None, derandomize=True, database=None,
          suppress_health_check=[HealthCheck.too_slow])
@given(st.dictionaries(SERVICE_KEY_NAMES, SERVICE_VALUES, max_size=2), st.integers(0, 3))
def test_any_service_converts_or_is_refused(service, image_draw):
    # One or two keys an example, mostly with an image: the first bad key stops the conversion.
    if image_draw:
        service = dict(service, image='nginx')
    started = time.monotonic()
    try:
        bundle, _notes = compose_to_bundle({'services': {'x': service}}, STACK)
    except ComposeError as error:
        assert error.path and len(str(error)) < 2000
    else:
        assert check_bundle(bundle, STACK) == []
    assert time.monotonic() - started < 2
