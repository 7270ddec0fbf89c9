# -*- coding: utf-8 -*-
# Copyright: crane.swarm developers
# GNU General Public License v3.0+ (see https://www.gnu.org/licenses/gpl-3.0.txt)
"""The host's own time daemon: parsers of chronyc, ntpq and timedatectl output, and detection."""

from __future__ import annotations

import pytest

from ansible_collections.crane.swarm.plugins.module_utils.clock import timesync

# ---------------------------------------------------------------- chrony (outputs of chrony 4.3)

CHRONY_SYNCED_SLOW = """\
Reference ID    : C000020A (192.0.2.10)
Stratum         : 3
Ref time (UTC)  : Fri Nov 27 23:40:36 2026
System time     : 5.000042439 seconds slow of NTP time
Last offset     : +0.000002777 seconds
RMS offset      : 0.000003436 seconds
Frequency       : 1.410 ppm slow
Residual freq   : +0.093 ppm
Skew            : 3.635 ppm
Root delay      : 0.000130611 seconds
Root dispersion : 0.000986667 seconds
Update interval : 0.5 seconds
Leap status     : Normal
"""

CHRONY_SYNCED_FAST = """\
Reference ID    : C000020A (192.0.2.10)
Stratum         : 2
Ref time (UTC)  : Fri Nov 27 23:41:02 2026
System time     : 0.000012345 seconds fast of NTP time
Last offset     : -0.000010002 seconds
RMS offset      : 0.000020417 seconds
Frequency       : 7.102 ppm fast
Residual freq   : -0.004 ppm
Skew            : 0.071 ppm
Root delay      : 0.000417733 seconds
Root dispersion : 0.000310212 seconds
Update interval : 64.3 seconds
Leap status     : Normal
"""

CHRONY_UNSYNCED = """\
Reference ID    : 00000000 ()
Stratum         : 0
Ref time (UTC)  : Thu Jan 01 00:00:00 1970
System time     : 0.000000000 seconds fast of NTP time
Last offset     : +0.000000000 seconds
RMS offset      : 0.000000000 seconds
Frequency       : 0.000 ppm slow
Residual freq   : +0.000 ppm
Skew            : 0.000 ppm
Root delay      : 1.000000000 seconds
Root dispersion : 1.000000000 seconds
Update interval : 0.0 seconds
Leap status     : Not synchronised
"""

CHRONY_LOCAL = """\
Reference ID    : 7F7F0101 ()
Stratum         : 8
Ref time (UTC)  : Fri Nov 27 23:38:15 2026
System time     : 0.000000000 seconds fast of NTP time
Last offset     : +0.000000000 seconds
RMS offset      : 0.000000000 seconds
Frequency       : 0.000 ppm slow
Residual freq   : +0.000 ppm
Skew            : 0.000 ppm
Root delay      : 0.000000000 seconds
Root dispersion : 0.000000000 seconds
Update interval : 0.0 seconds
Leap status     : Normal
"""

CHRONY_CSV_SYNCED_SLOW = ('C000020A,192.0.2.10,3,1795822836.493924557,5.000042439,0.000002777,0.000003436,'
                          '-1.410,0.093,3.635,0.000130611,0.000986682,0.5,Normal\n')
CHRONY_CSV_SYNCED_FAST = ('C000020A,192.0.2.10,2,1795822862.102938475,-0.000012345,-0.000010002,0.000020417,'
                          '7.102,-0.004,0.071,0.000417733,0.000310212,64.3,Normal\n')
CHRONY_CSV_UNSYNCED = ('00000000,,0,0.000000000,0.000000000,0.000000000,0.000000000,0.000,0.000,0.000,'
                       '1.000000000,1.000000000,0.0,Not synchronised\n')
CHRONY_CSV_LOCAL = ('7F7F0101,,8,1795822695.037765046,0.000000000,0.000000000,0.000000000,0.000,0.000,0.000,'
                    '0.000000000,0.000000000,0.0,Normal\n')


