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

REQUIRED = [
    'LICENSE',
    'README.md',
    'CHANGELOG.rst',
    'changelogs/changelog.yaml',
    'meta/runtime.yml',
    'MANIFEST.json',
    'FILES.json',
    'schemas/crane-bundle.schema.json',
    'examples/quickstart/playbook.yml',
    'plugins/modules/swarm.py',
    'plugins/modules/swarm_stack.py',
    'plugins/action/swarm_stack.py',
    'plugins/inventory/swarm_nodes.py',
    'roles/cluster/tasks/main.yml',
    'playbooks/site.yml',
    'tests/sanity/ignore-2.19.txt',
]
FORBIDDEN_TOP = [
    'bench',
    '.ci',
    'build',
    '.venv',
    'extensions',
    'Makefile',
    'pyproject.toml',
    'pytest.ini',
    'requirements-test.txt',
    '.coverage',
    '.hypothesis',
    '.pytest_cache',
    '.ruff_cache',
    '.git',
    '.ansible',
    '.ansible-lint',
    '.yamllint',
    '.gitignore',
]
FORBIDDEN_UNDER_TESTS = ['unit', 'integration', 'matrix', 'sandbox', 'tools', 'output', 'sanity.sh']


# Workshop leftovers a build must leave out, made for the test where missing and removed after:
# coverage data, benchmark output, molecule's state (ansible-compat keeps it in the project's .ansible/),
# ansible-test output, and byte code beside a module.
LEFTOVERS = [
    '.coverage',
    'bench/out/result.json',
    '.ansible/tmp/molecule.test.default/state.yml',
    'tests/output/.build-contents-test',
    'plugins/modules/__pycache__/build_contents_test.cpython-311.pyc',
    'plugins/modules/build_contents_test.pyc',
]


@pytest.fixture(scope='module')
def members(tmp_path_factory):
    made_files, made_dirs = [], []
    for relative in LEFTOVERS:
        path = os.path.join(REPO, relative)
        if os.path.exists(path):
            continue
        missing, parent = [], os.path.dirname(path)
        while not os.path.isdir(parent):
            missing.append(parent)
            parent = os.path.dirname(parent)
        for directory in reversed(missing):
            os.mkdir(directory)
            made_dirs.append(directory)
        open(path, 'w').close()
        made_files.append(path)
    try:
        out = tmp_path_factory.mktemp('galaxy')
        subprocess.run(
            [GALAXY, 'collection', 'build', '--output-path', str(out), REPO], check=True, stdout=subprocess.DEVNULL
        )
        tarball = glob.glob(str(out / 'crane-swarm-*.tar.gz'))[0]
        with tarfile.open(tarball) as archive:
            return set(member.name.rstrip('/') for member in archive.getmembers())
    finally:
        for path in made_files:
            os.unlink(path)
        for directory in reversed(made_dirs):
            if not os.listdir(directory):
                os.rmdir(directory)


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
