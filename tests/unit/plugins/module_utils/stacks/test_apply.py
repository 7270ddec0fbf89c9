# Copyright: crane.swarm developers
# GNU General Public License v3.0+ (see https://www.gnu.org/licenses/gpl-3.0.txt)
"""Deployment decisions on plain data: object IDs, carried swarm state, echoed arguments.

Convergence is in test_stack_convergence.py, the address space of networks in test_stack_addresses.py,
registry credentials in test_registry_auth.py.
"""

from __future__ import annotations

from ansible_collections.crane.swarm.plugins.module_utils.stacks import apply as stack_apply
from ansible_collections.crane.swarm.plugins.module_utils.stacks.spec import desired_stack


def spec_with_references():
    return {'Name': 's_app', 'TaskTemplate': {'ContainerSpec': {
        'Image': 'busybox:latest',
        'Secrets': [{'SecretName': 's_token_abc', 'File': {'Name': 'token'}}],
        'Configs': [{'ConfigName': 's_conf_def', 'File': {'Name': '/etc/conf'}}]}}}


def test_object_ids_are_filled_without_touching_the_input():
    spec = spec_with_references()
    filled = stack_apply.with_object_ids(spec, {'s_token_abc': 'id1'}, {})
    container = filled['TaskTemplate']['ContainerSpec']
    assert container['Secrets'][0]['SecretID'] == 'id1'
    assert container['Configs'][0]['ConfigID'] == 'to-be-created:s_conf_def'
    assert 'SecretID' not in spec['TaskTemplate']['ContainerSpec']['Secrets'][0]


def test_pinned_live_image_matches_its_tag():
    assert stack_apply.same_image_pinned('busybox:latest@sha256:aa', 'busybox:latest')
    assert not stack_apply.same_image_pinned('busybox:1@sha256:aa', 'busybox:latest')
    assert not stack_apply.same_image_pinned('busybox@sha256:aa', 'busybox@sha256:bb')


def test_an_update_with_resolve_image_changed_moves_to_the_tags_digest_and_never_unpins():
    live = 'reg:5000/app:1@sha256:old'
    # The registry answered: the new digest, though the live image is that tag pinned.
    assert stack_apply.image_for_update('reg:5000/app:1', live, 'reg:5000/app:1@sha256:new') == 'reg:5000/app:1@sha256:new'
    # It did not: the live pin of the same tag stays; another tag is sent as written.
    assert stack_apply.image_for_update('reg:5000/app:1', live, 'reg:5000/app:1') == live
    assert stack_apply.image_for_update('reg:5000/app:2', live, 'reg:5000/app:2') == 'reg:5000/app:2'
    # A digest written is sent as written (resolved_image leaves it alone).
    assert stack_apply.image_for_update('app@sha256:aa', live, 'app@sha256:aa') == 'app@sha256:aa'


def test_update_keeps_swarm_assigned_ports_and_force_update_counter():
    live = {'Spec': {'TaskTemplate': {'ForceUpdate': 2}},
            'Endpoint': {'Ports': [{'Protocol': 'tcp', 'TargetPort': 80, 'PublishedPort': 30001}]}}
    desired = {'TaskTemplate': {'ContainerSpec': {}}, 'EndpointSpec': {'Ports': [
        {'Protocol': 'tcp', 'TargetPort': 80, 'PublishMode': 'ingress'},
        {'Protocol': 'tcp', 'TargetPort': 81, 'PublishedPort': 8081, 'PublishMode': 'ingress'}]}}
    carried = stack_apply.carry_swarm_state(live, desired)
    assert [p.get('PublishedPort') for p in carried['EndpointSpec']['Ports']] == [30001, 8081]
    assert carried['TaskTemplate']['ForceUpdate'] == 2
    assert 'PublishedPort' not in desired['EndpointSpec']['Ports'][0]


def test_which_changes_roll_out_tasks():
    assert stack_apply.rolls_out_tasks([('TaskTemplate.ContainerSpec.Image', 'a', 'b')])
    assert stack_apply.rolls_out_tasks([('EndpointSpec.Ports', None, [80])])
    assert not stack_apply.rolls_out_tasks([('Labels.team', 'a', 'b'), ('Mode.Replicated.Replicas', 1, 2)])
    assert not stack_apply.rolls_out_tasks([])


def test_registry_of():
    assert stack_apply.registry_of('busybox') is None
    assert stack_apply.registry_of('team/app') is None
    assert stack_apply.registry_of('localhost/app') == 'localhost'
    assert stack_apply.registry_of('registry.example:5000/app@sha256:ab') == 'registry.example:5000'


