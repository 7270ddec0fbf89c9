# -*- coding: utf-8 -*-
# Copyright: crane.swarm developers
# GNU General Public License v3.0+ (see https://www.gnu.org/licenses/gpl-3.0.txt)
"""crane.swarm.clock_check run for real (`ansible localhost -m ...`) against local NTP servers.

The machine's clock is never changed: skew is simulated by tests/tools/ntp_responder.py
answering with real time + offset, and the healthy case is a real chronyd started with
-x (never touches the system clock) serving its own clock on a loopback port.
"""

from __future__ import annotations

import json
import os
import re
import signal
import socket
import subprocess
import sys
import time
from pathlib import Path

import pytest

import harness

CHECKOUT = Path(__file__).resolve().parents[2]
RESPONDER = CHECKOUT / 'tests' / 'tools' / 'ntp_responder.py'
# The venv that runs pytest also runs Ansible, on the controller and as the module's interpreter.
PYTHON = sys.executable
ANSIBLE = Path(PYTHON).parent / 'ansible'


@pytest.fixture(scope='module')
def ansible_env(tmp_path_factory):
    if not ANSIBLE.exists():
        pytest.skip('no ansible next to %s; run pytest with the venv python' % PYTHON)
    root = tmp_path_factory.mktemp('collections')
    namespace = root / 'ansible_collections' / 'crane'
    namespace.mkdir(parents=True)
    (namespace / 'swarm').symlink_to(CHECKOUT)
    env = dict(os.environ)
    env.update(
        ANSIBLE_COLLECTIONS_PATH=str(root),
        ANSIBLE_NOCOLOR='1',
        ANSIBLE_LOCALHOST_WARNING='0',
        ANSIBLE_INVENTORY_UNPARSED_WARNING='0',
        ANSIBLE_STDOUT_CALLBACK='minimal',
    )
    return env


def run_clock_check(env, arguments, *extra):
    """Run the module on localhost; return (rc, status, result dict, full output).

    status is the word the minimal callback prints: SUCCESS or FAILED! (it leaves the
    'failed' key out of the printed result)."""
    command = [str(ANSIBLE), 'localhost', '-m', 'crane.swarm.clock_check', '-a', arguments,
               '-e', 'ansible_python_interpreter=%s' % PYTHON] + list(extra)
    completed = subprocess.run(command, env=env, capture_output=True, text=True, timeout=120, check=False)
    output = completed.stdout + completed.stderr
    match = re.search(r'^localhost \| (\S+) => ', completed.stdout, re.MULTILINE)
    assert match, 'no module result in the output:\n%s' % output
    result, _end = json.JSONDecoder().raw_decode(completed.stdout[match.end():])
    return completed.returncode, match.group(1), result, output


def wait_for_file(path, process, timeout=10.0):
    deadline = time.monotonic() + timeout
    while time.monotonic() < deadline:
        if path.exists():
            return path.read_text()
        if process.poll() is not None:
            raise AssertionError('process exited early with %s' % process.returncode)
        time.sleep(0.05)
    raise AssertionError('%s did not appear within %s s' % (path, timeout))


@pytest.fixture
def responder(tmp_path):
    """Start ntp_responder.py with the given offset; returns its port."""
    processes = []

    def start(offset, *extra):
        ready = tmp_path / ('ready-%d' % len(processes))
        process = subprocess.Popen([PYTHON, str(RESPONDER), '--listen', '127.0.0.1', '--port', '0',
                                    '--offset', str(offset), '--ready-file', str(ready)] + list(extra),
                                   stdout=subprocess.DEVNULL, stderr=subprocess.PIPE, text=True)
        processes.append(process)
        _word, _host, port = wait_for_file(ready, process).split()
        return int(port)

    yield start
    for process in processes:
        process.send_signal(signal.SIGTERM)
        _out, errors = process.communicate(timeout=10)
        assert process.returncode == 0, 'responder did not exit cleanly on SIGTERM: %s' % errors


