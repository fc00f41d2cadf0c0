# -*- coding: utf-8 -*-
# Copyright: meshforge.vpn contributors
# GNU General Public License v3.0+ (see https://www.gnu.org/licenses/gpl-3.0.txt)

from __future__ import absolute_import, division, print_function

__metaclass__ = type

import copy

import pytest

from ansible_collections.meshforge.vpn.plugins.module_utils.validation import ValidationError
from ansible_collections.meshforge.vpn.plugins.plugin_utils import ipsec_plan, topology

HOSTS = {
    'west': {'ansible_host': '198.18.1.11', 'subnets': ['198.19.11.0/24']},
    'east': {'ansible_host': '198.18.1.12', 'subnets': ['198.19.12.0/24'], 'id': 'east.example'},
    'lone': {'ansible_host': '198.18.1.13'},
}
SETTINGS = {'libipsec': True, 'vici_socket': 'unix:///run/meshforge-vpn/charon.vici', 'ca_name': 'ca'}
PAIR = {'name': 'west-east', 'left': 'west', 'right': 'east'}
APPLIANCE = {'name': 'to-box', 'left': 'west', 'right_address': '203.0.113.9', 'right_id': 'box.example',
             'right_subnets': ['10.9.0.0/16'], 'psk': 'a-vault-psk-of-enough-length'}


def plan(tunnels, hosts=None):
    return ipsec_plan.plan_sites(copy.deepcopy(tunnels), hosts or HOSTS, SETTINGS)


def test_one_definition_gives_both_ends_mirrored():
    plans = plan([PAIR])
    west, east = plans['west']['connections'][0], plans['east']['connections'][0]
    assert west['local_addrs'] == east['remote_addrs'] == ['198.18.1.11']
    assert west['remote_id'] == 'east.example' and east['local_id'] == 'east.example' and east['remote_id'] == 'west'
    assert west['children'][0]['local_ts'] == east['children'][0]['remote_ts'] == ['198.19.11.0/24']
    # the left end starts the tunnel (and restarts it), the right end waits: no duplicate SAs
    assert west['children'][0]['start_action'] == 'start' and east['children'][0]['start_action'] == 'none'
    assert west['encap'] and west['psk_source'] == {'pair': ['east', 'west']}
    assert plans['west']['forwarding'] and not plans['west']['forwarding6']
    assert plans['lone']['connections'] == []
    assert 'psk' not in west


def test_plan_is_independent_of_host_order():
    reordered = dict(reversed(list(HOSTS.items())))
    assert plan([PAIR, APPLIANCE]) == plan([PAIR, APPLIANCE], reordered)


def test_pair_psk_is_derived_once_and_shared():
    plans = plan([PAIR])
    secret = 's' * 32
    west = ipsec_plan.site_psk(plans['west']['connections'][0], secret, [PAIR])
    east = ipsec_plan.site_psk(plans['east']['connections'][0], secret, [PAIR])
    assert west == east == topology.preshared_key(secret, 'ipsec/west-east', 'east', 'west')
    assert len(west) >= 20
    with pytest.raises(ValidationError, match='ipsec_site_psk_secret'):
        ipsec_plan.site_psk(plans['west']['connections'][0], 'short', [PAIR])


def test_appliance_tunnel_uses_the_given_psk_and_configures_one_end():
    plans = plan([APPLIANCE])
    conn = plans['west']['connections'][0]
    assert conn['remote_addrs'] == ['203.0.113.9'] and conn['remote_id'] == 'box.example'
    assert conn['children'][0]['remote_ts'] == ['10.9.0.0/16']
    assert ipsec_plan.site_psk(conn, None, [APPLIANCE]) == APPLIANCE['psk']
    assert not ipsec_plan.needs_psk_secret(plans)


def test_pubkey_tunnel_names_the_host_files():
    conn = plan([dict(PAIR, auth='pubkey')])['west']['connections'][0]
    assert conn['local_certs'] == ['west.pem'] and conn['local_key'] == 'west.key' and conn['remote_cacerts'] == ['ca.pem']
    assert conn['psk_source'] is None


@pytest.mark.parametrize('change, field, problem', [
    ({'proposals': ['aes128-sha1-modp1024']}, "ipsec_site_tunnels[0] (west-east), as west's proposals[0]", 'weak'),
    ({'proposals': ['aes256gcm16-bogus-ecp384']}, "as west's proposals[0]", ''),
    ({'left_subnets': ['not-a-cidr']}, 'ipsec_site_tunnels[0] (west-east).left_subnets[0]', ''),
    ({'left_id': 'west\nrogue = 1'}, 'ipsec_site_tunnels[0] (west-east).left_id', ''),
    ({'children': [{'name': 'net', 'start_action': 'trap'}]}, 'ipsec_site_tunnels[0] (west-east).children[0]',
     'unknown option start_action'),
    ({'right': 'nowhere'}, 'ipsec_site_tunnels[0] (west-east).right', 'not a host'),
    ({'right': 'west'}, '.right', 'must differ'),
    ({'bogus': 1}, 'ipsec_site_tunnels[0]', 'unknown option bogus'),
    ({'initiator': 'nobody'}, '.initiator', ''),
])
def test_bad_input_names_the_variable(change, field, problem):
    with pytest.raises(ValidationError) as exc:
        plan([dict(PAIR, **change)])
    assert field in exc.value.field and problem in exc.value.problem


def test_short_psk_is_refused_without_showing_it():
    with pytest.raises(ValidationError) as exc:
        plan([dict(APPLIANCE, psk='short-psk')])
    assert exc.value.field == 'ipsec_site_tunnels[0] (to-box).psk' and 'short-psk' not in str(exc.value)


