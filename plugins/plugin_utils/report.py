# -*- coding: utf-8 -*-
# Copyright: meshforge.vpn contributors
# GNU General Public License v3.0+ (see https://www.gnu.org/licenses/gpl-3.0.txt)
"""Readable tables of live VPN state, for status playbooks."""

from __future__ import absolute_import, division, print_function

__metaclass__ = type

from collections.abc import Mapping

from ansible_collections.meshforge.vpn.plugins.plugin_utils.clients import CLIENT_PREFIX


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


def _read(result):
    """(interfaces, problem) from one member's registered ``wireguard_info`` result, or from its ``interfaces``
    alone. No result at all means the read never ran on the member: it was unreachable."""
    if result is None:
        return None, 'UNREACHABLE'
    if isinstance(result, Mapping) and ('interfaces' in result or 'unreachable' in result or 'failed' in result):
        if result.get('unreachable'):
            return None, 'UNREACHABLE'
        if result.get('failed') or 'interfaces' not in result:
            return None, 'FAILED'
        result = result['interfaces']
    return dict(result or {}), None


def wireguard_status(results_by_host):
    """The live state of every member, as one document: ``hosts`` (member -> ``status``, ``reason``,
    ``interfaces`` -> ``public_key``, ``peers`` with ``member``, ``status`` and ``reason``) and a ``summary``.

    ``results_by_host`` maps every member to its registered ``wireguard_info`` result, its ``interfaces``, or None
    when it has none (unreachable). Both ends are cross-checked: a peer whose member was read and has no interface,
    or does not list this interface's public key among its peers, is DOWN whatever its handshake age says. Peers
    are matched to members by public key, or by their description (the member's name) when the member has no
    interface and so no key."""
    read = dict((host, _read(results_by_host[host])) for host in results_by_host)
    by_key = {}
    for host, (interfaces, problem) in read.items():
        for name, interface in (interfaces or {}).items():
            if interface.get('public_key'):
                by_key[interface['public_key']] = (host, name)
    hosts = {}
    up = total = clients_up = clients_total = 0
    for host in sorted(read):
        interfaces, problem = read[host]
        entry = {'status': problem or ('ok' if interfaces else 'no interface'), 'reason': None, 'interfaces': {}}
        if problem == 'FAILED':
            entry['reason'] = str(results_by_host[host].get('msg') or 'wireguard_info failed')
        elif problem:
            entry['reason'] = 'not reachable over SSH'
        elif not interfaces:
            entry['reason'] = 'no WireGuard interface'
        for name in sorted(interfaces or {}):
            interface = interfaces[name]
            peers = []
            for peer in interface.get('peers') or []:
                member, other = by_key.get(peer.get('public_key'), (None, None))
                if member is None and peer.get('description') in read:
                    member = peer['description']
                if member is None and str(peer.get('description') or '').startswith(CLIENT_PREFIX):
                    # a road-warrior client comes and goes with its device: shown, never a failure
                    status, reason = (('connected', None) if peer.get('connected') and interface.get('up') is not False
                                      else ('idle', 'no handshake within 180 s: the device is not connected'))
                    clients_total += 1
                    clients_up += status == 'connected'
                    peers.append(dict(peer, member=None, client=peer['description'][len(CLIENT_PREFIX):],
                                      status=status, reason=reason))
                    continue
                status, reason = ('connected', None) if peer.get('connected') else (
                    'DOWN', 'no handshake within 180 s')
                if interface.get('up') is False:
                    status, reason = 'DOWN', 'its interface %s is down' % name
                other_interfaces, other_problem = read.get(member, (None, None))
                if member is not None and not other_problem:
                    if other is None:
                        status, reason = 'DOWN', '%s has no WireGuard interface' % member
                    elif other_interfaces[other].get('up') is False:
                        status, reason = 'DOWN', '%s has its interface %s down' % (member, other)
                    elif interface.get('public_key') and interface['public_key'] not in [
                            p.get('public_key') for p in other_interfaces[other].get('peers') or []]:
                        status, reason = 'DOWN', '%s does not list %s as a peer' % (member, host)
                total += 1
                up += status == 'connected'
                peers.append(dict(peer, member=member, status=status, reason=reason))
            entry['interfaces'][name] = {'public_key': interface.get('public_key'), 'up': interface.get('up'),
                                         'peers': peers}
        hosts[host] = entry
    unreachable = sorted(h for h in hosts if hosts[h]['status'] == 'UNREACHABLE')
    failed = sorted(h for h in hosts if hosts[h]['status'] == 'FAILED')
    no_interface = sorted(h for h in hosts if hosts[h]['status'] == 'no interface')
    text = '%d of %d peers connected' % (up, total)
    if clients_total:
        text += ', %d of %d clients' % (clients_up, clients_total)
    for members, what in ((unreachable, '%s unreachable'), (failed, '%s could not be read'),
                          (no_interface, 'no WireGuard interface on %s')):
        if members:
            text += '; ' + what % ', '.join(members)
    return {'hosts': hosts, 'summary': {
        'peers_total': total, 'peers_connected': up, 'clients_total': clients_total, 'clients_connected': clients_up,
        'unreachable': unreachable, 'failed': failed,
        'no_interface': no_interface, 'healthy': up == total and not (unreachable or failed or no_interface),
        'text': text}}


