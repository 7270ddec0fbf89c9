# -*- coding: utf-8 -*-
# Copyright: crane.swarm developers
# GNU General Public License v3.0+ (see https://www.gnu.org/licenses/gpl-3.0.txt)
"""A stack bundle -> Engine API bodies, and live objects <-> desired ones, as plain data.

    desired_stack(stack, bundle, secret_data=None, config_data=None) -> what the stack should be
    service_changes(live_spec, desired_spec, network_names=None)     -> [(path, before, after)]
    diff_for_display(changes_by_service)                             -> {'before': ..., 'after': ...}

Translation keeps Docker 1.12's meaning of a plain DAB file (`docker deploy`):
service `<stack>_<name>` labelled com.docker.stack.namespace=<stack> (its
containers too), networks `<stack>_<net>` (overlay, same label), each service
aliased by its short name on its networks, DAB Command = the container's
entrypoint (ContainerSpec.Command) and Args its arguments, WorkingDir -> Dir,
User -> User, a port without PublishedPort published on a port the swarm picks.

Secrets and configs are immutable in a swarm. Each object is named
`<stack>_<name>_<first 10 hex digits of sha256(content)>`, so new content makes
a new object and the services referring to it roll to it. A service's
SecretReference/ConfigReference carries SecretName/ConfigName only: the module
fills SecretID/ConfigID at apply time, from the objects it found or created.

A `Name` gives a network, secret or config its Docker name as written, as the
docker CLI does for compose's `name:` (a named network still carries the stack
label); a fixed-name secret or config cannot rotate, so the module refuses new
content for it. With External, Name is the existing object's name. A volume
mount whose Source is one of the bundle's Volumes gets what docker/cli's
convert/volume.go gives it: Source <stack>_<name> (or Name; an external volume
as named), the stack label and the volume's labels and driver.
"""

from __future__ import annotations

import base64
import hashlib

from ansible_collections.crane.swarm.plugins.module_utils.stacks.terms import (
    attachment_target, mode_kind, reference_source, reference_target, replicas)
from ansible_collections.crane.swarm.plugins.module_utils.stacks.container_keys import CONTAINER_KEYS, DURATION as DURATION_KIND
from ansible_collections.crane.swarm.plugins.module_utils.common.durations import format_duration, parse_duration
from ansible_collections.crane.swarm.plugins.module_utils.common.plain_data import plain_copy
from ansible_collections.crane.swarm.plugins.module_utils.common.sizes import format_size, parse_cpus, parse_size
from ansible_collections.crane.swarm.plugins.module_utils.networks.spec import network_create
from ansible_collections.crane.swarm.plugins.module_utils.stacks.status import STACK_NAMESPACE_LABEL

CONTENT_LABEL = 'crane.swarm.content-sha256'
HOST_NETWORK = 'host'
# Docker mounts secret and config files read-only for everyone, owned by root, unless told otherwise.
DEFAULT_FILE_MODE = 0o444
CONTENT_HASH_DIGITS = 10
# The service label `docker stack deploy` adds: the image as the compose file wrote it (CLI bookkeeping).
CLI_IMAGE_LABEL = 'com.docker.stack.image'
DOCKER_HUB = 'docker.io'

# ContainerSpec fields copied unchanged from the bundle (beside the table of container_keys.py): key -> API key.
_CONTAINER_COPIES = (('Env', 'Env'), ('Hosts', 'Hosts'), ('DNSConfig', 'DNSConfig'), ('Ulimits', 'Ulimits'),
                     ('OomScoreAdj', 'OomScoreAdj'))

# Bundle fields the Engine API learnt late: (bundle path under a service, first API version that keeps it).
# An older engine drops them without an error (measured: API 1.41 drops OomScoreAdj and StartInterval).
MIN_API_VERSIONS = (
    (('Isolation',), (1, 35)),
    (('CredentialSpec', 'Config'), (1, 40)),
    (('Healthcheck', 'StartInterval'), (1, 44)),
    (('OomScoreAdj',), (1, 46)),
)


def scoped_name(stack, name):
    """The Docker name of a stack's service, network, secret or config: <stack>_<name>."""
    return '%s_%s' % (stack, name)


