# -*- coding: utf-8 -*-
# Copyright: meshforge.vpn contributors
# GNU General Public License v3.0+ (see https://www.gnu.org/licenses/gpl-3.0.txt)

from __future__ import absolute_import, division, print_function

__metaclass__ = type

import json

import pytest

from ansible_collections.meshforge.vpn.plugins.module_utils.common import CommandError
from ansible_collections.meshforge.vpn.plugins.module_utils.routes import model as rt
from ansible_collections.meshforge.vpn.plugins.module_utils.routes.resource import manage_routes
from ansible_collections.meshforge.vpn.plugins.module_utils.validation import ValidationError

from ansible_collections.meshforge.vpn.tests.unit.plugins.module_utils.fakehost import (
    MANAGEMENT, FakeHost, install, run, underlay)

NAMES = dict(rt.BUILTIN_TABLES, vpn=100)


@pytest.fixture
def host(tmp_path, monkeypatch):
    """The underlay (fakehost.underlay) with a LAN 172.20.1.0/24 on eth1 and the tunnels wg0 (10.10.0.1/24,
    fd10::1/64) and wg1; rt_tables names table 100 vpn, which holds another owner's routes (policy routing)."""
    fake = install(underlay(FakeHost()), str(tmp_path), monkeypatch)
    fake.add_link('eth1', addresses=['172.20.1.1/24'])
    fake.add_link('wg0', 'wireguard', addresses=['10.10.0.1/24', 'fd10::1/64'])
    fake.add_link('wg1', 'wireguard')
    fake.table_names['vpn'] = 100
    fake.add_route('10.100.0.0/16', 'static', gateway='198.18.0.9', table=100)
    fake.add_route('fd64::/48', 'static', gateway='fd00:18::9', table=100)
    return fake


def routes(host, check=False, diff=False, **params):
    """One run of the route module's driver (tag 110, no purge unless given)."""
    params.setdefault('protocol', 110)
    params.setdefault('purge', False)
    return run(host, manage_routes, params, check_mode=check, diff=diff)[0]


def tagged(host, protocol='110'):
    return sorted((r['dst'], r['table'], r['metric']) for r in host.routes if r['protocol'] == protocol)


def test_parse_rt_tables():
    text = '# comment\n255\tlocal\n254 main\n100 vpn # the VPN\nbad line\n0x10 hex\n'
    assert rt.parse_rt_tables(text) == {'local': 255, 'main': 254, 'vpn': 100, 'hex': 16}


def test_parse_routes_defaults_and_tables():
    text = json.dumps([
        {'dst': 'default', 'gateway': '198.18.0.1', 'dev': 'eth0', 'flags': []},
        {'dst': '10.9.1.5', 'dev': 'wg0', 'table': 'vpn', 'metric': 7, 'prefsrc': '10.9.0.1', 'flags': []},
        {'type': 'blackhole', 'dst': '10.66.0.0/16', 'flags': []},
    ])
    found = rt.parse_routes(text, 4, NAMES)
    assert [(r['dst'], r['table'], r['metric'], r['src']) for r in found] == [
        ('0.0.0.0/0', 254, 0, None), ('10.9.1.5/32', 100, 7, '10.9.0.1')]
    assert rt.parse_routes(json.dumps([{'dst': 'fd19::/64', 'dev': 'x', 'flags': []}]), 6)[0]['metric'] == 1024


def test_add_then_noop_ipv4_ipv6(host):
    wanted = [{'dest': '172.20.2.0/24', 'gateway': '10.10.0.2', 'dev': 'wg0', 'metric': 100},
              {'dest': 'fd20::/48', 'dev': 'wg0', 'table': 'vpn'}]
    check = routes(host, check=True, routes=wanted)
    assert check['changed'] and host.changing_commands() == []
    first = routes(host, routes=wanted)
    assert first['changed'] and first['added'] == [
        '172.20.2.0/24 via 10.10.0.2 dev wg0 table main metric 100', 'fd20::/48 dev wg0 table vpn metric 1024']
    assert tagged(host) == [('172.20.2.0/24', 254, 100), ('fd20::/48', 100, 1024)]
    count = len(host.changing_commands())
    again = routes(host, routes=wanted)
    assert not again['changed'] and len(host.changing_commands()) == count
    assert not routes(host, check=True, routes=wanted)['changed']


