# -*- coding: utf-8 -*-
# Copyright: meshforge.vpn contributors
# GNU General Public License v3.0+ (see https://www.gnu.org/licenses/gpl-3.0.txt)
"""Devices outside the inventory in the Nebula planner: their addresses from the members' pool, their bundle's
options, their groups in the policies (both ways), revocation by name, and bad input refused naming
nebula_mesh_devices[N].field."""

from __future__ import absolute_import, division, print_function

__metaclass__ = type

import pytest

from ansible_collections.meshforge.vpn.plugins.filter.nebula_mesh import nebula_mesh_plan
from ansible_collections.meshforge.vpn.plugins.module_utils.validation import ValidationError
from ansible_collections.meshforge.vpn.plugins.plugin_utils import nebula_plan
from ansible_collections.meshforge.vpn.tests.unit.plugins.filter.test_nebula_plan import ADDRESSES, MEMBERS, settings

PUB = ('-----BEGIN NEBULA X25519 PUBLIC KEY-----\n' + 'A' * 43 + '=\n-----END NEBULA X25519 PUBLIC KEY-----\n')
LAPTOP = {'name': 'laptop1', 'public_key': PUB, 'groups': ['web', 'staff']}
WITH_LAPTOP = dict(ADDRESSES, **{'device:laptop1': {'nebula-mesh': '10.42.0.9'}})
ICMP = {'port': 'any', 'proto': 'icmp', 'host': 'any'}


def test_a_device_gets_an_address_from_the_pool_and_a_roaming_configuration():
    request = nebula_plan.ipam_request(MEMBERS, settings(devices=[LAPTOP, dict(LAPTOP, name='phone', address='10.42.0.50'),
                                                                  {'name': 'old', 'state': 'absent'}]))
    assert request['device_hosts'] == ['device:laptop1', 'device:phone'] and request['device_release'] == ['device:old']
    assert request['pins'] == {'device:phone': {'nebula-mesh': '10.42.0.50'}}
    plans, devices = nebula_plan.plan_all(MEMBERS, settings(devices=[LAPTOP]), WITH_LAPTOP)
    assert set(plans) == set(MEMBERS)
    assert devices == [{
        'name': 'laptop1', 'key': 'device:laptop1', 'groups': ['staff', 'web'], 'public_key': PUB,
        'config_dir': '/etc/nebula/mesh', 'address': '10.42.0.9/24',
        'options': {'listen_port': 0, 'am_lighthouse': False, 'am_relay': False, 'lighthouses': ['10.42.0.1'],
                    'relays': ['10.42.0.1'], 'static_host_map': {'10.42.0.1': ['198.18.0.11:4242']},
                    'inbound': [{'port': 'any', 'proto': 'any', 'host': 'any'}],
                    'outbound': [{'port': 'any', 'proto': 'any', 'host': 'any'}], 'blocklist': []}}]


def test_policies_name_the_groups_only_devices_have_both_ways():
    policies = [{'sources': ['staff'], 'destinations': ['db'], 'protocol': 'tcp', 'ports': [5432]},
                {'sources': ['db'], 'destinations': ['staff'], 'protocol': 'tcp', 'ports': [22]},
                {'sources': ['apps'], 'destinations': ['web'], 'protocol': 'udp', 'ports': [53], 'bidirectional': True}]
    plans, devices = nebula_plan.plan_all(MEMBERS, settings(devices=[LAPTOP], policies=policies), WITH_LAPTOP)
    assert {'group': 'staff', 'port': 5432, 'proto': 'tcp'} in plans['db1']['inbound']
    assert devices[0]['options']['inbound'] == [ICMP, {'group': 'db', 'port': 22, 'proto': 'tcp'},
                                                {'group': 'apps', 'port': 53, 'proto': 'udp'}]
    # a bidirectional policy from the device's group: the device accepts its destinations back
    back = [{'sources': ['staff'], 'destinations': ['apps'], 'protocol': 'all', 'bidirectional': True}]
    plans, devices = nebula_plan.plan_all(MEMBERS, settings(devices=[LAPTOP], policies=back, allow_icmp=False),
                                          WITH_LAPTOP)
    assert devices[0]['options']['inbound'] == [{'group': 'apps', 'port': 'any', 'proto': 'any'}]
    assert plans['app1']['inbound'] == [{'group': 'staff', 'port': 'any', 'proto': 'any'}]
    # a group nobody has is still refused
    with pytest.raises(ValidationError, match='nebula_mesh_policies'):
        nebula_plan.check(MEMBERS, settings(policies=policies))


