# Copyright: crane.swarm developers
# GNU General Public License v3.0+ (see https://www.gnu.org/licenses/gpl-3.0.txt)
"""crane.swarm.swarm_secret and crane.swarm.swarm_config on a real swarm."""

from __future__ import annotations

import base64
import hashlib
import json
import os
import subprocess

import pytest

from harness import VENV_BIN, BackgroundPlaybook, ansible_environment

VALUE = 'hunter2-secret-4711'
OTHER = 'correct-horse-4712'
# What must never be printed: the values, and the base64 form the module receives.
NEVER_SHOWN = [VALUE, OTHER] + [base64.b64encode(each.encode()).decode() for each in (VALUE, OTHER)]


def sha256(text):
    return hashlib.sha256(text.encode()).hexdigest()


def assert_never_shown(*runs):
    for run in runs:
        for value in NEVER_SHOWN:
            assert value not in run.output, 'the content %r is printed:\n%s' % (value, run.output[-3000:])
            assert value not in json.dumps(run.tasks)


def task(module, title='t', **options):
    return {'name': title, 'crane.swarm.%s' % module: options}


def play(*tasks):
    return {'hosts': 'node1', 'gather_facts': False, 'tasks': list(tasks)}


def run_with_vault(sandbox, tmp_path, playbook_text, password_file, expect_failure=False):
    """ansible-playbook -vvv --diff --vault-password-file FILE on a YAML playbook (the runner takes no vault options)."""
    playbook = tmp_path / 'vaulted-playbook.yml'
    playbook.write_text(playbook_text)
    record = str(tmp_path / 'vaulted-record.json')
    env = ansible_environment()
    env['CRANE_RECORD_FILE'] = record
    argv = [os.path.join(VENV_BIN, 'ansible-playbook'), '-i', sandbox.inventory, str(playbook),
            '--vault-password-file', str(password_file), '--diff', '-vvv']
    return BackgroundPlaybook(argv, env, record).wait(expect_failure=expect_failure)


def ansible_vault(*argv, input_text=None):
    return subprocess.run([os.path.join(VENV_BIN, 'ansible-vault')] + list(argv), input=input_text, check=True,
                          capture_output=True, text=True, env=ansible_environment()).stdout


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
    checked = run_playbook([play(task(module, title='c', name='app', data=VALUE))], check=True, diff=True,
                           verbosity=3)
    assert objects(sandbox, kind) == {}
    result = checked.result('c', 'node1')
    assert result['created'] == ['app'] and result['removed'] == [] and checked.changed == 1
    assert result['diff'] == {'before': {}, 'after': {'name': 'app', 'labels': {}, 'version': None,
                                                      'sha256': sha256(VALUE)}}
    first = run_playbook([play(task(module, name='app', data=VALUE, labels={'team': 'a', 'port': 80}))], verbosity=3)
    again = run_playbook([play(task(module, name='app', data=VALUE, labels={'team': 'a', 'port': 80}))], diff=True)
    assert first.changed == 1 and again.changed == 0
    live = objects(sandbox, kind)['app']
    assert live['Spec']['Labels'] == {'team': 'a', 'port': '80', 'crane.swarm.sha256': sha256(VALUE)}
    if kind == 'config':
        assert base64.b64decode(live['Spec']['Data']).decode() == VALUE
    result = again.result('t', 'node1')
    assert result['name'] == 'app' and result['id'] == live['ID'] and result['version'] is None
    assert result['created'] == result['removed'] == [] and result['diff']['before'] == result['diff']['after']
    relabel_check = run_playbook([play(task(module, name='app', data=VALUE, labels={'team': 'b'}))], check=True)
    assert relabel_check.changed == 1 and objects(sandbox, kind)['app'] == live  # check mode changed nothing
    relabel = run_playbook([play(task(module, name='app', data=VALUE, labels={'team': 'b'}))],
                           diff=True, verbosity=3)
    after = objects(sandbox, kind)['app']
    assert relabel.changed == 1 and after['ID'] == live['ID'] and after['Spec']['Labels']['team'] == 'b'
    assert 'port' not in after['Spec']['Labels']
    diff = relabel.result('t', 'node1')['diff']
    assert diff['before'] == {'name': 'app', 'labels': {'team': 'a', 'port': '80'}, 'version': None,
                              'sha256': sha256(VALUE)}
    assert diff['after'] == dict(diff['before'], labels={'team': 'b'})
    assert relabel.result('t', 'node1')['created'] == [] and relabel.result('t', 'node1')['removed'] == []
    assert_never_shown(checked, first, again, relabel_check, relabel)