@pytest.mark.parametrize('dest', ['10.30.0.0/16', 'fd30::/48'])
def test_a_route_into_a_table_the_kernel_does_not_have_yet(host, dest):
    assert routes(host, routes=[{'dest': dest, 'dev': 'wg0', 'table': 200}])['changed']


def test_two_gateways_are_two_routes_and_change_is_replace(host):
    wanted = [{'dest': '172.20.2.0/24', 'gateway': '10.10.0.2', 'metric': 100},
              {'dest': '172.20.2.0/24', 'gateway': '10.10.0.3', 'metric': 200}]
    routes(host, routes=wanted)
    assert tagged(host) == [('172.20.2.0/24', 254, 100), ('172.20.2.0/24', 254, 200)]
    wanted[0]['gateway'] = '10.10.0.4'
    result = routes(host, routes=wanted)
    assert result['changed_routes'] == [{'route': '172.20.2.0/24 via 10.10.0.4 table main metric 100',
                                         'fields': ['gateway']}]
    assert sorted(r['gateway'] for r in host.routes if r['protocol'] == '110') == ['10.10.0.3', '10.10.0.4']


def test_purge_removes_only_our_tag(host):
    host.add_route('10.50.0.0/16', '4', gateway='198.18.0.9')           # hand-made static route
    host.add_route('10.60.0.0/16', '109', dev='wg0')                      # wireguard_interface's
    host.add_route('10.70.0.0/16', '110', gateway='198.18.0.9', table=100)
    host.add_route('fd70::/48', '110', dev='eth0')
    others = [r for r in host.routes if r['protocol'] != '110']
    result = routes(host, diff=True, purge=True, routes=[{'dest': '10.80.0.0/16', 'dev': 'eth0'}])
    assert result['removed'] == ['10.70.0.0/16 via 198.18.0.9 dev eth0 table vpn metric 0',
                                 'fd70::/48 dev eth0 table main metric 1024']
    assert tagged(host) == [('10.80.0.0/16', 254, 0)] and [r for r in host.routes if r['protocol'] != '110'] == others
    assert '10.70.0.0/16' in result['diff']['before'] and '10.70.0.0/16' not in result['diff']['after']
    assert all(args[-1] == '110' for args in host.changing_commands())


def test_without_purge_unlisted_routes_stay_and_absent_removes(host):
    host.add_route('10.70.0.0/16', '110', gateway='198.18.0.9')
    assert not routes(host, routes=[])['changed']
    result = routes(host, routes=[{'dest': '10.70.0.0/16', 'state': 'absent'},
                                  {'dest': '10.71.0.0/16', 'state': 'absent'}])
    assert result['removed'] == ['10.70.0.0/16 via 198.18.0.9 dev eth0 table main metric 0'] and tagged(host) == []


@pytest.mark.parametrize('route, field, words', [
    ({'dest': '10.0.0.1/24', 'dev': 'eth0'}, 'routes[0].dest', 'not a valid CIDR'),
    ({'dest': '10.0.0.0/24'}, 'routes[0]', 'needs a gateway, a dev or both'),
    ({'dest': '10.0.0.0/24', 'gateway': 'fd00::1'}, 'routes[0].gateway', 'IPv6 but dest'),
    ({'dest': '10.0.0.0/24', 'dev': 'eth0', 'table': 'nosuch'}, 'routes[0].table', 'rt_tables'),
    ({'dest': '10.0.0.0/24', 'dev': 'eth0', 'metric': -1}, 'routes[0].metric', 'out of range'),
    ({'dest': '10.0.0.0/24', 'dev': 'eth0;reboot'}, 'routes[0].dev', 'interface name'),
])
def test_bad_routes_name_the_field(host, route, field, words):
    with pytest.raises(ValidationError) as exc:
        routes(host, routes=[route])
    assert exc.value.field == field and words in str(exc.value)
    assert host.commands == []


