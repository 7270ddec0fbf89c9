# Copyright: crane.swarm developers
# GNU General Public License v3.0+ (see https://www.gnu.org/licenses/gpl-3.0.txt)
"""The controller half of swarm_stack: files it reads, and what it refuses before anything is sent."""

from __future__ import annotations

import base64
import json

import pytest
from ansible.errors import AnsibleActionFail
from ansible.plugins.action import ActionBase
from hypothesis import given, settings
from ansible.parsing.dataloader import DataLoader
from ansible.parsing.vault import VaultLib, VaultSecret
from hypothesis import strategies as st

from ansible_collections.crane.swarm.plugins.action.swarm_stack import ActionModule, controller_options
from ansible_collections.crane.swarm.plugins.plugin_utils.bundle.check import check_bundle
from ansible_collections.crane.swarm.plugins.plugin_utils.bundle.reader import read_bundle_file


def action():
    """An ActionModule whose file lookup is the path itself (ansible-core's needs a task and a loader)."""
    module = ActionModule.__new__(ActionModule)
    module._find_needle = lambda kind, src: src
    module._loader = DataLoader()
    return module


# ---- the bundle file ----

def test_a_directory_as_src_is_refused_naming_it(tmp_path):
    with pytest.raises(ValueError, match='^%s: is a directory, not a file$' % tmp_path):
        action()._read_bundle(str(tmp_path), None)


def test_a_bundle_that_is_not_utf8_is_refused_naming_the_file_and_the_byte(tmp_path):
    path = tmp_path / 'stack.yml'
    path.write_bytes('Services:\n  web:\n    Image: caf\u00e9\n'.encode('latin-1'))
    with pytest.raises(ValueError, match='^%s: not UTF-8 text: byte 0xe9 at offset 31; save the file as UTF-8$' % path):
        action()._read_bundle(str(path), None)


def test_a_utf8_bundle_with_a_byte_order_mark_reads(tmp_path):
    path = tmp_path / 'stack.json'
    path.write_bytes(b'\xef\xbb\xbf{"Services": {"web": {"Image": "caf\xc3\xa9"}}}')
    bundle, source, base_dir = action()._read_bundle(str(path), None)
    assert bundle == {'Services': {'web': {'Image': 'caf\u00e9'}}} and (source, base_dir) == (str(path), str(tmp_path))


def test_a_bundle_file_larger_than_16_mib_is_refused_unread(tmp_path):
    path = tmp_path / 'huge.yml'
    with open(path, 'wb') as handle:
        handle.truncate(16 * 2 ** 20 + 1)
    with pytest.raises(ValueError, match='is larger than 16 MiB'):
        read_bundle_file(str(path))


# ---- secret and config files ----

def test_secret_and_config_files_hold_what_the_swarm_takes(tmp_path):
    (tmp_path / 'binary').write_bytes(b'\xff\x00\xfe')
    (tmp_path / 'empty').write_bytes(b'')
    (tmp_path / 'big').write_bytes(b'x' * (500 * 1024))
    (tmp_path / 'config').write_bytes(b'x' * (500 * 1024))
    read = action()._file_contents
    binary = read({'s': {'File': 'binary'}}, str(tmp_path), 'Secrets')  # not text: secrets may be binary
    assert binary == {'s': base64.b64encode(b'\xff\x00\xfe').decode()}
    assert read({'c': {'File': 'config'}}, str(tmp_path), 'Configs')['c']
    with pytest.raises(AnsibleActionFail, match=r'^\$\.Secrets\.s\.File: %s is empty' % (tmp_path / 'empty')):
        read({'s': {'File': 'empty'}}, str(tmp_path), 'Secrets')
    with pytest.raises(AnsibleActionFail, match=r'^\$\.Secrets\.s\.File: %s holds 512000 bytes or more: a swarm secret '
                       r'holds at most 511999' % (tmp_path / 'big')):
        read({'s': {'File': 'big'}}, str(tmp_path), 'Secrets')
    with pytest.raises(AnsibleActionFail, match=r'^\$\.Configs\.c\.File: .* on the controller: is a directory, not a file'):
        read({'c': {'File': '.'}}, str(tmp_path), 'Configs')
    with pytest.raises(AnsibleActionFail, match=r'^\$\.Configs\.c\.File: .*b on the controller: cannot read it'):
        read({'c': {'File': 'a\x00b'}}, str(tmp_path), 'Configs')


