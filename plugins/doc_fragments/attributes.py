# -*- coding: utf-8 -*-
# Copyright: crane.swarm developers
# GNU General Public License v3.0+ (see https://www.gnu.org/licenses/gpl-3.0.txt)

from __future__ import annotations


class ModuleDocFragment(object):

    # Descriptions of the common attributes; each module states its own support level.
    DOCUMENTATION = r"""
options: {}
attributes:
  check_mode:
    description: Can run in check mode and then reports what it would change without changing the target.
  diff_mode:
    description: Returns details on what has changed (or would change in check mode) when run in diff mode.
"""

    # For modules in the action group `docker` (meta/runtime.yml): module_defaults set once per play.
    ACTIONGROUP_DOCKER = r"""
options: {}
attributes:
  action_group:
    description: Use C(group/crane.swarm.docker) in C(module_defaults) to set defaults for this module,
      for example O(docker_host) once for a whole play.
    support: full
    membership:
      - crane.swarm.docker
"""
