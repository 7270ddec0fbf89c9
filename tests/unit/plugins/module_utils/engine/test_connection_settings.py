# Copyright: crane.swarm developers
# GNU General Public License v3.0+ (see https://www.gnu.org/licenses/gpl-3.0.txt)
"""Connection options as community.docker reads them: DOCKER_* variables, bare socket paths, DOCKER_CERT_PATH."""

from __future__ import annotations

import os

from hypothesis import given
from hypothesis import strategies as st

from ansible.module_utils.common.arg_spec import ArgumentSpecValidator

from ansible_collections.crane.swarm.plugins.module_utils.engine import client as engine

DOCKER_VARIABLES = ('DOCKER_HOST', 'DOCKER_TLS', 'DOCKER_TLS_VERIFY', 'DOCKER_TIMEOUT', 'DOCKER_API_VERSION',
                    'DOCKER_CERT_PATH')


def checked(monkeypatch, environment, **given_options):
    """The validated options of the engine argument spec under `environment` (only these DOCKER_* set)."""
    for name in DOCKER_VARIABLES:
        monkeypatch.delenv(name, raising=False)
    for name, value in environment.items():
        monkeypatch.setenv(name, value)
    result = ArgumentSpecValidator(engine.ENGINE_ARGUMENT_SPEC).validate(given_options)
    assert not result.error_messages, result.error_messages
    return engine.connection_settings(result.validated_parameters)


def test_without_options_or_variables_the_defaults_apply(monkeypatch):
    settings = checked(monkeypatch, {})
    assert settings['docker_host'] == 'unix:///var/run/docker.sock'
    assert (settings['tls'], settings['validate_certs'], settings['timeout'], settings['api_version']) == (
        False, False, 60, 'auto')
    assert engine.uses_local_socket(settings)


def test_each_docker_variable_fills_its_option(monkeypatch):
    settings = checked(monkeypatch, {'DOCKER_HOST': 'tcp://10.0.0.5:2376', 'DOCKER_TLS': '1',
                                     'DOCKER_TLS_VERIFY': 'true', 'DOCKER_TIMEOUT': '7',
                                     'DOCKER_API_VERSION': '1.41'})
    assert settings['docker_host'] == 'tcp://10.0.0.5:2376'
    assert settings['tls'] is True and settings['validate_certs'] is True
    assert settings['timeout'] == 7 and settings['api_version'] == '1.41'
    assert not engine.uses_local_socket(settings)


def test_an_option_given_wins_over_its_variable(monkeypatch):
    settings = checked(monkeypatch, {'DOCKER_HOST': 'tcp://10.0.0.5:2376', 'DOCKER_TIMEOUT': '7'},
                       docker_host='unix:///run/other.sock', timeout=30)
    assert settings['docker_host'] == 'unix:///run/other.sock' and settings['timeout'] == 30


def test_an_empty_variable_counts_as_unset(monkeypatch):
    # The docker CLI treats DOCKER_TLS_VERIFY= as unset; a boolean check of '' would fail the task.
    settings = checked(monkeypatch, {'DOCKER_TLS_VERIFY': '', 'DOCKER_HOST': ''})
    assert settings['validate_certs'] is False and settings['docker_host'] == 'unix:///var/run/docker.sock'


def test_a_bare_socket_path_means_a_unix_socket(monkeypatch):
    settings = checked(monkeypatch, {'DOCKER_HOST': '/run/user/1000/docker.sock'})
    assert settings['docker_host'] == 'unix:///run/user/1000/docker.sock'
    assert engine.uses_local_socket(settings)
    assert engine.uses_local_socket({'docker_host': '/run/x/docker.sock'})


def test_docker_cert_path_supplies_the_tls_files_that_exist(monkeypatch, tmp_path):
    for file_name in ('ca.pem', 'cert.pem'):
        (tmp_path / file_name).write_text('x')
    settings = checked(monkeypatch, {'DOCKER_CERT_PATH': str(tmp_path)}, client_key='/etc/given/key.pem')
    assert settings['ca_path'] == os.path.join(str(tmp_path), 'ca.pem')
    assert settings['client_cert'] == os.path.join(str(tmp_path), 'cert.pem')
    assert settings['client_key'] == '/etc/given/key.pem'  # given: kept, though no key.pem is there


@given(st.text(max_size=200))
def test_any_docker_host_text_gives_an_address_without_raising(text):
    url = engine.docker_host_url(text)
    assert isinstance(url, str) and url
    if text.strip().startswith('/'):
        assert url == 'unix://' + text.strip()
