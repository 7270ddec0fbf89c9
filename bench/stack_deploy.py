# Copyright: crane.swarm developers
# GNU General Public License v3.0+ (see https://www.gnu.org/licenses/gpl-3.0.txt)
"""Stack deployment, side by side: crane.swarm.swarm_stack, community.docker.docker_stack, the docker CLI.

    .venv/bin/python bench/stack_deploy.py [--sizes 10,50,200] [--rounds 5]

On a sandbox of its own (3 hosts: one manager, two workers; removed at the end
whatever happens), for each stack size N: a stack of N busybox services (one
replica, one overlay network, env, labels, update config, restart policy,
healthcheck, resources, a placement constraint) is deployed, redeployed
unchanged, and redeployed with one service changed, by

  crane     crane.swarm.swarm_stack with the stack as an extended DAB bundle (src on the controller)
  compose   crane.swarm.swarm_stack with the same stack as a compose file (compose on the controller)
  community community.docker.docker_stack with the same stack as a compose file on the manager
  cli       docker stack deploy --resolve-image never with that compose file, on the manager

in interleaved rounds (crane, compose, community, cli, crane, ...) so that ratios hold
when the machine's speed drifts. An empty playbook is timed in every round:
Ansible's own start-up. Every tool talks to the engine through a counting
proxy on the manager (bench/count_proxy.py), which logs each API request.
Module processes are timed on the manager by a wrapper set as the interpreter.

Prints a table and writes it to bench/results.md with the targets and pass/miss.
"""

from __future__ import annotations

import argparse
import os
import re
import sys
import time

import yaml

sys.path.insert(0, os.path.dirname(os.path.abspath(__file__)))

from common import (
    HostTools, PlaybookRunner, bench_sandbox, facts_table, log, machine_facts, median_and_range, parse_int_list,
    publish, timed_playbook)
from harness import Registries, form_swarm3

STACK = 'bench'
NAMESPACE_LABEL = 'com.docker.stack.namespace'
MANAGER = 'node1'
TOOLS = ('crane', 'compose', 'community', 'cli')
CRANE_TOOLS = ('crane', 'compose')
STEPS = ('first deploy', 'no-op redeploy', 'one service changed')
TOOL_NAMES = {'crane': 'crane.swarm.swarm_stack', 'compose': 'crane.swarm.swarm_stack compose:', 'community': 'community.docker.docker_stack',
              'cli': 'docker stack deploy'}
CHANGED_SERVICE = 'svc001'
SETTLE_TIMEOUT = 600
# Each service takes an address for its VIP and one per task: 200 services need about 400,
# more than the /24 the swarm gives a network by default (their tasks would stay pending).
SUBNET = '10.210.0.0/22'

# Targets of issue 5 (printed with pass/miss; never asserted by tests).
NOOP_MAX_REQUESTS = 8
NOOP_MAX_MODULE_SECONDS = 0.3
NOOP_MIN_SPEEDUP_OVER_COMMUNITY = 20.0
FIRST_DEPLOY_MAX_RATIO_TO_CLI = 1.2
# Issue 12: reading a compose file makes the first deploy and the no-op at most 10% slower than the bundle.
COMPOSE_MAX_RATIO_TO_BUNDLE = 1.1
TARGET_SIZE = 200


# ----------------------------------------------------------------------------- the stack, in both formats

def service_name(index):
    return 'svc%03d' % index


