# -*- coding: utf-8 -*-
# Copyright: meshforge.vpn contributors
# GNU General Public License v3.0+ (see https://www.gnu.org/licenses/gpl-3.0.txt)
"""The Nebula part of the report of the whole VPN, from nebula_info results in the shape the module returns (as its
own unit test reads them from a fake console): a direct and a relayed tunnel, a member that does not answer, one
that is unreachable, a certificate near its end and one past it; the table, the JSON document and the page."""

from __future__ import absolute_import, division, print_function

__metaclass__ = type

import datetime
import json
import re

import pytest

from ansible.errors import AnsibleFilterError

from ansible_collections.meshforge.vpn.plugins.filter import vpn_status
from ansible_collections.meshforge.vpn.plugins.plugin_utils import status_page
from ansible_collections.meshforge.vpn.plugins.plugin_utils.report import nebula_status, nebula_table, vpn_status as whole

NOW = datetime.datetime(2026, 12, 6, 12, 0, 0, tzinfo=datetime.timezone.utc)
ADDRESS = {'lh1': '10.42.0.1', 'web1': '10.42.0.2', 'db1': '10.42.0.3', 'app1': '10.42.0.4'}
UNDERLAY = {'lh1': '198.18.0.11', 'web1': '198.18.0.12', 'db1': '198.18.0.13', 'app1': '198.18.0.14'}
ROLES = {'lighthouses': ['lh1'], 'relays': ['lh1']}
# db1 and app1 cannot reach each other directly: their tunnel goes through lh1
RELAYED = {('db1', 'app1'), ('app1', 'db1')}


def _tunnel(host, peer):
    relayed = (host, peer) in RELAYED
    remote = None if relayed else UNDERLAY[peer] + ':4242'
    return {'vpn_ip': ADDRESS[peer], 'name': peer, 'fingerprint': peer * 8, 'groups': [], 'remote': remote,
            'remote_addrs': [remote] if remote else [], 'relayed': relayed, 'relays': [ADDRESS['lh1']] if relayed else []}


def _info(host, peers, not_after='2027-12-06T12:00:00Z'):
    return {'changed': False, 'configured': True, 'running': True, 'msg': '', 'pending': [],
            'certificate': {'name': host, 'ips': [ADDRESS[host] + '/24'], 'groups': [host[:-1]], 'not_after': not_after,
                            'fingerprint': host * 8},
            'tunnels': [_tunnel(host, peer) for peer in peers]}


def _network(**overrides):
    """Every member with a tunnel to every other one (after pings between every pair)."""
    results = dict((host, _info(host, [p for p in sorted(ADDRESS) if p != host])) for host in ADDRESS)
    results.update(overrides)
    return results


def test_all_up_direct_and_relayed_tunnels_and_the_lighthouse_reached():
    status = nebula_status(_network(), ROLES, 30, NOW)
    db1 = status['hosts']['db1']
    assert db1['status'] == 'ok' and db1['roles'] == [] and status['hosts']['lh1']['roles'] == ['lighthouse', 'relay']
    assert db1['certificate'] == {'name': 'db1', 'address': '10.42.0.3/24', 'groups': ['db'], 'not_after': '2027-12-06T12:00:00Z',
                                  'days_left': 365, 'fingerprint': 'db1' * 8, 'status': 'valid'}
    tunnels = dict((t['member'], t) for t in db1['tunnels'])
    assert (tunnels['app1']['relayed'], tunnels['app1']['relays'], tunnels['app1']['remote']) == (True, ['lh1'], None)
    assert (tunnels['web1']['relayed'], tunnels['web1']['remote']) == (False, '198.18.0.12:4242')
    assert set(t['status'] for t in tunnels.values()) == {'up'}
    assert db1['lighthouses'] == {'lh1': True} and status['hosts']['lh1']['lighthouses'] == {}
    assert status['summary'] == {
        'members_total': 4, 'members_up': 4, 'down': [], 'revoked': [], 'tunnels_total': 12, 'tunnels_relayed': 2,
        'lighthouse_links_total': 3, 'lighthouse_links_up': 3, 'links_down': 0, 'certificates_expiring': [],
        'healthy': True, 'text': '4 of 4 members up, 12 tunnels (2 relayed), 0 links down'}


