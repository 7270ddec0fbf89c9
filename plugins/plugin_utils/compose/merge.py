# -*- coding: utf-8 -*-
# Copyright: crane.swarm developers
# GNU General Public License v3.0+ (see https://www.gnu.org/licenses/gpl-3.0.txt)
"""Merging several compose files in order, as `docker stack deploy -c a.yml -c b.yml` merges them.

    merge_compose(mappings) -> one compose mapping (the inputs are not changed)

The CLI loads each file into its types, then folds them with mergo (WithOverride, WithAppendSlice) and
a few special cases: docker/cli cli/compose/loader/merge.go at commit e0dfb46e and merge_test.go at
ca4e8ebd, types in cli/compose/types/types.go at 0644aa39. The rules, applied here to the mappings
before conversion (short and long syntaxes are normalised only where a rule needs it):

- top level: services by name; volumes, networks, secrets and configs by name, a later entry
  replacing an earlier one whole (mergo.Map of structs); any other key replaced;
- a service in one file only is taken as written; a service in both is merged field by field:
  - a scalar is replaced, except by an empty value ("", 0, false, null) over a set one: mergo keeps
    the earlier one (so `read_only: false` does not undo `read_only: true`); `deploy.replicas` is replaced even
    by 0 (the CLI's mergeUint64, issue docker/cli#3293);
  - `command` and `entrypoint` are replaced when the later one is not empty (mergeShellCommand);
  - mappings (deploy, resources, healthcheck, build, ...) merge key by key, recursively;
    `environment`, `labels`, `deploy.labels` and `sysctls` first turn a "KEY=value" list into a
    mapping, as the CLI's types do;
  - `ports` merge by published port (unpublished ports share the key 0, so they collapse into the
    last one, as in the CLI), `volumes` by target, `secrets` and `configs` by source; the result is
    sorted by that key (mergeSlice); a port range written short becomes one long entry per port;
  - `networks`: a list becomes a mapping; by name, a later non-empty entry replaces the aliases
    (even with none) and sets ipv4_address/ipv6_address when it has them (mergeServiceNetworkConfig);
  - `logging`: the same driver, or either without one, merges the options; another driver
    replaces the whole entry (mergeLoggingConfig);
  - `ulimits`: by name, a later value replaces the earlier one whole (mergeUlimitsConfig);
  - any other list is appended (WithAppendSlice): cap_add, dns, extra_hosts, env_file, placement
    constraints, and also healthcheck `test`, which the CLI appends too (a string test counting as
    ["CMD-SHELL", string]). `dns`, `dns_search`, `env_file` and `tmpfs` written as one string count
    as a list of one.

Measured with `docker stack config` (CLI 28.2): in `labels`, `deploy.labels`, `sysctls` and
`logging.options` a later empty value replaces the earlier one; in `environment` an empty or null
later value keeps the earlier one, a set one replaces it.
Durations written as "0s" count as set here, while the CLI, holding 0, would keep the earlier value.
"""

from __future__ import annotations

from ansible_collections.crane.swarm.plugins.plugin_utils.compose.convert import _short_ports
from ansible_collections.crane.swarm.plugins.plugin_utils.compose.errors import ComposeError

TOP_LEVEL_BY_NAME = ('volumes', 'networks', 'secrets', 'configs')
MAPPINGS_FROM_LISTS = {('environment',): None, ('labels',): '', ('deploy', 'labels'): '', ('sysctls',): ''}
STRING_OR_LIST = ('dns', 'dns_search', 'env_file', 'tmpfs')
REPLACED_WHEN_NOT_EMPTY = ('command', 'entrypoint')
HEALTHCHECK_TEST = ('healthcheck', 'test')
REPLACED_EVEN_BY_ZERO = (('deploy', 'replicas'),)
# Go maps of strings: a later value replaces the earlier one even when empty (measured with
# `docker stack config`, CLI 28.2); `environment` keeps the earlier value instead, as the other fields do.
MAPS_REPLACED_EVEN_BY_EMPTY = (('labels',), ('deploy', 'labels'), ('sysctls',), ('logging', 'options'))


