# Copyright: crane.swarm developers
# GNU General Public License v3.0+ (see https://www.gnu.org/licenses/gpl-3.0.txt)
"""The base roles, crane.swarm.timesync and crane.swarm.engine, on hosts that start bare.

A sandbox of its own (`roles`, or `<name>-roles` when CRANE_SANDBOX names the session's;
2 hosts of the bare flavour: no engine, no time daemon), not the session's engine hosts.
A chronyd on this machine serves its own clock to the hosts on the sandbox's gateway
address; it runs with -x, so the machine's clock is never touched, and the hosts' chronyd
run with -x as well (they are containers).
"""

from __future__ import annotations

import contextlib
import json
import os
import subprocess
import sys

import pytest

import harness

DAEMON_OPTIONS = {'log-opts': {'max-size': '20m'}, 'labels': ['crane.test=roles']}
EXPECTED_DAEMON_JSON = {
    'log-driver': 'json-file',
    'log-opts': {'max-size': '20m', 'max-file': '3'},
    'live-restore': False,
    'labels': ['crane.test=roles'],
}
CLOCK_TASK = 'Check the clock against the NTP servers'
API_TASK = 'Wait until the engine\'s API answers'
# `roles`, or `<name>-roles` beside a sandbox named by CRANE_SANDBOX (two runs never share hosts).
ROLES_SANDBOX = '%s-roles' % os.environ['CRANE_SANDBOX'] if os.environ.get('CRANE_SANDBOX') else 'roles'


class BareHosts(harness.SandboxHandle):
    """SandboxHandle's helpers (exec, docker) over the bare sandbox; `.inventory` for PlaybookRunner."""


@pytest.fixture(scope='module')
def bare_hosts():
    tool = harness.sandbox_tool.Sandbox(ROLES_SANDBOX, nodes=2, flavour='bare')
    tool.down(keep_outer_engine=True)  # never reuse hosts a crashed run left half converged
    tool.up()
    try:
        yield BareHosts(tool)
    finally:
        tool.down(keep_outer_engine=True)


@pytest.fixture(scope='module')
def ntp_server(bare_hosts, tmp_path_factory):
    """chronyd serving this machine's clock on the gateway address; yields (address, port)."""
    if not harness.chronyd_path():
        pytest.skip('chronyd is not installed on this machine (make deps installs it)')
    with harness.chrony_server(bare_hosts.gateway, tmp_path_factory.mktemp('ntp-server')) as port:
        yield bare_hosts.gateway, port


def base_play(gateway, port):
    return [{
        'name': 'Base roles on bare hosts',
        'hosts': 'all',
        'gather_facts': False,
        'vars': {
            'timesync_servers': ['%s port %d iburst' % (gateway, port)],
            'timesync_max_offset': 0.5,
            'timesync_wait_timeout': 60,
            'engine_daemon_options': DAEMON_OPTIONS,
        },
        'roles': ['crane.swarm.timesync', 'crane.swarm.engine'],
    }]


@pytest.fixture(scope='module')
def runner(bare_hosts, tmp_path_factory):
    return harness.PlaybookRunner(bare_hosts, str(tmp_path_factory.mktemp('roles-base')))


@pytest.fixture(scope='module')
def first_run(bare_hosts, ntp_server, runner):
    return runner(base_play(*ntp_server))


def test_precheck_passes_on_bare_hosts_and_changes_nothing(bare_hosts, ntp_server, runner):
    """Runs before the base roles (first in this module): the hosts have no engine yet."""
    gateway, port = ntp_server
    run = runner([{'ansible.builtin.import_playbook': 'crane.swarm.precheck'}],
                 extra_vars={'swarm_clock_servers': ['%s:%d' % (gateway, port)]})
    assert run.changed == 0 and set(run.stats) == set(bare_hosts.hosts), run.output[-3000:]
    for host in bare_hosts.hosts:
        assert run.status('Check the clock against the NTP servers', host) == 'ok'
        ports = run.result("Check that the swarm's TCP ports of the other hosts are reachable", host)
        assert ports['results'] and set(r['state'] for r in ports['results']) == {'closed'}, ports  # reachable
        # No engine yet: the failure is tolerated in the precheck (site installs it).
        assert run.status("Read this host's engine and swarm state", host) == 'ok'
        assert 'cannot connect to the Docker Engine' in run.result("Read this host's engine and swarm state", host)['msg']
        assert bare_hosts.exec(host, 'sh', '-c', 'command -v dockerd', check=False).returncode != 0
    assert 'Form the swarm' not in ' '.join(entry['task'] for entry in run.tasks)


