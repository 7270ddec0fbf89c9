# Copyright: crane.swarm developers
# GNU General Public License v3.0+ (see https://www.gnu.org/licenses/gpl-3.0.txt)
"""The corpus bundles, mutated at random: every input is accepted whole or refused by our own error.

The property, for bundles given as data (a playbook's `definition`) and as JSON
or YAML text (a `src` file):

- accepted: load_bundle_text and check_bundle find nothing, desired_stack
  translates it, and both the bundle the action plugin sends and the
  translation encode as strict JSON (no NaN) in UTF-8;
- or refused: a ValueError naming the source from the loader, or BundleErrors
  from check_bundle, each with a JSON path (or `name`, the stack's) and a
  bounded message;
- never another exception, and each input within 2 s and 50 MB (tracemalloc).

The examples are derandomized (the same on every run, in CI too) and no example
database is kept. Random choices seldom hit one given field (a NaN at
MaxFailureRatio among 200 places), so each place of the good bundles also takes
each odd value in turn. test_bundle_hostile_input.py holds the findings as plain
tests.
"""

from __future__ import annotations

import base64
import copy
import datetime
import functools
import json
import os
import time
import tracemalloc

import yaml
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st

from ansible_collections.crane.swarm.plugins.plugin_utils.bundle.check import BundleError, check_bundle, without_extensions
from ansible_collections.crane.swarm.plugins.plugin_utils.bundle.schema import BUNDLE_SCHEMA
from ansible_collections.crane.swarm.plugins.module_utils.common.plain_data import short_repr
from ansible_collections.crane.swarm.plugins.module_utils.stacks.spec import desired_stack
from ansible_collections.crane.swarm.plugins.plugin_utils.bundle.reader import load_bundle_text

from unit_paths import BUNDLES
CORPUS = [os.path.join(BUNDLES, kind, name) for kind in ('good', 'bad')
          for name in sorted(os.listdir(os.path.join(BUNDLES, kind))) if '.' in name]
TEXTS = [open(path, encoding='utf-8').read() for path in CORPUS]  # pylint: disable=consider-using-with
BUNDLES = [load_bundle_text(text, path) for text, path in zip(TEXTS, CORPUS)]
GOOD = [index for index, path in enumerate(CORPUS) if os.sep + 'good' + os.sep in path]
# Half the mutations start from a good bundle: a bad one mostly stays refused.
SEEDS = st.one_of(st.sampled_from([BUNDLES[index] for index in GOOD]), st.sampled_from(BUNDLES))
# Seconds of this process's CPU time, not of the clock: the bound holds however busy the machine is
# (make check and make test run the unit tests beside other work).
SECONDS, MEGABYTES = 2.0, 50
STACK = 'demo'


def fuzz_settings(examples):
    return settings(max_examples=examples, deadline=None, derandomize=True, database=None, print_blob=False,
                    suppress_health_check=[HealthCheck.too_slow, HealthCheck.data_too_large,
                                           HealthCheck.large_base_example])


def schema_keys(schema=None):
    """Every key the schema names, so that mutations reach deep into the checks."""
    if schema is None:
        schema = BUNDLE_SCHEMA
    found = set()
    if isinstance(schema, dict):
        found.update(schema.get('properties', {}))
        for value in schema.values():
            found |= schema_keys(value)
    elif isinstance(schema, list):
        for value in schema:
            found |= schema_keys(value)
    return found


SCHEMA_KEYS = sorted(schema_keys())
ODD_STRINGS = [
    '', ' ', '\n', 'web\n', 'a b', '-web', 'web-', 'é', '\u00b2', '\u0661\u0662s', '\ud800', 'x\udc80y', '\x00',
    '\ufeff',
    'a' * 64, 'a' * 10000, 'a' * 29 + '!', '9' * 400, '9' * 400 + 's', '1e999999', '.nan', 'NaN', '-1', '0.0001',
    '1M', '8192p', '2562047h47m16.854775808s', '0999', '0444', 'on', 'null', '2020-01-01', 'node.role manager',
    'CMD', 'NONE', 'tcp', 'host', 'ingress', 'vip', 'dnsrr', 'bind', 'tmpfs', 'volume', 'web', 'front', 'back',
    'db_password', 'app_conf', '10.0.0.5 db', '${X}', '{{ x }}', '*a', '&a', '<<',
]
ODD_NUMBERS = [-1, 0, 1, 2 ** 31 - 1, 2 ** 31, 2 ** 32, 2 ** 63 - 1, 2 ** 63, 2 ** 64 - 1, 2 ** 64, 10 ** 30,
               -(2 ** 63), 65535, 65536, 4095, 4096, 0.5, -0.0, 1e308, 1e-10, float('nan'), float('inf'), float('-inf')]
