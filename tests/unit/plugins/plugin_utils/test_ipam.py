# -*- coding: utf-8 -*-
# Copyright: meshforge.vpn contributors
# GNU General Public License v3.0+ (see https://www.gnu.org/licenses/gpl-3.0.txt)

from __future__ import absolute_import, division, print_function

__metaclass__ = type

import ipaddress
import json
import multiprocessing
import os

import pytest
from hypothesis import given, settings as hsettings, strategies as st

from ansible_collections.meshforge.vpn.plugins.module_utils import files
from ansible_collections.meshforge.vpn.plugins.module_utils.validation import ValidationError
from ansible_collections.meshforge.vpn.plugins.plugin_utils.addressing import choose_addresses
from ansible_collections.meshforge.vpn.plugins.plugin_utils.ipam.ledger import (
    Ledger, allocate, holder, is_free, network_addresses, network_pools, release, set_pool, table, usage)
from ansible_collections.meshforge.vpn.plugins.plugin_utils.ipam.pools import Pool, pool_names
from ansible_collections.meshforge.vpn.plugins.plugin_utils.ipam.records import host_records, merge_host_records
from ansible_collections.meshforge.vpn.plugins.plugin_utils.ipam.storage import default_path, dumps, load, save, update

NAMES = st.text(alphabet='abcdefghijklmnopqrstuvwxyz0123456789-.', min_size=1, max_size=12)
HOST_SETS = st.lists(NAMES, min_size=1, max_size=40, unique=True)


def ledger(*pools):
    return Ledger(pools or [Pool('wg0', '10.0.0.0/24')])


def addresses_of(led, pool='wg0'):
    return dict(led.allocations[pool])


def assert_distinct(led):
    for pool, hosts in led.allocations.items():
        values = list(hosts.values())
        assert len(values) == len(set(values)), pool


def raises_on(field, call, *args, **kwargs):
    with pytest.raises(ValidationError) as info:
        call(*args, **kwargs)
    assert info.value.field == field, str(info.value)
    return str(info.value)


# --- allocation properties -------------------------------------------------

@given(HOST_SETS, st.randoms())
@hsettings(max_examples=60, deadline=None)
def test_stable_under_permutations_of_the_host_list(hosts, rnd):
    shuffled = list(hosts)
    rnd.shuffle(shuffled)
    one = allocate(ledger(), 'wg0', hosts)[0]
    two = allocate(ledger(), 'wg0', shuffled)[0]
    assert one == two
    assert_distinct(one)


@given(HOST_SETS, st.lists(NAMES, max_size=20, unique=True), st.data())
@hsettings(max_examples=60, deadline=None)
def test_hosts_added_or_removed_around_a_host_never_move_it(hosts, extra, data):
    first, result = allocate(ledger(), 'wg0', hosts)
    assert result['allocated'] == result['addresses']
    subset = data.draw(st.lists(st.sampled_from(hosts), unique=True))
    second, again = allocate(first, 'wg0', subset + extra)
    for host in hosts:
        assert second.allocations['wg0'][host] == first.allocations['wg0'][host]
    assert set(again['allocated']) == set(extra) - set(hosts)
    assert_distinct(second)


@given(st.lists(HOST_SETS, min_size=1, max_size=6))
@hsettings(max_examples=40, deadline=None)
def test_no_duplicate_ever_across_runs_and_releases(batches):
    led = ledger(Pool('wg0', '10.0.0.0/26', reserve_first=3, exclude=['10.0.0.32/30']))
    for i, batch in enumerate(batches):
        try:
            led, result = allocate(led, 'wg0', batch)
        except ValidationError as exc:
            assert exc.field == 'pools[wg0]' and 'exhausted' in exc.problem
            continue
        for address in result['addresses'].values():
            assert holder(led, 'wg0', address) is not None
            assert led.pools['wg0'].problem(ipaddress.ip_address(address)) is None
        assert_distinct(led)
        if i % 2:
            led = release(led, 'wg0', sorted(batch)[0])[0]


