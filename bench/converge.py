# Copyright: crane.swarm developers
# GNU General Public License v3.0+ (see https://www.gnu.org/licenses/gpl-3.0.txt)
"""A second crane.swarm.site with nothing to change, at N hosts, profiled per task.

For each N a sandbox of N bare hosts (one manager), the sandbox's own NTP server on its
gateway and busybox as an image archive, with the demo's variables (firewall on, the
`hello` stack). A first `site` takes the hosts from bare to the running stack (timed, not
the subject); then each round runs `site` again, which must change nothing, with
ansible.posix.profile_tasks: its wall time and every task's time (the time of the task
across all hosts). From the per-task times at the measured sizes, a least-squares line
per task (seconds = fixed + per_host x N) models 50 and 200 hosts; a task whose per-host
cost grew with N would show as a slope that the line underestimates, so the table also
gives each task's seconds per host at every measured size.

    .venv/bin/python bench/converge.py --sizes 3,5,7 --rounds 3
"""

from __future__ import annotations

import argparse
import collections
import os
import re
import subprocess
import sys
import time

from common import (
    REPO, bench_sandbox, facts_table, log, machine_facts, median_and_range, parse_int_list, publish, task_medians)

SANDBOX_PY = os.path.join(REPO, 'tests', 'sandbox', 'sandbox.py')
TARGET_SECONDS = 20.0  # issue 14: a second site on 3 hosts, quiet 2-core machine
# Measured once on this machine before issue 14's changes (commit 398e90d), 3 hosts, same vars.
BEFORE_3_HOSTS = 38.4
MODEL_SIZES = (50, 200)
PROFILE_LINE = re.compile(r'^(?P<task>.+?) -+ (?P<seconds>\d+\.\d+)s$')
RECAP_LINE = re.compile(r'^(?P<host>\S+)\s+: ok=\d+\s+changed=(?P<changed>\d+)')

VARS = """---
timesync_servers: ["{{ crane_sandbox_gateway }} port %(port)d iburst"]
swarm_clock_servers: ["{{ crane_sandbox_gateway }}:%(port)d"]
manage_firewall: true
stacks_image_archives: ["%(archive)s"]
stacks_list:
  - name: hello
    compose: "%(repo)s/examples/hello/docker-stack.yml"
    prune: true
    wait_timeout: 240
"""


def site(inventory, vars_file, profile):
    """(wall seconds, {task: seconds}, total changed) of one crane.swarm.site run."""
    env = dict(os.environ, ANSIBLE_NOCOLOR='1', ANSIBLE_PIPELINING='True', ANSIBLE_DEPRECATION_WARNINGS='False',
               ANSIBLE_COLLECTIONS_PATH=os.path.join(REPO, 'build', 'collections'))
    if profile:
        env.update(ANSIBLE_CALLBACKS_ENABLED='ansible.posix.profile_tasks', PROFILE_TASKS_TASK_OUTPUT_LIMIT='all',
                   PROFILE_TASKS_SORT_ORDER='none')
    argv = [os.path.join(os.path.dirname(sys.executable), 'ansible-playbook'), '-i', inventory, '-e', '@' + vars_file,
            os.path.join(REPO, 'playbooks', 'site.yml')]
    started = time.perf_counter()
    done = subprocess.run(argv, stdout=subprocess.PIPE, stderr=subprocess.STDOUT, universal_newlines=True,
                          env=env, check=False)
    seconds = time.perf_counter() - started
    if done.returncode != 0:
        raise SystemExit('bench: site failed:\n%s' % done.stdout[-4000:])
    tasks, changed = parse_run(done.stdout)
    return seconds, tasks, changed


def parse_run(output):
    """({task: seconds} from profile_tasks' summary, changed summed over the recap's hosts) of a playbook's output."""
    lines = output.splitlines()
    recap = next(index for index, line in enumerate(lines) if line.startswith('PLAY RECAP'))
    changed = sum(int(m.group('changed')) for m in map(RECAP_LINE.match, lines[recap:]) if m)
    tasks = collections.OrderedDict()
    for match in map(PROFILE_LINE.match, lines[recap:]):
        if match:
            name = match.group('task').strip()
            tasks[name] = tasks.get(name, 0.0) + float(match.group('seconds'))
    return tasks, changed


def sandbox_cli(*args):
    subprocess.run([sys.executable, SANDBOX_PY] + list(args), check=True, stdout=subprocess.DEVNULL)


def run_size(base_name, nodes, rounds, port):
    name = base_name  # one size at a time: each size's sandbox is removed before the next comes up
    with bench_sandbox(name, nodes=nodes, flavour='bare') as (sandbox, workdir):
        ntp_dir = os.path.join(workdir, 'ntp')
        archive = os.path.join(workdir, 'busybox.tar')
        sandbox_cli('ntp-up', '--name', name, '--port', str(port), '--dir', ntp_dir)
        try:
            sandbox_cli('image-archive', '--out', archive)
            vars_file = os.path.join(workdir, 'vars.yml')
            with open(vars_file, 'w') as out:
                out.write(VARS % dict(port=port, archive=archive, repo=REPO))
            inventory = sandbox.tool.inventory_path
            first, _profile, first_changed = site(inventory, vars_file, profile=False)
            log('N=%d first site %.1f s (changed=%d)' % (nodes, first, first_changed))
            facts = machine_facts(sandbox, sandbox.hosts[0])  # after the first site: the hosts start bare
            walls, profiles, changed = [], [], []
            for round_number in range(1, rounds + 1):
                seconds, tasks, round_changed = site(inventory, vars_file, profile=True)
                walls.append(seconds)
                profiles.append(tasks)
                changed.append(round_changed)
                log('N=%d round %d: %.1f s, changed=%d' % (nodes, round_number, seconds, round_changed))
        finally:
            sandbox_cli('ntp-down', '--dir', ntp_dir)
        facts = facts + [('first site (bare to stack)', '%.1f s' % first)]
        return dict(walls=walls, changed=changed, profiles=profiles), facts


