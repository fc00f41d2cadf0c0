# -*- coding: utf-8 -*-
# Copyright: meshforge.vpn contributors
# GNU General Public License v3.0+ (see https://www.gnu.org/licenses/gpl-3.0.txt)

from __future__ import absolute_import, division, print_function

__metaclass__ = type

from ansible_collections.meshforge.vpn.plugins.plugin_utils.report import wireguard_table


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
    assert lines[-1] == '1 of 2 peers connected'


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
