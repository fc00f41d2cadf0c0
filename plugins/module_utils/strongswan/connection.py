# -*- coding: utf-8 -*-
# Copyright: meshforge.vpn contributors
# GNU General Public License v3.0+ (see https://www.gnu.org/licenses/gpl-3.0.txt)
"""ipsec_connection's body: one connection and its secret made to match, loaded live and persisted."""

from __future__ import absolute_import, division, print_function

__metaclass__ = type

import hashlib

from ansible_collections.meshforge.vpn.plugins.module_utils import audit
from ansible_collections.meshforge.vpn.plugins.module_utils import files
from ansible_collections.meshforge.vpn.plugins.module_utils import validation as v
from ansible_collections.meshforge.vpn.plugins.module_utils.strongswan import client
from ansible_collections.meshforge.vpn.plugins.module_utils.strongswan import compare
from ansible_collections.meshforge.vpn.plugins.module_utils.strongswan import messages
from ansible_collections.meshforge.vpn.plugins.module_utils.strongswan import render
from ansible_collections.meshforge.vpn.plugins.module_utils.strongswan import schema


def read_credentials(module, desired):
    """PEM text of the certificate and key files by path, and sha256 of the certificates.

    A file that does not exist is None; in check mode it may be one an earlier task would create.
    """
    data, digests = {}, {}
    for path in desired['local_certs'] + desired['remote_cacerts']:
        text = files.read_text(path)
        data[path] = text
        digests[path] = hashlib.sha256(text.encode('utf-8')).hexdigest() if text is not None else 'missing'
    if desired['local_key']:
        text = files.read_text(desired['local_key'])
        if text is not None:
            module.no_log_values.add(text)
        data[desired['local_key']] = text
    missing = [p for p, text in data.items() if text is None]
    if missing and not module.check_mode:
        raise v.ValidationError('local_certs' if missing[0] in desired['local_certs'] else
                                'local_key' if missing[0] == desired['local_key'] else 'remote_cacerts',
                                '%s does not exist on the host' % missing[0])
    return data, digests


def describe(config, live, differences):
    """Diff text: the configuration file (which holds no secret) and what charon holds."""
    if live is None:
        state = '# charon: not loaded\n'
    elif differences:
        state = '# charon: loaded, differs in %s\n' % ', '.join(differences)
    else:
        state = '# charon: loaded\n'
    return state + (config or '')


def manage_connection(module, charon=None):
    """Make one swanctl connection match the module's parameters; returns the module result (no secret in it)."""
    desired = schema.normalize_connection(module.params)
    if desired.get('psk'):
        module.no_log_values.add(desired['psk'])
    name = desired['name']
    charon = charon or client.Charon(desired['vici_socket'])
    if desired['state'] == 'absent':
        return remove_connection(module, charon, name)

    credentials, digests = read_credentials(module, desired)
    config = render.render_config(desired, digests)
    secrets = render.render_secrets(desired)
    old_config = files.read_text(schema.config_path(name))
    old_secrets = files.read_text(schema.secrets_path(name))
    live = charon.connection(name)
    steps = compare.plan_connection(desired, live, charon.shared_ids(), old_config, config, old_secrets, secrets)
    # a file with the right content but another mode is rewritten, which sets its mode
    if files.file_mode(schema.config_path(name)) not in (None, 0o600):
        steps['write_config'] = True
    if secrets is not None and files.file_mode(schema.secrets_path(name)) not in (None, 0o600):
        steps['write_secrets'] = True
    changed = compare.steps_changed(steps)
    result = {
        'changed': changed,
        'name': name,
        'loaded': steps['load_conn'],
        'reasons': steps['reasons'],
        'config_file': schema.config_path(name),
        'secrets_file': schema.secrets_path(name) if secrets is not None else None,
        'config_changed': steps['write_config'],
        'secrets_changed': steps['write_secrets'] or steps['remove_secrets'],
    }
    result['audit'] = audit.records('ipsec_connection', name, _changes(desired, steps))
    if module._diff:
        result['diff'] = {
            'before': describe(old_config, live, compare.conn_differences(desired, live)) + _secret_line(old_secrets),
            'after': describe(config, {}, []) + _secret_line(secrets, steps['write_secrets']),
            'before_header': schema.config_path(name), 'after_header': schema.config_path(name)}
    if module.check_mode or not changed:
        return result
    # charon first: a connection it refuses leaves no file behind that the next boot would load
    if steps['unload_shared']:
        charon.unload_shared(name)
    if steps['load_shared']:
        charon.load_shared(messages.build_load_shared(desired))
    if steps['load_conn']:
        if desired['local_key']:
            charon.load_key(credentials[desired['local_key']])
        charon.load_conn(messages.build_load_conn(desired, credentials))
    if steps['write_config']:
        files.write_atomic(schema.config_path(name), config, 0o600, dir_mode=0o750)
    if steps['write_secrets']:
        files.write_atomic(schema.secrets_path(name), secrets, 0o600, dir_mode=0o750)
    if steps['remove_secrets']:
        files.remove(schema.secrets_path(name))
    audit.log(module, result['audit'])
    return result