SCALARS = st.one_of(
    st.none(), st.booleans(), st.integers(), st.floats(), st.sampled_from(ODD_NUMBERS), st.text(max_size=12),
    st.sampled_from(ODD_STRINGS), st.sampled_from(SCHEMA_KEYS), st.dates(), st.binary(max_size=4),
)
KEYS = st.one_of(st.sampled_from(SCHEMA_KEYS), st.sampled_from(ODD_STRINGS), st.text(max_size=8), st.none(),
                 st.booleans(), st.integers(-2, 2), st.dates())
VALUES = st.recursive(SCALARS, lambda children: st.one_of(
    st.lists(children, max_size=4), st.dictionaries(KEYS, children, max_size=4), st.tuples(children)), max_leaves=12)
DEEP = st.integers(min_value=60, max_value=2000).map(lambda depth: nested(depth))  # pylint: disable=unnecessary-lambda


def nested(depth):
    value = 'x'
    for level in range(depth):
        value = [value] if level % 2 else {'Image': value}
    return value


def places(value):
    """(container, key) for every place in `value` that holds a value."""
    found = []
    todo = [value]
    while todo:
        container = todo.pop()
        keys = list(container) if isinstance(container, dict) else range(len(container))
        for key in keys:
            found.append((container, key))
            if isinstance(container[key], (dict, list)):
                todo.append(container[key])
    return found


def holds(value, target):
    """Whether `target` is `value` or within it."""
    todo = [value]
    while todo:
        item = todo.pop()
        if item is target:
            return True
        if isinstance(item, (dict, list)):
            todo.extend(item.values() if isinstance(item, dict) else item)
    return False


@st.composite
def mutated_bundles(draw):
    """A corpus bundle with one to four values replaced, removed or added, anywhere in it."""
    bundle = copy.deepcopy(draw(SEEDS))
    for dummy in range(draw(st.sampled_from((1, 1, 1, 2, 4)))):
        spots = places(bundle) if isinstance(bundle, (dict, list)) else []
        if not spots:
            return draw(VALUES)
        container, key = draw(st.sampled_from(spots))
        action = draw(st.sampled_from(('replace', 'replace', 'number', 'remove', 'add', 'deep', 'copy')))
        if action == 'remove':
            del container[key]
        elif action == 'add' and isinstance(container, dict):
            container[draw(KEYS)] = draw(VALUES)
        elif action == 'add':
            container.insert(key, draw(VALUES))
        elif action == 'number':  # where a number is, another one: out of range, NaN, infinity
            numbers = [(where, place) for where, place in spots
                       if isinstance(where[place], (int, float)) and not isinstance(where[place], bool)]
            if numbers:
                where, place = draw(st.sampled_from(numbers))
                where[place] = draw(st.one_of(st.sampled_from(ODD_NUMBERS), st.floats(), st.integers()))
        elif action == 'deep':
            container[key] = draw(DEEP)
        elif action == 'copy':  # one value in two places, shared as YAML aliases share it (never a cycle)
            other_container, other_key = draw(st.sampled_from(spots))
            if not holds(other_container[other_key], container):
                container[key] = other_container[other_key]
        else:
            container[key] = draw(VALUES)
    return bundle