def wireguard_table(results_by_host):
    """One line per peer of every interface of every member, one line for a member without a row of its own
    (UNREACHABLE, FAILED, no interface), and the summary of :func:`wireguard_status`."""
    status = wireguard_status(results_by_host)
    return _lines(*wireguard_rows(status)) + [status['summary']['text']]


def wireguard_rows(status):
    """``(header, rows)`` of :func:`wireguard_status`'s document: one row per peer, one per member without peers to
    show (UNREACHABLE, FAILED, no interface)."""
    header = ('HOST', 'IFACE', 'PEER', 'ENDPOINT', 'ALLOWED IPS', 'HANDSHAKE', 'RX', 'TX', 'STATUS', 'REASON')
    rows = []
    for host in sorted(status['hosts']):
        entry = status['hosts'][host]
        if entry['status'] != 'ok':
            rows.append((host, '-', '-', '-', '-', '-', '-', '-', entry['status'], entry['reason'] or ''))
        for name in sorted(entry['interfaces']):
            for peer in entry['interfaces'][name]['peers']:
                rows.append((host, name, peer.get('description') or peer['public_key'][:10] + '...',
                             peer.get('endpoint') or '-', ','.join(peer.get('allowed_ips') or []) or '-',
                             _age(peer.get('latest_handshake_age')), _bytes(peer.get('transfer_rx') or 0),
                             _bytes(peer.get('transfer_tx') or 0), peer['status'], peer['reason'] or ''))
    return header, rows


def ipsec_status(info_by_host, expected=None):
    """The live IPsec state of every host as one document: ``hosts`` (host -> ``status``, ``reason``,
    ``connections`` -> ``status`` (``established``, ``DOWN``, or ``other`` for one not in ``expected``), ``reason``
    and its IKE SAs with their negotiated algorithms, rekey times and CHILD SAs with byte and packet counters) and a
    ``summary``.

    ``info_by_host`` maps every host to its registered ``ipsec_info`` result, or None when it has none (unreachable).
    ``expected`` names the connections the inventory describes (its tunnels); others charon holds (an operator's own)
    are listed but neither counted nor failed on. A connection is established when charon says so and one of its
    CHILD SAs is installed."""
    hosts = {}
    up = total = 0
    for host in sorted(info_by_host):
        info, problem = _read_ipsec(info_by_host[host])
        entry = {'status': problem or 'ok', 'reason': None, 'connections': {}}
        if problem:
            entry['reason'] = ('not reachable over SSH' if problem == 'UNREACHABLE'
                               else str(info_by_host[host].get('msg') or 'ipsec_info failed'))
        for name, conn in sorted(((info or {}).get('connections') or {}).items()):
            sas = [sa for sa in (info.get('sas') or []) if sa.get('name') == name]
            installed = [c for sa in sas for c in sa.get('child_sas') or [] if c.get('state') == 'INSTALLED']
            status, reason = 'established', None
            if expected is not None and name not in expected:
                entry['connections'][name] = {'status': 'other', 'reason': 'not a tunnel of ipsec_site_tunnels',
                                              'sas': [_ike_sa(sa) for sa in sas]}
                continue
            if not conn.get('established') or not sas:
                status, reason = 'DOWN', 'no established IKE SA'
            elif not installed:
                status, reason = 'DOWN', 'no installed CHILD SA'
            total += 1
            up += status == 'established'
            entry['connections'][name] = {'status': status, 'reason': reason, 'sas': [_ike_sa(sa) for sa in sas]}
        hosts[host] = entry
    unreachable = sorted(h for h in hosts if hosts[h]['status'] == 'UNREACHABLE')
    failed = sorted(h for h in hosts if hosts[h]['status'] == 'FAILED')
    text = '%d of %d connections established' % (up, total)
    for members, what in ((unreachable, '%s unreachable'), (failed, '%s could not be read')):
        if members:
            text += '; ' + what % ', '.join(members)
    return {'hosts': hosts, 'summary': {
        'connections_total': total, 'connections_established': up, 'unreachable': unreachable, 'failed': failed,
        'healthy': up == total and not (unreachable or failed), 'text': text}}


