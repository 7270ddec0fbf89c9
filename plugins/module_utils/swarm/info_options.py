# -*- coding: utf-8 -*-
# Copyright: crane.swarm developers
# GNU General Public License v3.0+ (see https://www.gnu.org/licenses/gpl-3.0.txt)
"""The options of crane.swarm.swarm_info, which the module and its action plugin both check the task with."""

from __future__ import annotations

SWARM_INFO_OPTIONS = dict(
    join_tokens=dict(type='bool', default=False, no_log=False),
    nodes=dict(type='bool', default=True),
)
