# -*- coding: utf-8 -*-
# Copyright: crane.swarm developers
# GNU General Public License v3.0+ (see https://www.gnu.org/licenses/gpl-3.0.txt)
"""Decisions of a stack deployment on plain data: what to create, update, remove, and when it converged.

spec.py says what the stack should be; this module lines that up with
what the engine has (lists of Engine API objects) without doing any I/O.
"""

from __future__ import annotations

import base64
import calendar
import hashlib
import json
import re

from ansible_collections.crane.swarm.plugins.module_utils.common.plain_data import plain_copy
from ansible_collections.crane.swarm.plugins.module_utils.stacks.options import BUNDLE_JSON, CONFIG_DATA, SECRET_DATA
from ansible_collections.crane.swarm.plugins.module_utils.stacks.spec import CONTENT_LABEL
from ansible_collections.crane.swarm.plugins.module_utils.stacks.status import STACK_NAMESPACE_LABEL
from ansible_collections.crane.swarm.plugins.module_utils.stacks.terms import mode_kind, replicas

DOCKER_HUB_CONFIG_KEY = 'https://index.docker.io/v1/'
# On a service the module sent registry credentials with: their registry and fingerprint (registry_auth_label).
REGISTRY_AUTH_LABEL = 'crane.swarm.registry-auth'
REGISTRY_AUTH_ROUNDS = 100000
DOCKER_HUB_NAMES = ('docker.io', 'index.docker.io', 'registry-1.docker.io')
# A registry host as an image reference names it: DNS labels or a bracketed IPv6 address, an optional port.
_REGISTRY_ADDRESS = re.compile(r'^(?:[A-Za-z0-9](?:[A-Za-z0-9-]*[A-Za-z0-9])?(?:\.[A-Za-z0-9](?:[A-Za-z0-9-]*[A-Za-z0-9])?)*'
                               r'|\[[0-9A-Fa-f:.]+\])(?::[0-9]{1,5})?$')
