# -*- coding: utf-8 -*-
# Copyright: meshforge.vpn contributors
# GNU General Public License v3.0+ (see https://www.gnu.org/licenses/gpl-3.0.txt)
"""wireguard_interface's and wireguard_info's driver against the fake host (fakehost.py): check mode predicts
the real run's ``changed`` and runs no changing command, a second run changes nothing, only the difference is
applied, no result carries a secret, and a route that would cut the host off is refused before anything changes."""

from __future__ import absolute_import, division, print_function

__metaclass__ = type

import copy
import os
import tempfile

import pytest
from hypothesis import HealthCheck, given, settings, strategies as st

from ansible_collections.meshforge.vpn.plugins.module_utils import files
from ansible_collections.meshforge.vpn.plugins.module_utils.validation import ValidationError
from ansible_collections.meshforge.vpn.plugins.module_utils.wireguard import service
from ansible_collections.meshforge.vpn.plugins.module_utils.wireguard.info import gather_info
from ansible_collections.meshforge.vpn.plugins.module_utils.wireguard.interface import manage_interface
from ansible_collections.meshforge.vpn.plugins.module_utils.wireguard.routing import ROUTE_PROTOCOL
from ansible_collections.meshforge.vpn.tests.unit.plugins.module_utils.fakehost import (
    PRIV_A, PSK_1, PSK_2, PUB_A, PUB_B, PUB_C, PUB_D, FakeHost, FakeModule, assert_no_secret, check_then_apply,
    install, make_key, params, peer_params, run, snapshot, underlay, write_key)


@pytest.fixture
def host(tmp_path, monkeypatch):
    return install(FakeHost(), str(tmp_path), monkeypatch)


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


@pytest.mark.parametrize('kernel', [True, False])
def test_with_systemd_the_interface_comes_back_from_its_file_after_a_reboot(host, kernel):
    host.systemd, host.kernel_wireguard = True, kernel
    write_key(host)
    wanted = iface_params(host, mtu=1380, fwmark='0x20')
    wanted['peers'][0]['preshared_key'] = PSK_1
    converge(host, wanted, PSK_1)
    before = copy.deepcopy(host.links['wg0']), copy.deepcopy(host.routes)
    host.reboot()
    assert (host.links['wg0'], host.routes) == before
    again, _module, changing = run(host, manage_interface, wanted)
    assert not again['changed'] and changing == []


def test_manage_interface_persist_off_leaves_files_alone(host):
    write_key(host)
    converge(host, iface_params(host))
    config = files.read_text(os.path.join(host.dir, 'wg0.conf'))
    result, _module = converge(host, iface_params(host, persist=False, listen_port=51821))
    assert result['config_file'] is None and not result['config_changed']
    assert files.read_text(os.path.join(host.dir, 'wg0.conf')) == config


def numbered_table(host, families):
    """wg0 routing everything into table 1000 of a host on which ``families`` already have that table."""
    underlay(host)
    for family in families:
        host.add_route('10.99.0.0/16' if family == 4 else 'fd99::/48', 'static', table=1000)
    write_key(host)
    return iface_params(host, table='1000', peers=[dict(params()['peers'][0], allowed_ips=['0.0.0.0/0'])])


def test_manage_interface_route_into_a_numbered_table(host):
    converge(host, numbered_table(host, (4, 6)))
    assert [(r['dst'], r['table']) for r in host.routes if r['protocol'] == '109'] == [('0.0.0.0/0', 1000)]


@pytest.mark.parametrize('families', [(), (4,)], ids=['new table', 'no IPv6 table'])
def test_manage_interface_route_into_a_table_the_kernel_does_not_have_yet(host, families):
    converge(host, numbered_table(host, families))


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
    host.run([host.path('wg'), 'set', 'wg0', 'peer', PUB_D, 'allowed-ips', '10.10.0.9/32'])
    result, _module = check_then_apply(host, manage_interface, iface_params(host), PRIV_A, make_key('intruder'))
    assert result['peers_removed'] == [{'public_key': PUB_D, 'description': None}]
    assert host.links['wg0']['private_key'] == PRIV_A
    assert 'private_key: set, not from' in result['diff']['before']

    host.run([host.path('wg'), 'set', 'wg0', 'peer', PUB_D, 'allowed-ips', '10.10.0.9/32'])
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
        system = FakeHost(kernel_wireguard=kernel, dns={'hub.example.test': '198.51.100.70'})
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
    assert host.log[-1][0] is False and host.changing_commands() == changing_before