def bundle_for(size, revision_of=None, images=('busybox:latest',)):
    """The extended DAB bundle of N services; `revision_of` names the one service whose env changes.

    The services take `images` in turn (200 services over 2 images: 100 each).
    """
    services = {}
    for index in range(1, size + 1):
        name = service_name(index)
        services[name] = {
            'Image': images[(index - 1) % len(images)],
            'Args': ['sleep', '86400'],
            'Env': ['APP_MODE=bench', 'APP_NAME=%s' % name, 'APP_REVISION=%d' % (2 if name == revision_of else 1)],
            'Labels': {'bench.tier': 'backend', 'bench.index': str(index)},
            'Replicas': 1,
            'Networks': ['backend'],
            'UpdateConfig': {'Parallelism': 1, 'Delay': '5s', 'FailureAction': 'rollback', 'Monitor': '10s',
                             'Order': 'start-first'},
            'RestartPolicy': {'Condition': 'on-failure', 'Delay': '2s', 'MaxAttempts': 3, 'Window': '1m'},
            'StopGracePeriod': '2s',
            'Healthcheck': {'Test': ['CMD', 'true'], 'Interval': '1m', 'Timeout': '5s', 'Retries': 3,
                            'StartPeriod': '30s'},
            'Resources': {'Limits': {'CPUs': 0.1, 'Memory': '32M'}, 'Reservations': {'Memory': '8M'}},
            'Placement': {'Constraints': ['node.role == worker']},
        }
    return {'Version': '0.1', 'Networks': {'backend': {'Driver': 'overlay', 'IPAM': {'Config': [{'Subnet': SUBNET}]}}},
            'Services': services}


def compose_for(size, revision_of=None):
    """The same stack as a compose file (format 3.8), option for option."""
    services = {}
    for name, service in bundle_for(size, revision_of)['Services'].items():
        update, restart, health = service['UpdateConfig'], service['RestartPolicy'], service['Healthcheck']
        services[name] = {
            'image': service['Image'],
            'command': service['Args'],
            'environment': dict(entry.split('=', 1) for entry in service['Env']),
            'networks': service['Networks'],
            'stop_grace_period': service['StopGracePeriod'],
            'healthcheck': {'test': health['Test'], 'interval': health['Interval'], 'timeout': health['Timeout'],
                            'retries': health['Retries'], 'start_period': health['StartPeriod']},
            'deploy': {
                'replicas': service['Replicas'],
                'labels': service['Labels'],
                'update_config': {'parallelism': update['Parallelism'], 'delay': update['Delay'],
                                  'failure_action': update['FailureAction'], 'monitor': update['Monitor'],
                                  'order': update['Order']},
                'restart_policy': {'condition': restart['Condition'], 'delay': restart['Delay'],
                                   'max_attempts': restart['MaxAttempts'], 'window': restart['Window']},
                'resources': {'limits': {'cpus': str(service['Resources']['Limits']['CPUs']),
                                         'memory': service['Resources']['Limits']['Memory']},
                              'reservations': {'memory': service['Resources']['Reservations']['Memory']}},
                'placement': {'constraints': service['Placement']['Constraints']},
            },
        }
    return {'version': '3.8', 'services': services,
            'networks': {'backend': {'driver': 'overlay', 'ipam': {'config': [{'subnet': SUBNET}]}}}}


# ----------------------------------------------------------------------------- API requests

_ID = re.compile(r'^[0-9a-z]{20,64}$')


def request_kind(method, path):
    """'POST /services/{id}/update' from a logged request: object IDs and names folded into {id}."""
    parts = path.split('/')
    for index in range(2, len(parts)):
        if parts[index] and (_ID.match(parts[index]) or parts[1] in ('services', 'networks', 'secrets', 'configs',
                                                                     'tasks', 'nodes', 'containers')
                             and parts[index] not in ('create', 'update', 'json', 'logs', 'prune')):
            parts[index] = '{id}'
    return '%s %s' % (method, '/'.join(parts))


def request_summary(requests):
    """(total, {kind: count}) of one measurement's requests."""
    kinds = {}
    for method, path in requests:
        kind = request_kind(method, path)
        kinds[kind] = kinds.get(kind, 0) + 1
    return len(requests), kinds


# ----------------------------------------------------------------------------- one benchmark run