_CONTROL = re.compile(r'[\x00-\x20\x7f]')
FAILED_UPDATE_STATES = ('paused', 'rollback_paused', 'rollback_completed')
UPDATING_STATES = ('updating', 'rollback_started')
ENDED_STATES = ('failed', 'rejected', 'complete')
JOB_MODES = ('ReplicatedJob', 'GlobalJob')
SECOND = 10 ** 9
DEFAULT_STABILITY_WINDOW = 5.0  # seconds: swarmkit's default UpdateConfig.Monitor
CRASH_LOOP_EXITS = 3  # ended tasks in one slot that make a crash loop
_TIMESTAMP = re.compile(r'(\d{4})-(\d\d)-(\d\d)T(\d\d):(\d\d):(\d\d)(\.\d+)?([Zz]|[+-]\d\d:\d\d)$')


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
    `definition` is the user's bundle (a mapping or text), `compose` an inline compose document, the private options are
    what the action plugin sends (options.PRIVATE_OPTIONS).
    """
    echoed = dict(params)
    definition = params.get('definition')
    if isinstance(definition, dict):
        echoed['definition'] = 'a bundle of %d service(s), not echoed' % len(definition.get('Services') or {})
    elif definition is not None:
        echoed['definition'] = 'not echoed'
    if isinstance(params.get('compose'), dict):  # an inline compose document may hold passwords in its environment
        echoed['compose'] = 'a compose document of %d service(s), not echoed' % len(
            params['compose'].get('services') or {})
    if params.get(BUNDLE_JSON) is not None:
        echoed[BUNDLE_JSON] = 'not echoed'
    for key in (SECRET_DATA, CONFIG_DATA):
        value = params.get(key)
        if value:
            echoed[key] = '%d file(s), not echoed' % len(value) if isinstance(value, dict) else 'not echoed'
    return echoed


def fixed_name_conflicts(kind, desired_objects, live_objects):
    """([messages], [unverifiable names]) for the fixed-name secrets or configs (`kind`) whose live content differs.

    A fixed Name (spec.py: `fixed`) cannot take new content: a swarm object is
    immutable and the name stays. A config's content is readable (Spec.Data); a
    secret's is not, so it is told by the digest label this collection puts on
    what it creates. A live secret without that label (made by the docker CLI,
    say) cannot be compared: its name is returned among the unverifiable ones.
    """
    live = by_name(live_objects)
    section = kind.capitalize() + 's'
    conflicts, unverifiable = [], []
    for logical, item in sorted(desired_objects.items()):
        found = live.get(item['name'])
        if not item.get('fixed') or found is None:
            continue
        spec = found.get('Spec') or {}
        if kind == 'config' and spec.get('Data') is not None:
            differs = base64.b64decode(spec['Data']) != base64.b64decode(item['spec']['Data'])
        elif (spec.get('Labels') or {}).get(CONTENT_LABEL):
            differs = spec['Labels'][CONTENT_LABEL] != item['spec']['Labels'][CONTENT_LABEL]
        else:
            unverifiable.append(item['name'])
            continue
        if differs:
            conflicts.append('%s %s (%s.%s.Name) exists with other content, and a %s with a fixed name cannot take '
                             'new content: give %s.%s a new Name (or remove Name, so that each content gets its own '
                             'object), or remove the services using it and the %s, then deploy again'
                             % (kind, item['name'], section, logical, kind, section, logical, kind))
    return conflicts, unverifiable


def with_object_ids(spec, secret_ids, config_ids):
    """The spec with SecretID/ConfigID filled from {object name: ID} (placeholders in check mode)."""
    spec = plain_copy(spec)
    container = spec['TaskTemplate']['ContainerSpec']
    for key, name_key, id_key, ids in (('Secrets', 'SecretName', 'SecretID', secret_ids),
                                       ('Configs', 'ConfigName', 'ConfigID', config_ids)):
        for reference in container.get(key) or []:
            reference[id_key] = ids.get(reference[name_key], 'to-be-created:' + reference[name_key])
    credential = (container.get('Privileges') or {}).get('CredentialSpec') or {}
    runtime = [reference for reference in container.get('Configs') or [] if 'Runtime' in reference]
    if credential.get('Config') and runtime:
        # The engine wants the ID of the config its Runtime reference names (the only Runtime one: the
        # credential spec's); taken from that reference, so a second call on the result changes nothing.
        credential['Config'] = runtime[0]['ConfigID']
    return spec


def cli_named_twins(stack, desired_objects, live_objects):
    """(desired item, live object) for each desired secret or config whose twin under the CLI's name lives.

    `docker stack deploy` names a stack secret or config <stack>_<name>; crane adds a content hash.
    Only a twin of this stack, with the same Templating, can be the same object.
    """
    live = by_name(live_objects)
    twins = []
    for logical, item in sorted(desired_objects.items()):
        found = live.get('%s_%s' % (stack, logical))
        if found is None or found['Spec']['Name'] == item['name'] or not in_stack(found, stack):
            continue
        if (found['Spec'].get('Templating') or None) == (item['spec'].get('Templating') or None):
            twins.append((item, found))
    return twins


def use_twins(desired, kind, renames):
    """Point the desired `kind` ('secrets' or 'configs') and the services' references at {crane name: twin name}."""
    for item in desired[kind].values():
        if item['name'] in renames:
            item['name'] = item['spec']['Name'] = renames[item['name']]
    key, name_key = ('Secrets', 'SecretName') if kind == 'secrets' else ('Configs', 'ConfigName')
    for service in desired['services'].values():
        for reference in service['spec']['TaskTemplate']['ContainerSpec'].get(key) or []:
            reference[name_key] = renames.get(reference[name_key], reference[name_key])


def reuse_cli_configs(stack, desired, live_configs):
    """Point `desired` (desired_stack()) at the configs `docker stack deploy` made with the same content.

    A config whose Data equal the desired ones is the same file: using it lets crane take over a
    CLI stack without restarting tasks. Returns the {crane name: reused name} it applied.
    """
    renames = dict((item['name'], found['Spec']['Name']) for item, found in cli_named_twins(stack, desired['configs'],
                                                                                            live_configs)
                   if _decoded(found['Spec'].get('Data')) == _decoded(item['spec'].get('Data')))
    use_twins(desired, 'configs', renames)
    return renames


