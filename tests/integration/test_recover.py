# Copyright: crane.swarm developers
# GNU General Public License v3.0+ (see https://www.gnu.org/licenses/gpl-3.0.txt)
"""crane.swarm.backup and crane.swarm.recover on three real managers.

One swarm, in order (each step needs the one before, and engine stops cost ~20 s each):
a stack deployed, a backup taken from a non-leader manager (quorum kept), one manager's engine
killed and recover refused (the majority is kept), a second one killed and the swarm recovered on
the survivor (a write succeeds, the stack intact, the managers back, every node Ready), a second
run that changes nothing, then the backup restored onto another host after every host left.
"""

from __future__ import annotations

import os
import stat

import pytest

import harness

REPO = os.path.dirname(os.path.dirname(os.path.dirname(os.path.abspath(__file__))))
BACKUP = os.path.join(REPO, 'playbooks', 'backup.yml')
RECOVER = os.path.join(REPO, 'playbooks', 'recover.yml')
STACK = """
version: "3.8"
services:
  web:
    image: busybox:latest
    command: ["sleep", "86400"]
    deploy:
      replicas: 2
"""


def playbook(path):
    with open(path) as handle:
        return handle.read()


def services(sandbox, host):
    """{service name: replicas mode line} as the manager lists them."""
    lines = sandbox.docker(host, 'service', 'ls', '--format', '{{.Name}} {{.Replicas}}').stdout.splitlines()
    return dict(line.split() for line in lines)


def node_table(sandbox, host):
    lines = sandbox.docker(host, 'node', 'ls', '--format', '{{.Hostname}} {{.Status}} {{.ManagerStatus}}').stdout
    return sorted(tuple(line.split()) for line in lines.splitlines())


def all_back(sandbox, host):
    table = node_table(sandbox, host)
    return len(table) == 3 and all(row[1] == 'Ready' and row[2] in ('Leader', 'Reachable') for row in table)


@pytest.fixture
def run_playbook(sandbox, tmp_path):
    """Plays against the sandbox's hosts with all three in swarm_managers (the sandbox's own inventory may have one)."""
    inventory = harness.regrouped_inventory(sandbox, tmp_path / 'inventory.json', managers=sandbox.hosts)
    return harness.PlaybookRunner(sandbox, str(tmp_path), inventory=inventory)


def test_backup_kill_two_managers_recover_and_restore(sandbox, run_playbook, tmp_path):
    harness.form_swarm3(sandbox, run_playbook, managers=3)
    recover_workdir = tmp_path
    compose = recover_workdir / 'docker-stack.yml'
    compose.write_text(STACK)
    run_playbook([{'hosts': 'node1', 'gather_facts': False, 'tasks': [
        {'name': 'deploy', 'crane.swarm.swarm_stack': {'name': 'keep', 'compose': [str(compose)]}}]}])
    before = services(sandbox, 'node1')
    assert before == {'keep_web': '2/2'} or list(before) == ['keep_web'], before

    # -- backup: a non-leader manager, archive and retention on the controller
    backup_dir = recover_workdir / 'backups'
    swarm_id = sandbox.api('node1', '/swarm')['ID']
    (backup_dir / swarm_id).mkdir(parents=True)
    (backup_dir / swarm_id / '20000101T000000Z.tar.gz').write_text('old')
    (backup_dir / swarm_id / '20000101T000000Z.unlock-key').write_text('old')
    run = run_playbook(playbook(BACKUP), extra_vars={'backup_dir': str(backup_dir), 'backup_keep': 1})
    archives = sorted(os.listdir(backup_dir / swarm_id))
    assert len(archives) == 1 and archives[0].endswith('Z.tar.gz'), archives
    archive = str(backup_dir / swarm_id / archives[0])
    assert stat.S_IMODE(os.stat(archive).st_mode) == 0o600
    chosen = [host for host in ('node1', 'node2', 'node3') if any(
        e['host'] == host and e['task'] == 'Archive the swarm state' for e in run.tasks)]
    assert chosen and chosen != ['node1'], chosen  # node1 leads: the backup ran on a follower
    assert all_back(sandbox, 'node1'), node_table(sandbox, 'node1')

    # -- one manager lost: the majority is kept, recover refuses and changes nothing
    sandbox.stop_engine('node3')
    refused = run_playbook(playbook(RECOVER), extra_vars={'recover_manager': 'node1'}, expect_failure=True)
    assert 'The swarm has its majority' in refused.output and 'node3' in refused.output, refused.output[-3000:]
    assert refused.changed == 0

    # -- two managers lost: recover on the survivor
    sandbox.stop_engine('node2')
    run = run_playbook(playbook(RECOVER), extra_vars={'recover_manager': 'node1'})
    assert run.result('Force a new cluster on this manager (only when the majority is lost)', 'node1')['changed']
    report = run.result('Report what was found and done', 'node1')['msg']
    assert 'the majority is lost' in report and 'a new cluster was forced on node1' in report, report
    write = run_playbook([{'hosts': 'node1', 'gather_facts': False, 'tasks': [
        {'name': 'net', 'crane.swarm.swarm_network': {'name': 'after-recovery', 'driver': 'overlay'}}]}])
    assert write.result('net', 'node1')['changed']
    assert list(services(sandbox, 'node1')) == ['keep_web']
    assert all_back(sandbox, 'node1'), node_table(sandbox, 'node1')
    again = run_playbook(playbook(RECOVER), extra_vars={'recover_manager': 'node1'})
    assert again.changed == 0, [e['task'] for e in again.tasks if e['status'] == 'changed']

    # -- restore the backup onto a fresh host (every host left the swarm) with the backed-up manager's address
    sandbox.reset_swarm()
    host = chosen[0]
    run = run_playbook(playbook(RECOVER), extra_vars={'recover_manager': host, 'recover_backup': archive})
    assert run.result('Force a new cluster on this manager (only when the majority is lost)', host)['changed']
    assert list(services(sandbox, host)) == ['keep_web']
    assert 'after-recovery' not in sandbox.docker(host, 'network', 'ls', '--format', '{{.Name}}').stdout
    assert all_back(sandbox, host), node_table(sandbox, host)
    assert sandbox.api(host, '/swarm')['ID'] == swarm_id
