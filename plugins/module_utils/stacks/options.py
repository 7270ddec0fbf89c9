# -*- coding: utf-8 -*-
# Copyright: crane.swarm developers
# GNU General Public License v3.0+ (see https://www.gnu.org/licenses/gpl-3.0.txt)
"""The options of crane.swarm.swarm_stack: one argument spec for its two halves.

The action plugin checks the options it acts on (CONTROLLER_OPTIONS: the bundle
is read and checked on the controller) with these entries and CONTROLLER_RULES;
the module checks what it receives with the same entries. The argument spec is
the only check of the options' types: nothing checks them again by hand.

`src`, `definition`, `compose` and `env` never reach the module. The action plugin replaces them
with the PRIVATE_OPTIONS: undocumented, filled in by the action plugin only, and
never shown in a result. A module run without its action plugin lacks them and
says so.
"""

from __future__ import annotations

STACK_OPTIONS = dict(
    name=dict(type='str', required=True),
    state=dict(type='str', default='present', choices=['present', 'absent']),
    src=dict(type='path'),
    definition=dict(type='raw'),
    compose=dict(type='raw'),
    env=dict(type='dict'),
    prune=dict(type='bool', default=False),
    resolve_image=dict(type='str', default='never', choices=['always', 'changed', 'never']),
    with_registry_auth=dict(type='bool', default=False),
    # The list is not no_log: registry addresses and user names are shown; each password is (apply.py checks
    # the entries further: registry_credentials_by_host).
    registry_credentials=dict(type='list', elements='dict', no_log=False, options=dict(
        registry=dict(type='str', required=True),
        username=dict(type='str', required=True),
        password=dict(type='str', required=True, no_log=True),
    )),
    wait=dict(type='bool', default=True),
    wait_timeout=dict(type='int', default=300),
)

# Read on the controller: what the action plugin checks before it reads the bundle.
CONTROLLER_OPTIONS = ('name', 'state', 'src', 'definition', 'compose', 'env')
# Never sent to the module: the action plugin sends the bundle it read from them instead.
SOURCE_OPTIONS = ('src', 'definition', 'compose', 'env')
CONTROLLER_RULES = dict(
    mutually_exclusive=[('src', 'definition', 'compose')],
    required_if=[('state', 'present', ('src', 'definition', 'compose'), True)],
    required_by={'env': 'compose'},
)

# Sent by the action plugin only: the bundle it read and checked (as JSON text: AnsibleModule deep-copies
# every option's value, which for a mapping of 200 services costs more than decoding the text), and the
# base64 contents of the secret and config files it read, by logical name.
BUNDLE_JSON = '_bundle_json'
SECRET_DATA = '_secret_data'
CONFIG_DATA = '_config_data'
PRIVATE_OPTIONS = {
    BUNDLE_JSON: dict(type='str'),
    SECRET_DATA: dict(type='dict', no_log=True),
    CONFIG_DATA: dict(type='dict'),
}
