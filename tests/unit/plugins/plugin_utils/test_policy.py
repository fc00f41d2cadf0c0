# -*- coding: utf-8 -*-
# Copyright: meshforge.vpn contributors
# GNU General Public License v3.0+ (see https://www.gnu.org/licenses/gpl-3.0.txt)

from __future__ import absolute_import, division, print_function

__metaclass__ = type

import ipaddress

import pytest
from hypothesis import given, settings, strategies as st

from ansible_collections.meshforge.vpn.plugins.module_utils.nftables.render import render_table
from ansible_collections.meshforge.vpn.plugins.module_utils.nftables.table import normalize_table
from ansible_collections.meshforge.vpn.plugins.module_utils.validation import ValidationError
from ansible_collections.meshforge.vpn.plugins.plugin_utils import policy

MEMBERS = ['web1', 'web2', 'db1', 'ops1']
GROUPS = {'web': ['web1', 'web2'], 'db': ['db1'], 'ops': ['ops1'], 'ungrouped': [], 'mesh': MEMBERS,
          'other': ['not-in-vpn']}
ADDRESSES = {'web1': ['10.10.0.1/24', 'fd10::1/64'], 'web2': {'addresses': ['10.10.0.2/24']},
             'db1': ['10.10.0.3/24', 'fd10::3/64'], 'ops1': '10.10.0.4'}
WEB_DB = {'name': 'web to db', 'sources': ['web'], 'destinations': ['db'], 'protocol': 'tcp', 'ports': [5432]}
OPS = {'name': 'ops icmp', 'sources': ['ops'], 'destinations': ['all'], 'protocol': 'icmp'}
OPS_SSH = {'name': 'ops ssh', 'sources': ['ops'], 'destinations': ['all'], 'protocol': 'tcp', 'ports': [22]}


def plan(policies, **settings):
    settings['policies'] = policies
    return policy.compile_policy(MEMBERS, settings, GROUPS, ADDRESSES)


def vpn_rules(result, host):
    return [r for c in result[host]['table']['chains'] if c['name'] == 'vpn_in' for r in c['rules']]


def policy_rules(result, host):
    return [r for r in vpn_rules(result, host) if r.get('comment') not in
            ('neighbour discovery', 'replies', 'invalid', 'default deny on wg0')]


def sets(result, host):
    return dict((s['name'], s['elements']) for s in result[host]['table']['sets'])


def test_group_expansion_ipv4_and_ipv6():
    result = plan([WEB_DB])
    assert sets(result, 'db1') == {'g_web_v4': ['10.10.0.1', '10.10.0.2'], 'g_web_v6': ['fd10::1']}
    assert policy_rules(result, 'db1') == [
        {'saddr': '@g_web_v4', 'protocol': 'tcp', 'dport': ['5432'], 'action': 'accept', 'comment': 'web to db'},
        {'saddr': '@g_web_v6', 'protocol': 'tcp', 'dport': ['5432'], 'action': 'accept', 'comment': 'web to db'}]
    assert policy_rules(result, 'web1') == [] and sets(result, 'web1') == {}


def test_default_deny_established_and_nd_only_once_a_policy_exists():
    none = plan([])
    assert [r['comment'] for r in vpn_rules(none, 'db1')] == ['neighbour discovery', 'replies']
    some = plan([WEB_DB])
    for host in MEMBERS:
        comments = [r['comment'] for r in vpn_rules(some, host)]
        assert comments[:3] == ['neighbour discovery', 'replies', 'invalid'] and comments[-1] == 'default deny on wg0'
    nd = vpn_rules(some, 'web1')[0]
    assert nd['icmpv6_type'][:2] == ['nd-neighbor-solicit', 'nd-neighbor-advert']
    input_chain = some['db1']['table']['chains'][0]
    assert input_chain['rules'] == [{'iifname': 'wg0', 'action': 'jump', 'target': 'vpn_in'}]
    assert input_chain['policy'] == 'accept'


def test_bidirectional():
    one_way = plan([WEB_DB])
    both = plan([dict(WEB_DB, bidirectional=True)])
    assert policy_rules(one_way, 'web1') == []
    assert [r['saddr'] for r in policy_rules(both, 'web1')] == ['@g_db_v4', '@g_db_v6']
    assert policy_rules(both, 'db1') == policy_rules(one_way, 'db1')


def test_port_ranges_and_icmp():
    result = plan([dict(WEB_DB, ports=['8000-8080', 22, '443-443']), OPS])
    assert policy_rules(result, 'db1')[0]['dport'] == ['22', '443', '8000-8080']
    icmp = [r for r in policy_rules(result, 'db1') if r['comment'] == 'ops icmp']
    assert icmp == [{'saddr': '@g_ops_v4', 'protocol': 'icmp', 'action': 'accept', 'comment': 'ops icmp'}]


