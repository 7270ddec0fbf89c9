# Copyright: crane.swarm developers
# GNU General Public License v3.0+ (see https://www.gnu.org/licenses/gpl-3.0.txt)
"""Interpolation as docker/cli's cli/compose/template/template.go does it, quirks included."""

from __future__ import annotations

import pytest
from hypothesis import given, settings
from hypothesis import strategies as st

from ansible_collections.crane.swarm.plugins.plugin_utils.compose.errors import ComposeError
from ansible_collections.crane.swarm.plugins.plugin_utils.compose.interpolation import (
    interpolate_string,
    interpolate_tree,
)

ENV = {'SET': 'value', 'EMPTY': ''}


@pytest.mark.parametrize(
    ('template', 'expected'),
    [
        ('$SET', 'value'),
        ('${SET}', 'value'),
        ('a-${SET}-b', 'a-value-b'),
        ('${SET:-d}', 'value'),
        ('${EMPTY:-d}', 'd'),
        ('${UNSET:-d}', 'd'),
        ('${EMPTY-d}', ''),
        ('${UNSET-d}', 'd'),
        ('${SET:?msg}', 'value'),
        ('${EMPTY?msg}', ''),
        ('$$SET', '$SET'),
        ('$${SET}', '${SET}'),
        ('${set}', ''),  # names are case-sensitive in the mapping
        ('{{.Node.Hostname}}-{{.Task.Slot}}', '{{.Node.Hostname}}-{{.Task.Slot}}'),
        ('${UNSET-a-b}', 'a-b'),
        # The CLI tries `-` before `:?`: a message holding `-` reads as a default.
        ('${UNSET:?a-b}', 'b'),
        # No nesting in the CLI: the body stops at the first `}`.
        ('${UNSET:-${SET}}', '${SET}'),
    ],
)
def test_forms_as_the_cli(template, expected):
    assert interpolate_string(template, ENV)[0] == expected


@pytest.mark.parametrize('template, expected', [
    # An error followed by a successful substitution passes in the CLI (measured: docker stack config, CLI 28.2).
    ('${$SET', '{value'),
    ('$-$SET', '-value'),
    ('${UNSET:?gone}$SET', 'value'),
    ('${UNSET:?gone}${EMPTY}', ''),
])
def test_an_error_before_a_successful_substitution_passes_with_a_warning(template, expected):
    tree, warnings = interpolate_tree({'t': template}, ENV)
    assert tree == {'t': expected}
    assert len(warnings) == 1 and warnings[0].startswith('t: ') and 'docker CLI lets it pass' in warnings[0]


@pytest.mark.parametrize('template', ['${UNSET:?gone}$$', '$SET${UNSET:?gone}', '$-$$', '${SET}$', '$$$-'])
def test_an_error_after_the_last_substitution_stands(template):
    with pytest.raises(ComposeError):
        interpolate_string(template, ENV)


def test_unset_without_default_is_empty_and_warned():
    tree, warnings = interpolate_tree({'services': {'web': {'image': 'nginx:$TAG'}}}, {})
    assert tree == {'services': {'web': {'image': 'nginx:'}}}
    assert warnings == ['services.web.image: variable TAG is not set, substituting an empty string']


def test_keys_and_non_strings_untouched():
    tree = interpolate_tree({'$SET': ['${SET}', 3, True, None]}, ENV)[0]
    assert tree == {'$SET': ['value', 3, True, None]}


@pytest.mark.parametrize(
    ('value', 'fragment'),
    [
        ('${UNSET:?give a tag}', 'required variable UNSET is missing a value: give a tag'),
        ('${EMPTY:?need}', 'required variable EMPTY is missing a value: need'),
        ('${UNSET?need}', 'required variable UNSET'),
        ('${', 'invalid interpolation format'),
        ('a $ b', 'invalid interpolation format'),
        ('${1A}', 'invalid interpolation format'),
    ],
)
def test_errors_name_the_path(value, fragment):
    with pytest.raises(ComposeError) as caught:
        interpolate_tree({'services': {'web': {'image': value}}}, ENV)
    assert caught.value.path == 'services.web.image'
    assert fragment in str(caught.value)


@settings(max_examples=200, deadline=1000)
@given(st.text().filter(lambda text: '$' not in text))
def test_without_dollar_is_identity(text):
    assert interpolate_string(text, ENV) == (text, [], [])


@settings(max_examples=200, deadline=1000)
@given(st.text())
def test_escaped_dollars_round_trip(text):
    assert interpolate_string(text.replace('$', '$$'), ENV)[0] == text


@settings(max_examples=300, deadline=1000)
@given(st.text(alphabet='${}:-?+_aZ9 .'))
def test_any_text_gives_a_string_or_compose_error(text):
    try:
        result = interpolate_string(text, ENV, 'x')[0]
    except ComposeError as error:
        assert error.path == 'x'
    else:
        assert isinstance(result, str)