YAML_SNIPPETS = [
    '&a ', '*a', '<<: *a\n', '!!binary ', '!!set ', '!!omap ', '!custom ', '!!str ', '!!int ', '!!float ',
    '!!timestamp ',
    '? [a]\n: 1\n', '? {a: 1}\n: 1\n', 'on: ', 'yes: ', '~: ', 'null: ', '1: ', '2020-01-01: ', '2020-01-01',
    '.nan', '.inf', '-.inf', '0x1F', '0o17', '1_000', '1:30', '=', '<<', '\t', '\ufeff', '"\\ud800"', '"\\U0001F600"',
    '[' * 70, ']' * 70, '{' * 70, '{', '}', ':', ': ', '- ', '---\n', '...\n', '%YAML 1.1\n---\n', '&a [*a]',
    '9' * 400, '1e400', '-' * 5, '"', "'", '#', '|\n', '>\n', '\n  ', '\n', ' ', 'x' * 5000,
]


@st.composite
def mutated_texts(draw):
    """A corpus file's text, or a bundle's JSON, with snippets of odd YAML inserted, or lines repeated or cut."""
    good = [TEXTS[index] for index in GOOD] + [json.dumps(BUNDLES[index], indent=1) for index in GOOD]
    text = draw(st.one_of(st.sampled_from(good), st.sampled_from(TEXTS)))
    for dummy in range(draw(st.sampled_from((1, 1, 1, 2, 4)))):
        lines = text.split('\n')
        index = draw(st.integers(min_value=0, max_value=len(lines) - 1))
        action = draw(st.sampled_from(('insert', 'insert', 'insert', 'repeat', 'cut', 'indent')))
        if action == 'insert':
            line = lines[index]
            column = draw(st.integers(min_value=0, max_value=len(line)))
            snippet = draw(st.one_of(st.sampled_from(YAML_SNIPPETS), st.text(max_size=6)))
            lines[index] = line[:column] + snippet + line[column:]
        elif action == 'repeat':  # a key written twice, a list item twice
            lines.insert(index, lines[index])
        elif action == 'cut':
            del lines[index]
        else:
            lines[index] = ' ' * draw(st.integers(min_value=0, max_value=8)) + lines[index].lstrip()
        text = '\n'.join(lines)
    return text


@st.composite
def alias_bombs(draw):
    """YAML aliases that multiply: lists of lists of random width and depth under a service, or many services
    that are one service (an alias) whose list is long: the shape that checks and translates."""
    if draw(st.booleans()):
        levels, width = draw(st.integers(min_value=1, max_value=12)), draw(st.integers(min_value=1, max_value=12))
        lines = ['Services:', '  web:', '    Image: busybox', '    x0: &a0 [%s]' % ', '.join(['x'] * width)]
        for level in range(1, levels):
            lines.append('    x%d: &a%d [%s]' % (level, level, ', '.join(['*a%d' % (level - 1)] * width)))
        key = draw(st.sampled_from(('Env', 'Command', 'Labels', 'Hosts', 'Networks', 'Ports')))
        return '\n'.join(lines + ['    %s: *a%d' % (key, levels - 1)]) + '\n'
    services, entries = draw(st.integers(min_value=1, max_value=400)), draw(st.integers(min_value=1, max_value=400))
    lines = ['Services:', '  s0: &svc {Image: busybox, Env: [%s]}' % ', '.join(['e%d=1' % i for i in range(entries)])]
    lines += ['  s%d: *svc' % index for index in range(1, services)]
    return '\n'.join(lines) + '\n'


# ---- the property ----

def within_bounds(work):
    """work() within SECONDS and MEGABYTES; its result."""
    tracemalloc.start()
    start = time.process_time()
    try:
        return work()
    finally:
        elapsed, peak = time.process_time() - start, tracemalloc.get_traced_memory()[1]
        tracemalloc.stop()
        assert elapsed < SECONDS, 'took %.2f s' % elapsed
        assert peak < MEGABYTES * 2 ** 20, 'took %.1f MB' % (peak / 2 ** 20)


def outcome_of_text(text, source):
    """'accepted' or 'refused' for the bundle file `text`; any other exception fails the property."""
    try:
        bundle = load_bundle_text(text, source)
    except ValueError as exc:
        message = str(exc)
        assert message.startswith(source + ': ') and len(message) < 1000, message
        return 'refused'
    return outcome_of_data(bundle)


