#!/usr/bin/python
# -*- coding: utf-8 -*-
# Copyright: crane.swarm developers
# GNU General Public License v3.0+ (see https://www.gnu.org/licenses/gpl-3.0.txt)

from __future__ import annotations

DOCUMENTATION = r"""
---
module: swarm_network
short_description: Manage a standalone Docker network, typically a swarm overlay network, from a manager
version_added: 0.1.0
author:
  - crane.swarm developers (@crane)
description:
  - Creates, recreates or removes one Docker network by name. Made for the swarm's overlay networks
    (the default driver), with driver options (encryption included), attachable, internal,
    IPAM subnets and gateways, and labels; other drivers work too.
  - The options describe the whole network. An option left out means its default (no labels, not
    attachable, no driver options...), and a network that has anything else differs from the request.
  - Docker cannot change a network once it exists; every property is fixed at creation. A network
    that differs from the request is therefore recreated (removed, then created again), but only
    when no swarm service uses it. When services use it, the task fails, names those services and
    the differing properties, and changes nothing; it never recreates a network behind running services.
  - Removal (O(state=absent), or the first half of a recreation) waits until the engine no longer
    knows the network, so that a following task can create a network of the same name at once.
  - When the network exists and matches the request, the engine is not written to and the task
    reports no change.
extends_documentation_fragment:
  - crane.swarm.engine
  - crane.swarm.attributes
  - crane.swarm.attributes.actiongroup_docker
attributes:
  check_mode:
    support: full
  diff_mode:
    support: full
    details:
      - For a recreation, the diff shows each compared property that differs, by its Engine API name
        (for example C(IPAM.Config), C(Labels), C(Options)), before and after.
      - For a creation it shows the network as it would be created, for a removal the network as it was.
options:
  name:
    description:
      - Name of the network. Only a network of exactly this name is managed (never one found by an ID prefix).
    type: str
    required: true
  state:
    description:
      - V(present) creates the network, or recreates it when it differs and no service uses it.
      - V(absent) removes the network when no service uses it and waits until it is gone (see
        O(wait_timeout)). A network that does not exist counts as removed. The other options, except
        O(scope), are not used then.
    type: str
    choices: [present, absent]
    default: present
  driver:
    description:
      - Network driver. V(overlay) makes a network that spans the swarm's nodes.
    type: str
    default: overlay
  driver_opts:
    description:
      - Options of the driver, as a mapping of option name to string value (numbers are converted),
        for example C(com.docker.network.driver.mtu).
      - Options the overlay driver adds by itself (the VXLAN ID list) are not compared.
    type: dict
  encrypted:
    description:
      - Encrypt the traffic between the nodes on this overlay network (IPsec); a shortcut for the driver
        option C(encrypted). Only for the V(overlay) driver.
      - V(false) asks for a network without that option; it may not also be set in O(driver_opts).
      - When not set, O(driver_opts) alone decides.
    type: bool
  attachable:
    description:
      - Let standalone containers (C(docker run --network)) attach to the network, not only swarm services.
    type: bool
    default: false
  internal:
    description:
      - Cut the network off from outside traffic.
    type: bool
    default: false
  ipam:
    description:
      - IP address management of the network. When not given, the engine picks a subnet and the
        network's IPAM is not compared.
    type: dict
    suboptions:
      driver:
        description:
          - IPAM driver.
        type: str
        default: default
      config:
        description:
          - Address ranges of the network. Only what is given is compared, so a gateway the engine
            chose for a subnet does not count as a difference.
        type: list
        elements: dict
        suboptions:
          subnet:
            description:
              - Subnet in CIDR form, for example V(10.10.0.0/24).
            type: str
            required: true
          ip_range:
            description:
              - Part of the subnet from which container addresses are allocated, in CIDR form.
            type: str
          gateway:
            description:
              - Gateway address of the subnet.
            type: str
          aux_addresses:
            description:
              - Addresses the IPAM driver must not hand out, as a mapping of a name to an address.
              - For networks of local scope only. A swarm does not keep them for its networks (the engine
                answers without them, so they could never be compared); they are refused for an overlay
                network or one of O(scope=swarm).
            type: dict
      options:
        description:
          - Options of the IPAM driver, as a mapping of option name to string value.
        type: dict
  labels:
    description:
      - Network labels, as a mapping of label name to string value (numbers are converted; quote booleans).
    type: dict
  scope:
    description:
      - V(swarm) makes the network exist across the swarm, V(local) on this engine only.
      - An overlay network is always V(swarm). Other drivers default to V(local) and are compared on it
        only when it is set here.
      - With O(state=absent), chooses between two networks of the same name with different scopes.
    type: str
    choices: [swarm, local]
  wait_timeout:
    description:
      - Seconds to wait, after a removal, until the engine no longer knows the network. A node that ran
        a task on the network keeps its copy for some seconds after the swarm removed it, and a network
        of the same name cannot be created before it is gone.
      - Also bounds the wait, after a swarm network is created, until the managers have allocated its
        subnets, so that the returned RV(network) shows them.
    type: int
    default: 60
notes:
  - Run it on a swarm manager for a swarm-scoped network (overlay, or O(scope=swarm)); a worker cannot
    create, list the users of, or remove such a network. A network of local scope can be managed on any engine.
  - An overlay network appears on a worker only once a task that uses it runs there; that is normal.
  - Only swarm services count as users. A standalone container attached to an attachable network also
    holds it; the engine then refuses the removal and the task reports its message.
seealso:
  - module: crane.swarm.swarm_node
  - module: crane.swarm.swarm_info
"""

