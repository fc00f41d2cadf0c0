# -*- coding: utf-8 -*-
# Copyright: meshforge.vpn contributors
# GNU General Public License v3.0+ (see https://www.gnu.org/licenses/gpl-3.0.txt)
"""Road-warrior clients: their checks, their place in the mesh's plan, their wg-quick file."""

from __future__ import absolute_import, division, print_function

__metaclass__ = type

import pytest

from ansible_collections.meshforge.vpn.plugins.module_utils.validation import ValidationError
from ansible_collections.meshforge.vpn.plugins.plugin_utils import clients, topology
from ansible_collections.meshforge.vpn.tests.unit.plugins.plugin_utils.test_topology import SETTINGS, key, members

LAPTOP = {'name': 'laptop1', 'gateway': 'a', 'public_key': key(9)}


def plan(client_list, addresses=None, **settings):
    allocation = addresses if addresses is not None else {'laptop1': {'wg0': '10.88.0.50'}, 'phone': {'wg0': '10.88.0.51'}}
    return topology.plan_mesh(members(['a', 'b', 'c'], c={'routed_subnets': ['192.0.2.0/24']}),
                              dict(SETTINGS, clients=client_list, client_addresses=allocation, **settings))


def test_a_client_is_a_peer_of_its_gateway_only_and_every_member_reaches_it_through_the_gateway():
    plans = plan([LAPTOP])
    peer = plans['a']['peers'][-1]
    assert peer == {'name': 'client:laptop1', 'description': 'client:laptop1', 'public_key': key(9), 'endpoint': None,
                    'allowed_ips': ['10.88.0.50/32'], 'persistent_keepalive': 0}
    assert plans['a']['forwarding'] is True
    assert all(p['name'] != 'client:laptop1' for h in ('b', 'c') for p in plans[h]['peers'])
    for host in ('b', 'c'):
        to_a = [p for p in plans[host]['peers'] if p['name'] == 'a'][0]
        assert '10.88.0.50/32' in to_a['allowed_ips']
    entry = plans['a']['clients'][0]
    assert entry['gateway']['allowed_ips'] == ['10.88.0.0/24', '192.0.2.0/24']
    assert entry['gateway']['public_key'] == key(1) and entry['gateway']['endpoint'] == '198.18.1.10:51820'


def test_a_disabled_client_keeps_its_file_but_is_no_peer_and_no_route():
    plans = plan([dict(LAPTOP, disabled=True)])
    assert all(p['name'] != 'client:laptop1' for h in plans for p in plans[h]['peers'])
    assert all('10.88.0.50/32' not in p['allowed_ips'] for h in plans for p in plans[h]['peers'])
    assert plans['a']['clients'][0]['client']['disabled'] is True


def test_a_generated_key_comes_from_the_controller_and_check_mode_stands_in_with_a_placeholder():
    generated = {'name': 'phone', 'gateway': 'b', 'generate_key': True}
    plans = plan([generated], client_keys={'phone': key(7)})
    assert plans['b']['peers'][-1]['public_key'] == key(7)
    assert len(plan([generated], require_keys=False)['b']['peers'][-1]['public_key']) == 44
    with pytest.raises(ValidationError, match=r'wireguard_mesh_clients\[phone\]\.public_key'):
        plan([generated])


def test_before_the_address_manager_ran_clients_are_only_checked():
    plans = topology.plan_mesh(members(['a', 'b']), dict(SETTINGS, clients=[LAPTOP]))
    assert 'clients' not in plans['a'] and all(p['name'] != 'client:laptop1' for p in plans['a']['peers'])


@pytest.mark.parametrize('entry, field', [
    (dict(LAPTOP, public_key='c2hvcnQ='), r'wireguard_mesh_clients\[laptop1\]\.public_key: must be 32 bytes'),
    (dict(LAPTOP, gateway='z'), r"wireguard_mesh_clients\[laptop1\]\.gateway: 'z' is not a member"),
    (dict(LAPTOP, name='a'), r'wireguard_mesh_clients\[a\]\.name: a is a member'),
    (dict(LAPTOP, name='../x'), r"wireguard_mesh_clients\[0\]\.name: '\.\./x' is not a client name"),
    (dict(LAPTOP, name='x' * 16), r'wireguard_mesh_clients\[0\]\.name'),
    ({'name': 'laptop1', 'gateway': 'a'}, r'wireguard_mesh_clients\[laptop1\]\.public_key: give the public key'),
    (dict(LAPTOP, colour='red'), r'wireguard_mesh_clients\[0\]: unknown option colour'),
    (dict(LAPTOP, dns=['1.1.1.1\nPostUp = x']), r'wireguard_mesh_clients\[laptop1\]\.dns\[0\]'),
    (dict(LAPTOP, address='10.99.0.5'), r'wireguard_mesh_clients\[laptop1\]\.address: 10.99.0.5 is outside'),
])
def test_bad_clients_are_refused_naming_the_field(entry, field):
    with pytest.raises(ValidationError, match=field):
        topology.check_mesh(members(['a', 'b']), dict(SETTINGS, clients=[entry]))


def test_two_clients_with_one_name_are_refused():
    with pytest.raises(ValidationError, match=r'wireguard_mesh_clients\[laptop1\]\.name: two clients'):
        clients.normalize([LAPTOP, LAPTOP], ['a'])