# -------------------------------------------- the fake host's wg and systemctl are honest --
# What wireguard-tools v1.0.20210914 and systemd 252 (not PID 1) answered on a host with eth0.
ANSWERED = [
    ('wg', ['pubkey'], 'garbage\n', 1, '', 'wg: Key is not the correct length or format'),
    ('wg', ['show', 'eth0', 'dump'], None, 1, '', 'Unable to access interface: Protocol not supported'),
    ('wg', ['set', 'eth0', 'listen-port', '1'], None, 1, '', 'Unable to modify interface: Protocol not supported'),
    ('wg', ['set', 'wg0', 'private-key', '/nonexistent'], None, 1, '', 'fopen: No such file or directory'),
    ('wg', ['show', 'all', 'dump'], None, 0, '', ''),
    ('systemctl', ['daemon-reload'], None, 1, '',
     "System has not been booted with systemd as init system (PID 1). Can't operate."),
    ('systemctl', ['is-enabled', 'wg-quick@wg0'], None, 1, 'disabled\n', ''),
]


@pytest.mark.parametrize('tool, args, data, rc, out, err', ANSWERED, ids=[' '.join([a[0]] + a[1]) for a in ANSWERED])
def test_the_fake_wg_and_systemctl_answer_as_they_did(tool, args, data, rc, out, err):
    fake = FakeHost()
    fake.add_link('eth0')
    if args[1:2] == ['wg0']:
        fake.add_link('wg0', 'wireguard')
    answer = fake.dispatch(tool, args, data)
    assert answer[:2] == (rc, out) and (answer[2].splitlines() or [''])[0] == err


# ----------------------------------------------------------- issue 9 --

def on_underlay(system):
    """The host on its underlay (fakehost.underlay), peer B's endpoint at 198.18.0.7."""
    underlay(system)
    write_key(system)
    wanted = iface_params(system)
    wanted['peers'][0]['endpoint'] = '198.18.0.7:51820'
    return wanted


def assert_interface_refused(system, wanted, field, words):
    files_before, state_before = snapshot(system.dir), system.state()
    changing = len(system.changing_commands())
    for check_mode in (True, False):
        with pytest.raises(ValidationError) as info:
            run(system, manage_interface, wanted, check_mode=check_mode)
        assert info.value.field == field and words in str(info.value), str(info.value)
    assert len(system.changing_commands()) == changing and snapshot(system.dir) == files_before
    assert system.state() == state_before


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
    host.add_link('wg1', 'wireguard')
    host.add_route('172.20.1.0/24', **owner)
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


EXIT = {'table': 51820, 'fwmark': None, 'priority': 31000}


def exit_params(system, **exit_routing):
    """Peer B as the exit node of both families: the host's default routes go through it."""
    wanted = on_underlay(system)
    wanted['peers'][0]['allowed_ips'] += ['0.0.0.0/0', '::/0']
    wanted['exit_routing'] = dict(EXIT, **exit_routing)
    return wanted


def owned_rules(system):
    return sorted((r['family'], r['priority'], r.get('dst'), r['table']) for r in system.rules)