def stack_labels(stack, labels=None):
    """`labels` plus the namespace label that makes an object part of `stack` for the docker CLI."""
    merged = dict(labels or {})
    merged[STACK_NAMESPACE_LABEL] = stack
    return merged


def _compact(mapping):
    """`mapping` without the keys whose value is None (left unset, so the engine's default applies)."""
    return dict((key, value) for key, value in mapping.items() if value is not None)


def _duration(value, field):
    return None if value is None else parse_duration(value, field)


def _size(value, field):
    return None if value is None else parse_size(value, field)


def _file_mode(value):
    if value is None:
        return None
    return int(value, 8) if isinstance(value, str) else value


# ---- the stack ----

def desired_stack(stack, bundle, secret_data=None, config_data=None):
    """Everything the stack should be, as Engine API bodies (see the module docstring).

    `bundle` has passed check_bundle(bundle, stack) (plugin_utils/bundle/check.py),
    names included: the action plugin checks it on the controller and sends
    nothing otherwise; nothing here checks it again. `secret_data`/`config_data`
    map a logical name to its base64 content; the action plugin reads File
    contents on the controller. Inline Content needs no entry. Raises ValueError
    when a content is missing.
    """
    secrets, external_secrets = _file_objects(stack, bundle.get('Secrets') or {}, secret_data or {}, 'secret')
    configs, external_configs = _file_objects(stack, bundle.get('Configs') or {}, config_data or {}, 'config')
    networks, external_networks = _networks(stack, bundle)
    object_names = {
        'Secrets': _object_names(secrets, external_secrets),
        'Configs': _object_names(configs, external_configs),
        'Networks': _network_names(stack, bundle, external_networks),
        'Volumes': stack_volumes(stack, bundle.get('Volumes') or {}),
    }
    services = {}
    for name, service in sorted(bundle['Services'].items()):
        spec = service_spec(stack, name, service, object_names)
        services[spec['Name']] = {'spec': spec, 'registry_auth': bool(service.get('WithRegistryAuth'))}
    return {
        'networks': networks, 'external_networks': sorted(set(external_networks.values())),
        'secrets': secrets, 'external_secrets': sorted(set(external_secrets.values())),
        'configs': configs, 'external_configs': sorted(set(external_configs.values())),
        'services': services,
    }


def _object_names(objects, externals):
    """Logical name -> Docker name; `externals` maps logical names to the existing objects' names."""
    names = dict((logical, item['name']) for logical, item in objects.items())
    names.update(externals)
    return names


def _network_names(stack, bundle, externals):
    """Logical network name -> the name a service attaches to."""
    names = dict((name, _network_name(stack, name, definition))
                 for name, definition in _stack_network_definitions(bundle).items())
    names.update(externals)
    return names


def _network_name(stack, name, definition):
    """A stack network's Docker name: its Name as written, else <stack>_<name>."""
    return (definition or {}).get('Name') or scoped_name(stack, name)


def _stack_network_definitions(bundle):
    """Logical name -> definition of every network of the stack, external ones included.

    Without a Networks key (a plain DAB file), the networks are those the services
    name, each a default overlay network (Docker 1.12).
    """
    if 'Networks' in bundle:
        return bundle['Networks'] or {}
    named = {}
    for service in bundle['Services'].values():
        for entry in service.get('Networks') or []:
            named[attachment_target(entry)] = {}
    return named


def _networks(stack, bundle):
    creates, externals = {}, {}
    for name, definition in sorted(_stack_network_definitions(bundle).items()):
        if definition.get('External'):
            externals[name] = definition.get('Name') or name
        else:
            body = network_create(_network_name(stack, name, definition), definition,
                                  stack_labels(stack, definition.get('Labels')))
            creates[body['Name']] = body
    return creates, externals


