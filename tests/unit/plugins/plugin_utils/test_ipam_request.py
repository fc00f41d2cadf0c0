# -*- coding: utf-8 -*-
# Copyright: meshforge.vpn contributors
# GNU General Public License v3.0+ (see https://www.gnu.org/licenses/gpl-3.0.txt)
"""apply_request: one request of the ipam action, over the ledger library."""

from __future__ import absolute_import, division, print_function

__metaclass__ = type

import pytest
from hypothesis import given, settings as hsettings, strategies as st

from ansible_collections.meshforge.vpn.plugins.module_utils.validation import ValidationError
from ansible_collections.meshforge.vpn.plugins.plugin_utils.addressing import name_slot
from ansible_collections.meshforge.vpn.plugins.plugin_utils.ipam.ledger import Ledger
from ansible_collections.meshforge.vpn.plugins.plugin_utils.ipam.pools import Pool
from ansible_collections.meshforge.vpn.plugins.plugin_utils.ipam.request import apply_request

POOLS = {'wg0': {'cidr': '10.88.0.0/24', 'network': 'wg0'}, 'wg0_v6': {'cidr': 'fd88::/64', 'network': 'wg0'}}
NAMES = st.text(alphabet='abcdefghijklmnopqrstuvwxyz0123456789-', min_size=1, max_size=10)


def present(led, hosts, **kwargs):
    return apply_request(led, hosts=hosts, pools=kwargs.pop('pools', POOLS), network='wg0', **kwargs)


def refused(field, words, led, **kwargs):
    with pytest.raises(ValidationError) as info:
        apply_request(led, **kwargs)
    assert info.value.field == field, str(info.value)
    for word in words:
        assert word in str(info.value)


def test_dual_stack_request_gives_one_address_per_pool_and_a_rerun_changes_nothing():
    led, result = present(Ledger(), ['h1', 'h2', 'h3'], pins={'h1': {'wg0': '10.88.0.10'}})
    assert result['changed'] and sorted(result['allocated']) == ['wg0', 'wg0_v6']
    assert result['addresses']['h1']['wg0'] == '10.88.0.10'
    assert all(set(row) == {'wg0', 'wg0_v6'} for row in result['addresses'].values())
    assert result['pools']['wg0'] == {'cidr': '10.88.0.0/24', 'network': 'wg0', 'size': 254, 'reserved': 0,
                                      'allocated': 3, 'free': 251}
    again, second = present(led, ['h3', 'h2', 'h1'], pins={'h1': {'wg0': '10.88.0.10'}})
    assert again == led and not second['changed'] and second['addresses'] == result['addresses']


def test_a_bare_pin_needs_a_single_pool():
    led, result = apply_request(Ledger(), hosts=['a'], pools={'p': '10.1.0.0/24'}, pins={'a': '10.1.0.9'})
    assert result['addresses'] == {'a': {'p': '10.1.0.9'}}
    refused('pins[a]', ['name the pool'], Ledger(), hosts=['a'], pools=POOLS, network='wg0',
            pins={'a': '10.88.0.9'})
    refused('pins[a][other]', ['not one of the pools'], Ledger(), hosts=['a'], pools=POOLS, network='wg0',
            pins={'a': {'other': '10.88.0.9'}})


def test_release_keeps_history_and_frees_the_address_for_reuse():
    led = present(Ledger(), ['h1', 'h2'])[0]
    old = led.allocations['wg0']['h2']
    led, result = apply_request(led, state='absent', hosts=['h2'], network='wg0')
    assert result['changed'] and result['released'] == {'wg0': {'h2': old}, 'wg0_v6': {'h2': mock_v6(led, 'h2')}}
    assert 'h2' not in led.allocations['wg0'] and led.released['wg0'][-1] == {'host': 'h2', 'address': old}
    led, result = present(led, ['h1'], pins={'new': {'wg0': old}})
    assert result['addresses']['new']['wg0'] == old


