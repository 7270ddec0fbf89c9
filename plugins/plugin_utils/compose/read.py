# -*- coding: utf-8 -*-
# Copyright: crane.swarm developers
# GNU General Public License v3.0+ (see https://www.gnu.org/licenses/gpl-3.0.txt)
"""Reading the compose files of one stack into one compose mapping, as `docker stack deploy -c ... -c ...` does.

    read_compose(sources, env) -> (project mapping, warnings)

`sources` is a list of (name, text), in the order of the `-c` options; `env` the variables to
substitute. As in docker/cli (cli/compose/loader/loader.go Load at commit 34797d16), each file is
parsed and interpolated on its own, then the files are merged (merge.py); a file that cannot be
read stops everything, before any merge.

Variables come from `env` only. `docker stack deploy` reads no `.env` file: its environment is the
process's (cli/command/stack/loader/loader.go GetConfigDetails/buildEnvironment at commit 0e73168b),
unlike `docker compose`.
"""

from __future__ import annotations

from ansible_collections.crane.swarm.plugins.plugin_utils.compose.errors import ComposeError
from ansible_collections.crane.swarm.plugins.plugin_utils.compose.interpolation import interpolate_tree
from ansible_collections.crane.swarm.plugins.plugin_utils.compose.load import parse_compose_text, without_extension_fields
from ansible_collections.crane.swarm.plugins.plugin_utils.compose.merge import merge_compose


def read_compose(sources, env):
    """The merged compose mapping of `sources` [(name, text), ...] with `env` substituted, and the warnings."""
    if not sources:
        raise ComposeError(None, 'no compose file given')
    projects, warnings = [], []
    for name, text in sources:
        parsed = parse_compose_text(text, name)
        try:
            interpolated, file_warnings = interpolate_tree(parsed, env)
        except ComposeError as error:
            raise ComposeError(error.path, error.message, source=name) from None
        warnings.extend('%s: %s' % (name, warning) for warning in file_warnings)
        projects.append(without_extension_fields(interpolated))
    return merge_compose(projects), warnings