def _file_objects(stack, definitions, contents, kind):
    """Secret or config specs by logical name, and {logical name: Docker name} of the external ones.

    An object with a Name is marked `fixed`: it keeps that name whatever its content.
    """
    objects, externals = {}, {}
    for name, definition in sorted(definitions.items()):
        if definition.get('External'):
            externals[name] = definition.get('Name') or name
            continue
        data = contents.get(name)
        if data is None and 'Content' in definition:
            data = base64.b64encode(definition['Content'].encode('utf-8')).decode('ascii')
        if data is None:
            raise ValueError('the content of %s %r (File %s) was not provided' % (kind, name, definition.get('File')))
        digest = hashlib.sha256(base64.b64decode(data)).hexdigest()
        labels = stack_labels(stack, definition.get('Labels'))
        labels[CONTENT_LABEL] = digest
        object_name = definition.get('Name') or '%s_%s' % (scoped_name(stack, name), digest[:CONTENT_HASH_DIGITS])
        objects[name] = {'name': object_name, 'spec': {'Name': object_name, 'Labels': labels, 'Data': data}}
        if 'Name' in definition:
            objects[name]['fixed'] = True
    return objects, externals


def stack_volumes(stack, definitions):
    """{logical name: (Source, VolumeOptions)} of the bundle's Volumes, as docker/cli's convert/volume.go makes them.

    The engine of each node creates a missing volume with these options when a task first mounts it; an
    external volume gets no labels or driver.
    """
    volumes = {}
    for name, definition in definitions.items():
        definition = definition or {}
        if definition.get('External'):
            volumes[name] = (definition.get('Name') or name, {})
            continue
        options = {'Labels': stack_labels(stack, definition.get('Labels'))}
        if definition.get('Driver') or definition.get('DriverOpts'):
            options['DriverConfig'] = _compact({'Name': definition.get('Driver'),
                                                'Options': dict(definition['DriverOpts']) if definition.get('DriverOpts') else None})
        volumes[name] = (definition.get('Name') or scoped_name(stack, name), options)
    return volumes


def api_version_problems(bundle, api_version):
    """Messages for the bundle fields the engine's API version `api_version` ("1.41") would drop."""
    have = tuple(int(part) for part in str(api_version).split('.')[:2] if part.isdigit())
    problems = []
    for name, service in sorted(bundle['Services'].items()):
        for path, needed in MIN_API_VERSIONS:
            value = service
            for key in path:
                value = value.get(key) if isinstance(value, dict) else None
            if value not in (None, 0, 'default') and have < needed:  # the engine's own defaults pass
                field = 'Services.%s.%s' % (name, '.'.join(path))
                problems.append('%s needs Engine API %d.%d or later, the engine speaks %s: upgrade Docker on the '
                                'managers or remove the field' % (field, needed[0], needed[1], api_version))
    return problems


# ---- a service ----

def service_spec(stack, name, service, object_names):
    """The ServiceSpec of bundle service `name`; `object_names` maps the bundle's logical names
    of Networks, Secrets and Configs to Docker object names."""
    field = 'Services.%s.' % name
    spec = {
        'Name': scoped_name(stack, name),
        'Labels': stack_labels(stack, service.get('Labels')),
        'TaskTemplate': _task_template(stack, name, service, object_names),
        'Mode': mode_spec(service),
        'EndpointSpec': _endpoint_spec(service),
    }
    if 'UpdateConfig' in service:
        spec['UpdateConfig'] = update_config(service['UpdateConfig'], field + 'UpdateConfig')
    if 'RollbackConfig' in service:
        spec['RollbackConfig'] = update_config(service['RollbackConfig'], field + 'RollbackConfig')
    return spec


def _task_template(stack, name, service, object_names):
    field = 'Services.%s.' % name
    template = {'ContainerSpec': container_spec(stack, name, service, object_names)}
    attachments = _attachments(name, service, object_names['Networks'])
    if attachments:
        template['Networks'] = attachments
    if 'Resources' in service:
        template['Resources'] = resources(service['Resources'], field + 'Resources')
    if 'RestartPolicy' in service:
        template['RestartPolicy'] = restart_policy(service['RestartPolicy'], field + 'RestartPolicy')
    if 'Placement' in service:
        template['Placement'] = placement(service['Placement'])
    if 'LogDriver' in service:
        # No Name: the docker CLI sends "" and the engine's default driver takes the Options.
        template['LogDriver'] = {'Name': service['LogDriver'].get('Name', ''),
                                 'Options': dict(service['LogDriver'].get('Options') or {})}
    # The docker CLI always sends these, empty when unset, and swarmkit restarts the tasks when only
    # that differs (measured; the Engine shows none and empty alike), so crane sends them the same way.
    template.setdefault('Resources', {})
    template.setdefault('Placement', {})
    return template


