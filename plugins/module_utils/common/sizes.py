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

from ansible_collections.crane.swarm.plugins.module_utils.engine.limits import INT64_MAX, exact_decimal
from ansible_collections.crane.swarm.plugins.module_utils.common.plain_data import short_repr

_SIZE = re.compile(r'^([0-9]+)(?:\.([0-9]+))? ?([kmgtp]?)i?b?$', re.IGNORECASE)
_UNIT_POWERS = {'': 0, 'k': 1, 'm': 2, 'g': 3, 't': 4, 'p': 5}


def parse_size(value, field):
    """Return integer bytes, or raise ValueError naming `field` and the accepted forms.

    The result fits the Engine API's int64 bytes; text is read exactly (ASCII digits).
    """
    if isinstance(value, int) and not isinstance(value, bool) and value >= 0:
        size = value
    else:
        match = _SIZE.match(value.strip()) if isinstance(value, str) else None
        if not match:
            raise ValueError('%s: %s is not a size; write it like "512M", "1G" or "64k" (units b, k, m, g, t, p; '
                             '1k = 1024 bytes), or as integer bytes' % (field, short_repr(value)))
        whole, decimals, unit = match.groups()
        size = int(exact_decimal(whole, decimals or '') * 1024 ** _UNIT_POWERS[unit.lower()])
    if size > INT64_MAX:
        raise ValueError('%s: %s is more than the Engine API takes: at most %d bytes (8 EiB)'
                         % (field, short_repr(value), INT64_MAX))
    return size


def parse_cpus(value, field):
    """Return NanoCPUs for a decimal CPU count, or raise ValueError naming `field`.

    Read exactly from the decimal's digits: a count finer than a nano-CPU is
    refused, as Docker does, and one beyond the Engine API's int64 NanoCPUs.
    """
    problem = 'is not a CPU count; write a decimal such as 0.5 or "1.5"'
    try:
        if isinstance(value, bool) or not isinstance(value, (int, float, str)):
            raise InvalidOperation
        cpus = Decimal(value.strip() if isinstance(value, str) else repr(value) if isinstance(value, float)
                       else min(value, INT64_MAX + 1))
    except InvalidOperation:
        raise ValueError('%s: %s %s' % (field, short_repr(value), problem))
    if not cpus.is_finite() or cpus < 0:
        raise ValueError('%s: %s %s' % (field, short_repr(value), problem))
    dummy, digits, exponent = cpus.as_tuple()
    digits = ''.join(map(str, digits))
    significant = digits.rstrip('0')
    exponent += len(digits) - len(significant)
    if not significant:
        return 0
    if exponent + 9 < 0:
        # Docker refuses the same: the Engine API counts whole nano-CPUs.
        raise ValueError('%s: %s is too precise; at most 9 decimal places' % (field, short_repr(value)))
    if len(significant) + exponent + 9 > 19 or int(significant) * 10 ** (exponent + 9) > INT64_MAX:
        raise ValueError('%s: %s is more than the Engine API takes: at most 9223372036.854775807 CPUs'
                         % (field, short_repr(value)))
    return int(significant) * 10 ** (exponent + 9)


def format_size(size_bytes):
    """The shortest exact text for a byte count ("512M", "1G", "1000"), for messages and diffs."""
    if size_bytes is None:
        return None
    for unit in ('P', 'T', 'G', 'M', 'K'):
        factor = 1024 ** _UNIT_POWERS[unit.lower()]
        if size_bytes and size_bytes % factor == 0:
            return '%d%s' % (size_bytes // factor, unit)
    return str(size_bytes)