def test_echoed_arguments_never_carry_the_bundle_or_contents():
    params = {'name': 's', 'definition': {'Services': {'a': {}, 'b': {}}, 'Secrets': {'x': {'Content': 'hush'}}},
              '_bundle_json': '{"Secrets": {"x": {"Content": "hush"}}}', '_secret_data': {'f': 'aHVzaA=='},
              '_config_data': {}, 'wait': True}
    echoed = stack_apply.echoed_arguments(params)
    assert echoed == {'name': 's', 'definition': 'a bundle of 2 service(s), not echoed', '_bundle_json': 'not echoed',
                      '_secret_data': '1 file(s), not echoed', '_config_data': {}, 'wait': True}
    assert 'hush' in str(params)  # the arguments themselves are left as they are
    text = stack_apply.echoed_arguments({'definition': '{"Services": {}}', '_secret_data': 'raw=text'})
    assert text == {'definition': 'not echoed', '_secret_data': 'not echoed'}
    assert stack_apply.echoed_arguments({'definition': None, '_bundle_json': None, '_secret_data': None}) == {
        'definition': None, '_bundle_json': None, '_secret_data': None}


def test_long_lists_are_shortened():
    assert stack_apply.shortened(['a', 'b']) == ['a', 'b']
    assert stack_apply.shortened(list('abcdef')) == list('abcdef')  # "and 1 more" says no less than the name
    assert stack_apply.shortened(['s%d' % n for n in range(200)]) == ['s0', 's1', 's2', 's3', 's4', 'and 195 more']
    assert stack_apply.shortened(list('abcde'), 2) == ['a', 'b', 'and 3 more']


# -- fixed-name secrets and configs

def _fixed(kind, content, name='site.key'):
    section = kind.capitalize() + 's'
    bundle = {section: {'key': {'Name': name, 'Content': content}}, 'Services': {'web': {'Image': 'b'}}}
    return desired_stack('demo', bundle)[kind + 's']


def _live(kind, content, labelled=True):
    desired = _fixed(kind, content)['key']['spec']
    spec = {'Name': desired['Name'], 'Labels': dict(desired['Labels']) if labelled else {}}
    if kind == 'config':
        spec['Data'] = desired['Data']
    return [{'ID': 'x1', 'Spec': spec}]


def test_a_fixed_name_with_the_same_content_is_no_conflict():
    for kind in ('secret', 'config'):
        assert stack_apply.fixed_name_conflicts(kind, _fixed(kind, 'one'), _live(kind, 'one')) == ([], [])


def test_a_fixed_name_with_other_content_is_a_conflict_naming_the_field_and_the_fix():
    for kind, section in (('secret', 'Secrets'), ('config', 'Configs')):
        conflicts, unverifiable = stack_apply.fixed_name_conflicts(kind, _fixed(kind, 'two'), _live(kind, 'one'))
        assert unverifiable == [] and len(conflicts) == 1
        assert '%s site.key (%s.key.Name) exists with other content' % (kind, section) in conflicts[0]
        assert 'give %s.key a new Name' % section in conflicts[0]


def test_a_config_is_compared_by_its_data_even_without_the_label():
    conflicts, unverifiable = stack_apply.fixed_name_conflicts('config', _fixed('config', 'two'),
                                                               _live('config', 'one', labelled=False))
    assert len(conflicts) == 1 and unverifiable == []


def test_a_secret_without_the_digest_label_cannot_be_compared():
    assert stack_apply.fixed_name_conflicts('secret', _fixed('secret', 'two'),
                                            _live('secret', 'one', labelled=False)) == ([], ['site.key'])


def test_versioned_and_missing_objects_are_never_conflicts():
    bundle = {'Secrets': {'key': {'Content': 'one'}}, 'Services': {'web': {'Image': 'b'}}}
    versioned = desired_stack('demo', bundle)['secrets']
    live = [{'ID': 'x1', 'Spec': {'Name': versioned['key']['name'], 'Labels': {}}}]
    assert stack_apply.fixed_name_conflicts('secret', versioned, live) == ([], [])
    assert stack_apply.fixed_name_conflicts('secret', _fixed('secret', 'one'), []) == ([], [])


def test_a_registry_is_asked_once_per_distinct_image_and_credentials():
    digests = {'reg:5000/a:1': 'sha256:aa', 'reg:5000/b:1': 'sha256:bb'}
    asked = []

    def lookup(image, headers):
        asked.append((image, (headers or {}).get('X-Registry-Auth')))
        return '%s@%s' % (image, digests[image]) if image in digests else image

    resolve = stack_apply.OncePerImage(lookup)
    images = ['reg:5000/a:1', 'reg:5000/b:1'] * 100 + ['local:1'] * 3
    answers = [resolve(image, None) for image in images]
    assert answers[:2] == ['reg:5000/a:1@sha256:aa', 'reg:5000/b:1@sha256:bb'] and answers[-1] == 'local:1'
    assert asked == [('reg:5000/a:1', None), ('reg:5000/b:1', None), ('local:1', None)]
    # No headers and empty headers ask as the same nobody; other credentials ask again, once.
    assert resolve('reg:5000/a:1', {}) == 'reg:5000/a:1@sha256:aa' and len(asked) == 3
    for dummy in range(3):
        resolve('reg:5000/a:1', {'X-Registry-Auth': 'other'})
    assert asked[3:] == [('reg:5000/a:1', 'other')]