def container_spec(stack, name, service, object_names):
    """TaskTemplate.ContainerSpec: what runs in each task's container."""
    field = 'Services.%s.' % name
    spec = dict((api_key, plain_copy(service[key])) for key, api_key in _CONTAINER_COPIES if key in service)
    for key in CONTAINER_KEYS:
        if key.name in service:
            spec[key.api] = (parse_duration(service[key.name], field + key.name) if key.kind == DURATION_KIND
                             else plain_copy(service[key.name]))
    # Docker does not copy service labels to containers: the stack label goes on both (as 1.12 did).
    spec['Labels'] = stack_labels(stack, service.get('ContainerLabels'))
    if 'Healthcheck' in service:
        spec['Healthcheck'] = healthcheck(service['Healthcheck'], field + 'Healthcheck')
    if 'Mounts' in service:
        spec['Mounts'] = [mount(entry, '%sMounts[%d]' % (field, index), object_names.get('Volumes'))
                          for index, entry in enumerate(service['Mounts'])]
    if 'Secrets' in service:
        spec['Secrets'] = file_references(service['Secrets'], object_names['Secrets'], 'SecretName')
    if 'Configs' in service:
        spec['Configs'] = file_references(service['Configs'], object_names['Configs'], 'ConfigName')
    if 'CredentialSpec' in service:
        _add_credential_spec(spec, service['CredentialSpec'], object_names['Configs'])
    # The docker CLI always sends a Privileges object (see _task_template).
    spec.setdefault('Privileges', {})
    return spec


def _add_credential_spec(spec, given, config_names):
    """Privileges.CredentialSpec; a Config one also needs a Runtime reference to the config, as the CLI adds.

    Config carries the config's name here: the module puts its ID there (apply.with_object_ids).
    """
    credential = dict(given)
    if 'Config' in credential:
        credential['Config'] = config_names[given['Config']]
        spec.setdefault('Configs', []).append({'ConfigName': credential['Config'], 'Runtime': {}})
    spec['Privileges'] = {'CredentialSpec': credential}


def healthcheck(check, field):
    """ContainerSpec.Healthcheck; a string test runs in the shell, like a Dockerfile's HEALTHCHECK."""
    test = check.get('Test')
    if isinstance(test, str):
        test = ['CMD-SHELL', test]
    return _compact({
        'Test': test,
        'Interval': _duration(check.get('Interval'), field + '.Interval'),
        'Timeout': _duration(check.get('Timeout'), field + '.Timeout'),
        'Retries': check.get('Retries'),
        'StartPeriod': _duration(check.get('StartPeriod'), field + '.StartPeriod'),
        'StartInterval': _duration(check.get('StartInterval'), field + '.StartInterval'),
    })


def mount(entry, field, volumes=None):
    """One element of ContainerSpec.Mounts (the Engine API's Mount); `volumes` is stack_volumes' answer."""
    body = dict((key, plain_copy(entry[key])) for key in ('Type', 'Source', 'Target', 'ReadOnly', 'Consistency',
                                                          'BindOptions', 'VolumeOptions') if key in entry)
    if entry.get('Type') == 'volume' and entry.get('Source') in (volumes or {}):
        source, options = volumes[entry['Source']]
        body['Source'] = source
        # check.py keeps Labels and DriverConfig off such a mount: they are the volume's, in Volumes.
        merged = dict(body.get('VolumeOptions') or {}, **options)
        if merged:
            body['VolumeOptions'] = merged
    if 'TmpfsOptions' in entry:
        tmpfs = entry['TmpfsOptions']
        body['TmpfsOptions'] = _compact({'SizeBytes': _size(tmpfs.get('SizeBytes'), field + '.TmpfsOptions.SizeBytes'),
                                         'Mode': _file_mode(tmpfs.get('Mode'))})
    return body


