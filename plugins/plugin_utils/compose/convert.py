# Copyright: crane.swarm developers
# GNU General Public License v3.0+ (see https://www.gnu.org/licenses/gpl-3.0.txt)
"""Turn one merged, interpolated compose mapping into an extended DAB bundle, as `docker stack deploy -c` reads it.

The compose file is read into the project's one model (the bundle) so that checking, translation, diff
and wait stay one path. The meaning follows docker/cli: cli/compose/loader/loader.go for the short
syntaxes, cli/compose/convert/service.go, compose.go and volume.go for what reaches the service spec.
Each compose service key is declared once, in SERVICE_KEYS (compose key -> converter); a key the bundle
cannot express yet is refused with a ComposeError (UNSUPPORTED_KEYS), never dropped; a key Swarm ignores
(IGNORED_KEYS) goes into the notes, as the CLI prints "Ignoring unsupported options: ...".

`env_file` hook: the caller (the loader) reads the files; it passes their contents as
`env_file_values: {service: {KEY: value or None}}`. Without it, a service with `env_file` is refused.
"""

from __future__ import annotations

import ipaddress
import json
import re
import shlex

from ansible_collections.crane.swarm.plugins.module_utils.common.plain_data import short_repr
from ansible_collections.crane.swarm.plugins.module_utils.stacks import container_keys
from ansible_collections.crane.swarm.plugins.module_utils.stacks.spec import CLI_IMAGE_LABEL, scoped_name, tagged_image
from ansible_collections.crane.swarm.plugins.module_utils.stacks.terms import attachment_target
from ansible_collections.crane.swarm.plugins.plugin_utils.bundle.check import check_bundle, json_path
from ansible_collections.crane.swarm.plugins.plugin_utils.compose.errors import ComposeError

# Keys Swarm ignores: the CLI prints "Ignoring unsupported options: ..." (or "deprecated") and deploys.
IGNORED_KEYS = frozenset((
    'build', 'cgroup_parent', 'cgroupns_mode', 'container_name', 'depends_on', 'devices', 'domainname',
    'expose', 'external_links', 'ipc', 'links', 'mac_address', 'network_mode', 'pid', 'privileged',
    'restart', 'security_opt', 'shm_size', 'userns_mode', 'profiles', 'pull_policy',
))

# Keys the bundle cannot express yet (issue 12): refused, so nothing is deployed differently from the CLI.
UNSUPPORTED_KEYS = frozenset()

# Keys the docker CLI's compose schema refuses ("Additional property group_add is not allowed", measured with
# docker 28.2): refused here too, so a file deploys with crane only when it deploys with the CLI.
CLI_REFUSED_KEYS = {
    'group_add': 'the docker CLI refuses it in a stack file; write Groups in a bundle (docker service create --group)',
}

# Differences from the CLI's spec that this conversion cannot remove without changing the bundle schema.
KNOWN_DIFFERENCES = (
    ('secret/config names', 'without `name:`, the CLI names a stack secret or config <stack>_<name>; the bundle '
                            'translation adds a content hash (<stack>_<name>_<hash>); swarm_stack keeps the CLI\'s '
                            'config or secret when its content is the same (a secret by an update the engine accepts '
                            'only for the same data); with `name:` both use the name as written'),
    ('ports host_ip', 'the CLI drops the host IP of "127.0.0.1:8080:80" for a service (swarm publishes on all '
                      'addresses); so does this conversion, with a note'),
    ('oom_score_adj', 'docker stack config (CLI 28.2) prints nothing of it, and docker stack deploy sent nothing to '
                      'an engine 20.10 (measured); crane sends it as OomScoreAdj and refuses it before deploying '
                      'when the engine is older than API 1.46'),
)

# Service keys whose lists the CLI's schema (uniqueItems) refuses with a repeated item.
UNIQUE_ITEM_KEYS = frozenset((
    'cap_add', 'cap_drop', 'group_add', 'ports', 'dns', 'dns_search', 'env_file', 'tmpfs', 'networks',
    'environment', 'labels', 'sysctls', 'extra_hosts',
))

_NOT_YET = 'is not supported yet by crane.swarm (the bundle cannot express it); remove it or deploy with the docker CLI'


def _path(*parts):
    return '.'.join(str(part) for part in parts)


def _fail(path, message):
    raise ComposeError(path, message)


def _expect(value, kinds, path, what):
    if isinstance(value, bool) and bool not in kinds:
        _fail(path, 'expected %s, got %s' % (what, short_repr(value)))
    if not isinstance(value, kinds):
        _fail(path, 'expected %s, got %s' % (what, short_repr(value)))
    return value


def _string(value, path):
    return _expect(value, (str,), path, 'a string')


def _text(value, path):
    """A scalar written where the CLI takes a string (YAML may have made it a number or boolean)."""
    if isinstance(value, bool):
        return 'true' if value else 'false'
    return str(_expect(value, (str, int, float), path, 'a string'))


def _boolean(value, path):
    return _expect(value, (bool,), path, 'true or false')


def _integer(value, path, minimum=0):
    if isinstance(value, str) and value.strip().isdigit():
        value = int(value)
    _expect(value, (int,), path, 'an integer')
    if value < minimum:
        _fail(path, 'expected an integer of at least %d, got %s' % (minimum, value))
    return value


# A Go duration as the CLI's schema reads compose durations (format "duration": time.ParseDuration), a string.
_GO_DURATION = re.compile(r'[-+]?(0|(([0-9]+(\.[0-9]*)?|\.[0-9]+)(ns|us|\u00b5s|\u03bcs|ms|s|m|h))+)')