EXAMPLES = r"""
- name: An encrypted overlay network for the back end, with a fixed subnet
  crane.swarm.swarm_network:
    name: backend
    encrypted: true
    attachable: true
    ipam:
      config:
        - subnet: 10.20.0.0/24
          gateway: 10.20.0.1
    labels:
      team: payments
  delegate_to: "{{ groups['managers'][0] }}"

- name: An internal network with a larger MTU
  crane.swarm.swarm_network:
    name: db-private
    internal: true
    driver_opts:
      com.docker.network.driver.mtu: 1400

- name: Remove a network; a following task can create one of the same name at once
  crane.swarm.swarm_network:
    name: backend
    state: absent
    wait_timeout: 120
"""

RETURN = r"""
network:
  description:
    - The network after the task. In check mode, the network as it would be (C(id) is empty for a
      network that would be created).
    - With O(state=absent), the network as it was before its removal, or empty when it did not exist.
  returned: always
  type: dict
  contains:
    id:
      description: Network ID.
      type: str
      sample: zk5l4o62vmmomicdcigsx4nn8
    name:
      description: Network name.
      type: str
      sample: backend
    driver:
      description: Network driver.
      type: str
      sample: overlay
    scope:
      description: V(swarm) or V(local).
      type: str
      sample: swarm
    attachable:
      description: Whether standalone containers may attach.
      type: bool
      sample: true
    internal:
      description: Whether the network is cut off from outside traffic.
      type: bool
      sample: false
    ipam:
      description: IPAM driver, address ranges (C(subnet), C(ip_range), C(gateway), C(aux_addresses)) and options.
      type: dict
      sample: {driver: default, config: [{subnet: 10.20.0.0/24, gateway: 10.20.0.1}], options: {}}
    labels:
      description: Network labels.
      type: dict
      sample: {team: payments}
    options:
      description: Driver options, including those the driver added by itself.
      type: dict
      sample: {encrypted: "", com.docker.network.driver.overlay.vxlanid_list: "4097"}
services:
  description: Names of the swarm services that use the network (for a refused change, those that block it).
  returned: always
  type: list
  elements: str
  sample: [shop_web, shop_worker]
action:
  description: What the task did (or in check mode would do) to the network.
  returned: always
  type: str
  choices: [none, create, recreate, remove]
  sample: recreate
changes:
  description: The properties that differ, one line each (Engine API name, before and after), for a recreation.
  returned: always
  type: list
  elements: str
  sample:
    - 'IPAM.Config: [{"Subnet": "10.20.0.0/24"}] -> [{"Subnet": "10.30.0.0/24"}]'
diff:
  description: Before and after; see the diff_mode attribute for their shape.
  returned: in diff mode
  type: dict
  sample: {before: {IPAM.Config: [{Subnet: 10.20.0.0/24}]}, after: {IPAM.Config: [{Subnet: 10.30.0.0/24}]}}
"""

import json
import time

from ansible_collections.crane.swarm.plugins.module_utils.engine.client import EngineError
from ansible_collections.crane.swarm.plugins.module_utils.engine.module_base import (
    EngineTask, engine_module, run_engine_task)
