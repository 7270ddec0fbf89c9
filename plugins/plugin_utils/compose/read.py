# -*- coding: utf-8 -*-
# Copyright: crane.swarm developers
# GNU General Public License v3.0+ (see https://www.gnu.org/licenses/gpl-3.0.txt)
"""Reading the compose files of one stack into one compose mapping, as `docker stack deploy -c ... -c ...` does.

    read_compose(sources, env) -> (project mapping, warnings)

`sources` is a list of (name, text), in the order of the `-c` options; `env` the variables to
substitute. As in docker/cli (cli/compose/loader/loader.go Load at commit 34797d16), each file is
parsed and interpolated on its own, then the files are merged (merge.py); a file that cannot be
read stops everything, before any merge.

All files must give one `version` (the CLI's "version mismatched between two composefiles"); no
`version`, an empty one and "3" all mean the latest 3.x (cli/compose/schema/schema.go Version, at
commit 0ba14fde). Nothing else depends on `version` here.

Variables come from `env` only. `docker stack deploy` reads no `.env` file: its environment is the
process's (cli/command/stack/loader/loader.go GetConfigDetails/buildEnvironment at commit 0e73168b),
unlike `docker compose`.
"""

from __future__ import annotations

from ansible_collections.crane.swarm.plugins.plugin_utils.compose.errors import ComposeError
from ansible_collections.crane.swarm.plugins.plugin_utils.compose.interpolation import interpolate_tree
from ansible_collections.crane.swarm.plugins.plugin_utils.compose.load import parse_compose_text, without_extension_fields
from ansible_collections.crane.swarm.plugins.plugin_utils.compose.merge import merge_compose


def _version(parsed):
    """The version as the CLI compares it: the value's text (yaml.v2 reads 3.10 as the number 3.1)."""
    if 'version' not in parsed:
        return '3.x'
    version = parsed['version']
    if isinstance(version, float) and version.is_integer():
        version = int(version)  # Go prints the float 3.0 as "3"
    text = '' if version is None else str(version)
    return '3.x' if text in ('', '3') else text


def read_compose(sources, env):
    """The merged compose mapping of `sources` [(name, text), ...] with `env` substituted, and the warnings."""
    if not sources:
        raise ComposeError(None, 'no compose file given')
    projects, warnings, first_version = [], [], None
    for name, text in sources:
        parsed = parse_compose_text(text, name)
        version = _version(parsed)
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
        projects.append(without_extension_fields(interpolated))
    return merge_compose(projects), warnings