def _duration(value, path):
    text = _expect(value, (str,), path, 'a duration such as "10s" or "1m30s" (a string)')
    if not _GO_DURATION.fullmatch(text):
        _fail(path, 'expected a duration such as "10s" or "1m30s" (a number needs a unit), got %s' % short_repr(text))
    return text


def _string_list(value, path):
    _expect(value, (list,), path, 'a list of strings')
    return [_text(item, _path(path, index)) for index, item in enumerate(value)]


def _string_or_list(value, path):
    return [value] if isinstance(value, str) else _string_list(value, path)


def _shell_words(value, path):
    """command/entrypoint: a string is split like a shell (the CLI's shellwords), a list is taken as is."""
    if isinstance(value, str):
        try:
            return shlex.split(value)
        except ValueError as error:
            _fail(path, 'cannot split the command like a shell (%s); close the quote or write a list' % error)
    return _string_list(value, path)


def _key_values(value, path, keep_bare=False):
    """environment, labels, sysctls, driver options: a map, or a list of "KEY=value" (loader.go)."""
    pairs = {}
    if isinstance(value, dict):
        for key, item in value.items():
            key = _text(key, path)
            pairs[key] = None if item is None else _text(item, _path(path, key))
    elif isinstance(value, list):
        for index, item in enumerate(value):
            key, sep, rest = _text(item, _path(path, index)).partition('=')
            if not key:
                _fail(_path(path, index), 'expected "KEY=value", got %s' % short_repr(item))
            pairs[key] = rest if sep else None
    else:
        _fail(path, 'expected a mapping or a list of "KEY=value", got %s' % short_repr(value))
    if not keep_bare:
        return {key: '' if item is None else item for key, item in pairs.items()}
    return pairs


def resolved_environment(value, path, variables):
    """A service's `environment` (list or mapping) as a mapping, its unset values taken from `variables`.

    A KEY without a value or with an empty one takes the variable of that name when it is set, as
    the CLI's loader takes it from its process environment, file by file before merging (measured:
    A, A= and A: "" all give A=a when A=a); otherwise it stays as written (None for bare, or "").
    """
    pairs = _key_values(value, path, keep_bare=True)
    return dict((key, variables.get(key, item) if item in (None, '') else item) for key, item in pairs.items())


def _environment(value, path, variables):
    # convertEnvironment: "KEY=value" (a bare KEY without value), sorted.
    resolved = resolved_environment(value, path, variables)
    return sorted(key if item is None else '%s=%s' % (key, item) for key, item in resolved.items())


def _port_range(text, path, lowest=1):
    first, _sep, last = text.partition('-')
    if not first.isdigit() or (last and not last.isdigit()):
        _fail(path, 'expected a port or a range such as "8080-8081", got %s' % short_repr(text))
    start, end = int(first), int(last or first)
    if not lowest <= start <= end <= 65535:
        _fail(path, 'expected ports from %d to 65535 in increasing order, got %s' % (lowest, short_repr(text)))
    return list(range(start, end + 1))


def _short_ports(text, path, notes):
    """"[ip:][published[-range]:]target[-range][/protocol]", as nat.ParsePortSpec reads it.

    As measured with `docker stack config` (CLI 28.2): the protocol is case-insensitive; published 0
    means none (the swarm assigns one); a published range with one target publishes each port of the
    range to that target, a target range needs a published range of the same length.
    """
    spec, _sep, protocol = text.partition('/')
    protocol = protocol.lower() or 'tcp'
    if protocol not in ('tcp', 'udp', 'sctp'):
        _fail(path, 'expected protocol tcp, udp or sctp, got %s' % short_repr(protocol))
    parts = spec.rsplit(':', 2)
    if len(parts) == 3:
        host_ip = parts[0][1:-1] if parts[0].startswith('[') and parts[0].endswith(']') else parts[0]
        try:
            ipaddress.ip_address(host_ip)
        except ValueError:
            _fail(path, 'expected an IP address before the published port, got %s' % short_repr(parts[0]))
        notes.append('%s: the host IP %s is ignored by swarm (as by the CLI)' % (path, parts[0]))
    targets = _port_range(parts[-1], path)
    published = _port_range(parts[-2], path, lowest=0) if len(parts) >= 2 and parts[-2] else None
    if published is not None and len(published) != len(targets):
        if len(targets) == 1:
            targets = targets * len(published)
        else:
            _fail(path, 'a range of target ports needs a published range of the same length: %s' % short_repr(text))
    ports = []
    for index, target in enumerate(targets):
        port = {'Port': target, 'Protocol': protocol, 'PublishMode': 'ingress'}
        if published is not None and published[index]:
            port['PublishedPort'] = published[index]
        ports.append(port)
    return ports


def _ports(value, path, notes):
    _expect(value, (list,), path, 'a list of ports')
    ports = []
    for index, item in enumerate(value):
        where = _path(path, index)
        if isinstance(item, (str, int)) and not isinstance(item, bool):
            ports.extend(_short_ports(str(item), where, notes))
            continue
        item = _mapping(item, where)
        _known(item, ('target', 'published', 'protocol', 'mode', 'host_ip', 'name', 'app_protocol'), where)
        if 'target' not in item:
            _fail(where, 'a port needs `target`, the port inside the container')
        port = {'Port': _integer(item['target'], _path(where, 'target'), 1),
                'Protocol': _choice(item.get('protocol', 'tcp'), ('tcp', 'udp', 'sctp'), _path(where, 'protocol')),
                'PublishMode': _choice(item.get('mode', 'ingress'), ('ingress', 'host'), _path(where, 'mode'))}
        if item.get('published') is not None:
            port['PublishedPort'] = _integer(item['published'], _path(where, 'published'), 1)
        ports.append(port)
    return {'Ports': ports}


