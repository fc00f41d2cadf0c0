# -*- coding: utf-8 -*-
# Copyright: meshforge.vpn contributors
# GNU General Public License v3.0+ (see https://www.gnu.org/licenses/gpl-3.0.txt)

from __future__ import absolute_import, division, print_function

__metaclass__ = type

import json

from ansible_collections.meshforge.vpn.plugins.plugin_utils.report import wireguard_status, wireguard_table


def test_table_one_line_per_peer_and_summary():
    peer = {'public_key': 'A' * 43 + '=', 'description': 'h2', 'endpoint': '198.18.1.12:51820',
            'allowed_ips': ['10.88.0.2/32'], 'latest_handshake_age': 75, 'transfer_rx': 2048,
            'transfer_tx': 100, 'connected': True}
    down = dict(peer, description=None, latest_handshake_age=None, connected=False)
    lines = wireguard_table({'h1': {'wg0': {'peers': [peer, down]}}, 'h9': {}})
    assert lines[0].split()[:3] == ['HOST', 'IFACE', 'PEER']
    assert 'h2' in lines[1] and '1m15s ago' in lines[1] and '2.0 KiB' in lines[1] and 'connected' in lines[1]
    assert 'AAAAAAAAAA...' in lines[2] and 'never' in lines[2] and 'DOWN' in lines[2]
    assert 'no interface' in lines[3]
    assert lines[-1] == '1 of 2 peers connected; no WireGuard interface on h9'


def test_ipsec_table_one_line_per_child_and_down_connections():
    from ansible_collections.meshforge.vpn.plugins.plugin_utils.report import ipsec_table
    child = {'name': 'net', 'uniqueid': 3, 'state': 'INSTALLED', 'algorithms': 'AES_GCM_16-256/ECP_384',
             'local_ts': ['198.19.11.0/24'], 'remote_ts': ['198.19.12.0/24'], 'bytes_in': 2048, 'packets_in': 4,
             'bytes_out': 84, 'packets_out': 1}
    sa = {'name': 'west-east', 'uniqueid': 1, 'state': 'ESTABLISHED', 'remote_host': '198.18.1.12',
          'remote_id': 'east', 'algorithms': 'AES_GCM_16-256/PRF_HMAC_SHA2_384/ECP_384', 'child_sas': [child]}
    info = {'west': {'connections': {'west-east': {'established': True}, 'to-box': {'established': False}},
                     'sas': [sa]},
            'idle': {'connections': {}, 'sas': []}}
    lines = ipsec_table(info)
    assert lines[0].split()[:3] == ['HOST', 'CONNECTION', 'IKE']
    assert lines[1].startswith('idle') and 'no connection' in lines[1]
    row = lines[3]
    assert 'west-east' in row and '#1 ESTABLISHED' in row and '198.18.1.12[east]' in row and 'net #3' in row
    assert '198.19.11.0/24 === 198.19.12.0/24' in row and '2.0 KiB/4p' in row and '84 B/1p' in row and row.endswith('up')
    assert 'to-box' in lines[2] and lines[2].endswith('DOWN')
    assert lines[-1] == '1 of 2 connections established'


def _key(char):
    return char * 43 + '='


def _mesh(*names, **overrides):
    """wireguard_info results of a full mesh of ``names``, every peer connected; ``overrides`` replaces a
    member's whole result."""
    results = {}
    for name in names:
        peers = [{'public_key': _key(other[-1].upper()), 'description': other, 'endpoint': '198.18.1.1:51820',
                  'allowed_ips': ['10.88.0.%s/32' % other[-1]], 'latest_handshake_age': 5, 'transfer_rx': 1,
                  'transfer_tx': 1, 'connected': True} for other in names if other != name]
        interface = {'public_key': _key(name[-1].upper()), 'peers': peers}
        results[name] = {'changed': False, 'interfaces': {'wg0': interface}}
    results.update(overrides)
    return results


