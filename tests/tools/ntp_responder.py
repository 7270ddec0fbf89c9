# -*- coding: utf-8 -*-
# Copyright: crane.swarm developers
# GNU General Public License v3.0+ (see https://www.gnu.org/licenses/gpl-3.0.txt)
"""A tiny SNTP server for tests: it answers with the real time plus a chosen offset.

The machine has one kernel clock that tests must never touch, so clock skew is
simulated on the server side instead: a responder started with --offset 5 looks to
its clients exactly like a correct server would look to a host whose clock is 5 s
behind.

Deliberately independent of plugins/module_utils/clock/sntp.py (its own packet code), so
tests that use both check one implementation against another.

    python3 ntp_responder.py --listen 127.0.0.1 --port 12300 --offset 5.0 \
        [--stratum 2] [--kod RATE] [--leap 3] [--ready-file FILE]

--port 0 picks a free port. Once the socket is bound, the responder prints
"ready HOST PORT" on stdout and, with --ready-file, writes the same line to that
file (atomically, via rename), so a test can wait for it. SIGTERM and SIGINT end it
with exit status 0.
"""

import argparse
import os
import signal
import socket
import struct
import sys
import time

NTP_TO_UNIX_SECONDS = 2208988800
HEADER = struct.Struct('!BBbbiI4sQQQQ')
CLIENT_MODE = 3
SERVER_MODE = 4


class Stop(Exception):
    """Raised from the signal handler to leave the serving loop."""


def to_ntp_timestamp(unix_seconds):
    """Unix seconds -> 64-bit NTP timestamp (valid until 2104: the seconds wrap per era)."""
    ntp_seconds = unix_seconds + NTP_TO_UNIX_SECONDS
    whole = int(ntp_seconds)
    fraction = int((ntp_seconds - whole) * 2 ** 32) & 0xFFFFFFFF
    return ((whole % 2 ** 32) << 32) | fraction


def build_reply(request, receive_time, options):
    """Answer one request; receive_time is the (offset) time the request arrived."""
    first_octet, _stratum, poll = struct.unpack_from('!BBb', request)
    version = (first_octet >> 3) & 0x07
    (request_transmit,) = struct.unpack_from('!Q', request, 40)
    if options.kod:
        # Kiss-o'-Death: stratum 0, code in the reference id, everything else as usual.
        leap, stratum, reference_id = 3, 0, options.kod.encode('ascii')[:4].ljust(4, b'\x00')
    else:
        leap, stratum = options.leap, options.stratum
        reference_id = b'LOCL' if stratum == 1 else socket.inet_aton('127.0.0.1')
    reference_time = receive_time - 16.0  # "last set" a little while ago
    transmit_time = time.time() + options.offset
    return HEADER.pack(
        (leap << 6) | (version << 3) | SERVER_MODE,
        stratum,
        poll,
        -20,  # precision: about a microsecond
        0,  # root delay
        1 << 6,  # root dispersion: about a millisecond
        reference_id,
        to_ntp_timestamp(reference_time),
        request_transmit,  # originate timestamp: echo the client's transmit timestamp
        to_ntp_timestamp(receive_time),
        to_ntp_timestamp(transmit_time),
    )


def announce_ready(host, port, ready_file):
    line = 'ready %s %d\n' % (host, port)
    if ready_file:
        temporary = ready_file + '.tmp'
        with open(temporary, 'w') as handle:
            handle.write(line)
        os.replace(temporary, ready_file)
    sys.stdout.write(line)
    sys.stdout.flush()


def serve(options):
    family = socket.AF_INET6 if ':' in options.listen else socket.AF_INET
    with socket.socket(family, socket.SOCK_DGRAM) as sock:
        sock.bind((options.listen, options.port))
        announce_ready(options.listen, sock.getsockname()[1], options.ready_file)
        while True:
            data, client = sock.recvfrom(1024)
            receive_time = time.time() + options.offset
            if len(data) < HEADER.size or data[0] & 0x07 != CLIENT_MODE:
                continue  # not a client request: a real server ignores it too
            try:
                sock.sendto(build_reply(data, receive_time, options), client)
            except (OSError, ValueError, struct.error) as exc:
                # One odd request or unreachable client must not end the test server.
                sys.stderr.write('cannot answer %s: %s\n' % (client, exc))


def parse_arguments(argv):
    parser = argparse.ArgumentParser(description='SNTP responder with a simulated clock offset (for tests).')
    parser.add_argument('--listen', default='127.0.0.1', help='address to bind (IPv4 or IPv6)')
    parser.add_argument('--port', type=int, default=12300, help='UDP port; 0 picks a free one')
    parser.add_argument('--offset', type=float, default=0.0,
                        help='seconds added to the real time in replies (positive: server ahead)')
    parser.add_argument('--stratum', type=int, default=2, help='stratum to announce (1..15 valid)')
    parser.add_argument('--leap', type=int, choices=range(4), default=0,
                        help='leap indicator; 3 announces an unsynchronised server')
    parser.add_argument('--kod', metavar='CODE', help="answer every request with a Kiss-o'-Death CODE, e.g. RATE")
    parser.add_argument('--ready-file', help='write "ready HOST PORT" here once listening')
    return parser.parse_args(argv)


def main(argv=None):
    options = parse_arguments(argv)

    def stop(_signum, _frame):
        raise Stop()

    signal.signal(signal.SIGTERM, stop)
    signal.signal(signal.SIGINT, stop)
    try:
        serve(options)
    except Stop:
        pass
    return 0


if __name__ == '__main__':
    sys.exit(main())