def _choice(value, choices, path):
    if value not in choices:
        _fail(path, 'expected one of %s, got %s' % (', '.join(choices), short_repr(value)))
    return value


def _mapping(value, path):
    return _expect(value, (dict,), path, 'a mapping')


def _known(mapping, keys, path):
    for key in mapping:
        if key not in keys:
            _fail(_path(path, key), 'unknown key; expected one of %s' % ', '.join(keys))


class _Context:
    """What converters of one service need beyond its own value."""

    def __init__(self, stack, project, name, variables=None):
        self.stack = stack
        self.variables = variables or {}
        self.project = project
        self.name = name
        self.notes = []
        self.origins = {}  # bundle key -> the compose path that set it, to name it in errors


def _volume_source(source, context, path):
    # The bundle's Volumes give the mount what convert/volume.go does (<stack>_<name> or name, labels, driver).
    volumes = context.project.get('volumes') or {}
    if source not in volumes:
        _fail(path, 'volume %s is not declared under the top-level `volumes:`; declare it' % short_repr(source))
    return source


def _short_volume(text, context, path):
    # Split as the CLI's loader splits it (measured): a third colon belongs to the mode, which it then ignores.
    parts = text.split(':', 2)
    if len(parts) == 1:
        if not text.startswith('/'):
            _fail(path, 'the target %s must be an absolute path in the container' % short_repr(text))
        return {'Type': 'volume', 'Target': parts[0]}
    source, target = parts[0], parts[1]
    options = parts[2].split(',') if len(parts) == 3 else []
    if not target.startswith('/'):
        # The CLI's loader lets it through; the engine then refuses every task of the service.
        _fail(path, 'the target %s must be an absolute path in the container' % short_repr(target))
    mount = {'Target': target}
    if source.startswith(('/', '.', '~')):
        mount['Type'] = 'bind'
        mount['Source'] = source
    else:
        mount['Type'] = 'volume'
        mount['Source'] = _volume_source(source, context, path)
    # As the CLI's loader reads the mode (measured, docker stack config of CLI 28.2): the last of ro/rw
    # wins; an option it does not know (z, Z, ...) is ignored, so here it is ignored with a note; deploy
    # then refuses nocopy on a bind mount and a propagation on a volume, and so does this.
    for option in options:
        if option in ('ro', 'rw'):
            mount['ReadOnly'] = option == 'ro'
        elif option == 'nocopy':
            if mount['Type'] != 'volume':
                _fail(path, 'nocopy applies to volumes, and %s is a bind mount; remove it' % short_repr(source))
            mount['VolumeOptions'] = {'NoCopy': True}
        elif option in ('private', 'rprivate', 'shared', 'rshared', 'slave', 'rslave'):
            if mount['Type'] != 'bind':
                _fail(path, 'propagation %s applies to bind mounts, and %s is a volume; remove it' % (
                    option, short_repr(source)))
            mount['BindOptions'] = {'Propagation': option}
        else:
            context.notes.append('%s: volume option %s ignored, as docker stack deploy ignores it'
                                 % (path, short_repr(option)))
    if not mount.get('ReadOnly'):
        mount.pop('ReadOnly', None)
    return mount


def _long_volume(item, context, path):
    _known(item, ('type', 'source', 'target', 'read_only', 'bind', 'volume', 'tmpfs', 'consistency'), path)
    kind = _choice(item.get('type'), ('bind', 'volume', 'tmpfs'), _path(path, 'type'))
    if 'target' not in item:
        _fail(path, 'a mount needs `target`, the path in the container')
    mount = {'Type': kind, 'Target': _string(item['target'], _path(path, 'target'))}
    if item.get('source') is not None:
        source = _string(item['source'], _path(path, 'source'))
        if kind == 'tmpfs':
            _fail(_path(path, 'source'), 'a tmpfs mount has no source; remove it')
        mount['Source'] = _volume_source(source, context, _path(path, 'source')) if kind == 'volume' else source
    if 'read_only' in item:
        mount['ReadOnly'] = _boolean(item['read_only'], _path(path, 'read_only'))
    if item.get('bind') is not None:
        bind = _mapping(item['bind'], _path(path, 'bind'))
        _known(bind, ('propagation',), _path(path, 'bind'))
        if 'propagation' in bind:
            mount['BindOptions'] = {'Propagation': _choice(
                bind['propagation'], ('private', 'rprivate', 'shared', 'rshared', 'slave', 'rslave'),
                _path(path, 'bind', 'propagation'))}
    if item.get('volume') is not None:
        volume = _mapping(item['volume'], _path(path, 'volume'))
        _known(volume, ('nocopy',), _path(path, 'volume'))
        if 'nocopy' in volume:
            mount['VolumeOptions'] = {'NoCopy': _boolean(volume['nocopy'], _path(path, 'volume', 'nocopy'))}
    if item.get('tmpfs') is not None:
        tmpfs = _mapping(item['tmpfs'], _path(path, 'tmpfs'))
        _known(tmpfs, ('size', 'mode'), _path(path, 'tmpfs'))
        options = {}
        if 'size' in tmpfs:
            options['SizeBytes'] = _expect(tmpfs['size'], (int, str), _path(path, 'tmpfs', 'size'), 'a size')
        if 'mode' in tmpfs:
            options['Mode'] = _integer(tmpfs['mode'], _path(path, 'tmpfs', 'mode'))
        mount['TmpfsOptions'] = options
    return mount


