# Copyright: crane.swarm developers
# GNU General Public License v3.0+ (see https://www.gnu.org/licenses/gpl-3.0.txt)
"""jsonschema as an independent judge of BUNDLE_SCHEMA, for the tests only.

    schema_validator() -> validator(bundle) yielding (JSON path, message)

crane.swarm checks bundles with plugin_utils/bundle/check.py, which reads the
schema itself. The tests run jsonschema beside it over the bundle corpora:
both must accept the good bundles and report a bad one at the same path. Its
errors are reworded with bundle/check.py's message helpers so that both read alike.
"""

from __future__ import annotations

from jsonschema import Draft202012Validator

from ansible_collections.crane.swarm.plugins.plugin_utils.bundle.check import (
    QUANTITY_PARSERS, choose_branch, json_path, keyword_message, name_message, quantity_message, resolve,
    unknown_key_message)
from ansible_collections.crane.swarm.plugins.plugin_utils.bundle.schema import BUNDLE_SCHEMA


def schema_validator():
    """bundle -> (JSON path, message) for each jsonschema error, in path order."""
    validator = Draft202012Validator(BUNDLE_SCHEMA)

    def validate(bundle):
        found = []
        for error in validator.iter_errors(bundle):
            found.extend(described_errors(error))
        for parts, message in sorted(found, key=lambda item: json_path(item[0])):
            yield json_path(parts), message
    return validate


def described_errors(error):
    """[(path parts, message)] for one jsonschema ValidationError, worded as bundle/check.py words it."""
    parts = list(error.absolute_path)
    schema = error.schema if isinstance(error.schema, dict) else {}
    if schema.get('title') in QUANTITY_PARSERS:
        return [(parts, quantity_message(schema['title'], error.instance))]
    if 'propertyNames' in error.relative_schema_path:
        # jsonschema reports a bad name at the mapping holding it; the name itself is the instance.
        return [(parts + [error.instance], name_message(error.instance))]
    if error.validator == 'additionalProperties':
        known = schema.get('properties', {})
        return [(parts + [key], unknown_key_message(key, known)) for key in error.instance if key not in known]
    if error.validator == 'required':
        return [(parts + [key], 'required key is missing') for key in schema['required'] if key not in error.instance]
    if error.validator == 'anyOf':
        return _branch_errors(error, parts, schema)
    return [(parts, keyword_message(error.validator, error.instance, schema))]


def _branch_errors(error, parts, schema):
    """Report the errors of the anyOf branch meant for the value's type, not "matches none of them"."""
    index = choose_branch(error.instance, schema['anyOf'])
    if index is None:
        expected = [resolve(branch).get('type') for branch in schema['anyOf']]
        return [(parts, keyword_message('type', error.instance, {'type': expected}))]
    described = []
    for sub_error in error.context:
        if sub_error.relative_schema_path[0] == index:
            described.extend(described_errors(sub_error))
    return described or [(parts, keyword_message('anyOf', error.instance, schema))]