def cli_secrets_in_use(stack, desired, live_secrets, live_services):
    """(desired item, live secret) for each secret whose CLI-named twin a live service of the stack uses.

    The Engine API never returns a secret's data, so only a write can tell whether the twin holds the
    desired content (secret_update_body); it is worth one only where reusing the twin spares a task
    restart, that is where a service already uses it.
    """
    used = set()
    for service in live_services:
        if in_stack(service, stack):
            container = service['Spec']['TaskTemplate'].get('ContainerSpec') or {}
            used.update(reference.get('SecretName') for reference in container.get('Secrets') or [])
    return [(item, found) for item, found in cli_named_twins(stack, desired['secrets'], live_secrets)
            if found['Spec']['Name'] in used]


def secret_update_body(live_secret, desired_spec):
    """The update of `live_secret` that the engine accepts exactly when its data equal the desired data.

    Everything but the data as it is live (labels included), so an accepted update changes nothing
    but the object's version; the engine refuses one whose data differ ("only updates to Labels
    are allowed"), which is how the content is compared without reading it. `docker stack deploy`
    sends the same update for each secret on every deploy.
    """
    return dict(live_secret['Spec'], Data=desired_spec.get('Data'))


def _decoded(data):
    try:
        return base64.b64decode(data or '', validate=True)
    except (TypeError, ValueError):
        return None


def same_image_pinned(live_image, desired_image):
    """A live `name:tag@sha256:...` is the desired `name:tag` pinned by digest: no change."""
    return live_image.startswith(desired_image + '@sha256:') and '@' not in desired_image


def image_for_update(written, live_image, resolved):
    """The image an update sends with resolve_image=changed: `resolved` (the registry's pin of the image as
    `written`) when the registry answered; else the live image when it is that tag pinned (an unanswered
    lookup never unpins a service), else the image as written."""
    if resolved != written:
        return resolved
    return live_image if same_image_pinned(live_image, written) else written


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


def rolls_out_tasks(changes):
    """Whether an update with these [(path, before, after)] changes replaces the service's tasks.

    Changes of the task template or the endpoint make the swarm roll new tasks out;
    labels, replicas and the update settings themselves do not.
    """
    return any(path.startswith(('TaskTemplate', 'EndpointSpec')) for path, dummy, dummy2 in changes)


# -- waiting: has what this run wrote converged, and does the rest of the stack run?

def engine_time(stamp):
    """Seconds since the epoch of an Engine API timestamp (RFC 3339 with nanoseconds), or None."""
    match = _TIMESTAMP.match(stamp or '')
    if not match:
        return None
    fields = [int(part) for part in match.groups()[:6]]
    seconds = calendar.timegm(tuple(fields) + (0, 0, 0)) + float(match.group(7) or 0)
    zone = match.group(8)
    if zone not in ('Z', 'z'):
        offset = int(zone[1:3]) * 3600 + int(zone[4:6]) * 60
        seconds -= offset if zone[0] == '+' else -offset
    return seconds


def stability_window(spec):
    """Seconds every task of a service must have been running for the service to count as converged.

    The service's UpdateConfig.Monitor when set: how long the swarm itself watches a
    new task before it counts an update step a success. Otherwise swarmkit's default
    Monitor, 5 s: a task that crashes at start-up fails well within it.
    """
    monitor = (spec.get('UpdateConfig') or {}).get('Monitor')
    return monitor / SECOND if monitor else DEFAULT_STABILITY_WINDOW


def task_state(task):
    return (task.get('Status') or {}).get('State')


def note_running(bounds, tasks, now, previous_poll, written_at, existed_before):
    """Remember when each task first seen running at this poll can have begun to run.

    `bounds` ({task ID: (earliest, latest)}, kept by the caller across polls) gets
    an entry per new running task: it runs at `now` and did not at the previous poll
    (`previous_poll`, the time that poll's request was sent). At the first poll a
    task began after this run wrote its service (`written_at`: {service ID: time}),
    unless it existed before the write (`existed_before`: task IDs): then nothing bounds it.
    """
    for task in tasks:
        if task['ID'] in bounds or task_state(task) != 'running':
            continue
        if previous_poll is not None:
            earliest = previous_poll
        elif task['ID'] in existed_before:
            earliest = None
        else:
            earliest = written_at.get(task.get('ServiceID'))
        bounds[task['ID']] = (earliest, now)


