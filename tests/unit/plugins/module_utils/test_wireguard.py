# -*- coding: utf-8 -*-
# Copyright: meshforge.vpn contributors
# GNU General Public License v3.0+ (see https://www.gnu.org/licenses/gpl-3.0.txt)
"""Unit tests of the WireGuard driver, module_utils/wireguard/.

The pure functions are tested on plain data.  manage_key, manage_interface and
gather_info run against FakeSystem (tests/unit/plugins/module_utils/fakehost.py),
a model of a host that answers the commands the module runs: check mode must
predict the real run's ``changed`` and run no changing command, a second run
must change nothing, and no result may carry a secret.
"""

from __future__ import absolute_import, division, print_function

__metaclass__ = type

import base64
import copy
import json
import os
import tempfile

import pytest
from hypothesis import HealthCheck, given, settings, strategies as st

from ansible_collections.meshforge.vpn.plugins.module_utils import files
from ansible_collections.meshforge.vpn.plugins.module_utils.common import MissingTool
from ansible_collections.meshforge.vpn.plugins.module_utils.engine import steps_changed
from ansible_collections.meshforge.vpn.plugins.module_utils.validation import ValidationError
from ansible_collections.meshforge.vpn.plugins.module_utils.wireguard import service
from ansible_collections.meshforge.vpn.plugins.module_utils.wireguard.describe import (
    describe, desired_as_described, live_as_described)
from ansible_collections.meshforge.vpn.plugins.module_utils.wireguard.endpoints import endpoint_matches
from ansible_collections.meshforge.vpn.plugins.module_utils.wireguard.info import gather_info
from ansible_collections.meshforge.vpn.plugins.module_utils.wireguard.interface import manage_interface
from ansible_collections.meshforge.vpn.plugins.module_utils.wireguard.key import manage_key
from ansible_collections.meshforge.vpn.plugins.module_utils.wireguard.live import parse_dump, peer_status
from ansible_collections.meshforge.vpn.plugins.module_utils.wireguard.routing import ROUTE_PROTOCOL, wanted_routes
from ansible_collections.meshforge.vpn.plugins.module_utils.wireguard.schema import normalize_interface
from ansible_collections.meshforge.vpn.plugins.module_utils.wireguard.steps import peer_changes, plan as plan_steps
from ansible_collections.meshforge.vpn.plugins.module_utils.wireguard.wgquick import (
    MANAGED_HEADER, parse_descriptions, render_config)
from ansible_collections.meshforge.vpn.tests.unit.plugins.module_utils.fakehost import (
    CHANGING, FakeModule, FakeSystem, install, make_key, public_of)

PRIV_A = make_key('private a')
PUB_A = public_of(PRIV_A)
PUB_B = make_key('peer b')
PUB_C = make_key('peer c')
PUB_D = make_key('peer d')
PSK_1 = make_key('psk 1')
PSK_2 = make_key('psk 2')
NOW = 1763800000

ALL_DUMP = (
    'wg0\t{priv}\t{pub}\t51820\toff\n'
    'wg0\t{b}\t(none)\t198.51.100.7:51820\t10.10.0.2/32,fd10::2/128,172.20.1.0/24\t1763799990\t10240\t20480\t25\n'
    'wg0\t{c}\t{psk}\t[2001:db8::7]:51821\t10.10.0.3/32\t0\t0\t0\toff\n'
    'wg1\t(none)\t(none)\t0\t0xca6c\n'
    'wg1\t{d}\t(none)\t(none)\t(none)\t0\t0\t0\toff\n'
).format(priv=PRIV_A, pub=PUB_A, b=PUB_B, c=PUB_C, d=PUB_D, psk=PSK_1)


# ================================================================ parsing ==

def test_parse_dump_all():
    parsed = parse_dump(ALL_DUMP)
    assert sorted(parsed) == ['wg0', 'wg1']
    wg0 = parsed['wg0']
    assert (wg0['private_key'], wg0['public_key'], wg0['listen_port'], wg0['fwmark']) == (PRIV_A, PUB_A, 51820, 0)
    assert wg0['peers'][PUB_B] == {
        'public_key': PUB_B, 'preshared_key': None, 'endpoint': '198.51.100.7:51820',
        'allowed_ips': ['10.10.0.2/32', '172.20.1.0/24', 'fd10::2/128'],
        'latest_handshake': 1763799990, 'transfer_rx': 10240, 'transfer_tx': 20480, 'persistent_keepalive': 25}
    peer_c = wg0['peers'][PUB_C]
    assert (peer_c['preshared_key'], peer_c['endpoint'], peer_c['persistent_keepalive']) == (PSK_1, '[2001:db8::7]:51821', 0)
    wg1 = parsed['wg1']
    assert (wg1['private_key'], wg1['public_key'], wg1['listen_port'], wg1['fwmark']) == (None, None, 0, 0xca6c)
    assert wg1['peers'][PUB_D]['allowed_ips'] == [] and wg1['peers'][PUB_D]['endpoint'] is None


def test_parse_dump_one_interface_equals_the_all_form():
    one = ''.join(line.split('\t', 1)[1] + '\n' for line in ALL_DUMP.splitlines() if line.startswith('wg0\t'))
    assert parse_dump(one, 'wg0') == {'wg0': parse_dump(ALL_DUMP)['wg0']}


def test_parse_dump_empty_and_blank_lines():
    assert parse_dump('') == {}
    assert parse_dump('\n\n') == {}


def test_parse_dump_refuses_unknown_lines():
    with pytest.raises(ValueError):
        parse_dump('wg0\tonly\tthree\n')


@pytest.mark.parametrize('age,connected', [(0, True), (1, True), (179, True), (180, True), (181, False), (3600, False)])
def test_peer_status_connected_within_180_seconds(age, connected):
    peer = parse_dump(ALL_DUMP)['wg0']['peers'][PUB_B]
    peer['latest_handshake'] = NOW - age
    status = peer_status(peer, now=NOW)
    assert status['connected'] is connected
    assert status['latest_handshake_age'] == age
    assert status['latest_handshake'] == NOW - age


def test_peer_status_never_handshaken_and_no_psk_value():
    peer = parse_dump(ALL_DUMP)['wg0']['peers'][PUB_C]
    status = peer_status(peer, now=NOW)
    assert (status['connected'], status['latest_handshake'], status['latest_handshake_age']) == (False, None, None)
    assert status['preshared_key'] is True
    assert PSK_1 not in json.dumps(status)


def test_parse_descriptions():
    text = MANAGED_HEADER + (
        '[Interface]\nAddress = 10.10.0.1/24\nPostUp = wg set %i private-key /etc/wireguard/wg0.key\n\n'
        '# branch-1\n[Peer]\nPublicKey = {b}\nAllowedIPs = 10.10.0.2/32\n\n'
        '[Peer]\nPublicKey = {c}\n\n'
        '# laptop (Ann) #2\n[Peer]\nPublicKey={d}\n').format(b=PUB_B, c=PUB_C, d=PUB_D)
    assert parse_descriptions(text) == {PUB_B: 'branch-1', PUB_D: 'laptop (Ann) #2'}