@pytest.mark.parametrize('kind, size, words', [
    ('Secrets', 0, 'holds 0 bytes: a swarm secret holds 1 to 511999'),
    ('Secrets', 500 * 1024, 'holds 512000 bytes: a swarm secret holds 1 to 511999'),
    ('Configs', 1000 * 1024, 'holds 1024000 bytes: a swarm config holds 1 to 1023999'),
])
def test_inline_content_holds_what_the_swarm_takes(kind, size, words):
    bundle = {kind: {'o': {'Content': 'x' * size}}, 'Services': {'web': {'Image': 'b'}}}
    errors = check_bundle(bundle)
    assert [error.path for error in errors] == ['$.%s.o.Content' % kind]
    assert words in errors[0].message
    bundle[kind]['o']['Content'] = 'x' * (size - 1 if size else 1)
    assert check_bundle(bundle) == []


# ---- the Docker names the stack gives its objects ----

@pytest.mark.parametrize('stack, bundle, path, words', [
    ('my stack', {'Services': {'web': {'Image': 'b'}}}, 'name', "'my stack' is not a valid stack name"),
    ('demo\n', {'Services': {'web': {'Image': 'b'}}}, 'name', 'is not a valid stack name'),
    ('s' * 50, {'Services': {'w' * 13: {'Image': 'b'}}}, '$.Services.' + 'w' * 13,
     "the service's Docker name 'sssssss"),
    ('s' * 50, {'Networks': {'n' * 13: {}}, 'Services': {'web': {'Image': 'b'}}}, '$.Networks.' + 'n' * 13,
     'is 64 characters; the swarm takes at most 63'),
    ('s' * 50, {'Services': {'web': {'Image': 'b', 'Networks': ['n' * 13]}}}, '$.Services.web.Networks[0]',
     "the network's Docker name"),
    ('s' * 40, {'Secrets': {'x' * 13: {'Content': 'c'}}, 'Services': {'web': {'Image': 'b'}}}, '$.Secrets.' + 'x' * 13,
     'is 65 characters (with the digest of its content); the swarm takes at most 64'),
    ('s' * 40, {'Configs': {'x' * 13: {'File': 'c'}}, 'Services': {'web': {'Image': 'b'}}}, '$.Configs.' + 'x' * 13,
     'the swarm takes at most 64'),
])
def test_names_too_long_for_the_swarm_once_scoped_are_refused(stack, bundle, path, words):
    errors = check_bundle(bundle, stack)
    assert [error.path for error in errors] == [path], errors
    assert words in errors[0].message


def test_names_that_fit_once_scoped_pass():
    bundle = {'Networks': {'n' * 12: {}, 'x' * 60: {'External': True}}, 'Secrets': {'x' * 12: {'Content': 'c'}},
              'Configs': {'y' * 12: {'Content': 'c'}}, 'Services': {'w' * 12: {'Image': 'b'}}}
    assert check_bundle(bundle, 's' * 40) == []


def test_a_plain_dab_network_name_must_be_a_docker_name():
    errors = check_bundle({'Services': {'web': {'Image': 'b', 'Networks': ['my net']}}})
    assert [(error.path, error.message[:30]) for error in errors] == [('$.Services.web.Networks[0]',
                                                                       "'my net' is not a valid name: ")]


# ---- the options read on the controller, and what the module receives ----

class Loader(DataLoader):
    @staticmethod
    def get_basedir():
        return '/nowhere'


class Task:
    action = resolved_action = 'crane.swarm.swarm_stack'

    def __init__(self, args):
        self.args = args