def test_icmp_ipv6_group():
    result = plan([{'name': 'db ping', 'sources': ['db'], 'destinations': ['web'], 'protocol': 'icmp'}])
    assert [(r['saddr'], r['protocol']) for r in policy_rules(result, 'web2')] == [
        ('@g_db_v4', 'icmp'), ('@g_db_v6', 'icmpv6')]


def test_host_in_several_groups_gets_every_policy():
    result = plan([WEB_DB, OPS_SSH, {'name': 'mesh dns', 'sources': ['mesh'], 'destinations': ['db'],
                                     'protocol': 'udp', 'ports': [53]}])
    names = [r['comment'] for r in policy_rules(result, 'db1')]
    assert names == ['web to db', 'web to db', 'ops ssh', 'mesh dns', 'mesh dns']
    assert sets(result, 'db1')['g_mesh_v4'] == ['10.10.0.1', '10.10.0.2', '10.10.0.3', '10.10.0.4']


def test_empty_group_gives_no_rule_but_default_deny():
    result = plan([{'name': 'nobody', 'sources': ['ungrouped'], 'destinations': ['db'], 'protocol': 'tcp',
                    'ports': [1]}])
    assert policy_rules(result, 'db1') == [] and sets(result, 'db1') == {}
    assert vpn_rules(result, 'db1')[-1]['action'] == 'drop'
    nobody_there = plan([{'name': 'to nobody', 'sources': ['web'], 'destinations': ['ungrouped']}])
    assert all(policy_rules(nobody_there, h) == [] for h in MEMBERS)


def test_drop_before_accept_and_protocol_all():
    result = plan([OPS_SSH, {'name': 'no web1', 'sources': ['blocked'], 'destinations': ['all'], 'action': 'drop'}],
                  groups={'blocked': ['web1', '203.0.113.0/24']})
    rules = policy_rules(result, 'ops1')
    assert rules[0] == {'saddr': '@g_blocked_v4', 'action': 'drop', 'comment': 'no web1'}
    assert sets(result, 'ops1')['g_blocked_v4'] == ['10.10.0.1', '203.0.113.0/24']


def test_routed_subnets_forward_masquerade_and_metrics():
    result = plan([WEB_DB], interface_kind='routed', routed_subnets=[
        {'gateway': 'db1', 'subnets': ['172.20.0.0/24'], 'lan_interface': 'eth1', 'masquerade': True, 'metric': 100},
        {'gateway': 'ops1', 'subnets': '172.20.0.0/24', 'lan_interface': 'eth2', 'metric': 200, 'sources': ['web']}])
    chains = dict((c['name'], c) for c in result['db1']['table']['chains'])
    assert chains['forward']['rules'][0] == {'iifname': 'wg0', 'oifname': 'eth1', 'saddr': '@g_all_v4',
                                             'daddr': ['172.20.0.0/24'], 'action': 'accept', 'comment': 'VPN to eth1'}
    assert chains['postrouting']['rules'] == [{'iifname': 'wg0', 'oifname': 'eth1', 'action': 'masquerade',
                                               'comment': 'masquerade VPN into eth1'}]
    ops_chains = dict((c['name'], c) for c in result['ops1']['table']['chains'])
    assert 'postrouting' not in ops_chains and ops_chains['forward']['rules'][0]['saddr'] == '@g_web_v4'
    assert result['web1']['routes'] == [
        {'dest': '172.20.0.0/24', 'gateway': '10.10.0.3', 'dev': 'wg0', 'metric': 100},
        {'dest': '172.20.0.0/24', 'gateway': '10.10.0.4', 'dev': 'wg0', 'metric': 200}]
    assert result['db1']['routes'] == [{'dest': '172.20.0.0/24', 'gateway': '10.10.0.4', 'dev': 'wg0', 'metric': 200}]


def test_every_table_is_accepted_by_nft_table():
    result = plan([WEB_DB, OPS, OPS_SSH, dict(WEB_DB, name='back', bidirectional=True, protocol='udp', ports=['1-1024'])],
                  routed_subnets=[{'gateway': 'db1', 'subnets': ['172.20.0.0/24', 'fd20::/64'], 'lan_interface': 'eth1',
                                   'masquerade': True}])
    for host in MEMBERS:
        desired = normalize_table(dict(result[host]['table'], state='present'))
        render_table(desired)


