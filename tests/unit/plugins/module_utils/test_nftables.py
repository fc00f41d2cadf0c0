# -*- coding: utf-8 -*-
# Copyright: meshforge.vpn contributors
# GNU General Public License v3.0+ (see https://www.gnu.org/licenses/gpl-3.0.txt)

from __future__ import absolute_import, division, print_function

__metaclass__ = type

import copy
import os
import json

import pytest
from hypothesis import given, strategies as st

from ansible_collections.meshforge.vpn.plugins.module_utils.common import CommandError, Refused
from ansible_collections.meshforge.vpn.plugins.module_utils.nftables.elements import element
from ansible_collections.meshforge.vpn.plugins.module_utils.nftables.live import json_element, parse_table
from ansible_collections.meshforge.vpn.plugins.module_utils.nftables.lockout import lockout_risks
from ansible_collections.meshforge.vpn.plugins.module_utils.nftables.render import PERSIST_HEADER, render_table
from ansible_collections.meshforge.vpn.plugins.module_utils.nftables.resource import manage_set, manage_table
from ansible_collections.meshforge.vpn.plugins.module_utils.nftables.table import normalize_set, normalize_table
from ansible_collections.meshforge.vpn.plugins.module_utils.routes import safety
from ansible_collections.meshforge.vpn.plugins.module_utils.validation import ValidationError
from ansible_collections.meshforge.vpn.tests.unit.plugins.module_utils.fakehost import (
    FakeHost, element_json, install, make_set, run, underlay)

SSH = {'client': '198.18.0.10', 'client_port': 50123, 'server': '198.18.0.1', 'server_port': 22}


@pytest.fixture
def host(tmp_path, monkeypatch):
    """A fake host with no management connection (the lockout tests put it on its underlay)."""
    return install(FakeHost(), str(tmp_path), monkeypatch)


# What nft 1.0.6 printed for a table of this shape (nft -j list table inet mf), trimmed.
RECORDED = {'nftables': [
    {'metainfo': {'version': '1.0.6', 'json_schema_version': 1}},
    {'table': {'family': 'inet', 'name': 'mf', 'handle': 2}},
    {'set': {'family': 'inet', 'name': 'web4', 'table': 'mf', 'type': 'ipv4_addr', 'handle': 3, 'flags': ['interval'],
             'elem': ['10.0.0.1', {'prefix': {'addr': '10.0.1.0', 'len': 24}}, {'range': ['10.0.2.1', '10.0.2.9']},
                      {'prefix': {'addr': '10.0.3.0', 'len': 24}}]}},
    {'set': {'family': 'inet', 'name': 'svc', 'table': 'mf', 'type': ['ipv4_addr', 'inet_service'], 'handle': 5,
             'elem': [{'concat': ['10.0.0.1', 22]}, {'elem': {'val': {'concat': ['10.0.0.2', 443]}, 'timeout': 60}}]}},
    {'set': {'family': 'inet', 'name': 'ports', 'table': 'mf', 'type': 'inet_service', 'handle': 6,
             'flags': ['interval'], 'elem': [22, {'range': [8000, 8080]}]}},
    {'chain': {'family': 'inet', 'table': 'mf', 'name': 'input', 'handle': 1, 'type': 'filter', 'hook': 'input',
               'prio': 0, 'policy': 'accept'}},
    {'rule': {'family': 'inet', 'table': 'mf', 'chain': 'input', 'handle': 7, 'comment': 'mf:0123456789ab replies',
              'expr': [{'match': {'op': 'in', 'left': {'ct': {'key': 'state'}}, 'right': ['established', 'related']}},
                       {'accept': None}]}},
    {'rule': {'family': 'inet', 'table': 'mf', 'chain': 'input', 'handle': 9, 'expr': [
        {'match': {'op': '==', 'left': {'payload': {'protocol': 'tcp', 'field': 'dport'}},
                   'right': {'set': [5432, {'range': [6000, 6010]}]}}}, {'counter': {'packets': 0, 'bytes': 0}},
        {'accept': None}]}},
]}


