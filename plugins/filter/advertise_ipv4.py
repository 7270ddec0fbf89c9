# -*- coding: utf-8 -*-
# Copyright: crane.swarm developers
# GNU General Public License v3.0+ (see https://www.gnu.org/licenses/gpl-3.0.txt)
"""crane.swarm.advertise_ipv4: the IPv4 address each swarm host advertises, from the inventory."""

from __future__ import annotations

import re

_IPV4 = re.compile(r'^[0-9]{1,3}(\.[0-9]{1,3}){3}$')


def advertise_ipv4(hosts, hostvars, variable):
    """{host: IPv4 address} from each host's variable `variable` (an address, optionally with :port).

    The caller names the variable (the roles pass the inventory's swarm_advertise_addr), so the
    inventory contract lives in the roles' argument specs, not here. Hosts without the variable,
    or advertised by an interface name, have no address known before they run, and are left out.
    """
    if not isinstance(variable, str) or not variable:
        raise TypeError('advertise_ipv4: the variable name must be a non-empty string, not %r' % (variable,))
    addresses = {}
    for host in hosts:
        advertised = str((hostvars.get(host) or {}).get(variable) or '')
        address = re.sub(r':[0-9]+$', '', advertised)
        if _IPV4.match(address):
            addresses[host] = address
    return addresses


class FilterModule(object):
    def filters(self):
        return {'advertise_ipv4': advertise_ipv4}
