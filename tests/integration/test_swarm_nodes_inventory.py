# Copyright: crane.swarm developers
# GNU General Public License v3.0+ (see https://www.gnu.org/licenses/gpl-3.0.txt)
"""The inventory plugin crane.swarm.swarm_nodes on a real swarm: ansible-inventory against node1's engine.

The controller (this machine) reaches a sandbox host's engine through the host container's root
file system: /proc/<pid>/root/run/docker.sock. (Not .../var/run/docker.sock: /var/run is an
absolute symlink to /run, which the kernel resolves against our own root, i.e. the outer engine.)
"""

from __future__ import annotations

import json
import os
import subprocess

import pytest
import yaml

from harness import PlaybookRunner, VENV_BIN, ansible_environment, form_swarm3, sandbox_tool

LABELS = {'tier': 'db', 'com.example.zone': 'eu-1'}


def engine_socket(sandbox, host):
    """The path of a sandbox host's engine socket, as seen from this machine."""
    pid = sandbox_tool.docker_out('inspect', '-f', '{{.State.Pid}}', sandbox.tool.container(host))
    path = '/proc/%s/root/run/docker.sock' % pid
    assert os.path.exists(path), path
    return path


def write_config(directory, name='swarm_nodes.yml', **options):
    config = {'plugin': 'crane.swarm.swarm_nodes'}
    config.update(options)
    path = os.path.join(str(directory), name)
    with open(path, 'w') as config_file:
        yaml.safe_dump(config, config_file, sort_keys=False)
    return path


def run_tool(tool, *args, env_extra=None):
    env = ansible_environment()
    # The controller's own DOCKER_* variables must not leak into the plugin's options.
    for name in [name for name in env if name.startswith('DOCKER_')]:
        del env[name]
    env.update(env_extra or {})
    return subprocess.run([os.path.join(VENV_BIN, tool)] + list(args), env=env, capture_output=True, check=False,
                          universal_newlines=True, timeout=300)


def plain(value):
    """ansible-inventory --list writes a value read from an API as {"__ansible_unsafe": value}."""
    if isinstance(value, dict):
        if set(value) == {'__ansible_unsafe'}:
            return value['__ansible_unsafe']
        return dict((key, plain(item)) for key, item in value.items())
    if isinstance(value, list):
        return [plain(item) for item in value]
    return value


def inventory_list(config, env_extra=None):
    """ansible-inventory --list of one config: (groups {name: sorted hosts}, hostvars)."""
    argv = ['-i', config, '--list']
    # A source that fails to parse is an error, not a warning and an empty inventory.
    completed = run_tool('ansible-inventory', *argv,
                         env_extra=dict({'ANSIBLE_INVENTORY_UNPARSED_FAILED': 'True'}, **(env_extra or {})))
    assert completed.returncode == 0, completed.stderr
    assert 'WARNING' not in completed.stderr, completed.stderr
    listing = plain(json.loads(completed.stdout))
    hostvars = listing.pop('_meta')['hostvars']
    # --list leaves out empty groups but names them among the children of `all`.
    names = set(listing) | set(listing['all'].get('children', []))
    groups = dict((name, sorted(listing.get(name, {}).get('hosts', []))) for name in names)
    return groups, hostvars


def inventory_failure(config, *args, env_extra=None):
    completed = run_tool('ansible-inventory', '-i', config, '--list', *args,
                         env_extra=dict({'ANSIBLE_INVENTORY_UNPARSED_FAILED': 'True'}, **(env_extra or {})))
    assert completed.returncode != 0, completed.stdout
    assert 'Traceback' not in completed.stderr, completed.stderr
    return ' '.join(completed.stderr.split())


@pytest.fixture(scope='module')
def labelled_swarm(sandbox, tmp_path_factory):
    """node1 manager (leader), node2 and node3 workers; node2 labelled, node3 drained (with crane.swarm.swarm_node)."""
    runner = PlaybookRunner(sandbox, str(tmp_path_factory.mktemp('inventory-swarm')))
    node_ids = form_swarm3(sandbox, runner)
    runner([{'hosts': 'node1', 'gather_facts': False, 'tasks': [
        {'name': 'label', 'crane.swarm.swarm_node': {'node': 'node2', 'labels': LABELS}},
        {'name': 'drain', 'crane.swarm.swarm_node': {'node': 'node3', 'availability': 'drain'}},
    ]}])
    return node_ids


