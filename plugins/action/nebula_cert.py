# -*- coding: utf-8 -*-
# Copyright: meshforge.vpn contributors
# GNU General Public License v3.0+ (see https://www.gnu.org/licenses/gpl-3.0.txt)
"""The nebula_cert action: a Nebula network's CA and host certificates on the controller, over
plugin_utils.nebula_pki.  No host is contacted and no private key is read from or sent to one."""

from __future__ import absolute_import, division, print_function

__metaclass__ = type

import os

from ansible_collections.meshforge.vpn.plugins.module_utils import validation as v
from ansible_collections.meshforge.vpn.plugins.module_utils.nebula.schema import nebula_name
from ansible_collections.meshforge.vpn.plugins.module_utils.validation import ValidationError
from ansible_collections.meshforge.vpn.plugins.plugin_utils import nebula_pki
from ansible_collections.meshforge.vpn.plugins.plugin_utils.controller_action import ControllerAction

ARGUMENT_SPEC = dict(
    network=dict(type='str', required=True),
    name=dict(type='str'),
    address=dict(type='str'),
    state=dict(type='str', choices=['present', 'absent', 'revoked'], default='present'),
    revoke=dict(type='list', elements='str', default=[]),
    retire=dict(type='list', elements='str', default=[]),
    public_key=dict(type='str'),
    groups=dict(type='list', elements='str', default=[]),
    duration=dict(type='str', default='8760h'),
    ca_duration=dict(type='str', default='87600h'),
    renew_before=dict(type='str', default='0s'),
    ca_dir=dict(type='path'),
)


class ActionModule(ControllerAction):
    ARGUMENT_SPEC = ARGUMENT_SPEC

    def run(self, tmp=None, task_vars=None):
        task_vars = task_vars or {}
        result, args = self.start(tmp, task_vars)
        try:
            if args['state'] != 'present':
                want = {'network': nebula_name('network', args['network'])}
                if args['state'] == 'absent':
                    want['name'] = nebula_name('name', args['name'])
            else:
                nebula_name('name', args['name'])
                want = nebula_pki.validate(args, dry_run=self._task.check_mode)
            directory = args['ca_dir'] or os.path.join(
                str(task_vars.get('inventory_dir') or task_vars.get('playbook_dir') or os.getcwd()),
                'nebula-ca', want['network'])
            v.plain_path('ca_dir', directory)
            ca = nebula_pki.CA(directory)
            if args['state'] == 'revoked':
                record, added = ca.revoke(args['revoke'] or [], dry_run=self._task.check_mode, retire=args['retire'] or [])
                result.update(changed=bool(added), ca_dir=directory, revoked=record,
                              blocklist=[item['fingerprint'] for item in record])
                if self._task.diff and added:
                    lines = ['revoked %s (%s)\n' % (item['fingerprint'], item['name'] or 'fingerprint') for item in added]
                    result['diff'] = {'before': '', 'after': ''.join(lines)}
                return result
            if args['state'] == 'absent':
                removed = ca.forget(want['name'], dry_run=self._task.check_mode)
                result.update(changed=removed, ca_dir=directory)
                if self._task.diff and removed:
                    result['diff'] = {'before': '%s: certificate\n' % want['name'], 'after': ''}
                return result
            outcome = nebula_pki.ensure(ca, want, dry_run=self._task.check_mode)
        except ValidationError as exc:
            result.update(failed=True, msg='meshforge.vpn.nebula_cert: %s' % exc)
            return result
        result.update(outcome, changed=outcome['ca_created'] or outcome['signed'], ca_dir=directory)
        if self._task.diff and result['changed']:
            summary = '%s: %s groups %s\n' % (want['name'], want['address'], ','.join(want['groups']) or '-')
            result['diff'] = {'before': '' if outcome['ca_created'] else 'certificate not current\n',
                              'after': ('CA %s created\n' % want['network'] if outcome['ca_created'] else '') + summary}
        return result
