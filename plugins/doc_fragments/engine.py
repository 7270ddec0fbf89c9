# -*- coding: utf-8 -*-
# Copyright: crane.swarm developers
# GNU General Public License v3.0+ (see https://www.gnu.org/licenses/gpl-3.0.txt)

from __future__ import annotations


class ModuleDocFragment:
    """Connection options shared by every module that talks to a Docker Engine."""

    DOCUMENTATION = r"""
options:
  docker_host:
    description:
      - Address of the Docker Engine API to talk to.
      - C(unix:///path) for a local socket (a bare absolute path such as C(/run/user/1000/docker.sock)
        means the same), C(tcp://host:port) for a remote engine (combine with O(tls)), or
        C(ssh://user@host) where the docker SDK supports it.
      - When not given, the environment variable E(DOCKER_HOST) on the host that runs the module is
        used, then the default.
    type: str
    default: unix:///var/run/docker.sock
  tls:
    description:
      - Talk TLS to a C(tcp://) engine. Implied by O(validate_certs=true).
      - When not given, E(DOCKER_TLS) is used, then the default.
    type: bool
    default: false
  validate_certs:
    description:
      - Verify the engine's certificate against O(ca_path) (or the system store).
      - When not given, E(DOCKER_TLS_VERIFY) is used (any value that Ansible reads as true), then the default.
    type: bool
    default: false
  ca_path:
    description:
      - CA certificate file that signed the engine's certificate.
      - When not given and E(DOCKER_CERT_PATH) names a folder holding C(ca.pem), that file.
    type: path
  client_cert:
    description:
      - Client certificate file presented to the engine. Needs O(client_key).
      - When not given and E(DOCKER_CERT_PATH) names a folder holding C(cert.pem), that file.
    type: path
  client_key:
    description:
      - Private key file of O(client_cert).
      - When not given and E(DOCKER_CERT_PATH) names a folder holding C(key.pem), that file.
    type: path
  timeout:
    description:
      - Seconds to wait for one Engine API response.
      - When not given, E(DOCKER_TIMEOUT) is used, then the default.
    type: int
    default: 60
  api_version:
    description:
      - Engine API version to speak, for example V(1.41), or V(auto) to negotiate
        the highest version both sides support.
      - When not given, E(DOCKER_API_VERSION) is used, then the default.
    type: str
    default: auto
notes:
  - The connection options can be set once for a whole play with C(module_defaults) and the
    action group C(group/crane.swarm.docker), which holds every module of this collection
    that talks to a Docker Engine.
  - The E(DOCKER_*) variables are read where the module runs, so set them with the task's or
    play's C(environment) keyword, or in the managed host's environment.
requirements:
  - Python 3.9 or newer on the host that runs the module.
  - For a remote engine (C(tcp://), C(ssh://)) or TLS, the docker SDK for Python 5.0.3 or newer (Debian's and
    Ubuntu's C(python3-docker) qualify). A local C(unix://) socket needs only Python's standard library.
"""