def _volumes(value, path, context):
    _expect(value, (list,), path, 'a list of volumes')
    mounts = []
    for index, item in enumerate(value):
        where = _path(path, index)
        if isinstance(item, str):
            mounts.append(_short_volume(item, context, where))
        else:
            mounts.append(_long_volume(_mapping(item, where), context, where))
    return {'Mounts': mounts}


def _networks(value, path, context):
    declared = context.project.get('networks') or {}
    attachments = []
    if isinstance(value, list):
        entries = [(_string(item, _path(path, index)), None) for index, item in enumerate(value)]
    else:
        entries = list(_mapping(value, path).items())
    for name, options in entries:
        where = _path(path, name)
        if name not in declared and name != 'default':
            _fail(where, 'network %s is not declared under the top-level `networks:`; declare it' % short_repr(name))
        attachment = {'Target': name}
        if options is not None:
            options = _mapping(options, where)
            _known(options, ('aliases', 'driver_opts'), where)
            if 'aliases' in options:
                attachment['Aliases'] = _string_list(options['aliases'], _path(where, 'aliases'))
            if 'driver_opts' in options:
                attachment['DriverOpts'] = _key_values(options['driver_opts'], _path(where, 'driver_opts'))
        attachments.append(attachment if len(attachment) > 1 else name)
    return {'Networks': attachments}


def _file_references(kind):
    def convert(value, path, context):
        declared = context.project.get(kind) or {}
        references = []
        for index, item in enumerate(_expect(value, (list,), path, 'a list')):
            where = _path(path, index)
            if isinstance(item, str):
                item = {'source': item}
            item = _mapping(item, where)
            _known(item, ('source', 'target', 'uid', 'gid', 'mode'), where)
            source = _string(item.get('source'), _path(where, 'source'))
            if source not in declared:
                _fail(where, '%s %s is not declared under the top-level `%s:`; declare it' % (
                    kind[:-1], short_repr(source), kind))
            reference = {'Source': source}
            if 'target' in item:
                reference['Target'] = _string(item['target'], _path(where, 'target'))
            for key, bundle_key in (('uid', 'UID'), ('gid', 'GID')):
                if key in item:
                    reference[bundle_key] = _text(item[key], _path(where, key))
            if 'mode' in item:
                reference['Mode'] = _integer(item['mode'], _path(where, 'mode'))
            references.append(reference)
        return {kind.capitalize(): references}
    return convert


def _healthcheck(value, path, _context):
    value = _mapping(value, path)
    _known(value, ('test', 'interval', 'timeout', 'retries', 'start_period', 'disable', 'start_interval'), path)
    if value.get('disable'):
        if value.get('test'):
            _fail(path, "test and disable can't be set at the same time (convertHealthcheck); remove one")
        return {'Healthcheck': {'Test': ['NONE']}}
    check = {}
    if 'test' in value:
        test = value['test']
        # loader.go: a string test is CMD-SHELL.
        check['Test'] = ['CMD-SHELL', test] if isinstance(test, str) else _string_list(test, _path(path, 'test'))
        if not check['Test']:
            _fail(_path(path, 'test'), 'expected a command; to turn the check off write `disable: true`')
    for key, bundle_key in (('interval', 'Interval'), ('timeout', 'Timeout'), ('start_period', 'StartPeriod'),
                            ('start_interval', 'StartInterval')):
        if key in value:
            check[bundle_key] = _duration(value[key], _path(path, key))
    if 'retries' in value:
        check['Retries'] = _integer(value['retries'], _path(path, 'retries'))
    return {'Healthcheck': check}


def _update_config(bundle_key, failure_actions):
    def convert(value, path):
        value = _mapping(value, path)
        _known(value, ('parallelism', 'delay', 'failure_action', 'monitor', 'max_failure_ratio', 'order'), path)
        config = {}
        if 'parallelism' in value:
            config['Parallelism'] = _integer(value['parallelism'], _path(path, 'parallelism'))
        for key, key_out in (('delay', 'Delay'), ('monitor', 'Monitor')):
            if key in value:
                config[key_out] = _duration(value[key], _path(path, key))
        if 'failure_action' in value:
            config['FailureAction'] = _choice(value['failure_action'], failure_actions, _path(path, 'failure_action'))
        if 'max_failure_ratio' in value:
            ratio = _expect(value['max_failure_ratio'], (int, float), _path(path, 'max_failure_ratio'), 'a number')
            if not 0 <= ratio <= 1:
                _fail(_path(path, 'max_failure_ratio'), 'expected a fraction from 0 to 1, got %s' % ratio)
            config['MaxFailureRatio'] = ratio
        if 'order' in value:
            config['Order'] = _choice(value['order'], ('stop-first', 'start-first'), _path(path, 'order'))
        return {bundle_key: config}
    return convert


def _restart_policy(value, path):
    value = _mapping(value, path)
    _known(value, ('condition', 'delay', 'max_attempts', 'window'), path)
    policy = {}
    if 'condition' in value:
        policy['Condition'] = _choice(value['condition'], ('none', 'on-failure', 'any'), _path(path, 'condition'))
    for key, key_out in (('delay', 'Delay'), ('window', 'Window')):
        if key in value:
            policy[key_out] = _duration(value[key], _path(path, key))
    if 'max_attempts' in value:
        policy['MaxAttempts'] = _integer(value['max_attempts'], _path(path, 'max_attempts'))
    return {'RestartPolicy': policy}


def _cpus(value, path):
    if isinstance(value, (int, float)) and not isinstance(value, bool):
        return value
    return _string(value, path)


