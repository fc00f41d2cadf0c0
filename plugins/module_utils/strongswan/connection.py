# -*- coding: utf-8 -*-
# Copyright: meshforge.vpn contributors
# GNU General Public License v3.0+ (see https://www.gnu.org/licenses/gpl-3.0.txt)
"""ipsec_connection on the engine: one connection and its secret made to match, loaded live and persisted."""

from __future__ import absolute_import, division, print_function

__metaclass__ = type

import hashlib

from ansible_collections.meshforge.vpn.plugins.module_utils import engine
from ansible_collections.meshforge.vpn.plugins.module_utils import files
from ansible_collections.meshforge.vpn.plugins.module_utils import validation as v
from ansible_collections.meshforge.vpn.plugins.module_utils.strongswan import client
from ansible_collections.meshforge.vpn.plugins.module_utils.strongswan import compare
from ansible_collections.meshforge.vpn.plugins.module_utils.strongswan import messages
from ansible_collections.meshforge.vpn.plugins.module_utils.strongswan import render
from ansible_collections.meshforge.vpn.plugins.module_utils.strongswan import schema
from ansible_collections.meshforge.vpn.plugins.module_utils.strongswan.removal import Removal


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


def _secret_line(text, changed=False):
    if text is None:
        return ''
    return '# pre-shared key: %s\n' % ('updated' if changed else 'set')


class Connection(engine.Resource):
    """One connection and its pre-shared key (``state: present``), loaded in charon and kept in conf.d.

    ``have`` is what charon holds (``live``: the list-conns entry, None when not loaded; ``shared``: whether it holds
    the connection's PSK), the files as they are (``config``, ``secrets``) and the certificates and key the options
    name (``credentials``, ``digests``): those are read once charon answers, and a renewed certificate changes the
    rendered file.  The steps are charon's (load-conn, load-shared, unload-shared); the files are the engine's, and
    they are written after charon took the connection, so one it refuses leaves no file the next boot would load.
    """

    kind = 'ipsec_connection'

    def want(self):
        client.socket_path(self.module.params)     # first: a socket path through a planted link is refused
        want = schema.normalize_connection(self.module.params)
        if want.get('psk'):
            self.module.no_log_values.add(want['psk'])
        return want

    def have(self, want):
        charon = self.host.connect(want['vici_socket'])
        credentials, digests = read_credentials(self.module, want)
        name = want['name']
        config, secrets = files.read_text(schema.config_path(name)), files.read_text(schema.secrets_path(name))
        return {'live': charon.connection(name), 'shared': schema.shared_id(name) in charon.shared_ids(),
                'config': config, 'secrets': secrets, 'credentials': credentials, 'digests': digests}

    def rendered(self, want, have):
        """The configuration file and the secrets file (None without a PSK) as they should be."""
        return render.render_config(want, have['digests']), render.render_secrets(want)

    def steps(self, want, have):
        config, secrets = self.rendered(want, have)
        return compare.plan_connection(want, have['live'], have['shared'], have['config'], config, have['secrets'],
                                       secrets)

    def files(self, want, have):
        config, secrets = self.rendered(want, have)
        return [engine.File(schema.config_path(want['name']), config, 0o600, 0o750),
                engine.File(schema.secrets_path(want['name']), secrets, 0o600, 0o750)]

    def result(self, want, have, steps, pending):
        changing = set(item.path for item in pending)
        config_changed, secrets_changed = [path in changing for path in (schema.config_path(want['name']),
                                                                         schema.secrets_path(want['name']))]
        name = want['name']
        return {
            'name': name,
            'loaded': steps['load_conn'],
            'reasons': steps['reasons'],
            'config_file': schema.config_path(name),
            'secrets_file': schema.secrets_path(name) if want.get('psk') else None,
            'config_changed': config_changed,
            'secrets_changed': secrets_changed,
        }

    def audit(self, want, have, steps):
        changes = []
        if steps['load_conn']:
            changes.append(('tunnel loaded', '%s, proposals %s (%s)' % (
                ', '.join(c['name'] for c in want.get('children') or []) or 'no child',
                ','.join(want.get('proposals') or []) or 'default', '; '.join(steps['reasons']))))
        psk_steps = (('pre-shared key loaded', 'load_shared'), ('pre-shared key unloaded', 'unload_shared'))
        return changes + [(change, '') for change, step in psk_steps if steps[step]]

    def diff(self, want, have, steps, pending):
        config, secrets = self.rendered(want, have)
        secrets_written = schema.secrets_path(want['name']) in [item.path for item in pending]
        path = schema.config_path(want['name'])
        return {'before': describe(have['config'], have['live'], compare.conn_differences(want, have['live']))
                + _secret_line(have['secrets']),
                'after': describe(config, {}, []) + _secret_line(secrets, secrets_written),
                'before_header': path, 'after_header': path}

    def apply(self, want, have, steps):
        charon = self.host.charon
        if steps['unload_shared']:
            charon.unload_shared(want['name'])
        if steps['load_shared']:
            charon.load_shared(messages.build_load_shared(want))
        if steps['load_conn']:
            if want['local_key']:
                charon.load_key(have['credentials'][want['local_key']])
            charon.load_conn(messages.build_load_conn(want, have['credentials']))


def manage_connection(module, charon=None):
    """The body of ipsec_connection (no secret in its result); ``charon`` is an open :class:`.client.Charon`
    session (opened on the ``vici_socket`` option when None)."""
    host = client.CharonHost(module, charon)
    if module.params.get('state') == 'absent':
        return engine.manage(Removal(module, host))
    return engine.manage(Connection(module, host))