def running_since(task, bound):
    """When a running task began to run: its Status.Timestamp, kept within what the polls saw (bound).

    The timestamp comes from the clock of the node running the task; the polls bound
    it on this host's clock, so a skewed node cannot make a task look older than the
    poll before the one that first saw it running.
    """
    earliest, latest = bound
    began = engine_time((task.get('Status') or {}).get('Timestamp'))
    if began is None:
        began = latest
    if earliest is not None:
        began = max(began, earliest)
    return min(began, latest)


def note_exits(exits, tasks, ended_before=()):
    """Remember every task that ended (failed, rejected or completed) in {task ID: task}.

    The swarm keeps only task_history_retention_limit tasks per slot: a crash loop
    must be counted from what the polls saw, not from the history left at one poll.
    Tasks that had ended before this run wrote their service (`ended_before`) are not this run's.
    """
    for task in tasks:
        if task_state(task) in ENDED_STATES and task['ID'] not in ended_before:
            exits[task['ID']] = task


def desired_task_count(service, tasks, ended=()):
    """How many tasks the service should run: ServiceStatus.DesiredTasks, else from its mode.

    A global service's DesiredTasks counts the tasks desired running only: one whose tasks were
    rejected (an image no node can pull) and wait for their restart (desired `ready`), or are not
    replaced yet, would count none, and zero tasks would pass for converged. So each node counts
    that has such a task, or one that ended since this run wrote the service (`ended`).
    """
    status = service.get('ServiceStatus') or {}
    if mode_kind(service['Spec'].get('Mode')) == 'Global':
        nodes = set(task.get('NodeID') for task in tasks if task.get('DesiredState') in ('running', 'ready'))
        nodes.update(task.get('NodeID') for task in ended)
        return max(status.get('DesiredTasks', 0), len(nodes))
    if 'DesiredTasks' in status:
        return status['DesiredTasks']
    if mode_kind(service['Spec'].get('Mode')) == 'Replicated':
        return replicas(service['Spec'].get('Mode'))
    return len(set(task.get('NodeID') for task in tasks if task.get('DesiredState') == 'running'))


def allowed_exits(spec):
    """How many ended tasks in one slot make a crash loop, given the service's restart policy."""
    policy = (spec.get('TaskTemplate') or {}).get('RestartPolicy') or {}
    if policy.get('Condition') == 'none':
        return 1
    if policy.get('MaxAttempts'):
        return min(CRASH_LOOP_EXITS, policy['MaxAttempts'] + 1)
    return CRASH_LOOP_EXITS


def task_errors(tasks, limit=3):
    """The most recent distinct errors of the tasks (Status.Err; an exit code for a task that completed)."""
    errors = []
    for task in sorted(tasks, key=lambda t: (t.get('Status') or {}).get('Timestamp') or '', reverse=True):
        status = task.get('Status') or {}
        error = status.get('Err')
        if not error and status.get('State') == 'complete':
            error = 'task completed (exit code %s)' % (status.get('ContainerStatus') or {}).get('ExitCode', 0)
        if error and error not in errors and len(errors) < limit:
            errors.append(error)
    return errors


