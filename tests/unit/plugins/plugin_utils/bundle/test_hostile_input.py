# Copyright: crane.swarm developers
# GNU General Public License v3.0+ (see https://www.gnu.org/licenses/gpl-3.0.txt)
"""Bundles built to hurt: each is refused with a JSON path and a fix, in bounded time and memory.

The findings of issue 10 (a fuzzer's), one test or more each. test_bundle_fuzz.py
then mutates the corpus bundles at random under the same rules.
"""

from __future__ import annotations

import datetime
import functools
import json
import re
import time
import tracemalloc

import pytest
from hypothesis import given, settings
from hypothesis import strategies as st

from ansible_collections.crane.swarm.plugins.plugin_utils.bundle.check import check_bundle
from ansible_collections.crane.swarm.plugins.plugin_utils.bundle.schema import BUNDLE_SCHEMA
from ansible_collections.crane.swarm.plugins.module_utils.stacks.terms import MAX_NAME_LENGTH, OBJECT_NAME_PATTERN
from ansible_collections.crane.swarm.plugins.module_utils.stacks.spec import desired_stack
from ansible_collections.crane.swarm.plugins.plugin_utils.bundle.reader import load_bundle_text

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
        start = time.process_time()
        errors = name_errors(name)
        assert time.process_time() - start < 0.05, length
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
                start = time.process_time()
                re.fullmatch(pattern, text)
                assert time.process_time() - start < 0.05, (pattern, unit, tail)


# ---- 2. bounded time and memory: YAML aliases, huge values in messages, nesting ----

def within_bounds(work, seconds=1.0, megabytes=50):
    """Run `work()`; assert it took at most `seconds` and allocated at most `megabytes` at its peak.

    Time here (and in this module's other bounds) is the process's CPU time, not the clock's:
    the bounds hold however busy the machine is (make check runs the unit tests beside other work).
    """
    tracemalloc.start()
    start = time.process_time()
    try:
        return work()
    finally:
        elapsed = time.process_time() - start
        peak = tracemalloc.get_traced_memory()[1]
        tracemalloc.stop()
        assert elapsed < seconds and peak < megabytes * 2 ** 20, (elapsed, peak)


def refusal(text, source='bomb.yml'):
    """The ValueError load_bundle_text raises for `text` (which must name `source`)."""
    with pytest.raises(ValueError) as raised:
        within_bounds(lambda: load_bundle_text(text, source))
    assert str(raised.value).startswith(source + ': '), raised.value
    return str(raised.value)


def alias_bomb(levels=8, width=9):
    """`levels` anchors, each a list of `width` aliases of the one before: width**levels strings in ~500 bytes."""
    lines = ['a0: &a0 [%s]' % ', '.join(['x'] * width)]
    for level in range(1, levels):
        lines.append('a%d: &a%d [%s]' % (level, level, ', '.join(['*a%d' % (level - 1)] * width)))
    lines.append('Services: {web: {Image: busybox, Env: *a%d}}' % (levels - 1))
    return '\n'.join(lines) + '\n'


def test_a_yaml_alias_bomb_is_refused_before_anything_expands_it():
    text = alias_bomb()
    assert len(text) < 600
    message = refusal(text)
    assert '1000000 values' in message and 'alias' in message and '$.a' in message


def test_a_yaml_alias_cycle_is_refused():
    assert 'holds it' in refusal('a: &a [x, *a]\nServices: {web: {Image: b}}\n')


def test_aliases_within_the_bound_load_as_before():
    bundle = load_bundle_text(alias_bomb(levels=3, width=9), 'ok.yml')
    assert len(bundle['Services']['web']['Env']) == 9 and len(bundle['Services']['web']['Env'][0]) == 9


def many_services(services, variables):
    """`services` services that are one service (a YAML alias) with `variables` variables."""
    lines = ['Services:', '  s0: &svc {Image: busybox, Env: [%s]}' % ', '.join('e%d=1' % i for i in range(variables))]
    return '\n'.join(lines + ['  s%d: *svc' % index for index in range(1, services)]) + '\n'


def test_a_bundle_just_within_the_value_bound_checks_and_translates_in_bounds():
    """About a million values from 20 KB of YAML: accepted, then checked and translated in about 1 s."""
    text = many_services(1000, 990)

    def deploy():
        bundle = load_bundle_text(text, 'many.yml')
        assert check_bundle(bundle, 'demo') == []
        return len(json.dumps(desired_stack('demo', bundle)))
    start = time.process_time()
    deploy()
    assert time.process_time() - start < 5
    assert within_bounds(deploy, seconds=60) > 10 ** 7  # tracemalloc slows it about ninefold
    assert 'more than 1000000 values' in refusal(many_services(1000, 1000), 'many.yml')