def mock_v6(led, host):
    return [e['address'] for e in led.released['wg0_v6'] if e['host'] == host][-1]


def test_query_changes_nothing_and_answers_check_ip():
    led = present(Ledger(), ['h1', 'h2'], pins={'h1': {'wg0': '10.88.0.10'}})[0]
    same, result = apply_request(led, state='query', pool=['wg0'], address='10.88.0.10')
    assert same == led and not result['changed']
    assert result['holders'] == {'wg0': 'h1'} and result['free'] == {'wg0': False}
    assert [row['host'] for row in result['tables']['wg0']][0] == 'h1'
    result = apply_request(led, state='query', pool=['wg0'], address='10.88.0.11')[1]
    assert result['holders'] == {'wg0': None} and result['free'] == {'wg0': True}
    assert apply_request(led, state='query', pool=['wg0'], address='10.88.0.0')[1]['free'] == {'wg0': False}


def test_records_rebuild_the_ledger_without_a_change_and_protect_held_addresses():
    led, first = present(Ledger(), ['h1', 'h2', 'h3'])
    records = dict((h, dict(row)) for h, row in first['addresses'].items())
    # a fresh controller: empty ledger, records from the hosts (registered ipam_record results work too)
    registered = dict((h, {'changed': False, 'records': r, 'previous': r}) for h, r in records.items())
    rebuilt, result = present(Ledger(), ['h1', 'h2', 'h3'], records=registered)
    assert rebuilt == led and not result['changed'] and result['recovered']['wg0'] == led.allocations['wg0']
    # a host recorded an address that a new host's hash would take: the new host probes past it
    taken = {'wg0': Pool('wg0', '10.88.0.0/24').address(1 + name_slot('newcomer', 254)).exploded}
    led, result = present(Ledger(), ['old', 'newcomer'], records={'old': taken})
    assert result['addresses']['old']['wg0'] == taken['wg0'] != result['addresses']['newcomer']['wg0']


def test_records_that_contradict_or_collide_are_refused():
    led = present(Ledger(), ['h1', 'h2'])[0]
    other = led.allocations['wg0']['h2']
    refused('records[h1][wg0]', ['says it holds', 'the ledger gives it'], led, hosts=['h1'], pools=POOLS,
            network='wg0', records={'h1': {'wg0': other}})
    refused('records[h2][wg0]', ['claimed by both'], Ledger(), hosts=['h1'], pools=POOLS, network='wg0',
            records={'h1': {'wg0': '10.88.0.5'}, 'h2': {'wg0': '10.88.0.5'}})
    refused('records[h1][wg0]', ['outside the pool'], Ledger(), hosts=['h1'], pools=POOLS, network='wg0',
            records={'h1': {'wg0': '10.99.0.5'}})


def test_a_record_of_a_released_address_is_stale_and_ignored():
    led = present(Ledger(), ['h1', 'h2'])[0]
    old = led.allocations['wg0']['h2']
    led = apply_request(led, state='absent', hosts=['h2'], network='wg0')[0]
    led = present(led, ['h1'], pins={'h9': {'wg0': old}})[0]
    again, result = present(led, ['h1', 'h2'], records={'h2': {'wg0': old}})
    assert result['stale_records'] == {'wg0': {'h2': old}}
    assert result['addresses']['h2']['wg0'] != old and again.allocations['wg0']['h9'] == old


def test_redefining_a_pool_is_a_change_and_shrinking_under_a_host_is_refused():
    led = present(Ledger(), ['h1'], pins={'h1': {'wg0': '10.88.0.200'}})[0]
    wider = dict(POOLS, wg0={'cidr': '10.88.0.0/23', 'network': 'wg0'})
    result = present(led, ['h1'], pools=wider, pins={'h1': {'wg0': '10.88.0.200'}})[1]
    assert result['changed'] and result['redefined'] == ['wg0']
    narrow = dict(POOLS, wg0={'cidr': '10.88.0.0/25', 'network': 'wg0'})
    refused('pools[wg0]', ['cannot change the pool', 'h1 holds 10.88.0.200', 'never renumbered'], led,
            hosts=['h1'], pools=narrow, network='wg0')


