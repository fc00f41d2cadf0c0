# -*- coding: utf-8 -*-
# Copyright: meshforge.vpn contributors
# GNU General Public License v3.0+ (see https://www.gnu.org/licenses/gpl-3.0.txt)
"""The Nebula planner: certificate groups, lighthouses and relays with their endpoints, policies as Nebula
firewall rules, and bad input refused naming the role's variable."""

from __future__ import absolute_import, division, print_function

__metaclass__ = type

import pytest

from ansible.errors import AnsibleFilterError

from ansible_collections.meshforge.vpn.plugins.filter.nebula_mesh import nebula_mesh_certificates, nebula_mesh_plan
from ansible_collections.meshforge.vpn.plugins.plugin_utils import nebula_plan
from ansible_collections.meshforge.vpn.plugins.module_utils.validation import ValidationError

MEMBERS = {'lh1': {'endpoint': '198.18.0.11'}, 'web1': {'endpoint': '198.18.0.12'},
           'db1': {'endpoint': '198.18.0.13', 'groups': ['pci']}, 'app1': {'endpoint': '198.18.0.14'}}
ADDRESSES = {'lh1': {'nebula-mesh': '10.42.0.1'}, 'web1': {'nebula-mesh': '10.42.0.2'},
             'db1': {'nebula-mesh': '10.42.0.3'}, 'app1': {'nebula-mesh': '10.42.0.4'}}


def settings(**overrides):
    base = {'name': 'mesh', 'network': '10.42.0.0/24', 'lighthouses': ['lh1'], 'relays': ['lh1'],
            'inventory_groups': {'web': ['web1', 'not-a-member'], 'db': ['db1']}, 'groups': {'apps': ['app1']},
            'policies': [], 'allow_icmp': True}
    base.update(overrides)
    return base


def test_lighthouse_relay_and_certificate_groups():
    plans = nebula_plan.plan(MEMBERS, settings(), ADDRESSES)
    assert plans['lh1']['am_lighthouse'] and plans['lh1']['am_relay']
    assert plans['lh1']['lighthouses'] == [] and plans['lh1']['relays'] == [] and plans['lh1']['static_host_map'] == {}
    assert plans['web1'] == {
        'address': '10.42.0.2/24', 'groups': ['web'], 'am_lighthouse': False, 'am_relay': False,
        'lighthouses': ['10.42.0.1'], 'relays': ['10.42.0.1'],
        'static_host_map': {'10.42.0.1': ['198.18.0.11:4242']}, 'listen_port': 4242,
        'inbound': [{'port': 'any', 'proto': 'any', 'host': 'any'}],
        'outbound': [{'port': 'any', 'proto': 'any', 'host': 'any'}], 'blocklist': []}
    assert plans['db1']['groups'] == ['db', 'pci'] and plans['app1']['groups'] == ['apps']


def test_policy_becomes_inbound_rules_on_the_destinations_only():
    policies = [{'name': 'web to db', 'sources': ['web'], 'destinations': ['db'], 'protocol': 'tcp', 'ports': [5432, '6000-6001']},
                {'sources': ['apps'], 'destinations': ['web'], 'protocol': 'all', 'bidirectional': True}]
    plans = nebula_plan.plan(MEMBERS, settings(policies=policies), ADDRESSES)
    icmp = {'port': 'any', 'proto': 'icmp', 'host': 'any'}
    assert plans['db1']['inbound'] == [icmp, {'group': 'web', 'port': 5432, 'proto': 'tcp'},
                                       {'group': 'web', 'port': '6000-6001', 'proto': 'tcp'}]
    assert plans['web1']['inbound'] == [icmp, {'group': 'apps', 'port': 'any', 'proto': 'any'}]
    assert plans['app1']['inbound'] == [icmp, {'group': 'web', 'port': 'any', 'proto': 'any'}]
    assert plans['lh1']['inbound'] == [icmp]
    no_icmp = nebula_plan.plan(MEMBERS, settings(policies=policies, allow_icmp=False), ADDRESSES)
    assert no_icmp['lh1']['inbound'] == []