def test_first_run_installs_and_configures(bare_hosts, first_run):
    assert first_run.changed > 0
    for host in bare_hosts.hosts:
        assert bare_hosts.exec(host, 'systemctl', 'is-active', 'chrony', 'docker').stdout.split() == ['active', 'active']


def test_chrony_is_synchronised_to_the_local_server(bare_hosts, ntp_server, first_run):
    gateway, port = ntp_server
    for host in bare_hosts.hosts:
        tracking = dict((key.strip(), value.strip()) for key, value in (
            line.split(':', 1) for line in bare_hosts.exec(host, 'chronyc', '-n', 'tracking').stdout.splitlines()))
        assert tracking['Reference ID'].endswith('(%s)' % gateway), tracking
        assert tracking['Leap status'] == 'Normal', tracking
        sources = bare_hosts.exec(host, 'chronyc', '-n', 'sources').stdout
        assert '^* %s ' % gateway in sources, sources


def test_chronyd_never_sets_the_clock_of_a_container(bare_hosts, first_run):
    for host in bare_hosts.hosts:
        assert bare_hosts.exec(host, 'cat', '/etc/default/chrony').stdout.strip().endswith('DAEMON_OPTS="-F 1 -x"')
        dropin = bare_hosts.exec(host, 'cat', '/etc/systemd/system/chrony.service.d/crane-container.conf').stdout
        assert '\nConditionCapability=\n' in dropin
        assert 'rtcsync' not in bare_hosts.exec(host, 'cat', '/etc/chrony/chrony.conf').stdout


def test_clock_check_passed_against_the_configured_server(bare_hosts, ntp_server, first_run):
    gateway, port = ntp_server
    for host in bare_hosts.hosts:
        assert first_run.status(CLOCK_TASK, host) == 'ok'
        result = first_run.result(CLOCK_TASK, host)
        assert result['server'] == '%s:%d' % (gateway, port)
        assert abs(result['offset']) < 0.5
        assert result['sync']['daemon'] == 'chronyd' and result['sync']['synchronised'] is True, result['sync']


def test_engine_runs_with_the_merged_daemon_json(bare_hosts, first_run):
    for host in bare_hosts.hosts:
        written = json.loads(bare_hosts.exec(host, 'cat', '/etc/docker/daemon.json').stdout)
        assert written == EXPECTED_DAEMON_JSON
        info = bare_hosts.docker_json(host, 'info', '--format', '{{json .}}')
        assert 'crane.test=roles' in info['Labels']  # the engine read daemon.json
        assert info['LoggingDriver'] == 'json-file' and info['LiveRestoreEnabled'] is False
        assert first_run.result(API_TASK, host)['local_node_state'] == 'inactive'
        assert bare_hosts.exec(host, 'python3', '-c', 'import docker').returncode == 0


def test_second_run_changes_nothing(bare_hosts, ntp_server, runner, first_run):
    second = runner(base_play(*ntp_server))
    changed = sorted(set('%s on %s' % (entry['task'], entry['host'])
                         for entry in second.tasks if entry['result'].get('changed')))
    assert changed == []
    assert second.changed == 0, second.stats
    assert set(second.stats) == set(bare_hosts.hosts)


def test_docker_info_works_on_every_host(bare_hosts, first_run):
    for host in bare_hosts.hosts:
        version = bare_hosts.docker(host, 'info', '--format', '{{.ServerVersion}}').stdout.strip()
        assert version.startswith('20.10'), version


FIREWALL_PLAY = [{
    'name': 'Firewall on the base hosts',
    'hosts': 'all',
    'gather_facts': False,
    # Documentation addresses: only rules are written, no traffic goes there.
    'vars': {'firewall_allowed_sources': ['192.0.2.7', '198.51.100.0/24'], 'firewall_is_manager': True},
    'roles': ['crane.swarm.firewall'],
}]
FIREWALL_TASK = 'Put the swarm\'s rules in their chain and jump to it first from INPUT - CRANE-SWARM'


def iptables_rules(hosts, host, chain):
    """`iptables -S chain`'s rules, comments unquoted (iptables-nft quotes them, legacy does not)."""
    return [line.replace('"', '') for line in hosts.exec(host, 'iptables', '-S', chain).stdout.splitlines()
            if line.startswith('-A ')]


