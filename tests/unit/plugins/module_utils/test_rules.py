# -*- coding: utf-8 -*-
# Copyright: meshforge.vpn contributors
# GNU General Public License v3.0+ (see https://www.gnu.org/licenses/gpl-3.0.txt)

from __future__ import absolute_import, division, print_function

__metaclass__ = type

from ansible_collections.meshforge.vpn.plugins.module_utils.routes import rules as ru

# ip -j -4 rule show after the three rules were added with protocol 109 in a namespace (iproute2 6.1), and one rule
# of another owner at an owned priority
LIVE = ('[{"priority":0,"src":"all","table":"local"},'
        '{"priority":31000,"src":"all","dst":"198.19.251.2","table":"main","protocol":"109"},'
        '{"priority":31001,"src":"all","table":"main","suppress_prefixlen":0,"protocol":"109"},'
        '{"priority":31001,"src":"all","table":"100"},'
        '{"priority":31002,"not":null,"src":"all","fwmark":"0xca6c","table":"51820","protocol":"109"},'
        '{"priority":32766,"src":"all","table":"main"},{"priority":32767,"src":"all","table":"default"}]')
OWNED = range(31000, 31003)


def test_live_rules_match_what_is_wanted_and_only_the_owners_rules_are_read():
    live = ru.parse_rules(4, LIVE, 109)
    assert len(live) == 3
    assert ru.plan(ru.exit_rules(4, 51820, 51820, management='198.19.251.2'), live, OWNED) == {'add': [], 'remove': []}


def test_missing_and_stale_rules_are_planned():
    want = ru.exit_rules(4, 51820, 51820, management='198.19.251.9')
    steps = ru.plan(want, ru.parse_rules(4, LIVE, 109), OWNED)
    assert [ru.delete_args(r, 109) for r in steps['remove']] == [
        ['-4', 'rule', 'del', 'priority', '31000', 'protocol', '109']]
    assert [ru.rule_args(r, 109) for r in steps['add']] == [
        ['-4', 'rule', 'add', 'priority', '31000', 'to', '198.19.251.9', 'lookup', 'main', 'protocol', '109']]


def test_a_management_peer_of_the_other_family_gets_no_rule():
    assert [ru.describe(r) for r in ru.exit_rules(6, 51820, 51820, management='198.19.251.2')] == [
        'priority 31001 lookup main suppress_prefixlength 0 (IPv6)',
        'priority 31002 not fwmark 0xca6c lookup 51820 (IPv6)']
