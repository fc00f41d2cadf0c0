# -*- coding: utf-8 -*-
# Copyright: meshforge.vpn contributors
# GNU General Public License v3.0+ (see https://www.gnu.org/licenses/gpl-3.0.txt)
"""One self-contained HTML page of the mesh's live state: the members on a circle, a line per pair coloured by the
state both ends report, the routed subnets under the members that carry them, and the table below.

The page holds no secret (public keys, addresses and counters only), loads nothing from elsewhere, and carries the
report as JSON for a small script that writes its own summary line (a browser that runs it proves the page whole).
"""

from __future__ import absolute_import, division, print_function

__metaclass__ = type

import ipaddress
import json
import math

from jinja2 import Environment
from markupsafe import Markup

from ansible_collections.meshforge.vpn.plugins.plugin_utils import report as reports

WIDTH = 760
HEIGHT = 560
COLOURS = {'up': '#2e7d32', 'down': '#c62828', 'half': '#ef6c00', 'unknown': '#9e9e9e'}

TEMPLATE = u'''<!DOCTYPE html>
<html lang="en"><head><meta charset="utf-8">
<title>{{ title }}</title>
<style>
body{font-family:sans-serif;margin:1.5em;color:#212121}
h1{font-size:1.3em;margin:0 0 .2em}
h2{font-size:1.1em;margin:1.2em 0 .2em}
.summary{font-size:1.05em;margin:.3em 0 1em}
svg{border:1px solid #ddd;background:#fafafa}
table{border-collapse:collapse;margin-top:1em;font-size:.85em}
td,th{border:1px solid #ccc;padding:.2em .5em;text-align:left}
.connected,td.up{color:#2e7d32}.DOWN,.UNREACHABLE,.FAILED,.EXPIRED{color:#c62828;font-weight:bold}
.legend span{display:inline-block;margin-right:1.2em}
</style></head>
<body>
<h1>{{ title }}</h1>
<div>State read at {{ read_at }}.</div>
<div class="summary" id="summary">{{ summary.text }}</div>
<div class="legend">{% for state, colour in colours.items() %}<span style="color:{{ colour }}">&#9644; {{ state }}</span>{% endfor %}</div>
{% for section in sections %}<section id="{{ section.key }}">
{% if sections | length > 1 %}<h2>{{ section.title }}</h2>
<div class="summary">{{ section.summary.text }}</div>
{% endif %}<div>{{ section.rule }}</div>
<svg xmlns="http://www.w3.org/2000/svg" width="{{ width }}" height="{{ height }}" viewBox="0 0 {{ width }} {{ height }}">
{% for link in section.links %}<line class="link {{ link.state }}{{ ' relayed' if link.relayed else '' }}" data-a="{{ link.a }}" data-b="{{ link.b }}"
 x1="{{ link.x1 }}" y1="{{ link.y1 }}" x2="{{ link.x2 }}" y2="{{ link.y2 }}" stroke="{{ colours[link.state] }}"
 stroke-width="3"{{ ' stroke-dasharray="9 6"' | safe if link.relayed else '' }}><title>{{ link.a }} - {{ link.b }}: {{ link.text }}</title></line>
{% endfor %}{% for member in section.members %}<g class="member {{ member.status }}" data-name="{{ member.name }}">
<circle cx="{{ member.x }}" cy="{{ member.y }}" r="22" fill="{{ fills.get(member.status, '#ffebee') }}"
 stroke="{{ strokes.get(member.status, '#c62828') }}" stroke-width="2"><title>{{ member.name }}:
 {{ member.status }}{{ ' (' ~ member.reason ~ ')' if member.reason else '' }}</title></circle>
<text x="{{ member.x }}" y="{{ member.y + 42 }}" text-anchor="middle" font-size="13">{{ member.name }}</text>
{% if member.roles %}<text class="roles" x="{{ member.x }}" y="{{ member.y - 30 }}" text-anchor="middle" font-size="11"
 fill="#6a1b9a" stroke="#fafafa" stroke-width="3" paint-order="stroke">{{ member.roles | join(', ') }}</text>
{% endif %}{% for subnet in member.subnets %}<text x="{{ member.x }}" y="{{ member.y + 58 + loop.index0 * 14 }}"
 text-anchor="middle" font-size="11" fill="#555">{{ subnet }}</text>
{% endfor %}</g>
{% endfor %}</svg>
{% for table in section.tables %}<table><tr>{% for cell in table.header %}<th>{{ cell }}</th>{% endfor %}</tr>
{% for row in table.rows %}<tr>{% for cell in row %}<td class="{{ row[table.status_column]
 if loop.index0 == table.status_column else '' }}">{{ cell }}</td>{% endfor %}</tr>
{% endfor %}</table>
{% endfor %}</section>
{% endfor %}<script type="application/json" id="report">{{ report_json }}</script>
<script>
(function () {
  var report = JSON.parse(document.getElementById('report').textContent);
  var members = document.querySelectorAll('g.member:not(.outside)');
  var links = document.querySelectorAll('line.link');
  var down = document.querySelectorAll('line.link.down, line.link.half').length;
  var line = document.createElement('div');
  line.id = 'rendered';
  line.textContent = 'rendered: ' + members.length + ' members, ' + links.length + ' links, ' + down + ' down' +
    (report.summary.healthy ? '' : ' (not healthy)');
  document.body.appendChild(line);
})();
</script>
</body></html>
'''