def outcome_of_data(bundle):
    """'accepted' or 'refused' for a loaded bundle (or a playbook's `definition`)."""
    errors = check_bundle(bundle, STACK)
    if errors:
        for error in errors:
            assert isinstance(error, BundleError) and error.message, error
            assert error.path == 'name' or error.path.startswith('$'), error
            assert len(str(error)) < 1000, str(error)[:1000]
        return 'refused'
    contents = dict((kind, dict((name, base64.b64encode(b'content').decode('ascii'))
                                for name, item in (bundle.get(kind) or {}).items() if 'File' in item))
                    for kind in ('Secrets', 'Configs'))
    stack = desired_stack(STACK, bundle, contents['Secrets'], contents['Configs'])
    for sent in (without_extensions(bundle), stack):  # what the action plugin sends, what the module sends
        json.dumps(sent, allow_nan=False, ensure_ascii=False).encode('utf-8')
    return 'accepted'


def as_texts(bundle):
    """The JSON and YAML texts of a mutated bundle, where JSON or YAML can write it."""
    texts = []
    for dump in (lambda: json.dumps(bundle), lambda: yaml.safe_dump(bundle, allow_unicode=True)):
        try:
            texts.append(dump())
        except (TypeError, ValueError, RecursionError, yaml.YAMLError):
            pass  # keys JSON cannot write, tuples YAML's safe dumper refuses, nesting too deep for either dumper
    return texts


@fuzz_settings(examples=500)
@given(mutated_bundles())
def test_a_mutated_bundle_is_accepted_whole_or_refused_by_our_own_errors(bundle):
    outcomes = [within_bounds(lambda: outcome_of_data(bundle))]
    for index, text in enumerate(as_texts(bundle)):
        outcomes.append(within_bounds(functools.partial(outcome_of_text, text, 'mutated-%d' % index)))
    assert set(outcomes) <= {'accepted', 'refused'}


@fuzz_settings(examples=500)
@given(mutated_texts())
def test_a_mutated_bundle_text_is_accepted_whole_or_refused_by_our_own_errors(text):
    assert within_bounds(lambda: outcome_of_text(text, 'mutated.yml')) in ('accepted', 'refused')


@fuzz_settings(examples=40)
@given(alias_bombs())
def test_yaml_aliases_of_any_size_stay_within_bounds(text):
    assert within_bounds(lambda: outcome_of_text(text, 'aliases.yml')) in ('accepted', 'refused')


def test_the_corpus_gives_both_outcomes():
    """The property is not vacuous: the good bundles pass it accepted, the bad ones refused."""
    outcomes = [outcome_of_text(text, path) for text, path in zip(TEXTS, CORPUS)]
    good = sum(1 for path in CORPUS if os.sep + 'good' + os.sep in path)
    assert outcomes[:good] == ['accepted'] * good and set(outcomes[good:]) == {'refused'}


def test_a_date_or_bytes_in_a_definition_is_refused_not_sent():
    bundle = {'Services': {'web': {'Image': 'b', 'Labels': {'since': datetime.date(2020, 1, 1)}, 'User': b'root'}}}
    assert outcome_of_data(bundle) == 'refused'


EVERY_ODD_VALUE = ODD_NUMBERS + ODD_STRINGS[:30] + [None, True, False, [], {}, [[]], {'': None}, {1: 'x'}, ('a',),
                                                    datetime.date(2020, 1, 1), b'x', nested(80)]


def test_every_place_of_the_good_bundles_takes_every_odd_value():
    """Beside the random mutations: each value of each good bundle, replaced by each odd value in turn."""
    outcomes = {'accepted': 0, 'refused': 0}
    for index in GOOD:
        bundle = copy.deepcopy(BUNDLES[index])
        for container, key in places(bundle):
            kept = container[key]
            for value in EVERY_ODD_VALUE:
                container[key] = value
                start = time.process_time()
                try:
                    outcomes[outcome_of_data(bundle)] += 1
                except Exception as exc:
                    raise AssertionError('%s set to %s: %r' % (CORPUS[index], short_repr(value), exc)) from exc
                assert time.process_time() - start < SECONDS
            container[key] = kept
    assert min(outcomes.values()) > 100, outcomes
