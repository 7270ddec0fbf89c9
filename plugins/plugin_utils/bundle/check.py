# -*- coding: utf-8 -*-
# Copyright: crane.swarm developers
# GNU General Public License v3.0+ (see https://www.gnu.org/licenses/gpl-3.0.txt)
"""Checking an extended DAB bundle, as plain data: every problem with the JSON path it sits at.

    check_bundle(bundle, stack=None) -> [BundleError]

Pure and stdlib only. The action plugin runs these checks on the controller,
before anything is sent; the module on the manager receives checked bundles
only, so neither this file nor the schema is part of its payload. The checks:

- structure, read from BUNDLE_SCHEMA itself: unknown keys (with the nearest
  valid key suggested), types, enumerations, bounds, required keys, and the
  durations, sizes and CPU counts parsed by the functions the translation uses.
  The schema keywords understood here are SCHEMA_KEYWORDS; a unit test keeps
  the schema within them, and the tests run jsonschema beside these checks
  over the bundle corpora. jsonschema itself is not used at run time: on a
  stack of 200 services it took 0.4 s, these checks 0.05 s;
- meaning, which JSON Schema cannot express: conflicting options, references to
  networks, secrets and configs the stack does not define, duplicate published
  ports, malformed constraints, hosts entries and healthchecks, and what
  swarmkit refuses: resources below its minimums, contents it cannot hold, and,
  given the stack's name, object names longer than it takes once scoped.

A problem already reported at a path is not reported there twice. The checks of
meaning see only the parts of the bundle whose form is right, so that they may
rely on the schema's types; messages quote values shortened (short_repr), never
whole: a value may be megabytes long.
"""

from __future__ import annotations

import difflib
import ipaddress
import math
import re

from ansible_collections.crane.swarm.plugins.plugin_utils.bundle.schema import BUNDLE_SCHEMA, CPUS, DURATION, SIZE
from ansible_collections.crane.swarm.plugins.module_utils.stacks.terms import (
    MAX_NAME_LENGTH, OBJECT_NAME_PATTERN, attachment_target, mode_kind, reference_source, reference_target)
from ansible_collections.crane.swarm.plugins.module_utils.common.durations import format_duration, parse_duration
from ansible_collections.crane.swarm.plugins.module_utils.engine.limits import (
    MAX_CONFIG_BYTES, MAX_SECRET_BYTES, MAX_SECRET_OR_CONFIG_NAME, MIN_HEALTHCHECK_NANOSECONDS, MIN_MEMORY_BYTES,
    MIN_NANO_CPUS)
from ansible_collections.crane.swarm.plugins.module_utils.common.plain_data import short_repr
from ansible_collections.crane.swarm.plugins.module_utils.common.sizes import format_size, parse_cpus, parse_size
from ansible_collections.crane.swarm.plugins.module_utils.stacks.spec import CONTENT_HASH_DIGITS, scoped_name

QUANTITY_PARSERS = {DURATION: parse_duration, SIZE: parse_size, CPUS: parse_cpus}
HEALTHCHECK_KINDS = ('NONE', 'CMD', 'CMD-SHELL')
SPREAD_PREFIXES = ('node.labels.', 'engine.labels.')
_CONSTRAINT = re.compile(r'^\s*[^\s=!]+\s*(==|!=)\s*\S')
_IDENTIFIER = re.compile(r'^[A-Za-z_][A-Za-z0-9_-]*$')
# JSON's \u escapes (and YAML's) can write half a UTF-16 pair: such a string cannot be encoded to send.
_LONE_SURROGATE = re.compile('[\ud800-\udfff]')


class BundleError(object):
    """One problem in a bundle: `path` is a JSON path such as $.Services.web.UpdateConfig.Delay.

    `parts` are the keys and indexes of the path, where the checks know them.
    """

    def __init__(self, path, message, parts=None):
        self.path = path
        self.message = message
        self.parts = parts

    def __str__(self):
        return '%s: %s' % (self.path, self.message)

    def __repr__(self):
        return 'BundleError(%r, %r)' % (self.path, self.message)

    def __eq__(self, other):
        return isinstance(other, BundleError) and (self.path, self.message) == (other.path, other.message)

    def __hash__(self):
        return hash((self.path, self.message))


