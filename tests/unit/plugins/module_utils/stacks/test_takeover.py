# Copyright: crane.swarm developers
# GNU General Public License v3.0+ (see https://www.gnu.org/licenses/gpl-3.0.txt)
"""Taking over a stack `docker stack deploy -c` made: what means the same is the same, on plain data.

The live specs below are written as Docker 28.2's CLI stores them (measured on the sandbox,
tests/integration/test_stack_takeover.py does it for real).
"""

from __future__ import annotations

import base64
import copy

import pytest

from ansible_collections.crane.swarm.plugins.module_utils.stacks import spec as core
from ansible_collections.crane.swarm.plugins.module_utils.stacks.apply import (
    cli_secrets_in_use, reuse_cli_configs, secret_update_body, use_twins)
from ansible_collections.crane.swarm.plugins.plugin_utils.compose.convert import compose_to_bundle

NS = 'com.docker.stack.namespace'
NETWORK_NAMES = {'id-back': 'demo_back', 'id-front': 'demo_front'}


def b64(text):
    return base64.b64encode(text.encode()).decode()


def desired(**service):
    bundle = {'Services': {'web': dict({
        'Image': 'busybox', 'Env': ['ZED=last', 'ALPHA=first'], 'Networks': ['front', 'back'],
        'Ports': [{'Port': 8000, 'PublishedPort': 18081}, {'Port': 9000, 'Protocol': 'udp', 'PublishedPort': 18080}],
    }, **service)}, 'Networks': {'front': {}, 'back': {}}}
    return core.desired_stack('demo', bundle)['services']['demo_web']['spec']


def cli_live():
    """demo_web as the CLI wrote it: image label, :latest, sorted env/ports/networks, empty objects."""
    return {
        'Name': 'demo_web', 'Labels': {NS: 'demo', 'com.docker.stack.image': 'busybox'},
        'TaskTemplate': {
            'ContainerSpec': {
                'Image': 'busybox:latest', 'Env': ['ALPHA=first', 'ZED=last'], 'Labels': {NS: 'demo'},
                'Privileges': {'CredentialSpec': None, 'SELinuxContext': None}, 'DNSConfig': {},
                'Isolation': 'default', 'StopGracePeriod': 10 * 10 ** 9},
            'Resources': {}, 'Placement': {}, 'ForceUpdate': 0, 'Runtime': 'container',
            'RestartPolicy': {'Condition': 'any', 'Delay': 5 * 10 ** 9, 'MaxAttempts': 0},
            'Networks': [{'Target': 'id-back', 'Aliases': ['web']}, {'Target': 'id-front', 'Aliases': ['web']}]},
        'Mode': {'Replicated': {'Replicas': 1}},
        'UpdateConfig': {'Parallelism': 1, 'FailureAction': 'pause', 'Monitor': 5 * 10 ** 9,
                         'MaxFailureRatio': 0, 'Order': 'stop-first'},
        'RollbackConfig': {'Parallelism': 1, 'FailureAction': 'pause', 'Monitor': 5 * 10 ** 9,
                           'MaxFailureRatio': 0, 'Order': 'stop-first'},
        'EndpointSpec': {'Mode': 'vip', 'Ports': [
            {'Protocol': 'udp', 'TargetPort': 9000, 'PublishedPort': 18080, 'PublishMode': 'ingress'},
            {'Protocol': 'tcp', 'TargetPort': 8000, 'PublishedPort': 18081, 'PublishMode': 'ingress'}]},
    }


def test_a_cli_service_is_no_change():
    assert core.service_changes(cli_live(), desired(), NETWORK_NAMES) == []


