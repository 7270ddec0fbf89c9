# -*- coding: utf-8 -*-
# Copyright: crane.swarm developers
# GNU General Public License v3.0+ (see https://www.gnu.org/licenses/gpl-3.0.txt)
"""Decisions of a stack deployment on plain data: what to create, update, remove, and when it converged.

stack_spec.py says what the stack should be; this module lines that up with
what the engine has (lists of Engine API objects) without doing any I/O.
"""

from __future__ import annotations

import base64
import json

from ansible_collections.crane.swarm.plugins.module_utils.plain_data import plain_copy
from ansible_collections.crane.swarm.plugins.module_utils.stack_status import STACK_NAMESPACE_LABEL

DOCKER_HUB_CONFIG_KEY = 'https://index.docker.io/v1/'
FAILED_UPDATE_STATES = ('paused', 'rollback_paused', 'rollback_completed')
UPDATING_STATES = ('updating', 'rollback_started')


def by_name(objects):
    """Engine objects (services, secrets, configs keyed by Spec.Name; networks by Name) -> {name: object}."""
    return dict(((item.get('Spec') or {}).get('Name') or item.get('Name'), item) for item in objects)


def in_stack(item, stack):
    labels = (item.get('Spec') or {}).get('Labels') or item.get('Labels') or {}
    return labels.get(STACK_NAMESPACE_LABEL) == stack


def echoed_arguments(params):
    """The module's arguments as a result may echo them: the bundle and the file contents summed up.

    The bundle carries inline secret contents, and echoing hundreds of services back
    (and scanning them for no_log values) would cost more than deploying them unchanged.
    """
    echoed = dict(params)
    definition = params.get('definition')
    if isinstance(definition, dict):
        echoed['definition'] = 'a bundle of %d service(s), not echoed' % len(definition.get('Services') or {})
    elif definition is not None:
        echoed['definition'] = 'not echoed'
    for key in ('secret_data', 'config_data'):
        value = params.get(key)
        if value:
            echoed[key] = '%d file(s), not echoed' % len(value) if isinstance(value, dict) else 'not echoed'
    return echoed


def with_object_ids(spec, secret_ids, config_ids):
    """The spec with SecretID/ConfigID filled from {object name: ID} (placeholders in check mode)."""
    spec = plain_copy(spec)
    container = spec['TaskTemplate']['ContainerSpec']
    for key, name_key, id_key, ids in (('Secrets', 'SecretName', 'SecretID', secret_ids),
                                       ('Configs', 'ConfigName', 'ConfigID', config_ids)):
        for reference in container.get(key) or []:
            reference[id_key] = ids.get(reference[name_key], 'to-be-created:' + reference[name_key])
    return spec


def same_image_pinned(live_image, desired_image):
    """A live `name:tag@sha256:...` is the desired `name:tag` pinned by digest: no change."""
    return live_image.startswith(desired_image + '@sha256:') and '@' not in desired_image


def carry_swarm_state(live_service, desired_spec):
    """What an update must carry over from the live service so that it changes only what we mean.

    Ports the bundle left unpublished keep the port the swarm picked (Docker 1.12
    semantics), and the ForceUpdate counter is kept so no restart is forced.
    """
    spec = plain_copy(desired_spec)
    assigned = dict(((port.get('Protocol', 'tcp'), port.get('TargetPort')), port.get('PublishedPort'))
                    for port in (live_service.get('Endpoint') or {}).get('Ports') or [])
    for port in (spec.get('EndpointSpec') or {}).get('Ports') or []:
        if not port.get('PublishedPort') and port.get('PublishMode', 'ingress') == 'ingress':
            published = assigned.get((port.get('Protocol', 'tcp'), port.get('TargetPort')))
            if published:
                port['PublishedPort'] = published
    force_update = live_service['Spec'].get('TaskTemplate', {}).get('ForceUpdate')
    if force_update:
        spec['TaskTemplate']['ForceUpdate'] = force_update
    return spec


