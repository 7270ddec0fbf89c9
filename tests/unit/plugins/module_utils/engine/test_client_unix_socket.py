# Copyright: crane.swarm developers
# GNU General Public License v3.0+ (see https://www.gnu.org/licenses/gpl-3.0.txt)
"""The standard-library client for a local engine socket, against a tiny HTTP server on a Unix socket."""

from __future__ import annotations

import http.server
import json
import os
import socketserver
import threading
import time

import pytest

from ansible_collections.crane.swarm.plugins.module_utils.engine import client as engine


class FakeEngine(http.server.BaseHTTPRequestHandler):
    requests = []

    def address_string(self):  # a Unix socket peer has no host name to log
        return 'unix'

    def log_message(self, *args):
        pass

    def reply(self, status, document):
        data = json.dumps(document).encode() if document is not None else b''
        self.send_response(status)
        self.send_header('Content-Type', 'application/json')
        self.send_header('Content-Length', str(len(data)))
        self.end_headers()
        self.wfile.write(data)

    def do_GET(self):
        FakeEngine.requests.append(('GET', self.path, dict(self.headers), None))
        if self.path == '/version':
            self.reply(200, {'ApiVersion': '1.41'})
        elif self.path.startswith('/v1.41/services/missing'):
            self.reply(404, {'message': 'service missing not found'})
        else:
            self.reply(200, [{'ID': 'abc'}])

    def do_POST(self):
        length = int(self.headers.get('Content-Length') or 0)
        FakeEngine.requests.append(('POST', self.path, dict(self.headers), json.loads(self.rfile.read(length))))
        self.reply(201, {'ID': 'new'})

    def do_DELETE(self):
        FakeEngine.requests.append(('DELETE', self.path, dict(self.headers), None))
        self.reply(204, None)


class KeepAliveEngine(FakeEngine):
    """Answers as HTTP/1.1 and keeps each connection open, as dockerd does; counts connections."""
    protocol_version = 'HTTP/1.1'

    def setup(self):
        self.server.connections += 1
        super().setup()


class IdleClosingEngine(KeepAliveEngine):
    """Closes each connection after one answer without saying so, as a server's idle timeout does."""

    def reply(self, status, document):
        super().reply(status, document)
        self.close_connection = True


class UnixServer(socketserver.ThreadingMixIn, socketserver.UnixStreamServer):
    daemon_threads = True
    connections = closed = 0

    def shutdown_request(self, request):
        super().shutdown_request(request)
        self.closed += 1  # counted once the socket is closed, not when the handler returns


def serve(tmp_path, handler):
    path = str(tmp_path / 'docker.sock')
    server = UnixServer(path, handler)
    thread = threading.Thread(target=server.serve_forever, daemon=True)
    thread.start()
    FakeEngine.requests = []
    return server, path


@pytest.fixture
def socket_path(tmp_path):
    server, path = serve(tmp_path, FakeEngine)
    yield path
    server.shutdown()
    server.server_close()
    os.unlink(path)


def test_auto_version_then_versioned_paths_queries_bodies_and_headers(socket_path):
    client = engine.UnixSocketClient('unix://' + socket_path)
    assert client.api_version == '1.41'
    assert client.get('/services', params={'filters': json.dumps({'label': ['a=b']}), 'status': 'true',
                                           'skipped': None}) == [{'ID': 'abc'}]
    assert client.post('/services/create', {'Name': 'web'}, headers={'X-Registry-Auth': 'token'}) == {'ID': 'new'}
    assert client.delete('/services/abc') is None
    methods_and_paths = [(method, path) for method, path, dummy, dummy2 in FakeEngine.requests]
    assert methods_and_paths == [
        ('GET', '/version'),
        ('GET', '/v1.41/services?filters=%7B%22label%22%3A+%5B%22a%3Db%22%5D%7D&status=true'),
        ('POST', '/v1.41/services/create'),
        ('DELETE', '/v1.41/services/abc')]
    post = FakeEngine.requests[2]
    assert post[2]['X-Registry-Auth'] == 'token' and post[2]['Content-Type'] == 'application/json'
    assert post[3] == {'Name': 'web'}


def test_engine_errors_carry_the_message_and_status(socket_path):
    client = engine.UnixSocketClient('unix://' + socket_path, api_version='1.41')
    with pytest.raises(engine.EngineError) as caught:
        client.get('/services/missing')
    assert str(caught.value) == 'service missing not found' and caught.value.status == 404
    assert FakeEngine.requests[0][1] == '/v1.41/services/missing'  # a given version skips GET /version


def test_one_thread_keeps_one_connection_alive(tmp_path):
    server, path = serve(tmp_path, KeepAliveEngine)
    try:
        client = engine.UnixSocketClient('unix://' + path)
        for dummy in range(3):
            assert client.get('/services') == [{'ID': 'abc'}]
        assert client.post('/services/create', {'Name': 'web'}) == {'ID': 'new'}
        assert len(FakeEngine.requests) == 5 and server.connections == 1
        answers = []
        other = threading.Thread(target=lambda: answers.append(client.get('/services')))
        other.start()
        other.join()
        assert answers == [[{'ID': 'abc'}]] and server.connections == 2
    finally:
        server.shutdown()
        server.server_close()


def test_a_connection_the_engine_closed_while_idle_is_replaced_not_reused(tmp_path):
    server, path = serve(tmp_path, IdleClosingEngine)
    try:
        client = engine.UnixSocketClient('unix://' + path)
        for dummy in range(3):
            deadline = time.monotonic() + 5
            while server.closed < server.connections and time.monotonic() < deadline:
                time.sleep(0.01)  # the server has closed its side before the next request is sent
            assert client.post('/services/create', {'Name': 'web'}) == {'ID': 'new'}
        assert [method for method, dummy, dummy2, dummy3 in FakeEngine.requests] == ['GET', 'POST', 'POST', 'POST']
        assert server.connections == 4
    finally:
        server.shutdown()
        server.server_close()


def test_a_socket_nobody_listens_on_is_a_clear_error(tmp_path):
    with pytest.raises(engine.EngineError, match='cannot connect to the Docker Engine at unix://.*nothing.sock'):
        engine.UnixSocketClient('unix://%s/nothing.sock' % tmp_path)


def test_only_plain_local_sockets_skip_the_sdk():
    assert engine.uses_local_socket({'docker_host': 'unix:///var/run/docker.sock'})
    assert engine.uses_local_socket({'docker_host': None})
    assert not engine.uses_local_socket({'docker_host': 'tcp://10.0.0.1:2376'})
    assert not engine.uses_local_socket({'docker_host': 'unix:///var/run/docker.sock', 'tls': True})
    assert not engine.uses_local_socket({'docker_host': 'ssh://admin@10.0.0.1'})