def test_parse_descriptions_of_nothing():
    assert parse_descriptions(None) == {}
    assert parse_descriptions('') == {}


# ============================================================= validation ==

def params(**overrides):
    base = {
        'name': 'wg0', 'state': 'present', 'addresses': ['10.10.0.1/24', 'fd10::1/64'], 'listen_port': 51820,
        'private_key_file': None, 'mtu': None, 'fwmark': None, 'table': 'auto', 'implementation': 'auto',
        'purge_peers': True, 'persist': True,
        'peers': [
            {'public_key': PUB_B, 'description': 'branch-1', 'endpoint': '198.51.100.7:51820',
             'allowed_ips': ['10.10.0.2/32', 'fd10::2/128', '172.20.1.0/24'], 'persistent_keepalive': 25,
             'preshared_key': None, 'preshared_key_file': None},
            {'public_key': PUB_C, 'description': None, 'endpoint': None, 'allowed_ips': ['10.10.0.3/32'],
             'persistent_keepalive': 0, 'preshared_key': None, 'preshared_key_file': None},
        ],
    }
    base.update(overrides)
    return base


def peer_params(index, **overrides):
    peers = copy.deepcopy(params()['peers'])
    peers[index].update(overrides)
    return params(peers=peers)


def test_normalize_interface_normal_form():
    desired = normalize_interface(params(addresses=['fd10::1/64', '10.10.0.1/24'], fwmark='0x10'))
    assert desired['addresses'] == ['10.10.0.1/24', 'fd10::1/64']
    assert desired['private_key_file'] == '/etc/wireguard/wg0.key'
    assert (desired['listen_port'], desired['fwmark'], desired['table'], desired['mtu']) == (51820, 16, 'auto', None)
    assert desired['peers'][0]['allowed_ips'] == ['10.10.0.2/32', '172.20.1.0/24', 'fd10::2/128']
    assert desired['peers'][1] == {'public_key': PUB_C, 'name': None, 'description': None, 'endpoint': None,
                                   'allowed_ips': ['10.10.0.3/32'], 'persistent_keepalive': 0,
                                   'preshared_key': None, 'preshared_key_file': None}


def test_normalize_interface_absent_checks_only_the_name():
    assert normalize_interface({'name': 'wg9', 'state': 'absent', 'addresses': ['junk']}) == \
        {'name': 'wg9', 'state': 'absent'}


BAD_INPUTS = [
    (params(name='wg0-much-too-long'), 'name', 'not a valid interface name'),
    (params(name='wg 0'), 'name', 'not a valid interface name'),
    (params(name='wg0;reboot'), 'name', 'not a valid interface name'),
    (params(addresses=['10.10.0.1/33']), 'addresses[0]', 'not a valid address'),
    (params(addresses=['10.10.0.1/24', '10.10.0.1/16']), 'addresses[1]', 'listed twice'),
    (params(listen_port=65536), 'listen_port', 'out of range'),
    (params(listen_port=-1), 'listen_port', 'out of range'),
    (params(mtu=100), 'mtu', 'out of range'),
    (params(mtu=65536), 'mtu', 'out of range'),
    (params(mtu=1279), 'mtu', '1279 is below 1280, the smallest MTU that carries IPv6, and the interface has fd10::1/64'),
    (params(mtu=1200, addresses=['10.10.0.1/24']), 'mtu', 'the interface has fd10::2/128'),
    (params(private_key_file='/etc/wireguard/../shadow'), 'private_key_file', '.. component'),
    (params(fwmark='mark'), 'fwmark', 'not a number'),
    (params(table='main'), 'table', 'not an integer'),
    (params(private_key_file='wg0.key'), 'private_key_file', 'absolute path'),
    (params(private_key_file='/etc/wireguard/$(reboot).key'), 'private_key_file', 'absolute path'),
    (peer_params(0, public_key='abc'), 'peers[0].public_key', 'base64'),
    (peer_params(0, public_key=base64.b64encode(b'x' * 31).decode()), 'peers[0].public_key', '32 bytes'),
    (peer_params(1, public_key=None), 'peers[1].public_key', 'expected a string'),
    (peer_params(1, public_key=PUB_B), 'peers[1].public_key', 'same key as peers[0]'),
    (peer_params(0, allowed_ips=['10.10.0.2/32', '10.10.0.300/32']), 'peers[0].allowed_ips[1]', 'not a valid CIDR'),
    (peer_params(0, allowed_ips=['10.10.0.2/24']), 'peers[0].allowed_ips[0]', 'not a valid CIDR'),
    (peer_params(0, allowed_ips=['10.10.0.2']), 'peers[0].allowed_ips[0]', 'CIDR notation'),
    (peer_params(1, allowed_ips=['10.10.0.2/32']), 'peers[1].allowed_ips', 'already routed to peers[0]'),
    (peer_params(1, allowed_ips=['0.0.0.0/0']), 'peers[1].allowed_ips', 'table=auto'),
    (peer_params(1, allowed_ips=['::/0']), 'peers[1].allowed_ips', 'table=auto'),
    (peer_params(0, endpoint='198.51.100.7'), 'peers[0].endpoint', 'no port'),
    (peer_params(0, endpoint='2001:db8::7:51820'), 'peers[0].endpoint', '[address]:port'),
    (peer_params(0, endpoint='198.51.100.7:99999'), 'peers[0].endpoint', 'out of range'),
    (peer_params(0, endpoint='198.51.100.7:51820\nPostUp = reboot'), 'peers[0].endpoint', ''),
    (peer_params(0, description='branch\n[Peer]\nPublicKey = x'), 'peers[0].description', 'not allowed'),
    (peer_params(0, description='branch [Peer]'), 'peers[0].description', 'not allowed'),
    (peer_params(0, description='branch\rPostUp = reboot'), 'peers[0].description', 'not allowed'),
    (peer_params(0, description='branch\u2028PublicKey = x'), 'peers[0].description', 'not allowed'),
    (peer_params(1, persistent_keepalive=70000), 'peers[1].persistent_keepalive', 'out of range'),
    (peer_params(1, preshared_key='short'), 'peers[1].preshared_key', 'base64'),
    (peer_params(1, preshared_key=PSK_1, preshared_key_file='/etc/wireguard/c.psk'), 'peers[1]', 'mutually exclusive'),
    (peer_params(1, preshared_key_file='/etc/wireguard/c.psk\n[Peer]'), 'peers[1].preshared_key_file', 'absolute path'),
    (peer_params(1, preshared_key_file='/etc/wireguard/c#.psk'), 'peers[1].preshared_key_file', 'absolute path'),
]


@pytest.mark.parametrize('raw,field,problem', BAD_INPUTS, ids=['%s-%d' % (b[1], i) for i, b in enumerate(BAD_INPUTS)])
def test_normalize_interface_refuses_bad_input_naming_the_field(raw, field, problem):
    with pytest.raises(ValidationError) as info:
        normalize_interface(raw)
    assert info.value.field == field
    assert problem in info.value.problem


@pytest.mark.parametrize('table', ['off', '1000'])
def test_default_route_is_allowed_with_table_off_or_a_number(table):
    raw = peer_params(1, allowed_ips=['0.0.0.0/0', '::/0'])
    raw['table'] = table
    desired = normalize_interface(raw)
    assert desired['table'] == table
    assert desired['peers'][1]['allowed_ips'] == ['0.0.0.0/0', '::/0']


