# Copyright: crane.swarm developers
# GNU General Public License v3.0+ (see https://www.gnu.org/licenses/gpl-3.0.txt)
"""read_compose: each file parsed and interpolated on its own, then merged, as docker/cli's loader.Load."""

from __future__ import annotations

import time

import pytest
from hypothesis import given, settings
from hypothesis import strategies as st

from ansible_collections.crane.swarm.plugins.plugin_utils.compose.convert import compose_to_bundle
from ansible_collections.crane.swarm.plugins.plugin_utils.compose.errors import ComposeError
from ansible_collections.crane.swarm.plugins.plugin_utils.compose.read import read_compose

BASE = '''\
version: "3.8"
x-common: &common
  image: "registry/app:${TAG:-latest}"
  deploy: {replicas: 2}
services:
  web:
    <<: *common
    ports: ["8080:80"]
    command: echo $$HOME
'''
OVERRIDE = '''\
version: "3.8"
services:
  web:
    ports: ["${PORT}:81"]
    environment:
      - LEVEL=${LEVEL}
'''


def test_each_file_is_interpolated_then_the_files_merge():
    project, warnings = read_compose([('base.yml', BASE), ('prod.yml', OVERRIDE)], {'TAG': '1.2', 'PORT': '8080'})
    web = project['services']['web']
    assert web['image'] == 'registry/app:1.2'
    # Merged by the interpolated published port: the override's 8080 replaces the base's.
    assert web['ports'] == ['8080:81']
    # `$$` became `$` in its own file, once: the merge does not substitute again.
    assert web['command'] == 'echo $HOME'
    assert web['environment'] == {'LEVEL': ''}  # read as a mapping, its unset values resolved, per file
    assert warnings == ['prod.yml: services.web.environment[0]: variable LEVEL is not set, substituting an empty string']
    assert 'x-common' not in project and 'version' not in project


def test_the_merged_project_converts_to_a_bundle():
    project, _warnings = read_compose([('base.yml', BASE), ('prod.yml', OVERRIDE)], {'PORT': '9090', 'LEVEL': 'info'})
    bundle, _notes = compose_to_bundle(project, 'shop')
    web = bundle['Services']['web']
    assert web['Image'] == 'registry/app:latest' and web['Env'] == ['LEVEL=info']
    assert [port['PublishedPort'] for port in web['Ports']] == [8080, 9090]


def test_a_bad_variable_names_the_file_and_the_path_and_stops_everything():
    with pytest.raises(ComposeError) as raised:
        read_compose([('base.yml', BASE), ('prod.yml', 'version: "3.8"\nservices: {web: {image: "${IMAGE:?set the image}"}}\n')], {})
    error = raised.value
    assert error.source == 'prod.yml' and error.path == 'services.web.image'
    assert str(error).startswith('prod.yml: services.web.image: ') and 'set the image' in str(error)


def test_extension_fields_are_interpolated_before_they_are_dropped_as_the_cli_does():
    with pytest.raises(ComposeError) as raised:
        read_compose([('a.yml', 'x-bad: "cost: 5$"\nservices: {web: {image: a}}\n')], {})
    assert raised.value.path == 'x-bad'


def test_a_yaml_error_in_a_later_file_names_that_file_and_line():
    with pytest.raises(ComposeError) as raised:
        read_compose([('a.yml', BASE), ('b.yml', 'services:\n  web:\n    image: [\n')], {})  # before versions
    assert raised.value.source == 'b.yml' and raised.value.line == 4


def test_no_dotenv_is_read_only_env():
    # docker stack deploy substitutes from its process environment only; it reads no .env file.
    project, warnings = read_compose([('a.yml', 'services: {web: {image: "app:${TAG}"}}\n')], {})
    assert project['services']['web']['image'] == 'app:' and warnings


@pytest.mark.parametrize('first, second', [
    ('version: "3.8"\n', "version: '3.8'\n"),
    ('', 'version: "3"\n'),
    ('version: ""\n', 'version: "3.13"\n'),
])
def test_files_that_agree_on_the_version_merge(first, second):
    services = 'services: {web: {image: a}}\n'
    assert read_compose([('a.yml', first + services), ('b.yml', second + services)], {})[0]['services']


@pytest.mark.parametrize('version, message', [
    ('3.8', 'version: must be a string: quote it'),
    ('3', 'version: must be a string: quote it'),
    ('"2.4"', "unsupported compose file version '2.4': docker stack deploy reads 3.0 to 3.13"),
    ('"3.14"', "unsupported compose file version '3.14'"),
    ('"3.x"', "unsupported compose file version '3.x'"),
    ('"4"', "unsupported compose file version '4'"),
    ('"3.01"', "unsupported compose file version '3.01'"),
])
def test_versions_the_cli_refuses_are_refused(version, message):
    # As `docker stack config` of CLI 28.2 answers for each (measured).
    with pytest.raises(ComposeError) as raised:
        read_compose([('a.yml', 'version: %s\nservices: {web: {image: a}}\n' % version)], {})
    assert str(raised.value).startswith('a.yml: version: ') and message in str(raised.value)


def test_files_of_different_versions_are_refused_as_the_cli_refuses_them():
    with pytest.raises(ComposeError) as raised:
        read_compose([('a.yml', 'version: "3.1"\nservices: {}\n'), ('b.yml', 'version: "3.4"\nservices: {}\n')], {})
    assert str(raised.value).startswith('b.yml: version: is 3.4 here but 3.1 in a.yml')


def test_no_source_is_an_error():
    with pytest.raises(ComposeError):
        read_compose([], {})


SERVICE_LINES = st.sampled_from([
    'services:', '  web:', '    image: a', '    image: ${X:-b}', '    ports: ["${P}:80"]', '    ports: [80]',
    '    command: $$x', '    <<: *a', 'x-a: &a {user: u}', '    environment: [A=$A]', '    networks: [n]',
    '    logging: {driver: syslog}', '    deploy: {replicas: 0}', '  ', '- ', '$', '{', 'version: 3',
])
FILES = st.lists(SERVICE_LINES, max_size=12).map('\n'.join)


@settings(max_examples=200, deadline=None)
@given(st.lists(st.tuples(st.sampled_from(['a.yml', 'b.yml']), FILES | st.text(max_size=80)), min_size=1, max_size=3),
       st.dictionaries(st.sampled_from(['X', 'P', 'A']), st.sampled_from(['', '1', '8080', 'x:y'])))
def test_any_files_give_a_mapping_or_a_compose_error_in_bounded_time(sources, env):
    started = time.monotonic()
    try:
        project, warnings = read_compose(sources, env)
    except ComposeError as error:
        assert len(str(error)) < 2000
    else:
        assert isinstance(project, dict) and isinstance(warnings, list)
    assert time.monotonic() - started < 2


def test_unset_environment_values_come_from_env_file_by_file_before_the_merge():
    # Measured with docker stack config (CLI 28.2), A=a in its environment: the later file's bare A
    # takes "a" before merging, so it replaces the earlier "1"; C (not in env) stays bare.
    base = 'services: {web: {image: a, environment: {A: "1", C: "3"}}}\n'
    later = 'services: {web: {environment: [A, "B=", C]}}\n'
    project = read_compose([('a.yml', base), ('b.yml', later)], {'A': 'a', 'B': 'b'})[0]
    assert project['services']['web']['environment'] == {'A': 'a', 'B': 'b', 'C': '3'}
