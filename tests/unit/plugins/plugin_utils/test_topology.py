# -*- coding: utf-8 -*-
# Copyright: meshforge.vpn contributors
# GNU General Public License v3.0+ (see https://www.gnu.org/licenses/gpl-3.0.txt)

from __future__ import absolute_import, division, print_function

__metaclass__ = type

import base64
import ipaddress
import itertools

import pytest
from hypothesis import given, settings as hsettings, strategies as st

from ansible_collections.meshforge.vpn.plugins.module_utils.validation import ValidationError
from ansible_collections.meshforge.vpn.plugins.plugin_utils import topology
from ansible_collections.meshforge.vpn.plugins.plugin_utils.addressing import choose_addresses


def key(n):
    return base64.b64encode(bytes([n]) * 32).decode()


def members(names, **extra):
    out = {}
    for i, name in enumerate(names):
        out[name] = {'ansible_host': '198.18.1.%d' % (10 + i), 'public_key': key(i + 1)}
        out[name].update(extra.get(name, {}))
    return out


SETTINGS = {'network': '10.88.0.0/24', 'topology': 'full', 'interface': 'wg0',
            'defaults': {'listen_port': 51820, 'persistent_keepalive': 25}}


def test_full_mesh_every_host_peers_with_every_other():
    plan = topology.plan_mesh(members(['a', 'b', 'c']), SETTINGS)
    assert sorted(plan) == ['a', 'b', 'c']
    for name, host in plan.items():
        assert sorted(p['description'] for p in host['peers']) == sorted({'a', 'b', 'c'} - {name})
        for peer in host['peers']:
            other = plan[peer['description']]
            assert peer['allowed_ips'] == ['%s/32' % other['addresses'][0].split('/')[0]]
            assert peer['endpoint'] == '198.18.1.%d:51820' % (10 + 'abc'.index(peer['description']))
            assert peer['persistent_keepalive'] == 25
        assert host['addresses'][0].endswith('/24')
        assert host['forwarding'] is False


def test_addresses_are_distinct_and_inside_the_network():
    plan = topology.plan_mesh(members(['h%d' % i for i in range(40)]), SETTINGS)
    addresses = [ipaddress.ip_interface(p['addresses'][0]) for p in plan.values()]
    assert len(set(a.ip for a in addresses)) == 40
    assert all(a.ip in ipaddress.ip_network('10.88.0.0/24') for a in addresses)


@hsettings(max_examples=30, deadline=None)
@given(st.permutations(['h%d' % i for i in range(12)]))
def test_plan_does_not_depend_on_host_order(order):
    reference = topology.plan_mesh(members(sorted(order)), SETTINGS)
    shuffled = topology.plan_mesh(dict((n, members(sorted(order))[n]) for n in order), SETTINGS)
    assert shuffled == reference


def test_pinned_address_kept_and_dual_stack():
    plan = topology.plan_mesh(members(['a', 'b'], a={'address': '10.88.0.7', 'address6': 'fd88::7'}),
                              dict(SETTINGS, network6='fd88::/64'))
    assert plan['a']['addresses'] == ['10.88.0.7/24', 'fd88::7/64']
    b_peer = plan['b']['peers'][0]
    assert b_peer['allowed_ips'] == ['10.88.0.7/32', 'fd88::7/128']


def test_hub_spoke_spokes_reach_each_other_and_lans_through_the_first_hub():
    ms = members(['hub', 's1', 's2'], s2={'routed_subnets': ['198.19.13.0/24']})
    plan = topology.plan_mesh(ms, dict(SETTINGS, topology='hub_spoke', hubs=['hub']))
    assert [p['description'] for p in plan['s1']['peers']] == ['hub']
    hub_addr = plan['hub']['addresses'][0].split('/')[0]
    assert plan['s1']['peers'][0]['allowed_ips'] == ['10.88.0.0/24', '%s/32' % hub_addr, '198.19.13.0/24']
    # s2's own LAN is not routed back to the hub from s2
    assert '198.19.13.0/24' not in plan['s2']['peers'][0]['allowed_ips']
    hub_peers = dict((p['description'], p) for p in plan['hub']['peers'])
    assert sorted(hub_peers) == ['s1', 's2']
    assert '198.19.13.0/24' in hub_peers['s2']['allowed_ips']
    assert plan['hub']['forwarding'] and plan['s2']['forwarding'] and not plan['s1']['forwarding']
    assert plan['hub']['role'] == 'hub' and plan['s1']['role'] == 'spoke'


