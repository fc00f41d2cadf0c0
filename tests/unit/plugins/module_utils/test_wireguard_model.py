# -*- coding: utf-8 -*-
# Copyright: meshforge.vpn contributors
# GNU General Public License v3.0+ (see https://www.gnu.org/licenses/gpl-3.0.txt)
"""Unit tests of the pure parts of the WireGuard driver (module_utils/wireguard/): parsing, the schema and its
normaliser, the difference, the plan, the wg-quick file and the diff text, on plain data."""

from __future__ import absolute_import, division, print_function

__metaclass__ = type

import base64
import json

import pytest
from hypothesis import given, strategies as st

from ansible_collections.meshforge.vpn.plugins.module_utils.engine import steps_changed
from ansible_collections.meshforge.vpn.plugins.module_utils.validation import ValidationError
from ansible_collections.meshforge.vpn.plugins.module_utils.wireguard.describe import (
    describe, desired_as_described, live_as_described)
from ansible_collections.meshforge.vpn.plugins.module_utils.wireguard.endpoints import endpoint_matches
from ansible_collections.meshforge.vpn.plugins.module_utils.wireguard.live import parse_dump, peer_status
from ansible_collections.meshforge.vpn.plugins.module_utils.wireguard.routing import wanted_routes
from ansible_collections.meshforge.vpn.plugins.module_utils.wireguard.schema import normalize_interface
from ansible_collections.meshforge.vpn.plugins.module_utils.wireguard.steps import peer_changes, plan as plan_steps
from ansible_collections.meshforge.vpn.plugins.module_utils.wireguard.wgquick import (
    MANAGED_HEADER, parse_descriptions, render_config)
from ansible_collections.meshforge.vpn.tests.unit.plugins.module_utils.fakehost import (
    PRIV_A, PSK_1, PSK_2, PUB_A, PUB_B, PUB_C, PUB_D, make_key, params, peer_params, public_of)

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
        {'name': 'wg9', 'state': 'absent', 'exit_routing': None}


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


def test_peer_name_is_shown_instead_of_the_description_and_checked_like_it():
    desired = normalize_interface(peer_params(0, name='branch-one', description='branch-1'))
    assert '# branch-one\n' in render_config(desired)
    with pytest.raises(ValidationError, match='peers\\[0\\].name'):
        normalize_interface(peer_params(0, name='a\nb'))


def test_purge_peers_is_an_alias_of_purge():
    assert normalize_interface(params(purge=False))['purge_peers'] is False
    assert normalize_interface(params(purge_peers=False))['purge_peers'] is False
