#!/usr/bin/python
# -*- coding: utf-8 -*-
# Copyright: crane.swarm developers
# GNU General Public License v3.0+ (see https://www.gnu.org/licenses/gpl-3.0.txt)

from __future__ import annotations

DOCUMENTATION = r"""
---
module: clock_check
short_description: Check that a host's clock is close enough to NTP time to join a Docker Swarm
version_added: 0.1.0
author: crane.swarm developers (@crane)
description:
  - Measures the offset of the host's clock against one or more NTP servers with SNTP (RFC 4330),
    compensating for the network round trip, and fails if it is larger than O(max_offset).
  - Clock skew between hosts is the usual reason why a host cannot join a swarm (the join times out)
    or why a published port does not answer on some nodes. Run this before C(docker swarm join);
    M(crane.swarm.swarm) runs the same check itself before it joins.
  - Also reports which time daemon keeps the host's clock (chronyd, ntpd or systemd-timesyncd) and whether
    it considers the clock synchronised; with O(require_sync=true) an unsynchronised host fails.
  - Every server is queried; the result is taken from the server that answered with the lowest round-trip
    delay, because the error of an SNTP offset is at most half that delay. Servers that did not answer
    only produce warnings as long as one server answered.
  - Offsets follow the NTP convention, server time minus host time. A positive offset means the host's clock
    is behind.
  - Never changes anything on the host, in particular not its clock.
extends_documentation_fragment:
  - crane.swarm.attributes
attributes:
  check_mode:
    support: full
  diff_mode:
    support: none
options:
  servers:
    description:
      - NTP servers to measure against, each as V(host), V(host:port), V(IPv6 address), or V([IPv6 address]:port).
        The port defaults to 123.
      - Use the servers the swarm's hosts synchronise with, or a manager's own NTP service, so that all nodes
        are compared with the same reference.
      - If empty, no offset is measured and only the host's synchronisation state is checked (see O(require_sync)).
    type: list
    elements: str
    default: []
  max_offset:
    description:
      - Largest tolerated absolute clock offset, in seconds. The module fails above it.
      - The default of 1 second separates a healthy host from a broken one with a wide margin on both sides.
        A host kept by any NTP daemon is within milliseconds of its servers, and the SNTP measurement itself
        errs by at most half the round-trip delay, far below 1 second even across continents, so a healthy host
        does not fail by accident.
        One second is also the threshold at which time daemons step the clock instead of slewing it
        (chrony's usual C(makestep 1 3)); a host beyond it is not being disciplined at all.
        On the other side, swarm itself tolerates small skews (node certificates are backdated by an hour so
        that their NotBefore time does not reject a node that is slightly behind, and raft and the dispatcher's
        heartbeats, every 5 seconds, run on each node's own timers), yet hosts whose clocks were off by a few
        seconds are reported to time out when they join. The limit therefore stays clearly below a few seconds.
      - Lower it for stricter environments; raising it above a few seconds defeats the purpose of the check.
    type: float
    default: 1.0
  require_sync:
    description:
      - Also fail if no time daemon runs or the running one does not report the clock as synchronised.
      - A host whose clock is right now but not kept by a daemon will drift away again.
    type: bool
    default: false
  timeout:
    description:
      - Seconds to wait for each reply. A request that times out is retried until O(samples) requests
        have been sent, so an unreachable server costs up to O(timeout) times O(samples) seconds.
    type: float
    default: 2.0
  samples:
    description:
      - Requests sent to each server, one after the other; the reply with the lowest round-trip delay is used.
      - Between 1 and 8. Some servers limit bursts; a Kiss-o'-Death (for example RATE) or a timeout after
        a successful sample ends the series for that server and keeps the samples already received.
    type: int
    default: 3
notes:
  - The module runs on the managed host, which must reach the servers over UDP.
  - The host's time daemon is found with C(pidof) (or C(ps)) and queried with C(chronyc -n -c tracking),
    C(ntpq -pn) or C(timedatectl show) and C(timedatectl timesync-status).
  - A chronyd that serves its own clock (C(local) directive) counts as synchronised, like it does for chrony itself.
seealso:
  - name: RFC 4330, Simple Network Time Protocol (SNTP) Version 4
    link: https://www.rfc-editor.org/rfc/rfc4330
    description: The protocol used to measure the offset.
"""

EXAMPLES = r"""
- name: Check the clock against the site's NTP servers before joining the swarm
  crane.swarm.clock_check:
    servers:
      - ntp1.example.org
      - 192.0.2.123
      - "[2001:db8::123]:123"

- name: Compare with the first manager (running chronyd as an NTP server) and require a running time daemon
  crane.swarm.clock_check:
    servers:
      - "{{ hostvars[groups['swarm_managers'][0]].ansible_host }}"
    max_offset: 0.5
    require_sync: true

- name: Only check that the host's time daemon is synchronised
  crane.swarm.clock_check:
    require_sync: true

- name: Measure without failing, and show the result
  crane.swarm.clock_check:
    servers: [ntp1.example.org]
  register: clock
  ignore_errors: true

- name: Show the measured offset
  ansible.builtin.debug:
    msg: "{{ clock.offset }} s against {{ clock.server }}, daemon {{ clock.sync.daemon }}"
"""

