# -*- coding: utf-8 -*-
# Copyright: crane.swarm developers
# GNU General Public License v3.0+ (see https://www.gnu.org/licenses/gpl-3.0.txt)

from __future__ import annotations

DOCUMENTATION = r"""
name: swarm_nodes
short_description: The nodes of a Docker swarm as inventory hosts
version_added: 0.2.0
author:
  - crane.swarm developers (@crane)
description:
  - Reads the nodes of a Docker swarm from one of its managers' Engine API (C(GET /nodes)) and makes
    each node an inventory host, grouped by role, leadership, availability, state and node label, so
    that day-2 plays can target, for example, the drained workers or the nodes labelled C(tier=db).
  - The configuration is a YAML file whose name ends in C(swarm_nodes.yml) or C(swarm_nodes.yaml) and
    which holds O(plugin=crane.swarm.swarm_nodes).
  - "Every host is in the groups that apply to it among: C(swarm_managers), C(swarm_workers),
    C(swarm_leader) (the raft leader), C(swarm_active), C(swarm_pause), C(swarm_drain) (its availability),
    C(swarm_ready), C(swarm_down), C(swarm_unknown), C(swarm_disconnected) (its state as the managers see it).
    These groups exist even when empty."
  - "Each node label adds the host to the group C(swarm_label_<key>_<value>) (C(swarm_label_<key>) for a
    label without a value). The name is sanitised with Ansible's own rule for group names: every character
    that cannot be part of a variable name (anything but letters, digits and C(_)) becomes C(_), so the label
    C(com.example.tier=db-1) gives the group C(swarm_label_com_example_tier_db_1). Different labels can
    therefore share a group; the exact labels are in the host variable C(swarm_labels)."
  - "Host variables, all prefixed with C(swarm_): C(swarm_node_id), C(swarm_hostname), C(swarm_role)
    (V(manager) or V(worker)), C(swarm_availability), C(swarm_state), C(swarm_addr) (the address the
    managers see the node at), C(swarm_engine_version), C(swarm_labels) (a dict), C(swarm_leader) (bool),
    C(swarm_platform) (C(os/arch), for example C(linux/x86_64)), and for managers
    C(swarm_manager_reachability) and C(swarm_manager_addr) (C(host:port) of the raft)."
  - The engine is reached with the collection's own client, the same as the modules use; the connection
    options have the same names and meaning as the modules' and fall back to the same E(DOCKER_*) variables,
    read on the controller.
options:
  plugin:
    description:
      - The name of this plugin; it makes the file a configuration of this plugin.
    type: str
    required: true
    choices: [crane.swarm.swarm_nodes]
  docker_host:
    description:
      - Address of the Engine API of a swarm manager.
      - C(unix:///path) for a local socket (a bare absolute path such as C(/run/user/1000/docker.sock)
        means the same), C(tcp://host:port) for a remote engine (combine with O(tls)), or
        C(ssh://user@host) where the docker SDK supports it.
    type: str
    default: unix:///var/run/docker.sock
    env:
      - name: DOCKER_HOST
  tls:
    description:
      - Talk TLS to a C(tcp://) engine. Implied by O(validate_certs=true).
    type: bool
    default: false
    env:
      - name: DOCKER_TLS
  validate_certs:
    description:
      - Verify the engine's certificate against O(ca_path) (or the system store).
    type: bool
    default: false
    env:
      - name: DOCKER_TLS_VERIFY
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
    type: int
    default: 60
    env:
      - name: DOCKER_TIMEOUT
  api_version:
    description:
      - Engine API version to speak, for example V(1.41), or V(auto) to negotiate
        the highest version both sides support.
    type: str
    default: auto
    env:
      - name: DOCKER_API_VERSION
  hostname_from:
    description:
      - What names each host in the inventory.
      - V(hostname) is the hostname the node reported to the swarm. When several nodes report the same
        hostname (a host that left and joined again leaves its old node behind, down), the node in the best
        state (ready, unknown, disconnected, down) keeps it and the others are named by their node ID; a node
        without a hostname is named by its ID too.
      - V(id) is the node ID, unique in the swarm.
    type: str
    choices: [hostname, id]
    default: hostname
  address_as_ansible_host:
    description:
      - Set C(ansible_host) of each host to the address the managers see the node at (its C(Status.Addr),
        or for a manager that reports C(0.0.0.0) there, the host part of its manager address).
      - With V(false), C(ansible_host) is left to other sources (O(compose), group or host variables),
        and hosts are reached by their inventory name.
    type: bool
    default: true
extends_documentation_fragment:
  - ansible.builtin.constructed
  - ansible.builtin.inventory_cache
notes:
  - The engine must be a swarm manager; a worker or an engine outside a swarm cannot list the nodes.
  - The connection reaches only the engine named by O(docker_host). Playbooks then reach the hosts with
    their own connection (ssh by default) at C(ansible_host).
  - With O(cache=true), the nodes read from the engine are kept by the cache plugin and later runs read them
    from there until O(cache_timeout) passes; C(ansible-inventory --flush-cache) reads the engine again.
requirements:
  - For a remote engine (C(tcp://), C(ssh://)) or TLS, the docker SDK for Python 5.0.3 or newer on the
    controller. A local C(unix://) socket needs only Python's standard library.
"""

