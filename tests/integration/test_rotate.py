# Copyright: crane.swarm developers
# GNU General Public License v3.0+ (see https://www.gnu.org/licenses/gpl-3.0.txt)
"""crane.swarm.rotate and unlocking on real engines: a swarm of three (node1 manager), autolock on.

The playbook refuses a swarm with a node down, and names a node that misses a CA rotation when
its bounded wait ends; in check mode it changes nothing; then it rotates
both join tokens, the unlock key and the root CA, and returns once every node holds a certificate
of the new CA. The new unlock key lands in a 0600 file on the controller, and unlocks node1 after
its engine restarted: a wrong key fails clearly, check mode changes nothing, the cluster role fails
naming swarm_unlock_key without it and unlocks with it. The old worker token no longer joins. No
token or key, old or new, shows in any -vvv output: the tests compare them through digests only.
"""

from __future__ import annotations

import hashlib
import os
import stat
import time

import yaml

import harness

ROTATE = [{'ansible.builtin.import_playbook': 'crane.swarm.rotate'}]
EVERYTHING = ['worker_token', 'manager_token', 'unlock_key', 'ca']
CLUSTER = [{'name': 'cluster role', 'hosts': 'swarm_managers:swarm_workers', 'gather_facts': False,
            'roles': ['crane.swarm.cluster']}]
# The playbook's own bound on the CA wait, kept small here: three idle nodes renew within seconds.
CA_TIMEOUT = 120


def swarm_play(name, **options):
    return {'hosts': 'node1', 'gather_facts': False, 'tasks': [{'name': name, 'crane.swarm.swarm': options}]}


def digest(secret):
    """What an assertion may show of a secret."""
    return hashlib.sha256(secret.encode()).hexdigest()[:16]


def digests(secrets):
    return dict((name, digest(value)) for name, value in secrets.items())


def worker_token(sandbox):
    return sandbox.docker('node1', 'swarm', 'join-token', '-q', 'worker').stdout.strip()


def swarm_secrets(sandbox):
    """Both join tokens and the unlock key, read from node1's engine. Never printed."""
    values = dict(worker=worker_token(sandbox),
                  manager=sandbox.docker('node1', 'swarm', 'join-token', '-q', 'manager').stdout.strip())
    values['unlock'] = sandbox.docker('node1', 'swarm', 'unlock-key', '-q').stdout.strip()
    assert values['worker'].startswith('SWMTKN-1-') and values['unlock'].startswith('SWMKEY-1-'), 'no secrets read'
    return values


def assert_hidden(output, *secret_sets):
    """No secret value, nor its random part, in the output (a failure names them by digest only)."""
    leaked = ['%s (%s)' % (name, digest(value)) for secrets in secret_sets for name, value in secrets.items()
              if value in output or value.split('-')[-1] in output]
    assert not leaked, 'shown in the output: %s' % ', '.join(leaked)


def node_states(sandbox):
    lines = sandbox.docker('node1', 'node', 'ls', '--format', '{{.ID}} {{.Hostname}} {{.Status}}').stdout.splitlines()
    return [line.split() for line in lines]


def changed_tasks(run):
    return sorted(set(entry['task'] for entry in run.tasks if (entry.get('result') or {}).get('changed')))