def _pair_state(ends):
    """The state of a pair from what each end that was read reports about the other."""
    seen = [status for status in ends if status is not None]
    if not seen:
        return 'unknown'
    if all(status == 'connected' for status in seen):
        return 'up' if len(seen) == 2 else 'unknown'
    return 'down' if all(status != 'connected' for status in seen) else 'half'


def _circle(names):
    """``{name: (x, y)}`` on a circle, in the order given."""
    radius = min(WIDTH, HEIGHT) / 2 - 90
    position = {}
    for index, name in enumerate(names):
        angle = 2 * math.pi * index / max(len(names), 1) - math.pi / 2
        position[name] = (round(WIDTH / 2 + radius * math.cos(angle)), round(HEIGHT / 2 - 20 + radius * math.sin(angle)))
    return position


def _member(name, position, status, reason, subnets=(), roles=()):
    return {'name': name, 'x': position[name][0], 'y': position[name][1], 'status': status, 'reason': reason,
            'subnets': sorted(subnets), 'roles': list(roles)}


def _link(a, b, state, text, position, relayed=False):
    return {'a': a, 'b': b, 'state': state, 'text': text, 'x1': position[a][0], 'y1': position[a][1],
            'x2': position[b][0], 'y2': position[b][1], 'relayed': relayed}


def layout(report):
    """``{'members': [...], 'links': [...]}``: members on a circle in name order, one link per pair either end lists."""
    names = sorted(report['hosts'])
    position = _circle(names)
    pairs, routed = {}, {}
    for name in names:
        for interface in report['hosts'][name]['interfaces'].values():
            for peer in interface['peers']:
                other = peer.get('member')
                if other not in position or other == name:
                    continue
                pairs.setdefault(tuple(sorted((name, other))), {})[name] = peer['status']
                for prefix in peer.get('allowed_ips') or []:
                    network = ipaddress.ip_network(prefix, strict=False)
                    if network.prefixlen < network.max_prefixlen:
                        routed.setdefault(other, set()).add(str(network))
    members = [_member(name, position, report['hosts'][name]['status'], report['hosts'][name].get('reason'),
                       routed.get(name, ())) for name in names]
    links = [_link(a, b, _pair_state([ends.get(a), ends.get(b)]),
                   '; '.join('%s sees %s' % (end, ends[end]) for end in sorted(ends)), position)
             for (a, b), ends in sorted(pairs.items())]
    return {'members': members, 'links': links}


