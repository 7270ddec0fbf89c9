# -*- coding: utf-8 -*-
# Copyright: crane.swarm developers
# GNU General Public License v3.0+ (see https://www.gnu.org/licenses/gpl-3.0.txt)
"""Which time daemon keeps this host's clock, and does it consider the clock synchronised?

The parsers are pure functions over command output. Each returns the same plain dict:

    daemon        'chronyd', 'ntpd', 'systemd-timesyncd' or None
    synchronised  bool
    source        the selected time source (address or reference name), or None
    stratum       this host's own stratum (source stratum + 1), or None
    offset        seconds, NTP convention (reference - local: positive means the
                  local clock is behind), or None when unknown
    state         one line of text for humans

Commands are run through a ``run_command(argv) -> (rc, stdout, stderr)`` callable
so that detection can be tested with canned outputs. It should return a non-zero rc
(127 by convention) rather than raise when a program is missing.
"""

from __future__ import annotations

import csv
import re
import subprocess

CHRONYD = 'chronyd'
NTPD = 'ntpd'
TIMESYNCD = 'systemd-timesyncd'

# Checked in this order; when several run (a misconfiguration: they fight over the
# clock) the first one found is reported.
TIME_DAEMONS = (CHRONYD, NTPD, TIMESYNCD)

# Linux truncates process names (comm) to 15 characters: 'systemd-timesyn'.
_COMM_LENGTH = 15

# chrony's reference id when it serves its own clock ('local' directive), like
# ntpd's 127.127.1.x local clock driver.
_CHRONY_LOCAL_REFERENCE_ID = '7F7F0101'

_CHRONY_NOT_SYNCHRONISED = 'not synchronised'


def sync_state(daemon=None, synchronised=False, source=None, stratum=None, offset=None, state=''):
    return {
        'daemon': daemon,
        'synchronised': bool(synchronised),
        'source': source,
        'stratum': stratum,
        'offset': offset,
        'state': state,
    }


# ---------------------------------------------------------------- chrony


# Field order of `chronyc -c tracking` (chrony 3.x and 4.x).
_CHRONY_CSV_FIELDS = (
    'reference_id', 'reference_name', 'stratum', 'reference_time', 'system_time',
    'last_offset', 'rms_offset', 'frequency', 'residual_frequency', 'skew',
    'root_delay', 'root_dispersion', 'update_interval', 'leap_status',
)

_CHRONY_SYSTEM_TIME = re.compile(r'^([0-9.]+) seconds (slow|fast) of NTP time$')
_CHRONY_REFERENCE = re.compile(r'^([0-9A-Fa-f]{8})\s*(?:\((.*)\))?$')


def parse_chronyc_tracking(output):
    """Parse `chronyc -n tracking` (report) or `chronyc -c tracking` (CSV) output."""
    text = output.strip()
    if not text:
        raise ValueError('chronyc tracking printed nothing')
    if ' : ' in text or '\n' in text:
        reference_id, reference_name, stratum, offset, leap_status = _chrony_report_fields(text)
    else:
        reference_id, reference_name, stratum, offset, leap_status = _chrony_csv_fields(text)

    reference_id = reference_id.upper()
    if reference_id == _CHRONY_LOCAL_REFERENCE_ID:
        source = 'local clock'
    else:
        source = reference_name or (None if reference_id == '00000000' else reference_id)
    synchronised = (leap_status.lower() != _CHRONY_NOT_SYNCHRONISED
                    and reference_id != '00000000' and 1 <= stratum <= 15)
    if not synchronised:
        return sync_state(CHRONYD, False, None, None, None,
                          'chronyd is not synchronised (Leap status: %s, stratum %d)' % (leap_status, stratum))
    if reference_id == _CHRONY_LOCAL_REFERENCE_ID:
        state = ("chronyd serves its own clock as reference ('local' directive, stratum %d), "
                 'not an upstream server' % stratum)
    else:
        state = 'chronyd synchronised to %s (Leap status: %s)' % (source, leap_status)
    return sync_state(CHRONYD, True, source, stratum, offset, state)


def _chrony_csv_fields(line):
    values = next(csv.reader([line]))
    if len(values) < len(_CHRONY_CSV_FIELDS):
        raise ValueError('chronyc -c tracking: expected %d fields, got %d: %r'
                         % (len(_CHRONY_CSV_FIELDS), len(values), line))
    fields = dict(zip(_CHRONY_CSV_FIELDS, values))
    # In CSV the system time is the signed correction chronyd still has to apply:
    # positive when the clock is slow, i.e. already the NTP offset convention.
    return (fields['reference_id'], fields['reference_name'], int(fields['stratum']),
            float(fields['system_time']), fields['leap_status'])


