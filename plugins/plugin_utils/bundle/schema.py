# -*- coding: utf-8 -*-
# Copyright: crane.swarm developers
# GNU General Public License v3.0+ (see https://www.gnu.org/licenses/gpl-3.0.txt)
"""The JSON Schema (draft 2020-12) of the extended DAB bundle: the single source of truth.

A plain Docker 1.12 `.dab` file is a valid bundle. The extension adds keys in
DAB's PascalCase, named after the Engine API field they set wherever the API has
one, so Docker's API reference documents them. Every object is closed
(`additionalProperties: false`): an unknown key is an error, never ignored.

`schemas/crane-bundle.schema.json` is this dict written out for editors
(tests/tools/write_bundle_schema.py regenerates it; a unit test keeps them equal).
The definitions titled Duration, Size and CPUs are also recognised by title in
check.py, which parses those values with the same functions the translation uses.

Every integer has the range of the Engine API field it sets (module_utils/engine/limits.py):
int64 unless the field is narrower (ports, file modes, healthcheck retries,
which swarmkit keeps in an int32) or a uint64 (counts of replicas, tasks and
attempts). A number beyond it would be refused by the engine halfway through a
deployment.
"""

from __future__ import annotations

from ansible_collections.crane.swarm.plugins.module_utils.stacks import container_keys
from ansible_collections.crane.swarm.plugins.module_utils.stacks.terms import OBJECT_NAME_PATTERN
from ansible_collections.crane.swarm.plugins.module_utils.engine.limits import (
    INT32_MAX, INT64_MAX, OOM_SCORE_ADJ_MAX, OOM_SCORE_ADJ_MIN, UINT32_MAX, UINT64_MAX)

# A name, not an address: the schema is published in the collection (schemas/), not on a web site.
SCHEMA_ID = 'urn:crane.swarm:schema:crane-bundle'

# The names swarmkit takes for secrets and configs (validateConfigOrSecretAnnotations): at most 64 letters, digits,
# "-", "_" and ".", starting and ending with a letter or digit.
FILE_OBJECT_NAME_PATTERN = '^[a-zA-Z0-9](?:[-_.a-zA-Z0-9]{0,62}[a-zA-Z0-9])?$'

# Titles of the definitions whose values check.py parses (see module docstring).
DURATION = 'Duration'
SIZE = 'Size'
CPUS = 'CPUs'


def _closed(properties, required=(), description=None):
    """An object with exactly these keys (a key outside `properties` is an error)."""
    schema = {'type': 'object', 'properties': properties, 'additionalProperties': False}
    if required:
        schema['required'] = list(required)
    if description:
        schema['description'] = description
    return schema


def _ref(name):
    return {'$ref': '#/$defs/%s' % name}


def _array(items, description=None):
    schema = {'type': 'array', 'items': items}
    if description:
        schema['description'] = description
    return schema


def _string(description=None, **constraints):
    schema = {'type': 'string'}
    schema.update(constraints)
    if description:
        schema['description'] = description
    return schema


def _enum(values, description=None):
    schema = {'type': 'string', 'enum': list(values)}
    if description:
        schema['description'] = description
    return schema


def _count(description=None, minimum=0, maximum=INT64_MAX):
    """An integer from `minimum` to `maximum` (default the Engine API's int64)."""
    schema = {'type': 'integer', 'minimum': minimum, 'maximum': maximum}
    if description:
        schema['description'] = description
    return schema


def _boolean(description):
    return {'type': 'boolean', 'description': description}


def _update_config(failure_actions, what):
    return _closed({
        'Parallelism': _count('Tasks %s at once (0: all at once). Default 1.' % what, maximum=UINT64_MAX),
        'Delay': _ref(DURATION),
        'FailureAction': _enum(failure_actions, 'What to do when a task fails. Default pause.'),
        'Monitor': _ref(DURATION),
        'MaxFailureRatio': {'type': 'number', 'minimum': 0, 'maximum': 1,
                            'description': 'Fraction of failed tasks tolerated during the operation.'},
        'Order': _enum(('stop-first', 'start-first'), 'Stop the old task before starting the new one, or after.'),
    })


