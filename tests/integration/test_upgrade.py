# Copyright: crane.swarm developers
# GNU General Public License v3.0+ (see https://www.gnu.org/licenses/gpl-3.0.txt)
"""crane.swarm.upgrade on real engines, one swarm (a replicated and a global service) for both tests:

1. one manager (node1): refused without upgrade_allow_control_plane_outage; with it, the rolling
   restart of the manager (which runs its own swarm changes) and then of a worker (node2);
2. node2 and node3 promoted, three managers: refused while one manager's engine is stopped, before
   any node is touched; then the quorum walk, one manager at a time and the Raft leader last, with
   the managers' node lists, the replicated service and the engines' journals watched; then the
   second run that changes nothing.

The sandbox's engine package cannot change version here (no other version is reachable), so the
runs pin the installed version and set upgrade_force: the choreography (drain, engine restarted,
Ready, activate, converged) is proven with the engines really restarted.
upgrade_reboot (ansible.builtin.reboot) is not run: the hosts are containers, whose reboot would
end the container rather than boot it again.
"""

from __future__ import annotations

import contextlib
import json
import threading
import time

import pytest

from harness import PlaybookRunner, form_swarm3, regrouped_inventory, wait_for

HOSTS = ('node1', 'node2', 'node3')
STACK = 'upg'
WEB = STACK + '_web'
STEPS = ('Drain the node, so that its tasks move to other nodes', 'Activate the node again')
# The engine restarts in the upgrade's own step, or, when the engine role changed daemon.json (here:
# the insecure registry the sandbox's registries added), in the role's handler while the node is drained.
RESTARTS = ('Restart the engine', 'Restart docker')


def restart_order(run):
    """The hosts in the order their engine was restarted by the upgrade (one entry per restart)."""
    return [entry['host'] for entry in run.tasks
            if entry['task'] in RESTARTS and (entry.get('result') or {}).get('changed')]


def upgrade(**extra_vars):
    return [{'ansible.builtin.import_playbook': 'crane.swarm.upgrade'}], extra_vars


def engine_pids(sandbox, hosts=HOSTS):
    return dict((host, sandbox.exec(host, 'systemctl', 'show', '-p', 'MainPID', '--value',
                                    'docker.service').stdout.strip()) for host in hosts)


def installed_version(sandbox):
    return sandbox.exec('node1', 'dpkg-query', '-W', '-f', '${Version}', 'docker.io').stdout.strip()


def nodes(sandbox, viewer='node1'):
    """{hostname: (status, availability[, manager status])} as `viewer` lists them."""
    lines = sandbox.docker(viewer, 'node', 'ls', '--format',
                           '{{.Hostname}} {{.Status}} {{.Availability}} {{.ManagerStatus}}').stdout
    return dict((line.split()[0], tuple(line.split()[1:])) for line in lines.splitlines())


def all_managers_back(sandbox):
    table = nodes(sandbox)
    return (sorted(table) == list(HOSTS) and all(row[:2] == ('Ready', 'Active') for row in table.values())
            and sorted(row[2:] for row in table.values()) == [('Leader',), ('Reachable',), ('Reachable',)])


def engine_journal(sandbox, host, since):
    """What docker.service's journal on `host` says since `since` (wall clock, as the hosts share this
    machine's): {'downtimes': [(stopping, started)], 'elected': [times this engine became Raft leader]}."""
    lines = sandbox.exec(host, 'journalctl', '--no-pager', '-o', 'short-unix', '-u', 'docker.service',
                         '--since', '@%d' % int(since)).stdout.splitlines()
    journal, stopping = {'downtimes': [], 'elected': []}, None
    for line in lines:
        when = float(line.split()[0]) if line[:1].isdigit() else None
        if 'systemd[1]: Stopping docker.service' in line:
            stopping = when
        elif 'systemd[1]: Started docker.service' in line and stopping is not None:
            journal['downtimes'].append((stopping, when))
            stopping = None
        elif ' became leader at term ' in line:
            journal['elected'].append(when)
    return journal


class Probe:
    """Calls sample() every `interval` seconds in a thread while the `with` block runs; samples: [(time, sample)]."""

    interval = 0.5

    def __init__(self):
        self.samples = []
        self.stop = threading.Event()
        self.thread = threading.Thread(target=self.run, daemon=True)

    def run(self):
        while not self.stop.is_set():
            self.samples.append((time.time(), self.sample()))
            self.stop.wait(self.interval)

    def __enter__(self):
        self.thread.start()
        return self

    def __exit__(self, *exc):
        self.stop.set()
        self.thread.join(10)