def test_ipam_request_has_a_pool_of_its_own_and_the_pins():
    members = dict(MEMBERS, lh1={'endpoint': '198.18.0.11', 'address': '10.42.0.1'})
    assert nebula_plan.ipam_request(members, settings()) == {
        'network': 'nebula-mesh', 'pools': {'nebula-mesh': {'cidr': '10.42.0.0/24', 'network': 'nebula-mesh'}},
        'pins': {'lh1': {'nebula-mesh': '10.42.0.1'}}, 'release': [], 'reenroll': [], 'revoke': [], 'revoked': [],
        'device_hosts': [], 'device_release': []}


def test_a_removed_host_releases_its_address_and_leaves_every_plan():
    rest = dict((h, m) for h, m in MEMBERS.items() if h != 'app1')
    assert nebula_plan.ipam_request(rest, settings(remove=['app1'], groups={}))['release'] == ['app1']
    # a lighthouse and relay still listed in its groups while it leaves: dropped from them, another one remains
    both = dict(rest, lh2={'endpoint': '198.18.0.15'})
    plans = nebula_plan.plan(dict((h, m) for h, m in both.items() if h != 'lh1'),
                             settings(lighthouses=['lh1', 'lh2'], relays=['lh1'], remove=['lh1'], groups={}),
                             dict(ADDRESSES, lh2={'nebula-mesh': '10.42.0.5'}))
    assert sorted(plans) == ['db1', 'lh2', 'web1'] and plans['web1']['relays'] == []
    assert plans['web1']['lighthouses'] == ['10.42.0.5'] and plans['web1']['static_host_map'] == {
        '10.42.0.5': ['198.18.0.15:4242']}
    # the last lighthouse goes only with force; the network then has none
    without = dict((h, m) for h, m in rest.items() if h != 'lh1')
    forced = nebula_plan.plan(without, settings(remove=['lh1'], remove_force=True, groups={}), ADDRESSES)
    assert forced['web1']['lighthouses'] == [] and forced['web1']['static_host_map'] == {}


