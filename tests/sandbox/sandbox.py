# Copyright: crane.swarm developers
# GNU General Public License v3.0+ (see https://www.gnu.org/licenses/gpl-3.0.txt)
"""A multi-host sandbox on one machine: "bare host" systemd containers.

Each host is a container booted with systemd from a locally built Debian 12
image, with its own hostname, address on one private bridge network and (in
the `engine` flavour) its own Docker engine and a tiny busybox image. The
`bare` flavour starts without an engine or time daemon, for the roles'
end-to-end tests. The outer engine that runs the hosts is the machine's own
dockerd; the sandbox starts it when nothing answers and stops it again on
`down` when it started it.

    sandbox.py up [--name crane] [--nodes 3] [--flavour engine|bare|engine-bullseye]
    sandbox.py down [--name crane] [--purge-images]
    sandbox.py status [--name crane]
    sandbox.py build
    sandbox.py ntp-up [--address ADDR | --name NAME] [--port 123] --dir DIR    (a chronyd serving this clock)
    sandbox.py ntp-down --dir DIR
    sandbox.py image-archive --out PATH    (busybox:latest as a `docker save` archive)
    sandbox.py registry-up [--name NAME] --dir DIR    (registries on the gateway: plain HTTP, and TLS + htpasswd)
    sandbox.py registry-down --dir DIR

Why containers rather than network namespaces: the same hosts serve the module
tests and the roles (systemd, apt, a real engine install), modules run on the
hosts with Debian's docker SDK 5.0.3 as on real servers, and one sandbox
serves the whole project. The comments beside each flag below say which limit
of these machines it answers (measured here, not assumed).
"""

from __future__ import annotations

import argparse
import hashlib
import ipaddress
import json
import os
import shutil
import subprocess
import sys
import tempfile
import time

HERE = os.path.dirname(os.path.abspath(__file__))
REPO = os.path.dirname(os.path.dirname(HERE))
OUTPUT = os.path.join(REPO, 'tests', 'output')
STATE_DIR = '/run/crane-sandbox'
OUTER_SOCKET = '/var/run/docker.sock'
OUTER_PIDFILE = os.path.join(STATE_DIR, 'dockerd.pid')
IMAGE_REPO = 'crane-sandbox/host'
MIRROR = 'http://deb.debian.org/debian'

# Packages of a bare host (what a fresh minimal server has) and of an engine host.
BARE_PACKAGES = ['python3', 'systemd', 'systemd-sysv', 'dbus', 'apt', 'iproute2', 'iptables',
                 'procps', 'ca-certificates', 'curl', 'gnupg', 'sudo', 'netcat-openbsd']
ENGINE_PACKAGES = ['docker.io', 'python3-docker', 'busybox-static']
# Downloaded into a bare host's apt cache, not installed: the roles still install them,
# without fetching ~100 MB per host from the mirror (a local mirror, in effect).
BARE_APT_CACHE = ['docker.io', 'python3-docker', 'chrony']

# Every capability but SYS_RESOURCE (this engine lacks it, so --privileged fails) and
# SYS_TIME (the clock is the machine's: no time daemon in a host may step it).
# Docker 20.10 rejects BPF, PERFMON and CHECKPOINT_RESTORE by name.
HOST_CAPABILITIES = [
    'AUDIT_CONTROL', 'AUDIT_READ', 'AUDIT_WRITE', 'BLOCK_SUSPEND', 'CHOWN', 'DAC_OVERRIDE',
    'DAC_READ_SEARCH', 'FOWNER', 'FSETID', 'IPC_LOCK', 'IPC_OWNER', 'KILL', 'LEASE',
    'LINUX_IMMUTABLE', 'MAC_ADMIN', 'MAC_OVERRIDE', 'MKNOD', 'NET_ADMIN', 'NET_BIND_SERVICE',
    'NET_BROADCAST', 'NET_RAW', 'SETFCAP', 'SETGID', 'SETPCAP', 'SETUID', 'SYS_ADMIN',
    'SYS_BOOT', 'SYS_CHROOT', 'SYS_MODULE', 'SYS_NICE', 'SYS_PACCT', 'SYS_PTRACE',
    'SYS_RAWIO', 'SYS_TTY_CONFIG', 'SYSLOG', 'WAKE_ALARM',
]

# Runs as the container's PID 1: systemd needs a writable /sys, /proc/sys and
# cgroup hierarchies to start services (dockerd among them).
HOST_INIT = """#!/bin/sh
mount -o remount,rw /sys 2>/dev/null
mount -o remount,bind,rw /proc/sys 2>/dev/null
for hierarchy in /sys/fs/cgroup/*/; do mount -o remount,bind,rw "$hierarchy" 2>/dev/null; done
exec /sbin/init
"""

# The Debian release of each flavour's image. `engine-bullseye` is Debian 11: its Python 3.9
# is the oldest managed-host Python the collection supports (tests/matrix); it is built only
# when a sandbox of that flavour starts.
FLAVOUR_SUITES = {'bare': 'bookworm', 'engine': 'bookworm', 'engine-bullseye': 'bullseye'}

