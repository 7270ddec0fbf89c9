# -*- coding: utf-8 -*-
# Copyright: crane.swarm developers
# GNU General Public License v3.0+ (see https://www.gnu.org/licenses/gpl-3.0.txt)
"""Write schemas/crane-bundle.schema.json from BUNDLE_SCHEMA, for editors.

    python3 tests/tools/write_bundle_schema.py [--check]

With --check, write nothing and exit 1 when the file differs from BUNDLE_SCHEMA.
bundle_schema.py is loaded by its path: it imports nothing from the collection,
so no collection layout is needed here.
"""

from __future__ import annotations

import importlib.util
import json
import os
import sys

REPO = os.path.dirname(os.path.dirname(os.path.dirname(os.path.abspath(__file__))))
SOURCE = os.path.join(REPO, 'plugins', 'module_utils', 'bundle_schema.py')
TARGET = os.path.join(REPO, 'schemas', 'crane-bundle.schema.json')


def schema_text():
    """BUNDLE_SCHEMA as the JSON text of the schema file."""
    spec = importlib.util.spec_from_file_location('crane_bundle_schema', SOURCE)
    module = importlib.util.module_from_spec(spec)
    spec.loader.exec_module(module)
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
