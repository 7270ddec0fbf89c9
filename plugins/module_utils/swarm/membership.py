# -*- coding: utf-8 -*-
# Copyright: crane.swarm developers
# GNU General Public License v3.0+ (see https://www.gnu.org/licenses/gpl-3.0.txt)
"""Which swarm a node belongs to, decided from plain data.

A join token reads `SWMTKN-1-<digest>-<secret>`: <digest> is the SHA-256 of the
swarm's root CA certificate (PEM) written in base 36. Every member holds that
certificate (managers serve it as TLSInfo.TrustRoot; every node keeps it in
<DockerRootDir>/swarm/certificates/swarm-root-ca.crt), so a node can tell
whether a token belongs to the swarm it is already in without asking anybody.
"""

from __future__ import annotations

import hashlib

DEFAULT_SWARM_PORT = 2377
ROOT_CA_FILE = 'swarm/certificates/swarm-root-ca.crt'


def token_ca_digest(token):
    """The root CA digest (64 hex digits) a join token names; ValueError when it is no token."""
    parts = (token or '').strip().split('-')
    if len(parts) != 4 or parts[0] != 'SWMTKN' or parts[1] != '1':
        raise ValueError('join_token is not a swarm join token (they read SWMTKN-1-<digest>-<secret>); '
                         'take it from crane.swarm.swarm on a manager (result join_tokens)')
    try:
        return '%064x' % int(parts[2], 36)
    except ValueError:
        raise ValueError('join_token has a malformed CA digest part; copy the whole token again')


def ca_digest(root_ca_pem):
    """SHA-256 of the root CA certificate as the swarm stores it (PEM text)."""
    if isinstance(root_ca_pem, str):
        root_ca_pem = root_ca_pem.encode('utf-8')
    return hashlib.sha256(root_ca_pem).hexdigest()


def tls_digests(tls_info):
    """A TLSInfo (GET /swarm's, or a node's Description.TLSInfo) as two digests, none of them secret.

    ca_digest: the SHA-256 of the root CA the holder trusts (TrustRoot). cert_issuer_digest: the
    SHA-256 of the issuer (subject and public key) of the holder's certificate, or of the certificates
    the swarm issues now. After a CA rotation a node is done when both equal the swarm's.
    """
    tls_info = tls_info or {}
    issuer = '%s\n%s' % (tls_info.get('CertIssuerSubject') or '', tls_info.get('CertIssuerPublicKey') or '')
    return {'ca_digest': ca_digest(tls_info['TrustRoot']) if tls_info.get('TrustRoot') else None,
            'cert_issuer_digest': hashlib.sha256(issuer.encode('utf-8')).hexdigest() if issuer.strip() else None}


def normalise_addr(addr, default_port=DEFAULT_SWARM_PORT):
    """'10.0.0.1' -> '10.0.0.1:2377'; '[fe80::1]' -> '[fe80::1]:2377'; keeps explicit ports."""
    addr = addr.strip()
    if addr.startswith('['):
        host, dummy, rest = addr[1:].partition(']')
        port = rest[1:] if rest.startswith(':') else str(default_port)
        return '[%s]:%s' % (host, port)
    if addr.count(':') == 1:
        return addr
    if addr.count(':') > 1:  # a bare IPv6 address
        return '[%s]:%d' % (addr, default_port)
    return '%s:%d' % (addr, default_port)


def describe_membership(swarm_info):
    """A short text naming the swarm a node is in, from GET /info's Swarm section."""
    cluster = (swarm_info.get('Cluster') or {}).get('ID')
    managers = ', '.join(sorted(m.get('Addr', '?') for m in swarm_info.get('RemoteManagers') or []))
    text = 'node %s' % swarm_info.get('NodeID')
    if cluster:
        text += ' of swarm %s' % cluster
    if managers:
        text += ' (managers %s)' % managers
    return text


def joined_same_swarm(token, local_ca_digest, remote_managers, remote_addrs):
    """Decide whether a member node already belongs to the swarm `token` and `remote_addrs` name.

    With the node's root CA digest the answer is exact. Without it (a worker
    whose CA file cannot be read), the node's known managers are compared with
    the addresses it was told to join.
    """
    if local_ca_digest:
        return token_ca_digest(token) == local_ca_digest
    known = set(normalise_addr(m.get('Addr', '')) for m in remote_managers or [])
    return bool(known & set(normalise_addr(a) for a in remote_addrs))