class StackBenchmark:
    def __init__(self, sandbox, workdir, sizes, rounds):
        self.sandbox = sandbox
        self.workdir = workdir
        self.sizes = sizes
        self.rounds = rounds
        self.runner = PlaybookRunner(sandbox, workdir)
        self.tools = HostTools(sandbox, MANAGER)
        self.samples = {}  # (size, tool, step) -> [sample dict]
        self.empty = {}  # size -> [seconds of an empty playbook]
        self.module_startup = {}  # size -> [seconds of ansible.builtin.ping's module process on the manager]

    # -- set-up

    def prepare(self, community=True):
        log('forming the swarm (node1 manager, node2 and node3 workers)')
        form_swarm3(self.sandbox, self.runner)
        if not community:
            self.tools.install()
            return
        log('installing python3-jsondiff and python3-yaml on %s for community.docker.docker_stack' % MANAGER)
        self.sandbox.exec(MANAGER, 'sh', '-c', 'apt-get update -qq && DEBIAN_FRONTEND=noninteractive '
                          'apt-get install -y -qq --no-install-recommends python3-jsondiff python3-yaml >/dev/null')
        self.tools.install()

    def write_stack_files(self, size):
        """Bundles and compose files on the controller, the compose files also on the manager; their paths."""
        paths = {}
        for variant, revision_of in (('base', None), ('changed', CHANGED_SERVICE)):
            bundle = os.path.join(self.workdir, 'bench-%d-%s.dab.yml' % (size, variant))
            with open(bundle, 'w') as bundle_file:
                yaml.safe_dump(bundle_for(size, revision_of), bundle_file, sort_keys=False)
            compose_text = yaml.safe_dump(compose_for(size, revision_of), sort_keys=False)
            local_compose = os.path.join(self.workdir, 'bench-%d-%s.compose.yml' % (size, variant))
            with open(local_compose, 'w') as compose_file:
                compose_file.write(compose_text)
            compose = '/run/crane-bench/bench-%d-%s.compose.yml' % (size, variant)
            self.tools.write(compose, compose_text)
            paths[variant] = {'bundle': bundle, 'local compose': local_compose, 'compose': compose}
        return paths

    # -- the three ways to deploy

    def crane_play(self, resolve_image='never', **source):
        """swarm_stack with `source`: src=bundle path or compose=compose path, on the controller."""
        arguments = dict(source, name=STACK, resolve_image=resolve_image, wait=False, docker_host=self.tools.docker_host)
        return [{'name': 'crane', 'hosts': MANAGER, 'gather_facts': False,
                 'vars': {'ansible_python_interpreter': self.tools.timed_python},
                 'tasks': [{'name': 'deploy', 'crane.swarm.swarm_stack': arguments}]}]

    def community_play(self, compose):
        return [{'name': 'community', 'hosts': MANAGER, 'gather_facts': False,
                 'vars': {'ansible_python_interpreter': self.tools.timed_python},
                 'tasks': [{'name': 'deploy', 'community.docker.docker_stack': {
                     'name': STACK, 'compose': [compose], 'resolve_image': 'never',
                     'docker_host': self.tools.docker_host}}]}]

    EMPTY_PLAY = [{'name': 'empty', 'hosts': MANAGER, 'gather_facts': False, 'tasks': []}]

    def ping_play(self):
        """ansible.builtin.ping: Python, AnsiballZ and ansible-core's module imports, and nothing else."""
        return [{'name': 'module start-up', 'hosts': MANAGER, 'gather_facts': False,
                 'vars': {'ansible_python_interpreter': self.tools.timed_python},
                 'tasks': [{'name': 'ping', 'ansible.builtin.ping': {}}]}]

    def time_module_startup(self, size):
        self.tools.take_module_seconds()
        timed_playbook(self.runner, self.ping_play())
        self.module_startup.setdefault(size, []).extend(self.tools.take_module_seconds())

    def deploy(self, tool, size, step, paths):
        """One timed deployment; returns its sample and checks it did what the step means."""
        files = paths['changed' if step == 'one service changed' else 'base']
        compose = files['compose']
        self.tools.take_requests()
        self.tools.take_module_seconds()
        sample = {}
        if tool == 'cli':
            seconds, outcome = self.tools.timed('docker', '--host', self.tools.docker_host, 'stack', 'deploy',
                                                '--resolve-image', 'never', '--compose-file', compose, STACK)
            if outcome['rc'] != 0:
                raise SystemExit('bench: docker stack deploy failed: %s' % outcome['stderr'])
            sample.update(wall=seconds, module=seconds)
        else:
            play = {'crane': lambda: self.crane_play(src=files['bundle']),
                    'compose': lambda: self.crane_play(compose=files['local compose']),
                    'community': lambda: self.community_play(compose)}[tool]()
            seconds, outcome = timed_playbook(self.runner, play)
            module_runs = self.tools.take_module_seconds()
            sample.update(wall=seconds, module=sum(module_runs))
            if tool in CRANE_TOOLS:
                self.check_crane_result(outcome.result('deploy', MANAGER), size, step)
        sample['requests'], sample['kinds'] = request_summary(self.tools.take_requests())
        self.samples.setdefault((size, tool, step), []).append(sample)
        return sample

    @staticmethod
    def check_crane_result(result, size, step):
        services = result['services']
        expected = {
            'first deploy': (size, {}, True),
            'no-op redeploy': (0, {}, False),
            'one service changed': (0, ['%s_%s' % (STACK, CHANGED_SERVICE)], True),
        }[step]
        created, updated, changed = len(services['created']), sorted(services['updated']), result['changed']
        if (created, updated or {}, changed) != (expected[0], expected[1] or {}, expected[2]):
            raise SystemExit('bench: crane.swarm.swarm_stack did not do a %s: changed=%s created=%d updated=%s'
                             % (step, changed, created, updated))

    # -- between deployments (not timed)

    def stack_containers(self):
        total = 0
        for host in self.sandbox.hosts:
            out = self.sandbox.docker(host, 'ps', '-q', '--filter', 'label=%s=%s' % (NAMESPACE_LABEL, STACK),
                                      '--filter', 'status=running', check=False).stdout
            total += len(out.split())
        return total

    def wait_until(self, condition, what):
        deadline = time.time() + SETTLE_TIMEOUT
        while not condition():
            if time.time() > deadline:
                raise SystemExit('bench: %s did not happen within %d s' % (what, SETTLE_TIMEOUT))
            time.sleep(0.5)

    def wait_running(self, size):
        """Every service's container has started: the swarm's heavy lifting after a deploy is over."""
        try:
            self.wait_until(lambda: self.stack_containers() >= size, '%d containers running' % size)
        except SystemExit:
            errors = self.sandbox.docker(MANAGER, 'stack', 'ps', STACK, '--no-trunc', '--format', '{{.Error}}',
                                         check=False).stdout.splitlines()
            log('task errors: %s' % (sorted(set(error for error in errors if error))[:5] or 'none'))
            raise

    def remove_stack(self):
        """Remove the stack outside the measurement and wait until its containers and network are gone."""
        self.sandbox.docker(MANAGER, 'stack', 'rm', STACK, check=False)

        def gone():
            services = self.sandbox.docker(MANAGER, 'service', 'ls', '-q', '--filter',
                                           'label=%s=%s' % (NAMESPACE_LABEL, STACK)).stdout.split()
            networks = self.sandbox.docker(MANAGER, 'network', 'ls', '-q', '--filter',
                                           'label=%s=%s' % (NAMESPACE_LABEL, STACK)).stdout.split()
            containers = 0
            for host in self.sandbox.hosts:
                containers += len(self.sandbox.docker(host, 'ps', '-aq', '--filter', 'label=%s=%s' % (
                    NAMESPACE_LABEL, STACK), check=False).stdout.split())
            return not services and not networks and not containers
        self.wait_until(gone, 'removal of stack %s' % STACK)

    # -- the run

    def cycle(self, tool, size, paths):
        self.remove_stack()
        for step in STEPS:
            sample = self.deploy(tool, size, step, paths)
            log('N=%d %-9s %-19s %6.2f s (module %5.2f s) %4d requests'
                % (size, tool, step, sample['wall'], sample['module'], sample['requests']))
            if step == 'first deploy':
                self.wait_running(size)
        self.remove_stack()

    def run(self):
        self.prepare()
        for size in self.sizes:
            paths = self.write_stack_files(size)
            for round_number in range(1, self.rounds + 1):
                log('N=%d round %d of %d' % (size, round_number, self.rounds))
                seconds, dummy = timed_playbook(self.runner, self.EMPTY_PLAY)
                self.empty.setdefault(size, []).append(seconds)
                self.time_module_startup(size)
                for tool in TOOLS:
                    self.cycle(tool, size, paths)


