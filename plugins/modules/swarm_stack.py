#!/usr/bin/python
# -*- coding: utf-8 -*-
# Copyright: crane.swarm developers
# GNU General Public License v3.0+ (see https://www.gnu.org/licenses/gpl-3.0.txt)

from __future__ import annotations

DOCUMENTATION = r"""
module: swarm_stack
short_description: Deploy a Docker Swarm stack from compose files or an extended DAB bundle through the Engine API
version_added: 0.1.0
author: crane.swarm developers (@crane)
description:
  - Deploys a stack (services, networks, secrets and configs) described by a Distributed Application
    Bundle. A plain Docker 1.12 C(.dab) file deploys unchanged and with its meaning; the extended keys
    express every C(docker service create) option. The bundle format is published as a JSON Schema
    (C(schemas/crane-bundle.schema.json) in the collection).
  - Compose files (O(compose)), the format C(docker stack deploy -c) reads, deploy unchanged, read by the rules
    of the CLI's loader; they are read into the extended DAB on the controller (the filter
    C(crane.swarm.compose_to_bundle) shows that bundle), so everything below holds for them too. The
    stack is the one C(docker stack deploy) makes of the same files, but for the names of secrets and
    configs, which get a content digest (below); the collection's tests compare the two on
    public stack files.
  - The action plugin reads the bundle (O(src), O(definition) or O(compose)) on the controller and validates it there,
    once, the Docker names it gives the stack's objects included (every problem is reported with its JSON
    path before anything is deployed); it also reads the secret and config files. The module on the manager
    receives the checked bundle and checks nothing of it again, so it runs only through the action plugin
    (by the name C(crane.swarm.swarm_stack)).
  - Creates or updates exactly the objects that differ, field by field against the live specs;
    unchanged services get no update call and no task restarts. Services are created and updated eight
    at a time over a local C(unix://) socket (one at a time through the docker SDK), which about halves
    the time a large stack takes to deploy. After the first write the engine refuses, no further one is
    started; the services are then read back from the engine, so that the result lists exactly what was
    created and updated. A rerun completes the stack.
  - Before the first write, each network the stack creates (or has) is checked against the addresses the
    stack puts on it, and the module fails before anything is created when it cannot hold them. Each
    attached service takes one address per task (a global service one per node that can run tasks), a
    VIP-mode service also its virtual IP, a start-first update its C(Parallelism) extra tasks; each node
    running tasks on the network takes a load-balancer address, and the network, broadcast and gateway
    addresses are never handed out. The address space is the subnet (or C(IPRange)) of the bundle's
    network IPAM config, else the live network's, else a subnet of the swarm's default address pool
    size (C(SubnetSize) of C(GET /swarm), a /24 unless the swarm was told otherwise).
  - Secrets and configs are immutable in a swarm; a new content becomes a new object
    (C(<stack>_<name>_<digest>)) and the services using it roll to it. One with a C(Name) keeps that
    Docker name (the docker CLI's compose C(name:)) and so cannot rotate; when the live object of that name
    has other content (a secret's is told by the C(crane.swarm.content-sha256) label), the module fails before
    anything is changed, naming C(Secrets.<name>.Name) or C(Configs.<name>.Name). A live fixed-name secret
    without that label is used as it is, with a warning.
  - A network's C(Name) is its Docker name as written (still labelled with the stack, and removed with it);
    otherwise a stack network is C(<stack>_<name>). With C(External), C(Name) is the existing object's name.
  - The bundle's top-level C(Volumes) (C(Driver), C(DriverOpts), C(Labels), C(External), C(Name)) are the
    stack's named volumes; a volume mount whose C(Source) is one of them mounts C(<stack>_<name>) (or its
    C(Name), or the external volume), and, unless external, carries the stack label, the volume's labels and
    its driver, as C(docker stack deploy) does. Each node's engine creates the volume when a task first mounts it;
    removing the stack leaves volumes in place, as the docker CLI does.
  - Keys starting with C(x-), at the top of the bundle and in a service, are accepted and ignored.
  - Stacks deployed here are ordinary stacks for the docker CLI (C(docker stack ls), C(ps),
    C(services), C(rm)), and the other way round.
  - Some bundle keys need a recent Engine API, which the module speaks at the engine's own version
    (O(api_version=auto)) - C(Healthcheck.StartInterval) 1.44, C(OomScoreAdj) 1.46, C(CredentialSpec.Config)
    1.40, C(Isolation) 1.35. An older engine drops such a field without an error, so the module fails
    before anything is deployed, naming each field and the version it needs.
  - A C(CredentialSpec) with C(Config) also references that config at runtime, as
    C(docker stack deploy) does; a log driver without C(Name) is the engine's default driver with
    the given C(Options).
  - Taking over a stack C(docker stack deploy -c) made from the same compose file changes nothing and
    restarts no task. What the CLI writes differently but means the same is no change (its
    C(com.docker.stack.image) label, C(busybox) for C(busybox:latest), empty C(Privileges), the order of
    environment, ports and networks), and a config the CLI named C(<stack>_<name>) is used as it is when
    its content equals the desired one. A secret the CLI named C(<stack>_<name>) that a service of the
    stack uses is kept when its content is the desired one; the Engine API never returns a secret's
    data, so this module asks the engine to update the secret with the desired data and everything else
    as it is, which the engine accepts only when the data are the same (C(docker stack deploy) sends
    that update on every deploy). Check mode cannot send it, so it warns and shows the services using such
    a secret as updated.
extends_documentation_fragment:
  - crane.swarm.engine
  - crane.swarm.attributes
  - crane.swarm.attributes.actiongroup_docker
attributes:
  check_mode:
    support: full
  diff_mode:
    support: full
    details: Per service and per field, before and after; secret contents are never shown.
options:
  name:
    description: Name of the stack (the C(com.docker.stack.namespace) label and the prefix of object names).
    type: str
    required: true
  state:
    description:
      - V(present) deploys the bundle. V(absent) removes the stack's services, networks, secrets and
        configs and waits until the networks are gone, so that an immediate redeploy works.
    type: str
    choices: [present, absent]
    default: present
  src:
    description:
      - Path of the bundle file (JSON or YAML) on the controller, relative to the playbook's C(files)
        directory or absolute. Exactly one of O(src) and O(definition) with O(state=present).
      - The action plugin reads it, with the secret and config files it names, on the controller; the
        module on the manager receives the checked bundle, never the path.
    type: path
  definition:
    description:
      - The bundle itself, as a mapping or as JSON or YAML text.
      - Read and checked by the action plugin on the controller, like O(src).
    type: raw
  compose:
    description:
      - Compose files on the controller (a path, or a list of paths merged in order exactly as repeated
        C(docker stack deploy -c) merges them; relative to the playbook's C(files) directory or absolute),
        or one compose document as a mapping. Exactly one of O(src), O(definition) and O(compose) with
        O(state=present).
      - Read as C(docker stack deploy) reads them (CLI 28.2) - versions 3.0 to 3.13, C(x-) fields, anchors and merge keys,
        variable interpolation (C(${VAR}), C(${VAR:-default}), C(${VAR-default}), C(${VAR:?message}), C($$)), the
        implicit C(default) network, short and long syntaxes, C(env_file), named volumes, networks, secrets and configs
        with C(name), C(external), C(file). Keys Swarm ignores (C(build), C(depends_on), C(container_name), ...) are
        reported as warnings, as the CLI prints them.
      - The folder of the first file is the working folder, as for the CLI - C(env_file) files, secret and config
        C(file)s and relative bind-mount sources are resolved against it (a relative bind source becomes an
        absolute path, which must exist on the nodes).
      - A problem in any file fails the task naming the file and the compose path (C(services.web.deploy.replicas))
        before anything is deployed.
    type: raw
  env:
    description:
      - Variables substituted in the O(compose) files, over those of a C(.env) file beside the first compose file
        (C(KEY=value) lines; matching quotes around a value are removed).
      - Unlike the docker CLI, which substitutes its process environment and reads no C(.env), nothing of the
        controller's environment is used - a run depends on its inputs only. Write O(env) from C(lookup('env', ...))
        to pass a variable through.
      - The values are never shown in the task's result.
    type: dict
  prune:
    description: Remove services of the stack that the bundle no longer has.
    type: bool
    default: false
  resolve_image:
    description:
      - V(never) deploys image references as written (pin them by digest, C(name@sha256:...), to run the
        same image on every node).
      - V(always) asks the registry for the digest of every tag and pins it; V(changed) only for services
        being created or updated (an update made for any other field also moves the service to its tag's
        current digest). When no registry answers, the tag is kept (the image may be local; a service
        already running that tag pinned keeps its pin) and a warning says so; resolution never fails a
        deployment.
    type: str
    choices: [always, changed, never]
    default: never
  with_registry_auth:
    description:
      - Send registry credentials with every service of the stack, as if each had C(WithRegistryAuth) (the
        docker CLI's C(docker stack deploy --with-registry-auth)); the way to send them for a stack read from
        O(compose), which has no such key.
      - V(false) sends them only with the services whose C(WithRegistryAuth) is true.
    type: bool
    default: false
  registry_credentials:
    description:
      - Credentials that services with C(WithRegistryAuth) (or all, with O(with_registry_auth)) send with their
        create or update, so that every node pulls their images with them; the nodes themselves need no
        C(docker login).
      - For the registry of a service's image, an entry here comes before the manager's docker
        C(config.json) (C($DOCKER_CONFIG/config.json), else C(~/.docker/config.json) of the user the module runs
        as); that file is read only for registries with no entry here. Only its inline C(auths) are read, and a
        registry whose credentials a credential helper keeps (C(credsStore), C(credHelpers)) gets none from
        it, with a warning naming the registry. A service that should send credentials but has none is
        deployed without them, with a warning; its nodes then fail to pull a private image, which O(wait)
        reports per task.
      - The engine keeps the credentials with the service and never shows them, and a service gets them only
        with a create or an update. So the module labels the service C(crane.swarm.registry-auth) with the
        registry and a fingerprint of the credentials (96 bits of PBKDF2-HMAC-SHA256, salted with the swarm's ID
        and the registry), and updates a service whose label differs - credentials that were missing, a
        changed password - which replaces its tasks that could not pull and leaves its running tasks alone.
        The same credentials again change nothing. A run without credentials for the service leaves its
        label, and the credentials the engine keeps, as they are.
      - The passwords are never shown, at any verbosity, nor in a diff; the registry addresses and user names are.
    type: list
    elements: dict
    suboptions:
      registry:
        description:
          - The registry, as image references name it (C(registry.example.com:5000)); a scheme and a path are
            ignored, as C(docker login) ignores them (C(https://registry.example.com/v2/)). V(docker.io) (or
            V(index.docker.io), V(https://index.docker.io/v1/)) is Docker Hub. Each registry once.
        type: str
        required: true
      username:
        description: The user name (no C(:)).
        type: str
        required: true
      password:
        description: The password or access token.
        type: str
        required: true
  wait:
    description:
      - Wait until every service this run created or updated has converged, judged from its tasks. It
        has when every task it should run has been running for a stability window and its rolling update
        is done. A task with a healthcheck is C(running) only once healthy. The window is the service's
        C(UpdateConfig.Monitor) when set (how long the swarm itself watches a new task before it counts
        an update step a success), else 5 s (the swarm's default C(Monitor)). A task that crashes at
        start-up does not last it.
      - The wait fails early, each service with its tasks' errors, when an update paused or rolled back,
        or when a service's tasks keep ending (3 tasks in one slot, fewer when the restart policy allows
        fewer attempts). Every ended task seen since the write counts, whatever the swarm's
        C(task_history_retention_limit) keeps. Tasks still pending are reported with their reason (for
        example C(no suitable node)); the wait says it timed out only when O(wait_timeout) has passed.
      - Within the same O(wait_timeout), the wait also waits for the services this run did not change that
        are merely pending when it polls (fewer tasks running than desired, as while tasks start or are
        rescheduled after a node's engine restarted, or an update under way), until they run their desired
        tasks (counted from C(ServiceStatus), with no stability window). Services already running their
        desired tasks add no wait, so an unchanged stack's rerun returns at once. A service that can never
        run (for example C(no suitable node)) makes the wait last O(wait_timeout).
      - Services this run did not change cannot fail it. One not running its desired tasks when the wait
        ends, or whose last update paused or rolled back in an earlier run, is reported (a warning,
        RV(not_converged), RV(previous_update_failures)). One whose last update paused or rolled back
        (C(paused), C(rollback_paused), C(rollback_completed)) is reported at once, not waited for.
      - Jobs (C(ReplicatedJob), C(GlobalJob)) are not followed to their completion.
    type: bool
    default: true
  wait_timeout:
    description: Seconds to wait for convergence, and for networks to disappear with O(state=absent).
    type: int
    default: 300
notes:
  - Run it against a manager.
  - Results never echo the bundle or the file contents (C(invocation) shows their size only), on success
    and on every failure. Inline secret and config contents, and the files' contents, are also masked
    wherever they would appear in a result, like no_log values, when at least 4 characters long.
  - Registry credentials for C(WithRegistryAuth) services come from O(registry_credentials), else from the
    manager's docker C(config.json) (C(auths)); they are sent to the engine and never printed.
seealso:
  - module: crane.swarm.swarm_stack_info
  - module: crane.swarm.swarm_network
"""