def test_mtu_below_1280_is_fine_without_ipv6():
    ipv4_peers = [dict(p, allowed_ips=[a for a in p['allowed_ips'] if ':' not in a]) for p in params()['peers']]
    assert normalize_interface(params(mtu=1200, addresses=['10.10.0.1/24'], peers=ipv4_peers))['mtu'] == 1200
    # IPv6 allowed IPs that get no route (table off) do not need an IPv6 MTU
    assert normalize_interface(params(mtu=576, addresses=['10.10.0.1/24'], table='off'))['mtu'] == 576


def test_duplicate_allowed_ips_within_one_peer_collapse():
    desired = normalize_interface(peer_params(1, allowed_ips=['10.10.0.3/32', '10.10.0.3/32 ']))
    assert desired['peers'][1]['allowed_ips'] == ['10.10.0.3/32']


# ============================================================== difference ==

def live_peer(**overrides):
    peer = {'public_key': PUB_B, 'preshared_key': None, 'endpoint': '198.51.100.7:51820',
            'allowed_ips': ['10.10.0.2/32', '172.20.1.0/24', 'fd10::2/128'], 'latest_handshake': NOW - 10,
            'transfer_rx': 1, 'transfer_tx': 2, 'persistent_keepalive': 25}
    peer.update(overrides)
    return peer


def desired_peer(**overrides):
    return normalize_interface(peer_params(0, **overrides))['peers'][0]


def no_dns(host, port):
    raise AssertionError('resolved %s although the endpoint is an address' % host)


def test_peer_changes_none():
    assert peer_changes(desired_peer(), live_peer(), None, now=NOW, resolve=no_dns) == []


@pytest.mark.parametrize('live,psk,fields', [
    (live_peer(allowed_ips=['10.10.0.2/32']), None, ['allowed_ips']),
    (live_peer(persistent_keepalive=0), None, ['persistent_keepalive']),
    (live_peer(), PSK_1, ['preshared_key']),
    (live_peer(preshared_key=PSK_1), None, ['preshared_key']),
    (live_peer(preshared_key=PSK_2), PSK_1, ['preshared_key']),
    (live_peer(endpoint=None), None, ['endpoint']),
    (live_peer(endpoint='198.51.100.8:51820', latest_handshake=0), None, ['endpoint']),
    (live_peer(endpoint='198.51.100.7:51821', latest_handshake=NOW - 181), None, ['endpoint']),
    (live_peer(allowed_ips=[], persistent_keepalive=0, endpoint=None), PSK_1,
     ['allowed_ips', 'persistent_keepalive', 'preshared_key', 'endpoint']),
])
def test_peer_changes_fields(live, psk, fields):
    assert peer_changes(desired_peer(), live, psk, now=NOW, resolve=no_dns) == fields


@pytest.mark.parametrize('age', [0, 60, 180])
def test_peer_changes_roamed_connected_peer_is_no_change(age):
    live = live_peer(endpoint='203.0.113.50:61000', latest_handshake=NOW - age)
    assert peer_changes(desired_peer(), live, None, now=NOW, resolve=no_dns) == []


def test_peer_changes_peer_without_configured_endpoint_keeps_its_own():
    live = live_peer(endpoint='203.0.113.50:61000', latest_handshake=0)
    assert peer_changes(desired_peer(endpoint=None), live, None, now=NOW, resolve=no_dns) == []


def test_peer_changes_dns_endpoint_uses_resolve():
    asked = []

    def resolve(host, port):
        asked.append((host, port))
        return {'198.51.100.7', '2001:db8::7'}

    desired = desired_peer(endpoint='hub.example.test:51820')
    stale = NOW - 1000  # not connected, so only the resolution can make it match
    assert peer_changes(desired, live_peer(latest_handshake=stale), None, now=NOW, resolve=resolve) == []
    assert peer_changes(desired, live_peer(endpoint='[2001:db8::7]:51820', latest_handshake=stale), None,
                        now=NOW, resolve=resolve) == []
    assert peer_changes(desired, live_peer(endpoint='198.51.100.9:51820', latest_handshake=stale), None,
                        now=NOW, resolve=resolve) == ['endpoint']
    assert peer_changes(desired, live_peer(endpoint='198.51.100.7:51821', latest_handshake=stale), None,
                        now=NOW, resolve=resolve) == ['endpoint']
    assert asked == [('hub.example.test', 51820)] * 3
    assert peer_changes(desired, live_peer(latest_handshake=stale), None, now=NOW,
                        resolve=lambda h, p: set()) == ['endpoint']


def test_endpoint_matches():
    assert endpoint_matches(None, '198.51.100.7:1')
    assert not endpoint_matches('198.51.100.7:1', None)
    assert endpoint_matches('[2001:db8::7]:1', '[2001:db8::7]:1')
    assert not endpoint_matches('[2001:db8::7]:1', '[2001:db8::8]:1', resolve=no_dns)


# ================================================================ planning ==

def live_state(desired, private_key=PRIV_A, psks=None):
    """The live state a host has after applying ``desired``."""
    psks = psks or {}
    return {
        'name': desired['name'], 'implementation': 'kernel', 'up': True, 'mtu': desired['mtu'] or 1420,
        'addresses': list(desired['addresses']), 'listen_port': desired['listen_port'] or 43123,
        'fwmark': desired['fwmark'], 'private_key_value': private_key, 'public_key': public_of(private_key),
        'peers': dict((p['public_key'], {
            'public_key': p['public_key'], 'preshared_key': psks.get(p['public_key']),
            'endpoint': p['endpoint'], 'allowed_ips': list(p['allowed_ips']), 'latest_handshake': NOW - 5,
            'transfer_rx': 0, 'transfer_tx': 0, 'persistent_keepalive': p['persistent_keepalive']})
            for p in desired['peers']),
        'routes': wanted_routes(desired),
    }


def plan(desired, live, private_key=PRIV_A, psks=None):
    return plan_steps(desired, live, private_key, psks or {}, now=NOW)


def test_plan_new_interface():
    desired = normalize_interface(params(mtu=1380, fwmark='0x10'))
    steps = plan(desired, None)
    assert steps['create'] and steps['up']
    assert steps['interface'] == ['private_key', 'listen_port', 'fwmark']
    assert steps['addresses_add'] == ['10.10.0.1/24', 'fd10::1/64'] and steps['addresses_del'] == []
    assert steps['mtu'] == 1380
    assert steps['peers_add'] == [PUB_B, PUB_C] and steps['peers_remove'] == [] and steps['peers_change'] == {}
    assert steps['routes_add'] == ['172.20.1.0/24'] and steps['routes_del'] == []
    assert steps_changed(steps)


def test_plan_converged_is_empty():
    desired = normalize_interface(params())
    steps = plan(desired, live_state(desired))
    assert not steps_changed(steps), steps


