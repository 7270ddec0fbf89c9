# Copyright: crane.swarm developers
# GNU General Public License v3.0+ (see https://www.gnu.org/licenses/gpl-3.0.txt)
"""Whether a stack network's address space holds what the stack puts on it, on plain ServiceSpecs."""

from __future__ import annotations

from ansible_collections.crane.swarm.plugins.module_utils.stacks import apply as stack_apply


def spec(network='s_net', replicas=1, endpoint='vip', mode=None, update=None):
    body = {'Mode': mode or {'Replicated': {'Replicas': replicas}},
            'TaskTemplate': {'ContainerSpec': {'Image': 'busybox'}, 'Networks': [{'Target': network}]},
            'EndpointSpec': {'Mode': endpoint}}
    if update:
        body['UpdateConfig'] = update
    return body


def test_two_hundred_services_do_not_fit_the_default_subnet():
    specs = [spec() for dummy in range(200)]
    needed = stack_apply.addresses_needed(specs, 's_net', nodes=3)
    assert needed == {'tasks': 200, 'virtual IPs': 200, 'start-first updates': 0, 'load balancers': 3,
                      'network, broadcast and gateway': 3}
    problem = stack_apply.address_space_problem('s_net', needed, stack_apply.address_capacity(
        [{'Subnet': '10.0.5.0/24'}]), 'a /24 of the default pool')
    assert problem == (
        "network s_net needs 406 addresses (200 tasks, 200 virtual IPs, 3 load balancers, 3 network, broadcast and "
        "gateway) but a /24 of the default pool has 256: give it a larger subnet in the bundle's network IPAM config "
        "(Networks.<name>.IPAM.Config: [{Subnet: ...}], a /23 or larger)")
    assert stack_apply.address_space_problem('s_net', needed, 1024, 'its /22') is None


def test_what_each_kind_of_service_takes():
    nodes = 5
    assert sum(stack_apply.addresses_needed([spec(replicas=4, endpoint='dnsrr')], 's_net', nodes).values()) == 4 + 4 + 3
    assert stack_apply.addresses_needed([spec(mode={'Global': {}})], 's_net', nodes)['tasks'] == 5
    assert stack_apply.addresses_needed([spec(mode={'GlobalJob': {}})], 's_net', nodes)['tasks'] == 5
    job = spec(mode={'ReplicatedJob': {'MaxConcurrent': 2, 'TotalCompletions': 10}})
    assert stack_apply.addresses_needed([job], 's_net', nodes)['tasks'] == 2
    start_first = spec(replicas=6, update={'Order': 'start-first', 'Parallelism': 2})
    assert stack_apply.addresses_needed([start_first], 's_net', nodes)['start-first updates'] == 2
    all_at_once = spec(replicas=6, update={'Order': 'start-first', 'Parallelism': 0})
    assert stack_apply.addresses_needed([all_at_once], 's_net', nodes)['start-first updates'] == 6
    # One load balancer per node that runs tasks on the network: at most one per task.
    assert stack_apply.addresses_needed([spec(replicas=2)], 's_net', nodes)['load balancers'] == 2


def test_only_services_on_the_network_count():
    assert stack_apply.addresses_needed([spec(network='other')], 's_net', 3) == {}
    # Clients before API 1.25 put the networks on the service itself.
    legacy = {'Mode': {'Replicated': {'Replicas': 2}}, 'Networks': [{'Target': 's_net'}], 'TaskTemplate': {}}
    assert stack_apply.addresses_needed([legacy], 's_net', 3)['tasks'] == 2


def test_address_capacity_of_ipam_configs():
    assert stack_apply.address_capacity([{'Subnet': '10.231.0.0/24', 'IPRange': '10.231.0.128/25'}]) == 128
    assert stack_apply.address_capacity([{'Subnet': '10.1.0.0/24'}, {'Subnet': '10.2.0.0/23'}]) == 768
    assert stack_apply.address_capacity([{'Subnet': 'fd00::/64'}]) is None
    assert stack_apply.address_capacity([]) is None and stack_apply.address_capacity(None) is None


def test_prefix_for():
    assert stack_apply.prefix_for(256) == 24
    assert stack_apply.prefix_for(257) == 23
    assert stack_apply.prefix_for(1) == 32