@given(HOST_SETS, st.dictionaries(NAMES, st.integers(1, 254), max_size=5))
@hsettings(max_examples=60, deadline=None)
def test_empty_ledger_gives_the_same_addresses_as_choose_addresses(hosts, pin_offsets):
    net = ipaddress.ip_network('10.0.0.0/24')
    pins = {}
    for host, offset in sorted(pin_offsets.items()):
        if offset not in pins.values():
            pins[host] = offset
    pins = dict((host, str(net.network_address + offset)) for host, offset in pins.items())
    expected = choose_addresses(hosts, net, pins)
    result = allocate(ledger(), 'wg0', hosts, pins)[1]
    assert result['addresses'] == dict((host, str(address)) for host, address in expected.items())


def test_repeated_run_changes_nothing():
    led, result = allocate(ledger(), 'wg0', ['a', 'b'], {'c': '10.0.0.10'})
    assert result['changed']
    again, result = allocate(led, 'wg0', ['a', 'b'], {'c': '10.0.0.10'})
    assert again == led and not result['changed'] and not result['allocated']


def test_absent_host_keeps_its_address_until_released_then_it_is_reused():
    led = allocate(ledger(), 'wg0', ['a', 'b', 'c'])[0]
    kept = allocate(led, 'wg0', ['a'])[0]
    assert kept.allocations['wg0'] == led.allocations['wg0']
    address = led.allocations['wg0']['b']
    freed, released = release(kept, 'wg0', 'b')
    assert released == address
    assert is_free(freed, 'wg0', address) and holder(freed, 'wg0', address) is None
    assert freed.released['wg0'] == [{'host': 'b', 'address': address}]
    assert release(freed, 'wg0', 'b') == (freed, None)
    reused, result = allocate(freed, 'wg0', [], {'d': address})
    assert holder(reused, 'wg0', address) == 'd' and result['addresses'] == {'d': address}
    # a released host comes back to the same hash slot when it is free again
    back = allocate(freed, 'wg0', ['b'])[1]
    assert back['addresses']['b'] == address


def test_full_pool_is_used_to_the_last_address():
    led = ledger(Pool('small', '10.0.0.0/29', reserve_first=1))
    hosts = ['h%d' % i for i in range(5)]
    led, result = allocate(led, 'small', hosts)
    assert sorted(result['addresses'].values(), key=ipaddress.ip_address) == ['10.0.0.%d' % i for i in range(2, 7)]
    assert usage(led, 'small') == {'size': 6, 'reserved': 1, 'allocated': 5, 'free': 0}


@pytest.mark.parametrize('cidr, count', [('fd00:1::/64', 200), ('fd00:2::/112', 200), ('fd00:3::/126', 3),
                                         ('10.1.0.0/31', 2), ('10.1.0.1/32', 1), ('fd00:4::1/128', 1)])
def test_ipv6_and_tiny_pools(cidr, count):
    pool = Pool('p', cidr)
    hosts = ['h%03d' % i for i in range(count)]
    led, result = allocate(ledger(pool), 'p', hosts)
    assert_distinct(led)
    for address in result['addresses'].values():
        assert ipaddress.ip_address(address) in pool.cidr
    assert usage(led, 'p')['free'] == pool.size - count
    if pool.cidr.num_addresses > 2:
        assert str(pool.cidr.network_address) not in result['addresses'].values()


def test_ipv6_64_hashes_across_the_whole_prefix():
    led, result = allocate(ledger(Pool('p', 'fd00::/64')), 'p', ['a', 'b'])
    # a /64 is too large to fill in order: the interface identifier comes from the hash
    assert all(int(ipaddress.ip_address(a)) & 0xffffffffffffffff > 2 ** 32 for a in result['addresses'].values())


@given(HOST_SETS, st.integers(0, 40), st.lists(st.integers(0, 63).map(lambda n: '10.9.0.%d/30' % (n & ~3)),
                                               max_size=4, unique=True))
@hsettings(max_examples=60, deadline=None)
def test_reserved_ranges_are_respected(hosts, first, exclude):
    pool = Pool('r', '10.9.0.0/26', reserve_first=first, exclude=exclude)
    try:
        led, result = allocate(ledger(pool), 'r', hosts)
    except ValidationError as exc:
        assert len(hosts) > pool.capacity and '%d addresses free' % pool.capacity in exc.problem
        return
    for address in result['addresses'].values():
        address = ipaddress.ip_address(address)
        assert int(address) - int(pool.cidr.network_address) > first
        assert not any(address in ipaddress.ip_network(e) for e in exclude)
        assert address not in (pool.cidr.network_address, pool.cidr.broadcast_address)
    assert_distinct(led)


