# -*- coding: utf-8 -*-
# Copyright: meshforge.vpn contributors
# GNU General Public License v3.0+ (see https://www.gnu.org/licenses/gpl-3.0.txt)
"""charon itself: its strongswan.conf drop-in, and its process (a systemd unit, or a daemon this module supervises).

Where systemd runs, charon is the distribution's unit (``strongswan.service``, which runs ``charon-systemd`` and
loads the persisted connections with ``swanctl --load-all``).  Where it does not (containers, network-namespace
hosts), this module starts ``charon-systemd`` itself in a session of its own, keeps its pid in a pid file (it
writes none) and does what the unit would: ``swanctl --load-all`` once the VICI socket answers.  A pid counts as
our charon only if it is alive, runs a charon binary and lives in this network namespace, so a recycled pid or a
charon of another namespace host (the pid space is shared) is never taken for ours, nor killed.
"""

from __future__ import absolute_import, division, print_function

__metaclass__ = type

import os
import socket
import time

from ansible_collections.meshforge.vpn.plugins.module_utils import engine
from ansible_collections.meshforge.vpn.plugins.module_utils import files
from ansible_collections.meshforge.vpn.plugins.module_utils import supervise
from ansible_collections.meshforge.vpn.plugins.module_utils import validation as v
from ansible_collections.meshforge.vpn.plugins.module_utils.common import ModuleError
from ansible_collections.meshforge.vpn.plugins.module_utils.strongswan import schema

MANAGED_HEADER = '# Managed by meshforge.vpn (ipsec_charon). Local changes are overwritten.\n'
DEFAULT_DROPIN = '/etc/strongswan.d/meshforge-vpn.conf'
DEFAULT_RUN_DIR = '/run/meshforge-vpn'
BINARIES = ('/usr/sbin/charon-systemd', '/usr/libexec/strongswan/charon-systemd', '/usr/lib/strongswan/charon-systemd')
PLUGIN_DIRS = ('/usr/lib/ipsec/plugins', '/usr/lib64/strongswan/plugins', '/usr/lib/strongswan/plugins',
               '/usr/lib/x86_64-linux-gnu/strongswan/plugins')
CHARON_NAMES = ('charon-systemd', 'charon')
# Plugins whose sockets have fixed paths; two charons sharing /run (namespace hosts) would fight over them.
OPTIONAL_PLUGINS = ('stroke', 'lookip', 'error-notify')
START_TIMEOUT = 15.0


def normalize(params):
    """The options of ipsec_charon, checked; raises ValidationError before anything is touched."""
    desired = {}
    desired['vici_socket'] = 'unix://' + schema.vici_socket('vici_socket', params.get('vici_socket') or schema.DEFAULT_SOCKET)
    desired['libipsec'] = bool(params.get('libipsec'))
    disabled = params.get('disable_plugins') or []
    for i, plugin in enumerate(disabled):
        if plugin not in OPTIONAL_PLUGINS:
            raise v.ValidationError('disable_plugins[%d]' % i, '%r is not one of %s' % (plugin, ', '.join(OPTIONAL_PLUGINS)))
    desired['disable_plugins'] = sorted(set(disabled))
    desired['dropin'] = v.absolute_path('dropin', params.get('dropin') or DEFAULT_DROPIN)
    desired['run_dir'] = v.absolute_path('run_dir', params.get('run_dir') or DEFAULT_RUN_DIR)
    desired['manager'] = params.get('manager') or 'auto'
    if desired['manager'] not in ('auto', 'systemd', 'daemon'):
        raise v.ValidationError('manager', '%r is not one of auto, systemd, daemon' % desired['manager'])
    desired['service'] = v.section_name('service', params.get('service') or 'strongswan')
    return desired


def render_dropin(desired):
    """The drop-in: only what differs from the distribution's strongswan.conf, one ``key = value`` per line.

    /etc/strongswan.conf includes strongswan.d/*.conf after strongswan.d/charon/*.conf, so these values win.
    """
    socket_uri = desired['vici_socket']
    out = [MANAGED_HEADER, 'charon {\n', '    plugins {\n']
    custom_socket = socket_path(socket_uri) != socket_path(schema.DEFAULT_SOCKET)
    if custom_socket:
        out += ['        vici {\n', '            socket = %s\n' % socket_uri, '        }\n']
    if desired['libipsec']:
        # userspace ESP for kernels without it; a higher priority than kernel-netlink's (1), so it handles the SAs
        out += ['        kernel-libipsec {\n', '            load = 2\n', '        }\n']
    for plugin in desired['disable_plugins']:
        out += ['        %s {\n' % plugin, '            load = no\n', '        }\n']
    out += ['    }\n', '}\n']
    if custom_socket:
        out += ['swanctl {\n', '    socket = %s\n' % socket_uri, '}\n']
    return ''.join(out)


def socket_path(uri):
    return uri[len('unix://'):]


def find_binary():
    for path in BINARIES:
        if os.access(path, os.X_OK):
            return path
    return None


