# -*- coding: utf-8 -*-
# Copyright: crane.swarm developers
# GNU General Public License v3.0+ (see https://www.gnu.org/licenses/gpl-3.0.txt)
"""The options of crane.swarm.swarm: its argument spec, which the module and its action plugin
(on the controller, before anything runs) both check the task with."""

from __future__ import annotations

from ansible_collections.crane.swarm.plugins.module_utils.clock.check import DEFAULT_MAX_OFFSET

SWARM_OPTIONS = dict(
    state=dict(type='str', default='present', choices=['present', 'join', 'absent']),
    role=dict(type='str', default='worker', choices=['worker', 'manager']),
    remote_addrs=dict(type='list', elements='str'),
    join_token=dict(type='str', no_log=True),
    advertise_addr=dict(type='str'),
    listen_addr=dict(type='str', default='0.0.0.0:2377'),
    data_path_addr=dict(type='str'),
    data_path_port=dict(type='int'),
    default_addr_pool=dict(type='list', elements='str'),
    subnet_size=dict(type='int'),
    force_new_cluster=dict(type='bool', default=False),
    autolock=dict(type='bool'),
    unlock_key=dict(type='str', no_log=True),
    task_history_retention_limit=dict(type='int'),
    snapshot_interval=dict(type='int'),
    keep_old_snapshots=dict(type='int'),
    log_entries_for_slow_followers=dict(type='int'),
    election_tick=dict(type='int'),
    heartbeat_tick=dict(type='int'),
    dispatcher_heartbeat_period=dict(type='raw'),
    node_cert_expiry=dict(type='raw'),
    signing_ca_cert=dict(type='str'),
    signing_ca_key=dict(type='str', no_log=True),
    ca_force_rotate=dict(type='int'),
    external_cas=dict(type='list', elements='dict', options=dict(
        protocol=dict(type='str', default='cfssl', choices=['cfssl']),
        url=dict(type='str', required=True),
        options=dict(type='dict'),
        ca_cert=dict(type='str'),
    )),
    labels=dict(type='dict'),
    rotate_worker_token=dict(type='bool', default=False, no_log=False),
    rotate_manager_token=dict(type='bool', default=False, no_log=False),
    rotate_unlock_key=dict(type='bool', default=False, no_log=False),
    clock_servers=dict(type='list', elements='str'),
    max_clock_offset=dict(type='float', default=DEFAULT_MAX_OFFSET),
    join_timeout=dict(type='int', default=60),
    force=dict(type='bool', default=False),
)

SWARM_RULES = dict(
    required_if=[('state', 'join', ('remote_addrs', 'join_token'))],
    required_by=dict(signing_ca_key=('signing_ca_cert',)),
)
