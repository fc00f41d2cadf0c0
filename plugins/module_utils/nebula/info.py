# -*- coding: utf-8 -*-
# Copyright: meshforge.vpn contributors
# GNU General Public License v3.0+ (see https://www.gnu.org/licenses/gpl-3.0.txt)
"""nebula_info: the live state of one Nebula network of this host, from nebula itself.

nebula's debug console (the ``sshd`` section nebula_config writes with ``sshd_port``) listens on the loopback; this
module logs in with the key nebula_config made for it, checks nebula's host key against the one made with it (a
known_hosts file of one line, in a private temporary directory) and runs ``print-cert -json``, ``list-hostmap
-json`` and ``list-pending-hostmap -json``.  It reads no private key: ssh reads the one it is given."""

from __future__ import absolute_import, division, print_function

__metaclass__ = type

import json
import os

from ansible_collections.meshforge.vpn.plugins.module_utils import engine, files
from ansible_collections.meshforge.vpn.plugins.module_utils import validation as v
from ansible_collections.meshforge.vpn.plugins.module_utils.nebula import config, console, schema
from ansible_collections.meshforge.vpn.plugins.module_utils.common import ModuleError


def address(value):
    """An underlay address of the hostmap (``{"ip", "port"}``) as ``ip:port``."""
    if isinstance(value, dict):
        return v.format_endpoint(str(value.get('ip')), int(value.get('port') or 0))
    return str(value)


def tunnel(entry):
    """One entry of ``list-hostmap -json`` as this module returns it; ``relayed`` when no direct remote is in use."""
    details = ((entry.get('cert') or {}).get('details') or {})
    relays = [address(item) for item in entry.get('currentRelaysToMe') or []]
    remote = address(entry['currentRemote']) if entry.get('currentRemote') else None
    return {'vpn_ip': entry.get('vpnIp'), 'name': details.get('name'),
            'fingerprint': (entry.get('cert') or {}).get('fingerprint'),
            'groups': sorted(details.get('groups') or []), 'remote': remote,
            'remote_addrs': sorted(address(item) for item in entry.get('remoteAddrs') or []), 'relayed': remote is None,
            'relays': sorted(relays)}


def reach(settings, tunnels, pending):
    """The lighthouses and relays the configuration names, each ``{'vpn_ip', 'connected', 'handshaking', 'remote',
    'relayed'}``: whether nebula has a tunnel to it now (``remote``, ``relayed`` as in RV(tunnels)), or one still
    handshaking.  A member that reaches no lighthouse learns no new peer."""
    found = dict((item['vpn_ip'], item) for item in tunnels)
    waiting = set(item['vpn_ip'] for item in pending)
    lists = (('lighthouses', (settings.get('lighthouse') or {}).get('hosts')),
             ('relays', (settings.get('relay') or {}).get('relays')))
    return dict((key, [{'vpn_ip': str(ip), 'connected': str(ip) in found,
                        'handshaking': str(ip) not in found and str(ip) in waiting,
                        'remote': (found.get(str(ip)) or {}).get('remote'),
                        'relayed': (found.get(str(ip)) or {}).get('relayed', False)} for ip in addresses or []])
                for key, addresses in lists)


def console_for(host, config_dir, network, settings, timeout):
    """The console of a nebula_config file's settings: ``(Console, host public key)``; ModuleError when it is off."""
    listen = (settings.get('sshd') or {}).get('listen') or ''
    if not (settings.get('sshd') or {}).get('enabled') or not listen.startswith(schema.SSHD_LISTEN + ':'):
        raise ModuleError('network: nebula_config did not turn on the console of %s (set sshd_port, as the '
                          'nebula_mesh role does with nebula_mesh_sshd_port)' % network)
    sshd = dict(schema.sshd_paths(config_dir, network), port=int(listen.rsplit(':', 1)[1]))
    host_public = files.read_text(sshd['host_key'] + '.pub')
    if not host_public:
        raise ModuleError('network: %s.pub is missing; run nebula_config again' % sshd['host_key'])
    return console.Console(host, sshd, timeout, host_public)


def read_info(module, host=None):
    """The body of nebula_info."""
    host = host or engine.Host(module)
    params = module.params
    network = schema.nebula_name('network', params['network'])
    config_dir = v.host_path('config_dir', params.get('config_dir') or schema.DEFAULT_CONFIG_DIR)
    timeout = v.integer('timeout', params.get('timeout') or 5, 1, 60)
    config.require_yaml()
    path = os.path.join(config_dir, network + '.yml')
    settings = config.parse(files.read_text(path))
    result = {'network': network, 'config': path, 'configured': settings is not None, 'running': False,
              'certificate': None, 'tunnels': [], 'pending': [], 'am_lighthouse': False, 'am_relay': False,
              'lighthouses': [], 'relays': [], 'msg': ''}
    if settings is None:
        result['msg'] = '%s does not exist (or is not a nebula_config file)' % path
        return result
    result.update(reach(settings, [], []), am_lighthouse=bool((settings.get('lighthouse') or {}).get('am_lighthouse')),
                  am_relay=bool((settings.get('relay') or {}).get('am_relay')))
    found = console_for(host, config_dir, network, settings, timeout)
    with console.Session(found) as run:
        rc, out, err = run('print-cert', '-json')
        if rc != 0:
            result['msg'] = 'nebula does not answer on %s:%d: %s' % (schema.SSHD_LISTEN, found.sshd['port'],
                                                                     (err or out).strip())
            return result
        cert = json.loads(out)
        details = cert.get('details') or {}
        result['running'] = True
        result['certificate'] = {'name': details.get('name'), 'ips': details.get('ips') or [],
                                 'groups': sorted(details.get('groups') or []), 'not_after': details.get('notAfter'),
                                 'fingerprint': cert.get('fingerprint')}
        for key, command in (('tunnels', 'list-hostmap'), ('pending', 'list-pending-hostmap')):
            result[key] = sorted((tunnel(entry) for entry in console.hostmap(run, command)), key=lambda item: str(item['vpn_ip']))
    result.update(reach(settings, result['tunnels'], result['pending']))
    return result