EXAMPLES = r"""
# swarm_nodes.yml: the swarm of the manager whose socket is local
plugin: crane.swarm.swarm_nodes

# prod.swarm_nodes.yml: a remote manager over TLS, hosts named by node ID, a group per engine version
plugin: crane.swarm.swarm_nodes
docker_host: tcp://manager1.example.com:2376
validate_certs: true
ca_path: /etc/docker/certs/ca.pem
client_cert: /etc/docker/certs/cert.pem
client_key: /etc/docker/certs/key.pem
hostname_from: id
keyed_groups:
  - key: swarm_engine_version
    prefix: engine
compose:
  ansible_user: "'admin'"

# cached.swarm_nodes.yml: read the engine at most every ten minutes
plugin: crane.swarm.swarm_nodes
docker_host: /run/docker.sock
cache: true
cache_plugin: ansible.builtin.jsonfile
cache_connection: ~/.cache/ansible-inventory
cache_timeout: 600

# Then, for example: ansible-inventory -i swarm_nodes.yml --graph
#   - hosts: swarm_drain:&swarm_workers      the drained workers
#   - hosts: swarm_label_tier_db              the nodes with label tier=db
#   - hosts: swarm_managers:!swarm_leader     the managers but the leader
"""

from ansible.errors import AnsibleParserError  # noqa: E402
from ansible.plugins.inventory import BaseInventoryPlugin, Cacheable, Constructable  # noqa: E402
from ansible.utils.unsafe_proxy import wrap_var  # noqa: E402

from ansible_collections.crane.swarm.plugins.module_utils.engine.client import (  # noqa: E402
    ENGINE_ARGUMENT_SPEC, EngineClient, EngineError, UnixSocketClient, connection_settings, uses_local_socket)
from ansible_collections.crane.swarm.plugins.module_utils.swarm.nodes import is_manager, not_manager_reason  # noqa: E402
from ansible_collections.crane.swarm.plugins.plugin_utils.inventory_nodes import FIXED_GROUPS, hosts_from_nodes  # noqa: E402

CONFIG_SUFFIXES = ('swarm_nodes.yml', 'swarm_nodes.yaml')


class InventoryModule(BaseInventoryPlugin, Constructable, Cacheable):
    NAME = 'crane.swarm.swarm_nodes'

    def verify_file(self, path):
        """A readable file whose name ends in swarm_nodes.yml or swarm_nodes.yaml."""
        return super().verify_file(path) and path.endswith(CONFIG_SUFFIXES)

    def _connection_settings(self):
        return connection_settings(dict((name, self.get_option(name)) for name in ENGINE_ARGUMENT_SPEC))

    def _fix_hint(self):
        return 'set docker_host in %s (or DOCKER_HOST) to the Engine API of a swarm manager' % self._config_path

    def _read_nodes(self):
        """The swarm's Node objects, read from the manager at docker_host; AnsibleParserError otherwise."""
        settings = self._connection_settings()
        docker_host = settings['docker_host']
        try:
            if uses_local_socket(settings):
                client = UnixSocketClient(docker_host, timeout=settings['timeout'],
                                          api_version=settings['api_version'])
            else:
                client = EngineClient(**settings)
            swarm = (client.get('/info') or {}).get('Swarm') or {}
            if not is_manager(swarm):
                raise AnsibleParserError(
                    'crane.swarm.swarm_nodes: the engine at docker_host=%s %s, and only a swarm manager can list '
                    "the swarm's nodes: %s" % (docker_host, not_manager_reason(swarm), self._fix_hint()))
            return client.get('/nodes') or []
        except ImportError as exc:
            raise AnsibleParserError(
                'crane.swarm.swarm_nodes: docker_host=%s needs the docker SDK for Python (5.0.3 or newer) on the '
                'controller, which cannot be imported: %s; install it, or use a local unix:// socket'
                % (docker_host, exc)) from None
        except EngineError as exc:
            raise AnsibleParserError(
                'crane.swarm.swarm_nodes: cannot read the swarm from the engine at docker_host=%s: %s; is the engine '
                'running and reachable from the controller? %s' % (docker_host, exc, self._fix_hint())) from None

    def parse(self, inventory, loader, path, cache=True):
        super().parse(inventory, loader, path, cache)
        self._config_path = path
        self._read_config_data(path)
        cache_key = self.get_cache_key(path)
        use_cache = self.get_option('cache')
        nodes = None
        if use_cache and cache:
            try:
                nodes = self._cache[cache_key]['nodes']
            except (KeyError, TypeError):
                nodes = None
        if nodes is None:
            nodes = self._read_nodes()
            if use_cache:
                self._cache[cache_key] = {'nodes': nodes}
        self._populate(nodes)

    def _populate(self, nodes):
        strict = self.get_option('strict')
        for group in FIXED_GROUPS:
            self.inventory.add_group(group)
        options = {'hostname_from': self.get_option('hostname_from'),
                   'address_as_ansible_host': self.get_option('address_as_ansible_host')}
        for host in hosts_from_nodes(nodes, options, sanitize=self._sanitize_group_name):
            name = self.inventory.add_host(wrap_var(host['name']))
            for group in host['groups']:
                self.inventory.add_child(self.inventory.add_group(group), name)
            for key, value in host['vars'].items():
                self.inventory.set_variable(name, key, wrap_var(value))
            host_vars = self.inventory.get_host(name).get_vars()
            self._set_composite_vars(self.get_option('compose'), host_vars, name, strict=strict)
            self._add_host_to_composed_groups(self.get_option('groups'), host_vars, name, strict=strict)
            self._add_host_to_keyed_groups(self.get_option('keyed_groups'), host_vars, name, strict=strict)
