# -*- coding: utf-8 -*-
# Copyright: crane.swarm developers
# GNU General Public License v3.0+ (see https://www.gnu.org/licenses/gpl-3.0.txt)
"""Standalone swarm secrets and configs: what to create, relabel and remove, as plain data.

    plan_present(...) -> Plan: the object to create (if any), the labels to set on the current one,
                         the objects to remove, those kept because a service uses them
    plan_absent(...)  -> the objects to remove, or the services that stop it
    services_using(kind, services) -> {object name: [service names]}
    requested_labels(labels) -> the user's labels as the engine takes them, or LabelError
    object_view(item) -> what results and diffs show of an object: never its content

The Engine API never returns a secret's data, and neither secrets nor configs can change their
data (the engine takes label updates only). So each object carries the SHA-256 of its content in
the label CONTENT_LABEL, new content means a new object, and:

- without rotation the object keeps its name: new content replaces it (remove, create), which
  the engine refuses while a service uses it, so that is refused first, naming the services;
- with rotation (as community.docker's rolling_versions) each content is a new version
  `<name>_v<N>` (label VERSION_LABEL), services move to the new name when their stack is
  deployed again, and old versions beyond `versions_to_keep` go once no service uses them.
"""

from __future__ import annotations

import base64
import collections
import hashlib
import re

CONTENT_LABEL = 'crane.swarm.sha256'
VERSION_LABEL = 'crane.swarm.version'
MANAGED_LABELS = (CONTENT_LABEL, VERSION_LABEL)


class LabelError(ValueError):
    """The labels option cannot be used; the message names the label and the fix."""


Plan = collections.namedtuple('Plan', 'create current relabel remove kept_in_use refusal')
"""create: {'name', 'version'} of the object to create, or None; current: the live object that stays
the current one (None when `create`); relabel: the labels to set on `current`, or None; remove: names
to remove (a replaced object first); kept_in_use: old versions kept because services use them;
refusal: why nothing can be done (a message), or None."""


def content_digest(data):
    """The SHA-256 (hex) of the content bytes, kept in CONTENT_LABEL."""
    return hashlib.sha256(data).hexdigest()


def versioned_name(name, version):
    return '%s_v%d' % (name, version)


def versions_of(name, live_objects):
    """{version number: live object} of the rotated versions `<name>_v<N>` among live_objects."""
    pattern = re.compile(r'^%s_v([1-9][0-9]{0,8})$' % re.escape(name))
    found = {}
    for item in live_objects:
        match = pattern.match(item['Spec']['Name'])
        if match:
            found[int(match.group(1))] = item
    return found


def requested_labels(labels):
    """The labels option as the engine takes them (string values, numbers converted), or LabelError.

    The module's own labels (MANAGED_LABELS) are refused: they record the content and the version.
    """
    if labels is None:
        return {}
    if not isinstance(labels, dict):
        raise LabelError('labels must be a mapping of label name to string value')
    converted = {}
    for key, value in labels.items():
        if key in MANAGED_LABELS:
            raise LabelError('labels.%s is set by the module itself (the content\'s SHA-256 and the version); '
                             'remove it from labels' % key)
        if value is None:
            value = ''
        elif isinstance(value, bool):
            raise LabelError('labels.%s is the boolean %s; labels are strings: quote it (%s: "%s")'
                             % (key, value, key, str(value).lower()))
        elif isinstance(value, (int, float)):
            value = str(value)
        elif not isinstance(value, str):
            raise LabelError('labels.%s must be a string, not %s; write the value as a quoted string'
                             % (key, type(value).__name__))
        converted[str(key)] = value
    return converted


def user_labels(item):
    """The labels of a live object but those this module manages."""
    labels = item['Spec'].get('Labels') or {}
    return dict((key, value) for key, value in labels.items() if key not in MANAGED_LABELS)


def wanted_labels(labels, digest, version=None):
    """Every label the object should carry: the user's, the content's digest, the version when rotated."""
    wanted = dict(labels or {})
    wanted[CONTENT_LABEL] = digest
    if version is not None:
        wanted[VERSION_LABEL] = str(version)
    return wanted


def services_using(kind, services):
    """{secret or config name: sorted names of the services that refer to it} (kind: 'secret' or 'config')."""
    key, name_key = {'secret': ('Secrets', 'SecretName'), 'config': ('Configs', 'ConfigName')}[kind]
    users = collections.defaultdict(set)
    for service in services:
        spec = service.get('Spec') or {}
        container = (spec.get('TaskTemplate') or {}).get('ContainerSpec') or {}
        for reference in container.get(key) or []:
            if reference.get(name_key):
                users[reference[name_key]].add(spec.get('Name'))
    return dict((name, sorted(names)) for name, names in users.items())