def check_bundle(bundle, stack=None):
    """Every problem of `bundle`, at most one per path; with `stack`, also the names it gives the objects."""
    found = structure_errors(bundle)
    if isinstance(bundle, dict):
        well_formed = well_formed_part(bundle, found)
        found.extend(meaning_errors(well_formed))
        if stack is not None:
            found.extend(scoped_name_errors(stack, well_formed))
    return _one_per_path(found)


def without_extensions(bundle):
    """A checked `bundle` without its x- keys (top level and services): ignored, so never sent to the module.

    Their values are the user's and may be anything YAML reads (a date, say), which JSON cannot carry.
    """
    kept = dict((key, value) for key, value in bundle.items() if not _is_extension(key))
    kept['Services'] = dict((name, dict((key, value) for key, value in service.items() if not _is_extension(key)))
                            for name, service in bundle['Services'].items())
    return kept


def _is_extension(key):
    return isinstance(key, str) and key.startswith('x-')


def well_formed_part(bundle, errors):
    """`bundle` without the parts that have `errors` of form, for the checks of meaning.

    Those checks may then rely on the schema's types (a list where a protocol
    belongs crashed them). A service with a problem of form is left out: its
    meaning is checked once its form is right. A network, secret or config
    keeps its name, which services refer to, but not its definition.
    """
    broken = set(tuple(error.parts[:2]) for error in errors if error.parts and len(error.parts) > 1)
    kept = dict(bundle)
    for section in ('Services', 'Networks', 'Secrets', 'Configs', 'Volumes'):
        if isinstance(bundle.get(section), dict):
            kept[section] = dict((name, None if (section, name) in broken else item)
                                 for name, item in bundle[section].items()
                                 if isinstance(name, str) and not (section == 'Services' and (section, name) in broken))
    return kept


def _one_per_path(errors):
    seen = set()
    kept = []
    for error in errors:
        if error.path not in seen:
            seen.add(error.path)
            kept.append(error)
    return kept


# ---- JSON paths and messages ----

def json_path(parts):
    """'$' followed by the keys and indexes of `parts`: $.Services.web.Ports[0].Port.

    A key that is not text (only a bundle given as a mapping can have one) is
    written as JSON would write the value: $.Services.web.Labels[null].
    """
    path = '$'
    for part in parts:
        if isinstance(part, int) and not isinstance(part, bool):
            path += '[%d]' % part
        elif not isinstance(part, str):
            path += '[%s]' % _key_text(part)
        elif len(part) <= 60 and _IDENTIFIER.fullmatch(part):
            path += '.' + part
        else:
            path += '[%s]' % short_repr(part)
    return path


def _key_text(key):
    """A key that is not text, as it reads in YAML or JSON: null, true, 1, 2020-01-01."""
    if key is None or isinstance(key, bool):
        return {None: 'null', True: 'true', False: 'false'}[key]
    text = str(key)
    return text if len(text) <= 60 else text[:57] + '...'


def json_type(value):
    """The JSON name of a Python value's type."""
    if value is None:
        return 'null'
    if isinstance(value, bool):
        return 'boolean'
    if isinstance(value, int):
        return 'integer'
    if isinstance(value, float):
        return 'number'
    if isinstance(value, str):
        return 'string'
    if isinstance(value, list):
        return 'array'
    if isinstance(value, dict):
        return 'object'
    return type(value).__name__


def type_matches(value, expected):
    """Whether `value` has the JSON type `expected` (a name, a list of names, or None for any)."""
    if expected is None:
        return True
    if isinstance(expected, list):
        return any(type_matches(value, name) for name in expected)
    actual = json_type(value)
    return actual == expected or (expected == 'number' and actual == 'integer')


def _normalised_key(key):
    # Compose and CLI spellings (update_config, working-dir, image) meet DAB's PascalCase here.
    return key.replace('_', '').replace('-', '').lower()


def nearest_key(key, valid_keys):
    """The valid key the unknown `key` most likely meant, or None."""
    by_normalised = dict((_normalised_key(valid), valid) for valid in valid_keys)
    if _normalised_key(key) in by_normalised:
        return by_normalised[_normalised_key(key)]
    close = difflib.get_close_matches(_normalised_key(key), list(by_normalised), n=1, cutoff=0.6)
    return by_normalised[close[0]] if close else None