@pytest.mark.parametrize('open_, close, source', [('[', ']', 'deep.json'), ('[', ']', 'deep.yml'),
                                                  ('{"a": ', '}', 'deep.json'), ('{a: ', '}', 'deep.yml')])
def test_nesting_beyond_64_levels_is_refused(open_, close, source):
    for depth in (65, 1000, 100000):
        body = open_ * depth + '1' + close * depth
        text = '{"Services": %s}' % body if source.endswith('.json') else 'Services: %s\n' % body
        assert 'deeper than 64 levels' in refusal(text, source)
    body = open_ * 63 + '1' + close * 63
    text = '{"Services": %s}' % body if source.endswith('.json') else 'Services: %s\n' % body
    assert check_bundle(load_bundle_text(text, source))  # loaded, then refused by the checks


def test_a_huge_value_is_never_rendered_whole_in_a_message():
    bundle = {'Services': {'web': {'Image': ['x' * 2 ** 20] * 64, 'User': 'y' * 2 ** 26}}}
    errors = within_bounds(lambda: check_bundle(bundle), megabytes=5)
    assert [error.path for error in errors] == ['$.Services.web.Image']
    assert len(errors[0].message) < 200
    for value in ('z' * 2 ** 24, ['z' * 2 ** 24], {'z' * 2 ** 24: 1}):
        bundle = {'Services': {'web': {'Image': 'b', 'StopGracePeriod': value, 'Labels': {'z' * 2 ** 24: value}}}}
        errors = within_bounds(functools.partial(check_bundle, bundle), megabytes=5)
        assert errors and max(len(str(error)) for error in errors) < 300, errors


# ---- 3. the project's own error, with a JSON path and the fix, never a Python exception ----

SERVICE = 'Services:\n  web:\n    Image: busybox\n'


@pytest.mark.parametrize('text, words', [
    ('? [a]\n: 1\n' + SERVICE, 'a key must be text'),
    ('? {a: 1}\n: 1\n' + SERVICE, 'a key must be text'),
    (SERVICE + '    Placement: {1: x}\n', "$.Services.web.Placement['1']: the key 1 is a number in YAML; quote it"),
    (SERVICE + '    Labels: {null: "1"}\n', "$.Services.web.Labels.null: the key null is null in YAML; quote it"),
    (SERVICE + '    Labels: {~: "1"}\n', 'quote it'),
    (SERVICE + '    Labels: {2020-01-01: x}\n',
     "$.Services.web.Labels['2020-01-01']: the key 2020-01-01 is a date in YAML"),
    ('Services:\n  on:\n    Image: busybox\n', '$.Services.on: the key on is the boolean true in YAML; quote it'),
    ('Services:\n  web:\n    Image: 2020-01-01\n', '$.Services.web.Image: 2020-01-01 is a date in YAML'),
    ('Services:\n  web:\n    Image: 2020-01-01 10:00:00\n', 'quote it'),
    (SERVICE + '    Command: !!binary aGVsbG8=\n', '$.Services.web.Command: the tag !!binary'),
    (SERVICE + '    Labels: !!set {a, b}\n', '$.Services.web.Labels: the tag !!set'),
    (SERVICE + '    Env: !!omap [{a: 1}]\n', 'the tag !!omap'),
    (SERVICE + '    Env: [!custom x]\n', '$.Services.web.Env[0]: the tag !custom'),
    (SERVICE + '    Command: [=]\n', 'quote it'),
    (SERVICE + '    Replicas: %s\n' % ('9' * 5000), '$.Services.web.Replicas: the number 99999'),
], ids=lambda value: value.split('\n')[-2].strip()[:40] if '\n' in value else None)
def test_what_json_cannot_hold_is_refused_where_it_is_written(text, words):
    message = refusal(text, 'stack.yml')
    assert words in message, message
    assert re.match(r'stack\.yml: line \d+ column \d+: ', message), message


