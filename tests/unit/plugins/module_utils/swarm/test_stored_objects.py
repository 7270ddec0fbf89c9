# Copyright: crane.swarm developers
# GNU General Public License v3.0+ (see https://www.gnu.org/licenses/gpl-3.0.txt)
"""The plans of swarm_secret and swarm_config, on plain data."""

from __future__ import annotations

import base64

import pytest
from hypothesis import given, settings
from hypothesis import strategies as st

from ansible_collections.crane.swarm.plugins.module_utils.swarm.stored_objects import (
    CONTENT_LABEL, VERSION_LABEL, LabelError, content_digest, object_view, plan_absent, plan_present,
    requested_labels, services_using, versions_of)

ONE, TWO = content_digest(b'one'), content_digest(b'two')


def live(name, digest=None, version=None, labels=None, data=None, templating=None):
    all_labels = dict(labels or {})
    if digest:
        all_labels[CONTENT_LABEL] = digest
    if version is not None:
        all_labels[VERSION_LABEL] = str(version)
    spec = dict(Name=name, Labels=all_labels)
    if data is not None:
        spec['Data'] = base64.b64encode(data).decode()
    if templating:
        spec['Templating'] = dict(Name=templating)
    return dict(ID='id-' + name, Version=dict(Index=7), Spec=spec)


def service(name, secrets=(), configs=()):
    return dict(Spec=dict(Name=name, TaskTemplate=dict(ContainerSpec=dict(
        Secrets=[dict(SecretName=each, SecretID='x') for each in secrets],
        Configs=[dict(ConfigName=each, ConfigID='y') for each in configs]))))


def test_a_missing_object_is_created():
    plan = plan_present('secret', 'db', ONE, {}, [], {})
    assert plan.create == {'name': 'db', 'version': None} and plan.remove == [] and plan.refusal is None


def test_the_same_content_and_labels_is_no_change():
    plan = plan_present('secret', 'db', ONE, {'team': 'a'}, [live('db', ONE, labels={'team': 'a'})], {})
    assert (plan.create, plan.relabel, plan.remove) == (None, None, [])


def test_new_labels_relabel_and_keep_the_object():
    plan = plan_present('secret', 'db', ONE, {'team': 'b'}, [live('db', ONE, labels={'team': 'a'})], {})
    assert plan.create is None and plan.relabel == {'team': 'b', CONTENT_LABEL: ONE}


def test_new_content_replaces_an_unused_object_and_is_refused_for_a_used_one():
    plan = plan_present('secret', 'db', TWO, {}, [live('db', ONE)], {})
    assert plan.create == {'name': 'db', 'version': None} and plan.remove == ['db']
    refused = plan_present('secret', 'db', TWO, {}, [live('db', ONE)], {'db': ['shop_api', 'shop_worker']})
    assert refused.create is None and refused.remove == []
    assert 'shop_api, shop_worker' in refused.refusal and 'rolling_versions: true' in refused.refusal


def test_a_config_made_elsewhere_with_the_same_data_is_kept_and_labelled():
    plan = plan_present('config', 'nginx', ONE, {}, [live('nginx', data=b'one')], {})
    assert plan.create is None and plan.relabel == {CONTENT_LABEL: ONE}


def test_another_template_driver_is_other_content():
    plan = plan_present('config', 'tpl', ONE, {}, [live('tpl', ONE)], {}, templating='golang')
    assert plan.create == {'name': 'tpl', 'version': None} and plan.remove == ['tpl']
    same = plan_present('config', 'tpl', ONE, {}, [live('tpl', ONE, templating='golang')], {}, templating='golang')
    assert same.create is None and same.relabel is None
    refused = plan_present('config', 'tpl', ONE, {}, [live('tpl', ONE, templating='golang')], {'tpl': ['web']})
    assert 'template_driver' in refused.refusal and 'web' in refused.refusal


def test_requested_labels_are_strings_and_never_the_modules_own():
    assert requested_labels(None) == {}
    assert requested_labels({'port': 80, 'empty': None, 'team': 'a'}) == {'port': '80', 'empty': '', 'team': 'a'}
    with pytest.raises(LabelError, match='labels.on is the boolean True'):
        requested_labels({'on': True})
    with pytest.raises(LabelError, match='labels.crane.swarm.sha256 is set by the module itself'):
        requested_labels({CONTENT_LABEL: 'x'})
    with pytest.raises(LabelError, match='labels.x must be a string, not list'):
        requested_labels({'x': [1]})


def test_object_view_shows_the_digest_never_the_data():
    view = object_view(live('key_v3', ONE, 3, labels={'team': 'a'}, data=b'one'))
    assert view == {'name': 'key_v3', 'labels': {'team': 'a'}, 'version': 3, 'sha256': ONE}
    assert object_view(live('cfg', data=b'one'))['sha256'] == ONE  # a config made elsewhere: from its data
    assert object_view(live('sec'))['sha256'] is None  # a secret made elsewhere: unknown