def unknown_key_message(key, valid_keys):
    """The message for a key that has no meaning at its place."""
    valid_keys = sorted(valid_keys)
    if not valid_keys:
        return 'unknown key %s: nothing may be set here' % short_repr(key)
    suggestion = nearest_key(key, valid_keys)
    if suggestion:
        return 'unknown key %s; did you mean %r?' % (short_repr(key), suggestion)
    return 'unknown key %s; valid keys here: %s' % (short_repr(key), ', '.join(valid_keys))


def key_type_message(key):
    """The message for a mapping key that is not text."""
    return 'keys are text (this one is of type %s); write it in quotes: "%s"' % (json_type(key), _key_text(key))


def quantity_message(title, value):
    """Why `value` is not a valid Duration, Size or CPUs (per `title`), or None when it is."""
    try:
        QUANTITY_PARSERS[title](value, '-')
    except ValueError as exc:
        return str(exc)[len('-: '):]
    return None


def keyword_message(keyword, value, schema):
    """The message for `value` failing the JSON Schema `keyword` of `schema`."""
    if keyword == 'type':
        expected = schema.get('type')
        expected = ' or '.join(expected) if isinstance(expected, list) else expected
        shown = '' if schema.get('writeOnly') else ' ' + short_repr(value)
        return 'expected %s, got %s%s' % (expected, json_type(value), shown)
    if keyword in ('const', 'enum'):
        allowed = [schema['const']] if keyword == 'const' else schema['enum']
        return 'must be %s, got %s' % (' or '.join(repr(choice) for choice in allowed), short_repr(value))
    if keyword == 'minimum':
        return 'must be at least %s, got %s' % (schema['minimum'], short_repr(value))
    if keyword == 'maximum':
        return 'must be at most %s, got %s' % (schema['maximum'], short_repr(value))
    if keyword in ('minLength', 'minItems'):
        return 'must not be empty'
    if keyword in ('minProperties', 'maxProperties') and schema.get('maxProperties') == 1:
        return 'give exactly one of: %s' % ', '.join(sorted(schema.get('properties', {})))
    if keyword == 'minProperties':
        return 'must not be empty'
    if keyword == 'pattern':
        return '%s does not have the expected form (%s)' % (short_repr(value), schema['pattern'])
    return 'is not valid (%s)' % keyword


def name_message(name):
    """The message for a stack object name Docker would refuse."""
    return ('%s is not a valid name: use at most %d letters, digits, "-" and "_", starting and ending with a letter '
            'or digit' % (short_repr(name), MAX_NAME_LENGTH))


def text_message(value):
    """Why the string `value` cannot be sent as text, or None when it can."""
    surrogate = _LONE_SURROGATE.search(value)
    if surrogate:
        return ('is not text: it holds half of a UTF-16 pair (%r, from a \\u escape); write the character itself'
                % surrogate.group())
    return None


# ---- Structure: the bundle against BUNDLE_SCHEMA, without jsonschema ----

_SCALAR_KEYWORDS = ('const', 'enum', 'minimum', 'maximum', 'minLength', 'minItems', 'pattern',
                    'minProperties', 'maxProperties')
# Every JSON Schema keyword _check_value acts on or may safely ignore (annotations).
SCHEMA_KEYWORDS = frozenset(_SCALAR_KEYWORDS + (
    'type', 'anyOf', 'properties', 'required', 'additionalProperties', 'propertyNames', 'items', '$ref',
    'patternProperties',
    '$defs', '$schema', '$id', 'title', 'description', 'examples', 'default', 'writeOnly'))


def resolve(schema):
    """Follow a local $ref into BUNDLE_SCHEMA's $defs."""
    while '$ref' in schema:
        schema = BUNDLE_SCHEMA['$defs'][schema['$ref'].rsplit('/', 1)[-1]]
    return schema


def choose_branch(value, branches):
    """The index of the anyOf branch meant for `value`: our branches differ by JSON type."""
    for index, branch in enumerate(branches):
        if type_matches(value, resolve(branch).get('type')):
            return index
    return None


def structure_errors(bundle):
    """Problems of form: what BUNDLE_SCHEMA says, checked without jsonschema."""
    errors = []
    _check_value(bundle, BUNDLE_SCHEMA, [], errors)
    return errors


def _error(parts, message):
    return BundleError(json_path(parts), message, list(parts))