@pytest.mark.parametrize('protocol', [0, 2, 4, 109, 256])
def test_foreign_protocols_refused(host, protocol):
    with pytest.raises(ValidationError) as exc:
        routes(host, protocol=protocol, routes=[])
    assert exc.value.field == 'protocol'


def test_duplicate_key_refused(host):
    with pytest.raises(ValidationError) as exc:
        routes(host, routes=[{'dest': 'fd20::/48', 'dev': 'a'}, {'dest': 'fd20::/48', 'dev': 'b', 'metric': 0}])
    assert exc.value.field == 'routes[1]' and 'routes[0]' in str(exc.value)


def test_route_args_order_matches_wireguard_postup():
    assert rt.route_args({'dst': '10.1.0.0/24', 'dev': '%i', 'table': 'main'}, '109') == [
        '10.1.0.0/24', 'dev', '%i', 'table', 'main', 'proto', '109']


def test_what_the_kernel_refuses_fails_with_ip_s_message_and_changes_nothing_else(host):
    before = host.state()
    for route, message in (({'dest': '10.80.0.0/16', 'gateway': '10.11.0.1'}, 'Nexthop has invalid gateway'),
                           ({'dest': '10.80.0.0/16', 'dev': 'wg9'}, 'Cannot find device "wg9"')):
        with pytest.raises(CommandError) as exc:
            routes(host, routes=[route])
        assert exc.value.rc in (1, 2) and message in str(exc.value)
    assert host.state() == before


def test_boot_file_holds_the_present_routes(host, tmp_path):
    path = str(tmp_path / 'boot' / 'routes')
    wanted = [{'dest': '172.20.2.0/24', 'gateway': '10.10.0.3', 'dev': 'wg0', 'metric': 200},
              {'dest': '172.20.2.0/24', 'gateway': '10.10.0.2', 'dev': 'wg0', 'metric': 100},
              {'dest': '172.20.9.0/24', 'state': 'absent'}]
    assert routes(host, check=True, routes=wanted, path=path)['persisted'] and not (tmp_path / 'boot').exists()
    first = routes(host, routes=wanted, path=path)
    assert first['persisted'] and first['changed']
    assert open(path).read() == rt.BOOT_HEADER + (
        'route replace 172.20.2.0/24 via 10.10.0.2 dev wg0 table 254 metric 100 proto 110\n'
        'route replace 172.20.2.0/24 via 10.10.0.3 dev wg0 table 254 metric 200 proto 110\n')
    again = routes(host, routes=wanted, path=path)
    assert not again['changed'] and not again['persisted']
    # only the file differs: it is rewritten, no route is touched
    open(path, 'w').write('')
    count = len(host.changing_commands())
    repaired = routes(host, routes=wanted, path=path)
    assert repaired['changed'] and repaired['persisted'] and len(host.changing_commands()) == count
    with pytest.raises(ValidationError, match='path'):
        routes(host, routes=wanted, path='routes.batch')


def test_the_boot_file_brings_the_routes_back_after_a_reboot(host, tmp_path):
    path = str(tmp_path / 'routes')
    wanted = {'routes': [{'dest': '10.80.0.0/16', 'gateway': '198.18.0.9'}, {'dest': 'fd80::/48', 'dev': 'eth0'},
                         {'dest': '10.81.0.0/16', 'gateway': '198.18.0.9', 'table': 'vpn'}], 'path': path}
    assert routes(host, **wanted)['changed']
    host.boot.append(['ip', '-force', '-batch', path])
    host.reboot()
    assert tagged(host) == [('10.80.0.0/16', 254, 0), ('10.81.0.0/16', 100, 0), ('fd80::/48', 254, 1024)]
    assert not routes(host, **wanted)['changed']