def test_nodes_are_hosts_grouped_as_the_manager_sees_them(sandbox, labelled_swarm, tmp_path):
    config = write_config(tmp_path, docker_host=engine_socket(sandbox, 'node1'))
    groups, hostvars = inventory_list(config)

    live = dict((node['Description']['Hostname'], node)
                for node in sandbox.docker_json('node1', 'node', 'inspect', 'node1', 'node2', 'node3'))
    listed = sandbox.docker('node1', 'node', 'ls', '--format', '{{.Hostname}} {{.ManagerStatus}}').stdout.split('\n')
    assert sorted(hostvars) == sorted(live) == ['node1', 'node2', 'node3']
    assert [line.split()[0] for line in listed if line.endswith(' Leader')] == groups['swarm_leader'] == ['node1']

    assert groups['swarm_managers'] == ['node1']
    assert groups['swarm_workers'] == ['node2', 'node3']
    assert groups['swarm_active'] == ['node1', 'node2']
    assert groups['swarm_drain'] == ['node3']
    assert groups['swarm_ready'] == ['node1', 'node2', 'node3']
    assert groups['swarm_label_tier_db'] == ['node2']
    assert groups['swarm_label_com_example_zone_eu_1'] == ['node2']
    # The fixed groups are there even when empty.
    for empty in ('swarm_pause', 'swarm_down', 'swarm_unknown', 'swarm_disconnected'):
        assert groups[empty] == [], empty

    for host, node in live.items():
        host_vars = hostvars[host]
        platform = node['Description']['Platform']
        assert host_vars['swarm_node_id'] == node['ID'] == labelled_swarm[host]
        assert host_vars['swarm_hostname'] == host
        assert host_vars['swarm_role'] == node['Spec']['Role']
        assert host_vars['swarm_availability'] == node['Spec']['Availability']
        assert host_vars['swarm_state'] == node['Status']['State'] == 'ready'
        assert host_vars['swarm_addr'] == node['Status']['Addr'] == sandbox.address(host)
        assert host_vars['ansible_host'] == sandbox.address(host)
        assert host_vars['swarm_engine_version'] == node['Description']['Engine']['EngineVersion']
        assert host_vars['swarm_labels'] == (node['Spec'].get('Labels') or {})
        assert host_vars['swarm_leader'] is bool((node.get('ManagerStatus') or {}).get('Leader'))
        assert host_vars['swarm_platform'] == '%s/%s' % (platform['OS'], platform['Architecture'])
    assert hostvars['node2']['swarm_labels'] == LABELS
    assert hostvars['node1']['swarm_manager_reachability'] == live['node1']['ManagerStatus']['Reachability']
    assert hostvars['node1']['swarm_manager_addr'] == '%s:2377' % sandbox.address('node1')
    assert 'swarm_manager_reachability' not in hostvars['node2']


def test_hosts_by_id_with_constructed_groups_reach_the_nodes(sandbox, labelled_swarm, tmp_path):
    """hostname_from=id, keyed_groups, groups and compose; compose also gives the hosts the sandbox's
    connection (docker exec on the outer engine), so an ad-hoc command reaches them without ssh."""
    outer = sandbox_tool.OUTER_SOCKET
    config = write_config(
        tmp_path, docker_host='unix://' + engine_socket(sandbox, 'node1'), hostname_from='id',
        address_as_ansible_host=False,
        compose={'ansible_connection': "'community.docker.docker'",
                 'ansible_host': "'%s' ~ swarm_hostname" % sandbox.tool.container('node1')[:-len('node1')],
                 'ansible_docker_extra_args': "'-H unix://%s'" % outer,
                 'ansible_python_interpreter': "'/usr/bin/python3'"},
        keyed_groups=[{'key': 'swarm_role', 'prefix': 'role'}],
        groups={'databases': "swarm_labels.tier | default('') == 'db'"})
    groups, hostvars = inventory_list(config)
    ids = labelled_swarm
    assert sorted(hostvars) == sorted(ids.values())
    assert groups['role_manager'] == [ids['node1']]
    assert groups['role_worker'] == sorted([ids['node2'], ids['node3']])
    assert groups['databases'] == groups['swarm_label_tier_db'] == [ids['node2']]
    assert hostvars[ids['node3']]['ansible_host'] == sandbox.tool.container('node3')

    pattern = run_tool('ansible', '-i', config, 'swarm_workers:&swarm_drain', '--list-hosts')
    assert pattern.returncode == 0 and pattern.stdout.split()[-1] == ids['node3'], pattern.stdout + pattern.stderr
    adhoc = run_tool('ansible', '-i', config, 'swarm_label_tier_db', '-m', 'ansible.builtin.command',
                     '-a', 'cat /etc/hostname')
    assert adhoc.returncode == 0, adhoc.stdout + adhoc.stderr
    assert '%s | CHANGED | rc=0 >>\nnode2' % ids['node2'] in adhoc.stdout, adhoc.stdout


def test_a_cached_inventory_is_read_without_the_engine(sandbox, labelled_swarm, tmp_path):
    """docker_host from DOCKER_HOST (a bare socket path); the second run's DOCKER_HOST leads nowhere."""
    config = write_config(tmp_path, cache=True, cache_plugin='ansible.builtin.jsonfile',
                          cache_connection=str(tmp_path / 'cache'), cache_timeout=3600)
    nowhere = {'DOCKER_HOST': str(tmp_path / 'missing.sock')}
    first_groups, first_vars = inventory_list(config, env_extra={'DOCKER_HOST': engine_socket(sandbox, 'node1')})
    assert sorted(first_vars) == ['node1', 'node2', 'node3']
    assert os.listdir(str(tmp_path / 'cache'))

    cached_groups, cached_vars = inventory_list(config, env_extra=nowhere)
    assert (cached_groups, cached_vars) == (first_groups, first_vars)

    # The cache was what answered: flushing it makes the plugin read the (unreachable) engine.
    message = inventory_failure(config, '--flush-cache', env_extra=nowhere)
    assert 'cannot read the swarm from the engine at docker_host=unix://%s' % nowhere['DOCKER_HOST'] in message


def test_a_worker_or_a_missing_engine_is_a_clear_error(sandbox, labelled_swarm, tmp_path):
    worker = engine_socket(sandbox, 'node2')
    message = inventory_failure(write_config(tmp_path, docker_host=worker))
    assert ('crane.swarm.swarm_nodes: the engine at docker_host=unix://%s is a swarm worker, and only a swarm '
            "manager can list the swarm's nodes" % worker) in message
    assert 'set docker_host in %s (or DOCKER_HOST) to the Engine API of a swarm manager' % (
        tmp_path / 'swarm_nodes.yml') in message

    missing = write_config(tmp_path, name='gone.swarm_nodes.yaml', docker_host='unix:///nonexistent/docker.sock')
    message = inventory_failure(missing)
    assert ('cannot read the swarm from the engine at docker_host=unix:///nonexistent/docker.sock: cannot '
            'connect to the Docker Engine') in message
    assert 'set docker_host in %s' % missing in message