def test_plan_differences():
    desired = normalize_interface(params())
    live = live_state(desired, private_key=make_key('other'))
    live['addresses'] = ['10.10.0.1/24', '10.99.0.1/24']
    live['listen_port'] = 51821
    live['up'] = False
    live['peers'][PUB_C]['allowed_ips'] = []
    live['peers'][PUB_D] = dict(live['peers'][PUB_C], public_key=PUB_D)
    live['routes'] = ['172.20.1.0/24', '192.168.99.0/24']
    steps = plan(desired, live)
    assert not steps['create'] and steps['up']
    assert steps['interface'] == ['private_key', 'listen_port']
    assert (steps['addresses_add'], steps['addresses_del']) == (['fd10::1/64'], ['10.99.0.1/24'])
    assert steps['peers_change'] == {PUB_C: ['allowed_ips']}
    assert steps['peers_remove'] == [PUB_D]
    assert (steps['routes_add'], steps['routes_del']) == ([], ['192.168.99.0/24'])

    kept = plan(dict(desired, purge_peers=False), live)
    assert kept['peers_remove'] == []


def test_plan_random_listen_port_is_left_alone():
    desired = normalize_interface(params(listen_port=None))
    assert desired['listen_port'] == 0
    assert not steps_changed(plan(desired, live_state(desired)))


def test_plan_roamed_peer_is_not_a_change():
    desired = normalize_interface(params())
    live = live_state(desired)
    live['peers'][PUB_B]['endpoint'] = '203.0.113.9:4500'
    assert not steps_changed(plan(desired, live))
    live['peers'][PUB_B]['latest_handshake'] = NOW - 600
    assert plan(desired, live)['peers_change'] == {PUB_B: ['endpoint']}


def test_plan_psk():
    desired = normalize_interface(peer_params(1, preshared_key=PSK_1))
    psks = {PUB_B: None, PUB_C: PSK_1}
    assert not steps_changed(plan(desired, live_state(desired, psks=psks), psks=psks))
    assert plan(desired, live_state(desired), psks=psks)['peers_change'] == {PUB_C: ['preshared_key']}


# ========================================================== config & routes ==

def test_render_config():
    desired = normalize_interface(peer_params(1, preshared_key=PSK_1, persistent_keepalive=15))
    desired['mtu'] = 1380
    desired['fwmark'] = 0xca6c
    text = render_config(desired)
    assert text == (
        MANAGED_HEADER +
        '[Interface]\n'
        'Address = 10.10.0.1/24, fd10::1/64\n'
        'ListenPort = 51820\n'
        'MTU = 1380\n'
        'FwMark = 0xca6c\n'
        'Table = off\n'
        'PostUp = wg set %i private-key /etc/wireguard/wg0.key\n'
        'PostUp = ip route replace 172.20.1.0/24 dev %i table main proto 109\n'
        '\n'
        '# branch-1\n'
        '[Peer]\n'
        'PublicKey = ' + PUB_B + '\n'
        'Endpoint = 198.51.100.7:51820\n'
        'AllowedIPs = 10.10.0.2/32, 172.20.1.0/24, fd10::2/128\n'
        'PersistentKeepalive = 25\n'
        '\n'
        '[Peer]\n'
        'PublicKey = ' + PUB_C + '\n'
        'PresharedKey = ' + PSK_1 + '\n'
        'AllowedIPs = 10.10.0.3/32\n'
        'PersistentKeepalive = 15\n')
    assert 'PrivateKey' not in text
    assert parse_descriptions(text) == {PUB_B: 'branch-1'}


def test_render_config_never_holds_the_private_key_and_loads_key_files():
    desired = normalize_interface(peer_params(1, preshared_key_file='/etc/wireguard/psk/c.psk'))
    text = render_config(desired)
    assert PRIV_A not in text and 'PrivateKey' not in text
    # a PSK that lives in a file stays there: PostUp loads it, as it loads the private key
    assert PSK_2 not in text
    interface_section = text.split('[Peer]', 1)[0]
    assert 'PostUp = wg set %%i peer %s preshared-key /etc/wireguard/psk/c.psk\n' % PUB_C in interface_section
    assert 'PostUp = wg set %i private-key /etc/wireguard/wg0.key\n' in interface_section


def test_render_config_minimal():
    desired = normalize_interface({'name': 'wg1', 'table': 'off', 'private_key_file': '/k/wg1.key'})
    expected = MANAGED_HEADER + '[Interface]\nTable = off\nPostUp = wg set %i private-key /k/wg1.key\n'
    assert render_config(desired) == expected


descriptions = st.text(min_size=1, max_size=40).filter(lambda t: t.strip() == t and t)


@given(st.lists(descriptions, min_size=1, max_size=4))
def test_descriptions_round_trip_through_the_config_file(texts):
    peers = []
    for index, text in enumerate(texts):
        peers.append({'public_key': make_key('p%d' % index), 'description': text,
                      'allowed_ips': ['10.77.%d.0/24' % index]})
    try:
        desired = normalize_interface({'name': 'wg0', 'peers': peers})
    except ValidationError as exc:
        assert exc.field.endswith('.description')
        return
    rendered = render_config(desired)
    # one comment line per peer, and no line that wg-quick would read as a section or a key
    assert rendered.count('[Peer]') == len(texts)
    for line in rendered.splitlines():
        assert not line.startswith('#') or line[2:] in texts or line == MANAGED_HEADER.strip()
    expected = dict((p['public_key'], p['description']) for p in desired['peers']
                    if p['description'] != MANAGED_HEADER.strip()[2:])
    assert parse_descriptions(rendered) == expected


def test_wanted_routes():
    desired = normalize_interface(peer_params(1, allowed_ips=['10.10.0.3/32', '10.20.0.0/16', 'fd20::/48',
                                                              '10.10.0.0/25']))
    assert wanted_routes(desired) == ['10.20.0.0/16', '172.20.1.0/24', 'fd20::/48']
    assert wanted_routes(dict(desired, table='off')) == []
    assert wanted_routes(dict(desired, addresses=[])) == [
        '10.10.0.0/25', '10.10.0.2/32', '10.10.0.3/32', '10.20.0.0/16', '172.20.1.0/24', 'fd10::2/128', 'fd20::/48']


def test_describe_never_shows_a_psk_or_private_key():
    desired = normalize_interface(peer_params(1, preshared_key=PSK_1))
    psks = {PUB_C: PSK_1}
    after = describe(desired_as_described(desired, psks), {PUB_B: 'branch-1'})
    live = live_state(desired, psks={PUB_C: PSK_2})
    before = describe(live_as_described(live, desired['private_key_file'], True), {})
    for text in (after, before):
        assert PSK_1 not in text and PSK_2 not in text and PRIV_A not in text
        assert 'preshared_key: set' in text
    assert 'peer %s (branch-1)' % PUB_B in after
    assert 'route 172.20.1.0/24 dev wg0' in after
    assert 'private_key: from /etc/wireguard/wg0.key' in before
    assert 'not from' in describe(live_as_described(live, '/k', False), {})
    assert describe(None, {}) == ''


# ======================================================= against a host ==

@pytest.fixture
def host(tmp_path, monkeypatch):
    """A FakeSystem with the module's paths moved under tmp_path."""
    return install(FakeSystem(), str(tmp_path), monkeypatch)


