# -*- coding: utf-8 -*-
# Copyright: crane.swarm developers
# GNU General Public License v3.0+ (see https://www.gnu.org/licenses/gpl-3.0.txt)
"""Variable interpolation in compose files, with the meaning `docker stack deploy -c` gives it.

    interpolate_tree(tree, env, path='') -> (tree with every string value substituted, warnings)

Follows docker/cli cli/compose/template/template.go (read at commit 0b0fc106), quirks included,
because a file must mean here what it means to the CLI:

- `$$` is a literal `$`; `$NAME`, `${NAME}` substitute (names `[_a-zA-Z][_a-zA-Z0-9]*`);
- `:-` default when unset or empty, `-` default when unset, `:?` error when unset or empty,
  `?` error when unset; the CLI tries them in that order on the text between the braces, so
  `${A:?a-b}` is read as a `-` default (name `A:?a`, default `b`), as the CLI reads it;
- the modifier is also taken after an unbraced name, up to the next `}` (`$A-x` is `${A-x}`);
- no `:+`/`+` and no nested `${...}` in defaults: the CLI has neither;
- any other `$` is an invalid template; an unset variable without default becomes "" (the CLI
  warns; here a warning is returned);
- an error is forgiven when a substitution after it in the same value succeeds (the CLI's
  Substitute keeps only the last result); here it is also returned as a warning.

Only `$` starts a substitution, so Swarm templates such as `{{.Node.Hostname}}` pass unchanged.
Keys are never substituted, as in the CLI.
"""

from __future__ import annotations

import re

from ansible_collections.crane.swarm.plugins.plugin_utils.compose.errors import ComposeError

_SUBSTITUTION = r'[_a-z][_a-z0-9]*(?::?[-?][^}]*)?'
_PATTERN = re.compile(
    r'\$(?:(?P<escaped>\$)|(?P<named>%s)|\{(?P<braced>%s)\}|(?P<invalid>))' % (_SUBSTITUTION, _SUBSTITUTION),
    re.IGNORECASE,
)


def _substitute_one(substitution, env):
    """The value of one `${...}` body, or raise ValueError; returns (value, unset name or None)."""
    for separator, when_unset_only, required in ((':-', False, False), ('-', True, False), (':?', False, True), ('?', True, True)):
        if separator not in substitution:
            continue
        name, rest = substitution.split(separator, 1)
        value = env.get(name)
        missing = value is None if when_unset_only else not value
        if required:
            if missing:
                raise ValueError('required variable %s is missing a value: %s' % (name, rest))
            return value, None
        return (rest, None) if missing else (value, None)
    if substitution in env:
        return env[substitution], None
    return '', substitution


def interpolate_string(text, env, path=''):
    """`text` with its variables substituted from `env` (a mapping of str).

    Returns (text, unset names, forgiven errors). As the CLI's Substitute does, an error
    (an invalid `$`, a missing required variable) only counts when no substitution after it
    succeeds: a later success overwrites the CLI's error variable (`$-$A` gives "-a",
    `${C:?x}$A` gives "a" with C unset; measured with `docker stack config`, CLI 28.2). Such
    forgiven errors are returned, to be shown as warnings.
    """
    unset, forgiven, pending = [], [], [None]

    def replace(match):
        if match.group('escaped'):
            return '$'
        substitution = match.group('named') or match.group('braced')
        if not substitution:
            pending[0] = 'invalid interpolation format in %r; write $$ for a literal $' % text
            return ''
        try:
            value, unset_name = _substitute_one(substitution, env)
        except ValueError as error:
            pending[0] = '%s (set it in the env option)' % error
            return ''
        if pending[0]:
            forgiven.append(pending[0])
            pending[0] = None
        if unset_name:
            unset.append(unset_name)
        return value

    result = _PATTERN.sub(replace, text)
    if pending[0]:
        raise ComposeError(path, pending[0])
    return result, unset, forgiven


def interpolate_tree(tree, env, path=''):
    """Every string value of `tree` (not keys) substituted; returns (new tree, warnings)."""
    warnings = []

    def walk(value, where):
        if isinstance(value, str):
            result, unset, forgiven = interpolate_string(value, env, where)
            for name in unset:
                warnings.append('%s: variable %s is not set, substituting an empty string' % (where, name))
            for error in forgiven:
                warnings.append('%s: %s; the docker CLI lets it pass because a substitution after it succeeds, '
                                'and so does crane: fix the value' % (where, error))
            return result
        if isinstance(value, dict):
            return {key: walk(item, '%s.%s' % (where, key) if where else str(key)) for key, item in value.items()}
        if isinstance(value, list):
            return [walk(item, '%s[%d]' % (where, index)) for index, item in enumerate(value)]
        return value

    return walk(tree, path), warnings
