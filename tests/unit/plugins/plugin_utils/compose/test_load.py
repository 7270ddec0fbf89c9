# Copyright: crane.swarm developers
# GNU General Public License v3.0+ (see https://www.gnu.org/licenses/gpl-3.0.txt)
"""load_compose_text: YAML as the CLI parses a compose file, within the bundle reader's bounds."""

from __future__ import annotations

import time

import pytest
from hypothesis import given, settings
from hypothesis import strategies as st

from ansible_collections.crane.swarm.plugins.plugin_utils.bundle.reader import MAX_BUNDLE_BYTES
from ansible_collections.crane.swarm.plugins.plugin_utils.compose.errors import ComposeError
from ansible_collections.crane.swarm.plugins.plugin_utils.compose.load import load_compose_text

ANCHORED = '''\
version: "3.8"
x-defaults: &defaults
  image: busybox
  environment: {LEVEL: info}
x-user: &user {user: nobody, image: alpine}
services:
  web:
    <<: [*defaults, *user]
    image: nginx
    x-owner: team-a
  worker:
    <<: *defaults
    deploy: {x-kept: 1, replicas: 2}
networks:
  back: {driver: overlay, x-note: internal}
volumes:
  data: {x-backup: daily}
secrets:
  token: {external: true, x-rotated: yearly}
configs:
  conf: {file: ./c.conf, x-a: 1}
'''


def refusal(text, source='bad.yml'):
    """The ComposeError for `text`, which must name `source` and come within two seconds."""
    started = time.monotonic()
    with pytest.raises(ComposeError) as raised:
        load_compose_text(text, source)
    assert time.monotonic() - started < 2
    assert str(raised.value).startswith(source + ': '), raised.value
    return raised.value


def test_anchors_and_merge_keys_as_yaml_gives_them():
    project = load_compose_text(ANCHORED, 'stack.yml')
    # Keys written next to `<<` win; in `<<: [*a, *b]` the first mapping wins.
    assert project['services']['web'] == {'image': 'nginx', 'environment': {'LEVEL': 'info'}, 'user': 'nobody'}
    assert project['services']['worker']['image'] == 'busybox'


def test_extension_fields_and_version_are_dropped_where_compose_allows_them():
    project = load_compose_text(ANCHORED, 'stack.yml')
    assert sorted(project) == ['configs', 'networks', 'secrets', 'services', 'volumes']
    assert project['networks'] == {'back': {'driver': 'overlay'}}
    assert project['volumes'] == {'data': {}}
    assert project['secrets'] == {'token': {'external': True}}
    assert project['configs'] == {'conf': {'file': './c.conf'}}
    assert 'x-owner' not in project['services']['web']
    # Deeper, compose has no extension fields: the key stays, for the converter to refuse.
    assert project['services']['worker']['deploy'] == {'x-kept': 1, 'replicas': 2}


def test_dropping_extensions_leaves_shared_aliases_untouched():
    text = 'x-n: &n {driver: overlay, x-a: 1}\nservices: {web: {image: a, labels: *n}}\nnetworks: {n: *n}\n'
    project = load_compose_text(text, 'stack.yml')
    assert project['networks']['n'] == {'driver': 'overlay'}
    assert project['services']['web']['labels'] == {'driver': 'overlay', 'x-a': 1}


@pytest.mark.parametrize('written, read', [
    ('22:22', '22:22'),            # yaml.v2 has no base 60 (PyYAML alone would read 1342)
    ('80:80', '80:80'),
    ('1:30.5', '1:30.5'),
    ('2020-01-01', '2020-01-01'),  # yaml.v2 keeps a date-like value as text
    ('8080', 8080),
    ('0x10', 16),
    ('1.5', 1.5),
    ('yes', True),
    ('"on"', 'on'),
])
def test_plain_scalars_read_as_the_cli_reads_them(written, read):
    assert load_compose_text('services: {web: {image: a, ports: [%s]}}' % written, 's.yml')['services']['web'][
        'ports'] == [read]


@pytest.mark.parametrize('text, words', [
    ('- a\n- b\n', 'not a list'),
    ('just text\n', "not the single value 'just text'"),
    ('~\n', 'not an empty document'),
    ('   \n', 'the compose file is empty'),
    ('services: {a: 1}\n---\nservices: {}\n', 'a compose file holds one'),
])
def test_a_document_that_is_not_a_mapping_is_refused_clearly(text, words):
    assert words in str(refusal(text))


