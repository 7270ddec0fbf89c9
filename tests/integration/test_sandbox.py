# Copyright: crane.swarm developers
# GNU General Public License v3.0+ (see https://www.gnu.org/licenses/gpl-3.0.txt)
"""The sandbox itself: up is idempotent and repairs a crashed run; down leaves nothing behind."""

from __future__ import annotations

import os
import subprocess

import pytest

from harness import sandbox_tool


def leftovers(tool):
    """Everything of a sandbox that can outlive it: containers, volumes, network, firewall rule, files."""
    found = []
    found += tool.existing_containers()
    volumes = sandbox_tool.docker_out('volume', 'ls', '-q', '--filter', 'name=crane-%s-' % tool.name)
    found += [line for line in volumes.splitlines() if line]
    if sandbox_tool.docker('network', 'inspect', tool.network, check=False).returncode == 0:
        found.append('network ' + tool.network)
    rules = subprocess.run(['iptables', '-S', 'FORWARD'], stdout=subprocess.PIPE, check=True).stdout.decode()
    found += [rule for rule in rules.splitlines() if 'crane-sandbox-%s ' % tool.name in rule + ' ']
    if os.path.exists(tool.output):
        found.append(tool.output)
    return found


@pytest.fixture
def throwaway(sandbox):  # the session sandbox keeps the outer engine running meanwhile
    tool = sandbox_tool.Sandbox('lifecycle', nodes=1)
    yield tool
    tool.down(keep_outer_engine=True)


def test_up_is_idempotent_repairs_and_down_leaves_nothing(throwaway):
    throwaway.up()
    first_id = sandbox_tool.docker_out('inspect', '--format', '{{.Id}}', throwaway.container('node1'))
    throwaway.up()  # already up: kept as it is
    assert sandbox_tool.docker_out('inspect', '--format', '{{.Id}}', throwaway.container('node1')) == first_id

    # A crashed run: the host container is gone but its volume, network and rule remain.
    sandbox_tool.docker('rm', '--force', throwaway.container('node1'))
    throwaway.up()
    assert throwaway.is_up()
    assert throwaway.exec('node1', 'docker', 'image', 'inspect', 'busybox:latest', check=False).returncode == 0
    assert throwaway.exec('node1', 'hostname').stdout.decode().strip() == 'node1'

    throwaway.down(keep_outer_engine=True)
    assert leftovers(throwaway) == []
