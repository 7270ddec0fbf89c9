# -*- coding: utf-8 -*-
# Copyright: crane.swarm developers
# GNU General Public License v3.0+ (see https://www.gnu.org/licenses/gpl-3.0.txt)
"""Write schemas/crane-bundle.schema.json from BUNDLE_SCHEMA, for editors.

    python3 tests/tools/write_bundle_schema.py [--check]

With --check, write nothing and exit 1 when the file differs from BUNDLE_SCHEMA.
plugin_utils/bundle/schema.py imports the shared name rules (module_utils/stacks/terms.py),
so the checkout is exposed as ansible_collections.crane.swarm first, as the unit
tests' conftest.py and `make collection` do.
"""

from __future__ import annotations

import importlib
import json
import os
import sys

REPO = os.path.dirname(os.path.dirname(os.path.dirname(os.path.abspath(__file__))))
COLLECTIONS_ROOT = os.path.join(REPO, 'build', 'collections')
LINK = os.path.join(COLLECTIONS_ROOT, 'ansible_collections', 'crane', 'swarm')
TARGET = os.path.join(REPO, 'schemas', 'crane-bundle.schema.json')


def schema_text():
    """BUNDLE_SCHEMA as the JSON text of the schema file."""
    if not os.path.islink(LINK):
        os.makedirs(os.path.dirname(LINK), exist_ok=True)
        os.symlink(REPO, LINK)
    if COLLECTIONS_ROOT not in sys.path:
        sys.path.insert(0, COLLECTIONS_ROOT)
    module = importlib.import_module('ansible_collections.crane.swarm.plugins.plugin_utils.bundle.schema')
    return json.dumps(module.BUNDLE_SCHEMA, indent=2, ensure_ascii=False) + '\n'


def main(argv):
    text = schema_text()
    if '--check' in argv:
        with open(TARGET, encoding='utf-8') as current:
            if current.read() != text:
                print('%s is out of date: run python3 tests/tools/write_bundle_schema.py' % TARGET)
                return 1
        return 0
    with open(TARGET, 'w', encoding='utf-8') as target:
        target.write(text)
    print('wrote %s' % TARGET)
    return 0


if __name__ == '__main__':
    sys.exit(main(sys.argv[1:]))