def _check_value(value, schema, parts, errors):
    schema = resolve(schema)
    title = schema.get('title')
    if title in QUANTITY_PARSERS:
        problem = quantity_message(title, value)
        if problem:
            errors.append(_error(parts, problem))
        return
    if 'anyOf' in schema:
        index = choose_branch(value, schema['anyOf'])
        if index is None:
            expected = [resolve(branch).get('type') for branch in schema['anyOf']]
            errors.append(_error(parts, keyword_message('type', value, {'type': expected})))
        else:
            _check_value(value, schema['anyOf'][index], parts, errors)
        return
    if not type_matches(value, schema.get('type')):
        errors.append(_error(parts, keyword_message('type', value, schema)))
        return
    # JSON has no NaN or infinity, so the schema cannot say it (Python's json and YAML read both): NaN compares
    # false with every bound, and the Engine refuses what the bounds let through.
    if isinstance(value, float) and not math.isfinite(value):
        errors.append(_error(parts, 'must be a finite number, got %r' % value))
        return
    if isinstance(value, str) and text_message(value):
        errors.append(_error(parts, text_message(value)))
        return
    for keyword in _SCALAR_KEYWORDS:
        if keyword in schema and _violates(keyword, value, schema[keyword]):
            errors.append(_error(parts, keyword_message(keyword, value, schema)))
            return
    if isinstance(value, dict):
        _check_object(value, schema, parts, errors)
    elif isinstance(value, list) and 'items' in schema:
        for index, item in enumerate(value):
            _check_value(item, schema['items'], parts + [index], errors)


def _violates(keyword, value, limit):
    checks = {
        'const': lambda: value != limit,
        'enum': lambda: value not in limit,
        'minimum': lambda: isinstance(value, (int, float)) and value < limit,
        'maximum': lambda: isinstance(value, (int, float)) and value > limit,
        'minLength': lambda: isinstance(value, str) and len(value) < limit,
        'minItems': lambda: isinstance(value, list) and len(value) < limit,
        # Every pattern of the schema is anchored (^...$): fullmatch reads it as ECMA 262 does, where Python's
        # re.search would let "$" match before a final newline ("web\n" as a name).
        'pattern': lambda: isinstance(value, str) and not re.fullmatch(limit, value),
        'minProperties': lambda: isinstance(value, dict) and len(value) < limit,
        'maxProperties': lambda: isinstance(value, dict) and len(value) > limit,
    }
    return checks[keyword]()


def _check_object(value, schema, parts, errors):
    properties = schema.get('properties', {})
    for key in schema.get('required', ()):
        if key not in value:
            errors.append(_error(parts + [key], 'required key is missing'))
    name_pattern = schema.get('propertyNames', {}).get('pattern')
    for key, item in value.items():
        if not isinstance(key, str):
            errors.append(_error(parts + [key], key_type_message(key)))
        elif name_pattern and not re.fullmatch(name_pattern, key):
            errors.append(_error(parts + [key], name_message(key)))
        elif text_message(key):
            errors.append(_error(parts + [key], 'the key ' + text_message(key)))
        elif key in properties:
            _check_value(item, properties[key], parts + [key], errors)
        elif _pattern_schema(key, schema) is not None:
            _check_value(item, _pattern_schema(key, schema), parts + [key], errors)
        elif schema.get('additionalProperties') is False:
            errors.append(_error(parts + [key], unknown_key_message(key, properties)))
        elif isinstance(schema.get('additionalProperties'), dict):
            _check_value(item, schema['additionalProperties'], parts + [key], errors)


def _pattern_schema(key, schema):
    # JSON Schema's patternProperties match anywhere in the key (re.search); ours are anchored (^x-).
    for pattern, sub_schema in schema.get('patternProperties', {}).items():
        if re.search(pattern, key):
            return sub_schema
    return None


# ---- Meaning: what JSON Schema cannot say ----

def _mapping(value):
    return value if isinstance(value, dict) else {}


def _sequence(value):
    return value if isinstance(value, list) else []


def _services(bundle):
    """(name, service) for each service that is a mapping: other shapes are structure errors."""
    return [(name, service) for name, service in _mapping(bundle.get('Services')).items() if isinstance(service, dict)]