RETURN = r"""
offset:
  description:
    - Clock offset in seconds, server minus host (positive means the host is behind), measured against RV(server).
    - V(null) if no server was given or none answered.
  returned: always
  type: float
  sample: 0.00123
delay:
  description: Round-trip delay in seconds of the sample the offset comes from; the offset's error is at most half of it.
  returned: always
  type: float
  sample: 0.00041
server:
  description: The server the result comes from (the answering server with the lowest delay), as given in O(servers).
  returned: always
  type: str
  sample: ntp1.example.org
stratum:
  description: Stratum announced by that server.
  returned: always
  type: int
  sample: 2
max_offset:
  description: The limit that was applied, in seconds.
  returned: always
  type: float
  sample: 1.0
server_results:
  description: One entry per server in O(servers), in that order.
  returned: always
  type: list
  elements: dict
  contains:
    server:
      description: The server as given.
      type: str
      returned: always
      sample: ntp1.example.org
    ok:
      description: Whether the server gave a usable answer.
      type: bool
      returned: always
      sample: true
    error:
      description: Why the server gave no usable answer (for example a timeout or a Kiss-o'-Death code).
      type: str
      returned: always
      sample: "Kiss-o'-Death RATE from server (rate exceeded: the server asks this client to query less often)"
    address:
      description: IP address that answered.
      type: str
      returned: when ok
      sample: 192.0.2.10
    port:
      description: UDP port queried.
      type: int
      returned: when ok
      sample: 123
    offset:
      description: Offset in seconds against this server, server minus host.
      type: float
      returned: when ok
      sample: 0.00123
    delay:
      description: Round-trip delay in seconds of the best sample.
      type: float
      returned: when ok
      sample: 0.00041
    stratum:
      description: Stratum announced by the server.
      type: int
      returned: when ok
      sample: 2
    leap:
      description: Leap indicator of the reply (0 no warning, 1 or 2 a leap second is pending).
      type: int
      returned: when ok
      sample: 0
    version:
      description: NTP version of the reply.
      type: int
      returned: when ok
      sample: 4
    reference_id:
      description: The server's reference, an upstream IPv4 address or a reference clock code such as V(GPS).
      type: str
      returned: when ok
      sample: 192.0.2.1
    root_delay:
      description: The server's round-trip delay to its reference clock, in seconds.
      type: float
      returned: when ok
      sample: 0.0123
    root_dispersion:
      description: The server's estimated error relative to its reference clock, in seconds.
      type: float
      returned: when ok
      sample: 0.0009
    samples:
      description: Number of requests that got a usable reply.
      type: int
      returned: when ok
      sample: 3
    sample_errors:
      description: Errors of the requests that got no usable reply, although another request did.
      type: list
      elements: str
      returned: when ok
      sample: []
sync:
  description: The host's own time synchronisation as reported by its time daemon.
  returned: always
  type: dict
  contains:
    daemon:
      description: The running time daemon, V(chronyd), V(ntpd) or V(systemd-timesyncd); V(null) if none runs.
      type: str
      returned: always
      sample: chronyd
    synchronised:
      description: Whether the daemon reports the clock as synchronised.
      type: bool
      returned: always
      sample: true
    source:
      description: The time source the daemon follows, if known.
      type: str
      returned: always
      sample: 192.0.2.10
    stratum:
      description: The host's own stratum (its source's stratum plus one), if known.
      type: int
      returned: always
      sample: 3
    offset:
      description: The daemon's own estimate of the host's offset in seconds (server minus host), if known.
      type: float
      returned: always
      sample: -0.000012
    state:
      description: What the daemon reported, in words.
      type: str
      returned: always
      sample: "chronyd synchronised to 192.0.2.10 (Leap status: Normal)"
"""

from ansible.module_utils.basic import AnsibleModule

from ansible_collections.crane.swarm.plugins.module_utils.clock.check import (
    DEFAULT_MAX_OFFSET,
    DEFAULT_SAMPLES,
    DEFAULT_TIMEOUT,
    check_clock,
    module_run_command,
)


def main():
    module = AnsibleModule(
        argument_spec=dict(
            servers=dict(type='list', elements='str', default=[]),
            max_offset=dict(type='float', default=DEFAULT_MAX_OFFSET),
            require_sync=dict(type='bool', default=False),
            timeout=dict(type='float', default=DEFAULT_TIMEOUT),
            samples=dict(type='int', default=DEFAULT_SAMPLES),
        ),
        supports_check_mode=True,
    )
    params = module.params
    try:
        ok, report, message = check_clock(
            servers=params['servers'],
            max_offset=params['max_offset'],
            require_sync=params['require_sync'],
            timeout=params['timeout'],
            samples=params['samples'],
            run_command=module_run_command(module),
        )
    except ValueError as exc:
        module.fail_json(msg=str(exc), changed=False)

    if not ok:
        module.fail_json(msg=message, changed=False, **report)
    for result in report['server_results']:
        if not result['ok']:
            module.warn('NTP server %s gave no usable answer: %s' % (result['server'], result['error']))
    module.exit_json(msg=message, changed=False, **report)


if __name__ == '__main__':
    main()