def run_action(monkeypatch, args, module_result=None):
    """Run the action plugin on `args`: (its result, the arguments the module was called with or None)."""
    monkeypatch.setattr(ActionBase, 'run', lambda self, tmp=None, task_vars=None: {})
    plugin = action()
    plugin._task = Task(args)
    plugin._loader = Loader()
    sent = []

    def execute_module(module_name, module_args, task_vars):
        sent.append(module_args)
        echoed = dict(module_args, src=None, definition=None)  # what AnsibleModule would echo
        return dict(module_result or {}, invocation=dict(module_args=echoed))
    plugin._execute_module = execute_module
    return plugin.run(task_vars={}), (sent[0] if sent else None)


BUNDLE = {'Secrets': {'token': {'Content': 'hunter22'}}, 'Services': {'web': {'Image': 'b', 'Secrets': ['token']}}}


def test_the_module_receives_the_checked_bundle_in_private_options_only(monkeypatch, tmp_path):
    path = tmp_path / 'stack.json'
    path.write_text(json.dumps(BUNDLE))
    result, sent = run_action(monkeypatch, {'name': 'shop', 'src': str(path), 'prune': True})
    assert sorted(sent) == ['_bundle_json', '_config_data', '_secret_data', 'name', 'prune']
    assert json.loads(sent['_bundle_json']) == BUNDLE and sent['_secret_data'] == {} == sent['_config_data']
    assert result['invocation']['module_args'] == {'name': 'shop', 'prune': True, 'src': str(path), 'definition': None,
                                                   'compose': None, 'env': None}


def test_a_private_option_or_an_unknown_one_is_refused_before_anything_is_read(monkeypatch, tmp_path):
    path = tmp_path / 'stack.json'
    path.write_text(json.dumps(BUNDLE))
    for unknown in ('_bundle_json', 'srcc'):
        result, sent = run_action(monkeypatch, {'name': 'shop', 'src': str(path), unknown: 'x'})
        assert sent is None and result['failed']
        assert result['msg'].startswith('Unsupported parameters for (crane.swarm.swarm_stack) module: %s. '
                                        'Supported parameters include: ' % unknown), result['msg']
    result, sent = run_action(monkeypatch, {'name': 'shop', 'srcc': str(path)})
    assert sent is None and 'Unsupported parameters' in result['msg'] and 'srcc' in result['msg']


def test_an_inline_definition_is_shown_summed_up_never_its_contents(monkeypatch):
    for definition in (BUNDLE, json.dumps(BUNDLE)):
        result, sent = run_action(monkeypatch, {'name': 'shop', 'definition': definition}, {'msg': 'done'})
        assert json.loads(sent['_bundle_json']) == BUNDLE
        shown = result['invocation']['module_args']
        assert 'hunter22' not in json.dumps(result) and not [key for key in shown if key.startswith('_')]
        assert shown['definition'] in ('a bundle of 1 service(s), not echoed', 'not echoed')


def test_absent_sends_no_bundle(monkeypatch):
    result, sent = run_action(monkeypatch, {'name': 'shop', 'state': 'absent'})
    assert sent == {'name': 'shop', 'state': 'absent'} and 'failed' not in result


@pytest.mark.parametrize('args, message', [
    ({'name': 'shop'}, 'state is present but any of the following are missing: src, definition, compose'),
    ({'name': 'shop', 'src': 'a.yml', 'definition': BUNDLE}, 'parameters are mutually exclusive: src|definition|compose'),
    ({'name': 'shop', 'src': 'a.yml', 'compose': 'b.yml'}, 'parameters are mutually exclusive: src|definition|compose'),
    ({'name': 'shop', 'src': 'a.yml', 'env': {'A': '1'}}, 'missing parameter(s) required by \'env\': compose'),
    ({'src': 'a.yml'}, 'missing required arguments: name'),
    ({'name': 'shop', 'state': 'gone', 'definition': BUNDLE}, 'value of state must be one of: present, absent'),
    ({'name': 'shop', 'state': ['present'], 'src': 'a.yml'}, 'value of state must be one of: present, absent'),
])
def test_the_argument_spec_checks_the_controller_options_before_anything_is_read(monkeypatch, args, message):
    result, sent = run_action(monkeypatch, args)
    assert sent is None and result['failed'] and message in result['msg'], result['msg']


