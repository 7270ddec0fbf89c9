# Copyright: crane.swarm developers
# GNU General Public License v3.0+ (see https://www.gnu.org/licenses/gpl-3.0.txt)
"""Bad compose files, read as swarm_stack reads them (read_compose, then compose_to_bundle).

Each file in bad_files/ (named *.compose, so that linters leave their deliberate faults alone)
starts with a comment `# expect: MESSAGE`: the error must contain it
(the compose path and the fix), come as a ComposeError, never as another exception, and come
quickly whatever the file holds.
"""

from __future__ import annotations

import os
import time

import pytest

from ansible_collections.crane.swarm.plugins.plugin_utils.compose.convert import compose_to_bundle
from ansible_collections.crane.swarm.plugins.plugin_utils.compose.errors import ComposeError
from ansible_collections.crane.swarm.plugins.plugin_utils.compose.read import read_compose

BAD_FILES = os.path.join(os.path.dirname(__file__), 'bad_files')
EXPECT = '# expect: '
NAMES = sorted(name for name in os.listdir(BAD_FILES) if name.endswith('.compose'))


def test_there_are_at_least_20_bad_files():
    assert len(NAMES) >= 20


@pytest.mark.parametrize('name', NAMES)
def test_a_bad_compose_file_is_refused_with_its_message(name):
    with open(os.path.join(BAD_FILES, name), encoding='utf-8') as bad_file:
        text = bad_file.read()
    first_line = text.splitlines()[0]
    assert first_line.startswith(EXPECT), 'the file must start with %r' % EXPECT
    expected = first_line[len(EXPECT):]
    started = time.process_time()
    with pytest.raises(ComposeError) as raised:
        project, _warnings = read_compose([(name, text)], {})
        compose_to_bundle(project, 'stack')
    assert time.process_time() - started < 2.0
    assert expected in str(raised.value)
