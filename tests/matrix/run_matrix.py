# Copyright: crane.swarm developers
# GNU General Public License v3.0+ (see https://www.gnu.org/licenses/gpl-3.0.txt)
"""The supported range, tested end to end (`make matrix`, part of `make test`).

For the lowest ansible-core that meta/runtime.yml declares and the newest one (the pin in
requirements-test.txt), each in a fresh virtualenv of its own:

  1. the collection is installed from its built tarball (ansible-galaxy collection install);
  2. the README's quick start (examples/quickstart: init with autolock, join, a compose stack
     whose secret file is vault-encrypted) runs at -vvv on a sandbox of Debian 11 hosts,
     whose Python 3.9 is the oldest managed-host Python the collection declares;
  3. the output is searched for every secret value: both join tokens, the unlock key, the
     secret's plain content and the vault password; an ad hoc swarm_info with join_tokens
     (the minimal callback, which prints every result) is searched too;
  4. the task's container reads the plain secret (never the vault's ciphertext);
  5. a second run reports changed=0; an unknown option is Ansible's "Unsupported parameters".

The unit tests also run on the lowest version. Exit status 0 only when every check passed.

    python3 tests/matrix/run_matrix.py [--keep]     (--keep leaves the sandbox `matrix` up)
"""

from __future__ import annotations

import argparse
import glob
import hashlib
import os
import re
import secrets
import shutil
import subprocess
import sys
import time

HERE = os.path.dirname(os.path.abspath(__file__))
REPO = os.path.dirname(os.path.dirname(HERE))
sys.path.insert(0, os.path.join(REPO, 'tests', 'sandbox'))

import sandbox as sandbox_tool  # noqa: E402

WORK = os.path.join(REPO, 'build', 'matrix')
MAIN_VENV = os.path.join(REPO, '.venv')
SANDBOX_NAME = 'matrix'
SANDBOX_FLAVOUR = 'engine-bullseye'
OLDEST_MANAGED_PYTHON = '3.9'
# What the unit tests need beside ansible-core, at the versions requirements-test.txt pins.
UNIT_REQUIREMENTS = ('pytest', 'pytest-timeout', 'hypothesis', 'jsonschema', 'PyYAML', 'docker', 'requests')


def log(message):
    print('matrix: %s' % message, flush=True)


def pins():
    """{lower-case name: version} of the == pins in requirements-test.txt."""
    found = {}
    with open(os.path.join(REPO, 'requirements-test.txt')) as requirements:
        for line in requirements:
            match = re.match(r'^([A-Za-z0-9_.\[\]-]+)==([^\s#]+)', line.strip())
            if match:
                found[match.group(1).split('[')[0].lower()] = match.group(2)
    return found


def declared_range():
    """(lowest, newest) ansible-core: the floor of requires_ansible, and the version we develop on."""
    with open(os.path.join(REPO, 'meta', 'runtime.yml')) as runtime:
        match = re.search(r'^requires_ansible:\s*["\']>=([0-9.]+)["\']', runtime.read(), re.M)
    if not match:
        raise SystemExit('matrix: meta/runtime.yml has no requires_ansible: ">=X.Y.Z"')
    return match.group(1), pins()['ansible-core']


def run(argv, check=True, env=None, capture=True, cwd=None):
    completed = subprocess.run(argv, env=env, cwd=cwd, universal_newlines=True, check=False,
                               stdout=subprocess.PIPE if capture else None,
                               stderr=subprocess.STDOUT if capture else None)
    if check and completed.returncode != 0:
        raise SystemExit('matrix: %s failed (%d):\n%s' % (' '.join(argv), completed.returncode,
                                                          (completed.stdout or '')[-6000:]))
    return completed


def fresh_venv(version):
    """A virtualenv with only ansible-core==version and the unit tests' requirements (kept while they are unchanged)."""
    venv = os.path.join(WORK, 'venv-ansible-core-%s' % version)
    wanted = ['ansible-core==%s' % version] + ['%s==%s' % (name, pins()[name.lower()]) for name in UNIT_REQUIREMENTS]
    marker = os.path.join(venv, '.crane-' + hashlib.sha256(' '.join(wanted).encode()).hexdigest()[:12])
    if not os.path.exists(marker):
        shutil.rmtree(venv, ignore_errors=True)
        log('virtualenv for ansible-core %s' % version)
        run([sys.executable, '-m', 'venv', venv])
        run([os.path.join(venv, 'bin', 'pip'), 'install', '-q'] + wanted)
        open(marker, 'w').close()
    return venv