def snapshot(*dirs):
    """Every file under ``dirs`` with its mode and content."""
    found = {}
    for top in dirs:
        for root, _dirs, names in os.walk(top):
            for name in names:
                path = os.path.join(root, name)
                with open(path) as handle:
                    found[path] = (os.stat(path).st_mode & 0o7777, handle.read())
    return found


def run(system, func, params, check_mode=False, diff=True):
    """One module run; returns (result, module, changing commands it ran)."""
    module = FakeModule(system, params, check_mode=check_mode, diff=diff)
    before = len(system.commands)
    result = func(module)
    changing = [argv for kind, argv in system.commands[before:] if kind is CHANGING]
    return result, module, changing


def assert_no_secret(result, *secrets):
    text = json.dumps(result)
    for secret in secrets:
        assert secret not in text


def check_then_apply(system, func, params, *secrets):
    """Check mode, then the real run: same ``changed``, and check mode changed nothing. Returns the real result."""
    files_before = snapshot(system.dir, system.dropins)
    state_before = json.dumps([system.links, system.routes, sorted(system.enabled_units)], sort_keys=True)
    predicted, _module, changing = run(system, func, params, check_mode=True)
    assert changing == [], 'check mode ran %s' % changing
    assert snapshot(system.dir, system.dropins) == files_before
    assert json.dumps([system.links, system.routes, sorted(system.enabled_units)], sort_keys=True) == state_before
    result, module, changing = run(system, func, params)
    assert result['changed'] == predicted['changed']
    if not result['changed']:
        assert changing == []
    for key in ('peers_added', 'peers_removed', 'peers_changed', 'config_changed'):
        if key in result:
            assert predicted[key] == result[key], key
    assert_no_secret(predicted, *secrets)
    assert_no_secret(result, *secrets)
    return result, module


def write_key(system, name='wg0', key=PRIV_A, mode=0o600):
    path = os.path.join(system.dir, '%s.key' % name)
    files.write_atomic(path, key + '\n', mode)
    return path


# ------------------------------------------------------------- manage_key --

def key_params(system, **overrides):
    base = {'path': os.path.join(system.dir, 'wg0.key'), 'state': 'present', 'rotate': False}
    base.update(overrides)
    return base


def test_manage_key_creates_once(host):
    result, module = check_then_apply(host, manage_key, key_params(host))
    assert result['changed'] and not result['rotated']
    path = result['path']
    key = files.read_text(path).strip()
    assert files.file_mode(path) == 0o600
    assert result['public_key'] == public_of(key)
    assert key in module.no_log_values
    assert_no_secret(result, key)
    assert host.genkey_count == 1

    again, module, changing = run(host, manage_key, key_params(host))
    assert not again['changed'] and changing == []
    assert again['public_key'] == result['public_key']
    assert files.read_text(path).strip() == key
    checked, _module, _changing = run(host, manage_key, key_params(host), check_mode=True)
    assert not checked['changed'] and checked['public_key'] == result['public_key']
    assert_no_secret([again, checked], key)


def test_manage_key_check_mode_on_a_new_host_returns_no_key(host):
    result, _module, changing = run(host, manage_key, key_params(host), check_mode=True)
    assert result['changed'] and result['public_key'] is None and changing == []
    assert host.genkey_count == 0 and not os.path.exists(result['path'])


def test_manage_key_fixes_the_mode_and_keeps_the_key(host):
    path = write_key(host, mode=0o644)
    result, _module = check_then_apply(host, manage_key, key_params(host), PRIV_A)
    assert result['changed'] and not result['rotated'] and result['public_key'] == PUB_A
    assert files.file_mode(path) == 0o600 and files.read_text(path).strip() == PRIV_A
    assert host.genkey_count == 0


def test_manage_key_rotates(host):
    path = write_key(host)
    result, _module = check_then_apply(host, manage_key, key_params(host, rotate=True), PRIV_A)
    new = files.read_text(path).strip()
    assert result['changed'] and result['rotated'] and new != PRIV_A
    assert result['public_key'] == public_of(new)
    assert_no_secret(result, new)


def test_manage_key_absent(host):
    path = write_key(host)
    result, _module = check_then_apply(host, manage_key, key_params(host, state='absent'), PRIV_A)
    assert result['changed'] and not os.path.exists(path)
    again, _module, _changing = run(host, manage_key, key_params(host, state='absent'))
    assert not again['changed']


@pytest.mark.parametrize('content', [
    'garbage\n', '', PRIV_A + '\n' + PRIV_A + '\n', PRIV_A + '\n\n', ' ' + PRIV_A + '\n', PRIV_A[:-2] + '\n',
    MANAGED_HEADER + '[Interface]\nPostUp = wg set %i private-key /etc/wireguard/wg0.key\n',
], ids=['garbage', 'empty', 'two keys', 'two lines', 'blank', 'short', 'wg-quick config'])
def test_manage_key_absent_refuses_a_file_that_is_not_exactly_a_key(host, content):
    path = os.path.join(host.dir, 'wg0.conf')
    files.write_atomic(path, content, 0o600)
    for check_mode in (True, False):
        with pytest.raises(ValidationError) as info:
            run(host, manage_key, key_params(host, path=path, state='absent'), check_mode=check_mode)
        assert info.value.field == 'path' and PRIV_A not in str(info.value)
        assert 'is not a WireGuard key file' in str(info.value) and 'it is not removed' in str(info.value)
    assert files.read_text(path) == content


@pytest.mark.parametrize('state', ['present', 'absent'])
def test_manage_key_refuses_a_directory(host, state):
    with pytest.raises(ValidationError) as info:
        run(host, manage_key, key_params(host, path=host.dir, state=state))
    assert str(info.value) == 'path: %s cannot be read as a key file: is a directory' % host.dir
    assert os.path.isdir(host.dir)


@pytest.mark.parametrize('path', ['{dir}/../wg0.key', '{dir}/./wg0.key', '{dir}//wg0.key', 'wireguard/wg0.key'])
def test_manage_key_refuses_paths_that_do_not_say_where_they_lead(host, path):
    write_key(host)
    for state in ('present', 'absent'):
        with pytest.raises(ValidationError) as info:
            run(host, manage_key, key_params(host, path=path.format(dir=host.dir), state=state))
        assert info.value.field == 'path'
    assert files.read_text(os.path.join(host.dir, 'wg0.key')) == PRIV_A + '\n' and host.commands == []


def test_manage_key_refuses_a_symbolic_link(host):
    target = write_key(host, name='real')
    os.symlink(target, os.path.join(host.dir, 'wg0.key'))
    with pytest.raises(ValidationError) as info:
        run(host, manage_key, key_params(host, state='absent'))
    assert info.value.field == 'path' and 'is a symlink' in str(info.value)
    assert os.path.exists(target) and os.path.islink(os.path.join(host.dir, 'wg0.key'))


def test_manage_key_refuses_a_corrupt_file_and_leaves_it(host):
    path = os.path.join(host.dir, 'wg0.key')
    files.write_atomic(path, 'garbage\n', 0o600)
    with pytest.raises(ValidationError) as info:
        run(host, manage_key, key_params(host))
    assert info.value.field == 'path'
    assert files.read_text(path) == 'garbage\n' and host.changing_commands() == []


