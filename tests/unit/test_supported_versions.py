# Copyright: crane.swarm developers
# GNU General Public License v3.0+ (see https://www.gnu.org/licenses/gpl-3.0.txt)
"""One declared range of ansible-core and of managed-host Python, said the same everywhere it is said.

tests/matrix/run_matrix.py runs the lowest and the newest of that range for real (`make matrix`).
"""

from __future__ import annotations

import glob
import os
import re

import yaml

REPO = os.path.dirname(os.path.dirname(os.path.dirname(os.path.abspath(__file__))))


def read(*parts):
    with open(os.path.join(REPO, *parts)) as handle:
        return handle.read()


def declared_floor():
    return re.search(r'^requires_ansible:\s*">=([0-9.]+)"', read('meta', 'runtime.yml'), re.M).group(1)


def newest_tested():
    return re.search(r'^ansible-core==([0-9.]+)', read('requirements-test.txt'), re.M).group(1)


def oldest_managed_python():
    return re.search(r"^OLDEST_MANAGED_PYTHON = '([0-9.]+)'", read('tests', 'matrix', 'run_matrix.py'), re.M).group(1)


def test_every_role_declares_the_collections_floor():
    floors = dict((path, yaml.safe_load(read(path))['galaxy_info']['min_ansible_version'])
                  for path in sorted(glob.glob(os.path.join(REPO, 'roles', '*', 'meta', 'main.yml'))))
    assert floors and set(floors.values()) == {declared_floor()}, floors


def test_the_readme_states_the_tested_range():
    readme = read('README.md')
    assert 'ansible-core %s to %s' % (declared_floor(), newest_tested()) in readme
    assert 'Python %s' % oldest_managed_python() in readme


def test_the_module_docs_state_the_managed_host_python_floor():
    assert '- Python %s or newer on the host that runs the module.' % oldest_managed_python() in read(
        'plugins', 'doc_fragments', 'engine.py')


def test_the_matrix_hosts_run_that_python():
    # Debian 11 (bullseye) ships Python 3.9: the matrix sandbox's flavour must stay on it.
    sandbox = read('tests', 'sandbox', 'sandbox.py')
    assert "'engine-bullseye': 'bullseye'" in sandbox and oldest_managed_python() == '3.9'
    assert "SANDBOX_FLAVOUR = 'engine-bullseye'" in read('tests', 'matrix', 'run_matrix.py')
