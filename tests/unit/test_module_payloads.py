# Copyright: crane.swarm developers
# GNU General Public License v3.0+ (see https://www.gnu.org/licenses/gpl-3.0.txt)
"""What each module carries to the host: the module_utils its imports reach.

ansible-core parses every module_utils file a module reaches to build its
payload, on every run, and the host compiles each one again. So a module
carries its own domain and the module base (the engine client and the swarm
helpers every engine-using module needs), nothing else: the bundle checks
and schema are controller code (plugin_utils, run by the action plugin), and
swarm_network does not carry the stack translation.
"""

from __future__ import annotations

import ast
import os

import pytest

from unit_paths import REPO

OURS = 'ansible_collections.crane.swarm.plugins.'
# The module base: the engine client, the AnsibleModule and error style around it, the swarm helpers.
ENGINE = {'engine.client', 'engine.module_base', 'swarm.nodes'}

# module -> every module_utils file its payload holds (names relative to plugins/module_utils).
EXPECTED = {
    'clock_check': {'clock.check', 'clock.sntp', 'clock.timesync'},
    'port_check': {'swarm.port_probe'},
    'swarm': ENGINE | {'clock.check', 'clock.sntp', 'clock.timesync', 'common.durations', 'engine.limits',
                       'common.plain_data', 'swarm.membership', 'swarm.membership_options', 'swarm.port_probe',
                       'swarm.quorum', 'swarm.recovery', 'swarm.settings'},
    'swarm_info': ENGINE | {'swarm.info_options', 'swarm.membership'},
    'swarm_network': ENGINE | {'networks.spec'},
    'swarm_node': ENGINE | {'swarm.quorum'},
    'swarm_stack': ENGINE | {'common.durations', 'common.plain_data', 'common.sizes', 'engine.limits',
                             'networks.spec', 'stacks.apply', 'stacks.container_keys', 'stacks.options', 'stacks.spec',
                             'stacks.status', 'stacks.terms', 'swarm.stored_objects'},
    'swarm_stack_info': ENGINE | {'stacks.status', 'stacks.terms'},
    'swarm_secret': ENGINE | {'swarm.stored_object_task', 'swarm.stored_objects'},
    'swarm_config': ENGINE | {'swarm.stored_object_task', 'swarm.stored_objects'},
}


def reached_from(path):
    """Dotted names (relative to plugins/) of our plugin code that `path` imports, directly or through each other."""
    reached, todo = set(), [path]
    while todo:
        with open(todo.pop(), encoding='utf-8') as handle:
            tree = ast.parse(handle.read())
        for node in ast.walk(tree):
            if isinstance(node, ast.ImportFrom) and (node.module or '').startswith(OURS):
                names = [node.module[len(OURS):]]
                # `from ...module_utils.clock import sntp` imports the module sntp of the package clock.
                names += ['%s.%s' % (names[0], alias.name) for alias in node.names]
                for name in names:
                    file_path = os.path.join(REPO, 'plugins', *name.split('.')) + '.py'
                    if name not in reached and os.path.isfile(file_path):
                        reached.add(name)
                        todo.append(file_path)
    return reached


def module_utils_of(path):
    reached = reached_from(path)
    return set(name[len('module_utils.'):] for name in reached if name.startswith('module_utils.')), reached


def test_every_module_is_listed():
    modules = sorted(name[:-3] for name in os.listdir(os.path.join(REPO, 'plugins', 'modules')) if name.endswith('.py'))
    assert modules == sorted(EXPECTED)


@pytest.mark.parametrize('module', sorted(EXPECTED))
def test_a_module_carries_only_what_it_uses(module):
    carried, reached = module_utils_of(os.path.join(REPO, 'plugins', 'modules', module + '.py'))
    assert not [name for name in reached if not name.startswith('module_utils.')], 'controller code in a module'
    assert carried == EXPECTED[module]


def test_the_stack_action_plugin_checks_with_the_controller_checks():
    reached = reached_from(os.path.join(REPO, 'plugins', 'action', 'swarm_stack.py'))
    assert {'plugin_utils.bundle.check', 'plugin_utils.bundle.schema', 'plugin_utils.bundle.reader'} <= reached