def test_parse_recorded_table():
    table = parse_table(json.dumps(RECORDED))
    assert table['sets']['web4']['elements'] == ['10.0.0.1', '10.0.1.0/24', '10.0.2.1-10.0.2.9', '10.0.3.0/24']
    assert table['sets']['svc']['elements'] == ['10.0.0.1 . 22', '10.0.0.2 . 443']
    assert table['sets']['ports']['elements'] == ['22', '8000-8080']
    assert table['chains'] == [{'name': 'input', 'type': 'filter', 'hook': 'input', 'priority': 0,
                                'policy': 'accept', 'device': None}]
    rules = table['rules']['input']
    assert [r['fingerprint'] for r in rules] == ['0123456789ab', None]
    assert rules[1]['text'] == 'tcp dport { 5432, 6000-6010 } counter accept'


@pytest.mark.parametrize('value, kinds, interval, expected', [
    ('10.0.3.0-10.0.3.255', ['ipv4_addr'], True, '10.0.3.0/24'),
    ('10.0.0.1/32', ['ipv4_addr'], False, '10.0.0.1'),
    ('FD00:0::1', ['ipv6_addr'], False, 'fd00::1'),
    ('fd00:1::/64', ['ipv6_addr'], True, 'fd00:1::/64'),
    (22, ['inet_service'], False, '22'),
    ('8000-8080', ['inet_service'], True, '8000-8080'),
    ('10.0.0.1 . 22', ['ipv4_addr', 'inet_service'], False, '10.0.0.1 . 22'),
    (['10.0.0.0/24', '1000-2000'], ['ipv4_addr', 'inet_service'], True, '10.0.0.0/24 . 1000-2000'),
    ('AA:bb:cc:dd:ee:ff', ['ether_addr'], False, 'aa:bb:cc:dd:ee:ff'),
    ('wg0', ['ifname'], False, 'wg0'),
])
def test_element_canonical(value, kinds, interval, expected):
    assert element('e', value, kinds, interval) == expected


@pytest.mark.parametrize('value, kinds, interval, words', [
    ('10.0.1.0/24', ['ipv4_addr'], False, 'needs flags interval'),
    ('fd00::1', ['ipv4_addr'], True, 'not an IPv4 address'),
    ('10.0.0.9-10.0.0.1', ['ipv4_addr'], True, 'ends before it starts'),
    ('70000', ['inet_service'], False, 'out of range'),
    ('10.0.0.1', ['ipv4_addr', 'inet_service'], False, 'has 1 parts'),
    ('10.0.0.1 } ; flush ruleset', ['ipv4_addr'], True, 'not an IP address'),
    ('eth0"; flush ruleset', ['ifname'], False, 'not a valid interface name'),
])
def test_invalid_elements(value, kinds, interval, words):
    with pytest.raises(ValidationError) as exc:
        element('elements[0]', value, kinds, interval)
    assert exc.value.field == 'elements[0]' and words in str(exc.value)


@given(st.ip_addresses(v=4), st.integers(min_value=0, max_value=32))
def test_prefix_roundtrips_through_json(addr, length):
    import ipaddress
    net = ipaddress.ip_network('%s/%d' % (addr, length), strict=False)
    text = element('e', str(net), ['ipv4_addr'], True)
    as_json = element_json(text)
    assert json_element(as_json) == text
    low, high = net.network_address, net.broadcast_address
    assert element('e', '%s-%s' % (low, high), ['ipv4_addr'], True) == text


# ------------------------------------------------------------------ nft_set --

def run_set(host, check=False, diff=False, **params):
    base = {'family': 'inet', 'table': 'meshforge', 'name': 'web_v4', 'state': 'present', 'purge': False}
    base.update(params)
    return run(host, manage_set, base, check_mode=check, diff=diff)[0]


def test_set_add_remove_exclusive(host):
    make_set(host, elements=['10.0.0.1', '10.9.0.0/16'])
    other = copy.deepcopy(host.nft)
    check = run_set(host, check=True, elements=['10.0.0.2'])
    assert check['changed'] and check['added'] == ['10.0.0.2'] and host.changing_commands() == []
    result = run_set(host, diff=True, elements=['10.0.0.2', '10.0.0.1'])
    assert result['added'] == ['10.0.0.2'] and result['removed'] == []
    assert result['diff']['after'] == '10.0.0.1\n10.0.0.2\n10.9.0.0/16\n'
    assert host.changing_commands()[-1] == [host.path('nft'), '-f', '-']
    assert not run_set(host, elements=['10.0.0.2'])['changed']
    exclusive = run_set(host, elements=['10.0.0.2', '10.20.0.0-10.20.255.255'], purge=True)
    assert exclusive['removed'] == ['10.0.0.1', '10.9.0.0/16'] and exclusive['added'] == ['10.20.0.0/16']
    assert host.nft[('inet', 'meshforge')]['sets']['web_v4']['elements'] == {'10.0.0.2', '10.20.0.0/16'}
    assert not run_set(host, elements=['10.20.0.0/16', '10.0.0.2'], purge=True)['changed']
    gone = run_set(host, elements=['10.0.0.2', '10.0.0.3'], state='absent')
    assert gone['removed'] == ['10.0.0.2']
    assert set(other) == set(host.nft)


