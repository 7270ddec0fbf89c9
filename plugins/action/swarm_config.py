# -*- coding: utf-8 -*-
# Copyright: crane.swarm developers
# GNU General Public License v3.0+ (see https://www.gnu.org/licenses/gpl-3.0.txt)
"""Reads the config's content on the controller (vault-aware) for crane.swarm.swarm_config."""

from __future__ import annotations

from ansible_collections.crane.swarm.plugins.module_utils.swarm.stored_object_task import CONFIG_OPTIONS
from ansible_collections.crane.swarm.plugins.plugin_utils.stored_object_action import StoredObjectAction


class ActionModule(StoredObjectAction):
    kind = 'config'
    module_options = CONFIG_OPTIONS
