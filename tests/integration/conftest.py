# Copyright: crane.swarm developers
# GNU General Public License v3.0+ (see https://www.gnu.org/licenses/gpl-3.0.txt)
"""Fixtures of the integration tests: real playbooks against the multi-host sandbox.

  sandbox        the hosts of tests/sandbox/sandbox.py (brought up here when `make test` did not)
  run_playbook   runs ansible-playbook on plays given as Python data or YAML text
  swarm3         a fresh swarm: node1 manager (leader), node2 and node3 workers
  shared_swarm3  the same, formed once per test module, for tests that leave membership alone
  stack_swarm    shared_swarm3 for a stack test: the stacks it deployed are removed after it
  registries     the sandbox's two registries (plain HTTP; TLS + htpasswd), started once per session
"""

from __future__ import annotations

import os

import pytest

from harness import PlaybookRunner, Registries, SandboxHandle, form_swarm3, sandbox_tool


@pytest.fixture(scope='session')
def sandbox():
    tool = sandbox_tool.Sandbox(os.environ.get('CRANE_SANDBOX', 'crane'))
    started_here = not (sandbox_tool.outer_engine_answers() and tool.is_up() and os.path.exists(tool.inventory_path))
    if started_here:
        tool.up()
    handle = SandboxHandle(tool)
    yield handle
    handle.reset_swarm()
    if started_here:
        tool.down()


@pytest.fixture
def run_playbook(sandbox, tmp_path):
    """Run plays (Python data or YAML text) against the sandbox; return a PlaybookRun."""
    return PlaybookRunner(sandbox, str(tmp_path))


@pytest.fixture
def swarm3(sandbox, run_playbook):
    """A fresh swarm for a test that changes membership: node1 manager (leader), node2 and node3 workers."""
    return form_swarm3(sandbox, run_playbook)


@pytest.fixture(scope='module')
def shared_swarm3(sandbox, tmp_path_factory):
    """One swarm for all tests of a module that leave membership alone (stacks, networks)."""
    return form_swarm3(sandbox, PlaybookRunner(sandbox, str(tmp_path_factory.mktemp('shared-swarm'))))


@pytest.fixture
def stack_swarm(sandbox, shared_swarm3):
    """shared_swarm3 for a test that deploys stacks; every stack on it is removed after the test."""
    yield shared_swarm3
    for name in sandbox.docker('node1', 'stack', 'ls', '--format', '{{.Name}}', check=False).stdout.split():
        sandbox.docker('node1', 'stack', 'rm', name, check=False)


@pytest.fixture(scope='session')
def registries(sandbox, tmp_path_factory):
    """Both registries on the sandbox's gateway, its engines set up to use them; stopped at the end."""
    started = Registries(sandbox, str(tmp_path_factory.mktemp('registries')))
    yield started
    started.stop()
