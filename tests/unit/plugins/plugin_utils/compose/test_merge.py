# Copyright: crane.swarm developers
# GNU General Public License v3.0+ (see https://www.gnu.org/licenses/gpl-3.0.txt)
"""merge_compose: the cases of docker/cli's merge_test.go (at ca4e8ebd) and the rules of merge.go, on mappings."""

from __future__ import annotations

import copy

import pytest
from hypothesis import given, settings
from hypothesis import strategies as st

from ansible_collections.crane.swarm.plugins.plugin_utils.compose.errors import ComposeError
from ansible_collections.crane.swarm.plugins.plugin_utils.compose.merge import merge_compose


def merged_service(base, override):
    """Service `foo` of two files that each define it as given."""
    return merge_compose([{'services': {'foo': base}}, {'services': {'foo': override}}])['services']['foo']


LOGGING = {'driver': 'json-file', 'options': {'frequency': '2000', 'timeout': '23'}}


@pytest.mark.parametrize('base, override, expected', [
    (LOGGING, {'options': {'timeout': '360', 'pretty-print': 'on'}},
     {'driver': 'json-file', 'options': {'frequency': '2000', 'timeout': '360', 'pretty-print': 'on'}}),
    (LOGGING, {'driver': 'syslog', 'options': {'timeout': '360', 'pretty-print': 'on'}},
     {'driver': 'syslog', 'options': {'timeout': '360', 'pretty-print': 'on'}}),
    ({'options': {'frequency': '2000', 'timeout': '23'}},
     {'driver': 'json-file', 'options': {'timeout': '360', 'pretty-print': 'on'}},
     {'driver': 'json-file', 'options': {'frequency': '2000', 'timeout': '360', 'pretty-print': 'on'}}),
    ({'options': {'frequency': '2000'}}, {'options': {'timeout': '360'}},
     {'options': {'frequency': '2000', 'timeout': '360'}}),
    (LOGGING, {'driver': 'syslog'}, {'driver': 'syslog'}),
], ids=['no_override_driver', 'override_driver', 'no_base_driver', 'no_driver', 'no_override_options'])
def test_logging_merges_options_unless_the_driver_changes(base, override, expected):
    assert merged_service({'logging': base}, {'logging': override})['logging'] == expected


def test_logging_only_in_the_later_file_is_taken():
    assert merged_service({'image': 'a'}, {'logging': LOGGING})['logging'] == LOGGING


@pytest.mark.parametrize('base, override, expected', [
    (['8080:80'], None, ['8080:80']),
    (['8080:80'], ['8081:80'], ['8080:80', '8081:80']),
    (['8080:80'], ['8080:81'], ['8080:81']),
    (['8080:80', '9090:90'], [{'target': 81, 'published': 8080}], [{'target': 81, 'published': 8080}, '9090:90']),
    (['9000:90', '8000-8001:80-81'], ['8001:82'],
     [{'target': 80, 'published': 8000, 'protocol': 'tcp', 'mode': 'ingress'}, '8001:82', '9000:90']),
    (['80', '443'], ['53/udp'], ['53/udp']),  # unpublished ports share the key 0: the CLI keeps one
], ids=['no_override', 'different_published', 'same_published', 'long_over_short', 'range', 'unpublished'])
def test_ports_merge_by_published_port_sorted(base, override, expected):
    override_service = {} if override is None else {'ports': override}
    assert merged_service({'ports': base}, override_service)['ports'] == expected


@pytest.mark.parametrize('key', ['secrets', 'configs'])
def test_secrets_and_configs_merge_by_source_sorted(key):
    base = ['foo_x', {'source': 'bar_x', 'target': 'waw_x'}]
    override = [{'source': 'bar_x', 'target': 'bof_x'}, {'source': 'baz_x', 'target': 'waw_x'}]
    assert merged_service({key: base}, {key: override})[key] == [
        {'source': 'bar_x', 'target': 'bof_x'}, {'source': 'baz_x', 'target': 'waw_x'}, 'foo_x']
    assert merged_service({key: ['foo_x']}, {key: ['bar_x']})[key] == ['bar_x', 'foo_x']


def test_volumes_merge_by_target():
    base = [{'type': 'volume', 'source': 'sourceVolume', 'target': '/var/app'}, 'logs:/var/log:ro']
    override = [{'type': 'volume', 'source': '/local', 'target': '/var/app'}, '/tmp']
    assert merged_service({'volumes': base}, {'volumes': override})['volumes'] == [
        '/tmp', {'type': 'volume', 'source': '/local', 'target': '/var/app'}, 'logs:/var/log:ro']


def test_ulimits_merge_by_name_replacing_whole_values():
    base = {'nofile': {'soft': 11111, 'hard': 99999}, 'noproc': 44444, 'keep': 5}
    override = {'nofile': 55555, 'noproc': {'soft': 22222, 'hard': 33333}}
    assert merged_service({'ulimits': base}, {'ulimits': override})['ulimits'] == {
        'nofile': 55555, 'noproc': {'soft': 22222, 'hard': 33333}, 'keep': 5}