def test_manage_key_refuses_a_relative_path(host):
    with pytest.raises(ValidationError) as info:
        run(host, manage_key, key_params(host, path='wg0.key'))
    assert info.value.field == 'path' and host.commands == []


def test_manage_key_without_wg(host):
    host.tools.discard('wg')
    with pytest.raises(MissingTool):
        run(host, manage_key, key_params(host))
    assert host.commands == []


# ------------------------------------------------------- manage_interface --

def iface_params(system, **overrides):
    base = params(private_key_file=os.path.join(system.dir, 'wg0.key'))
    base.update(overrides)
    return base


def converge(system, params_, *secrets):
    """Apply ``params_`` (checked first), then prove a second run changes nothing."""
    result, module = check_then_apply(system, manage_interface, params_, PRIV_A, *secrets)
    again, _module, changing = run(system, manage_interface, params_)
    assert not again['changed'], again
    assert changing == []
    assert_no_secret(again, PRIV_A, *secrets)
    checked, _module, _changing = run(system, manage_interface, params_, check_mode=True)
    assert not checked['changed']
    return result, module


@pytest.mark.parametrize('kernel,systemd', [(True, False), (False, False), (True, True), (False, True)])
def test_manage_interface_creates_then_converges(host, kernel, systemd):
    host.kernel_wireguard = kernel
    host.systemd = systemd
    write_key(host)
    result, module = converge(host, iface_params(host))
    assert result['changed'] and result['config_changed']
    assert result['implementation'] == ('kernel' if kernel else 'userspace')
    assert result['public_key'] == PUB_A
    assert [p['public_key'] for p in result['peers_added']] == [PUB_B, PUB_C]
    assert result['peers_added'][0]['description'] == 'branch-1'
    assert PRIV_A in module.no_log_values

    link = host.links['wg0']
    assert link['kind'] == ('wireguard' if kernel else 'tun') and link['up']
    assert link['private_key'] == PRIV_A and link['listen_port'] == 51820
    assert sorted(link['addresses']) == ['10.10.0.1/24', 'fd10::1/64']
    assert link['peers'][PUB_B]['endpoint'] == '198.51.100.7:51820'
    assert link['peers'][PUB_B]['persistent_keepalive'] == 25
    assert [r['dst'] for r in host.routes if r['protocol'] == ROUTE_PROTOCOL] == ['172.20.1.0/24']

    config = os.path.join(host.dir, 'wg0.conf')
    assert result['config_file'] == config and files.file_mode(config) == 0o600
    assert PRIV_A not in files.read_text(config)
    assert (('wg-quick@wg0' in host.enabled_units), os.path.exists(service.dropin_path('wg0'))) == \
        (systemd, systemd and not kernel)


def test_manage_interface_diff_names_peers_and_hides_secrets(host):
    write_key(host)
    psk_file = os.path.join(host.dir, 'c.psk')
    files.write_atomic(psk_file, PSK_2 + '\n', 0o600)
    wanted = iface_params(host, peers=[dict(params()['peers'][0], preshared_key=PSK_1),
                                       dict(params()['peers'][1], preshared_key_file=psk_file)])
    result, module = converge(host, wanted, PSK_1, PSK_2)
    assert {PSK_1, PSK_2} <= module.no_log_values
    assert host.links['wg0']['peers'][PUB_B]['preshared_key'] == PSK_1
    assert host.links['wg0']['peers'][PUB_C]['preshared_key'] == PSK_2
    assert result['diff']['before'] == 'config %s: absent\n' % os.path.join(host.dir, 'wg0.conf')
    assert 'peer %s (branch-1)' % PUB_B in result['diff']['after']
    assert 'preshared_key: set' in result['diff']['after']
    # no temporary PSK file is left behind
    assert sorted(os.listdir(host.dir)) == ['c.psk', 'wg0.conf', 'wg0.key']
    config = files.read_text(os.path.join(host.dir, 'wg0.conf'))
    assert PSK_2 not in config and PRIV_A not in config

    # removing the PSK clears it
    converge(host, iface_params(host))
    assert host.links['wg0']['peers'][PUB_B]['preshared_key'] is None


CHANGES = [
    ('add a peer', lambda p: p['peers'].append({'public_key': PUB_D, 'allowed_ips': ['10.10.0.4/32']}),
     'peers_added'),
    ('remove a peer', lambda p: p['peers'].pop(1), 'peers_removed'),
    ('allowed ips', lambda p: p['peers'][1].update(allowed_ips=['10.10.0.3/32', '10.30.0.0/16', '198.18.5.5/32',
                                                                'fd20::5/128']), 'peers_changed'),
    ('keepalive', lambda p: p['peers'][1].update(persistent_keepalive=10), 'peers_changed'),
    ('endpoint', lambda p: p['peers'][0].update(endpoint='[2001:db8::9]:51820'), 'peers_changed'),
    ('psk', lambda p: p['peers'][0].update(preshared_key=PSK_1), 'peers_changed'),
    ('description only', lambda p: p['peers'][1].update(description='laptop'), 'config_changed'),
    ('address', lambda p: p.update(addresses=['10.10.0.1/24']), None),
    ('listen port', lambda p: p.update(listen_port=51821), None),
    ('mtu', lambda p: p.update(mtu=1280), None),
    ('fwmark', lambda p: p.update(fwmark='0x20'), None),
    ('table off', lambda p: p.update(table='off'), None),
]


@pytest.mark.parametrize('what,change,reported', CHANGES, ids=[c[0] for c in CHANGES])
def test_manage_interface_changes_only_the_difference(host, what, change, reported):
    write_key(host)
    converge(host, iface_params(host))
    untouched = copy.deepcopy(host.links['wg0']['peers'])
    wanted = iface_params(host)
    change(wanted)
    result, _module = converge(host, wanted, PSK_1)
    assert result['changed']
    if reported == 'config_changed':
        assert result['config_changed']
    elif reported:
        assert result[reported]
    touched = set(p['public_key'] for key in ('peers_added', 'peers_removed', 'peers_changed') for p in result[key])
    for key, peer in untouched.items():
        if key not in touched and key in host.links['wg0']['peers']:
            assert host.links['wg0']['peers'][key] == peer, 'peer %s was touched' % key


def test_manage_interface_persist_off_leaves_files_alone(host):
    write_key(host)
    converge(host, iface_params(host))
    config = files.read_text(os.path.join(host.dir, 'wg0.conf'))
    result, _module = converge(host, iface_params(host, persist=False, listen_port=51821))
    assert result['config_file'] is None and not result['config_changed']
    assert files.read_text(os.path.join(host.dir, 'wg0.conf')) == config


def test_manage_interface_route_into_a_numbered_table(host):
    write_key(host)
    converge(host, iface_params(host, table='1000', peers=[dict(params()['peers'][0], allowed_ips=['0.0.0.0/0'])]))
    assert [(r['dst'], r['table']) for r in host.routes if r['protocol'] == '109'] == [('0.0.0.0/0', '1000')]