def test_new_content_replaces_an_unused_secret_and_is_refused_for_a_used_one(sandbox, objects_swarm, run_playbook):
    run_playbook([play(task('swarm_secret', name='db', data=VALUE))])
    old_id = objects(sandbox, 'secret')['db']['ID']
    replace_check = run_playbook([play(task('swarm_secret', name='db', data=OTHER))], check=True, diff=True)
    assert replace_check.result('t', 'node1')['removed'] == ['db'] == replace_check.result('t', 'node1')['created']
    assert objects(sandbox, 'secret')['db']['ID'] == old_id
    replaced = run_playbook([play(task('swarm_secret', name='db', data=OTHER))], diff=True, verbosity=3)
    new = objects(sandbox, 'secret')['db']
    assert replaced.changed == 1 and new['ID'] != old_id
    assert replaced.result('t', 'node1')['removed'] == ['db'] == replaced.result('t', 'node1')['created']
    diff = replaced.result('t', 'node1')['diff']
    assert (diff['before']['sha256'], diff['after']['sha256']) == (sha256(VALUE), sha256(OTHER))
    assert new['Spec']['Labels']['crane.swarm.sha256'] == sha256(OTHER)
    sandbox.docker('node1', 'service', 'create', '--detach', '--name', 'db-user', '--secret', 'db',
                   'busybox:latest', 'sleep', '3600')
    # Given through a variable: ansible-core 2.19 prints the playbook lines around a failed task.
    refused = run_playbook([play(task('swarm_secret', name='db', data='{{ value }}'))], expect_failure=True,
                           verbosity=3, diff=True, extra_vars={'value': VALUE})
    message = refused.result('t', 'node1')['msg']
    assert 'db-user' in message and 'rolling_versions' in message and 'Nothing was changed' in message, message
    assert 'Traceback' not in refused.output
    assert objects(sandbox, 'secret')['db']['ID'] == new['ID']  # nothing half-applied
    gone = run_playbook([play(task('swarm_secret', name='db', state='absent'))], expect_failure=True, verbosity=3)
    assert 'db by db-user' in gone.result('t', 'node1')['msg'] and 'db' in objects(sandbox, 'secret')
    assert_never_shown(replace_check, replaced, refused, gone)


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
    in_use = run_playbook([play(task('swarm_secret', name='key', state='absent'))], expect_failure=True)
    assert 'key_v1 by key-user' in in_use.result('t', 'node1')['msg']
    assert sorted(objects(sandbox, 'secret')) == ['key_v1', 'key_v3', 'key_v4']
    sandbox.docker('node1', 'service', 'rm', 'key-user')
    absent_check = run_playbook([play(task('swarm_secret', name='key', state='absent'))], check=True, diff=True)
    assert absent_check.changed == 1 and sorted(objects(sandbox, 'secret')) == ['key_v1', 'key_v3', 'key_v4']
    assert sorted(absent_check.result('t', 'node1')['removed']) == ['key_v1', 'key_v3', 'key_v4']
    before = absent_check.result('t', 'node1')['diff']['before']['objects']
    assert [(each['name'], each['version'], each['sha256']) for each in before] == [
        ('key_v1', 1, sha256('one')), ('key_v3', 3, sha256('three')), ('key_v4', 4, sha256('four'))]
    absent = run_playbook([play(task('swarm_secret', name='key', state='absent'))])
    assert sorted(absent.result('t', 'node1')['removed']) == ['key_v1', 'key_v3', 'key_v4']
    assert objects(sandbox, 'secret') == {}
    assert run_playbook([play(task('swarm_secret', name='key', state='absent'))]).changed == 0