# ------------------------------------------------- the fake host's ip is honest --
# What iproute2 6.1 printed (RECORDED) and refused (REFUSED, exit code and first line of standard error) on Linux 6.x
# in a network namespace where v0 had 10.0.0.1/24 and fd10::1/64 and the routes of SETUP, and v1 was down.
SETUP = [
    'route replace 10.9.0.0/16 dev v0 table main proto 110',
    'route replace 10.8.0.0/16 via 10.0.0.254 dev v0 table 200 metric 5 proto 110',
    'route replace 10.6.0.0/16 dev v0 table main metric 7 src 10.0.0.1 proto static',
    'route replace fd20::/48 dev v0 table main proto 109',
]
RECORDED = [
    ('-j -4 route show table all proto 110',
     [{'dst': '10.8.0.0/16', 'gateway': '10.0.0.254', 'dev': 'v0', 'table': '200', 'metric': 5, 'flags': []},
      {'dst': '10.9.0.0/16', 'dev': 'v0', 'scope': 'link', 'flags': []}]),
    ('-j -4 route show table main dev v0 proto 110',
     [{'dst': '10.9.0.0/16', 'scope': 'link', 'flags': []}]),
    ('-j -4 route show table 254',
     [{'dst': '10.0.0.0/24', 'dev': 'v0', 'protocol': 'kernel', 'scope': 'link', 'prefsrc': '10.0.0.1', 'flags': []},
      {'dst': '10.6.0.0/16', 'dev': 'v0', 'protocol': 'static', 'scope': 'link', 'prefsrc': '10.0.0.1', 'metric': 7,
       'flags': []},
      {'dst': '10.9.0.0/16', 'dev': 'v0', 'protocol': '110', 'scope': 'link', 'flags': []}]),
    ('-j -4 route show table 200',
     [{'dst': '10.8.0.0/16', 'gateway': '10.0.0.254', 'dev': 'v0', 'protocol': '110', 'metric': 5, 'flags': []}]),
    ('-j -6 route show table all proto 109',
     [{'dst': 'fd20::/48', 'dev': 'v0', 'metric': 1024, 'flags': [], 'pref': 'medium'}]),
    ('-j -6 route show table main dev v0 proto 109',
     [{'dst': 'fd20::/48', 'metric': 1024, 'flags': [], 'pref': 'medium'}]),
    ('-j route get 10.0.0.5',
     [{'dst': '10.0.0.5', 'dev': 'v0', 'prefsrc': '10.0.0.1', 'flags': [], 'uid': 0, 'cache': []}]),
]
REFUSED = [
    ('route replace 10.5.0.0/16 table main proto 110', 2, 'RTNETLINK answers: No such device'),
    ('route replace 10.5.0.1/16 dev v0 proto 110', 2, 'Error: Invalid prefix for given prefix length.'),
    ('route replace 10.5.0.0/16 dev v0 proto bogus', 255,
     'Error: argument "bogus" is wrong: "protocol" value is invalid'),
    ('route replace 10.5.0.0/16 dev v0 metric x', 255, 'Error: argument "x" is wrong: "metric" value is invalid'),
    ('route replace 10.5.0.0/16 dev v0 table bogus', 255, 'Error: argument "bogus" is wrong: "table" value is invalid'),
    ('route replace 10.5.0.0/16 dev v0 proto 110 metric', 255, 'Command line is not complete. Try option "help"'),
    ('route replace 10.9.0.0/16 via 10.5.0.1 proto 110', 2, 'Error: Nexthop has invalid gateway.'),
    ('route replace fd30::/48 via fd11::1 proto 110', 2, 'RTNETLINK answers: No route to host'),
    ('route replace 10.5.0.0/16 via fd10::9 proto 110', 1, 'Error: inet address is expected rather than "fd10::9".'),
    ('-6 route replace 10.5.0.0/16 dev v0 proto 110', 1, 'Error: inet6 prefix is expected rather than "10.5.0.0/16".'),
    ('route replace 10.7.0.0/16 dev v1 proto 110', 2, 'Error: Device for nexthop is not up.'),
    ('route replace fd30::/48 dev v1 proto 110', 2, 'Error: Nexthop device is not up.'),
    ('route replace 10.7.0.0/16 dev nosuch proto 110', 1, 'Cannot find device "nosuch"'),
    ('route replace 10.5.0.0/16 via 10.0.0.9 dev v0 src 10.0.0.7 proto 110', 2, 'Error: Invalid prefsrc address.'),
    ('route replace fd50::/48 via fd10::9 dev v0 src fd10::7 proto 110', 2, 'Error: Invalid source address.'),
    ('route del 10.9.0.0/16 dev v0 table main proto 109', 2, 'RTNETLINK answers: No such process'),
    ('-j -4 route show table 77', 2, 'Error: ipv4: FIB table does not exist.'),
    ('-j -6 route show table 200', 2, 'Error: ipv6: FIB table does not exist.'),
    ('-j -4 route show table 200 dev nosuch', 1, 'Cannot find device "nosuch"'),
    ('-j route get 2001:db8::1', 2, 'RTNETLINK answers: Network is unreachable'),
    ('address add 10.0.0.1/24 dev v0', 2, 'Error: ipv4: Address already assigned.'),
    ('-6 address add fd10::1/64 dev v0', 2, 'Error: ipv6: address already assigned.'),
    ('address del 10.0.0.2/24 dev v0', 2, 'Error: ipv4: Address not found.'),
    ('-6 address del fd10::99/64 dev v0', 2, 'Error: ipv6: address not found.'),
    ('address add 10.0.0.300/24 dev v0', 1, 'Error: any valid prefix is expected rather than "10.0.0.300/24".'),
    ('address add 10.0.0.79/24', 1, 'Not enough information: "dev" argument is required.'),
    ('address add 10.0.0.78/24 dev nosuch', 1, 'Cannot find device "nosuch"'),
    ('link set dev nosuch up', 1, 'Cannot find device "nosuch"'),
    ('link delete dev nosuch', 1, 'Cannot find device "nosuch"'),
    ('-d -j link show dev nosuch', 1, 'Device "nosuch" does not exist.'),
    ('-j address show dev nosuch', 1, 'Device "nosuch" does not exist.'),
    ('link add dev v0 type wireguard', 2, 'RTNETLINK answers: File exists'),
]