from ansible_collections.crane.swarm.plugins.module_utils.networks.spec import (
    DEFAULT_NETWORK_DRIVER,
    network_changes,
    network_create,
    services_using,
)
from ansible_collections.crane.swarm.plugins.module_utils.swarm.nodes import string_values

POLL_SECONDS = 0.5
ENCRYPTED_OPTION = 'encrypted'
# How a swarm refuses to remove a network a standalone container is attached to.
TASK_HOLDS_NETWORK = 'in use by task'

# Module option of an IPAM config entry -> Engine API key.
IPAM_CONFIG_KEYS = (('subnet', 'Subnet'), ('ip_range', 'IPRange'), ('gateway', 'Gateway'),
                    ('aux_addresses', 'AuxiliaryAddresses'))


def network_allocated(network):
    """Whether a network's subnets are assigned: a swarm network gets them from the allocator, after its create."""
    return network.get('Scope') != 'swarm' or bool((network.get('IPAM') or {}).get('Config'))


class OptionError(ValueError):
    """The options contradict themselves; the message names the option and the fix."""


# ---------------------------------------------------------------------- options -> request (pure)

def network_definition(params):
    """Module options -> the bundle's network definition form, which network_create() translates.

    Raises OptionError when the options contradict themselves.
    """
    driver = params.get('driver') or DEFAULT_NETWORK_DRIVER
    options = string_values('driver_opts', params.get('driver_opts'), OptionError)
    encrypted = params.get('encrypted')
    if encrypted is not None and driver != DEFAULT_NETWORK_DRIVER:
        raise OptionError('encrypted is an option of the overlay driver, not of %s; drop it or use driver: overlay'
                          % driver)
    if encrypted:
        options.setdefault(ENCRYPTED_OPTION, '')
    elif encrypted is False and ENCRYPTED_OPTION in options:
        raise OptionError('encrypted is false but driver_opts sets encrypted; keep only one of them')
    if params.get('scope') == 'local' and driver == DEFAULT_NETWORK_DRIVER:
        raise OptionError('scope: an overlay network spans the swarm, its scope is swarm; drop scope or choose '
                          'a local driver such as bridge')
    definition = {
        'Driver': driver,
        'DriverOpts': options,
        'Attachable': bool(params.get('attachable')),
        'Internal': bool(params.get('internal')),
    }
    ipam = params.get('ipam')
    if ipam is not None:
        definition['IPAM'] = {
            'Driver': ipam.get('driver') or 'default',
            'Config': [ipam_config_entry(index, entry) for index, entry in enumerate(ipam.get('config') or [])],
            'Options': string_values('ipam.options', ipam.get('options'), OptionError),
        }
    return definition


def ipam_config_entry(index, entry):
    """One ipam.config entry -> an Engine API IPAMConfig holding only what was given."""
    translated = {}
    for option, key in IPAM_CONFIG_KEYS:
        value = entry.get(option)
        if option == 'aux_addresses':
            value = string_values('ipam.config[%d].aux_addresses' % index, value, OptionError) or None
        if value is not None:
            translated[key] = value
    return translated


def desired_network(params):
    """Module options -> the body of POST /networks/create."""
    body = network_create(params['name'], network_definition(params),
                          string_values('labels', params.get('labels'), OptionError))
    if params.get('scope'):
        body['Scope'] = params['scope']
    if is_swarm_scoped(body) and any('AuxiliaryAddresses' in entry for entry in (body.get('IPAM') or {}).get('Config', [])):
        raise OptionError('ipam.config.aux_addresses: the swarm does not keep auxiliary addresses of its networks '
                          '(the engine reports the network without them), so they cannot be managed on a swarm-scoped '
                          'network; drop them, or use a local driver such as bridge')
    return body


# ---------------------------------------------------------------------- live data (pure)

def network_summary(network):
    """A network (GET /networks/{id}, or a create body) as this module returns it."""
    if not network:
        return {}
    ipam = network.get('IPAM') or {}
    driver = network.get('Driver') or DEFAULT_NETWORK_DRIVER
    return {
        'id': network.get('Id'),
        'name': network.get('Name'),
        'driver': driver,
        'scope': network.get('Scope') or ('swarm' if driver == DEFAULT_NETWORK_DRIVER else 'local'),
        'attachable': bool(network.get('Attachable')),
        'internal': bool(network.get('Internal')),
        'ipam': {
            'driver': ipam.get('Driver') or 'default',
            'config': [dict((option, entry[key]) for option, key in IPAM_CONFIG_KEYS if entry.get(key))
                       for entry in ipam.get('Config') or []],
            'options': dict(ipam.get('Options') or {}),
        },
        'labels': dict(network.get('Labels') or {}),
        'options': dict(network.get('Options') or {}),
    }


