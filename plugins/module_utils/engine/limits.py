# -*- coding: utf-8 -*-
# Copyright: crane.swarm developers
# GNU General Public License v3.0+ (see https://www.gnu.org/licenses/gpl-3.0.txt)
"""What the Engine API and swarmkit take: the ranges of their Go integers, and the limits they check.

A value outside them is refused by the engine with the stack half deployed (its
networks created, a service not). The checks on the controller refuse it first
(plugin_utils/bundle/schema.py and check.py), and the translation's parsers (common/durations.py,
common/sizes.py) never produce one.
"""

from __future__ import annotations

from fractions import Fraction

INT32_MAX = 2 ** 31 - 1
UINT32_MAX = 2 ** 32 - 1
INT64_MAX = 2 ** 63 - 1
UINT64_MAX = 2 ** 64 - 1

# swarmkit's controlapi: a secret holds 1 byte to less than 500 KiB, a config to less than 1000 KiB,
# and their names at most 64 characters (services and networks: bundle_terms.MAX_NAME_LENGTH).
MAX_SECRET_BYTES = 500 * 1024 - 1
MAX_CONFIG_BYTES = 1000 * 1024 - 1
MAX_SECRET_OR_CONFIG_NAME = 64
# The smallest resources and healthcheck durations it takes (0 means none: no limit, the default).
MIN_NANO_CPUS = 10 ** 6
MIN_MEMORY_BYTES = 4 * 1024 ** 2
MIN_HEALTHCHECK_NANOSECONDS = 10 ** 6
# The kernel's range of oom_score_adj, which the engine checks for a container (ContainerSpec.OomScoreAdj).
OOM_SCORE_ADJ_MIN, OOM_SCORE_ADJ_MAX = -1000, 1000

_WHOLE_DIGITS = 20  # 2**64 has 20 digits
_DECIMAL_DIGITS = 30  # finer than a byte of a pebibyte, or a nanosecond of an hour


def exact_decimal(whole, decimals=''):
    """The exact value of the digits `whole`.`decimals`, cheaply even for thousands of digits.

    A whole part past 20 digits reads as 10**20, beyond every Go integer the
    Engine takes (the caller then refuses it); decimals past the 30th are dropped.
    """
    whole = whole.lstrip('0')
    if len(whole) > _WHOLE_DIGITS:
        return Fraction(10 ** _WHOLE_DIGITS)
    decimals = decimals[:_DECIMAL_DIGITS]
    if not decimals:
        return int(whole or '0')
    return int(whole or '0') + Fraction(int(decimals), 10 ** len(decimals))