def _resources(value, path):
    value = _mapping(value, path)
    _known(value, ('limits', 'reservations'), path)
    resources = {}
    if value.get('limits') is not None:
        limits = _mapping(value['limits'], _path(path, 'limits'))
        _known(limits, ('cpus', 'memory', 'pids'), _path(path, 'limits'))
        out = {}
        if 'cpus' in limits:
            out['CPUs'] = _cpus(limits['cpus'], _path(path, 'limits', 'cpus'))
        if 'memory' in limits:
            out['Memory'] = _expect(limits['memory'], (int, str), _path(path, 'limits', 'memory'), 'a size')
        if 'pids' in limits:
            out['Pids'] = _integer(limits['pids'], _path(path, 'limits', 'pids'))
        resources['Limits'] = out
    if value.get('reservations') is not None:
        where = _path(path, 'reservations')
        reservations = _mapping(value['reservations'], where)
        _known(reservations, ('cpus', 'memory', 'generic_resources'), where)
        out = {}
        if 'cpus' in reservations:
            out['CPUs'] = _cpus(reservations['cpus'], _path(where, 'cpus'))
        if 'memory' in reservations:
            out['Memory'] = _expect(reservations['memory'], (int, str), _path(where, 'memory'), 'a size')
        if 'generic_resources' in reservations:
            generic = []
            for index, item in enumerate(_expect(reservations['generic_resources'], (list,),
                                                 _path(where, 'generic_resources'), 'a list')):
                at = _path(where, 'generic_resources', index)
                spec = _mapping(_mapping(item, at).get('discrete_resource_spec'), _path(at, 'discrete_resource_spec'))
                generic.append({'Kind': _string(spec.get('kind'), _path(at, 'discrete_resource_spec', 'kind')),
                                'Value': _integer(spec.get('value'), _path(at, 'discrete_resource_spec', 'value'))})
            out['GenericResources'] = generic
        resources['Reservations'] = out
    return {'Resources': resources}


def _placement(value, path):
    value = _mapping(value, path)
    _known(value, ('constraints', 'preferences', 'max_replicas_per_node'), path)
    placement = {}
    if 'constraints' in value:
        placement['Constraints'] = _string_list(value['constraints'], _path(path, 'constraints'))
    if 'preferences' in value:
        preferences = []
        for index, item in enumerate(_expect(value['preferences'], (list,), _path(path, 'preferences'), 'a list')):
            at = _path(path, 'preferences', index)
            preferences.append({'Spread': _string(_mapping(item, at).get('spread'), _path(at, 'spread'))})
        placement['Preferences'] = preferences
    if 'max_replicas_per_node' in value:
        placement['MaxReplicas'] = _integer(value['max_replicas_per_node'], _path(path, 'max_replicas_per_node'))
    return {'Placement': placement}


def _deploy(value, path, _context):
    value = _mapping(value, path)
    result = {}
    mode = value.get('mode', 'replicated')
    _choice(mode, ('replicated', 'global', 'replicated-job', 'global-job'), _path(path, 'mode'))
    replicas = _integer(value['replicas'], _path(path, 'replicas')) if value.get('replicas') is not None else None
    if mode == 'global':
        result['Mode'] = {'Global': {}}
    elif mode == 'global-job':
        result['Mode'] = {'GlobalJob': {}}
    elif mode == 'replicated-job':
        # convertServiceMode: replicas sets both MaxConcurrent and TotalCompletions.
        job = {} if replicas is None else {'MaxConcurrent': replicas, 'TotalCompletions': replicas}
        result['Mode'] = {'ReplicatedJob': job}
    else:
        result['Mode'] = {'Replicated': {'Replicas': 1 if replicas is None else replicas}}
    if replicas is not None and mode in ('global', 'global-job'):
        _fail(_path(path, 'replicas'), 'replicas cannot be set with mode %s; remove one' % mode)
    converters = {
        'endpoint_mode': lambda v, p: {'EndpointMode': _choice(v, ('vip', 'dnsrr'), p)},
        'labels': lambda v, p: {'Labels': _key_values(v, p)},
        'placement': _placement,
        'resources': _resources,
        'restart_policy': _restart_policy,
        'update_config': _update_config('UpdateConfig', ('continue', 'pause', 'rollback')),
        'rollback_config': _update_config('RollbackConfig', ('continue', 'pause')),
    }
    for key, item in value.items():
        if key in ('mode', 'replicas'):
            continue
        if key not in converters:
            _fail(_path(path, key), 'unknown deploy key; expected one of mode, replicas, %s' % ', '.join(converters))
        if item is not None:
            result.update(converters[key](item, _path(path, key)))
    return result


def _logging(value, path, _context):
    value = _mapping(value, path)
    _known(value, ('driver', 'options'), path)
    driver = {}
    # Without `driver` the CLI sends Name "": the engine's default driver, with these options.
    if value.get('driver') is not None:
        driver['Name'] = _string(value['driver'], _path(path, 'driver'))
    if value.get('options') is not None:
        driver['Options'] = _key_values(value['options'], _path(path, 'options'))
    # Neither: the CLI's empty Driver is what the engine stores for none.
    return {'LogDriver': driver} if driver else {}


def _oom_score_adj(value, path, _context):
    if isinstance(value, str) and value.strip().lstrip('-').isdigit():
        value = int(value)
    _expect(value, (int,), path, 'an integer')
    if not -1000 <= value <= 1000:
        _fail(path, 'expected an integer from -1000 to 1000, got %s' % value)
    return {'OomScoreAdj': value}