# -- join tokens of the other role
#
# A token names the swarm (its CA digest) but not its role: the managers decide the role
# by comparing it with their two tokens, which only managers can read. The controller
# learns them from crane.swarm.swarm or crane.swarm.swarm_info on a manager and keeps
# their fingerprints (never the tokens) as a fact of that host, so that a join with the
# token of the other role is refused before the node is in the managers' node list.

TOKEN_ROLES_FACT = 'crane_swarm_join_token_roles'
TOKEN_ROLES = ('worker', 'manager')


def token_fingerprint(token):
    """SHA-256 of a join token: tells tokens apart without revealing one (the secret part has ~129 bits)."""
    return hashlib.sha256(('crane.swarm join token ' + (token or '').strip()).encode('utf-8')).hexdigest()


def token_roles(join_tokens):
    """{fingerprint: role} of a manager's join_tokens result ({'worker': .., 'manager': ..})."""
    return dict((token_fingerprint(join_tokens[role]), role) for role in TOKEN_ROLES
                if isinstance(join_tokens, dict) and join_tokens.get(role))


def known_token_role(token, published):
    """(role, host) of `token` among [(host, {fingerprint: role})]; (None, None) when no host knows it."""
    fingerprint = token_fingerprint(token)
    for host, roles in published:
        if isinstance(roles, dict) and roles.get(fingerprint) in TOKEN_ROLES:
            return roles[fingerprint], host
    return None, None


def other_role_refusal(token, role, published):
    """The refusal text when `token` is known to be the token of the other role, else None."""
    token_role, host = known_token_role(token, published)
    if token_role is None or token_role == role:
        return None
    return ('join_token is the %s token of the swarm (as %s reported it), but role=%s: joining would make this '
            'node a %s, and undoing that would leave its entry in the managers\' node list. Nothing was changed. '
            'Pass the %s token (join_tokens.%s of crane.swarm.swarm or crane.swarm.swarm_info on a manager), or set '
            'role: %s.' % (token_role, host, role, token_role, role, role, token_role))


# -- why a join failed

JOIN_ERRORS = (
    ('A valid join token is necessary',
     'join_token is not a current token of the swarm at remote_addrs (tokens change when they are rotated): take '
     'the current one from a manager (join_tokens of crane.swarm.swarm or crane.swarm.swarm_info)'),
    ('remote CA does not match fingerprint',
     'join_token belongs to another swarm than the one at remote_addrs, or was taken before that swarm\'s root CA '
     'was rotated (a token names its root CA): take the current token from a manager of the swarm at remote_addrs, '
     'or point remote_addrs at the managers of the token\'s swarm'),
    ('invalid join token', 'join_token is malformed: copy the whole token again'),
)


def join_error_hint(engine_message):
    """What an immediate join error from the engine means for the task's options (None when not known)."""
    for marker, hint in JOIN_ERRORS:
        if marker in engine_message:
            return hint
    return None


PROBE_WORDS = {
    'open': 'accepted the connection',
    'closed': 'refused the connection',
    'unreachable': 'unreachable',
    'filtered': 'did not answer',
    'error': 'could not be connected to',
}


def describe_probes(probes):
    """'10.0.0.1:2377 unreachable (EHOSTUNREACH), ...' from port_probe.probe_all's results."""
    return ', '.join('%s:%d %s%s' % (probe['host'], probe['port'], PROBE_WORDS.get(probe['state'], probe['state']),
                                     ' (%s)' % probe['error'] if probe.get('error') else '')
                     for probe in probes)


def unreachable_managers_message(probes):
    """Why no manager of remote_addrs can be joined: each address's answer, and the fix."""
    text = 'from this host %s. ' % describe_probes(probes)
    if any(probe['state'] == 'closed' for probe in probes):
        text += ('A refused connection means the host answered but no swarm manager listens there (its engine is '
                 'stopped, or it is no manager, or the port is not the swarm\'s). ')
    return text + ('Check that remote_addrs name managers\' advertise addresses, and that a firewall lets TCP 2377 '
                   '(or the port given) pass from this host to them (the role crane.swarm.firewall opens it).')
