# -*- coding: utf-8 -*-
# Copyright: crane.swarm developers
# GNU General Public License v3.0+ (see https://www.gnu.org/licenses/gpl-3.0.txt)
"""check_clock() decisions, on canned server answers and canned time daemon states."""

from __future__ import annotations

import pytest
import yaml

from ansible_collections.crane.swarm.plugins.module_utils.clock import check as clock
from ansible_collections.crane.swarm.plugins.modules import clock_check, swarm
from ansible_collections.crane.swarm.plugins.module_utils.clock import sntp

CHRONY_SYNCED_CSV = ('C000020A,192.0.2.10,3,1795822836.493924557,0.000042439,0.000002777,0.000003436,'
                     '-1.410,0.093,3.635,0.000130611,0.000986682,64.5,Normal\n')
CHRONY_UNSYNCED_CSV = ('00000000,,0,0.000000000,0.000000000,0.000000000,0.000000000,0.000,0.000,0.000,'
                       '1.000000000,1.000000000,0.0,Not synchronised\n')


def host_with(daemon=None, tracking=None):
    """run_command double for a host running `daemon` (only chronyd is scripted here)."""
    def run_command(argv):
        if argv[0] == 'pidof':
            return (0, '99\n', '') if argv[1] == daemon else (1, '', '')
        if argv[:2] == ['chronyc', '-n'] and tracking is not None:
            return 0, tracking, ''
        return 127, '', '%s: command not found' % argv[0]
    return run_command


SYNCED_HOST = host_with('chronyd', CHRONY_SYNCED_CSV)
UNSYNCED_HOST = host_with('chronyd', CHRONY_UNSYNCED_CSV)
BARE_HOST = host_with(None)


class FakeServers:
    """query_server double: `answers` maps a server spec to (offset, delay) or an SntpError."""

    def __init__(self, answers):
        self.answers = answers
        self.calls = []

    def __call__(self, server, timeout, samples):
        self.calls.append((server, timeout, samples))
        answer = self.answers[server]
        if isinstance(answer, Exception):
            raise answer
        offset, delay = answer
        return sntp.SntpResult(server=server, address='192.0.2.%d' % (len(self.calls)), port=123,
                               offset=offset, delay=delay, stratum=2, leap=0, version=4,
                               reference_id='192.0.2.1', root_delay=0.01, root_dispersion=0.001,
                               samples=samples)


def check(servers, answers=None, run_command=SYNCED_HOST, **arguments):
    return clock.check_clock(servers, run_command=run_command, query_server=FakeServers(answers or {}),
                             **arguments)


def test_small_offset_passes_and_reports_the_measurement():
    ok, report, message = check(['ntp1'], {'ntp1': (0.0123, 0.004)})
    assert ok
    assert (report['offset'], report['delay'], report['server'], report['stratum']) == (0.0123, 0.004, 'ntp1', 2)
    assert report['max_offset'] == 1.0
    assert report['sync']['daemon'] == 'chronyd' and report['sync']['synchronised'] is True
    assert report['server_results'][0]['ok'] is True and report['server_results'][0]['error'] is None
    assert '+0.012 s' in message and 'within max_offset 1.0 s' in message and 'ntp1' in message


def test_host_behind_by_5_seconds_fails_naming_offset_server_limit_and_fix():
    ok, report, message = check(['ntp1'], {'ntp1': (5.0021, 0.004)})
    assert not ok
    assert report['offset'] == 5.0021
    assert "+5.002 s (this host's clock is 5.002 s behind the server)" in message
    assert 'ntp1' in message
    assert 'exceeds max_offset 1.0 s' in message
    assert 'chronyc makestep' in message


def test_host_ahead_fails_too():
    ok, _report, message = check(['ntp1'], {'ntp1': (-2.5, 0.004)})
    assert not ok
    assert "-2.500 s (this host's clock is 2.500 s ahead of the server)" in message


def test_offset_equal_to_the_limit_passes():
    ok, _report, _message = check(['ntp1'], {'ntp1': (0.5, 0.001)}, max_offset=0.5)
    assert ok


def test_custom_limit_is_applied_and_reported():
    ok, report, message = check(['ntp1'], {'ntp1': (0.3, 0.001)}, max_offset=0.25)
    assert not ok
    assert report['max_offset'] == 0.25
    assert 'max_offset 0.25 s' in message


def test_the_server_with_the_lowest_delay_decides():
    answers = {'far': (0.2, 0.150), 'near': (3.0, 0.002), 'middle': (0.1, 0.040)}
    ok, report, message = check(['far', 'near', 'middle'], answers)
    assert not ok
    assert (report['server'], report['offset'], report['delay']) == ('near', 3.0, 0.002)
    assert [result['server'] for result in report['server_results']] == ['far', 'near', 'middle']
    assert 'near' in message


def test_one_answering_server_is_enough():
    answers = {'dead': sntp.SntpTimeout('no reply within 2 s (3 requests)'), 'alive': (0.01, 0.003)}
    ok, report, _message = check(['dead', 'alive'], answers)
    assert ok
    assert report['server'] == 'alive'
    assert report['server_results'][0] == {'server': 'dead', 'ok': False,
                                           'error': 'no reply within 2 s (3 requests)'}


