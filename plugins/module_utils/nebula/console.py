# -*- coding: utf-8 -*-
# Copyright: meshforge.vpn contributors
# GNU General Public License v3.0+ (see https://www.gnu.org/licenses/gpl-3.0.txt)
"""nebula's debug console on the loopback (the ``sshd`` section nebula_config writes), over ssh with the key
nebula_config made for it and nebula's host key pinned: what nebula_info reads and nebula_config closes tunnels
with.  No private key is read: ssh reads the one it is given."""

from __future__ import absolute_import, division, print_function

__metaclass__ = type

import json
import os
import shutil
import tempfile

from ansible_collections.meshforge.vpn.plugins.module_utils import files
from ansible_collections.meshforge.vpn.plugins.module_utils.common import ModuleError
from ansible_collections.meshforge.vpn.plugins.module_utils.nebula import schema


class Console(object):
    """ssh to nebula's console: one command, its JSON output."""

    def __init__(self, host, sshd, timeout, host_public=None):
        self.host, self.sshd, self.timeout, self.host_public = host, sshd, timeout, host_public
        self.ssh = host.tool('ssh', package='openssh-client')

    def run(self, known_hosts, *command):
        argv = [self.ssh, '-F', '/dev/null', '-o', 'BatchMode=yes', '-o', 'IdentitiesOnly=yes',
                '-o', 'StrictHostKeyChecking=yes', '-o', 'UserKnownHostsFile=' + known_hosts,
                '-o', 'ConnectTimeout=%d' % self.timeout, '-o', 'LogLevel=ERROR', '-i', self.sshd['client_key'],
                '-p', str(self.sshd['port']), '%s@%s' % (schema.SSHD_USER, schema.SSHD_LISTEN)] + list(command)
        rc, out, err = self.host.probe(argv)
        return rc, out, err


class Session(object):
    """``with Session(console) as run: rc, out, err = run('list-hostmap', '-json')``: nebula's host key pinned in a
    known_hosts file of one line, in a private temporary directory removed at the end."""

    def __init__(self, console):
        self.console, self.tmp = console, None

    def __enter__(self):
        self.tmp = tempfile.mkdtemp(prefix='.nebula-console-')
        known_hosts = os.path.join(self.tmp, 'known_hosts')
        files.write_atomic(known_hosts, '[%s]:%d %s\n' % (schema.SSHD_LISTEN, self.console.sshd['port'],
                                                          ' '.join(self.console.host_public.split()[:2])), 0o600)
        return lambda *command: self.console.run(known_hosts, *command)

    def __exit__(self, *exc):
        shutil.rmtree(self.tmp, ignore_errors=True)
        return False


def hostmap(run, command='list-hostmap'):
    """The raw entries of ``list-hostmap -json`` (or ``list-pending-hostmap``)."""
    rc, out, err = run(command, '-json')
    if rc != 0:
        raise ModuleError('%s failed on nebula\'s console: %s' % (command, (err or out).strip()))
    return json.loads(out or '[]')