def test_a_member_that_does_not_answer_or_is_unreachable_is_down_and_so_are_the_tunnels_to_it():
    silent = {'changed': False, 'configured': True, 'running': False, 'certificate': None, 'tunnels': [], 'pending': [],
              'msg': 'nebula does not answer on 127.0.0.1:4242: Connection refused'}
    status = nebula_status(_network(app1=silent, web1={'unreachable': True, 'msg': 'ssh: timeout'}), ROLES, 30, NOW)
    assert (status['hosts']['app1']['status'], status['hosts']['app1']['reason']) == ('DOWN', silent['msg'])
    assert (status['hosts']['web1']['status'], status['hosts']['web1']['reason']) == ('UNREACHABLE', 'not reachable over SSH')
    tunnels = dict((t['member'], t) for t in status['hosts']['db1']['tunnels'])
    assert tunnels['app1']['status'] == 'DOWN' and tunnels['app1']['reason'].startswith('app1 is DOWN: nebula does not answer')
    assert tunnels['lh1']['status'] == 'up'
    summary = status['summary']
    assert summary['down'] == ['app1', 'web1'] and summary['links_down'] == 4 and not summary['healthy']
    assert summary['text'] == ('2 of 4 members up, 6 tunnels (1 relayed), 4 links down; down: app1 (%s), '
                               'web1 (not reachable over SSH)' % silent['msg'])
    failed = nebula_status({'lh1': {'failed': True, 'msg': 'network: nebula_config did not turn on the console'}}, ROLES)
    assert failed['hosts']['lh1']['status'] == 'FAILED' and 'console' in failed['hosts']['lh1']['reason']


def test_a_member_without_a_tunnel_to_the_lighthouse_is_a_down_link_and_a_tunnel_held_at_one_end_is_shown():
    results = _network()
    results['web1'] = _info('web1', ['db1', 'app1'])            # lost its tunnel to lh1
    results['lh1'] = _info('lh1', ['db1', 'app1'])
    results['app1'] = _info('app1', ['lh1', 'db1'])             # idle tunnel to web1 already dropped
    status = nebula_status(results, ROLES, 30, NOW)
    assert status['hosts']['web1']['lighthouses'] == {'lh1': False}
    assert [t['status'] for t in status['hosts']['web1']['tunnels'] if t['member'] == 'app1'] == ['one-sided']
    assert status['summary']['links_down'] == 1 and not status['summary']['healthy']
    assert status['summary']['text'].endswith('1 link down; no tunnel to a lighthouse: web1 -> lh1')
    assert any(line.split()[:2] == ['web1', 'lh1'] and 'DOWN' in line for line in nebula_table(status))


def test_a_revoked_member_is_revoked_not_down_and_a_tunnel_still_held_to_it_is_a_revoked_link():
    """nebula_mesh_revoke leaves app1's nebula running with its old files; it reaches no one, which is the point."""
    results = dict((host, _info(host, [p for p in sorted(ADDRESS) if p not in (host, 'app1')])) for host in ADDRESS)
    results['app1'] = _info('app1', [])
    status = nebula_status(results, dict(ROLES, revoked=['app1']), 30, NOW)
    assert status['hosts']['app1']['status'] == 'REVOKED' and status['hosts']['app1']['tunnels'] == []
    summary = status['summary']
    assert summary['healthy'] and summary['revoked'] == ['app1'] and summary['down'] == []
    assert summary['text'] == '3 of 3 members up, 6 tunnels (0 relayed), 0 links down; revoked: app1'
    results['db1'] = _info('db1', ['lh1', 'web1', 'app1'])      # a tunnel the revocation did not close
    held = nebula_status(results, dict(ROLES, revoked=['app1']), 30, NOW)
    assert [t['status'] for t in held['hosts']['db1']['tunnels'] if t['member'] == 'app1'] == ['REVOKED']
    assert held['summary']['links_down'] == 1 and not held['summary']['healthy']


def test_a_certificate_near_its_end_warns_and_one_past_it_is_down():
    results = _network(web1=_info('web1', ['lh1', 'db1', 'app1'], '2026-12-20T12:00:00Z'),
                       app1=_info('app1', ['lh1', 'db1', 'web1'], '2026-12-06T11:59:59Z'))
    status = nebula_status(results, ROLES, 30, NOW)
    assert status['hosts']['web1']['certificate']['status'] == 'expiring' and status['hosts']['web1']['status'] == 'ok'
    assert status['hosts']['web1']['certificate']['days_left'] == 14
    app1 = status['hosts']['app1']
    assert (app1['status'], app1['reason'], app1['certificate']['status']) == (
        'DOWN', 'its certificate expired at 2026-12-06T11:59:59Z', 'EXPIRED')
    assert status['summary']['certificates_expiring'] == ['web1'] and status['summary']['down'] == ['app1']
    assert status['summary']['text'].endswith('; certificate expires within 30 days on web1')
    only_warning = nebula_status(_network(web1=results['web1']), ROLES, 30, NOW)['summary']
    assert only_warning['healthy'] and 'expires within 30 days on web1' in only_warning['text']
    assert nebula_status(_network(web1=results['web1']), ROLES, 10, NOW)['summary']['certificates_expiring'] == []