def _chrony_report_fields(text):
    fields = {}
    for line in text.splitlines():
        key, separator, value = line.partition(':')
        if separator:
            fields[key.strip()] = value.strip()
    try:
        reference = _CHRONY_REFERENCE.match(fields['Reference ID'])
        stratum = int(fields['Stratum'])
        leap_status = fields['Leap status']
    except (KeyError, ValueError):
        raise ValueError('not chronyc tracking output: %r' % text[:200])
    if reference is None:
        raise ValueError('chronyc tracking: cannot read Reference ID %r' % fields['Reference ID'])
    offset = None
    system_time = _CHRONY_SYSTEM_TIME.match(fields.get('System time', ''))
    if system_time:
        magnitude = float(system_time.group(1))
        # "slow of NTP time": the local clock is behind, a positive NTP offset.
        offset = magnitude if system_time.group(2) == 'slow' else -magnitude
    return reference.group(1), reference.group(2) or '', stratum, offset, leap_status


# ---------------------------------------------------------------- ntpd


def parse_ntpq_peers(output):
    """Parse `ntpq -pn` (ntpd or NTPsec). The line tallied '*' (or 'o' for a PPS
    peer) is the system peer; without one, ntpd is not synchronised."""
    peers = []
    pending = ''
    for line in output.splitlines():
        if not line.strip() or line.lstrip().startswith(('remote', '=')):
            continue
        line = pending + line
        if len(line.split()) < 10:
            # Classic ntpq wraps a long (IPv6) address onto a line of its own.
            pending = line.rstrip() + ' '
            continue
        pending = ''
        peers.append(line)
    if not peers:
        return sync_state(NTPD, False, None, None, None, 'ntpd has no peers (ntpq -pn listed none)')

    for line in peers:
        tally = line[0]
        if tally not in '*o':
            continue
        columns = line[1:].split()
        remote, reference, stratum_text, offset_ms = columns[0], columns[1], columns[2], columns[8]
        stratum = int(stratum_text) + 1 if stratum_text.isdigit() else None
        offset = _float_or_none(offset_ms)
        # ntpq shows the peer's offset in milliseconds, server minus local.
        offset = None if offset is None else offset / 1000.0
        state = 'ntpd synchronised to system peer %s (refid %s)' % (remote, reference)
        return sync_state(NTPD, True, remote, stratum, offset, state)

    candidates = sum(1 for line in peers if line[0] in '+#')
    return sync_state(NTPD, False, None, None, None,
                      'ntpd has not selected a system peer yet (no "*" in ntpq -pn; %d of %d peers are candidates)'
                      % (candidates, len(peers)))


def _float_or_none(text):
    try:
        return float(text)
    except ValueError:
        return None


# ---------------------------------------------------------------- systemd-timesyncd


def parse_timedatectl_show(output):
    """`timedatectl show` as a dict of its Key=value lines."""
    properties = {}
    for line in output.splitlines():
        key, separator, value = line.partition('=')
        if separator:
            properties[key.strip()] = value.strip()
    return properties


def parse_timesync_status(output):
    """`timedatectl timesync-status` as a dict: its labels ('Server', 'Stratum',
    'Offset', ...) mapped to their text values."""
    fields = {}
    for line in output.splitlines():
        key, separator, value = line.partition(':')
        if separator:
            fields[key.strip()] = value.strip()
    return fields


_TIMESPAN_PART = re.compile(r'([0-9]+(?:\.[0-9]+)?)\s*(us|\u00b5s|ms|min|s|h|d)\b')
_TIMESPAN_UNIT_SECONDS = {'us': 1e-6, '\u00b5s': 1e-6, 'ms': 1e-3, 's': 1.0, 'min': 60.0, 'h': 3600.0, 'd': 86400.0}


def parse_systemd_timespan(text):
    """'+1.234ms', '-27us', '1min 2.5s' -> seconds (float); None if unreadable."""
    value = text.strip()
    sign = -1.0 if value.startswith('-') else 1.0
    value = value.lstrip('+-').strip()
    parts = _TIMESPAN_PART.findall(value)
    if not parts or _TIMESPAN_PART.sub('', value).strip():
        return None
    return sign * sum(float(number) * _TIMESPAN_UNIT_SECONDS[unit] for number, unit in parts)