EXAMPLES = r"""
- name: Deploy a stack from its compose files, as docker stack deploy -c docker-stack.yml -c prod.yml shop would
  crane.swarm.swarm_stack:
    name: shop
    compose:
      - stacks/shop/docker-stack.yml
      - stacks/shop/prod.yml
    env:
      TAG: "1.4.2"
    prune: true

- name: Deploy a stack from a bundle on the controller
  crane.swarm.swarm_stack:
    name: shop
    src: bundles/shop.dab
    prune: true

- name: Deploy an inline bundle
  crane.swarm.swarm_stack:
    name: hello
    definition:
      Version: "0.1"
      Services:
        web:
          Image: busybox@sha256:7edf5efe6b86dbf01ccc3c76b32a37a8e23b84e6bad81ce8ae8c221fa456fda8
          Command: [httpd, -f, -p, "8080"]
          Replicas: 2
          UpdateConfig: {Parallelism: 1, Delay: 10s, FailureAction: rollback}

- name: Deploy a stack whose images are in a private registry; the nodes need no docker login
  crane.swarm.swarm_stack:
    name: shop
    compose: stacks/shop/docker-stack.yml   # image: registry.example.com:5000/shop/web:1.4.2
    with_registry_auth: true
    registry_credentials:
      - registry: registry.example.com:5000
        username: deploy
        password: "{{ vault_registry_password }}"

- name: Remove the stack (its networks are gone when this returns)
  crane.swarm.swarm_stack:
    name: hello
    state: absent
"""