def test_hub_spoke_with_two_hubs_second_hub_only_its_own_prefixes():
    plan = topology.plan_mesh(members(['h1', 'h2', 's']), dict(SETTINGS, topology='hub_spoke', hubs=['h2', 'h1']))
    peers = dict((p['description'], p) for p in plan['s']['peers'])
    assert '10.88.0.0/24' in peers['h1']['allowed_ips']
    assert len(peers['h2']['allowed_ips']) == 1
    assert sorted(p['description'] for p in plan['h1']['peers']) == ['h2', 's']


def test_host_without_endpoint_gets_no_keepalive_towards_it():
    plan = topology.plan_mesh(members(['a', 'b'], b={'endpoint': ''}), SETTINGS)
    to_b = plan['a']['peers'][0]
    assert to_b['endpoint'] is None and to_b['persistent_keepalive'] == 0
    assert plan['b']['peers'][0]['persistent_keepalive'] == 25


@pytest.mark.parametrize('raw, expected', [
    ('gw.example.org', 'gw.example.org:51820'),
    ('gw.example.org:4500', 'gw.example.org:4500'),
    ('fd18::1', '[fd18::1]:51820'),
    ('[fd18::1]:1234', '[fd18::1]:1234'),
    ('198.18.0.1', '198.18.0.1:51820'),
])
def test_endpoint_forms(raw, expected):
    assert topology.split_endpoint('f', raw, 51820) == expected


@pytest.mark.parametrize('change, field', [
    ({'settings': {'network': '10.88.0.0/33'}}, 'wireguard_mesh_network'),
    ({'settings': {'network': '10.88.0.1/24'}}, 'wireguard_mesh_network'),
    ({'settings': {'network6': '10.0.0.0/8'}}, 'wireguard_mesh_network6'),
    ({'settings': {'topology': 'star'}}, 'wireguard_mesh_topology'),
    ({'settings': {'topology': 'hub_spoke', 'hubs': []}}, 'wireguard_mesh_hub_group'),
    ({'settings': {'interface': 'wireguard-interface0'}}, 'wireguard_mesh_interface'),
    ({'a': {'address': '10.99.0.1'}}, 'wireguard_mesh_address (a)'),
    ({'a': {'address': '10.88.0.5'}, 'b': {'address': '10.88.0.5'}}, 'wireguard_mesh_address (b)'),
    ({'a': {'address': '10.88.0.255'}}, 'wireguard_mesh_address (a)'),
    ({'a': {'listen_port': 70000}}, 'wireguard_mesh_listen_port (a)'),
    ({'a': {'endpoint': 'gw\n[Peer]'}}, 'wireguard_mesh_endpoint (a)'),
    ({'a': {'endpoint': 'gw:port'}}, 'wireguard_mesh_endpoint (a)'),
    ({'a': {'routed_subnets': ['not-a-cidr']}}, 'wireguard_mesh_routed_subnets[0] (a)'),
    ({'a': {'routed_subnets': ['10.88.0.0/16']}}, 'wireguard_mesh_routed_subnets (a)'),
    ({'a': {'routed_subnets': '172.16.0.0/16'}}, 'wireguard_mesh_routed_subnets (a)'),
    ({'a': {'routed_subnets': ['172.16.0.0/16']}, 'b': {'routed_subnets': ['172.16.1.0/24']}},
     'wireguard_mesh_routed_subnets (b)'),
    ({'a': {'public_key': 'c2hvcnQ='}}, 'wireguard_mesh_public_key (a)'),
])
def test_bad_input_names_the_field(change, field):
    ms = members(['a', 'b'])
    for name in ('a', 'b'):
        ms[name].update(change.get(name, {}))
    with pytest.raises(ValidationError) as err:
        topology.plan_mesh(ms, dict(SETTINGS, **change.get('settings', {})))
    assert err.value.field == field