@pytest.mark.parametrize('bundle, path, words', [
    ({'Services': {'web': {'Image': 'b', 'Placement': {1: 'x'}}}}, '$.Services.web.Placement[1]', 'keys are text'),
    ({'Services': {'web': {'Image': 'b', 'Labels': {None: '1'}}}}, '$.Services.web.Labels[null]', 'keys are text'),
    ({'Services': {True: {'Image': 'b'}}}, '$.Services[true]', 'keys are text'),
    ({'Services': {'web': {'Image': 'b', 'Labels': {datetime.date(2020, 1, 1): 'x'}}}},
     '$.Services.web.Labels[2020-01-01]', 'keys are text'),
    ({'Networks': {1: {}}, 'Services': {'web': {'Image': 'b', 'Networks': ['front']}}}, '$.Networks[1]',
     'keys are text'),
    ({'Services': {'web': {'Image': 'b', 'Ports': [{'PublishedPort': 8080, 'Protocol': []}]}}},
     '$.Services.web.Ports[0].Protocol', 'expected string, got array'),
    ({'Configs': {'c': {'Content': 'x'}},
      'Services': {'web': {'Image': 'b', 'Configs': [{'Source': 'c', 'Target': ['x']}]}}},
     '$.Services.web.Configs[0].Target', 'expected string, got array'),
    ({'Services': {'web': {'Image': 'b', 'Labels': {'a': datetime.date(2020, 1, 1)}}}}, '$.Services.web.Labels.a',
     'expected string, got date'),
    ({'Services': {'web': {'Image': 'b', 'Command': ('a', 'b')}}}, '$.Services.web.Command',
     'expected array, got tuple'),
    ({'Secrets': {'s': {'Content': 'x\ud800'}}, 'Services': {'web': {'Image': 'b'}}}, '$.Secrets.s.Content',
     'half of a UTF-16 pair'),
    ({'Services': {'web\udc80': {'Image': 'b'}}}, "$.Services['web\\udc80']", 'not a valid name'),
])
def test_values_of_any_type_anywhere_get_a_path_not_a_traceback(bundle, path, words):
    errors = check_bundle(bundle)
    assert path in [error.path for error in errors], errors
    assert words in [error for error in errors if error.path == path][0].message


def test_json_names_the_source_for_numbers_python_cannot_read():
    assert 'digits' in refusal('{"Services": {"web": {"Image": "b", "Replicas": %s}}}' % ('9' * 5000), 'big.json')


# ---- 4. numbers the Engine refuses are refused here, before anything is sent ----

INT64_MAX, UINT64_MAX = 2 ** 63 - 1, 2 ** 64 - 1
OOM_SCORE_ADJ_MIN = -1000  # the kernel's bound, written out here as the other limits are


def service_errors(**service):
    """[(path, message)] for one service `web` with these keys beside Image."""
    bundle = {'Secrets': {'s': {'Content': 'x'}}, 'Services': {'web': dict({'Image': 'b'}, **service)}}
    return [(error.path, error.message) for error in check_bundle(bundle)]


def test_every_integer_of_the_schema_has_the_range_of_its_engine_field():
    found = []

    def walk(schema, where):
        if isinstance(schema, dict):
            types = schema.get('type') if isinstance(schema.get('type'), list) else [schema.get('type')]
            if 'integer' in types:
                found.append(where)
                # OomScoreAdj is the one signed field: the kernel's -1000..1000.
                lowest = OOM_SCORE_ADJ_MIN if where.endswith('/OomScoreAdj') else 0
                assert lowest <= schema.get('minimum', lowest - 1) and schema.get('maximum', UINT64_MAX + 1) <= UINT64_MAX, where
            for key, value in schema.items():
                walk(value, where + '/' + key)
        elif isinstance(schema, list):
            for index, value in enumerate(schema):
                walk(value, '%s/%d' % (where, index))
    walk(BUNDLE_SCHEMA, '#')
    assert len(found) > 15