def test_a_device_is_revoked_by_name_and_then_gets_no_bundle():
    found = nebula_plan.ipam_request(MEMBERS, settings(devices=[LAPTOP], revoke=['laptop1']))
    assert found['revoke'] == ['device:laptop1'] and found['revoked'] == []
    plans, devices = nebula_plan.plan_all(MEMBERS, settings(devices=[LAPTOP], revoked=['device:laptop1'],
                                                            blocklist=['ab' * 32]), WITH_LAPTOP)
    assert devices == [] and plans['web1']['blocklist'] == ['ab' * 32]
    result = nebula_mesh_plan(['web1', 'lh1'], {'web1': {}, 'lh1': {}}, settings(
        lighthouses=['lh1'], relays=[], inventory_groups={}, groups={}, devices=[LAPTOP]),
        {'addresses': {'web1': {'nebula-mesh': '10.42.0.2'}, 'lh1': {'nebula-mesh': '10.42.0.1'},
                       'device:laptop1': {'nebula-mesh': '10.42.0.9'}}})
    assert result['problem'] == '' and [d['name'] for d in result['devices']] == ['laptop1']


@pytest.mark.parametrize('devices, field, problem', [
    ('laptop1', 'nebula_mesh_devices', 'must be a list'),
    ([LAPTOP, 'phone'], 'nebula_mesh_devices[1]', 'must be a dict'),
    ([dict(LAPTOP, name='bad name')], 'nebula_mesh_devices[0].name', 'not a valid name'),
    ([dict(LAPTOP, name='web1')], 'nebula_mesh_devices[0].name', 'is a member of the network'),
    ([LAPTOP, LAPTOP], 'nebula_mesh_devices[1].name', 'also the name of nebula_mesh_devices[0]'),
    ([dict(LAPTOP, public_key='ssh-ed25519 AAAA')], 'nebula_mesh_devices[0].public_key', 'not a Nebula X25519'),
    ([dict(LAPTOP, public_key=None)], 'nebula_mesh_devices[0].public_key', 'not a Nebula X25519'),
    ([dict(LAPTOP, address='10.43.0.1')], 'nebula_mesh_devices[0].address', 'outside the network'),
    ([dict(LAPTOP, address='10.42.0.7'), dict(LAPTOP, name='phone', address='10.42.0.7')],
     'nebula_mesh_devices[1].address', 'already the address of'),
    ([dict(LAPTOP, address='10.42.0.1')], 'nebula_mesh_devices[0].address', 'already the address of lh1'),
    ([dict(LAPTOP, groups=['web', 'b@d'])], 'nebula_mesh_devices[0].groups[1]', 'not a valid name'),
    ([dict(LAPTOP, groups='web')], 'nebula_mesh_devices[0].groups', 'must be a list'),
    ([dict(LAPTOP, state='gone')], 'nebula_mesh_devices[0].state', 'not one of'),
    ([dict(LAPTOP, colour='red')], 'nebula_mesh_devices[0]', 'unknown keys colour'),
    ([dict(LAPTOP, config_dir='relative/dir')], 'nebula_mesh_devices[0].config_dir', ''),
])
def test_bad_devices_are_refused_naming_the_field(devices, field, problem):
    members = dict(MEMBERS, lh1={'endpoint': '198.18.0.11', 'address': '10.42.0.1'})
    with pytest.raises(ValidationError) as info:
        nebula_plan.ipam_request(members, settings(devices=devices))
    assert str(info.value).startswith(field + ':') and problem in str(info.value)


def test_revoking_an_unknown_name_names_both_lists():
    with pytest.raises(ValidationError, match=r'nebula_mesh_revoke\[0\]: phone is not a member .* nor a device'):
        nebula_plan.check(MEMBERS, settings(devices=[LAPTOP], revoke=['phone']))
