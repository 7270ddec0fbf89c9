# Copyright: crane.swarm developers
# GNU General Public License v3.0+ (see https://www.gnu.org/licenses/gpl-3.0.txt)
"""Registry credentials of swarm_stack on plain data: the task's registry_credentials checked, the manager's
docker config read as the docker CLI reads it, the X-Registry-Auth header made; never a password in a message."""

from __future__ import annotations

import base64
import json

import pytest
from ansible.errors import AnsibleActionFail
from hypothesis import given, settings
from hypothesis import strategies as st

from ansible_collections.crane.swarm.plugins.action.swarm_stack import controller_options
from ansible_collections.crane.swarm.plugins.module_utils.stacks import apply as stack_apply

HUB = stack_apply.DOCKER_HUB_CONFIG_KEY


def decode(header):
    return json.loads(base64.urlsafe_b64decode(header.encode()))


def entry(registry='registry.example:5000', username='deploy', password='s3cret-pw'):
    return {'registry': registry, 'username': username, 'password': password}


# ---- which registry an image, an address, a config key names ----

@pytest.mark.parametrize('address, host', [
    ('registry.example:5000', 'registry.example:5000'),
    ('https://registry.example:5000/v2/', 'registry.example:5000'),
    ('http://10.0.0.1:5443', '10.0.0.1:5443'),
    ('docker.io', HUB), ('index.docker.io', HUB), ('https://index.docker.io/v1/', HUB), ('registry-1.docker.io', HUB),
])
def test_an_address_names_its_registry_as_docker_login_reads_it(address, host):
    assert stack_apply.registry_host(address) == host


@pytest.mark.parametrize('image, host', [
    ('busybox', HUB), ('team/app:1', HUB), ('docker.io/library/busybox', HUB),
    ('registry.example:5000/team/app:1', 'registry.example:5000'), ('localhost/app@sha256:ab', 'localhost'),
])
def test_an_image_pulls_from_its_registry(image, host):
    assert stack_apply.image_registry(image) == host


# ---- the task's registry_credentials ----

def test_task_credentials_are_keyed_by_the_registry_they_name():
    found = stack_apply.registry_credentials_by_host([entry('https://registry.example:5000/'), entry('docker.io', 'me')])
    assert found == {'registry.example:5000': {'username': 'deploy', 'password': 's3cret-pw'},
                     HUB: {'username': 'me', 'password': 's3cret-pw'}}
    assert stack_apply.registry_credentials_by_host(None) == {} == stack_apply.registry_credentials_by_host([])


@pytest.mark.parametrize('entries, message', [
    ([entry('not a host')], "registry_credentials[0].registry: 'not a host' is not a registry address; write its host"),
    ([entry(''), entry()], "registry_credentials[0].registry: '' is not a registry address"),
    ([entry(), entry('https://registry.example:5000/v2/')],
     "registry_credentials[1].registry: 'https://registry.example:5000/v2/' is the registry of "
     'registry_credentials[0].registry already; give each registry once'),
    ([entry('docker.io'), entry('index.docker.io')], 'registry_credentials[1].registry: '),
    ([entry(username='')], 'registry_credentials[0].username: empty; give the user name the registry knows'),
    ([entry(username='a:b')], 'registry_credentials[0].username: not a user name'),
    ([entry(password='')], 'registry_credentials[0].password: empty; give the password (or access token) of deploy'),
])
def test_bad_task_credentials_are_refused_naming_the_field(entries, message):
    with pytest.raises(ValueError) as raised:
        stack_apply.registry_credentials_by_host(entries)
    assert str(raised.value).startswith(message), str(raised.value)


MARK = '\u2603'  # in every password, in nothing else: a message showing one would show the mark
PASSWORDS = st.text(max_size=12).map(lambda text: MARK + text)
OTHER_TEXT = st.text(max_size=12).filter(lambda text: MARK not in text)
ENTRIES = st.lists(st.fixed_dictionaries({
    'registry': st.one_of(st.sampled_from(['registry.example:5000', 'https://r.example/v2/', 'docker.io', '10.0.0.1',
                                           '[::1]:5000', 'index.docker.io', '']), OTHER_TEXT),
    'username': st.one_of(st.sampled_from(['deploy', 'a:b', '']), OTHER_TEXT),
    'password': st.one_of(st.just(''), PASSWORDS)}), max_size=3)


