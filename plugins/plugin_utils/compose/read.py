# -*- coding: utf-8 -*-
# Copyright: crane.swarm developers
# GNU General Public License v3.0+ (see https://www.gnu.org/licenses/gpl-3.0.txt)
"""Reading the compose files of one stack into one compose mapping, as `docker stack deploy -c ... -c ...` does.

    read_compose(sources, env) -> (project mapping, warnings)

`sources` is a list of (name, text), in the order of the `-c` options; `env` the variables to
substitute. As in docker/cli (cli/compose/loader/loader.go Load at commit 34797d16), each file is
parsed and interpolated on its own, then the files are merged (merge.py); a file that cannot be
read stops everything, before any merge.

All files must give one `version` (the CLI's "version mismatched between two composefiles"). As
`docker stack config` of CLI 28.2 reads it: a string from "3.0" to "3.13"; no `version`, an empty
one and "3" mean the latest, "3.13"; a number (version: 3.8 unquoted) is refused. Nothing else
depends on `version` here.

Variables come from `env` only. `docker stack deploy` reads no `.env` file: its environment is the
process's (cli/command/stack/loader/loader.go GetConfigDetails/buildEnvironment at commit 0e73168b),
unlike `docker compose`.
"""

from __future__ import annotations

from ansible_collections.crane.swarm.plugins.module_utils.common.plain_data import short_repr
from ansible_collections.crane.swarm.plugins.plugin_utils.compose.convert import resolved_environment
from ansible_collections.crane.swarm.plugins.plugin_utils.compose.errors import ComposeError
from ansible_collections.crane.swarm.plugins.plugin_utils.compose.interpolation import interpolate_tree
from ansible_collections.crane.swarm.plugins.plugin_utils.compose.load import parse_compose_text, without_extension_fields
from ansible_collections.crane.swarm.plugins.plugin_utils.compose.merge import merge_compose


# The versions docker stack deploy (CLI 28.2) reads: "3.0" to "3.13"; none, "" and "3" mean the latest.
LATEST_VERSION_MINOR = 13


def _version(parsed, name):
    """The version as the CLI reads it (`docker stack config`, CLI 28.2): a string, 3.0 to 3.13."""
    if 'version' not in parsed:
        return '3.%d' % LATEST_VERSION_MINOR
    version = parsed['version']
    if not isinstance(version, str):
        raise ComposeError('version', 'must be a string: quote it, as in version: "3.8"', source=name)
    if version in ('', '3'):
        return '3.%d' % LATEST_VERSION_MINOR
    major, _dot, minor = version.partition('.')
    if major != '3' or not minor.isdigit() or int(minor) > LATEST_VERSION_MINOR or minor != str(int(minor)):
        raise ComposeError('version', 'unsupported compose file version %s: docker stack deploy reads 3.0 to 3.%d; '
                           'write one of those or leave version out' % (short_repr(version), LATEST_VERSION_MINOR),
                           source=name)
    return version


def _with_environment_resolved(project, env):
    """`project` with each service's unset environment values taken from `env`, as the CLI's loader does
    for each file before the files are merged."""
    services = project.get('services')
    if not isinstance(services, dict):
        return project  # the converter says what is wrong with it
    resolved = {}
    for name, service in services.items():
        if isinstance(service, dict) and isinstance(service.get('environment'), (dict, list)):
            service = dict(service, environment=resolved_environment(
                service['environment'], 'services.%s.environment' % name, env))
        resolved[name] = service
    return dict(project, services=resolved)


def read_compose(sources, env):
    """The merged compose mapping of `sources` [(name, text), ...] with `env` substituted, and the warnings."""
    if not sources:
        raise ComposeError(None, 'no compose file given')
    projects, warnings, first_version = [], [], None
    for name, text in sources:
        parsed = parse_compose_text(text, name)
        version = _version(parsed, name)
        if first_version is None:
            first_version = (version, name)
        elif version != first_version[0]:
            raise ComposeError('version', 'is %s here but %s in %s; docker stack deploy refuses files of different '
                               'versions: give them one' % (version, first_version[0], first_version[1]), source=name)
        try:
            interpolated, file_warnings = interpolate_tree(parsed, env)
        except ComposeError as error:
            raise ComposeError(error.path, error.message, source=name) from None
        warnings.extend('%s: %s' % (name, warning) for warning in file_warnings)
        projects.append(_with_environment_resolved(without_extension_fields(interpolated), env))
    return merge_compose(projects), warnings