def file_references(entries, object_names, name_key):
    """ContainerSpec.Secrets or .Configs: each a file in the container naming its object.

    The *ID key is left for the module, which knows the objects' IDs once they exist.
    """
    references = []
    for entry in entries:
        options = entry if isinstance(entry, dict) else {}
        uid, gid = options.get('UID'), options.get('GID')
        references.append({
            'File': {
                'Name': reference_target(entry),
                'UID': '0' if uid is None else str(uid),
                'GID': '0' if gid is None else str(gid),
                'Mode': DEFAULT_FILE_MODE if options.get('Mode') is None else _file_mode(options['Mode']),
            },
            name_key: object_names[reference_source(entry)],
        })
    return sorted(references, key=lambda reference: (reference[name_key], reference['File']['Name']))


def resources(given, field):
    """TaskTemplate.Resources: CPUs -> NanoCPUs, sizes -> bytes."""
    limits = given.get('Limits') or {}
    reservations = given.get('Reservations') or {}
    body = {}
    if limits:
        body['Limits'] = _compact({
            'NanoCPUs': _cpus(limits.get('CPUs'), field + '.Limits.CPUs'),
            'MemoryBytes': _size(limits.get('Memory'), field + '.Limits.Memory'),
            'Pids': limits.get('Pids'),
        })
    if reservations:
        body['Reservations'] = _compact({
            'NanoCPUs': _cpus(reservations.get('CPUs'), field + '.Reservations.CPUs'),
            'MemoryBytes': _size(reservations.get('Memory'), field + '.Reservations.Memory'),
            'GenericResources': _generic_resources(reservations.get('GenericResources')),
        })
    return body


def _cpus(value, field):
    return None if value is None else parse_cpus(value, field)


def _generic_resources(entries):
    if entries is None:
        return None
    # A count is a discrete resource (3 SSDs); a name is a named one (the GPU with this UUID).
    return [{'DiscreteResourceSpec' if isinstance(entry['Value'], int) else 'NamedResourceSpec':
             {'Kind': entry['Kind'], 'Value': entry['Value']}} for entry in entries]


def restart_policy(given, field):
    """TaskTemplate.RestartPolicy; Condition defaults to any, as in Docker."""
    return _compact({
        'Condition': given.get('Condition') or 'any',
        'Delay': _duration(given.get('Delay'), field + '.Delay'),
        'MaxAttempts': given.get('MaxAttempts'),
        'Window': _duration(given.get('Window'), field + '.Window'),
    })


def placement(given):
    """TaskTemplate.Placement."""
    return _compact({
        'Constraints': list(given['Constraints']) if 'Constraints' in given else None,
        'Preferences': [{'Spread': {'SpreadDescriptor': preference['Spread']}}
                        for preference in given['Preferences']] if 'Preferences' in given else None,
        'MaxReplicas': given.get('MaxReplicas'),
    })


def update_config(given, field):
    """UpdateConfig or RollbackConfig, with the docker CLI's defaults for what is left out.

    The Engine API reads a missing Parallelism as 0, "all tasks at once"; Docker's
    own default (and swarmkit's when the whole config is missing) is 1.
    """
    return _compact({
        'Parallelism': given.get('Parallelism', 1),
        'Delay': _duration(given.get('Delay'), field + '.Delay'),
        'FailureAction': given.get('FailureAction') or 'pause',
        'Monitor': _duration(given.get('Monitor'), field + '.Monitor'),
        'MaxFailureRatio': given.get('MaxFailureRatio'),
        'Order': given.get('Order') or 'stop-first',
    })


def mode_spec(service):
    """ServiceSpec.Mode of a bundle service, from its Mode or the Replicas shortcut (terms.replicas: the default)."""
    kind = mode_kind(service.get('Mode'))
    if kind == 'Replicated':
        count = service['Replicas'] if 'Replicas' in service else replicas(service.get('Mode'))
        return {'Replicated': {'Replicas': count}}
    given = service['Mode'][kind] or {}
    if kind == 'ReplicatedJob':
        concurrent = given.get('MaxConcurrent', 1)
        return {'ReplicatedJob': {'MaxConcurrent': concurrent, 'TotalCompletions': given.get('TotalCompletions', concurrent)}}
    return {kind: {}}


def _endpoint_spec(service):
    ports = [_compact({
        'Protocol': port.get('Protocol') or 'tcp',
        'TargetPort': port['Port'],
        'PublishedPort': port.get('PublishedPort'),
        'PublishMode': port.get('PublishMode') or 'ingress',
    }) for port in service.get('Ports') or []]
    endpoint = {'Mode': service.get('EndpointMode') or 'vip'}
    if ports:
        endpoint['Ports'] = ports
    return endpoint


