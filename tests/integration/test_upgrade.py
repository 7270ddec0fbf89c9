# Copyright: crane.swarm developers
# GNU General Public License v3.0+ (see https://www.gnu.org/licenses/gpl-3.0.txt)
"""crane.swarm.upgrade on real engines: a refused start, the rolling restart choreography with a
replicated service probed throughout, and the second run that changes nothing.

The sandbox's engine package cannot change version here (no other version is reachable), so the
run pins the installed version and sets upgrade_force: the choreography (drain, engine restarted,
Ready, activate, converged) is proven on every node with the engine really restarted.
upgrade_reboot (ansible.builtin.reboot) is not run: the hosts are containers, whose reboot would
end the container rather than boot it again.
"""

from __future__ import annotations

import threading
import time

import pytest

from harness import form_swarm3

HOSTS = ('node1', 'node2', 'node3')
STACK = 'upg'
WEB = STACK + '_web'


def upgrade(**extra_vars):
    return [{'ansible.builtin.import_playbook': 'crane.swarm.upgrade'}], extra_vars


def engine_pid(sandbox, host):
    return sandbox.exec(host, 'systemctl', 'show', '-p', 'MainPID', '--value', 'docker.service').stdout.strip()


def installed_version(sandbox):
    return sandbox.exec('node1', 'dpkg-query', '-W', '-f', '${Version}', 'docker.io').stdout.strip()


def nodes(sandbox):
    lines = sandbox.docker('node1', 'node', 'ls', '--format', '{{.Hostname}} {{.Status}} {{.Availability}}').stdout
    return dict((line.split()[0], tuple(line.split()[1:])) for line in lines.splitlines())


class RunningProbe:
    """Counts the running containers of a service on every host every ~0.5 s, straight from each
    engine (`docker ps`), so that it keeps counting while the only manager's engine restarts. A host
    whose engine does not answer counts 0: its containers are gone while it restarts."""

    def __init__(self, sandbox, service):
        self.sandbox, self.service = sandbox, service
        self.samples = []
        self.stop = threading.Event()
        self.thread = threading.Thread(target=self.run, daemon=True)

    def count(self):
        total = 0
        for host in HOSTS:
            result = self.sandbox.docker(host, 'ps', '-q', '--filter', 'status=running', '--filter',
                                         'label=com.docker.swarm.service.name=' + self.service, check=False)
            if result.returncode == 0:
                total += len(result.stdout.split())
        return total

    def run(self):
        while not self.stop.is_set():
            self.samples.append((time.time(), self.count()))
            self.stop.wait(0.5)

    def __enter__(self):
        self.thread.start()
        return self

    def __exit__(self, *exc):
        self.stop.set()
        self.thread.join(10)


@pytest.fixture
def swarm_with_stack(sandbox, run_playbook):
    form_swarm3(sandbox, run_playbook)
    # Tasks that stop at once on SIGTERM, so that a drain takes no stop grace period.
    command = {'Image': 'busybox:latest', 'Command': ['sh', '-c'], 'Args': ['trap "exit 0" TERM; sleep 3600 & wait']}
    definition = {'Version': '0.1', 'Services': {
        'web': dict(command, Replicas=2),
        'agent': dict(command, Mode={'Global': {}}),
    }}
    run_playbook([{'hosts': 'node1', 'gather_facts': False, 'tasks': [
        {'name': 'deploy',
         'crane.swarm.swarm_stack': {'name': STACK, 'definition': definition, 'wait_timeout': 120}}]}])
    yield
    sandbox.docker('node1', 'stack', 'rm', STACK, check=False)


def test_upgrade_refuses_an_unhealthy_swarm_then_rolls_every_node(sandbox, swarm_with_stack, run_playbook):
    version = installed_version(sandbox)
    common = dict(engine_version=version, upgrade_stacks=[STACK], upgrade_allow_control_plane_outage=True,
                  engine_apt_cache_valid_time=86400 * 365, upgrade_wait_timeout=120)

    # A node down: refused before anything is touched.
    pids = dict((host, engine_pid(sandbox, host)) for host in HOSTS)
    sandbox.stop_engine('node3')
    try:
        deadline = time.time() + 60
        while nodes(sandbox).get('node3', ('',))[0] != 'Down' and time.time() < deadline:
            time.sleep(1)
        plays, extra = upgrade(upgrade_force=True, **common)
        refused = run_playbook(plays, extra_vars=extra, expect_failure=True)
        assert 'Refusing to upgrade' in refused.output and 'node3 is down' in refused.output, refused.output[-3000:]
        assert refused.changed == 0
        assert dict((host, engine_pid(sandbox, host)) for host in ('node1', 'node2')) == \
            dict((host, pids[host]) for host in ('node1', 'node2'))
        assert set(avail for _status, avail in nodes(sandbox).values()) == {'Active'}
    finally:
        sandbox.start_engine('node3')
    deadline = time.time() + 60
    while set(nodes(sandbox).values()) != {('Ready', 'Active')} and time.time() < deadline:
        time.sleep(1)

    # One manager and no opt-in: refused, with the control plane's fate explained.
    without_opt_in = dict(common, upgrade_force=True)
    without_opt_in['upgrade_allow_control_plane_outage'] = False
    plays, extra = upgrade(**without_opt_in)
    refused = run_playbook(plays, extra_vars=extra, expect_failure=True)
    assert 'With 1 manager, the control plane is gone' in refused.output and refused.changed == 0

    # The choreography on every node, the replicated service probed throughout.
    pids = dict((host, engine_pid(sandbox, host)) for host in HOSTS)
    plays, extra = upgrade(upgrade_force=True, **common)
    with RunningProbe(sandbox, WEB) as probe:
        run = run_playbook(plays, extra_vars=extra)
    counts = [count for _when, count in probe.samples]
    assert len(counts) > 20 and min(counts) >= 1, counts
    for host in HOSTS:
        for step in ('Drain the node, so that its tasks move to other nodes', 'Restart the engine',
                     'Activate the node again'):
            assert run.result(step, host)['changed'] is True, (step, host)
        assert engine_pid(sandbox, host) != pids[host], host
    # Managers first, then the workers one at a time: each node's restart after the previous one's activation.
    order = [entry['host'] for entry in run.tasks if entry['task'] == 'Restart the engine']
    assert order == ['node1', 'node2', 'node3']
    assert set(nodes(sandbox).values()) == {('Ready', 'Active')}
    web = sandbox.docker('node1', 'service', 'ls', '--filter', 'name=' + WEB, '--format', '{{.Replicas}}').stdout
    assert web.strip() == '2/2'

    # Every node at the pinned version: nothing drained or restarted.
    pids = dict((host, engine_pid(sandbox, host)) for host in HOSTS)
    plays, extra = upgrade(**common)
    again = run_playbook(plays, extra_vars=extra)
    assert again.changed == 0, again.output[-3000:]
    assert dict((host, engine_pid(sandbox, host)) for host in HOSTS) == pids
