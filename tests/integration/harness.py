# Copyright: crane.swarm developers
# GNU General Public License v3.0+ (see https://www.gnu.org/licenses/gpl-3.0.txt)
"""The integration tests' harness: the sandbox's hosts and real ansible-playbook runs.

  SandboxHandle   verification helpers over the hosts of tests/sandbox/sandbox.py
  PlaybookRunner  runs plays (Python data or YAML text) with ansible-playbook; results as JSON;
                  start() runs one in the background (BackgroundPlaybook: wait, kill)
  regrouped_inventory  the sandbox's inventory with other hosts in swarm_managers / swarm_workers
  form_swarm3     forms node1 (manager) + node2, node3 (workers, or managers) with crane.swarm.swarm
  Registries      the sandbox's two registries (plain HTTP; TLS + htpasswd): push images, read digests
  deploy, service, bundle, inspect, time_of   swarm_stack plays, extended-DAB bundles, live service specs

conftest.py makes fixtures of them; tests import this module for anything else.
"""

from __future__ import annotations

import base64
import contextlib
import itertools
import json
import os
import signal
import socket
import subprocess
import sys
import time

import yaml

HERE = os.path.dirname(os.path.abspath(__file__))
REPO = os.path.dirname(os.path.dirname(HERE))
sys.path.insert(0, os.path.join(REPO, 'tests', 'sandbox'))

import sandbox as sandbox_tool  # noqa: E402  (the sandbox script, imported as a library)

__all__ = ['ACCEPT_THEN_SILENCE', 'BackgroundPlaybook', 'FORM_SWARM3', 'PlaybookRun', 'PlaybookRunner',
           'Registries', 'SandboxHandle', 'ansible_environment', 'bundle', 'chrony_server', 'chronyd_path',
           'collections_path', 'deploy', 'form_swarm3', 'formation_plays', 'inspect', 'regrouped_inventory',
           'sandbox_tool', 'service', 'time_of']

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
        """Every host leaves its swarm and drops its containers: a clean slate for the next test.

        Checked, not assumed: a host whose engine a test left stopped is started, a leave that did not
        take is retried and then retried after an engine restart, and a host still in a swarm after that
        fails here, with its state, instead of failing every later test that forms a swarm.
        """
        for host in self.hosts:
            self.leave_swarm(host)
        for host in self.hosts:
            ids = self.docker(host, 'ps', '-aq', check=False).stdout.split()
            if ids:
                self.docker(host, 'rm', '--force', *ids, check=False)

    def leave_swarm(self, host):
        if not self.tool.engine_answers(host):
            self.start_engine(host)
        attempts = []
        for attempt in range(4):
            if attempt == 2:
                self.exec(host, 'systemctl', 'restart', 'docker.service', check=False)
                self.tool.wait_engine(host)
            left = self.docker(host, 'swarm', 'leave', '--force', check=False)
            state = self.swarm_state(host).get('LocalNodeState')
            if state == 'inactive':
                return
            attempts.append('leave rc=%d %s; then LocalNodeState=%s'
                            % (left.returncode, (left.stderr or left.stdout).strip(), state))
            time.sleep(2)
        raise AssertionError('%s would not leave its swarm:\n  %s' % (host, '\n  '.join(attempts)))

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

    def entry(self, task_name, host):
        """The record of one task on one host: task, host, status, seconds, result."""
        for entry in self.tasks:
            if entry['task'] == task_name and entry['host'] == host:
                return entry
        raise KeyError('no result of task %r on %s; tasks: %s'
                       % (task_name, host, sorted(set((e['task'], e['host']) for e in self.tasks))))

    def result(self, task_name, host):
        return self.entry(task_name, host)['result']

    def status(self, task_name, host):
        return self.entry(task_name, host)['status']

    def seconds(self, task_name, host):
        """How long the task took on the host, from its start to its result (connection, module start included)."""
        return self.entry(task_name, host)['seconds']

    @property
    def changed(self):
        return sum(host_stats.get('changed', 0) for host_stats in self.stats.values())


