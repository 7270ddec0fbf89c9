# Copyright: crane.swarm developers
# GNU General Public License v3.0+ (see https://www.gnu.org/licenses/gpl-3.0.txt)
"""Cluster formation: from engines running to every node Ready, the cluster role against plain shell commands.

    .venv/bin/python bench/cluster_formation.py [--sizes 3,5] [--rounds 5]

For each N, a sandbox of its own with N engine hosts (named bench for N=3,
benchN otherwise; removed at the end whatever happens): 1 manager for N < 5,
3 managers from 5 on, the rest workers. Each round forms the swarm twice,
interleaved, from hosts that have just left any swarm:

  role   ansible-playbook with the role crane.swarm.cluster (what playbooks/cluster.yml runs,
         without its report play)
  shell  the same steps as docker CLI commands run through `docker exec`: swarm init on the
         first manager (same address pool, subnet size and task history limit), the other
         managers joined one at a time, the workers in parallel

The clock runs from the start until `docker node ls` on the first manager shows
all N nodes Ready. The role's runs are also profiled per task: each task's wall time
from its first host's start to its last host's result (a task that runs on hosts one
at a time counts them all), the rest of the playbook's time (Ansible's start-up, plays,
includes, between tasks), and the time from the playbook's end until every node is Ready.
Prints the tables and writes them to bench/results.md.
"""

from __future__ import annotations

import argparse
import collections
import os
import shlex
import subprocess
import sys
import time

sys.path.insert(0, os.path.dirname(os.path.abspath(__file__)))

from common import (
    PlaybookRunner, bench_sandbox, facts_table, log, machine_facts, median_and_range, parse_int_list, publish,
    task_medians, timed_playbook)
from harness import sandbox_tool

READY_TIMEOUT = 300
ADDRESS_POOL = '10.0.0.0/8'
SUBNET_SIZE = 24
TASK_HISTORY_LIMIT = 2

ROLE_PLAY = [{
    'name': 'Form the swarm',
    'hosts': 'swarm_managers:swarm_workers',
    'gather_facts': False,
    'roles': [{'role': 'crane.swarm.cluster', 'vars': {
        'cluster_default_addr_pool': [ADDRESS_POOL],
        'cluster_default_addr_pool_subnet_size': SUBNET_SIZE,
        'cluster_task_history_retention_limit': TASK_HISTORY_LIMIT}}],
}]


def managers_for(nodes):
    return 3 if nodes >= 5 else 1


def sandbox_name(base, nodes):
    return base if nodes == 3 else '%s%d' % (base, nodes)


def shell_formation_script(sandbox, managers):
    """The baseline as one bash script of docker commands; join tokens stay in shell variables."""
    outer = 'docker -H unix://%s exec' % sandbox_tool.OUTER_SOCKET
    hosts = sandbox.hosts
    first = hosts[0]

    def on(host, command):
        return '%s %s %s' % (outer, shlex.quote(sandbox.tool.container(host)), command)

    lines = ['set -euo pipefail',
             on(first, 'docker swarm init --advertise-addr %s --default-addr-pool %s '
                       '--default-addr-pool-mask-length %d --task-history-limit %d >/dev/null'
                % (sandbox.address(first), ADDRESS_POOL, SUBNET_SIZE, TASK_HISTORY_LIMIT)),
             'manager_token=$(%s)' % on(first, 'docker swarm join-token -q manager'),
             'worker_token=$(%s)' % on(first, 'docker swarm join-token -q worker')]
    join = 'docker swarm join --advertise-addr %s --token "$%s" %s:2377 >/dev/null'
    for host in hosts[1:managers]:
        lines.append(on(host, join % (sandbox.address(host), 'manager_token', sandbox.address(first))))
    for host in hosts[managers:]:
        lines.append(on(host, join % (sandbox.address(host), 'worker_token', sandbox.address(first))) + ' &')
    lines.append('wait')
    return '\n'.join(lines) + '\n'


def ready_nodes(sandbox):
    out = sandbox.docker(sandbox.hosts[0], 'node', 'ls', '--format', '{{.Status}}', check=False).stdout
    return sum(1 for line in out.splitlines() if line.strip() == 'Ready')


def wait_all_ready(sandbox, started):
    """Seconds from `started` until every node is Ready on the first manager."""
    deadline = started + READY_TIMEOUT
    while ready_nodes(sandbox) < len(sandbox.hosts):
        if time.perf_counter() > deadline:
            raise SystemExit('bench: not every node was Ready within %d s' % READY_TIMEOUT)
        time.sleep(0.1)
    return time.perf_counter() - started


def task_walls(entries):
    """{task name: wall seconds} from the recorded results: per task, its first host's start to its last result."""
    spans = collections.OrderedDict()
    for entry in entries:
        if entry.get('seconds') is None:
            continue
        start, end = entry['ended'] - entry['seconds'], entry['ended']
        first, last, name = spans.get(entry['task_id'], (start, end, entry['task']))
        spans[entry['task_id']] = (min(first, start), max(last, end), name)
    walls = collections.OrderedDict()
    for first, last, name in spans.values():
        walls[name] = walls.get(name, 0.0) + (last - first)
    return walls