def service_verdict(service, tasks, exits, bounds, now, awaiting_rollout=False):
    """(state, message, task errors) of a service this run created or updated, at one poll.

    state is `converged` (every desired task running for the stability window),
    `pending`, `crash_loop`, `rolled_back` or `paused`. `tasks` are the service's
    tasks at this poll, `exits` its tasks that ended since this run wrote it (from
    every poll), `bounds` what note_running knows, `now` this poll's time.
    `awaiting_rollout`: just updated in a way that replaces its tasks; the engine
    clears UpdateStatus on every update and sets it again only when the rollout
    starts, so until then the old tasks must not count.
    """
    spec = service['Spec']
    update = service.get('UpdateStatus') or {}
    update_state = update.get('State')
    ended = list(exits)
    waiting = [task for task in tasks if task.get('DesiredState') in ('running', 'ready')
               and task_state(task) not in ENDED_STATES + ('running',)]
    errors = task_errors(ended + waiting)
    if update_state in FAILED_UPDATE_STATES:
        reason = 'paused' if update_state == 'paused' else 'rolled_back'
        return reason, '%s: %s' % (update_state, update.get('Message') or 'no message'), errors
    if mode_kind(spec.get('Mode')) in JOB_MODES:
        return 'converged', 'a job: its completion is not followed', []
    if update_state in UPDATING_STATES:
        return 'pending', 'update %s: %s' % (update_state, update.get('Message') or 'in progress'), errors
    if awaiting_rollout and not update:
        return 'pending', 'its rolling update has not begun yet', errors
    window = stability_window(spec)
    desired = desired_task_count(service, tasks, ended)
    if desired == 0 and mode_kind(spec.get('Mode')) == 'Global':
        # Just created (the swarm makes its tasks a moment later), or no node meets its placement.
        return 'pending', 'no task of this global service yet (does a node meet its placement constraints?)', errors
    running = [task for task in tasks if task.get('DesiredState') == 'running' and task_state(task) == 'running']
    stable = [task for task in running if now - running_since(task, bounds.get(task['ID'], (None, now))) >= window]
    if len(stable) >= desired:
        return 'converged', '%d of %d tasks have run for %s s or more' % (len(stable), desired, _seconds(window)), []
    per_slot = {}
    global_mode = mode_kind(spec.get('Mode')) == 'Global'  # jobs returned above
    for task in ended:
        slot = task.get('NodeID') if global_mode else task.get('Slot')
        per_slot[slot] = per_slot.get(slot, 0) + 1
    if per_slot and max(per_slot.values()) >= allowed_exits(spec):
        return 'crash_loop', 'its tasks keep failing: %d ended since this run wrote the service, %d in one %s' % (
            len(ended), max(per_slot.values()), 'node' if global_mode else 'slot'), errors
    reasons = []
    for task in waiting:
        status = task.get('Status') or {}
        reason = '%s: %s' % (status.get('State'), status.get('Err'))
        if status.get('Err') and reason not in reasons:
            reasons.append(reason)
    message = '%d of %d tasks have run for %s s' % (len(stable), desired, _seconds(window))
    return 'pending', message + (' (%s)' % '; '.join(shortened(reasons, 3)) if reasons else ''), errors


def settled_state(service):
    """How a service this run did not change stands, from GET /services?status=true alone.

    None when it runs its desired tasks and no update is under way or stuck; else
    (state, message) as service_verdict says them.
    """
    update = service.get('UpdateStatus') or {}
    if update.get('State') in ('paused', 'rollback_paused'):
        return ('paused' if update['State'] == 'paused' else 'rolled_back',
                '%s: %s' % (update['State'], update.get('Message') or 'no message'))
    if update.get('State') in UPDATING_STATES:
        return 'pending', 'update %s: %s' % (update['State'], update.get('Message') or 'in progress')
    if mode_kind(service['Spec'].get('Mode')) in JOB_MODES:
        return None
    status = service.get('ServiceStatus') or {}
    if status.get('RunningTasks', 0) < status.get('DesiredTasks', 0):
        return 'pending', '%d of %d tasks running' % (status['RunningTasks'], status['DesiredTasks'])
    return None


def awaited_unchanged(services):
    """Names of the services this run did not change that the wait waits for, at one poll.

    Those merely pending (settled_state says `pending`: a task starting or being
    rescheduled, say after a node's engine restarted, or an update under way) and
    whose last update did not pause or roll back: nothing changes such a service until
    a run does, so it is reported at once. A service running its desired tasks is not
    waited for, with no stability window: an unchanged stack's rerun does not wait.
    """
    names = []
    for service in services:
        state = settled_state(service)
        if state and state[0] == 'pending' and not earlier_update_failure(service):
            names.append(service['Spec']['Name'])
    return sorted(names)


