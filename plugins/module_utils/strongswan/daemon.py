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

import errno
import os
import signal
import socket
import subprocess
import time

from ansible_collections.meshforge.vpn.plugins.module_utils import engine
from ansible_collections.meshforge.vpn.plugins.module_utils import files
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
STOP_TIMEOUT = 10.0


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


def systemd_booted():
    """sd_booted(): systemd runs as init when /run/systemd/system exists."""
    return os.path.isdir('/run/systemd/system')


def _netns(pid):
    try:
        return os.readlink('/proc/%s/ns/net' % pid)
    except OSError:
        return None


def is_our_charon(pid):
    """``pid`` is a live charon in this network namespace."""
    if not pid:
        return False
    try:
        with open('/proc/%d/stat' % pid) as handle:
            stat = handle.read()
        exe = os.path.basename(os.readlink('/proc/%d/exe' % pid))
    except (IOError, OSError):
        return False
    # a zombie is dead; the state is the field after the parenthesised command name
    if stat.rsplit(')', 1)[-1].split()[0] == 'Z':
        return False
    return exe in CHARON_NAMES and _netns(pid) == _netns('self')


def read_pid(path):
    text = files.read_text(path)
    try:
        return int(text.strip()) if text else None
    except ValueError:
        return None


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


def stop_daemon(pid):
    try:
        os.kill(pid, signal.SIGTERM)
    except OSError as exc:
        if exc.errno != errno.ESRCH:
            raise
    deadline = time.time() + STOP_TIMEOUT
    while time.time() < deadline and is_our_charon(pid):
        time.sleep(0.1)
    if is_our_charon(pid):
        os.kill(pid, signal.SIGKILL)


def start_daemon(host, desired, binary):
    """Start charon-systemd detached, wait for its VICI socket, load the persisted configuration; returns its pid."""
    run_dir = desired['run_dir']
    if not os.path.isdir(run_dir):
        os.makedirs(run_dir, 0o700)
    sock = socket_path(desired['vici_socket'])
    if os.path.exists(sock):
        # a stale socket of a dead charon: charon would fail to bind it
        os.unlink(sock)
    log_path = os.path.join(run_dir, 'charon.log')
    with open(os.devnull, 'rb') as devnull, open(log_path, 'ab') as log:
        # Popen, not run_command: charon must outlive this module.  A session of its own keeps it out of the
        # SSH session's process group (no SIGHUP when the session ends).
        proc = subprocess.Popen([binary], stdin=devnull, stdout=log, stderr=log, close_fds=True,
                                start_new_session=True)
    files.write_atomic(os.path.join(run_dir, 'charon.pid'), '%d\n' % proc.pid, mode=0o644, dir_mode=0o700)
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
    pid = read_pid(pid_file)
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
        stop_daemon(pid)
    result['pid'] = start_daemon(host, desired, binary)
    return result


def manage_systemd(host, desired, restart):
    systemctl = host.tool('systemctl', package='systemd')
    unit = desired['service'] + '.service'
    active = host.probe([systemctl, 'is-active', '--quiet', unit])[0] == 0
    enabled = host.probe([systemctl, 'is-enabled', '--quiet', unit])[0] == 0
    result = {'manager': 'systemd', 'service': unit, 'started': not active, 'restarted': active and restart,
              'enabled': not enabled}
    if host.module.check_mode:
        return result
    commands = []
    if not enabled:
        commands.append([systemctl, 'enable', unit])
    if not active:
        commands.append([systemctl, 'start', unit])
    elif restart:
        commands.append([systemctl, 'restart', unit])
    for command in commands:
        host.run(command)
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