def missing_parts(host, desired, binary):
    """What the host lacks to run charon as asked: the binary, the swanctl tool, kernel-libipsec."""
    missing = []
    if binary is None:
        missing.append('charon-systemd')
    if host.tool('swanctl', required=False) is None:
        missing.append('swanctl')
    if desired['libipsec'] and not any(os.path.exists(os.path.join(d, 'libstrongswan-kernel-libipsec.so'))
                                       for d in PLUGIN_DIRS):
        missing.append('kernel-libipsec')
    return missing


read_pid = supervise.read_pid
systemd_booted = supervise.systemd_booted


def is_our_charon(pid):
    """``pid`` is a live charon in this network namespace."""
    return supervise.is_ours(pid, CHARON_NAMES)


def socket_answers(uri):
    sock = socket.socket(socket.AF_UNIX, socket.SOCK_STREAM)
    sock.settimeout(2)
    try:
        sock.connect(socket_path(uri))
        return True
    except (IOError, OSError):
        return False
    finally:
        sock.close()


class DaemonError(ModuleError):
    """charon or swanctl did not start, load or answer."""


def start_daemon(host, desired, binary):
    """Start charon-systemd detached, wait for its VICI socket, load the persisted configuration; returns its pid."""
    run_dir = desired['run_dir']
    sock = socket_path(desired['vici_socket'])
    if os.path.exists(sock):
        # a stale socket of a dead charon: charon would fail to bind it
        os.unlink(sock)
    log_path = os.path.join(run_dir, 'charon.log')
    proc = supervise.spawn([binary], run_dir, os.path.join(run_dir, 'charon.pid'), log_path)
    deadline = time.time() + START_TIMEOUT
    while time.time() < deadline:
        if proc.poll() is not None:
            raise DaemonError('charon exited with %s at start; see %s' % (proc.returncode, log_path))
        if socket_answers(desired['vici_socket']):
            break
        time.sleep(0.1)
    else:
        raise DaemonError('charon (pid %d) did not open %s within %ds; see %s'
                          % (proc.pid, sock, START_TIMEOUT, log_path))
    host.run([host.tool('swanctl', package='strongswan-swanctl'), '--load-all', '--noprompt', '--uri',
              desired['vici_socket']])
    return proc.pid


def manage_daemon(host, desired, binary, restart):
    pid_file = os.path.join(desired['run_dir'], 'charon.pid')
    pid = supervise.read_pid(pid_file)
    alive = is_our_charon(pid)
    result = {'manager': 'daemon', 'pid_file': pid_file}
    if alive and not restart:
        result.update(pid=pid, started=False, restarted=False)
        return result
    result.update(started=not alive, restarted=alive)
    if host.module.check_mode:
        result['pid'] = pid if alive else None
        return result
    if alive:
        supervise.stop(pid, CHARON_NAMES)
    result['pid'] = start_daemon(host, desired, binary)
    return result


def manage_systemd(host, desired, restart):
    unit = desired['service'] + '.service'
    active, enabled = supervise.unit_state(host, unit)
    result = {'manager': 'systemd', 'service': unit, 'started': not active, 'restarted': active and restart,
              'enabled': not enabled}
    if not host.module.check_mode:
        supervise.unit_commands(host, unit, enable=not enabled, start=not active, restart=active and restart)
    return result


def manage(module, desired, host=None):
    """charon's drop-in written and charon (re)started as ``desired`` says; ``host`` runs swanctl and systemctl."""
    host = host or engine.Host(module)
    binary = find_binary()
    missing = missing_parts(host, desired, binary)
    if missing:
        return {'changed': False, 'missing': missing, 'failed': True,
                'msg': 'strongSwan is not (fully) installed: %s missing' % ', '.join(missing)}
    content = render_dropin(desired)
    old = files.read_text(desired['dropin'])
    config_changed = files.file_needs_change(desired['dropin'], content, 0o644)
    if config_changed and not module.check_mode:
        files.write_atomic(desired['dropin'], content, mode=0o644, dir_mode=0o755)
    manager = desired['manager']
    if manager == 'auto':
        manager = 'systemd' if systemd_booted() else 'daemon'
    if manager == 'systemd':
        result = manage_systemd(host, desired, config_changed)
    else:
        result = manage_daemon(host, desired, binary, config_changed)
    result.update(missing=[], dropin=desired['dropin'], config_changed=config_changed, binary=binary,
                  vici_socket=desired['vici_socket'])
    result['changed'] = bool(config_changed or result['started'] or result['restarted'] or result.get('enabled'))
    if module._diff:
        result['diff'] = {'before': old or '', 'after': content, 'before_header': desired['dropin'],
                          'after_header': desired['dropin']}
    return result


def manage_charon(module):
    """The body of ipsec_charon: every option checked before anything is touched."""
    desired = normalize(module.params)
    for option in ('dropin', 'run_dir'):
        v.host_path(option, desired[option])
    v.host_path('vici_socket', socket_path(desired['vici_socket']))
    return manage(module, desired)