def test_vault_encrypted_src_and_inline_vault_data_store_the_plain_content(sandbox, objects_swarm, tmp_path):
    password_file = tmp_path / 'vault-password'
    password_file.write_text('correct horse battery\n')
    conf = tmp_path / 'app.conf'
    conf.write_text(VALUE)
    ansible_vault('encrypt', '--vault-password-file', str(password_file), str(conf))
    assert conf.read_text().startswith('$ANSIBLE_VAULT;') and VALUE not in conf.read_text()
    inline = ansible_vault('encrypt_string', '--vault-password-file', str(password_file), '--stdin-name', 'data',
                           input_text=OTHER)
    assert inline.startswith('data: !vault |') and OTHER not in inline
    playbook = """
- hosts: node1
  gather_facts: false
  tasks:
    - name: config
      crane.swarm.swarm_config:
        name: vaulted
        src: %(conf)s
    - name: secret
      crane.swarm.swarm_secret:
        name: vaulted-secret
        src: %(conf)s
    - name: inline
      crane.swarm.swarm_secret:
        name: inline-secret
%(inline)s
""" % dict(conf=conf, inline='\n'.join('        ' + line for line in inline.strip().splitlines()))
    run = run_with_vault(sandbox, tmp_path, playbook, password_file)
    assert run.changed == 3
    configs, secrets = objects(sandbox, 'config'), objects(sandbox, 'secret')
    assert base64.b64decode(configs['vaulted']['Spec']['Data']).decode() == VALUE  # the plain text, not the vault
    # A secret's data cannot be read back: its content label is the plain text's digest, not the ciphertext's.
    assert secrets['vaulted-secret']['Spec']['Labels']['crane.swarm.sha256'] == sha256(VALUE)
    assert secrets['inline-secret']['Spec']['Labels']['crane.swarm.sha256'] == sha256(OTHER)
    assert run.result('inline', 'node1')['diff']['after']['sha256'] == sha256(OTHER)
    again = run_with_vault(sandbox, tmp_path, playbook, password_file)
    assert again.changed == 0
    assert_never_shown(run, again)


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
        dict(task('swarm_secret', title='bool label', name='x', data=value, labels={'on': True}), ignore_errors=True),
        dict(task('swarm_secret', title='own label', name='x', data=value, labels={'crane.swarm.version': '3'}),
             ignore_errors=True),
        dict(task('swarm_secret', title='keep', name='x', data=value, rolling_versions=True, versions_to_keep=-2),
             ignore_errors=True),
    )], verbosity=3, diff=True, extra_vars={'secret_value': VALUE})
    messages = dict((entry['task'], entry['result'].get('msg', '')) for entry in run.tasks)
    assert messages['typo'].startswith('Unsupported parameters for (crane.swarm.swarm_secret) module: nmae')
    assert 'mutually exclusive: data|src' in messages['both']
    assert 'state is present but any of the following are missing: data, src' in messages['none']
    assert messages['b64'].startswith('data: not valid base64')
    assert 'the content is empty' in messages['empty'] and messages['missing'].startswith('src: ')
    assert messages['bool label'].startswith('labels.on is the boolean True; labels are strings: quote it')
    assert messages['own label'].startswith('labels.crane.swarm.version is set by the module itself')
    assert messages['keep'].startswith('versions_to_keep is -2; give the number of old versions to keep')
    assert all(run.status(name, 'node1') == 'ignored' for name in messages)
    assert objects(sandbox, 'secret') == {} and objects(sandbox, 'config') == {}
    assert 'Traceback' not in run.output
    assert_never_shown(run)


def test_a_config_template_driver_is_part_of_its_content(sandbox, objects_swarm, run_playbook):
    templated = task('swarm_config', name='tpl', data='{{ "{{" }} .Service.Name {{ "}}" }}', template_driver='golang')
    first = run_playbook([play(templated)])
    live = objects(sandbox, 'config')['tpl']
    assert first.changed == 1 and live['Spec']['Templating'] == {'Name': 'golang'}
    assert base64.b64decode(live['Spec']['Data']).decode() == '{{ .Service.Name }}'
    assert run_playbook([play(templated)]).changed == 0
    plain = run_playbook([play(task('swarm_config', name='tpl', data='{{ "{{" }} .Service.Name {{ "}}" }}'))])
    after = objects(sandbox, 'config')['tpl']
    assert plain.changed == 1 and after['ID'] != live['ID'] and not after['Spec'].get('Templating')
