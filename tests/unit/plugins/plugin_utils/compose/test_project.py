# Copyright: crane.swarm developers
# GNU General Public License v3.0+ (see https://www.gnu.org/licenses/gpl-3.0.txt)
"""project.py: env files, .env, env_file and relative bind sources, with files given as plain data."""

from __future__ import annotations

import pytest
from hypothesis import given, settings, strategies as st

from ansible_collections.crane.swarm.plugins.plugin_utils.compose.errors import ComposeError
from ansible_collections.crane.swarm.plugins.plugin_utils.compose.project import (
    compose_bundle, dotenv_variables, env_lines)


def test_env_file_lines_as_docker_reads_them():
    text = '# a comment\n\n  A=1\nB=two words \nC=\nD\nE="quoted"\nF=x=y\n'
    assert env_lines(text, 'f') == {'A': '1', 'B': 'two words ', 'C': '', 'D': None, 'E': '"quoted"', 'F': 'x=y'}


def test_dotenv_unquotes_and_drops_bare_keys():
    assert dotenv_variables('A="1 2"\nB=\'x\'\nC\nD="\n', '.env') == {'A': '1 2', 'B': 'x', 'D': '"'}


@pytest.mark.parametrize('line', ['=value', 'A B=1', 'A =1'])
def test_a_bad_line_names_the_file_and_line(line):
    with pytest.raises(ComposeError) as raised:
        env_lines('OK=1\n' + line + '\n', 'app.env')
    assert str(raised.value).startswith('app.env: line 2: expected KEY=value')


@settings(max_examples=300, deadline=None)
@given(st.text(max_size=80))
def test_any_text_reads_or_gives_a_compose_error(text):
    try:
        entries = env_lines(text, 'f')
    except ComposeError:
        return
    assert all(key and not any(character.isspace() for character in key) for key in entries)


def test_env_files_relative_binds_and_variables_reach_the_bundle():
    files = {'/srv/stack/app.env': 'A=from-file\nB\nC=file\n', '/srv/stack/more.env': 'C=later-file\n'}
    compose = ('services:\n  web:\n    image: "app:${TAG}"\n    env_file: [app.env, more.env]\n'
               '    environment: {D: "${TAG}"}\n    volumes: ["./data:/data", "/abs:/abs"]\n')
    bundle, warnings = compose_bundle([('docker-stack.yml', compose)], '/srv/stack', {'TAG': '7', 'B': 'from-env'},
                                      'shop', files.__getitem__)
    web = bundle['Services']['web']
    assert web['Image'] == 'app:7'
    assert web['Env'] == ['A=from-file', 'B=from-env', 'C=later-file', 'D=7']
    assert [mount['Source'] for mount in web['Mounts']] == ['/srv/stack/data', '/abs']
    assert any('./data' in warning and '/srv/stack/data' in warning for warning in warnings)
