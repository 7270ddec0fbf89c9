# Copyright: crane.swarm developers
# GNU General Public License v3.0+ (see https://www.gnu.org/licenses/gpl-3.0.txt)
"""crane.swarm.swarm_secret and crane.swarm.swarm_config on a real swarm."""

from __future__ import annotations

import base64
import json

import pytest

VALUE = 'hunter2-secret-4711'
OTHER = 'correct-horse-4712'


def task(module, title='t', **options):
    return {'name': title, 'crane.swarm.%s' % module: options}


def play(*tasks):
    return {'hosts': 'node1', 'gather_facts': False, 'tasks': list(tasks)}


def objects(sandbox, kind):
    """{name: inspect} of the swarm's secrets or configs."""
    names = sandbox.docker('node1', kind, 'ls', '--format', '{{.Name}}').stdout.split()
    return dict((name, sandbox.docker_json('node1', kind, 'inspect', name)[0]) for name in names)


@pytest.fixture
def objects_swarm(sandbox, shared_swarm3):
    yield shared_swarm3
    for service in sandbox.docker('node1', 'service', 'ls', '-q').stdout.split():
        sandbox.docker('node1', 'service', 'rm', service, check=False)
    for kind in ('secret', 'config'):
        for name in sandbox.docker('node1', kind, 'ls', '--format', '{{.Name}}').stdout.split():
            sandbox.docker('node1', kind, 'rm', name, check=False)


@pytest.mark.parametrize('kind', ['secret', 'config'])
def test_create_is_idempotent_and_labels_change_in_place(sandbox, objects_swarm, run_playbook, kind):
    module = 'swarm_' + kind
    checked = run_playbook([play(task(module, title='c', name='app', data=VALUE))], check=True, diff=True)
    assert objects(sandbox, kind) == {}
    assert checked.result('c', 'node1')['created'] == ['app'] and checked.changed == 1
    first = run_playbook([play(task(module, name='app', data=VALUE, labels={'team': 'a'}))], verbosity=3)
    again = run_playbook([play(task(module, name='app', data=VALUE, labels={'team': 'a'}))])
    assert first.changed == 1 and again.changed == 0
    live = objects(sandbox, kind)['app']
    assert live['Spec']['Labels']['team'] == 'a'
    if kind == 'config':
        assert base64.b64decode(live['Spec']['Data']).decode() == VALUE
    result = again.result('t', 'node1')
    assert result['name'] == 'app' and result['id'] == live['ID'] and result['version'] is None
    relabel = run_playbook([play(task(module, name='app', data=VALUE, labels={'team': 'b'}))],
                           diff=True)
    after = objects(sandbox, kind)['app']
    assert relabel.changed == 1 and after['ID'] == live['ID'] and after['Spec']['Labels']['team'] == 'b'
    assert relabel.result('t', 'node1')['diff']['before']['labels'] == {'team': 'a'}
    assert VALUE not in first.output and VALUE not in relabel.output


def test_new_content_replaces_an_unused_secret_and_is_refused_for_a_used_one(sandbox, objects_swarm, run_playbook):
    run_playbook([play(task('swarm_secret', name='db', data=VALUE))])
    old_id = objects(sandbox, 'secret')['db']['ID']
    replaced = run_playbook([play(task('swarm_secret', name='db', data=OTHER))], diff=True)
    new = objects(sandbox, 'secret')['db']
    assert replaced.changed == 1 and new['ID'] != old_id
    assert replaced.result('t', 'node1')['removed'] == ['db'] == replaced.result('t', 'node1')['created']
    assert replaced.result('t', 'node1')['diff']['before']['content'] == 'other'
    sandbox.docker('node1', 'service', 'create', '--detach', '--name', 'db-user', '--secret', 'db',
                   'busybox:latest', 'sleep', '3600')
    refused = run_playbook([play(task('swarm_secret', name='db', data=VALUE))], expect_failure=True, verbosity=3)
    message = refused.result('t', 'node1')['msg']
    assert 'db-user' in message and 'rolling_versions' in message, message
    assert objects(sandbox, 'secret')['db']['ID'] == new['ID']  # nothing half-applied
    gone = run_playbook([play(task('swarm_secret', name='db', state='absent'))], expect_failure=True)
    assert 'db by db-user' in gone.result('t', 'node1')['msg'] and 'db' in objects(sandbox, 'secret')
    for output in (replaced.output, refused.output, gone.output):
        assert VALUE not in output and OTHER not in output