# ----------------------------------------------------------------------------- resolve_image against a registry

RESOLVE_MODES = ('never', 'always')
REGISTRY_IMAGES = 2  # distinct images the N services run
# The anchor: the same no-op at N=200 with resolve_image: always before swarm_stack asked once per
# distinct image (commit 16ba60a: once per service), measured once on this machine (load about 55).
BEFORE_ONCE_PER_IMAGE = '200 `/distribution` requests of 205, module 5.20 s (`never`: 0.84 s)'


def distribution_requests(requests):
    """How many of the requests asked a registry for a digest (GET /distribution/<image>/json)."""
    return sum(1 for dummy, path in requests if path.startswith('/distribution/'))


class ResolveBenchmark:
    """A no-op redeploy of N services over REGISTRY_IMAGES images from the sandbox's plain registry, with
    resolve_image never and always, interleaved: the time and the registry round trips it costs."""

    def __init__(self, stack_bench):
        self.bench = stack_bench
        self.samples = {}  # (size, mode) -> [sample dict]

    def run(self):
        bench = self.bench
        registries = Registries(bench.sandbox, os.path.join(bench.workdir, 'registries'))
        try:
            self.images = ['%s/bench/app%d:1' % (registries.plain, index) for index in range(1, REGISTRY_IMAGES + 1)]
            for index, image in enumerate(self.images):
                log('pushing %s (from %s; no node keeps it, every node pulls it)' % (image, MANAGER))
                registries.push(image, 'bench-%d' % index, host=MANAGER)
            for size in bench.sizes:
                path = os.path.join(bench.workdir, 'resolve-%d.dab.yml' % size)
                with open(path, 'w') as bundle_file:
                    yaml.safe_dump(bundle_for(size, images=self.images), bundle_file, sort_keys=False)
                bench.remove_stack()
                log('N=%d: first deploy from the registry (resolve_image: always)' % size)
                timed_playbook(bench.runner, bench.crane_play(src=path, resolve_image='always'))
                bench.wait_running(size)
                for round_number in range(1, bench.rounds + 1):
                    for mode in RESOLVE_MODES:
                        sample = self.noop(size, mode, path)
                        log('N=%d round %d resolve_image=%-6s %6.2f s (module %5.2f s) %4d requests, %d /distribution'
                            % (size, round_number, mode, sample['wall'], sample['module'], sample['requests'],
                               sample['distribution']))
                bench.remove_stack()
        finally:
            registries.stop()

    def noop(self, size, mode, path):
        bench = self.bench
        bench.tools.take_requests()
        bench.tools.take_module_seconds()
        seconds, outcome = timed_playbook(bench.runner, bench.crane_play(src=path, resolve_image=mode))
        bench.check_crane_result(outcome.result('deploy', MANAGER), size, 'no-op redeploy')
        requests = bench.tools.take_requests()
        sample = dict(wall=seconds, module=sum(bench.tools.take_module_seconds()), requests=len(requests),
                      distribution=distribution_requests(requests))
        self.samples.setdefault((size, mode), []).append(sample)
        return sample


