# Copyright: crane.swarm developers
# GNU General Public License v3.0+ (see https://www.gnu.org/licenses/gpl-3.0.txt)
"""The one error of the compose reader: it names the compose path of the problem and the fix.

Raised by loading, interpolation, merging and conversion alike, so a caller catches one type.
"""

from __future__ import annotations


class ComposeError(ValueError):
    """A compose file problem at `path` (dotted, e.g. services.web.deploy.replicas)."""

    def __init__(self, path, message):
        self.path = path
        self.message = message
        super().__init__('%s: %s' % (path, message) if path else message)
