# -*- coding: utf-8 -*-
# Copyright: meshforge.vpn contributors
# GNU General Public License v3.0+ (see https://www.gnu.org/licenses/gpl-3.0.txt)
"""Readable tables of live VPN state, for status playbooks."""

from __future__ import absolute_import, division, print_function

__metaclass__ = type

import datetime
from collections.abc import Mapping

from ansible_collections.meshforge.vpn.plugins.plugin_utils import nebula_pki
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
PARTS = (('wireguard', 'WireGuard'), ('ipsec', 'IPsec'), ('nebula', 'Nebula'), ('dns', 'DNS'))


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


# A certificate that expires within this many days is a warning of the Nebula part (vpn_status_cert_warn_days).
CERT_WARN_DAYS = 30


def _read_nebula(result):
    """(info, problem, reason) from one member's registered ``nebula_info`` result (None: it never ran, the member
    was unreachable)."""
    if result is None or (isinstance(result, Mapping) and result.get('unreachable')):
        return None, 'UNREACHABLE', 'not reachable over SSH'
    if not isinstance(result, Mapping) or result.get('failed') or 'running' not in result:
        return None, 'FAILED', str((result or {}).get('msg') or 'nebula_info failed')
    if not result.get('running'):
        return None, 'DOWN', str(result.get('msg') or 'nebula does not answer')
    return result, None, None


def _certificate(cert, warn_days, now):
    """A member's certificate as the report shows it (the certificate report's row), with ``status`` valid, expiring
    (within ``warn_days``) or EXPIRED; a not-after that is not a time shows no days left."""
    try:
        row = nebula_pki.certificate_row(cert, now)
    except ValueError:
        row = dict(nebula_pki.certificate_row(dict(cert, not_after=None), now), not_after=cert.get('not_after'))
    days = row['days_left']     # whole days, rounded down: negative once expired
    status = 'valid' if days is None else 'EXPIRED' if days < 0 else 'expiring' if days < warn_days else 'valid'
    return dict(row, status=status)


def nebula_status(info_by_host, roles=None, warn_days=CERT_WARN_DAYS, now=None):
    """The live state of every Nebula member as one document: ``hosts`` (member -> ``status`` (ok, DOWN,
    UNREACHABLE, FAILED), ``reason``, ``roles`` (lighthouse, relay), ``certificate`` (name, address, groups,
    not_after, days_left, fingerprint, status), ``tunnels`` (one per tunnel nebula holds: ``member`` (None for a peer
    outside the group), ``name``, ``vpn_ip``, ``remote`` (the underlay address in use), ``relayed``, ``relays`` (by
    member name), ``status``, ``reason``), ``pending`` (peers still handshaking) and ``lighthouses`` (lighthouse ->
    whether this member has a tunnel to it)) and a ``summary``.

    ``info_by_host`` maps every member to its registered ``nebula_info`` result, or None (unreachable); ``roles``
    (``{'lighthouses': [...], 'relays': [...], 'revoked': [...]}``) names the members in each role, and the members
    whose certificate is revoked (the CA directory's record): such a member is REVOKED, not down, and is not
    expected to reach anyone; a tunnel another member still holds to it is a REVOKED link, counted down. A member is down when its nebula
    does not answer or its certificate has expired (peers refuse it); a certificate that expires within
    ``warn_days`` days is a warning that leaves the summary healthy. A tunnel is up when its peer answers and holds
    the tunnel back; a tunnel to a member that is down is DOWN; one its peer no longer holds is ``one-sided`` (nebula
    drops an idle tunnel at each end in its own time), shown but not a failure; a member that has no tunnel to a
    lighthouse that answers cannot be found by the others: a DOWN link. Nebula makes other tunnels on demand, so a
    pair without traffic has none and that is not a failure."""
    now = now or datetime.datetime.now(datetime.timezone.utc)
    roles = roles or {}
    read = dict((host, _read_nebula(info_by_host[host])) for host in info_by_host)
    by_ip = {}
    for host, (info, _problem, _reason) in read.items():
        for address in ((info or {}).get('certificate') or {}).get('ips') or []:
            by_ip[address.split('/')[0]] = host
    revoked = set(roles.get('revoked') or []) & set(read)
    for host in revoked:
        read[host] = (None, 'REVOKED', 'its certificate is revoked: no member accepts it')
    hosts = {}
    for host in sorted(read):
        info, problem, reason = read[host]
        entry = {'status': problem or 'ok', 'reason': reason, 'certificate': None, 'tunnels': [], 'pending': [],
                 'roles': [role for role, key in (('lighthouse', 'lighthouses'), ('relay', 'relays'))
                           if host in (roles.get(key) or [])], 'lighthouses': {}}
        if info is not None:
            entry['certificate'] = _certificate(info.get('certificate') or {}, warn_days, now)
            if entry['certificate']['status'] == 'EXPIRED':
                entry['status'], entry['reason'] = 'DOWN', 'its certificate expired at %s' % entry['certificate']['not_after']
            entry['pending'] = sorted(str(t.get('name') or t.get('vpn_ip')) for t in info.get('pending') or [])
        hosts[host] = entry
    for host in sorted(read):
        info, entry = read[host][0], hosts[host]
        for tunnel in (info or {}).get('tunnels') or []:
            member = by_ip.get(tunnel.get('vpn_ip'))
            if member is None and tunnel.get('name') in hosts:
                member = tunnel['name']
            status, reason = 'up', None
            if member is None:
                status, reason = 'outside', 'not a member of the group'
            elif member in revoked:
                status, reason = 'REVOKED', 'a tunnel to %s, whose certificate is revoked' % member
            elif hosts[member]['status'] != 'ok':
                status, reason = 'DOWN', '%s is %s: %s' % (member, hosts[member]['status'], hosts[member]['reason'])
            elif entry['status'] != 'ok':
                status, reason = 'DOWN', entry['reason']
            elif host not in [by_ip.get(t.get('vpn_ip')) or t.get('name') for t in read[member][0].get('tunnels') or []]:
                status, reason = 'one-sided', '%s holds no tunnel back' % member
            entry['tunnels'].append({
                'member': member, 'name': tunnel.get('name'), 'vpn_ip': tunnel.get('vpn_ip'), 'remote': tunnel.get('remote'),
                'relayed': bool(tunnel.get('relayed')), 'relays': [by_ip.get(r, r) for r in tunnel.get('relays') or []],
                'status': status, 'reason': reason})
        if entry['status'] == 'ok' and 'lighthouse' not in entry['roles']:
            reached = [t['member'] for t in entry['tunnels'] if t['status'] in ('up', 'one-sided')]
            entry['lighthouses'] = dict((lighthouse, lighthouse in reached)
                                        for lighthouse in sorted(roles.get('lighthouses') or []) if lighthouse in hosts)
    return {'hosts': hosts, 'summary': _nebula_summary(hosts, warn_days)}