def resolve_report(resolve, facts, rounds):
    lines = ['## resolve_image against a registry', '']
    lines += facts_table(facts, '%d, interleaved resolve_image %s (median [min-max])' % (rounds, ', '.join(RESOLVE_MODES)))
    lines += [
        'A no-op redeploy with crane.swarm.swarm_stack (bundle, `wait: false`) of N services over %d images '
        'pushed to the sandbox\'s plain registry (`sandbox.py registry-up`; the services are pinned by digest '
        'since their first deploy with `resolve_image: always`). *playbook s* and *module s* as in the table '
        'above; *requests* are all Engine API requests, */distribution* those that ask the registry for a '
        'digest (`GET /distribution/<image>/json`, one registry round trip each).' % REGISTRY_IMAGES, '',
        '| N | images | resolve_image | playbook s | module s | requests | /distribution |',
        '| ---: | ---: | --- | ---: | ---: | ---: | ---: |']
    for size in sorted(resolve.bench.sizes):
        for mode in RESOLVE_MODES:
            samples = resolve.samples.get((size, mode), [])
            if samples:
                lines.append('| %d | %d | %s | %s | %s | %s | %s |' % (
                    size, REGISTRY_IMAGES, mode, fmt_stat([sample['wall'] for sample in samples]),
                    fmt_stat([sample['module'] for sample in samples]),
                    '/'.join(str(n) for n in sorted(set(sample['requests'] for sample in samples))),
                    '/'.join(str(n) for n in sorted(set(sample['distribution'] for sample in samples)))))
    per_image = all(sample['distribution'] == REGISTRY_IMAGES
                    for (dummy, mode), samples in resolve.samples.items() if mode == 'always' for sample in samples)
    never = all(sample['distribution'] == 0
                for (dummy, mode), samples in resolve.samples.items() if mode == 'never' for sample in samples)
    lines += ['', '- %s: `resolve_image: always` asks the registry once per distinct image (%d), not once per '
              'service (every N, every round)' % ('PASS' if per_image else 'MISS', REGISTRY_IMAGES),
              '- %s: `resolve_image: never` asks no registry' % ('PASS' if never else 'MISS'),
              '- before (once per service, at N=200): %s' % BEFORE_ONCE_PER_IMAGE]
    return '\n'.join(lines)