# The parts of one report of the whole VPN, in the order they are shown: (key in the document, title).
PARTS = (('wireguard', 'WireGuard'), ('ipsec', 'IPsec'), ('dns', 'DNS'))


def dns_status(views_by_host):
    """Each member's view of the mesh's names (issue 14): ``views_by_host`` is ``{host: view}``, a view the
    ``mesh_dns_view`` filter's list (``name``, ``expected``, ``got``, ``ok``) or None for a host that did not
    answer.  ``hosts`` -> ``{status, right, names, wrong: [{name, expected, got}]}`` and a ``summary``."""
    hosts, unreachable, wrong_hosts = {}, [], []
    for host in sorted(views_by_host):
        view = views_by_host[host]
        if view is None:
            unreachable.append(host)
            hosts[host] = {'status': 'unreachable', 'right': 0, 'names': 0, 'wrong': []}
            continue
        wrong = [dict((k, entry[k]) for k in ('name', 'expected', 'got')) for entry in view if not entry['ok']]
        if wrong:
            wrong_hosts.append(host)
        hosts[host] = {'status': 'wrong' if wrong else 'right', 'right': len(view) - len(wrong), 'names': len(view),
                       'wrong': wrong}
    right = len(hosts) - len(unreachable) - len(wrong_hosts)
    text = '%d/%d members resolve every name right' % (right, len(hosts))
    if wrong_hosts:
        text += '; wrong on %s' % ', '.join(wrong_hosts)
    if unreachable:
        text += '; UNREACHABLE %s' % ', '.join(unreachable)
    return {'hosts': hosts, 'summary': {'healthy': right == len(hosts), 'text': text}}


def dns_table(views_by_host):
    """One line per member (names right of all, the wrong ones with what they got), then the summary."""
    status = dns_status(views_by_host)
    rows = []
    for host, found in sorted(status['hosts'].items()):
        wrong = ', '.join('%s -> %s' % (w['name'], ' '.join(w['got']) or 'nothing') for w in found['wrong'])
        rows.append([host, found['status'].upper() if found['status'] != 'right' else 'right',
                     '%d/%d' % (found['right'], found['names']), wrong or '-'])
    return _lines(['member', 'status', 'names right', 'wrong (got)'], rows) + [status['summary']['text']]


def tunnel_names(tunnels):
    """The connection names of ``ipsec_site_tunnels`` (None: count every connection charon holds)."""
    if tunnels is None:
        return None
    return [t.get('name') for t in tunnels if isinstance(t, Mapping)]


def vpn_status(wireguard=None, ipsec=None, expected=None, dns=None):
    """One document of the whole VPN: ``wireguard`` (:func:`wireguard_status` of the members' ``wireguard_info``
    results) and ``ipsec`` (:func:`ipsec_status` of the sites' ``ipsec_info`` results), each only when it has a
    host, ``dns`` (:func:`dns_status` of the members' views of the names, with a mesh domain), and a ``summary``
    whose ``text`` joins theirs and that is ``healthy`` when every part is."""
    status = {}
    if wireguard:
        status['wireguard'] = wireguard_status(wireguard)
    if ipsec:
        status['ipsec'] = ipsec_status(ipsec, expected)
    if dns:
        status['dns'] = dns_status(dns)
    texts = ['%s: %s' % (title, status[key]['summary']['text']) for key, title in PARTS if key in status]
    status['summary'] = {
        'healthy': bool(texts) and all(status[key]['summary']['healthy'] for key, _title in PARTS if key in status),
        'text': '; '.join(texts) or 'no WireGuard member and no IPsec site in the inventory'}
    return status