def test_rotation_keeps_used_versions_and_removes_old_unused_ones(sandbox, objects_swarm, run_playbook):
    def rotate(content, check=False):
        return run_playbook([play(task('swarm_secret', name='key', data=content, rolling_versions=True,
                                       versions_to_keep=1))], check=check)
    first = rotate('one').result('t', 'node1')
    assert (first['name'], first['version']) == ('key_v1', 1)
    sandbox.docker('node1', 'service', 'create', '--detach', '--name', 'key-user', '--secret', 'key_v1',
                   'busybox:latest', 'sleep', '3600')
    rotate('two')
    rotate('three')
    checked = rotate('four', check=True).result('t', 'node1')
    assert checked['created'] == ['key_v4'] and checked['removed'] == ['key_v2']
    assert sorted(objects(sandbox, 'secret')) == ['key_v1', 'key_v2', 'key_v3']
    run = rotate('four')
    result = run.result('t', 'node1')
    assert (result['name'], result['version']) == ('key_v4', 4)
    assert result['created'] == ['key_v4'] and result['removed'] == ['key_v2'] and result['kept_in_use'] == ['key_v1']
    assert sorted(objects(sandbox, 'secret')) == ['key_v1', 'key_v3', 'key_v4']
    assert rotate('four').changed == 0
    sandbox.docker('node1', 'service', 'rm', 'key-user')
    absent = run_playbook([play(task('swarm_secret', name='key', state='absent'))])
    assert sorted(absent.result('t', 'node1')['removed']) == ['key_v1', 'key_v3', 'key_v4']
    assert objects(sandbox, 'secret') == {}


def test_a_vault_encrypted_src_stores_the_plain_content(sandbox, objects_swarm, run_playbook, tmp_path, monkeypatch):
    from ansible.parsing.vault import VaultLib, VaultSecret
    password_file = tmp_path / 'vault-password'
    password_file.write_text('correct horse\n')
    (tmp_path / 'app.conf').write_bytes(VaultLib([('default', VaultSecret(b'correct horse'))]).encrypt(VALUE))
    monkeypatch.setenv('ANSIBLE_VAULT_PASSWORD_FILE', str(password_file))
    run = run_playbook([play(task('swarm_config', name='vaulted', src=str(tmp_path / 'app.conf')),
                             task('swarm_secret', name='vaulted-secret', src=str(tmp_path / 'app.conf')))],
                       verbosity=3)
    assert base64.b64decode(objects(sandbox, 'config')['vaulted']['Spec']['Data']).decode() == VALUE
    # A secret's data cannot be read back: its content label is the plain text's digest, not the ciphertext's.
    import hashlib
    labels = objects(sandbox, 'secret')['vaulted-secret']['Spec']['Labels']
    assert labels['crane.swarm.sha256'] == hashlib.sha256(VALUE.encode()).hexdigest()
    assert VALUE not in run.output


def test_bad_options_fail_on_the_controller_naming_the_option(sandbox, objects_swarm, run_playbook, tmp_path):
    (tmp_path / 'empty').write_text('')
    # The value comes from a variable, as in real playbooks: ansible-core 2.19 prints the playbook lines
    # around a failed task, which would show a value written into the playbook itself.
    value = '{{ secret_value }}'
    run = run_playbook([play(
        dict(task('swarm_secret', title='typo', name='x', nmae='x', data=value), ignore_errors=True),
        dict(task('swarm_secret', title='both', name='x', data=value, src='x'), ignore_errors=True),
        dict(task('swarm_secret', title='none', name='x'), ignore_errors=True),
        dict(task('swarm_secret', title='b64', name='x', data='not base64!', data_is_b64=True), ignore_errors=True),
        dict(task('swarm_config', title='empty', name='x', src=str(tmp_path / 'empty')), ignore_errors=True),
        dict(task('swarm_config', title='missing', name='x', src=str(tmp_path / 'missing')), ignore_errors=True),
    )], verbosity=3, extra_vars={'secret_value': VALUE})
    messages = dict((entry['task'], entry['result'].get('msg', '')) for entry in run.tasks)
    assert messages['typo'].startswith('Unsupported parameters for (crane.swarm.swarm_secret) module: nmae')
    assert 'mutually exclusive: data|src' in messages['both']
    assert 'state is present but any of the following are missing: data, src' in messages['none']
    assert messages['b64'].startswith('data: not valid base64')
    assert 'the content is empty' in messages['empty'] and messages['missing'].startswith('src: ')
    assert all(run.status(name, 'node1') == 'ignored' for name in messages)
    assert VALUE not in run.output and objects(sandbox, 'secret') == {} and objects(sandbox, 'config') == {}
    assert json.dumps(run.tasks).count(VALUE) == 0
