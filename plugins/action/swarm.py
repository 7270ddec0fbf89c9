# -*- coding: utf-8 -*-
# Copyright: crane.swarm developers
# GNU General Public License v3.0+ (see https://www.gnu.org/licenses/gpl-3.0.txt)
"""Censors displayed results that carry join tokens or the unlock key; refuses a join token of the other role.

A join token does not say its role. The fingerprints of the tokens that crane.swarm.swarm or
crane.swarm.swarm_info returned on a manager earlier in the run (a fact of that host) do: a
join whose token is known as the other role's fails here, before the node is in any node list.
"""

from __future__ import annotations

from ansible_collections.crane.swarm.plugins.module_utils.swarm.membership import other_role_refusal
from ansible_collections.crane.swarm.plugins.module_utils.swarm.membership_options import SWARM_OPTIONS, SWARM_RULES
from ansible_collections.crane.swarm.plugins.plugin_utils.secret_result import SecretResultAction


class ActionModule(SecretResultAction):
    module_options = SWARM_OPTIONS
    module_rules = SWARM_RULES

    def refusal(self, task_vars):
        args = self._task.args
        if args.get('state') != 'join' or not isinstance(args.get('join_token'), str):
            return None
        return other_role_refusal(args['join_token'], args.get('role') or 'worker',
                                  self.published_token_roles(task_vars))
