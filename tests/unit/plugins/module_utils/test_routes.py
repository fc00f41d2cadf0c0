# -*- coding: utf-8 -*-
# Copyright: meshforge.vpn contributors
# GNU General Public License v3.0+ (see https://www.gnu.org/licenses/gpl-3.0.txt)

from __future__ import absolute_import, division, print_function

__metaclass__ = type

import copy
import json

import pytest

from ansible_collections.meshforge.vpn.plugins.module_utils.routes import model as rt
from ansible_collections.meshforge.vpn.plugins.module_utils.routes import resource as routes_resource
from ansible_collections.meshforge.vpn.plugins.module_utils.validation import ValidationError

from ansible_collections.meshforge.vpn.tests.unit.plugins.module_utils.fakenet import FakeNet
from ansible_collections.meshforge.vpn.tests.unit.plugins.module_utils.fakes import FakeModule

NAMES = dict(rt.BUILTIN_TABLES, vpn=100)


def run(net, check=False, diff=False, connection=None, **params):
    """One run of the route module's driver; ``connection`` is the management SSH connection (none by default)."""
    params.setdefault('protocol', 110)
    params.setdefault('purge', False)
    module = FakeModule(net, params, check_mode=check, diff=diff)
    return routes_resource.manage_routes(module, NAMES, connection or {})


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


def test_add_then_noop_ipv4_ipv6():
    net = FakeNet()
    wanted = [{'dest': '172.20.1.0/24', 'gateway': '10.10.0.2', 'dev': 'wg0', 'metric': 100},
              {'dest': 'fd20::/48', 'dev': 'wg0', 'table': 'vpn'}]
    check = run(net, check=True, routes=wanted)
    assert check['changed'] and net.changing_commands() == []
    first = run(net, routes=wanted)
    assert first['changed'] and first['added'] == [
        '172.20.1.0/24 via 10.10.0.2 dev wg0 table main metric 100', 'fd20::/48 dev wg0 table vpn metric 1024']
    assert sorted((r['dst'], r['table'], r['metric'], r['protocol']) for r in net.routes) == [
        ('172.20.1.0/24', 254, 100, '110'), ('fd20::/48', 100, 1024, '110')]
    count = len(net.changing_commands())
    again = run(net, routes=wanted)
    assert not again['changed'] and len(net.changing_commands()) == count
    assert not run(net, check=True, routes=wanted)['changed']


def test_two_gateways_are_two_routes_and_change_is_replace():
    net = FakeNet()
    wanted = [{'dest': '172.20.1.0/24', 'gateway': '10.10.0.2', 'metric': 100},
              {'dest': '172.20.1.0/24', 'gateway': '10.10.0.3', 'metric': 200}]
    run(net, routes=wanted)
    assert len(net.routes) == 2
    wanted[0]['gateway'] = '10.10.0.4'
    result = run(net, routes=wanted)
    assert result['changed_routes'] == [{'route': '172.20.1.0/24 via 10.10.0.4 table main metric 100',
                                         'fields': ['gateway']}]
    assert sorted(r['gateway'] for r in net.routes) == ['10.10.0.3', '10.10.0.4']


def test_purge_removes_only_our_tag():
    net = FakeNet()
    net.add_route('10.50.0.0/16', '4', gateway='198.18.0.9')           # hand-made static route
    net.add_route('10.60.0.0/16', '109', dev='wg0')                      # wireguard_interface's
    net.add_route('10.70.0.0/16', '110', gateway='198.18.0.9', table=100)
    net.add_route('fd70::/48', '110', dev='eth0')
    result = run(net, diff=True, purge=True, routes=[{'dest': '10.80.0.0/16', 'dev': 'eth0'}])
    assert result['removed'] == ['10.70.0.0/16 via 198.18.0.9 dev eth0 table vpn metric 0',
                                 'fd70::/48 dev eth0 table main metric 1024']
    assert sorted(r['dst'] for r in net.routes) == ['10.50.0.0/16', '10.60.0.0/16', '10.80.0.0/16']
    assert '10.70.0.0/16' in result['diff']['before'] and '10.70.0.0/16' not in result['diff']['after']
    assert all(args[-1] == '110' for args in net.changing_commands())


def test_without_purge_unlisted_routes_stay_and_absent_removes():
    net = FakeNet()
    net.add_route('10.70.0.0/16', '110', gateway='198.18.0.9')
    assert not run(net, routes=[])['changed']
    result = run(net, routes=[{'dest': '10.70.0.0/16', 'state': 'absent'}, {'dest': '10.71.0.0/16', 'state': 'absent'}])
    assert result['removed'] == ['10.70.0.0/16 via 198.18.0.9 dev eth0 table main metric 0'] and net.routes == []


