# -*- coding: utf-8 -*-
# Copyright: crane.swarm developers
# GNU General Public License v3.0+ (see https://www.gnu.org/licenses/gpl-3.0.txt)
"""Sizes and CPU counts as the Engine API wants them: integer bytes and nano-CPUs.

Users write sizes as Docker's CLI reads them ("512M", "1G", "64k", "1.5g",
"512MiB"; every unit is a power of 1024) or integer bytes, and CPUs as a decimal
("0.5", 1.25) that becomes NanoCPUs (1 CPU = 10^9).
"""

from __future__ import annotations

import re
from decimal import Decimal, InvalidOperation

from ansible_collections.crane.swarm.plugins.module_utils.plain_data import short_repr

_SIZE = re.compile(r'^(\d+(?:\.\d+)?) ?([kmgtp]?)i?b?$', re.IGNORECASE)
_UNIT_POWERS = {'': 0, 'k': 1, 'm': 2, 'g': 3, 't': 4, 'p': 5}
_NANO = 10 ** 9


def parse_size(value, field):
    """Return integer bytes, or raise ValueError naming `field` and the accepted forms."""
    if isinstance(value, int) and not isinstance(value, bool) and value >= 0:
        return value
    match = _SIZE.match(value.strip()) if isinstance(value, str) else None
    if not match:
        raise ValueError('%s: %s is not a size; write it like "512M", "1G" or "64k" (units b, k, m, g, t, p; '
                         '1k = 1024 bytes), or as integer bytes' % (field, short_repr(value)))
    number, unit = match.groups()
    return int(Decimal(number) * 1024 ** _UNIT_POWERS[unit.lower()])


def parse_cpus(value, field):
    """Return NanoCPUs for a decimal CPU count, or raise ValueError naming `field`."""
    problem = 'is not a CPU count; write a decimal such as 0.5 or "1.5"'
    try:
        if isinstance(value, bool) or not isinstance(value, (int, float, str)):
            raise InvalidOperation
        cpus = Decimal(str(value).strip())
    except InvalidOperation:
        raise ValueError('%s: %s %s' % (field, short_repr(value), problem))
    if not cpus.is_finite() or cpus < 0:
        raise ValueError('%s: %s %s' % (field, short_repr(value), problem))
    nano = cpus * _NANO
    if nano != nano.to_integral_value():
        # Docker refuses the same: the Engine API counts whole nano-CPUs.
        raise ValueError('%s: %s is too precise; at most 9 decimal places' % (field, short_repr(value)))
    return int(nano)


def format_size(size_bytes):
    """The shortest exact text for a byte count ("512M", "1G", "1000"), for messages and diffs."""
    if size_bytes is None:
        return None
    for unit in ('P', 'T', 'G', 'M', 'K'):
        factor = 1024 ** _UNIT_POWERS[unit.lower()]
        if size_bytes and size_bytes % factor == 0:
            return '%d%s' % (size_bytes // factor, unit)
    return str(size_bytes)
