#!/usr/bin/python
# -*- coding: utf-8 -*-
# Copyright: crane.swarm developers
# GNU General Public License v3.0+ (see https://www.gnu.org/licenses/gpl-3.0.txt)

from __future__ import annotations

DOCUMENTATION = r"""
---
module: swarm_secret
short_description: Create, rotate and remove Docker Swarm secrets
version_added: 0.2.0
author:
  - crane.swarm developers (@crane)
description:
  - Manages one swarm secret on a manager, for secrets that outlive one stack or are shared by
    several (a bundle's secret with C(External) set to true, or a compose file's external one).
  - The content comes from O(data) or from a file on the controller (O(src), vault-encrypted or
    not); it is read on the controller and never shown in any result, diff or message.
  - A secret's content cannot change; new content makes a new secret, under the same name
    (when unused) or as a new version with O(rolling_versions=true).
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
seealso:
  - module: crane.swarm.swarm_config
  - module: crane.swarm.swarm_stack
"""

EXAMPLES = r"""
- name: A database password shared by two stacks, from a vault-encrypted file
  crane.swarm.swarm_secret:
    name: db_password
    src: secrets/db_password.txt     # ansible-vault encrypt secrets/db_password.txt
    labels:
      team: data

- name: The stacks refer to it as an external secret (bundle)
  crane.swarm.swarm_stack:
    name: shop
    definition:
      Secrets:
        db_password: {External: true}
      Services:
        api:
          Image: registry.example.org/shop/api:1.4
          Secrets: [db_password]

- name: Rotate an API key; services move when their stack is deployed with the new name
  crane.swarm.swarm_secret:
    name: api_key
    data: "{{ vault_api_key }}"
    rolling_versions: true
    versions_to_keep: 2
  register: api_key

- name: Use the current version by name
  ansible.builtin.debug:
    msg: "deploy with secret {{ api_key.name }}"

- name: Inline, from a vault-encrypted string (ansible-vault encrypt_string)
  crane.swarm.swarm_secret:
    name: smtp_password
    data: !vault |
      $ANSIBLE_VAULT;1.1;AES256
      61313661653238313436313231646262376132626534323734643363666433303436393134633361
      3364663834613334653061313535376333653766373635380a656133393565313232333434353236
      65323530656337363234383862623138643465616663326636316566356537333536393234346633
      6538636262396563350a386436636263336136386139343039376534366363363961656632643034
      35393264363635316235383538346133313061636366393836623162376530643531

- name: Remove the secret and all its versions
  crane.swarm.swarm_secret:
    name: api_key
    state: absent
"""

RETURN = r"""
name:
  description: The name of the current secret, the one to refer to; C(<name>_v<N>) with O(rolling_versions=true).
  returned: when O(state=present)
  type: str
  sample: api_key_v3
id:
  description: Its ID; null in check mode for a secret not yet created.
  returned: when O(state=present)
  type: str
version:
  description: Its version number with O(rolling_versions=true), else null.
  returned: when O(state=present)
  type: int
created:
  description: Secrets created (in check mode, that would be).
  returned: always
  type: list
  elements: str
removed:
  description: Secrets removed (in check mode, that would be).
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
    before: {name: api_key_v2, labels: {team: data}, version: 2, sha256: cb8adaae0461ff86de508b5400819350583b0e5468ce55214fe325568fd0d1ad}
    after: {name: api_key_v3, labels: {team: data}, version: 3, sha256: 7da8fa19c7869578776d226599b9d2fa7046bd4e439d7f7bb4bff4852eebd76f}
"""

from ansible_collections.crane.swarm.plugins.module_utils.engine.module_base import engine_module, run_engine_task
from ansible_collections.crane.swarm.plugins.module_utils.swarm.stored_object_task import (
    PRIVATE_OPTIONS, STORED_OBJECT_OPTIONS, StoredObjectTask)


class SwarmSecret(StoredObjectTask):
    kind = 'secret'


def main():
    # STORED_OBJECT_RULES were applied by the action plugin, which keeps data and src on the controller.
    module = engine_module(dict(STORED_OBJECT_OPTIONS, **PRIVATE_OPTIONS), supports_check_mode=True)
    run_engine_task(module, SwarmSecret)


if __name__ == '__main__':
    main()