# Version of the image recipe: change it (or the package lists) to rebuild images.
RECIPE_VERSION = '2'


def log(message):
    print('sandbox: %s' % message, file=sys.stderr, flush=True)


def run(argv, check=True, capture=True, input_bytes=None, env=None):
    result = subprocess.run(argv, input=input_bytes, env=env, check=False,
                            stdout=subprocess.PIPE if capture else None,
                            stderr=subprocess.PIPE if capture else None)
    if check and result.returncode != 0:
        err = result.stderr.decode(errors='replace') if capture and result.stderr else ''
        raise SystemExit('sandbox: command failed (%d): %s\n%s' % (result.returncode, ' '.join(argv), err))
    return result


def docker(*args, check=True, input_bytes=None):
    return run(['docker', '-H', 'unix://' + OUTER_SOCKET] + list(args), check=check, input_bytes=input_bytes)


def docker_out(*args, check=True):
    return docker(*args, check=check).stdout.decode().strip()


# ----------------------------------------------------------------------------- outer engine

def outer_engine_answers():
    return docker('version', '--format', '{{.Server.Version}}', check=False).returncode == 0


def ensure_outer_engine():
    if outer_engine_answers():
        return
    if not shutil.which('dockerd'):
        raise SystemExit('sandbox: dockerd is not installed; run `make deps` (apt-get install docker.io)')
    os.makedirs(STATE_DIR, exist_ok=True)
    log_path = os.path.join(STATE_DIR, 'dockerd.log')
    with open(log_path, 'ab') as log_file:
        process = subprocess.Popen(['dockerd', '-H', 'unix://' + OUTER_SOCKET, '--pidfile', '/var/run/docker.pid'],
                                   stdout=log_file, stderr=log_file, start_new_session=True)
    with open(OUTER_PIDFILE, 'w') as pidfile:
        pidfile.write(str(process.pid))
    deadline = time.time() + 60
    while time.time() < deadline:
        if outer_engine_answers():
            log('started the outer dockerd (pid %d, log %s)' % (process.pid, log_path))
            return
        if process.poll() is not None:
            break
        time.sleep(0.5)
    raise SystemExit('sandbox: the outer dockerd did not come up; see %s' % log_path)


def stop_outer_engine_if_ours():
    """Stop the dockerd this sandbox started, and remove the iptables chains it left."""
    if not os.path.exists(OUTER_PIDFILE):
        return
    with open(OUTER_PIDFILE) as pidfile:
        pid = int(pidfile.read().strip() or 0)
    os.unlink(OUTER_PIDFILE)
    try:
        os.kill(pid, 15)
    except ProcessLookupError:
        return
    deadline = time.time() + 30
    while os.path.exists('/proc/%d' % pid) and time.time() < deadline:
        time.sleep(0.5)
    remove_docker_iptables_chains()
    log('stopped the outer dockerd (pid %d)' % pid)


def remove_docker_iptables_chains():
    """dockerd leaves its chains behind when it stops; remove them and the jumps to them."""
    if not shutil.which('iptables'):
        return
    for table, chains in (('filter', ['DOCKER-USER', 'DOCKER-ISOLATION-STAGE-1', 'DOCKER-ISOLATION-STAGE-2', 'DOCKER']),
                          ('nat', ['DOCKER'])):
        rules = run(['iptables', '-t', table, '-S'], check=False).stdout.decode().splitlines()
        for rule in rules:
            parts = rule.split()
            if len(parts) > 2 and parts[0] == '-A' and (
                    any(p in chains for p in parts[2:]) or ('MASQUERADE' in parts and 'docker0' in rule)):
                run(['iptables', '-t', table, '-D'] + parts[1:], check=False)
        for chain in chains:
            run(['iptables', '-t', table, '-F', chain], check=False)
            run(['iptables', '-t', table, '-X', chain], check=False)
    if os.path.exists('/sys/class/net/docker0'):
        run(['ip', 'link', 'delete', 'docker0'], check=False)


# ----------------------------------------------------------------------------- images

def recipe_digest(flavour):
    packages = BARE_PACKAGES + (BARE_APT_CACHE if flavour == 'bare' else ENGINE_PACKAGES)
    recipe = [RECIPE_VERSION, flavour, packages, HOST_INIT]
    if FLAVOUR_SUITES[flavour] != 'bookworm':  # the bookworm images keep the digests they had
        recipe.append(FLAVOUR_SUITES[flavour])
    material = json.dumps(recipe)
    return hashlib.sha256(material.encode()).hexdigest()[:12]


def has_engine(flavour):
    return flavour != 'bare'


def image_name(flavour):
    return '%s:%s-%s' % (IMAGE_REPO, flavour, recipe_digest(flavour))


def image_exists(name):
    return docker('image', 'inspect', name, check=False).returncode == 0


def build_images():
    """Build both flavours (about 2 minutes) unless cached; tag them `crane-sandbox/host:<flavour>` too.

    The plain tags are for tools that name the image in a file (molecule's platforms).
    """
    build_missing_images()
    current = set(image_name(flavour) for flavour in FLAVOUR_SUITES)
    for flavour in ('bare', 'engine'):
        docker('tag', image_name(flavour), '%s:%s' % (IMAGE_REPO, flavour))
    # Images of an older recipe are never used again.
    for tag in docker_out('images', IMAGE_REPO, '--format', '{{.Repository}}:{{.Tag}}').split():
        if tag not in current and tag.rsplit(':', 1)[1] not in ('bare', 'engine'):
            docker('rmi', tag, check=False)