class RunningProbe(Probe):
    """Counts the running containers of a service on every host, straight from each engine (`docker ps`),
    so that it keeps counting while the only manager's engine restarts. A host whose engine does not
    answer within 3 s counts 0: its containers are gone while it restarts."""

    def __init__(self, sandbox, service):
        super().__init__()
        self.sandbox, self.service = sandbox, service

    def sample(self):
        total = 0
        for host in HOSTS:
            result = self.sandbox.exec(host, 'timeout', '3', 'docker', 'ps', '-q', '--filter', 'status=running',
                                       '--filter', 'label=com.docker.swarm.service.name=' + self.service, check=False)
            if result.returncode == 0:
                total += len(result.stdout.split())
        return total


class NodeListProbe(Probe):
    """One manager's `docker node ls`, about once a second: {hostname: (availability, manager status)},
    that manager's picture of all the nodes, or its error instead (no leader; the engine restarting).
    Each call is bounded by 3 s: while an engine restarts, its socket holds calls until it is back."""

    interval = 1.0

    def __init__(self, sandbox, viewer):
        super().__init__()
        self.sandbox, self.viewer = sandbox, viewer

    def sample(self):
        result = self.sandbox.exec(self.viewer, 'timeout', '3', 'docker', 'node', 'ls', '--format',
                                   '{{.Hostname}} {{.Availability}} {{.ManagerStatus}}', check=False)
        if result.returncode != 0:
            return (result.stderr.strip() or 'no answer within 3 s (rc %d)' % result.returncode)[:120]
        return dict((line.split()[0], tuple(line.split()[1:])) for line in result.stdout.splitlines())


def managers_seen(probes, managers):
    """The managers' node lists merged: per answer, how many managers were Reachable (the leader
    included) and which were drained; the answers that named no leader, and the errors."""
    reachable, drained, without_leader, errors = [], [], 0, set()
    for _when, view in sorted((sample for probe in probes for sample in probe.samples), key=lambda s: s[0]):
        if not isinstance(view, dict):
            errors.add(view)
            continue
        status = dict((host, view.get(host, ('?',))) for host in managers)
        reachable.append(sum(1 for row in status.values() if row[1:] in (('Leader',), ('Reachable',))))
        drained.append(tuple(host for host, row in sorted(status.items()) if row[0] == 'Drain'))
        without_leader += not any(row[1:] == ('Leader',) for row in status.values())
    return dict(answers=len(reachable), reachable=reachable, drained=drained, answers_without_leader=without_leader,
                errors=sorted(errors)[:4])


@pytest.fixture(scope='module')
def swarm_with_stack(sandbox, tmp_path_factory):
    """One swarm for both tests: node1 manager, node2 and node3 workers, the stack `upg` deployed.
    Yields the extra vars every run takes."""
    run_playbook = PlaybookRunner(sandbox, str(tmp_path_factory.mktemp('upgrade-swarm')))
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
    yield dict(engine_version=installed_version(sandbox), upgrade_stacks=[STACK], upgrade_force=True,
               engine_apt_cache_valid_time=86400 * 365, upgrade_wait_timeout=120)
    sandbox.docker('node1', 'stack', 'rm', STACK, check=False)


def test_one_manager_refused_without_opt_in_then_rolls_the_manager_and_a_worker(
        sandbox, swarm_with_stack, tmp_path):
    # node3 stays out of the inventory's groups (the three-manager walk below restarts every engine).
    run_playbook = PlaybookRunner(sandbox, str(tmp_path), inventory=regrouped_inventory(
        sandbox, tmp_path / 'inventory.json', managers=['node1'], workers=['node2']))
    # One manager and no opt-in: refused, with the control plane's fate explained.
    pids = engine_pids(sandbox)
    plays, extra = upgrade(**swarm_with_stack)
    refused = run_playbook(plays, extra_vars=extra, expect_failure=True)
    assert 'With 1 manager, the control plane is gone' in refused.output and refused.changed == 0
    assert engine_pids(sandbox) == pids

    # The choreography on the manager, then on the worker, the replicated service probed throughout.
    plays, extra = upgrade(upgrade_allow_control_plane_outage=True, **swarm_with_stack)
    with RunningProbe(sandbox, WEB) as probe:
        run = run_playbook(plays, extra_vars=extra)
    counts = [count for _when, count in probe.samples]
    assert len(counts) > 20 and min(counts) >= 1, counts
    after = engine_pids(sandbox)
    for host in ('node1', 'node2'):
        for step in STEPS:
            assert run.result(step, host)['changed'] is True, (step, host)
        assert after[host] != pids[host], host
    assert after['node3'] == pids['node3']
    # The manager first, then the worker: its restart after the manager's activation.
    order = restart_order(run)
    assert order == ['node1', 'node2'], order
    assert set(nodes(sandbox).values()) == {('Ready', 'Active'), ('Ready', 'Active', 'Leader')}
    web = sandbox.docker('node1', 'service', 'ls', '--filter', 'name=' + WEB, '--format', '{{.Replicas}}').stdout
    assert web.strip() == '2/2'


