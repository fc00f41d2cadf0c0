# -*- coding: utf-8 -*-
# Copyright: meshforge.vpn contributors
# GNU General Public License v3.0+ (see https://www.gnu.org/licenses/gpl-3.0.txt)

from __future__ import absolute_import, division, print_function

__metaclass__ = type

import json
import re

from ansible_collections.meshforge.vpn.plugins.plugin_utils import status_page
from ansible_collections.meshforge.vpn.plugins.plugin_utils.report import wireguard_status

from ansible_collections.meshforge.vpn.tests.unit.plugins.plugin_utils.test_report import _mesh


def states(results):
    drawn = status_page.layout(wireguard_status(results))
    return dict(((link['a'], link['b']), link['state']) for link in drawn['links'])


def test_one_link_per_pair_coloured_by_what_both_ends_say():
    results = _mesh('h1', 'h2', 'h3')
    assert states(results) == {('h1', 'h2'): 'up', ('h1', 'h3'): 'up', ('h2', 'h3'): 'up'}
    results['h1']['interfaces']['wg0']['peers'][1].update(connected=False, latest_handshake_age=900)     # h1 -> h3
    assert states(results)[('h1', 'h3')] == 'half'
    results['h3']['interfaces']['wg0']['peers'][0].update(connected=False, latest_handshake_age=900)     # h3 -> h1
    assert states(results)[('h1', 'h3')] == 'down'


def test_a_member_that_was_not_read_leaves_its_links_unknown_and_is_drawn_as_such():
    drawn = status_page.layout(wireguard_status(_mesh('h1', 'h2', 'h3', h3=None)))
    links = dict(((link['a'], link['b']), link['state']) for link in drawn['links'])
    assert links[('h1', 'h3')] == 'unknown' and links[('h1', 'h2')] == 'up'
    assert [m['status'] for m in drawn['members'] if m['name'] == 'h3'] == ['UNREACHABLE']


def test_routed_subnets_are_written_under_the_member_that_carries_them():
    results = _mesh('h1', 'h2')
    results['h1']['interfaces']['wg0']['peers'][0]['allowed_ips'].append('192.0.2.0/24')               # h2's LAN
    drawn = status_page.layout(wireguard_status(results))
    assert dict((m['name'], m['subnets']) for m in drawn['members']) == {'h1': [], 'h2': ['192.0.2.0/24']}


def test_the_page_escapes_what_hosts_say_and_embeds_the_report_without_a_raw_angle_bracket():
    results = _mesh('h1', 'h2')
    results['h1']['interfaces']['wg0']['peers'][0]['description'] = '</script><b>x'
    page = status_page.render(wireguard_status(results), '2026-12-05T12:00:00Z')
    assert '<b>x' not in page and '&lt;/script&gt;&lt;b&gt;x' in page
    embedded = re.search(r'<script type="application/json" id="report">(.*?)</script>', page, re.S).group(1)
    assert '<' not in embedded
    assert json.loads(embedded)['summary']['text'] == '2 of 2 peers connected'
    assert 'State read at 2026-12-05T12:00:00Z' in page
    assert page.count('<line class="link up"') == 1 and page.count('<g class="member ok"') == 2


def test_ipsec_sites_are_joined_by_their_tunnels_and_an_appliance_is_a_node_of_its_own():
    def sa(name, remote_id, state='INSTALLED'):
        return {'name': name, 'uniqueid': 1, 'state': 'ESTABLISHED', 'remote_host': '198.18.1.20', 'remote_id': remote_id,
                'algorithms': 'AES_GCM_16-256', 'rekey_time': 100, 'child_sas': [{'name': 'net', 'state': state}]}
    info = {'west': {'connections': {'west-east': {'established': True}, 'west-box': {'established': True}},
                     'sas': [sa('west-east', 'east'), sa('west-box', 'box.appliance')]},
            'east': {'connections': {'west-east': {'established': False}}, 'sas': []},
            'north': None}
    report = status_page.reports.ipsec_status(info)
    drawn = status_page.layout_ipsec(report)
    links = dict(((link['a'], link['b']), link['state']) for link in drawn['links'])
    assert links == {('east', 'west'): 'half', ('west', 'box.appliance'): 'up'}
    assert [(m['name'], m['status']) for m in drawn['members']] == [
        ('east', 'ok'), ('north', 'UNREACHABLE'), ('west', 'ok'), ('box.appliance', 'outside')]
    page = status_page.render_ipsec(info, '2026-12-05T12:00:00Z')
    assert 'class="member outside" data-name="box.appliance"' in page and '<line class="link half"' in page
    assert '2 of 3 connections established; north unreachable' in page


def test_one_page_of_the_whole_vpn_has_a_section_per_part_with_a_host():
    info = {'west': {'connections': {'west-east': {'established': False}}, 'sas': []}, 'east': None}
    page = status_page.render_vpn(_mesh('h1', 'h2'), info, '2026-12-05T12:00:00Z', expected=['west-east'])
    wireguard, ipsec = re.findall(r'<section id="(\w+)">(.*?)</section>', page, re.S)
    assert (wireguard[0], ipsec[0]) == ('wireguard', 'ipsec')
    assert wireguard[1].count('<g class="member ok"') == 2 and '<line class="link up"' in wireguard[1]
    assert 'class="member UNREACHABLE" data-name="east"' in ipsec[1] and 'data-name="h1"' not in ipsec[1]
    assert '<h2>IPsec</h2>' in page and '0 of 1 connections established; east unreachable' in ipsec[1]
    embedded = re.search(r'<script type="application/json" id="report">(.*?)</script>', page, re.S).group(1)
    assert sorted(json.loads(embedded)) == ['ipsec', 'summary', 'wireguard']
    only_mesh = status_page.render_vpn(_mesh('h1', 'h2'), {}, '')
    assert re.findall(r'<section id="(\w+)">', only_mesh) == ['wireguard'] and '<h2>' not in only_mesh
