# -*- coding: utf-8 -*-
# Copyright: crane.swarm developers
# GNU General Public License v3.0+ (see https://www.gnu.org/licenses/gpl-3.0.txt)
"""A swarm network as plain data: the create body, and how a live network differs from it.

    network_create(full_name, definition, labels) -> the body of POST /networks/create
    network_changes(live_network, desired_create) -> [(field, before, after)]
    services_using(services, network) -> sorted names of the services attached to it

Used by swarm_network for standalone networks and by the stack translation for
a stack's networks; the definition has the bundle's form (Driver, DriverOpts,
Attachable, Internal, IPAM, Labels).
"""

from __future__ import annotations

DEFAULT_NETWORK_DRIVER = 'overlay'


def network_create(full_name, definition, labels):
    """The body of POST /networks/create for a network definition of the bundle's form."""
    body = {
        'Name': full_name,
        'CheckDuplicate': True,
        'Driver': definition.get('Driver') or DEFAULT_NETWORK_DRIVER,
        'Options': dict(definition.get('DriverOpts') or {}),
        'Attachable': bool(definition.get('Attachable')),
        'Internal': bool(definition.get('Internal')),
        'Labels': labels,
    }
    ipam = definition.get('IPAM')
    if ipam:
        body['IPAM'] = {
            'Driver': ipam.get('Driver') or 'default',
            'Config': [dict(entry) for entry in ipam.get('Config') or []],
            'Options': dict(ipam.get('Options') or {}),
        }
    return body


# Options the overlay driver adds to a network on its own.
ENGINE_NETWORK_OPTIONS = ('com.docker.network.driver.overlay.vxlanid_list',)


def network_changes(live_network, desired_create):
    """Differences between GET /networks/{id} and a NetworkCreate body: [(field, before, after)].

    Docker has no call that updates a network, labels included, so every
    difference needs the network recreated: the caller must refuse the change
    (and name the services using the network) rather than recreate it behind them.
    """
    return [(field, before, after) for field, before, after in _network_fields(live_network, desired_create)
            if before != after]


def _network_fields(live, desired):
    driver = desired.get('Driver') or DEFAULT_NETWORK_DRIVER
    yield 'Driver', live.get('Driver'), driver
    if 'Scope' in desired or driver == DEFAULT_NETWORK_DRIVER:
        yield 'Scope', live.get('Scope'), desired.get('Scope') or 'swarm'
    live_options = dict((key, value) for key, value in (live.get('Options') or {}).items()
                        if key not in ENGINE_NETWORK_OPTIONS)
    yield 'Options', live_options, dict(desired.get('Options') or {})
    for key in ('Internal', 'Attachable'):
        yield key, bool(live.get(key)), bool(desired.get(key))
    if 'EnableIPv6' in desired:
        yield 'EnableIPv6', bool(live.get('EnableIPv6')), bool(desired['EnableIPv6'])
    yield 'Labels', dict(live.get('Labels') or {}), dict(desired.get('Labels') or {})
    if desired.get('IPAM'):
        for field, before, after in _ipam_fields(live.get('IPAM') or {}, desired['IPAM']):
            yield field, before, after


def _ipam_fields(live, desired):
    yield 'IPAM.Driver', live.get('Driver') or 'default', desired.get('Driver') or 'default'
    yield 'IPAM.Options', dict(live.get('Options') or {}), dict(desired.get('Options') or {})
    wanted = desired.get('Config') or []
    if wanted:
        # The engine fills in what a config entry leaves out (a gateway): compare what was asked for.
        live_config = live.get('Config') or []
        seen = [dict((key, entry.get(key)) for key in asked) for asked, entry in zip(wanted, live_config)]
        seen.extend(live_config[len(wanted):])
        yield 'IPAM.Config', seen, [dict(entry) for entry in wanted]


def services_using(services, network):
    """Sorted names of the services (GET /services) attached to a network (GET /networks), by its ID or name.

    The engine stores IDs; clients may store names, and older clients wrote Spec.Networks.
    """
    names = set()
    wanted = set(value for value in (network.get('Id'), network.get('Name')) if value)
    for service in services or []:
        spec = service.get('Spec') or {}
        attachments = list((spec.get('TaskTemplate') or {}).get('Networks') or [])
        attachments.extend(spec.get('Networks') or [])
        if any(attachment.get('Target') in wanted for attachment in attachments):
            names.add(spec.get('Name') or service.get('ID'))
    return sorted(names)
