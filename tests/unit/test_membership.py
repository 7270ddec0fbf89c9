# Copyright: crane.swarm developers
# GNU General Public License v3.0+ (see https://www.gnu.org/licenses/gpl-3.0.txt)
"""Which swarm a join token names, on plain data."""

from __future__ import annotations

import hashlib

import pytest

from ansible_collections.crane.swarm.plugins.module_utils import membership

PEM = '-----BEGIN CERTIFICATE-----\nMIIBazCCARCgAwIBAgIUexample\n-----END CERTIFICATE-----\n'


def base36(number):
    digits = '0123456789abcdefghijklmnopqrstuvwxyz'
    text = ''
    while number:
        number, rest = divmod(number, 36)
        text = digits[rest] + text
    return text.rjust(50, '0')


def token_for(pem, secret='4a5b6c7d8e9f0g1h2i3j4k5l6'):
    return 'SWMTKN-1-%s-%s' % (base36(int(hashlib.sha256(pem.encode()).hexdigest(), 16)), secret)


def test_token_digest_is_the_ca_certificate_digest():
    assert membership.token_ca_digest(token_for(PEM)) == membership.ca_digest(PEM)
    assert membership.ca_digest(PEM.encode()) == membership.ca_digest(PEM)


@pytest.mark.parametrize('token', ['', 'SWMTKN-2-abc-def', 'not-a-token', 'SWMTKN-1-abc'])
def test_malformed_tokens_are_rejected_with_the_field_name(token):
    with pytest.raises(ValueError, match='join_token'):
        membership.token_ca_digest(token)


@pytest.mark.parametrize('addr, expected', [
    ('10.0.0.1', '10.0.0.1:2377'),
    ('10.0.0.1:4000', '10.0.0.1:4000'),
    ('manager.example', 'manager.example:2377'),
    ('fe80::1', '[fe80::1]:2377'),
    ('[fe80::1]', '[fe80::1]:2377'),
    ('[fe80::1]:4000', '[fe80::1]:4000'),
])
def test_normalise_addr(addr, expected):
    assert membership.normalise_addr(addr) == expected


def test_same_swarm_by_ca_digest():
    token = token_for(PEM)
    assert membership.joined_same_swarm(token, membership.ca_digest(PEM), [], ['10.9.9.9'])
    assert not membership.joined_same_swarm(token, membership.ca_digest(PEM + 'x'), [{'Addr': '10.0.0.1:2377'}],
                                            ['10.0.0.1'])


def test_same_swarm_by_manager_addresses_without_ca():
    managers = [{'NodeID': 'a', 'Addr': '10.0.0.1:2377'}]
    assert membership.joined_same_swarm(token_for(PEM), None, managers, ['10.0.0.1'])
    assert not membership.joined_same_swarm(token_for(PEM), None, managers, ['10.0.0.2'])


def test_describe_membership():
    text = membership.describe_membership({'NodeID': 'n1', 'Cluster': {'ID': 'c1'},
                                           'RemoteManagers': [{'Addr': '10.0.0.1:2377'}]})
    assert text == 'node n1 of swarm c1 (managers 10.0.0.1:2377)'