def regrouped_inventory(sandbox, path, managers, workers=()):
    """Write the sandbox's inventory to `path` with `managers` in swarm_managers and `workers` in
    swarm_workers (the sandbox's own has its first host a manager, the others workers); return the path."""
    with open(sandbox.inventory) as handle:
        inventory = json.load(handle)
    groups = inventory['all']['children']
    groups['swarm_managers']['hosts'] = dict((host, {}) for host in managers)
    groups['swarm_workers']['hosts'] = dict((host, {}) for host in workers)
    with open(path, 'w') as handle:
        json.dump(inventory, handle)
    return str(path)


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
    """Runs plays (Python data or YAML text) against the sandbox; each run gets its own files in `workdir`.

    `inventory`: another inventory file than the sandbox's own (e.g. from regrouped_inventory).
    """

    def __init__(self, sandbox, workdir, inventory=None):
        self.sandbox = sandbox
        self.workdir = workdir
        self.inventory = inventory or sandbox.inventory
        self.count = 0

    def __call__(self, plays, check=False, diff=False, extra_vars=None, verbosity=0, expect_failure=False,
                 timeout=900):
        return self.start(plays, check=check, diff=diff, extra_vars=extra_vars, verbosity=verbosity).wait(
            expect_failure=expect_failure, timeout=timeout)

    def start(self, plays, check=False, diff=False, extra_vars=None, verbosity=0):
        """Start ansible-playbook and return at once: a BackgroundPlaybook to wait for (or to kill)."""
        self.count += 1
        playbook = os.path.join(self.workdir, 'playbook-%d.yml' % self.count)
        with open(playbook, 'w') as playbook_file:
            playbook_file.write(plays if isinstance(plays, str) else yaml.safe_dump(plays, sort_keys=False))
        record_file = os.path.join(self.workdir, 'record-%d.json' % self.count)
        argv = [os.path.join(VENV_BIN, 'ansible-playbook'), '-i', self.inventory, playbook]
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
        return BackgroundPlaybook(argv, env, record_file)


class BackgroundPlaybook:
    """One ansible-playbook process in its own process group (so that a test can kill the whole controller)."""

    def __init__(self, argv, env, record_file):
        self.record_file = record_file
        self.output_file = record_file[:-len('.json')] + '.out'
        with open(self.output_file, 'w') as output:
            self.process = subprocess.Popen(argv, env=env, stdout=output, stderr=subprocess.STDOUT,
                                            universal_newlines=True, start_new_session=True)

    def running(self):
        return self.process.poll() is None

    def kill(self):
        """SIGKILL to ansible-playbook and every process it started (its workers, `docker exec` clients)."""
        os.killpg(self.process.pid, signal.SIGKILL)
        self.process.wait()

    def wait(self, expect_failure=False, timeout=900):
        """The PlaybookRun once the process ended; asserts its exit status unless expect_failure is None."""
        try:
            self.process.wait(timeout)
        except subprocess.TimeoutExpired:
            self.kill()
            raise
        with open(self.output_file) as output:
            completed = subprocess.CompletedProcess(self.process.args, self.process.returncode, output.read())
        record = {}
        if os.path.exists(self.record_file):
            with open(self.record_file) as record_handle:
                record = json.load(record_handle)
        outcome = PlaybookRun(completed, record)
        if expect_failure:
            assert outcome.rc != 0, 'the playbook was expected to fail but passed:\n' + outcome.output[-4000:]
        elif expect_failure is not None:
            assert outcome.rc == 0, 'the playbook failed (rc %d):\n%s' % (outcome.rc, outcome.output[-6000:])
        return outcome


def formation_plays(managers=1, hosts=('node1', 'node2', 'node3')):
    """Plays that form a swarm with crane.swarm.swarm: the first `managers` hosts managers, the rest workers.

    Managers join one at a time (throttle 1), as the cluster role does, so that the raft grows by one each step.
    """
    plays = [{'name': 'initialise', 'hosts': hosts[0], 'gather_facts': False, 'tasks': [
        {'name': 'init', 'crane.swarm.swarm': {
            'state': 'present', 'advertise_addr': '{{ crane_sandbox_address }}'},
         'register': 'init'},
    ]}]
    for role, members in (('manager', hosts[1:managers]), ('worker', hosts[managers:])):
        if not members:
            continue
        task = {'name': 'join', 'crane.swarm.swarm': {
            'state': 'join', 'role': role, 'advertise_addr': '{{ crane_sandbox_address }}',
            'remote_addrs': ['{{ hostvars.%s.crane_sandbox_address }}' % hosts[0]],
            'join_token': '{{ hostvars.%s.init.join_tokens.%s }}' % (hosts[0], role)}}
        if role == 'manager':
            task['throttle'] = 1
        plays.append({'name': 'join %ss' % role, 'hosts': ':'.join(members), 'gather_facts': False,
                      'tasks': [task]})
    return plays