@pytest.mark.parametrize('output', [CHRONY_SYNCED_SLOW, CHRONY_CSV_SYNCED_SLOW])
def test_chrony_synchronised_with_a_slow_clock_has_a_positive_offset(output):
    state = timesync.parse_chronyc_tracking(output)
    assert state == {
        'daemon': 'chronyd', 'synchronised': True, 'source': '192.0.2.10', 'stratum': 3,
        'offset': pytest.approx(5.000042439), 'state': 'chronyd synchronised to 192.0.2.10 (Leap status: Normal)',
    }


@pytest.mark.parametrize('output', [CHRONY_SYNCED_FAST, CHRONY_CSV_SYNCED_FAST])
def test_chrony_fast_clock_has_a_negative_offset(output):
    state = timesync.parse_chronyc_tracking(output)
    assert state['synchronised'] is True
    assert state['stratum'] == 2
    assert state['offset'] == pytest.approx(-0.000012345)


@pytest.mark.parametrize('output', [CHRONY_UNSYNCED, CHRONY_CSV_UNSYNCED])
def test_chrony_not_synchronised(output):
    state = timesync.parse_chronyc_tracking(output)
    assert state['daemon'] == 'chronyd'
    assert state['synchronised'] is False
    assert (state['source'], state['stratum'], state['offset']) == (None, None, None)
    assert 'Not synchronised' in state['state']


@pytest.mark.parametrize('output', [CHRONY_LOCAL, CHRONY_CSV_LOCAL])
def test_chrony_serving_its_local_clock_counts_as_synchronised_and_says_so(output):
    state = timesync.parse_chronyc_tracking(output)
    assert state['synchronised'] is True
    assert state['source'] == 'local clock'
    assert state['stratum'] == 8
    assert "'local' directive" in state['state']


def test_chrony_synchronised_to_a_reference_clock_without_a_name_uses_the_reference_id():
    output = CHRONY_CSV_SYNCED_FAST.replace('C000020A,192.0.2.10,2', '47505300,,1')
    state = timesync.parse_chronyc_tracking(output)
    assert (state['synchronised'], state['source'], state['stratum']) == (True, '47505300', 1)


def test_chrony_leap_status_not_synchronised_wins_over_a_reference():
    output = CHRONY_SYNCED_SLOW.replace('Leap status     : Normal', 'Leap status     : Not synchronised')
    assert timesync.parse_chronyc_tracking(output)['synchronised'] is False


@pytest.mark.parametrize('output', ['', '506 Cannot talk to daemon', 'a,b,c', 'Stratum : 3\nfoo : bar\n',
                                    CHRONY_SYNCED_SLOW.replace('C000020A (192.0.2.10)', 'garbage')])
def test_chrony_parser_rejects_other_output(output):
    with pytest.raises(ValueError):
        timesync.parse_chronyc_tracking(output)


# ---------------------------------------------------------------- ntpd

NTPQ_SYNCED = """\
     remote           refid      st t when poll reach   delay   offset  jitter
==============================================================================
 0.debian.pool.n .POOL.          16 p    -   64    0    0.000    0.000   0.000
*192.0.2.10      .GPS.            1 u   33   64  377    0.512   -0.123   0.045
+198.51.100.7    192.0.2.10       2 u   12   64  377    1.023    0.456   0.100
-203.0.113.5     192.0.2.10       2 u   40   64  377   12.345    2.345   1.100
"""

NTPQ_STARTING = """\
     remote           refid      st t when poll reach   delay   offset  jitter
==============================================================================
 192.0.2.10      .INIT.          16 u    -   64    0    0.000    0.000   0.000
 198.51.100.7    .INIT.          16 u    -   64    0    0.000    0.000   0.000
"""