def services_using(services, network_id, network_name):
    """Names of the services attached to a network (the engine stores IDs, clients may store names)."""
    users = []
    for service in services:
        attachments = service['Spec'].get('TaskTemplate', {}).get('Networks') or service['Spec'].get('Networks') or []
        if any(attachment.get('Target') in (network_id, network_name) for attachment in attachments):
            users.append(service['Spec']['Name'])
    return sorted(users)


def rolls_out_tasks(changes):
    """Whether an update with these [(path, before, after)] changes replaces the service's tasks.

    Changes of the task template or the endpoint make the swarm roll new tasks out;
    labels, replicas and the update settings themselves do not.
    """
    return any(path.startswith(('TaskTemplate', 'EndpointSpec')) for path, dummy, dummy2 in changes)


def convergence(services, desired_names, awaiting_rollout=()):
    """Split the desired services into (converged, pending, failed) from GET /services?status=true.

    failed holds (name, message) for updates that paused or rolled back.
    `awaiting_rollout` names services just updated in a way that replaces their
    tasks: the engine clears UpdateStatus on every update and sets it again only
    when the rollout starts, so until then their old tasks must not count as converged.
    """
    converged, pending, failed = [], [], []
    live = by_name(services)
    for name in sorted(desired_names):
        service = live.get(name)
        if service is None:
            pending.append(name)
            continue
        update = service.get('UpdateStatus') or {}
        status = service.get('ServiceStatus') or {}
        if update.get('State') in FAILED_UPDATE_STATES:
            failed.append((name, '%s: %s' % (update['State'], update.get('Message') or 'no message')))
        elif update.get('State') in UPDATING_STATES or (not update and name in awaiting_rollout):
            pending.append(name)
        elif 'Replicated' in service['Spec'].get('Mode', {}) or 'Global' in service['Spec'].get('Mode', {}):
            if status.get('RunningTasks', 0) < status.get('DesiredTasks', 0):
                pending.append(name)
            else:
                converged.append(name)
        else:  # jobs converge by completing, which wait does not follow
            converged.append(name)
    return converged, pending, failed


def keeps_failing(tasks, service_ids, attempts=3):
    """IDs of the services among `service_ids` whose tasks failed `attempts` times or more.

    Used for services this run created: all their tasks are this run's, so repeated
    failures mean the service cannot start and waiting longer will not help.
    """
    failures = {}
    for task in tasks:
        if task.get('ServiceID') in service_ids and (task.get('Status') or {}).get('State') in ('failed', 'rejected'):
            failures[task['ServiceID']] = failures.get(task['ServiceID'], 0) + 1
    return sorted(service_id for service_id, count in failures.items() if count >= attempts)


def task_errors(tasks, service_ids, limit=3):
    """{service ID: the most recent error messages of its failed or rejected tasks}."""
    errors = {}
    for task in sorted(tasks, key=lambda t: t.get('UpdatedAt') or '', reverse=True):
        status = task.get('Status') or {}
        if task.get('ServiceID') in service_ids and status.get('State') in ('failed', 'rejected') and status.get('Err'):
            messages = errors.setdefault(task['ServiceID'], [])
            if len(messages) < limit and status['Err'] not in messages:
                messages.append(status['Err'])
    return errors


def shortened(names, limit=5):
    """The first `limit` items, and how many more there are: ['a', 'b', 'and 3 more']."""
    names = list(names)
    if len(names) <= limit + 1:
        return names
    return names[:limit] + ['and %d more' % (len(names) - limit)]


# -- the address space of the stack's networks

def task_count(spec, nodes):
    """How many tasks a ServiceSpec runs at once on a swarm of `nodes` nodes that can run tasks."""
    mode = spec.get('Mode') or {'Replicated': {}}
    if 'Global' in mode or 'GlobalJob' in mode:
        return nodes
    if 'ReplicatedJob' in mode:
        return (mode['ReplicatedJob'] or {}).get('MaxConcurrent') or 1
    return (mode.get('Replicated') or {}).get('Replicas', 1)