def test_set_concatenation(host):
    make_set(host, 'svc', ('ipv4_addr', 'inet_service'), (), ['10.0.0.1 . 22'])
    result = run_set(host, name='svc', elements=[['10.0.0.1', 22], '10.0.0.2 . 443'], purge=True)
    assert result['added'] == ['10.0.0.2 . 443'] and result['removed'] == [] and result['changed']


def test_set_missing_and_bad_element(host):
    with pytest.raises(ValidationError) as exc:
        run_set(host, elements=['10.0.0.1'])
    assert exc.value.field == 'name'
    make_set(host, flags=())
    with pytest.raises(ValidationError) as exc:
        run_set(host, elements=['10.0.0.1', '10.1.0.0/16'])
    assert exc.value.field == 'elements[1]' and host.changing_commands() == []


# -------------------------------------------------- the fake host's nft is honest --
# What nft 1.0.6 did on Linux 6.x in a network namespace after BATCH: nft -j list table inet t (handles left out;
# the fake lists a rule with a placeholder expression), then each of ANSWERED on its own (nft's message begins
# with where in the batch, "/dev/stdin:1:27-34: ", which the fake leaves out).
BATCH = """table inet t
delete table inet t
table inet t {
  set s {
    type ipv4_addr
    flags interval
    elements = { 10.1.0.1, 10.0.0.0/24 }
  }
  set p {
    type ipv4_addr
  }
  chain input {
    type filter hook input priority 0; policy accept;
  }
}
add rule inet t input iifname "wg0" accept comment "mf:abc"
"""
LISTED = [
    {'table': {'family': 'inet', 'name': 't'}},
    {'set': {'family': 'inet', 'name': 's', 'table': 't', 'type': 'ipv4_addr', 'flags': ['interval'],
             'elem': [{'prefix': {'addr': '10.0.0.0', 'len': 24}}, '10.1.0.1']}},
    {'set': {'family': 'inet', 'name': 'p', 'table': 't', 'type': 'ipv4_addr'}},
    {'chain': {'family': 'inet', 'table': 't', 'name': 'input', 'type': 'filter', 'hook': 'input', 'prio': 0,
               'policy': 'accept'}},
    {'rule': {'family': 'inet', 'table': 't', 'chain': 'input', 'comment': 'mf:abc'}}]
ANSWERED = [
    ('delete element inet t s { 10.9.0.1 }', 'Error: element does not exist'),
    ('add element inet t s { 10.0.0.5 }', 'Error: interval overlaps with an existing one'),
    ('add element inet t p { 10.0.0.0/24 }',
     "Error: You must add 'flags interval' to your set declaration if you want to add prefix elements"),
    ('add element inet t q { 10.0.0.1 }', 'Error: No such file or directory'),
    ('delete table inet zz', 'Error: No such file or directory'),
    ('add element inet t s { 10.0.0.0/24 }', None),
    ('add element inet t p { 10.0.0.1 }', None),
]


def test_the_fake_nft_lists_what_nft_listed(host):
    nft(host, BATCH)
    rc, out, err = host.dispatch('nft', ['-j', 'list', 'table', 'inet', 't'])
    listed = json.loads(out)['nftables'][1:]
    for item in listed:
        for body in item.values():
            body.pop('handle')
            body.pop('expr', None)
    assert (rc, listed, err) == (0, LISTED, '')
    assert host.dispatch('nft', ['-j', 'list', 'table', 'inet', 'nope'])[:2] == (1, '')