@pytest.mark.parametrize('change, path', [
    (lambda live: live['TaskTemplate']['ContainerSpec'].update(Image='busybox:1.36'), 'TaskTemplate.ContainerSpec.Image'),
    (lambda live: live['Labels'].update(owner='team-a'), 'Labels'),
    (lambda live: live['EndpointSpec']['Ports'][0].update(PublishedPort=18082), 'EndpointSpec.Ports'),
    (lambda live: live['TaskTemplate']['ContainerSpec'].update(Env=['ALPHA=first']), 'TaskTemplate.ContainerSpec.Env'),
    (lambda live: live['TaskTemplate']['ContainerSpec']['Privileges'].update(SELinuxContext={'Disable': True}),
     'TaskTemplate.ContainerSpec.Privileges.SELinuxContext.Disable'),
])
def test_real_differences_still_count(change, path):
    live = cli_live()
    change(live)
    assert [found[0] for found in core.service_changes(live, desired(), NETWORK_NAMES)] == [path]


def test_env_order_counts_when_a_variable_is_set_twice():
    live = cli_live()
    live['TaskTemplate']['ContainerSpec']['Env'] = ['A=1', 'A=2']
    assert core.service_changes(live, desired(Env=['A=2', 'A=1']), NETWORK_NAMES) != []
    assert core.service_changes(live, desired(Env=['A=1', 'A=2']), NETWORK_NAMES) == []


@pytest.mark.parametrize('image, sent', [
    ('busybox', 'busybox:latest'), ('busybox:1.36', 'busybox:1.36'), ('docker.io/library/busybox', 'busybox:latest'),
    ('index.docker.io/library/busybox:1', 'busybox:1'), ('library/busybox', 'busybox:latest'),
    ('docker.io/team/app', 'team/app:latest'), ('localhost:5000/app', 'localhost:5000/app:latest'),
    ('registry.example:5000/team/app:2', 'registry.example:5000/team/app:2'),
    ('busybox@sha256:' + 'a' * 64, 'busybox@sha256:' + 'a' * 64),
    ('busybox:1@sha256:' + 'a' * 64, 'busybox:1@sha256:' + 'a' * 64),
    ('NotAName', 'NotAName'),
])
def test_tagged_image_is_what_the_docker_client_sends(image, sent):
    assert core.tagged_image(image) == sent


def test_crane_sends_the_empty_objects_the_cli_sends():
    # swarmkit restarts tasks when the CLI adds them to a service crane made (measured)
    template = desired()['TaskTemplate']
    assert template['Resources'] == {} and template['Placement'] == {}
    assert template['ContainerSpec']['Privileges'] == {}


def test_a_crane_service_of_an_older_crane_is_no_change():
    older = desired()
    del older['TaskTemplate']['Resources'], older['TaskTemplate']['Placement']
    del older['TaskTemplate']['ContainerSpec']['Privileges']
    assert core.service_changes(older, desired(), NETWORK_NAMES) == []


def test_compose_path_writes_image_ports_networks_as_the_cli_sends_them():
    project = {'services': {'web': {
        'image': 'busybox', 'networks': ['zeta', 'alpha', 'outside'],
        'ports': ['18081:8000', {'target': 9000, 'published': 18080, 'protocol': 'udp'}, '7000']}},
        'networks': {'zeta': {}, 'alpha': {}, 'outside': {'external': True}}}
    bundle, dummy = compose_to_bundle(project, 'demo')
    web = bundle['Services']['web']
    assert web['Image'] == 'busybox:latest'
    assert [port.get('PublishedPort') for port in web['Ports']] == [None, 18080, 18081]
    assert web['Networks'] == ['alpha', 'zeta', 'outside']  # by the names attached: demo_alpha, demo_zeta, outside


def stack_with_config(content):
    bundle = {'Services': {'web': {'Image': 'busybox', 'Configs': ['settings'], 'Secrets': ['pw']}},
              'Configs': {'settings': {'Content': content}}, 'Secrets': {'pw': {'Content': 'hunter2'}}}
    return core.desired_stack('demo', bundle)


def live_object(name, content, stack='demo'):
    return {'ID': 'id-' + name, 'Spec': {'Name': name, 'Labels': {NS: stack}, 'Data': b64(content)}}