@pytest.mark.parametrize('members, overrides, field', [
    (MEMBERS, {'network': 'fd42::/64'}, 'nebula_mesh_network'),
    (MEMBERS, {'cert_duration': '0'}, 'nebula_mesh_cert_duration'),
    (MEMBERS, {'cert_duration': '1h', 'cert_renew_before': '2h'}, 'nebula_mesh_cert_renew_before'),
    (MEMBERS, {'cert_duration': 'a year'}, 'nebula_mesh_cert_duration'),
    (MEMBERS, {'network': '10.42.0.1/24'}, 'nebula_mesh_network'),
    (MEMBERS, {'name': 'mesh\nx'}, 'nebula_mesh_network_name'),
    (MEMBERS, {'lighthouses': ['h9']}, 'nebula_mesh_lighthouse_group'),
    (MEMBERS, {'lighthouses': []}, 'nebula_mesh_lighthouse_group'),
    (MEMBERS, {'relays': ['h9']}, 'nebula_mesh_relay_group'),
    (MEMBERS, {'remove': ['web1']}, 'nebula_mesh_remove'),
    (MEMBERS, {'reenroll': ['h9']}, 'nebula_mesh_reenroll'),
    (MEMBERS, {'remove': ['h9\nx']}, 'nebula_mesh_remove[0]'),
    (MEMBERS, {'remove': {'x': 1}}, 'nebula_mesh_remove'),
    (MEMBERS, {'remove': ['h9'], 'remove_force': 'yes'}, 'nebula_mesh_remove_force'),
    (dict((h, m) for h, m in MEMBERS.items() if h != 'lh1'), {'remove': ['lh1']}, 'nebula_mesh_remove'),
    (MEMBERS, {'revoke': ['h9']}, 'nebula_mesh_revoke[0]'),
    (MEMBERS, {'revoke': ['ab' * 31]}, 'nebula_mesh_revoke[0]'),
    (MEMBERS, {'revoke': 'web1'}, 'nebula_mesh_revoke'),
    (MEMBERS, {'revoke': ['lh1']}, 'nebula_mesh_revoke'),
    (MEMBERS, {'revoked': ['web1'], 'reenroll': ['web1']}, 'nebula_mesh_reenroll'),
    (MEMBERS, {'groups': {'bad group': ['web1']}}, 'nebula_mesh_certificate_groups.bad group'),
    (MEMBERS, {'groups': {'ok': ['h9']}}, 'nebula_mesh_certificate_groups.ok[0]'),
    (dict(MEMBERS, web1={'groups': ['web\nfirewall: x']}), {}, 'nebula_mesh_groups (host web1)[0]'),
    (dict(MEMBERS, web1={'listen_port': 70000}), {}, 'nebula_mesh_listen_port (host web1)'),
    (dict(MEMBERS, web1={'address': '10.43.0.2'}), {}, 'nebula_mesh_address (host web1)'),
    (dict(MEMBERS, web1={'address': '10.42.0.3'}, db1={'address': '10.42.0.3'}), {}, 'nebula_mesh_address (host web1)'),
    (dict(MEMBERS, web1={'endpoint': 'a b'}), {}, 'nebula_mesh_endpoint (host web1)'),
    (MEMBERS, {'policies': [{'sources': ['nope'], 'destinations': ['db']}]}, 'nebula_mesh_policies[0].sources[0]'),
    (MEMBERS, {'policies': [{'sources': ['web'], 'destinations': ['db'], 'action': 'drop'}]}, 'nebula_mesh_policies[0].action'),
    (MEMBERS, {'policies': [{'sources': ['web'], 'destinations': ['db'], 'protocol': 'tcp', 'ports': [0]}]},
     'nebula_mesh_policies[0].ports[0]'),
])
def test_bad_input_names_the_variable(members, overrides, field):
    with pytest.raises(ValidationError) as exc:
        nebula_plan.ipam_request(members, settings(**overrides))
    assert exc.value.field == field


def test_a_revoked_member_keeps_its_address_but_is_no_ones_peer_and_every_plan_blocks_it():
    request = nebula_plan.ipam_request(MEMBERS, settings(revoke=['app1', 'AB' * 32]))
    assert request['revoke'] == ['app1', 'ab' * 32] and request['revoked'] == ['app1'] and request['release'] == []
    both = dict(MEMBERS, lh2={'endpoint': '198.18.0.15'})
    addresses = dict(ADDRESSES, lh2={'nebula-mesh': '10.42.0.5'})
    blocklist = ['cd' * 32, 'ab' * 32]
    # this run revokes lh1 (a lighthouse and relay: dropped from both), the record already names app1
    plans = nebula_plan.plan(both, settings(lighthouses=['lh1', 'lh2'], revoke=['lh1'], revoked=['app1', 'gone'],
                                            blocklist=blocklist), addresses)
    assert sorted(plans) == ['db1', 'lh2', 'web1']
    assert plans['web1']['lighthouses'] == ['10.42.0.5'] and plans['web1']['relays'] == []
    assert plans['web1']['static_host_map'] == {'10.42.0.5': ['198.18.0.15:4242']}
    assert all(plan['blocklist'] == sorted(blocklist) for plan in plans.values())
    hostvars = dict((name, {'nebula_mesh__self': value}) for name, value in MEMBERS.items())
    record = {'revoked': [{'fingerprint': 'cd' * 32, 'name': 'app1'}, {'fingerprint': 'ab' * 32, 'name': None}]}
    found = nebula_mesh_plan(sorted(MEMBERS), hostvars, settings(), {'addresses': ADDRESSES}, record)
    assert found['revoked'] == ['app1'] and sorted(found['plans']) == ['db1', 'lh1', 'web1']
    assert found['plans']['lh1']['blocklist'] == ['ab' * 32, 'cd' * 32]


