# -*- coding: utf-8 -*-
# Copyright: crane.swarm developers
# GNU General Public License v3.0+ (see https://www.gnu.org/licenses/gpl-3.0.txt)
"""Minimal SNTP client (RFC 4330): packet codec, clock arithmetic and a UDP query.

Standard library only, so it runs on any managed host that has Python 3.
Times handed around in this module are Unix seconds (float) unless a name says
``*_timestamp``: those are raw NTP 64-bit fixed point values (32 bits of seconds
since the era start, 32 bits of fraction) exactly as they travel on the wire.
Keeping the raw value of the request's transmit timestamp matters: the reply must
echo it bit for bit, which is how a client recognises the answer to its own request.

Offsets follow the NTP convention: ``offset = server clock - local clock``, so a
positive offset means the local clock is behind.
"""

from __future__ import annotations

import math
import os
import socket
import struct
import time
from dataclasses import asdict, dataclass, field

NTP_PORT = 123
NTP_VERSION = 4

MODE_CLIENT = 3
MODE_SERVER = 4
MODE_BROADCAST = 5

LEAP_NO_WARNING = 0
LEAP_UNSYNCHRONISED = 3

STRATUM_KISS_OF_DEATH = 0
MAX_VALID_STRATUM = 15

# Seconds from the NTP epoch (1900-01-01) to the Unix epoch (1970-01-01).
NTP_TO_UNIX_SECONDS = 2208988800

_SECONDS_PER_ERA = 1 << 32
_FRACTION_PER_SECOND = 1 << 32
_SECONDS_MSB = 1 << 31
# RFC 4330 section 3 stretches a 32-bit seconds field over 1968..2104: a value with
# its most significant bit set counts from 1900 (era 0), one without it counts from
# 2036-02-07T06:28:16Z (era 1). These are the Unix bounds of that window.
EARLIEST_UNIX_TIME = _SECONDS_MSB - NTP_TO_UNIX_SECONDS  # 1968-01-20T03:14:08Z
LATEST_UNIX_TIME = EARLIEST_UNIX_TIME + _SECONDS_PER_ERA  # 2104-02-26T09:42:24Z, exclusive

# The low bits of our transmit timestamp are below the resolution of a float Unix
# time anyway (about 0.24 microseconds today); filling them with random bits makes
# the echoed originate timestamp hard to guess for an off-path spoofer.
_RANDOM_TRANSMIT_BITS = 10

_PACKET = struct.Struct('!BBbbiI4sQQQQ')
PACKET_SIZE = _PACKET.size  # 48 bytes; anything after that is extensions or a MAC

# Kiss-o'-Death codes (RFC 5905 section 7.4) a server may send with stratum 0.
KISS_CODES = {
    'ACST': 'the association belongs to an anycast server',
    'AUTH': 'server authentication failed',
    'AUTO': 'autokey sequence failed',
    'BCST': 'the association belongs to a broadcast server',
    'CRYP': 'cryptographic authentication or identification failed',
    'DENY': 'the server denies access to this client',
    'DROP': 'lost peer in symmetric mode',
    'RSTR': 'the server restricts access to this client',
    'INIT': 'the server has not synchronised yet',
    'MCST': 'the association belongs to a manycast server',
    'NKEY': 'no key found',
    'RATE': 'rate exceeded: the server asks this client to query less often',
    'RMOT': 'association altered by a remote host',
    'STEP': 'the server clock was stepped and has not resynchronised yet',
}


class SntpError(Exception):
    """Any failure to get a usable time from an SNTP server."""


class SntpTimeout(SntpError):
    """The server did not answer in time."""


class SntpBadReply(SntpError):
    """The server answered with a packet that must not be used."""


class KissOfDeath(SntpBadReply):
    """The server answered with stratum 0: a Kiss-o'-Death carrying a code such as RATE or DENY."""

    def __init__(self, code):
        self.code = code
        meaning = KISS_CODES.get(code, 'unknown code')
        super().__init__("Kiss-o'-Death %s from server (%s)" % (code, meaning))


def unix_to_ntp(unix_seconds):
    """Convert Unix seconds (float) to a raw 64-bit NTP timestamp."""
    if not EARLIEST_UNIX_TIME <= unix_seconds < LATEST_UNIX_TIME:
        raise ValueError('time %r is outside the NTP timestamp range 1968..2104' % (unix_seconds,))
    whole = math.floor(unix_seconds)
    fraction = int(round((unix_seconds - whole) * _FRACTION_PER_SECOND))
    if fraction == _FRACTION_PER_SECOND:  # the rounding carried into the next second
        whole += 1
        fraction = 0
        if whole >= LATEST_UNIX_TIME:
            raise ValueError('time %r is outside the NTP timestamp range 1968..2104' % (unix_seconds,))
    seconds_field = (whole + NTP_TO_UNIX_SECONDS) % _SECONDS_PER_ERA
    return (seconds_field << 32) | fraction


