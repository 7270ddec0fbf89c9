# -*- coding: utf-8 -*-
# Copyright: crane.swarm developers
# GNU General Public License v3.0+ (see https://www.gnu.org/licenses/gpl-3.0.txt)
"""The one Docker Engine client of the collection.

Modules speak the Engine API directly (paths and JSON bodies as documented by
Docker), which keeps our pure core in the Engine API's own vocabulary. A local
socket (unix://, the common case) is spoken to with Python's own http.client:
no docker SDK import (about a quarter of a second of every module run, most of
it `requests`). Remote engines (tcp://, ssh://, TLS) go through the docker SDK's
low-level transport, whose raw API is the same in 5.0.3 (Debian 12) and 7.x.
"""

from __future__ import annotations

import http.client
import json
import os
import select
import socket
import threading
from urllib.parse import quote, urlencode

from ansible.module_utils.errors import AnsibleFallbackNotFound


def import_docker_sdk():
    """The docker SDK, imported only for remote engines: its import costs a quarter of a second."""
    import docker
    import docker.errors
    import docker.tls
    return docker


DEFAULT_DOCKER_HOST = 'unix:///var/run/docker.sock'
MIN_DOCKER_SDK = (5, 0, 3)


def docker_env(*names):
    """Ansible fallback: the first of the environment variables that is set and not empty.

    The same variables as the docker CLI and community.docker, read on the host that runs
    the module (a task's or play's `environment:` sets them there).
    """
    for name in names:
        if os.environ.get(name):
            return os.environ[name]
    raise AnsibleFallbackNotFound


# The argument spec of the options documented in doc fragment crane.swarm.engine. An option
# not given falls back to its DOCKER_* variable, then to its default.
ENGINE_ARGUMENT_SPEC = dict(
    docker_host=dict(type='str', default=DEFAULT_DOCKER_HOST, fallback=(docker_env, ['DOCKER_HOST'])),
    tls=dict(type='bool', default=False, fallback=(docker_env, ['DOCKER_TLS'])),
    validate_certs=dict(type='bool', default=False, fallback=(docker_env, ['DOCKER_TLS_VERIFY'])),
    ca_path=dict(type='path'),
    client_cert=dict(type='path'),
    client_key=dict(type='path'),
    timeout=dict(type='int', default=60, fallback=(docker_env, ['DOCKER_TIMEOUT'])),
    api_version=dict(type='str', default='auto', fallback=(docker_env, ['DOCKER_API_VERSION'])),
)

# DOCKER_CERT_PATH names a folder of these files, as for the docker CLI.
CERT_PATH_FILES = dict(ca_path='ca.pem', client_cert='cert.pem', client_key='key.pem')


def connection_settings(params):
    """The connection options as the client uses them: DOCKER_CERT_PATH's files for the TLS
    options not given, and a bare socket path (`/run/x/docker.sock`) read as `unix://`.
    """
    settings = dict((name, params.get(name)) for name in ENGINE_ARGUMENT_SPEC)
    cert_path = os.environ.get('DOCKER_CERT_PATH')
    if cert_path:
        for name, file_name in CERT_PATH_FILES.items():
            path = os.path.join(os.path.expanduser(cert_path), file_name)
            if settings[name] is None and os.path.isfile(path):
                settings[name] = path
    settings['docker_host'] = docker_host_url(settings['docker_host'])
    return settings


def docker_host_url(docker_host):
    """The engine's address as a URL: a bare absolute path is a local socket."""
    docker_host = (docker_host or '').strip() or DEFAULT_DOCKER_HOST
    if docker_host.startswith('/'):
        return 'unix://' + docker_host
    return docker_host


ENGINE_REQUIRED_TOGETHER = [('client_cert', 'client_key')]


def engine_argument_spec(**module_options):
    """Return the module's own options merged with the connection options."""
    spec = dict(ENGINE_ARGUMENT_SPEC)
    spec.update(module_options)
    return spec


class EngineError(Exception):
    """An Engine API call failed; carries the HTTP status when there was one."""

    def __init__(self, message, status=None):
        super().__init__(message)
        self.status = status


class EngineCalls:
    """get/post/delete/get_bytes on API paths, over a transport's request()."""

    # How many requests a caller may have in flight at once from several threads.
    concurrent_requests = 1

    def get(self, path, params=None, headers=None):
        return self.request('GET', path, params=params, headers=headers)

    def get_bytes(self, path, params=None):
        """GET a path whose answer is not JSON (logs, archives)."""
        return self.request('GET', path, params=params, raw=True)

    def post(self, path, body=None, params=None, headers=None):
        return self.request('POST', path, params=params, body=body, headers=headers)

    def delete(self, path, params=None):
        return self.request('DELETE', path, params=params)


class _UnixHTTPConnection(http.client.HTTPConnection):
    def __init__(self, socket_path, timeout):
        super().__init__('localhost', timeout=timeout)
        self.socket_path = socket_path

    def connect(self):
        self.sock = socket.socket(socket.AF_UNIX, socket.SOCK_STREAM)
        self.sock.settimeout(self.timeout)
        self.sock.connect(self.socket_path)

    def dropped(self):
        """Whether the engine closed this idle connection (it reads as ready: at EOF)."""
        if self.sock is None:
            return False
        try:
            return bool(select.select([self.sock], [], [], 0)[0])
        except (OSError, ValueError):
            return True