def test_missing_keys_fail_or_get_a_placeholder():
    ms = members(['a', 'b', 'c'])
    ms['c']['public_key'] = None
    with pytest.raises(ValidationError) as err:
        topology.plan_mesh(ms, dict(SETTINGS, require_keys=True))
    assert 'c' in str(err.value)
    plan = topology.plan_mesh(ms, dict(SETTINGS, require_keys=False))
    to_c = [p for p in plan['a']['peers'] if p['description'] == 'c'][0]
    assert to_c['public_key'] == topology.placeholder_key('c') == plan['b']['peers'][1]['public_key']
    assert len(base64.b64decode(to_c['public_key'])) == 32
    assert topology.placeholder_key('c') != topology.placeholder_key('d')
    # the validation pass (no keys at all) still plans every pair
    assert topology.plan_mesh(ms, SETTINGS)['a']['peers'][1]['public_key'] is None


def test_preshared_keys_one_per_pair_same_on_both_sides_and_stable():
    plan = topology.plan_mesh(members(['a', 'b', 'c']), SETTINGS)
    with_psk = dict((n, topology.add_preshared_keys(plan[n]['peers'], 's' * 32, 'wg0', n)) for n in plan)
    keys = {}
    for name, peers in with_psk.items():
        for peer in peers:
            pair = tuple(sorted((name, peer['description'])))
            assert len(base64.b64decode(peer['preshared_key'])) == 32
            assert keys.setdefault(pair, peer['preshared_key']) == peer['preshared_key']
    assert len(set(keys.values())) == 3
    again = topology.add_preshared_keys(plan['a']['peers'], 's' * 32, 'wg0', 'a')
    assert again == with_psk['a']
    assert topology.preshared_key('s' * 32, 'wg1', 'a', 'b') != keys[('a', 'b')]
    with pytest.raises(ValidationError):
        topology.add_preshared_keys(plan['a']['peers'], 'short', 'wg0', 'a')


def test_choose_addresses_stable_when_hosts_are_added_without_collision():
    names = ['node-%d' % i for i in range(20)]
    before = choose_addresses(names, ipaddress.ip_network('10.0.0.0/16'), {})
    after = choose_addresses(names + ['node-new'], ipaddress.ip_network('10.0.0.0/16'), {})
    assert all(after[n] == before[n] for n in names)


def test_choose_addresses_full_network_and_small_networks():
    with pytest.raises(ValidationError) as err:
        choose_addresses(['a', 'b', 'c'], ipaddress.ip_network('10.0.0.0/30'), {})
    assert '2 host addresses' in str(err.value)
    got = choose_addresses(['a', 'b'], ipaddress.ip_network('10.0.0.0/31'), {})
    assert sorted(str(a) for a in got.values()) == ['10.0.0.0', '10.0.0.1']
    six = choose_addresses(['a', 'b'], ipaddress.ip_network('fd00:1::/112'), {})
    assert all(a in ipaddress.ip_network('fd00:1::/112') and int(a) & 0xffff for a in six.values())


@hsettings(max_examples=50, deadline=None)
@given(st.lists(st.text(alphabet='abcdefgh0123456789-', min_size=1, max_size=8), min_size=1, max_size=60, unique=True))
def test_choose_addresses_never_duplicates(names):
    got = choose_addresses(names, ipaddress.ip_network('10.1.0.0/26'), {})
    assert len(set(got.values())) == len(names)
    for a, b in itertools.combinations(sorted(names), 2):
        assert got[a] != got[b]


# High availability of routed subnets over the mesh: one prefix, several gateways, the lowest metric carries it.
PREFIX = '198.19.250.0/24'


def gateway(metric, **more):
    return dict({'routed_subnets': [PREFIX], 'route_metric': metric}, **more)


def carriers(plan, prefix=PREFIX):
    """``{host: the peer its prefix goes to}`` (None when no peer carries it)."""
    out = {}
    for name, host in plan.items():
        holders = [p['description'] for p in host['peers'] if prefix in p['allowed_ips']]
        assert len(holders) <= 1, 'WireGuard sends a prefix to one peer only: %s' % holders
        out[name] = holders[0] if holders else None
    return out


