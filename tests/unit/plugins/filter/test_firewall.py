# -*- coding: utf-8 -*-
# Copyright: meshforge.vpn contributors
# GNU General Public License v3.0+ (see https://www.gnu.org/licenses/gpl-3.0.txt)

from __future__ import absolute_import, division, print_function

__metaclass__ = type

import pytest
from ansible.errors import AnsibleFilterError

from ansible_collections.meshforge.vpn.plugins.filter.firewall import FilterModule
from ansible_collections.meshforge.vpn.plugins.module_utils.nftables.render import render_table
from ansible_collections.meshforge.vpn.plugins.module_utils.nftables.table import normalize_table
from ansible_collections.meshforge.vpn.plugins.plugin_utils.ipam.ledger import Ledger
from ansible_collections.meshforge.vpn.plugins.plugin_utils.ipam.pools import pools_from_spec
from ansible_collections.meshforge.vpn.plugins.plugin_utils.ipam.storage import save


def test_filter_plans_and_names_the_field():
    plan = FilterModule().filters()['firewall_plan']
    result = plan(['a', 'b'], {'policies': [{'sources': ['g'], 'destinations': ['all'], 'protocol': 'tcp', 'ports': [22]}]},
                  {'g': ['a']}, {'a': ['10.1.0.1/24'], 'b': ['10.1.0.2/24']})
    assert result['b']['table']['sets'] == [{'name': 'g_g_v4', 'type': 'ipv4_addr', 'flags': ['interval'],
                                             'elements': ['10.1.0.1']}]
    with pytest.raises(AnsibleFilterError) as exc:
        plan(['a'], {'policies': [{'sources': ['nope'], 'destinations': ['all']}]}, {}, {'a': ['10.1.0.1']})
    assert "policies[0].sources[0]: unknown group 'nope'" in str(exc.value)


def test_filter_names_the_role_variable():
    plan = FilterModule().filters()['firewall_plan']
    with pytest.raises(AnsibleFilterError) as exc:
        plan(['a'], {'policies': [{'sources': ['all'], 'destinations': ['all'], 'protocol': 'icmp', 'ports': [1]}]},
             {}, {'a': ['10.1.0.1']}, 'vpn_firewall_')
    assert 'vpn_firewall_policies[0].ports: ports need protocol tcp or udp' in str(exc.value)
    with pytest.raises(AnsibleFilterError) as exc:
        plan(['a'], {}, {'bad': 'a'}, {'a': ['10.1.0.1']}, 'vpn_firewall_')
    assert 'firewall_plan: inventory group bad:' in str(exc.value)


# Issue 9: the role fails with the compiler's first problem, which starts with the role's variable.
HOSTVARS = {'a': {'ansible_host': '198.18.5.11'}, 'b': {'ansible_host': '198.18.5.12',
                                                        'wireguard_mesh__self': {'endpoint': '198.18.6.12:51820'}}}


@pytest.mark.parametrize('settings, expected', [
    ({}, ''),
    ({'routed_subnets': [{'gateway': 'b', 'subnets': ['198.18.5.0/24'], 'lan_interface': 'eth1'}]},
     'vpn_firewall_routed_subnets[0].subnets[0]: 198.18.5.0/24 contains the address Ansible reaches a at (198.18.5.11)'),
    ({'routed_subnets': [{'gateway': 'a', 'subnets': ['198.18.6.0/24'], 'lan_interface': 'eth1'}]},
     'vpn_firewall_routed_subnets[0].subnets[0]: 198.18.6.0/24 contains the endpoint of b (198.18.6.12)'),
    ({'extra_rules': [{'rule': 'accept; flush ruleset'}]}, "vpn_firewall_extra_rules[0].rule: 'accept; flush ruleset'"),
    ({'persist_dir': 'etc/meshforge'}, "vpn_firewall_persist_dir: 'etc/meshforge' must be an absolute path"),
])
def test_the_problem_filter_starts_with_the_variable(settings, expected):
    addresses = {'a': ['10.1.0.1'], 'b': ['10.1.0.2']}
    problem = FilterModule().filters()['firewall_problem'](['a', 'b'], settings, {}, addresses, 'vpn_firewall_', HOSTVARS)
    assert problem.startswith(expected) and bool(problem) == bool(expected), problem


def test_check_problem_names_the_extra_rule_a_host_s_nft_rejects():
    filters = FilterModule().filters()
    plans = filters['firewall_plan'](['a'], {'extra_rules': [{'rule': 'tcp dport nosuchservice accept'}]}, {},
                                     {'a': ['10.1.0.1/24']})
    line = [n for n, text in enumerate(render_table(normalize_table(plans['a']['table'])).splitlines(), 1)
            if 'nosuchservice' in text][0]
    failed = {'failed': False, 'failed_when_result': False,
              'msg': 'nft --check -f - failed (rc=1): /dev/stdin:%d:29-41: Error: Could not resolve service: '
                     'Servname not supported' % line}
    problem = filters['firewall_check_problem'](failed, plans['a'], 'vpn_firewall_')
    assert problem.startswith("vpn_firewall_extra_rules[0].rule: 'tcp dport nosuchservice accept' is rejected by nft")
    assert filters['firewall_check_problem']({'changed': False, 'action': 'none'}, plans['a'], 'vpn_firewall_') == ''
    lockout = {'failed': False, 'msg': 'chains[0]: the table would drop the management connection'}
    assert filters['firewall_check_problem'](lockout, plans['a'], 'vpn_firewall_') == lockout['msg']


def test_without_addresses_the_members_hold_theirs_in_the_ledger_s_network(tmp_path):
    """The role's vpn_firewall_addresses is empty unless the mesh role passes its plans: then the ledger says."""
    path = str(tmp_path / 'ledger.json')
    save(path, Ledger(pools_from_spec({'office': {'cidr': '10.1.0.0/24', 'network': 'office'},
                                       'office_v6': {'cidr': 'fd01::/64', 'network': 'office'},
                                       'wg0': {'cidr': '10.2.0.0/24', 'network': 'wg0'}}),
                      {'office': {'a': '10.1.0.1', 'b': '10.1.0.2'}, 'office_v6': {'a': 'fd01::1'},
                       'wg0': {'a': '10.2.0.1'}}))
    filters = FilterModule().filters()
    settings = {'interface': 'wg0', 'ipam_ledger': path, 'ipam_network': 'office',
                'policies': [{'sources': ['g'], 'destinations': ['all'], 'protocol': 'tcp', 'ports': [22]}]}
    plans = filters['firewall_plan'](['a', 'b'], settings, {'g': ['a']}, {}, 'vpn_firewall_')
    sets = dict((s['name'], s['elements']) for s in plans['b']['table']['sets'])
    assert sets == {'g_g_v4': ['10.1.0.1'], 'g_g_v6': ['fd01::1']}
    given = filters['firewall_plan'](['a', 'b'], settings, {'g': ['a']}, {'a': ['10.9.0.1'], 'b': ['10.9.0.2']})
    assert [s['elements'] for s in given['b']['table']['sets']] == [['10.9.0.1']]
    missing = dict(settings, ipam_ledger=str(tmp_path / 'none.json'))
    assert filters['firewall_problem'](['a', 'b'], missing, {'g': ['a']}, {}, 'vpn_firewall_') == (
        'vpn_firewall_ipam_ledger: %s: no ledger at this path' % missing['ipam_ledger'])