def ntp_to_unix(timestamp):
    """Convert a raw 64-bit NTP timestamp to Unix seconds, choosing the era by the MSB rule."""
    if not 0 <= timestamp < (1 << 64):
        raise ValueError('NTP timestamp %r does not fit in 64 bits' % (timestamp,))
    seconds_field = timestamp >> 32
    fraction = timestamp & (_FRACTION_PER_SECOND - 1)
    if seconds_field & _SECONDS_MSB:
        era_start = -NTP_TO_UNIX_SECONDS
    else:
        era_start = _SECONDS_PER_ERA - NTP_TO_UNIX_SECONDS
    return seconds_field + era_start + fraction / _FRACTION_PER_SECOND


def ntp_short_to_seconds(value):
    """Convert a 32-bit NTP short format value (16.16 fixed point) to seconds."""
    return value / 65536.0


def clock_offset(t1, t2, t3, t4):
    """Offset of the server clock relative to ours, compensated for the round trip.

    t1: request sent (our clock), t2: request received (server clock),
    t3: reply sent (server clock), t4: reply received (our clock).
    Exact when the outbound and return paths take equally long; otherwise the
    error is at most half the round-trip delay.
    """
    return ((t2 - t1) + (t3 - t4)) / 2.0


def round_trip_delay(t1, t2, t3, t4):
    """Network round-trip time: the whole exchange minus the time the server held the request.

    Never below zero: the two clocks tick at slightly different rates and resolutions, so
    a server that reports holding a request for about as long as the whole exchange took
    can make the difference a few microseconds negative (RFC 5905 clamps it likewise).
    """
    return max(0.0, (t4 - t1) - (t3 - t2))


@dataclass(frozen=True)
class NtpPacket:
    """The 48-byte NTP header. Timestamps are raw 64-bit values, root delay and
    dispersion raw 16.16 values, as on the wire."""

    leap: int = LEAP_NO_WARNING
    version: int = NTP_VERSION
    mode: int = MODE_CLIENT
    stratum: int = 0
    poll: int = 0
    precision: int = 0
    root_delay: int = 0
    root_dispersion: int = 0
    reference_id: bytes = b'\x00\x00\x00\x00'
    reference_timestamp: int = 0
    originate_timestamp: int = 0
    receive_timestamp: int = 0
    transmit_timestamp: int = 0

    def encode(self):
        if not 0 <= self.leap <= 3 or not 0 <= self.version <= 7 or not 0 <= self.mode <= 7:
            raise ValueError('leap (0..3), version (0..7) or mode (0..7) out of range')
        if len(self.reference_id) != 4:
            raise ValueError('reference id must be 4 bytes')
        first_octet = (self.leap << 6) | (self.version << 3) | self.mode
        try:
            return _PACKET.pack(
                first_octet, self.stratum, self.poll, self.precision,
                self.root_delay, self.root_dispersion, self.reference_id,
                self.reference_timestamp, self.originate_timestamp,
                self.receive_timestamp, self.transmit_timestamp)
        except struct.error as exc:
            raise ValueError('NTP packet field out of range: %s' % exc) from exc

    @classmethod
    def decode(cls, data):
        if len(data) < PACKET_SIZE:
            raise SntpBadReply('reply is %d bytes, an NTP packet has at least %d' % (len(data), PACKET_SIZE))
        (first_octet, stratum, poll, precision, root_delay, root_dispersion, reference_id,
         reference_timestamp, originate_timestamp, receive_timestamp,
         transmit_timestamp) = _PACKET.unpack_from(data)
        return cls(
            leap=first_octet >> 6,
            version=(first_octet >> 3) & 0x07,
            mode=first_octet & 0x07,
            stratum=stratum,
            poll=poll,
            precision=precision,
            root_delay=root_delay,
            root_dispersion=root_dispersion,
            reference_id=reference_id,
            reference_timestamp=reference_timestamp,
            originate_timestamp=originate_timestamp,
            receive_timestamp=receive_timestamp,
            transmit_timestamp=transmit_timestamp,
        )


def build_request(transmit_timestamp):
    """A client request: LI 0, version 4, mode 3, everything else zero except the
    transmit timestamp, which the server echoes back as the originate timestamp."""
    return NtpPacket(transmit_timestamp=transmit_timestamp).encode()


def decode_reply(data):
    return NtpPacket.decode(data)


def kiss_code(reference_id):
    """The ASCII code a Kiss-o'-Death packet carries in its reference id."""
    return reference_id.rstrip(b'\x00').decode('ascii', 'replace') or '(empty)'


