# -*- coding: utf-8 -*-
# Copyright: crane.swarm developers
# GNU General Public License v3.0+ (see https://www.gnu.org/licenses/gpl-3.0.txt)
"""The NodeSpec planning of crane.swarm.swarm_node, on plain data."""

from __future__ import annotations

import copy

import pytest

from ansible_collections.crane.swarm.plugins.modules.swarm_node import (
    SpecError,
    plan_node_spec,
)

SPEC = {'Name': 'edge', 'Role': 'worker', 'Availability': 'active', 'Labels': {'tier': 'web', 'zone': 'a'}}


def plan(**kwargs):
    current = copy.deepcopy(kwargs.pop('current', SPEC))
    before = copy.deepcopy(current)
    result = plan_node_spec(current, **kwargs)
    assert current == before, 'the current spec must not be modified'
    return result


def test_no_request_is_no_change():
    result = plan()
    assert result['changed'] is False
    assert result['changes'] == []
    assert result['spec'] == SPEC
    assert result['before'] == result['after'] == {'labels': {'tier': 'web', 'zone': 'a'},
                                                   'availability': 'active', 'role': 'worker'}


def test_requesting_the_current_values_is_no_change():
    result = plan(labels={'tier': 'web'}, availability='active', role='worker', labels_to_remove=['absent'])
    assert result['changed'] is False
    assert result['changes'] == []
    assert result['spec'] == SPEC


def test_replace_with_the_same_labels_is_no_change():
    result = plan(labels={'zone': 'a', 'tier': 'web'}, labels_state='replace')
    assert not result['changed']


def test_labels_merge_adds_and_changes_keeps_others():
    result = plan(labels={'tier': 'db', 'disk': 'ssd'})
    assert result['changed']
    assert result['spec']['Labels'] == {'tier': 'db', 'zone': 'a', 'disk': 'ssd'}
    assert result['changes'] == ['labels.disk added: ssd', 'labels.tier: web -> db']
    assert result['before']['labels'] == {'tier': 'web', 'zone': 'a'}
    assert result['after']['labels'] == {'tier': 'db', 'zone': 'a', 'disk': 'ssd'}


def test_labels_replace_drops_the_others():
    result = plan(labels={'disk': 'ssd'}, labels_state='replace')
    assert result['spec']['Labels'] == {'disk': 'ssd'}
    assert result['changes'] == ['labels.disk added: ssd', 'labels.tier removed (was: web)',
                                 'labels.zone removed (was: a)']


def test_labels_replace_with_empty_mapping_removes_all():
    result = plan(labels={}, labels_state='replace')
    assert result['spec']['Labels'] == {}
    assert len(result['changes']) == 2


def test_labels_replace_without_labels_leaves_them():
    result = plan(labels_state='replace')
    assert not result['changed']
    assert result['spec']['Labels'] == SPEC['Labels']


def test_labels_to_remove():
    result = plan(labels_to_remove=['zone', 'never-there'])
    assert result['spec']['Labels'] == {'tier': 'web'}
    assert result['changes'] == ['labels.zone removed (was: a)']


def test_labels_to_remove_combined_with_merge():
    result = plan(labels={'disk': 'ssd'}, labels_to_remove=['tier'])
    assert result['spec']['Labels'] == {'zone': 'a', 'disk': 'ssd'}


def test_same_label_in_labels_and_labels_to_remove_is_refused():
    with pytest.raises(SpecError) as error:
        plan(labels={'tier': 'db', 'zone': 'b'}, labels_to_remove=['zone', 'tier'])
    assert 'labels_to_remove: tier, zone also set in labels' in str(error.value)


def test_label_values_become_strings_and_booleans_are_refused():
    result = plan(labels={'rack': 12, 'weight': 0.5, 'empty': None})
    assert result['spec']['Labels']['rack'] == '12'
    assert result['spec']['Labels']['weight'] == '0.5'
    assert result['spec']['Labels']['empty'] == ''
    with pytest.raises(SpecError) as error:
        plan(labels={'ssd': True})
    assert 'labels.ssd is the boolean True' in str(error.value)
    assert 'quote it (ssd: "true")' in str(error.value)
    with pytest.raises(SpecError) as error:
        plan(labels={'nested': {'a': 'b'}})
    assert 'labels.nested must be a string' in str(error.value)


def test_a_numeric_label_equal_to_the_current_string_is_no_change():
    result = plan(current=dict(SPEC, Labels={'rack': '12'}), labels={'rack': 12})
    assert not result['changed']


def test_availability_change():
    result = plan(availability='drain')
    assert result['changed']
    assert result['spec']['Availability'] == 'drain'
    assert result['changes'] == ['availability: active -> drain']
    assert result['before']['availability'] == 'active'
    assert result['after']['availability'] == 'drain'
    assert result['spec']['Labels'] == SPEC['Labels']


def test_role_change_keeps_the_rest_of_the_spec():
    result = plan(role='manager')
    assert result['changes'] == ['role: worker -> manager']
    assert result['spec'] == dict(SPEC, Role='manager')


def test_everything_at_once_and_order_of_changes():
    result = plan(labels={'tier': 'db'}, labels_to_remove=['zone'], availability='pause', role='manager')
    assert result['changes'] == ['labels.tier: web -> db', 'labels.zone removed (was: a)',
                                 'availability: active -> pause', 'role: worker -> manager']
    assert result['spec'] == {'Name': 'edge', 'Role': 'manager', 'Availability': 'pause', 'Labels': {'tier': 'db'}}


def test_spec_without_labels_from_the_engine():
    # The engine omits Labels (or sends null) on a node that never had any.
    for current in ({'Role': 'worker', 'Availability': 'active'},
                    {'Role': 'worker', 'Availability': 'active', 'Labels': None}):
        result = plan(current=current)
        assert not result['changed']
        assert result['before']['labels'] == {}
        result = plan(current=current, labels={'a': 'b'})
        assert result['changed']
        assert result['spec']['Labels'] == {'a': 'b'}
        assert result['spec']['Role'] == 'worker'


def test_unknown_labels_state_is_refused():
    with pytest.raises(SpecError):
        plan(labels={'a': 'b'}, labels_state='union')