FORM_SWARM3 = formation_plays(managers=1)


# An OUTPUT rule for a joining host: its connections to 2377 open (SYN and ACK are short) but nothing
# longer passes, so the managers accept the connection and the join's TLS handshake never completes.
ACCEPT_THEN_SILENCE = ['OUTPUT', '-p', 'tcp', '--dport', '2377', '-m', 'length', '--length', '100:65535', '-j', 'DROP']


def wait_for(what, predicate, timeout=60, poll=0.5):
    """Poll `predicate` until it holds; fail naming `what` after `timeout` seconds."""
    deadline = time.time() + timeout
    while time.time() < deadline:
        if predicate():
            return
        time.sleep(poll)
    raise AssertionError('timed out after %d s waiting for %s' % (timeout, what))


def form_swarm3(sandbox, runner, managers=1):
    """A fresh three-node swarm formed with our own module (node1 the leader); returns {host: node id}."""
    sandbox.reset_swarm()
    runner(formation_plays(managers))
    node_ids = dict((host, sandbox.swarm_state(host)['NodeID']) for host in sandbox.hosts)
    deadline = time.time() + 30
    while time.time() < deadline:
        states = sandbox.docker(
            'node1', 'node', 'ls', '--format', '{{.Hostname}} {{.Status}}').stdout.split('\n')
        if sum(1 for line in states if line.endswith('Ready')) == len(sandbox.hosts):
            break
        time.sleep(0.5)
    return node_ids


# ----------------------------------------------------------------------------- stacks: plays, bundles, live specs

def deploy(stack, task='deploy', **options):
    """A play running crane.swarm.swarm_stack (task name `task`) on node1 for `stack`, waiting 120 s unless told."""
    options.setdefault('wait_timeout', 120)
    return {'hosts': 'node1', 'gather_facts': False,
            'tasks': [{'name': task, 'crane.swarm.swarm_stack': dict(name=stack, **options)}]}


def service(image='busybox:latest', **extra):
    """A bundle service sleeping for an hour in `image`, with `extra` bundle keys."""
    spec = {'Image': image, 'Command': ['sleep'], 'Args': ['3600']}
    spec.update(extra)
    return spec


def bundle(**services):
    """An extended-DAB bundle of these services."""
    return {'Version': '0.1', 'Services': services}


def inspect(sandbox, name):
    """The live service as the manager node1 holds it (docker service inspect)."""
    return sandbox.docker_json('node1', 'service', 'inspect', name)[0]


def time_of(stamp):
    """Seconds since midnight of an engine timestamp (to compare times of one short test)."""
    clock = stamp.rstrip('Z').split('T')[1]
    hours, minutes, seconds = clock.split(':')
    return int(hours) * 3600 + int(minutes) * 60 + float(seconds[:9])


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


class NtpResponder:
    """tests/tools/ntp_responder.py on `address` (the sandbox bridge's gateway), answering with the
    machine's time shifted by `offset` seconds; `server` is its host:port for the modules."""

    def __init__(self, address, tmp_path, offset=0.0):
        ready = tmp_path / ('ntp-ready-%s' % offset)
        self.process = subprocess.Popen([sys.executable, os.path.join(REPO, 'tests', 'tools', 'ntp_responder.py'),
                                         '--listen', address, '--port', '0', '--offset', str(offset),
                                         '--ready-file', str(ready)], stdout=subprocess.DEVNULL)
        deadline = time.time() + 10
        while not ready.exists() and time.time() < deadline:
            time.sleep(0.05)
        assert ready.exists(), 'the NTP responder did not start'
        host, port = ready.read_text().split()[1:]
        self.server = '%s:%s' % (host, port)

    def stop(self):
        self.process.send_signal(signal.SIGTERM)
        self.process.wait(10)