def _credential_spec(value, path, context):
    """convertCredentialSpec: exactly one of config, file, registry; a config must be a declared one."""
    value = _mapping(value, path)
    _known(value, ('config', 'file', 'registry'), path)
    given = [key for key in ('config', 'file', 'registry') if value.get(key)]
    if len(given) != 1:
        _fail(path, 'expected exactly one of config, file, registry, got %s' % (', '.join(given) or 'none'))
    key = given[0]
    name = _string(value[key], _path(path, key))
    if key == 'config' and name not in (context.project.get('configs') or {}):
        _fail(_path(path, key), 'config %s is not declared under the top-level `configs:`; declare it'
              % short_repr(name))
    return {'CredentialSpec': {key.capitalize(): name}}


def _extra_hosts(value, path, _context):
    # The engine wants "IP host"; compose writes "host:ip" (or "host=ip") or a map host: ip.
    if isinstance(value, dict):
        entries = [(_text(host, path), _text(ip, _path(path, host))) for host, ip in value.items()]
    else:
        entries = []
        for index, item in enumerate(_string_list(value, path)):
            separator = '=' if '=' in item else ':'
            host, sep, ip = item.partition(separator)
            if not sep or not host or not ip:
                _fail(_path(path, index), 'expected "host:ip", got %s' % short_repr(item))
            entries.append((host, ip))
    return {'Hosts': ['%s %s' % (ip, host) for host, ip in entries]}


def _ulimits(value, path, _context):
    ulimits = []
    for name, item in sorted(_mapping(value, path).items()):
        where = _path(path, name)
        if isinstance(item, dict):
            _known(item, ('soft', 'hard'), where)
            for bound in ('soft', 'hard'):
                if item.get(bound) is None:
                    _fail(_path(where, bound), 'is required: give both soft and hard, or one number for both')
            soft = _integer(item.get('soft'), _path(where, 'soft'))
            hard = _integer(item.get('hard'), _path(where, 'hard'))
        else:
            soft = hard = _integer(item, where)
        ulimits.append({'Name': name, 'Soft': soft, 'Hard': hard})
    return {'Ulimits': ulimits}


def _dns_config(bundle_key):
    def convert(value, path, _context):
        return {'DNSConfig': {bundle_key: _string_or_list(value, path)}}
    return convert


def _words(bundle_key):
    def convert(value, path, _context):
        words = _shell_words(value, path)
        return {bundle_key: words} if words else {}  # empty: the CLI sends none (a nil slice)
    return convert


def _simple(bundle_key, converter):
    def convert(value, path, _context):
        return {bundle_key: converter(value, path)}
    return convert


# compose service key -> converter(value, path, context) returning bundle service keys. Declared once.
# How the compose reader reads a key of module_utils/stacks/container_keys.py, by its kind.
_READERS = {
    container_keys.TEXT: _string, container_keys.STRING: _string, container_keys.SCALAR_TEXT: _text,
    container_keys.BOOLEAN: _boolean, container_keys.STRING_LIST: _string_list,
    container_keys.STRING_MAP: _key_values, container_keys.DURATION: _duration,
}


def _container_key_reader(key):
    if key.kind == container_keys.WORDS:
        return _words(key.name)
    if key.kind == container_keys.ENUM:
        return _simple(key.name, lambda value, path: _choice(value, key.choices, path))
    return _simple(key.name, _READERS[key.kind])


# compose service key -> converter; the keys that set one ContainerSpec field each come from container_keys.py.
SERVICE_KEYS = {
    **dict((key.compose, _container_key_reader(key)) for key in container_keys.CONTAINER_KEYS if key.compose),
    'environment': lambda value, path, context: {'Env': _environment(value, path, context.variables)},
    'labels': _simple('ContainerLabels', _key_values),  # service labels come from deploy.labels
    'ports': lambda value, path, context: _ports(value, path, context.notes),
    'volumes': _volumes,
    'networks': _networks,
    'secrets': _file_references('secrets'),
    'configs': _file_references('configs'),
    'deploy': _deploy,
    'healthcheck': _healthcheck,
    'logging': _logging,
    'dns': _dns_config('Nameservers'),
    'dns_search': _dns_config('Search'),
    'dns_opt': _dns_config('Options'),
    'extra_hosts': _extra_hosts,
    'ulimits': _ulimits,
    'oom_score_adj': _oom_score_adj,
    'credential_spec': _credential_spec,
}


def _restart_from_container_policy(value, path):
    """convertRestartPolicy: the CLI calls `restart` unsupported, yet uses it when deploy.restart_policy is absent."""
    name, _sep, count = _text(value, path).partition(':')
    if name in ('', 'no'):
        return None
    if name in ('always', 'unless-stopped') and not count:
        return {'Condition': 'any'}
    if name == 'on-failure':
        policy = {'Condition': 'on-failure'}
        if count:
            policy['MaxAttempts'] = _integer(count, path)
        return policy
    return _fail(path, 'unknown restart policy %s; use no, always, unless-stopped or on-failure[:N], '
                       'or deploy.restart_policy' % short_repr(value))


def _no_repeated_items(items, path):
    seen = {}
    for index, item in enumerate(items):
        text = json.dumps(item, sort_keys=True, default=str)
        if text in seen:
            _fail(path, 'items %d and %d are the same; docker stack deploy refuses a repeated item: remove one'
                  % (seen[text], index))
        seen[text] = index