def build_missing_images(flavours=('bare', 'engine')):
    """Build the images of these flavours that are not cached: one debootstrap per Debian suite."""
    for suite in sorted(set(FLAVOUR_SUITES[flavour] for flavour in flavours)):
        wanted = [flavour for flavour in flavours
                  if FLAVOUR_SUITES[flavour] == suite and not image_exists(image_name(flavour))]
        if wanted:
            build_suite_images(suite, wanted)


def build_suite_images(suite, wanted):
    if not shutil.which('debootstrap'):
        raise SystemExit('sandbox: debootstrap is not installed; run `make deps`')
    workdir = tempfile.mkdtemp(prefix='crane-sandbox-rootfs-', dir='/var/tmp')
    rootfs = os.path.join(workdir, 'rootfs')
    try:
        log('debootstrap %s minbase into %s (about 90 s)' % (suite, rootfs))
        run(['debootstrap', '--variant=minbase', '--include=' + ','.join(BARE_PACKAGES),
             suite, rootfs, MIRROR], capture=True)
        with open(os.path.join(rootfs, 'sbin', 'crane-host-init'), 'w') as init_file:
            init_file.write(HOST_INIT)
        os.chmod(os.path.join(rootfs, 'sbin', 'crane-host-init'), 0o755)
        # dpkg without fsync, as Ubuntu's container images do: a host container's disk is
        # thrown away anyway, and the roles' package installs skip thousands of fsyncs.
        with open(os.path.join(rootfs, 'etc', 'dpkg', 'dpkg.cfg.d', 'crane-unsafe-io'), 'w') as dpkg_config:
            dpkg_config.write('force-unsafe-io\n')
        # A host container gets its resolv.conf and hostname from the outer engine.
        for leftover in ('etc/hostname',):
            path = os.path.join(rootfs, leftover)
            if os.path.exists(path):
                os.unlink(path)
        if 'bare' in wanted:
            download_in_rootfs(rootfs, BARE_APT_CACHE)
            import_rootfs(rootfs, image_name('bare'))
        engines = [flavour for flavour in wanted if has_engine(flavour)]
        if engines:
            install_in_rootfs(rootfs, ENGINE_PACKAGES)
            for flavour in engines:
                import_rootfs(rootfs, image_name(flavour))
    finally:
        shutil.rmtree(workdir, ignore_errors=True)


def install_in_rootfs(rootfs, packages):
    log('installing %s into the image' % ' '.join(packages))
    apt_in_rootfs(rootfs, ['install', '-y', '-q', '--no-install-recommends'] + packages)
    apt_in_rootfs(rootfs, ['clean'])


def download_in_rootfs(rootfs, packages):
    """Put the packages' .deb files into the image's apt cache, installing nothing."""
    log('downloading %s into the image\'s apt cache' % ' '.join(packages))
    apt_in_rootfs(rootfs, ['install', '-y', '-q', '--download-only', '--no-install-recommends'] + packages)


def apt_in_rootfs(rootfs, arguments):
    shutil.copy('/etc/resolv.conf', os.path.join(rootfs, 'etc', 'resolv.conf'))
    policy = os.path.join(rootfs, 'usr', 'sbin', 'policy-rc.d')
    with open(policy, 'w') as policy_file:  # no service may start inside the chroot
        policy_file.write('#!/bin/sh\nexit 101\n')
    os.chmod(policy, 0o755)
    try:
        run(['chroot', rootfs, 'apt-get'] + arguments, env=dict(os.environ, DEBIAN_FRONTEND='noninteractive'))
    finally:
        os.unlink(policy)
        os.unlink(os.path.join(rootfs, 'etc', 'resolv.conf'))


def import_rootfs(rootfs, name):
    log('importing %s' % name)
    tar = subprocess.Popen(['tar', '-C', rootfs, '-c', '.'], stdout=subprocess.PIPE)
    result = subprocess.run(['docker', '-H', 'unix://' + OUTER_SOCKET, 'import',
                             '-c', 'CMD ["/sbin/crane-host-init"]',
                             '-c', 'ENV container=docker',
                             '-', name], stdin=tar.stdout, stdout=subprocess.PIPE, stderr=subprocess.PIPE,
                            check=False)
    tar.stdout.close()
    tar.wait()
    if result.returncode != 0 or tar.returncode != 0:
        raise SystemExit('sandbox: docker import failed: %s' % result.stderr.decode(errors='replace'))


