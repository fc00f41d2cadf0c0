# -*- coding: utf-8 -*-
# Copyright: meshforge.vpn contributors
# GNU General Public License v3.0+ (see https://www.gnu.org/licenses/gpl-3.0.txt)
"""WireGuard key files: read as secrets (registered with ``no_log_values`` at once), and the private key file of
wireguard_key on the engine, which is generated on the host and never leaves it; only its public half is returned."""

from __future__ import absolute_import, division, print_function

__metaclass__ = type

import os

from ansible_collections.meshforge.vpn.plugins.module_utils import engine, files
from ansible_collections.meshforge.vpn.plugins.module_utils import validation as v
from ansible_collections.meshforge.vpn.plugins.module_utils.wireguard.describe import fingerprint
from ansible_collections.meshforge.vpn.plugins.module_utils.wireguard.host import WireGuardHost

NOT_A_KEY = 'is not a WireGuard key file (exactly one line of base64 of 32 bytes)'


def read_key_text(path, field):
    """The text of the key file at ``path``, or None when it does not exist; a directory or an unreadable file is
    refused naming ``field``."""
    try:
        return files.read_text(path)
    except (IOError, OSError) as exc:
        raise v.ValidationError(field, '%s cannot be read as a key file: %s' % (path, (exc.strerror or exc).lower()))


def read_private_key(module, path, field='private_key_file'):
    """The key in ``path`` (registered as a secret), or None when the file does not exist."""
    text = read_key_text(path, field)
    if text is None:
        return None
    key = text.strip()
    module.no_log_values.add(key)
    return v.wireguard_key(field, key)


def read_psks(module, desired):
    """Preshared key values by peer public key; values are registered as secrets at once."""
    values = {}
    for index, peer in enumerate(desired['peers']):
        value = peer['preshared_key']
        if peer['preshared_key_file']:
            field = 'peers[%d].preshared_key_file' % index
            text = files.read_text(peer['preshared_key_file'])
            if text is None:
                raise v.ValidationError(field, '%s does not exist on the host' % peer['preshared_key_file'])
            value = v.wireguard_key(field, text.strip())
        if value:
            module.no_log_values.add(value)
        values[peer['public_key']] = value
    return values


def check_key_file(module, path):
    """Refuse to remove ``path`` unless it holds exactly one WireGuard key: one line, base64 of 32 bytes.

    A wrong path (the interface's config, any other file) must not cost the host that file.
    """
    key = read_key_text(path, 'path')
    key = key[:-1] if key.endswith('\n') else key
    try:
        v.wireguard_key('path', key)
    except v.ValidationError:
        raise v.ValidationError('path', '%s %s; it is not removed' % (path, NOT_A_KEY))
    module.no_log_values.add(key)
    if key != key.strip():
        raise v.ValidationError('path', '%s %s; it is not removed' % (path, NOT_A_KEY))


class Key(engine.Resource):
    """The private key file of wireguard_key.  The file is the resource itself, so no other file persists it."""

    kind = 'wireguard_key'

    def __init__(self, module, host=None):
        super(Key, self).__init__(module, host or WireGuardHost(module))

    def want(self):
        params = self.module.params
        want = {'path': v.host_path('path', params['path']), 'state': params['state'], 'rotate': params['rotate']}
        if want['state'] == 'present':
            self.host.wg()      # missing_tools before anything else, so a role can install it and try again
        return want

    def have(self, want):
        key = read_private_key(self.module, want['path'], 'path') if want['state'] == 'present' else None
        return {'mode': files.file_mode(want['path']), 'key': key}

    def steps(self, want, have):
        if want['state'] == 'absent':
            return {'remove': have['mode'] is not None}
        create = have['key'] is None or want['rotate']
        return {'create': create, 'mode': not create and have['mode'] != 0o600}

    def check(self, want, have, steps):
        if steps.get('remove'):
            check_key_file(self.module, want['path'])

    def apply(self, want, have, steps):
        if steps.get('remove'):
            files.remove(want['path'])
        elif steps['create']:
            key = self.host.run([self.host.wg(), 'genkey']).strip()
            self.module.no_log_values.add(key)
            files.write_atomic(want['path'], key + '\n', 0o600)
            return {'public_key': self.host.public_key(key)}
        else:
            os.chmod(want['path'], 0o600)
        return None

    def result(self, want, have, steps, pending):
        present = want['state'] == 'present'
        return {'path': want['path'], 'rotated': bool(present and have['key'] is not None and want['rotate']),
                'public_key': self.host.public_key(have['key']) if present and not steps['create'] else None}

    def audit(self, want, have, steps):
        if steps.get('remove'):
            return [('key removed', '')]
        if steps['create'] and have['key'] is not None:
            return [('key rotated', 'the old public key was %s' % fingerprint(self.host.public_key(have['key'])))]
        if steps['create']:
            return [('key created', '')]
        return [('key mode set', '0600')] if steps['mode'] else []

    def diff(self, want, have, steps, pending):
        path, mode = want['path'], have['mode']
        if want['state'] == 'absent':
            return {'before': 'key %s: present\n' % path if mode is not None else '', 'after': ''}
        before = 'key %s: %s\n' % (path, 'absent' if have['key'] is None else 'present, mode %04o' % mode)
        return {'before': before, 'after': 'key %s: %s, mode 0600\n' % (path, 'new key' if steps['create'] else 'present')}


def manage_key(module):
    """The body of wireguard_key: ensure (or rotate, or remove) a private key file."""
    return engine.manage(Key(module))
