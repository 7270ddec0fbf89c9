# -*- coding: utf-8 -*-
# Copyright: crane.swarm developers
# GNU General Public License v3.0+ (see https://www.gnu.org/licenses/gpl-3.0.txt)
"""The work of crane.swarm.swarm_secret and crane.swarm.swarm_config: one task class, two kinds.

The plan comes from swarm/stored_objects.py (plain data); this class reads the engine, makes
the writes in an order that never leaves a service without its object, and reports. The
content arrives from the action plugin base64-encoded in the private option CONTENT_OPTION,
which is no_log; it is never part of the result, the diff or a message.
"""

from __future__ import annotations

import base64

from ansible_collections.crane.swarm.plugins.module_utils.engine.client import EngineError
from ansible_collections.crane.swarm.plugins.module_utils.engine.module_base import EngineTask
from ansible_collections.crane.swarm.plugins.module_utils.swarm.stored_objects import (
    VERSION_LABEL, LabelError, content_digest, current_object, object_view, plan_absent, plan_present,
    requested_labels, services_using, wanted_labels)

# Sent by the action plugin only: the content read on the controller, base64.
CONTENT_OPTION = '_content_b64'

# The options of both modules (doc fragment crane.swarm.stored_object). data, data_is_b64 and src
# are read on the controller by the action plugin and never reach the module.
STORED_OBJECT_OPTIONS = dict(
    name=dict(type='str', required=True),
    state=dict(type='str', default='present', choices=['present', 'absent']),
    data=dict(type='str', no_log=True),
    data_is_b64=dict(type='bool', default=False),
    src=dict(type='path'),
    labels=dict(type='dict'),
    rolling_versions=dict(type='bool', default=False),
    versions_to_keep=dict(type='int', default=5),
    force=dict(type='bool', default=False),
)
STORED_OBJECT_RULES = dict(
    mutually_exclusive=[('data', 'src')],
    required_if=[('state', 'present', ('data', 'src'), True)],
)
CONFIG_OPTIONS = dict(STORED_OBJECT_OPTIONS, template_driver=dict(type='str', choices=['golang']))
# The options that stay on the controller.
CONTROLLER_ONLY = ('data', 'data_is_b64', 'src')
PRIVATE_OPTIONS = {CONTENT_OPTION: dict(type='str', no_log=True)}