def test_pin_moves_a_host_and_pins_may_swap():
    led = allocate(ledger(), 'wg0', [], {'a': '10.0.0.5', 'b': '10.0.0.6'})[0]
    moved, result = allocate(led, 'wg0', ['a'], {'a': '10.0.0.7'})
    assert result['moved'] == {'a': {'from': '10.0.0.5', 'to': '10.0.0.7'}} and is_free(moved, 'wg0', '10.0.0.5')
    swapped = allocate(led, 'wg0', [], {'a': '10.0.0.6', 'b': '10.0.0.5'})[0]
    assert swapped.allocations['wg0'] == {'a': '10.0.0.6', 'b': '10.0.0.5'}


def test_queries_and_table():
    led = allocate(ledger(), 'wg0', [], {'b': '10.0.0.20', 'a': '10.0.0.3'})[0]
    assert table(led, 'wg0') == [{'address': '10.0.0.3', 'host': 'a'}, {'address': '10.0.0.20', 'host': 'b'}]
    assert holder(led, 'wg0', '10.0.0.20') == 'b'
    assert not is_free(led, 'wg0', '10.0.0.20')
    assert not is_free(led, 'wg0', '10.0.0.0') and not is_free(led, 'wg0', '10.0.1.1')
    assert is_free(led, 'wg0', '10.0.0.21')
    assert host_records(led, 'a') == {'wg0': '10.0.0.3'}
    assert raises_on('address', holder, led, 'wg0', 'nope')


def test_dual_stack_pools_in_one_network():
    led = ledger(Pool('v4', '10.0.0.0/24', network='mesh'), Pool('v6', 'fd00::/64', network='mesh'))
    led = allocate(led, 'v4', ['a'])[0]
    led = allocate(led, 'v6', ['a'])[0]
    assert sorted(host_records(led, 'a')) == ['v4', 'v6']


def test_a_network_s_addresses_by_host_ipv4_first_whatever_the_pool_names():
    four, six = pool_names('mesh')
    assert (four, six) == ('mesh', 'mesh_v6')
    led = ledger(Pool('a6', 'fd00::/64', network='mesh'), Pool('z4', '10.0.0.0/24', network='mesh'),
                 Pool('other', '10.1.0.0/24', network='office'))
    led = allocate(led, 'a6', ['h1'], {'h2': 'fd00::2'})[0]
    led = allocate(led, 'z4', ['h1'], {'h2': '10.0.0.2'})[0]
    led = allocate(led, 'other', ['h3'])[0]
    assert network_pools(led, 'mesh') == ['z4', 'a6']
    held = network_addresses(led, 'mesh')
    assert sorted(held) == ['h1', 'h2'] and held['h2'] == ['10.0.0.2', 'fd00::2']
    assert network_addresses(led, 'nowhere') == {}


# --- errors name their field ----------------------------------------------

def test_exhausted_pool_says_free_and_requested():
    led = allocate(ledger(Pool('s', '10.0.0.0/29')), 's', ['a', 'b', 'c', 'd'])[0]
    problem = raises_on('pools[s]', allocate, led, 's', ['e', 'f', 'g'])
    assert '2 addresses free, 3 requested' in problem
    problem = raises_on('wireguard_mesh_network', allocate, led, 's', ['e', 'f', 'g'],
                        pool_field='wireguard_mesh_network')


@pytest.mark.parametrize('pins, field, words', [
    ({'a': '10.1.0.1'}, 'pins[a]', 'outside the pool'),
    ({'a': 'fd00::1'}, 'pins[a]', 'outside the pool'),
    ({'a': '10.0.0.0'}, 'pins[a]', 'network, broadcast'),
    ({'a': '10.0.0.255'}, 'pins[a]', 'network, broadcast'),
    ({'a': '10.0.0.2'}, 'pins[a]', 'first 4 addresses'),
    ({'a': '10.0.0.101'}, 'pins[a]', 'excluded by 10.0.0.100/30'),
    ({'a': '10.0.0.50', 'b': '10.0.0.50'}, 'pins[b]', 'also pinned to a'),
    ({'a': 'ten'}, 'pins[a]', 'not an IP address'),
])
def test_bad_pins(pins, field, words):
    led = ledger(Pool('wg0', '10.0.0.0/24', reserve_first=4, exclude=['10.0.0.100/30']))
    assert words in raises_on(field, allocate, led, 'wg0', [], pins)