def fit(points):
    """Least squares (fixed, per_host) over [(n, seconds)]; per_host 0 with one size."""
    if len(points) < 2:
        return points[0][1], 0.0
    mean_n = sum(n for n, _seconds in points) / len(points)
    mean_s = sum(s for _n, s in points) / len(points)
    spread = sum((n - mean_n) ** 2 for n, _seconds in points)
    slope = sum((n - mean_n) * (s - mean_s) for n, s in points) / spread
    return mean_s - slope * mean_n, slope


def fmt(values):
    middle, low, high = median_and_range(values)
    return '%.1f' % middle if len(values) == 1 else '%.1f [%.1f-%.1f]' % (middle, low, high)


def report(results, facts, rounds):
    sizes = sorted(results)
    lines = ['## No-change converge (second `site`)', '']
    lines += facts_table(facts, '%d per size after one first `site` (median [min-max])' % rounds)
    lines += ['Wall seconds of `ansible-playbook crane.swarm.site` on N hosts that already run the demo stack '
              '(firewall on), Ansible\'s start-up included. Anchors: the target of issue 14 (at most %.0f s at 3 '
              'hosts) and the same run before issue 14 (%.1f s at 3 hosts, measured once on this machine).'
              % (TARGET_SECONDS, BEFORE_3_HOSTS), '',
              '| N | second site s | changed | s per host | target (3 hosts) |',
              '| ---: | ---: | ---: | ---: | --- |']
    for nodes in sizes:
        walls = results[nodes]['walls']
        middle = median_and_range(walls)[0]
        verdict = ('%s (%.0f s)' % ('PASS' if middle <= TARGET_SECONDS else 'MISS', TARGET_SECONDS)) if nodes == 3 else ''
        changed = ','.join(map(str, results[nodes]['changed']))
        lines.append('| %d | %s | %s | %.2f | %s |' % (nodes, fmt(walls), changed, middle / nodes, verdict))
    medians = dict((nodes, task_medians(results[nodes]['profiles'])) for nodes in sizes)
    names = []
    for nodes in sizes:
        names += [name for name in medians[nodes] if name not in names]
    lines += ['', '### Per task, and a model for %s hosts' % ' and '.join(map(str, MODEL_SIZES)), '',
              'Each task\'s median seconds (profile_tasks: the task across all hosts, forks as configured), '
              'a line fitted over the measured sizes, and what it gives at %s hosts. *per host* is the '
              'slope: the seconds each added host costs.' % ' and '.join(map(str, MODEL_SIZES)), '',
              '| task | %s | fixed s | per host s | %s |' % (
                  ' | '.join('N=%d s' % n for n in sizes), ' | '.join('%d hosts s' % n for n in MODEL_SIZES)),
              '| --- | %s | ---: | ---: | %s |' % (
                  ' | '.join('---:' for _size in sizes), ' | '.join('---:' for _size in MODEL_SIZES))]
    totals = collections.Counter()
    rows = []
    for name in names:
        points = [(nodes, medians[nodes].get(name, 0.0)) for nodes in sizes]
        fixed, slope = fit(points)
        modelled = [max(0.0, fixed + slope * n) for n in MODEL_SIZES]
        for n, value in zip(MODEL_SIZES, modelled):
            totals[n] += value
        totals['fixed'] += fixed
        totals['slope'] += slope
        rows.append((modelled[-1], '| %s | %s | %.2f | %.3f | %s |' % (
            name.replace('|', '/'), ' | '.join('%.2f' % s for _n, s in points), fixed, slope,
            ' | '.join('%.1f' % value for value in modelled))))
    lines += [line for _modelled, line in sorted(rows, key=lambda row: -row[0])]
    lines.append('| **all tasks** | %s | %.1f | %.3f | %s |' % (
        ' | '.join('%.1f' % sum(medians[n].values()) for n in sizes), totals['fixed'], totals['slope'],
        ' | '.join('**%.0f**' % totals[n] for n in MODEL_SIZES)))
    return '\n'.join(lines)


def main(argv=None):
    parser = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    parser.add_argument('--sizes', type=parse_int_list, default=[3, 5, 7], help='numbers of hosts N (default 3,5,7)')
    parser.add_argument('--rounds', type=int, default=3, help='no-change runs per N (default 3)')
    parser.add_argument('--sandbox', default='converge', help='base name of the sandboxes (default converge)')
    parser.add_argument('--ntp-port', type=int, default=10125, help='UDP port of the sandbox NTP server (default 10125)')
    args = parser.parse_args(argv)
    results, facts = {}, []
    for nodes in args.sizes:
        results[nodes], facts = run_size(args.sandbox, nodes, args.rounds, args.ntp_port)
    publish('converge', report(results, facts, args.rounds))


if __name__ == '__main__':
    main()