def test_lowest_metric_carries_the_prefix_and_standbys_reach_it_themselves():
    plan = topology.plan_mesh(members(['h1', 'h2', 'h3'], h2=gateway(100), h3=gateway(200)), SETTINGS)
    assert carriers(plan) == {'h1': 'h2', 'h2': None, 'h3': None}
    assert plan['h2']['forwarding'] and plan['h3']['forwarding'] and not plan['h1']['forwarding']


@given(st.permutations(['h1', 'h2', 'h3', 'h4']), st.lists(st.integers(0, 2 ** 32 - 1), min_size=3, max_size=3, unique=True))
def test_lowest_metric_wins_whatever_the_host_order(order, metrics):
    gateways = dict(zip(['h2', 'h3', 'h4'], metrics))
    spec = dict((n, gateway(m)) for n, m in gateways.items())
    ms = members(order, **spec)
    plan = topology.plan_mesh(ms, SETTINGS)
    winner = min(gateways, key=gateways.get)
    assert carriers(plan)['h1'] == winner
    assert plan == topology.plan_mesh(dict(sorted(ms.items())), SETTINGS)


def test_string_metric_from_a_template_is_accepted():
    plan = topology.plan_mesh(members(['h1', 'h2', 'h3'], h2=gateway('300'), h3=gateway('200')), SETTINGS)
    assert carriers(plan)['h1'] == 'h3'


def test_same_metric_is_refused_naming_both_hosts():
    with pytest.raises(ValidationError) as err:
        topology.plan_mesh(members(['h1', 'h2', 'h3'], h2={'routed_subnets': [PREFIX]}, h3={'routed_subnets': [PREFIX]}),
                           SETTINGS)
    assert 'wireguard_mesh_route_metric' in str(err.value)
    assert 'h2' in str(err.value) and 'h3' in str(err.value) and PREFIX in str(err.value)


def test_tie_refused_even_when_one_is_withdrawn_so_putting_it_back_stays_valid():
    with pytest.raises(ValidationError):
        topology.plan_mesh(members(['h1', 'h2', 'h3'], h2=gateway(100, routed_subnets_withdrawn=True), h3=gateway(100)),
                           SETTINGS)


@pytest.mark.parametrize('withdrawn', [True, 'yes', 'true'])
def test_withdrawn_gateway_loses_its_claim_and_stays_a_member(withdrawn):
    ms = members(['h1', 'h2', 'h3'], h2=gateway(100, routed_subnets_withdrawn=withdrawn), h3=gateway(200))
    plan = topology.plan_mesh(ms, SETTINGS)
    # h2 now reaches the prefix through h3 like any member; forwarding stays on for it
    assert carriers(plan) == {'h1': 'h3', 'h2': 'h3', 'h3': None}
    assert sorted(p['description'] for p in plan['h1']['peers']) == ['h2', 'h3']
    assert plan['h2']['forwarding']


def test_gateway_out_of_the_group_hands_over():
    plan = topology.plan_mesh(members(['h1', 'h3'], h3=gateway(200)), SETTINGS)
    assert carriers(plan) == {'h1': 'h3', 'h3': None}


def test_every_gateway_withdrawn_leaves_the_prefix_unrouted():
    plan = topology.plan_mesh(members(['h1', 'h2'], h2=gateway(100, routed_subnets_withdrawn=True)), SETTINGS)
    assert carriers(plan) == {'h1': None, 'h2': None}


def test_withdrawal_only_changes_the_hosts_whose_peers_change():
    ms = members(['h1', 'h2', 'h3'], h2=gateway(100), h3=gateway(200))
    before = topology.plan_mesh(ms, SETTINGS)
    ms['h2']['routed_subnets_withdrawn'] = True
    after = topology.plan_mesh(ms, SETTINGS)
    assert sorted(n for n in before if before[n] != after[n]) == ['h1', 'h2']


def test_only_the_shared_prefix_moves():
    ms = members(['h1', 'h2', 'h3'], h2=gateway(100, routed_subnets=[PREFIX, '198.19.251.0/24']), h3=gateway(200))
    plan = topology.plan_mesh(ms, SETTINGS)
    to_h2 = [p for p in plan['h3']['peers'] if p['description'] == 'h2'][0]
    assert '198.19.251.0/24' in to_h2['allowed_ips'] and PREFIX not in to_h2['allowed_ips']