def wait_is_over(verdicts, awaited, timed_out):
    """Whether the wait stops at this poll.

    `verdicts` ({name: (state, message, task errors)}, service_verdict's) are those of
    the services this run wrote, `awaited` the names awaited_unchanged gives. A written
    service that failed stops the wait at once; else it goes on while a written
    service is pending or an unchanged one is awaited, until the deadline (`timed_out`).
    """
    states = set(state for state, dummy, dummy2 in verdicts.values())
    if timed_out or states - {'converged', 'pending'}:
        return True
    return 'pending' not in states and not awaited


def earlier_update_failure(service):
    """'state: message' when the service's last update paused or rolled back, else None."""
    update = service.get('UpdateStatus') or {}
    if update.get('State') in FAILED_UPDATE_STATES:
        return '%s: %s' % (update['State'], update.get('Message') or 'no message')
    return None


def shortened(names, limit=5):
    """The first `limit` items, and how many more there are: ['a', 'b', 'and 3 more']."""
    names = list(names)
    if len(names) <= limit + 1:
        return names
    return names[:limit] + ['and %d more' % (len(names) - limit)]


def _seconds(value):
    return ('%.1f' % value).rstrip('0').rstrip('.')


# -- the address space of the stack's networks

def task_count(spec, nodes):
    """How many tasks a ServiceSpec runs at once on a swarm of `nodes` nodes that can run tasks."""
    mode = spec.get('Mode')
    kind = mode_kind(mode)
    if kind in ('Global', 'GlobalJob'):
        return nodes
    if kind == 'ReplicatedJob':
        return (mode['ReplicatedJob'] or {}).get('MaxConcurrent') or 1
    return replicas(mode)


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


class OncePerImage:
    """A registry lookup asked once per distinct image and credentials in one run, its answers kept.

    `lookup(image, headers)` makes the round trip (the engine's GET /distribution/<image>/json): a stack
    of 200 services over 2 images makes 2 round trips, not 200. The answer may depend on who asks
    (another account may see another repository), so the X-Registry-Auth header is part of the key. An
    answer that kept the tag (no registry answered) is kept too: the next service asks no more.
    """

    def __init__(self, lookup):
        self.lookup = lookup
        self.answers = {}  # (image, X-Registry-Auth or None) -> the lookup's answer

    def __call__(self, image, headers=None):
        key = (image, (headers or {}).get('X-Registry-Auth'))
        if key not in self.answers:
            self.answers[key] = self.lookup(image, headers)
        return self.answers[key]


def registry_host(address):
    """The registry an address names, as docker's credential lookup reads it (its ConvertToHostname): scheme and
    path dropped, every name of Docker Hub (docker.io, index.docker.io, ...) DOCKER_HUB_CONFIG_KEY."""
    host = address.strip()
    for scheme in ('https://', 'http://'):
        if host.lower().startswith(scheme):
            host = host[len(scheme):]
    host = host.split('/', 1)[0]
    return DOCKER_HUB_CONFIG_KEY if host.lower() in DOCKER_HUB_NAMES else host


def image_registry(image):
    """The registry (as registry_host names it) an image reference pulls from."""
    return registry_host(registry_of(image) or DOCKER_HUB_CONFIG_KEY)


def registry_credentials_by_host(entries):
    """{registry: {'username': ..., 'password': ...}} of the task's registry_credentials.

    The argument spec saw to each entry holding the three strings; this checks what it cannot
    and raises ValueError naming the entry's field and the fix. No message holds a password.
    """
    found, given_as = {}, {}
    for index, entry in enumerate(entries or []):
        where = 'registry_credentials[%d]' % index
        host = registry_host(entry['registry'])
        if host != DOCKER_HUB_CONFIG_KEY and not _REGISTRY_ADDRESS.match(host):
            raise ValueError('%s.registry: %r is not a registry address; write its host (and port) as the image '
                             'names it, for example registry.example.com:5000' % (where, entry['registry']))
        if host in found:
            raise ValueError('%s.registry: %r is the registry of %s already; give each registry once'
                             % (where, entry['registry'], given_as[host]))
        username = entry['username']
        if not username or ':' in username or _CONTROL.search(username):
            raise ValueError('%s.username: %s; give the user name the registry knows (no ":", no control characters)'
                             % (where, 'empty' if not username else 'not a user name'))
        if not entry['password']:
            raise ValueError('%s.password: empty; give the password (or access token) of %s on %s'
                             % (where, username, entry['registry']))
        found[host] = dict(username=username, password=entry['password'])
        given_as[host] = '%s.registry' % where
    return found


