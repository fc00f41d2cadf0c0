# -*- coding: utf-8 -*-
# Copyright: meshforge.vpn contributors
# GNU General Public License v3.0+ (see https://www.gnu.org/licenses/gpl-3.0.txt)
"""ipsec_connection with ``state: absent`` on the engine, and each connection ipsec_purge removes: the connection
unloaded, its SAs closed, its PSK dropped, its files removed."""

from __future__ import absolute_import, division, print_function

__metaclass__ = type

from ansible_collections.meshforge.vpn.plugins.module_utils import engine
from ansible_collections.meshforge.vpn.plugins.module_utils import files
from ansible_collections.meshforge.vpn.plugins.module_utils.strongswan import client
from ansible_collections.meshforge.vpn.plugins.module_utils.strongswan import schema


class Removal(engine.Resource):
    """No connection called ``name``: it needs only its name, the rest of the options is not checked.

    The connection is unloaded before its SAs are closed, so that no start or DPD action brings them back; the files
    go last.  Without a charon (:meth:`charon` None) nothing is loaded: only the files are removed.
    """

    kind = 'ipsec_connection'

    def want(self):
        params = self.module.params
        client.socket_path(params)     # first: a socket path through a planted link is refused
        return schema.normalize_connection(dict((key, params.get(key)) for key in ('name', 'state', 'vici_socket')))

    def charon(self, want):
        """The session with charon: ipsec_connection needs one that answers."""
        return self.host.connect(want['vici_socket'])

    def have(self, want):
        charon, name = self.charon(want), want['name']
        return {'live': charon.connection(name) if charon else None, 'sas': charon.sas(name) if charon else [],
                'shared': schema.shared_id(name) in charon.shared_ids() if charon else False,
                'config': files.read_text(schema.config_path(name))}

    def steps(self, want, have):
        return {'unload_conn': have['live'] is not None, 'terminate': [sa['uniqueid'] for sa in have['sas']],
                'unload_shared': have['shared']}

    def files(self, want, have):
        return [engine.File(schema.config_path(want['name']), None), engine.File(schema.secrets_path(want['name']), None)]

    def result(self, want, have, steps, pending):
        changing = set(item.path for item in pending)
        config_changed, secrets_changed = [path in changing for path in (schema.config_path(want['name']),
                                                                         schema.secrets_path(want['name']))]
        return {'name': want['name'], 'loaded': False, 'reasons': [], 'config_file': schema.config_path(want['name']),
                'secrets_file': schema.secrets_path(want['name']), 'config_changed': config_changed,
                'secrets_changed': secrets_changed, 'terminated': steps['terminate']}

    def audit(self, want, have, steps):
        return ([('tunnel unloaded', '')] if steps['unload_conn'] else []) + (
            [('SAs closed', ', '.join(str(i) for i in steps['terminate']))] if steps['terminate'] else []) + (
            [('pre-shared key unloaded', '')] if steps['unload_shared'] else [])

    def diff(self, want, have, steps, pending):
        path = schema.config_path(want['name'])
        loaded = 'loaded' if have['live'] is not None else 'not loaded'
        return {'before': '# charon: %s, %d IKE SA(s)\n%s' % (loaded, len(have['sas']), have['config'] or ''),
                'after': '# charon: not loaded, 0 IKE SA(s)\n', 'before_header': path, 'after_header': path}

    def apply(self, want, have, steps):
        charon = self.host.charon
        if steps['unload_conn']:
            charon.unload_conn(want['name'])
        if steps['terminate']:
            charon.terminate(want['name'])
        if steps['unload_shared']:
            charon.unload_shared(want['name'])