def test_firewall_chain_is_one_unit_replaced_only_when_it_differs(bare_hosts, runner, first_run):
    """iptables backend: one task per host, not one per port and source; hand-made changes to the chain are undone."""
    first = runner(FIREWALL_PLAY)
    assert first.changed > 0, first.output[-3000:]
    host = bare_hosts.hosts[0]
    rules = iptables_rules(bare_hosts, host, 'CRANE-SWARM')
    for source in ('192.0.2.7/32', '198.51.100.0/24'):
        for port in ('tcp --dport 2377', 'tcp --dport 7946', 'udp --dport 7946', 'udp --dport 4789'):
            assert '-A CRANE-SWARM -s %s -p %s -m %s -m comment --comment crane.swarm -j ACCEPT' % (
                source, port.split()[0], port) in rules, rules
        assert '-A CRANE-SWARM -s %s -p esp -m comment --comment crane.swarm -j ACCEPT' % source in rules, rules
    assert len(rules) == 10, rules
    assert iptables_rules(bare_hosts, host, 'INPUT')[0] == '-A INPUT -j CRANE-SWARM'
    entries = [entry for entry in first.tasks if entry['task'].endswith(FIREWALL_TASK)]
    assert sorted(entry['host'] for entry in entries) == sorted(bare_hosts.hosts)
    assert not any('results' in entry['result'] for entry in entries)  # no loop over ports and sources

    # The user's own INPUT rule stays; a rule added to the chain goes; the missing jump comes back first.
    user_rule = ['INPUT', '-s', '203.0.113.9/32', '-j', 'DROP']
    bare_hosts.exec(host, 'iptables', '-I', *user_rule)
    try:
        bare_hosts.exec(host, 'iptables', '-A', 'CRANE-SWARM', '-s', '203.0.113.8/32', '-j', 'ACCEPT')
        bare_hosts.exec(host, 'iptables', '-D', 'INPUT', '-j', 'CRANE-SWARM')
        before = bare_hosts.exec(host, 'iptables', '-S').stdout
        checked = runner(FIREWALL_PLAY, check=True)
        assert checked.stats[host]['changed'] == 1 and checked.changed == 1, [e['result'] for e in checked.tasks if e['task'].endswith(FIREWALL_TASK)]
        assert bare_hosts.exec(host, 'iptables', '-S').stdout == before  # check mode changed nothing
        fixed = runner(FIREWALL_PLAY)
        assert fixed.stats[host]['changed'] == 1 and fixed.changed == 1, fixed.stats
        assert iptables_rules(bare_hosts, host, 'CRANE-SWARM') == rules
        assert iptables_rules(bare_hosts, host, 'INPUT')[:2] == ['-A INPUT -j CRANE-SWARM',
                                                                 '-A INPUT -s 203.0.113.9/32 -j DROP']
        again = runner(FIREWALL_PLAY)
        assert again.changed == 0, again.stats
    finally:
        bare_hosts.exec(host, 'iptables', '-D', *user_rule, check=False)


# ufw and firewalld: installed in the test (a few seconds from deb.debian.org), one per host, after
# the iptables test. The sources are the other host (a real peer, to probe traffic from) and a
# documentation network; this machine (the sandbox's gateway) is the address that is not allowed.
FIREWALL_TAG = 'crane-swarm'
UFW_TASK = 'Add and delete the swarm\'s ufw rules so they are the wanted set - crane-swarm'
FIREWALLD_TASK = 'Put the swarm\'s ipset and policy in firewalld and reload it when they changed - crane-swarm'
SWARM_PORTS = ('2377/tcp', '7946/tcp', '7946/udp', '4789/udp')  # firewall_is_manager: 2377 too


def firewall_play(host, sources):
    return [{
        'name': 'Firewall on one base host',
        'hosts': host,
        'gather_facts': False,
        'vars': {'firewall_allowed_sources': sources, 'firewall_is_manager': True},
        'roles': ['crane.swarm.firewall'],
    }]


def install_packages(hosts, host, *packages):
    hosts.exec(host, 'env', 'DEBIAN_FRONTEND=noninteractive', 'apt-get', 'install', '-y', '-q',
               '--no-install-recommends', *packages)