NTPQ_CANDIDATES_ONLY = """\
     remote           refid      st t when poll reach   delay   offset  jitter
==============================================================================
+192.0.2.10      .GPS.            1 u    5   64    7    0.512   -0.123   0.045
+198.51.100.7    192.0.2.10       2 u    3   64    7    1.023    0.456   0.100
x203.0.113.5     192.0.2.10       2 u    4   64    7   12.345  812.345   1.100
"""

NTPQ_WRAPPED_IPV6 = """\
     remote           refid      st t when poll reach   delay   offset  jitter
==============================================================================
*2001:db8::123:4567
                 .PPS.            0 u   20   64  377    0.250    1.500   0.010
+192.0.2.10      .GPS.            1 u   33   64  377    0.512   -0.123   0.045
"""

NTPSEC_SYNCED = """\
     remote                                   refid      st t when poll reach   delay   offset   jitter
=======================================================================================================
 0.debian.pool.ntp.org                        .POOL.     16 p    -  256    0   0.0000   0.0000   0.0019
*192.0.2.10                                   .GPS.       1 u  311 1024  377   0.5120  -0.1230   0.0450
+198.51.100.7                                 192.0.2.10  2 u  200 1024  377   1.0230   0.4560   0.1000
"""

NTPQ_PPS_PEER = NTPQ_SYNCED.replace('*192.0.2.10 ', 'o192.0.2.10 ')


@pytest.mark.parametrize('output', [NTPQ_SYNCED, NTPSEC_SYNCED, NTPQ_PPS_PEER])
def test_ntpq_system_peer_means_synchronised(output):
    state = timesync.parse_ntpq_peers(output)
    assert state['daemon'] == 'ntpd'
    assert state['synchronised'] is True
    assert state['source'] == '192.0.2.10'
    assert state['stratum'] == 2  # the peer is stratum 1, so this host is stratum 2
    assert state['offset'] == pytest.approx(-0.000123)  # ntpq shows milliseconds
    assert '192.0.2.10' in state['state'] and '.GPS.' in state['state']


def test_ntpq_wrapped_ipv6_peer_line_is_joined():
    state = timesync.parse_ntpq_peers(NTPQ_WRAPPED_IPV6)
    assert (state['synchronised'], state['source']) == (True, '2001:db8::123:4567')
    assert state['offset'] == pytest.approx(0.0015)


def test_ntpq_without_system_peer_is_not_synchronised():
    state = timesync.parse_ntpq_peers(NTPQ_STARTING)
    assert state['synchronised'] is False
    assert '0 of 2 peers are candidates' in state['state']
    state = timesync.parse_ntpq_peers(NTPQ_CANDIDATES_ONLY)
    assert state['synchronised'] is False
    assert '2 of 3 peers are candidates' in state['state']


@pytest.mark.parametrize('output', ['', "No association ID's returned\n"])
def test_ntpq_without_peers(output):
    state = timesync.parse_ntpq_peers(output)
    assert state['synchronised'] is False
    assert 'no peers' in state['state']


# ---------------------------------------------------------------- systemd-timesyncd

TIMEDATECTL_SHOW_SYNCED = """\
Timezone=Etc/UTC
LocalRTC=no
CanNTP=yes
NTP=yes
NTPSynchronized=yes
TimeUSec=Fri 2026-11-27 23:40:36 UTC
RTCTimeUSec=Fri 2026-11-27 23:40:36 UTC
"""

TIMEDATECTL_SHOW_UNSYNCED = TIMEDATECTL_SHOW_SYNCED.replace('NTPSynchronized=yes', 'NTPSynchronized=no')

TIMESYNC_STATUS = """\
       Server: 192.0.2.10 (ntp.example.org)
Poll interval: 34min 8s (min: 32s; max 34min 8s)
         Leap: normal
      Version: 4
      Stratum: 2
    Reference: C0000201
    Precision: 1us (-24)
Root distance: 335us (max: 5s)
       Offset: -2.264ms
        Delay: 22.523ms
       Jitter: 1.155ms
 Packet count: 1003
    Frequency: -15.223ppm
"""