def _container_key_schema(key):
    """The JSON Schema of one key of module_utils/stacks/container_keys.py, from its kind."""
    if key.kind == container_keys.TEXT:
        return _string(key.description, minLength=1)
    if key.kind in (container_keys.STRING, container_keys.SCALAR_TEXT):
        return _string(key.description)
    if key.kind == container_keys.BOOLEAN:
        return _boolean(key.description)
    if key.kind == container_keys.STRING_LIST:
        return _array(_string(minLength=1), key.description)
    if key.kind == container_keys.WORDS:
        return _array({'type': 'string'}, key.description)
    if key.kind == container_keys.STRING_MAP:
        return {'type': 'object', 'additionalProperties': {'type': 'string'}, 'description': key.description}
    if key.kind == container_keys.DURATION:
        return dict(_ref(DURATION), description=key.description)
    if key.kind == container_keys.ENUM:
        return _enum(key.choices, key.description)
    raise ValueError('container key %s has an unknown kind %r' % (key.name, key.kind))


def _container_key_schemas():
    return dict((key.name, _container_key_schema(key)) for key in container_keys.CONTAINER_KEYS)


_DEFINITIONS = {
    DURATION: {
        'title': DURATION,
        'description': 'A Go-style duration such as "30s", "1m30s", "500ms" or "2160h", or integer nanoseconds.',
        'anyOf': [
            {'type': 'integer', 'minimum': 0, 'maximum': INT64_MAX},
            {'type': 'string', 'pattern': '^\\s*(([0-9]+(\\.[0-9]*)?|\\.[0-9]+)(ns|us|µs|ms|s|m|h))+\\s*$|^\\s*[0-9]+\\s*$'},
        ],
    },
    SIZE: {
        'title': SIZE,
        'description': 'A size such as "512M", "1G" or "64k" (units b, k, m, g, t, p; 1k = 1024 bytes), or integer bytes.',
        'anyOf': [
            {'type': 'integer', 'minimum': 0, 'maximum': INT64_MAX},
            {'type': 'string', 'pattern': '^\\s*[0-9]+(\\.[0-9]+)? ?[kKmMgGtTpP]?[iI]?[bB]?\\s*$'},
        ],
    },
    CPUS: {
        'title': CPUS,
        'description': 'A number of CPUs as a decimal, such as 0.5 or "1.5".',
        'anyOf': [
            {'type': 'number', 'minimum': 0},
            {'type': 'string', 'pattern': '^\\s*[0-9]+(\\.[0-9]+)?\\s*$'},
        ],
    },
    'StringList': _array({'type': 'string'}),
    'StringMap': {'type': 'object', 'additionalProperties': {'type': 'string'}},
    'FileMode': {
        'description': 'File permissions: an integer (write 0444 in YAML, 292 in JSON) or an octal string "0444".',
        'anyOf': [{'type': 'integer', 'minimum': 0, 'maximum': 4095}, {'type': 'string', 'pattern': '^0?[0-7]{3,4}$'}],
    },
    'FileOwner': {
        'type': ['string', 'integer'], 'minimum': 0, 'maximum': UINT32_MAX - 1, 'pattern': '^[0-9]{1,10}$',
        'description': 'A numeric user or group ID, as a number or a string of digits (the daemon reads it with '
                       'strconv.Atoi when it writes the file: a name fails every task). Default "0".',
    },
    'Port': _closed({
        'Port': _count('The port inside the container (TargetPort in the Engine API).', 1, 65535),
        'PublishedPort': _count('The port published on the nodes. Left out: the swarm assigns one.', 1, 65535),
        'Protocol': _enum(('tcp', 'udp', 'sctp'), 'Default tcp.'),
        'PublishMode': _enum(('ingress', 'host'), 'ingress: the routing mesh, on every node; host: only where a task runs.'),
    }, required=('Port',)),
    'NetworkAttachment': {
        'description': 'A stack network (or an external one) by name, or with aliases and driver options.',
        'anyOf': [
            _string(minLength=1),
            _closed({
                'Target': _string('The network name as written in the bundle.', minLength=1),
                'Aliases': _ref('StringList'),
                'DriverOpts': _ref('StringMap'),
            }, required=('Target',)),
        ],
    },
    'FileReference': {
        'description': 'A stack secret or config by name, or with the file it becomes in the container.',
        'anyOf': [
            _string(minLength=1),
            _closed({
                'Source': _string('The name of the secret or config in the bundle.', minLength=1),
                'Target': _string('File name in the container. Default: the source name.', minLength=1),
                'UID': _ref('FileOwner'),
                'GID': _ref('FileOwner'),
                'Mode': _ref('FileMode'),
            }, required=('Source',)),
        ],
    },
    'Mount': _closed({
        'Type': _enum(('bind', 'volume', 'tmpfs')),
        'Source': _string('Host path (bind) or volume name (volume); none for tmpfs. A name of the stack\'s Volumes '
                          'is that volume: <stack>_<name>, its Name or the external volume, with its labels and driver.'),
        'Target': _string('Path in the container.', minLength=1),
        'ReadOnly': _boolean('Mount read-only.'),
        'Consistency': _enum(('default', 'consistent', 'cached', 'delegated')),
        'BindOptions': _closed({
            'Propagation': _enum(('private', 'rprivate', 'shared', 'rshared', 'slave', 'rslave')),
        }),
        'VolumeOptions': _closed({
            'NoCopy': _boolean('Do not copy the image data at the target into a new volume.'),
            'Labels': _ref('StringMap'),
            'DriverConfig': _closed({'Name': _string(minLength=1), 'Options': _ref('StringMap')}),
        }),
        'TmpfsOptions': _closed({'SizeBytes': _ref(SIZE), 'Mode': _ref('FileMode')}),
    }, required=('Type', 'Target')),
    'UpdateConfig': _update_config(('continue', 'pause', 'rollback'), 'updated'),
    'RollbackConfig': _update_config(('continue', 'pause'), 'rolled back'),
    'RestartPolicy': _closed({
        'Condition': _enum(('none', 'on-failure', 'any'), 'When a task is restarted. Default any.'),
        'Delay': _ref(DURATION),
        'MaxAttempts': _count('Restarts tried within Window before giving up (0: no limit).', maximum=UINT64_MAX),
        'Window': _ref(DURATION),
    }),
    'Healthcheck': _closed({
        'Test': {
            'description': '["CMD", cmd, args...], ["CMD-SHELL", "command"], a shell command as a string, '
                           'or ["NONE"] to disable the image\'s healthcheck.',
            'anyOf': [_string(minLength=1), {'type': 'array', 'items': {'type': 'string'}, 'minItems': 1}],
        },
        'Interval': _ref(DURATION),
        'Timeout': _ref(DURATION),
        'Retries': _count('Failures in a row that make the task unhealthy (swarmkit keeps an int32).',
                          maximum=INT32_MAX),
        'StartPeriod': _ref(DURATION),
        'StartInterval': _ref(DURATION),  # between checks during StartPeriod; Engine API 1.44 and later
    }),
    'Resources': _closed({
        'Limits': _closed({'CPUs': _ref(CPUS), 'Memory': _ref(SIZE), 'Pids': _count('Maximum number of processes.')}),
        'Reservations': _closed({
            'CPUs': _ref(CPUS),
            'Memory': _ref(SIZE),
            'GenericResources': _array(_closed({
                'Kind': _string(minLength=1),
                'Value': {'type': ['integer', 'string'], 'minimum': 0, 'maximum': INT64_MAX,
                          'description': 'A count (discrete resource) or a name (named resource).'},
            }, required=('Kind', 'Value')), 'Node resources such as GPUs, as nodes advertise them.'),
        }),
    }),
    'Placement': _closed({
        'Constraints': _ref('StringList'),
        'Preferences': _array(_closed({'Spread': _string('A label such as "node.labels.zone".', minLength=1)},
                                      required=('Spread',))),
        'MaxReplicas': _count('At most this many tasks of the service per node (0: no limit).', maximum=UINT64_MAX),
    }),
    'Mode': {
        'type': 'object',
        'description': 'Exactly one of Replicated, Global, ReplicatedJob, GlobalJob. Default: Replicated with 1 replica.',
        'properties': {
            'Replicated': _closed({'Replicas': _count(maximum=UINT64_MAX)}),
            'Global': _closed({}),
            'ReplicatedJob': _closed({'MaxConcurrent': _count(maximum=UINT64_MAX),
                                      'TotalCompletions': _count(maximum=UINT64_MAX)}),
            'GlobalJob': _closed({}),
        },
        'additionalProperties': False,
        'minProperties': 1,
        'maxProperties': 1,
    },
    'Service': _closed({
        **_container_key_schemas(),
        'Env': _array({'type': 'string'}, 'Environment as "KEY=value" strings.'),
        'Labels': _ref('StringMap'),
        'Ports': _array(_ref('Port')),
        'Networks': _array(_ref('NetworkAttachment')),
        'Mode': _ref('Mode'),
        'Replicas': _count('Shortcut for Mode: {Replicated: {Replicas: n}}.', maximum=UINT64_MAX),
        'UpdateConfig': _ref('UpdateConfig'),
        'RollbackConfig': _ref('RollbackConfig'),
        'RestartPolicy': _ref('RestartPolicy'),
        'Healthcheck': _ref('Healthcheck'),
        'Resources': _ref('Resources'),
        'Placement': _ref('Placement'),
        'EndpointMode': _enum(('vip', 'dnsrr'), 'vip: one virtual IP balanced over the tasks; dnsrr: DNS round robin.'),
        'HostNetwork': _boolean('Attach the tasks to the host network (excludes Networks and ingress ports).'),
        'Secrets': _array(_ref('FileReference')),
        'Configs': _array(_ref('FileReference')),
        'Mounts': _array(_ref('Mount')),
        'DNSConfig': _closed({
            'Nameservers': _ref('StringList'), 'Search': _ref('StringList'), 'Options': _ref('StringList'),
        }),
        'Hosts': _array({'type': 'string'}, 'Extra /etc/hosts lines: "IP hostname [aliases...]".'),
        'ContainerLabels': _ref('StringMap'),
        'Ulimits': _array(_closed({'Name': _string(minLength=1), 'Soft': _count(), 'Hard': _count()},
                                  required=('Name', 'Soft', 'Hard'))),
        'LogDriver': dict(_closed({
            'Name': _string('The log driver. Left out: the engine\'s default driver, with these Options.', minLength=1),
            'Options': _ref('StringMap'),
        }), minProperties=1),
        'WithRegistryAuth': _boolean('Send the registry credentials of the deploying host to the nodes.'),
        'OomScoreAdj': _count('The containers\' OOM score adjustment (Engine API 1.46 and later).',
                              minimum=OOM_SCORE_ADJ_MIN, maximum=OOM_SCORE_ADJ_MAX),
        'CredentialSpec': dict(_closed({
            'Config': _string('A config of the stack (its name in Configs) holding the credential spec.', minLength=1),
            'File': _string('A credential spec file in the nodes\' CredentialSpecs directory.', minLength=1),
            'Registry': _string('A credential spec value in the nodes\' Windows registry.', minLength=1),
        }, description='Windows gMSA credential spec (ContainerSpec.Privileges.CredentialSpec): exactly one key.'),
            minProperties=1, maxProperties=1),
    }, required=('Image',)),
    'Network': _closed({
        'Name': _string('The Docker name of the network as written, not prefixed by the stack (default '
                        '<stack>_<name>); with External, the name of the existing network.', minLength=1),
        'Driver': _string('Default overlay.', minLength=1),
        'DriverOpts': _ref('StringMap'),
        'Attachable': _boolean('Standalone containers may attach too.'),
        'Internal': _boolean('No traffic to or from outside the network.'),
        'IPAM': _closed({
            'Driver': _string(minLength=1),
            'Config': _array(_closed({
                'Subnet': _string(minLength=1), 'IPRange': _string(minLength=1), 'Gateway': _string(minLength=1),
            })),
            'Options': _ref('StringMap'),
        }),
        'Labels': _ref('StringMap'),
        'External': _boolean('Use an existing network of this name; create nothing.'),
    }),
    'FileObject': _closed({
        'Name': _string('A fixed Docker name, as written (default <stack>_<name>_<digest of the content>). A fixed '
                        'name cannot take new content: change the name with it. With External, the name of the '
                        'existing object.', pattern=FILE_OBJECT_NAME_PATTERN),
        'File': _string('Path of the content, relative to the bundle file.', minLength=1),
        # writeOnly: messages about this value never quote it (it may be a secret).
        'Content': {'type': 'string', 'writeOnly': True, 'description': 'The content inline.'},
        'Labels': _ref('StringMap'),
        'External': _boolean('Use an existing object of this name; create nothing.'),
    }),
    'Volume': _closed({
        'Name': _string('The Docker name of the volume as written (default <stack>_<name>); with External, the name '
                        'of the existing volume.', minLength=1),
        'Driver': _string('The volume driver. Default: the engine\'s (local).', minLength=1),
        'DriverOpts': _ref('StringMap'),
        'Labels': _ref('StringMap'),
        'External': _boolean('Use an existing volume of this name; give it no labels or driver.'),
    }),
}

