#!/usr/bin/python
# -*- coding: utf-8 -*-
# Copyright: crane.swarm developers
# GNU General Public License v3.0+ (see https://www.gnu.org/licenses/gpl-3.0.txt)

from __future__ import annotations

DOCUMENTATION = r"""
---
module: swarm_config
short_description: Create, rotate and remove Docker Swarm configs
version_added: 0.2.0
author:
  - crane.swarm developers (@crane)
description:
  - Manages one swarm config on a manager, for configs that outlive one stack or are shared by
    several (a bundle's config with C(External) set to true, or a compose file's external one).
  - The content comes from O(data) or from a file on the controller (O(src), vault-encrypted or
    not); it is read on the controller and not shown in results, diffs or messages.
  - A config's content cannot change; new content makes a new config, under the same name
    (when unused) or as a new version with O(rolling_versions=true). A config made elsewhere
    with the same content is kept (the engine returns a config's data).
extends_documentation_fragment:
  - crane.swarm.stored_object
  - crane.swarm.engine
  - crane.swarm.attributes
  - crane.swarm.attributes.actiongroup_docker
attributes:
  check_mode:
    support: full
    details:
      - Reports what would be created and removed (RV(created), RV(removed)) and whether labels would
        change, and changes nothing.
  diff_mode:
    support: full
    details:
      - Shows the name, labels, version and the content's SHA-256 (C(sha256)) before and after; never the
        content. With O(state=absent), the objects removed.
options:
  template_driver:
    description:
      - Render the config as a template when a task starts (C(golang), the engine's only driver).
      - Fixed at creation like the content; a config with another template driver is replaced (or a new
        version made) as for new content.
    type: str
    choices: [golang]
seealso:
  - module: crane.swarm.swarm_secret
  - module: crane.swarm.swarm_stack
"""

EXAMPLES = r"""
- name: An nginx configuration shared by two stacks
  crane.swarm.swarm_config:
    name: nginx_conf
    src: files/nginx.conf
    labels:
      team: web

- name: Rotated on every change, keeping the two previous versions
  crane.swarm.swarm_config:
    name: proxy_conf
    src: files/proxy.conf
    rolling_versions: true
    versions_to_keep: 2
  register: proxy_conf

- name: The stack refers to the current version
  crane.swarm.swarm_stack:
    name: edge
    definition:
      Configs:
        proxy_conf: {External: true, Name: "{{ proxy_conf.name }}"}
      Services:
        proxy:
          Image: registry.example.org/edge/proxy:2.1
          Configs: [{Source: proxy_conf, Target: /etc/proxy.conf}]

- name: Remove the config and all its versions
  crane.swarm.swarm_config:
    name: proxy_conf
    state: absent
"""

RETURN = r"""
name:
  description: The name of the current config, the one to refer to; C(<name>_v<N>) with O(rolling_versions=true).
  returned: when O(state=present)
  type: str
  sample: proxy_conf_v3
id:
  description: Its ID; null in check mode for a config not yet created.
  returned: when O(state=present)
  type: str
version:
  description: Its version number with O(rolling_versions=true), else null.
  returned: when O(state=present)
  type: int
created:
  description: Configs created (in check mode, that would be).
  returned: always
  type: list
  elements: str
removed:
  description: Configs removed (in check mode, that would be).
  returned: always
  type: list
  elements: str
kept_in_use:
  description: Old versions beyond O(versions_to_keep) kept because services still use them.
  returned: always
  type: list
  elements: str
diff:
  description: Before and after; see the diff_mode attribute. Never holds the content.
  returned: in diff mode
  type: dict
  sample:
    before: {name: proxy_conf_v2, labels: {team: data}, version: 2, sha256: 5e884898da28047151d0e56f8dc6292773603d0d6aabbdd62a11ef721d1542d8}
    after: {name: proxy_conf_v3, labels: {team: data}, version: 3, sha256: 8c6976e5b5410415bde908bd4dee15dfb167a9c873fc4bb8a81f6f2ab448a918}
"""

from ansible_collections.crane.swarm.plugins.module_utils.engine.module_base import engine_module, run_engine_task
from ansible_collections.crane.swarm.plugins.module_utils.swarm.stored_object_task import (
    CONFIG_OPTIONS, PRIVATE_OPTIONS, StoredObjectTask)


class SwarmConfig(StoredObjectTask):
    kind = 'config'


def main():
    # STORED_OBJECT_RULES were applied by the action plugin, which keeps data and src on the controller.
    module = engine_module(dict(CONFIG_OPTIONS, **PRIVATE_OPTIONS), supports_check_mode=True)
    run_engine_task(module, SwarmConfig)


if __name__ == '__main__':
    main()