def test_host_5_seconds_behind_fails_naming_offset_and_limit(ansible_env, responder):
    port = responder(5.0)
    rc, status, result, output = run_clock_check(ansible_env, 'servers=127.0.0.1:%d max_offset=1.0' % port)
    assert (rc, status) == (2, 'FAILED!'), output
    assert result['changed'] is False
    assert result['offset'] == pytest.approx(5.0, abs=0.25)
    assert result['server'] == '127.0.0.1:%d' % port
    # The message shows the measured offset (+4.999 under load), signed: read it, do not match digits.
    shown = re.search(r'Clock offset ([+-][0-9.]+) s', result['msg'])
    assert shown and float(shown.group(1)) == pytest.approx(5.0, abs=0.25), result['msg']
    assert 'behind' in result['msg']
    assert 'max_offset 1.0 s' in result['msg']
    assert '127.0.0.1:%d' % port in result['msg']


def test_host_in_step_passes(ansible_env, responder):
    port = responder(0.0)
    rc, status, result, output = run_clock_check(ansible_env, 'servers=127.0.0.1:%d' % port)
    assert (rc, status) == (0, 'SUCCESS'), output
    assert result['changed'] is False
    assert abs(result['offset']) < 0.5
    assert result['stratum'] == 2
    assert result['server_results'][0]['ok'] is True
    assert set(result['sync']) == {'daemon', 'synchronised', 'source', 'stratum', 'offset', 'state'}


def test_check_mode_measures_the_same_way(ansible_env, responder):
    port = responder(3.0)
    rc, status, result, output = run_clock_check(ansible_env, 'servers=127.0.0.1:%d' % port, '--check')
    assert (rc, status) == (2, 'FAILED!'), output
    assert result['offset'] == pytest.approx(3.0, abs=0.25)


def test_lowest_delay_server_wins_and_dead_servers_only_warn(ansible_env, responder):
    good = responder(0.2)
    refused = socket.socket(socket.AF_INET, socket.SOCK_DGRAM)
    refused.bind(('127.0.0.1', 0))
    dead_port = refused.getsockname()[1]
    refused.close()
    rc, status, result, output = run_clock_check(
        ansible_env, 'servers=127.0.0.1:%d,127.0.0.1:%d samples=1' % (dead_port, good))
    assert (rc, status) == (0, 'SUCCESS'), output
    assert result['server'] == '127.0.0.1:%d' % good
    assert result['server_results'][0]['ok'] is False
    assert 'refused' in result['server_results'][0]['error']
    assert 'gave no usable answer' in output


def test_kiss_of_death_only_fails_naming_the_code(ansible_env, responder):
    port = responder(0.0, '--kod', 'RATE')
    rc, status, result, output = run_clock_check(ansible_env, 'servers=127.0.0.1:%d' % port)
    assert (rc, status) == (2, 'FAILED!'), output
    assert 'No NTP server answered' in result['msg']
    assert 'RATE' in result['msg']


def test_unsynchronised_server_is_not_used(ansible_env, responder):
    port = responder(0.0, '--leap', '3')
    rc, status, result, output = run_clock_check(ansible_env, 'servers=127.0.0.1:%d' % port)
    assert (rc, status) == (2, 'FAILED!'), output
    assert 'not synchronised (leap indicator 3)' in result['msg']


# ---------------------------------------------------------------- a real chronyd as the healthy server


@pytest.fixture
def chronyd_server(tmp_path):
    if harness.chronyd_path() is None:
        pytest.skip('chronyd is not installed')
    if os.geteuid() != 0:
        pytest.skip('chronyd refuses to start without root')
    with harness.chrony_server('127.0.0.1', tmp_path) as port:
        yield port


def test_healthy_chronyd_server_passes(ansible_env, chronyd_server):
    rc, status, result, output = run_clock_check(ansible_env, 'servers=127.0.0.1:%d max_offset=1.0' % chronyd_server)
    assert (rc, status) == (0, 'SUCCESS'), output
    assert abs(result['offset']) < 0.5
    assert result['stratum'] == 8
    assert 'within max_offset 1.0 s' in result['msg']
