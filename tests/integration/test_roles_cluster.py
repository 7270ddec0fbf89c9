# Copyright: crane.swarm developers
# GNU General Public License v3.0+ (see https://www.gnu.org/licenses/gpl-3.0.txt)
"""The role crane.swarm.cluster on the session sandbox's engine hosts.

node1 is the sandbox's manager, node2 and node3 its workers. The prechecks run first on hosts
in no swarm and must fail before anything changes (inventory checks, then a port one host's
firewall drops); then the cluster role forms the swarm (with a node label from the inventory)
and converges unchanged on a second run. With cluster_node_labels_state=replace the inventory is
the whole truth: labels set elsewhere go, also from hosts without swarm_node_labels. Each joining
host's clock is measured once per run: by an earlier crane.swarm.timesync check, else by the
precheck, never again by the join. The stacks role (image archives, networks, stacks)
runs in the molecule scenarios, on hosts that start bare.
"""

from __future__ import annotations


import harness


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

    # replace: the inventory is the whole truth. node2 keeps only its inventory label; node3 (an
    # empty mapping) and node1 (no swarm_node_labels at all) lose every label set elsewhere.
    for host in ('node1', 'node2', 'node3'):
        sandbox.docker('node1', 'node', 'update', '--label-add', 'stale=1', nodes[host]['ID'])
    replace = run_playbook(replace_play(), extra_vars={'cluster_node_labels_state': 'replace'})
    labels = dict((name, sandbox.docker_json('node1', 'node', 'inspect', node['ID'])[0]['Spec']['Labels'])
                  for name, node in nodes.items())
    assert labels == {'node1': {}, 'node2': {'zone': 'a'}, 'node3': {}}, replace.output[-3000:]
    label_task = 'Set the node labels given in the inventory'
    assert dict((host, replace.result(label_task, host)['changed']) for host in sandbox.hosts) == {
        'node1': True, 'node2': True, 'node3': True}
    again = run_playbook(replace_play(), extra_vars={'cluster_node_labels_state': 'replace'})
    assert again.changed == 0, again.output[-3000:]

    # merge (the default) leaves labels of hosts without inventory labels alone.
    sandbox.docker('node1', 'node', 'update', '--label-add', 'kept=1', nodes['node3']['ID'])
    merge = run_playbook(replace_play())
    assert merge.changed == 0, merge.output[-3000:]
    assert merge.status(label_task, 'node3') == 'skipped'
    assert sandbox.docker_json('node1', 'node', 'inspect', nodes['node3']['ID'])[0]['Spec']['Labels'] == {'kept': '1'}


def replace_play():
    """The cluster role where node2 has labels, node3 an empty mapping and node1 no swarm_node_labels."""
    return [{
        'name': 'cluster role, labels from the inventory only',
        'hosts': 'swarm_managers:swarm_workers',
        'gather_facts': False,
        'pre_tasks': [
            {'name': 'node2 labels', 'ansible.builtin.set_fact': {'swarm_node_labels': {'zone': 'a'}},
             'when': "inventory_hostname == 'node2'"},
            {'name': 'node3 labels', 'ansible.builtin.set_fact': {'swarm_node_labels': {}},
             'when': "inventory_hostname == 'node3'"},
        ],
        'roles': ['crane.swarm.cluster'],
    }]


def test_each_joining_host_is_measured_once(sandbox, run_playbook, tmp_path):
    """node3's clock was checked by a timesync-like task earlier in the run, the others' by the precheck.

    The inventory's swarm_clock_servers reaches the role without any mapping in the play.
    """
    sandbox.reset_swarm()
    responder = harness.NtpResponder(sandbox.gateway, tmp_path)
    try:
        run = run_playbook([
            {'name': 'what crane.swarm.timesync registers', 'hosts': 'node3', 'gather_facts': False, 'tasks': [
                {'name': 'timesync clock check', 'crane.swarm.clock_check': {
                    'servers': ['{{ swarm_clock_servers[0] }}'], 'max_offset': 1.0},
                 'register': 'timesync_clock'}]},
            {'name': 'cluster role', 'hosts': 'swarm_managers:swarm_workers', 'gather_facts': False,
             'roles': ['crane.swarm.cluster']},
        ], extra_vars={'swarm_clock_servers': [responder.server]})
    finally:
        responder.stop()
    precheck = 'Check the clock against the NTP servers'
    assert dict((host, run.status(precheck, host)) for host in sandbox.hosts) == {
        'node1': 'ok', 'node2': 'ok', 'node3': 'skipped'}, run.output[-3000:]
    assert run.result(precheck, 'node2')['server'] == responder.server
    for host, task in (('node2', 'Join the workers'), ('node3', 'Join the workers')):
        result = run.result(task, host)
        assert result['changed'] is True and 'clock' not in result, result
    assert [sandbox.swarm_state(host)['LocalNodeState'] for host in sandbox.hosts] == ['active'] * 3