def _is_empty(value):
    """What mergo calls an empty value: it never overrides a set one."""
    return value is None or (not isinstance(value, (dict, list)) and not value)


def _as_mapping(value, bare):
    """environment/labels/sysctls as a mapping: a "KEY=value" list read as the CLI's types read it."""
    if not isinstance(value, list):
        return value
    mapping = {}
    for item in value:
        key, separator, rest = str(item).partition('=')
        mapping[key] = rest if separator else bare
    return mapping


def _as_list(value):
    return [value] if isinstance(value, str) else value


def _sort_key(key):
    return (0, key, '') if isinstance(key, int) and not isinstance(key, bool) else (1, 0, str(key))


def _port_entries(item, path):
    """(published port or 0, entry) for one port; a short range becomes one long entry per port."""
    if isinstance(item, dict):
        published = item.get('published')
        try:
            return [(int(published or 0), item)]
        except (TypeError, ValueError, OverflowError):  # inf
            return [(str(published), item)]
    if isinstance(item, bool) or not isinstance(item, (str, int)):
        return [(str(item), item)]
    ports = _short_ports(str(item), path, [])
    if len(ports) == 1:
        return [(ports[0].get('PublishedPort', 0), item)]
    return [(port.get('PublishedPort', 0), {key: value for key, value in (
        ('target', port['Port']), ('published', port.get('PublishedPort')), ('protocol', port['Protocol']),
        ('mode', port['PublishMode'])) if value is not None}) for port in ports]


def _volume_entries(item, _path):
    if isinstance(item, dict):
        return [(str(item.get('target')), item)]
    parts = str(item).split(':')
    return [(parts[1] if len(parts) > 1 else parts[0], item)]


def _source_entries(item, _path):
    if isinstance(item, dict):
        return [(str(item.get('source')), item)]
    return [(str(item), item)]


KEYED_LISTS = {'ports': _port_entries, 'volumes': _volume_entries, 'secrets': _source_entries,
               'configs': _source_entries}


def _merge_keyed(base, override, entries_of, path):
    """mergeSlice: both lists keyed, the later entry winning, sorted by key."""
    merged = {}
    for items in (base, override or []):
        if not isinstance(items, list):
            raise ComposeError(path, 'expected a list, got %s' % type(items).__name__)
        for index, item in enumerate(items):
            for key, entry in entries_of(item, '%s.%d' % (path, index)):
                merged[key] = entry
    return [merged[key] for key in sorted(merged, key=_sort_key)]


def _merge_networks(base, override):
    base, override = (_as_mapping(value, None) if isinstance(value, list) else value for value in (base, override))
    if not isinstance(base, dict) or not isinstance(override, dict):
        return override
    merged = dict(base)
    for name, entry in override.items():
        earlier = merged.get(name)
        if not isinstance(earlier, dict) or not isinstance(entry, dict):
            merged[name] = entry if entry is not None or name not in merged else earlier
            continue
        if not entry:
            continue  # an empty entry is mergo's zero value: the earlier one stays
        combined = {key: value for key, value in earlier.items() if key != 'aliases'}
        combined.update((key, value) for key, value in entry.items()
                        if key not in ('ipv4_address', 'ipv6_address') or value)
        merged[name] = combined
    return merged


def _merge_logging(base, override):
    if not isinstance(base, dict) or not isinstance(override, dict):
        return base if override is None else override
    base_driver, override_driver = base.get('driver') or '', override.get('driver') or ''
    if base_driver and override_driver and base_driver != override_driver:
        return override
    merged = dict(base)
    if override_driver:
        merged['driver'] = override_driver
    options = _merge_value(base.get('options'), override.get('options'), ('logging', 'options'))
    if options is not None:
        merged['options'] = options
    return merged


