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


def ipsec_table(info_by_host):
    """One line per CHILD SA of every IKE SA of every host (as ``ipsec_info`` returned them), and one per loaded
    connection without an established IKE SA, in the shape of ``swanctl --list-sas``."""
    header = ('HOST', 'CONNECTION', 'IKE SA', 'PEER', 'IKE ALGORITHMS', 'CHILD', 'TRAFFIC SELECTORS',
              'ESP ALGORITHMS', 'IN', 'OUT', 'STATUS')
    rows = []
    up = total = 0
    for host in sorted(info_by_host):
        info = info_by_host[host] or {}
        connections = info.get('connections') or {}
        sas = info.get('sas') or []
        for name in sorted(connections):
            total += 1
            mine = [s for s in sas if s.get('name') == name]
            if connections[name].get('established'):
                up += 1
            if not mine:
                rows.append((host, name, '-', '-', '-', '-', '-', '-', '-', '-', 'DOWN'))
            for sa in mine:
                ike = '#%s %s' % (sa.get('uniqueid'), sa.get('state'))
                peer = '%s[%s]' % (sa.get('remote_host') or '-', sa.get('remote_id') or '-')
                children = sa.get('child_sas') or []
                if not children:
                    rows.append((host, name, ike, peer, sa.get('algorithms') or '-', '-', '-', '-', '-', '-',
                                 'no child SA'))
                for child in children:
                    ts = '%s === %s' % (','.join(child.get('local_ts') or []), ','.join(child.get('remote_ts') or []))
                    rows.append((host, name, ike, peer, sa.get('algorithms') or '-',
                                 '%s #%s' % (child.get('name'), child.get('uniqueid')), ts,
                                 child.get('algorithms') or '-',
                                 '%s/%dp' % (_bytes(child.get('bytes_in') or 0), child.get('packets_in') or 0),
                                 '%s/%dp' % (_bytes(child.get('bytes_out') or 0), child.get('packets_out') or 0),
                                 'up' if sa.get('state') == 'ESTABLISHED' and child.get('state') == 'INSTALLED'
                                 else child.get('state') or '?'))
        if not connections:
            rows.append((host, '-', '-', '-', '-', '-', '-', '-', '-', '-', 'no connection'))
    widths = [max(len(str(r[i])) for r in [header] + rows) for i in range(len(header))]
    lines = ['  '.join(str(cell).ljust(widths[i]) for i, cell in enumerate(row)).rstrip() for row in [header] + rows]
    lines.append('%d of %d connections established' % (up, total))
    return lines


def ipam_table(query):
    """The address ledger's pools, as the ipam action's ``state: query`` returned them: a usage line per pool,
    then one line per allocation in address order."""
    lines = []
    tables = query.get('tables') or {}
    for name in sorted(tables):
        pool = (query.get('pools') or {}).get(name) or {}
        lines.append('pool %s %s (network %s): %s allocated, %s free, %s reserved' % (
            name, pool.get('cidr', '?'), pool.get('network', '?'), pool.get('allocated', len(tables[name])),
            pool.get('free', '?'), pool.get('reserved', '?')))
        width = max([len(row['address']) for row in tables[name]] + [7])
        lines.extend('  %s  %s' % (row['address'].ljust(width), row['host']) for row in tables[name])
    return lines