def _nebula_summary(hosts, warn_days):
    tunnels = [t for entry in hosts.values() for t in entry['tunnels'] if t['member'] is not None]
    lighthouse_links = [(host, lighthouse) for host, entry in sorted(hosts.items())
                        for lighthouse, reached in sorted(entry['lighthouses'].items())]
    unreached = [(host, lighthouse) for host, lighthouse in lighthouse_links if not hosts[host]['lighthouses'][lighthouse]]
    # a tunnel to a lighthouse that is down is a DOWN tunnel already: the missing ones are the links to add
    missing = [pair for pair in unreached if not _holds(hosts[pair[0]], pair[1])]
    revoked = sorted(host for host in hosts if hosts[host]['status'] == 'REVOKED')
    down = sorted(host for host in hosts if hosts[host]['status'] not in ('ok', 'REVOKED'))
    expiring = sorted(host for host in hosts if (hosts[host]['certificate'] or {}).get('status') == 'expiring')
    links_down = len([t for t in tunnels if t['status'] in ('DOWN', 'REVOKED')]) + len(missing)
    text = '%d of %d members up, %d tunnels (%d relayed), %d %s down' % (
        len(hosts) - len(down) - len(revoked), len(hosts) - len(revoked), len(tunnels),
        len([t for t in tunnels if t['relayed']]), links_down, 'link' if links_down == 1 else 'links')
    if revoked:
        text += '; revoked: %s' % ', '.join(revoked)
    if down:
        text += '; down: %s' % ', '.join('%s (%s)' % (host, hosts[host]['reason']) for host in down)
    if unreached:
        text += '; no tunnel to a lighthouse: %s' % ', '.join('%s -> %s' % pair for pair in unreached)
    if expiring:
        text += '; certificate expires within %d days on %s' % (warn_days, ', '.join(expiring))
    return {'members_total': len(hosts) - len(revoked), 'members_up': len(hosts) - len(down) - len(revoked), 'down': down,
            'revoked': revoked,
            'tunnels_total': len(tunnels), 'tunnels_relayed': len([t for t in tunnels if t['relayed']]),
            'lighthouse_links_total': len(lighthouse_links), 'lighthouse_links_up': len(lighthouse_links) - len(unreached),
            'links_down': links_down, 'certificates_expiring': expiring, 'healthy': not down and not links_down,
            'text': text}