def vpn_table(wireguard=None, ipsec=None, expected=None, dns=None):
    """:func:`wireguard_table` and :func:`ipsec_table`, each under its title, then the summary of :func:`vpn_status`."""
    lines = []
    if wireguard:
        lines += ['== WireGuard'] + wireguard_table(wireguard) + ['']
    if ipsec:
        lines += ['== IPsec'] + ipsec_table(ipsec, expected) + ['']
    if dns:
        lines += ['== DNS'] + dns_table(dns) + ['']
    return lines + [vpn_status(wireguard, ipsec, expected, dns)['summary']['text']]


IKE_KEYS = ('uniqueid', 'state', 'remote_host', 'remote_id', 'algorithms', 'rekey_time')
CHILD_KEYS = ('name', 'uniqueid', 'state', 'algorithms', 'rekey_time', 'local_ts', 'remote_ts', 'bytes_in', 'packets_in',
              'bytes_out', 'packets_out')


def _ike_sa(sa):
    ike = dict((key, sa.get(key)) for key in IKE_KEYS)
    ike['child_sas'] = [dict((key, child.get(key)) for key in CHILD_KEYS) for child in sa.get('child_sas') or []]
    return ike


def _read_ipsec(result):
    """(info, problem) from one host's registered ``ipsec_info`` result (None: it never ran, the host was
    unreachable)."""
    if result is None or (isinstance(result, Mapping) and result.get('unreachable')):
        return None, 'UNREACHABLE'
    if isinstance(result, Mapping) and (result.get('failed') or 'connections' not in result):
        return None, 'FAILED'
    return result, None


def ipsec_table(info_by_host, expected=None):
    """One line per CHILD SA of every IKE SA of every host (as ``ipsec_info`` returned them), one per loaded
    connection without an established IKE SA and one per host that could not be read, in the shape of
    ``swanctl --list-sas``, and the summary of :func:`ipsec_status`."""
    return _lines(*ipsec_rows(info_by_host)) + [ipsec_status(info_by_host, expected)['summary']['text']]


def _lines(header, rows):
    widths = [max(len(str(r[i])) for r in [header] + rows) for i in range(len(header))]
    return ['  '.join(str(cell).ljust(widths[i]) for i, cell in enumerate(row)).rstrip() for row in [header] + rows]


def ipsec_rows(info_by_host):
    """``(header, rows)`` of :func:`ipsec_table`."""
    header = ('HOST', 'CONNECTION', 'IKE SA', 'PEER', 'IKE ALGORITHMS', 'CHILD', 'TRAFFIC SELECTORS',
              'ESP ALGORITHMS', 'IN', 'OUT', 'STATUS')
    rows = []
    for host in sorted(info_by_host):
        info, problem = _read_ipsec(info_by_host[host])
        if problem:
            rows.append((host, '-', '-', '-', '-', '-', '-', '-', '-', '-', problem))
            continue
        connections = info.get('connections') or {}
        sas = info.get('sas') or []
        for name in sorted(connections):
            mine = [s for s in sas if s.get('name') == name]
            if not mine:
                rows.append((host, name, '-', '-', '-', '-', '-', '-', '-', '-', 'DOWN'))
            for sa in mine:
                rows.extend(_sa_rows(host, name, sa))
        if not connections:
            rows.append((host, '-', '-', '-', '-', '-', '-', '-', '-', '-', 'no connection'))
    return header, rows


def _sa_rows(host, name, sa):
    ike = '#%s %s' % (sa.get('uniqueid'), sa.get('state'))
    peer = '%s[%s]' % (sa.get('remote_host') or '-', sa.get('remote_id') or '-')
    children = sa.get('child_sas') or []
    if not children:
        return [(host, name, ike, peer, sa.get('algorithms') or '-', '-', '-', '-', '-', '-', 'no child SA')]
    rows = []
    for child in children:
        ts = '%s === %s' % (','.join(child.get('local_ts') or []), ','.join(child.get('remote_ts') or []))
        rows.append((host, name, ike, peer, sa.get('algorithms') or '-',
                     '%s #%s' % (child.get('name'), child.get('uniqueid')), ts, child.get('algorithms') or '-',
                     '%s/%dp' % (_bytes(child.get('bytes_in') or 0), child.get('packets_in') or 0),
                     '%s/%dp' % (_bytes(child.get('bytes_out') or 0), child.get('packets_out') or 0),
                     'up' if sa.get('state') == 'ESTABLISHED' and child.get('state') == 'INSTALLED'
                     else child.get('state') or '?'))
    return rows


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