def test_manage_interface_leaves_a_roamed_peer_where_it_is(host):
    write_key(host)
    converge(host, iface_params(host))
    host.handshake('wg0', PUB_B, age=30, endpoint='203.0.113.50:61000')
    result, _module, changing = run(host, manage_interface, iface_params(host))
    assert not result['changed'] and changing == []

    # another setting of the roamed peer changes: the endpoint it roamed to is kept
    wanted = iface_params(host)
    wanted['peers'][0]['persistent_keepalive'] = 10
    result, _module = check_then_apply(host, manage_interface, wanted, PRIV_A)
    assert result['peers_changed'] == [{'public_key': PUB_B, 'description': 'branch-1',
                                        'fields': ['persistent_keepalive']}]
    assert host.links['wg0']['peers'][PUB_B]['endpoint'] == '203.0.113.50:61000'

    # once the peer is silent for more than 180 s, its configured endpoint is set again
    host.handshake('wg0', PUB_B, age=181)
    result, _module = check_then_apply(host, manage_interface, wanted, PRIV_A)
    assert result['peers_changed'][0]['fields'] == ['endpoint']
    assert host.links['wg0']['peers'][PUB_B]['endpoint'] == '198.51.100.7:51820'


def test_manage_interface_dns_endpoint(host):
    host.dns['hub.example.test'] = '198.51.100.70'
    write_key(host)
    wanted = iface_params(host)
    wanted['peers'][0]['endpoint'] = 'hub.example.test:51820'
    converge(host, wanted)
    assert host.links['wg0']['peers'][PUB_B]['endpoint'] == '198.51.100.70:51820'


def test_manage_interface_fixes_a_foreign_private_key_and_extra_peers(host):
    write_key(host)
    converge(host, iface_params(host))
    host.links['wg0']['private_key'] = make_key('intruder')
    host.run(['/usr/bin/wg', 'set', 'wg0', 'peer', PUB_D, 'allowed-ips', '10.10.0.9/32'])
    result, _module = check_then_apply(host, manage_interface, iface_params(host), PRIV_A, make_key('intruder'))
    assert result['peers_removed'] == [{'public_key': PUB_D, 'description': None}]
    assert host.links['wg0']['private_key'] == PRIV_A
    assert 'private_key: set, not from' in result['diff']['before']

    host.run(['/usr/bin/wg', 'set', 'wg0', 'peer', PUB_D, 'allowed-ips', '10.10.0.9/32'])
    kept, _module, _changing = run(host, manage_interface, iface_params(host, purge_peers=False))
    assert not kept['changed'] and PUB_D in host.links['wg0']['peers']


def test_manage_interface_refuses_bad_input_before_running_anything(host):
    write_key(host)
    for bad in (iface_params(host, listen_port=70000), peer_params(0, description='x\n[Peer]'),
                iface_params(host, name='wg-name-too-long')):
        with pytest.raises(ValidationError):
            run(host, manage_interface, bad)
    assert host.commands == []


def test_manage_interface_needs_the_key_file(host):
    with pytest.raises(ValidationError) as info:
        run(host, manage_interface, iface_params(host))
    assert info.value.field == 'private_key_file' and host.changing_commands() == []


def test_manage_interface_missing_psk_file(host):
    write_key(host)
    wanted = iface_params(host)
    wanted['peers'][1]['preshared_key_file'] = os.path.join(host.dir, 'missing.psk')
    with pytest.raises(ValidationError) as info:
        run(host, manage_interface, wanted)
    assert info.value.field == 'peers[1].preshared_key_file' and host.changing_commands() == []


@pytest.mark.parametrize('systemd', [False, True])
def test_manage_interface_absent(host, systemd):
    host.systemd = systemd
    host.kernel_wireguard = False
    write_key(host)
    converge(host, iface_params(host))
    absent = {'name': 'wg0', 'state': 'absent'}
    result, _module = check_then_apply(host, manage_interface, absent)
    assert result['changed'] and 'wg0' not in host.links
    assert sorted(p['public_key'] for p in result['peers_removed']) == sorted([PUB_B, PUB_C])
    assert not os.path.exists(os.path.join(host.dir, 'wg0.conf'))
    assert not host.enabled_units and not os.path.exists(service.dropin_path('wg0'))
    assert os.path.exists(os.path.join(host.dir, 'wg0.key')), 'the key is wireguard_key\'s to remove'
    again, _module, changing = run(host, manage_interface, absent)
    assert not again['changed'] and changing == []


# hypothesis: any desired state, reached from any other, in check mode then for real, then again

def _peer_strategy():
    return st.fixed_dictionaries({
        'allowed': st.lists(st.integers(min_value=2, max_value=30), max_size=3, unique=True),
        'endpoint': st.sampled_from([None, '198.51.100.7:51820', '[2001:db8::7]:51820', 'hub.example.test:51820']),
        'keepalive': st.sampled_from([0, 25]),
        'psk': st.sampled_from([None, PSK_1, PSK_2]),
        'description': st.sampled_from([None, 'branch-1', 'laptop']),
    })


states = st.fixed_dictionaries({
    'peers': st.dictionaries(st.sampled_from([PUB_B, PUB_C, PUB_D]), _peer_strategy(), max_size=3),
    'addresses': st.lists(st.sampled_from(['10.10.0.1/24', 'fd10::1/64', '10.11.0.1/16']), unique=True),
    'listen_port': st.sampled_from([None, 51820, 51821]),
    'mtu': st.sampled_from([None, 1420, 1280]),
    'table': st.sampled_from(['auto', 'off']),
})


def _to_params(state, directory):
    peers = []
    used = set()
    for key, peer in sorted(state['peers'].items()):
        allowed = ['10.50.%d.0/24' % n for n in peer['allowed'] if n not in used]
        used.update(peer['allowed'])
        peers.append({'public_key': key, 'allowed_ips': allowed, 'endpoint': peer['endpoint'],
                      'persistent_keepalive': peer['keepalive'], 'preshared_key': peer['psk'],
                      'description': peer['description']})
    return dict(state, name='wg0', peers=peers, private_key_file=os.path.join(directory, 'wg0.key'))


@settings(max_examples=100, deadline=None, suppress_health_check=[HealthCheck.too_slow])
@given(first=states, second=states, kernel=st.booleans(), roam=st.booleans())
def test_manage_interface_any_state_from_any_state(first, second, kernel, roam):
    # function-scoped fixtures do not mix with @given: a fresh directory and patch per example
    with tempfile.TemporaryDirectory() as tmp, pytest.MonkeyPatch.context() as monkeypatch:
        system = FakeSystem(kernel_wireguard=kernel, dns={'hub.example.test': '198.51.100.70'})
        install(system, tmp, monkeypatch)
        write_key(system)
        converge(system, _to_params(first, system.dir), PSK_1, PSK_2)
        if roam and system.links['wg0']['peers']:
            key = sorted(system.links['wg0']['peers'])[0]
            system.handshake('wg0', key, age=5, endpoint='203.0.113.99:40000')
        converge(system, _to_params(second, system.dir), PSK_1, PSK_2)
        link = system.links['wg0']
        assert sorted(link['peers']) == sorted(second['peers'])
        assert sorted(link['addresses']) == sorted(second['addresses'])