TIMESYNC_STATUS_NO_CONTACT = """\
       Server: n/a (ntp.example.org)
Poll interval: 0 (min: 32s; max 34min 8s)
 Packet count: 0
"""


def test_timesyncd_synchronised_with_status_details():
    state = timesync.parse_timedatectl(TIMEDATECTL_SHOW_SYNCED, TIMESYNC_STATUS)
    assert state == {
        'daemon': 'systemd-timesyncd', 'synchronised': True, 'source': '192.0.2.10 (ntp.example.org)',
        'stratum': 3, 'offset': pytest.approx(-0.002264),
        'state': 'systemd-timesyncd: NTPSynchronized=yes, NTP=yes, server 192.0.2.10 (ntp.example.org)',
    }


def test_timesyncd_synchronised_without_status():
    state = timesync.parse_timedatectl(TIMEDATECTL_SHOW_SYNCED)
    assert (state['synchronised'], state['source'], state['stratum'], state['offset']) == (True, None, None, None)


def test_timesyncd_not_synchronised():
    state = timesync.parse_timedatectl(TIMEDATECTL_SHOW_UNSYNCED, TIMESYNC_STATUS_NO_CONTACT)
    assert state['synchronised'] is False
    assert state['offset'] is None
    assert 'NTPSynchronized=no' in state['state']


def test_timedatectl_parser_rejects_other_output():
    with pytest.raises(ValueError):
        timesync.parse_timedatectl('Failed to connect to bus: No such file or directory\n')


@pytest.mark.parametrize('text, seconds', [
    ('-2.264ms', -0.002264),
    ('+27us', 0.000027),
    ('27\u00b5s', 0.000027),
    ('1.5s', 1.5),
    ('-1min 2.500s', -62.5),
    ('2h', 7200.0),
])
def test_systemd_timespans(text, seconds):
    assert timesync.parse_systemd_timespan(text) == pytest.approx(seconds)


@pytest.mark.parametrize('text', ['', 'n/a', '3 bananas', '5ms and more'])
def test_unreadable_systemd_timespans(text):
    assert timesync.parse_systemd_timespan(text) is None


# ---------------------------------------------------------------- detection


class FakeHost:
    """run_command double: answers argv tuples from a table, 127 for anything else."""

    def __init__(self, table):
        self.table = table
        self.calls = []

    def __call__(self, argv):
        self.calls.append(tuple(argv))
        answer = self.table.get(tuple(argv), (127, '', '%s: command not found' % argv[0]))
        if isinstance(answer, Exception):
            raise answer
        return answer


def pidof_table(*running):
    return {('pidof', name): (0, '4242\n', '') if name in running else (1, '', '')
            for name in timesync.TIME_DAEMONS}


def test_detects_synchronised_chronyd():
    table = pidof_table('chronyd')
    table[('chronyc', '-n', '-c', 'tracking')] = (0, CHRONY_CSV_SYNCED_FAST, '')
    state = timesync.detect_time_sync(FakeHost(table))
    assert (state['daemon'], state['synchronised'], state['source']) == ('chronyd', True, '192.0.2.10')


def test_chronyc_failure_means_not_synchronised_and_says_why():
    table = pidof_table('chronyd')
    table[('chronyc', '-n', '-c', 'tracking')] = (1, '', '506 Cannot talk to daemon\n')
    state = timesync.detect_time_sync(FakeHost(table))
    assert (state['daemon'], state['synchronised']) == ('chronyd', False)
    assert '506 Cannot talk to daemon' in state['state']
    assert 'chronyc -n -c tracking' in state['state']


def test_unreadable_chronyc_output_means_not_synchronised():
    table = pidof_table('chronyd')
    table[('chronyc', '-n', '-c', 'tracking')] = (0, 'something else entirely', '')
    state = timesync.detect_time_sync(FakeHost(table))
    assert (state['daemon'], state['synchronised']) == ('chronyd', False)
    assert 'cannot read chronyc output' in state['state']