# ----------------------------------------------------------------------------- the report

def fmt_stat(values, digits=2):
    stat = median_and_range(values)
    if stat is None:
        return '-'
    middle, low, high = stat
    if len(values) == 1:
        return '%.*f' % (digits, middle)
    return '%.*f [%.*f-%.*f]' % (digits, middle, digits, low, digits, high)


def median_of(samples, key):
    stat = median_and_range([sample[key] for sample in samples])
    return stat[0] if stat else None


def requests_text(samples):
    totals = sorted(set(sample['requests'] for sample in samples))
    kinds = samples[-1]['kinds']
    writes = dict((label, sum(count for kind, count in kinds.items() if kind.startswith(prefix)))
                  for label, prefix in (('create', 'POST /services/create'), ('update', 'POST /services/{id}/update')))
    detail = ', '.join('%d %s' % (count, label) for label, count in writes.items() if count)
    total = '/'.join(str(total) for total in totals)
    return '%s (%s)' % (total, detail) if detail else total


def report(bench, facts, rounds):
    lines = ['## Stack deployment', '']
    lines += facts_table(facts, '%d, interleaved %s (median [min-max])' % (rounds, ', '.join(TOOLS)))
    lines += [
        'Columns: *playbook s* is the wall time of `ansible-playbook` (for the CLI: of `docker stack deploy` '
        'on the manager); *above empty* subtracts the median empty playbook of the same N (Ansible\'s start-up); '
        '*module s* is the module process on the manager, interpreter start to exit (for the CLI: the CLI '
        'process); *module start-up* is that of `ansible.builtin.ping` in the same rounds (Python, AnsiballZ and '
        'ansible-core\'s imports: what every module pays before its own code runs), and *in module s* subtracts '
        'its median from module s; *requests* are Engine API requests counted at the socket (creates and '
        'updates of services in brackets); *vs CLI* divides module s by the CLI\'s; *vs community* is '
        'community.docker\'s time above empty divided by this row\'s.', '',
        '| N | step | tool | playbook s | above empty s | module s | in module s | requests | vs CLI | vs community |',
        '| ---: | --- | --- | ---: | ---: | ---: | ---: | ---: | ---: | ---: |']
    for size in sorted(bench.sizes):
        empty = median_of([{'s': value} for value in bench.empty.get(size, [])], 's') or 0.0
        startup = median_and_range(bench.module_startup.get(size, []))
        lines.append('| %d | empty playbook | ansible-playbook | %s | | | | | | |'
                     % (size, fmt_stat(bench.empty.get(size, []))))
        lines.append('| %d | module start-up | ansible.builtin.ping | | | %s | | | | |'
                     % (size, fmt_stat(bench.module_startup.get(size, []))))
        for step in STEPS:
            cli = bench.samples.get((size, 'cli', step), [])
            community = bench.samples.get((size, 'community', step), [])
            community_above = (median_of(community, 'wall') or 0.0) - empty
            for tool in TOOLS:
                samples = bench.samples.get((size, tool, step), [])
                if not samples:
                    continue
                above = '' if tool == 'cli' else fmt_stat([sample['wall'] - empty for sample in samples])
                inside = '' if tool == 'cli' or startup is None else fmt_stat(
                    [sample['module'] - startup[0] for sample in samples])
                module = median_of(samples, 'module')
                vs_cli = '%.2fx' % (module / median_of(cli, 'module')) if cli and tool != 'cli' else ''
                own_above = median_of(samples, 'wall') - empty
                vs_community = ('%.1fx faster' % (community_above / own_above)
                                if tool in CRANE_TOOLS and community and own_above > 0 else '')
                lines.append('| %d | %s | %s | %s | %s | %s | %s | %s | %s | %s |' % (
                    size, step, TOOL_NAMES[tool], fmt_stat([sample['wall'] for sample in samples]), above,
                    fmt_stat([sample['module'] for sample in samples]), inside, requests_text(samples), vs_cli,
                    vs_community))
    lines += ['', '### Targets', ''] + ['- %s' % line for line in targets(bench)]
    return '\n'.join(lines)


