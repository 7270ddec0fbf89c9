# -*- coding: utf-8 -*-
# Copyright: crane.swarm developers
# GNU General Public License v3.0+ (see https://www.gnu.org/licenses/gpl-3.0.txt)
"""How a bundle's short forms and a service's Mode read: each rule written once, here.

Shared by the controller checks (plugin_utils/bundle/check.py), the translation
(spec.py) and what reads live services (apply.py, status.py). The translation
runs in the module on the manager, the checks only on the controller (the
action plugin). Keeping these few rules here keeps the checks and the schema
(plugin_utils/bundle) out of every module payload.
"""

from __future__ import annotations

# The longest service or network name swarmkit accepts (validateAnnotations: a DNS label).
MAX_NAME_LENGTH = 63
# Names Docker accepts for services, networks, secrets and configs of a stack: swarmkit's isValidDNSName,
# '^[a-zA-Z0-9](?:[-_]*[A-Za-z0-9]+)*$', within MAX_NAME_LENGTH. Written without the nested repetition, which
# backtracks exponentially in Python's re (a name of 29 characters ending in "!" took 30 s): the same names,
# checked in linear time. Match it with re.fullmatch: its "$" also matches before a final newline in Python.
OBJECT_NAME_PATTERN = '^[a-zA-Z0-9](?:[-_a-zA-Z0-9]{0,%d}[a-zA-Z0-9])?$' % (MAX_NAME_LENGTH - 2)


# A service whose Mode names no kind is replicated, and a replicated service that gives no count runs one
# task: the bundle's default (Docker 1.12's) and the Engine's for a ServiceSpec.Mode.Replicated without Replicas.
DEFAULT_MODE_KIND = 'Replicated'
DEFAULT_REPLICAS = 1


def mode_kind(mode):
    """Replicated, Global, ReplicatedJob or GlobalJob: the one key of a Mode, a bundle service's or a ServiceSpec's.

    A Mode that is missing, or does not name exactly one kind, is DEFAULT_MODE_KIND.
    """
    return next(iter(mode)) if isinstance(mode, dict) and len(mode) == 1 else DEFAULT_MODE_KIND


def replicas(mode):
    """The task count of a replicated Mode, a bundle service's or a ServiceSpec's (DEFAULT_REPLICAS when not given)."""
    given = mode.get('Replicated') if isinstance(mode, dict) else None
    return (given or {}).get('Replicas', DEFAULT_REPLICAS)


def attachment_target(entry):
    """The network name of a service's Networks entry (a name, or a mapping with Target)."""
    return entry.get('Target') if isinstance(entry, dict) else entry


def reference_source(entry):
    """The secret or config name of a Secrets/Configs entry (a name, or a mapping with Source)."""
    return entry.get('Source') if isinstance(entry, dict) else entry


def reference_target(entry):
    """The file name a Secrets/Configs entry becomes in the container (default: the source name)."""
    if isinstance(entry, dict):
        return entry.get('Target') or entry.get('Source')
    return entry
