# -*- coding: utf-8 -*-
# Copyright: meshforge.vpn contributors
# GNU General Public License v3.0+ (see https://www.gnu.org/licenses/gpl-3.0.txt)
"""The wireguard_registry action: the mesh registry on the controller, over plugin_utils.registry."""

from __future__ import absolute_import, division, print_function

__metaclass__ = type

import datetime
import os

from ansible_collections.meshforge.vpn.plugins.module_utils import validation as v
from ansible_collections.meshforge.vpn.plugins.module_utils.validation import ValidationError
from ansible_collections.meshforge.vpn.plugins.plugin_utils import jsonstore, registry
from ansible_collections.meshforge.vpn.plugins.plugin_utils.controller_action import ControllerAction

ARGUMENT_SPEC = dict(
    path=dict(type='path'),
    mesh=dict(type='str', required=True),
    state=dict(type='str', default='query', choices=['query', 'present', 'absent']),
    cached=dict(type='dict', default={}),
    entries=dict(type='dict', default={}),
    names=dict(type='list', elements='str', default=[]),
    outside=dict(type='list', elements='str', default=[]),
)


def now():
    return datetime.datetime.now(datetime.timezone.utc).strftime('%Y-%m-%dT%H:%M:%SZ')


class ActionModule(ControllerAction):
    ARGUMENT_SPEC = ARGUMENT_SPEC

    def run(self, tmp=None, task_vars=None):
        task_vars = task_vars or {}
        result, args = self.start(tmp, task_vars)
        path = args['path'] or registry.default_path(task_vars)
        mesh = args['mesh']
        outcome = {}

        def change(before):
            merged = outcome['merged'] = registry.merge_cached(before, mesh, args['cached'])
            if args['state'] == 'present':
                after, outcome['recorded'] = registry.record(merged, mesh, args['entries'], now())
            elif args['state'] == 'absent':
                after = registry.forget(merged, mesh, args['names'])
                outcome['recorded'] = sorted(set(args['names']) & set(registry.members(merged, mesh)))
            else:
                after, outcome['recorded'] = merged, []
            return after, None

        try:
            v.plain_path('path', path)
            v.name('mesh', mesh)
            existed = os.path.exists(path)
            dummy, after, dummy = registry.update(path, change, dry_run=self._task.check_mode or args['state'] == 'query')
        except ValidationError as exc:
            result.update(failed=True, msg='meshforge.vpn.wireguard_registry: %s' % exc)
            return result
        members = registry.members(after, mesh)
        # the last-converged stamps move on every run: bookkeeping, not a change of the mesh
        result.update(
            changed=bool(outcome['recorded']), path=path, existed=existed, recorded=outcome['recorded'],
            members=members, cache_behind=registry.cache_behind(members, args['cached']),
            behind=registry.behind(outcome['merged'], after, mesh, set(args['outside'])) if args['state'] == 'present' else {})
        if self._task.diff and outcome['recorded']:
            result['diff'] = {'before_header': path, 'after_header': path,
                              'before': jsonstore.dumps(registry.members(outcome['merged'], mesh)),
                              'after': jsonstore.dumps(registry.members(after, mesh))}
        return result