RETURN = r"""
services:
  description:
    - What happened to the stack's services (in check mode, what would happen). A write is listed once
      the engine accepted it; after a refusal, from what the engine then has.
  returned: always
  type: dict
  contains:
    created:
      description: Services created.
      type: list
      elements: str
    updated:
      description: Services updated, with the fields that changed.
      type: dict
    removed:
      description: Services removed.
      type: list
      elements: str
    unchanged:
      description: Services left untouched.
      type: list
      elements: str
networks:
  description: Networks created (C(created)) and removed (C(removed)).
  returned: always
  type: dict
secrets:
  description:
    - Secret objects created and removed (names only). A new content is a new secret; the old one is
      removed once no service refers to it.
    - In check mode, those that would be created and removed (the old versions no service would
      refer to after the run).
  returned: always
  type: dict
configs:
  description:
    - Config objects created and removed, as for RV(secrets), check mode included.
  returned: always
  type: dict
converged:
  description:
    - V(true) when the wait saw every service this run created or updated converge and, when it ended, every
      other service of the bundle run its desired tasks; V(false) when it did not.
    - V(null) when nothing was observed (O(wait=false), check mode).
  returned: when O(state=present), and when the wait fails
  type: bool
not_converged:
  description:
    - The services not converged when the wait ended, by name. Those this run changed failed the task;
      the others (waited for while merely pending, see O(wait)) are reported here and in a warning.
  returned: when O(state=present) and O(wait=true), not in check mode
  type: dict
  contains:
    reason:
      description:
        - V(crash_loop) (its tasks keep ending), V(pending) (tasks not running yet or not for the stability
          window, or an update in progress), V(rolled_back), V(paused) or V(missing) (removed meanwhile).
      type: str
    message:
      description:
        - What the swarm showed, for example C(0 of 1 tasks have run for 5 s), with the reasons pending tasks
          give; for a service this run did not change, its counts, for example C(1 of 2 tasks running).
      type: str
    task_errors:
      description: The most recent distinct errors of its tasks (C(Status.Err)), newest first.
      type: list
      elements: str
    changed_by_this_run:
      description: Whether this run created or updated the service (only those fail the task).
      type: bool
task_errors:
  description: The most recent task errors of each service this run changed that did not converge.
  returned: when the wait fails
  type: dict
previous_update_failures:
  description:
    - Services this run did not change whose last update paused or rolled back (C(UpdateStatus) of an
      earlier run), with the state and the swarm's message. Reported with a warning; never a failure.
  returned: when O(state=present)
  type: dict
"""

import base64
import functools
import json
import os
import time
from concurrent.futures import ThreadPoolExecutor

from ansible_collections.crane.swarm.plugins.module_utils.engine.client import EngineError
from ansible_collections.crane.swarm.plugins.module_utils.engine.module_base import (
    EngineTask, engine_module, run_engine_task)
from ansible_collections.crane.swarm.plugins.module_utils.common.plain_data import plain_copy
from ansible_collections.crane.swarm.plugins.module_utils.stacks.apply import (
    ENDED_STATES, address_capacity, address_space_problem, addresses_needed, awaited_unchanged, by_name,
    REGISTRY_AUTH_LABEL, OncePerImage, carry_swarm_state, cli_secrets_in_use, docker_config_auth,
    earlier_update_failure, echoed_arguments, fixed_name_conflicts, image_for_update, image_registry, in_stack,
    note_exits, note_running, registry_auth_header, registry_auth_label, registry_credentials_by_host, registry_of,
    reuse_cli_configs, rolls_out_tasks,
    same_image_pinned, secret_update_body, service_verdict, settled_state, shortened, task_errors, task_state,
    use_twins, wait_is_over, with_object_ids)
from ansible_collections.crane.swarm.plugins.module_utils.networks.spec import network_changes
from ansible_collections.crane.swarm.plugins.module_utils.networks.spec import services_using as network_users
from ansible_collections.crane.swarm.plugins.module_utils.swarm.stored_objects import services_using
from ansible_collections.crane.swarm.plugins.module_utils.stacks.options import (
    BUNDLE_JSON, CONFIG_DATA, PRIVATE_OPTIONS, SECRET_DATA, STACK_OPTIONS)