def _attachments(name, service, network_names):
    """TaskTemplate.Networks; the short service name is an alias on each (Docker 1.12), after the aliases
    written, as docker stack deploy sends them (a different order would restart the tasks when the CLI and
    this module take turns; the comparison ignores the order)."""
    if service.get('HostNetwork'):
        return [{'Target': HOST_NETWORK}]
    attachments = []
    for entry in service.get('Networks') or []:
        options = entry if isinstance(entry, dict) else {}
        aliases = [alias for alias in options.get('Aliases') or [] if alias != name] + [name]
        attachment = {'Target': network_names[attachment_target(entry)], 'Aliases': aliases}
        if options.get('DriverOpts'):
            attachment['DriverOpts'] = dict(options['DriverOpts'])
        attachments.append(attachment)
    return attachments


# ---- comparing a live service with the desired one ----

# What swarmkit uses when a spec leaves these out (and what the docker CLI writes explicitly).
SECOND = 10 ** 9
DEFAULT_UPDATE_CONFIG = {'Parallelism': 1, 'Delay': 0, 'FailureAction': 'pause', 'Monitor': 5 * SECOND,
                         'MaxFailureRatio': 0, 'Order': 'stop-first'}
DEFAULT_RESTART_POLICY = {'Condition': 'any', 'Delay': 5 * SECOND, 'MaxAttempts': 0, 'Window': 0}
# Published ports the swarm assigns when a spec leaves PublishedPort out.
SWARM_ASSIGNED_PORTS = range(30000, 32768)
# Zero values that mean something: all at once, no grace, no restart delay.
_MEANINGFUL_ZEROS = ('UpdateConfig.Parallelism', 'RollbackConfig.Parallelism',
                     'TaskTemplate.ContainerSpec.StopGracePeriod', 'TaskTemplate.RestartPolicy.Delay')
# Maps whose keys are data, not fields: compared as one value.
_WHOLE_VALUES = ('Mode', 'Labels', 'Options', 'Sysctls', 'DriverOpts')


def service_changes(live_spec, desired_spec, network_names=None):
    """The fields where the live ServiceSpec differs from the desired one: [(path, before, after)].

    `live_spec` is .Spec of GET /services/{id}. Values the engine fills in or
    drops do not count (see comparable_service_spec). The engine stores network
    IDs where the desired spec names networks: `network_names` maps those IDs to
    names (the host network's too, for HostNetwork services).
    """
    live = comparable_service_spec(live_spec, network_names)
    desired = comparable_service_spec(desired_spec, network_names)
    _forget_swarm_choices(live, desired)
    before, after = _fields(live), _fields(desired)
    return [(path, before.get(path), after.get(path)) for path in sorted(set(before) | set(after))
            if before.get(path) != after.get(path)]


def comparable_service_spec(spec, network_names=None):
    """A ServiceSpec with defaults made explicit, IDs and counters dropped, sets sorted, empties removed."""
    spec = plain_copy(spec or {})
    template = spec.setdefault('TaskTemplate', {})
    container = template.setdefault('ContainerSpec', {})
    _move_networks(spec, template, network_names or {})
    template.pop('ForceUpdate', None)  # a counter the module carries over, not a setting
    if template.get('Runtime') == 'container':
        del template['Runtime']
    _fill_defaults(spec, template, container)
    _sort_sets(template, container)
    _same_as_cli(spec, container)
    return _without_empties(spec, '')


def _same_as_cli(spec, container):
    """Forget what `docker stack deploy` writes differently but means the same (a takeover restarts nothing)."""
    (spec.get('Labels') or {}).pop(CLI_IMAGE_LABEL, None)
    if container.get('Image'):
        container['Image'] = tagged_image(container['Image'])
    env = container.get('Env') or []
    # Env order only matters when a variable is set twice (the last wins); the CLI sorts it.
    if len(set(item.split('=', 1)[0] for item in env)) == len(env):
        container['Env'] = sorted(env)
    endpoint = spec.get('EndpointSpec') or {}
    if endpoint.get('Ports'):
        endpoint['Ports'] = sorted(endpoint['Ports'], key=lambda port: (
            port.get('TargetPort') or 0, str(port.get('Protocol')), port.get('PublishedPort') or 0,
            str(port.get('PublishMode'))))