def busybox_tarball():
    """A root filesystem holding the static busybox and its applet links, as tar bytes."""
    busybox = shutil.which('busybox') or '/bin/busybox'
    workdir = tempfile.mkdtemp(prefix='crane-busybox-')
    try:
        bindir = os.path.join(workdir, 'bin')
        os.makedirs(bindir)
        shutil.copy(busybox, os.path.join(bindir, 'busybox'))
        etc = os.path.join(workdir, 'etc')
        os.makedirs(etc)
        with open(os.path.join(etc, 'passwd'), 'w') as passwd:  # users that bundles name (User: nobody)
            passwd.write('root:x:0:0:root:/root:/bin/sh\nnobody:x:65534:65534:nobody:/nonexistent:/bin/false\n')
        with open(os.path.join(etc, 'group'), 'w') as group:
            group.write('root:x:0:\nnogroup:x:65534:\n')
        applets = run([busybox, '--list']).stdout.decode().split()
        for applet in applets:
            if applet != 'busybox':
                os.symlink('busybox', os.path.join(bindir, applet))
        return run(['tar', '-C', workdir, '-c', '.']).stdout
    finally:
        shutil.rmtree(workdir, ignore_errors=True)


def save_busybox_archive(path):
    """Write busybox:latest as a `docker save` archive, as an air-gapped cluster gets its images.

    The image is imported into the outer engine first (under the tag busybox:latest,
    which stays there for the next call).
    """
    ensure_outer_engine()
    if not image_exists('busybox:latest'):
        docker('import', '-c', 'CMD ["sh"]', '-', 'busybox:latest', input_bytes=busybox_tarball())
    os.makedirs(os.path.dirname(os.path.abspath(path)), exist_ok=True)
    docker('save', '-o', path, 'busybox:latest')
    log('busybox:latest saved to %s' % path)


# ----------------------------------------------------------------------------- hosts