@pytest.mark.parametrize('service, path, words', [
    ({'Replicas': 2 ** 64}, '$.Services.web.Replicas', 'at most 18446744073709551615'),
    ({'Mode': {'Replicated': {'Replicas': 2 ** 64}}}, '$.Services.web.Mode.Replicated.Replicas', 'at most'),
    ({'Mode': {'ReplicatedJob': {'MaxConcurrent': 2 ** 64}}}, '$.Services.web.Mode.ReplicatedJob.MaxConcurrent',
     'at most'),
    ({'UpdateConfig': {'Parallelism': 2 ** 64}}, '$.Services.web.UpdateConfig.Parallelism', 'at most'),
    ({'RestartPolicy': {'MaxAttempts': 2 ** 64}}, '$.Services.web.RestartPolicy.MaxAttempts', 'at most'),
    ({'Placement': {'MaxReplicas': 2 ** 64}}, '$.Services.web.Placement.MaxReplicas', 'at most'),
    ({'Healthcheck': {'Retries': 2 ** 31}}, '$.Services.web.Healthcheck.Retries', 'at most 2147483647'),
    ({'Resources': {'Limits': {'Pids': 2 ** 63}}}, '$.Services.web.Resources.Limits.Pids',
     'at most 9223372036854775807'),
    ({'Ulimits': [{'Name': 'nofile', 'Soft': 1, 'Hard': 2 ** 63}]}, '$.Services.web.Ulimits[0].Hard', 'at most'),
    ({'Resources': {'Reservations': {'GenericResources': [{'Kind': 'gpu', 'Value': 2 ** 63}]}}},
     '$.Services.web.Resources.Reservations.GenericResources[0].Value', 'at most'),
    ({'Secrets': [{'Source': 's', 'UID': 2 ** 32}]}, '$.Services.web.Secrets[0].UID', 'at most'),
    ({'Secrets': [{'Source': 's', 'GID': 'wheel'}]}, '$.Services.web.Secrets[0].GID',
     'does not have the expected form'),
    ({'UpdateConfig': {'MaxFailureRatio': float('nan')}}, '$.Services.web.UpdateConfig.MaxFailureRatio', 'finite'),
    ({'UpdateConfig': {'MaxFailureRatio': float('-inf')}}, '$.Services.web.UpdateConfig.MaxFailureRatio', 'finite'),
    ({'Resources': {'Limits': {'CPUs': float('inf')}}}, '$.Services.web.Resources.Limits.CPUs', 'not a CPU count'),
    ({'Resources': {'Limits': {'CPUs': '1e999999'}}}, '$.Services.web.Resources.Limits.CPUs', 'at most'),
    ({'Resources': {'Limits': {'CPUs': 9223372037}}}, '$.Services.web.Resources.Limits.CPUs', 'at most'),
    ({'Resources': {'Limits': {'CPUs': '0.0001'}}}, '$.Services.web.Resources.Limits.CPUs', 'at least 0.001'),
    ({'Resources': {'Reservations': {'Memory': '1M'}}}, '$.Services.web.Resources.Reservations.Memory', 'at least 4M'),
    ({'Resources': {'Limits': {'Memory': '9' * 400}}}, '$.Services.web.Resources.Limits.Memory', 'at most'),
    ({'Resources': {'Limits': {'Memory': '8192p'}}}, '$.Services.web.Resources.Limits.Memory', 'at most'),
    ({'Resources': {'Limits': {'Memory': 2 ** 63}}}, '$.Services.web.Resources.Limits.Memory', 'at most'),
    ({'StopGracePeriod': '9' * 400 + 's'}, '$.Services.web.StopGracePeriod', 'at most 2562047h47m16s854775807ns'),
    ({'StopGracePeriod': '9' * 400}, '$.Services.web.StopGracePeriod', 'at most'),
    ({'StopGracePeriod': 2 ** 63}, '$.Services.web.StopGracePeriod', 'at most'),
    ({'StopGracePeriod': '2562047h47m16.854775808s'}, '$.Services.web.StopGracePeriod', 'at most'),
    ({'StopGracePeriod': '\u00b2s'}, '$.Services.web.StopGracePeriod', "'\u00b2s' is not a duration"),
    ({'StopGracePeriod': '\u0661\u0662s'}, '$.Services.web.StopGracePeriod', 'is not a duration'),
    ({'StopGracePeriod': '\u00b2'}, '$.Services.web.StopGracePeriod', "'\u00b2' is not a duration"),
    ({'Healthcheck': {'Interval': '500us'}}, '$.Services.web.Healthcheck.Interval', 'at least 1ms'),
])
def test_a_number_the_engine_refuses_is_refused_at_its_path(service, path, words):
    errors = service_errors(**service)
    assert [where for where, message in errors] == [path], errors
    assert words in errors[0][1], errors


@pytest.mark.parametrize('service', [
    {'Replicas': UINT64_MAX}, {'StopGracePeriod': '2562047h47m16.854775807s'}, {'StopGracePeriod': INT64_MAX},
    {'Resources': {'Limits': {'CPUs': '9223372036.854775807', 'Memory': INT64_MAX, 'Pids': INT64_MAX}}},
    {'Resources': {'Limits': {'CPUs': 0, 'Memory': 0}, 'Reservations': {'CPUs': 0.001, 'Memory': '4M'}}},
    {'Healthcheck': {'Interval': 0, 'Timeout': '1ms', 'Retries': 2 ** 31 - 1}},
    {'Secrets': [{'Source': 's', 'UID': '1000', 'GID': 4294967294}]},
])
def test_the_largest_numbers_the_engine_takes_pass(service):
    bundle = {'Secrets': {'s': {'Content': 'x'}}, 'Services': {'web': dict({'Image': 'b'}, **service)}}
    assert check_bundle(bundle) == []
