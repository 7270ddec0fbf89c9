# Copyright: crane.swarm developers
# GNU General Public License v3.0+ (see https://www.gnu.org/licenses/gpl-3.0.txt)
"""What both benchmarks share: their own sandbox, timed playbooks and commands, statistics, the report.

The sandbox and playbook runs come from the integration harness
(tests/integration/harness.py) and the sandbox tool; this module adds only
what benchmarks need on top: timing inside a host, the counting proxy, and
the results file.
"""

from __future__ import annotations

import collections
import contextlib
import datetime
import json
import os
import platform
import re
import shutil
import signal
import statistics
import subprocess
import sys
import tempfile
import time

BENCH = os.path.dirname(os.path.abspath(__file__))
REPO = os.path.dirname(BENCH)
sys.path.insert(0, os.path.join(REPO, 'tests', 'integration'))

from harness import PlaybookRunner, SandboxHandle, sandbox_tool  # noqa: E402

__all__ = ['BENCH', 'REPO', 'HostTools', 'PlaybookRunner', 'SandboxHandle', 'bench_sandbox', 'facts_table',
           'machine_facts', 'median_and_range', 'parse_int_list', 'publish', 'timed_playbook', 'write_section']

RESULTS = os.path.join(BENCH, 'results.md')
HOST_DIR = '/run/crane-bench'  # a tmpfs inside the host: gone with the host


def parse_int_list(text):
    """'10,50,200' -> [10, 50, 200]."""
    values = [int(piece) for piece in text.split(',') if piece.strip()]
    if not values or any(value < 1 for value in values):
        raise ValueError('expected positive integers separated by commas, got %r' % text)
    return values


def median_and_range(values):
    """(median, min, max) of a non-empty list; None for an empty one."""
    if not values:
        return None
    return statistics.median(values), min(values), max(values)


def task_medians(profiles):
    """{task: median seconds} over several per-task profiles ({task: seconds}); a task missing from one counts 0."""
    names = []
    for profile in profiles:
        names += [name for name in profile if name not in names]
    return collections.OrderedDict((name, median_and_range([p.get(name, 0.0) for p in profiles])[0]) for name in names)


@contextlib.contextmanager
def bench_sandbox(name, nodes=3, managers=1, flavour='engine'):
    """A sandbox of its own for one benchmark, with a scratch folder; both are removed whatever happens.

    SIGTERM and SIGHUP become SystemExit so that the clean-up runs when the
    benchmark is stopped as well as when it fails.
    """
    if os.geteuid() != 0:
        raise SystemExit('bench: run as root (the sandbox starts engines, bridges and iptables rules)')
    previous = dict((sig, signal.getsignal(sig)) for sig in (signal.SIGTERM, signal.SIGHUP))

    def stop(signum, frame):
        raise SystemExit('bench: stopped by signal %d; removing the sandbox' % signum)

    for sig in previous:
        signal.signal(sig, stop)
    tool = sandbox_tool.Sandbox(name, nodes=nodes, managers=managers, flavour=flavour)
    workdir = tempfile.mkdtemp(prefix='crane-bench-')
    # Pipelining sends each module over the connection's stdin: one `docker exec` per task
    # instead of several. Both Ansible modules under test get it; it is what a fast setup uses.
    os.environ['ANSIBLE_PIPELINING'] = 'True'
    try:
        log('bringing up sandbox %s (%d hosts)' % (name, nodes))
        try:
            tool.up()
        except SystemExit as exc:  # e.g. an outer engine restarted a moment ago: one more try from scratch
            log('the sandbox did not come up (%s); trying once more' % exc)
            tool.down()
            tool.up()
        yield SandboxHandle(tool), workdir
    finally:
        log('removing sandbox %s' % name)
        try:
            tool.down()
        finally:
            shutil.rmtree(workdir, ignore_errors=True)
            for sig, handler in previous.items():
                signal.signal(sig, handler)


def log(message):
    print('bench: %s' % message, file=sys.stderr, flush=True)


def timed_playbook(runner, plays, **kwargs):
    """(wall seconds of the whole ansible-playbook process, its outcome)."""
    started = time.perf_counter()
    outcome = runner(plays, **kwargs)
    return time.perf_counter() - started, outcome


