# -*- coding: utf-8 -*-
# Copyright: crane.swarm developers
# GNU General Public License v3.0+ (see https://www.gnu.org/licenses/gpl-3.0.txt)
"""The clock precheck shared by crane.swarm.clock_check and crane.swarm.swarm (before a join).

check_clock() measures this host's clock against NTP servers with SNTP, looks at
the host's own time daemon, and decides. It never changes anything.
"""

from __future__ import annotations

import math

from ansible_collections.crane.swarm.plugins.module_utils.clock import sntp
from ansible_collections.crane.swarm.plugins.module_utils.clock import timesync

# The default of max_offset (clock_check) and max_clock_offset (swarm): both argument specs use this constant,
# and their documentation states the number (validate-modules holds the two equal).
# Why 1 second (also explained in the clock_check documentation):
# - a host kept by any NTP daemon sits within milliseconds of its servers, and an
#   SNTP measurement errs by at most half the round-trip delay (well under 0.1 s
#   even across continents), so a healthy host never gets near 1 s;
# - 1 s is the usual step threshold of time daemons (chrony's `makestep 1 3`):
#   above it a daemon steps the clock instead of slewing it, so a host beyond 1 s
#   is not being disciplined at all, and slewing it back at ntpd's 500 ppm would
#   take more than half an hour;
# - swarm tolerates small skews (node certificates are backdated by an hour; raft
#   and the 5 s dispatcher heartbeats run on each node's own timers), yet joins of
#   hosts whose clocks were off by a few seconds are known to time out, so the
#   limit has to sit clearly below a few seconds.
DEFAULT_MAX_OFFSET = 1.0
DEFAULT_TIMEOUT = 2.0
DEFAULT_SAMPLES = 3
MAX_SAMPLES = 8

FIX_HINT = ("Synchronise this host's clock before it joins the swarm: run a time daemon "
            "(chronyd or systemd-timesyncd) against a reachable NTP server and let it step "
            "the clock once (`chronyc makestep`, or restart systemd-timesyncd).")


def validate_arguments(max_offset, timeout, samples):
    """Raise ValueError with a message naming the argument whose value is out of range.

    Types are the argument spec's business (both modules declare these as float,
    float and int): only what a type cannot say is checked here.
    """
    # isfinite: a NaN limit would make every comparison false and pass any offset.
    if not math.isfinite(max_offset) or max_offset <= 0:
        raise ValueError('max_offset must be a number of seconds greater than 0, got %r' % (max_offset,))
    if not math.isfinite(timeout) or timeout <= 0:
        raise ValueError('timeout must be a number of seconds greater than 0, got %r' % (timeout,))
    if not 1 <= samples <= MAX_SAMPLES:
        # More requests in a burst only earn Kiss-o'-Death RATE replies from servers.
        raise ValueError('samples must be between 1 and %d, got %r' % (MAX_SAMPLES, samples))


def query_servers(servers, timeout, samples, query_server=sntp.query):
    """One result dict per server, in the given order; failures carry an error text."""
    results = []
    for server in servers:
        try:
            answer = query_server(server, timeout=timeout, samples=samples)
        except sntp.SntpError as exc:
            results.append({'server': server, 'ok': False, 'error': str(exc)})
            continue
        result = answer.to_dict()
        result.update(ok=True, error=None)
        results.append(result)
    return results


def best_result(results):
    """The answering server with the lowest round-trip delay, or None."""
    answered = [result for result in results if result['ok']]
    if not answered:
        return None
    return min(answered, key=lambda result: result['delay'])


def describe_offset(offset):
    """'+5.002 s (this host's clock is 5.002 s behind the server)': offsets are
    server minus host, so the sign alone is easy to misread."""
    if offset > 0:
        relation = '%.3f s behind' % offset
    elif offset < 0:
        relation = '%.3f s ahead of' % -offset
    else:
        relation = 'exactly in step with'
    return "%+.3f s (this host's clock is %s the server)" % (offset, relation)


def check_clock(servers, max_offset=DEFAULT_MAX_OFFSET, require_sync=False, timeout=DEFAULT_TIMEOUT,
                samples=DEFAULT_SAMPLES, run_command=None, query_server=sntp.query):
    """Decide whether this host's clock is fit to join a swarm.

    servers: NTP servers ('host', 'host:port', '[v6]:port'); may be empty, then only
    the host's sync state is looked at. run_command(argv) -> (rc, out, err) runs the
    commands that inspect the time daemon (default: subprocess). query_server is
    sntp.query, replaceable in tests.

    Returns (ok, report, message). report holds offset, delay, server, stratum (of the
    best server, None without one), server_results, sync and max_offset.
    Raises ValueError for invalid arguments.
    """
    validate_arguments(max_offset, timeout, samples)
    if run_command is None:
        run_command = timesync.subprocess_run_command

    results = query_servers(servers, timeout, samples, query_server)
    best = best_result(results)
    sync = timesync.detect_time_sync(run_command)
    report = {
        'offset': best['offset'] if best else None,
        'delay': best['delay'] if best else None,
        'server': best['server'] if best else None,
        'stratum': best['stratum'] if best else None,
        'server_results': results,
        'sync': sync,
        'max_offset': max_offset,
    }

    problems = []
    if servers and best is None:
        problems.append('No NTP server answered, so the clock offset is unknown: %s. '
                        'Check the names and that UDP traffic to port 123 (or the given port) is allowed.'
                        % '; '.join('%s: %s' % (result['server'], result['error']) for result in results))
    if best is not None and abs(best['offset']) > max_offset:
        problems.append('Clock offset %s measured against %s exceeds max_offset %s s. %s'
                        % (describe_offset(best['offset']), best['server'], max_offset, FIX_HINT))
    if require_sync and not sync['synchronised']:
        problems.append('require_sync is set but the host clock is not synchronised: %s (daemon: %s). '
                        'Start a time daemon and wait until it reports synchronisation '
                        '(`chronyc tracking`, `timedatectl status`).'
                        % (sync['state'], sync['daemon'] or 'none'))
    if problems:
        return False, report, ' '.join(problems)

    if best is None:
        message = 'No NTP servers given; only the host sync state was checked: %s.' % sync['state']
    else:
        message = ('Clock offset %s measured against %s (delay %.1f ms) is within max_offset %s s. Host: %s.'
                   % (describe_offset(best['offset']), best['server'], best['delay'] * 1000.0,
                      max_offset, sync['state']))
    return True, report, message


def module_run_command(module):
    """Adapt AnsibleModule.run_command to the run_command(argv) contract of timesync:
    a missing program gives rc 127 instead of failing the module, and the C locale
    keeps the parsed outputs in English with '.' decimals."""
    def run_command(argv):
        executable = module.get_bin_path(argv[0])
        if executable is None:
            return 127, '', '%s: command not found' % argv[0]
        return module.run_command([executable] + list(argv[1:]),
                                  environ_update={'LC_ALL': 'C', 'LANG': 'C', 'LC_MESSAGES': 'C'})
    return run_command
