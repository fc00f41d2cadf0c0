# -*- coding: utf-8 -*-
# Copyright: meshforge.vpn contributors
# GNU General Public License v3.0+ (see https://www.gnu.org/licenses/gpl-3.0.txt)

from __future__ import absolute_import, division, print_function

__metaclass__ = type

import base64

import pytest
from ansible.errors import AnsibleFilterError

from ansible_collections.meshforge.vpn.plugins.filter.wireguard_mesh import FilterModule

FILTERS = FilterModule().filters()
SETTINGS = {'network': '10.88.0.0/24', 'topology': 'full', 'interface': 'wg0',
            'defaults': {'listen_port': 51820, 'persistent_keepalive': 25, 'routed_subnets': []}}


def key(n):
    return base64.b64encode(bytes([n]) * 32).decode()


def test_members_outside_the_run_are_planned_from_inventory_values():
    hostvars = {
        # a ran the role in this run and published its settings
        'a': {'wireguard_mesh__self': {'endpoint': '198.18.1.11', 'listen_port': 51820,
                                       'persistent_keepalive': 25, 'routed_subnets': []}},
        # b is outside the run (--limit): only its inventory variables are known
        'b': {'ansible_host': '198.18.1.12', 'wireguard_mesh_listen_port': 51999,
              'wireguard_mesh_routed_subnets': ['172.20.0.0/24']},
    }
    plan = FILTERS['wireguard_mesh_plan'](['a', 'b'], hostvars, SETTINGS, {'a': key(1), 'b': key(2)})
    to_b = plan['a']['peers'][0]
    assert to_b['endpoint'] == '198.18.1.12:51999'
    assert '172.20.0.0/24' in to_b['allowed_ips']
    assert to_b['public_key'] == key(2)
    assert plan['b']['listen_port'] == 51999


def test_errors_become_filter_errors_naming_the_field():
    with pytest.raises(AnsibleFilterError) as err:
        FILTERS['wireguard_mesh_plan'](['a'], {'a': {}}, dict(SETTINGS, network='10.88.0.0/99'))
    assert 'wireguard_mesh_network' in str(err.value)


def test_psk_filter_adds_a_key_per_peer_and_refuses_a_short_secret():
    peers = [{'name': 'b', 'description': 'b', 'public_key': key(2)}]
    out = FILTERS['wireguard_mesh_psk'](peers, 'x' * 40, 'wg0', 'a')
    assert len(base64.b64decode(out[0]['preshared_key'])) == 32
    # paired by name: another display text keeps the key
    relabelled = FILTERS['wireguard_mesh_psk']([dict(peers[0], description='b (gateway)')], 'x' * 40, 'wg0', 'a')
    assert relabelled[0]['preshared_key'] == out[0]['preshared_key']
    with pytest.raises(AnsibleFilterError):
        FILTERS['wireguard_mesh_psk'](peers, 'short', 'wg0', 'a')


def test_psk_peers_filter_gives_every_member_the_same_keys_as_the_one_member_filter():
    plans = {'a': {'peers': [{'name': 'b', 'public_key': key(2)}]},
             'b': {'peers': [{'name': 'a', 'public_key': key(1)}]}, 'c': {}}
    out = FILTERS['wireguard_mesh_psk_peers'](plans, 'x' * 40, 'wg0')
    assert out['a'] == FILTERS['wireguard_mesh_psk'](plans['a']['peers'], 'x' * 40, 'wg0', 'a')
    # both ends of a pair derive one key; a member without peers gets none
    assert out['a'][0]['preshared_key'] == out['b'][0]['preshared_key']
    assert out['c'] == []
    with pytest.raises(AnsibleFilterError):
        FILTERS['wireguard_mesh_psk_peers'](plans, 'short', 'wg0')
    with pytest.raises(AnsibleFilterError):
        FILTERS['wireguard_mesh_psk_peers'](['a'], 'x' * 40, 'wg0')


def test_public_keys_may_be_registered_results():
    hostvars = {'a': {'ansible_host': '198.18.1.11'}, 'b': {'ansible_host': '198.18.1.12'}}
    results = {'a': {'changed': False, 'public_key': key(1)}, 'b': {'skipped': True}}
    plan = FILTERS['wireguard_mesh_plan'](['a', 'b'], hostvars, dict(SETTINGS, require_keys=False), results)
    assert plan['b']['peers'][0]['public_key'] == key(1)
    assert len(plan['a']['peers'][0]['public_key']) == 44  # b's placeholder


def test_the_ipam_request_names_pools_after_the_network_and_pins_inventory_addresses():
    hostvars = {'a': {'wireguard_mesh_address': '10.88.0.9', 'wireguard_mesh_address6': 'FD88::9'}, 'b': {}}
    settings = dict(SETTINGS, network6='fd88::/64', ipam={'reserve_first': 3, 'exclude': ['10.88.0.128/25', 'fd88::/120']})
    request = FILTERS['wireguard_mesh_ipam_request'](['a', 'b'], hostvars, settings)
    assert request == {
        'network': 'wg0', 'release': [], 'clients': [],
        'pools': {'wg0': {'cidr': '10.88.0.0/24', 'network': 'wg0', 'reserve_first': 3, 'exclude': ['10.88.0.128/25']},
                  'wg0_v6': {'cidr': 'fd88::/64', 'network': 'wg0', 'reserve_first': 3, 'exclude': ['fd88::/120']}},
        'pins': {'a': {'wg0': '10.88.0.9', 'wg0_v6': 'fd88::9'}}}
    named = FILTERS['wireguard_mesh_ipam_request'](['a'], {'a': {}}, dict(SETTINGS, ipam_network='office'), ['gone'])
    assert list(named['pools']) == ['office'] and named['release'] == ['gone']


