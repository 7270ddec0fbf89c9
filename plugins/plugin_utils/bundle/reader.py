# -*- coding: utf-8 -*-
# Copyright: crane.swarm developers
# GNU General Public License v3.0+ (see https://www.gnu.org/licenses/gpl-3.0.txt)
"""Reading a stack bundle on the controller.

    read_bundle_file(path)         -> its text, or ValueError naming the file (a folder, too large, not UTF-8)
    load_bundle_text(text, source) -> the bundle (JSON or YAML), or ValueError naming source and line

The action plugin then checks it with plugin_utils/bundle/check.py's check_bundle;
the module on the manager receives only bundles that passed.

A bundle is JSON data however it is written, and is read within bounds that
no real bundle comes near (a stack of 200 services holds about 20,000 values,
7 levels deep):

- at most MAX_DEPTH nested lists and mappings. Deeper JSON exhausts Python's
  recursion; deeper YAML crashed PyYAML's C composer (a segmentation fault at
  100,000 levels), so YAML nodes are composed here, from libyaml's events;
- at most MAX_VALUES values with YAML's aliases expanded. PyYAML builds an
  alias as a shared reference: 497 bytes of nested aliases loaded at once,
  then took 3 GB and 82 s in the checks that walked them. The composer counts
  each node's values once, remembering those of every anchored node;
- in YAML, only what JSON can hold: every key a string (`on:` is the boolean
  true in YAML 1.1, `1:` a number, `2020-01-01:` a date), no dates, binary
  data, sets or custom tags. They are refused where they are written, with
  the JSON path and the fix (quote it), not silently converted: a label
  `version: 1.0` must be quoted too, and the checks say so.
"""

from __future__ import annotations

import json

import yaml
from yaml.composer import Composer, ComposerError
from yaml.constructor import SafeConstructor
from yaml.events import AliasEvent, MappingEndEvent, ScalarEvent, SequenceEndEvent, SequenceStartEvent
from yaml.nodes import MappingNode, ScalarNode, SequenceNode
from yaml.resolver import Resolver

from ansible_collections.crane.swarm.plugins.plugin_utils.bundle.check import json_path
from ansible_collections.crane.swarm.plugins.module_utils.common.plain_data import short_repr

try:
    from yaml._yaml import CParser as _Parser  # libyaml: a bundle of 200 services parses about ten times faster

    _PARSER_BASES = (_Parser,)
except ImportError:  # pragma: no cover - PyYAML without libyaml
    from yaml.parser import Parser
    from yaml.reader import Reader
    from yaml.scanner import Scanner

    _PARSER_BASES = (Reader, Scanner, Parser)

MAX_BUNDLE_BYTES = 16 * 2 ** 20  # a stack of 200 services takes about 160 KiB
MAX_DEPTH = 64
MAX_VALUES = 1000000
# More digits than any number the Engine API takes (2**64 has 20): Python refuses ints past 4300 digits.
MAX_NUMBER_DIGITS = 100

_TAG = 'tag:yaml.org,2002:'
_STR, _INT, _SEQ, _MAP, _MERGE = (_TAG + name for name in ('str', 'int', 'seq', 'map', 'merge'))
_JSON_TAGS = frozenset(_TAG + name for name in ('str', 'int', 'float', 'bool', 'null', 'seq', 'map'))
# What a plain scalar reads as by YAML 1.1's own typing, for the message that says to quote it.
_IMPLICIT_TYPES = {_TAG + 'null': 'null', _TAG + 'int': 'a number', _TAG + 'float': 'a number',
                   _TAG + 'timestamp': 'a date', _TAG + 'value': 'the value key', _MERGE: 'the merge key'}


def _reads_as(node):
    """What YAML made of a plain scalar that was meant as text, or None for text."""
    if node.tag == _TAG + 'bool':
        return 'the boolean %s' % ('true' if node.value.lower() in ('true', 'yes', 'on') else 'false')
    return _IMPLICIT_TYPES.get(node.tag)


def _written(node):
    """A scalar as written, shortened for a message."""
    return node.value if len(node.value) <= 40 else node.value[:37] + '...'


def _tag_message(tag, document='a bundle'):
    return ('the tag %s has no meaning in %s (JSON data: text, numbers, booleans, null, lists and mappings)'
            % (tag.replace(_TAG, '!!'), document))