@pytest.fixture
def recorded():
    """The namespace of RECORDED: v0 up with the routes of SETUP, v1 down."""
    fake = FakeHost()
    fake.add_link('v0', addresses=['10.0.0.1/24', 'fd10::1/64'])
    fake.add_link('v1', up=False)
    for words in SETUP:
        assert fake.dispatch('ip', words.split()) == (0, '', '')
    return fake


@pytest.mark.parametrize('words, printed', RECORDED, ids=[r[0] for r in RECORDED])
def test_the_fake_ip_prints_what_ip_printed(recorded, words, printed):
    rc, out, err = recorded.dispatch('ip', words.split())
    assert (rc, json.loads(out), err) == (0, printed, '')


@pytest.mark.parametrize('words, rc, message', REFUSED, ids=[r[0] for r in REFUSED])
def test_the_fake_ip_refuses_what_ip_refused(recorded, words, rc, message):
    before = recorded.state()
    answer = recorded.dispatch('ip', words.split())
    assert (answer[0], answer[2].splitlines()[0]) == (rc, message)
    assert recorded.state() == before


# ---------------------------------------------------------- issue 9 --

def assert_refused(host, field, words, **params):
    """Refused in check mode and for real, naming the field, with nothing on the host changed."""
    before = host.state()
    for check in (True, False):
        with pytest.raises(ValidationError) as exc:
            routes(host, check=check, **params)
        assert exc.value.field == field and str(exc.value).startswith(field + ': ')
        assert words in exc.value.problem, exc.value.problem
    assert host.state() == before and host.changing_commands() == []