def layout_ipsec(report):
    """The sites on a circle with a link per tunnel: a connection name two sites hold joins them; one only one site
    holds goes to a node for its remote peer (the IKE SA's remote identity, or the connection's name)."""
    sites = sorted(report['hosts'])
    ends, peers = {}, {}
    for site in sites:
        for name, conn in report['hosts'][site]['connections'].items():
            if conn['status'] == 'other':
                continue
            ends.setdefault(name, {})[site] = 'connected' if conn['status'] == 'established' else 'DOWN'
            remote = [sa.get('remote_id') or sa.get('remote_host') for sa in conn['sas']]
            peers.setdefault(name, remote[0] if remote and remote[0] else '%s peer' % name)
    outside = sorted(set(peers[name] for name in ends if len(ends[name]) == 1) - set(sites))
    position = _circle(sites + outside)
    members = [_member(site, position, report['hosts'][site]['status'], report['hosts'][site].get('reason'))
               for site in sites]
    members += [_member(peer, position, 'outside', 'not managed here') for peer in outside]
    links = []
    for name in sorted(ends):
        held = ends[name]
        if len(held) >= 2:
            a, b = sorted(held)[:2]
            links.append(_link(a, b, _pair_state([held[a], held[b]]), '%s: %s' % (name, held), position))
        else:
            site = next(iter(held))
            links.append(_link(site, peers[name], 'up' if held[site] == 'connected' else 'down',
                               '%s: %s' % (name, held), position))
    unread = [site for site in sites if report['hosts'][site]['status'] != 'ok']
    return {'members': members, 'links': links, 'unread': unread}


def layout_nebula(report):
    """The Nebula members on a circle (their roles above them), a link per pair either end holds a tunnel between
    (dashed when it goes through a relay) or per lighthouse a member has no tunnel to (down), and peers outside the
    group as grey nodes."""
    names = sorted(report['hosts'])
    pairs, relayed, outside = {}, set(), set()
    for name in names:
        entry = report['hosts'][name]
        for tunnel in entry['tunnels']:
            other = tunnel['member'] or tunnel['name'] or tunnel['vpn_ip']
            if tunnel['member'] is None:
                outside.add(other)
            pair = tuple(sorted((name, other)))
            pairs.setdefault(pair, {})[name] = 'DOWN' if tunnel['status'] == 'DOWN' else 'connected'
            if tunnel['relayed']:
                relayed.add(pair)
        for lighthouse, reached in entry['lighthouses'].items():
            if not reached:
                pairs.setdefault(tuple(sorted((name, lighthouse))), {}).setdefault(name, 'DOWN')
    outside = sorted(outside - set(names))
    position = _circle(names + outside)
    for pair, ends in pairs.items():
        for end in pair:
            # a member that answers and holds no tunnel to the other end says so
            if end not in ends and end in report['hosts'] and report['hosts'][end]['status'] == 'ok':
                ends[end] = 'no tunnel'
    members = [_member(name, position, report['hosts'][name]['status'], report['hosts'][name].get('reason'),
                       roles=report['hosts'][name]['roles']) for name in names]
    members += [_member(peer, position, 'outside', 'not a member of the group') for peer in outside]
    links = []
    for (a, b), ends in sorted(pairs.items()):
        if len(ends) == 2 or not set((a, b)) & set(outside):
            state = _pair_state([ends.get(a), ends.get(b)])
        else:   # a peer outside the group is not read: the member's end alone says how the link is
            state = 'up' if list(ends.values()) == ['connected'] else 'down'
        text = ('through a relay; ' if (a, b) in relayed else '') + '; '.join(
            '%s sees %s' % (end, ends[end]) for end in sorted(ends))
        links.append(_link(a, b, state, text, position, (a, b) in relayed))
    return {'members': members, 'links': links}


