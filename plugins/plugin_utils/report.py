# -*- coding: utf-8 -*-
# Copyright: meshforge.vpn contributors
# GNU General Public License v3.0+ (see https://www.gnu.org/licenses/gpl-3.0.txt)
"""Readable tables of live VPN state, for status playbooks."""

from __future__ import absolute_import, division, print_function

__metaclass__ = type


def _age(seconds):
    if seconds is None:
        return 'never'
    if seconds < 60:
        return '%ds ago' % seconds
    if seconds < 3600:
        return '%dm%02ds ago' % (seconds // 60, seconds % 60)
    return '%dh%02dm ago' % (seconds // 3600, seconds % 3600 // 60)


def _bytes(count):
    for unit in ('B', 'KiB', 'MiB', 'GiB'):
        if count < 1024 or unit == 'GiB':
            return ('%d %s' % (count, unit)) if unit == 'B' else ('%.1f %s' % (count, unit))
        count /= 1024.0
    return str(count)


def wireguard_table(info_by_host):
    """One line per peer of every interface of every host, as ``wireguard_info`` returned them."""
    header = ('HOST', 'IFACE', 'PEER', 'ENDPOINT', 'ALLOWED IPS', 'HANDSHAKE', 'RX', 'TX', 'STATUS')
    rows = []
    for host in sorted(info_by_host):
        interfaces = info_by_host[host] or {}
        if not interfaces:
            rows.append((host, '-', '-', '-', '-', '-', '-', '-', 'no interface'))
        for name in sorted(interfaces):
            interface = interfaces[name]
            for peer in interface.get('peers') or []:
                rows.append((host, name, peer.get('description') or peer['public_key'][:10] + '...',
                             peer.get('endpoint') or '-', ','.join(peer.get('allowed_ips') or []) or '-',
                             _age(peer.get('latest_handshake_age')), _bytes(peer.get('transfer_rx') or 0),
                             _bytes(peer.get('transfer_tx') or 0), 'connected' if peer.get('connected') else 'DOWN'))
    widths = [max(len(str(r[i])) for r in [header] + rows) for i in range(len(header))]
    lines = ['  '.join(str(cell).ljust(widths[i]) for i, cell in enumerate(row)).rstrip() for row in [header] + rows]
    total = sum(1 for r in rows if r[-1] in ('connected', 'DOWN'))
    up = sum(1 for r in rows if r[-1] == 'connected')
    lines.append('%d of %d peers connected' % (up, total))
    return lines