def test_pin_on_an_address_held_by_another_host():
    led = allocate(ledger(), 'wg0', [], {'a': '10.0.0.5'})[0]
    problem = raises_on('hostvars[b].address', allocate, led, 'wg0', ['b'], {'b': '10.0.0.5'},
                        pin_field='hostvars[%s].address')
    assert 'already allocated to a' in problem


def test_unknown_pool_and_bad_hosts():
    assert 'no pool' in raises_on('pool', allocate, ledger(), 'nope', ['a'])
    raises_on('hosts', allocate, ledger(), 'wg0', 'a')
    raises_on('hosts', allocate, ledger(), 'wg0', ['a\nb'])
    raises_on('pins', allocate, ledger(), 'wg0', [], ['a'])
    raises_on('pool', release, ledger(), 'nope', 'a')


@pytest.mark.parametrize('kwargs, field', [
    (dict(cidr='10.0.0.1/24'), 'pools[p].cidr'),
    (dict(cidr='10.0.0.0/24', reserve_first=300), 'pools[p].reserve_first'),
    (dict(cidr='10.0.0.0/24', reserve_first=True), 'pools[p].reserve_first'),
    (dict(cidr='10.0.0.0/24', exclude='10.0.0.5'), 'pools[p].exclude'),
    (dict(cidr='10.0.0.0/24', exclude=['10.0.1.0/28']), 'pools[p].exclude[0]'),
    (dict(cidr='10.0.0.0/24', exclude=['fd00::/64']), 'pools[p].exclude[0]'),
    (dict(cidr='10.0.0.0/24', network=''), 'pools[p].network'),
])
def test_bad_pool(kwargs, field):
    raises_on(field, Pool, 'p', **kwargs)


def test_overlapping_pools_in_one_network_are_refused():
    assert 'overlaps pool a' in raises_on('pools[b].cidr', ledger, Pool('a', '10.0.0.0/16'),
                                          Pool('b', '10.0.5.0/24'))
    ledger(Pool('a', '10.0.0.0/16', network='x'), Pool('b', '10.0.5.0/24', network='y'))
    led = ledger(Pool('a', '10.0.0.0/24'))
    raises_on('pools[b].cidr', set_pool, led, Pool('b', '10.0.0.128/25'))


def test_resizing_a_pool_never_renumbers():
    led = allocate(ledger(), 'wg0', [], {'a': '10.0.0.200', 'b': '10.0.0.3'})[0]
    problem = raises_on('pools[wg0]', set_pool, led, Pool('wg0', '10.0.0.0/25'))
    assert 'a holds 10.0.0.200' in problem and 'release it first' in problem
    raises_on('pools[wg0]', set_pool, led, Pool('wg0', '10.0.0.0/24', reserve_first=5))
    raises_on('pools[wg0]', set_pool, led, Pool('wg0', '10.0.0.0/24', exclude=['10.0.0.192/26']))
    grown = set_pool(led, Pool('wg0', '10.0.0.0/23'))
    assert grown.allocations == led.allocations and grown.pools['wg0'].cidr.prefixlen == 23
    shrunk = set_pool(release(led, 'wg0', 'a')[0], Pool('wg0', '10.0.0.0/25'))
    assert shrunk.allocations['wg0'] == {'b': '10.0.0.3'}


# --- host-anchored records -------------------------------------------------

def test_merge_host_records_rebuilds_the_same_ledger():
    full = allocate(ledger(), 'wg0', ['a', 'b', 'c'])[0]
    records = dict((host, host_records(full, host)) for host in 'abc')
    records['c']['gone'] = '10.50.0.1'
    rebuilt, result = merge_host_records(ledger(), records)
    assert rebuilt == full
    assert result['ignored'] == {'c': ['gone']}
    assert result['added'] == {'wg0': full.allocations['wg0']}
    assert merge_host_records(rebuilt, records)[1]['added'] == {}
    # a new host never gets an address a live host reported
    after = allocate(rebuilt, 'wg0', ['a', 'b', 'c', 'd'])[0]
    assert_distinct(after)


