# -*- coding: utf-8 -*-
# Copyright: crane.swarm developers
# GNU General Public License v3.0+ (see https://www.gnu.org/licenses/gpl-3.0.txt)
"""Loading one compose file's text into a mapping, as `docker stack deploy -c` parses it.

    load_compose_text(text, source) -> the file's top-level mapping, or ComposeError naming source and line
    parse_compose_text(text, source) -> the same with extension fields and `version` still in it
    without_extension_fields(project) -> a copy of a parsed mapping without them

(read.py parses, interpolates, then drops extension fields: the CLI interpolates them too, so a bad
`$` in an `x-` field is an error there as here.)

docker/cli (cli/compose/loader/loader.go, ParseYAML, read at commit 34797d16) parses the file with
yaml.v2 and refuses a document that is not a mapping ("top-level object must be a mapping") and any
key that is not text. Here the YAML is composed by the bundle reader's bounded composer
(plugins/plugin_utils/bundle/reader.py), so a compose file is held to the bundle's bounds (size,
nesting, values with aliases expanded: an alias bomb is refused before anything expands it), with
anchors, aliases and merge keys (`<<: *x`, `<<: [*a, *b]`) as YAML 1.1 gives them.

Where yaml.v2 and PyYAML read a plain scalar differently, the CLI's reading is kept, since the file
is written for the CLI: `80:80` is text (PyYAML would read the base-60 number 4880, yaml.v2 has no
base 60) and `2020-01-01` is text (yaml.v2 keeps a date-like value as a string).

Extension fields (keys starting with `x-`) at the top level and in the entries of services,
networks, volumes, secrets and configs are dropped: the CLI keeps them aside (getExtras) and deploys
nothing from them; they mostly hold anchors, already resolved here. `version:` is accepted and
dropped: nothing here depends on it (read.py checks, as the CLI does, that several files agree on it).
"""

from __future__ import annotations

import yaml
from yaml.nodes import ScalarNode

from ansible_collections.crane.swarm.plugins.plugin_utils.bundle.reader import MAX_BUNDLE_BYTES, _BundleLoader
from ansible_collections.crane.swarm.plugins.plugin_utils.compose.errors import ComposeError

# The sections whose entries may carry extension fields, as the compose schema allows them.
SECTIONS_WITH_EXTENSIONS = ('services', 'networks', 'volumes', 'secrets', 'configs')

_TAG = 'tag:yaml.org,2002:'
_READ_AS_TEXT_BY_THE_CLI = {_TAG + 'timestamp'}
_NUMBERS = {_TAG + 'int', _TAG + 'float'}


class _ComposeYamlLoader(_BundleLoader):  # pylint: disable=too-many-ancestors
    """The bundle reader's bounded loader, reading plain scalars as yaml.v2 (the CLI's parser) reads them."""

    document = 'a compose file'

    def resolve(self, kind, value, implicit):
        tag = super().resolve(kind, value, implicit)
        if kind is ScalarNode and (tag in _READ_AS_TEXT_BY_THE_CLI or (tag in _NUMBERS and ':' in value)):
            return _TAG + 'str'
        return tag


def _kind(value):
    if value is None:
        return 'an empty document'
    if isinstance(value, list):
        return 'a list'
    return 'the single value %r' % (value,) if len(repr(value)) <= 40 else 'a single value'


def _without_extensions(mapping):
    """A copy of `mapping` without `x-` keys; the input may share parts through YAML aliases, so it is not changed."""
    return {key: value for key, value in mapping.items() if not key.startswith('x-')}


def _character_at(text, mark):
    lines = text.splitlines()
    return lines[mark.line][mark.column:mark.column + 1] if mark.line < len(lines) else ''


def parse_compose_text(text, source):
    """The top-level mapping of the compose file `source` whose content is `text`, as written."""
    if len(text) > MAX_BUNDLE_BYTES or len(text.encode('utf-8', 'surrogatepass')) > MAX_BUNDLE_BYTES:
        raise ComposeError(None, 'is larger than %d MiB: that is no compose file' % (MAX_BUNDLE_BYTES // 2 ** 20),
                           source=source)
    if not text.strip():
        raise ComposeError(None, 'the compose file is empty; it needs at least `services:`', source=source)
    loader = _ComposeYamlLoader(text)
    try:
        document = loader.get_single_data()
    except yaml.YAMLError as exc:
        mark = getattr(exc, 'problem_mark', None)
        problem = getattr(exc, 'problem', None) or str(exc)
        if problem == 'but found another document':
            # yaml.v2 would read the first document and ignore the rest: refused rather than half-read.
            problem = 'a second YAML document (after `---`); a compose file holds one: split it into files'
        elif mark is not None and _character_at(text, mark) == '\t':
            problem += ': a tab; YAML indents with spaces only, replace the tabs'
        raise ComposeError(None, problem, source=source, line=mark.line + 1 if mark else None) from None
    finally:
        loader.dispose()
    if not isinstance(document, dict):
        raise ComposeError(None, 'the top level must be a mapping (services:, networks:, ...), not %s'
                           % _kind(document), source=source)
    return document


def without_extension_fields(project):
    """A copy of a parsed compose mapping without `version` and the `x-` keys where compose allows them."""
    project = _without_extensions(project)
    project.pop('version', None)
    for section in SECTIONS_WITH_EXTENSIONS:
        entries = project.get(section)
        if isinstance(entries, dict):
            project[section] = {name: _without_extensions(entry) if isinstance(entry, dict) else entry
                                for name, entry in entries.items()}
    return project


def load_compose_text(text, source):
    """The top-level mapping of the compose file `source` whose content is `text`, extension fields and `version` dropped."""
    return without_extension_fields(parse_compose_text(text, source))