def meaning_errors(bundle):
    """Problems of meaning: conflicts, dangling references, duplicates, malformed strings."""
    errors = []
    for name, service in _services(bundle):
        parts = ['Services', name]
        errors.extend(_mode_conflicts(parts, service))
        errors.extend(_network_conflicts(parts, service))
        errors.extend(_network_references(parts, service, bundle))
        for kind in ('Secrets', 'Configs'):
            errors.extend(_file_references(parts, service, kind, _mapping(bundle.get(kind))))
        errors.extend(_mount_problems(parts, service))
        errors.extend(_stack_volume_mount_problems(parts, service, _mapping(bundle.get('Volumes'))))
        errors.extend(_healthcheck_problems(parts, service))
        errors.extend(_too_small(parts, service))
        errors.extend(_placement_problems(parts, service))
        errors.extend(_ulimit_problems(parts, service))
        errors.extend(_host_entry_problems(parts, service))
        errors.extend(_credential_spec_reference(parts, service, _mapping(bundle.get('Configs'))))
    errors.extend(_published_port_duplicates(bundle))
    errors.extend(_stack_network_problems(bundle))
    for kind in ('Secrets', 'Configs'):
        errors.extend(_stack_file_object_problems(bundle, kind))
    errors.extend(_stack_volume_problems(bundle))
    return errors


def _mode_conflicts(parts, service):
    kind = mode_kind(service.get('Mode'))
    mode = _mapping(service.get('Mode'))
    if 'Replicas' in service and kind != 'Replicated':
        yield BundleError(json_path(parts + ['Replicas']),
                          'Replicas conflicts with Mode %s: replicas apply to replicated services only' % kind)
    elif 'Replicas' in service and 'Replicas' in _mapping(mode.get('Replicated')):
        yield BundleError(json_path(parts + ['Replicas']),
                          'Replicas is given twice: here and in Mode.Replicated.Replicas; keep one')
    # MaxReplicas with a global mode means nothing, but Docker takes it (measured: docker stack deploy with
    # mode global and max_replicas_per_node 1, engine 20.10), so a compose file that has it deploys here too.


def _ingress_ports(service):
    """(index, port) of the ports published through the routing mesh."""
    return [(index, port) for index, port in enumerate(_sequence(service.get('Ports')))
            if isinstance(port, dict) and port.get('PublishMode', 'ingress') == 'ingress']


def _network_conflicts(parts, service):
    if service.get('HostNetwork') is True:
        if _sequence(service.get('Networks')):
            yield BundleError(json_path(parts + ['HostNetwork']),
                              'HostNetwork conflicts with Networks: a task on the host network joins no other network')
        for index, dummy in _ingress_ports(service):
            yield BundleError(json_path(parts + ['Ports', index]),
                              'a task on the host network cannot publish through the ingress routing mesh; '
                              'set PublishMode: host')
    if service.get('EndpointMode') == 'dnsrr' and _ingress_ports(service):
        yield BundleError(json_path(parts + ['EndpointMode']),
                          'EndpointMode dnsrr cannot publish ports in ingress mode (the routing mesh needs a VIP); '
                          'set PublishMode: host on the ports')


def _network_references(parts, service, bundle):
    if 'Networks' not in bundle:
        # Docker 1.12: every network a service names is an overlay network of the stack, which it creates.
        for index, entry in enumerate(_sequence(service.get('Networks'))):
            target = attachment_target(entry)
            if isinstance(target, str) and not re.fullmatch(OBJECT_NAME_PATTERN, target):
                where = parts + ['Networks', index] + (['Target'] if isinstance(entry, dict) else [])
                yield BundleError(json_path(where), name_message(target))
        return
    declared = _mapping(bundle.get('Networks'))
    for index, entry in enumerate(_sequence(service.get('Networks'))):
        target = attachment_target(entry)
        if isinstance(target, str) and target and target not in declared:
            where = parts + ['Networks', index] + (['Target'] if isinstance(entry, dict) else [])
            yield BundleError(json_path(where), _undefined_message('network', target, 'Networks', declared))


def _undefined_message(kind, name, section, defined):
    message = '%s %s is not defined in the stack\'s %s' % (kind, short_repr(name), section)
    suggestion = nearest_key(name, defined) if defined else None
    if suggestion:
        message += '; did you mean %r?' % suggestion
    elif kind == 'network':
        message += ' (declare it there, with External: true for an existing network)'
    return message


