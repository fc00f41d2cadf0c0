# -*- coding: utf-8 -*-
# Copyright: meshforge.vpn contributors
# GNU General Public License v3.0+ (see https://www.gnu.org/licenses/gpl-3.0.txt)
"""The ipam action: address management on the controller, over plugin_utils.ipam."""

from __future__ import absolute_import, division, print_function

__metaclass__ = type

from ansible_collections.meshforge.vpn.plugins.module_utils import validation as v
from ansible_collections.meshforge.vpn.plugins.module_utils.validation import ValidationError
from ansible_collections.meshforge.vpn.plugins.plugin_utils.controller_action import ControllerAction
from ansible_collections.meshforge.vpn.plugins.plugin_utils.ipam import request, storage

ARGUMENT_SPEC = dict(
    ledger=dict(type='path'),
    pools=dict(type='dict'),
    pool=dict(type='list', elements='str'),
    network=dict(type='str'),
    hosts=dict(type='list', elements='str'),
    pins=dict(type='dict'),
    records=dict(type='dict'),
    hints=dict(type='dict'),
    state=dict(type='str', default='present', choices=list(request.STATES)),
    address=dict(type='str'),
    release=dict(type='list', elements='str'),
)


class ActionModule(ControllerAction):
    ARGUMENT_SPEC = ARGUMENT_SPEC

    def run(self, tmp=None, task_vars=None):
        task_vars = task_vars or {}
        result, args = self.start(tmp, task_vars, mutually_exclusive=[('pool', 'network')])
        path = args['ledger'] or storage.default_path(task_vars)
        hosts = args['hosts']
        if hosts is None and args['state'] != 'query':
            hosts = [task_vars.get('inventory_hostname')]
        options = dict((key, args[key]) for key in ('state', 'pools', 'pool', 'network', 'pins', 'records', 'address', 'hints'))
        options.update(hosts=hosts, release_hosts=args['release'])
        try:
            v.plain_path('ledger', path)
            before, after, outcome = storage.update(
                path, lambda ledger: request.apply_request(ledger, **options),
                dry_run=self._task.check_mode or args['state'] == 'query')
        except ValidationError as exc:
            # a failed result, not an exception: failed_when still applies (the wireguard_mesh role reports the
            # failure itself, naming its own variable)
            result.update(failed=True, msg='meshforge.vpn.ipam: %s' % exc)
            return result
        result.update(outcome)
        result['ledger'] = path
        if self._task.diff and after != before:
            result['diff'] = {'before_header': path, 'after_header': path,
                              'before': storage.dumps(before) if before.pools else '', 'after': storage.dumps(after)}
        return result
