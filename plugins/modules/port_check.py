#!/usr/bin/python
# -*- coding: utf-8 -*-
# Copyright: crane.swarm developers
# GNU General Public License v3.0+ (see https://www.gnu.org/licenses/gpl-3.0.txt)

from __future__ import annotations

DOCUMENTATION = r"""
---
module: port_check
short_description: Check that TCP ports of other hosts can be reached from this host
version_added: 0.1.0
author: crane.swarm developers (@crane)
description:
  - Connects from the host it runs on to every target at once and classifies each answer. It is the
    precheck that a swarm's ports are not blocked between its hosts, before the swarm exists.
  - V(open) means something listens. V(closed) means the target refused the connection, which proves
    that the path works and only nothing listens yet (the swarm ports before C(docker swarm init)); both
    count as reachable.
  - V(filtered) (no answer within O(timeout), as when a firewall drops the packets), V(unreachable) (an
    ICMP unreachable or no route) and V(error) (for example a name that does not resolve) fail the module,
    naming each target.
  - Only TCP can be checked this way. UDP ports (7946/udp, the VXLAN data path port 4789/udp) give no
    answer either way until something listens, so they are not probed.
  - A firewall that rejects with a TCP reset, or with ICMP port-unreachable (iptables' C(REJECT) default),
    looks like V(closed). Rejections with host-prohibited (firewalld's default) are reported as V(unreachable).
  - Never changes anything.
extends_documentation_fragment:
  - crane.swarm.attributes
attributes:
  check_mode:
    support: full
  diff_mode:
    support: none
options:
  targets:
    description:
      - The ports to reach, each as V(host:port), V([IPv6 address]:port), or a dictionary with C(host)
        and C(port).
    type: list
    elements: raw
    required: true
  timeout:
    description:
      - Seconds to wait for an answer; all targets are probed at the same time, so this bounds the whole run.
    type: float
    default: 3.0
"""

EXAMPLES = r"""
- name: Check that the first manager's swarm port and every node's gossip port are reachable
  crane.swarm.port_check:
    targets: >-
      {{ [hostvars[groups['swarm_managers'][0]].swarm_advertise_addr ~ ':2377']
         + (groups['swarm_managers'] + groups['swarm_workers']) | difference([inventory_hostname])
           | map('extract', hostvars, 'swarm_advertise_addr') | map('regex_replace', '$', ':7946') | list }}

- name: Probe one host, reporting instead of failing
  crane.swarm.port_check:
    targets:
      - host: 10.0.0.11
        port: 2377
    timeout: 1
  register: probe
  failed_when: false
"""

RETURN = r"""
results:
  description: One entry per target, in the order given.
  returned: always
  type: list
  elements: dict
  contains:
    host:
      description: The host probed.
      type: str
      sample: 10.0.0.11
    port:
      description: The port probed.
      type: int
      sample: 2377
    state:
      description: V(open), V(closed), V(filtered), V(unreachable) or V(error).
      type: str
      sample: closed
    error:
      description: The error of the connection (an errno name or a resolver message), if any.
      type: str
      sample: ECONNREFUSED
    seconds:
      description: Seconds until the answer; null for V(filtered).
      type: float
      sample: 0.001
blocked:
  description: The targets that are not reachable, as V(host:port).
  returned: always
  type: list
  elements: str
  sample: ["10.0.0.12:7946"]
"""

from ansible.module_utils.basic import AnsibleModule

from ansible_collections.crane.swarm.plugins.module_utils.swarm.port_probe import (
    REACHABLE_STATES, parse_target, probe_all, summary)


def main():
    module = AnsibleModule(
        argument_spec=dict(
            targets=dict(type='list', elements='raw', required=True),
            timeout=dict(type='float', default=3.0),
        ),
        supports_check_mode=True,
    )
    try:
        targets = [parse_target(target) for target in module.params['targets']]
    except ValueError as exc:
        module.fail_json(msg=str(exc), changed=False)
    if module.params['timeout'] <= 0:
        module.fail_json(msg='timeout must be a positive number of seconds', changed=False)
    results = probe_all(targets, module.params['timeout'])
    blocked = ['%s:%d' % (r['host'], r['port']) for r in results if r['state'] not in REACHABLE_STATES]
    ok, message = summary(results)
    if not ok:
        module.fail_json(msg=message, changed=False, results=results, blocked=blocked)
    module.exit_json(msg=message, changed=False, results=results, blocked=blocked)


if __name__ == '__main__':
    main()