@pytest.mark.parametrize('route, field, words', [
    ({'dest': '10.0.0.1/24', 'dev': 'eth0'}, 'routes[0].dest', 'not a valid CIDR'),
    ({'dest': '10.0.0.0/24'}, 'routes[0]', 'needs a gateway, a dev or both'),
    ({'dest': '10.0.0.0/24', 'gateway': 'fd00::1'}, 'routes[0].gateway', 'IPv6 but dest'),
    ({'dest': '10.0.0.0/24', 'dev': 'eth0', 'table': 'nosuch'}, 'routes[0].table', 'rt_tables'),
    ({'dest': '10.0.0.0/24', 'dev': 'eth0', 'metric': -1}, 'routes[0].metric', 'out of range'),
    ({'dest': '10.0.0.0/24', 'dev': 'eth0;reboot'}, 'routes[0].dev', 'interface name'),
])
def test_bad_routes_name_the_field(route, field, words):
    net = FakeNet()
    with pytest.raises(ValidationError) as exc:
        run(net, routes=[route])
    assert exc.value.field == field and words in str(exc.value)
    assert net.commands == []


@pytest.mark.parametrize('protocol', [0, 2, 4, 109, 256])
def test_foreign_protocols_refused(protocol):
    with pytest.raises(ValidationError) as exc:
        run(FakeNet(), protocol=protocol, routes=[])
    assert exc.value.field == 'protocol'


def test_duplicate_key_refused():
    with pytest.raises(ValidationError) as exc:
        run(FakeNet(), routes=[{'dest': 'fd20::/48', 'dev': 'a'}, {'dest': 'fd20::/48', 'dev': 'b', 'metric': 0}])
    assert exc.value.field == 'routes[1]' and 'routes[0]' in str(exc.value)


def test_route_args_order_matches_wireguard_postup():
    assert rt.route_args({'dst': '10.1.0.0/24', 'dev': '%i', 'table': 'main'}, '109') == [
        '10.1.0.0/24', 'dev', '%i', 'table', 'main', 'proto', '109']


def test_boot_file_holds_the_present_routes(tmp_path):
    path = str(tmp_path / 'boot' / 'routes')
    net = FakeNet()
    wanted = [{'dest': '172.20.1.0/24', 'gateway': '10.10.0.3', 'dev': 'wg0', 'metric': 200},
              {'dest': '172.20.1.0/24', 'gateway': '10.10.0.2', 'dev': 'wg0', 'metric': 100},
              {'dest': '172.20.9.0/24', 'state': 'absent'}]
    assert run(net, check=True, routes=wanted, path=path)['persisted'] and not (tmp_path / 'boot').exists()
    first = run(net, routes=wanted, path=path)
    assert first['persisted'] and first['changed']
    assert open(path).read() == rt.BOOT_HEADER + (
        'route replace 172.20.1.0/24 via 10.10.0.2 dev wg0 table 254 metric 100 proto 110\n'
        'route replace 172.20.1.0/24 via 10.10.0.3 dev wg0 table 254 metric 200 proto 110\n')
    again = run(net, routes=wanted, path=path)
    assert not again['changed'] and not again['persisted']
    # only the file differs: it is rewritten, no route is touched
    open(path, 'w').write('')
    count = len(net.changing_commands())
    repaired = run(net, routes=wanted, path=path)
    assert repaired['changed'] and repaired['persisted'] and len(net.changing_commands()) == count
    with pytest.raises(ValidationError, match='path'):
        run(net, routes=wanted, path='routes.batch')


# ---------------------------------------------------------- issue 9 --
MANAGEMENT = {'client': '198.18.0.1', 'client_port': 50123, 'server': '198.18.0.10', 'server_port': 22}


def underlay():
    """A host on the underlay 198.18.0.0/24 (eth0) with a LAN 172.20.1.0/24 (eth1) and a default route."""
    net = FakeNet()
    net.add_route('198.18.0.0/24', 'kernel', dev='eth0', src='198.18.0.10')
    net.add_route('172.20.1.0/24', 'kernel', dev='eth1', src='172.20.1.1')
    net.add_route('0.0.0.0/0', 'boot', dev='eth0', gateway='198.18.0.254')
    net.add_route('fd00:18::/64', 'kernel', dev='eth0', metric=256)
    return net


def assert_refused(net, field, words, **params):
    """Refused in check mode and for real, naming the field, with nothing on the host changed."""
    before = copy.deepcopy(net.routes)
    for check in (True, False):
        with pytest.raises(ValidationError) as exc:
            run(net, check=check, connection=MANAGEMENT, **params)
        assert exc.value.field == field and str(exc.value).startswith(field + ': ')
        assert words in exc.value.problem, exc.value.problem
    assert net.routes == before and net.changing_commands() == []


