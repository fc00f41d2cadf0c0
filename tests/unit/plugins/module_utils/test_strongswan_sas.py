# -*- coding: utf-8 -*-
# Copyright: meshforge.vpn contributors
# GNU General Public License v3.0+ (see https://www.gnu.org/licenses/gpl-3.0.txt)
"""module_utils/strongswan/sas.py: charon's list-sas events as plain data, and each connection's status."""

from __future__ import absolute_import, division, print_function

__metaclass__ = type

from collections import OrderedDict

from ansible_collections.meshforge.vpn.plugins.module_utils.strongswan import sas
from ansible_collections.meshforge.vpn.tests.unit.plugins.module_utils.fakevici import LIST_SA_CBC, LIST_SA_EVENT


def test_parse_list_sas_from_charon():
    parsed = sas.parse_list_sas([LIST_SA_CBC, LIST_SA_EVENT])
    assert [s['name'] for s in parsed] == ['branch', 'proof']
    proof = parsed[1]
    assert proof == {
        'name': 'proof', 'uniqueid': 1, 'version': 2, 'state': 'ESTABLISHED', 'initiator': True,
        'local_host': '198.18.0.1', 'local_port': 4500, 'local_id': 'a.proof.example',
        'remote_host': '198.18.0.2', 'remote_port': 4500, 'remote_id': 'b.proof.example', 'nat': True,
        'initiator_spi': '8553029629c83920', 'responder_spi': 'ff8f6b218d2fa51e',
        'encr_alg': 'AES_GCM_16', 'encr_keysize': 256, 'integ_alg': None, 'integ_keysize': None,
        'prf_alg': 'PRF_HMAC_SHA2_384', 'dh_group': 'ECP_384',
        'algorithms': 'AES_GCM_16-256/PRF_HMAC_SHA2_384/ECP_384',
        'established': 4, 'rekey_time': 14037, 'reauth_time': None,
        'child_sas': [{
            'name': 'net', 'uniqueid': 1, 'reqid': 1, 'state': 'INSTALLED', 'mode': 'TUNNEL', 'protocol': 'ESP',
            'encap': True, 'spi_in': '3544996f', 'spi_out': '5ff2a6b3', 'encr_alg': 'AES_GCM_16',
            'encr_keysize': 256, 'integ_alg': None, 'integ_keysize': None, 'dh_group': None, 'esn': False,
            'algorithms': 'AES_GCM_16-256', 'bytes_in': 168, 'packets_in': 2, 'last_in': 3, 'bytes_out': 168,
            'packets_out': 2, 'last_out': 3, 'installed': 4, 'rekey_time': 3413, 'life_time': 3956,
            'local_ts': ['198.19.1.0/24'], 'remote_ts': ['198.19.2.0/24']}],
    }
    branch = parsed[0]
    assert branch['state'] == 'CONNECTING' and branch['initiator'] is False and branch['reauth_time'] == 80000
    assert branch['algorithms'] == 'AES_CBC-256/HMAC_SHA2_256_128/PRF_HMAC_SHA2_256/CURVE_25519'
    lan = branch['child_sas'][0]
    assert lan['state'] == 'REKEYING' and lan['esn'] is True and lan['last_in'] is None and lan['encap'] is False
    assert lan['algorithms'] == 'AES_CBC-128/HMAC_SHA2_256_128/ECP_384'
    assert lan['local_ts'] == ['10.1.0.0/16', 'fd01::/64']


def test_connection_status():
    parsed = sas.parse_list_sas([LIST_SA_EVENT, LIST_SA_CBC])
    assert sas.connection_status(['proof', 'branch', 'idle'], parsed) == OrderedDict([
        ('branch', {'established': False, 'ike_sas': 1, 'children_installed': []}),
        ('idle', {'established': False, 'ike_sas': 0, 'children_installed': []}),
        ('proof', {'established': True, 'ike_sas': 1, 'children_installed': ['net']}),
    ])
