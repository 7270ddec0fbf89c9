# Copyright: crane.swarm developers
# GNU General Public License v3.0+ (see https://www.gnu.org/licenses/gpl-3.0.txt)
"""What a module carries to the host: the module_utils its imports reach.

ansible-core parses every module_utils file a module reaches to build its
payload, on every run, and the host compiles each one again: the bundle checks
and schema belong on the controller only (the action plugin runs them).
"""

from __future__ import annotations

import ast
import os

ROOT = os.path.dirname(os.path.dirname(os.path.dirname(os.path.abspath(__file__))))
OURS = 'ansible_collections.crane.swarm.plugins.module_utils.'


def module_utils_reached(path):
    """Names of our module_utils that `path` imports, directly or through each other."""
    reached, todo = set(), [path]
    while todo:
        tree = ast.parse(open(todo.pop(), encoding='utf-8').read())
        for node in ast.walk(tree):
            if isinstance(node, ast.ImportFrom) and (node.module or '').startswith(OURS):
                name = node.module[len(OURS):]
                if name not in reached:
                    reached.add(name)
                    todo.append(os.path.join(ROOT, 'plugins', 'module_utils', name + '.py'))
    return reached


def test_the_stack_module_carries_the_translation_but_not_the_checks():
    reached = module_utils_reached(os.path.join(ROOT, 'plugins', 'modules', 'swarm_stack.py'))
    assert {'stack_spec', 'stack_apply', 'engine', 'bundle_terms'} <= reached
    assert not reached & {'bundle', 'bundle_schema'}


def test_the_stack_action_plugin_checks_with_the_full_checks():
    assert 'bundle' in module_utils_reached(os.path.join(ROOT, 'plugins', 'action', 'swarm_stack.py'))