def _file_references(parts, service, kind, defined):
    targets = {}
    for index, entry in enumerate(_sequence(service.get(kind))):
        source = reference_source(entry)
        if not isinstance(source, str) or not source:
            continue
        where = parts + [kind, index] + (['Source'] if isinstance(entry, dict) else [])
        if source not in defined:
            yield BundleError(json_path(where), _undefined_message(kind[:-1].lower(), source, kind, defined))
        target = reference_target(entry)
        if target in targets:
            yield BundleError(json_path(parts + [kind, index]),
                              'file %s is already the target of %s[%d]' % (short_repr(target), kind, targets[target]))
        targets.setdefault(target, index)


def _credential_spec_reference(parts, service, defined):
    config = _mapping(service.get('CredentialSpec')).get('Config')
    if isinstance(config, str) and config and config not in defined:
        yield BundleError(json_path(parts + ['CredentialSpec', 'Config']),
                          _undefined_message('config', config, 'Configs', defined))


_MOUNT_OPTIONS = {'BindOptions': 'bind', 'VolumeOptions': 'volume', 'TmpfsOptions': 'tmpfs'}


def _mount_problems(parts, service):
    for index, mount in enumerate(_sequence(service.get('Mounts'))):
        if not isinstance(mount, dict):
            continue
        where = parts + ['Mounts', index]
        kind = mount.get('Type')
        if kind == 'bind' and not mount.get('Source'):
            yield BundleError(json_path(where + ['Source']), 'a bind mount needs the host path as Source')
        if kind == 'tmpfs' and mount.get('Source'):
            yield BundleError(json_path(where + ['Source']), 'a tmpfs mount has no Source')
        for key, owner in _MOUNT_OPTIONS.items():
            if key in mount and kind in _MOUNT_OPTIONS.values() and kind != owner:
                yield BundleError(json_path(where + [key]), '%s apply to %s mounts, this one is %s' % (key, owner, kind))


def _healthcheck_problems(parts, service):
    test = _mapping(service.get('Healthcheck')).get('Test')
    if not isinstance(test, list) or not test:
        return
    where = json_path(parts + ['Healthcheck', 'Test'])
    if test[0] not in HEALTHCHECK_KINDS:
        yield BundleError(where, 'the first element must be one of %s, got %s' % (', '.join(HEALTHCHECK_KINDS),
                                                                                  short_repr(test[0])))
    elif test[0] != 'NONE' and len(test) < 2:
        yield BundleError(where, '%s needs a command after it' % test[0])
    elif test[0] == 'NONE' and len(test) > 1:
        yield BundleError(where, '["NONE"] disables the healthcheck and takes nothing after it')


# What swarmkit refuses below a minimum, zero aside (none: no limit, the default): (path, parser, minimum, shown).
_MINIMUMS = tuple(
    [(('Resources', section, 'CPUs'), parse_cpus, MIN_NANO_CPUS, '0.001') for section in ('Limits', 'Reservations')]
    + [(('Resources', section, 'Memory'), parse_size, MIN_MEMORY_BYTES, format_size(MIN_MEMORY_BYTES))
       for section in ('Limits', 'Reservations')]
    + [(('Healthcheck', key), parse_duration, MIN_HEALTHCHECK_NANOSECONDS, format_duration(MIN_HEALTHCHECK_NANOSECONDS))
       for key in ('Interval', 'Timeout', 'StartPeriod', 'StartInterval')])


def _too_small(parts, service):
    for where, parse, minimum, shown in _MINIMUMS:
        value = service
        for key in where:
            value = _mapping(value).get(key)
        if value is not None and 0 < parse(value, '-') < minimum:
            yield BundleError(json_path(parts + list(where)), 'must be 0 or at least %s, got %s: the swarm refuses '
                              'less' % (shown, short_repr(value)))