@pytest.mark.parametrize('records, field, words', [
    ({'a': {'wg0': '10.0.0.5'}, 'b': {'wg0': '10.0.0.5'}}, 'records[b][wg0]', 'claimed by both a and b'),
    ({'x': {'wg0': '10.0.0.9'}}, 'records[x][wg0]', 'the ledger gives it 10.0.0.7'),
    ({'b': {'wg0': '10.0.0.7'}}, 'records[b][wg0]', 'claimed by both x and b'),
    ({'b': {'wg0': '10.0.1.7'}}, 'records[b][wg0]', 'outside the pool'),
    ({'b': {'wg0': 'junk'}}, 'records[b][wg0]', 'not an IP address'),
    ({'b': ['wg0']}, 'records[b]', 'mapping'),
])
def test_merge_host_records_refuses_conflicts(records, field, words):
    led = allocate(ledger(), 'wg0', [], {'x': '10.0.0.7'})[0]
    assert words in raises_on(field, merge_host_records, led, records)


# --- storage --------------------------------------------------------------

def test_save_and_load_round_trip_and_stable_text(tmp_path):
    path = str(tmp_path / 'ledger.json')
    led = ledger(Pool('wg0', '10.0.0.0/24', reserve_first=2, exclude=['10.0.0.9']),
                 Pool('v6', 'fd00::/112'))
    led = allocate(led, 'wg0', ['b', 'a'])[0]
    led = allocate(led, 'v6', ['a'])[0]
    led = release(led, 'wg0', 'b')[0]
    save(path, led)
    assert load(path) == led
    with open(path) as handle:
        text = handle.read()
    assert text == dumps(load(path)) and text.endswith('}\n')
    assert json.loads(text)['pools']['wg0']['exclude'] == ['10.0.0.9/32']
    assert os.stat(path).st_mode & 0o777 == 0o666 & ~_umask()
    assert sorted(os.listdir(str(tmp_path))) == ['ledger.json']


def _umask():
    mask = os.umask(0)
    os.umask(mask)
    return mask


def test_missing_file_is_an_empty_ledger_unless_it_must_exist(tmp_path):
    pools = [Pool('wg0', '10.0.0.0/24')]
    path = str(tmp_path / 'none.json')
    assert load(path, pools) == Ledger(pools)
    assert raises_on(path, load, path, missing_ok=False).endswith('no ledger at this path')


def test_the_ledger_is_beside_the_inventory_else_the_playbook():
    assert default_path({'inventory_dir': '/inv', 'playbook_dir': '/play'}) == '/inv/meshforge_vpn_ipam.json'
    assert default_path({'inventory_dir': None, 'playbook_dir': '/play'}) == '/play/meshforge_vpn_ipam.json'
    assert default_path({}) == os.path.join(os.getcwd(), 'meshforge_vpn_ipam.json')


def test_a_dry_run_update_writes_nothing_and_takes_no_lock(tmp_path):
    path = str(tmp_path / 'ledger.json')
    pools = [Pool('wg0', '10.0.0.0/24')]
    before, after, result = update(path, lambda led: allocate(led, 'wg0', ['a']), pools, dry_run=True)
    assert before == Ledger(pools) and result['allocated'] == after.allocations['wg0']
    assert os.listdir(str(tmp_path)) == []


def test_update_saves_only_when_changed(tmp_path):
    path = str(tmp_path / 'ledger.json')
    pools = [Pool('wg0', '10.0.0.0/24')]
    result = update(path, lambda led: allocate(led, 'wg0', ['a']), pools)[2]
    assert result['changed']
    before = os.stat(path).st_mtime_ns
    os.utime(path, ns=(before - 10 ** 9, before - 10 ** 9))
    result = update(path, lambda led: allocate(led, 'wg0', ['a']), pools)[2]
    assert not result['changed'] and os.stat(path).st_mtime_ns == before - 10 ** 9


def test_interrupted_save_leaves_the_old_file(tmp_path, monkeypatch):
    path = str(tmp_path / 'ledger.json')
    old = allocate(ledger(), 'wg0', ['a'])[0]
    save(path, old)

    def crash(src, dst):
        raise KeyboardInterrupt()

    monkeypatch.setattr(files.os, 'replace', crash)
    with pytest.raises(KeyboardInterrupt):
        save(path, allocate(old, 'wg0', ['b'])[0])
    assert load(path) == old
    assert sorted(os.listdir(str(tmp_path))) == ['ledger.json']


