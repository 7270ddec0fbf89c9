# Copyright: crane.swarm developers
# GNU General Public License v3.0+ (see https://www.gnu.org/licenses/gpl-3.0.txt)
"""Sizes -> bytes and CPU counts -> NanoCPUs, as Docker's CLI reads them."""

from __future__ import annotations

import pytest

from ansible_collections.crane.swarm.plugins.module_utils.common.sizes import format_size, parse_cpus, parse_size

KIB, MIB, GIB = 1024, 1024 ** 2, 1024 ** 3


@pytest.mark.parametrize('text, size', [
    ('512M', 512 * MIB), ('1G', GIB), ('64k', 64 * KIB), ('64K', 64 * KIB), ('1.5g', 3 * GIB // 2), ('100', 100),
    ('100b', 100), ('512MiB', 512 * MIB), ('512mb', 512 * MIB), ('2 GB', 2 * GIB), ('1t', 1024 * GIB), (4096, 4096), (0, 0),
])
def test_parse_size(text, size):
    assert parse_size(text, 'field') == size


@pytest.mark.parametrize('bad', ['', 'M', '12x', '-1M', '1.G', True, -1, 1.5, None, '1 G B'])
def test_bad_sizes_name_the_field(bad):
    with pytest.raises(ValueError, match='^Memory: .* is not a size'):
        parse_size(bad, 'Memory')


@pytest.mark.parametrize('value, nano', [
    (0.5, 500000000), ('0.5', 500000000), (2, 2000000000), ('1.25', 1250000000), (0, 0), ('0.000000001', 1),
])
def test_parse_cpus(value, nano):
    assert parse_cpus(value, 'CPUs') == nano


@pytest.mark.parametrize('bad', ['half', '', True, -1, '-0.5', 'nan', 'inf', None, [1]])
def test_bad_cpus_name_the_field(bad):
    with pytest.raises(ValueError, match='^CPUs: .* is not a CPU count'):
        parse_cpus(bad, 'CPUs')


def test_cpus_finer_than_a_nano_cpu_are_refused():
    with pytest.raises(ValueError, match='too precise'):
        parse_cpus('0.0000000001', 'CPUs')


@pytest.mark.parametrize('size, text', [(512 * MIB, '512M'), (GIB, '1G'), (1536 * MIB, '1536M'), (1000, '1000'),
                                        (64 * KIB, '64K'), (0, '0'), (None, None)])
def test_format_size(size, text):
    assert format_size(size) == text
