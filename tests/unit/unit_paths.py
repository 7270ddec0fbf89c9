# Copyright: crane.swarm developers
# GNU General Public License v3.0+ (see https://www.gnu.org/licenses/gpl-3.0.txt)
"""Where the unit tests find the repository and the example bundles, wherever the test file sits."""

from __future__ import annotations

import os

UNIT = os.path.dirname(os.path.abspath(__file__))
REPO = os.path.dirname(os.path.dirname(UNIT))
BUNDLES = os.path.join(UNIT, 'bundles')
