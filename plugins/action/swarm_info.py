# -*- coding: utf-8 -*-
# Copyright: crane.swarm developers
# GNU General Public License v3.0+ (see https://www.gnu.org/licenses/gpl-3.0.txt)
"""Censors displayed results that carry join tokens or the unlock key."""

from __future__ import annotations

from ansible_collections.crane.swarm.plugins.module_utils.swarm.info_options import SWARM_INFO_OPTIONS
from ansible_collections.crane.swarm.plugins.plugin_utils.secret_result import SecretResultAction


class ActionModule(SecretResultAction):
    module_options = SWARM_INFO_OPTIONS