@pytest.mark.parametrize('batch, message', ANSWERED, ids=[a[0] for a in ANSWERED])
def test_the_fake_nft_refuses_what_nft_refused(host, batch, message):
    nft(host, BATCH)
    before = host.state()
    rc, out, err = host.dispatch('nft', ['-f', '-'], batch + '\n')
    if message is None:             # taken, and again: an element already there is no error
        after = host.state()
        assert (rc, err) == (0, '') and host.dispatch('nft', ['-f', '-'], batch + '\n')[0] == 0
        assert host.state() == after
    else:
        assert rc == 1 and err.startswith(message) and host.state() == before


# ---------------------------------------------------------------- nft_table --

def table_params(**extra):
    params = {
        'family': 'inet', 'name': 'meshforge', 'state': 'present', 'allow_lockout': False,
        'sets': [{'name': 'web_v4', 'type': 'ipv4_addr', 'flags': ['interval'], 'elements': ['10.10.0.2', '10.10.1.0/24']},
                 {'name': 'svc', 'type': ['ipv4_addr', 'inet_service'], 'flags': [], 'elements': ['10.0.0.1 . 22']}],
        'chains': [
            {'name': 'input', 'type': 'filter', 'hook': 'input', 'priority': 'filter', 'policy': 'accept', 'rules': [
                {'ct_state': ['established', 'related'], 'action': 'accept'},
                {'iifname': 'wg0', 'action': 'jump', 'target': 'vpn_in'}]},
            {'name': 'vpn_in', 'rules': [
                {'saddr': '@web_v4', 'protocol': 'tcp', 'dport': [5432, '8000-8080'], 'action': 'accept',
                 'comment': 'web to db'},
                {'rule': 'meta l4proto ipv6-icmp icmpv6 type { nd-neighbor-solicit, nd-neighbor-advert } accept'},
                {'action': 'drop'}]},
            {'name': 'post', 'type': 'nat', 'hook': 'postrouting', 'rules': [
                {'oifname': 'eth1', 'saddr': '10.10.0.0/24', 'action': 'masquerade'}]},
        ],
    }
    params.update(extra)
    return params


def run_table(host, params, check=False, diff=False):
    return run(host, manage_table, params, check_mode=check, diff=diff)[0]


def test_render_rules():
    desired = normalize_table(table_params())
    texts = [r['text'] for c in desired['chains'] for r in c['rules']]
    assert texts == ['ct state established,related accept', 'iifname "wg0" jump vpn_in',
                     'ip saddr @web_v4 tcp dport { 5432, 8000-8080 } accept',
                     'meta l4proto ipv6-icmp icmpv6 type { nd-neighbor-solicit, nd-neighbor-advert } accept',
                     'drop', 'oifname "eth1" ip saddr 10.10.0.0/24 masquerade']
    assert desired['chains'][2]['priority'] == 100
    batch = render_table(desired)
    assert batch.startswith('table inet meshforge\ndelete table inet meshforge\ntable inet meshforge {\n')
    assert 'add rule inet meshforge vpn_in ip saddr @web_v4 tcp dport { 5432, 8000-8080 } accept comment "mf:' in batch


def nft(host, batch):
    """``nft -f -`` of ``batch`` as someone else runs it on the host."""
    assert host.dispatch('nft', ['-f', '-'], batch) == (0, '', '')


def refused_by_nft(host, **extra):
    """Table parameters with a rule that nft refuses."""
    host.nft_rejects = 'bogus'
    params = table_params(**extra)
    params['chains'][1]['rules'].insert(0, {'rule': 'tcp dport bogus accept'})
    return params


def test_table_create_noop_and_foreign_table_untouched(host):
    nft(host, 'table ip docker {\n  chain DOCKER {\n    type nat hook prerouting priority -100; policy accept;\n  }\n}\n')
    foreign_before = copy.deepcopy(host.nft[('ip', 'docker')])
    check = run_table(host, table_params(), check=True)
    assert check['changed'] and check['action'] == 'create' and host.changing_commands() == []
    first = run_table(host, table_params(), diff=True)
    assert first['action'] == 'create' and len(first['rules_added']) == 6
    assert [host.path('nft'), '--check', '-f', '-'] in host.commands
    assert host.nft[('ip', 'docker')] == foreign_before
    count = len(host.changing_commands())
    again = run_table(host, table_params(), diff=True)
    assert not again['changed'] and again['action'] == 'none' and len(host.changing_commands()) == count
    assert again['diff']['before'] == again['diff']['after']
    assert not run_table(host, table_params(), check=True)['changed']