@pytest.mark.parametrize('kwargs, field, words', [
    ({'hosts': 'h1', 'pools': POOLS, 'network': 'wg0'}, 'hosts', ['list of host names']),
    ({'hosts': ['h1'], 'pools': POOLS, 'network': 'nope'}, 'network', ["no pool of network 'nope'"]),
    ({'hosts': ['h1'], 'pool': ['nope']}, 'pool', ["no pool 'nope'"]),
    ({'hosts': ['h1']}, 'pool', ['name a pool']),
    ({'hosts': ['h1'], 'pools': {'p': {'cidr': '10.0.0.0/24', 'colour': 'red'}}}, 'pools[p]', ['colour']),
    ({'hosts': ['h1'], 'pools': {'p': {'network': 'x'}}}, 'pools[p]', ['needs cidr']),
    ({'hosts': ['h1'], 'pools': {'a': '10.0.0.0/24', 'b': {'cidr': '10.0.0.128/25', 'network': 'default'}}},
     'pools[b].cidr', ['overlaps pool a']),
    ({'hosts': ['h1'], 'pools': {'p': '10.0.0.0/30'}, 'pins': {'h1': '10.0.0.3'}}, 'pins[h1][p]', ['reserved']),
    ({'hosts': ['h1', 'h2'], 'pools': {'p': '10.0.0.0/24'}, 'pins': {'h1': '10.0.0.5', 'h2': '10.0.0.5'}},
     'pins[h2][p]', ['also pinned to h1']),
    ({'hosts': ['a', 'b', 'c'], 'pools': {'p': '10.0.0.0/30'}}, 'pools[p]', ['exhausted', '2 addresses free, 3 requested']),
    ({'state': 'bogus', 'hosts': ['h1']}, 'state', ['not one of']),
    ({'hosts': ['h\n1'], 'pools': POOLS, 'network': 'wg0'}, 'hosts', ['line break']),
])
def test_bad_requests_are_refused_with_the_field_named(kwargs, field, words):
    refused(field, words, Ledger(), **kwargs)


@given(st.lists(NAMES, min_size=1, max_size=30, unique=True), st.randoms())
@hsettings(max_examples=40, deadline=None)
def test_one_request_or_one_per_host_never_duplicates(hosts, rnd):
    led = present(Ledger(), hosts)[0]
    one_by_one = Ledger()
    order = list(hosts)
    rnd.shuffle(order)
    for host in order:
        one_by_one = present(one_by_one, [host])[0]
    for pool in ('wg0', 'wg0_v6'):
        for allocation in (led.allocations[pool], one_by_one.allocations[pool]):
            assert len(set(allocation.values())) == len(hosts)


def test_release_in_a_present_request_frees_former_members_for_new_ones():
    pools = {'p': '10.0.0.0/30'}
    led = apply_request(Ledger(), hosts=['a', 'b'], pools=pools)[0]
    refused('pools[p]', ['exhausted'], led, hosts=['a', 'b', 'c'], pools=pools)
    led, result = apply_request(led, hosts=['a', 'c'], pools=pools, release_hosts=['b'])
    assert result['released'] == {'p': {'b': '10.0.0.%s' % led.released['p'][-1]['address'].split('.')[-1]}}
    assert sorted(result['addresses']) == ['a', 'c'] and result['changed']
    refused('release', ['also asked for an address'], led, hosts=['a'], pools=pools, release_hosts=['a'])
    refused('release', ['goes with state=present'], led, state='absent', hosts=['a'], pools=pools, release_hosts=['c'])
    refused('release', ['list of host names'], led, hosts=['a'], pools=pools, release_hosts='c')