class StoredObjectTask(EngineTask):
    """Create, rotate, relabel or remove one secret or config (`kind`)."""

    kind = None

    def __init__(self, module, client):
        super().__init__(module, client, dict(changed=False, name=None, id=None, version=None, created=[],
                                              removed=[], kept_in_use=[]))

    # -- reading

    def live_objects(self):
        return self.call('get', '/%ss' % self.kind, 'listing the %ss (GET /%ss)' % (self.kind, self.kind)) or []

    def users(self):
        services = self.call('get', '/services', 'listing the services (GET /services)') or []
        return services_using(self.kind, services)

    # -- writing (none in check mode)

    def create(self, name, labels, data):
        body = dict(Name=name, Labels=labels, Data=base64.b64encode(data).decode('ascii'))
        if self.kind == 'config' and self.params.get('template_driver'):
            body['Templating'] = dict(Name=self.params['template_driver'])
        self.result['changed'] = True
        self.result['created'].append(name)
        if self.module.check_mode:
            return None
        answer = self.call('post', '/%ss/create' % self.kind, 'creating %s %s' % (self.kind, name), body=body)
        return (answer or {}).get('ID')

    def relabel(self, item, labels):
        # The live spec with new labels: the engine takes nothing else (a secret's spec holds no data).
        spec = dict(item['Spec'], Labels=labels)
        self.result['changed'] = True
        if not self.module.check_mode:
            self.call('post', '/%ss/%s/update' % (self.kind, item['ID']), 'updating the labels of %s %s'
                      % (self.kind, item['Spec']['Name']), body=spec, params=dict(version=item['Version']['Index']))

    def remove(self, item):
        self.result['changed'] = True
        self.result['removed'].append(item['Spec']['Name'])
        if not self.module.check_mode:
            try:
                self.client.delete('/%ss/%s' % (self.kind, item['ID']))
            except EngineError as exc:
                if exc.status != 404:  # gone meanwhile is gone
                    self.fail('removing %s %s failed: %s' % (self.kind, item['Spec']['Name'], exc))

    # -- states

    def present(self):
        if self.params[CONTENT_OPTION] is None:
            self.fail('crane.swarm.swarm_%s ran without its action plugin, which reads data or src on the '
                      'controller: run it as a task of crane.swarm' % self.kind)
        problem = versions_to_keep_problem(self.params['versions_to_keep'])
        try:
            labels = requested_labels(self.params['labels'])
        except LabelError as exc:
            problem = str(exc)
        if problem:
            self.fail(problem)
        self.require_manager('managing %s %s' % (self.kind, self.params['name']))
        data = base64.b64decode(self.params[CONTENT_OPTION] or '')
        digest = content_digest(data)
        templating = self.params.get('template_driver') if self.kind == 'config' else None
        live_objects = self.live_objects()
        by_name = dict((item['Spec']['Name'], item) for item in live_objects)
        plan = plan_present(self.kind, self.params['name'], digest, labels, live_objects, self.users(),
                            rolling=self.params['rolling_versions'], versions_to_keep=self.params['versions_to_keep'],
                            force=self.params['force'], templating=templating)
        if plan.refusal:
            self.fail(plan.refusal)
        now = current_object(self.params['name'], live_objects, self.params['rolling_versions'])
        before = object_view(now) if now is not None else {}
        if plan.create and plan.create['name'] in plan.remove:
            # The same name with other content: it must go before it can be made again (checked unused).
            self.remove(by_name[plan.create['name']])
        new_id = None
        if plan.create:
            new_id = self.create(plan.create['name'], wanted_labels(labels, digest, plan.create['version']), data)
            self.result.update(name=plan.create['name'], id=new_id, version=plan.create['version'])
        else:
            if plan.relabel is not None:
                self.relabel(plan.current, plan.relabel)
            current_labels = plan.current['Spec'].get('Labels') or {}
            self.result.update(name=plan.current['Spec']['Name'], id=plan.current['ID'],
                               version=int(current_labels[VERSION_LABEL]) if VERSION_LABEL in current_labels else None)
        # Old versions go only after the new one exists: a stack deployed meanwhile finds one of them.
        for name in plan.remove:
            if name != (plan.create or {}).get('name'):
                self.remove(by_name[name])
        self.result['kept_in_use'] = plan.kept_in_use
        if plan.kept_in_use:
            self.module.warn('%s %s: kept old version(s) %s, still used by services; they are removed by a later '
                             'run once unused' % (self.kind, self.params['name'], ', '.join(plan.kept_in_use)))
        if self.module._diff:
            # Name, labels, version and the content's SHA-256; never the content.
            after = dict(name=self.result['name'], labels=labels, version=self.result['version'], sha256=digest)
            self.result['diff'] = dict(before=before, after=after)

    def absent(self):
        self.require_manager('removing %s %s' % (self.kind, self.params['name']))
        live_objects = self.live_objects()
        by_name = dict((item['Spec']['Name'], item) for item in live_objects)
        names, refusal = plan_absent(self.kind, self.params['name'], live_objects, self.users())
        if refusal:
            self.fail(refusal)
        for name in names:
            self.remove(by_name[name])
        if self.module._diff:
            self.result['diff'] = dict(before=dict(objects=[object_view(by_name[name]) for name in names]),
                                       after=dict(objects=[]))


def versions_to_keep_problem(versions_to_keep):
    """The message for a versions_to_keep below -1, or None."""
    if versions_to_keep is not None and versions_to_keep < -1:
        return ('versions_to_keep is %d; give the number of old versions to keep (0 or more), or -1 to keep them '
                'all' % versions_to_keep)
    return None
