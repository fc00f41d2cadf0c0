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
import shutil
import tempfile

from ansible_collections.meshforge.vpn.plugins.module_utils import engine, files
from ansible_collections.meshforge.vpn.plugins.module_utils import validation as v
from ansible_collections.meshforge.vpn.plugins.module_utils.nebula import config, schema
from ansible_collections.meshforge.vpn.plugins.module_utils.common import ModuleError, require_library


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
            'groups': sorted(details.get('groups') or []), 'remote': remote,
            'remote_addrs': sorted(address(item) for item in entry.get('remoteAddrs') or []), 'relayed': remote is None,
            'relays': sorted(relays)}


class Console(object):
    """ssh to nebula's console: one command, its JSON output."""

    def __init__(self, host, sshd, timeout):
        self.host, self.sshd, self.timeout = host, sshd, timeout
        self.ssh = host.tool('ssh', package='openssh-client')

    def run(self, known_hosts, *command):
        argv = [self.ssh, '-F', '/dev/null', '-o', 'BatchMode=yes', '-o', 'IdentitiesOnly=yes',
                '-o', 'StrictHostKeyChecking=yes', '-o', 'UserKnownHostsFile=' + known_hosts,
                '-o', 'ConnectTimeout=%d' % self.timeout, '-o', 'LogLevel=ERROR', '-i', self.sshd['client_key'],
                '-p', str(self.sshd['port']), '%s@%s' % (schema.SSHD_USER, schema.SSHD_LISTEN)] + list(command)
        rc, out, err = self.host.probe(argv)
        return rc, out, err


def read_info(module, host=None):
    """The body of nebula_info."""
    host = host or engine.Host(module)
    params = module.params
    network = schema.nebula_name('network', params['network'])
    config_dir = v.host_path('config_dir', params.get('config_dir') or schema.DEFAULT_CONFIG_DIR)
    timeout = v.integer('timeout', params.get('timeout') or 5, 1, 60)
    require_library(config.HAS_YAML, 'PyYAML', config.YAML_IMPORT_ERROR)
    path = os.path.join(config_dir, network + '.yml')
    settings = config.parse(files.read_text(path))
    result = {'network': network, 'config': path, 'configured': settings is not None, 'running': False,
              'certificate': None, 'tunnels': [], 'pending': [], 'msg': ''}
    if settings is None:
        result['msg'] = '%s does not exist (or is not a nebula_config file)' % path
        return result
    listen = (settings.get('sshd') or {}).get('listen') or ''
    if not (settings.get('sshd') or {}).get('enabled') or not listen.startswith(schema.SSHD_LISTEN + ':'):
        raise ModuleError('network: nebula_config did not turn on the console of %s (set sshd_port, as the '
                          'nebula_mesh role does with nebula_mesh_sshd_port)' % network)
    sshd = dict(schema.sshd_paths(config_dir, network), port=int(listen.rsplit(':', 1)[1]))
    host_public = files.read_text(sshd['host_key'] + '.pub')
    if not host_public:
        raise ModuleError('network: %s.pub is missing; run nebula_config again' % sshd['host_key'])
    console = Console(host, sshd, timeout)
    tmp = tempfile.mkdtemp(prefix='.nebula-info-')
    try:
        known_hosts = os.path.join(tmp, 'known_hosts')
        files.write_atomic(known_hosts, '[%s]:%d %s\n' % (schema.SSHD_LISTEN, sshd['port'],
                                                          ' '.join(host_public.split()[:2])), 0o600)
        rc, out, err = console.run(known_hosts, 'print-cert', '-json')
        if rc != 0:
            result['msg'] = 'nebula does not answer on %s:%d: %s' % (schema.SSHD_LISTEN, sshd['port'], (err or out).strip())
            return result
        cert = json.loads(out)
        details = cert.get('details') or {}
        result['running'] = True
        result['certificate'] = {'name': details.get('name'), 'ips': details.get('ips') or [],
                                 'groups': sorted(details.get('groups') or []), 'not_after': details.get('notAfter'),
                                 'fingerprint': cert.get('fingerprint')}
        for key, command in (('tunnels', 'list-hostmap'), ('pending', 'list-pending-hostmap')):
            rc, out, err = console.run(known_hosts, command, '-json')
            if rc != 0:
                raise ModuleError('%s failed on nebula\'s console: %s' % (command, (err or out).strip()))
            result[key] = sorted((tunnel(entry) for entry in json.loads(out or '[]')),
                                 key=lambda item: str(item['vpn_ip']))
    finally:
        shutil.rmtree(tmp, ignore_errors=True)
    return result
