# -*- coding: utf-8 -*-
# Copyright: crane.swarm developers
# GNU General Public License v3.0+ (see https://www.gnu.org/licenses/gpl-3.0.txt)
"""Helpers for JSON-shaped data (dicts, lists and scalars), such as Engine API specs and bundles."""

from __future__ import annotations


def plain_copy(value):
    """A deep copy of JSON-shaped data.

    About four times faster than copy.deepcopy, which keeps a memo for shared
    and cyclic objects that JSON data never has; it counts when every service
    of a large stack is copied on each run.
    """
    if isinstance(value, dict):
        return {key: plain_copy(item) for key, item in value.items()}
    if isinstance(value, list):
        return [plain_copy(item) for item in value]
    return value
