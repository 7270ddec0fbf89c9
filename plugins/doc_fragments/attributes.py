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