def read_bundle_file(path, read_bytes=None):
    """The text of the bundle file at `path` (UTF-8, a byte order mark allowed), or ValueError naming it.

    read_bytes(path, limit), when given, reads the file instead (the action plugins pass
    plugin_utils/controller_files.vault_reader's, which decrypts vault-encrypted files).
    """
    if read_bytes is not None:
        data = read_bytes(path, MAX_BUNDLE_BYTES)
    else:
        try:
            with open(path, 'rb') as handle:
                data = handle.read(MAX_BUNDLE_BYTES + 1)
        except IsADirectoryError:
            raise ValueError('%s: is a directory, not a bundle file' % path)
        except OSError as exc:
            raise ValueError('%s: cannot read it: %s' % (path, exc.strerror or exc))
    if len(data) > MAX_BUNDLE_BYTES:
        raise ValueError('%s: is larger than %d MiB: that is no bundle' % (path, MAX_BUNDLE_BYTES // 2 ** 20))
    try:
        return data.decode('utf-8-sig')
    except UnicodeDecodeError as exc:
        raise ValueError('%s: not UTF-8 text: byte 0x%02x at offset %d; save the file as UTF-8'
                         % (path, data[exc.start], exc.start))


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
                raise ValueError('%s: key %s appears twice in one object' % (source, short_repr(key)))
            mapping[key] = value
        return mapping

    def bounded_int(digits):
        if len(digits) > MAX_NUMBER_DIGITS:
            raise ValueError('%s: a number of %d digits (%s...): the Engine API takes at most 20'
                             % (source, len(digits), digits[:20]))
        return int(digits)
    try:
        bundle = json.loads(text, object_pairs_hook=unique_keys, parse_int=bounded_int)
    except json.JSONDecodeError as exc:
        raise ValueError('%s: line %d column %d: %s' % (source, exc.lineno, exc.colno, exc.msg))
    except RecursionError:
        raise ValueError('%s: nested deeper than %d levels of lists and objects' % (source, MAX_DEPTH))
    _check_depth(bundle, source)
    return bundle


def _check_depth(bundle, source):
    """ValueError when lists and objects nest deeper than MAX_DEPTH (walked level by level, without recursion)."""
    level, depth = [bundle], 1
    while level:
        if depth > MAX_DEPTH:
            raise ValueError('%s: %s: nested deeper than %d levels of lists and objects' % (
                source, json_path(_path_to(bundle, level[0])), MAX_DEPTH))
        level = [item for value in level for item in (value.values() if isinstance(value, dict) else value)
                 if isinstance(item, (dict, list))]
        depth += 1


def _path_to(bundle, target):
    """The keys and indexes from `bundle` to the collection `target`, for the message (target is within reach)."""
    todo = [(bundle, [])]
    while todo:
        value, parts = todo.pop()
        if value is target:
            return parts
        if len(parts) < MAX_DEPTH:
            items = value.items() if isinstance(value, dict) else enumerate(value)
            todo.extend((item, parts + [key]) for key, item in items if isinstance(item, (dict, list)))
    return []


class _BoundedComposer(Composer):
    """YAML's composer, holding the node graph to a bundle's bounds while it builds it (see the module docstring).

    It composes nodes from the parser's events as Composer does (path resolvers
    aside: SafeLoader has none), checking each node as it is made; its recursion
    stops at MAX_DEPTH.
    """

    document = 'a bundle'  # what the messages call the file; the compose loader says 'a compose file'

    def __init__(self):
        Composer.__init__(self)
        self.json_parts = []  # the JSON path of the node being composed
        self.counts = {}      # id(list or mapping node) -> the values it stands for, aliases expanded

    def refuse(self, mark, parts, problem):
        raise ComposerError(None, None, '%s: %s' % (json_path(parts), problem), mark)

    def compose_node(self, parent, index):
        return self.compose(is_key=False)[0]

    def compose(self, is_key):
        """(node, the number of values it stands for) for the next event's node."""
        event = self.get_event()
        kind = type(event)
        if kind is AliasEvent:
            node = self.anchors.get(event.anchor)
            if node is None:
                raise ComposerError(None, None, 'found undefined alias %r' % event.anchor, event.start_mark)
            if isinstance(node, ScalarNode):
                return node, 1
            if id(node) not in self.counts:
                self.refuse(event.start_mark, self.json_parts, 'the alias *%s stands for a list or mapping that holds '
                            'it; %s is a tree' % (event.anchor, self.document))
            return node, self.counts[id(node)]
        if event.anchor is not None and event.anchor in self.anchors:
            raise ComposerError('found duplicate anchor %r; first occurrence' % event.anchor,
                                self.anchors[event.anchor].start_mark, 'second occurrence', event.start_mark)
        if kind is ScalarEvent:
            return self.compose_scalar(event, is_key), 1
        if is_key:
            self.refuse(event.start_mark, self.json_parts, 'a key must be text, not a list or a mapping')
        if len(self.json_parts) >= MAX_DEPTH:
            self.refuse(event.start_mark, self.json_parts, 'nested deeper than %d levels of lists and mappings'
                        % MAX_DEPTH)
        node_class = SequenceNode if kind is SequenceStartEvent else MappingNode
        tag = event.tag
        if tag is None or tag == '!':
            tag = self.resolve(node_class, None, event.implicit)
        if tag != (_SEQ if kind is SequenceStartEvent else _MAP):
            self.refuse(event.start_mark, self.json_parts, _tag_message(tag, self.document))
        node = node_class(tag, [], event.start_mark, None, flow_style=event.flow_style)
        if event.anchor is not None:
            self.anchors[event.anchor] = node
        count = (self.compose_items if kind is SequenceStartEvent else self.compose_pairs)(node)
        node.end_mark = self.get_event().end_mark
        if count > MAX_VALUES:
            self.refuse(node.start_mark, self.json_parts, 'holds more than %d values once its YAML aliases are '
                        'expanded (each alias repeats what it stands for); write it with fewer aliases' % MAX_VALUES)
        self.counts[id(node)] = count
        return node, count

    def compose_scalar(self, event, is_key):
        tag = event.tag
        if tag is None or tag == '!':
            tag = self.resolve(ScalarNode, event.value, event.implicit)
        node = ScalarNode(tag, event.value, event.start_mark, event.end_mark, style=event.style)
        if event.anchor is not None:
            self.anchors[event.anchor] = node
        if tag == _STR or is_key:
            return node  # keys are checked by compose_pairs, which also sees aliases used as keys
        if tag not in _JSON_TAGS:
            if _reads_as(node):
                self.refuse(node.start_mark, self.json_parts, '%s is %s in YAML, which %s cannot hold; quote it '
                            'to mean the text: "%s"' % (_written(node), _reads_as(node), self.document, _written(node)))
            self.refuse(node.start_mark, self.json_parts, _tag_message(tag, self.document))
        if tag == _INT and len(node.value) > MAX_NUMBER_DIGITS:
            self.refuse(node.start_mark, self.json_parts, 'the number %s has %d digits: the Engine API takes at most '
                        '20' % (_written(node), len(node.value)))
        return node

    def compose_items(self, node):
        count, parts = 1, self.json_parts
        while not self.check_event(SequenceEndEvent):
            parts.append(len(node.value))
            item, item_count = self.compose(is_key=False)
            parts.pop()
            node.value.append(item)
            count += item_count
        return count

    def compose_pairs(self, node):
        """Compose a mapping's pairs, refusing keys that are not text and keys written twice."""
        count, parts, seen = 1, self.json_parts, set()
        while not self.check_event(MappingEndEvent):
            key_event = self.peek_event()
            key = self.compose(is_key=True)[0]
            if not isinstance(key, ScalarNode):
                self.refuse(key_event.start_mark, parts, 'a key must be text, not a list or a mapping')
            if key.tag != _MERGE:  # `<<: *defaults` may be overridden by the keys written next to it
                if key.tag != _STR:
                    self.refuse(key.start_mark, parts + [key.value], 'the key %s is %s in YAML; quote it to mean the '
                                'name: "%s"' % (_written(key), _reads_as(key) or 'not text', _written(key)))
                if key.value in seen:
                    raise ComposerError(None, None, 'key %s appears twice in one mapping (%s)' % (
                        short_repr(key.value), json_path(parts)), key.start_mark)
                seen.add(key.value)
            parts.append(key.value)
            item, item_count = self.compose(is_key=False)
            parts.pop()
            node.value.append((key, item))
            count += 1 + item_count
        return count


class _BundleLoader(_BoundedComposer, *_PARSER_BASES, SafeConstructor, Resolver):  # pylint: disable=too-many-ancestors
    """YAML's safe loader on libyaml's parser (where PyYAML has it) with the bounded composer above."""

    def __init__(self, stream):
        _PARSER_BASES[0].__init__(self, stream)  # pylint: disable=non-parent-init-called
        for base in _PARSER_BASES[1:]:
            base.__init__(self)  # pylint: disable=non-parent-init-called
        _BoundedComposer.__init__(self)
        SafeConstructor.__init__(self)
        Resolver.__init__(self)


def _load_yaml(text, source):
    loader = _BundleLoader(text)
    try:
        return loader.get_single_data()
    except yaml.YAMLError as exc:
        mark = getattr(exc, 'problem_mark', None)
        where = ' line %d column %d:' % (mark.line + 1, mark.column + 1) if mark else ''
        problem = getattr(exc, 'problem', None) or str(exc)
        raise ValueError('%s:%s %s' % (source, where, problem))
    finally:
        loader.dispose()