def addresses_needed(specs, network, nodes):
    """{what: count} of the addresses `network` must hold for these ServiceSpecs.

    Each attached service takes one address per task (a global service one per
    node); a VIP-mode service also its virtual IP; a start-first update starts
    Parallelism new tasks before it stops old ones. Each node running tasks on the
    network has a load-balancer address on it, and the subnet's network, broadcast
    and gateway addresses are never given out. `specs` name networks in
    TaskTemplate.Networks[].Target as `network` is named.
    """
    tasks = vips = headroom = 0
    for spec in specs:
        template = spec.get('TaskTemplate') or {}
        attachments = template.get('Networks') or spec.get('Networks') or []
        if not any(attachment.get('Target') == network for attachment in attachments):
            continue
        count = task_count(spec, nodes)
        tasks += count
        if ((spec.get('EndpointSpec') or {}).get('Mode') or 'vip') == 'vip':
            vips += 1
        update = spec.get('UpdateConfig') or {}
        if update.get('Order') == 'start-first':
            headroom += min(count, update.get('Parallelism') or count)
    if not tasks and not vips:
        return {}
    return {'tasks': tasks, 'virtual IPs': vips, 'start-first updates': headroom,
            'load balancers': min(nodes, tasks), 'network, broadcast and gateway': 3}


def address_capacity(ipam_config):
    """Addresses of a network's IPv4 space from its IPAM Config entries (an IPRange limits its Subnet).

    None when the entries name no IPv4 subnet (nothing to check).
    """
    total = None
    for entry in ipam_config or []:
        cidr = entry.get('IPRange') or entry.get('Subnet')
        if cidr and ':' not in cidr and '/' in cidr:
            total = (total or 0) + 2 ** (32 - int(cidr.rsplit('/', 1)[1]))
    return total


def prefix_for(addresses):
    """The longest IPv4 prefix whose subnet holds `addresses`."""
    prefix = 32
    while prefix > 0 and 2 ** (32 - prefix) < addresses:
        prefix -= 1
    return prefix


def address_space_problem(network, needed, capacity, where):
    """A message when `needed` ({what: count}) does not fit in `capacity` addresses, else None.

    `where` says where the capacity comes from (the bundle, the live network, the
    swarm's default address pool).
    """
    total = sum(needed.values())
    if capacity is None or total <= capacity:
        return None
    parts = ', '.join('%d %s' % (count, what) for what, count in needed.items() if count)
    return ('network %s needs %d addresses (%s) but %s has %d: give it a larger subnet in the bundle\'s network '
            'IPAM config (Networks.<name>.IPAM.Config: [{Subnet: ...}], a /%d or larger)'
            % (network, total, parts, where, capacity, prefix_for(total)))


def registry_of(image):
    """The registry host of an image reference, or None for Docker Hub."""
    first, slash, dummy = image.partition('/')
    if slash and ('.' in first or ':' in first or first == 'localhost'):
        return first
    return None


def registry_auth_header(image, docker_config):
    """X-Registry-Auth for `image` from a docker config.json's `auths`, or None without credentials.

    The header is base64url JSON, as the Engine expects; it carries the manager's
    credentials to the workers that pull the image (WithRegistryAuth).
    """
    registry = registry_of(image)
    auths = (docker_config or {}).get('auths') or {}
    keys = [DOCKER_HUB_CONFIG_KEY, 'index.docker.io', 'docker.io'] if registry is None else [
        registry, 'https://' + registry, 'http://' + registry, 'https://%s/v1/' % registry]
    for key in keys:
        entry = auths.get(key)
        if not entry:
            continue
        if entry.get('identitytoken'):
            auth = {'identitytoken': entry['identitytoken']}
        elif entry.get('auth'):
            username, dummy, password = base64.b64decode(entry['auth']).decode('utf-8').partition(':')
            auth = {'username': username, 'password': password}
        else:
            auth = dict((k, entry[k]) for k in ('username', 'password') if k in entry)
        auth['serveraddress'] = registry or DOCKER_HUB_CONFIG_KEY
        return base64.urlsafe_b64encode(json.dumps(auth).encode('utf-8')).decode('ascii')
    return None
