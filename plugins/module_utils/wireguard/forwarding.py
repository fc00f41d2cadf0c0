# -*- coding: utf-8 -*-
# Copyright: meshforge.vpn contributors
# GNU General Public License v3.0+ (see https://www.gnu.org/licenses/gpl-3.0.txt)
"""wireguard_interface's ``forwarding`` option: IP forwarding on, live (``/proc/sys``) and for boot (a sysctl.d file),
in the interface's own call, so that a hub or a router pays no round trip of its own.

Forwarding is only ever turned on: a family not asked for is left as it is (another service may rely on it), and
removing the file's lines is the role's removal step.  The file keeps the format ``ansible.posix.sysctl`` wrote
(``key=value`` lines), so a host it configured sees no change; only the lines of the keys asked for are touched.
"""

from __future__ import absolute_import, division, print_function

__metaclass__ = type

import os

from ansible_collections.meshforge.vpn.plugins.module_utils import engine, files
from ansible_collections.meshforge.vpn.plugins.module_utils import validation as v
from ansible_collections.meshforge.vpn.plugins.module_utils.common import ModuleError

KEYS = (('ipv4', 'net.ipv4.ip_forward'), ('ipv6', 'net.ipv6.conf.all.forwarding'))
"""The family options and the sysctl key each turns on."""
SYSCTL_FILE = '/etc/sysctl.d/90-meshforge-vpn.conf'
PROC_DIR = '/proc/sys'
FILE_MODE = 0o644
"""A new sysctl file's mode (what ansible.posix.sysctl gave it); an existing file keeps its own."""


def options():
    """The suboptions of wireguard_interface's ``forwarding``."""
    return dict(
        ipv4=dict(type='bool', default=False),
        ipv6=dict(type='bool', default=False),
        sysctl_file=dict(type='path', default=SYSCTL_FILE),
    )


def normalize(raw):
    """The desired forwarding, ``{'keys': [...], 'sysctl_file': path}``, or None when no family is asked for;
    raises ValidationError naming ``forwarding.<option>``."""
    if not raw:
        return None
    path = v.host_path('forwarding.sysctl_file', raw.get('sysctl_file') or SYSCTL_FILE)
    keys = [key for family, key in KEYS if raw.get(family)]
    return {'keys': keys, 'sysctl_file': path} if keys else None


def proc_path(key):
    return os.path.join(PROC_DIR, *key.split('.'))


def read(want):
    """The live values of the keys asked for and the sysctl file's text (None when it does not exist)."""
    if not want:
        return None
    live = {}
    for family, key in KEYS:
        if key in want['keys']:
            value = files.read_text(proc_path(key))
            if value is None:
                raise v.ValidationError('forwarding.%s' % family, 'the host has no %s (%s does not exist)'
                                        % (key, proc_path(key)))
            live[key] = value.strip()
    return {'live': live, 'file': files.read_text(want['sysctl_file'])}


def _key_value(line):
    """A ``key=value`` line's key and value as sysctl reads them, (None, None) for a blank or comment line."""
    text = line.strip()
    if not text or text.startswith(('#', ';')) or '=' not in text:
        return None, None
    key, value = text.split('=', 1)
    return key.strip(), value.strip()


def render(text, keys):
    """``text`` with each of ``keys`` set to 1: a line that says another value becomes ``key=1``, a missing key is
    appended as ``key=1``; every other line stays as it is."""
    lines = (text or '').split('\n')
    if not lines[-1]:
        lines.pop()         # the file ends with a newline (or is empty)
    found = set()
    result = []
    for line in lines:
        key, value = _key_value(line)
        if key in keys:
            found.add(key)
            if value != '1':
                line = '%s=1' % key
        result.append(line)
    result += ['%s=1' % key for key in keys if key not in found]
    return text if result == lines else ''.join(line + '\n' for line in result)


def steps(want, have):
    """The keys whose live value is not 1."""
    if not want:
        return []
    return [key for key in want['keys'] if have['live'][key] != '1']


def file(want, have):
    """The sysctl file as a :class:`~..engine.File` (an existing file keeps its mode), or None."""
    if not want:
        return None
    mode = files.file_mode(want['sysctl_file']) if have['file'] is not None else None
    return engine.File(want['sysctl_file'], render(have['file'], want['keys']), mode or FILE_MODE, 0o755)


def diff(want, have, keys, pending):
    """The diff's before and after lines: the live values that change, and the file's text when it changes."""
    before = ''.join('sysctl %s = %s\n' % (key, have['live'][key]) for key in keys)
    after = ''.join('sysctl %s = 1\n' % key for key in keys)
    if pending:
        before += 'sysctl file %s:\n%s' % (want['sysctl_file'], have['file'] if have['file'] is not None else '(absent)\n')
        after += 'sysctl file %s:\n%s' % (want['sysctl_file'], pending.content)
    return before, after


def apply(keys):
    """Set ``keys`` to 1 in the running kernel."""
    for key in keys:
        try:
            with open(proc_path(key), 'w') as handle:
                handle.write('1\n')
        except (IOError, OSError) as exc:
            raise ModuleError('forwarding: could not set %s to 1 (%s)' % (key, exc))