@pytest.mark.parametrize('base, override, expected', [
    (['net1', 'net2'], None, ['net1', 'net2']),
    (['net1', 'net2'], ['net1', 'net3'], {'net1': None, 'net2': None, 'net3': None}),
    ({'net1': {'aliases': ['alias1']}, 'net2': None}, {'net1': {'aliases': ['alias2', 'alias3']}, 'net3': {}},
     {'net1': {'aliases': ['alias2', 'alias3']}, 'net2': None, 'net3': {}}),
    ({'n': {'aliases': ['a'], 'ipv4_address': '10.0.0.2'}}, {'n': {'ipv6_address': '::2'}},
     {'n': {'ipv4_address': '10.0.0.2', 'ipv6_address': '::2'}}),
], ids=['no_override', 'override_simple', 'override_with_aliases', 'aliases_replaced_even_by_none'])
def test_service_networks_merge_by_name(base, override, expected):
    override_service = {} if override is None else {'networks': override}
    assert merged_service({'networks': base}, override_service)['networks'] == expected


def test_merge_test_load_multiple_configs():
    base = {'image': 'foo', 'build': {'context': '.', 'dockerfile': 'bar.Dockerfile'}, 'ports': ['8080:80', '9090:90'],
            'labels': ['foo=bar'], 'cap_add': ['NET_ADMIN']}
    override = {'image': 'baz', 'build': {'dockerfile': 'foo.Dockerfile', 'args': ['buildno=1', 'password=secret']},
                'ports': [{'target': 81, 'published': 8080}], 'labels': {'foo': 'baz'}, 'cap_add': ['SYS_ADMIN']}
    project = merge_compose([{'services': {'foo': base}}, {'services': {'foo': override, 'bar': {'image': 'bar'}}}])
    assert project['services'] == {
        'bar': {'image': 'bar'},
        'foo': {'image': 'baz', 'build': {'context': '.', 'dockerfile': 'foo.Dockerfile',
                                          'args': ['buildno=1', 'password=secret']},
                'ports': [{'target': 81, 'published': 8080}, '9090:90'], 'labels': {'foo': 'baz'},
                'cap_add': ['NET_ADMIN', 'SYS_ADMIN']}}


def test_top_level_entries_are_replaced_whole_by_name():
    base = {'services': {}, 'networks': {'hostnet': {'driver': 'overlay', 'ipam': {'driver': 'default'}},
                                         'other': {'driver': 'overlay'}},
            'volumes': {'data': {'driver': 'local'}}}
    override = {'networks': {'hostnet': {'external': {'name': 'host'}}}, 'secrets': {'s': {'file': './s'}}}
    project = merge_compose([base, override])
    assert project['networks'] == {'hostnet': {'external': {'name': 'host'}}, 'other': {'driver': 'overlay'}}
    assert project['volumes'] == {'data': {'driver': 'local'}} and project['secrets'] == {'s': {'file': './s'}}


def test_command_is_replaced_not_appended():
    assert merged_service({'command': 'foo bar'}, {'command': 'foo baz'})['command'] == 'foo baz'
    assert merged_service({'command': ['sh', '-c', 'a']}, {'command': ['b']})['command'] == ['b']  # not appended
    assert merged_service({'entrypoint': ['a']}, {'entrypoint': []})['entrypoint'] == ['a']


@pytest.mark.parametrize('base, override, expected', [
    ({'deploy': {'replicas': 3}}, {'deploy': {'replicas': 0}}, {'deploy': {'replicas': 0}}),
    ({'deploy': {'replicas': 3}}, {'deploy': {}}, {'deploy': {'replicas': 3}}),
    ({'read_only': True, 'user': 'a'}, {'read_only': False, 'user': ''}, {'read_only': True, 'user': 'a'}),
    ({'image': 'a', 'init': True}, {'image': 'b', 'init': None}, {'image': 'b', 'init': True}),
], ids=['replicas_zero', 'replicas_not_nil', 'empty_values_keep', 'null_keeps'])
def test_scalars_are_replaced_unless_empty_but_replicas_even_by_zero(base, override, expected):
    assert merged_service(base, override) == expected


def test_mappings_merge_deeply_and_other_lists_append():
    base = {'environment': ['A=1', 'B'], 'dns': '1.1.1.1', 'healthcheck': {'test': ['CMD', 'a'], 'retries': 3},
            'deploy': {'labels': ['x=1'], 'placement': {'constraints': ['node.role == worker']},
                       'resources': {'limits': {'cpus': '1', 'memory': '1G'}}}}
    override = {'environment': {'A': '2', 'C': '3'}, 'dns': ['8.8.8.8'], 'healthcheck': {'test': ['CMD', 'b']},
                'deploy': {'labels': {'y': '2'}, 'placement': {'constraints': ['node.labels.a == b']},
                           'resources': {'limits': {'memory': '2G'}}}}
    assert merged_service(base, override) == {
        'environment': {'A': '2', 'B': None, 'C': '3'}, 'dns': ['1.1.1.1', '8.8.8.8'],
        'healthcheck': {'test': ['CMD', 'a', 'CMD', 'b'], 'retries': 3},  # the CLI appends the test too
        'deploy': {'labels': {'x': '1', 'y': '2'},
                   'placement': {'constraints': ['node.role == worker', 'node.labels.a == b']},
                   'resources': {'limits': {'cpus': '1', 'memory': '2G'}}}}


