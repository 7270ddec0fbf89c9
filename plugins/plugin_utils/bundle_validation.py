# -*- coding: utf-8 -*-
# Copyright: crane.swarm developers
# GNU General Public License v3.0+ (see https://www.gnu.org/licenses/gpl-3.0.txt)
"""Reading a stack bundle on the controller.

    load_bundle_text(text, source) -> the bundle (JSON or YAML), or ValueError naming source and line

The action plugin then checks it with module_utils/bundle.py's check_bundle;
the module on the manager receives only bundles that passed.
"""

from __future__ import annotations

import json

import yaml


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