def targets(bench):
    """The issue's targets with pass/miss, judged at N=200 (or the largest N measured, said so)."""
    size = TARGET_SIZE if TARGET_SIZE in bench.sizes else max(bench.sizes)
    note = '' if size == TARGET_SIZE else ' (measured at N=%d: the target is for N=%d)' % (size, TARGET_SIZE)
    verdicts = []

    def verdict(ok, text):
        verdicts.append('%s: %s%s' % ('PASS' if ok else 'MISS', text, note))

    noop_requests = dict((n, max(sample['requests'] for sample in bench.samples[(n, 'crane', 'no-op redeploy')]))
                         for n in bench.sizes)
    verdicts.append('%s: no-op redeploy makes at most %d API requests whatever N: %s' % (
        'PASS' if max(noop_requests.values()) <= NOOP_MAX_REQUESTS else 'MISS', NOOP_MAX_REQUESTS,
        ', '.join('N=%d: %d' % item for item in sorted(noop_requests.items()))))
    noop = bench.samples[(size, 'crane', 'no-op redeploy')]
    module = float(median_of(noop, 'module'))  # TypeError rather than a verdict on no data
    startup = median_and_range(bench.module_startup[size])[0]
    verdict(module - startup <= NOOP_MAX_MODULE_SECONDS,
            'no-op redeploy of N=%d takes at most %.1f s in the module, above Ansible\'s module start-up: %.3f s '
            '(module process %.3f s, ansible.builtin.ping\'s %.3f s)'
            % (size, NOOP_MAX_MODULE_SECONDS, module - startup, module, startup))
    empty = median_of([{'s': value} for value in bench.empty[size]], 's')
    crane_above = median_of(noop, 'wall') - empty
    community_above = median_of(bench.samples[(size, 'community', 'no-op redeploy')], 'wall') - empty
    speedup = community_above / crane_above if crane_above > 0 else float('inf')
    verdict(speedup >= NOOP_MIN_SPEEDUP_OVER_COMMUNITY,
            'no-op redeploy at least %.0fx faster than community.docker.docker_stack above an empty playbook: '
            '%.1fx (%.2f s vs %.2f s)' % (NOOP_MIN_SPEEDUP_OVER_COMMUNITY, speedup, crane_above, community_above))
    first = float(median_of(bench.samples[(size, 'crane', 'first deploy')], 'module'))
    cli_first = float(median_of(bench.samples[(size, 'cli', 'first deploy')], 'module'))
    verdict(first <= FIRST_DEPLOY_MAX_RATIO_TO_CLI * cli_first,
            'first deploy of N=%d at most %.1fx the CLI\'s time (module process vs CLI process): %.2fx (%.2f s vs %.2f s)'
            % (size, FIRST_DEPLOY_MAX_RATIO_TO_CLI, first / cli_first, first, cli_first))
    for step in ('first deploy', 'no-op redeploy'):
        bundle_above = median_of(bench.samples[(size, 'crane', step)], 'wall') - empty
        compose_above = median_of(bench.samples[(size, 'compose', step)], 'wall') - empty
        ratio = compose_above / bundle_above
        verdict(compose_above <= COMPOSE_MAX_RATIO_TO_BUNDLE * bundle_above,
                '%s of N=%d from a compose file at most %.1fx the time from the same bundle, above an empty '
                'playbook: %.2fx (%.2f s vs %.2f s)'
                % (step, size, COMPOSE_MAX_RATIO_TO_BUNDLE, ratio, compose_above, bundle_above))
    changes = [sample['kinds'] for n in bench.sizes for tool in CRANE_TOOLS
               for sample in bench.samples[(n, tool, 'one service changed')]]
    one_update = all(kinds.get('POST /services/{id}/update', 0) == 1 and not kinds.get('POST /services/create')
                     for kinds in changes)
    verdicts.append('%s: a one-service change sends exactly one service update request and no create (every N, '
                    'every round)' % ('PASS' if one_update else 'MISS'))
    return verdicts