GOOD = {'version': 1, 'pools': {'wg0': {'cidr': '10.0.0.0/24', 'reserve_first': 4, 'exclude': ['10.0.0.64/26']}},
        'allocations': {'wg0': {'a': '10.0.0.10', 'b': '10.0.0.11'}}}


@pytest.mark.parametrize('edit, words', [
    (lambda d: d['allocations']['wg0'].update(b='10.0.0.10'), 'duplicate address'),
    (lambda d: d['allocations']['wg0'].update(b='10.0.1.10'), 'allocations[wg0][b]: 10.0.1.10 is outside the pool'),
    (lambda d: d['allocations']['wg0'].update(b='10.0.0.2'), 'first 4 addresses'),
    (lambda d: d['allocations']['wg0'].update(b='10.0.0.70'), 'excluded by'),
    (lambda d: d['allocations']['wg0'].update(b='10.0.0.256'), 'not an IP address'),
    (lambda d: d['allocations'].update(wg1={}), 'allocations[wg1]: no pool'),
    (lambda d: d['pools']['wg0'].update(cidr='10.0.0.0/33'), 'pools[wg0].cidr'),
    (lambda d: d['pools']['wg0'].pop('cidr'), 'needs cidr'),
    (lambda d: d['pools'].update(x={'cidr': '10.0.0.128/25'}), 'overlaps'),
    (lambda d: d.update(version=2), 'version'),
    (lambda d: d.update(extra=1), 'unknown keys: extra'),
    (lambda d: d.update(allocations=[]), 'allocations: must be a mapping'),
    (lambda d: d.update(released={'wg0': [{'host': 'c'}]}), 'released[wg0][0]'),
])
def test_corrupt_or_badly_edited_file_is_named(tmp_path, edit, words):
    path = str(tmp_path / 'ledger.json')
    data = json.loads(json.dumps(GOOD))
    edit(data)
    with open(path, 'w') as handle:
        json.dump(data, handle)
    problem = raises_on(path, load, path)
    assert words in problem


@pytest.mark.parametrize('text, words', [
    ('{"version": 1, "pools": {', 'not a valid ledger (JSON)'),
    ('', 'not a valid ledger (JSON)'),
    ('{"version": 1, "allocations": {}, "allocations": {}}', "key 'allocations' appears twice"),
    ('[]', 'ledger: must be a mapping'),
])
def test_truncated_or_duplicate_key_file(tmp_path, text, words):
    path = str(tmp_path / 'ledger.json')
    with open(path, 'w') as handle:
        handle.write(text)
    assert words in raises_on(path, load, path)
    with open(path, 'wb') as handle:
        handle.write(b'\xff\xfe')
    raises_on(path, load, path)


def test_the_good_file_loads(tmp_path):
    path = str(tmp_path / 'ledger.json')
    with open(path, 'w') as handle:
        json.dump(GOOD, handle)
    assert table(load(path), 'wg0')[0] == {'address': '10.0.0.10', 'host': 'a'}


# --- concurrency ------------------------------------------------------------

POOLS = [Pool('wg0', '10.0.0.0/26'), Pool('v6', 'fd00::/112')]


def _allocate_one(path, host, barrier, queue):
    barrier.wait()
    result = update(path, lambda led: allocate(led, 'wg0', [host]), POOLS)[2]
    queue.put((host, result['addresses'][host]))


def test_fifty_processes_never_share_an_address(tmp_path):
    # A /26 has 62 addresses: 50 hosts collide on hash slots often, so the lock is what keeps them apart.
    path = str(tmp_path / 'ledger.json')
    context = multiprocessing.get_context('fork')
    barrier = context.Barrier(50)
    queue = context.Queue()
    workers = [context.Process(target=_allocate_one, args=(path, 'host%02d' % i, barrier, queue)) for i in range(50)]
    for worker in workers:
        worker.start()
    results = dict(queue.get(timeout=30) for dummy in workers)
    for worker in workers:
        worker.join(30)
        assert worker.exitcode == 0
    assert len(results) == 50 and len(set(results.values())) == 50
    led = load(path)
    assert led.allocations['wg0'] == results
    assert sorted(name for name in os.listdir(str(tmp_path))) == ['ledger.json', 'ledger.json.lock']
