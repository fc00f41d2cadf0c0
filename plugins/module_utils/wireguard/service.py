# -*- coding: utf-8 -*-
# Copyright: meshforge.vpn contributors
# GNU General Public License v3.0+ (see https://www.gnu.org/licenses/gpl-3.0.txt)
"""The ``wg-quick@<name>`` unit that brings an interface back after a reboot where systemd runs, and the drop-in
that selects wireguard-go on a kernel without WireGuard."""

from __future__ import absolute_import, division, print_function

__metaclass__ = type

import os

from ansible_collections.meshforge.vpn.plugins.module_utils import files

USERSPACE_DROPIN = ('# Managed by meshforge.vpn: this kernel has no WireGuard.\n'
                    '[Service]\nEnvironment=WG_QUICK_USERSPACE_IMPLEMENTATION=wireguard-go\n')


def systemd_running():
    return os.path.isdir('/run/systemd/system')


def unit(name):
    return 'wg-quick@%s' % name


def dropin_path(name):
    return '/etc/systemd/system/wg-quick@%s.service.d/meshforge-userspace.conf' % name


def unit_enabled(host, name):
    """Whether the unit is enabled (a host without systemctl counts as enabled: there is nothing to enable)."""
    systemctl = host.tool('systemctl', required=False)
    if not systemctl:
        return True
    dummy, out, dummy = host.probe([systemctl, 'is-enabled', unit(name)])
    return out.strip() == 'enabled'


def read(host, name):
    """What the unit has now, or None where systemd does not run."""
    if not systemd_running():
        return None
    return {'enabled': unit_enabled(host, name),
            'dropin_current': not files.file_needs_change(dropin_path(name), USERSPACE_DROPIN, 0o644),
            'kernel': host.kernel_module_present()}


def steps(unit_state, implementation):
    """What the unit needs (``implementation``: the live one, else the one asked for); nothing without systemd."""
    if unit_state is None:
        return {'dropin': False, 'enable': False}
    userspace = implementation == 'userspace' or (implementation == 'auto' and not unit_state['kernel'])
    return {'dropin': userspace and not unit_state['dropin_current'], 'enable': not unit_state['enabled']}


def apply(host, name, dropin, enable, start=False):
    """Write the drop-in and enable the unit; ``start`` brings the interface up from its file through the unit."""
    systemctl = host.tool('systemctl', required=False)
    if not systemctl:
        return
    if dropin:
        files.ensure_file(dropin_path(name), USERSPACE_DROPIN, 0o644, dir_mode=0o755)
        host.run([systemctl, 'daemon-reload'])
    if enable or start:
        host.run([systemctl, 'enable'] + (['--now'] if start else []) + [unit(name)])


def disable(host, name):
    """Stop and disable the unit (``state: absent``)."""
    systemctl = host.tool('systemctl', required=False)
    if systemctl:
        # --now stops the unit too (wg-quick down), so systemd does not keep a unit for a missing interface
        host.run([systemctl, 'disable', '--now', unit(name)])


def remove_dropin(host, name):
    files.remove(dropin_path(name))
    systemctl = host.tool('systemctl', required=False)
    if systemctl:
        host.run([systemctl, 'daemon-reload'])