def test_exit_routing_sends_default_traffic_through_the_exit_node_and_keeps_management_direct(host):
    result, dummy = converge(host, exit_params(host))
    assert host.links['wg0']['fwmark'] == 51820
    defaults = sorted((r['family'], r['dst'], r['table']) for r in host.routes if r['protocol'] == ROUTE_PROTOCOL
                      and r['dst'] in ('0.0.0.0/0', '::/0'))
    assert defaults == [(4, '0.0.0.0/0', 51820), (6, '::/0', 51820)]
    # the underlay's own default route stays in main, untouched
    assert [r['gateway'] for r in host.routes if r['dst'] == '0.0.0.0/0' and r['table'] == 254] == ['198.18.0.254']
    assert owned_rules(host) == [(4, 31000, '198.18.0.1', 'main'), (4, 31001, None, 'main'),
                                 (4, 31002, None, '51820'), (6, 31001, None, 'main'), (6, 31002, None, '51820')]
    assert all(r['protocol'] == ROUTE_PROTOCOL for r in host.rules)
    assert 'rule priority 31000 to 198.18.0.1 lookup main (IPv4)' in result['diff']['after']
    config = files.read_text(os.path.join(host.dir, 'wg0.conf'))
    assert 'PostUp = ip -4 rule add priority 31002 not fwmark 0xca6c lookup 51820 protocol 109' in config
    assert 'PostDown = ip -6 rule del priority 31002 protocol 109' in config
    assert 'PostUp = ip route replace 0.0.0.0/0 dev %i table 51820' in config


def test_exit_routing_follows_the_exit_node_and_the_controller_and_leaves_foreign_rules(host):
    wanted = exit_params(host)
    converge(host, wanted)
    host.rules.append({'family': 4, 'priority': 31001, 'src': 'all', 'table': '100'})     # someone else's
    host.management = dict(host.management, client='198.18.0.2')
    converge(host, wanted)
    assert (4, 31000, '198.18.0.2', 'main') in owned_rules(host)
    assert (4, 31000, '198.18.0.1', 'main') not in owned_rules(host)
    # the exit node withdrawn: its default routes and every owned rule go, the foreign rule and fwmark setting stay
    wanted['peers'][0]['allowed_ips'] = ['10.10.0.2/32', 'fd10::2/128', '172.20.1.0/24']
    result, dummy = converge(host, wanted)
    assert owned_rules(host) == [(4, 31001, None, '100')]
    assert not [r for r in host.routes if r['table'] == 51820]
    assert host.links['wg0']['fwmark'] == 0
    assert 'rule priority 31002 not fwmark 0xca6c lookup 51820 (IPv6)' in result['diff']['before']


def test_exit_routing_only_for_the_families_that_exit(host):
    wanted = exit_params(host, fwmark='0x1234', priority=30000)
    wanted['peers'][0]['allowed_ips'].remove('::/0')
    converge(host, wanted)
    assert owned_rules(host) == [(4, 30000, '198.18.0.1', 'main'), (4, 30001, None, 'main'),
                                 (4, 30002, None, '51820')]
    assert host.links['wg0']['fwmark'] == 0x1234


@pytest.mark.parametrize('change, field, words', [
    ({'exit_routing': None}, 'peers[0].allowed_ips', 'to send the host\'s traffic through this peer'),
    ({'table': '100'}, 'exit_routing', 'needs table: auto'),
    ({'fwmark': '0x99'}, 'fwmark', 'differs from exit_routing.fwmark 0xca6c'),
    ({'exit_routing': dict(EXIT, table=254)}, 'exit_routing.table', 'a table the kernel uses itself'),
    ({'exit_routing': dict(EXIT, priority=32766)}, 'exit_routing.priority', 'out of range'),
])
def test_exit_routing_bad_input_is_refused(host, change, field, words):
    wanted = exit_params(host, fwmark='0xca6c')
    wanted.update(change)
    assert_interface_refused(host, wanted, field, words)


def test_removing_the_interface_removes_its_exit_rules_and_no_other(host):
    converge(host, exit_params(host))
    host.rules.append({'family': 4, 'priority': 31001, 'src': 'all', 'table': '100'})     # someone else's
    result, dummy, dummy2 = run(host, manage_interface, {'name': 'wg0', 'state': 'absent', 'exit_routing': EXIT})
    assert result['changed'] and owned_rules(host) == [(4, 31001, None, '100')]
    again, dummy, changing = run(host, manage_interface, {'name': 'wg0', 'state': 'absent', 'exit_routing': EXIT})
    assert not again['changed'] and changing == []


def test_a_member_that_never_used_an_exit_node_reads_no_rules(host):
    wanted = on_underlay(host)
    wanted['exit_routing'] = EXIT
    converge(host, wanted)
    assert not [argv for dummy, argv in host.log if 'rule' in argv]