def test_appliance_needs_its_psk_and_subnets():
    with pytest.raises(ValidationError, match='psk'):
        plan([dict((k, val) for k, val in APPLIANCE.items() if k != 'psk')])
    with pytest.raises(ValidationError, match='right_subnets'):
        plan([dict((k, val) for k, val in APPLIANCE.items() if k != 'right_subnets')])
    with pytest.raises(ValidationError, match='ipsec_site_subnets of lone'):
        plan([{'name': 'x', 'left': 'west', 'right': 'lone'}])


def test_duplicate_names_and_children_defaults():
    with pytest.raises(ValidationError, match='already the name'):
        plan([PAIR, PAIR])
    tunnel = dict(PAIR, child_rekey_time=1800, esp_proposals=['aes128gcm16-ecp256'],
                  children=[{'name': 'a'}, {'name': 'b', 'left_subnets': ['198.18.1.11/32'], 'rekey_time': 900}])
    west = plan([tunnel])['west']['connections'][0]
    assert [c['rekey_time'] for c in west['children']] == [1800, 900]
    assert west['children'][1]['local_ts'] == ['198.18.1.11/32']
    assert west['children'][0]['esp_proposals'] == ['aes128gcm16-ecp256']


def test_host_address_only_needs_no_forwarding():
    hosts = dict(HOSTS, west=dict(HOSTS['west'], subnets=['198.18.1.11/32']))
    assert not plan([PAIR], hosts)['west']['forwarding']


# Issue 9, defect 7: sides whose subnets share no family are refused in the tunnel's own words.
def test_subnets_without_a_common_family_are_refused_naming_the_tunnel():
    with pytest.raises(ValidationError) as exc:
        plan([dict(PAIR, right_subnets=['fd20::/64'])])
    assert exc.value.field == 'ipsec_site_tunnels[0] (west-east)'
    assert 'left_subnets are IPv4 only and right_subnets IPv6 only' in exc.value.problem
    with pytest.raises(ValidationError) as exc:
        plan([dict(PAIR, children=[{'name': 'v6', 'left_subnets': ['fd10::/64']}])])
    assert exc.value.field == 'ipsec_site_tunnels[0] (west-east).children[0]'


def test_a_short_psk_secret_given_by_the_user_is_refused_before_any_tunnel():
    with pytest.raises(ValidationError) as exc:
        ipsec_plan.plan_sites([PAIR], HOSTS, dict(SETTINGS, psk_secret='short'))
    assert str(exc.value) == 'ipsec_site_psk_secret: must be a secret of at least 16 characters'


# Issue 9: subnets that capture the underlay, and the host's own variables named as such.
@pytest.mark.parametrize('tunnel, hosts, field, words', [
    (PAIR, dict(HOSTS, west=dict(HOSTS['west'], subnets=['198.18.1.0/24'])), 'ipsec_site_subnets (west)',
     'contains the address Ansible reaches east at (198.18.1.12)'),
    (dict(PAIR, right_subnets=['198.18.0.0/16']), HOSTS, 'ipsec_site_tunnels[0] (west-east).right_subnets',
     '198.18.0.0/16 contains the endpoint of east (198.18.1.12)'),
    (dict(APPLIANCE, right_subnets=['203.0.113.0/24']), HOSTS, 'ipsec_site_tunnels[0] (to-box).right_subnets',
     'contains the endpoint of box.example (203.0.113.9)'),
    (PAIR, dict(HOSTS, west=dict(HOSTS['west'], id='west\n}')), 'ipsec_site_id (west)', ''),
    (PAIR, dict(HOSTS, east=dict(HOSTS['east'], address='east\n')), 'ipsec_site_address (east)', ''),
])
def test_underlay_captures_and_host_variables_are_named(tunnel, hosts, field, words):
    with pytest.raises(ValidationError) as exc:
        plan([tunnel], hosts)
    assert exc.value.field == field and words in exc.value.problem, str(exc.value)


def test_a_host_to_host_tunnel_may_select_the_peers_own_address():
    hosts = dict(HOSTS, west=dict(HOSTS['west'], subnets=['198.18.1.11/32']),
                 east=dict(HOSTS['east'], subnets=['198.18.1.12/32']))
    assert plan([PAIR], hosts)['east']['connections'][0]['children'][0]['remote_ts'] == ['198.18.1.11/32']


@pytest.mark.parametrize('settings, field', [
    ({'vici_socket': 'tcp://198.18.1.11:4502'}, 'ipsec_site_vici_socket'),
    ({'vici_socket': 'unix:///run/x.vici\n'}, 'ipsec_site_vici_socket'),
    ({'ca_name': 'ca\n[x]'}, 'ipsec_site_ca_name'),
])
def test_the_roles_own_settings_are_named(settings, field):
    with pytest.raises(ValidationError) as exc:
        ipsec_plan.plan_sites([PAIR], HOSTS, dict(SETTINGS, **settings))
    assert exc.value.field == field


def test_a_site_removed_for_good_must_be_in_the_inventory_and_no_end_of_a_tunnel():
    from ansible_collections.meshforge.vpn.plugins.plugin_utils.ipsec_plan import check_removal
    tunnels = [{'name': 'north-south', 'left': 'north', 'right': 'south'}]
    assert check_removal(tunnels, 'east, west', ['east', 'west', 'north', 'south']) == ['east', 'west']
    with pytest.raises(ValidationError, match='^ipsec_site_remove: north is still an end of the tunnel north-south; drop'):
        check_removal(tunnels, ['north'], ['north', 'south'])
    with pytest.raises(ValidationError, match='^ipsec_site_remove: ghost is not a host of the inventory'):
        check_removal(tunnels, ['ghost'], ['north', 'south'])
    with pytest.raises(ValidationError, match='^ipsec_site_remove: must be a list'):
        check_removal(tunnels, {'east': 1}, ['east'])
