# -*- coding: utf-8 -*-
# Copyright: crane.swarm developers
# GNU General Public License v3.0+ (see https://www.gnu.org/licenses/gpl-3.0.txt)

from __future__ import annotations


class ModuleDocFragment:
    """The options shared by crane.swarm.swarm_secret and crane.swarm.swarm_config."""

    DOCUMENTATION = r"""
options:
  name:
    description:
      - The object's name. With O(rolling_versions=true), the name its versions share
        (C(<name>_v1), C(<name>_v2), ...).
    type: str
    required: true
  state:
    description:
      - V(present) creates the object, or makes it hold O(data) or O(src) and O(labels).
      - V(absent) removes it, and every rotated version C(<name>_v<N>); nothing is removed while a
        service uses any of them (the task fails naming the services).
    type: str
    choices: [present, absent]
    default: present
  data:
    description:
      - The content, inline. A vault-encrypted string (C(!vault |)) is decrypted by Ansible as for any option.
      - Never shown in results, diffs or messages.
      - One of O(data) and O(src) is required with O(state=present).
    type: str
  data_is_b64:
    description:
      - O(data) is base64-encoded binary content, decoded before it is stored.
    type: bool
    default: false
  src:
    description:
      - A file on the controller that holds the content, found as C(copy) finds its C(src) (relative
        to the role's or playbook's C(files) folder). A file encrypted with ansible-vault is decrypted.
    type: path
  labels:
    description:
      - The object's labels, all of them (labels not listed are removed). Changing only labels keeps
        the object and its users untouched.
      - Values are strings; numbers are converted, booleans refused (quote them).
      - The labels C(crane.swarm.sha256) (the content's SHA-256) and C(crane.swarm.version) are the
        module's own and cannot be given here.
    type: dict
  rolling_versions:
    description:
      - New content makes a new object C(<name>_v<N+1>) instead of replacing C(<name>); services keep
        the version they use until they are updated to the new one (RV(name)), as community.docker's
        option of this name does.
      - Without it, new content replaces the object under the same name, which the engine allows
        only while no service uses it; the task fails naming the services otherwise.
    type: bool
    default: false
  versions_to_keep:
    description:
      - With O(rolling_versions=true), how many old versions to keep beside the current one; older
        ones are removed once no service uses them (those still used are kept and listed in
        RV(kept_in_use)). V(0) keeps only the current one, V(-1) keeps all.
      - Unlike community.docker's option of this name, the current version is not counted; V(5) keeps
        the current version and up to five older ones.
    type: int
    default: 5
  force:
    description:
      - Replace the object (or make a new version) even when it already holds this content.
    type: bool
    default: false
notes:
  - The engine keeps neither a secret's content readable nor any object's content changeable, so the
    content's SHA-256 is kept in the label C(crane.swarm.sha256) to tell whether it changed.
  - That digest is shown in diffs and results and is readable by anyone who can read the object's
    labels on the swarm. A digest lets a short or common secret be found by guessing, so give
    secrets generated values of enough length (for example 32 random bytes), never words.
"""
