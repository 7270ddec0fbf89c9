# -*- coding: utf-8 -*-
# Copyright: crane.swarm developers
# GNU General Public License v3.0+ (see https://www.gnu.org/licenses/gpl-3.0.txt)
"""Reading and validating a stack bundle on the controller.

    load_bundle_text(text, source) -> the bundle (JSON or YAML), or ValueError naming source and line
    schema_validator()             -> validator(bundle) yielding (JSON path, message), for check_bundle

jsonschema is a controller requirement only (managed hosts check bundles with
module_utils/bundle.py alone), so it is imported when a validator is built.
Its errors are reworded with bundle.py's own message helpers, so a problem
reads the same whichever side finds it, and an unknown key is reported at its
own path with the nearest valid key.
"""

from __future__ import annotations

import json

import yaml

from ansible_collections.crane.swarm.plugins.module_utils.bundle import (
    QUANTITY_PARSERS, choose_branch, json_path, keyword_message, name_message, quantity_message, resolve,
    unknown_key_message)
from ansible_collections.crane.swarm.plugins.module_utils.bundle_schema import BUNDLE_SCHEMA


def load_bundle_text(text, source):
    """Parse a bundle written in JSON or YAML; a duplicate key is an error, as is an empty file."""
    if not text.strip():
        raise ValueError('%s: the bundle is empty' % source)
    if text.lstrip().startswith('{'):
        return _load_json(text, source)
    return _load_yaml(text, source)


def _load_json(text, source):
    def unique_keys(pairs):
        mapping = {}
        for key, value in pairs:
            if key in mapping:
                raise ValueError('%s: key %r appears twice in one object' % (source, key))
            mapping[key] = value
        return mapping
    try:
        return json.loads(text, object_pairs_hook=unique_keys)
    except json.JSONDecodeError as exc:
        raise ValueError('%s: line %d column %d: %s' % (source, exc.lineno, exc.colno, exc.msg))


class _UniqueKeyLoader(getattr(yaml, 'CSafeLoader', yaml.SafeLoader)):  # pylint: disable=too-many-ancestors
    """YAML's safe loader, refusing a mapping that repeats a key (PyYAML keeps the last one silently).

    libyaml's parser where PyYAML has it: a bundle of 200 services parses about ten times faster.
    """

    def construct_mapping(self, node, deep=False):
        seen = set()
        for key_node, dummy in node.value:
            if key_node.tag == 'tag:yaml.org,2002:merge':
                continue  # `<<: *defaults` may be overridden by the keys written next to it
            key = self.construct_object(key_node, deep=deep)
            if key in seen:
                raise yaml.constructor.ConstructorError(None, None, 'key %r appears twice in one mapping' % (key,),
                                                        key_node.start_mark)
            seen.add(key)
        return super().construct_mapping(node, deep=deep)


def _load_yaml(text, source):
    try:
        return yaml.load(text, Loader=_UniqueKeyLoader)  # nosec - a SafeLoader: plain data only
    except yaml.YAMLError as exc:
        mark = getattr(exc, 'problem_mark', None)
        where = ' line %d column %d:' % (mark.line + 1, mark.column + 1) if mark else ''
        problem = getattr(exc, 'problem', None) or str(exc)
        raise ValueError('%s:%s %s' % (source, where, problem))


def schema_validator():
    """A callable for check_bundle: bundle -> (JSON path, message) for each jsonschema error, in path order."""
    try:
        from jsonschema import Draft202012Validator
    except ImportError as exc:
        raise ImportError('validating a bundle on the controller needs the Python package jsonschema: %s' % exc)
    validator = Draft202012Validator(BUNDLE_SCHEMA)

    def validate(bundle):
        found = []
        for error in validator.iter_errors(bundle):
            found.extend(described_errors(error))
        for parts, message in sorted(found, key=lambda item: json_path(item[0])):
            yield json_path(parts), message
    return validate


def described_errors(error):
    """[(path parts, message)] for one jsonschema ValidationError, worded as bundle.py words it."""
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
