# Copyright: crane.swarm developers
# GNU General Public License v3.0+ (see https://www.gnu.org/licenses/gpl-3.0.txt)
"""Go-style durations <-> nanoseconds."""

from __future__ import annotations

import pytest

from ansible_collections.crane.swarm.plugins.module_utils.common.durations import format_duration, parse_duration

SECOND = 10 ** 9


@pytest.mark.parametrize('text, nanoseconds', [
    ('30s', 30 * SECOND), ('1m30s', 90 * SECOND), ('2160h', 2160 * 3600 * SECOND), ('500ms', SECOND // 2),
    ('1.5s', 3 * SECOND // 2), ('250us', 250000), ('10ns', 10), ('1h1m1s', 3661 * SECOND), ('0s', 0),
    (5000, 5000), ('5000', 5000), ('.5s', SECOND // 2),
])
def test_parse(text, nanoseconds):
    assert parse_duration(text, 'field') == nanoseconds


@pytest.mark.parametrize('bad', ['', '5 s', 's', '1d', '-5s', True, -1, '1m 30s', 'abc'])
def test_bad_values_name_the_field(bad):
    with pytest.raises(ValueError, match='^update_delay: '):
        parse_duration(bad, 'update_delay')


@pytest.mark.parametrize('nanoseconds, text', [
    (90 * SECOND, '1m30s'), (2160 * 3600 * SECOND, '2160h'), (SECOND // 2, '500ms'), (0, '0s'), (1, '1ns'),
    (3 * SECOND // 2, '1s500ms'),
])
def test_format(nanoseconds, text):
    assert format_duration(nanoseconds) == text
    assert parse_duration(text, 'f') == nanoseconds
