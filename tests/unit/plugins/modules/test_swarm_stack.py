# Copyright: crane.swarm developers
# GNU General Public License v3.0+ (see https://www.gnu.org/licenses/gpl-3.0.txt)
"""crane.swarm.swarm_stack on the manager: it takes the bundle its action plugin checked, and says so when there is none."""

from __future__ import annotations

import json

import pytest

try:
    from ansible.module_utils.testing import patch_module_args
except ImportError:  # ansible-core before 2.19: the same, by hand
    import contextlib

    from ansible.module_utils import basic
    from ansible.module_utils.common.text.converters import to_bytes

    @contextlib.contextmanager
    def patch_module_args(args):
        saved = basic._ANSIBLE_ARGS
        basic._ANSIBLE_ARGS = to_bytes(json.dumps({'ANSIBLE_MODULE_ARGS': args}))
        try:
            yield
        finally:
            basic._ANSIBLE_ARGS = saved

from ansible_collections.crane.swarm.plugins.modules import swarm_stack as mod

BUNDLE = {'Secrets': {'token': {'Content': 'hunter22'}}, 'Services': {'web': {'Image': 'b', 'Secrets': ['token']}}}


def run_main(monkeypatch, capsys, args):
    """main() on `args`: (its JSON result, [the bundle the deployment was given] or [] when none was built)."""
    built = []

    def run_engine_task(module, task_class):
        built.append(task_class(module, None).bundle)
        module.exit_json(changed=False)
    monkeypatch.setattr(mod, 'run_engine_task', run_engine_task)
    with patch_module_args(args), pytest.raises(SystemExit):
        mod.main()
    return json.loads(capsys.readouterr().out), built


@pytest.mark.parametrize('args', [{'name': 'shop'}, {'name': 'shop', 'src': 'stack.yml'},
                                  {'name': 'shop', 'definition': BUNDLE}])
def test_without_its_action_plugin_the_module_says_so_plainly(monkeypatch, capsys, args):
    result, built = run_main(monkeypatch, capsys, args)
    assert result['failed'] and built == []
    assert result['msg'].startswith('crane.swarm.swarm_stack ran without its action plugin: the private option '
                                    '_bundle_json, the bundle read and checked on the controller, is missing.')
    assert 'hunter22' not in json.dumps(result)


def test_the_checked_bundle_reaches_the_deployment_as_a_mapping_and_is_never_echoed(monkeypatch, capsys):
    args = {'name': 'shop', '_bundle_json': json.dumps(BUNDLE), '_secret_data': {}, '_config_data': {}}
    result, built = run_main(monkeypatch, capsys, args)
    assert built == [BUNDLE] and 'failed' not in result
    assert result['invocation']['module_args']['_bundle_json'] == 'not echoed'
    assert 'hunter22' not in json.dumps(result)


def test_absent_needs_no_bundle(monkeypatch, capsys):
    result, built = run_main(monkeypatch, capsys, {'name': 'shop', 'state': 'absent'})
    assert built == [None] and 'failed' not in result


CREDENTIALS = [{'registry': 'https://registry.example:5000/', 'username': 'deploy', 'password': 'pa55-w0rd-x'}]


def test_registry_credentials_reach_the_deployment_by_registry_and_their_password_is_masked(monkeypatch, capsys):
    """Whatever a result says, even a message quoting it, the password is masked; the user name is shown."""
    given = []

    def run_engine_task(module, task_class):
        given.append(task_class(module, None).credentials)
        module.fail_json(msg='the registry refused deploy with pa55-w0rd-x')
    monkeypatch.setattr(mod, 'run_engine_task', run_engine_task)
    args = {'name': 'shop', '_bundle_json': json.dumps(BUNDLE), '_secret_data': {}, '_config_data': {},
            'registry_credentials': CREDENTIALS}
    with patch_module_args(args), pytest.raises(SystemExit):
        mod.main()
    out = capsys.readouterr().out
    result = json.loads(out)
    assert given == [{'registry.example:5000': {'username': 'deploy', 'password': 'pa55-w0rd-x'}}]
    assert 'pa55-w0rd-x' not in out and result['msg'].startswith('the registry refused deploy with ')
    assert result['invocation']['module_args']['registry_credentials'] == [
        dict(CREDENTIALS[0], password='VALUE_SPECIFIED_IN_NO_LOG_PARAMETER')]


def test_bad_registry_credentials_fail_the_module_naming_the_field(monkeypatch, capsys):
    args = {'name': 'shop', '_bundle_json': json.dumps(BUNDLE), '_secret_data': {}, '_config_data': {},
            'registry_credentials': [dict(CREDENTIALS[0], username='de:ploy')]}
    result, built = run_main(monkeypatch, capsys, args)
    assert result['failed'] and built == [] and 'pa55-w0rd-x' not in json.dumps(result)
    assert result['msg'].startswith('registry_credentials[0].username: not a user name'), result['msg']
