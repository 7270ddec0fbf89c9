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