def _merge_ulimits(base, override):
    if not isinstance(base, dict) or not isinstance(override, dict):
        return base if override is None else override
    merged = dict(base)
    merged.update((name, value) for name, value in override.items() if not _is_empty(value))
    return merged


def _merge_value(base, override, keys):
    """The generic rule (mergo WithOverride, WithAppendSlice) at the service path `keys`."""
    if keys in MAPPINGS_FROM_LISTS:
        base, override = _as_mapping(base, MAPPINGS_FROM_LISTS[keys]), _as_mapping(override, MAPPINGS_FROM_LISTS[keys])
    elif keys == HEALTHCHECK_TEST:
        # The CLI's HealthCheckTest reads a string as ["CMD-SHELL", string] before appending.
        base, override = (['CMD-SHELL', value] if isinstance(value, str) else value for value in (base, override))
    if base is None:
        return override
    if override is None:
        return override if _is_empty(base) else base
    if isinstance(base, dict) and isinstance(override, dict):
        merged = dict(base)
        if keys in MAPS_REPLACED_EVEN_BY_EMPTY:
            merged.update(override)
            return merged
        for key, value in override.items():
            merged[key] = _merge_value(base[key], value, keys + (key,)) if key in base else value
        return merged
    if isinstance(base, list) and isinstance(override, list):
        return base + override
    if isinstance(base, (dict, list)) or isinstance(override, (dict, list)):
        return override  # a shape the CLI's types refuse: the converter will say so at this path
    if _is_empty(override) and not _is_empty(base) and keys not in REPLACED_EVEN_BY_ZERO:
        return base
    return override  # mergo: also an empty value over an empty one (environment C: "" then C: null gives C)


def _merge_service(base, override, name):
    if not isinstance(base, dict) or not isinstance(override, dict):
        return override if override is not None else base
    merged = dict(base)
    for key, value in override.items():
        if key not in base:
            if value != []:  # mergo appends an empty list to nil: still nil, so a third file's list is taken as written
                merged[key] = value
            continue
        earlier, path = base[key], 'services.%s.%s' % (name, key)
        if key in KEYED_LISTS and isinstance(earlier, list):
            merged[key] = _merge_keyed(earlier, value, KEYED_LISTS[key], path)
        elif key in REPLACED_WHEN_NOT_EMPTY:
            merged[key] = value if value else earlier
        elif key == 'networks':
            merged[key] = _merge_networks(earlier, value)
        elif key == 'logging':
            merged[key] = _merge_logging(earlier, value)
        elif key == 'ulimits':
            merged[key] = _merge_ulimits(earlier, value)
        elif key in STRING_OR_LIST:
            merged[key] = _merge_value(_as_list(earlier), _as_list(value), (key,))
        else:
            merged[key] = _merge_value(earlier, value, (key,))
    # The CLI rewrites a keyed list of the earlier file even when the later file does not set it.
    for key, entries_of in KEYED_LISTS.items():
        if key in base and key not in override and isinstance(base[key], list):
            merged[key] = _merge_keyed(base[key], [], entries_of, 'services.%s.%s' % (name, key))
    return merged


def merge_compose(mappings):
    """The compose mappings, merged in order, as repeated `docker stack deploy -c` merges them."""
    if not mappings:
        raise ComposeError(None, 'no compose file given')
    merged = dict(mappings[0])
    for mapping in mappings[1:]:
        for key, value in mapping.items():
            earlier = merged.get(key)
            if key == 'services' and isinstance(earlier, dict) and isinstance(value, dict):
                services = dict(earlier)
                for name, service in value.items():
                    services[name] = _merge_service(earlier[name], service, name) if name in earlier else service
                merged[key] = services
            elif key in TOP_LEVEL_BY_NAME and isinstance(earlier, dict) and isinstance(value, dict):
                merged[key] = {**earlier, **value}
            elif value is not None or key not in merged:
                merged[key] = value
    return merged