def test_rotate_everything_then_unlock_with_the_new_key(sandbox, swarm3, run_playbook, tmp_path):
    key_file = str(tmp_path / 'keys' / 'unlock.yml')
    os.mkdir(os.path.dirname(key_file))
    rotate_all = dict(rotate=EVERYTHING, rotate_unlock_key_file=key_file, rotate_ca_timeout=CA_TIMEOUT)

    # A node down: refused before anything changes, naming the node.
    sandbox.docker('node3', 'swarm', 'leave')
    harness.wait_for('node3 seen down', lambda: ['node3', 'Down'] in [line[1:] for line in node_states(sandbox)], 60)
    refused = run_playbook(ROTATE, extra_vars=rotate_all, expect_failure=True)
    message = refused.result('Check that every manager is reachable and every node Ready', 'node1')['msg']
    assert 'not healthy' in message and 'node3 (down)' in message, message
    assert refused.changed == 0 and not os.path.exists(key_file)
    down = [line[0] for line in node_states(sandbox) if line[1] == 'node3']
    sandbox.docker('node1', 'node', 'rm', '--force', *down)
    # check=False: a failure would print the command, token included.
    joined = sandbox.docker('node3', 'swarm', 'join', '--token', worker_token(sandbox),
                            '%s:2377' % sandbox.address('node1'), check=False)
    assert joined.returncode == 0, 'node3 did not join again: %s' % joined.stderr
    harness.wait_for('three nodes Ready', lambda: sorted(line[2] for line in node_states(sandbox)) == ['Ready'] * 3, 60)

    # A node that cannot reach the manager misses the CA rotation: the wait ends at rotate_ca_timeout and names it.
    # A long heartbeat period keeps node3 Ready for the precheck meanwhile.
    run_playbook([swarm_play('autolock', state='present', autolock=True, dispatcher_heartbeat_period='60s')])
    cut_off = ['OUTPUT', '-p', 'tcp', '--dport', '2377', '-j', 'DROP']
    sandbox.exec('node3', 'iptables', '-I', *cut_off)
    try:
        late = run_playbook(ROTATE, extra_vars={'rotate': 'ca', 'rotate_ca_timeout': 8}, expect_failure=True)
    finally:
        sandbox.exec('node3', 'iptables', '-D', *cut_off)
    message = late.result('Check that every node holds a certificate of the new CA', 'node1')['msg']
    assert 'within rotate_ca_timeout=8 s' in message and 'nodes still hold a certificate of the old CA' in message, message
    assert 'node3' in message and 'node2' not in message, message
    harness.wait_for('the CA rotation completed', lambda: not sandbox.api('node1', '/swarm').get('RootRotationInProgress'), 90)
    run_playbook([swarm_play('heartbeat', state='present', dispatcher_heartbeat_period='5s')])

    before = swarm_secrets(sandbox)
    root_before = sandbox.api('node1', '/swarm')['TLSInfo']['TrustRoot']

    # Check mode: nothing rotates, no file is written.
    checked = run_playbook(ROTATE, extra_vars=rotate_all, check=True)
    assert checked.result('Rotate', 'node1')['changed'] is True
    assert digests(swarm_secrets(sandbox)) == digests(before) and not os.path.exists(key_file)
    assert sandbox.api('node1', '/swarm')['TLSInfo']['TrustRoot'] == root_before

    started = time.monotonic()
    run = run_playbook(ROTATE, extra_vars=rotate_all, verbosity=3)
    print('rotate everything (CA wait included): %.1f s' % (time.monotonic() - started))
    after = swarm_secrets(sandbox)
    for name in before:
        assert digest(after[name]) != digest(before[name]), '%s was not rotated' % name
    # Only the rotation and the key file change; the checks, reads and the wait report ok.
    assert changed_tasks(run) == ['Rotate', 'Write the new unlock key to rotate_unlock_key_file on the controller '
                                  '(mode 0600)'], changed_tasks(run)

    # Every node holds a certificate issued by the new CA, and trusts only the new root.
    swarm_tls = sandbox.api('node1', '/swarm')['TLSInfo']
    assert swarm_tls['TrustRoot'] != root_before
    for node in sandbox.api('node1', '/nodes'):
        tls = node['Description']['TLSInfo']
        assert (tls['CertIssuerSubject'], tls['CertIssuerPublicKey']) == (
            swarm_tls['CertIssuerSubject'], swarm_tls['CertIssuerPublicKey']), node['Description']['Hostname']
        assert tls['TrustRoot'] == swarm_tls['TrustRoot'], node['Description']['Hostname']

    # The new key, in a file only its owner reads, as the vars file the inventory takes.
    assert stat.S_IMODE(os.stat(key_file).st_mode) == 0o600
    with open(key_file) as handle:
        handed_over = yaml.safe_load(handle)['swarm_unlock_key']
    assert digest(handed_over) == digest(after['unlock'])
    assert_hidden(run.output, before, after)

    # node1's engine restarts: locked until it gets the key.
    sandbox.stop_engine('node1')
    sandbox.start_engine('node1')
    harness.wait_for('node1 locked', lambda: sandbox.swarm_state('node1')['LocalNodeState'] == 'locked', 30)
    wrong = handed_over[:9] + ''.join('C' if char == 'B' else 'B' for char in handed_over[9:20]) + handed_over[20:]
    refused = run_playbook([swarm_play('unlock', state='present', unlock_key='{{ key }}')],
                           extra_vars={'key': wrong}, verbosity=3, expect_failure=True)
    message = refused.result('unlock', 'node1')['msg']
    assert 'unlock_key' in message and 'Nothing was changed' in message, message
    assert_hidden(refused.output, {'wrong': wrong, 'unlock': after['unlock']})
    checked = run_playbook([swarm_play('unlock', state='present', unlock_key='{{ key }}')],
                           extra_vars={'key': handed_over}, check=True)
    assert checked.result('unlock', 'node1')['changed'] is True
    assert sandbox.swarm_state('node1')['LocalNodeState'] == 'locked'

    # The cluster role: without the key it fails naming the variable; with it, it unlocks first.
    missing = run_playbook(CLUSTER, expect_failure=True)
    message = missing.result('Check that a locked manager has its unlock key in the inventory', 'node1')['msg']
    assert 'swarm_unlock_key' in message and 'locked' in message, message
    assert missing.changed == 0 and sandbox.swarm_state('node1')['LocalNodeState'] == 'locked'
    unlocked = run_playbook(CLUSTER, extra_vars={'swarm_unlock_key': handed_over}, verbosity=3)
    assert unlocked.result('Unlock this manager with swarm_unlock_key', 'node1')['changed'] is True
    state = sandbox.swarm_state('node1')
    assert state['LocalNodeState'] == 'active' and state['ControlAvailable'] is True
    assert_hidden(unlocked.output, after)

    # The old worker token joins no more.
    sandbox.docker('node3', 'swarm', 'leave')
    stale = run_playbook([{'hosts': 'node3', 'gather_facts': False, 'tasks': [{'name': 'join', 'crane.swarm.swarm': {
        'state': 'join', 'advertise_addr': '{{ crane_sandbox_address }}', 'join_timeout': 20,
        'remote_addrs': ['{{ hostvars.node1.crane_sandbox_address }}'], 'join_token': '{{ token }}'}}]}],
        extra_vars={'token': before['worker']}, expect_failure=True)
    message = stale.result('join', 'node3')['msg']
    assert 'rotated' in message and sandbox.swarm_state('node3')['LocalNodeState'] == 'inactive', message
    assert_hidden(stale.output, before)
