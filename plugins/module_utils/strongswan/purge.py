# -*- coding: utf-8 -*-
# Copyright: meshforge.vpn contributors
# GNU General Public License v3.0+ (see https://www.gnu.org/licenses/gpl-3.0.txt)
"""ipsec_purge's and ipsec_info's bodies: the connections this collection manages, removed or reported."""

from __future__ import absolute_import, division, print_function

__metaclass__ = type

import os
from collections import OrderedDict

from ansible_collections.meshforge.vpn.plugins.module_utils import engine
from ansible_collections.meshforge.vpn.plugins.module_utils import validation as v
from ansible_collections.meshforge.vpn.plugins.module_utils.strongswan import client
from ansible_collections.meshforge.vpn.plugins.module_utils.strongswan import render
from ansible_collections.meshforge.vpn.plugins.module_utils.strongswan import sas
from ansible_collections.meshforge.vpn.plugins.module_utils.strongswan import schema
from ansible_collections.meshforge.vpn.plugins.module_utils.strongswan.removal import Removal


def _is_managed(path):
    with open(path, 'r') as handle:
        return handle.readline() == render.MANAGED_HEADER


def managed_connections():
    """Names of the connections whose files in conf.d carry this module's header, with those files.

    The header is the mark of ownership: a name counts only when every file it has (``<name>.conf``,
    ``<name>.secrets.conf``) carries it, so an administrator's swanctl.conf, a conf.d file written by hand or by
    another tool, and anything sharing a name with one, are never touched by a purge.
    """
    conf_d = os.path.join(schema.CONFIG_DIR, 'conf.d')
    try:
        entries = os.listdir(conf_d)
    except OSError:
        return OrderedDict()
    names = set(e[:-len('.secrets.conf')] if e.endswith('.secrets.conf') else e[:-len('.conf')]
                for e in entries if e.endswith('.conf'))
    found = OrderedDict()
    for name in sorted(n for n in names if v.SECTION_NAME_RE.match(n)):
        present = [p for p in (schema.config_path(name), schema.secrets_path(name)) if os.path.lexists(p)]
        if all(os.path.isfile(p) and not os.path.islink(p) and _is_managed(p) for p in present):
            found[name] = present
    return found


class Purged(Removal):
    """One connection ipsec_purge removes: charon was asked once, before the first, and may not run."""

    def __init__(self, module, host, name):
        super(Purged, self).__init__(module, host)
        self.name = name

    def want(self):
        return {'name': self.name, 'state': 'absent'}

    def charon(self, want):
        return self.host.charon


def purge_connections(module, host=None):
    """The body of ipsec_purge: every managed connection (see managed_connections) not named in ``keep`` removed
    through the engine, as ipsec_connection's state=absent removes one (same steps, results and audit records).

    charon is asked only when there is something to remove, so a host with nothing to purge needs no vici client.
    """
    path = client.socket_path(module.params)
    keep = [v.section_name('keep[%d]' % i, name) for i, name in enumerate(module.params.get('keep') or [])]
    managed = managed_connections()
    stale = [name for name in managed if name not in keep]
    result = {'changed': False, 'managed': list(managed), 'removed': [], 'terminated': {}, 'charon_running': None,
              'audit': []}
    if stale:
        host = host or client.CharonHost(module)
        result['charon_running'] = host.connect_if_running(path) is not None
        for name in stale:
            removed = engine.manage(Purged(module, host, name))
            result['removed'].append(name)
            result['audit'].extend(removed['audit'])
            if removed['terminated']:
                result['terminated'][name] = removed['terminated']
        result['changed'] = True
    if module._diff:
        result['diff'] = {'before': ''.join('%s\n' % n for n in managed),
                          'after': ''.join('%s\n' % n for n in managed if n not in stale),
                          'before_header': 'managed connections', 'after_header': 'managed connections'}
    return result


def gather_info(charon, name=None):
    """Live IKE and CHILD SAs (optionally of one connection) and the status of loaded connections."""
    found = charon.sas(name)
    names = charon.connection_names()
    if name:
        names = [n for n in names if n == name]
    return {'sas': found, 'connections': sas.connection_status(names, found)}


def report(module, host=None):
    """The body of ipsec_info: what the charon on ``vici_socket`` holds, of the connection ``name`` or of all."""
    name = v.section_name('name', module.params['name']) if module.params.get('name') else None
    path = client.socket_path(module.params)
    return dict(changed=False, **gather_info((host or client.CharonHost(module)).connect(path), name))