def _placement_problems(parts, service):
    placement = _mapping(service.get('Placement'))
    for index, constraint in enumerate(_sequence(placement.get('Constraints'))):
        if isinstance(constraint, str) and not _CONSTRAINT.match(constraint):
            yield BundleError(json_path(parts + ['Placement', 'Constraints', index]),
                              '%s is not a constraint; write it like "node.role == manager" or '
                              '"node.labels.zone != a"' % short_repr(constraint))
    for index, preference in enumerate(_sequence(placement.get('Preferences'))):
        spread = _mapping(preference).get('Spread')
        if isinstance(spread, str) and not spread.startswith(SPREAD_PREFIXES):
            yield BundleError(json_path(parts + ['Placement', 'Preferences', index, 'Spread']),
                              'spread over a label: %s should start with node.labels. or engine.labels.'
                              % short_repr(spread))


def _ulimit_problems(parts, service):
    for index, ulimit in enumerate(_sequence(service.get('Ulimits'))):
        soft, hard = _mapping(ulimit).get('Soft'), _mapping(ulimit).get('Hard')
        if isinstance(soft, int) and isinstance(hard, int) and soft > hard:
            yield BundleError(json_path(parts + ['Ulimits', index, 'Soft']),
                              'the soft limit %d is above the hard limit %d' % (soft, hard))


def _host_entry_problems(parts, service):
    for index, entry in enumerate(_sequence(service.get('Hosts'))):
        if isinstance(entry, str) and not _is_host_entry(entry):
            yield BundleError(json_path(parts + ['Hosts', index]),
                              '%s is not a hosts entry; write it like "10.0.0.5 db db.local" (IP, then names)'
                              % short_repr(entry))


def _is_host_entry(entry):
    fields = entry.split()
    if len(fields) < 2:
        return False
    try:
        ipaddress.ip_address(fields[0])
    except ValueError:
        return False
    return True


def _published_port_duplicates(bundle):
    """A published port taken twice: by two ingress ports anywhere in the stack, or twice in one service."""
    ingress_owner = {}
    for name, service in _services(bundle):
        own = {}
        for index, port in enumerate(_sequence(service.get('Ports'))):
            published = _mapping(port).get('PublishedPort')
            if not isinstance(published, int):
                continue
            key = (published, port.get('Protocol', 'tcp'))
            here = json_path(['Services', name, 'Ports', index])
            other = own.get(key)
            if other is None and port.get('PublishMode', 'ingress') == 'ingress':
                other = ingress_owner.get(key)
                ingress_owner.setdefault(key, here)
            if other is not None:
                yield BundleError(here + '.PublishedPort', 'port %d/%s is already published by %s' % (key + (other,)))
            own.setdefault(key, here)


def _stack_network_problems(bundle):
    for name, network in _mapping(bundle.get('Networks')).items():
        if isinstance(network, dict) and network.get('External') is True:
            # Name is the existing network's; the rest would describe a network that is not created.
            for key in sorted(set(network) - {'External', 'Name'}):
                yield BundleError(json_path(['Networks', name, key]),
                                  'an External network already exists and is not created: %s does not apply' % key)
        elif isinstance(_mapping(network).get('Name'), str) and not re.fullmatch(OBJECT_NAME_PATTERN, network['Name']):
            # swarmkit takes a DNS label as a swarm network's name (validateAnnotations).
            yield BundleError(json_path(['Networks', name, 'Name']), name_message(network['Name']))


def _stack_volume_problems(bundle):
    for name, volume in _mapping(bundle.get('Volumes')).items():
        if isinstance(volume, dict) and volume.get('External') is True:
            for key in sorted(set(volume) - {'External', 'Name'}):
                yield BundleError(json_path(['Volumes', name, key]),
                                  'an External volume already exists and is not created: %s does not apply' % key)


def _stack_volume_mount_problems(parts, service, volumes):
    for index, mount in enumerate(_sequence(service.get('Mounts'))):
        mount = _mapping(mount)
        if mount.get('Type') != 'volume' or mount.get('Source') not in volumes:
            continue
        options = _mapping(mount.get('VolumeOptions'))
        for key, own in (('DriverConfig', 'Driver, DriverOpts'), ('Labels', 'Labels')):
            if key in options:
                yield BundleError(json_path(parts + ['Mounts', index, 'VolumeOptions', key]),
                                  'the stack volume %s has its %s in Volumes.%s (%s); remove it here'
                                  % (short_repr(mount['Source']), key, mount['Source'], own))


