# -*- coding: utf-8 -*-
# Copyright: crane.swarm developers
# GNU General Public License v3.0+ (see https://www.gnu.org/licenses/gpl-3.0.txt)
"""Durations as the Engine API wants them: integer nanoseconds.

Users write Go-style durations ("90s", "1m30s", "2160h", "500ms") or integer
nanoseconds, as Docker's own CLI and API do.
"""

from __future__ import annotations

import re

from ansible_collections.crane.swarm.plugins.module_utils.engine.limits import INT64_MAX, exact_decimal
from ansible_collections.crane.swarm.plugins.module_utils.common.plain_data import short_repr

_UNIT_NANOSECONDS = {
    'ns': 1,
    'us': 1000,
    'µs': 1000,
    'ms': 1000 * 1000,
    's': 1000 * 1000 * 1000,
    'm': 60 * 1000 * 1000 * 1000,
    'h': 3600 * 1000 * 1000 * 1000,
}
_PART = re.compile(r'([0-9]+(?:\.[0-9]*)?|\.[0-9]+)(ns|us|µs|ms|s|m|h)')
_DIGITS = re.compile(r'[0-9]+')


def parse_duration(value, field):
    """Return integer nanoseconds, or raise ValueError naming `field` and the accepted forms.

    The result fits the Engine API's int64 nanoseconds (about 292 years); the
    digits are ASCII, as Go reads them, and text is read exactly, not as a float.
    """
    if isinstance(value, bool) or not isinstance(value, (int, str)):
        raise ValueError('%s: expected a duration such as "30s" or "1m30s" or integer nanoseconds, got %s'
                         % (field, short_repr(value)))
    if isinstance(value, int):
        if value < 0:
            raise ValueError('%s: a duration cannot be negative (got %s)' % (field, short_repr(value)))
        return _within_int64(value, value, field)
    text = value.strip()
    if _DIGITS.fullmatch(text):
        return _within_int64(int(exact_decimal(text)), value, field)
    position = 0
    total = 0
    for match in _PART.finditer(text):
        if match.start() != position:
            break
        whole, dummy, decimals = match.group(1).partition('.')
        total += exact_decimal(whole, decimals) * _UNIT_NANOSECONDS[match.group(2)]
        position = match.end()
    if not text or position != len(text):
        raise ValueError('%s: %s is not a duration; write it like "30s", "1m30s", "500ms" or "2160h" '
                         '(units ns, us, ms, s, m, h), or as integer nanoseconds' % (field, short_repr(value)))
    return _within_int64(int(round(total)), value, field)


def _within_int64(nanoseconds, value, field):
    if nanoseconds > INT64_MAX:
        raise ValueError('%s: %s is longer than the Engine API takes: at most %s (about 292 years)'
                         % (field, short_repr(value), format_duration(INT64_MAX)))
    return nanoseconds


def format_duration(nanoseconds):
    """The shortest Go-style text for a duration, for messages and diffs."""
    if nanoseconds is None:
        return None
    if nanoseconds == 0:
        return '0s'
    parts = []
    remainder = nanoseconds
    for unit in ('h', 'm', 's'):
        size = _UNIT_NANOSECONDS[unit]
        if remainder >= size:
            parts.append('%d%s' % (remainder // size, unit))
            remainder %= size
    for unit in ('ms', 'us', 'ns'):
        size = _UNIT_NANOSECONDS[unit]
        if remainder >= size and remainder % size == 0:
            parts.append('%d%s' % (remainder // size, unit))
            remainder = 0
    if remainder:
        parts.append('%dns' % remainder)
    return ''.join(parts)