def docker_config_auth(registry, docker_config):
    """The credentials a docker config.json holds inline for `registry` (registry_host's name), or None.

    Keys of `auths` and `credHelpers` are matched by the registry they name, as the docker CLI does.
    Raises ValueError (a message naming the registry, never a secret) when the credentials are
    kept by a credential helper (`credHelpers`, `credsStore`), which this does not run, or the
    entry cannot be read.
    """
    config = docker_config if isinstance(docker_config, dict) else {}
    helpers = config.get('credHelpers') if isinstance(config.get('credHelpers'), dict) else {}
    for key, helper in helpers.items():
        if helper and registry_host(key) == registry:
            raise ValueError('the docker config keeps the credentials of %s in the credential helper docker-credential-%s '
                             '(credHelpers), which crane.swarm does not run' % (_shown_registry(registry), helper))
    if config.get('credsStore'):
        raise ValueError('the docker config keeps its credentials in the credential store docker-credential-%s '
                         '(credsStore), which crane.swarm does not run' % config['credsStore'])
    auths = config.get('auths') if isinstance(config.get('auths'), dict) else {}
    for key, entry in auths.items():
        if registry_host(key) != registry or not entry:
            continue
        if not isinstance(entry, dict):
            break
        if entry.get('identitytoken'):
            return {'identitytoken': entry['identitytoken']}
        if entry.get('auth'):
            try:
                username, colon, password = base64.b64decode(entry['auth']).decode('utf-8').partition(':')
            except (ValueError, TypeError):
                colon = None
            if colon:
                return {'username': username, 'password': password}
            break
        if entry.get('username') and entry.get('password'):
            return {'username': entry['username'], 'password': entry['password']}
    else:
        return None
    raise ValueError('the docker config has an auths entry %r for %s that holds no credentials crane.swarm can read '
                     '(auth: base64 of user:password, or identitytoken)' % (key, _shown_registry(registry)))


def registry_auth_header(registry, auth):
    """X-Registry-Auth carrying `auth` (username and password, or identitytoken) for `registry`.

    The header is base64url JSON, as the Engine expects; with a service create or update it
    stores the credentials with the service, and the nodes pull its image with them (WithRegistryAuth).
    """
    header = dict(auth, serveraddress=registry)
    return base64.urlsafe_b64encode(json.dumps(header, sort_keys=True).encode('utf-8')).decode('ascii')


def registry_auth_label(registry, auth, swarm_id):
    """The value of REGISTRY_AUTH_LABEL on a service sent `auth` for `registry`: the registry and a fingerprint.

    The fingerprint is 96 bits of PBKDF2-HMAC-SHA256 over the credentials, salted with the swarm and
    the registry: it tells other credentials from these, and costs a guesser as much as a
    password hash does. Reading the labels needs the swarm's manager API, which reaches the
    credentials the swarm keeps anyway (through the nodes that pull with them).
    """
    salt = ('crane.swarm.registry-auth %s %s' % (swarm_id, registry)).encode('utf-8')
    material = json.dumps(auth, sort_keys=True).encode('utf-8')
    fingerprint = hashlib.pbkdf2_hmac('sha256', material, salt, REGISTRY_AUTH_ROUNDS, 12).hex()
    return '%s %s' % (_shown_registry(registry) if registry != DOCKER_HUB_CONFIG_KEY else 'docker.io', fingerprint)


def _shown_registry(registry):
    return 'Docker Hub' if registry == DOCKER_HUB_CONFIG_KEY else registry