def _stack_file_object_problems(bundle, kind):
    for name, item in _mapping(bundle.get(kind)).items():
        if not isinstance(item, dict):
            continue
        parts = [kind, name]
        if item.get('External') is True:
            for key in sorted(set(item) - {'External', 'Name'}):
                yield BundleError(json_path(parts + [key]),
                                  'an External %s already exists and is not created: %s does not apply' % (kind[:-1].lower(), key))
        elif 'File' in item and 'Content' in item:
            yield BundleError(json_path(parts + ['Content']), 'give File or Content, not both')
        elif 'File' not in item and 'Content' not in item:
            yield BundleError(json_path(parts), 'give File (a path relative to the bundle), Content, or External: true')
        elif 'Content' in item:
            size = len(item['Content'].encode('utf-8'))
            limit = {'Secrets': MAX_SECRET_BYTES, 'Configs': MAX_CONFIG_BYTES}[kind]
            if not 1 <= size <= limit:
                yield BundleError(json_path(parts + ['Content']), 'holds %d bytes: a swarm %s holds 1 to %d'
                                  % (size, kind[:-1].lower(), limit))


# ---- Names: what the stack's name makes of the bundle's ----

def scoped_name_errors(stack, bundle):
    """Problems of the Docker names `stack` gives the objects of `bundle` (<stack>_<name>, secrets and configs
    with a digest of their content after it), which the bundle alone does not decide."""
    if not isinstance(stack, str) or not re.fullmatch(OBJECT_NAME_PATTERN, stack):
        return [BundleError('name', '%s is not a valid stack name: use at most %d letters, digits, "-" and "_", '
                            'starting and ending with a letter or digit' % (short_repr(stack), MAX_NAME_LENGTH))]
    errors = []
    for name in _mapping(bundle.get('Services')):
        errors.extend(_scoped_name_error(['Services', name], 'service', scoped_name(stack, name), MAX_NAME_LENGTH))
    if 'Networks' in bundle:
        for name, network in _mapping(bundle.get('Networks')).items():
            if not _mapping(network).get('External') and 'Name' not in _mapping(network):
                errors.extend(_scoped_name_error(['Networks', name], 'network', scoped_name(stack, name),
                                                 MAX_NAME_LENGTH))
        errors.extend(_same_docker_name(stack, bundle, 'Networks', 'network'))
    else:  # Docker 1.12: the networks are those the services name
        for service_name, service in _services(bundle):
            for index, entry in enumerate(_sequence(service.get('Networks'))):
                where = ['Services', service_name, 'Networks', index] + (['Target'] if isinstance(entry, dict) else [])
                errors.extend(_scoped_name_error(where, 'network', scoped_name(stack, attachment_target(entry)),
                                                 MAX_NAME_LENGTH))
    for kind in ('Secrets', 'Configs'):
        errors.extend(_same_docker_name(stack, bundle, kind, kind[:-1].lower()))
        for name, item in _mapping(bundle.get(kind)).items():
            if not _mapping(item).get('External') and 'Name' not in _mapping(item):
                full_name = '%s_%s' % (scoped_name(stack, name), '0' * CONTENT_HASH_DIGITS)
                errors.extend(_scoped_name_error([kind, name], kind[:-1].lower(), full_name, MAX_SECRET_OR_CONFIG_NAME,
                                                 ' (with the digest of its content)'))
    return errors


def _same_docker_name(stack, bundle, section, kind):
    """Two objects the stack creates under one Docker name (a Name that equals another's name or <stack>_<name>)."""
    owners = {}
    for name, item in _mapping(bundle.get(section)).items():
        item = _mapping(item)
        if item.get('External') or (section != 'Networks' and 'Name' not in item):
            continue  # unnamed secrets and configs carry their content's digest: they cannot meet
        docker_name = item.get('Name') or scoped_name(stack, name)
        if docker_name in owners:
            yield BundleError(json_path([section, name] + (['Name'] if 'Name' in item else [])),
                              'the %s\'s Docker name %s is already that of %s.%s; give each its own Name'
                              % (kind, short_repr(docker_name), section, owners[docker_name]))
        owners.setdefault(docker_name, name)


def _scoped_name_error(parts, kind, full_name, limit, note=''):
    if len(full_name) > limit:
        yield BundleError(json_path(parts), "the %s's Docker name %s is %d characters%s; the swarm takes at most %d: "
                          "shorten the name or the stack's"
                          % (kind, short_repr(full_name), len(full_name), note, limit))