def diff_view(network):
    """The whole network for a diff of its creation or removal: its summary without the ID."""
    view = network_summary(network)
    view.pop('id', None)
    return view


def is_swarm_scoped(network):
    """True for a network the swarm manages (overlay, or created with scope swarm)."""
    driver = network.get('Driver') or DEFAULT_NETWORK_DRIVER
    return network.get('Scope') == 'swarm' or (not network.get('Scope') and driver == DEFAULT_NETWORK_DRIVER)


def shown(value):
    return json.dumps(value, sort_keys=True) if isinstance(value, (dict, list)) else str(value)


def change_lines(changes):
    return ['%s: %s -> %s' % (field, shown(before), shown(after)) for field, before, after in changes]


def refusal(name, services, changes):
    """The message of a change refused because services use the network."""
    return ('network %s differs from the request (%s), and a Docker network cannot be changed, only recreated; '
            '%d service%s use%s it: %s. Nothing was changed. Remove those services or move them to another '
            'network (docker service update --network-rm %s SERVICE), then run the task again'
            % (name, '; '.join(change_lines(changes)), len(services), '' if len(services) == 1 else 's',
               's' if len(services) == 1 else '', ', '.join(services), name))


def pick_network(networks, name, scope=None):
    """The network named exactly `name` among a GET /networks answer.

    Returns (network, None), (None, None) when there is none, or (None, message) when
    several remain after preferring `scope`.
    """
    matches = [network for network in networks or [] if network.get('Name') == name]
    if len(matches) > 1 and scope:
        matches = [network for network in matches if network.get('Scope') == scope] or matches
    if len(matches) > 1:
        described = ', '.join('%s (%s, %s)' % (network.get('Id'), network.get('Driver'), network.get('Scope'))
                              for network in matches)
        return None, 'name: %d networks are named %s: %s; set scope to choose one' % (len(matches), name, described)
    return (matches[0] if matches else None), None


# ---------------------------------------------------------------------- the module