@contextlib.contextmanager
def tcp_listener(hosts, host, port):
    """A Python TCP server on the host's port, accepting and closing connections, for the traffic probes."""
    server = ('import socket\ns = socket.socket()\ns.setsockopt(socket.SOL_SOCKET, socket.SO_REUSEADDR, 1)\n'
              's.bind(("0.0.0.0", %d))\ns.listen(16)\nwhile True:\n    s.accept()[0].close()\n' % port)
    pid = hosts.exec(host, 'sh', '-c', 'python3 -c "$1" >/dev/null 2>&1 & echo $!', 'sh', server).stdout.strip()
    try:
        harness.wait_for('the listener on %s:%d' % (host, port), lambda: hosts.exec(
            host, 'sh', '-c', 'ss -ltn | grep -q ":%d "' % port, check=False).returncode == 0, timeout=10)
        yield
    finally:
        hosts.exec(host, 'kill', pid, check=False)


def tcp_reaches(hosts, address, port, from_host=None):
    """Whether a TCP connection to address:port succeeds within 2 s, from a sandbox host or (None) this machine."""
    probe = ('import socket, sys\ntry:\n    socket.create_connection(("%s", %d), timeout=2).close()\n'
             'except OSError:\n    sys.exit(1)\n' % (address, port))
    if from_host is None:
        return subprocess.run([sys.executable, '-c', probe], check=False).returncode == 0
    return hosts.exec(from_host, 'python3', '-c', probe, check=False).returncode == 0


def host_task_count(run, host):
    return sum(1 for entry in run.tasks if entry['host'] == host)


def test_firewall_ufw_rules_are_one_set_made_equal_in_one_task(bare_hosts, runner, first_run):
    """ufw backend: one task adds the missing tagged rules and deletes the tagged rules of sources that left."""
    host, peer = bare_hosts.hosts
    install_packages(bare_hosts, host, 'ufw')
    bare_hosts.exec(host, 'ufw', '--force', 'enable')
    bare_hosts.exec(host, 'ufw', 'allow', '2222/tcp')  # the user's own rule: never touched
    try:
        sources = [bare_hosts.address(peer), '198.51.100.0/24']
        first = runner(firewall_play(host, sources))
        assert first.stats[host]['changed'] == 1, first.output[-3000:]
        assert first.result(UFW_TASK, host)['changed'] is True and 'results' not in first.result(UFW_TASK, host)
        wanted = set()
        for source in sources:
            wanted.update('ufw allow from %s to any port %s proto %s comment \'%s\'' % (
                source, port.split('/', maxsplit=1)[0], port.split('/')[1], FIREWALL_TAG) for port in SWARM_PORTS)
            wanted.add('ufw allow from %s proto esp comment \'%s\'' % (source, FIREWALL_TAG))
        added = set(bare_hosts.exec(host, 'ufw', 'show', 'added').stdout.splitlines()[1:])
        assert added == wanted | {'ufw allow 2222/tcp'}, added
        with tcp_listener(bare_hosts, host, 7946):
            assert tcp_reaches(bare_hosts, bare_hosts.address(host), 7946, from_host=peer)
            assert not tcp_reaches(bare_hosts, bare_hosts.address(host), 7946)  # from this machine: not a source

        # The network leaves the sources: check mode tells and changes nothing, then its rules go.
        fewer = [bare_hosts.address(peer)]
        checked = runner(firewall_play(host, fewer), check=True)
        assert checked.stats[host]['changed'] == 1, checked.output[-3000:]
        assert sorted(checked.result(UFW_TASK, host)['stdout_lines']) == sorted(
            ['delete: ' + rule[len('ufw '):-len(' comment \'crane-swarm\'')] for rule in wanted if '198.51.100.0/24' in rule]
            + ['changed'])
        assert set(bare_hosts.exec(host, 'ufw', 'show', 'added').stdout.splitlines()[1:]) == added
        fixed = runner(firewall_play(host, fewer))
        assert fixed.stats[host]['changed'] == 1, fixed.output[-3000:]
        left = set(bare_hosts.exec(host, 'ufw', 'show', 'added').stdout.splitlines()[1:])
        assert left == set(rule for rule in added if '198.51.100.0/24' not in rule), left
        assert host_task_count(fixed, host) == host_task_count(first, host)  # 1 source or 2: the same tasks
        again = runner(firewall_play(host, fewer))
        assert again.changed == 0, again.stats
    finally:
        bare_hosts.exec(host, 'ufw', '--force', 'disable', check=False)


