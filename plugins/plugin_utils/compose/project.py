# Copyright: crane.swarm developers
# GNU General Public License v3.0+ (see https://www.gnu.org/licenses/gpl-3.0.txt)
"""A stack's compose files with the files they name, read into one bundle, as `docker stack deploy -c` reads them.

    compose_bundle(sources, base_dir, variables, stack, read_text) -> (bundle, warnings)

`sources` are (name, text) in the order of the `-c` options; `base_dir` the folder of the first file,
which the CLI takes as the working folder: `env_file` files and relative bind-mount sources are
resolved against it (a relative source becomes an absolute path, as the CLI makes it; it must
exist on the nodes that run the tasks). `read_text(path)` returns a file's text (the caller bounds
it); here nothing else touches the file system.

Variables: `variables` only. The docker CLI substitutes its process environment; swarm_stack takes
the `env` option and a `.env` file beside the first compose file instead (dotenv_variables), so a
run depends on nothing of the controller's environment.
"""

from __future__ import annotations

import os

from ansible_collections.crane.swarm.plugins.module_utils.common.plain_data import short_repr
from ansible_collections.crane.swarm.plugins.plugin_utils.compose.convert import compose_to_bundle
from ansible_collections.crane.swarm.plugins.plugin_utils.compose.errors import ComposeError
from ansible_collections.crane.swarm.plugins.plugin_utils.compose.read import read_compose


def env_lines(text, source, unquote=False):
    """{KEY: value, or None for a line with a bare KEY} of an env file, as docker's kvfile reads it.

    Lines are stripped of leading blanks; empty lines and lines starting with `#` are skipped; the
    value is everything after the first `=`, taken as written. With `unquote` (a `.env` file, as
    docker compose reads it), a value wrapped in matching quotes loses them.
    """
    entries = {}
    for number, line in enumerate(text.splitlines(), 1):
        line = line.lstrip()
        if not line or line.startswith('#'):
            continue
        key, separator, value = line.partition('=')
        if not key or key != key.strip() or any(character.isspace() for character in key):
            raise ComposeError(None, 'expected KEY=value, got %s' % short_repr(line), source=source, line=number)
        if unquote and len(value) >= 2 and value[0] == value[-1] and value[0] in '"\'':
            value = value[1:-1]
        entries[key] = value if separator else None
    return entries


def dotenv_variables(text, source):
    """The variables of a `.env` file; a bare KEY sets nothing."""
    return dict((key, value) for key, value in env_lines(text, source, unquote=True).items() if value is not None)


def _env_files(value, path):
    if isinstance(value, str):
        return [value]
    if isinstance(value, list) and all(isinstance(item, str) for item in value):
        return value
    raise ComposeError(path, 'expected a file name or a list of them')


def _service_env_files(project, base_dir, variables, read_text):
    """{service: {KEY: value}} from each service's env_file files, read in order (a later file wins)."""
    values = {}
    for name, service in (project.get('services') or {}).items():
        if not isinstance(service, dict) or service.get('env_file') is None:
            continue
        merged = {}
        for file_name in _env_files(service['env_file'], 'services.%s.env_file' % name):
            path = os.path.join(base_dir, os.path.expanduser(file_name))
            for key, value in env_lines(read_text(path), file_name).items():
                if value is None:
                    # kvfile: a bare KEY takes the variable of that name, and is left out without one.
                    if key not in variables:
                        continue
                    value = variables[key]
                merged[key] = value
        values[name] = merged
    return values


def _absolute_bind_sources(bundle, base_dir):
    """Relative bind-mount sources made absolute against `base_dir`, as the CLI makes them; the notes."""
    notes = []
    for name, service in bundle['Services'].items():
        for index, mount in enumerate(service.get('Mounts') or []):
            source = mount.get('Source')
            if mount.get('Type') == 'bind' and isinstance(source, str) and not source.startswith('/'):
                mount['Source'] = os.path.normpath(os.path.join(base_dir, os.path.expanduser(source)))
                notes.append('services.%s.volumes.%d: the bind source %s is %s, resolved against the folder of '
                             'the first compose file as docker stack deploy resolves it; it must exist on the nodes'
                             % (name, index, source, mount['Source']))
    return notes


def compose_bundle(sources, base_dir, variables, stack, read_text):
    """(bundle, warnings) of the compose files `sources`; raises ComposeError naming the file and path."""
    project, warnings = read_compose(sources, variables)
    env_file_values = _service_env_files(project, base_dir, variables, read_text)
    bundle, notes = compose_to_bundle(project, stack, env_file_values, variables)
    return bundle, warnings + notes + _absolute_bind_sources(bundle, base_dir)