def test_status_all_up_is_healthy():
    status = wireguard_status(_mesh('h1', 'h2', 'h3'))
    assert status['summary'] == {'peers_total': 6, 'peers_connected': 6, 'clients_total': 0, 'clients_connected': 0,
                                 'unreachable': [], 'failed': [], 'no_interface': [], 'healthy': True,
                                 'text': '6 of 6 peers connected'}
    peer = status['hosts']['h1']['interfaces']['wg0']['peers'][0]
    assert (peer['member'], peer['status'], peer['reason']) == ('h2', 'connected', None)
    assert wireguard_table(_mesh('h1', 'h2', 'h3'))[-1] == '6 of 6 peers connected'


def test_status_one_peer_down():
    results = _mesh('h1', 'h2', 'h3')
    results['h1']['interfaces']['wg0']['peers'][1].update(connected=False, latest_handshake_age=900)
    status = wireguard_status(results)
    peer = status['hosts']['h1']['interfaces']['wg0']['peers'][1]
    assert (peer['member'], peer['status'], peer['reason']) == ('h3', 'DOWN', 'no handshake within 180 s')
    assert status['summary']['text'] == '5 of 6 peers connected'
    assert status['summary']['healthy'] is False


def test_status_unreachable_member_has_a_row_and_is_counted():
    unreachable = {'unreachable': True, 'msg': 'Failed to connect to the host via ssh', 'changed': False}
    for result in (None, unreachable):
        results = _mesh('h1', 'h2', 'h3', h3=result)
        results['h1']['interfaces']['wg0']['peers'][1].update(connected=False, latest_handshake_age=None)
        status = wireguard_status(results)
        assert status['hosts']['h3'] == {'status': 'UNREACHABLE', 'reason': 'not reachable over SSH',
                                         'interfaces': {}}
        assert status['summary']['unreachable'] == ['h3'] and status['summary']['healthy'] is False
        assert status['summary']['text'] == '3 of 4 peers connected; h3 unreachable'
        lines = wireguard_table(results)
        assert [line.split()[:2] + line.split()[-5:-4] for line in lines if line.startswith('h3')] == [
            ['h3', '-', 'UNREACHABLE']]


def test_status_member_without_interface_is_down_whatever_the_handshake():
    results = _mesh('h1', 'h2', 'h3', h2={'changed': False, 'interfaces': {}})
    status = wireguard_status(results)
    for host in ('h1', 'h3'):
        peer = [p for p in status['hosts'][host]['interfaces']['wg0']['peers'] if p['description'] == 'h2'][0]
        assert peer['latest_handshake_age'] == 5 and peer['connected'] is True
        assert (peer['member'], peer['status'], peer['reason']) == ('h2', 'DOWN', 'h2 has no WireGuard interface')
    assert status['hosts']['h2']['status'] == 'no interface'
    assert status['summary']['text'] == '2 of 4 peers connected; no WireGuard interface on h2'
    lines = wireguard_table(results)
    assert any(line.startswith('h1') and 'DOWN' in line and 'h2 has no WireGuard interface' in line
               for line in lines)


def test_status_member_that_does_not_list_this_host_is_down():
    results = _mesh('h1', 'h2')
    results['h2']['interfaces']['wg0']['peers'] = []
    peer = wireguard_status(results)['hosts']['h1']['interfaces']['wg0']['peers'][0]
    assert (peer['status'], peer['reason']) == ('DOWN', 'h2 does not list h1 as a peer')


def test_status_failed_read_and_peer_outside_the_group():
    results = _mesh('h1', 'h2', h2={'failed': True, 'msg': 'wg: not found', 'changed': False})
    results['h1']['interfaces']['wg0']['peers'].append(
        {'public_key': _key('Z'), 'description': 'laptop', 'connected': True, 'latest_handshake_age': 3})
    status = wireguard_status(results)
    assert status['hosts']['h2'] == {'status': 'FAILED', 'reason': 'wg: not found', 'interfaces': {}}
    assert [(p['member'], p['status']) for p in status['hosts']['h1']['interfaces']['wg0']['peers']] == [
        ('h2', 'connected'), (None, 'connected')]
    assert status['summary']['text'] == '2 of 2 peers connected; h2 could not be read'