@pytest.mark.parametrize('h3_subnet', ['198.19.250.0/25', '198.19.0.0/16'])
def test_overlapping_but_different_prefixes_are_refused(h3_subnet):
    with pytest.raises(ValidationError) as err:
        topology.plan_mesh(members(['h1', 'h2', 'h3'], h2=gateway(100), h3=gateway(200, routed_subnets=[h3_subnet])),
                           SETTINGS)
    assert 'overlaps' in str(err.value) and '(h3)' in str(err.value)


@pytest.mark.parametrize('change, field', [
    ({'route_metric': -1}, 'wireguard_mesh_route_metric (h2)'),
    ({'route_metric': 'low'}, 'wireguard_mesh_route_metric (h2)'),
    ({'route_metric': True}, 'wireguard_mesh_route_metric (h2)'),
    ({'routed_subnets_withdrawn': 'maybe'}, 'wireguard_mesh_routed_subnets_withdrawn (h2)'),
])
def test_bad_values_name_the_field(change, field):
    with pytest.raises(ValidationError) as err:
        topology.plan_mesh(members(['h1', 'h2'], h2=gateway(100, **change)), SETTINGS)
    assert err.value.field == field


def test_hub_spoke_first_hub_carries_the_winning_spoke_only():
    ms = members(['hub', 's1', 's2', 's3'], s2=gateway(100), s3=gateway(200))
    settings = dict(SETTINGS, topology='hub_spoke', hubs=['hub'])
    plan = topology.plan_mesh(ms, settings)
    hub_peers = dict((p['description'], p['allowed_ips']) for p in plan['hub']['peers'])
    assert PREFIX in hub_peers['s2'] and PREFIX not in hub_peers['s3']
    assert carriers(plan) == {'hub': 's2', 's1': 'hub', 's2': None, 's3': None}
    ms['s2']['routed_subnets_withdrawn'] = True
    plan = topology.plan_mesh(ms, settings)
    assert carriers(plan) == {'hub': 's3', 's1': 'hub', 's2': 'hub', 's3': None}


# Issue 9, defect 1: a routed subnet (or the mesh network) that holds the underlay cut members off.
UNDERLAY = '198.18.1.0/24'  # members() puts the hosts at 198.18.1.10, .11, ...


@pytest.mark.parametrize('change, field, words', [
    ({'b': {'routed_subnets': [UNDERLAY]}}, 'wireguard_mesh_routed_subnets (b)',
     '198.18.1.0/24 contains the endpoint of a (198.18.1.10)'),
    ({'b': {'routed_subnets': ['198.18.1.10/32']}}, 'wireguard_mesh_routed_subnets (b)', 'endpoint of a'),
    ({'a': {'routed_subnets': ['198.18.1.10/32']}}, 'wireguard_mesh_routed_subnets (a)', 'endpoint of a'),
    ({'b': {'routed_subnets': ['128.0.0.0/1']}}, 'wireguard_mesh_routed_subnets (b)', 'endpoint of a'),
    ({'settings': {'network': UNDERLAY}}, 'wireguard_mesh_network', 'endpoint of a'),
    ({'a': {'endpoint': '203.0.113.1'}, 'b': {'endpoint': '203.0.113.2', 'routed_subnets': ['198.18.1.10/32']}},
     'wireguard_mesh_routed_subnets (b)', 'the address Ansible reaches a at (198.18.1.10)'),
    ({'a': {'connected': [('eth1', ipaddress.ip_network('172.16.0.0/16'))]}, 'b': {'routed_subnets': ['172.16.5.0/24']}},
     'wireguard_mesh_routed_subnets (b)', "overlaps a's connected network 172.16.0.0/16 (eth1)"),
    ({'a': {'endpoint': '[fd18::10]:51820'}, 'settings': {'network6': 'fd18::/64'}}, 'wireguard_mesh_network6',
     'endpoint of a (fd18::10)'),
])
def test_allowed_ips_that_capture_the_underlay_are_refused(change, field, words):
    ms = members(['a', 'b'])
    for name in ('a', 'b'):
        ms[name].update(change.get(name, {}))
    with pytest.raises(ValidationError) as err:
        topology.plan_mesh(ms, dict(SETTINGS, **change.get('settings', {})))
    assert err.value.field == field and words in err.value.problem, str(err.value)


