# -*- coding: utf-8 -*-
# Copyright: meshforge.vpn contributors
# GNU General Public License v3.0+ (see https://www.gnu.org/licenses/gpl-3.0.txt)
"""A daemon run by a systemd unit where systemd runs, or supervised by the module where it does not (containers,
network-namespace hosts): started in a session of its own with its pid in a pid file and its output in a log file,
started again when it died.  Shared by ipsec_charon (charon) and nebula_config (nebula).

A pid counts as the daemon's only if it is alive (not a zombie), runs one of the daemon's binaries and lives in
this network namespace, so a recycled pid or the same daemon of another namespace host (the pid space is shared)
is never taken for ours, nor signalled.
"""

from __future__ import absolute_import, division, print_function

__metaclass__ = type

import errno
import os
import signal
import subprocess
import time

from ansible_collections.meshforge.vpn.plugins.module_utils import files

STOP_TIMEOUT = 10.0


def systemd_booted():
    """sd_booted(): systemd runs as init when /run/systemd/system exists."""
    return os.path.isdir('/run/systemd/system')


def netns(pid):
    """The network namespace of ``pid`` (``'self'`` for this process), or None when it cannot be read."""
    try:
        return os.readlink('/proc/%s/ns/net' % pid)
    except OSError:
        return None


def is_ours(pid, names, marker=None):
    """``pid`` is a live process of one of the binaries ``names`` in this network namespace, with ``marker`` among
    its arguments when given (one instance of a daemon that runs several, told apart by their configuration)."""
    if not pid:
        return False
    try:
        with open('/proc/%d/stat' % pid) as handle:
            stat = handle.read()
        exe = os.path.basename(os.readlink('/proc/%d/exe' % pid))
        with open('/proc/%d/cmdline' % pid, 'rb') as handle:
            argv = handle.read().decode('utf-8', 'replace').split('\0')
    except (IOError, OSError):
        return False
    # a zombie is dead; the state is the field after the parenthesised command name
    if stat.rsplit(')', 1)[-1].split()[0] == 'Z':
        return False
    return exe in names and netns(pid) == netns('self') and (marker is None or marker in argv)


def read_pid(path):
    """The pid in the pid file ``path``; None when it is missing or holds no number."""
    text = files.read_text(path)
    try:
        return int(text.strip()) if text else None
    except ValueError:
        return None


def signal_pid(pid, signum):
    """Send ``signum`` to ``pid``; a process that is already gone is not an error."""
    try:
        os.kill(pid, signum)
    except OSError as exc:
        if exc.errno != errno.ESRCH:
            raise


def stop(pid, names, marker=None, timeout=STOP_TIMEOUT):
    """SIGTERM, and SIGKILL when it is still ours after ``timeout`` seconds."""
    signal_pid(pid, signal.SIGTERM)
    deadline = time.time() + timeout
    while time.time() < deadline and is_ours(pid, names, marker):
        time.sleep(0.1)
    if is_ours(pid, names, marker):
        signal_pid(pid, signal.SIGKILL)


def spawn(argv, run_dir, pid_file, log_file):
    """Start ``argv`` detached (a session of its own keeps it out of the SSH session's process group, so it gets no
    SIGHUP when the session ends; Popen, not run_command: it must outlive the module; in /, not in the module's
    temporary directory that Ansible removes), its output appended to
    ``log_file`` and its pid written to ``pid_file``; returns the Popen object."""
    if not os.path.isdir(run_dir):
        os.makedirs(run_dir, 0o700)
    with open(os.devnull, 'rb') as devnull, open(log_file, 'ab') as log:
        proc = subprocess.Popen(argv, stdin=devnull, stdout=log, stderr=log, close_fds=True, start_new_session=True,
                                cwd='/')
    files.write_atomic(pid_file, '%d\n' % proc.pid, mode=0o644, dir_mode=0o700)
    return proc


def unit_state(host, unit):
    """``(active, enabled)`` of the systemd ``unit`` (with its suffix)."""
    systemctl = host.tool('systemctl', package='systemd')
    active = host.probe([systemctl, 'is-active', '--quiet', unit])[0] == 0
    enabled = host.probe([systemctl, 'is-enabled', '--quiet', unit])[0] == 0
    return active, enabled


def daemon_reload(host):
    """systemd reads its unit files and drop-ins again (after they were written or removed)."""
    host.run([host.tool('systemctl', package='systemd'), 'daemon-reload'])


def unit_commands(host, unit, enable=False, start=False, restart=False, reload=False, stop=False, disable=False):
    """Run the systemctl verbs asked for on ``unit``, in the order that makes sense (enable before start)."""
    systemctl = host.tool('systemctl', package='systemd')
    for verb, asked in (('stop', stop), ('disable', disable), ('enable', enable), ('start', start),
                        ('restart', restart), ('reload', reload)):
        if asked:
            host.run([systemctl, verb, unit])