def form_with_role(sandbox, runner):
    """(seconds until all Ready, a per-task profile of the run)."""
    started = time.perf_counter()
    playbook_seconds, outcome = timed_playbook(runner, ROLE_PLAY)
    ready = wait_all_ready(sandbox, started)
    profile = task_walls(outcome.tasks)
    profile['(Ansible start-up, plays, includes, between tasks)'] = max(0.0, playbook_seconds - sum(profile.values()))
    profile['(after the playbook, until every node is Ready)'] = ready - playbook_seconds
    return ready, profile


def form_with_shell(sandbox, managers):
    script = shell_formation_script(sandbox, managers)
    started = time.perf_counter()
    done = subprocess.run(['bash', '-c', script], stdout=subprocess.PIPE, stderr=subprocess.PIPE,
                          universal_newlines=True, check=False)
    if done.returncode != 0:
        raise SystemExit('bench: the shell baseline failed: %s' % done.stderr[-2000:])
    return wait_all_ready(sandbox, started)


def run_size(base_name, nodes, rounds):
    managers = managers_for(nodes)
    timings = {'role': [], 'shell': []}
    profiles = []
    with bench_sandbox(sandbox_name(base_name, nodes), nodes=nodes, managers=managers) as (sandbox, workdir):
        facts = machine_facts(sandbox, sandbox.hosts[0])
        runner = PlaybookRunner(sandbox, workdir)
        for round_number in range(1, rounds + 1):
            for way in ('role', 'shell'):
                sandbox.reset_swarm()
                if way == 'role':
                    seconds, profile = form_with_role(sandbox, runner)
                    profiles.append(profile)
                else:
                    seconds = form_with_shell(sandbox, managers)
                timings[way].append(seconds)
                log('N=%d round %d %-5s %.2f s to all Ready' % (nodes, round_number, way, seconds))
        sandbox.reset_swarm()
    return managers, timings, profiles, facts


def fmt(values):
    middle, low, high = median_and_range(values)
    return '%.2f' % middle if len(values) == 1 else '%.2f [%.2f-%.2f]' % (middle, low, high)


def report(results, facts, rounds):
    lines = ['## Cluster formation', '']
    lines += facts_table(facts, '%d, interleaved role, shell (median [min-max])' % rounds)
    lines += ['Seconds from the start (engines running, no swarm) until every node is Ready. *role*: '
              '`ansible-playbook` with crane.swarm.cluster, Ansible\'s start-up included; *shell*: '
              '`docker swarm init`/`join` through `docker exec`, managers one at a time, workers in parallel.', '',
              '| N | managers | cluster role s | shell commands s | role / shell |',
              '| ---: | ---: | ---: | ---: | ---: |']
    for nodes, (managers, timings, _profiles) in sorted(results.items()):
        ratio = median_and_range(timings['role'])[0] / median_and_range(timings['shell'])[0]
        lines.append('| %d | %d | %s | %s | %.2fx |' % (
            nodes, managers, fmt(timings['role']), fmt(timings['shell']), ratio))
    lines += profile_table(dict((nodes, profiles) for nodes, (_managers, _timings, profiles) in results.items()))
    return '\n'.join(lines)


def profile_table(profiles_by_size):
    """Where the cluster role's time goes: each task's median wall seconds per N, largest first."""
    sizes = sorted(profiles_by_size)
    medians = dict((nodes, task_medians(profiles_by_size[nodes])) for nodes in sizes)
    names = sorted(set(name for nodes in sizes for name in medians[nodes]),
                   key=lambda name: -max(medians[nodes].get(name, 0.0) for nodes in sizes))
    lines = ['', '### Where the cluster role\'s time goes', '',
             'Median wall seconds per task over the role\'s rounds (a task\'s first host\'s start to its last '
             'result). Tasks under 0.05 s at every N are left out.', '',
             '| task | %s |' % ' | '.join('N=%d s' % nodes for nodes in sizes),
             '| --- | %s |' % ' | '.join('---:' for _size in sizes)]
    for name in names:
        values = [medians[nodes].get(name, 0.0) for nodes in sizes]
        if max(values) >= 0.05:
            lines.append('| %s | %s |' % (name.replace('|', '/'), ' | '.join('%.2f' % value for value in values)))
    return lines


def main(argv=None):
    parser = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    parser.add_argument('--sizes', type=parse_int_list, default=[3, 5], help='numbers of nodes N (default 3,5)')
    parser.add_argument('--rounds', type=int, default=5, help='interleaved rounds per N (default 5)')
    parser.add_argument('--sandbox', default='bench', help='base name of the sandboxes (default bench)')
    args = parser.parse_args(argv)
    results, facts = {}, []
    for nodes in args.sizes:
        managers, timings, profiles, facts = run_size(args.sandbox, nodes, args.rounds)
        results[nodes] = (managers, timings, profiles)
    text = report(results, facts, args.rounds)
    publish('cluster_formation', text)


if __name__ == '__main__':
    main()