def test_three_managers_refused_with_one_down_then_walked_one_at_a_time(sandbox, swarm_with_stack, tmp_path):
    run_playbook = PlaybookRunner(sandbox, str(tmp_path), inventory=regrouped_inventory(
        sandbox, tmp_path / 'inventory.json', managers=HOSTS))
    promote = {'name': 'promote', 'crane.swarm.swarm_node': {'node': '{{ item }}', 'role': 'manager'},
               'loop': ['node2', 'node3']}
    run_playbook([{'hosts': 'node1', 'gather_facts': False, 'tasks': [promote]}])
    wait_for('three managers, every node Ready and Active', lambda: all_managers_back(sandbox))

    # One manager's engine stopped (the node Down, the manager Unreachable): refused before any node is touched.
    pids = engine_pids(sandbox)
    sandbox.stop_engine('node3')
    try:
        wait_for('node3 Down and Unreachable as node1 sees it',
                 lambda: nodes(sandbox).get('node3') == ('Down', 'Active', 'Unreachable'), timeout=90)
        plays, extra = upgrade(**swarm_with_stack)
        refused = run_playbook(plays, extra_vars=extra, expect_failure=True)
        message = refused.result('Check that every node is Ready and every manager Reachable', 'node1')['msg']
        assert message.startswith('Refusing to upgrade') and \
            'Nodes not Ready: node3 is down; managers not Reachable: node3. ' in message, message
        assert refused.changed == 0
        assert engine_pids(sandbox, ('node1', 'node2')) == dict((host, pids[host]) for host in ('node1', 'node2'))
        assert set(row[1] for row in nodes(sandbox).values()) == {'Active'}
    finally:
        sandbox.start_engine('node3')
    wait_for('node3 back, Ready and Reachable', lambda: all_managers_back(sandbox), timeout=90)

    # The walk, with the managers' node lists, the replicated service and the journals watched.
    pids = engine_pids(sandbox)
    leader = next(host for host, row in nodes(sandbox).items() if row[2:] == ('Leader',))
    started = time.time()
    plays, extra = upgrade(**swarm_with_stack)
    with contextlib.ExitStack() as probes:
        running = probes.enter_context(RunningProbe(sandbox, WEB))
        views = [probes.enter_context(NodeListProbe(sandbox, host)) for host in HOSTS]
        run = run_playbook(plays, extra_vars=extra)
    (tmp_path / 'probes.json').write_text(json.dumps(dict(
        running=running.samples, node_lists=dict((probe.viewer, probe.samples) for probe in views))))
    seen = managers_seen(views, HOSTS)
    journals = dict((host, engine_journal(sandbox, host, started)) for host in HOSTS)
    elected = sorted((when, host) for host, journal in journals.items() for when in journal['elected'])
    stopped = journals[leader]['downtimes'][0][0] if journals[leader]['downtimes'] else started
    print('\nthree managers walked, the leader %s last: %d node lists (%d naming no leader, errors %s), '
          'fewest Reachable %d; %s; leaders elected: %s' % (
              leader, seen['answers'], seen['answers_without_leader'], seen['errors'], min(seen['reachable'] or [0]),
              ', '.join('%s down %.1f s from +%.1f s' % (host, journal['downtimes'][0][1] - journal['downtimes'][0][0],
                                                         journal['downtimes'][0][0] - started)
                        for host, journal in sorted(journals.items()) if journal['downtimes']),
              ', '.join('%s at +%.1f s (%.1f s after the leader stopped)' % (host, when - started, when - stopped)
                        for when, host in elected) or 'none'))

    after = engine_pids(sandbox)
    for host in HOSTS:
        for step in STEPS:
            assert run.result(step, host)['changed'] is True, (step, host)
        assert after[host] != pids[host], host
    # One manager at a time, the leader last: each engine stopped once, the next one only after the
    # previous one had started again.
    order = restart_order(run)
    assert order == [host for host in HOSTS if host != leader] + [leader], order
    downtimes = [journals[host]['downtimes'] for host in order]
    assert all(len(times) == 1 for times in downtimes), journals
    assert all(downtimes[index][0][0] > downtimes[index - 1][0][1] for index in (1, 2)), journals
    # As the managers listed them: never two managers drained at once (each one drained in its turn),
    # never fewer than 2 of 3 Reachable. The election after the leader's stop (no leader meanwhile)
    # is printed above, measured rather than asserted.
    assert seen['answers'] > 30 and min(seen['reachable']) >= 2, seen
    assert max(len(drained) for drained in seen['drained']) == 1, seen['drained']
    assert set(host for drained in seen['drained'] for host in drained) == set(HOSTS), seen['drained']
    counts = [count for _when, count in running.samples]
    assert len(counts) > 20 and min(counts) >= 1, counts
    assert all_managers_back(sandbox), nodes(sandbox)

    # Every node at the pinned version: nothing drained or restarted.
    extra = dict(extra, upgrade_force=False)
    again = run_playbook(plays, extra_vars=extra)
    assert again.changed == 0, again.output[-3000:]
    assert engine_pids(sandbox) == after
