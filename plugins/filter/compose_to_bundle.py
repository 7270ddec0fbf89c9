# -*- coding: utf-8 -*-
# Copyright: crane.swarm developers
# GNU General Public License v3.0+ (see https://www.gnu.org/licenses/gpl-3.0.txt)
"""crane.swarm.compose_to_bundle: compose files -> the extended DAB bundle swarm_stack deploys from them."""

from __future__ import annotations

import json

from ansible.errors import AnsibleFilterError

from ansible_collections.crane.swarm.plugins.plugin_utils.compose.convert import compose_to_bundle as convert
from ansible_collections.crane.swarm.plugins.plugin_utils.compose.errors import ComposeError
from ansible_collections.crane.swarm.plugins.plugin_utils.compose.read import read_compose


def _text(document, index):
    if isinstance(document, str):
        return document
    if isinstance(document, dict):
        return json.dumps(document)  # JSON is YAML: the reader takes the mapping as one file's text
    raise AnsibleFilterError('compose_to_bundle: compose file %d must be YAML text or a mapping, not %s'
                             % (index + 1, type(document).__name__))


def compose_to_bundle(compose, stack='stack', env=None):
    """The bundle of `compose`: one compose file's text or mapping, or a list of them merged in order."""
    documents = compose if isinstance(compose, list) else [compose]
    if not documents:
        raise AnsibleFilterError('compose_to_bundle: no compose file given')
    if env is not None and not isinstance(env, dict):
        raise AnsibleFilterError('compose_to_bundle: env must be a mapping of variables')
    variables = dict((str(key), '' if value is None else str(value)) for key, value in (env or {}).items())
    sources = [('compose file %d' % (index + 1), _text(document, index)) for index, document in enumerate(documents)]
    try:
        project, _warnings = read_compose(sources, variables)
        for name, service in (project.get('services') or {}).items():
            if isinstance(service, dict) and service.get('env_file') is not None:
                raise ComposeError('services.%s.env_file' % name, 'a filter reads no files: deploy with '
                                   'crane.swarm.swarm_stack compose, which reads them, or move the variables to '
                                   '`environment`')
        bundle, _notes = convert(project, stack, env=variables)
    except ComposeError as error:
        raise AnsibleFilterError('compose_to_bundle: %s' % error) from None
    return bundle


class FilterModule(object):
    def filters(self):
        return {'compose_to_bundle': compose_to_bundle}