class Sandbox:
    def __init__(self, name, nodes=3, flavour='engine', managers=1):
        self.name = name
        self.nodes = nodes
        self.managers = managers
        self.flavour = flavour
        self.network = 'crane-%s' % name
        self._subnet = None
        self.output = os.path.join(OUTPUT, 'sandbox-%s' % name)

    @property
    def subnet(self):
        """The sandbox's /24: its network's when it exists, else a free one in 172.31.192-255.

        The first candidate follows from the name, so a sandbox gets the same addresses
        each time; one taken by another network moves it to the next free /24.
        """
        if self._subnet is None:
            self._subnet = self.live_subnet() or self.free_subnet()
        return self._subnet

    def live_subnet(self):
        if not outer_engine_answers():
            return None
        result = docker('network', 'inspect', '--format', '{{range .IPAM.Config}}{{.Subnet}} {{end}}', self.network,
                        check=False)
        subnets = result.stdout.decode().split() if result.returncode == 0 else []
        return ipaddress.ip_network(subnets[0]) if subnets else None

    def free_subnet(self):
        taken = set()
        if outer_engine_answers():
            for network in docker_out('network', 'ls', '-q').split():
                inspected = docker('network', 'inspect', '--format', '{{range .IPAM.Config}}{{.Subnet}} {{end}}',
                                   network, check=False).stdout.decode().split()
                taken.update(inspected)
        start = int(hashlib.sha256(self.name.encode()).hexdigest(), 16) % 64
        for step in range(64):
            candidate = '172.31.%d.0/24' % (192 + (start + step) % 64)
            if candidate not in taken:
                return ipaddress.ip_network(candidate)
        raise SystemExit('sandbox: no free /24 left in 172.31.192.0/18')

    @property
    def hosts(self):
        return ['node%d' % index for index in range(1, self.nodes + 1)]

    def container(self, host):
        return 'crane-%s-%s' % (self.name, host)

    def volume(self, host):
        return 'crane-%s-%s-docker' % (self.name, host)

    def address(self, host):
        return str(self.subnet.network_address + 10 + self.hosts.index(host) + 1)

    @property
    def gateway(self):
        return str(self.subnet.network_address + 1)

    # -- lifecycle

    def existing_containers(self):
        out = docker_out('ps', '-a', '--filter', 'label=crane.sandbox=%s' % self.name, '--format', '{{.Names}}')
        return [line for line in out.splitlines() if line]

    def is_up(self):
        expected = set(self.container(host) for host in self.hosts)
        running = docker_out('ps', '--filter', 'label=crane.sandbox=%s' % self.name,
                             '--filter', 'label=crane.flavour=%s' % self.flavour, '--format', '{{.Names}}')
        if set(running.splitlines()) != expected:
            return False
        if has_engine(self.flavour):
            return all(self.engine_answers(host) for host in self.hosts)
        return True

    def up(self):
        ensure_outer_engine()
        build_images()
        build_missing_images([self.flavour])
        if self.is_up() and os.path.exists(self.inventory_path):
            self.write_inventory()
            log('%s is already up (%d %s hosts)' % (self.name, self.nodes, self.flavour))
            return
        self.down(keep_outer_engine=True)
        self._subnet = self.free_subnet()
        docker('network', 'create', '--driver', 'bridge', '--subnet', str(self.subnet),
               '--gateway', self.gateway, '--label', 'crane.sandbox=%s' % self.name, self.network)
        self.allow_forwarding(True)
        for host in self.hosts:
            self.start_host(host)
        for host in self.hosts:
            self.wait_booted(host)
        if has_engine(self.flavour):
            tarball = busybox_tarball()
            for host in self.hosts:
                self.wait_engine(host)
                self.exec(host, 'docker', 'import', '-c', 'CMD ["sh"]', '-', 'busybox:latest', input_bytes=tarball)
        self.write_inventory()
        log('%s is up: %s' % (self.name, ', '.join('%s=%s' % (h, self.address(h)) for h in self.hosts)))

    def start_host(self, host):
        argv = ['run', '--detach', '--name', self.container(host), '--hostname', host,
                '--label', 'crane.sandbox=%s' % self.name, '--label', 'crane.flavour=%s' % self.flavour,
                '--network', self.network, '--ip', self.address(host),
                '--stop-signal', 'SIGRTMIN+3', '--cap-drop', 'ALL']
        for capability in HOST_CAPABILITIES:
            argv += ['--cap-add', capability]
        argv += ['--security-opt', 'seccomp=unconfined', '--security-opt', 'apparmor=unconfined',
                 '--cgroupns', 'private',
                 '--tmpfs', '/run', '--tmpfs', '/run/lock', '--tmpfs', '/tmp',
                 '--mount', 'type=volume,source=%s,target=/var/lib/docker' % self.volume(host),
                 image_name(self.flavour)]
        docker(*argv)

    def down(self, keep_outer_engine=False):
        if outer_engine_answers():
            for container in self.existing_containers():
                docker('rm', '--force', '--volumes', container, check=False)
            for host_volume in docker_out('volume', 'ls', '-q', '--filter', 'name=crane-%s-' % self.name).splitlines():
                docker('volume', 'rm', '--force', host_volume, check=False)
            if docker('network', 'inspect', self.network, check=False).returncode == 0:
                docker('network', 'rm', self.network, check=False)
        self.allow_forwarding(False)
        if os.path.exists(self.output):
            shutil.rmtree(self.output)
        # An engine that does not answer (busy, or restarting) might still run others' containers: keep it.
        if not keep_outer_engine and outer_engine_answers() and not self.other_sandboxes_running():
            stop_outer_engine_if_ours()

    def other_sandboxes_running(self):
        """Whether the outer engine still runs containers that are not this sandbox's.

        Any container counts (another sandbox, molecule's hosts, a benchmark), so that
        tearing one sandbox down never pulls the engine from under the others.
        """
        if not outer_engine_answers():
            return False
        # The name first: an unlabelled container's line would otherwise be empty, and stripped.
        lines = docker_out('ps', '-a', '--format', '{{.Names}} {{.Label "crane.sandbox"}}').splitlines()
        return any(line.partition(' ')[2].strip() != self.name for line in lines if line.strip())

    def allow_forwarding(self, enable):
        """Hosts talk to each other across the bridge; the machine's FORWARD policy may be DROP."""
        if not shutil.which('iptables'):
            return
        comment = 'crane-sandbox-%s' % self.name
        if not enable:  # by comment: the bridge may already be gone
            for rule in run(['iptables', '-S', 'FORWARD'], check=False).stdout.decode().splitlines():
                if rule.startswith('-A ') and '--comment %s ' % comment in rule + ' ':
                    run(['iptables', '-D'] + rule.split()[1:], check=False)
            return
        bridge = self.bridge_name()
        rule = ['FORWARD', '-i', bridge, '-o', bridge, '-m', 'comment', '--comment', comment, '-j', 'ACCEPT']
        if run(['iptables', '-C'] + rule, check=False).returncode != 0:
            run(['iptables', '-I'] + rule)

    def bridge_name(self):
        if not outer_engine_answers():
            return None
        result = docker('network', 'inspect', '--format', '{{.Id}}', self.network, check=False)
        if result.returncode != 0:
            return None
        return 'br-' + result.stdout.decode().strip()[:12]

    # -- inside a host

    def exec(self, host, *argv, check=True, input_bytes=None):
        flags = ['-i'] if input_bytes is not None else []
        return docker('exec', *flags, self.container(host), *argv, check=check, input_bytes=input_bytes)

    def engine_answers(self, host):
        return self.exec(host, 'docker', 'version', '--format', '{{.Server.Version}}', check=False).returncode == 0

    def wait_booted(self, host, timeout=90):
        deadline = time.time() + timeout
        while time.time() < deadline:
            state = self.exec(host, 'systemctl', 'is-system-running', check=False).stdout.decode().strip()
            if state in ('running', 'degraded'):
                return
            time.sleep(0.5)
        raise SystemExit('sandbox: %s did not finish booting (systemd state %r)' % (host, state))

    def wait_engine(self, host, timeout=90):
        deadline = time.time() + timeout
        while time.time() < deadline:
            if self.engine_answers(host):
                return
            time.sleep(0.5)
        raise SystemExit('sandbox: the engine on %s did not answer within %d s' % (host, timeout))

    # -- inventory

    @property
    def inventory_path(self):
        return os.path.join(self.output, 'inventory.yml')

    def write_inventory(self):
        os.makedirs(self.output, exist_ok=True)
        hosts = {}
        for host in self.hosts:
            hosts[host] = {
                'ansible_host': self.container(host),
                'crane_sandbox_address': self.address(host),
                'swarm_advertise_addr': self.address(host),
            }
        inventory = {'all': {
            'vars': {
                'ansible_connection': 'community.docker.docker',
                'ansible_docker_extra_args': '-H unix://%s' % OUTER_SOCKET,
                'ansible_python_interpreter': '/usr/bin/python3',
                'crane_sandbox_name': self.name,
                'crane_sandbox_gateway': self.gateway,
            },
            'hosts': hosts,
            'children': {
                'swarm_managers': {'hosts': dict((host, {}) for host in self.hosts[:self.managers])},
                'swarm_workers': {'hosts': dict((host, {}) for host in self.hosts[self.managers:])},
            },
        }}
        # JSON is valid YAML: no YAML library needed to write it.
        with open(self.inventory_path, 'w') as inventory_file:
            json.dump(inventory, inventory_file, indent=2)
            inventory_file.write('\n')

    def status(self):
        print(json.dumps({
            'name': self.name,
            'up': outer_engine_answers() and self.is_up(),
            'hosts': dict((h, self.address(h)) for h in self.hosts),
            'inventory': self.inventory_path,
        }, indent=2))


