# Copyright: crane.swarm developers
# GNU General Public License v3.0+ (see https://www.gnu.org/licenses/gpl-3.0.txt)
"""crane.swarm.compose_to_bundle: text, mappings and lists of them; errors as AnsibleFilterError."""

from __future__ import annotations

import pytest
from ansible.errors import AnsibleFilterError

from ansible_collections.crane.swarm.plugins.filter.compose_to_bundle import FilterModule, compose_to_bundle
from ansible_collections.crane.swarm.plugins.plugin_utils.bundle.check import check_bundle

BASE = 'services:\n  web:\n    image: "shop:${TAG:-1}"\n    environment: [MODE]\n'
PROD = {'services': {'web': {'deploy': {'replicas': 3}}}}


def test_the_filter_is_registered():
    assert FilterModule().filters() == {'compose_to_bundle': compose_to_bundle}


def test_a_list_of_files_merges_in_order_with_the_variables():
    bundle = compose_to_bundle([BASE, PROD], stack='shop', env={'TAG': 2, 'MODE': 'prod'})
    web = bundle['Services']['web']
    assert web['Image'] == 'shop:2' and web['Env'] == ['MODE=prod']
    assert web['Mode'] == {'Replicated': {'Replicas': 3}} and web['Networks'] == ['default']
    assert check_bundle(bundle, 'shop') == []


def test_one_text_without_env_takes_the_defaults():
    assert compose_to_bundle(BASE)['Services']['web']['Image'] == 'shop:1'


@pytest.mark.parametrize('compose, env, message', [
    ('services:\n  web:\n    image: a\n    deploy: {replicas: x}\n', None, 'services.web.deploy.replicas'),
    ('services:\n  web:\n    image: a\n    env_file: .env\n', None, 'services.web.env_file: a filter reads no files'),
    ([], None, 'no compose file given'),
    ([3], None, 'compose file 1 must be YAML text or a mapping'),
    (BASE, ['TAG'], 'env must be a mapping'),
])
def test_problems_are_filter_errors_naming_the_compose_path(compose, env, message):
    with pytest.raises(AnsibleFilterError, match='compose_to_bundle: ') as raised:
        compose_to_bundle(compose, env=env)
    assert message in str(raised.value)
