# -*- coding: utf-8 -*-
# Copyright: meshforge.vpn contributors
# GNU General Public License v3.0+ (see https://www.gnu.org/licenses/gpl-3.0.txt)
"""The three WireGuard modules end to end through a real AnsibleModule (argument spec, fail_json, no_log),
with only its run_command and get_bin_path answered by the fake host (runner.on_host)."""

from __future__ import absolute_import, division, print_function

__metaclass__ = type

import os

import pytest

from ansible_collections.meshforge.vpn.plugins.modules import wireguard_info, wireguard_interface, wireguard_key
from ansible_collections.meshforge.vpn.tests.unit.plugins.modules.runner import on_host, run_module
from ansible_collections.meshforge.vpn.tests.unit.plugins.module_utils.fakehost import (
    FakeHost, install, make_key, public_of)

PEER = make_key('module peer')
PSK = make_key('module psk')


@pytest.fixture
def host(tmp_path, monkeypatch):
    return on_host(install(FakeHost(), str(tmp_path), monkeypatch), monkeypatch)


call = run_module


def test_key_then_interface_then_info(host, capsys):
    key_path = os.path.join(host.dir, 'wg0.key')
    result, out = call(wireguard_key, {'path': key_path}, capsys)
    private = open(key_path).read().strip()
    assert result['changed'] and result['public_key'] == public_of(private)
    assert private not in out

    args = {'name': 'wg0', 'addresses': ['10.10.0.1/24'], 'listen_port': 51820, 'private_key_file': key_path,
            'peers': [{'public_key': PEER, 'description': 'hub', 'endpoint': '198.51.100.7:51820',
                       'allowed_ips': ['10.10.0.2/32', '10.20.0.0/16'], 'preshared_key': PSK}]}
    before = len(host.changing_commands())
    predicted, out = call(wireguard_interface, args, capsys, check_mode=True, diff=True)
    assert predicted['changed'] and len(host.changing_commands()) == before
    assert PSK not in out and private not in out
    result, out = call(wireguard_interface, args, capsys, diff=True)
    assert result['changed'] and result['public_key'] == public_of(private)
    assert result['peers_added'] == [{'public_key': PEER, 'description': 'hub'}]
    assert PSK not in out and private not in out
    assert host.links['wg0']['peers'][PEER]['preshared_key'] == PSK
    again, out = call(wireguard_interface, args, capsys, diff=True)
    assert not again['changed'] and PSK not in out

    info, out = call(wireguard_info, {}, capsys)
    assert not info['changed'] and PSK not in out and private not in out
    peer = info['interfaces']['wg0']['peers'][0]
    assert (peer['description'], peer['preshared_key'], peer['connected']) == ('hub', True, False)


@pytest.mark.parametrize('module,args,field', [
    (wireguard_interface, {'name': 'wg0', 'listen_port': 70000}, 'listen_port'),
    (wireguard_interface, {'name': 'wg0', 'peers': [{'public_key': PEER, 'endpoint': 'fd00::1:51820'}]},
     'peers[0].endpoint'),
    (wireguard_interface, {'name': 'wg0', 'peers': [{'public_key': PEER, 'description': 'a\n[Peer]'}]},
     'peers[0].description'),
    (wireguard_key, {'path': 'relative.key'}, 'path'),
    (wireguard_info, {'name': 'wg0;x'}, 'name'),
])
def test_bad_input_fails_naming_the_field_and_runs_nothing(host, capsys, module, args, field):
    result, _out = call(module, args, capsys)
    assert result['failed'] and result['field'] == field
    assert result['msg'].startswith(field + ': ')
    assert host.commands == []


def test_missing_key_file_fails(host, capsys):
    result, _out = call(wireguard_interface, {'name': 'wg0'}, capsys)
    assert result['failed'] and result['field'] == 'private_key_file'
    assert host.changing_commands() == []


def test_key_absent_never_removes_the_interface_config(host, capsys):
    config = os.path.join(host.dir, 'wg0.conf')
    with open(config, 'w') as handle:
        handle.write('[Interface]\nPostUp = wg set %i private-key /etc/wireguard/wg0.key\n')
    for check_mode in (True, False):
        result, _out = call(wireguard_key, {'path': config, 'state': 'absent'}, capsys, check_mode=check_mode)
        assert result['failed'] and result['msg'].startswith('path: %s is not a WireGuard key file' % config)
    assert os.path.exists(config)


def test_interface_refuses_an_mtu_that_drops_ipv6(host, capsys):
    args = {'name': 'wg0', 'addresses': ['10.10.0.1/24', 'fd10::1/64'], 'mtu': 1200,
            'private_key_file': os.path.join(host.dir, 'wg0.key')}
    result, _out = call(wireguard_interface, args, capsys)
    assert result['failed'] and result['msg'].startswith('mtu: 1200 is below 1280') and host.commands == []


def test_key_without_wg_fails_with_missing_tools(host, capsys):
    host.tools.discard('wg')
    key_path = os.path.join(host.dir, 'wg0.key')
    result, _out = call(wireguard_key, {'path': key_path}, capsys)
    assert result['failed'] and result['missing_tools'] is True and 'wg (package wireguard-tools)' in result['msg']
    assert not os.path.exists(key_path)