def test_detects_ntpd():
    table = pidof_table('ntpd')
    table[('ntpq', '-pn')] = (0, NTPQ_SYNCED, '')
    state = timesync.detect_time_sync(FakeHost(table))
    assert (state['daemon'], state['synchronised'], state['stratum']) == ('ntpd', True, 2)


def test_ntpd_without_ntpq_is_not_synchronised():
    state = timesync.detect_time_sync(FakeHost(pidof_table('ntpd')))
    assert (state['daemon'], state['synchronised']) == ('ntpd', False)
    assert 'command not found' in state['state']


def test_detects_timesyncd_and_asks_timedatectl_twice():
    table = pidof_table('systemd-timesyncd')
    table[('timedatectl', 'show')] = (0, TIMEDATECTL_SHOW_SYNCED, '')
    table[('timedatectl', 'timesync-status')] = (0, TIMESYNC_STATUS, '')
    state = timesync.detect_time_sync(FakeHost(table))
    assert (state['daemon'], state['synchronised'], state['offset']) == (
        'systemd-timesyncd', True, pytest.approx(-0.002264))


def test_timesyncd_with_an_old_timedatectl_still_uses_the_synchronised_flag():
    table = pidof_table('systemd-timesyncd')
    table[('timedatectl', 'show')] = (0, TIMEDATECTL_SHOW_SYNCED, '')
    table[('timedatectl', 'timesync-status')] = (1, '', 'Unknown command verb timesync-status.')
    state = timesync.detect_time_sync(FakeHost(table))
    assert (state['synchronised'], state['offset']) == (True, None)


def test_no_daemon_running():
    host = FakeHost(pidof_table())
    state = timesync.detect_time_sync(host)
    assert state == {'daemon': None, 'synchronised': False, 'source': None, 'stratum': None, 'offset': None,
                     'state': 'no time synchronisation daemon (chronyd, ntpd, systemd-timesyncd) is running'}
    assert all(call[0] == 'pidof' for call in host.calls)


def test_two_daemons_report_the_first_and_warn_about_the_other():
    table = pidof_table('chronyd', 'systemd-timesyncd')
    table[('chronyc', '-n', '-c', 'tracking')] = (0, CHRONY_CSV_SYNCED_FAST, '')
    state = timesync.detect_time_sync(FakeHost(table))
    assert state['daemon'] == 'chronyd'
    assert 'also running: systemd-timesyncd' in state['state']


def test_without_pidof_ps_lists_truncated_process_names():
    table = {('ps', '-e', '-o', 'comm='): (0, 'init\nsshd\nsystemd-timesyn\nbash\n', '')}
    table[('timedatectl', 'show')] = (0, TIMEDATECTL_SHOW_UNSYNCED, '')
    host = FakeHost(table)
    state = timesync.detect_time_sync(host)
    assert (state['daemon'], state['synchronised']) == ('systemd-timesyncd', False)
    assert ('pidof', 'chronyd') in host.calls


def test_without_any_process_listing_the_state_says_so():
    state = timesync.detect_time_sync(FakeHost({}))
    assert (state['daemon'], state['synchronised']) == (None, False)
    assert 'neither pidof nor ps' in state['state']


def test_a_runner_that_raises_for_missing_programs_is_tolerated():
    table = pidof_table('chronyd')
    table[('chronyc', '-n', '-c', 'tracking')] = FileNotFoundError(2, 'No such file or directory', 'chronyc')
    state = timesync.detect_time_sync(FakeHost(table))
    assert (state['daemon'], state['synchronised']) == ('chronyd', False)
    assert 'rc 127' in state['state']


def test_subprocess_runner_reports_a_missing_program_as_127():
    rc, _out, err = timesync.subprocess_run_command(['crane-swarm-no-such-program'])
    assert rc == 127
    assert err