# ----------------------------------------------------------------------------- a local NTP server

def chronyd_path():
    return shutil.which('chronyd') or shutil.which('chronyd', path='/usr/sbin:/sbin')


def ntp_server_answers(address, port):
    """An independent probe (not our SNTP code): does a client request get a synchronised reply?"""
    import socket
    with socket.socket(socket.AF_INET, socket.SOCK_DGRAM) as probe:
        # From loopback: chronyd does not answer a request whose source is its own bind address.
        probe.bind(('127.0.0.1', 0))
        probe.settimeout(0.5)
        request = bytearray(48)
        request[0] = 0x23  # version 4, client mode
        try:
            probe.sendto(bytes(request), (address, port))
            reply = probe.recv(1024)
        except OSError:
            return False
    leap, stratum = reply[0] >> 6, reply[1]
    return len(reply) >= 48 and leap != 3 and 1 <= stratum <= 15


def start_ntp_server(address, port, workdir):
    """Start a chronyd serving this machine's clock on address:port; its files live in `workdir`.

    -x: it never sets the machine's clock. It has its own control socket, so it never
    clobbers the one of a chronyd the machine may run. Stop it with stop_ntp_server.
    """
    if not chronyd_path():
        raise SystemExit('sandbox: chronyd is not installed (make deps installs chrony)')
    workdir = os.path.abspath(workdir)  # chronyd changes to / as it daemonises
    stop_ntp_server(workdir)
    os.makedirs(workdir, exist_ok=True)
    config = os.path.join(workdir, 'chrony.conf')
    with open(config, 'w') as config_file:
        config_file.write('\n'.join([
            'local stratum 8',  # serves its own clock: synchronised without an upstream server
            'allow %s/24' % address, 'allow 127.0.0.1', 'bindaddress %s' % address, 'port %d' % port, 'cmdport 0',
            'bindcmdaddress %s' % os.path.join(workdir, 'chronyd.sock'),
            'pidfile %s' % os.path.join(workdir, 'chronyd.pid'),
            'driftfile %s' % os.path.join(workdir, 'chrony.drift'), '']))
    # -u root: the work directory is not readable by the _chrony user.
    run([chronyd_path(), '-x', '-u', 'root', '-f', config, '-l', os.path.join(workdir, 'chronyd.log')])
    deadline = time.monotonic() + 20
    while not ntp_server_answers(address, port):
        if time.monotonic() > deadline:
            stop_ntp_server(workdir)
            raise RuntimeError('chronyd did not serve time on %s:%d' % (address, port))
        time.sleep(0.2)
    log('NTP server on %s:%d (chronyd -x, files in %s)' % (address, port, workdir))


def stop_pidfile_process(pidfile):
    """Stop the process a pidfile names (SIGTERM, up to 10 s for it to end), then remove the pidfile."""
    if not os.path.exists(pidfile):
        return
    with open(pidfile) as handle:
        pid = int(handle.read().strip() or 0)
    try:
        os.kill(pid, 15)
    except ProcessLookupError:
        pass
    deadline = time.monotonic() + 10
    while pid and os.path.exists('/proc/%d' % pid) and time.monotonic() < deadline:
        time.sleep(0.1)
    if os.path.exists(pidfile):
        os.unlink(pidfile)


def stop_ntp_server(workdir):
    stop_pidfile_process(os.path.join(workdir, 'chronyd.pid'))


# ----------------------------------------------------------------------------- local registries

# Two registries (Debian's docker-registry 2.8) on the gateway of a sandbox, where its hosts reach
# this machine: plain HTTP on REGISTRY_PLAIN_PORT (the engines allow it as an insecure registry),
# and TLS with a CA made here and htpasswd (bcrypt) accounts on REGISTRY_SECURE_PORT.
REGISTRY_PLAIN_PORT = 5000
REGISTRY_SECURE_PORT = 5443
REGISTRY_USER = 'crane'


def registry_binary():
    return shutil.which('docker-registry') or shutil.which('docker-registry', path='/usr/bin:/usr/sbin')