def test_force_replaces_even_the_same_content():
    plan = plan_present('secret', 'db', ONE, {}, [live('db', ONE)], {}, force=True)
    assert plan.create == {'name': 'db', 'version': None} and plan.remove == ['db']


def test_rotation_makes_the_next_version_and_drops_the_oldest_unused_ones():
    objects = [live('key_v%d' % n, content_digest(b'%d' % n), n) for n in (1, 2, 3, 4)] + [live('key_other')]
    plan = plan_present('secret', 'key', TWO, {}, objects, {'key_1': ['x'], 'key_v1': ['svc']}, rolling=True,
                        versions_to_keep=1)
    assert plan.create == {'name': 'key_v5', 'version': 5}
    assert plan.remove == ['key_v2', 'key_v3'] and plan.kept_in_use == ['key_v1']


def test_rotation_with_the_current_content_creates_nothing():
    objects = [live('key_v1', ONE, 1), live('key_v2', TWO, 2)]
    plan = plan_present('secret', 'key', TWO, {}, objects, {}, rolling=True)
    assert plan.create is None and plan.current['Spec']['Name'] == 'key_v2' and plan.relabel is None


def test_absent_removes_every_version_or_nothing_while_one_is_used():
    objects = [live('key'), live('key_v1'), live('key_v2'), live('keys')]
    assert plan_absent('secret', 'key', objects, {}) == (['key', 'key_v1', 'key_v2'], None)
    names, refusal = plan_absent('secret', 'key', objects, {'key_v2': ['web']})
    assert names == [] and 'key_v2 by web' in refusal


def test_services_using_reads_secret_and_config_references():
    services = [service('a', secrets=['s1'], configs=['c1']), service('b', secrets=['s1'])]
    assert services_using('secret', services) == {'s1': ['a', 'b']}
    assert services_using('config', services) == {'c1': ['a']}


@settings(max_examples=300, deadline=None)
@given(steps=st.lists(st.tuples(st.binary(min_size=1, max_size=2), st.sets(st.integers(min_value=1, max_value=12))),
                      min_size=1, max_size=12),
       keep=st.integers(min_value=-1, max_value=4))
def test_rotation_keeps_at_most_the_versions_asked_and_never_removes_a_used_one(steps, keep):
    objects, highest = [], 0
    for data, used in steps:  # deploy each content in turn, applying each plan; services move meanwhile
        digest = content_digest(data)
        users = dict(('s_v%d' % n, ['svc']) for n in used)
        before = versions_of('s', objects)
        plan = plan_present('secret', 's', digest, {}, objects, users, rolling=True, versions_to_keep=keep)
        assert plan.refusal is None
        assert not set(plan.remove) & set(users)  # a used version is never removed
        assert set(plan.remove) <= set(item['Spec']['Name'] for item in before.values())
        objects = [item for item in objects if item['Spec']['Name'] not in plan.remove]
        if plan.create:
            assert plan.create['version'] == highest + 1  # numbering only grows, never reuses a number
            highest = plan.create['version']
            objects.append(live(plan.create['name'], digest, plan.create['version']))
        else:
            assert before and before[max(before)]['Spec']['Labels'][CONTENT_LABEL] == digest
        current = max(versions_of('s', objects))
        assert current == highest and current not in [int(name.rsplit('_v', 1)[1]) for name in plan.remove]
        unused_old = [n for n in versions_of('s', objects) if n != current and 's_v%d' % n not in users]
        kept = sorted(n for n in versions_of('s', objects) if n != current)
        if keep >= 0:
            assert len(unused_old) <= keep
            # What stays beyond the newest `keep` old versions is there only because a service uses it.
            assert all('s_v%d' % n in users for n in kept[:max(len(kept) - keep, 0)])
        else:
            assert plan.remove == []


@settings(max_examples=200, deadline=None)
@given(contents=st.lists(st.sampled_from([b'a', b'b', b'c']), min_size=1, max_size=10))
def test_without_rotation_the_name_holds_the_last_content_and_a_second_run_changes_nothing(contents):
    objects = []
    for data in contents:
        digest = content_digest(data)
        plan = plan_present('secret', 's', digest, {'k': 'v'}, objects, {})
        objects = [item for item in objects if item['Spec']['Name'] not in plan.remove]
        if plan.create:
            assert plan.create['name'] == 's'
            objects.append(live('s', digest, labels={'k': 'v'}))
        again = plan_present('secret', 's', digest, {'k': 'v'}, objects, {})
        assert (again.create, again.relabel, again.remove) == (None, None, [])
        assert [item['Spec']['Name'] for item in objects] == ['s']