def test_the_cli_config_with_the_same_content_is_reused():
    wanted = stack_with_config('colour=blue\n')
    crane_name = wanted['configs']['settings']['name']
    assert reuse_cli_configs('demo', wanted, [live_object('demo_settings', 'colour=blue\n')]) == {
        crane_name: 'demo_settings'}
    assert wanted['configs']['settings']['name'] == wanted['configs']['settings']['spec']['Name'] == 'demo_settings'
    container = wanted['services']['demo_web']['spec']['TaskTemplate']['ContainerSpec']
    assert [reference['ConfigName'] for reference in container['Configs']] == ['demo_settings']
    assert [reference['SecretName'] for reference in container['Secrets']] == [wanted['secrets']['pw']['name']]


@pytest.mark.parametrize('live', [
    [live_object('demo_settings', 'colour=red\n')],
    [live_object('demo_settings', 'colour=blue\n', stack='other')],
    [dict(live_object('demo_settings', 'colour=blue\n'), Spec=dict(
        live_object('demo_settings', 'colour=blue\n')['Spec'], Templating={'Name': 'golang'}))],
    [],
])
def test_a_config_not_verified_equal_is_not_reused(live):
    wanted = stack_with_config('colour=blue\n')
    before = copy.deepcopy(wanted)
    assert reuse_cli_configs('demo', wanted, live) == {}
    assert wanted == before


def service_using(secret_name, stack='demo'):
    return {'Spec': {'Name': 'demo_web', 'Labels': {NS: stack},
                     'TaskTemplate': {'ContainerSpec': {'Secrets': [{'SecretName': secret_name}]}}}}


def test_a_cli_secret_a_stack_service_uses_is_a_candidate_for_reuse():
    wanted = stack_with_config('colour=blue\n')
    live_secret = live_object('demo_pw', 'unknown to the API')
    candidates = cli_secrets_in_use('demo', wanted, [live_secret], [service_using('demo_pw')])
    assert candidates == [(wanted['secrets']['pw'], live_secret)]


@pytest.mark.parametrize('live_secrets, services', [
    ([live_object('demo_pw', 'x')], [service_using('demo_pw_0123456789')]),  # no service uses the CLI's
    ([live_object('demo_pw', 'x')], [service_using('demo_pw', stack='other')]),  # another stack's service
    ([live_object('demo_pw', 'x', stack='other')], [service_using('demo_pw')]),  # another stack's secret
    ([], [service_using('demo_pw')]),
])
def test_a_cli_secret_is_no_candidate_unless_this_stack_has_it_and_uses_it(live_secrets, services):
    assert cli_secrets_in_use('demo', stack_with_config('c'), live_secrets, services) == []


def test_the_secret_update_keeps_all_but_the_data_as_they_are_live():
    live_secret = {'ID': 'x', 'Spec': {'Name': 'demo_pw', 'Labels': {NS: 'demo', 'team': 'a'}, 'Driver': None}}
    body = secret_update_body(live_secret, {'Name': 'demo_pw_0123456789', 'Labels': {NS: 'demo'}, 'Data': b64('pw')})
    assert body == {'Name': 'demo_pw', 'Labels': {NS: 'demo', 'team': 'a'}, 'Driver': None, 'Data': b64('pw')}
    assert 'Data' not in live_secret['Spec']


def test_reused_twins_rename_the_secret_and_its_references():
    wanted = stack_with_config('c')
    crane_name = wanted['secrets']['pw']['name']
    use_twins(wanted, 'secrets', {crane_name: 'demo_pw'})
    assert wanted['secrets']['pw']['name'] == wanted['secrets']['pw']['spec']['Name'] == 'demo_pw'
    container = wanted['services']['demo_web']['spec']['TaskTemplate']['ContainerSpec']
    assert [reference['SecretName'] for reference in container['Secrets']] == ['demo_pw']
