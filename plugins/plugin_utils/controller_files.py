# -*- coding: utf-8 -*-
# Copyright: crane.swarm developers
# GNU General Public License v3.0+ (see https://www.gnu.org/licenses/gpl-3.0.txt)
"""Reading files on the controller as Ansible reads them: vault-encrypted files are decrypted.

    vault_reader(loader) -> read_bytes(path, limit): at most limit + 1 bytes of the file's
                            plain content, or ControllerFileError naming the file

Bundle, compose, .env, secret and config files all go through one such reader in the action
plugins, so a file encrypted with ansible-vault works as it does for `copy` and `template`,
and its ciphertext is never what reaches the swarm.
"""

from __future__ import annotations

import os

from ansible.errors import AnsibleError
from ansible.module_utils.common.text.converters import to_text


class ControllerFileError(ValueError):
    """A controller file that cannot be read: str() names the file, `reason` says why."""

    def __init__(self, path, reason):
        super().__init__('%s: %s' % (path, reason))
        self.path = path
        self.reason = reason


def vault_reader(loader):
    """read_bytes(path, limit) through the loader: vault-encrypted files are decrypted first.

    The loader decrypts into a private temporary file (as for `copy`), removed at once.
    Without the vault password the error says so and names the file.
    """
    def read_bytes(path, limit):
        if os.path.isdir(path):
            raise ControllerFileError(path, 'is a directory, not a file')
        try:
            real_path = loader.get_real_file(path, decrypt=True)
        except AnsibleError as exc:
            raise ControllerFileError(path, 'cannot read it: %s' % to_text(getattr(exc, 'message', None) or exc)) \
                from None
        try:
            with open(real_path, 'rb') as handle:
                return handle.read(limit + 1)
        except (OSError, ValueError) as exc:  # ValueError: a NUL in the path
            raise ControllerFileError(path, 'cannot read it: %s' % (getattr(exc, 'strerror', None) or exc)) from None
        finally:
            loader.cleanup_tmp_file(real_path)
    return read_bytes
