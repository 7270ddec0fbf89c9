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