def _changes(desired, steps):
    """What a present connection's steps change, as audit records name it (proposals and reasons, never the PSK)."""
    name = desired['name']
    changes = []
    if steps['load_conn']:
        changes.append(('tunnel loaded', '%s, proposals %s (%s)' % (
            ', '.join(c['name'] for c in desired.get('children') or []) or 'no child',
            ','.join(desired.get('proposals') or []) or 'default', '; '.join(steps['reasons']))))
    psk_steps = (('pre-shared key loaded', 'load_shared'), ('pre-shared key unloaded', 'unload_shared'))
    changes += [(change, '') for change, step in psk_steps if steps[step]]
    changes += [('file written', schema.config_path(name))] if steps['write_config'] else []
    changes += [('file written', schema.secrets_path(name))] if steps['write_secrets'] else []
    changes += [('file removed', schema.secrets_path(name))] if steps['remove_secrets'] else []
    return changes


def _secret_line(text, changed=False):
    if text is None:
        return ''
    return '# pre-shared key: %s\n' % ('updated' if changed else 'set')


def remove_connection(module, charon, name):
    """state=absent: unload the connection, close its SAs, drop its PSK and remove its files.

    ``charon`` None means no charon runs: there is nothing loaded to unload, only files to remove.
    """
    live = charon.connection(name) if charon else None
    sas = charon.sas(name) if charon else []
    has_shared = schema.shared_id(name) in charon.shared_ids() if charon else False
    present = [p for p in (schema.config_path(name), schema.secrets_path(name)) if files.file_mode(p) is not None]
    changed = bool(live is not None or sas or has_shared or present)
    result = {'changed': changed, 'name': name, 'loaded': False, 'reasons': [],
              'config_file': schema.config_path(name), 'secrets_file': schema.secrets_path(name),
              'config_changed': schema.config_path(name) in present, 'secrets_changed': schema.secrets_path(name) in present,
              'terminated': [s['uniqueid'] for s in sas]}
    result['audit'] = audit.records('ipsec_connection', name, (
        [('tunnel unloaded', '')] if live is not None else []) + (
        [('SAs closed', ', '.join(str(s['uniqueid']) for s in sas))] if sas else []) + (
        [('pre-shared key unloaded', '')] if has_shared else []) + [('file removed', p) for p in present])
    if module._diff:
        before = '# charon: %s, %d IKE SA(s)\n' % ('loaded' if live is not None else 'not loaded', len(sas))
        before += (files.read_text(schema.config_path(name)) or '')
        result['diff'] = {'before': before, 'after': '# charon: not loaded, 0 IKE SA(s)\n',
                          'before_header': schema.config_path(name), 'after_header': schema.config_path(name)}
    if module.check_mode or not changed:
        return result
    # unloaded first, so that no start or DPD action brings the SAs back once they are closed
    if live is not None:
        charon.unload_conn(name)
    if sas:
        charon.terminate(name)
    if has_shared:
        charon.unload_shared(name)
    for path in present:
        files.remove(path)
    audit.log(module, result['audit'])
    return result
