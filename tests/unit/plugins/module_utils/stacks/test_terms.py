# Copyright: crane.swarm developers
# GNU General Public License v3.0+ (see https://www.gnu.org/licenses/gpl-3.0.txt)
"""The rules written once in terms.py: a Mode's kind and a replicated service's count, and that every reader uses them."""

from __future__ import annotations

import pytest
from hypothesis import given, settings
from hypothesis import strategies as st

from ansible_collections.crane.swarm.plugins.module_utils.stacks import apply as stack_apply
from ansible_collections.crane.swarm.plugins.module_utils.stacks import spec as stack_spec
from ansible_collections.crane.swarm.plugins.module_utils.stacks import status as stack_status
from ansible_collections.crane.swarm.plugins.module_utils.stacks.terms import (
    DEFAULT_MODE_KIND, DEFAULT_REPLICAS, mode_kind, replicas)
from ansible_collections.crane.swarm.plugins.plugin_utils.bundle.check import check_bundle

KINDS = ('Replicated', 'Global', 'ReplicatedJob', 'GlobalJob')


@pytest.mark.parametrize('mode, kind', [
    (None, 'Replicated'), ({}, 'Replicated'), ({'Replicated': {}}, 'Replicated'), ({'Global': {}}, 'Global'),
    ({'ReplicatedJob': None}, 'ReplicatedJob'), ({'GlobalJob': {}}, 'GlobalJob'),
    ({'Global': {}, 'Replicated': {}}, 'Replicated'),  # not one kind: the bundle check reports it
    ('Global', 'Replicated'), ([], 'Replicated'),
])
def test_the_kind_of_a_mode(mode, kind):
    assert mode_kind(mode) == kind


@pytest.mark.parametrize('mode, count', [
    (None, 1), ({}, 1), ({'Replicated': None}, 1), ({'Replicated': {}}, 1), ({'Replicated': {'Replicas': 0}}, 0),
    ({'Replicated': {'Replicas': 7}}, 7),
])
def test_the_count_of_a_replicated_mode(mode, count):
    assert replicas(mode) == count


def test_the_defaults():
    assert (DEFAULT_MODE_KIND, DEFAULT_REPLICAS) == ('Replicated', 1)


COUNTS = st.integers(min_value=0, max_value=2 ** 20)
MODES = st.one_of(
    st.just({}),
    st.builds(lambda count: {'Replicas': count}, COUNTS),
    st.just({'Mode': {'Replicated': {}}}),
    st.builds(lambda count: {'Mode': {'Replicated': {'Replicas': count}}}, COUNTS),
    st.sampled_from([{'Mode': {'Global': {}}}, {'Mode': {'GlobalJob': {}}}, {'Mode': {'ReplicatedJob': {}}}]),
    # MaxConcurrent 0 is left out: the translation sends it as written and the comparison reads it as 1 (a rule
    # of jobs, not of replicas, left as it is).
    st.builds(lambda concurrent: {'Mode': {'ReplicatedJob': {'MaxConcurrent': concurrent}}},
              st.integers(min_value=1, max_value=2 ** 20)),
    # Conflicts the controller refuses: never translated.
    st.builds(lambda count, kind: {'Replicas': count, 'Mode': {kind: {}}}, COUNTS, st.sampled_from(KINDS)),
)


def expected_count(service):
    """What the bundle says, read by hand: the shortcut, else Mode's count, else one."""
    if 'Replicas' in service:
        return service['Replicas']
    return ((service.get('Mode') or {}).get('Replicated') or {}).get('Replicas', 1)


@settings(max_examples=300, deadline=None, derandomize=True, database=None)
@given(MODES, st.integers(min_value=1, max_value=9))
def test_every_reader_of_a_translated_mode_sees_the_kind_and_count_the_bundle_says(service, nodes):
    bundle = {'Services': {'web': dict(service, Image='busybox')}}
    if check_bundle(bundle, 'shop'):
        assert 'Replicas' in service and 'Mode' in service  # only the conflicts are refused
        return
    kind = next(iter(service.get('Mode') or {'Replicated': None}))
    mode = stack_spec.mode_spec(service)
    live = {'ID': 'x', 'Spec': {'Name': 'shop_web', 'Mode': mode, 'TaskTemplate': {'ContainerSpec': {'Image': 'b'}}}}
    assert mode_kind(mode) == kind
    assert stack_status.mode_name(live['Spec']) == {'Replicated': 'replicated', 'Global': 'global',
                                                    'ReplicatedJob': 'replicated-job', 'GlobalJob': 'global-job'}[kind]
    # The translation writes every default out: comparing it with itself read back changes nothing.
    assert stack_spec.service_changes(live['Spec'], live['Spec']) == []
    assert stack_spec.comparable_service_spec(live['Spec'])['Mode'] == mode
    if kind == 'Replicated':
        assert mode == {'Replicated': {'Replicas': expected_count(service)}}
        assert stack_apply.task_count(live['Spec'], nodes) == expected_count(service)
        assert stack_apply.desired_task_count(live, []) == expected_count(service)
        assert stack_status.service_summary(live, [])['replicas_desired'] == expected_count(service)
    elif kind in ('Global', 'GlobalJob'):
        assert stack_apply.task_count(live['Spec'], nodes) == nodes


@pytest.mark.parametrize('live_mode', [None, {'Replicated': {}}, {'Replicated': None}])
def test_a_live_mode_without_a_count_is_the_translation_of_a_service_without_one(live_mode):
    live = {'Name': 'shop_web', 'Mode': live_mode, 'TaskTemplate': {'ContainerSpec': {'Image': 'b'}}}
    desired = dict(live, Mode=stack_spec.mode_spec({}))
    assert stack_spec.service_changes(live, desired) == []
    assert stack_apply.task_count(live, 3) == replicas(live_mode) == DEFAULT_REPLICAS
    service = {'ID': 'x', 'Spec': live}
    assert stack_apply.desired_task_count(service, []) == DEFAULT_REPLICAS
    assert stack_status.service_summary(service, [])['replicas_desired'] == DEFAULT_REPLICAS