from ansible_collections.crane.swarm.plugins.module_utils.stacks.spec import (
    api_version_problems, desired_stack, diff_for_display, service_changes)
from ansible_collections.crane.swarm.plugins.module_utils.stacks.status import STACK_NAMESPACE_LABEL

POLL_INTERVAL = 1.0
ROLLOUT_START_GRACE = 5.0  # seconds; the engine begins a rollout within milliseconds of the update
DEFAULT_SUBNET_SIZE = 24  # the swarm's default address pool hands out /24s unless told otherwise
# Shorter contents are not masked in the output: every occurrence of one or two letters would be,
# hiding the very facts a failure reports. They are never echoed either way.
MIN_MASKED_LENGTH = 4


class StackDeployment(EngineTask):
    """The I/O around the pure core: read the live stack, plan, check, apply the differences, wait, report.

    What the result lists was done (or, in check mode, would be): a write is
    recorded once the engine accepted it, and after a refusal the services are
    read back from the engine.
    """

    def __init__(self, module, client, bundle=None, credentials=None):
        super().__init__(module, client, dict(
            changed=False, services=dict(created=[], updated={}, removed=[], unchanged=[]),
            networks=dict(created=[], removed=[]), secrets=dict(created=[], removed=[]),
            configs=dict(created=[], removed=[])))
        self.stack = module.params['name']
        self.bundle = bundle  # checked on the controller (options.BUNDLE_JSON); None with state=absent
        self.check_mode = module.check_mode
        self.changes_by_service = {}
        self.rollouts_started = {}  # service name -> monotonic time of the update that replaces its tasks
        self.service_writes = []  # (service name, changes or None for a create, spec, headers, live service or None)
        self.written_at = {}  # service name -> time.time() when its create or update was sent
        self.tasks_before = []  # the tasks of the services to update, read before the updates
        self._docker_config = None
        self._network_names = None
        self._resolutions = OncePerImage(self.ask_registry)  # one registry round trip per distinct image
        self.credentials = credentials or {}  # the task's registry_credentials by registry (registry_credentials_by_host)
        self._registry_auth = {}  # registry -> (X-Registry-Auth value, the label it is sent with) or (None, None)

    def stack_filter(self):
        return dict(filters=json.dumps({'label': ['%s=%s' % (STACK_NAMESPACE_LABEL, self.stack)]}))

    def fail(self, msg, **extra):
        self.sort_lists()
        super().fail(msg, **extra)

    def sort_lists(self):
        """The result's lists of names in order (service writes are recorded as their answers come)."""
        for section in ('services', 'networks', 'secrets', 'configs'):
            for names in self.result[section].values():
                if isinstance(names, list):
                    names.sort()

    def record(self, section, kind, name):
        self.result['changed'] = True
        self.result[section][kind].append(name)

    def write(self, section, kind, name, request):
        """Make one write (none in check mode) and record it once the engine accepted it."""
        if not self.check_mode:
            request()
        self.record(section, kind, name)

    # -- reading: four list calls whatever the stack's size

    def read_live(self):
        self.services = self.client.get('/services', params=self.stack_filter())
        self.networks = self.client.get('/networks')
        self.secrets = self.client.get('/secrets')
        self.configs = self.client.get('/configs')

    # -- networks, secrets, configs

    def networks_to_create(self, desired):
        """The NetworkCreate bodies of the stack's missing networks; fails on a network that differs."""
        live = by_name(self.networks)
        for name in desired['external_networks']:
            if name not in live:
                self.fail('external network %r does not exist; create it first (crane.swarm.swarm_network)' % name)
        missing = []
        for name, body in sorted(desired['networks'].items()):
            network = live.get(name)
            if network is None:
                missing.append(body)
                continue
            immutable = network_changes(network, body)
            if immutable:
                users = network_users(self.services, network)
                self.fail('network %s differs in %s, which a Docker network cannot change; services using it: %s. '
                          'Remove the stack (state=absent) or those services, then deploy again.'
                          % (name, ', '.join('%s (%r -> %r)' % change for change in immutable),
                             ', '.join(shortened(users)) or 'none'))
        return missing

    def reuse_cli_secrets(self, desired):
        """Keep the secrets `docker stack deploy` made and the stack's services use, where their data are ours."""
        renames = {}
        for item, found in cli_secrets_in_use(self.stack, desired, self.secrets, self.services):
            live_name = found['Spec']['Name']
            if self.check_mode:
                self.module.warn('secret %s (made by docker stack deploy): check mode cannot tell whether it holds '
                                 'the content of %s without writing to it, so the services using it are shown as '
                                 'updated; a real run keeps it, and them, if the content is the same'
                                 % (live_name, item['name']))
                continue
            try:
                self.client.post('/secrets/%s/update' % found['ID'], secret_update_body(found, item['spec']),
                                 params=dict(version=found['Version']['Index']))
            except EngineError as exc:
                if exc.status != 400:
                    self.fail('reading whether secret %s holds the content of %s failed: %s' % (live_name, item['name'], exc))
                continue  # other data: this secret is not the file's, crane makes its own
            renames[item['name']] = live_name
        use_twins(desired, 'secrets', renames)

    def objects_to_create(self, kind, desired_objects, externals, live_objects):
        """({object name: ID} of the live objects, [the missing secret/config versions])."""
        live = by_name(live_objects)
        for name in externals:
            if name not in live:
                self.fail('external %s %r does not exist; create it first' % (kind, name))
        conflicts, unverifiable = fixed_name_conflicts(kind, desired_objects, live_objects)
        if conflicts:
            self.fail('nothing was deployed: ' + ' | '.join(conflicts))
        for name in unverifiable:
            self.module.warn('%s %s has a fixed Name and exists without the content digest this collection labels '
                             'its objects with (created by another tool?): it is used as it is, its content unchecked'
                             % (kind, name))
        missing = [item for dummy, item in sorted(desired_objects.items()) if item['name'] not in live]
        return dict((name, item['ID']) for name, item in live.items()), missing

    def create_objects(self, kind, missing, ids):
        for item in missing:
            def create(item=item):
                ids[item['name']] = self.client.post('/%ss/create' % kind, item['spec'])['ID']
            self.write(kind + 's', 'created', item['name'], create)

    # -- the address space of the stack's networks

    def check_address_space(self, desired):
        """Fail before the first write when a stack network cannot hold what the stack puts on it."""
        specs = [wanted['spec'] for wanted in desired['services'].values()]
        if not self.params['prune']:
            # Services of the stack the bundle no longer has keep their addresses.
            for name, service in by_name(self.services).items():
                if name not in desired['services']:
                    specs.append(self.with_network_names(service))
        live_networks = by_name(self.networks)
        nodes = None
        problems = []
        for name, body in sorted(desired['networks'].items()):
            if nodes is None:
                nodes = self.nodes_running_tasks()
            needed = addresses_needed(specs, name, nodes)
            if not needed:
                continue
            config = (body.get('IPAM') or {}).get('Config')
            where, then = 'the subnet the bundle gives it', ''
            if address_capacity(config) is None:
                live = live_networks.get(name)
                config = ((live or {}).get('IPAM') or {}).get('Config')
                if address_capacity(config) is not None:
                    where = 'its subnet %s' % ', '.join(entry.get('Subnet', '?') for entry in config)
                    then = '; the network exists already: remove the stack (state=absent) and deploy it again'
                else:
                    prefix = self.default_subnet_size()
                    config = [{'Subnet': '0.0.0.0/%d' % prefix}]
                    where = "a /%d, the size the swarm's default address pool gives a network without one" % prefix
            problem = address_space_problem(name, needed, address_capacity(config), where)
            if problem:
                problems.append(problem + then)
        if problems:
            self.fail('nothing was deployed: ' + ' | '.join(problems))

    def with_network_names(self, service):
        """A live service's spec with its networks named, as the desired specs name them."""
        names = self.network_names(service)
        spec = plain_copy(service['Spec'])
        for attachment in (spec.get('TaskTemplate') or {}).get('Networks') or spec.get('Networks') or []:
            attachment['Target'] = names.get(attachment.get('Target'), attachment.get('Target'))
        return spec

    def nodes_running_tasks(self):
        """How many nodes can run tasks now: ready and active."""
        nodes = self.client.get('/nodes')
        ready = [node for node in nodes if (node.get('Status') or {}).get('State') == 'ready'
                 and (node.get('Spec') or {}).get('Availability', 'active') == 'active']
        return len(ready) or len(nodes) or 1

    def default_subnet_size(self):
        return self.client.get('/swarm').get('SubnetSize') or DEFAULT_SUBNET_SIZE

    # -- services

    def network_names(self, live_service):
        """{network ID: name} covering the live service's attachments.

        The list call shows the local `host` network, while a service on the host
        network refers to the swarm's own `host` object; such IDs are looked up once.
        """
        if self._network_names is None:
            self._network_names = dict((network['Id'], network['Name']) for network in self.networks)
        for attachment in live_service['Spec'].get('TaskTemplate', {}).get('Networks') or []:
            target = attachment.get('Target')
            if target and target not in self._network_names and target not in self._network_names.values():
                try:
                    self._network_names[target] = self.client.get('/networks/%s' % target)['Name']
                except EngineError:
                    pass  # a network deleted behind the service: the comparison shows the bare ID
        return self._network_names

    def registry_headers(self, image, wanted):
        """{'X-Registry-Auth': ...} for a service that sends registry credentials, or None.

        A service sends them with WithRegistryAuth (or the task's with_registry_auth): those of the
        task's registry_credentials for its image's registry, else those of the manager's docker
        config.json. Without credentials it warns (once per registry) and sends none.
        """
        if not (wanted or self.params['with_registry_auth']):
            return None
        registry = image_registry(image)
        if registry not in self._registry_auth:
            self._registry_auth[registry] = self.registry_header(registry, image)
        header = self._registry_auth[registry][0]
        return {'X-Registry-Auth': header} if header else None

    def registry_header(self, registry, image):
        """(X-Registry-Auth value, label value) for `registry` (task options first, then the docker config), or
        (None, None) with a warning."""
        auth = self.credentials.get(registry)
        problem = None
        if auth is None:
            config, problem = self.docker_config()
            try:
                auth = docker_config_auth(registry, config)
            except ValueError as exc:
                problem = str(exc)
        if auth is None:
            shown = registry_of(image) or 'docker.io'
            problem = problem or ("neither the task's registry_credentials nor the manager's docker config %s has "
                                  'credentials for %s' % (self.docker_config_path(), shown))
            self.module.warn("WithRegistryAuth: %s, so the nodes pull %s (and the other images of %s) without "
                             "credentials. Give them in the task's registry_credentials (registry: %s), which come "
                             'before the docker config' % (problem, image, shown, shown))
            return None, None
        header = registry_auth_header(registry, auth)
        self.module.no_log_values.add(header)
        return header, registry_auth_label(registry, auth, self.client.get('/swarm')['ID'])

    def docker_config_path(self):
        config_dir = os.environ.get('DOCKER_CONFIG') or os.path.join(os.environ.get('HOME', '/root'), '.docker')
        return os.path.join(config_dir, 'config.json')

    def docker_config(self):
        """(the manager's docker config.json, a problem reading it or None); read once. No file is no credentials."""
        if self._docker_config is None:
            path = self.docker_config_path()
            try:
                with open(path) as config_file:
                    self._docker_config = (json.load(config_file), None)
            except FileNotFoundError:
                self._docker_config = ({}, None)
            except (OSError, ValueError) as exc:
                self._docker_config = ({}, "the manager's docker config %s cannot be read (%s)" % (
                    path, exc.strerror if isinstance(exc, OSError) else 'not JSON'))
        return self._docker_config

    def label_registry_auth(self, spec, headers, live):
        """Label the service with the fingerprint of the credentials it is sent (apply.registry_auth_label).

        The engine never shows the credentials it keeps with a service, nor whether it keeps any: the
        label tells a service that got other credentials, or none, from one that got these, so that
        new credentials (a fixed password, credentials that were missing) are sent with an update, and
        the same ones change nothing. A run that sends none keeps the label as it is.
        """
        if headers:
            value = self._registry_auth[image_registry(spec['TaskTemplate']['ContainerSpec']['Image'])][1]
        else:
            value = (((live or {}).get('Spec') or {}).get('Labels') or {}).get(REGISTRY_AUTH_LABEL)
        if value:
            spec.setdefault('Labels', {})[REGISTRY_AUTH_LABEL] = value

    def resolved_image(self, image, headers):
        """image pinned to the registry's digest, or image unchanged when no registry answers.

        Asked once per distinct image and credentials in a run, however many services run it.
        """
        return self._resolutions(image, headers)

    def ask_registry(self, image, headers):
        if '@' in image:
            return image
        try:
            answer = self.client.get('/distribution/%s/json' % image, headers=headers)
            return '%s@%s' % (image, answer['Descriptor']['digest'])
        except (EngineError, KeyError, TypeError) as exc:
            self.module.warn('resolve_image: kept %s as written, its digest is unknown (%s)' % (image, exc))
            return image

    def plan_service(self, name, wanted, live, ids):
        """Decide whether the service is created, updated or left alone; the write waits in service_writes."""
        spec = with_object_ids(wanted['spec'], *ids)
        container = spec['TaskTemplate']['ContainerSpec']
        headers = self.registry_headers(container['Image'], wanted['registry_auth'])
        self.label_registry_auth(spec, headers, live)
        if self.params['resolve_image'] == 'always':
            container['Image'] = self.resolved_image(container['Image'], headers)
        if live is None:
            self.changes_by_service[name] = [('service', None, 'created')]
            if self.params['resolve_image'] == 'changed':
                container['Image'] = self.resolved_image(container['Image'], headers)
            self.service_writes.append((name, None, spec, headers, None))
            return
        live_image = live['Spec']['TaskTemplate']['ContainerSpec'].get('Image', '')
        written = container['Image']
        if same_image_pinned(live_image, written):
            container['Image'] = live_image
        changes = service_changes(live['Spec'], spec, self.network_names(live))
        if not changes:
            self.result['services']['unchanged'].append(name)
            return
        if self.params['resolve_image'] == 'changed':
            # The tag as written, not the live pin put in its place above: an update moves to the tag's digest.
            container['Image'] = image_for_update(written, live_image, self.resolved_image(written, headers))
            changes = service_changes(live['Spec'], spec, self.network_names(live))
        self.changes_by_service[name] = changes
        self.service_writes.append((name, changes, spec, headers, live))

    def record_service(self, name, changes, live):
        if live is None:
            self.record('services', 'created', name)
        else:
            self.result['changed'] = True
            self.result['services']['updated'][name] = [path for path, dummy, dummy2 in changes]

    def send_service_writes(self, ids):
        """Send the creates and updates decided, several at once where the client allows.

        Secrets and configs exist by now: their IDs (`ids`) go into the specs. After
        the first refusal no further write is started, and the services are read back
        from the engine: writes in flight may have been made whatever their answer was.
        """
        if self.check_mode:
            for name, changes, dummy, dummy2, live in self.service_writes:
                self.record_service(name, changes, live)
            return
        updated_ids = [live['ID'] for dummy, dummy2, dummy3, dummy4, live in self.service_writes if live]
        if self.params['wait'] and updated_ids:
            # What existed before: those tasks' failures are not this run's.
            self.tasks_before = self.client.get('/tasks', params=dict(filters=json.dumps({'service': updated_ids})))
        failures = []

        def send(write):
            name, changes, spec, headers, live = write
            if failures:
                return
            spec = with_object_ids(spec, *ids)
            self.written_at[name] = time.time()
            try:
                if live is None:
                    self.client.post('/services/create', spec, headers=headers)
                else:
                    self.client.post('/services/%s/update' % live['ID'], carry_swarm_state(live, spec),
                                     params=dict(version=live['Version']['Index']), headers=headers)
                    if rolls_out_tasks(changes):
                        self.rollouts_started[name] = time.monotonic()
            except EngineError as exc:
                failures.append('%s service %s failed: %s' % ('creating' if live is None else 'updating', name, exc))
                return
            self.record_service(name, changes, live)
        workers = min(self.client.concurrent_requests, len(self.service_writes))
        if workers > 1:
            with ThreadPoolExecutor(max_workers=workers) as pool:
                list(pool.map(send, self.service_writes))
        else:
            for write in self.service_writes:
                send(write)
        if failures:
            made = self.read_back_service_writes()
            self.fail('%s (%d of the %d service creates and updates were made%s)' % (
                failures[0], len(made), len(self.service_writes), ': ' + ', '.join(shortened(made)) if made else ''))

    def read_back_service_writes(self):
        """Set the result's created and updated services from what the engine has; return their names."""
        now = by_name(self.client.get('/services', params=self.stack_filter()))
        services = self.result['services']
        services['created'], services['updated'] = [], {}
        for name, changes, dummy, dummy2, live in self.service_writes:
            if name not in now:
                continue
            if live is None:
                services['created'].append(name)
            elif now[name]['Version']['Index'] != live['Version']['Index']:
                services['updated'][name] = [path for path, dummy3, dummy4 in changes]
        self.result['changed'] = any(self.result[section][kind] for section, kind in (
            ('services', 'created'), ('services', 'updated'), ('services', 'removed'), ('networks', 'created'),
            ('networks', 'removed'), ('secrets', 'created'), ('secrets', 'removed'), ('configs', 'created'),
            ('configs', 'removed')))
        return sorted(services['created']) + sorted(services['updated'])

    def remove_service(self, name, service):
        self.changes_by_service[name] = [('service', 'present', None)]
        self.write('services', 'removed', name, lambda: self.client.delete('/services/%s' % service['ID']))

    def remove_unused_objects(self, kind, keep_names, live_objects):
        """Drop the stack's old secret/config versions no service refers to any more.

        Check mode lists those no service would refer to after this run: the specs it would
        write, and the live ones of every other service in the swarm (the engine refuses to
        remove an object a service uses, which the real run then keeps).
        """
        in_use_after = self.objects_in_use_after_writes(kind) if self.check_mode else None
        for name, item in sorted(by_name(live_objects).items()):
            if name in keep_names or not in_stack(item, self.stack):
                continue
            if self.check_mode:
                if name not in in_use_after:
                    self.record(kind + 's', 'removed', name)
                continue
            try:
                self.client.delete('/%ss/%s' % (kind, item['ID']))
                self.record(kind + 's', 'removed', name)
            except EngineError:
                pass  # still used by a service of another stack or a task being replaced: kept for now

    def objects_in_use_after_writes(self, kind):
        """Names of the secrets or configs the swarm's services would use after this run's service writes."""
        written = dict((name, spec) for name, dummy, spec, dummy2, dummy3 in self.service_writes)
        removed = set(self.result['services']['removed'])
        others = [service for service in self.client.get('/services')
                  if service['Spec']['Name'] not in written and service['Spec']['Name'] not in removed]
        return set(services_using(kind, [dict(Spec=spec) for spec in written.values()] + others))

    # -- waiting

    def wait_converged(self, watched, unchanged=()):
        """Poll until every service in `watched` (those this run wrote) converged, one failed, or time is up.

        The wait also goes on while a service in `unchanged` (those this run left alone)
        is merely pending (stack_apply.awaited_unchanged); those never fail it.
        Returns (the last GET /services?status=true, {name: (state, message, task errors)}
        of the watched services, seconds waited, whether the deadline passed). See
        stack_apply.service_verdict and stack_apply.wait_is_over.
        """
        started = time.monotonic()
        deadline = started + self.params['wait_timeout']
        existed_before = set(task['ID'] for task in self.tasks_before)
        ended_before = set(task['ID'] for task in self.tasks_before if task_state(task) in ENDED_STATES)
        bounds, exits = {}, {}
        previous_poll = None
        while True:
            sent = time.time()
            services = self.client.get('/services', params=dict(self.stack_filter(), status='true'))
            live = by_name(services)
            ids = dict((live[name]['ID'], name) for name in watched if name in live)
            tasks = self.client.get('/tasks', params=dict(filters=json.dumps({'service': sorted(ids)}))) if ids else []
            now = time.time()
            written_at = dict((service_id, self.written_at.get(name)) for service_id, name in ids.items())
            note_running(bounds, tasks, now, previous_poll, written_at, existed_before)
            note_exits(exits, tasks, ended_before)
            tasks_of, exits_of = {}, {}
            for task in tasks:
                tasks_of.setdefault(task.get('ServiceID'), []).append(task)
            for task in exits.values():
                exits_of.setdefault(task.get('ServiceID'), []).append(task)
            verdicts = {}
            for name in watched:
                if name not in live:
                    verdicts[name] = ('missing', 'the service is gone: removed while this run waited for it', [])
                    continue
                service_id = live[name]['ID']
                awaiting = (name in self.rollouts_started
                            and time.monotonic() - self.rollouts_started[name] < ROLLOUT_START_GRACE)
                verdicts[name] = service_verdict(live[name], tasks_of.get(service_id, []),
                                                 exits_of.get(service_id, []), bounds, now, awaiting)
            awaited = awaited_unchanged([live[name] for name in unchanged if name in live])
            timed_out = time.monotonic() >= deadline
            if wait_is_over(verdicts, awaited, timed_out):
                return services, verdicts, time.monotonic() - started, timed_out
            previous_poll = sent
            time.sleep(POLL_INTERVAL)

    def report_converged(self, watched, unchanged):
        """Wait for the stack, report what this run did not change; True when the whole stack converged.

        Only the services this run created or updated can fail it. A service it left
        alone is waited for while merely pending (its tasks starting or being
        rescheduled), and when it does not run its desired tasks when the wait ends,
        is reported (a warning, and the result's not_converged and
        previous_update_failures), never failed: this run did not make it so.
        """
        services, verdicts, waited, timed_out = self.wait_converged(watched, unchanged)
        live = by_name(services)
        not_converged = {}
        errors = {}
        for name in sorted(verdicts):
            state, message, task_messages = verdicts[name]
            if state != 'converged':
                not_converged[name] = dict(reason=state, message=message, task_errors=task_messages,
                                           changed_by_this_run=True)
                if task_messages:
                    errors[name] = task_messages
        self.report_earlier_failures([live[name] for name in unchanged if name in live])
        settled = dict((name, settled_state(live[name])) for name in unchanged if name in live)
        unsettled = dict((name, state) for name, state in settled.items() if state)
        left_alone_tasks = self.tasks_of([live[name]['ID'] for name in unsettled])
        for name, (state, message) in sorted(unsettled.items()):
            messages = task_errors([task for task in left_alone_tasks.get(live[name]['ID'], [])
                                    if task.get('DesiredState') in ('running', 'ready') or task_state(task) in ENDED_STATES])
            not_converged[name] = dict(reason=state, message=message, task_errors=messages, changed_by_this_run=False)
            self.module.warn('service %s is not converged (%s%s); this run did not change it, so it is reported, '
                             'not failed' % (name, message, ': ' + '; '.join(messages) if messages else ''))
        self.result['not_converged'] = not_converged
        failed = [name for name in sorted(verdicts) if verdicts[name][0] not in ('converged', 'pending')]
        pending = [name for name in sorted(verdicts) if verdicts[name][0] == 'pending']
        if failed or pending:
            details = []
            for name in failed + pending:
                state, message, task_messages = verdicts[name]
                if state == 'pending' and timed_out:
                    message = 'not converged within %d s: %s' % (self.params['wait_timeout'], message)
                elif state == 'pending':
                    message = 'still pending when the wait stopped after %d s: %s' % (waited, message)
                extra = [error for error in task_messages if error not in message]
                details.append('%s: %s%s' % (name, message, ' (tasks: %s)' % '; '.join(extra) if extra else ''))
            self.fail('stack %s did not converge: %s' % (self.stack, ' | '.join(shortened(details))),
                      converged=False, task_errors=errors, diff=diff_for_display(self.changes_by_service))
        return not not_converged

    def tasks_of(self, service_ids):
        """{service ID: its tasks}, in one call; {} without services."""
        if not service_ids:
            return {}
        grouped = {}
        for task in self.client.get('/tasks', params=dict(filters=json.dumps({'service': sorted(service_ids)}))):
            grouped.setdefault(task.get('ServiceID'), []).append(task)
        return grouped

    def report_earlier_failures(self, services):
        """Warn about, and list in previous_update_failures, updates of these services that paused or rolled back."""
        failures = {}
        for service in services:
            failure = earlier_update_failure(service)
            if failure:
                failures[service['Spec']['Name']] = failure
                self.module.warn('service %s: its last update ended %s; an earlier run left it so and this run did '
                                 'not change it' % (service['Spec']['Name'], failure))
        self.result['previous_update_failures'] = failures

    # -- states

    def present(self):
        try:
            desired = desired_stack(self.stack, self.bundle, self.params[SECRET_DATA], self.params[CONFIG_DATA])
        except ValueError as exc:
            self.fail(str(exc))
        too_new = api_version_problems(self.bundle, self.client.api_version)
        if too_new:
            self.fail('nothing was deployed: ' + ' | '.join(too_new))
        self.read_live()
        reuse_cli_configs(self.stack, desired, self.configs)
        self.reuse_cli_secrets(desired)
        networks = self.networks_to_create(desired)
        secret_ids, secrets = self.objects_to_create('secret', desired['secrets'], desired['external_secrets'],
                                                     self.secrets)
        config_ids, configs = self.objects_to_create('config', desired['configs'], desired['external_configs'],
                                                     self.configs)
        live_services = by_name(self.services)
        for name, wanted in sorted(desired['services'].items()):
            self.plan_service(name, wanted, live_services.get(name), (secret_ids, config_ids))
        removals = sorted((name, service) for name, service in live_services.items()
                          if name not in desired['services']) if self.params['prune'] else []
        if networks or secrets or configs or self.service_writes or removals:
            self.check_address_space(desired)
        for body in networks:
            self.write('networks', 'created', body['Name'], lambda body=body: self.client.post('/networks/create', body))
        self.create_objects('secret', secrets, secret_ids)
        self.create_objects('config', configs, config_ids)
        self.send_service_writes((secret_ids, config_ids))
        for name, service in removals:
            self.remove_service(name, service)
        self.remove_unused_objects('secret', set(item['name'] for item in desired['secrets'].values()), self.secrets)
        self.remove_unused_objects('config', set(item['name'] for item in desired['configs'].values()), self.configs)
        written = set(self.result['services']['created']) | set(self.result['services']['updated'])
        unchanged = sorted(set(desired['services']) - written)
        if not self.params['wait'] or self.check_mode:
            # Nothing observed: converged stays unknown; the live services still show earlier failed updates.
            self.report_earlier_failures([live_services[name] for name in unchanged if name in live_services])
            return dict(converged=None)
        return dict(converged=self.report_converged(sorted(written), unchanged))

    def absent(self):
        self.read_live()
        for name, service in sorted(by_name(self.services).items()):
            self.remove_service(name, service)
        stack_networks = [network for network in self.networks if in_stack(network, self.stack)]
        for network in stack_networks:
            self.write('networks', 'removed', network['Name'], lambda network=network: self.remove_network_when_free(network))
        for kind, objects in (('secret', self.secrets), ('config', self.configs)):
            for name, item in sorted(by_name(objects).items()):
                if in_stack(item, self.stack):
                    self.write(kind + 's', 'removed', name,
                               lambda kind=kind, item=item: self.client.delete('/%ss/%s' % (kind, item['ID'])))
        return {}

    def remove_network_when_free(self, network):
        """Delete a network as soon as its endpoints are gone, then wait until the engine forgot it.

        Right after its services are removed, their tasks still hold endpoints on the
        network: the docker CLI fails there; we retry until wait_timeout.
        """
        deadline = time.monotonic() + self.params['wait_timeout']
        while True:
            try:
                self.client.delete('/networks/%s' % network['Id'])
                break
            except EngineError as exc:
                if exc.status == 404:
                    break
                if time.monotonic() > deadline:
                    self.fail('network %s is still in use after %d s: %s' % (
                        network['Name'], self.params['wait_timeout'], exc))
                time.sleep(POLL_INTERVAL)
        if not self.wait_until_gone('/networks/%s' % network['Id'], deadline, POLL_INTERVAL):
            self.fail('network %s was removed but still exists after %d s' % (network['Name'], self.params['wait_timeout']))

    def run(self):
        # An engine error fails the run with what was done before the engine refused (run_engine_task).
        self.result.update(self.present() if self.params['state'] == 'present' else self.absent())
        self.sort_lists()
        if self.module._diff:
            self.result['diff'] = diff_for_display(self.changes_by_service)
        return self.result


