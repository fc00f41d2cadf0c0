# -*- coding: utf-8 -*-
# Copyright: meshforge.vpn contributors
# GNU General Public License v3.0+ (see https://www.gnu.org/licenses/gpl-3.0.txt)
"""The ipam action: address management on the controller, over plugin_utils.ipam."""

from __future__ import absolute_import, division, print_function

__metaclass__ = type

import os

from ansible.plugins.action import ActionBase

from ansible_collections.meshforge.vpn.plugins.module_utils import validation as v
from ansible_collections.meshforge.vpn.plugins.module_utils.validation import ValidationError
from ansible_collections.meshforge.vpn.plugins.plugin_utils import ipam

LEDGER_NAME = 'meshforge_vpn_ipam.json'

ARGUMENT_SPEC = dict(
    ledger=dict(type='path'),
    pools=dict(type='dict'),
    pool=dict(type='list', elements='str'),
    network=dict(type='str'),
    hosts=dict(type='list', elements='str'),
    pins=dict(type='dict'),
    records=dict(type='dict'),
    state=dict(type='str', default='present', choices=list(ipam.STATES)),
    address=dict(type='str'),
    release=dict(type='list', elements='str'),
)


class ActionModule(ActionBase):
    TRANSFERS_FILES = False
    _requires_connection = False
    _supports_check_mode = True
    _supports_async = False

    def run(self, tmp=None, task_vars=None):
        task_vars = task_vars or {}
        result = super(ActionModule, self).run(tmp, task_vars)
        dummy, args = self.validate_argument_spec(ARGUMENT_SPEC, mutually_exclusive=[('pool', 'network')])
        path = args['ledger'] or os.path.join(
            task_vars.get('inventory_dir') or task_vars.get('playbook_dir') or os.getcwd(), LEDGER_NAME)
        hosts = args['hosts']
        if hosts is None and args['state'] != 'query':
            hosts = [task_vars.get('inventory_hostname')]
        request = dict((key, args[key]) for key in ('state', 'pools', 'pool', 'network', 'pins', 'records', 'address'))
        request['release_hosts'] = args['release']
        try:
            v.plain_path('ledger', path)
            if self._task.check_mode or args['state'] == 'query':
                # the ledger is replaced atomically, so a read without the lock sees one whole version
                before = ipam.load(path)
                after, outcome = ipam.apply_request(before, hosts=hosts, **request)
            else:
                with ipam.locked(path):
                    before = ipam.load(path)
                    after, outcome = ipam.apply_request(before, hosts=hosts, **request)
                    if after != before or not os.path.exists(path):
                        ipam.save(path, after)
        except ValidationError as exc:
            # a failed result, not an exception: failed_when still applies (the wireguard_mesh role reports the
            # failure itself, naming its own variable)
            result.update(failed=True, msg='meshforge.vpn.ipam: %s' % exc)
            return result
        result.update(outcome)
        result['ledger'] = path
        if self._task.diff and after != before:
            result['diff'] = {'before_header': path, 'after_header': path,
                              'before': ipam.dumps(before) if before.pools else '', 'after': ipam.dumps(after)}
        return result