class SwarmNetwork(EngineTask):
    def __init__(self, module, client):
        super().__init__(module, client, {'changed': False, 'action': 'none', 'changes': [], 'services': [],
                                          'network': {}})

    # ------------------------------------------------------------------ reading

    def find(self, scope=None):
        name = self.params['name']
        listed = self.call('get', '/networks', 'listing the networks named %s (GET /networks)' % name,
                           params={'filters': json.dumps({'name': [name]})}) or []
        found, ambiguity = pick_network(listed, name, scope)
        if ambiguity:
            self.fail(ambiguity)
        if found is None:
            return None
        try:
            return self.client.get('/networks/%s' % found['Id'])
        except EngineError as exc:
            if exc.status == 404:  # removed meanwhile
                return None
            self.fail('reading network %s (GET /networks/%s) failed: %s' % (name, found['Id'], exc))

    def users(self, network):
        if not is_swarm_scoped(network):
            return []  # services attach to swarm-scoped networks only
        self.require_manager('finding the services that use network %s' % self.params['name'])
        services = self.call('get', '/services', 'listing the services (GET /services)') or []
        return services_using(services, network)

    # ------------------------------------------------------------------ writing

    def create(self, body, recreating=False):
        try:
            answer = self.client.post('/networks/create', body=body) or {}
            network = self.client.get('/networks/%s' % answer.get('Id'))
        except EngineError as exc:
            if recreating:
                self.fail('network %s was removed to be recreated, but creating it again (POST /networks/create) '
                          'failed: %s; the network is now absent: correct the options and run the task again'
                          % (body['Name'], exc))
            self.fail('creating network %s (POST /networks/create) failed: %s' % (body['Name'], exc))
        if answer.get('Warning'):
            self.module.warn('creating network %s: %s' % (body['Name'], answer['Warning']))
        # The managers' allocator gives a swarm network its subnets (and options) a moment
        # after the create; report the network as it is then, not the bare request.
        deadline = time.monotonic() + self.params['wait_timeout']
        while not network_allocated(network) and time.monotonic() < deadline:
            time.sleep(POLL_SECONDS)
            network = self.call('get', '/networks/%s' % answer.get('Id'), 'reading the new network %s' % body['Name'])
        return network

    def remove(self, network):
        """DELETE the network, then wait until the engine forgets it (nodes release their copies)."""
        name, network_id = network.get('Name'), network['Id']
        timeout = self.params['wait_timeout']
        try:
            self.client.delete('/networks/%s' % network_id)
        except EngineError as exc:
            if exc.status == 404:
                return
            hint = ''
            if TASK_HOLDS_NETWORK in str(exc):
                hint = ('; the task named there attaches a standalone container (docker run --network) to it: '
                        'stop or disconnect that container, then run the task again')
            self.fail('removing network %s (DELETE /networks/%s) failed: %s%s' % (name, network_id, exc, hint))
        if not self.wait_until_gone('/networks/%s' % network_id, time.monotonic() + timeout, POLL_SECONDS):
            self.fail('network %s (%s) was removed, but the engine still knows it after %d seconds (option '
                      'wait_timeout); it goes once the nodes have released it: raise wait_timeout or run the '
                      'task again' % (name, network_id, timeout))

    # ------------------------------------------------------------------ states

    def present(self):
        try:
            body = desired_network(self.params)
        except OptionError as exc:
            self.fail(str(exc))
        if is_swarm_scoped(body):
            self.require_manager('managing the swarm-scoped network %s' % body['Name'])
        live = self.find(scope=body.get('Scope') or ('swarm' if is_swarm_scoped(body) else None))

        if live is None:
            self.result.update(changed=True, action='create')
            if self.module._diff:
                self.result['diff'] = {'before': {}, 'after': diff_view(body)}
            if self.module.check_mode:
                self.result['network'] = network_summary(body)
                return
            self.result['network'] = network_summary(self.create(body))
            return

        users = self.users(live)
        self.result.update(network=network_summary(live), services=users)
        changes = network_changes(live, body)  # Docker updates no network in place: any difference means a new one
        if not changes:
            return
        self.result['changes'] = change_lines(changes)
        if self.module._diff:
            self.result['diff'] = {'before': dict((field, before) for field, before, after in changes),
                                   'after': dict((field, after) for field, before, after in changes)}
        if users:
            self.fail(refusal(body['Name'], users, changes))
        self.result.update(changed=True, action='recreate')
        if self.module.check_mode:
            self.result['network'] = network_summary(body)
            return
        self.remove(live)
        self.result['network'] = network_summary(self.create(body, recreating=True))

    def absent(self):
        live = self.find(scope=self.params['scope'])
        if live is None:
            return
        users = self.users(live)
        self.result.update(network=network_summary(live), services=users)
        if users:
            self.fail('network %s is used by %d service%s: %s; nothing was removed. Remove those services or move '
                      'them to another network (docker service update --network-rm %s SERVICE), then run the task '
                      'again' % (live.get('Name'), len(users), '' if len(users) == 1 else 's', ', '.join(users),
                                 live.get('Name')))
        self.result.update(changed=True, action='remove')
        if self.module._diff:
            self.result['diff'] = {'before': diff_view(live), 'after': {}}
        if self.module.check_mode:
            return
        self.remove(live)


def main():
    argument_spec = dict(
        name=dict(type='str', required=True),
        state=dict(type='str', choices=['present', 'absent'], default='present'),
        driver=dict(type='str', default=DEFAULT_NETWORK_DRIVER),
        driver_opts=dict(type='dict'),
        encrypted=dict(type='bool'),
        attachable=dict(type='bool', default=False),
        internal=dict(type='bool', default=False),
        ipam=dict(type='dict', options=dict(
            driver=dict(type='str', default='default'),
            config=dict(type='list', elements='dict', options=dict(
                subnet=dict(type='str', required=True),
                ip_range=dict(type='str'),
                gateway=dict(type='str'),
                aux_addresses=dict(type='dict'),
            )),
            options=dict(type='dict'),
        )),
        labels=dict(type='dict'),
        scope=dict(type='str', choices=['swarm', 'local']),
        wait_timeout=dict(type='int', default=60),
    )
    module = engine_module(argument_spec, supports_check_mode=True)
    if module.params['wait_timeout'] < 0:
        module.fail_json(msg='wait_timeout must be 0 or more seconds, not %d' % module.params['wait_timeout'])

    run_engine_task(module, SwarmNetwork)


if __name__ == '__main__':
    main()
