# Copyright: crane.swarm developers
# GNU General Public License v3.0+ (see https://www.gnu.org/licenses/gpl-3.0.txt)
"""The role crane.swarm.cluster on the session sandbox's engine hosts.

node1 is the sandbox's manager, node2 and node3 its workers. The prechecks run first on hosts
in no swarm and must fail before anything changes (inventory checks, then a port one host's
firewall drops); then the cluster role forms the swarm (with a node label from the inventory)
and converges unchanged on a second run. The stacks role (image archives, networks, stacks)
runs in the molecule scenarios, on hosts that start bare.
"""

from __future__ import annotations

CLUSTER_PLAY = [{
    'name': 'cluster role',
    'hosts': 'swarm_managers:swarm_workers',
    'gather_facts': False,
    'vars': {'swarm_node_labels': "{{ {'zone': 'a'} if inventory_hostname == 'node2' else {} }}"},
    'roles': ['crane.swarm.cluster'],
}]


def entries(run, task_suffix):
    return [entry for entry in run.tasks if entry['task'].endswith(task_suffix)]


def assert_nothing_changed(sandbox, run):
    assert run.changed == 0, run.output[-3000:]
    for host in sandbox.hosts:
        assert sandbox.swarm_state(host)['LocalNodeState'] == 'inactive'


def test_cluster_role(sandbox, run_playbook):
    sandbox.reset_swarm()

    # Inventory prechecks: an even number of managers, then a pool overlapping the hosts.
    even = run_playbook(CLUSTER_PLAY, expect_failure=True,
                        extra_vars={'cluster_managers': ['node1', 'node2'], 'cluster_workers': ['node3']})
    failed = [e for e in entries(even, 'Check that the number of managers is odd') if e['status'] == 'failed']
    assert failed, even.output[-3000:]
    assert '2 managers' in failed[0]['result']['msg']
    assert_nothing_changed(sandbox, even)

    overlap = run_playbook(CLUSTER_PLAY, expect_failure=True,
                           extra_vars={'cluster_default_addr_pool': ['172.31.0.0/16']})
    failed = [e for e in entries(overlap, 'do not overlap this host\'s address') if e['status'] == 'failed']
    assert failed, overlap.output[-3000:]
    assert '172.31.0.0/16' in str(failed[0]['result'])
    assert_nothing_changed(sandbox, overlap)

    # Fact precheck: node1 drops node3's packets to its gossip port, as a firewall would.
    drop = ['INPUT', '-p', 'tcp', '--dport', '7946', '-s', sandbox.tool.address('node3'), '-j', 'DROP']
    sandbox.tool.exec('node1', 'iptables', '-I', *drop)
    try:
        blocked = run_playbook(CLUSTER_PLAY, expect_failure=True, extra_vars={'cluster_port_check_timeout': 2})
    finally:
        sandbox.tool.exec('node1', 'iptables', '-D', *drop)
    failed = [e for e in entries(blocked, 'swarm\'s TCP ports of the other hosts are reachable') if e['status'] == 'failed']
    assert [e['host'] for e in failed] == ['node3'], blocked.output[-3000:]
    assert failed[0]['result']['blocked'] == ['%s:7946' % sandbox.tool.address('node1')]
    assert '(filtered)' in failed[0]['result']['msg'] and 'crane.swarm.firewall' in failed[0]['result']['msg']
    assert_nothing_changed(sandbox, blocked)

    # Form the swarm.
    first = run_playbook(CLUSTER_PLAY)
    assert first.changed > 0
    assert 'SWMTKN' not in first.output
    node_ids = sandbox.docker('node1', 'node', 'ls', '-q').stdout.split()
    nodes = dict((node['Description']['Hostname'], node)
                 for node in sandbox.docker_json('node1', 'node', 'inspect', *node_ids))
    assert sorted(nodes) == ['node1', 'node2', 'node3']
    for name, node in nodes.items():
        assert node['Status']['State'] == 'ready', (name, node['Status'])
        assert node['Spec']['Role'] == ('manager' if name == 'node1' else 'worker')
    assert nodes['node2']['Spec']['Labels'] == {'zone': 'a'}
    assert nodes['node3']['Spec']['Labels'] == {}
    info = sandbox.api('node1', '/swarm')
    assert info['Spec']['Orchestration']['TaskHistoryRetentionLimit'] == 2
    assert info['DefaultAddrPool'] == ['10.0.0.0/8'] and info['SubnetSize'] == 24

    # Idempotence.
    second = run_playbook(CLUSTER_PLAY)
    assert second.changed == 0, second.output[-3000:]