def test_a_bundle_name_problem_is_found_on_the_controller_and_nothing_is_sent(monkeypatch):
    result, sent = run_action(monkeypatch, {'name': 'my stack', 'definition': BUNDLE})
    problem = ("name: 'my stack' is not a valid stack name: use at most 63 letters, digits, \"-\" and \"_\", "
               'starting and ending with a letter or digit')
    assert sent is None and result['problems'] == [problem]


OPTION_VALUES = st.one_of(st.none(), st.booleans(), st.integers(), st.text(max_size=8),
                          st.lists(st.text(max_size=3), max_size=2),
                          st.dictionaries(st.text(max_size=3), st.integers(), max_size=2))


@settings(max_examples=300, deadline=None, derandomize=True, database=None)
@given(st.dictionaries(st.sampled_from(['name', 'state', 'src', 'definition', 'compose', 'env', 'prune', 'other']),
                       OPTION_VALUES))
def test_controller_options_either_pass_the_argument_spec_or_fail_plainly(args):
    try:
        options = controller_options(args)
    except AnsibleActionFail as exc:
        assert str(exc)
        return
    assert 'other' not in args
    assert set(['compose', 'definition', 'env', 'name', 'src', 'state']) <= set(options)
    assert isinstance(options['name'], str) and options['state'] in ('present', 'absent')
    if options['state'] == 'present':
        assert [options[key] is None for key in ('src', 'definition', 'compose')].count(False) == 1
    assert options['env'] is None or (isinstance(options['env'], dict) and options['compose'] is not None)


# ---- vault-encrypted files, read as Ansible reads them ----

def vault_loader(password='correct horse'):
    loader = DataLoader()
    loader.set_vault_secrets([('default', VaultSecret(password.encode()))])
    return loader


def vault_encrypt(path, plain, password='correct horse'):
    path.write_bytes(VaultLib([('default', VaultSecret(password.encode()))]).encrypt(plain))


def test_vault_encrypted_bundle_and_secret_files_are_decrypted_on_the_controller(tmp_path):
    vault_encrypt(tmp_path / 'token', b'hunter22\n')
    vault_encrypt(tmp_path / 'stack.yml', b'Secrets:\n  token:\n    File: token\nServices:\n  web:\n    Image: b\n')
    plugin = action()
    plugin._loader = vault_loader()
    bundle, dummy, base_dir = plugin._read_bundle(str(tmp_path / 'stack.yml'), None)
    assert bundle == {'Secrets': {'token': {'File': 'token'}}, 'Services': {'web': {'Image': 'b'}}}
    contents = plugin._file_contents(bundle['Secrets'], base_dir, 'Secrets')
    assert base64.b64decode(contents['token']) == b'hunter22\n'  # the plain text, never the ciphertext
    assert not plugin._loader._tempfiles  # the decrypted copies are gone


def test_a_vault_encrypted_file_without_the_password_is_refused_naming_it(tmp_path):
    vault_encrypt(tmp_path / 'token', b'hunter22\n')
    plugin = action()
    with pytest.raises(AnsibleActionFail, match=r'^\$\.Secrets\.token\.File: .*token on the controller: cannot read '
                                                r'it: A vault password or secret must be specified'):
        plugin._file_contents({'token': {'File': 'token'}}, str(tmp_path), 'Secrets')
    plugin._loader = vault_loader('wrong')
    with pytest.raises(AnsibleActionFail, match=r'token on the controller: cannot read it: .*[Dd]ecrypt'):
        plugin._file_contents({'token': {'File': 'token'}}, str(tmp_path), 'Secrets')