def templating_of(item):
    """The template driver of a live object (Spec.Templating.Name), or None."""
    return (item['Spec'].get('Templating') or {}).get('Name') or None


def digest_of(item):
    """The SHA-256 of a live object's content: its label, else its data where the engine returns them
    (configs; a config made elsewhere has no label); None when unknown (a secret made elsewhere)."""
    digest = (item['Spec'].get('Labels') or {}).get(CONTENT_LABEL)
    if digest:
        return digest
    data = item['Spec'].get('Data')
    if not data:
        return None
    try:
        return content_digest(base64.b64decode(data, validate=True))
    except (TypeError, ValueError):
        return None


def same_content(item, digest, templating=None):
    """Whether a live object holds the content of this digest, rendered by the same template driver
    (a config's template driver is fixed at creation, as its data)."""
    return digest_of(item) == digest and templating_of(item) == (templating or None)


def object_view(item):
    """What a result or diff shows of a live object: name, the user's labels, version, the content's SHA-256."""
    labels = item['Spec'].get('Labels') or {}
    version = labels.get(VERSION_LABEL)
    return dict(name=item['Spec']['Name'], labels=user_labels(item),
                version=int(version) if version and version.isdigit() else None, sha256=digest_of(item))


def relabelling(item, labels, digest, version=None):
    """The labels to set on a live object that keeps its content, or None when they are right."""
    wanted = wanted_labels(labels, digest, version)
    return None if (item['Spec'].get('Labels') or {}) == wanted else wanted


def current_object(name, live_objects, rolling):
    """The live object that is `name` now: the one so named, or the newest rotated version; or None."""
    if rolling:
        versions = versions_of(name, live_objects)
        return versions[max(versions)] if versions else None
    return dict((item['Spec']['Name'], item) for item in live_objects).get(name)


def plan_present(kind, name, digest, labels, live_objects, users, rolling=False, versions_to_keep=5, force=False,
                 templating=None):
    """The Plan that gives `name` this content (digest) and these labels.

    live_objects: the live secrets (or configs); users: services_using() of the live services;
    templating: the template driver (configs), part of what the object holds.
    """
    live = dict((item['Spec']['Name'], item) for item in live_objects)
    if not rolling:
        current = live.get(name)
        if current is None:
            return Plan(dict(name=name, version=None), None, None, [], [], None)
        if same_content(current, digest, templating) and not force:
            return Plan(None, current, relabelling(current, labels, digest), [], [], None)
        if users.get(name):
            return Plan(None, current, None, [], [], (
                '%s %s holds other content%s%s, and a swarm %s cannot change its content: it would have to be '
                'removed and created again, which the engine refuses while services use it (%s). Nothing was '
                'changed. Use rolling_versions: true (a new %s <name>_v<N> for new content), or remove those '
                'services first'
                % (kind, name, ' or another template_driver' if kind == 'config' else '',
                   ' (or force: true)' if force else '', kind, ', '.join(users[name]), kind)))
        return Plan(dict(name=name, version=None), None, None, [name], [], None)
    versions = versions_of(name, live_objects)
    newest = max(versions) if versions else 0
    create, current, relabel = None, None, None
    if newest and same_content(versions[newest], digest, templating) and not force:
        current = versions[newest]
        relabel = relabelling(current, labels, digest, newest)
        old = sorted((number for number in versions if number != newest), reverse=True)
    else:
        create = dict(name=versioned_name(name, newest + 1), version=newest + 1)
        old = sorted(versions, reverse=True)
    remove, kept_in_use = [], []
    if versions_to_keep >= 0:
        for number in old[versions_to_keep:]:
            old_name = versions[number]['Spec']['Name']
            (kept_in_use if users.get(old_name) else remove).append(old_name)
    return Plan(create, current, relabel, sorted(remove), sorted(kept_in_use), None)


def plan_absent(kind, name, live_objects, users):
    """(names to remove, refusal or None): `name` itself and all its rotated versions, or nothing while used."""
    names = sorted(item['Spec']['Name'] for item in live_objects if item['Spec']['Name'] == name)
    names += sorted(item['Spec']['Name'] for item in versions_of(name, live_objects).values())
    used = [(each, users[each]) for each in names if users.get(each)]
    if used:
        return [], ('%s %s is in use, so nothing was removed: %s. Remove or update those services first'
                    % (kind, name, '; '.join('%s by %s' % (each, ', '.join(services)) for each, services in used)))
    return names, None