def test_table_elements_only_then_rule_change_replaces(host):
    run_table(host, table_params())
    params = table_params()
    params['sets'][0]['elements'] = ['10.10.0.2', '10.10.0.3']
    check = run_table(host, params, check=True)
    result = run_table(host, params)
    assert check['changed'] and result['changed']
    assert result['action'] == 'elements'
    assert result['elements_added'] == {'web_v4': ['10.10.0.3']} and result['elements_removed'] == {'web_v4': ['10.10.1.0/24']}
    assert not [args for args in host.changing_commands() if 'delete' in ' '.join(args)]
    params['chains'][1]['rules'][0]['dport'] = [5433]
    replaced = run_table(host, params, diff=True)
    assert replaced['action'] == 'replace'
    assert replaced['rules_added'] == ['vpn_in: ip saddr @web_v4 tcp dport 5433 accept']
    # a removed rule is shown as nft lists it (here the fake's expressions)
    assert replaced['rules_removed'] == ['vpn_in: meta iifname x accept']
    assert not run_table(host, params)['changed']


def test_nft_check_runs_in_check_mode_too(host):
    """The batch goes through nft --check before check mode stops, so check mode fails where a real run would."""
    with pytest.raises(CommandError):
        run_table(host, refused_by_nft(host), check=True)
    make_set(host, elements=['10.0.0.1'])
    host.nft_rejects = '10.0.0.2'
    with pytest.raises(CommandError):
        run_set(host, check=True, elements=['10.0.0.2'])
    assert host.changing_commands() == []


def test_set_result_keys(host):
    make_set(host, elements=['10.0.0.1'])
    result = run_set(host, elements=['10.0.0.2'])
    assert sorted(result) == ['added', 'audit', 'changed', 'elements', 'persisted', 'removed', 'set_type']
    assert result['persisted'] is False and result['elements'] == ['10.0.0.1', '10.0.0.2']


def test_table_with_hand_added_rule_is_replaced(host):
    run_table(host, table_params())
    nft(host, 'add rule inet meshforge vpn_in accept\n')
    result = run_table(host, table_params())
    assert result['action'] == 'replace' and result['rules_removed'] == ['vpn_in: meta iifname x accept']


def test_table_absent(host):
    run_table(host, table_params())
    assert run_table(host, table_params(state='absent'), check=True)['changed'] and host.nft
    assert run_table(host, table_params(state='absent'))['action'] == 'delete' and host.nft == {}
    assert not run_table(host, table_params(state='absent'))['changed']


@pytest.mark.parametrize('rule, field, words', [
    ({'rule': 'accept; flush ruleset'}, 'chains[1].rules[0].rule', 'contains'),
    ({'rule': 'accept\nflush ruleset'}, 'chains[1].rules[0].rule', 'contains'),
    ({'rule': 'accept } chain x { accept'}, 'chains[1].rules[0].rule', 'closes a brace'),
    ({'rule': 'tcp dport { 22 accept'}, 'chains[1].rules[0].rule', 'leaves a brace open'),
    ({'rule': 'accept comment "x"'}, 'chains[1].rules[0].rule', 'comment field'),
    ({'rule': 'accept', 'action': 'drop'}, 'chains[1].rules[0].rule', 'cannot be combined'),
    ({'protocol': 'icmp', 'dport': [22], 'action': 'accept'}, 'chains[1].rules[0].dport', 'need protocol tcp or udp'),
    ({'protocol': 'tcp', 'dport': [0], 'action': 'accept'}, 'chains[1].rules[0].dport[0]', 'out of range'),
    ({'saddr': '@nosuch', 'action': 'accept'}, 'chains[1].rules[0].saddr', 'not defined'),
    ({'saddr': ['10.0.0.1', 'fd00::1'], 'action': 'accept'}, 'chains[1].rules[0].saddr', 'mixes IPv4 and IPv6'),
    ({'iifname': 'wg0" accept', 'action': 'accept'}, 'chains[1].rules[0].iifname', 'interface name'),
    ({'action': 'jump', 'target': 'nowhere'}, 'chains[1].rules[0].target', 'not defined'),
    ({'action': 'accept', 'comment': 'a "quoted" one'}, 'chains[1].rules[0].comment', 'double quotes'),
    ({'action': 'permit'}, 'chains[1].rules[0].action', 'not one of'),
    ({'action': 'accept', 'color': 'red'}, 'chains[1].rules[0]', 'unknown keys color'),
])
def test_bad_rules_name_the_field(host, rule, field, words):
    params = table_params()
    params['chains'][1]['rules'] = [rule]
    with pytest.raises(ValidationError) as exc:
        run_table(host, params)
    assert exc.value.field == field and words in str(exc.value)
    assert host.commands == []