def tagged_image(image):
    """An image reference as the docker client sends it: short Docker Hub name, `:latest` when neither tag nor digest.

    `busybox`, `busybox:latest`, `docker.io/library/busybox` all give `busybox:latest` (the Engine API
    client adds the tag, the CLI's reference.FamiliarString(TagNameOnly(...))). Not a reference: kept.
    """
    name, at, digest = image.partition('@')
    slash = name.rfind('/')
    colon = name.rfind(':')
    tag = ''
    if colon > slash:
        name, tag = name[:colon], name[colon + 1:]
    first, dummy, rest = name.partition('/')
    if rest and first in (DOCKER_HUB, 'index.' + DOCKER_HUB):
        name = rest
    elif rest and ('.' in first or ':' in first or first == 'localhost'):
        first = None  # another registry: written as is
    if first is not None and name.startswith('library/') and name.count('/') == 1:
        name = name[len('library/'):]
    if not name or name != name.lower():
        return image
    if tag:
        name += ':' + tag
    elif not at:
        name += ':latest'
    return name + at + digest


def _move_networks(spec, template, network_names):
    # Clients before API 1.25 (Docker 1.12's `docker deploy`) put networks on the service itself.
    if not template.get('Networks') and spec.get('Networks'):
        template['Networks'] = spec['Networks']
    spec.pop('Networks', None)
    for attachment in template.get('Networks') or []:
        attachment['Target'] = network_names.get(attachment.get('Target'), attachment.get('Target'))
        if attachment.get('Aliases'):
            attachment['Aliases'] = sorted(attachment['Aliases'])


def _fill_defaults(spec, template, container):
    spec['Mode'] = _comparable_mode(spec.get('Mode'))
    for key in ('UpdateConfig', 'RollbackConfig'):
        spec[key] = _with_defaults(spec.get(key), DEFAULT_UPDATE_CONFIG, ('FailureAction', 'Monitor', 'Order'))
    template['RestartPolicy'] = _with_defaults(template.get('RestartPolicy'), DEFAULT_RESTART_POLICY, ('Condition',))
    for key in CONTAINER_KEYS:
        if key.default is not None:
            container.setdefault(key.api, key.default)
    endpoint = spec.setdefault('EndpointSpec', {})
    endpoint['Mode'] = endpoint.get('Mode') or 'vip'
    for port in endpoint.get('Ports') or []:
        port['Protocol'] = port.get('Protocol') or 'tcp'
        port['PublishMode'] = port.get('PublishMode') or 'ingress'


def _with_defaults(given, defaults, unset_when_empty):
    """`given` completed from `defaults`; the keys in `unset_when_empty` also take the default when "" or 0."""
    merged = dict(defaults, **(given or {}))
    for key in unset_when_empty:
        merged[key] = merged[key] or defaults[key]
    return merged


def _comparable_mode(mode):
    kind = mode_kind(mode)
    if kind == 'Replicated':
        return {'Replicated': {'Replicas': replicas(mode)}}
    mode = plain_copy(mode)
    if kind == 'ReplicatedJob':
        job = mode['ReplicatedJob'] or {}
        concurrent = job.get('MaxConcurrent') or 1
        mode['ReplicatedJob'] = {'MaxConcurrent': concurrent, 'TotalCompletions': job.get('TotalCompletions') or concurrent}
    return mode


def _sort_sets(template, container):
    """Sort the lists whose order means nothing, so a reordering is not a change."""
    template['Networks'] = sorted(template.get('Networks') or [], key=lambda attachment: str(attachment.get('Target')))
    for key, name_key, id_key in (('Secrets', 'SecretName', 'SecretID'), ('Configs', 'ConfigName', 'ConfigID')):
        # The live reference also carries the object's ID; the name identifies it as well.
        references = [dict((field, value) for field, value in reference.items() if field != id_key)
                      for reference in container.get(key) or []]
        container[key] = sorted(references, key=lambda reference: (str(reference.get(name_key)), str(reference.get('File'))))
    container['Mounts'] = sorted((_comparable_mount(entry) for entry in container.get('Mounts') or []),
                                 key=lambda entry: str(entry.get('Target')))
    for key in ('CapabilityAdd', 'CapabilityDrop'):
        container[key] = sorted(container.get(key) or [])
    placement_spec = template.get('Placement') or {}
    if placement_spec.get('Constraints'):
        placement_spec['Constraints'] = sorted(placement_spec['Constraints'])