def test_status_json_shape():
    status = json.loads(json.dumps(wireguard_status(_mesh('h1', 'h2'))))
    assert sorted(status) == ['hosts', 'summary']
    assert sorted(status['hosts']['h1']) == ['interfaces', 'reason', 'status']
    assert sorted(status['hosts']['h1']['interfaces']['wg0']) == ['peers', 'public_key', 'up']
    assert {'public_key', 'description', 'member', 'status', 'reason', 'latest_handshake_age',
            'connected'} <= set(status['hosts']['h1']['interfaces']['wg0']['peers'][0])
    assert sorted(status['summary']) == ['clients_connected', 'clients_total', 'failed', 'healthy', 'no_interface',
                                         'peers_connected', 'peers_total', 'text', 'unreachable']


def test_a_member_whose_interface_is_down_is_down_at_both_ends_whatever_the_handshakes_say():
    results = _mesh('h1', 'h2', 'h3')
    results['h3']['interfaces']['wg0']['up'] = False
    status = wireguard_status(results)
    mine = status['hosts']['h3']['interfaces']['wg0']['peers']
    assert set((p['status'], p['reason']) for p in mine) == {('DOWN', 'its interface wg0 is down')}
    theirs = [p for p in status['hosts']['h1']['interfaces']['wg0']['peers'] if p['member'] == 'h3']
    assert (theirs[0]['status'], theirs[0]['reason']) == ('DOWN', 'h3 has its interface wg0 down')
    assert status['summary']['text'] == '2 of 6 peers connected' and not status['summary']['healthy']


def test_ipsec_status_document_with_a_down_tunnel_and_an_unreachable_host():
    from ansible_collections.meshforge.vpn.plugins.plugin_utils.report import ipsec_status, ipsec_table
    child = {'name': 'net', 'uniqueid': 3, 'state': 'INSTALLED', 'algorithms': 'AES_GCM_16-256', 'rekey_time': 3300,
             'local_ts': ['198.19.11.0/24'], 'remote_ts': ['198.19.12.0/24'], 'bytes_in': 2048, 'packets_in': 4,
             'bytes_out': 84, 'packets_out': 1, 'spi_in': 'c1a2b3c4'}
    sa = {'name': 'west-east', 'uniqueid': 1, 'state': 'ESTABLISHED', 'remote_host': '198.18.1.12', 'remote_id': 'east',
          'algorithms': 'AES_GCM_16-256/PRF_HMAC_SHA2_384/ECP_384', 'rekey_time': 13000, 'child_sas': [child]}
    info = {'west': {'connections': {'west-east': {'established': True}, 'to-box': {'established': False}}, 'sas': [sa]},
            'east': None, 'north': {'failed': True, 'msg': 'charon is not running'}}
    status = ipsec_status(info)
    west = status['hosts']['west']['connections']
    assert (west['west-east']['status'], west['to-box']['status']) == ('established', 'DOWN')
    assert west['to-box']['reason'] == 'no established IKE SA'
    assert west['west-east']['sas'][0]['rekey_time'] == 13000
    assert west['west-east']['sas'][0]['child_sas'][0]['bytes_in'] == 2048
    assert 'spi_in' not in west['west-east']['sas'][0]['child_sas'][0]
    assert status['hosts']['east']['status'] == 'UNREACHABLE'
    assert status['hosts']['north']['reason'] == 'charon is not running'
    assert status['summary']['text'] == '1 of 2 connections established; east unreachable; north could not be read'
    assert not status['summary']['healthy']
    lines = ipsec_table(info)
    assert any(line.startswith('east') and line.endswith('UNREACHABLE') for line in lines)
    assert lines[-1] == status['summary']['text']


def test_ipsec_connections_that_are_not_tunnels_of_the_inventory_are_listed_but_not_counted():
    from ansible_collections.meshforge.vpn.plugins.plugin_utils.report import ipsec_status
    info = {'east': {'connections': {'operator-test': {'established': False}}, 'sas': []}}
    assert not ipsec_status(info)['summary']['healthy']
    status = ipsec_status(info, expected=['west-east'])
    assert status['hosts']['east']['connections']['operator-test']['status'] == 'other'
    assert status['summary']['healthy'] and status['summary']['text'] == '0 of 0 connections established'