# A shell wrapper set as ansible_python_interpreter: it times each module process on the
# host, from the interpreter's start to its exit, without touching the module.
TIMED_PYTHON = """#!/bin/sh
start=$(date +%%s.%%N)
/usr/bin/python3 "$@"
status=$?
echo "$start $(date +%%s.%%N)" >> %(log)s
exit $status
"""

# Runs a command inside a host and prints its wall time measured there, so that
# `docker exec`'s own overhead does not count.
TIME_COMMAND = ("import json, subprocess, sys, time; started = time.perf_counter(); "
                "done = subprocess.run(sys.argv[1:], stdout=subprocess.PIPE, stderr=subprocess.PIPE); "
                "print(json.dumps(dict(seconds=time.perf_counter() - started, rc=done.returncode, "
                "stdout=done.stdout.decode(errors='replace')[-2000:], stderr=done.stderr.decode(errors='replace')[-2000:])))")


class HostTools:
    """The benchmark's helpers inside one host: the counting proxy, the timed interpreter, timed commands."""

    def __init__(self, sandbox, host):
        self.sandbox = sandbox
        self.host = host
        self.proxy_socket = HOST_DIR + '/docker.sock'
        self.request_log = HOST_DIR + '/requests.log'
        self.module_log = HOST_DIR + '/module-times.log'
        # Not in HOST_DIR: that tmpfs is mounted noexec. The host's root filesystem goes with the host.
        self.timed_python = '/usr/local/bin/crane-bench-python3'

    @property
    def docker_host(self):
        return 'unix://' + self.proxy_socket

    def write(self, path, text, mode='0644'):
        self.sandbox.exec(self.host, 'sh', '-c', 'cat > %s && chmod %s %s' % (path, mode, path),
                          input_bytes=text.encode())

    def install(self):
        self.sandbox.exec(self.host, 'mkdir', '-p', HOST_DIR)
        with open(os.path.join(BENCH, 'count_proxy.py')) as source:
            self.write(HOST_DIR + '/count_proxy.py', source.read())
        self.write(self.timed_python, TIMED_PYTHON % dict(log=self.module_log), mode='0755')
        self.sandbox.tool.exec(self.host, 'touch', self.request_log, self.module_log)
        # -d: the proxy lives as long as the host (the sandbox's teardown ends it).
        sandbox_tool.docker('exec', '-d', self.sandbox.tool.container(self.host), 'python3',
                            HOST_DIR + '/count_proxy.py', '--listen', self.proxy_socket, '--log', self.request_log)
        deadline = time.time() + 20
        while self.sandbox.exec(self.host, 'test', '-S', self.proxy_socket, check=False).returncode != 0:
            if time.time() > deadline:
                raise SystemExit('bench: the counting proxy did not start on %s' % self.host)
            time.sleep(0.2)

    def take_requests(self):
        """[(method, path)] relayed since the last call; the log starts afresh."""
        text = self.sandbox.exec(self.host, 'sh', '-c', 'cat %s; : > %s' % (self.request_log, self.request_log)).stdout
        return [tuple(line.split(' ', 2)[1:]) for line in text.splitlines() if line.strip()]

    def take_module_seconds(self):
        """Wall seconds of each module process run since the last call."""
        text = self.sandbox.exec(self.host, 'sh', '-c', 'cat %s; : > %s' % (self.module_log, self.module_log)).stdout
        return [float(end) - float(start) for start, end in (line.split() for line in text.splitlines() if line)]

    def timed(self, *argv):
        """Run argv in the host; (seconds measured in the host, completed result as a dict)."""
        result = self.sandbox.exec(self.host, 'python3', '-c', TIME_COMMAND, *argv)
        outcome = json.loads(result.stdout)
        return outcome['seconds'], outcome