def parse_timedatectl(show_output, timesync_status_output=None):
    """Combine `timedatectl show` (the kernel's synchronised flag, NTP service enabled)
    with the optional `timedatectl timesync-status` (server, stratum, offset)."""
    properties = parse_timedatectl_show(show_output)
    if 'NTPSynchronized' not in properties:
        raise ValueError('not timedatectl show output: %r' % show_output[:200])
    synchronised = properties['NTPSynchronized'] == 'yes'
    state = 'systemd-timesyncd: NTPSynchronized=%s, NTP=%s' % (
        properties['NTPSynchronized'], properties.get('NTP', 'unknown'))

    source = stratum = offset = None
    status = parse_timesync_status(timesync_status_output or '')
    if status.get('Server'):
        source = status['Server']
        state += ', server %s' % source
    if status.get('Stratum', '').isdigit() and int(status['Stratum']) > 0:
        stratum = int(status['Stratum']) + 1
    if status.get('Offset'):
        offset = parse_systemd_timespan(status['Offset'])
    if not synchronised:
        return sync_state(TIMESYNCD, False, source, None, None, state)
    return sync_state(TIMESYNCD, True, source, stratum, offset, state)


# ---------------------------------------------------------------- detection


def _run(run_command, argv):
    try:
        return run_command(argv)
    except OSError as exc:  # a runner that raises for a missing program
        return 127, '', str(exc)


def running_time_daemons(run_command):
    """Names from TIME_DAEMONS that have a running process, in TIME_DAEMONS order.

    Uses pidof, and `ps -e -o comm=` where pidof is missing. Returns None when
    neither can list processes.
    """
    running = []
    for name in TIME_DAEMONS:
        rc, out, _err = _run(run_command, ['pidof', name])
        if rc == 0 and out.strip():
            running.append(name)
        elif rc != 1:  # 1 is pidof's "no such process"; anything else: pidof is unusable
            return _running_from_ps(run_command)
    return running


def _running_from_ps(run_command):
    rc, out, _err = _run(run_command, ['ps', '-e', '-o', 'comm='])
    if rc != 0:
        return None
    names = set(line.strip() for line in out.splitlines())
    return [name for name in TIME_DAEMONS if name[:_COMM_LENGTH] in names]


def detect_time_sync(run_command):
    """Find the running time daemon and ask it about the clock; returns a sync_state dict."""
    running = running_time_daemons(run_command)
    if running is None:
        return sync_state(state='cannot tell which time daemon runs: neither pidof nor ps worked')
    if not running:
        return sync_state(state='no time synchronisation daemon (%s) is running' % ', '.join(TIME_DAEMONS))

    daemon = running[0]
    if daemon == CHRONYD:
        result = _chrony_state(run_command)
    elif daemon == NTPD:
        result = _ntpd_state(run_command)
    else:
        result = _timesyncd_state(run_command)
    if len(running) > 1:
        result['state'] += '; also running: %s (several time daemons fight over the clock)' % ', '.join(running[1:])
    return result


def _failed(daemon, argv, rc, out, err):
    detail = (err or out).strip().splitlines()
    return sync_state(daemon, state='%s runs but `%s` failed (rc %d): %s'
                      % (daemon, ' '.join(argv), rc, detail[-1] if detail else 'no output'))


def _chrony_state(run_command):
    argv = ['chronyc', '-n', '-c', 'tracking']
    rc, out, err = _run(run_command, argv)
    if rc != 0:
        return _failed(CHRONYD, argv, rc, out, err)
    try:
        return parse_chronyc_tracking(out)
    except ValueError as exc:
        return sync_state(CHRONYD, state='cannot read chronyc output: %s' % exc)


def _ntpd_state(run_command):
    argv = ['ntpq', '-pn']
    rc, out, err = _run(run_command, argv)
    if rc != 0:
        return _failed(NTPD, argv, rc, out, err)
    return parse_ntpq_peers(out)


def _timesyncd_state(run_command):
    argv = ['timedatectl', 'show']
    rc, out, err = _run(run_command, argv)
    if rc != 0:
        return _failed(TIMESYNCD, argv, rc, out, err)
    # Offset and server are only in timesync-status (systemd 239+); without it the
    # kernel's synchronised flag from `show` still answers the main question.
    status_rc, status_out, _status_err = _run(run_command, ['timedatectl', 'timesync-status'])
    try:
        return parse_timedatectl(out, status_out if status_rc == 0 else None)
    except ValueError as exc:
        return sync_state(TIMESYNCD, state='cannot read timedatectl output: %s' % exc)


def subprocess_run_command(argv):
    """A run_command for use outside Ansible: C locale, missing program -> rc 127."""
    try:
        completed = subprocess.run(argv, capture_output=True, text=True, timeout=30, check=False,
                                   env={'LC_ALL': 'C', 'LANG': 'C', 'PATH': '/usr/sbin:/usr/bin:/sbin:/bin'})
    except FileNotFoundError as exc:
        return 127, '', str(exc)
    except subprocess.TimeoutExpired:
        return 124, '', '%s timed out' % argv[0]
    return completed.returncode, completed.stdout, completed.stderr