# ------------------------------------------------------------- gather_info --

def test_gather_info(host):
    write_key(host)
    wanted = iface_params(host)
    wanted['peers'][0]['preshared_key'] = PSK_1
    converge(host, wanted, PSK_1)
    host.handshake('wg0', PUB_B, age=12)
    host.handshake('wg0', PUB_C, age=181)
    changing_before = host.changing_commands()
    module = FakeModule(host, {'name': None})
    info = gather_info(module)
    assert_no_secret(info, PRIV_A, PSK_1)
    wg0 = info['wg0']
    assert (wg0['public_key'], wg0['listen_port'], wg0['implementation'], wg0['up']) == (PUB_A, 51820, 'kernel', True)
    assert wg0['addresses'] == ['10.10.0.1/24', 'fd10::1/64']
    assert (wg0['peers_total'], wg0['peers_connected']) == (2, 1)
    peers = dict((p['public_key'], p) for p in wg0['peers'])
    assert peers[PUB_B]['description'] == 'branch-1' and peers[PUB_B]['preshared_key'] is True
    assert peers[PUB_B]['connected'] and not peers[PUB_C]['connected']
    assert peers[PUB_C]['description'] is None
    assert gather_info(module, 'wg0') == info
    assert gather_info(module, 'wg7') == {}
    assert host.commands[-1][0] is not CHANGING and host.changing_commands() == changing_before


# ----------------------------------------------------------- issue 9 --
MANAGEMENT = {'client': '198.18.0.1', 'client_port': 50123, 'server': '198.18.0.10', 'server_port': 22}


def on_underlay(system):
    """The host sits on 198.18.0.0/24 (eth0), its controller at 198.18.0.1, peer B's endpoint 198.18.0.7."""
    system.routes += [{'dst': '198.18.0.0/24', 'dev': 'eth0', 'table': 'main', 'protocol': 'kernel', 'family': 4},
                      {'dst': '0.0.0.0/0', 'dev': 'eth0', 'gateway': '198.18.0.254', 'table': 'main',
                       'protocol': 'boot', 'family': 4}]
    system.management = MANAGEMENT
    write_key(system)
    wanted = iface_params(system)
    wanted['peers'][0]['endpoint'] = '198.18.0.7:51820'
    return wanted


def assert_interface_refused(system, wanted, field, words):
    files_before = snapshot(system.dir)
    routes_before = copy.deepcopy(system.routes)
    changing = len(system.changing_commands())
    for check_mode in (True, False):
        with pytest.raises(ValidationError) as info:
            run(system, manage_interface, wanted, check_mode=check_mode)
        assert info.value.field == field and words in str(info.value), str(info.value)
    assert len(system.changing_commands()) == changing and snapshot(system.dir) == files_before
    assert system.routes == routes_before


@pytest.mark.parametrize('prefix, words', [
    ('198.18.0.0/24', 'would capture the management connection from 198.18.0.1'),
    ('198.18.0.0/24', 'the network 198.18.0.0/24 connected to eth0'),
    ('198.18.0.0/25', 'the peer endpoint 198.18.0.7'),
    ('198.18.0.7/32', 'the peer endpoint 198.18.0.7'),
    ('198.18.0.0/31', 'the management connection from 198.18.0.1'),
    ('128.0.0.0/1', 'the peer endpoint 198.51.100.70 (now by 0.0.0.0/0 via 198.18.0.254 dev eth0'),   # DNS endpoint of peer C
])
def test_manage_interface_refuses_allowed_ips_that_capture_the_underlay(host, prefix, words):
    host.dns['c.example.test'] = '198.51.100.70'
    wanted = on_underlay(host)
    wanted['peers'][1].update(endpoint='c.example.test:51820', allowed_ips=['10.10.0.3/32', prefix])
    assert_interface_refused(host, wanted, 'peers[1].allowed_ips', words)


def test_manage_interface_refuses_allowed_ips_that_capture_an_existing_interface_s_peer(host):
    wanted = on_underlay(host)
    converge(host, wanted)
    wanted['peers'][1]['allowed_ips'] = ['10.10.0.3/32', '198.18.0.4/30']
    assert_interface_refused(host, wanted, 'peers[1].allowed_ips', 'the peer endpoint 198.18.0.7')


def test_manage_interface_routes_what_captures_nothing(host):
    wanted = on_underlay(host)
    # more specific than the underlay without an endpoint or the controller in it, a LAN, an anycast /32
    wanted['peers'][1]['allowed_ips'] = ['10.10.0.3/32', '198.18.0.128/25', '172.20.2.0/24', '198.19.250.1/32']
    converge(host, wanted)
    assert sorted(r['dst'] for r in host.routes if r['protocol'] == '109') == [
        '172.20.1.0/24', '172.20.2.0/24', '198.18.0.128/25', '198.19.250.1/32']


@pytest.mark.parametrize('owner, words', [
    ({'dev': 'eth0', 'protocol': 'static', 'gateway': '198.18.0.9'},
     '172.20.1.0/24: the kernel already has this destination, table and metric from another owner '
     '(172.20.1.0/24 via 198.18.0.9 dev eth0 table main metric 0, proto static)'),
    ({'dev': 'wg1', 'protocol': '109'},           # another interface's route: on its link, so it is a capture too
     '172.20.1.0/24 dev wg0 table main metric 0 would capture the network 172.20.1.0/24 connected to wg1'),
])
def test_manage_interface_never_replaces_another_owners_route(host, owner, words):
    wanted = on_underlay(host)
    host.routes.append(dict(owner, dst='172.20.1.0/24', table='main', family=4))
    assert_interface_refused(host, wanted, 'peers[0].allowed_ips', words)


@pytest.mark.parametrize('kernel', [True, False])
def test_manage_interface_link_local_address_converges(host, kernel):
    host.kernel_wireguard = kernel
    write_key(host)
    wanted = iface_params(host, addresses=['10.10.0.1/24', 'fe80::99/64'])
    result, _module = converge(host, wanted)
    assert 'fe80::99/64' in host.links['wg0']['addresses']
    converge(host, iface_params(host))
    assert host.links['wg0']['addresses'] == ['10.10.0.1/24', 'fd10::1/64']


def test_manage_interface_the_kernel_s_link_local_address_is_no_difference(host):
    host.kernel_wireguard = False      # wireguard-go's TUN device gets fe80::1 from the kernel
    write_key(host)
    result, _module = converge(host, iface_params(host))
    again, _module, _changing = run(host, manage_interface, iface_params(host))
    assert 'fe80::1' not in again['diff']['before'] and again['diff']['before'] == again['diff']['after']


def test_peer_name_is_shown_instead_of_the_description_and_checked_like_it():
    desired = normalize_interface(peer_params(0, name='branch-one', description='branch-1'))
    assert '# branch-one\n' in render_config(desired)
    with pytest.raises(ValidationError, match='peers\\[0\\].name'):
        normalize_interface(peer_params(0, name='a\nb'))


def test_purge_peers_is_an_alias_of_purge():
    assert normalize_interface(params(purge=False))['purge_peers'] is False
    assert normalize_interface(params(purge_peers=False))['purge_peers'] is False