def _service(name, compose, context, env_file_values):
    path = _path('services', name)
    compose = _mapping(compose, path)
    service = {}
    ignored = []
    for key, value in compose.items():
        where = _path(path, key)
        if not isinstance(key, str):
            _fail(where, 'a key must be a string')
        if key in UNSUPPORTED_KEYS:
            _fail(where, _NOT_YET)
        if key in CLI_REFUSED_KEYS:
            _fail(where, CLI_REFUSED_KEYS[key])
        if key in IGNORED_KEYS:
            ignored.append(key)
            continue
        if key.startswith('x-') or value is None:
            continue
        if key == 'env_file':
            continue
        if key not in SERVICE_KEYS:
            _fail(where, 'unknown service key; see the compose specification for the keys docker stack deploy reads')
        if key in UNIQUE_ITEM_KEYS and isinstance(value, list):
            _no_repeated_items(value, where)
        for bundle_key, bundle_value in SERVICE_KEYS[key](value, where, context).items():
            context.origins[bundle_key] = where
            if bundle_key == 'DNSConfig' and bundle_key in service:
                service[bundle_key].update(bundle_value)
            else:
                service[bundle_key] = bundle_value
    if 'env_file' in compose:
        if env_file_values is None or name not in env_file_values:
            _fail(_path(path, 'env_file'), 'env_file must be read by the loader; pass env_file_values')
        # The CLI: values from env_file first, `environment` wins.
        merged = dict(_key_values(env_file_values[name], _path(path, 'env_file'), keep_bare=True))
        merged.update(_key_values(compose.get('environment') or {}, _path(path, 'environment'), keep_bare=True))
        service['Env'] = _environment(merged, _path(path, 'environment'), context.variables)
        context.origins['Env'] = _path(path, 'env_file')
    if compose.get('restart') is not None and 'RestartPolicy' not in service:
        policy = _restart_from_container_policy(compose['restart'], _path(path, 'restart'))
        if policy:
            service['RestartPolicy'] = policy
    if 'Image' not in service:
        _fail(path, 'a service needs `image`: swarm does not build images')
    if 'networks' not in compose or compose.get('networks') is None:
        service['Networks'] = ['default']  # the implicit default network (convert.Networks)
    _in_cli_order(service, context)
    if ignored:
        context.notes.append('Ignoring unsupported options: %s (%s)' % (
            ', '.join(sorted(ignored)), path))
    return service


def _in_cli_order(service, context):
    """Write the image, ports and networks as the docker CLI sends them.

    swarmkit restarts a service's tasks when its TaskTemplate changes at all, so a
    `docker stack deploy` after crane (or crane after it) must find the same values in the
    same order: the client's tagged image (busybox -> busybox:latest), ports by published
    port (Go's sort, unpublished first), networks by the name they attach to. The CLI also
    records the image as written in the service label com.docker.stack.image (over a label of
    that name in the file); so does this conversion.
    """
    labels = dict(service.get('Labels') or {})
    labels[CLI_IMAGE_LABEL] = service['Image']
    service['Labels'] = labels
    service['Image'] = tagged_image(service['Image'])
    if service.get('Ports'):
        service['Ports'] = sorted(service['Ports'], key=lambda port: port.get('PublishedPort') or 0)
    declared = context.project.get('networks') or {}

    def target(entry):
        name = attachment_target(entry)
        definition = declared.get(name) or {}
        if definition.get('name'):
            return definition['name']
        if definition.get('external'):
            return name
        return scoped_name(context.stack, name)
    if service.get('Networks'):
        service['Networks'] = sorted(service['Networks'], key=target)


def _stack_networks(project, used):
    """The bundle's Networks: those the services in `used` attach to, as the CLI creates only those."""
    networks = {}
    declared = project.get('networks') or {}
    _mapping(declared, 'networks')
    if 'default' in used and 'default' not in declared:
        networks['default'] = {'Driver': 'overlay'}
    for name, item in declared.items():
        path = _path('networks', name)
        item = _mapping(item, path) if item is not None else {}
        _known(item, ('driver', 'driver_opts', 'attachable', 'internal', 'ipam', 'labels', 'external', 'name'), path)
        if name not in used:
            continue  # deploy_composefile.go: getServicesDeclaredNetworks
        network = {}
        if item.get('name') is not None:
            network['Name'] = _string(item['name'], _path(path, 'name'))
        if item.get('external'):
            network['External'] = _boolean(item['external'], _path(path, 'external'))
            networks[name] = network
            continue
        network['Driver'] = _string(item.get('driver') or 'overlay', _path(path, 'driver'))
        if item.get('driver_opts') is not None:
            network['DriverOpts'] = _key_values(item['driver_opts'], _path(path, 'driver_opts'))
        for key, key_out in (('attachable', 'Attachable'), ('internal', 'Internal')):
            if key in item:
                network[key_out] = _boolean(item[key], _path(path, key))
        if item.get('labels') is not None:
            network['Labels'] = _key_values(item['labels'], _path(path, 'labels'))
        if item.get('ipam') is not None:
            network['IPAM'] = _ipam(item['ipam'], _path(path, 'ipam'))
        networks[name] = network
    return networks


def _ipam(value, path):
    value = _mapping(value, path)
    _known(value, ('driver', 'config', 'options'), path)
    ipam = {}
    if 'driver' in value:
        ipam['Driver'] = _string(value['driver'], _path(path, 'driver'))
    if 'options' in value:
        ipam['Options'] = _key_values(value['options'], _path(path, 'options'))
    if 'config' in value:
        configs = []
        for index, item in enumerate(_expect(value['config'], (list,), _path(path, 'config'), 'a list')):
            at = _path(path, 'config', index)
            item = _mapping(item, at)
            _known(item, ('subnet', 'ip_range', 'gateway'), at)
            config = {}
            for key, key_out in (('subnet', 'Subnet'), ('ip_range', 'IPRange'), ('gateway', 'Gateway')):
                if key in item:
                    config[key_out] = _string(item[key], _path(at, key))
            configs.append(config)
        ipam['Config'] = configs
    return ipam


