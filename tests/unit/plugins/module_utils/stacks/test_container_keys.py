# Copyright: crane.swarm developers
# GNU General Public License v3.0+ (see https://www.gnu.org/licenses/gpl-3.0.txt)
"""Every key of container_keys.CONTAINER_KEYS reaches the schema, the translation, the comparison and the
compose reader from its one line in the table."""

from __future__ import annotations

import pytest

from ansible_collections.crane.swarm.plugins.module_utils.stacks import container_keys
from ansible_collections.crane.swarm.plugins.module_utils.stacks.spec import (
    comparable_service_spec, container_spec, service_changes)
from ansible_collections.crane.swarm.plugins.plugin_utils.bundle.check import check_bundle
from ansible_collections.crane.swarm.plugins.plugin_utils.bundle.schema import BUNDLE_SCHEMA
from ansible_collections.crane.swarm.plugins.plugin_utils.compose.convert import compose_to_bundle

NAMES = {'Secrets': {}, 'Configs': {}, 'Networks': {}}

# kind -> (a bundle value, what ContainerSpec gets, a compose value that reads as the same bundle value)
SAMPLES = {
    container_keys.TEXT: ('busybox:1', 'busybox:1', 'busybox:1'),
    container_keys.STRING: ('/srv', '/srv', '/srv'),
    container_keys.SCALAR_TEXT: ('1000', '1000', 1000),
    container_keys.BOOLEAN: (True, True, True),
    container_keys.STRING_LIST: (['NET_ADMIN'], ['NET_ADMIN'], ['NET_ADMIN']),
    container_keys.STRING_MAP: ({'net.core.somaxconn': '1024'}, {'net.core.somaxconn': '1024'},
                                ['net.core.somaxconn=1024']),
    container_keys.WORDS: (['sh', '-c', 'echo a b'], ['sh', '-c', 'echo a b'], 'sh -c "echo a b"'),
    container_keys.DURATION: ('1m30s', 90 * 10 ** 9, '1m30s'),
}


def sample(key):
    if key.kind == container_keys.ENUM:
        return key.choices[-1], key.choices[-1], key.choices[-1]
    return SAMPLES[key.kind]


@pytest.mark.parametrize('key', container_keys.CONTAINER_KEYS, ids=lambda key: key.name)
def test_the_schema_has_the_key_with_its_description(key):
    schema = BUNDLE_SCHEMA['$defs']['Service']['properties'][key.name]
    assert schema['description'] == key.description


@pytest.mark.parametrize('key', container_keys.CONTAINER_KEYS, ids=lambda key: key.name)
def test_the_key_is_checked_and_translated_into_its_container_field(key):
    value, api_value, _compose_value = sample(key)
    service = {'Image': 'busybox:latest', key.name: value}
    assert check_bundle({'Services': {'web': service}}, 'stack') == []
    assert container_spec('stack', 'web', service, NAMES)[key.api] == api_value


@pytest.mark.parametrize('key', [key for key in container_keys.CONTAINER_KEYS if key.default is not None],
                         ids=lambda key: key.name)
def test_the_engine_default_written_or_left_out_is_no_change(key):
    written = {'TaskTemplate': {'ContainerSpec': {'Image': 'a', key.api: key.default}}}
    left_out = {'TaskTemplate': {'ContainerSpec': {'Image': 'a'}}}
    assert service_changes(written, left_out) == []
    assert comparable_service_spec(left_out)['TaskTemplate']['ContainerSpec'][key.api] == key.default


@pytest.mark.parametrize('key', [key for key in container_keys.CONTAINER_KEYS if key.compose],
                         ids=lambda key: key.compose)
def test_the_compose_key_is_read_into_the_bundle_key(key):
    value, _api_value, compose_value = sample(key)
    compose = {'image': 'busybox:latest', key.compose: compose_value}
    bundle, _notes = compose_to_bundle({'services': {'web': compose}}, 'stack')
    assert bundle['Services']['web'][key.name] == value