@pytest.mark.parametrize('dest, words', [
    ('198.18.0.0/24', 'would capture the management connection from 198.18.0.1 (now by 198.18.0.0/24 dev eth0 '
                      'table main metric 0 src 198.18.0.10, proto kernel), the network 198.18.0.0/24 connected to eth0'),
    ('198.18.0.0/25', 'the management connection from 198.18.0.1'),
    ('198.18.0.1/32', 'the management connection from 198.18.0.1'),
    ('172.20.1.0/24', 'the network 172.20.1.0/24 connected to eth1'),
])
def test_route_capturing_the_management_connection_or_a_connected_network_is_refused(host, dest, words):
    host.add_route('10.70.0.0/16', '110', dev='wg0')
    assert_refused(host, 'routes[1].dest', words, purge=True,
                   routes=[{'dest': '10.60.0.0/16', 'dev': 'wg0'}, {'dest': dest, 'dev': 'wg0'}])


def test_route_capturing_the_management_connection_behind_the_default_route_is_refused(host):
    host.management = dict(MANAGEMENT, client='203.0.113.5')
    for dest in ('203.0.113.0/24', '128.0.0.0/1'):
        with pytest.raises(ValidationError) as exc:
            routes(host, routes=[{'dest': dest, 'gateway': '198.18.0.9'}])
        assert 'the management connection from 203.0.113.5' in str(exc.value)
    assert host.changing_commands() == []


@pytest.mark.parametrize('route', [
    {'dest': '198.18.0.128/25', 'dev': 'wg0'},                    # more specific, holds no protected address
    {'dest': '198.18.0.0/16', 'dev': 'wg0'},                      # less specific: the connected /24 still wins
    {'dest': '198.18.0.0/24', 'dev': 'wg0', 'metric': 100},        # a standby behind the kernel's route
    {'dest': '198.18.0.1/32', 'dev': 'eth0'},                     # the way it goes already
    {'dest': '198.19.250.1/32', 'dev': 'wg0'},                    # an anycast prefix (mesh_ha)
    {'dest': 'fd00:18::/64', 'dev': 'wg0'},                       # IPv6 metric 1024 stays behind the kernel's 256
    {'dest': '172.21.0.0/16', 'gateway': '198.18.0.9', 'table': 'vpn'},  # another table holds nothing of these
])
def test_legitimate_routes_are_added(host, route):
    result = routes(host, routes=[route])
    assert result['changed'] and len(result['added']) == 1
    assert not routes(host, routes=[route])['changed']


def test_route_never_replaces_another_owners_route(host):
    host.add_route('10.50.0.0/16', 'static', gateway='198.18.0.9')
    assert_refused(host, 'routes[0].dest', 'another owner (10.50.0.0/16 via 198.18.0.9 dev eth0 table main metric 0, '
                   'proto static)', routes=[{'dest': '10.50.0.0/16', 'dev': 'wg0'}])
    # another metric is another route: both stay
    assert routes(host, routes=[{'dest': '10.50.0.0/16', 'dev': 'wg0', 'metric': 100}])['changed']
    assert sorted((r['protocol'], r['metric']) for r in host.routes if r['dst'] == '10.50.0.0/16') == [
        ('110', 100), ('static', 0)]


def test_absent_removes_only_a_route_with_the_tag(host):
    host.add_route('10.50.0.0/16', 'static', gateway='198.18.0.9')
    before = host.state()
    for dest in ('10.50.0.0/16', '172.20.1.0/24'):
        result = routes(host, routes=[{'dest': dest, 'state': 'absent'}])
        assert not result['changed'] and result['removed'] == []
    assert host.state() == before and host.changing_commands() == []


def test_an_own_route_may_move_to_another_device(host):
    routes(host, routes=[{'dest': '10.70.0.0/16', 'dev': 'wg0'}])
    moved = routes(host, routes=[{'dest': '10.70.0.0/16', 'dev': 'wg1'}])
    assert moved['changed_routes'] == [{'route': '10.70.0.0/16 dev wg1 table main metric 0', 'fields': ['dev']}]
    assert [r['dev'] for r in host.routes if r['protocol'] == '110'] == ['wg1']