def test_no_answering_server_fails_naming_each_error():
    answers = {'dead': sntp.SntpTimeout('no reply within 2 s (3 requests)'),
               'angry': sntp.KissOfDeath('DENY')}
    ok, report, message = check(['dead', 'angry'], answers)
    assert not ok
    assert (report['offset'], report['delay'], report['server'], report['stratum']) == (None, None, None, None)
    assert 'No NTP server answered' in message
    assert 'dead: no reply within 2 s (3 requests)' in message
    assert "angry: Kiss-o'-Death DENY" in message


def test_no_servers_checks_only_the_sync_state():
    ok, report, message = check([], run_command=UNSYNCED_HOST)
    assert ok
    assert report['server_results'] == [] and report['offset'] is None
    assert 'No NTP servers given' in message


def test_require_sync_fails_on_an_unsynchronised_daemon():
    ok, report, message = check([], run_command=UNSYNCED_HOST, require_sync=True)
    assert not ok
    assert report['sync']['synchronised'] is False
    assert 'require_sync' in message and 'daemon: chronyd' in message and 'Not synchronised' in message


def test_require_sync_fails_without_any_daemon():
    ok, _report, message = check(['ntp1'], {'ntp1': (0.001, 0.001)}, run_command=BARE_HOST, require_sync=True)
    assert not ok
    assert 'daemon: none' in message and 'no time synchronisation daemon' in message


def test_require_sync_passes_on_a_synchronised_host():
    ok, _report, message = check([], run_command=SYNCED_HOST, require_sync=True)
    assert ok
    assert 'chronyd synchronised to 192.0.2.10' in message


def test_sync_state_alone_does_not_fail_without_require_sync():
    ok, _report, _message = check(['ntp1'], {'ntp1': (0.001, 0.001)}, run_command=BARE_HOST)
    assert ok


def test_all_problems_are_named_together():
    ok, _report, message = check(['ntp1'], {'ntp1': (7.0, 0.001)}, run_command=UNSYNCED_HOST, require_sync=True)
    assert not ok
    assert 'exceeds max_offset' in message and 'require_sync' in message


def test_timeout_and_samples_reach_every_query():
    servers = FakeServers({'a': (0.0, 0.001), 'b': (0.0, 0.002)})
    clock.check_clock(['a', 'b'], timeout=0.7, samples=5, run_command=SYNCED_HOST, query_server=servers)
    assert servers.calls == [('a', 0.7, 5), ('b', 0.7, 5)]


@pytest.mark.parametrize('arguments, complaint', [
    (dict(max_offset=0), 'max_offset'),
    (dict(max_offset=-1.0), 'max_offset'),
    (dict(max_offset=float('nan')), 'max_offset'),
    (dict(max_offset=float('inf')), 'max_offset'),
    (dict(timeout=float('nan')), 'timeout'),
    (dict(timeout=0), 'timeout'),
    (dict(samples=0), 'samples'),
    (dict(samples=clock.MAX_SAMPLES + 1), 'samples'),
])
def test_invalid_arguments_are_refused(arguments, complaint):
    with pytest.raises(ValueError, match=complaint):
        check(['ntp1'], {'ntp1': (0.0, 0.001)}, **arguments)


class SpecCaught(Exception):
    """Raised by the AnsibleModule double once it has the argument spec."""


def argument_spec_of(module):
    """The argument spec `module`'s main() builds, caught before anything runs."""
    def catch(argument_spec, **dummy):
        raise SpecCaught(argument_spec)
    original = module.AnsibleModule
    module.AnsibleModule = catch
    try:
        module.main()
    except SpecCaught as caught:
        return caught.args[0]
    finally:
        module.AnsibleModule = original
    raise AssertionError('main() built no AnsibleModule')


@pytest.mark.parametrize('module, option', [(clock_check, 'max_offset'), (swarm, 'max_clock_offset')])
def test_the_offset_default_is_written_once_and_documented(module, option):
    # swarm builds its AnsibleModule through the module base from SWARM_OPTIONS
    spec = (swarm.SWARM_OPTIONS if module is swarm else argument_spec_of(module))[option]
    assert spec == {'type': 'float', 'default': clock.DEFAULT_MAX_OFFSET}
    assert spec['default'] is clock.DEFAULT_MAX_OFFSET  # the constant itself, not a copy of its value
    documented = yaml.safe_load(module.DOCUMENTATION)['options'][option]
    assert (documented['type'], documented['default']) == ('float', clock.DEFAULT_MAX_OFFSET)


def test_defaults():
    assert (clock.DEFAULT_MAX_OFFSET, clock.DEFAULT_TIMEOUT, clock.DEFAULT_SAMPLES) == (1.0, 2.0, 3)


class FakeModule:
    def __init__(self, paths):
        self.paths = paths
        self.commands = []

    def get_bin_path(self, name):
        return self.paths.get(name)

    def run_command(self, argv, environ_update=None):
        self.commands.append((argv, environ_update))
        return 0, 'out', ''


def test_module_run_command_resolves_programs_and_forces_the_c_locale():
    module = FakeModule({'chronyc': '/usr/bin/chronyc'})
    run_command = clock.module_run_command(module)
    assert run_command(['chronyc', '-n', '-c', 'tracking']) == (0, 'out', '')
    argv, environ = module.commands[0]
    assert argv == ['/usr/bin/chronyc', '-n', '-c', 'tracking']
    assert environ['LC_ALL'] == 'C'
    assert run_command(['ntpq', '-pn'])[0] == 127
    assert len(module.commands) == 1