def checked_bundle(module):
    """The bundle the action plugin read and checked on the controller: nothing here checks it again.

    Without the private option that carries it, the module ran without its action plugin.
    """
    if module.params[BUNDLE_JSON] is None:
        module.fail_json(msg='crane.swarm.swarm_stack ran without its action plugin: the private option %s, the '
                             'bundle read and checked on the controller, is missing. src and definition are read by '
                             'the action plugin; call the module by the name crane.swarm.swarm_stack.' % BUNDLE_JSON)
    return json.loads(module.params[BUNDLE_JSON])


def never_echo_contents(module):
    """Every result of the module, failures included, echoes its arguments with the bundle and contents summed up.

    AnsibleModule echoes its raw arguments in `invocation` unless the result has one:
    the bundle would show with its inline secrets wherever the module fails.
    """
    def echoing(original):
        def call(*args, **result):
            result.setdefault('invocation', dict(module_args=echoed_arguments(module.params)))
            original(*args, **result)
        return call
    for method in ('fail_json', 'exit_json'):
        setattr(module, method, echoing(getattr(module, method)))


def mask_contents(module, bundle):
    """Hide the bundle's secret and config contents wherever they would appear in a result, as no_log values."""
    contents = set()
    for section in ('Secrets', 'Configs'):
        for definition in (bundle.get(section) or {}).values():
            if isinstance(definition, dict) and isinstance(definition.get('Content'), str):
                contents.add(definition['Content'])
    for key in (SECRET_DATA, CONFIG_DATA):
        for encoded in (module.params.get(key) or {}).values():
            contents.add(encoded)
            try:
                contents.add(base64.b64decode(encoded).decode('utf-8'))
            except (ValueError, TypeError):
                pass  # not text: it cannot appear in a message either
    module.no_log_values.update(content for content in contents
                                if isinstance(content, str) and len(content.strip()) >= MIN_MASKED_LENGTH)


def main():
    module = engine_module(
        dict(STACK_OPTIONS, **PRIVATE_OPTIONS),
        supports_check_mode=True,
    )
    never_echo_contents(module)
    bundle = None
    try:
        credentials = registry_credentials_by_host(module.params['registry_credentials'])
    except ValueError as exc:  # checked on the controller already: only a module run by hand gets here
        module.fail_json(msg=str(exc))
    if module.params['state'] == 'present':
        bundle = checked_bundle(module)
        mask_contents(module, bundle)
    run_engine_task(module, functools.partial(StackDeployment, bundle=bundle, credentials=credentials))


if __name__ == '__main__':
    main()