def main(argv=None):
    parser = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    parser.add_argument('--sizes', type=parse_int_list, default=[10, 50, 200], help='stack sizes N (default 10,50,200)')
    parser.add_argument('--rounds', type=int, default=5, help='interleaved rounds per N (default 5)')
    parser.add_argument('--sandbox', default='bench', help='name of the benchmark\'s own sandbox (default bench)')
    parser.add_argument('--parts', default='deploy,resolve',
                        help='deploy (the four tools), resolve (resolve_image against a registry), or both (default)')
    args = parser.parse_args(argv)
    parts = [part.strip() for part in args.parts.split(',') if part.strip()]
    if not parts or set(parts) - {'deploy', 'resolve'}:
        parser.error('--parts takes deploy, resolve or both, comma-separated')
    texts = {}
    with bench_sandbox(args.sandbox, nodes=3, managers=1) as (sandbox, workdir):
        bench = StackBenchmark(sandbox, workdir, args.sizes, args.rounds)
        facts = machine_facts(sandbox, MANAGER)
        if 'deploy' in parts:
            bench.run()
            texts['stack_deploy'] = report(bench, facts, args.rounds)
        if 'resolve' in parts:
            if 'deploy' not in parts:
                bench.prepare(community=False)
            resolve = ResolveBenchmark(bench)
            resolve_facts = machine_facts(sandbox, MANAGER)
            resolve.run()
            texts['stack_resolve'] = resolve_report(resolve, resolve_facts, args.rounds)
    for key, text in texts.items():
        publish(key, text)


if __name__ == '__main__':
    main()
