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
      - C(unix:///path) for a local socket, C(tcp://host:port) for a remote engine
        (combine with O(tls)), or C(ssh://user@host) where the docker SDK supports it.
    type: str
    default: unix:///var/run/docker.sock
  tls:
    description:
      - Talk TLS to a C(tcp://) engine. Implied by O(validate_certs=true).
    type: bool
    default: false
  validate_certs:
    description:
      - Verify the engine's certificate against O(ca_path) (or the system store).
    type: bool
    default: false
  ca_path:
    description:
      - CA certificate file that signed the engine's certificate.
    type: path
  client_cert:
    description:
      - Client certificate file presented to the engine. Needs O(client_key).
    type: path
  client_key:
    description:
      - Private key file of O(client_cert).
    type: path
  timeout:
    description:
      - Seconds to wait for one Engine API response.
    type: int
    default: 60
  api_version:
    description:
      - Engine API version to speak, for example V(1.41), or V(auto) to negotiate
        the highest version both sides support.
    type: str
    default: auto
requirements:
  - Python 3.7+ on the host that runs the module.
  - For a remote engine (C(tcp://), C(ssh://)) or TLS, the docker SDK for Python 5.0.3 or newer (Debian's and
    Ubuntu's C(python3-docker) qualify). A local C(unix://) socket needs only Python's standard library.
"""
