# Copyright: crane.swarm developers
# GNU General Public License v3.0+ (see https://www.gnu.org/licenses/gpl-3.0.txt)
"""Which swarm a join token names, on plain data."""

from __future__ import annotations

import hashlib

import pytest

from ansible_collections.crane.swarm.plugins.module_utils.swarm import membership

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


# ----------------------------------------------------------------------------- tokens of the other role

WORKER = token_for(PEM, secret='aaaaaaaaaaaaaaaaaaaaaaaaa')
MANAGER = token_for(PEM, secret='bbbbbbbbbbbbbbbbbbbbbbbbb')


def test_token_fingerprints_name_roles_and_hold_no_token():
    roles = membership.token_roles({'worker': WORKER, 'manager': MANAGER})
    assert sorted(roles.values()) == ['manager', 'worker']
    for fingerprint in roles:
        assert len(fingerprint) == 64 and WORKER.split('-')[-1] not in fingerprint
    assert membership.token_fingerprint(' %s\n' % WORKER) == membership.token_fingerprint(WORKER)
    assert membership.token_roles(None) == {} and membership.token_roles({'worker': None}) == {}


def test_token_of_the_other_role_is_refused_naming_the_option_and_the_fix():
    published = [('node9', {'x': 'worker'}), ('node1', membership.token_roles({'worker': WORKER, 'manager': MANAGER}))]
    message = membership.other_role_refusal(WORKER, 'manager', published)
    assert message.startswith('join_token is the worker token of the swarm (as node1 reported it), but role=manager')
    assert 'Nothing was changed' in message and 'join_tokens.manager' in message and 'role: worker' in message
    assert WORKER not in message
    assert membership.other_role_refusal(MANAGER, 'manager', published) is None
    assert membership.other_role_refusal(token_for(PEM, secret='c' * 25), 'manager', published) is None
    assert membership.other_role_refusal(WORKER, 'manager', []) is None


@pytest.mark.parametrize('engine_message, expected', [
    ('rpc error: code = InvalidArgument desc = A valid join token is necessary to join this cluster', 'not a current'),
    ('remote CA does not match fingerprint. Expected: 0038', 'another swarm'),
    ('invalid join token', 'malformed'),
    ('something else', None),
])
def test_join_errors_are_read_for_the_options(engine_message, expected):
    hint = membership.join_error_hint(engine_message)
    assert (hint is None) if expected is None else (expected in hint and hint.startswith('join_token'))


def test_unreachable_managers_message_names_each_answer_and_the_port():
    probes = [dict(host='10.0.0.99', port=2377, state='unreachable', error='EHOSTUNREACH', seconds=3.0),
              dict(host='10.0.0.12', port=2377, state='closed', error='ECONNREFUSED', seconds=0.0),
              dict(host='10.0.0.13', port=4000, state='filtered', error=None, seconds=None)]
    message = membership.unreachable_managers_message(probes)
    assert ('10.0.0.99:2377 unreachable (EHOSTUNREACH), 10.0.0.12:2377 refused the connection (ECONNREFUSED), '
            '10.0.0.13:4000 did not answer') in message
    assert 'engine is stopped' in message and 'TCP 2377' in message and 'clock' not in message
    assert 'engine is stopped' not in membership.unreachable_managers_message(probes[:1])


def test_tls_digests_tell_a_node_of_the_new_ca_from_one_of_the_old():
    old = {'TrustRoot': 'OLD PEM\n', 'CertIssuerSubject': 'c3ViamVjdA==', 'CertIssuerPublicKey': 'b2xkIGtleQ=='}
    new = {'TrustRoot': 'NEW PEM\n', 'CertIssuerSubject': 'c3ViamVjdA==', 'CertIssuerPublicKey': 'bmV3IGtleQ=='}
    swarm, node = membership.tls_digests(new), membership.tls_digests(dict(old))
    assert swarm['ca_digest'] == membership.ca_digest('NEW PEM\n')
    assert node['ca_digest'] != swarm['ca_digest'] and node['cert_issuer_digest'] != swarm['cert_issuer_digest']
    # Same subject, another key: another issuer (a rotated CA keeps its subject, swarm-ca).
    assert membership.tls_digests(dict(old, CertIssuerPublicKey=new['CertIssuerPublicKey']))['cert_issuer_digest'] \
        == swarm['cert_issuer_digest']
    assert membership.tls_digests({}) == {'ca_digest': None, 'cert_issuer_digest': None}
    assert membership.tls_digests(None) == {'ca_digest': None, 'cert_issuer_digest': None}
