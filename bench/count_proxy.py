# Copyright: crane.swarm developers
# GNU General Public License v3.0+ (see https://www.gnu.org/licenses/gpl-3.0.txt)
"""A unix-socket proxy in front of the Docker engine that logs every API request it relays.

    count_proxy.py --listen /run/crane-bench/docker.sock --upstream /var/run/docker.sock \
                   --log /run/crane-bench/requests.log

Clients pointed at the listening socket (DOCKER_HOST, `docker -H`, a module's
docker_host) reach the engine unchanged: bytes are relayed as they come, both ways.
The client's side is also parsed as HTTP/1.1 (keep-alive, Content-Length and
chunked bodies) so that each request, not each connection, is one line of the
log: `<unix time> <METHOD> <path without query>`. Headers, query strings and
bodies are never logged (they may carry registry credentials or secret data).
A request that upgrades the connection (attach, exec) ends the parsing of that
connection; the rest is relayed as raw bytes.

Standard library only: it runs with the python3 of a sandbox host.
"""

from __future__ import annotations

import argparse
import os
import re
import socket
import threading
import time

CHUNK = 65536
_VERSION_PREFIX = re.compile(r'^/v[0-9]+\.[0-9]+(?=/)')


class RequestParser:
    """Incremental parser of a client's HTTP/1.1 byte stream; feed() returns the requests it completed.

    Only the request line and the headers that frame the body are read; the body
    itself is skipped. Each request is returned as (method, path) as soon as its
    headers are complete, before its body arrives.
    """

    def __init__(self):
        self.buffer = b''
        self.state = 'headers'  # headers | body | chunk-size | chunk-data | trailer | raw
        self.remaining = 0

    def feed(self, data):
        requests = []
        self.buffer += data
        while self.buffer and self.state != 'raw':
            if self.state == 'headers':
                end = self.buffer.find(b'\r\n\r\n')
                if end < 0:
                    break
                head, self.buffer = self.buffer[:end].decode('latin-1'), self.buffer[end + 4:]
                request = self._start(head)
                if request:
                    requests.append(request)
            elif self.state == 'body':
                if self._skip():
                    self.state = 'headers'
            elif self.state == 'chunk-size':
                end = self.buffer.find(b'\r\n')
                if end < 0:
                    break
                size = int(self.buffer[:end].split(b';')[0].strip() or b'0', 16)
                self.buffer = self.buffer[end + 2:]
                if size == 0:
                    self.state = 'trailer'
                else:
                    self.state, self.remaining = 'chunk-data', size + 2  # the chunk and its CRLF
            elif self.state == 'chunk-data':
                if self._skip():
                    self.state = 'chunk-size'
            elif self.state == 'trailer':
                end = self.buffer.find(b'\r\n')
                if end < 0:
                    break
                line, self.buffer = self.buffer[:end], self.buffer[end + 2:]
                if not line:
                    self.state = 'headers'
        if self.state == 'raw':
            self.buffer = b''
        return requests

    def _skip(self):
        """Drop up to `remaining` buffered bytes; True once all of them are gone."""
        taken = min(self.remaining, len(self.buffer))
        self.buffer, self.remaining = self.buffer[taken:], self.remaining - taken
        return self.remaining == 0

    def _start(self, head):
        lines = head.split('\r\n')
        while lines and not lines[0]:  # tolerate stray CRLFs between requests
            lines.pop(0)
        if not lines:
            return None
        parts = lines[0].split(' ')
        if len(parts) < 2:
            return None
        headers = {}
        for line in lines[1:]:
            name, dummy, value = line.partition(':')
            headers[name.strip().lower()] = value.strip()
        if 'upgrade' in headers or 'upgrade' in headers.get('connection', '').lower():
            self.state = 'raw'
        elif 'chunked' in headers.get('transfer-encoding', '').lower():
            self.state = 'chunk-size'
        elif int(headers.get('content-length') or 0) > 0:
            self.state, self.remaining = 'body', int(headers['content-length'])
        return parts[0], request_path(parts[1])


def request_path(target):
    """The path of a request target, without its query and without the /vX.Y API version prefix."""
    path = target.split('?', 1)[0]
    if path.startswith(('http://', 'https://')):
        path = '/' + path.split('/', 3)[-1]
    return _VERSION_PREFIX.sub('', path)


class CountingProxy:
    def __init__(self, listen, upstream, log_path):
        self.listen = listen
        self.upstream = upstream
        self.log_lock = threading.Lock()
        self.log = open(log_path, 'a', buffering=1)

    def record(self, requests):
        with self.log_lock:
            for method, path in requests:
                self.log.write('%.6f %s %s\n' % (time.time(), method, path))

    def serve(self):
        if os.path.exists(self.listen):
            os.unlink(self.listen)
        server = socket.socket(socket.AF_UNIX, socket.SOCK_STREAM)
        server.bind(self.listen)
        os.chmod(self.listen, 0o660)
        server.listen(128)
        while True:
            client, dummy = server.accept()
            threading.Thread(target=self.relay, args=(client,), daemon=True).start()

    def relay(self, client):
        engine = socket.socket(socket.AF_UNIX, socket.SOCK_STREAM)
        try:
            engine.connect(self.upstream)
        except OSError:
            client.close()
            return
        answers = threading.Thread(target=pipe, args=(engine, client), daemon=True)
        answers.start()
        parser = RequestParser()
        try:
            while True:
                data = client.recv(CHUNK)
                if not data:
                    break
                # Logged before relaying, so the log is complete when the client has its answer.
                self.record(parser.feed(data))
                engine.sendall(data)
        except OSError:
            pass
        finally:
            shutdown(engine, socket.SHUT_WR)
            answers.join()
            engine.close()
            client.close()


def pipe(source, target):
    try:
        while True:
            data = source.recv(CHUNK)
            if not data:
                break
            target.sendall(data)
    except OSError:
        pass
    finally:
        shutdown(target, socket.SHUT_WR)


def shutdown(sock, how):
    try:
        sock.shutdown(how)
    except OSError:
        pass


def main():
    parser = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    parser.add_argument('--listen', required=True)
    parser.add_argument('--upstream', default='/var/run/docker.sock')
    parser.add_argument('--log', required=True)
    args = parser.parse_args()
    CountingProxy(args.listen, args.upstream, args.log).serve()


if __name__ == '__main__':
    main()
