# Copyright: crane.swarm developers
# GNU General Public License v3.0+ (see https://www.gnu.org/licenses/gpl-3.0.txt)
"""Port reachability: target parsing, classification, and real connects on loopback."""

from __future__ import annotations

import errno
import socket

import pytest

from ansible_collections.crane.swarm.plugins.module_utils.swarm import port_probe


def test_parse_targets():
    assert port_probe.parse_target('10.0.0.11:2377') == ('10.0.0.11', 2377)
    assert port_probe.parse_target('[fd00::1]:7946') == ('fd00::1', 7946)
    assert port_probe.parse_target({'host': 'node1', 'port': '2377'}) == ('node1', 2377)
    for bad in ('10.0.0.11', '10.0.0.11:0', ':2377', {'host': 'node1'}, '10.0.0.11:http'):
        with pytest.raises(ValueError, match='targets: .* is not host:port'):
            port_probe.parse_target(bad)


def test_states_of_errors():
    assert port_probe.state_of_error(0) == 'open'
    assert port_probe.state_of_error(errno.ECONNREFUSED) == 'closed'
    assert port_probe.state_of_error(errno.EHOSTUNREACH) == 'unreachable'
    assert port_probe.state_of_error(errno.EIO) == 'error'


def test_open_and_closed_ports_on_loopback_are_reachable():
    with socket.socket() as listener:
        listener.bind(('127.0.0.1', 0))
        listener.listen(1)
        open_port = listener.getsockname()[1]
        with socket.socket() as unused:
            unused.bind(('127.0.0.1', 0))
            closed_port = unused.getsockname()[1]  # bound, never listening: connects are refused
            results = port_probe.probe_all([('127.0.0.1', open_port), ('127.0.0.1', closed_port)], timeout=2)
    assert [r['state'] for r in results] == ['open', 'closed']
    assert port_probe.summary(results) == (True, 'all 2 ports are reachable')


def test_blocked_targets_are_named_with_the_fix():
    results = [dict(host='10.0.0.12', port=7946, state='filtered', error=None, seconds=None),
               dict(host='10.0.0.11', port=2377, state='closed', error='ECONNREFUSED', seconds=0.0),
               dict(host='nowhere.invalid', port=2377, state='error', error='Name or service not known', seconds=None)]
    ok, message = port_probe.summary(results)
    assert not ok
    assert message.startswith('10.0.0.12:7946 (filtered), nowhere.invalid:2377 (error: Name or service not known) not reachable')
    assert 'crane.swarm.firewall' in message and '10.0.0.11' not in message


def test_unresolvable_name_is_an_error_not_a_hang():
    results = port_probe.probe_all([('nowhere.invalid', 2377)], timeout=1)
    assert results[0]['state'] == 'error'
