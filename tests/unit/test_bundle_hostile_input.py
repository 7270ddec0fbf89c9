# Copyright: crane.swarm developers
# GNU General Public License v3.0+ (see https://www.gnu.org/licenses/gpl-3.0.txt)
"""Bundles built to hurt: each is refused with a JSON path and a fix, in bounded time and memory.

The findings of issue 10 (a fuzzer's), one test or more each. test_bundle_fuzz.py
then mutates the corpus bundles at random under the same rules.
"""

from __future__ import annotations

import re
import time

import pytest
from hypothesis import given, settings
from hypothesis import strategies as st

from ansible_collections.crane.swarm.plugins.module_utils.bundle import check_bundle
from ansible_collections.crane.swarm.plugins.module_utils.bundle_schema import BUNDLE_SCHEMA
from ansible_collections.crane.swarm.plugins.module_utils.bundle_terms import MAX_NAME_LENGTH, OBJECT_NAME_PATTERN

# swarmkit's own rule for service and network names (manager/controlapi/common.go, isValidDNSName), which Go
# matches in linear time and Python's re in exponential time; validateAnnotations adds at most 63 characters.
SWARMKIT_NAME_REGEX = '^[a-zA-Z0-9](?:[-_]*[A-Za-z0-9]+)*$'
ALNUM = 'abcdefghijklmnopqrstuvwxyzABCDEFGHIJKLMNOPQRSTUVWXYZ0123456789'


def is_docker_name(name):
    """The rule in words: 1 to 63 letters, digits, - and _, the first and the last a letter or digit."""
    return (1 <= len(name) <= 63 and all(char in ALNUM + '-_' for char in name)
            and name[0] in ALNUM and name[-1] in ALNUM)


def name_errors(name):
    """The problems check_bundle finds with `name` as a service, network, secret and config name."""
    bundle = {'Services': {name: {'Image': 'busybox'}}, 'Networks': {name: {}}, 'Secrets': {name: {'Content': 'x'}},
              'Configs': {name: {'Content': 'x'}}}
    return [error for error in check_bundle(bundle) if 'is not a valid name' in error.message]


# ---- 1. names: linear time, swarmkit's language, swarmkit's length ----

@settings(max_examples=300, deadline=None, derandomize=True)
@given(st.text(alphabet=ALNUM[:3] + ALNUM[-2:] + '-_.! \n', max_size=80) | st.text(max_size=80))
def test_the_name_pattern_accepts_exactly_the_names_docker_accepts(name):
    assert bool(re.fullmatch(OBJECT_NAME_PATTERN, name)) == is_docker_name(name)
    assert len(name_errors(name)) == (0 if is_docker_name(name) else 4)


@settings(max_examples=200, deadline=None, derandomize=True)
@given(st.text(alphabet='ab1-_!', max_size=14))
def test_the_name_pattern_is_swarmkits_regex_within_its_length(name):
    """Short names only: swarmkit's regex is the exponential one in Python."""
    assert bool(re.fullmatch(OBJECT_NAME_PATTERN, name)) == bool(re.search(SWARMKIT_NAME_REGEX + r'\Z', name))


@pytest.mark.parametrize('tail', ['!', '.', '\n', ' ', '-'])
def test_a_bad_name_is_refused_in_linear_time(tail):
    for length in (24, 62, 1000, 100000):
        name = 'a' * length + tail
        start = time.perf_counter()
        errors = name_errors(name)
        assert time.perf_counter() - start < 0.05, length
        assert [re.match(r'\$\.[A-Za-z]+', error.path).group() for error in errors] == [
            '$.Services', '$.Networks', '$.Secrets', '$.Configs']


def test_names_are_at_most_63_characters():
    assert MAX_NAME_LENGTH == 63
    assert name_errors('a' * 63) == []
    assert 'at most 63' in name_errors('a' * 64)[0].message


def test_no_schema_pattern_backtracks():
    """Every pattern of the schema, on strings of its own characters that fail at the very end."""
    patterns = []

    def collect(schema):
        if isinstance(schema, dict):
            if isinstance(schema.get('pattern'), str):
                patterns.append(schema['pattern'])
            for value in schema.values():
                collect(value)
        elif isinstance(schema, list):
            for value in schema:
                collect(value)
    collect(BUNDLE_SCHEMA)
    assert len(patterns) >= 5
    for pattern in patterns:
        assert pattern.startswith('^') and pattern.endswith('$'), pattern  # so re.fullmatch reads it as ECMA 262 does
        for unit in ('a', '0', '0.', '0s', '1m', ' ', '-a', '_0', 'a0', '07'):
            for tail in ('!', '\n', 'x', '.'):
                text = unit * 20000 + tail
                start = time.perf_counter()
                re.fullmatch(pattern, text)
                assert time.perf_counter() - start < 0.05, (pattern, unit, tail)