@settings(max_examples=400, deadline=None, derandomize=True, database=None)
@given(ENTRIES)
def test_task_credentials_either_key_each_registry_once_or_fail_naming_a_field_never_a_password(entries):
    try:
        found = stack_apply.registry_credentials_by_host(entries)
    except ValueError as exc:
        message = str(exc)
        assert message.startswith('registry_credentials[') and ('].registry: ' in message or '].username: ' in message
                                                                or '].password: ' in message), message
        assert MARK not in message, message
        return
    assert len(found) == len(entries)
    for item in entries:
        host = stack_apply.registry_host(item['registry'])
        assert found[host] == {'username': item['username'], 'password': item['password']}
        assert item['username'] and ':' not in item['username'] and item['password']
        header = decode(stack_apply.registry_auth_header(host, found[host]))
        assert header == dict(found[host], serveraddress=host)


# ---- on the controller: the argument spec, then these checks, before anything is read ----

@pytest.mark.parametrize('credentials, message', [
    ([{'registry': 'r.example', 'username': 'u'}], 'missing required arguments: password found in registry_credentials'),
    ([{'registry': 'r.example', 'username': 'u', 'password': 'p', 'pasword': 'x'}],
     'Unsupported parameters for (crane.swarm.swarm_stack) module: registry_credentials.pasword'),
    ('r.example', "registry_credentials"),
    ([entry('a b')], "registry_credentials[0].registry: 'a b' is not a registry address"),
])
def test_bad_registry_credentials_fail_on_the_controller_naming_the_field(credentials, message):
    with pytest.raises(AnsibleActionFail) as raised:
        controller_options({'name': 'shop', 'src': 'a.yml', 'registry_credentials': credentials})
    assert message in str(raised.value), str(raised.value)
    assert 's3cret-pw' not in str(raised.value)


def test_good_registry_credentials_pass_the_controller():
    options = controller_options({'name': 'shop', 'src': 'a.yml', 'with_registry_auth': True,
                                  'registry_credentials': [entry()]})
    assert options['registry_credentials'] == [entry()] and options['with_registry_auth'] is True


# ---- the manager's docker config ----

def basic(username, password):
    return base64.b64encode(('%s:%s' % (username, password)).encode()).decode()


def test_credentials_in_the_docker_config_are_found_by_the_registry_their_key_names():
    config = {'auths': {
        'https://registry.example:5000': {'auth': basic('deploy', 'p:w')},
        'https://index.docker.io/v1/': {'identitytoken': 'tok'},
        'old.example': {'username': 'u', 'password': 'p'},
        'placeholder.example': {}}}
    assert stack_apply.docker_config_auth('registry.example:5000', config) == {'username': 'deploy', 'password': 'p:w'}
    assert stack_apply.docker_config_auth(HUB, config) == {'identitytoken': 'tok'}
    assert stack_apply.docker_config_auth('old.example', config) == {'username': 'u', 'password': 'p'}
    assert stack_apply.docker_config_auth('placeholder.example', config) is None
    assert stack_apply.docker_config_auth('other.example', config) is None
    assert stack_apply.docker_config_auth('other.example', {}) is None
    assert stack_apply.docker_config_auth('other.example', ['not', 'a', 'config']) is None


@pytest.mark.parametrize('config, message', [
    ({'credHelpers': {'registry.example:5000': 'ecr-login'}, 'auths': {'registry.example:5000': {}}},
     'the docker config keeps the credentials of registry.example:5000 in the credential helper '
     'docker-credential-ecr-login (credHelpers), which crane.swarm does not run'),
    ({'credsStore': 'desktop', 'auths': {'registry.example:5000': {}}},
     'the docker config keeps its credentials in the credential store docker-credential-desktop (credsStore)'),
    ({'auths': {'registry.example:5000': {'auth': 'not base64!'}}},
     "the docker config has an auths entry 'registry.example:5000' for registry.example:5000 that holds no "
     'credentials crane.swarm can read'),
    ({'auths': {'registry.example:5000': {'auth': base64.b64encode(b'no colon').decode()}}}, 'holds no credentials'),
    ({'auths': {'registry.example:5000': 'text'}}, 'holds no credentials'),
])
def test_credentials_the_module_cannot_read_are_named_with_their_registry(config, message):
    with pytest.raises(ValueError) as raised:
        stack_apply.docker_config_auth('registry.example:5000', config)
    assert message in str(raised.value), str(raised.value)


def test_a_credential_helper_of_another_registry_does_not_matter():
    config = {'credHelpers': {'gcr.io': 'gcloud'}, 'auths': {'registry.example:5000': {'auth': basic('d', 'p')}}}
    assert stack_apply.docker_config_auth('registry.example:5000', config) == {'username': 'd', 'password': 'p'}


def test_the_header_carries_the_credentials_and_the_registry():
    assert decode(stack_apply.registry_auth_header(HUB, {'identitytoken': 'tok'})) == {
        'identitytoken': 'tok', 'serveraddress': HUB}
