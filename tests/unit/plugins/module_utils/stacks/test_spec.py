# Copyright: crane.swarm developers
# GNU General Public License v3.0+ (see https://www.gnu.org/licenses/gpl-3.0.txt)
"""Bundle -> Engine API bodies, and live objects against desired ones, on plain data."""

from __future__ import annotations

import base64
import copy
import hashlib
import os

import pytest
import yaml

from ansible_collections.crane.swarm.plugins.module_utils.stacks import apply
from ansible_collections.crane.swarm.plugins.module_utils.stacks import spec as core
from ansible_collections.crane.swarm.plugins.plugin_utils.bundle.check import check_bundle
from ansible_collections.crane.swarm.plugins.plugin_utils.bundle.schema import BUNDLE_SCHEMA
from ansible_collections.crane.swarm.plugins.plugin_utils.bundle.reader import load_bundle_text
from unit_paths import BUNDLES

GOOD = os.path.join(BUNDLES, 'good')
NS = 'com.docker.stack.namespace'
SECOND = 10 ** 9
MIB = 1024 * 1024


def b64(text):
    return base64.b64encode(text.encode()).decode()


def read_good(name):
    with open(os.path.join(GOOD, name), encoding='utf-8') as handle:
        return load_bundle_text(handle.read(), name)


def spec_of(service, **stack_level):
    """The ServiceSpec of a one-service stack `demo` whose service `web` is `service`."""
    bundle = dict(stack_level, Services={'web': dict({'Image': 'busybox'}, **service)})
    return core.desired_stack('demo', bundle)['services']['demo_web']['spec']


def at(data, path):
    for key in path.split('.'):
        data = data[int(key)] if isinstance(data, list) else data[key]
    return data


# ---- a plain DAB file: exactly what Docker 1.12's `docker deploy` made of it ----

def test_plain_dab_translates_as_docker_1_12_did():
    stack = core.desired_stack('shop', read_good('plain-1.12.dab'))
    network = {'Driver': 'overlay', 'CheckDuplicate': True, 'Options': {}, 'Attachable': False, 'Internal': False,
               'Labels': {NS: 'shop'}}
    assert stack['networks'] == {'shop_back': dict(network, Name='shop_back'), 'shop_front': dict(network, Name='shop_front')}
    assert stack['external_networks'] == [] and stack['secrets'] == {} and stack['configs'] == {}
    assert stack['services']['shop_web'] == {'registry_auth': False, 'spec': {
        'Name': 'shop_web',
        'Labels': {'tier': 'front', NS: 'shop'},
        'TaskTemplate': {
            'ContainerSpec': {
                'Image': 'busybox:latest', 'Command': ['httpd'], 'Args': ['-f', '-p', '8000', '-h', '/tmp'],
                'Env': ['GREETING=hello', 'COLOUR=blue'], 'Dir': '/tmp', 'User': 'nobody', 'Labels': {NS: 'shop'},
                'Privileges': {},
            },
            'Networks': [{'Target': 'shop_front', 'Aliases': ['web']}],
            'Placement': {}, 'Resources': {},
        },
        'Mode': {'Replicated': {'Replicas': 1}},
        'EndpointSpec': {'Mode': 'vip', 'Ports': [{'Protocol': 'tcp', 'TargetPort': 8000, 'PublishMode': 'ingress'}]},
    }}
    worker = stack['services']['shop_worker']['spec']
    assert worker['TaskTemplate']['Networks'] == [{'Target': 'shop_front', 'Aliases': ['worker']},
                                                  {'Target': 'shop_back', 'Aliases': ['worker']}]
    assert worker['EndpointSpec'] == {'Mode': 'vip'}


# ---- every service option lands in its Engine API field ----

