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
from ansible_collections.crane.swarm.plugins.module_utils.stacks.apply import reuse_cli_configs
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
