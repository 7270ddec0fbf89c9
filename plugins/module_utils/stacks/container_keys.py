# -*- coding: utf-8 -*-
# Copyright: crane.swarm developers
# GNU General Public License v3.0+ (see https://www.gnu.org/licenses/gpl-3.0.txt)
"""The bundle's service keys that set one ContainerSpec field each, declared once.

Each entry names the bundle key, the Engine API field it sets in
TaskTemplate.ContainerSpec, the compose key that sets it (None where compose has no
such key or needs code of its own), the kind of its value, the value the engine
assumes when the field is left out (None: nothing to assume) and a description.
Everything else is derived from this table:

- plugin_utils/bundle/schema.py writes the key's JSON Schema from its kind and description;
- module_utils/stacks/spec.py copies the value into ContainerSpec (a duration parsed), and
  the comparison fills in the default on both sides, so leaving a key out and writing the
  engine's default are the same;
- plugin_utils/compose/convert.py reads the compose key by its kind;
- the diff shows a duration as a duration.

Adding such a key is one line here. Keys with a shape of their own (Env, Hosts,
DNSConfig, Ulimits, OomScoreAdj, Healthcheck, Mounts, Secrets, ...) keep their code in
those modules.
"""

from __future__ import annotations

from collections import namedtuple

# Kinds of values: how the schema, the translation and the compose reader treat them.
TEXT = 'text'              # a non-empty string
STRING = 'string'          # any string
SCALAR_TEXT = 'scalar'     # a string; compose also takes a number (YAML reads user: 1000 as one)
BOOLEAN = 'boolean'
STRING_LIST = 'string-list'
STRING_MAP = 'string-map'
WORDS = 'words'            # a list of strings; compose also takes a string, split like a shell
DURATION = 'duration'      # a Go duration or integer nanoseconds, sent as nanoseconds
ENUM = 'enum'              # one of `choices`

SECOND = 10 ** 9

ContainerKey = namedtuple('ContainerKey', 'name api compose kind default description choices')


def _key(name, api, compose, kind, description, default=None, choices=()):
    return ContainerKey(name, api, compose, kind, default, description, tuple(choices))


CONTAINER_KEYS = (
    _key('Image', 'Image', 'image', TEXT, 'The image, best pinned by digest: name@sha256:...'),
    _key('Command', 'Command', 'entrypoint', WORDS, 'The entrypoint (compose `entrypoint`); the image\'s when left out.'),
    _key('Args', 'Args', 'command', WORDS, 'Arguments of the entrypoint (compose `command`).'),
    _key('WorkingDir', 'Dir', 'working_dir', STRING, 'Working directory of the process.'),
    _key('User', 'User', 'user', SCALAR_TEXT, 'User (and group) the process runs as: "1000", "app:app".'),
    _key('Hostname', 'Hostname', 'hostname', STRING, 'Hostname of the containers; Swarm templates such as '
         '"{{.Node.Hostname}}" allowed.'),
    _key('StopSignal', 'StopSignal', 'stop_signal', TEXT, 'Signal that stops the containers, such as SIGINT.'),
    _key('StopGracePeriod', 'StopGracePeriod', 'stop_grace_period', DURATION,
         'Time between the stop signal and SIGKILL. Default 10s.', default=10 * SECOND),
    _key('Init', 'Init', 'init', BOOLEAN, 'Run an init process in the container.'),
    _key('CapabilityAdd', 'CapabilityAdd', 'cap_add', STRING_LIST, 'Kernel capabilities to add.'),
    _key('CapabilityDrop', 'CapabilityDrop', 'cap_drop', STRING_LIST, 'Kernel capabilities to drop.'),
    _key('Sysctls', 'Sysctls', 'sysctls', STRING_MAP, 'Namespaced kernel parameters.'),
    _key('ReadOnly', 'ReadOnly', 'read_only', BOOLEAN, 'Mount the container\'s root filesystem read-only.'),
    _key('TTY', 'TTY', 'tty', BOOLEAN, 'Allocate a pseudo-TTY.'),
    _key('StdinOpen', 'OpenStdin', 'stdin_open', BOOLEAN, 'Keep the containers\' standard input open (OpenStdin).'),
    _key('Isolation', 'Isolation', 'isolation', ENUM, 'Isolation technology of the containers (Windows hosts; Linux '
         'engines accept only default).', default='default', choices=('default', 'process', 'hyperv')),
    # The CLI refuses compose's group_add in a stack file (measured, CLI 28.2): no compose key.
    _key('Groups', 'Groups', None, STRING_LIST, 'Additional groups the container process runs with (docker service '
         'create --group).'),
)

CONTAINER_KEYS_BY_NAME = dict((key.name, key) for key in CONTAINER_KEYS)