def _file_objects(project, kind):
    objects = {}
    for name, item in _mapping(project.get(kind) or {}, kind).items():
        path = _path(kind, name)
        item = _mapping(item, path)
        _known(item, ('file', 'external', 'name', 'labels', 'template_driver'), path)
        if 'template_driver' in item:
            _fail(_path(path, 'template_driver'), _NOT_YET)
        result = {}
        if item.get('name') is not None:
            result['Name'] = _string(item['name'], _path(path, 'name'))
        if item.get('external'):
            result['External'] = _boolean(item['external'], _path(path, 'external'))
        elif 'file' in item:
            result['File'] = _string(item['file'], _path(path, 'file'))
        else:
            _fail(path, 'expected `file:` or `external: true`')
        if item.get('labels') is not None:
            result['Labels'] = _key_values(item['labels'], _path(path, 'labels'))
        objects[name] = result
    return objects


def _stack_volumes(project):
    """The bundle's Volumes from the top-level `volumes:` (convert/volume.go reads driver, driver_opts, labels,
    external and name)."""
    volumes = {}
    for name, item in _mapping(project.get('volumes') or {}, 'volumes').items():
        path = _path('volumes', name)
        item = _mapping(item, path) if item is not None else {}
        _known(item, ('driver', 'driver_opts', 'labels', 'external', 'name'), path)
        volume = {}
        if item.get('name') is not None:
            volume['Name'] = _string(item['name'], _path(path, 'name'))
        if item.get('external'):
            volume['External'] = _boolean(item['external'], _path(path, 'external'))
            for key in ('driver', 'driver_opts', 'labels'):
                if item.get(key) is not None:
                    # loader.go refuses it too: an external volume is not created.
                    _fail(_path(path, key), 'conflicts with `external: true` (the volume exists); remove one')
        if item.get('driver') is not None:
            volume['Driver'] = _string(item['driver'], _path(path, 'driver'))
        if item.get('driver_opts') is not None:
            volume['DriverOpts'] = _key_values(item['driver_opts'], _path(path, 'driver_opts'))
        if item.get('labels') is not None:
            volume['Labels'] = _key_values(item['labels'], _path(path, 'labels'))
        volumes[name] = volume
    return volumes


_TOP_LEVEL_SECTIONS = {'Networks': 'networks', 'Volumes': 'volumes', 'Secrets': 'secrets', 'Configs': 'configs'}


def _compose_place(problem, origins):
    """(compose path, message) of a problem check_bundle found in the converted bundle.

    The bundle path is mapped back to the compose key that set the value: exactly when the
    bundle key is that key's whole value (stop_grace_period -> StopGracePeriod), else the
    compose key with the bundle path beside it (deploy -> Resources.Limits.Memory).
    """
    for service, keys in origins.items():
        prefix = json_path(['Services', service])
        rest = problem.path[len(prefix):]
        if not problem.path.startswith(prefix) or rest[:1] not in ('', '.', '['):
            continue
        key = rest[1:].split('.')[0].split('[')[0] if rest.startswith('.') else None
        origin = keys.get(key)
        if origin is None:
            return _path('services', service), problem.message
        if rest == '.' + key:
            return origin, problem.message
        return origin, '%s (at %s in the converted bundle)' % (problem.message, problem.path)
    for section, compose_section in _TOP_LEVEL_SECTIONS.items():
        prefix = json_path([section])
        if problem.path.startswith(prefix):
            return compose_section, '%s (at %s in the converted bundle)' % (problem.message, problem.path)
    return '(top level)', '%s (at %s in the converted bundle)' % (problem.message, problem.path)


def compose_to_bundle(project, stack='stack', env_file_values=None, env=None):
    """(bundle, notes): the bundle `docker stack deploy -c` would deploy for `project`, and what to tell the user.

    `project` is one merged, interpolated compose mapping; `env` the variables it was interpolated with
    (they also give a value to an environment entry written without one). Raises ComposeError naming
    the compose path.
    """
    project = _mapping(project, '(top level)')
    if 'name' in project:
        _fail('name', 'docker stack deploy refuses a top-level name (the stack is named by the `name` option '
                      'of swarm_stack, as by the CLI\'s argument); remove it')
    _known(project, tuple(key for key in project if key.startswith('x-'))
           + ('version', 'services', 'networks', 'volumes', 'secrets', 'configs'), '(top level)')
    services = _mapping(project.get('services'), 'services')
    if not services:
        _fail('services', 'expected at least one service')
    volumes = _stack_volumes(project)
    bundle = {'Version': '0.1', 'Services': {}}
    notes = []
    used = set()
    origins = {}
    for name, compose in services.items():
        context = _Context(stack, project, name, env)
        bundle['Services'][_text(name, 'services')] = _service(name, compose, context, env_file_values)
        origins[name] = context.origins
        used.update(attachment_target(entry) for entry in bundle['Services'][name].get('Networks', []))
        notes.extend(context.notes)
    bundle['Networks'] = _stack_networks(project, used)
    if volumes:
        bundle['Volumes'] = volumes
    for kind in ('secrets', 'configs'):
        objects = _file_objects(project, kind)
        if objects:
            bundle[kind.capitalize()] = objects
    problems = check_bundle(bundle, stack)
    if problems:
        # A value the conversion let through but the bundle refuses: still a compose error, never a traceback.
        _fail(*_compose_place(problems[0], origins))
    return bundle, notes