def test_reenroll_names_members_only():
    assert nebula_plan.ipam_request(MEMBERS, settings(reenroll='web1, db1'))['reenroll'] == ['web1', 'db1']


def test_filter_returns_the_problem_instead_of_raising():
    hostvars = dict((name, {'nebula_mesh__self': value}) for name, value in MEMBERS.items())
    found = nebula_mesh_plan(sorted(MEMBERS), hostvars, settings(lighthouses=['h9']))
    assert found['problem'].startswith('nebula_mesh_lighthouse_group: h9 is not a member')
    found = nebula_mesh_plan(sorted(MEMBERS), hostvars, settings(), {'addresses': ADDRESSES, 'changed': False})
    assert found['problem'] == '' and found['plans']['db1']['address'] == '10.42.0.3/24'


def test_certificate_report_rows_the_soonest_to_expire_first():
    status = {
        'web1': {'running': True, 'certificate': {'name': 'web1', 'ips': ['10.42.0.2/24'], 'groups': ['web'],
                                                  'not_after': '2027-12-05T20:00:00Z', 'fingerprint': 'aa'}},
        'db1': {'running': True, 'certificate': {'name': 'db1', 'ips': ['10.42.0.3/24'], 'groups': ['db'],
                                                 'not_after': '2026-12-15T19:00:00Z', 'fingerprint': 'bb'}},
        'app1': {'running': False, 'certificate': None}}
    rows = nebula_mesh_certificates(status, '2026-12-05T20:00:00Z')
    assert rows == [
        {'member': 'db1', 'name': 'db1', 'groups': ['db'], 'address': '10.42.0.3/24', 'not_after': '2026-12-15T19:00:00Z',
         'fingerprint': 'bb', 'days_left': 9},
        {'member': 'web1', 'name': 'web1', 'groups': ['web'], 'address': '10.42.0.2/24', 'not_after': '2027-12-05T20:00:00Z',
         'fingerprint': 'aa', 'days_left': 365}]
    assert nebula_mesh_certificates(status, '2027-12-06T20:00:00Z')[1]['days_left'] == -1
    assert nebula_mesh_certificates(status)[0]['member'] == 'db1'
    with pytest.raises(AnsibleFilterError):
        nebula_mesh_certificates(status, 'yesterday')
    with pytest.raises(AnsibleFilterError):
        nebula_mesh_certificates(['web1'])


def test_a_member_outside_the_run_is_planned_from_its_inventory_variables():
    """--limit web1: lh1 did not publish nebula_mesh__self; its static_host_map entry still comes from its
    ansible_host (or nebula_mesh_endpoint) and its own port, not from its inventory name and the default port."""
    inside = dict((name, {'nebula_mesh__self': dict(value, listen_port=4242)}) for name, value in MEMBERS.items())
    full = nebula_mesh_plan(sorted(MEMBERS), inside, settings(), {'addresses': ADDRESSES})
    limited = dict(inside, lh1={'ansible_host': '198.18.0.11', 'nebula_mesh_groups': None})
    assert nebula_mesh_plan(sorted(MEMBERS), limited, settings(), {'addresses': ADDRESSES})['plans'] == full['plans']
    own = dict(inside, lh1={'ansible_host': '10.0.0.1', 'nebula_mesh_endpoint': 'lh.example.net', 'nebula_mesh_listen_port': 4343})
    plans = nebula_mesh_plan(sorted(MEMBERS), own, settings(), {'addresses': ADDRESSES})['plans']
    assert plans['web1']['static_host_map'] == {'10.42.0.1': ['lh.example.net:4343']}
