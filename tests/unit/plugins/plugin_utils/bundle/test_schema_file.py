# Copyright: crane.swarm developers
# GNU General Public License v3.0+ (see https://www.gnu.org/licenses/gpl-3.0.txt)
"""schemas/crane-bundle.schema.json is BUNDLE_SCHEMA written out, and a valid draft 2020-12 schema."""

from __future__ import annotations

import json
import os
import subprocess
import sys

from jsonschema import Draft202012Validator

from ansible_collections.crane.swarm.plugins.plugin_utils.bundle.schema import BUNDLE_SCHEMA

from unit_paths import REPO
SCHEMA_FILE = os.path.join(REPO, 'schemas', 'crane-bundle.schema.json')


def test_the_schema_file_equals_bundle_schema():
    with open(SCHEMA_FILE, encoding='utf-8') as handle:
        written = json.load(handle)
    assert written == BUNDLE_SCHEMA, 'regenerate it: python3 tests/tools/write_bundle_schema.py'


def test_bundle_schema_is_a_valid_draft_2020_12_schema():
    Draft202012Validator.check_schema(BUNDLE_SCHEMA)
    assert BUNDLE_SCHEMA['$schema'] == 'https://json-schema.org/draft/2020-12/schema'


def test_every_object_is_closed():
    """An object schema with properties refuses any other key (maps of names use a schema for their values)."""
    def objects(schema):
        if isinstance(schema, dict):
            if 'properties' in schema:
                yield schema
            for value in schema.values():
                yield from objects(value)
        elif isinstance(schema, list):
            for value in schema:
                yield from objects(value)
    found = list(objects(BUNDLE_SCHEMA))
    assert len(found) > 20
    assert [schema for schema in found if schema.get('additionalProperties') is not False] == []


def test_the_documented_regeneration_command_runs():
    """The tool imports the collection's name rules: it must find them from a bare checkout's python3 call."""
    tool = os.path.join(REPO, 'tests', 'tools', 'write_bundle_schema.py')
    done = subprocess.run([sys.executable, tool, '--check'], capture_output=True, text=True, cwd='/', check=False)
    assert (done.returncode, done.stderr) == (0, '')
