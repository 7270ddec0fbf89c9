# Copyright: crane.swarm developers
# GNU General Public License v3.0+ (see https://www.gnu.org/licenses/gpl-3.0.txt)
"""The integration tests' harness: the sandbox's hosts and real ansible-playbook runs.

  SandboxHandle   verification helpers over the hosts of tests/sandbox/sandbox.py
  PlaybookRunner  runs plays (Python data or YAML text) with ansible-playbook; results as JSON
  form_swarm3     forms node1 (manager) + node2, node3 (workers) with crane.swarm.swarm

conftest.py makes fixtures of them; tests import this module for anything else.
"""

from __future__ import annotations

import contextlib
import json
import os
import socket
import subprocess
import sys
import time

import yaml

HERE = os.path.dirname(os.path.abspath(__file__))
REPO = os.path.dirname(os.path.dirname(HERE))
sys.path.insert(0, os.path.join(REPO, 'tests', 'sandbox'))

import sandbox as sandbox_tool  # noqa: E402  (the sandbox script, imported as a library)

__all__ = ['FORM_SWARM3', 'PlaybookRun', 'PlaybookRunner', 'SandboxHandle', 'ansible_environment',
           'chrony_server', 'chronyd_path', 'collections_path', 'form_swarm3', 'sandbox_tool']

COLLECTIONS_ROOT = os.path.join(REPO, 'build', 'collections')
VENV_BIN = os.path.dirname(sys.executable)


def collections_path():
    """ansible_collections/crane/swarm -> this repository, so the tree is the installed collection."""
    link = os.path.join(COLLECTIONS_ROOT, 'ansible_collections', 'crane', 'swarm')
    if not os.path.islink(link):
        os.makedirs(os.path.dirname(link), exist_ok=True)
        os.symlink(REPO, link)
    return COLLECTIONS_ROOT


class SandboxHandle:
    def __init__(self, tool):
        self.tool = tool
        self.inventory = tool.inventory_path

    @property
    def hosts(self):
        return self.tool.hosts

    def address(self, host):
        return self.tool.address(host)

    @property
    def gateway(self):
        return self.tool.gateway

    def exec(self, host, *argv, check=True, input_bytes=None):
        result = self.tool.exec(host, *argv, check=False, input_bytes=input_bytes)
        result.stdout = result.stdout.decode(errors='replace')
        result.stderr = result.stderr.decode(errors='replace')
        if check and result.returncode != 0:
            raise AssertionError('%s: %s failed (%d): %s' % (host, ' '.join(argv), result.returncode, result.stderr))
        return result

    def docker(self, host, *args, check=True):
        """`docker ARGS` inside a host, against that host's engine. For verification and set-up only."""
        return self.exec(host, 'docker', *args, check=check)

    def docker_json(self, host, *args):
        return json.loads(self.docker(host, *args).stdout)

    def api(self, host, path):
        """GET an Engine API path on a host's engine (what `docker` CLI commands do not show)."""
        return json.loads(self.exec(host, 'curl', '-sf', '--unix-socket', '/var/run/docker.sock',
                                    'http://engine' + path).stdout)

    def swarm_state(self, host):
        return self.docker_json(host, 'info', '--format', '{{json .Swarm}}')

    def reset_swarm(self):
        """Every host leaves its swarm and drops its containers: a clean slate for the next test."""
        for host in self.hosts:
            self.docker(host, 'swarm', 'leave', '--force', check=False)
        for host in self.hosts:
            ids = self.docker(host, 'ps', '-aq', check=False).stdout.split()
            if ids:
                self.docker(host, 'rm', '--force', *ids, check=False)

    def stop_engine(self, host):
        self.exec(host, 'systemctl', 'stop', 'docker.socket', 'docker.service')

    def start_engine(self, host):
        self.exec(host, 'systemctl', 'start', 'docker.service')
        self.tool.wait_engine(host)


class PlaybookRun:
    def __init__(self, completed, record):
        self.rc = completed.returncode
        self.output = completed.stdout
        self.tasks = record.get('tasks', [])
        self.stats = record.get('stats', {})

    def result(self, task_name, host):
        for entry in self.tasks:
            if entry['task'] == task_name and entry['host'] == host:
                return entry['result']
        raise KeyError('no result of task %r on %s; tasks: %s'
                       % (task_name, host, sorted(set((e['task'], e['host']) for e in self.tasks))))

    def status(self, task_name, host):
        for entry in self.tasks:
            if entry['task'] == task_name and entry['host'] == host:
                return entry['status']
        raise KeyError(task_name)

    @property
    def changed(self):
        return sum(host_stats.get('changed', 0) for host_stats in self.stats.values())