class UnixSocketClient(EngineCalls):
    """The Engine API over a local Unix socket with the standard library only."""

    # Each thread keeps one connection of its own, so threads share nothing. A
    # manager creates 200 services in about half the time with 8 requests in
    # flight as one at a time (its store takes several writes per commit).
    concurrent_requests = 8

    def __init__(self, docker_host=DEFAULT_DOCKER_HOST, timeout=60, api_version='auto'):
        self.docker_host = docker_host
        self.socket_path = '/' + docker_host[len('unix://'):].lstrip('/')
        self.timeout = timeout
        self._connections = threading.local()
        if api_version in (None, 'auto'):
            # Speak the engine's own API version, as the SDK's `auto` does.
            api_version = (self._send('GET', '/version') or {}).get('ApiVersion')
            if not api_version:
                raise EngineError('cannot connect to the Docker Engine at %s: no API version in GET /version'
                                  % docker_host)
        self.api_version = api_version

    def request(self, method, path, params=None, body=None, raw=False, headers=None):
        """Send one API request; return the decoded JSON body (None when empty), or bytes when raw."""
        query = dict((key, value) for key, value in (params or {}).items() if value is not None)
        url = '/v%s%s%s' % (self.api_version, quote(path, safe='/:'), '?' + urlencode(query) if query else '')
        return self._send(method, url, body=body if body is not None or method != 'POST' else {},
                          raw=raw, headers=headers, shown=path)

    def _connection(self):
        """This thread's kept-alive connection; a new one when the engine has closed it."""
        connection = getattr(self._connections, 'current', None)
        if connection is not None and connection.dropped():
            # Checked before sending, never retried after: a create must not be sent twice.
            connection.close()
            connection = None
        if connection is None:
            connection = self._connections.current = _UnixHTTPConnection(self.socket_path, self.timeout)
        return connection

    def _send(self, method, url, body=None, raw=False, headers=None, shown=None):
        payload = json.dumps(body).encode('utf-8') if body is not None else None
        all_headers = dict(headers or {})
        if payload is not None:
            all_headers['Content-Type'] = 'application/json'
        connection = self._connection()
        try:
            connection.request(method, url, body=payload, headers=all_headers)
            response = connection.getresponse()
            data = response.read()
        except (OSError, http.client.HTTPException) as exc:
            connection.close()
            self._connections.current = None
            if shown is None:
                raise EngineError('cannot connect to the Docker Engine at %s: %s' % (self.docker_host, exc))
            raise EngineError('%s %s failed: %s' % (method, shown, exc))
        if response.status >= 400:
            raise EngineError(_error_body_text(data, response.status, response.reason), status=response.status)
        if raw:
            return data
        if not data:
            return None
        return json.loads(data.decode('utf-8'))


def _error_body_text(data, status, reason):
    """The engine's own message (its JSON 'message'), or the HTTP status."""
    try:
        message = json.loads(data.decode('utf-8')).get('message')
    except (ValueError, AttributeError, UnicodeDecodeError):
        message = data.decode('utf-8', 'replace').strip() if data else ''
    return message or '%d %s' % (status, reason)


class EngineClient(EngineCalls):
    """The Engine API through docker.APIClient's transport (tcp://, ssh://, TLS)."""

    def __init__(self, docker_host=DEFAULT_DOCKER_HOST, tls=False, validate_certs=False,
                 ca_path=None, client_cert=None, client_key=None, timeout=60,
                 api_version='auto'):
        docker = self.sdk = import_docker_sdk()
        tls_config = False
        if tls or validate_certs or client_cert:
            tls_config = docker.tls.TLSConfig(
                client_cert=(client_cert, client_key) if client_cert else None,
                ca_cert=ca_path,
                verify=validate_certs,
            )
        try:
            self.api = docker.APIClient(base_url=docker_host, version=api_version,
                                        timeout=timeout, tls=tls_config)
        except docker.errors.DockerException as exc:
            raise EngineError('cannot connect to the Docker Engine at %s: %s' % (docker_host, exc))
        self.docker_host = docker_host
        self.api_version = self.api.api_version  # what the SDK negotiated (`auto`) or was told

    def request(self, method, path, params=None, body=None, raw=False, headers=None):
        """Send one API request; return the decoded JSON body (None when empty), or bytes when raw."""
        url = self.api._url(path)
        extra = dict(headers=headers) if headers else {}
        try:
            if method == 'GET':
                response = self.api._get(url, params=params, **extra)
            elif method == 'POST':
                response = self.api._post_json(url, data=body if body is not None else {}, params=params, **extra)
            elif method == 'DELETE':
                response = self.api._delete(url, params=params)
            else:
                raise ValueError('unsupported method %s' % method)
            self.api._raise_for_status(response)
        except self.sdk.errors.APIError as exc:
            status = exc.response.status_code if exc.response is not None else None
            raise EngineError(_api_error_text(exc), status=status)
        except Exception as exc:  # the SDK's own and transport errors (socket, TLS, timeouts) carry no API status
            raise EngineError('%s %s failed: %s' % (method, path, exc))
        if raw:
            return response.content
        if not response.content:
            return None
        return response.json()


def _api_error_text(exc):
    """The engine's own message (its JSON 'message'), without the SDK's URL noise."""
    explanation = getattr(exc, 'explanation', None)
    if explanation:
        return explanation if isinstance(explanation, str) else explanation.decode('utf-8', 'replace')
    return str(exc)


def sdk_version(docker):
    """The docker SDK's version as a tuple of three numbers."""
    parts = []
    for piece in docker.__version__.split('.')[:3]:
        digits = ''.join(ch for ch in piece if ch.isdigit())
        parts.append(int(digits or 0))
    return tuple(parts)


def uses_local_socket(params):
    """Whether the connection settings (connection_settings()) name a plain local socket, which needs no docker SDK."""
    return (docker_host_url(params.get('docker_host')).startswith('unix://')
            and not (params.get('tls') or params.get('validate_certs') or params.get('client_cert')))
