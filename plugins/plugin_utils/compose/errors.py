# Copyright: crane.swarm developers
# GNU General Public License v3.0+ (see https://www.gnu.org/licenses/gpl-3.0.txt)
"""The one error of the compose reader: it names the compose path of the problem and the fix.

Raised by loading, interpolation, merging and conversion alike, so a caller catches one type.
"""

from __future__ import annotations


class ComposeError(ValueError):
    """A compose file problem at `path` (dotted, e.g. services.web.deploy.replicas).

    `source` (the file's name) and `line` (1-based) are given where they are known: by the loader,
    which still sees the YAML text; after loading, only the compose path is left to name the place.
    """

    def __init__(self, path, message, source=None, line=None):
        self.path = path
        self.message = message
        self.source = source
        self.line = line
        where = [part for part in (source, 'line %d' % line if line else None, path) if part]
        super().__init__('%s: %s' % (': '.join(where), message) if where else message)