def registry_answers(url, ca_file=None):
    """The HTTP status of GET url/v2/ (200 open, 401 asks for credentials), or None when nothing answers."""
    import ssl
    import urllib.error
    import urllib.request
    context = ssl.create_default_context(cafile=ca_file) if ca_file else None
    try:
        with urllib.request.urlopen(url + '/v2/', timeout=2, context=context) as response:
            return response.status
    except urllib.error.HTTPError as error:
        return error.code
    except (OSError, ValueError):
        return None


def make_registry_certificates(workdir, address):
    """A CA of this sandbox and a server certificate for `address` signed by it (2 days)."""
    def path(name):
        return os.path.join(workdir, name)
    run(['openssl', 'req', '-x509', '-newkey', 'rsa:2048', '-nodes', '-days', '2', '-subj', '/CN=crane-sandbox-ca',
         '-keyout', path('ca.key'), '-out', path('ca.crt')])
    run(['openssl', 'req', '-newkey', 'rsa:2048', '-nodes', '-subj', '/CN=%s' % address,
         '-keyout', path('server.key'), '-out', path('server.csr')])
    with open(path('server.ext'), 'w') as extensions:
        extensions.write('subjectAltName=IP:%s\nextendedKeyUsage=serverAuth\n' % address)
    run(['openssl', 'x509', '-req', '-in', path('server.csr'), '-CA', path('ca.crt'), '-CAkey', path('ca.key'),
         '-CAcreateserial', '-days', '2', '-extfile', path('server.ext'), '-out', path('server.crt')])


def bcrypt_htpasswd_line(user, password):
    import warnings
    with warnings.catch_warnings():
        warnings.simplefilter('ignore', DeprecationWarning)  # crypt: the stdlib's bcrypt (libxcrypt) until 3.13
        import crypt
    hashed = crypt.crypt(password, crypt.mksalt(crypt.METHOD_BLOWFISH))
    if not hashed or not hashed.startswith('$2'):
        raise SystemExit('sandbox: this Python\'s crypt cannot make bcrypt hashes (the registry needs them)')
    return '%s:%s\n' % (user, hashed)


def start_registry(kind, address, workdir):
    """Start one docker-registry serving from workdir/<kind>; return its URL."""
    secure = kind == 'secure'
    port = REGISTRY_SECURE_PORT if secure else REGISTRY_PLAIN_PORT
    config = {
        'version': 0.1,
        'log': {'level': 'warn', 'accesslog': {'disabled': True}},
        'storage': {'filesystem': {'rootdirectory': os.path.join(workdir, kind, 'data')},
                    'delete': {'enabled': True}},
        'http': {'addr': '%s:%d' % (address, port)},
    }
    if secure:
        config['http']['tls'] = {'certificate': os.path.join(workdir, 'server.crt'),
                                 'key': os.path.join(workdir, 'server.key')}
        config['auth'] = {'htpasswd': {'realm': 'crane-sandbox', 'path': os.path.join(workdir, 'htpasswd')}}
    os.makedirs(os.path.join(workdir, kind, 'data'), exist_ok=True)
    config_path = os.path.join(workdir, kind, 'config.yml')
    with open(config_path, 'w') as config_file:  # JSON is valid YAML
        json.dump(config, config_file, indent=2)
    with open(os.path.join(workdir, kind, 'registry.log'), 'ab') as log_file:
        process = subprocess.Popen([registry_binary(), 'serve', config_path], stdout=log_file, stderr=log_file,
                                   start_new_session=True)
    with open(os.path.join(workdir, kind, 'registry.pid'), 'w') as pidfile:
        pidfile.write(str(process.pid))
    url = '%s://%s:%d' % ('https' if secure else 'http', address, port)
    ca_file = os.path.join(workdir, 'ca.crt') if secure else None
    expected = 401 if secure else 200
    deadline = time.monotonic() + 20
    while registry_answers(url, ca_file) != expected:
        if process.poll() is not None or time.monotonic() > deadline:
            stop_registries(workdir)
            raise SystemExit('sandbox: the %s registry did not answer on %s; see %s'
                             % (kind, url, os.path.join(workdir, kind, 'registry.log')))
        time.sleep(0.2)
    return url


def start_registries(sandbox, workdir):
    """Both registries on the sandbox's gateway, and its engine hosts set up to use them.

    Writes workdir/registries.json: the two addresses (host:port, as image references name them),
    the account of the secure one and its CA file. The file is 0600: it holds the password.
    """
    import secrets
    if not registry_binary():
        raise SystemExit('sandbox: docker-registry is not installed (make deps installs it)')
    workdir = os.path.abspath(workdir)
    stop_registries(workdir)
    os.makedirs(workdir, exist_ok=True)
    address = sandbox.gateway
    make_registry_certificates(workdir, address)
    password = secrets.token_hex(16)
    with open(os.path.join(workdir, 'htpasswd'), 'w') as htpasswd:
        htpasswd.write(bcrypt_htpasswd_line(REGISTRY_USER, password))
    start_registry('plain', address, workdir)
    start_registry('secure', address, workdir)
    description = {
        'plain': '%s:%d' % (address, REGISTRY_PLAIN_PORT),
        'secure': '%s:%d' % (address, REGISTRY_SECURE_PORT),
        'username': REGISTRY_USER,
        'password': password,
        'ca_file': os.path.join(workdir, 'ca.crt'),
    }
    path = os.path.join(workdir, 'registries.json')
    with open(os.open(path, os.O_WRONLY | os.O_CREAT | os.O_TRUNC, 0o600), 'w') as description_file:
        json.dump(description, description_file, indent=2)
    if has_engine(sandbox.flavour):
        for host in sandbox.hosts:
            trust_registries(sandbox, host, description)
    log('registries on %s (plain HTTP) and %s (TLS, htpasswd); files in %s'
        % (description['plain'], description['secure'], workdir))
    return description