@pytest.mark.parametrize('text, line, words', [
    ('services:\n  web:\n    image: [a\n', 4, 'expected'),
    ('services:\n  web: {image: a}\n  web: {image: b}\n', 3, "key 'web' appears twice"),
    ('services:\n  web:\n    image: *missing\n', 3, 'undefined alias'),
    ('services:\n  web:\n    on: a\n', 3, 'the boolean true'),
    ('services:\n  web:\n    image: !!binary aGk=\n', 3, 'has no meaning in a compose file'),
    ('services:\n\tweb: {}\n', 2, 'cannot start any token'),
])
def test_bad_yaml_names_the_file_and_the_line(text, line, words):
    error = refusal(text, 'docker-stack.yml')
    assert error.source == 'docker-stack.yml' and error.line == line, error
    assert ('line %d: ' % line) in str(error) and words in str(error), error


def alias_bomb(levels=8, width=9, merge=False):
    """width**levels values in ~500 bytes: each anchor holds `width` aliases of the one before (or merges them)."""
    lines = ['x-a0: &a0 {%s}' % ', '.join('k%d: v' % index for index in range(width))]
    for level in range(1, levels):
        aliases = ', '.join(['*a%d' % (level - 1)] * width)
        if merge:
            lines.append('x-a%d: &a%d {<<: [%s], own%d: v}' % (level, level, aliases, level))
        else:
            lines.append('x-a%d: &a%d [%s]' % (level, level, aliases))
    lines.append('services: {web: {image: busybox, labels: *a%d}}' % (levels - 1))
    return '\n'.join(lines) + '\n'


def test_an_alias_bomb_is_refused_before_anything_expands_it():
    text = alias_bomb()
    assert len(text) < 600
    error = refusal(text, 'bomb.yml')
    assert '1000000 values' in str(error) and error.line


def test_a_merge_key_bomb_is_refused_too():
    # The bound counts each alias as what it stands for, before merging: conservative for merge keys
    # (merged keys collapse), but no real compose file merges eight levels of nine aliases.
    assert '1000000 values' in str(refusal(alias_bomb(merge=True), 'bomb.yml'))


def test_merge_keys_of_aliases_within_the_bound_load():
    project = load_compose_text(alias_bomb(levels=4, merge=True), 'ok.yml')
    assert len(project['services']['web']['labels']) == 9 + 3


def test_aliases_within_the_bound_load():
    project = load_compose_text(alias_bomb(levels=3), 'ok.yml')
    assert len(project['services']['web']['labels']) == 9


def test_an_alias_cycle_is_refused():
    assert 'holds it; a compose file is a tree' in str(refusal('services: &s {web: {image: a, labels: *s}}\n'))


def test_nesting_beyond_the_bundle_bound_is_refused():
    assert 'nested deeper than 64' in str(refusal('services: ' + '[' * 100 + ']' * 100 + '\n'))


def test_a_file_larger_than_the_bundle_bound_is_refused_before_parsing():
    assert 'larger than 16 MiB' in str(refusal('#' * (MAX_BUNDLE_BYTES + 1)))


YAML_PIECES = st.sampled_from([
    'services:', '  web:', '    image: a', '    <<: *a', '    <<: [*a, *b]', 'x-a: &a {user: b}', '&b ', '*a',
    'x-b: &b [1, 2]', 'version: 3', '- ', '[', ']', '{', '}', ': ', '"', "'", '\t', '80:80', 'on', '!!set ',
    '~', '---', '...', '#', '\n', ' ', 'key', '${X}', '{{ .Node.Hostname }}', '\ufeff',
])


@settings(max_examples=300, deadline=None)
@given(st.lists(YAML_PIECES, max_size=30).map(''.join) | st.text(max_size=200))
def test_any_text_is_a_mapping_or_a_compose_error_in_bounded_time(text):
    started = time.monotonic()
    try:
        project = load_compose_text(text, 'any.yml')
    except ComposeError as error:
        assert str(error).startswith('any.yml: ') and len(str(error)) < 2000
    else:
        assert isinstance(project, dict) and not any(key.startswith('x-') for key in project)
    assert time.monotonic() - started < 2