@pytest.mark.parametrize('dest, words', [
    ('198.18.0.0/24', 'would capture the management connection from 198.18.0.1 (now by 198.18.0.0/24 dev eth0 '
                      'table main metric 0 src 198.18.0.10, proto kernel), the network 198.18.0.0/24 connected to eth0'),
    ('198.18.0.0/25', 'the management connection from 198.18.0.1'),
    ('198.18.0.1/32', 'the management connection from 198.18.0.1'),
    ('172.20.1.0/24', 'the network 172.20.1.0/24 connected to eth1'),
])
def test_route_capturing_the_management_connection_or_a_connected_network_is_refused(dest, words):
    net = underlay()
    net.add_route('10.70.0.0/16', '110', dev='wg0')
    assert_refused(net, 'routes[1].dest', words, purge=True,
                   routes=[{'dest': '10.60.0.0/16', 'dev': 'wg0'}, {'dest': dest, 'dev': 'wg0'}])


def test_route_capturing_the_management_connection_behind_the_default_route_is_refused():
    net = underlay()
    connection = dict(MANAGEMENT, client='203.0.113.5')
    for dest in ('203.0.113.0/24', '128.0.0.0/1'):
        with pytest.raises(ValidationError) as exc:
            run(net, connection=connection, routes=[{'dest': dest, 'gateway': '198.18.0.9'}])
        assert 'the management connection from 203.0.113.5' in str(exc.value)
    assert net.changing_commands() == []


@pytest.mark.parametrize('route', [
    {'dest': '198.18.0.128/25', 'dev': 'wg0'},                    # more specific, holds no protected address
    {'dest': '198.18.0.0/16', 'dev': 'wg0'},                      # less specific: the connected /24 still wins
    {'dest': '198.18.0.0/24', 'dev': 'wg0', 'metric': 100},        # a standby behind the kernel's route
    {'dest': '198.18.0.1/32', 'dev': 'eth0'},                     # the way it goes already
    {'dest': '198.19.250.1/32', 'dev': 'wg0'},                    # an anycast prefix (mesh_ha)
    {'dest': 'fd00:18::/64', 'dev': 'wg0'},                       # IPv6 metric 1024 stays behind the kernel's 256
    {'dest': '172.21.0.0/16', 'gateway': '198.18.0.9', 'table': 'vpn'},  # another table holds nothing of these
])
def test_legitimate_routes_are_added(route):
    net = underlay()
    result = run(net, connection=MANAGEMENT, routes=[route])
    assert result['changed'] and len(result['added']) == 1
    assert not run(net, connection=MANAGEMENT, routes=[route])['changed']


def test_route_never_replaces_another_owners_route():
    net = underlay()
    net.add_route('10.50.0.0/16', 'static', gateway='198.18.0.9')
    assert_refused(net, 'routes[0].dest', 'another owner (10.50.0.0/16 via 198.18.0.9 dev eth0 table main metric 0, '
                   'proto static)', routes=[{'dest': '10.50.0.0/16', 'dev': 'wg0'}])
    # another metric is another route: both stay
    assert run(net, routes=[{'dest': '10.50.0.0/16', 'dev': 'wg0', 'metric': 100}])['changed']
    assert sorted((r['protocol'], r['metric']) for r in net.routes if r['dst'] == '10.50.0.0/16') == [
        ('110', 100), ('static', 0)]


def test_absent_removes_only_a_route_with_the_tag():
    net = underlay()
    net.add_route('10.50.0.0/16', 'static', gateway='198.18.0.9')
    before = copy.deepcopy(net.routes)
    for dest in ('10.50.0.0/16', '172.20.1.0/24'):
        result = run(net, routes=[{'dest': dest, 'state': 'absent'}])
        assert not result['changed'] and result['removed'] == []
    assert net.routes == before and net.changing_commands() == []


def test_an_own_route_may_move_to_another_device():
    net = underlay()
    run(net, connection=MANAGEMENT, routes=[{'dest': '10.70.0.0/16', 'dev': 'wg0'}])
    moved = run(net, connection=MANAGEMENT, routes=[{'dest': '10.70.0.0/16', 'dev': 'wg1'}])
    assert moved['changed_routes'] == [{'route': '10.70.0.0/16 dev wg1 table main metric 0', 'fields': ['dev']}]
    assert [r['dev'] for r in net.routes if r['protocol'] == '110'] == ['wg1']