def test_the_address_manager_is_asked_for_present_clients_and_releases_absent_ones():
    request = topology.ipam_request(members(['a', 'b']), dict(SETTINGS, clients=[
        dict(LAPTOP, address='10.88.0.77'), {'name': 'old', 'state': 'absent'}, dict(LAPTOP, name='off', disabled=True)]))
    assert request['clients'] == ['laptop1', 'off'] and request['release'] == ['old']
    assert request['pins']['laptop1'] == {'wg0': '10.88.0.77'}


def test_the_file_is_one_wg_quick_can_read_and_a_device_key_is_named_not_invented():
    client = clients.normalize([dict(LAPTOP, dns=['10.88.0.1'])], ['a'])[0]
    client.update(address='10.88.0.50', address6='fd88::50')
    gateway = {'name': 'a', 'public_key': key(1), 'endpoint': '[fd18:1::11]:51820', 'allowed_ips': ['10.88.0.0/24']}
    text = clients.render_config(client, gateway, None, key(5))
    assert text.splitlines()[1:] == [
        '[Interface]', '# The device made its own key pair: put its private key here before use.',
        'PrivateKey = ' + clients.PLACEHOLDER, 'Address = 10.88.0.50/32, fd88::50/128', 'DNS = 10.88.0.1', '',
        '[Peer]', 'PublicKey = ' + key(1), 'PresharedKey = ' + key(5), 'Endpoint = [fd18:1::11]:51820',
        'AllowedIPs = 10.88.0.0/24', 'PersistentKeepalive = 25']
    assert 'PrivateKey = ' + key(3) in clients.render_config(client, gateway, key(3))


def test_enabled_clients_join_the_firewall_groups_they_name():
    plans = plan([dict(LAPTOP, groups=['admins', 'ops']), {'name': 'phone', 'gateway': 'b', 'public_key': key(8),
                                                           'groups': ['admins'], 'disabled': True}])
    merged = clients.firewall_groups({'admins': ['a']}, {'ops': ['b', 'c'], 'web': ['c']}, plans)
    assert merged == {'admins': ['a', '10.88.0.50/32'], 'ops': ['b', 'c', '10.88.0.50/32']}


def test_a_client_with_fallback_gateways_has_a_file_for_each_and_is_carried_by_the_first_not_withdrawn():
    both = dict(LAPTOP, gateway=['a', 'b'])
    plans = plan([both])
    assert [p['name'] for p in plans['a']['peers']].count('client:laptop1') == 1
    assert 'client:laptop1' not in [p['name'] for p in plans['b']['peers']]
    # every member reaches the client through a, b too
    for host in ('b', 'c'):
        to_a = [p for p in plans[host]['peers'] if p['name'] == 'a'][0]
        assert '10.88.0.50/32' in to_a['allowed_ips']
    assert [(e['file'], e['gateway']['name']) for h in ('a', 'b') for e in plans[h]['clients']] == [
        ('laptop1', 'a'), ('laptop1-2', 'b')]
    # a withdrawn: the mesh routes the client through b
    withdrawn = topology.plan_mesh(members(['a', 'b', 'c'], a={'routed_subnets_withdrawn': True}),
                                   dict(SETTINGS, clients=[both], client_addresses={'laptop1': {'wg0': '10.88.0.50'}}))
    for host in ('a', 'c'):
        to_b = [p for p in withdrawn[host]['peers'] if p['name'] == 'b'][0]
        assert '10.88.0.50/32' in to_b['allowed_ips']
    assert withdrawn['b']['peers'][-1]['name'] == 'client:laptop1'
    assert 'client:laptop1' not in [p['name'] for p in withdrawn['a']['peers']]
    # the client counts once in the firewall groups
    assert clients.firewall_groups({}, {}, plan([dict(both, groups=['ops'])])) == {'ops': ['10.88.0.50/32']}


@pytest.mark.parametrize('entry, field, words', [
    (dict(LAPTOP, gateway=['a', 'a']), 'wireguard_mesh_clients[laptop1].gateway', 'names a gateway twice'),
    (dict(LAPTOP, gateway=['a', 'nosuch']), 'wireguard_mesh_clients[laptop1].gateway', 'not a member'),
    (dict(LAPTOP, name='laptop-of-bob1', gateway=['a', 'b']), 'wireguard_mesh_clients[laptop-of-bob1].name',
     'too long for a client with 2 gateways'),
])
def test_bad_fallback_gateways_are_refused(entry, field, words):
    with pytest.raises(ValidationError) as err:
        clients.normalize([entry], ['a', 'b', 'c'])
    assert err.value.field == field and words in str(err.value), str(err.value)


def test_a_client_named_like_another_client_s_fallback_file_is_refused():
    with pytest.raises(ValidationError, match=r'wireguard_mesh_clients\[laptop1-2\]\.name: is the name of the fallback'):
        clients.normalize([dict(LAPTOP, gateway=['a', 'b']), dict(LAPTOP, name='laptop1-2', public_key=key(8))],
                          ['a', 'b', 'c'])


def test_a_full_tunnel_client_needs_every_gateway_to_be_an_exit_node():
    full = dict(LAPTOP, allowed_ips=['0.0.0.0/0'])
    with pytest.raises(ValidationError, match=r'wireguard_mesh_clients\[laptop1\]\.allowed_ips: 0\.0\.0\.0/0 .* a, '):
        plan([full])
    exits = topology.plan_mesh(members(['a', 'b'], a={'exit_node': True}),
                               dict(SETTINGS, clients=[full], client_addresses={'laptop1': {'wg0': '10.88.0.50'}}))
    assert exits['a']['clients'][0]['gateway']['allowed_ips'] == ['0.0.0.0/0']
