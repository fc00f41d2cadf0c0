# -*- coding: utf-8 -*-
# Copyright: meshforge.vpn contributors
# GNU General Public License v3.0+ (see https://www.gnu.org/licenses/gpl-3.0.txt)
"""The wireguard_clients action: road-warrior clients' key pairs and wg-quick files on the controller."""

from __future__ import absolute_import, division, print_function

__metaclass__ = type

import base64
import io
import os

from ansible_collections.meshforge.vpn.plugins.module_utils import files
from ansible_collections.meshforge.vpn.plugins.module_utils.validation import ValidationError
from ansible_collections.meshforge.vpn.plugins.plugin_utils import clients as roaming
from ansible_collections.meshforge.vpn.plugins.plugin_utils.controller_action import ControllerAction
from ansible_collections.meshforge.vpn.plugins.plugin_utils.topology import preshared_key

try:
    from cryptography.hazmat.primitives import serialization
    from cryptography.hazmat.primitives.asymmetric.x25519 import X25519PrivateKey
    HAS_CRYPTOGRAPHY = True
except ImportError:
    HAS_CRYPTOGRAPHY = False

ARGUMENT_SPEC = dict(
    state=dict(type='str', default='present', choices=['keys', 'present']),
    clients=dict(type='list', elements='raw', default=[]),
    members=dict(type='list', elements='str', required=True),
    plans=dict(type='dict', default={}),
    interface=dict(type='str', default='wg0'),
    psk_secret=dict(type='str', no_log=True),
    keys_dir=dict(type='path', required=True),
    output_dir=dict(type='path', required=True),
    default_dns=dict(type='list', elements='str', default=[]),
)
SUFFIXES = ('.conf', '.png', '.txt')


def public_key(private_key):
    """The WireGuard public key of a base64 private key (X25519, as ``wg pubkey``)."""
    key = X25519PrivateKey.from_private_bytes(base64.b64decode(private_key))
    raw = key.public_key().public_bytes(serialization.Encoding.Raw, serialization.PublicFormat.Raw)
    return base64.b64encode(raw).decode('ascii')


def new_private_key():
    raw = X25519PrivateKey.generate().private_bytes(serialization.Encoding.Raw, serialization.PrivateFormat.Raw,
                                                    serialization.NoEncryption())
    return base64.b64encode(raw).decode('ascii')


def qr_codes(text):
    """``(png bytes, terminal text)`` of a QR code of ``text`` (segno)."""
    import segno  # pylint: disable=import-outside-toplevel  # only a run with clients needs it
    code = segno.make(text, error='m', micro=False)
    png, terminal = io.BytesIO(), io.StringIO()
    code.save(png, kind='png', scale=5, border=4)
    code.terminal(out=terminal, compact=True)
    return png.getvalue(), terminal.getvalue()


class ActionModule(ControllerAction):
    ARGUMENT_SPEC = ARGUMENT_SPEC

    def run(self, tmp=None, task_vars=None):
        result, args = self.start(tmp, task_vars or {})
        if not HAS_CRYPTOGRAPHY:
            result.update(failed=True, msg='meshforge.vpn.wireguard_clients: the Python library cryptography is not '
                                           'installed on the controller')
            return result
        try:
            clients = roaming.normalize(args['clients'], args['members'])
            if args['state'] == 'keys':
                self.keys(result, clients, args['keys_dir'])
            else:
                self.files(result, clients, args)
        except ValidationError as exc:
            result.update(failed=True, msg='meshforge.vpn.wireguard_clients: %s' % exc)
        except ImportError:
            result.update(failed=True, msg='meshforge.vpn.wireguard_clients: the Python library segno is not '
                                           'installed on the controller (QR codes)')
        return result

    def keys(self, result, clients, keys_dir):
        """The public key of every client whose key pair the controller holds; a missing pair is made once."""
        keys, generated = {}, []
        for client in clients:
            if client['state'] != 'present' or not client['generate_key']:
                continue
            path = os.path.join(keys_dir, client['name'] + '.key')
            private = (files.read_text(path) or '').strip()
            if not private:
                generated.append(client['name'])
                if self._task.check_mode:
                    continue
                private = new_private_key()
                files.write_atomic(path, private + '\n', 0o600, dir_mode=0o700)
            keys[client['name']] = public_key(private)
        result.update(changed=bool(generated), generated=generated, public_keys=keys)

    def files(self, result, clients, args):
        """Each client's wg-quick file with its QR codes, rewritten only when the file's text changes; the files and
        key of a client with ``state: absent`` removed."""
        written, removed = [], []
        default_dns = roaming.dns_entries('default_dns', args['default_dns'])
        for plan in args['plans'].values():
            for entry in plan.get('clients') or []:
                client, gateway = entry['client'], entry['gateway']
                client = dict(client, dns=client['dns'] or default_dns)
                private = None
                if client['generate_key']:
                    private = (files.read_text(os.path.join(args['keys_dir'], client['name'] + '.key')) or '').strip()
                psk = (preshared_key(args['psk_secret'], args['interface'], gateway['name'], roaming.peer_name(client))
                       if args['psk_secret'] else None)
                text = roaming.render_config(client, gateway, private or None, psk)
                base = os.path.join(args['output_dir'], entry.get('file') or client['name'])
                missing = [s for s in SUFFIXES if files.file_mode(base + s) != 0o600]
                if files.read_text(base + '.conf') == text and not missing:
                    continue
                written.append(entry.get('file') or client['name'])
                if not self._task.check_mode:
                    png, terminal = qr_codes(text)
                    for suffix, content in (('.png', png), ('.txt', terminal), ('.conf', text)):
                        files.write_atomic(base + suffix, content, 0o600, dir_mode=0o700)
        others = set(c['name'] for c in clients)
        for client in clients:
            # the files of a removed client, and those of fallback gateways a client no longer has (never the files
            # of another client: fallback names and client names are kept apart by roaming.normalize)
            keep = len(client['gateways']) if client['state'] == 'present' else 0
            names = [roaming.fallback_file(client['name'], i) for i in range(keep, roaming.MAX_GATEWAYS)]
            names = [n for n in names if n == client['name'] or n not in others]
            paths = [os.path.join(args['output_dir'], n + s) for n in names for s in SUFFIXES]
            if client['state'] == 'absent':
                paths.append(os.path.join(args['keys_dir'], client['name'] + '.key'))
            gone = [n for n in names if any(os.path.lexists(os.path.join(args['output_dir'], n + s)) for s in SUFFIXES)]
            if gone or (client['state'] == 'absent' and any(os.path.lexists(p) for p in paths)):
                removed += gone or [client['name']]
                if not self._task.check_mode:
                    for path in paths:
                        files.remove(path)
        result.update(changed=bool(written or removed), written=sorted(written), removed=sorted(removed),
                      output_dir=args['output_dir'])
        if self._task.diff and (written or removed):
            # the files hold keys: the diff names them, never their text
            result['diff'] = {'before': ''.join('%s\n' % n for n in sorted(removed)),
                              'after': ''.join('%s: %s.conf, .png, .txt (contents not shown: keys)\n'
                                               % (n, os.path.join(args['output_dir'], n)) for n in sorted(written)),
                              'before_header': 'clients removed', 'after_header': 'client files written'}
