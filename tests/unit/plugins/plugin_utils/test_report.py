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
