# -*- coding: utf-8 -*-
# Copyright: meshforge.vpn contributors
# GNU General Public License v3.0+ (see https://www.gnu.org/licenses/gpl-3.0.txt)
"""The nebula_cert action: a Nebula network's CA and host certificates on the controller, over
plugin_utils.nebula_pki.  No host is contacted and no private key is read from or sent to one.  A device outside
the inventory (name ``device:<name>``) also gets its bundle (plugin_utils.nebula_devices) in ``bundle_dir``."""

from __future__ import absolute_import, division, print_function

__metaclass__ = type

import os

from ansible_collections.meshforge.vpn.plugins.module_utils import files
from ansible_collections.meshforge.vpn.plugins.module_utils import validation as v
from ansible_collections.meshforge.vpn.plugins.module_utils.nebula.schema import nebula_name
from ansible_collections.meshforge.vpn.plugins.module_utils.validation import ValidationError
from ansible_collections.meshforge.vpn.plugins.plugin_utils import nebula_devices, nebula_pki
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
    bundle=dict(type='dict'),
    bundle_dir=dict(type='path'),
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
                    want['key'], want['name'] = nebula_pki.entry_name('name', args['name'])
            else:
                nebula_pki.entry_name('name', args['name'])
                want = nebula_pki.validate(args, dry_run=self._task.check_mode)
            beside = str(task_vars.get('inventory_dir') or task_vars.get('playbook_dir') or os.getcwd())
            directory = args['ca_dir'] or os.path.join(beside, 'nebula-ca', want['network'])
            v.plain_path('ca_dir', directory)
            device = args['state'] != 'revoked' and want['key'] != want['name']
            if device:
                want['bundle_dir'] = args['bundle_dir'] or os.path.join(beside, 'nebula-devices', want['network'],
                                                                        want['name'])
                v.plain_path('bundle_dir', want['bundle_dir'])
                if args['state'] == 'present':
                    want['bundle'] = bundle_options(args['bundle'], want)
            ca = nebula_pki.CA(directory)
            if args['state'] == 'revoked':
                record, added = ca.revoke(args['revoke'] or [], dry_run=self._task.check_mode, retire=args['retire'] or [])
                result.update(changed=bool(added), ca_dir=directory, revoked=record,
                              blocklist=[item['fingerprint'] for item in record], certificates=ca.members())
                if self._task.diff and added:
                    lines = ['revoked %s (%s)\n' % (item['fingerprint'], item['name'] or 'fingerprint') for item in added]
                    result['diff'] = {'before': '', 'after': ''.join(lines)}
                return result
            if args['state'] == 'absent':
                removed = ca.forget(want['key'], dry_run=self._task.check_mode)
                bundle = device and nebula_devices.remove(want['bundle_dir'], dry_run=self._task.check_mode)
                result.update(changed=removed or bundle, ca_dir=directory)
                if self._task.diff and (removed or bundle):
                    result['diff'] = {'before': '%s: certificate%s\n' % (want['name'], ', bundle' if bundle else ''),
                                      'after': ''}
                return result
            outcome = nebula_pki.ensure(ca, want, dry_run=self._task.check_mode)
            written = self.bundle(want, outcome) if device else []
        except ValidationError as exc:
            result.update(failed=True, msg='meshforge.vpn.nebula_cert: %s' % exc)
            return result
        result.update(outcome, changed=outcome['ca_created'] or outcome['signed'] or bool(written), ca_dir=directory)
        if device:
            result.update(bundle_dir=want['bundle_dir'], bundle_files=written)
            if self._task.diff and written:
                result['diff'] = self.bundle_diff(want, written)
                return result
        if self._task.diff and result['changed']:
            summary = '%s: %s groups %s\n' % (want['name'], want['address'], ','.join(want['groups']) or '-')
            result['diff'] = {'before': '' if outcome['ca_created'] else 'certificate not current\n',
                              'after': ('CA %s created\n' % want['network'] if outcome['ca_created'] else '') + summary}
        return result

    def bundle(self, want, outcome):
        """Render the device's bundle and write the files that differ (none in check mode): their names.  In check
        mode a certificate not yet signed predicts every file."""
        if outcome['certificate'] is None:
            return ['.'] + sorted(nebula_devices.FILES)
        want['files'] = nebula_devices.bundle(want['bundle']['device'], want['bundle']['options'],
                                              outcome['certificate'], outcome['ca_certificate'], want['network'])
        want['before'] = files.read_text(os.path.join(want['bundle_dir'], 'config.yml')) or ''
        return nebula_devices.write(want['bundle_dir'], want['files'], dry_run=self._task.check_mode)

    @staticmethod
    def bundle_diff(want, written):
        """The configuration before and after (it names the key file, holds no key), and which certificates change."""
        path = os.path.join(want['bundle_dir'], 'config.yml')
        config = 'config.yml' in written
        after = (want.get('files') or {}).get('config.yml', '') if config else ''
        after += ''.join('# %s: written\n' % name for name in written if name not in ('.', 'config.yml'))
        return {'before': want.get('before', '') if config else '', 'after': after,
                'before_header': path, 'after_header': path}


def bundle_options(raw, want):
    """The device's bundle options (nebula_config's names, and ``config_dir``: where the device keeps the files)."""
    if not isinstance(raw, dict):
        raise ValidationError('bundle', 'is required for a device (name device:<name>): its configuration options')
    options = dict(raw)
    directory = options.pop('config_dir', None) or nebula_devices.default_config_dir(want['network'])
    device = {'name': want['name'], 'config_dir': v.absolute_path('bundle.config_dir', directory)}
    return {'device': device, 'options': options}
