# -*- coding: utf-8 -*-
# Copyright: crane.swarm developers
# GNU General Public License v3.0+ (see https://www.gnu.org/licenses/gpl-3.0.txt)
"""crane.swarm.advertise_ipv4: the IPv4 address each swarm host advertises, from the inventory."""

from __future__ import annotations

import re

_IPV4 = re.compile(r'^[0-9]{1,3}(\.[0-9]{1,3}){3}$')


def advertise_ipv4(hosts, hostvars):
    """{host: IPv4 address} from each host's swarm_advertise_addr, without its port.

    Hosts without swarm_advertise_addr, or advertised by an interface name,
    have no address known before they run, and are left out.
    """
    addresses = {}
    for host in hosts:
        advertised = str((hostvars.get(host) or {}).get('swarm_advertise_addr') or '')
        address = re.sub(r':[0-9]+$', '', advertised)
        if _IPV4.match(address):
            addresses[host] = address
    return addresses


class FilterModule(object):
    def filters(self):
        return {'advertise_ipv4': advertise_ipv4}
