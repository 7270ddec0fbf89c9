# Copyright: crane.swarm developers
# GNU General Public License v3.0+ (see https://www.gnu.org/licenses/gpl-3.0.txt)
"""The built tarball holds the collection and its docs, and none of the workshop."""

from __future__ import annotations

import glob
import os
import subprocess
import sys
import tarfile

import pytest
import yaml

REPO = os.path.dirname(os.path.dirname(os.path.dirname(os.path.abspath(__file__))))
GALAXY = os.path.join(os.path.dirname(sys.executable), 'ansible-galaxy')

REQUIRED = ['LICENSE', 'README.md', 'CHANGELOG.rst', 'changelogs/changelog.yaml', 'meta/runtime.yml',
            'MANIFEST.json', 'FILES.json', 'schemas/crane-bundle.schema.json', 'examples/quickstart/playbook.yml',
            'plugins/modules/swarm.py', 'plugins/modules/swarm_stack.py', 'plugins/action/swarm_stack.py',
            'plugins/inventory/swarm_nodes.py', 'roles/cluster/tasks/main.yml', 'playbooks/site.yml',
            'tests/sanity/ignore-2.19.txt']
FORBIDDEN_TOP = ['bench', '.ci', 'build', '.venv', 'extensions', 'Makefile', 'pyproject.toml', 'pytest.ini',
                 'requirements-test.txt', '.coverage', '.hypothesis', '.pytest_cache', '.ruff_cache', '.git']
FORBIDDEN_UNDER_TESTS = ['unit', 'integration', 'matrix', 'sandbox', 'tools', 'output', 'sanity.sh']


@pytest.fixture(scope='module')
def members(tmp_path_factory):
    # Workshop leftovers that a build must leave out, made for the test if missing.
    leftovers = [os.path.join(REPO, '.coverage'), os.path.join(REPO, 'bench', 'out', 'result.json')]
    made = [path for path in leftovers if not os.path.exists(path)]
    for path in made:
        os.makedirs(os.path.dirname(path), exist_ok=True)
        open(path, 'w').close()
    try:
        out = tmp_path_factory.mktemp('galaxy')
        subprocess.run([GALAXY, 'collection', 'build', '--output-path', str(out), REPO], check=True,
                       stdout=subprocess.DEVNULL)
        tarball = glob.glob(str(out / 'crane-swarm-*.tar.gz'))[0]
        with tarfile.open(tarball) as archive:
            return set(member.name.rstrip('/') for member in archive.getmembers())
    finally:
        for path in made:
            os.unlink(path)
        if os.path.isdir(os.path.join(REPO, 'bench', 'out')) and not os.listdir(os.path.join(REPO, 'bench', 'out')):
            os.rmdir(os.path.join(REPO, 'bench', 'out'))


def test_the_tarball_holds_the_collection_and_its_docs(members):
    assert [path for path in REQUIRED if path not in members] == []


def test_the_tarball_holds_none_of_the_workshop(members):
    tops = set(name.split('/')[0] for name in members)
    assert sorted(tops & set(FORBIDDEN_TOP)) == []
    under_tests = set(name.split('/')[1] for name in members if name.startswith('tests/') and name.count('/') >= 1)
    assert sorted(under_tests & set(FORBIDDEN_UNDER_TESTS)) == []
    assert [name for name in members if name.endswith('.pyc') or '__pycache__' in name] == []
    assert not [name for name in members if name.startswith('changelogs/fragments')]


def test_galaxy_metadata_has_no_placeholder():
    with open(os.path.join(REPO, 'galaxy.yml')) as handle:
        galaxy = yaml.safe_load(handle)
    text = repr(galaxy)
    assert 'example.invalid' not in text and 'TODO' not in text
    assert galaxy['license'] == ['GPL-3.0-or-later'] and os.path.isfile(os.path.join(REPO, 'LICENSE'))