WIREGUARD_RULE = 'A peer counts as connected with a handshake within 180 s and both ends\' interfaces up.'
IPSEC_RULE = 'A tunnel counts as established with an established IKE SA and an installed CHILD SA.'
NEBULA_RULE = ('A member is up when its nebula answers with a certificate that has not expired; a tunnel is up when '
               'both ends hold it, and drawn dashed when it goes through a relay; a member without a tunnel to a '
               'lighthouse is cut off from it. Nebula makes other tunnels on demand: no traffic, no tunnel.')


def wireguard_section(status):
    """The drawing and table of :func:`.report.wireguard_status`'s document ``status``."""
    header, rows = reports.wireguard_rows(status)
    return dict(layout(status), key='wireguard', title='WireGuard', summary=status['summary'], rule=WIREGUARD_RULE,
                tables=[{'header': header, 'rows': rows, 'status_column': 8}])


def ipsec_section(status, info_by_host):
    """The drawing and table of :func:`.report.ipsec_status`'s document ``status`` of ``info_by_host``."""
    header, rows = reports.ipsec_rows(info_by_host)
    return dict(layout_ipsec(status), key='ipsec', title='IPsec', summary=status['summary'], rule=IPSEC_RULE,
                tables=[{'header': header, 'rows': rows, 'status_column': 10}])


def nebula_section(status):
    """The drawing and tables (members, tunnels) of :func:`.report.nebula_status`'s document ``status``."""
    (members, member_rows), (tunnels, tunnel_rows) = reports.nebula_rows(status)
    return dict(layout_nebula(status), key='nebula', title='Nebula', summary=status['summary'], rule=NEBULA_RULE,
                tables=[{'header': members, 'rows': member_rows, 'status_column': 7},
                        {'header': tunnels, 'rows': tunnel_rows, 'status_column': 4}])


def page(report, sections, read_at, title):
    """The page of ``sections`` under ``title``, with ``report`` (whose ``summary`` heads it) embedded as JSON."""
    # JSON inside a script element: no "<" at all, so nothing in it can end the element or open a comment
    report_json = Markup(json.dumps(report, sort_keys=True).replace('<', '\\u003c'))
    return Environment(autoescape=True).from_string(TEMPLATE).render(
        title=title, read_at=read_at, summary=report['summary'], colours=COLOURS, width=WIDTH, height=HEIGHT,
        sections=sections, report_json=report_json, fills={'ok': '#e3f2fd', 'outside': '#f5f5f5'},
        strokes={'ok': '#1565c0', 'outside': '#9e9e9e'})


def render(report, read_at, title='WireGuard mesh status'):
    """The page for ``report`` (:func:`.report.wireguard_status`), read at ``read_at`` (text)."""
    return page(report, [wireguard_section(report)], read_at, title)


def render_ipsec(info_by_host, read_at, title='IPsec status', expected=None):
    """The page for the ``ipsec_info`` results of every site, read at ``read_at`` (text); ``expected``: the tunnels'
    names (others charon holds are not drawn)."""
    report = reports.ipsec_status(info_by_host, expected)
    return page(report, [ipsec_section(report, info_by_host)], read_at, title)


def render_vpn(wireguard, ipsec, read_at, title='VPN status', expected=None, nebula=None, nebula_roles=None,
               cert_warn_days=reports.CERT_WARN_DAYS, now=None):
    """One page of the whole VPN (:func:`.report.vpn_status`): a section per part that has a host."""
    report = reports.vpn_status(wireguard, ipsec, expected, None, nebula, nebula_roles, cert_warn_days, now)
    sections = []
    if 'wireguard' in report:
        sections.append(wireguard_section(report['wireguard']))
    if 'ipsec' in report:
        sections.append(ipsec_section(report['ipsec'], ipsec))
    if 'nebula' in report:
        sections.append(nebula_section(report['nebula']))
    return page(report, sections, read_at, title)