@pytest.mark.parametrize('settings, release, field', [
    (dict(SETTINGS), ['a'], 'wireguard_mesh_ipam_release'),
    (dict(SETTINGS), 'gone', 'wireguard_mesh_ipam_release'),
    (dict(SETTINGS, ipam={'exclude': '10.88.0.5'}), [], 'wireguard_mesh_ipam_exclude'),
    (dict(SETTINGS, ipam={'exclude': ['10.88.0.500']}), [], 'wireguard_mesh_ipam_exclude[0]'),
    (dict(SETTINGS, ipam={'reserve_first': -1}), [], 'wireguard_mesh_ipam_reserve_first'),
])
def test_bad_ipam_settings_name_the_variable(settings, release, field):
    with pytest.raises(AnsibleFilterError) as info:
        FILTERS['wireguard_mesh_ipam_request'](['a'], {'a': {}}, settings, release)
    assert field in str(info.value)


def test_the_plan_takes_the_allocated_addresses_from_the_ipam_result():
    hostvars = {'a': {}, 'b': {}}
    allocation = {'changed': False, 'addresses': {'a': {'wg0': '10.88.0.77'}, 'b': {'wg0': '10.88.0.78'}}}
    plan = FILTERS['wireguard_mesh_plan'](['a', 'b'], hostvars, SETTINGS, {'a': key(1), 'b': key(2)}, allocation)
    assert plan['a']['addresses'] == ['10.88.0.77/24'] and plan['a']['peers'][0]['allowed_ips'] == ['10.88.0.78/32']
    skipped = FILTERS['wireguard_mesh_plan'](['a', 'b'], hostvars, SETTINGS, {'a': key(1), 'b': key(2)},
                                             {'skipped': True, 'changed': False})
    assert skipped['a']['addresses'] != ['10.88.0.77/24']


# Issue 9: the role fails with the planner's problem, which starts with the variable.
MEMBERS = {'h1': {'ansible_host': '198.18.5.11'}, 'h2': {'ansible_host': '198.18.5.12'}}


@pytest.mark.parametrize('hostvars, settings, release, rotate, expected', [
    (MEMBERS, SETTINGS, [], [], ''),
    (dict(MEMBERS, h2=dict(MEMBERS['h2'], wireguard_mesh_routed_subnets=['198.18.5.0/24'])), SETTINGS, [], [],
     'wireguard_mesh_routed_subnets (h2): 198.18.5.0/24 contains the endpoint of h1 (198.18.5.11)'),
    (MEMBERS, dict(SETTINGS, interface='wg-much-too-long'), [], [], "wireguard_mesh_interface: 'wg-much-too-long'"),
    (MEMBERS, SETTINGS, [], ['h3'], 'wireguard_mesh_rotate_keys: h3 is not a member'),
    (MEMBERS, SETTINGS, ['h1'], [], 'wireguard_mesh_ipam_release: h1 still in the mesh group'),
])
def test_the_problem_filter_starts_with_the_variable(hostvars, settings, release, rotate, expected):
    problem = FILTERS['wireguard_mesh_problem'](['h1', 'h2'], hostvars, settings, release, rotate)
    assert problem.startswith(expected) and bool(problem) == bool(expected), problem


def test_the_problem_filter_sees_connected_networks_in_gathered_facts():
    facts = {'interfaces': ['lo', 'eth0', 'wg0'],
             'eth0': {'ipv4': {'address': '172.16.0.5', 'netmask': '255.255.0.0'}},
             'wg0': {'ipv4': {'address': '10.88.0.2', 'prefix': '24'}}}
    hostvars = dict(MEMBERS, h1=dict(MEMBERS['h1'], ansible_facts=facts),
                    h2=dict(MEMBERS['h2'], wireguard_mesh_routed_subnets=['172.16.9.0/24']))
    problem = FILTERS['wireguard_mesh_problem'](['h1', 'h2'], hostvars, SETTINGS)
    assert problem.startswith("wireguard_mesh_routed_subnets (h2): 172.16.9.0/24 overlaps h1's connected network "
                              "172.16.0.0/16 (eth0)"), problem
    # the mesh's own interface is no conflict with the mesh network
    assert FILTERS['wireguard_mesh_problem'](['h1', 'h2'], dict(MEMBERS, h1=hostvars['h1']), SETTINGS) == ''


def test_the_ipam_problem_filter_maps_a_failed_result_only():
    ipam_problem = FILTERS['wireguard_mesh_ipam_problem']
    assert ipam_problem({'changed': False, 'addresses': {}}, SETTINGS) == ''
    assert ipam_problem({'skipped': True}, SETTINGS) == ''
    failed = {'failed': False, 'failed_when_result': False,
              'msg': 'meshforge.vpn.ipam: pins[h2][wg0]: 10.88.0.7 is already allocated to h1; release it first'}
    assert ipam_problem(failed, SETTINGS) == 'wireguard_mesh_address (h2): 10.88.0.7 is already allocated to h1; release it first'
