# Copyright: crane.swarm developers
# GNU General Public License v3.0+ (see https://www.gnu.org/licenses/gpl-3.0.txt)
"""The roles' variables are declared once: meta/argument_specs.yml.

Each role's defaults/main.yml sets only declared options, to the default the spec states; each
README's variable table is the one tests/tools/role_docs.py generates from the spec; the
inventory's swarm_* variables are declared in one spec and the playbooks leave their mapping to
the role.
"""

from __future__ import annotations

import glob
import os
import re
import sys

import pytest
import yaml

from unit_paths import REPO

sys.path.insert(0, os.path.join(REPO, 'tests', 'tools'))

import role_docs

ROLES = role_docs.roles(REPO)
ROLE_IDS = [os.path.basename(role) for role in ROLES]


def load(path):
    with open(path) as handle:
        return yaml.safe_load(handle) or {}


def test_every_role_has_an_argument_spec():
    assert sorted(ROLE_IDS) == sorted(os.path.basename(path) for path in glob.glob(os.path.join(REPO, 'roles', '*')))


@pytest.mark.parametrize('role', ROLES, ids=ROLE_IDS)
def test_defaults_set_only_declared_options_to_their_declared_default(role):
    options = role_docs.load_options(role)
    defaults = load(os.path.join(role, 'defaults', 'main.yml'))
    assert sorted(set(defaults) - set(options)) == [], 'set in defaults/main.yml but not declared'
    for name, option in options.items():
        if 'default' in option:
            assert name in defaults, '%s: declared with a default that defaults/main.yml does not set' % name
        value = defaults.get(name)
        if 'default' not in option and isinstance(value, str) and '{{' in value:
            # A template is no default of the option's type (antsibull-docs refuses it): the spec's
            # description states it instead, as defaults/main.yml sets it.
            assert 'Default: C(%s)' % value in ' '.join(option['description']), name
            continue
        assert option.get('default') == value, name


@pytest.mark.parametrize('role', ROLES, ids=ROLE_IDS)
def test_readme_table_is_generated_from_the_spec(role):
    path = os.path.join(role, 'README.md')
    with open(path) as readme:
        current = readme.read()
    assert role_docs.updated_readme(current, role_docs.load_options(role), path) == current, (
        '%s differs from meta/argument_specs.yml: run python3 tests/tools/role_docs.py' % path)


def test_check_mode_reports_a_drifted_readme(tmp_path):
    role = tmp_path / 'roles' / 'demo'
    (role / 'meta').mkdir(parents=True)
    (role / 'meta' / 'argument_specs.yml').write_text(yaml.safe_dump({'argument_specs': {'main': {'options': {
        'demo_port': {'type': 'int', 'default': 80, 'description': ['The V(port) of O(demo_host).']}}}}}))
    readme = role / 'README.md'
    readme.write_text('# demo\n\n%s\nstale\n%s\n\nafter\n' % (role_docs.BEGIN, role_docs.END))
    assert role_docs.main(['--check', '--repo', str(tmp_path)]) == 1
    assert 'stale' in readme.read_text()
    assert role_docs.main(['--repo', str(tmp_path)]) == 0
    text = readme.read_text()
    assert '| `demo_port` | int | `80` | The `port` of `demo_host`. |' in text
    assert text.startswith('# demo\n\n') and text.endswith('\n\nafter\n')
    assert role_docs.main(['--check', '--repo', str(tmp_path)]) == 0


def test_a_readme_without_markers_is_an_error(tmp_path):
    with pytest.raises(role_docs.RoleDocsError, match='markers'):
        role_docs.updated_readme('# no table\n', {}, 'README.md')


def test_pipes_in_defaults_stay_inside_their_cell():
    row = role_docs.table({'x_list': {'type': 'list', 'default': "{{ a | default([]) }}", 'description': 'd'}})[-1]
    assert row == '| `x_list` | list | `{{ a \\| default([]) }}` | d |'


def test_the_inventory_variables_are_declared_in_one_spec():
    """Every swarm_* variable the roles and playbooks read is an option of exactly one role's spec."""
    declared = {}
    for role in ROLES:
        for name in role_docs.load_options(role):
            if name.startswith('swarm_'):
                declared.setdefault(name, []).append(os.path.basename(role))
    assert all(len(owners) == 1 for owners in declared.values()), declared
    used = set()
    sources = glob.glob(os.path.join(REPO, 'roles', '*', '*', '*.yml')) + glob.glob(os.path.join(REPO, 'playbooks', '*.yml'))
    for path in sources:
        with open(path) as handle:
            used.update(re.findall(r'\b(swarm_[a-z_]+)\b', handle.read()))
    # swarm_* names that are no inventory variables: groups (swarm_recover: recover.yml's survivor), registered
    # results, the swarm_info module.
    not_inventory = {'swarm_managers', 'swarm_workers', 'swarm_recover', 'swarm_facts', 'swarm_info', 'swarm_node',
                     'swarm_stack', 'swarm_stack_info', 'swarm_network'}
    assert sorted(used - not_inventory - set(declared)) == []


def test_playbooks_do_not_rename_the_inventory_variables():
    """The role maps swarm_* to its cluster_* options; a play that did it again could disagree."""
    for path in glob.glob(os.path.join(REPO, 'playbooks', '*.yml')):
        with open(path) as handle:
            text = handle.read()
        assert not re.search(r'cluster_\w+:\s*"\{\{\s*swarm_', text), path