def test_firewall_firewalld_ipset_and_policy_are_one_unit(bare_hosts, runner, first_run):
    """firewalld backend: the peers are one ipset, the ports one policy; rewritten and reloaded only when they differ."""
    peer, host = bare_hosts.hosts
    install_packages(bare_hosts, host, 'firewalld')
    bare_hosts.exec(host, 'systemctl', 'start', 'firewalld')
    state = bare_hosts.exec(host, 'firewall-cmd', '--state', check=False)
    if state.returncode != 0:
        journal = bare_hosts.exec(host, 'journalctl', '-u', 'firewalld', '-n', '20', '--no-pager', check=False).stdout
        pytest.skip('firewalld does not run in this sandbox host: %s %s\n%s' % (state.stdout, state.stderr, journal))
    zones = bare_hosts.exec(host, 'firewall-cmd', '--permanent', '--list-all-zones').stdout
    ipset_file, policy_file = ('/etc/firewalld/%s/%s.xml' % (kind, FIREWALL_TAG) for kind in ('ipsets', 'policies'))

    def files():
        return bare_hosts.exec(host, 'sh', '-c', 'cat %s %s 2>&1' % (ipset_file, policy_file), check=False).stdout

    def entries():
        return bare_hosts.exec(host, 'firewall-cmd', '--ipset=' + FIREWALL_TAG, '--get-entries').stdout.split()

    def rich_rules():
        return bare_hosts.exec(host, 'firewall-cmd', '--policy=' + FIREWALL_TAG, '--list-rich-rules').stdout.splitlines()

    def wanted_rules(match):
        return ['rule family="ipv4" %sport port="%s" protocol="%s" accept' % (match, *port.split('/'))
                for port in SWARM_PORTS] + ['rule family="ipv4" %sprotocol value="esp" accept' % match]

    try:
        with tcp_listener(bare_hosts, host, 7946):
            sources = [bare_hosts.address(peer), '198.51.100.0/24']
            first = runner(firewall_play(host, sources))
            assert first.stats[host]['changed'] == 1, first.output[-3000:]
            assert first.result(FIREWALLD_TASK, host)['stdout_lines'] == [
                'write ' + ipset_file, 'write ' + policy_file, 'reload', 'changed']
            assert 'results' not in first.result(FIREWALLD_TASK, host)
            assert sorted(entries()) == sorted(sources)
            assert rich_rules() == wanted_rules('source ipset="%s" ' % FIREWALL_TAG)
            assert tcp_reaches(bare_hosts, bare_hosts.address(host), 7946, from_host=peer)
            assert not tcp_reaches(bare_hosts, bare_hosts.address(host), 7946)  # from this machine: not a source

            # The network leaves the sources: check mode tells and changes nothing, then the ipset loses it.
            before = files()
            fewer = [bare_hosts.address(peer)]
            checked = runner(firewall_play(host, fewer), check=True)
            assert checked.stats[host]['changed'] == 1, checked.output[-3000:]
            assert checked.result(FIREWALLD_TASK, host)['stdout_lines'] == ['write ' + ipset_file, 'reload', 'changed']
            assert files() == before and sorted(entries()) == sorted(sources)
            fixed = runner(firewall_play(host, fewer))
            assert fixed.stats[host]['changed'] == 1, fixed.output[-3000:]
            assert entries() == fewer
            assert host_task_count(fixed, host) == host_task_count(first, host)  # 1 source or 2: the same tasks
            again = runner(firewall_play(host, fewer))
            assert again.changed == 0, again.stats

            # No sources: from anywhere, as before; the policy's rules lose their source and the ipset goes.
            anywhere = runner(firewall_play(host, []))
            assert anywhere.result(FIREWALLD_TASK, host)['stdout_lines'] == [
                'remove ' + ipset_file, 'write ' + policy_file, 'reload', 'changed']
            assert rich_rules() == wanted_rules('')
            assert tcp_reaches(bare_hosts, bare_hosts.address(host), 7946)
            assert runner(firewall_play(host, [])).changed == 0
        assert bare_hosts.exec(host, 'firewall-cmd', '--permanent', '--list-all-zones').stdout == zones
    finally:
        bare_hosts.exec(host, 'systemctl', 'stop', 'firewalld', check=False)