@pytest.mark.parametrize('policies, extra, field, words', [
    ([dict(WEB_DB, sources=['webz'])], {}, 'policies[0].sources[0]', "unknown group 'webz'"),
    ([dict(WEB_DB, destinations=[])], {}, 'policies[0].destinations', 'at least one group'),
    ([dict(WEB_DB, ports=[70000])], {}, 'policies[0].ports[0]', 'out of range'),
    ([dict(WEB_DB, ports=['9000-8000'])], {}, 'policies[0].ports[0]', 'ends before it starts'),
    ([dict(OPS, ports=[22])], {}, 'policies[0].ports', 'not icmp'),
    ([dict(WEB_DB, protocol='all')], {}, 'policies[0].ports', 'not all'),
    ([dict(WEB_DB, protocol='gre')], {}, 'policies[0].protocol', 'not one of'),
    ([dict(WEB_DB, action='reject')], {}, 'policies[0].action', 'not accept or drop'),
    ([dict(WEB_DB, bidirectional='yes')], {}, 'policies[0].bidirectional', 'true or false'),
    ([dict(WEB_DB, prots=[1])], {}, 'policies[0]', 'unknown keys prots'),
    ([WEB_DB], {'groups': {'x': ['web1', 'no-such-host']}}, 'groups.x[1]', 'neither a member'),
    ([WEB_DB], {'groups': {'x': ['10.0.0.1/8']}}, 'groups.x[0]', 'neither a member'),
    ([WEB_DB], {'routed_subnets': [{'gateway': 'nobody', 'subnets': ['10.1.0.0/16'], 'lan_interface': 'eth1'}]},
     'routed_subnets[0].gateway', 'not a member'),
    ([WEB_DB], {'interface_kind': 'routed',
                'routed_subnets': [{'gateway': 'db1', 'subnets': ['10.1.0.0/16'], 'lan_interface': 'eth1'},
                                   {'gateway': 'ops1', 'subnets': ['10.1.0.0/16'], 'lan_interface': 'eth1'}]},
     'routed_subnets[1].metric', 'its own metric'),
    ([WEB_DB], {'routed_subnets': [{'gateway': 'db1', 'subnets': ['10.1.0.0/16'], 'lan_interface': 'eth1'},
                                   {'gateway': 'ops1', 'subnets': ['10.1.0.0/16'], 'lan_interface': 'eth1',
                                    'metric': 200}]},
     'routed_subnets[1].subnets', 'sends a prefix to one peer only'),
    ([WEB_DB], {'interface_kind': 'gre'}, 'interface_kind', 'not one of'),
    ([WEB_DB], {'extra_rules': ['drop']}, 'extra_rules', 'list of rules'),
])
def test_errors_name_the_field(policies, extra, field, words):
    with pytest.raises(ValidationError) as exc:
        plan(policies, **extra)
    assert exc.value.field == field and words in str(exc.value)


def test_inventory_group_hosts_outside_the_vpn_are_left_out():
    result = plan([{'name': 'x', 'sources': ['other'], 'destinations': ['db']}])
    assert policy_rules(result, 'db1') == []


@settings(max_examples=40, deadline=None)
@given(st.permutations(MEMBERS), st.permutations([WEB_DB, OPS, OPS_SSH]))
def test_order_of_members_does_not_matter(members, policies):
    expected = policy.compile_policy(MEMBERS, {'policies': [WEB_DB, OPS, OPS_SSH]}, GROUPS, ADDRESSES)
    got = policy.compile_policy(list(members), {'policies': [WEB_DB, OPS, OPS_SSH]}, GROUPS, ADDRESSES)
    assert got == expected
    reordered = policy.compile_policy(MEMBERS, {'policies': list(policies)}, GROUPS, ADDRESSES)
    for host in MEMBERS:
        assert sorted(map(repr, policy_rules(reordered, host))) == sorted(map(repr, policy_rules(expected, host)))


def test_extra_rules_go_after_the_policies_and_before_the_default_deny():
    extra = {'protocol': 'udp', 'dport': [53], 'action': 'accept', 'comment': 'dns'}
    rules = vpn_rules(plan([WEB_DB], extra_rules=[extra]), 'db1')
    assert rules[-2:] == [extra, {'action': 'drop', 'comment': 'default deny on wg0'}]
    assert rules[-3]['comment'] == 'web to db'
    assert vpn_rules(plan([], extra_rules=[extra]), 'db1')[-1] == extra


# Issue 9, defect 1: a routed subnet becomes a route through the VPN on every member but its gateway.
UNDERLAY = dict((name, {'management': ipaddress.ip_address('198.18.1.%d' % (11 + i)), 'endpoint': None,
                        'connected': []}) for i, name in enumerate(MEMBERS))