def _holds(entry, member):
    """Whether a member's entry lists a tunnel to ``member``, whatever its state."""
    return any(tunnel['member'] == member for tunnel in entry['tunnels'])


def nebula_rows(status):
    """``(members, tunnels)`` of :func:`nebula_status`'s document, each ``(header, rows)``: one row per member (its
    roles and certificate), one per tunnel and one per lighthouse a member has no tunnel to."""
    members = ('HOST', 'ROLES', 'ADDRESS', 'GROUPS', 'NOT AFTER', 'DAYS LEFT', 'CERTIFICATE', 'STATUS', 'REASON')
    tunnels = ('HOST', 'PEER', 'VPN IP', 'VIA', 'STATUS', 'REASON')
    member_rows, tunnel_rows = [], []
    for host in sorted(status['hosts']):
        entry = status['hosts'][host]
        cert = entry['certificate'] or {}
        member_rows.append((host, ','.join(entry['roles']) or '-', cert.get('address') or '-',
                            ','.join(cert.get('groups') or []) or '-', cert.get('not_after') or '-',
                            '-' if cert.get('days_left') is None else cert['days_left'], cert.get('status') or '-',
                            entry['status'], entry['reason'] or ''))
        for tunnel in entry['tunnels']:
            via = ('relay ' + ','.join(tunnel['relays'])) if tunnel['relayed'] else (tunnel['remote'] or '-')
            tunnel_rows.append((host, tunnel['name'] or tunnel['member'] or '-', tunnel['vpn_ip'] or '-', via,
                                tunnel['status'], tunnel['reason'] or ''))
        for lighthouse, reached in sorted(entry['lighthouses'].items()):
            if not reached and not _holds(entry, lighthouse):
                tunnel_rows.append((host, lighthouse, '-', '-', 'DOWN', 'no tunnel to this lighthouse'))
    return (members, member_rows), (tunnels, tunnel_rows)


def nebula_table(status):
    """The members' table and the tunnels' table of :func:`nebula_status`'s document, then its summary."""
    members, tunnels = nebula_rows(status)
    return _lines(*members) + [''] + _lines(*tunnels) + [status['summary']['text']]


def vpn_status(wireguard=None, ipsec=None, expected=None, dns=None, nebula=None, nebula_roles=None,
               cert_warn_days=CERT_WARN_DAYS, now=None):
    """One document of the whole VPN: ``wireguard`` (:func:`wireguard_status` of the members' ``wireguard_info``
    results), ``ipsec`` (:func:`ipsec_status` of the sites' ``ipsec_info`` results) and ``nebula``
    (:func:`nebula_status` of the Nebula members' ``nebula_info`` results), each only when it has a host, ``dns``
    (:func:`dns_status` of the members' views of the names, with a mesh domain), and a ``summary`` whose ``text``
    joins theirs and that is ``healthy`` when every part is."""
    status = {}
    if wireguard:
        status['wireguard'] = wireguard_status(wireguard)
    if ipsec:
        status['ipsec'] = ipsec_status(ipsec, expected)
    if nebula:
        status['nebula'] = nebula_status(nebula, nebula_roles, cert_warn_days, now)
    if dns:
        status['dns'] = dns_status(dns)
    texts = ['%s: %s' % (title, status[key]['summary']['text']) for key, title in PARTS if key in status]
    status['summary'] = {
        'healthy': bool(texts) and all(status[key]['summary']['healthy'] for key, _title in PARTS if key in status),
        'text': '; '.join(texts) or 'no WireGuard member, IPsec site or Nebula member in the inventory'}
    return status


def vpn_table(wireguard=None, ipsec=None, expected=None, dns=None, nebula=None, nebula_roles=None,
              cert_warn_days=CERT_WARN_DAYS, now=None):
    """:func:`wireguard_table`, :func:`ipsec_table`, :func:`nebula_table` and :func:`dns_table`, each under its title
    when it has a host, then the summary of :func:`vpn_status`."""
    lines = []
    if wireguard:
        lines += ['== WireGuard'] + wireguard_table(wireguard) + ['']
    if ipsec:
        lines += ['== IPsec'] + ipsec_table(ipsec, expected) + ['']
    if nebula:
        lines += ['== Nebula'] + nebula_table(nebula_status(nebula, nebula_roles, cert_warn_days, now)) + ['']
    if dns:
        lines += ['== DNS'] + dns_table(dns) + ['']
    return lines + [vpn_status(wireguard, ipsec, expected, dns, nebula, nebula_roles, cert_warn_days, now)['summary']['text']]


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