def ansible_environment():
    env = dict(os.environ)
    env.update(
        ANSIBLE_COLLECTIONS_PATH=collections_path(),
        ANSIBLE_CALLBACK_PLUGINS=os.path.join(HERE, 'callback_plugins'),
        ANSIBLE_CALLBACKS_ENABLED='crane_record',
        ANSIBLE_NOCOLOR='1',
        ANSIBLE_HOST_KEY_CHECKING='False',
        ANSIBLE_RETRY_FILES_ENABLED='False',
        ANSIBLE_DEPRECATION_WARNINGS='False',
        # One `docker exec` per task instead of four (temp dir, copy, run, clean up).
        ANSIBLE_PIPELINING='True',
        PATH=VENV_BIN + os.pathsep + env.get('PATH', ''),
    )
    return env


class PlaybookRunner:
    """Runs plays (Python data or YAML text) against the sandbox; each run gets its own files in `workdir`."""

    def __init__(self, sandbox, workdir):
        self.sandbox = sandbox
        self.workdir = workdir
        self.count = 0

    def __call__(self, plays, check=False, diff=False, extra_vars=None, verbosity=0, expect_failure=False,
                 timeout=900):
        self.count += 1
        playbook = os.path.join(self.workdir, 'playbook-%d.yml' % self.count)
        with open(playbook, 'w') as playbook_file:
            playbook_file.write(plays if isinstance(plays, str) else yaml.safe_dump(plays, sort_keys=False))
        record_file = os.path.join(self.workdir, 'record-%d.json' % self.count)
        argv = [os.path.join(VENV_BIN, 'ansible-playbook'), '-i', self.sandbox.inventory, playbook]
        if check:
            argv.append('--check')
        if diff:
            argv.append('--diff')
        if extra_vars:
            argv += ['--extra-vars', json.dumps(extra_vars)]
        if verbosity:
            argv.append('-' + 'v' * verbosity)
        env = ansible_environment()
        env['CRANE_RECORD_FILE'] = record_file
        completed = subprocess.run(argv, env=env, stdout=subprocess.PIPE, stderr=subprocess.STDOUT,
                                   universal_newlines=True, timeout=timeout, check=False)
        record = {}
        if os.path.exists(record_file):
            with open(record_file) as record_handle:
                record = json.load(record_handle)
        outcome = PlaybookRun(completed, record)
        if expect_failure:
            assert outcome.rc != 0, 'the playbook was expected to fail but passed:\n' + outcome.output[-4000:]
        else:
            assert outcome.rc == 0, 'the playbook failed (rc %d):\n%s' % (outcome.rc, outcome.output[-6000:])
        return outcome


FORM_SWARM3 = [
    {'name': 'initialise', 'hosts': 'node1', 'gather_facts': False, 'tasks': [
        {'name': 'init', 'crane.swarm.swarm': {
            'state': 'present', 'advertise_addr': '{{ crane_sandbox_address }}'},
         'register': 'init'},
    ]},
    {'name': 'join workers', 'hosts': 'node2:node3', 'gather_facts': False, 'tasks': [
        {'name': 'join', 'crane.swarm.swarm': {
            'state': 'join', 'role': 'worker', 'advertise_addr': '{{ crane_sandbox_address }}',
            'remote_addrs': ['{{ hostvars.node1.crane_sandbox_address }}'],
            'join_token': '{{ hostvars.node1.init.join_tokens.worker }}'}},
    ]},
]


def form_swarm3(sandbox, runner):
    """A fresh three-node swarm formed with our own module; returns {host: node id}."""
    sandbox.reset_swarm()
    runner(FORM_SWARM3)
    node_ids = dict((host, sandbox.swarm_state(host)['NodeID']) for host in sandbox.hosts)
    deadline = time.time() + 30
    while time.time() < deadline:
        states = sandbox.docker(
            'node1', 'node', 'ls', '--format', '{{.Hostname}} {{.Status}}').stdout.split('\n')
        if sum(1 for line in states if line.endswith('Ready')) == len(sandbox.hosts):
            break
        time.sleep(0.5)
    return node_ids


# ----------------------------------------------------------------------------- a real NTP server

chronyd_path = sandbox_tool.chronyd_path


@contextlib.contextmanager
def chrony_server(address, workdir):
    """A chronyd serving this machine's clock on `address` at a free UDP port; yields the port."""
    with socket.socket(socket.AF_INET, socket.SOCK_DGRAM) as probe:
        probe.bind((address, 0))
        port = probe.getsockname()[1]
    sandbox_tool.start_ntp_server(address, port, str(workdir))
    try:
        yield port
    finally:
        sandbox_tool.stop_ntp_server(str(workdir))