def test_a_peer_outside_the_group_is_listed_not_counted_and_drawn_grey():
    results = _network()
    results['lh1']['tunnels'].append({'vpn_ip': '10.42.0.50', 'name': 'laptop', 'remote': '198.18.0.99:4242',
                                      'relayed': False, 'relays': []})
    status = nebula_status(results, ROLES, 30, NOW)
    assert [t['status'] for t in status['hosts']['lh1']['tunnels'] if t['name'] == 'laptop'] == ['outside']
    assert status['summary']['tunnels_total'] == 12 and status['summary']['healthy']
    drawn = status_page.layout_nebula(status)
    assert ('laptop', 'outside') in [(m['name'], m['status']) for m in drawn['members']]
    assert [link['state'] for link in drawn['links'] if 'laptop' in (link['a'], link['b'])] == ['up']


def test_table_has_the_members_with_their_certificates_then_the_tunnels_then_the_summary():
    lines = nebula_table(nebula_status(_network(), ROLES, 30, NOW))
    assert lines[0].split() == ['HOST', 'ROLES', 'ADDRESS', 'GROUPS', 'NOT', 'AFTER', 'DAYS', 'LEFT', 'CERTIFICATE',
                                'STATUS', 'REASON']
    assert lines[3].split() == ['lh1', 'lighthouse,relay', '10.42.0.1/24', 'lh', '2027-12-06T12:00:00Z', '365', 'valid', 'ok']
    db1 = [line.split() for line in lines if line.startswith('db1 ')]
    assert ['db1', 'app1', '10.42.0.4', 'relay', 'lh1', 'up'] in db1 and ['db1', 'web1', '10.42.0.2', '198.18.0.12:4242', 'up'] in db1
    assert lines[-1] == '4 of 4 members up, 12 tunnels (2 relayed), 0 links down'


def test_the_whole_vpn_has_a_nebula_part_in_json_table_and_summary():
    status = json.loads(json.dumps(vpn_status.vpn_status_report(None, nebula=_network(), nebula_roles=ROLES)))
    assert sorted(status) == ['nebula', 'summary']
    assert status['summary'] == {'healthy': True, 'text': 'Nebula: 4 of 4 members up, 12 tunnels (2 relayed), 0 links down'}
    assert sorted(status['nebula']['hosts']['db1']) == [
        'certificate', 'lighthouses', 'pending', 'reason', 'roles', 'status', 'tunnels']
    lines = vpn_status.vpn_status_table(None, nebula=_network(app1=None), nebula_roles=ROLES)
    assert lines[0] == '== Nebula' and lines[-1].startswith('Nebula: 3 of 4 members up')
    assert not whole(None, nebula=_network(app1=None), nebula_roles=ROLES)['summary']['healthy']
    assert whole(None)['summary']['text'] == 'no WireGuard member, IPsec site or Nebula member in the inventory'


@pytest.mark.parametrize('days', [-1, 'soon', '3.5', True])
def test_a_warning_threshold_that_is_not_a_number_of_days_is_refused_naming_the_variable(days):
    with pytest.raises(AnsibleFilterError, match='^vpn_status_cert_warn_days: '):
        vpn_status.vpn_status_report(None, nebula=_network(), cert_warn_days=days)


def test_the_page_draws_roles_and_relayed_tunnels_dashed():
    page = vpn_status.vpn_status_html(None, None, '2026-12-06T12:00:00Z', nebula=_network(app1=None), nebula_roles=ROLES)
    sections = re.findall(r'<section id="(\w+)">', page)
    assert sections == ['nebula'] and '<h2>' not in page
    assert page.count('<g class="member ok"') == 3 and 'class="member UNREACHABLE" data-name="app1"' in page
    assert re.search(r'<text class="roles"[^>]*>lighthouse, relay</text>', page.replace('\n', ' '))
    # web1 - db1 direct and up; db1 - app1 relayed and down (app1 unreachable)
    assert '<line class="link up" data-a="db1" data-b="web1"' in page
    assert re.search(r'<line class="link down relayed" data-a="app1" data-b="db1"[^>]*stroke-dasharray', page.replace('\n', ' '))
    assert page.count('<table>') == 2 and 'no tunnel to this lighthouse' not in page
    embedded = re.search(r'<script type="application/json" id="report">(.*?)</script>', page, re.S).group(1)
    assert sorted(json.loads(embedded)) == ['nebula', 'summary']