# ------------------------------------------------------------------ lockout --

def lockout_params(rules, policy='accept', hook='input'):
    return table_params(sets=[{'name': 'admins', 'type': 'ipv4_addr', 'flags': ['interval'], 'elements': ['198.18.0.0/24']}],
                        chains=[{'name': 'c', 'type': 'filter', 'hook': hook, 'priority': 0, 'policy': policy,
                                 'rules': rules}, {'name': 'sub', 'rules': [{'action': 'drop'}]}])


@pytest.mark.parametrize('rules, policy, locked', [
    ([], 'accept', False),
    ([], 'drop', True),
    ([{'ct_state': ['established', 'related'], 'action': 'accept'}], 'drop', True),
    ([{'ct_state': ['established', 'related'], 'action': 'accept'},
      {'protocol': 'tcp', 'dport': [22], 'action': 'accept'}], 'drop', False),
    ([{'saddr': '@admins', 'protocol': 'tcp', 'dport': ['20-30'], 'action': 'accept'}], 'drop', False),
    ([{'saddr': ['203.0.113.0/24'], 'protocol': 'tcp', 'dport': [22], 'action': 'accept'}], 'drop', True),
    ([{'iifname': 'wg0', 'action': 'drop'}], 'accept', False),
    ([{'iifname': 'eth0', 'action': 'drop'}], 'accept', True),
    ([{'protocol': 'tcp', 'dport': [22], 'action': 'jump', 'target': 'sub'}], 'accept', True),
    ([{'rule': 'tcp dport 22 drop'}], 'accept', True),
    ([{'rule': 'udp dport 53 accept'}], 'accept', False),
    ([{'saddr': ['fd00::/8'], 'action': 'drop'}], 'accept', False),
])
def test_lockout_evaluation(rules, policy, locked):
    desired = normalize_table(lockout_params(rules, policy))
    assert bool(lockout_risks(desired, SSH, 'eth0')) is locked


def test_lockout_output_hook():
    desired = normalize_table(lockout_params([{'protocol': 'tcp', 'sport': [22], 'action': 'drop'}], hook='output'))
    assert lockout_risks(desired, SSH, 'eth0') == ['c (from us, ct state established)']


def test_lockout_refused_unless_allowed(host):
    underlay(host)
    params = lockout_params([], 'drop')
    with pytest.raises(Refused) as exc:
        run_table(host, params)
    assert '198.18.0.1:50123 -> 198.18.0.10:22' in str(exc.value) and host.nft == {}
    result = run_table(host, dict(params, allow_lockout=True))
    assert result['changed'] and result['management_connection']['device'] == 'eth0'


def test_management_connection_from_environment_and_parents(tmp_path):
    assert safety.parse_ssh_connection('::ffff:198.18.0.10 50123 ::ffff:198.18.0.1 22') == SSH
    assert safety.parse_ssh_connection('garbage') is None
    proc = tmp_path
    for pid, ppid, env in ((30, 20, b'PATH=/bin\0'), (20, 10, b'SSH_CONNECTION=198.18.0.10 50123 198.18.0.1 22\0'),
                           (10, 1, b'')):
        (proc / str(pid)).mkdir()
        (proc / str(pid) / 'stat').write_text('%d (python3 (x)) S %d 0 0' % (pid, ppid))
        (proc / str(pid) / 'environ').write_bytes(env)
    assert safety.management_connection({}, str(proc), 30) == SSH
    assert safety.management_connection({'SSH_CONNECTION': '198.18.0.99 1 198.18.0.1 2222'}, str(proc), 30)['server_port'] == 2222