# only web1's facts were gathered; they show its underlay network
UNDERLAY['web1']['connected'] = [('eth0', ipaddress.ip_network('198.18.1.0/25'))]


@pytest.mark.parametrize('subnet, words', [
    ('198.18.1.0/24', 'contains the address Ansible reaches'),
    ('198.18.1.11/32', 'contains the address Ansible reaches web1 at (198.18.1.11)'),
    ('198.18.0.0/16', 'contains the address Ansible reaches'),
    ('198.18.1.64/26', "overlaps web1's connected network 198.18.1.0/25 (eth0)"),
])
def test_routed_subnets_that_capture_the_underlay_are_refused(subnet, words):
    routed = [{'gateway': 'db1', 'subnets': [subnet], 'lan_interface': 'lan0'}]
    with pytest.raises(ValidationError) as err:
        policy.compile_policy(MEMBERS, {'routed_subnets': routed}, GROUPS, ADDRESSES, UNDERLAY)
    assert err.value.field == 'routed_subnets[0].subnets[0]' and words in err.value.problem, str(err.value)


def test_a_lan_behind_its_gateway_still_compiles():
    underlay = dict(UNDERLAY, db1=dict(UNDERLAY['db1'], connected=[('lan0', ipaddress.ip_network('10.99.0.0/24'))]))
    routed = [{'gateway': 'db1', 'subnets': ['10.99.0.0/24'], 'lan_interface': 'lan0'}]
    assert policy.compile_policy(MEMBERS, {'routed_subnets': routed}, GROUPS, ADDRESSES, underlay)['web1']['routes']


# Issue 9, defect 9: errors in extra rules are told at their place in extra_rules, not in the compiled table.
@pytest.mark.parametrize('extra, field', [
    ([{'rule': 'accept; flush ruleset'}], 'extra_rules[0].rule'),
    ([{'action': 'accept'}, {'saddr': '10.0.0.300', 'action': 'accept'}], 'extra_rules[1].saddr'),
    ([{'action': 'accept', 'colour': 'red'}], 'extra_rules[0]'),
])
def test_bad_extra_rules_name_their_place(extra, field):
    with pytest.raises(ValidationError) as err:
        policy.compile_policy(MEMBERS, {'policies': [WEB_DB], 'extra_rules': extra}, GROUPS, ADDRESSES)
    assert err.value.field.startswith(field) and 'chains' not in str(err.value), str(err.value)


def test_a_group_name_that_cannot_name_a_set_is_refused_even_unused():
    with pytest.raises(ValidationError) as err:
        policy.compile_policy(MEMBERS, {'groups': {'web}': ['web1']}}, GROUPS, ADDRESSES)
    assert err.value.field == 'groups.web}'


# Issue 9, defect 9: an extra rule that only the host's nft rejects is told as the role's variable, not as
# the table's chains[1].rules[N].
def _nft_error_at(table_plan, rule_text, error):
    """nft's message for the line of the module's batch that holds ``rule_text``."""
    lines = render_table(normalize_table(table_plan['table'])).splitlines()
    number = [i for i, line in enumerate(lines, 1) if (' %s comment ' % rule_text) in line][0]
    return 'nft --check -f - failed (rc=1): /dev/stdin:%d:29-41: Error: %s\n%s\n' % (number, error, lines[number - 1])


def test_a_host_s_nft_rejection_is_told_at_its_extra_rule():
    extras = [{'rule': 'tcp dport 53 accept'}, {'rule': 'tcp dport nosuchservice accept'}]
    result = plan([WEB_DB, OPS], extra_rules=extras)['db1']
    message = _nft_error_at(result, 'tcp dport nosuchservice accept', 'Could not resolve service: Servname')
    field, problem = policy.nft_rejection(result, message)
    assert field == 'extra_rules[1].rule'
    assert "'tcp dport nosuchservice accept' is rejected by nft on the host: Could not resolve service" in problem


def test_a_host_s_nft_rejection_elsewhere_is_not_blamed_on_an_extra_rule():
    result = plan([WEB_DB], extra_rules=[{'rule': 'tcp dport 53 accept'}])['db1']
    first = render_table(normalize_table(result['table'])).splitlines().index('}') + 2
    assert policy.nft_rejection(result, '/dev/stdin:%d:1-3: Error: something' % first) is None
    assert policy.nft_rejection(result, 'nft failed: no line number') is None
    assert policy.nft_rejection(plan([WEB_DB])['db1'], '/dev/stdin:%d:1-3: Error: x' % first) is None
