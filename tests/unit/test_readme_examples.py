# Copyright: crane.swarm developers
# GNU General Public License v3.0+ (see https://www.gnu.org/licenses/gpl-3.0.txt)
"""The README's install examples are the files in examples/, for the version galaxy.yml builds."""

from __future__ import annotations

import os
import re

import yaml

REPO = os.path.dirname(os.path.dirname(os.path.dirname(os.path.abspath(__file__))))


def read(*parts):
    with open(os.path.join(REPO, *parts)) as handle:
        return handle.read()


def test_the_readme_shows_examples_requirements_yml_as_it_is():
    example = read('examples', 'requirements.yml')
    blocks = re.findall(r'```yaml\n(.*?)```', read('README.md'), re.S)
    assert example in blocks


def test_the_requirements_and_install_commands_name_the_tarball_galaxy_yml_builds():
    version = yaml.safe_load(read('galaxy.yml'))['version']
    tarball = 'crane-swarm-%s.tar.gz' % version
    requirements = yaml.safe_load(read('examples', 'requirements.yml'))
    assert requirements['collections'][0] == {'name': './' + tarball, 'type': 'file'}
    assert 'ansible-galaxy collection install %s' % tarball in read('README.md')