def format_reference_id(reference_id, stratum):
    """Human form of the reference id: a code like GPS or RATE for stratum 0 and 1,
    the upstream server's IPv4 address (or an IPv6 address hash) for higher strata."""
    if stratum <= 1:
        return kiss_code(reference_id)
    return '.'.join(str(octet) for octet in bytearray(reference_id))


def validate_reply(packet, sent_transmit_timestamp):
    """Raise SntpBadReply (or KissOfDeath) if the reply must not be used for timing."""
    if packet.mode not in (MODE_SERVER, MODE_BROADCAST):
        raise SntpBadReply('reply has mode %d, expected %d (server) or %d (broadcast)'
                           % (packet.mode, MODE_SERVER, MODE_BROADCAST))
    if not 1 <= packet.version <= NTP_VERSION:
        raise SntpBadReply('reply has unsupported NTP version %d' % packet.version)
    if packet.originate_timestamp != sent_transmit_timestamp:
        # Either a late answer to an earlier request or a forged packet.
        raise SntpBadReply('reply does not echo our transmit timestamp as its originate timestamp')
    if packet.stratum == STRATUM_KISS_OF_DEATH:
        raise KissOfDeath(kiss_code(packet.reference_id))
    if packet.leap == LEAP_UNSYNCHRONISED:
        raise SntpBadReply('server clock is not synchronised (leap indicator 3)')
    if packet.stratum > MAX_VALID_STRATUM:
        raise SntpBadReply('server has stratum %d, i.e. it is not synchronised (valid: 1..%d)'
                           % (packet.stratum, MAX_VALID_STRATUM))
    if packet.transmit_timestamp == 0:
        raise SntpBadReply('reply has a zero transmit timestamp')
    if packet.receive_timestamp == 0:
        raise SntpBadReply('reply has a zero receive timestamp')


def parse_server(spec, default_port=NTP_PORT):
    """Split 'host', 'host:port', '[v6]', '[v6]:port' or a bare IPv6 address into (host, port)."""
    text = spec.strip() if isinstance(spec, str) else ''
    if not text:
        raise ValueError('empty NTP server name')
    if text.startswith('['):
        closing = text.find(']')
        if closing < 0:
            raise ValueError('NTP server %r: missing "]" after the IPv6 address' % spec)
        host, rest = text[1:closing], text[closing + 1:]
        if not rest:
            port = default_port
        elif rest.startswith(':'):
            port = _parse_port(rest[1:], spec)
        else:
            raise ValueError('NTP server %r: expected ":port" after "]"' % spec)
    elif text.count(':') == 1:
        host, port_text = text.split(':')
        port = _parse_port(port_text, spec)
    else:
        # A plain name or IPv4 address, or an IPv6 address without brackets, which
        # cannot carry a port because its colons would be ambiguous.
        host, port = text, default_port
    if not host:
        raise ValueError('NTP server %r has no host part' % spec)
    return host, port


def _parse_port(text, spec):
    if not text.isdigit() or not 1 <= int(text) <= 65535:
        raise ValueError('NTP server %r: port must be a number from 1 to 65535' % spec)
    return int(text)


@dataclass
class Sample:
    """One request/reply exchange. t1..t4 are Unix seconds (see clock_offset)."""

    t1: float
    t2: float
    t3: float
    t4: float
    reply: NtpPacket

    @property
    def offset(self):
        return clock_offset(self.t1, self.t2, self.t3, self.t4)

    @property
    def delay(self):
        return round_trip_delay(self.t1, self.t2, self.t3, self.t4)


@dataclass
class SntpResult:
    """Outcome of query(): the best (lowest delay) sample of one server."""

    server: str
    address: str
    port: int
    offset: float
    delay: float
    stratum: int
    leap: int
    version: int
    reference_id: str
    root_delay: float
    root_dispersion: float
    samples: int
    sample_errors: list = field(default_factory=list)

    def to_dict(self):
        return asdict(self)


def best_sample(samples):
    """The sample with the smallest round-trip delay: its offset has the smallest
    error bound (delay / 2), which is the core idea of the NTP clock filter."""
    return min(samples, key=lambda sample: sample.delay)