def trust_registries(sandbox, host, description):
    """Make a host's engine use both registries: the plain one as insecure (daemon.json, reloaded
    with SIGHUP: no restart, the swarm is untouched) and the CA of the secure one in certs.d."""
    with open(description['ca_file'], 'rb') as ca_file:
        ca_pem = ca_file.read()
    certs_dir = '/etc/docker/certs.d/%s' % description['secure']
    sandbox.exec(host, 'mkdir', '-p', certs_dir)
    sandbox.exec(host, 'sh', '-c', 'cat > %s/ca.crt' % certs_dir, input_bytes=ca_pem)
    current = sandbox.exec(host, 'cat', '/etc/docker/daemon.json', check=False)
    daemon = json.loads(current.stdout.decode() or '{}') if current.returncode == 0 else {}
    insecure = daemon.get('insecure-registries', [])
    if description['plain'] not in insecure:
        daemon['insecure-registries'] = insecure + [description['plain']]
        sandbox.exec(host, 'sh', '-c', 'cat > /etc/docker/daemon.json',
                     input_bytes=(json.dumps(daemon, indent=2) + '\n').encode())
        sandbox.exec(host, 'systemctl', 'reload', 'docker.service')
        deadline = time.monotonic() + 20
        while description['plain'] not in sandbox.exec(
                host, 'docker', 'info', '--format', '{{json .RegistryConfig.IndexConfigs}}', check=False).stdout.decode():
            if time.monotonic() > deadline:
                raise SystemExit('sandbox: %s did not take %s as an insecure registry' % (host, description['plain']))
            time.sleep(0.2)


def stop_registries(workdir):
    for kind in ('plain', 'secure'):
        stop_pidfile_process(os.path.join(workdir, kind, 'registry.pid'))


# ----------------------------------------------------------------------------- command line

def main(argv=None):
    parser = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    parser.add_argument('command', choices=['up', 'down', 'status', 'build', 'ntp-up', 'ntp-down', 'image-archive',
                                            'registry-up', 'registry-down'])
    parser.add_argument('--name', default=os.environ.get('CRANE_SANDBOX', 'crane'))
    parser.add_argument('--nodes', type=int, default=int(os.environ.get('CRANE_SANDBOX_NODES', '3')))
    parser.add_argument('--managers', type=int, default=1, help='hosts put in the swarm_managers group')
    parser.add_argument('--flavour', choices=sorted(FLAVOUR_SUITES), default='engine')
    parser.add_argument('--purge-images', action='store_true', help='with down: also remove the cached host images')
    parser.add_argument('--address', help='with ntp-up: the address it listens on (default: the gateway of sandbox --name)')
    parser.add_argument('--port', type=int, default=123, help='with ntp-up: its UDP port')
    parser.add_argument('--dir', help='with ntp-up/ntp-down/registry-up/registry-down: the directory of its files')
    parser.add_argument('--out', help='with image-archive: where to write the busybox:latest archive')
    args = parser.parse_args(argv)
    if os.geteuid() != 0:
        raise SystemExit('sandbox: run as root (it starts engines, bridges and iptables rules)')
    sandbox = Sandbox(args.name, nodes=args.nodes, flavour=args.flavour, managers=args.managers)
    if args.command == 'image-archive':
        if not args.out:
            parser.error('image-archive needs --out')
        save_busybox_archive(args.out)
    elif args.command in ('ntp-up', 'ntp-down'):
        if not args.dir:
            parser.error('%s needs --dir' % args.command)
        if args.command == 'ntp-up':
            # Without --address: on the gateway of the sandbox --name, where its hosts reach this machine.
            start_ntp_server(args.address or sandbox.gateway, args.port, args.dir)
        else:
            stop_ntp_server(args.dir)
    elif args.command in ('registry-up', 'registry-down'):
        if not args.dir:
            parser.error('%s needs --dir' % args.command)
        if args.command == 'registry-up':
            start_registries(sandbox, args.dir)
        else:
            stop_registries(args.dir)
    elif args.command == 'build':
        ensure_outer_engine()
        build_images()
    elif args.command == 'up':
        sandbox.up()
    elif args.command == 'down':
        if args.purge_images and outer_engine_answers():
            for flavour in FLAVOUR_SUITES:
                docker('image', 'rm', '--force', image_name(flavour), check=False)
        sandbox.down()
    else:
        sandbox.status()


if __name__ == '__main__':
    main()