def test_persisted_file_follows_the_table(host, tmp_path):
    path = str(tmp_path / 'nftables.d' / 'meshforge.nft')
    assert run_table(host, table_params(path=path), check=True)['persisted'] and not (tmp_path / 'nftables.d').exists()
    first = run_table(host, table_params(path=path))
    assert first['persisted'] and first['action'] == 'create'
    text = open(path).read()
    assert text.startswith(PERSIST_HEADER + 'table inet meshforge\ndelete table inet meshforge\n')
    assert text == PERSIST_HEADER + render_table(normalize_table(table_params()))
    again = run_table(host, table_params(path=path))
    assert not again['changed'] and not again['persisted']
    # the file alone differs (edited or lost): only the file is rewritten, the table is left alone
    open(path, 'w').write('# edited\n')
    count = len(host.changing_commands())
    assert run_table(host, table_params(path=path), check=True)['changed'] and open(path).read() == '# edited\n'
    repaired = run_table(host, table_params(path=path))
    assert repaired['changed'] and repaired['persisted'] and repaired['action'] == 'none'
    assert open(path).read() == text and len(host.changing_commands()) == count
    # an element change rewrites the whole table into the file, not the element batch
    params = table_params(path=path)
    params['sets'][0]['elements'] = ['10.10.0.2']
    assert run_table(host, params)['action'] == 'elements'
    assert open(path).read() == PERSIST_HEADER + render_table(normalize_table(params))
    assert run_table(host, table_params(state='absent', path=path))['persisted'] and not os.path.exists(path)


def test_the_persisted_file_brings_the_table_back_after_a_reboot(host, tmp_path):
    path = str(tmp_path / 'meshforge.nft')
    assert run_table(host, table_params(path=path))['changed']
    live = copy.deepcopy(host.nft)
    host.boot.append(['nft', '-f', path])
    host.reboot()
    assert host.nft == live and not run_table(host, table_params(path=path))['changed']


def test_a_table_nft_refuses_is_neither_applied_nor_persisted(host, tmp_path):
    path = str(tmp_path / 'meshforge.nft')
    with pytest.raises(CommandError) as exc:
        run_table(host, refused_by_nft(host, path=path))
    assert exc.value.rc == 1 and 'syntax error, unexpected bogus' in str(exc.value)
    assert host.nft == {} and not os.path.exists(path)
    with pytest.raises(ValidationError, match='path'):
        run_table(host, table_params(path='relative/file.nft'))


# Issue 9, defect 9: overlapping intervals are refused before nft runs, naming the field and both elements.
@pytest.mark.parametrize('live, params, words', [
    ([], {'elements': ['10.0.0.0/24', '10.0.0.5']}, '10.0.0.0/24 overlaps 10.0.0.5'),
    ([], {'elements': ['10.0.0.0-10.0.0.9', '10.0.0.8/29']}, 'overlaps 10.0.0.8/29'),
    (['10.9.0.0/16'], {'elements': ['10.9.1.0/24']}, '10.9.1.0/24 overlaps 10.9.0.0/16, already in the set'),
])
def test_set_overlapping_intervals_are_refused_before_nft(host, live, params, words):
    make_set(host, elements=live)
    with pytest.raises(ValidationError) as exc:
        run_set(host, **params)
    assert str(exc.value).startswith('elements: ') and words in exc.value.problem and host.changing_commands() == []


def test_set_interval_replaced_in_one_exclusive_change_and_ports_and_concatenations(host):
    make_set(host, elements=['10.9.0.0/16'])
    assert run_set(host, elements=['10.9.1.0/24'], purge=True)['removed'] == ['10.9.0.0/16']
    make_set(host, 'ports', ('inet_service',), ('interval',))
    with pytest.raises(ValidationError) as exc:
        run_set(host, name='ports', elements=['8000-8100', '8080'])
    assert exc.value.problem.startswith('8000-8100 overlaps 8080')
    make_set(host, 'svc', ('ipv4_addr', 'inet_service'), ('interval',))
    # the same addresses on other ports do not overlap
    assert run_set(host, name='svc', elements=['10.0.0.0/24 . 22', '10.0.0.0/24 . 443'])['changed']


def test_table_set_overlapping_intervals_name_the_set():
    with pytest.raises(ValidationError) as exc:
        normalize_set('sets[0]', {'name': 'web_v4', 'type': 'ipv4_addr', 'flags': ['interval'],
                                  'elements': ['10.0.0.0/8', '10.1.2.3']})
    assert exc.value.field == 'sets[0].elements'