@pytest.mark.parametrize('change', [
    # a LAN behind b, connected there (hub_spoke and firewall scenarios)
    {'b': {'routed_subnets': ['198.19.7.0/24'], 'connected': [('lan0', ipaddress.ip_network('198.19.7.0/24'))]}},
    # /32 anycast behind two gateways, one withdrawn (mesh_ha): each has it itself
    {'a': {'routed_subnets': ['198.19.250.1/32'], 'route_metric': 100, 'routed_subnets_withdrawn': True},
     'b': {'routed_subnets': ['198.19.250.1/32'], 'route_metric': 200}},
    # a gateway managed from inside its LAN, its endpoint elsewhere
    {'b': {'ansible_host': '198.19.7.1', 'endpoint': '198.18.1.11', 'routed_subnets': ['198.19.7.0/24']}},
    # members managed over the mesh itself
    {'a': {'ansible_host': '10.88.0.10', 'endpoint': '198.18.1.10', 'address': '10.88.0.10'}},
    # names, not addresses: nothing the controller can check
    {'a': {'ansible_host': 'a.example'}, 'b': {'ansible_host': 'b.example', 'routed_subnets': ['128.0.0.0/1']}},
])
def test_legitimate_routed_subnets_still_plan(change):
    ms = members(['a', 'b'])
    for name in ('a', 'b'):
        ms[name].update(change.get(name, {}))
    assert sorted(topology.plan_mesh(ms, SETTINGS)) == ['a', 'b']


# Issue 9, defects 8 and 9.
def test_rotating_the_key_of_a_host_outside_the_mesh_is_refused():
    topology.check_mesh(members(['a', 'b']), SETTINGS, rotate_keys=['b'])
    with pytest.raises(ValidationError) as err:
        topology.check_mesh(members(['a', 'b']), SETTINGS, rotate_keys=['b', 'c'])
    assert str(err.value).startswith('wireguard_mesh_rotate_keys: c is not a member of the mesh')


def test_a_bad_interface_is_reported_as_the_interface_not_the_ipam_network():
    with pytest.raises(ValidationError) as err:
        topology.ipam_request(members(['a']), dict(SETTINGS, interface='wg0\n[Peer]', ipam_network='wg0\n[Peer]'))
    assert err.value.field == 'wireguard_mesh_interface'
    with pytest.raises(ValidationError) as err:
        topology.ipam_request(members(['a']), dict(SETTINGS, ipam_network='office\n'))
    assert err.value.field == 'wireguard_mesh_ipam_network'


def test_paths_the_modules_get_are_checked_naming_the_variable():
    with pytest.raises(ValidationError) as err:
        topology.check_mesh(members(['a']), dict(SETTINGS, private_key_file='/etc/wireguard/../wg0.key'))
    assert err.value.field == 'wireguard_mesh_private_key_file'


@pytest.mark.parametrize('message, expected', [
    ('meshforge.vpn.ipam: pins[h2][wg0]: 10.88.0.7 is already allocated to h1; release it first',
     'wireguard_mesh_address (h2): 10.88.0.7 is already allocated to h1; release it first'),
    ('meshforge.vpn.ipam: pins[h2][wg0_v6]: fd88::7 is outside', 'wireguard_mesh_address6 (h2): fd88::7 is outside'),
    ('meshforge.vpn.ipam: pools[wg0].cidr: cannot change the pool', 'wireguard_mesh_network: cannot change the pool'),
    ('meshforge.vpn.ipam: records[h3]: must be a mapping', 'wireguard_mesh_ipam_record_file (h3): must be a mapping'),
    ('meshforge.vpn.ipam: /inv/l.json: not a valid ledger (JSON): x',
     'wireguard_mesh_ipam_ledger: /inv/l.json: not a valid ledger (JSON): x'),
])
def test_ipam_failures_name_the_role_variable(message, expected):
    assert topology.ipam_problem(message, SETTINGS) == expected