def _comparable_mount(entry):
    # The engine stores "consistent" as the default consistency and shows neither.
    if entry.get('Consistency') in ('consistent', 'default'):
        entry = dict((key, value) for key, value in entry.items() if key != 'Consistency')
    return entry


def _without_empties(value, path):
    """`value` without None, "", False, 0, [] and {} (what the Engine API omits), keeping meaningful zeros and Mode."""
    if path == 'Mode':
        return value
    if isinstance(value, dict):
        kept = {}
        for key, item in value.items():
            child_path = '%s.%s' % (path, key) if path else key
            item = _without_empties(item, child_path)
            if child_path in _MEANINGFUL_ZEROS and item == 0 and not isinstance(item, bool):
                kept[key] = item
            elif item not in (None, '', False, 0, [], {}):
                kept[key] = item
        return kept
    if isinstance(value, list):
        return [_without_empties(item, path) for item in value]
    return value


def _forget_swarm_choices(live, desired):
    """Drop from `live` what the swarm chose because the desired spec left it open."""
    desired_ports = (desired.get('EndpointSpec') or {}).get('Ports') or []
    open_ports = set((port.get('TargetPort'), port.get('Protocol'), port.get('PublishMode'))
                     for port in desired_ports if not port.get('PublishedPort'))
    for port in (live.get('EndpointSpec') or {}).get('Ports') or []:
        key = (port.get('TargetPort'), port.get('Protocol'), port.get('PublishMode'))
        if key in open_ports and port.get('PublishedPort') in SWARM_ASSIGNED_PORTS:
            del port['PublishedPort']
    # The docker CLI pins the image's platforms when it resolves a digest; we never ask for any.
    live_placement = (live.get('TaskTemplate') or {}).get('Placement') or {}
    if 'Platforms' not in ((desired.get('TaskTemplate') or {}).get('Placement') or {}):
        live_placement.pop('Platforms', None)
        if not live_placement:
            live.get('TaskTemplate', {}).pop('Placement', None)


def _fields(value, path=''):
    """{dotted path: value}: nested mappings flattened, lists and data maps kept whole."""
    if not isinstance(value, dict) or not value or path.rsplit('.', 1)[-1] in _WHOLE_VALUES:
        return {path: value}
    flat = {}
    for key, item in value.items():
        flat.update(_fields(item, '%s.%s' % (path, key) if path else key))
    return flat


# ---- showing changes ----

_DURATION_FIELDS = ('Delay', 'Monitor', 'Window', 'Interval', 'Timeout', 'StartPeriod', 'StartInterval') + tuple(
    key.api for key in CONTAINER_KEYS if key.kind == DURATION_KIND)
_SIZE_FIELDS = ('MemoryBytes',)
HIDDEN = '<hidden>'


def diff_for_display(changes_by_service):
    """{'before': {service: {path: value}}, 'after': {...}} for Ansible's diff; secret data never shown."""
    before, after = {}, {}
    for service, changes in sorted(changes_by_service.items()):
        before[service] = dict((path, _displayed(path, old)) for path, old, dummy in changes)
        after[service] = dict((path, _displayed(path, new)) for path, dummy, new in changes)
    return {'before': before, 'after': after}


def _displayed(path, value):
    field = path.rsplit('.', 1)[-1]
    if isinstance(value, int) and not isinstance(value, bool):
        if field in _DURATION_FIELDS:
            return format_duration(value)
        if field in _SIZE_FIELDS:
            return format_size(value)
    return _hide_data(value)


def _hide_data(value):
    if isinstance(value, dict):
        return dict((key, HIDDEN if key == 'Data' else _hide_data(item)) for key, item in value.items())
    if isinstance(value, list):
        return [_hide_data(item) for item in value]
    return value