def built_tarball():
    dist = os.path.join(WORK, 'dist')
    shutil.rmtree(dist, ignore_errors=True)
    run([os.path.join(MAIN_VENV, 'bin', 'ansible-galaxy'), 'collection', 'build', '--output-path', dist, REPO])
    return glob.glob(os.path.join(dist, 'crane-swarm-*.tar.gz'))[0]


def installed_collections(venv, version, tarball):
    """A collections path holding crane.swarm from the tarball, and community.docker for the sandbox's
    docker connection only (test infrastructure, copied from the development virtualenv)."""
    path = os.path.join(WORK, 'collections-%s' % version)
    shutil.rmtree(path, ignore_errors=True)
    run([os.path.join(venv, 'bin', 'ansible-galaxy'), 'collection', 'install', '--force', '-p', path, tarball])
    docker_collection = glob.glob(os.path.join(MAIN_VENV, 'lib', 'python3*', 'site-packages', 'ansible_collections',
                                               'community', 'docker'))[0]
    shutil.copytree(docker_collection, os.path.join(path, 'ansible_collections', 'community', 'docker'))
    return path


def ansible_env(collections, password_file):
    env = dict(os.environ)
    for name in list(env):
        if name.startswith('ANSIBLE_'):
            del env[name]
    env.update(ANSIBLE_COLLECTIONS_PATH=collections, ANSIBLE_VAULT_PASSWORD_FILE=password_file,
               ANSIBLE_NOCOLOR='1', ANSIBLE_HOST_KEY_CHECKING='False', ANSIBLE_RETRY_FILES_ENABLED='False',
               ANSIBLE_PIPELINING='True')
    return env


def recap_changed(output):
    """The sum of changed= over the PLAY RECAP lines."""
    return sum(int(number) for number in re.findall(r'^\S+\s+:\s+ok=\d+\s+changed=(\d+)', output, re.M))


class Failures:
    def __init__(self):
        self.items = []

    def check(self, condition, what):
        log('%s: %s' % ('ok  ' if condition else 'FAIL', what))
        if not condition:
            self.items.append(what)


def reset_swarm(box):
    for host in box.hosts:
        box.exec(host, 'docker', 'swarm', 'leave', '--force', check=False)


def secret_seen_by_tasks(box, service):
    """The content of /run/secrets/api_key in each running task container of the service."""
    deadline, seen = time.time() + 90, []
    while time.time() < deadline:
        seen = []
        for host in box.hosts:
            ids = box.exec(host, 'docker', 'ps', '-q', '--filter', 'label=com.docker.swarm.service.name=%s' % service,
                           check=False).stdout.decode().split()
            for container in ids:
                read = box.exec(host, 'docker', 'exec', container, 'cat', '/run/secrets/api_key', check=False)
                if read.returncode == 0:
                    seen.append(read.stdout.decode())
        if len(seen) >= 2:
            return seen
        time.sleep(2)
    return seen


