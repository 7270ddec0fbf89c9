# -*- coding: utf-8 -*-
# Copyright: crane.swarm developers
# GNU General Public License v3.0+ (see https://www.gnu.org/licenses/gpl-3.0.txt)
"""Whether TCP ports of other hosts can be reached: all connects at once, each classified.

A refused connection proves the path: the host answered, only nothing listens yet
(the swarm ports before the swarm exists). A time-out means a firewall drops the
packets, and an ICMP "unreachable" means a router or firewall rejects them; those
two are what break swarm joins and overlay traffic.
"""

from __future__ import annotations

import errno
import selectors
import socket
import time

REACHABLE_STATES = ('open', 'closed')
STATE_BY_ERRNO = {
    0: 'open',
    errno.ECONNREFUSED: 'closed',
    errno.EHOSTUNREACH: 'unreachable',
    errno.ENETUNREACH: 'unreachable',
    errno.EACCES: 'unreachable',
    errno.EPERM: 'unreachable',
}


def parse_target(target):
    """'host:port', '[v6]:port' or {'host': .., 'port': ..} -> (host, port); ValueError names the fix."""
    if isinstance(target, dict):
        host, port = target.get('host'), target.get('port')
    else:
        text = str(target)
        if text.startswith('['):
            host, dummy, port = text[1:].partition(']:')
        else:
            host, dummy, port = text.rpartition(':')
    try:
        port = int(port)
    except (TypeError, ValueError):
        port = 0
    if not host or not 0 < port < 65536:
        raise ValueError('targets: %r is not host:port (e.g. 10.0.0.11:2377) or {host: .., port: ..}' % (target,))
    return host, port


def state_of_error(code):
    """The state of a finished non-blocking connect from its SO_ERROR value."""
    return STATE_BY_ERRNO.get(code, 'error')


def probe_all(targets, timeout):
    """Connect to every (host, port) at once; [{'host', 'port', 'state', 'error', 'seconds'}] in order.

    States: open (something listens), closed (refused: reachable, nothing listens),
    filtered (no answer within `timeout`), unreachable (ICMP unreachable or no route),
    error (anything else, e.g. a name that does not resolve).
    """
    results = [dict(host=host, port=port, state='filtered', error=None, seconds=None) for host, port in targets]
    selector = selectors.DefaultSelector()
    started = time.monotonic()
    try:
        for result in results:
            try:
                address = socket.getaddrinfo(result['host'], result['port'], 0, socket.SOCK_STREAM)[0]
            except socket.gaierror as exc:
                result.update(state='error', error=str(exc))
                continue
            sock = socket.socket(address[0], socket.SOCK_STREAM)
            sock.setblocking(False)
            code = sock.connect_ex(address[4])
            if code in (errno.EINPROGRESS, errno.EWOULDBLOCK):
                selector.register(sock, selectors.EVENT_WRITE, result)
            else:
                result.update(state=state_of_error(code), error=None if code == 0 else errno.errorcode.get(code),
                              seconds=0.0)
                sock.close()
        deadline = started + timeout
        while selector.get_map():
            remaining = deadline - time.monotonic()
            if remaining <= 0:
                break
            for key, dummy in selector.select(remaining):
                code = key.fileobj.getsockopt(socket.SOL_SOCKET, socket.SO_ERROR)
                key.data.update(state=state_of_error(code), error=None if code == 0 else errno.errorcode.get(code),
                                seconds=round(time.monotonic() - started, 3))
                selector.unregister(key.fileobj)
                key.fileobj.close()
    finally:
        for key in list(selector.get_map().values()):
            key.fileobj.close()
        selector.close()
    return results


def summary(results):
    """(ok, message): ok when every target is open or closed; the message names the others and the fix."""
    blocked = [result for result in results if result['state'] not in REACHABLE_STATES]
    if not blocked:
        return True, 'all %d ports are reachable' % len(results)
    return False, ('%s not reachable from this host. Open these ports between the swarm\'s hosts '
                   '(2377/tcp to managers, 7946/tcp+udp and the data path port, 4789/udp by default, between all), '
                   'e.g. with the role crane.swarm.firewall.' % ', '.join(
                       '%s:%d (%s%s)' % (r['host'], r['port'], r['state'], ': ' + r['error'] if r['error'] else '')
                       for r in blocked))