def machine_facts(sandbox, host):
    """Machine, versions and date for the report's header."""
    cpu = ''
    with contextlib.suppress(OSError):
        with open('/proc/cpuinfo') as cpuinfo:
            cpu = next((line.split(':', 1)[1].strip() for line in cpuinfo if line.startswith('model name')), '')
    memory = ''
    with contextlib.suppress(OSError):
        with open('/proc/meminfo') as meminfo:
            kib = int(re.search(r'MemTotal:\s+(\d+)', meminfo.read()).group(1))
            memory = '%.0f GiB' % (kib / 1024 / 1024)

    def out(argv):
        try:
            return subprocess.run(argv, stdout=subprocess.PIPE, stderr=subprocess.DEVNULL,
                                  universal_newlines=True, check=False).stdout.strip()
        except OSError:
            return ''

    try:
        from ansible.release import __version__ as ansible_core_version
    except ImportError:
        ansible_core_version = '?'
    engine = sandbox.exec(host, 'docker', 'version', '--format', '{{.Server.Version}} (API {{.Server.APIVersion}})',
                          check=False).stdout.strip()
    sdk = sandbox.exec(host, 'python3', '-c', 'import docker; print(docker.__version__)', check=False).stdout.strip()
    host_python = sandbox.exec(host, 'python3', '-c', 'import platform; print(platform.python_version())',
                               check=False).stdout.strip()
    community_docker = ''
    with contextlib.suppress(ImportError, OSError, ValueError, KeyError, IndexError):
        import ansible_collections.community.docker as community_package
        with open(os.path.join(list(community_package.__path__)[0], 'MANIFEST.json')) as manifest:
            community_docker = json.load(manifest)['collection_info']['version']
    with open(os.path.join(REPO, 'galaxy.yml')) as galaxy:
        crane_version = re.search(r'^version:\s*(\S+)', galaxy.read(), re.M).group(1)
    commit = out(['git', '-C', REPO, 'rev-parse', '--short', 'HEAD'])
    dirty = out(['git', '-C', REPO, 'status', '--porcelain', '--', 'plugins'])
    return [
        ('date', datetime.datetime.now(datetime.timezone.utc).strftime('%Y-%m-%d %H:%M UTC')),
        ('machine', '%s, %d cores, %s, Linux %s' % (cpu or platform.machine(), os.cpu_count() or 0, memory,
                                                    platform.release())),
        ('load at start', '%.2f %.2f %.2f (1, 5, 15 min)' % os.getloadavg()),
        ('crane.swarm', '%s (commit %s%s)' % (crane_version, commit or '?',
                                              ', plugins modified' if dirty else '')),
        ('ansible-core', ansible_core_version),
        ('community.docker', community_docker or '?'),
        ('controller Python', platform.python_version()),
        ('sandbox hosts', 'Docker %s, docker SDK %s, Python %s' % (engine, sdk, host_python)),
    ]


def write_section(key, markdown, path=RESULTS):
    """Put `markdown` between this benchmark's markers in results.md, keeping the other benchmark's section."""
    begin, end = '<!-- %s -->' % key, '<!-- /%s -->' % key
    text = ''
    if os.path.exists(path):
        with open(path) as results:
            text = results.read()
    block = '%s\n%s\n%s' % (begin, markdown.strip(), end)
    if begin in text and end in text:
        text = text[:text.index(begin)] + block + text[text.index(end) + len(end):]
    else:
        if not text:
            text = ('# crane.swarm benchmarks\n\nWritten by `bench/stack_deploy.py` and `bench/cluster_formation.py` '
                    '(see bench/README.md); each run replaces its own section.\n')
        text = text.rstrip('\n') + '\n\n' + block
    with open(path, 'w') as results:
        results.write(text.rstrip('\n') + '\n')


def facts_table(facts, rounds_text):
    """The report's header: machine, versions, date and how the rounds ran, as Markdown lines."""
    # The machine may be shared: the load before and after tells how quiet the run was.
    facts = list(facts) + [('load at end', '%.2f %.2f %.2f (1, 5, 15 min)' % os.getloadavg())]
    return ['| | |', '| --- | --- |'] + ['| %s | %s |' % fact for fact in facts] + ['| rounds | %s |' % rounds_text, '']


def publish(key, text):
    """Print a benchmark's report and put it in its section of results.md."""
    print(text)
    write_section(key, text)
    print('\nwritten to %s' % os.path.relpath(RESULTS, REPO))