SERVICE_CASES = [
    ('Image', {'Image': 'busybox@sha256:' + 'a' * 64}, 'TaskTemplate.ContainerSpec.Image', 'busybox@sha256:' + 'a' * 64),
    ('Command', {'Command': ['httpd', '-f']}, 'TaskTemplate.ContainerSpec.Command', ['httpd', '-f']),
    ('Args', {'Args': ['-p', '80']}, 'TaskTemplate.ContainerSpec.Args', ['-p', '80']),
    ('Env', {'Env': ['A=1', 'B=2']}, 'TaskTemplate.ContainerSpec.Env', ['A=1', 'B=2']),
    ('Labels', {'Labels': {'tier': 'front'}}, 'Labels', {'tier': 'front', NS: 'demo'}),
    ('Ports', {'Ports': [{'Protocol': 'udp', 'Port': 53}]}, 'EndpointSpec.Ports',
     [{'Protocol': 'udp', 'TargetPort': 53, 'PublishMode': 'ingress'}]),
    ('Ports', {'Ports': [{'Port': 80, 'PublishedPort': 8080, 'PublishMode': 'host', 'Protocol': 'sctp'}]},
     'EndpointSpec.Ports', [{'Protocol': 'sctp', 'TargetPort': 80, 'PublishedPort': 8080, 'PublishMode': 'host'}]),
    ('WorkingDir', {'WorkingDir': '/srv'}, 'TaskTemplate.ContainerSpec.Dir', '/srv'),
    ('User', {'User': 'nobody'}, 'TaskTemplate.ContainerSpec.User', 'nobody'),
    ('Networks', {'Networks': ['front']}, 'TaskTemplate.Networks', [{'Target': 'demo_front', 'Aliases': ['web']}]),
    ('Networks', {'Networks': [{'Target': 'front', 'Aliases': ['www', 'web'], 'DriverOpts': {'a': 'b'}}]},
     'TaskTemplate.Networks', [{'Target': 'demo_front', 'Aliases': ['www', 'web'], 'DriverOpts': {'a': 'b'}}]),
    ('Mode', {'Mode': {'Replicated': {'Replicas': 3}}}, 'Mode', {'Replicated': {'Replicas': 3}}),
    ('Mode', {'Mode': {'Replicated': {}}}, 'Mode', {'Replicated': {'Replicas': 1}}),
    ('Mode', {'Mode': {'Global': {}}}, 'Mode', {'Global': {}}),
    ('Mode', {'Mode': {'ReplicatedJob': {'MaxConcurrent': 2, 'TotalCompletions': 6}}}, 'Mode',
     {'ReplicatedJob': {'MaxConcurrent': 2, 'TotalCompletions': 6}}),
    ('Mode', {'Mode': {'ReplicatedJob': {}}}, 'Mode', {'ReplicatedJob': {'MaxConcurrent': 1, 'TotalCompletions': 1}}),
    ('Mode', {'Mode': {'GlobalJob': {}}}, 'Mode', {'GlobalJob': {}}),
    ('Replicas', {'Replicas': 0}, 'Mode', {'Replicated': {'Replicas': 0}}),
    ('UpdateConfig', {'UpdateConfig': {'Parallelism': 2, 'Delay': '10s', 'FailureAction': 'rollback', 'Monitor': '1m',
                                       'MaxFailureRatio': 0.2, 'Order': 'start-first'}},
     'UpdateConfig', {'Parallelism': 2, 'Delay': 10 * SECOND, 'FailureAction': 'rollback', 'Monitor': 60 * SECOND,
                      'MaxFailureRatio': 0.2, 'Order': 'start-first'}),
    ('UpdateConfig', {'UpdateConfig': {'Delay': 5 * SECOND}}, 'UpdateConfig',
     {'Parallelism': 1, 'Delay': 5 * SECOND, 'FailureAction': 'pause', 'Order': 'stop-first'}),
    ('RollbackConfig', {'RollbackConfig': {'Parallelism': 0, 'FailureAction': 'continue', 'Delay': '1s'}},
     'RollbackConfig', {'Parallelism': 0, 'Delay': SECOND, 'FailureAction': 'continue', 'Order': 'stop-first'}),
    ('RestartPolicy', {'RestartPolicy': {'Condition': 'on-failure', 'Delay': '2s', 'MaxAttempts': 3, 'Window': '1m'}},
     'TaskTemplate.RestartPolicy', {'Condition': 'on-failure', 'Delay': 2 * SECOND, 'MaxAttempts': 3, 'Window': 60 * SECOND}),
    ('RestartPolicy', {'RestartPolicy': {'Delay': '1h'}}, 'TaskTemplate.RestartPolicy',
     {'Condition': 'any', 'Delay': 3600 * SECOND}),
    ('StopGracePeriod', {'StopGracePeriod': '1m30s'}, 'TaskTemplate.ContainerSpec.StopGracePeriod', 90 * SECOND),
    ('StopSignal', {'StopSignal': 'SIGINT'}, 'TaskTemplate.ContainerSpec.StopSignal', 'SIGINT'),
    ('Healthcheck', {'Healthcheck': {'Test': ['CMD', 'true'], 'Interval': '10s', 'Timeout': '3s', 'Retries': 2,
                                     'StartPeriod': '500ms'}},
     'TaskTemplate.ContainerSpec.Healthcheck', {'Test': ['CMD', 'true'], 'Interval': 10 * SECOND, 'Timeout': 3 * SECOND,
                                                'Retries': 2, 'StartPeriod': SECOND // 2}),
    ('Healthcheck', {'Healthcheck': {'Test': 'wget -q localhost'}}, 'TaskTemplate.ContainerSpec.Healthcheck',
     {'Test': ['CMD-SHELL', 'wget -q localhost']}),
    ('Healthcheck', {'Healthcheck': {'Test': ['NONE']}}, 'TaskTemplate.ContainerSpec.Healthcheck', {'Test': ['NONE']}),
    ('Resources', {'Resources': {'Limits': {'CPUs': 1.5, 'Memory': '512M', 'Pids': 50},
                                 'Reservations': {'CPUs': '0.25', 'Memory': 8 * MIB}}},
     'TaskTemplate.Resources', {'Limits': {'NanoCPUs': 1500000000, 'MemoryBytes': 512 * MIB, 'Pids': 50},
                                'Reservations': {'NanoCPUs': 250000000, 'MemoryBytes': 8 * MIB}}),
    ('Resources', {'Resources': {'Reservations': {'GenericResources': [{'Kind': 'gpu', 'Value': 2},
                                                                       {'Kind': 'gpu', 'Value': 'GPU-7d2e'}]}}},
     'TaskTemplate.Resources.Reservations.GenericResources',
     [{'DiscreteResourceSpec': {'Kind': 'gpu', 'Value': 2}}, {'NamedResourceSpec': {'Kind': 'gpu', 'Value': 'GPU-7d2e'}}]),
    ('Placement', {'Placement': {'Constraints': ['node.role == worker'], 'Preferences': [{'Spread': 'node.labels.zone'}],
                                 'MaxReplicas': 2}},
     'TaskTemplate.Placement', {'Constraints': ['node.role == worker'],
                                'Preferences': [{'Spread': {'SpreadDescriptor': 'node.labels.zone'}}], 'MaxReplicas': 2}),
    ('EndpointMode', {'EndpointMode': 'dnsrr'}, 'EndpointSpec', {'Mode': 'dnsrr'}),
    ('HostNetwork', {'HostNetwork': True, 'Ports': [{'Port': 9100, 'PublishedPort': 9100, 'PublishMode': 'host'}]},
     'TaskTemplate.Networks', [{'Target': 'host'}]),
    ('Mounts', {'Mounts': [{'Type': 'bind', 'Source': '/srv', 'Target': '/data', 'ReadOnly': True,
                            'Consistency': 'cached', 'BindOptions': {'Propagation': 'rshared'}}]},
     'TaskTemplate.ContainerSpec.Mounts', [{'Type': 'bind', 'Source': '/srv', 'Target': '/data', 'ReadOnly': True,
                                            'Consistency': 'cached', 'BindOptions': {'Propagation': 'rshared'}}]),
    ('Mounts', {'Mounts': [{'Type': 'volume', 'Source': 'data', 'Target': '/data', 'VolumeOptions': {
        'NoCopy': True, 'Labels': {'a': 'b'}, 'DriverConfig': {'Name': 'local', 'Options': {'type': 'tmpfs'}}}}]},
     'TaskTemplate.ContainerSpec.Mounts', [{'Type': 'volume', 'Source': 'data', 'Target': '/data', 'VolumeOptions': {
         'NoCopy': True, 'Labels': {'a': 'b'}, 'DriverConfig': {'Name': 'local', 'Options': {'type': 'tmpfs'}}}}]),
    ('Mounts', {'Mounts': [{'Type': 'tmpfs', 'Target': '/cache', 'TmpfsOptions': {'SizeBytes': '64k', 'Mode': '1777'}}]},
     'TaskTemplate.ContainerSpec.Mounts',
     [{'Type': 'tmpfs', 'Target': '/cache', 'TmpfsOptions': {'SizeBytes': 65536, 'Mode': 0o1777}}]),
    ('DNSConfig', {'DNSConfig': {'Nameservers': ['10.0.0.2'], 'Search': ['example.org'], 'Options': ['ndots:1']}},
     'TaskTemplate.ContainerSpec.DNSConfig', {'Nameservers': ['10.0.0.2'], 'Search': ['example.org'], 'Options': ['ndots:1']}),
    ('Hosts', {'Hosts': ['10.0.0.5 db']}, 'TaskTemplate.ContainerSpec.Hosts', ['10.0.0.5 db']),
    ('Hostname', {'Hostname': '{{.Node.Hostname}}-web'}, 'TaskTemplate.ContainerSpec.Hostname', '{{.Node.Hostname}}-web'),
    ('ContainerLabels', {'ContainerLabels': {'logs': 'yes'}}, 'TaskTemplate.ContainerSpec.Labels', {'logs': 'yes', NS: 'demo'}),
    ('Init', {'Init': False}, 'TaskTemplate.ContainerSpec.Init', False),
    ('CapabilityAdd', {'CapabilityAdd': ['CAP_NET_ADMIN']}, 'TaskTemplate.ContainerSpec.CapabilityAdd', ['CAP_NET_ADMIN']),
    ('CapabilityDrop', {'CapabilityDrop': ['CAP_MKNOD']}, 'TaskTemplate.ContainerSpec.CapabilityDrop', ['CAP_MKNOD']),
    ('Sysctls', {'Sysctls': {'net.core.somaxconn': '1024'}}, 'TaskTemplate.ContainerSpec.Sysctls', {'net.core.somaxconn': '1024'}),
    ('Ulimits', {'Ulimits': [{'Name': 'nofile', 'Soft': 1024, 'Hard': 2048}]}, 'TaskTemplate.ContainerSpec.Ulimits',
     [{'Name': 'nofile', 'Soft': 1024, 'Hard': 2048}]),
    ('ReadOnly', {'ReadOnly': True}, 'TaskTemplate.ContainerSpec.ReadOnly', True),
    ('TTY', {'TTY': True}, 'TaskTemplate.ContainerSpec.TTY', True),
    ('LogDriver', {'LogDriver': {'Name': 'json-file', 'Options': {'max-size': '10m'}}}, 'TaskTemplate.LogDriver',
     {'Name': 'json-file', 'Options': {'max-size': '10m'}}),
    # No Name: the engine's default driver with these options (the docker CLI sends Name "").
    ('LogDriver', {'LogDriver': {'Options': {'max-size': '10m'}}}, 'TaskTemplate.LogDriver',
     {'Name': '', 'Options': {'max-size': '10m'}}),
    ('Groups', {'Groups': ['audio', '123']}, 'TaskTemplate.ContainerSpec.Groups', ['audio', '123']),
    ('OomScoreAdj', {'OomScoreAdj': -500}, 'TaskTemplate.ContainerSpec.OomScoreAdj', -500),
    ('Isolation', {'Isolation': 'process'}, 'TaskTemplate.ContainerSpec.Isolation', 'process'),
    ('StdinOpen', {'StdinOpen': True}, 'TaskTemplate.ContainerSpec.OpenStdin', True),
    ('CredentialSpec', {'CredentialSpec': {'File': 'gmsa.json'}}, 'TaskTemplate.ContainerSpec.Privileges',
     {'CredentialSpec': {'File': 'gmsa.json'}}),
    ('CredentialSpec', {'CredentialSpec': {'Registry': 'gmsa'}}, 'TaskTemplate.ContainerSpec.Privileges.CredentialSpec',
     {'Registry': 'gmsa'}),
    ('Healthcheck', {'Healthcheck': {'Test': ['CMD', 'true'], 'StartPeriod': '30s', 'StartInterval': '2s'}},
     'TaskTemplate.ContainerSpec.Healthcheck', {'Test': ['CMD', 'true'], 'StartPeriod': 30 * SECOND,
                                                'StartInterval': 2 * SECOND}),
]


CASE_IDS = ['%s-%d' % (case[0], index) for index, case in enumerate(SERVICE_CASES)]


@pytest.mark.parametrize('key, service, path, expected', SERVICE_CASES, ids=CASE_IDS)
def test_service_option_sets_its_engine_field(key, service, path, expected):
    assert key in service
    assert at(spec_of(service), path) == expected


@pytest.mark.parametrize('service', [case[1] for case in SERVICE_CASES], ids=CASE_IDS)
def test_each_case_is_a_valid_bundle_in_yaml(service):
    text = yaml.safe_dump({'Services': {'web': dict({'Image': 'busybox'}, **service)}})
    bundle = load_bundle_text(text, 'case.yml')
    assert check_bundle(bundle) == []


def test_every_service_option_has_a_case():
    covered = set(case[0] for case in SERVICE_CASES) | {'Secrets', 'Configs', 'WithRegistryAuth'}  # below
    assert covered == set(BUNDLE_SCHEMA['$defs']['Service']['properties'])


def test_a_config_credential_spec_names_the_config_and_references_it_at_runtime():
    # As the docker CLI does (convertServiceConfigObjs): a Runtime reference, and the ID in CredentialSpec.Config.
    bundle = {'Configs': {'gmsa': {'Content': '{}'}},
              'Services': {'web': {'Image': 'busybox', 'CredentialSpec': {'Config': 'gmsa'},
                                   'Configs': [{'Source': 'gmsa', 'Target': '/gmsa.json'}]}}}
    assert check_bundle(bundle) == []
    stack = core.desired_stack('demo', bundle)
    name = stack['configs']['gmsa']['name']
    container = stack['services']['demo_web']['spec']['TaskTemplate']['ContainerSpec']
    assert container['Privileges'] == {'CredentialSpec': {'Config': name}}
    assert {'ConfigName': name, 'Runtime': {}} in container['Configs'] and len(container['Configs']) == 2
    with_ids = apply.with_object_ids(stack['services']['demo_web']['spec'], {}, {name: 'cfgid'})
    container = with_ids['TaskTemplate']['ContainerSpec']
    assert container['Privileges']['CredentialSpec'] == {'Config': 'cfgid'}
    assert {'ConfigName': name, 'ConfigID': 'cfgid', 'Runtime': {}} in container['Configs']
    # The module fills the IDs again once the objects exist: the result of the first call takes it unchanged.
    assert apply.with_object_ids(with_ids, {}, {name: 'cfgid'}) == with_ids
    placeholder = apply.with_object_ids(stack['services']['demo_web']['spec'], {}, {})
    assert apply.with_object_ids(placeholder, {}, {name: 'cfgid'}) == with_ids


def test_a_credential_spec_config_must_be_a_config_of_the_stack():
    bundle = {'Configs': {'gmsa': {'Content': '{}'}},
              'Services': {'web': {'Image': 'busybox', 'CredentialSpec': {'Config': 'gmas'}}}}
    errors = [str(error) for error in check_bundle(bundle)]
    assert errors == ["$.Services.web.CredentialSpec.Config: config 'gmas' is not defined in the stack's Configs; "
                      "did you mean 'gmsa'?"]


@pytest.mark.parametrize('credential', [{}, {'File': 'a.json', 'Registry': 'b'}])
def test_a_credential_spec_has_exactly_one_source(credential):
    bundle = {'Services': {'web': {'Image': 'busybox', 'CredentialSpec': credential}}}
    errors = [str(error) for error in check_bundle(bundle)]
    assert len(errors) == 1 and errors[0].startswith('$.Services.web.CredentialSpec')


@pytest.mark.parametrize('value', [-1001, 1001, '5'])
def test_oom_score_adj_is_an_integer_from_minus_1000_to_1000(value):
    errors = check_bundle({'Services': {'web': {'Image': 'busybox', 'OomScoreAdj': value}}})
    assert len(errors) == 1 and str(errors[0]).startswith('$.Services.web.OomScoreAdj')


def test_an_empty_log_driver_is_refused():
    errors = check_bundle({'Services': {'web': {'Image': 'busybox', 'LogDriver': {}}}})
    assert len(errors) == 1 and str(errors[0]).startswith('$.Services.web.LogDriver')


def test_start_interval_below_a_millisecond_is_refused():
    errors = check_bundle({'Services': {'web': {'Image': 'busybox',
                                                'Healthcheck': {'Test': ['CMD', 'true'], 'StartInterval': '500us'}}}})
    assert len(errors) == 1 and str(errors[0]).startswith('$.Services.web.Healthcheck.StartInterval')


def test_fields_an_older_engine_would_drop_are_named_with_the_api_version_they_need():
    bundle = {'Configs': {'gmsa': {'Content': '{}'}}, 'Services': {
        'web': {'Image': 'busybox', 'OomScoreAdj': 100, 'Healthcheck': {'Test': ['CMD', 'true'], 'StartInterval': '1s'},
                'CredentialSpec': {'Config': 'gmsa'}, 'Isolation': 'process'},
        'db': {'Image': 'busybox', 'OomScoreAdj': 0, 'Isolation': 'default', 'Groups': ['audio'], 'StdinOpen': True}}}
    assert core.api_version_problems(bundle, '1.48') == []
    assert core.api_version_problems(bundle, '1.41') == [
        'Services.web.Healthcheck.StartInterval needs Engine API 1.44 or later, the engine speaks 1.41: upgrade Docker '
        'on the managers or remove the field',
        'Services.web.OomScoreAdj needs Engine API 1.46 or later, the engine speaks 1.41: upgrade Docker on the '
        'managers or remove the field']
    assert [problem.split(' ')[0] for problem in core.api_version_problems(bundle, '1.34')] == [
        'Services.web.Isolation', 'Services.web.CredentialSpec.Config', 'Services.web.Healthcheck.StartInterval',
        'Services.web.OomScoreAdj']


def test_with_registry_auth_is_a_flag_for_the_module_not_part_of_the_spec():
    bundle = {'Services': {'web': {'Image': 'busybox', 'WithRegistryAuth': True}, 'db': {'Image': 'busybox'}}}
    services = core.desired_stack('demo', bundle)['services']
    assert services['demo_web']['registry_auth'] is True and services['demo_db']['registry_auth'] is False
    assert services['demo_web']['spec'] == dict(services['demo_db']['spec'], Name='demo_web')


def test_secret_and_config_references_name_versioned_objects():
    bundle = {
        'Secrets': {'db_password': {'File': 'db.txt'}, 'token': {'Content': 'abc'}},
        'Configs': {'app_conf': {'Content': 'x = 1\n'}},
        'Services': {'web': {
            'Image': 'busybox',
            'Secrets': ['db_password', {'Source': 'token', 'Target': 'api-token', 'UID': 33, 'GID': '33', 'Mode': 0o400}],
            'Configs': [{'Source': 'app_conf', 'Target': '/etc/app.conf'}],
        }},
    }
    stack = core.desired_stack('demo', bundle, secret_data={'db_password': b64('hunter2')})
    container = stack['services']['demo_web']['spec']['TaskTemplate']['ContainerSpec']
    password = 'demo_db_password_' + hashlib.sha256(b'hunter2').hexdigest()[:10]
    token = 'demo_token_' + hashlib.sha256(b'abc').hexdigest()[:10]
    assert container['Secrets'] == [
        {'File': {'Name': 'db_password', 'UID': '0', 'GID': '0', 'Mode': 0o444}, 'SecretName': password},
        {'File': {'Name': 'api-token', 'UID': '33', 'GID': '33', 'Mode': 0o400}, 'SecretName': token},
    ]
    assert container['Configs'] == [{'File': {'Name': '/etc/app.conf', 'UID': '0', 'GID': '0', 'Mode': 0o444},
                                     'ConfigName': stack['configs']['app_conf']['name']}]


# ---- stack-level networks, secrets and configs ----

def test_stack_network_options():
    definition = {'Driver': 'overlay', 'DriverOpts': {'encrypted': ''}, 'Attachable': True, 'Internal': True,
                  'IPAM': {'Driver': 'default', 'Config': [{'Subnet': '10.9.0.0/24', 'IPRange': '10.9.0.0/25',
                                                            'Gateway': '10.9.0.1'}], 'Options': {'a': 'b'}},
                  'Labels': {'purpose': 'db'}}
    bundle = {'Networks': {'back': definition, 'shared': {'External': True}}, 'Services': {'web': {'Image': 'b'}}}
    stack = core.desired_stack('demo', bundle)
    assert stack['networks'] == {'demo_back': {
        'Name': 'demo_back', 'CheckDuplicate': True, 'Driver': 'overlay', 'Options': {'encrypted': ''},
        'Attachable': True, 'Internal': True, 'Labels': {'purpose': 'db', NS: 'demo'},
        'IPAM': {'Driver': 'default', 'Config': [{'Subnet': '10.9.0.0/24', 'IPRange': '10.9.0.0/25', 'Gateway': '10.9.0.1'}],
                 'Options': {'a': 'b'}}}}
    assert stack['external_networks'] == ['shared']
    covered = set(definition) | {'External', 'Name'}  # Name: test_a_named_network_keeps_its_name_and_the_stack_label
    assert covered == set(BUNDLE_SCHEMA['$defs']['Network']['properties'])


def test_a_declared_network_is_created_with_another_driver_and_an_external_one_attached_by_its_name():
    bundle = {'Networks': {'local': {'Driver': 'bridge'}, 'shared': {'External': True}},
              'Services': {'web': {'Image': 'b', 'Networks': ['shared']}}}
    stack = core.desired_stack('demo', bundle)
    assert stack['networks']['demo_local']['Driver'] == 'bridge'
    assert stack['services']['demo_web']['spec']['TaskTemplate']['Networks'] == [{'Target': 'shared', 'Aliases': ['web']}]


@pytest.mark.parametrize('kind, data_key, spec_key', [('Secrets', 'secret_data', 'secrets'),
                                                      ('Configs', 'config_data', 'configs')])
def test_file_objects(kind, data_key, spec_key):
    bundle = {kind: {'from_file': {'File': 'a.txt', 'Labels': {'owner': 'me'}}, 'inline': {'Content': 'hello'},
                     'outside': {'External': True}},
              'Services': {'web': {'Image': 'b', kind: ['from_file', 'inline', 'outside']}}}
    stack = core.desired_stack('demo', bundle, **{data_key: {'from_file': b64('file content')}})
    digest = hashlib.sha256(b'file content').hexdigest()
    assert stack[spec_key]['from_file'] == {'name': 'demo_from_file_' + digest[:10], 'spec': {
        'Name': 'demo_from_file_' + digest[:10], 'Data': b64('file content'),
        'Labels': {'owner': 'me', NS: 'demo', 'crane.swarm.content-sha256': digest}}}
    assert stack[spec_key]['inline']['spec']['Data'] == b64('hello')
    assert stack['external_' + spec_key] == ['outside']
    references = stack['services']['demo_web']['spec']['TaskTemplate']['ContainerSpec'][kind]
    assert [reference[kind[:-1] + 'Name'] for reference in references][-1] == 'outside'
    # Name: test_a_fixed_name_replaces_the_versioned_one
    assert {'File', 'Content', 'Labels', 'External', 'Name'} == set(BUNDLE_SCHEMA['$defs']['FileObject']['properties'])


def test_a_named_network_keeps_its_name_and_the_stack_label():
    bundle = {'Networks': {'proxy': {'Name': 'proxy'}, 'edge': {'External': True, 'Name': 'real-edge'}},
              'Services': {'web': {'Image': 'b', 'Networks': ['proxy', 'edge']}}}
    stack = core.desired_stack('demo', bundle)
    assert list(stack['networks']) == ['proxy']
    assert stack['networks']['proxy']['Name'] == 'proxy' and stack['networks']['proxy']['Labels'] == {NS: 'demo'}
    assert stack['external_networks'] == ['real-edge']
    assert stack['services']['demo_web']['spec']['TaskTemplate']['Networks'] == [
        {'Target': 'proxy', 'Aliases': ['web']}, {'Target': 'real-edge', 'Aliases': ['web']}]


@pytest.mark.parametrize('kind, data_key, spec_key', [('Secrets', 'secret_data', 'secrets'),
                                                      ('Configs', 'config_data', 'configs')])
def test_a_fixed_name_replaces_the_versioned_one(kind, data_key, spec_key):
    bundle = {kind: {'key': {'File': 'k.txt', 'Name': 'site.key'}, 'ca': {'External': True, 'Name': 'corp-ca'}},
              'Services': {'web': {'Image': 'b', kind: ['key', 'ca']}}}
    stack = core.desired_stack('demo', bundle, **{data_key: {'key': b64('one')}})
    item = stack[spec_key]['key']
    assert item['name'] == item['spec']['Name'] == 'site.key' and item['fixed'] is True
    # The digest label stays: it tells a live secret's content, which the engine does not show.
    assert item['spec']['Labels'] == {NS: 'demo', 'crane.swarm.content-sha256': hashlib.sha256(b'one').hexdigest()}
    assert stack['external_' + spec_key] == ['corp-ca']
    references = stack['services']['demo_web']['spec']['TaskTemplate']['ContainerSpec'][kind]
    assert sorted(reference[kind[:-1] + 'Name'] for reference in references) == ['corp-ca', 'site.key']
    changed = core.desired_stack('demo', bundle, **{data_key: {'key': b64('two')}})[spec_key]['key']
    assert changed['name'] == 'site.key'


def test_stack_volumes_get_what_the_docker_cli_gives_them():
    volumes = {'data': {'Driver': 'local', 'DriverOpts': {'type': 'tmpfs', 'device': 'tmpfs'}, 'Labels': {'k': 'v'}},
               'named': {'Name': 'shop-db'}, 'old': {'External': True}, 'legacy': {'External': True, 'Name': 'x1'}}
    mounts = [{'Type': 'volume', 'Source': name, 'Target': '/' + name} for name in sorted(volumes)]
    mounts.append({'Type': 'volume', 'Source': 'data', 'Target': '/nocopy', 'VolumeOptions': {'NoCopy': True}})
    mounts.append({'Type': 'volume', 'Source': 'elsewhere', 'Target': '/as-written'})
    spec = spec_of({'Mounts': mounts}, Volumes=volumes)
    by_target = dict((entry['Target'], entry) for entry in spec['TaskTemplate']['ContainerSpec']['Mounts'])
    assert by_target['/data'] == {'Type': 'volume', 'Source': 'demo_data', 'Target': '/data', 'VolumeOptions': {
        'Labels': {'k': 'v', NS: 'demo'},
        'DriverConfig': {'Name': 'local', 'Options': {'type': 'tmpfs', 'device': 'tmpfs'}}}}
    assert by_target['/named'] == {'Type': 'volume', 'Source': 'shop-db', 'Target': '/named',
                                   'VolumeOptions': {'Labels': {NS: 'demo'}}}
    assert by_target['/old'] == {'Type': 'volume', 'Source': 'old', 'Target': '/old'}
    assert by_target['/legacy']['Source'] == 'x1' and 'VolumeOptions' not in by_target['/legacy']
    assert by_target['/nocopy']['VolumeOptions']['NoCopy'] is True
    assert by_target['/nocopy']['VolumeOptions']['Labels'] == {'k': 'v', NS: 'demo'}
    assert by_target['/as-written'] == {'Type': 'volume', 'Source': 'elsewhere', 'Target': '/as-written'}
    assert {'Name', 'Driver', 'DriverOpts', 'Labels', 'External'} == set(BUNDLE_SCHEMA['$defs']['Volume']['properties'])


def test_a_volume_with_driver_options_only_names_no_driver():
    spec = spec_of({'Mounts': [{'Type': 'volume', 'Source': 'v', 'Target': '/v'}]},
                   Volumes={'v': {'DriverOpts': {'o': 'bind'}}})
    mount = spec['TaskTemplate']['ContainerSpec']['Mounts'][0]
    assert mount['VolumeOptions']['DriverConfig'] == {'Options': {'o': 'bind'}}


def test_new_content_makes_a_new_object_and_same_content_the_same():
    bundle = {'Secrets': {'s': {'File': 's.txt'}}, 'Services': {'web': {'Image': 'b', 'Secrets': ['s']}}}
    first = core.desired_stack('demo', bundle, secret_data={'s': b64('one')})['secrets']['s']['name']
    again = core.desired_stack('demo', bundle, secret_data={'s': b64('one')})['secrets']['s']['name']
    changed = core.desired_stack('demo', bundle, secret_data={'s': b64('two')})['secrets']['s']['name']
    assert first == again != changed


def test_a_file_content_that_was_not_provided_is_an_error():
    bundle = {'Secrets': {'s': {'File': 's.txt'}}, 'Services': {'web': {'Image': 'b'}}}
    with pytest.raises(ValueError, match="secret 's' \\(File s.txt\\) was not provided"):
        core.desired_stack('demo', bundle)


def test_the_extended_example_translates():
    stack = core.desired_stack('demo', read_good('extended-every-option.yml'),
                               secret_data={'db_password': b64('pw')}, config_data={'app_conf': b64('conf')})
    assert sorted(stack['services']) == ['demo_agent', 'demo_api', 'demo_cleanup', 'demo_gpu', 'demo_migrate', 'demo_web']
    assert sorted(stack['networks']) == ['demo_back', 'demo_front']
    assert stack['services']['demo_web']['registry_auth'] is True


# ---- service_changes ----

def desired_web():
    return spec_of({'Env': ['A=1'], 'Networks': ['front'], 'Ports': [{'Port': 80}],
                    'Secrets': ['pw', 'key'], 'Healthcheck': {'Test': ['CMD', 'true']}},
                   Secrets={'pw': {'Content': 'x'}, 'key': {'Content': 'y'}})


def as_docker_returns_it(spec):
    """The .Spec of GET /services/{id} on Docker 20.10 for a service created with `spec` through the API."""
    live = copy.deepcopy(spec)
    template = live['TaskTemplate']
    template['ContainerSpec']['Isolation'] = 'default'
    template.update({'Resources': {'Limits': {}, 'Reservations': {}}, 'ForceUpdate': 0, 'Runtime': 'container'})
    template.setdefault('Placement', {})
    template['Networks'] = [dict(attachment, Target='n3tw0rk1d') for attachment in template['Networks']]
    for index, reference in enumerate(template['ContainerSpec']['Secrets']):
        reference['SecretID'] = 's3cr3t%d' % index
    return live


NETWORK_NAMES = {'n3tw0rk1d': 'demo_front'}


def test_identical_specs_have_no_changes():
    assert core.service_changes(desired_web(), desired_web()) == []


def test_what_the_engine_fills_in_is_no_change():
    live = as_docker_returns_it(desired_web())
    assert core.service_changes(live, desired_web(), NETWORK_NAMES) == []


def test_what_the_docker_cli_writes_explicitly_is_no_change():
    live = as_docker_returns_it(desired_web())
    live['UpdateConfig'] = {'Parallelism': 1, 'FailureAction': 'pause', 'Monitor': 5 * SECOND, 'MaxFailureRatio': 0,
                            'Order': 'stop-first'}
    live['RollbackConfig'] = dict(live['UpdateConfig'])
    live['TaskTemplate']['RestartPolicy'] = {'Condition': 'any', 'Delay': 5 * SECOND, 'MaxAttempts': 0}
    live['TaskTemplate']['ContainerSpec'].update({'Init': False, 'StopGracePeriod': 10 * SECOND, 'DNSConfig': {}})
    live['TaskTemplate']['Placement'] = {'Platforms': [{'Architecture': 'amd64', 'OS': 'linux'}]}
    assert core.service_changes(live, desired_web(), NETWORK_NAMES) == []


def test_one_env_change_is_exactly_that_path():
    desired = desired_web()
    desired['TaskTemplate']['ContainerSpec']['Env'] = ['A=2']
    assert core.service_changes(as_docker_returns_it(desired_web()), desired, NETWORK_NAMES) == [
        ('TaskTemplate.ContainerSpec.Env', ['A=1'], ['A=2'])]


def test_a_port_the_swarm_assigned_is_no_change_but_a_chosen_one_is():
    live = as_docker_returns_it(desired_web())
    live['EndpointSpec']['Ports'][0]['PublishedPort'] = 30001
    assert core.service_changes(live, desired_web(), NETWORK_NAMES) == []
    desired = desired_web()
    desired['EndpointSpec']['Ports'][0]['PublishedPort'] = 8080
    assert core.service_changes(live, desired, NETWORK_NAMES) == [
        ('EndpointSpec.Ports', [{'Protocol': 'tcp', 'TargetPort': 80, 'PublishedPort': 30001, 'PublishMode': 'ingress'}],
         [{'Protocol': 'tcp', 'TargetPort': 80, 'PublishedPort': 8080, 'PublishMode': 'ingress'}])]


def test_a_published_port_removed_from_the_bundle_is_a_change():
    live = as_docker_returns_it(desired_web())
    live['EndpointSpec']['Ports'][0]['PublishedPort'] = 8080
    assert [change[0] for change in core.service_changes(live, desired_web(), NETWORK_NAMES)] == ['EndpointSpec.Ports']


def test_networks_named_by_id_need_their_names():
    live = as_docker_returns_it(desired_web())
    changes = core.service_changes(live, desired_web())
    assert [change[0] for change in changes] == ['TaskTemplate.Networks']


def test_networks_on_the_service_itself_count_as_task_networks():
    live = as_docker_returns_it(desired_web())
    live['Networks'] = live['TaskTemplate'].pop('Networks')
    assert core.service_changes(live, desired_web(), NETWORK_NAMES) == []


def test_reordered_secrets_aliases_and_constraints_are_no_change():
    desired = desired_web()
    desired['TaskTemplate']['Placement'] = {'Constraints': ['a == 1', 'b == 2']}
    desired['TaskTemplate']['Networks'][0]['Aliases'] = ['web', 'www']
    live = as_docker_returns_it(desired)
    live['TaskTemplate']['ContainerSpec']['Secrets'].reverse()
    live['TaskTemplate']['Placement']['Constraints'].reverse()
    live['TaskTemplate']['Networks'][0]['Aliases'].reverse()
    assert core.service_changes(live, desired, NETWORK_NAMES) == []


def test_new_secret_content_changes_the_reference():
    desired = spec_of({'Secrets': ['pw']}, Secrets={'pw': {'Content': 'new'}})
    live = spec_of({'Secrets': ['pw']}, Secrets={'pw': {'Content': 'old'}})
    assert [change[0] for change in core.service_changes(live, desired)] == ['TaskTemplate.ContainerSpec.Secrets']


@pytest.mark.parametrize('live_mode, desired_mode, changed', [
    (None, {'Replicated': {'Replicas': 1}}, False),
    ({'Replicated': {}}, {'Replicated': {'Replicas': 1}}, False),
    ({'Replicated': {'Replicas': 3}}, {'Replicated': {'Replicas': 1}}, True),
    ({'Replicated': {'Replicas': 0}}, {'Replicated': {'Replicas': 1}}, True),
    ({'Global': {}}, {'Replicated': {'Replicas': 1}}, True),
    ({'ReplicatedJob': {}}, {'ReplicatedJob': {'MaxConcurrent': 1, 'TotalCompletions': 1}}, False),
])
def test_mode(live_mode, desired_mode, changed):
    live = spec_of({})
    live.pop('Mode')
    if live_mode is not None:
        live['Mode'] = live_mode
    desired = dict(spec_of({}), Mode=desired_mode)
    assert core.service_changes(live, desired) == ([('Mode', live_mode or {'Replicated': {'Replicas': 1}}, desired_mode)]
                                                   if changed else [])


@pytest.mark.parametrize('service, change', [
    # Zeros that mean something: all at once, no grace, restart at once (the defaults are 1, 10s, 5s).
    ({'UpdateConfig': {'Parallelism': 0}}, ('UpdateConfig.Parallelism', 1, 0)),
    ({'StopGracePeriod': 0}, ('TaskTemplate.ContainerSpec.StopGracePeriod', 10 * SECOND, 0)),
    ({'RestartPolicy': {'Delay': 0}}, ('TaskTemplate.RestartPolicy.Delay', 5 * SECOND, 0)),
    ({'Healthcheck': {'Test': ['NONE']}}, ('TaskTemplate.ContainerSpec.Healthcheck.Test', None, ['NONE'])),
    ({'ReadOnly': True}, ('TaskTemplate.ContainerSpec.ReadOnly', None, True)),
    ({'Labels': {'a': 'b'}}, ('Labels', {NS: 'demo'}, {'a': 'b', NS: 'demo'})),
])
def test_a_setting_against_its_absence_is_a_change(service, change):
    assert core.service_changes(spec_of({}), spec_of(service)) == [change]


def test_the_new_options_as_the_engine_returns_them_are_no_change():
    # Measured on engine 20.10 (API 1.41) for a stack the docker CLI 28.2 deployed: Privileges with empty
    # fields, CredentialSpec.Config an ID, the Runtime config reference with its ID, LogDriver without Name.
    bundle = {'Configs': {'gmsa': {'Content': '{}'}}, 'Services': {'web': {
        'Image': 'busybox', 'Groups': ['audio'], 'StdinOpen': True, 'Isolation': 'default',
        'CredentialSpec': {'Config': 'gmsa'}, 'LogDriver': {'Options': {'max-size': '10m'}}}}}
    stack = core.desired_stack('demo', bundle)
    name = stack['configs']['gmsa']['name']
    desired = apply.with_object_ids(stack['services']['demo_web']['spec'], {}, {name: 'cfgid'})
    live = copy.deepcopy(desired)
    container = live['TaskTemplate']['ContainerSpec']
    container['Privileges'] = {'CredentialSpec': {'Config': 'cfgid', 'File': '', 'Registry': ''}, 'SELinuxContext': None}
    live['TaskTemplate']['LogDriver'] = {'Options': {'max-size': '10m'}}
    live['TaskTemplate'].update({'Resources': {}, 'Placement': {}, 'ForceUpdate': 0, 'Runtime': 'container'})
    assert core.service_changes(live, desired) == []
    # Unset and the engine's defaults are equal: OpenStdin false, OomScoreAdj 0, Isolation default, no Privileges.
    plain = spec_of({})
    live = copy.deepcopy(plain)
    live['TaskTemplate']['ContainerSpec'].update({'OpenStdin': False, 'OomScoreAdj': 0, 'Isolation': 'default',
                                                 'Privileges': {'CredentialSpec': None, 'SELinuxContext': None}})
    assert core.service_changes(live, plain) == []
    assert core.service_changes(live, spec_of({'OomScoreAdj': 5})) == [
        ('TaskTemplate.ContainerSpec.OomScoreAdj', None, 5)]


def test_a_start_interval_change_is_shown_as_a_duration():
    changes = core.service_changes(spec_of({'Healthcheck': {'Test': ['CMD', 'true'], 'StartInterval': '1s'}}),
                                   spec_of({'Healthcheck': {'Test': ['CMD', 'true'], 'StartInterval': '2s'}}))
    assert core.diff_for_display({'demo_web': changes})['after'] == {
        'demo_web': {'TaskTemplate.ContainerSpec.Healthcheck.StartInterval': '2s'}}


def test_force_update_counter_is_not_a_change():
    live = spec_of({})
    live['TaskTemplate']['ForceUpdate'] = 4
    assert core.service_changes(live, spec_of({})) == []


# ---- diff_for_display ----

def test_diff_for_display_shows_each_service_and_field_readably():
    changes = {'demo_web': [('UpdateConfig.Delay', 5 * SECOND, 10 * SECOND),
                            ('TaskTemplate.Resources.Limits.MemoryBytes', None, 64 * MIB),
                            ('TaskTemplate.ContainerSpec.Env', ['A=1'], ['A=2'])],
               'demo_db': [('Mode', {'Replicated': {'Replicas': 1}}, {'Replicated': {'Replicas': 2}})]}
    assert core.diff_for_display(changes) == {
        'before': {'demo_web': {'UpdateConfig.Delay': '5s', 'TaskTemplate.Resources.Limits.MemoryBytes': None,
                                'TaskTemplate.ContainerSpec.Env': ['A=1']},
                   'demo_db': {'Mode': {'Replicated': {'Replicas': 1}}}},
        'after': {'demo_web': {'UpdateConfig.Delay': '10s', 'TaskTemplate.Resources.Limits.MemoryBytes': '64M',
                               'TaskTemplate.ContainerSpec.Env': ['A=2']},
                  'demo_db': {'Mode': {'Replicated': {'Replicas': 2}}}},
    }


def test_diff_for_display_never_shows_secret_data():
    changes = {'demo_web': [('Secret', {'Name': 'x', 'Data': b64('hunter2')}, [{'Data': b64('hunter3')}])]}
    shown = core.diff_for_display(changes)
    assert 'aHVudGVy' not in repr(shown)
    assert shown['before']['demo_web']['Secret'] == {'Name': 'x', 'Data': '<hidden>'}


def test_default_mount_consistency_is_no_change():
    """The engine stores Consistency "consistent" as its default and does not show it."""
    desired = {'TaskTemplate': {'ContainerSpec': {'Image': 'busybox', 'Mounts': [
        {'Type': 'bind', 'Source': '/tmp', 'Target': '/t', 'Consistency': 'consistent'}]}}}
    live = {'TaskTemplate': {'ContainerSpec': {'Image': 'busybox', 'Mounts': [
        {'Type': 'bind', 'Source': '/tmp', 'Target': '/t'}]}}}
    assert core.service_changes(live, desired) == []
    desired['TaskTemplate']['ContainerSpec']['Mounts'][0]['Consistency'] = 'cached'
    assert [change[0] for change in core.service_changes(live, desired)] == ['TaskTemplate.ContainerSpec.Mounts']


def test_the_empty_volume_options_the_cli_sends_for_an_external_volume_are_no_change():
    desired = spec_of({'Mounts': [{'Type': 'volume', 'Source': 'ext', 'Target': '/ext'}]}, Volumes={'ext': {'External': True}})
    live = copy.deepcopy(desired)
    live['TaskTemplate']['ContainerSpec']['Mounts'][0]['VolumeOptions'] = {}
    assert core.service_changes(live, desired) == []


def test_a_plain_dab_service_without_networks_joins_none_as_in_docker_1_12():
    # Docker 1.12's api/client/stack/deploy.go: convertNetworks of no networks is an empty list and
    # getUniqueNetworkNames creates only networks a service names; no default network (compose's) here.
    stack = core.desired_stack('demo', {'Services': {'web': {'Image': 'busybox'}}})
    assert stack['networks'] == {} and 'Networks' not in stack['services']['demo_web']['spec']['TaskTemplate']