def exchange(sock, timeout):
    """Send one request on a connected UDP socket and wait for the matching reply."""
    started = time.monotonic()
    transmit_timestamp = _randomise_low_bits(unix_to_ntp(time.time()))
    try:
        sock.send(build_request(transmit_timestamp))
    except OSError as exc:
        raise SntpError('cannot send: %s' % (exc.strerror or exc)) from exc
    deadline = started + timeout
    ignored_replies = 0
    while True:
        remaining = deadline - time.monotonic()
        if remaining <= 0:
            detail = ''
            if ignored_replies:
                detail = ' (ignored %d reply/replies that did not echo our transmit timestamp)' % ignored_replies
            raise SntpTimeout('no reply within %g s%s' % (timeout, detail))
        sock.settimeout(remaining)
        try:
            data = sock.recv(1024)
        except socket.timeout:
            continue
        except ConnectionRefusedError as exc:
            raise SntpError('connection refused: nothing listens on that UDP port') from exc
        except OSError as exc:
            raise SntpError('cannot receive: %s' % (exc.strerror or exc)) from exc
        received = time.monotonic()
        reply = decode_reply(data)
        if reply.originate_timestamp != transmit_timestamp:
            # A late answer to an earlier sample; keep waiting for ours.
            ignored_replies += 1
            continue
        validate_reply(reply, transmit_timestamp)
        break
    t1 = ntp_to_unix(transmit_timestamp)
    # t4 from the monotonic clock: a step of the wall clock during the exchange
    # (a time daemon correcting it) cannot then distort delay or offset.
    t4 = t1 + (received - started)
    return Sample(t1=t1, t2=ntp_to_unix(reply.receive_timestamp),
                  t3=ntp_to_unix(reply.transmit_timestamp), t4=t4, reply=reply)


def _randomise_low_bits(timestamp):
    mask = (1 << _RANDOM_TRANSMIT_BITS) - 1
    noise = int.from_bytes(os.urandom(2), 'big') & mask
    return (timestamp & ~mask) | noise


def _sample_address(sock, samples, timeout):
    """Collect up to `samples` exchanges on one socket.

    A timeout before any reply is retried (UDP may lose a packet), but once a sample
    has succeeded any timeout or Kiss-o'-Death ends the series: servers that limit
    the query rate answer a burst that way, and what we have is good enough.
    """
    good = []
    errors = []
    for _attempt in range(samples):
        try:
            good.append(exchange(sock, timeout))
        except SntpTimeout as exc:
            errors.append(str(exc))
            if good:
                break
        except SntpError as exc:
            if not good:
                raise
            errors.append(str(exc))
            break
    if not good:
        raise SntpTimeout('%s (%d request%s)' % (errors[-1], samples, '' if samples == 1 else 's'))
    return good, errors


def query(server, port=NTP_PORT, timeout=2.0, samples=1):
    """Ask one SNTP server for the time; return an SntpResult.

    `server` is 'host', 'host:port', '[v6]' or '[v6]:port'; a port in it wins over
    `port`. `timeout` is seconds per request. With several `samples` the one with the
    lowest round-trip delay is kept. If the name resolves to several addresses they are
    tried in order until one answers. Raises SntpError (or a subclass) on failure.
    """
    if samples < 1:
        raise ValueError('samples must be at least 1')
    if not math.isfinite(timeout) or timeout <= 0:
        raise ValueError('timeout must be a positive number of seconds')
    try:
        host, port = parse_server(server, port)
    except ValueError as exc:
        raise SntpError(str(exc)) from exc
    try:
        addresses = socket.getaddrinfo(host, port, 0, socket.SOCK_DGRAM, socket.IPPROTO_UDP)
    except (socket.gaierror, UnicodeError) as exc:
        raise SntpError('cannot resolve %s: %s' % (host, getattr(exc, 'strerror', None) or exc)) from exc

    failures = []
    seen = set()
    for family, socktype, proto, _canonname, sockaddr in addresses:
        if sockaddr in seen:
            continue
        seen.add(sockaddr)
        try:
            with socket.socket(family, socktype, proto) as sock:
                # A connected UDP socket only accepts datagrams from that address, and
                # an ICMP port-unreachable surfaces as ConnectionRefusedError.
                sock.connect(sockaddr)
                good, errors = _sample_address(sock, samples, timeout)
        except SntpError as exc:
            failures.append((sockaddr[0], exc))
            continue
        except OSError as exc:
            failures.append((sockaddr[0], SntpError('cannot reach: %s' % (exc.strerror or exc))))
            continue
        best = best_sample(good)
        return SntpResult(
            server=server,
            address=sockaddr[0],
            port=port,
            offset=best.offset,
            delay=best.delay,
            stratum=best.reply.stratum,
            leap=best.reply.leap,
            version=best.reply.version,
            reference_id=format_reference_id(best.reply.reference_id, best.reply.stratum),
            root_delay=ntp_short_to_seconds(best.reply.root_delay),
            root_dispersion=ntp_short_to_seconds(best.reply.root_dispersion),
            samples=len(good),
            sample_errors=errors,
        )

    if len(failures) == 1:
        raise failures[0][1]
    raise SntpError('no address of %s answered: %s' % (
        host, '; '.join('%s: %s' % (address, exc) for address, exc in failures)))