def exercise(version, venv, collections, box, failures):
    """The quick start on the sandbox with this ansible-core: secrets, idempotence, arguments."""
    bin_dir = os.path.join(venv, 'bin')
    workdir = os.path.join(WORK, 'run-%s' % version)
    shutil.rmtree(workdir, ignore_errors=True)
    shutil.copytree(os.path.join(REPO, 'examples', 'quickstart'), workdir)
    api_key = 'api-key-%s' % secrets.token_hex(12)
    vault_password = 'vault-%s' % secrets.token_hex(12)
    password_file = os.path.join(workdir, '.vault-password')
    with open(password_file, 'w') as handle:
        handle.write(vault_password + '\n')
    with open(os.path.join(workdir, 'api_key.txt'), 'w') as handle:
        handle.write(api_key + '\n')
    env = ansible_env(collections, password_file)
    run([os.path.join(bin_dir, 'ansible-vault'), 'encrypt', 'api_key.txt'], env=env, cwd=workdir)
    with open(os.path.join(workdir, 'api_key.txt')) as handle:
        failures.check(handle.read().startswith('$ANSIBLE_VAULT;'), '%s: the secret file is vault-encrypted' % version)
    playbook = [os.path.join(bin_dir, 'ansible-playbook'), '-i', box.inventory_path, 'playbook.yml']
    first = run(playbook + ['-vvv'], check=False, env=env, cwd=workdir)
    with open(os.path.join(workdir, 'first-run.log'), 'w') as handle:
        handle.write(first.stdout)
    failures.check(first.returncode == 0, '%s: the quick start ran (rc %d; %s)' % (
        version, first.returncode, os.path.relpath(os.path.join(workdir, 'first-run.log'), REPO)))
    adhoc = run([os.path.join(bin_dir, 'ansible'), '-i', box.inventory_path, 'node1', '-vvv',
                 '-m', 'crane.swarm.swarm_info', '-a', 'join_tokens=true'], check=False, env=env, cwd=workdir)
    failures.check(adhoc.returncode == 0 and 'censored' in adhoc.stdout,
                   '%s: ad hoc swarm_info join_tokens=true ran and its result is censored' % version)
    node1 = box.hosts[0]
    tokens = [box.exec(node1, 'docker', 'swarm', 'join-token', '-q', role, check=False).stdout.decode().strip()
              for role in ('worker', 'manager')]
    unlock = box.exec(node1, 'docker', 'swarm', 'unlock-key', '-q', check=False).stdout.decode().strip()
    values = dict(worker_token=tokens[0], manager_token=tokens[1], unlock_key=unlock, api_key=api_key,
                  vault_password=vault_password)
    failures.check(all(value.startswith(prefix) for value, prefix in (
        (tokens[0], 'SWMTKN-'), (tokens[1], 'SWMTKN-'), (unlock, 'SWMKEY-'))),
        '%s: the swarm has join tokens and an unlock key to look for' % version)
    for name, value in sorted(values.items()):
        failures.check(value not in first.stdout and value not in adhoc.stdout,
                       '%s: %s appears nowhere in the -vvv output' % (version, name))
    seen = secret_seen_by_tasks(box, 'quickstart_app')
    failures.check(len(seen) == 2 and all(content == api_key + '\n' for content in seen),
                   '%s: both tasks read the plain secret (%s)' % (
                       version, 'plain' if seen and seen[0] == api_key + '\n' else [s[:20] for s in seen]))
    second = run(playbook, check=False, env=env, cwd=workdir)
    failures.check(second.returncode == 0 and recap_changed(second.stdout) == 0,
                   '%s: a second run reports changed=0 (changed=%d)' % (version, recap_changed(second.stdout)))
    typo = run([os.path.join(bin_dir, 'ansible'), '-i', box.inventory_path, 'node1', '-m', 'crane.swarm.swarm_stack',
                '-a', 'name=quickstart srcc=docker-stack.yml'], check=False, env=env, cwd=workdir)
    failures.check(typo.returncode != 0 and
                   'Unsupported parameters for (crane.swarm.swarm_stack) module: srcc' in typo.stdout,
                   '%s: an unknown option is "Unsupported parameters"' % version)


def main():
    parser = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    parser.add_argument('--keep', action='store_true', help='leave the sandbox up')
    args = parser.parse_args()
    os.makedirs(WORK, exist_ok=True)
    lowest, newest = declared_range()
    log('declared range: ansible-core %s to %s; managed hosts from Python %s' % (lowest, newest,
                                                                                 OLDEST_MANAGED_PYTHON))
    failures = Failures()
    tarball = built_tarball()
    venvs = dict((version, fresh_venv(version)) for version in (lowest, newest))
    log('unit tests on ansible-core %s' % lowest)
    unit = run([os.path.join(venvs[lowest], 'bin', 'python'), '-m', 'pytest', 'tests/unit', '-q', '-p',
                'no:cacheprovider'], check=False, cwd=REPO)
    print('\n'.join(unit.stdout.splitlines()[-15:]), flush=True)
    failures.check(unit.returncode == 0, 'unit tests pass on ansible-core %s' % lowest)
    box = sandbox_tool.Sandbox(SANDBOX_NAME, flavour=SANDBOX_FLAVOUR)
    box.up()
    try:
        python = box.exec(box.hosts[0], 'python3', '--version', check=False).stdout.decode().strip()
        failures.check(python.startswith('Python %s.' % OLDEST_MANAGED_PYTHON),
                       'the managed hosts run %s' % python)
        for version in (lowest, newest):
            reset_swarm(box)
            collections = installed_collections(venvs[version], version, tarball)
            exercise(version, venvs[version], collections, box, failures)
    finally:
        if not args.keep:
            box.down()
    if failures.items:
        log('%d check(s) failed:\n  %s' % (len(failures.items), '\n  '.join(failures.items)))
        return 1
    log('all checks passed on ansible-core %s and %s' % (lowest, newest))
    return 0


if __name__ == '__main__':
    sys.exit(main())