def test_a_short_psk_secret_given_by_the_user_is_refused_before_any_host():
    topology.check_mesh(members(['a', 'b']), dict(SETTINGS, psk_secret='x' * 16))
    with pytest.raises(ValidationError) as err:
        topology.check_mesh(members(['a', 'b']), dict(SETTINGS, psk_secret='short'))
    assert str(err.value) == 'wireguard_mesh_psk_secret: must be a secret of at least 16 characters'


def test_a_psk_secret_rotation_needs_preshared_keys_and_a_secret_kept_in_the_file():
    topology.check_mesh(members(['a', 'b']), dict(SETTINGS, rotate_psk_secret=True, preshared_keys=True))
    with pytest.raises(ValidationError, match='^wireguard_mesh_rotate_psk_secret: the mesh has no preshared keys'):
        topology.check_mesh(members(['a', 'b']), dict(SETTINGS, rotate_psk_secret=True, preshared_keys=False))
    with pytest.raises(ValidationError, match='^wireguard_mesh_rotate_psk_secret: the secret is wireguard_mesh_psk_secret'):
        topology.check_mesh(members(['a', 'b']), dict(SETTINGS, rotate_psk_secret=True, preshared_keys=True,
                                                      psk_secret='x' * 16))


# Exit nodes: members offering the internet, chosen like the gateways of a routed subnet.
def exits(plan):
    """``{host: the peer its IPv4 default route goes to}``."""
    return carriers(plan, '0.0.0.0/0')


def test_members_using_an_exit_node_send_the_default_routes_to_the_lowest_metric():
    ms = members(['h1', 'h2', 'h3', 'h4'], h1={'exit_node': True, 'route_metric': 200},
                 h2={'exit_node': True, 'route_metric': 100}, h3={'use_exit_node': True})
    plan = topology.plan_mesh(ms, dict(SETTINGS, network6='fd88::/64'))
    assert exits(plan) == {'h1': None, 'h2': None, 'h3': 'h2', 'h4': None}
    assert carriers(plan, '::/0')['h3'] == 'h2'
    assert plan['h3']['uses_exit_node'] == 'h2' and plan['h4']['uses_exit_node'] is None
    assert plan['h1']['exit_node'] and plan['h1']['forwarding'] and not plan['h3']['forwarding']
    # the shared peer entries of the others are not touched
    assert '0.0.0.0/0' not in [p for peer in plan['h4']['peers'] for p in peer['allowed_ips']]
    # the best one withdrawn: the standby carries it; both withdrawn: the member's traffic leaves directly
    ms['h2']['routed_subnets_withdrawn'] = True
    assert exits(topology.plan_mesh(ms, SETTINGS))['h3'] == 'h1'
    ms['h1']['routed_subnets_withdrawn'] = True
    assert topology.plan_mesh(ms, SETTINGS)['h3']['uses_exit_node'] is None


def test_a_spoke_uses_an_exit_node_among_its_hubs():
    ms = members(['hub', 's1', 's2'], hub={'exit_node': True}, s1={'exit_node': True, 'route_metric': 1},
                 s2={'use_exit_node': True})
    plan = topology.plan_mesh(ms, dict(SETTINGS, topology='hub_spoke', hubs=['hub']))
    assert exits(plan)['s2'] == 'hub'


@pytest.mark.parametrize('spec, field, words', [
    ({'h1': {'use_exit_node': True}}, 'wireguard_mesh_use_exit_node (h1)', 'no member of the mesh is an exit node'),
    ({'h1': {'use_exit_node': True, 'exit_node': True}}, 'wireguard_mesh_use_exit_node (h1)', 'exit node itself'),
    ({'h1': {'exit_node': True}, 'h2': {'exit_node': True, 'routed_subnets_withdrawn': True}},
     'wireguard_mesh_route_metric (h2)', 'both exit nodes with metric 100'),
    ({'h1': {'exit_node': 'maybe'}}, 'wireguard_mesh_exit_node (h1)', 'not a boolean'),
])
def test_exit_node_bad_input_names_the_field(spec, field, words):
    with pytest.raises(ValidationError) as err:
        topology.plan_mesh(members(['h1', 'h2'], **spec), SETTINGS)
    assert err.value.field == field and words in str(err.value), str(err.value)