def test_the_whole_vpn_joins_the_parts_that_have_a_host_and_is_healthy_only_when_each_is():
    from ansible_collections.meshforge.vpn.plugins.plugin_utils.report import tunnel_names, vpn_status, vpn_table
    sites = {'west': {'connections': {'west-east': {'established': False}}, 'sas': []}}
    expected = tunnel_names([{'name': 'west-east'}])
    status = vpn_status(_mesh('h1', 'h2'), sites, expected)
    assert sorted(status) == ['ipsec', 'summary', 'wireguard']
    assert status['wireguard']['summary']['healthy'] and not status['ipsec']['summary']['healthy']
    assert status['summary'] == {'healthy': False, 'text': 'WireGuard: 2 of 2 peers connected; '
                                                           'IPsec: 0 of 1 connections established'}
    only_mesh = vpn_status(_mesh('h1', 'h2'), {})
    assert sorted(only_mesh) == ['summary', 'wireguard'] and only_mesh['summary']['healthy']
    assert vpn_status({}, None)['summary'] == {'healthy': False,
                                               'text': 'no WireGuard member, IPsec site or Nebula member in the inventory'}
    lines = vpn_table(_mesh('h1', 'h2'), sites, expected)
    assert lines[0] == '== WireGuard' and '== IPsec' in lines and lines[-1] == status['summary']['text']
    assert lines[lines.index('== IPsec') + 2].startswith('west') and 'DOWN' in lines[lines.index('== IPsec') + 2]


def test_clients_are_shown_connected_or_idle_and_never_fail_the_mesh():
    results = _mesh('h1', 'h2')
    peers = results['h1']['interfaces']['wg0']['peers']
    peers.append({'public_key': _key('x'), 'description': 'client:laptop1', 'connected': True, 'latest_handshake_age': 4,
                  'endpoint': '198.18.1.99:40000', 'allowed_ips': ['10.88.0.9/32'], 'transfer_rx': 10, 'transfer_tx': 20})
    peers.append({'public_key': _key('y'), 'description': 'client:phone', 'connected': False,
                  'latest_handshake_age': None, 'allowed_ips': ['10.88.0.10/32']})
    status = wireguard_status(results)
    shown = status['hosts']['h1']['interfaces']['wg0']['peers'][-2:]
    assert [(p['client'], p['status']) for p in shown] == [('laptop1', 'connected'), ('phone', 'idle')]
    assert status['summary']['healthy'] and status['summary']['text'] == '2 of 2 peers connected, 1 of 2 clients'
    assert (status['summary']['clients_total'], status['summary']['clients_connected']) == (2, 1)
    assert any('client:laptop1' in line and 'connected' in line for line in wireguard_table(results))


def test_dns_part_names_each_member_wrong_or_unreachable_and_fails_the_summary():
    from ansible_collections.meshforge.vpn.plugins.plugin_utils.report import vpn_status, vpn_table
    right = [{'name': 'a.mesh.example', 'expected': ['10.88.0.1'], 'got': ['10.88.0.1'], 'ok': True}]
    wrong = right + [{'name': 'b.mesh.example', 'expected': ['10.88.0.2'], 'got': [], 'ok': False}]
    status = vpn_status(None, None, None, {'a': right, 'b': right})
    assert status['dns']['summary'] == {'healthy': True, 'text': '2/2 members resolve every name right'}
    assert status['summary']['healthy'] and status['summary']['text'] == 'DNS: 2/2 members resolve every name right'
    status = vpn_status(None, None, None, {'a': right, 'b': wrong, 'c': None})
    assert status['dns']['hosts']['b'] == {'status': 'wrong', 'right': 1, 'names': 2, 'wrong': [
        {'name': 'b.mesh.example', 'expected': ['10.88.0.2'], 'got': []}]}
    assert status['dns']['hosts']['c']['status'] == 'unreachable' and not status['summary']['healthy']
    assert status['dns']['summary']['text'] == '1/3 members resolve every name right; wrong on b; UNREACHABLE c'
    lines = vpn_table(None, None, None, {'a': right, 'b': wrong})
    assert lines[0] == '== DNS' and 'b.mesh.example -> nothing' in [l for l in lines if l.startswith('b ')][0]
    assert vpn_status(None, None, None, {}) == vpn_status(None, None, None)