# Keys starting with x- are the user's own (compose's extension fields): accepted and ignored.
EXTENSION_KEYS = {'^x-': {}}
_DEFINITIONS['Service']['patternProperties'] = EXTENSION_KEYS

BUNDLE_SCHEMA = {
    '$schema': 'https://json-schema.org/draft/2020-12/schema',
    '$id': SCHEMA_ID,
    'title': 'crane.swarm stack bundle (extended DAB)',
    'description': 'A Docker 1.12 Distributed Application Bundle, extended so that every service option can be written.',
    'type': 'object',
    'properties': {
        'Version': {'const': '0.1', 'description': 'The DAB format version.'},
        'Services': {
            'type': 'object',
            'propertyNames': {'pattern': OBJECT_NAME_PATTERN},
            'additionalProperties': _ref('Service'),
            'minProperties': 1,
        },
        'Networks': {
            'type': 'object',
            'description': 'The stack\'s networks. Without this key, every network a service names is an overlay '
                           'network of the stack (Docker 1.12); with it, services may only name networks listed here.',
            'propertyNames': {'pattern': OBJECT_NAME_PATTERN},
            'additionalProperties': _ref('Network'),
        },
        'Secrets': {'type': 'object', 'propertyNames': {'pattern': OBJECT_NAME_PATTERN},
                    'additionalProperties': _ref('FileObject')},
        'Configs': {'type': 'object', 'propertyNames': {'pattern': OBJECT_NAME_PATTERN},
                    'additionalProperties': _ref('FileObject')},
        'Volumes': {
            'type': 'object',
            'description': 'The stack\'s named volumes: a volume mount whose Source is one of these names gets its '
                           'Docker name, labels and driver (the nodes\' engines create it when a task first mounts it).',
            'propertyNames': {'pattern': OBJECT_NAME_PATTERN},
            'additionalProperties': _ref('Volume'),
        },
    },
    'patternProperties': EXTENSION_KEYS,
    'required': ['Services'],
    'additionalProperties': False,
    '$defs': _DEFINITIONS,
}