def test_a_healthcheck_test_string_is_appended_as_cmd_shell():
    merged = merged_service({'healthcheck': {'test': 'curl -f a'}}, {'healthcheck': {'test': ['CMD', 'true']}})
    assert merged['healthcheck']['test'] == ['CMD-SHELL', 'curl -f a', 'CMD', 'true']


def test_three_files_fold_in_order_and_inputs_are_not_changed():
    files = [{'services': {'web': {'image': 'a', 'ports': ['80:80']}}},
             {'services': {'web': {'image': 'b'}, 'db': {'image': 'pg'}}},
             {'services': {'web': {'ports': ['80:8080']}}}]
    before = copy.deepcopy(files)
    project = merge_compose(files)
    assert project['services'] == {'web': {'image': 'b', 'ports': ['80:8080']}, 'db': {'image': 'pg'}}
    assert files == before


def test_a_bad_short_port_in_a_merge_names_its_path():
    with pytest.raises(ComposeError) as raised:
        merged_service({'ports': ['80:80']}, {'ports': ['http']})
    assert raised.value.path == 'services.foo.ports.0'


def test_no_file_is_an_error():
    with pytest.raises(ComposeError):
        merge_compose([])


SCALARS = st.one_of(st.none(), st.booleans(), st.integers(-5, 70000), st.floats(allow_nan=False),
                    st.sampled_from(['', '80', '8080:80', '8000-8001:80-81', '1-2:3', 'a:b:c:d', 'x=1', '/data:/d:ro']))
# A small vocabulary, so that two files often write the same keys and the special rules meet.
KEYS = st.sampled_from(['ports', 'volumes', 'secrets', 'networks', 'logging', 'ulimits', 'command', 'environment',
                        'deploy', 'replicas', 'dns', 'driver', 'options', 'aliases', 'published', 'source'])
TREES = st.recursive(
    SCALARS, lambda children: st.lists(children, max_size=4) | st.dictionaries(KEYS, children, max_size=4),
    max_leaves=25)
NAMES = st.sampled_from(['n1', 'n2'])
SHAPED = {  # each special rule's input in the shapes compose gives it, and in others
    'networks': st.lists(NAMES, max_size=2) | st.dictionaries(NAMES, st.none() | st.fixed_dictionaries(
        {}, optional={'aliases': st.lists(NAMES, max_size=2), 'ipv4_address': SCALARS}), min_size=1),
    'ports': st.lists(SCALARS | st.fixed_dictionaries({'target': SCALARS}, optional={'published': SCALARS}),
                      max_size=3) | TREES,
    'volumes': st.lists(SCALARS | st.fixed_dictionaries({}, optional={'target': SCALARS}), max_size=3),
    'logging': st.fixed_dictionaries({}, optional={'driver': st.sampled_from(['', 'syslog', 'json-file']),
                                                   'options': st.dictionaries(NAMES, SCALARS)}) | TREES,
    'ulimits': st.dictionaries(NAMES, SCALARS | st.fixed_dictionaries({'soft': SCALARS})) | TREES,
    'deploy': st.fixed_dictionaries({}, optional={'replicas': SCALARS, 'labels': st.lists(SCALARS) | TREES}),
    'environment': st.lists(SCALARS, max_size=3) | st.dictionaries(NAMES, SCALARS),
}
# Mostly every special key in both files, so that the rules meet; sometimes anything.
SERVICE = st.one_of(st.fixed_dictionaries(SHAPED), st.fixed_dictionaries(SHAPED), st.fixed_dictionaries({}, optional=SHAPED),
                    st.dictionaries(KEYS, TREES, max_size=6))
STRUCTURED = st.fixed_dictionaries({'services': st.fixed_dictionaries({'web': SERVICE})}, optional={'networks': TREES})
FILES = st.one_of(STRUCTURED, STRUCTURED, STRUCTURED,
                  st.dictionaries(st.sampled_from(['services', 'networks', 'version']), TREES, max_size=3))


@settings(max_examples=1000, deadline=None)
@given(st.lists(FILES, min_size=1, max_size=3))
def test_any_mappings_merge_or_give_a_compose_error(files):
    before = copy.deepcopy(files)
    try:
        project = merge_compose(files)
    except ComposeError as error:
        assert error.path and error.path.startswith('services.')
    else:
        assert isinstance(project, dict)
    assert files == before