class Registries:
    """The sandbox's registries (sandbox.py registry-up): `plain` and `secure` are their host:port.

    Images are pushed from a host's engine with a docker config of their own (`PUSH_CONFIG`), so no
    host's default docker config ever holds the secure registry's credentials unless a test puts them
    there. A pushed image is removed from the pushing host again, and no host holds the tag before the
    push: every node that runs it pulled it. (The hosts keep what they pulled in an earlier session,
    while the registries are new each session: a stale copy under the tag would run where a pull fails.)
    """

    PUSH_CONFIG = '/root/.crane-push'

    def __init__(self, sandbox, workdir):
        self.sandbox = sandbox
        self.workdir = workdir
        self.description = sandbox_tool.start_registries(sandbox.tool, workdir)
        self.plain = self.description['plain']
        self.secure = self.description['secure']
        self.username = self.description['username']
        self.password = self.description['password']
        self.ca_file = self.description['ca_file']
        self._tarball = None

    def stop(self):
        sandbox_tool.stop_registries(self.workdir)

    def push(self, ref, content, host='node1'):
        """Push busybox as `ref` (a tag on either registry), made distinct by a label `crane.content`;
        return the digest the registry gave it (sha256:...)."""
        if self._tarball is None:
            self._tarball = sandbox_tool.busybox_tarball()
        for other in self.sandbox.hosts:
            self.sandbox.docker(other, 'image', 'rm', '--force', ref, check=False)
        self.sandbox.exec(host, 'docker', 'import', '-c', 'CMD ["sh"]', '-c', 'LABEL crane.content=%s' % content,
                          '-', ref, input_bytes=self._tarball)
        if ref.startswith(self.secure + '/'):
            self.sandbox.exec(host, 'docker', '--config', self.PUSH_CONFIG, 'login', '-u', self.username,
                              '--password-stdin', self.secure, input_bytes=self.password.encode())
        pushed = self.sandbox.exec(host, 'docker', '--config', self.PUSH_CONFIG, 'push', ref).stdout
        self.sandbox.docker(host, 'image', 'rm', ref)
        digests = [word for word in pushed.split() if word.startswith('sha256:')]
        if not digests:
            raise AssertionError('push of %s gave no digest: %s' % (ref, pushed))
        return digests[-1]

    def manifest_digest(self, ref):
        """The digest the registry serves for a tag now, read with its HTTP API (not our code)."""
        import ssl
        import urllib.request
        name, dummy, tag = ref.rpartition(':')
        address, dummy, repository = name.partition('/')
        secure = address == self.secure
        url = '%s://%s/v2/%s/manifests/%s' % ('https' if secure else 'http', address, repository, tag)
        request = urllib.request.Request(url, method='HEAD')
        request.add_header('Accept', 'application/vnd.docker.distribution.manifest.v2+json')
        if secure:
            import base64
            token = base64.b64encode(('%s:%s' % (self.username, self.password)).encode()).decode()
            request.add_header('Authorization', 'Basic ' + token)
        context = ssl.create_default_context(cafile=self.ca_file) if secure else None
        with urllib.request.urlopen(request, timeout=5, context=context) as response:
            return response.headers['Docker-Content-Digest']


def credential_forms(registries, password=None):
    """Every form in which a password could leak: plain, base64 of user:password and of itself, and the
    X-Registry-Auth header's JSON (its keys in any order, spaced or compact), base64 and URL-safe base64."""
    password = password or registries.password
    pair = ('%s:%s' % (registries.username, password)).encode()
    forms = [password, base64.b64encode(pair).decode(), base64.b64encode(password.encode()).decode()]
    fields = {'username': registries.username, 'password': password, 'serveraddress': registries.secure}
    for order in itertools.permutations(sorted(fields)):
        for separators in ((', ', ': '), (',', ':')):
            header = json.dumps({key: fields[key] for key in order}, separators=separators).encode()
            forms += [base64.urlsafe_b64encode(header).decode(), base64.b64encode(header).decode()]
    return forms


def assert_never_shown(run, registries, *passwords):
    """No form of the passwords in the run's output or recorded results (a failure does not print them either)."""
    recorded = json.dumps(run.tasks)
    for password in passwords or (None,):
        for number, form in enumerate(credential_forms(registries, password)):
            shown = form in run.output or form in recorded
            assert not shown, 'credential form %d (credential_forms) shows in the output or a result' % number
