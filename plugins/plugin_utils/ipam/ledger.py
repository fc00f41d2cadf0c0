# -*- coding: utf-8 -*-
# Copyright: meshforge.vpn contributors
# GNU General Public License v3.0+ (see https://www.gnu.org/licenses/gpl-3.0.txt)
"""The ledger: pools and who holds which address, and the pure functions that allocate, release and look up.

``allocate`` never changes an address a host already holds and never releases one implicitly: a host leaves the
ledger only through ``release``, so an inventory mistake never renumbers a live host.  New hosts get an address
derived from a hash of their name, probing upwards past taken and reserved ones, the same rule as
``addressing.choose_addresses``; so the result depends neither on the order of hosts nor on forks or ``--limit``,
and on an empty ledger both give the same addresses.  Every function returns a new ledger and changes none; the
file a ledger is kept in is :mod:`.storage`'s.
"""

from __future__ import absolute_import, division, print_function

__metaclass__ = type

import ipaddress

from ansible_collections.meshforge.vpn.plugins.module_utils import validation as v
from ansible_collections.meshforge.vpn.plugins.module_utils.validation import ValidationError
from ansible_collections.meshforge.vpn.plugins.plugin_utils.addressing import name_slot
from ansible_collections.meshforge.vpn.plugins.plugin_utils.ipam.pools import mapping, pools_from_spec

FORMAT_VERSION = 1
DATA_KEYS = ('version', 'pools', 'allocations', 'released')


class Ledger:
    """Pools and who holds what: ``allocations[pool][host]`` is a normalised address string.

    ``released[pool]`` lists ``{'host', 'address'}`` released explicitly, oldest first.
    Functions in this module return new ledgers and never change one.
    """

    def __init__(self, pools=(), allocations=None, released=None):
        self.pools = {}
        for pool in pools:
            self.pools[pool.name] = pool
        self.allocations = dict((name, dict(hosts)) for name, hosts in (allocations or {}).items())
        for name in self.pools:
            self.allocations.setdefault(name, {})
        self.released = dict((name, [dict(entry) for entry in entries]) for name, entries in (released or {}).items())
        check(self)

    def copy(self):
        return Ledger(self.pools.values(), self.allocations, self.released)

    def to_data(self):
        return {
            'version': FORMAT_VERSION,
            'pools': dict((name, pool.to_data()) for name, pool in self.pools.items()),
            'allocations': dict((name, dict(hosts)) for name, hosts in self.allocations.items()),
            'released': dict((name, list(entries)) for name, entries in self.released.items() if entries),
        }

    def __eq__(self, other):
        return isinstance(other, Ledger) and self.to_data() == other.to_data()

    def __ne__(self, other):
        return not self == other


def check(ledger):
    """Refuse a ledger that could hand out one address twice; field names point into the ledger."""
    networks = {}
    for name in sorted(ledger.pools):
        pool = ledger.pools[name]
        for other in networks.get(pool.network, []):
            if pool.cidr.version == other.cidr.version and pool.cidr.overlaps(other.cidr):
                raise ValidationError('pools[%s].cidr' % name, '%s overlaps pool %s (%s) in network %s'
                                      % (pool.cidr, other.name, other.cidr, pool.network))
        networks.setdefault(pool.network, []).append(pool)
    for name in sorted(ledger.allocations):
        if name not in ledger.pools:
            raise ValidationError('allocations[%s]' % name, 'no pool of that name')
        pool = ledger.pools[name]
        holders = {}
        for host in sorted(ledger.allocations[name]):
            where = 'allocations[%s][%s]' % (name, host)
            v.name(where, host)
            text = ledger.allocations[name][host]
            address = v.address(where, text)
            problem = pool.problem(address)
            if problem:
                raise ValidationError(where, problem)
            if address in holders:
                raise ValidationError(where, '%s is also held by %s (duplicate address)' % (address, holders[address]))
            holders[address] = host
            ledger.allocations[name][host] = str(address)
    for name in sorted(ledger.released):
        if name not in ledger.pools:
            raise ValidationError('released[%s]' % name, 'no pool of that name')
        for i, entry in enumerate(ledger.released[name]):
            where = 'released[%s][%d]' % (name, i)
            if not isinstance(entry, dict) or sorted(entry) != ['address', 'host']:
                raise ValidationError(where, 'must be a mapping of host and address, got %r' % (entry,))
            v.name(where + '.host', entry['host'])
            v.address(where + '.address', entry['address'])


def pool_of(ledger, pool):
    if pool not in ledger.pools:
        raise ValidationError('pool', 'no pool %r in the ledger (pools: %s)' % (pool, ', '.join(sorted(ledger.pools)) or 'none'))
    return ledger.pools[pool]


def set_pool(ledger, pool):
    """A ledger with ``pool`` added or redefined; refused if an existing allocation would fall outside it."""
    field = 'pools[%s]' % pool.name
    for host, text in sorted(ledger.allocations.get(pool.name, {}).items()):
        problem = pool.problem(ipaddress.ip_address(text))
        if problem:
            raise ValidationError(field, 'cannot change the pool: %s holds %s and %s; release it first '
                                         '(addresses are never renumbered silently)' % (host, text, problem))
    pools = [p for p in ledger.pools.values() if p.name != pool.name] + [pool]
    return Ledger(pools, ledger.allocations, ledger.released)


def _taken(ledger, pool):
    return dict((pool.offset(ipaddress.ip_address(text)), host) for host, text in ledger.allocations[pool.name].items())


def allocate(ledger, pool, hosts, pins=None, pin_field='pins[%s]', pool_field=None):
    """Give every host of ``hosts`` and of ``pins`` an address of ``pool``.

    Returns ``(new_ledger, result)``; ``result`` has ``addresses`` (every host
    asked for), ``allocated`` (hosts new to the pool), ``moved`` (hosts whose
    pin changed their address: ``{'from', 'to'}``) and ``changed``.  A host
    that holds an address keeps it unless a pin says otherwise; hosts not
    asked for keep theirs.  Nothing is changed when an error is raised.
    """
    spec = pool_of(ledger, pool)
    pool_field = pool_field or 'pools[%s]' % pool
    if isinstance(hosts, (str, bytes, dict)) or hosts is None:
        raise ValidationError('hosts', 'must be a list of host names, got %r' % (hosts,))
    hosts = set(v.name('hosts', host) for host in hosts)
    pins = pins or {}
    if not isinstance(pins, dict):
        raise ValidationError('pins', 'must be a mapping of host to address, got %r' % (pins,))
    held = dict(ledger.allocations[pool])
    taken = _taken(ledger, spec)
    wanted = {}
    for host in sorted(pins):
        where = pin_field % v.name('pins', host)
        address = v.address(where, str(pins[host]))
        problem = spec.problem(address)
        if problem:
            raise ValidationError(where, problem)
        if address in wanted:
            raise ValidationError(where, '%s is also pinned to %s' % (address, wanted[address]))
        holder = taken.get(spec.offset(address))
        if holder is not None and holder != host and holder not in pins:
            raise ValidationError(where, '%s is already allocated to %s; release it first' % (address, holder))
        wanted[address] = host
    moved = {}
    for address, host in sorted(wanted.items(), key=lambda item: item[1]):
        if held.get(host) not in (None, str(address)):
            moved[host] = {'from': held[host], 'to': str(address)}
    for host in moved:
        del taken[spec.offset(ipaddress.ip_address(held[host]))]
    for address, host in wanted.items():
        taken[spec.offset(address)] = host
        held[host] = str(address)
    new = sorted((h for h in hosts if h not in held), key=lambda h: (name_slot(h, spec.size), h))
    free = spec.capacity - len(taken)
    if len(new) > free:
        raise ValidationError(pool_field, 'pool %s (%s) is exhausted: %d addresses free, %d requested'
                              % (pool, spec.cidr, free, len(new)))
    allocated = {}
    for host in new:
        offset = spec.probe(host, taken)
        taken[offset] = host
        held[host] = allocated[host] = str(spec.address(offset))
    allocations = dict(ledger.allocations)
    allocations[pool] = held
    result = {
        'addresses': dict((host, held[host]) for host in sorted(hosts | set(pins))),
        'allocated': allocated,
        'moved': moved,
        'changed': bool(allocated or moved or any(host not in ledger.allocations[pool] for host in pins)),
    }
    return Ledger(ledger.pools.values(), allocations, ledger.released), result


def release(ledger, pool, host, history=True):
    """Free the address of ``host`` in ``pool``: ``(new_ledger, address or None)``."""
    pool_of(ledger, pool)
    if host not in ledger.allocations[pool]:
        return ledger, None
    allocations = dict(ledger.allocations)
    allocations[pool] = dict(allocations[pool])
    address = allocations[pool].pop(host)
    released = dict(ledger.released)
    if history:
        released[pool] = list(released.get(pool, [])) + [{'host': host, 'address': address}]
    return Ledger(ledger.pools.values(), allocations, released), address


def holder(ledger, pool, address):
    """The host that holds ``address`` in ``pool``, or None."""
    spec = pool_of(ledger, pool)
    address = v.address('address', str(address))
    for host, text in ledger.allocations[spec.name].items():
        if ipaddress.ip_address(text) == address:
            return host
    return None


def is_free(ledger, pool, address):
    """Whether ``address`` could be allocated from ``pool`` now (inside it, not reserved, not held)."""
    spec = pool_of(ledger, pool)
    address = v.address('address', str(address))
    return spec.problem(address) is None and holder(ledger, pool, address) is None


def table(ledger, pool):
    """Every allocation of ``pool`` in address order: a list of ``{'address', 'host'}``."""
    spec = pool_of(ledger, pool)
    rows = sorted((ipaddress.ip_address(text), host) for host, text in ledger.allocations[spec.name].items())
    return [{'address': str(address), 'host': host} for address, host in rows]


def usage(ledger, pool):
    """Counts of ``pool``: usable size, reserved, allocated and free addresses."""
    spec = pool_of(ledger, pool)
    allocated = len(ledger.allocations[spec.name])
    return {'size': spec.size, 'reserved': spec.reserved_count, 'allocated': allocated,
            'free': spec.capacity - allocated}


def network_pools(ledger, network):
    """The pools of ``network``, IPv4 first (sorted by family, then name)."""
    return [pool.name for pool in sorted(ledger.pools.values(), key=lambda p: (p.cidr.version, p.name))
            if pool.network == network]


def network_addresses(ledger, network):
    """``{host: [address, ...]}``: what each host holds in the pools of ``network``, IPv4 first; ``{}`` for a
    network the ledger does not have."""
    held = {}
    for pool in network_pools(ledger, network):
        for host, address in sorted(ledger.allocations[pool].items()):
            held.setdefault(host, []).append(address)
    return held


def from_data(data):
    """The ledger a decoded file holds (``Ledger.to_data``'s form); refused with the field at fault."""
    data = mapping('ledger', data)
    unknown = sorted(set(data) - set(DATA_KEYS))
    if unknown:
        raise ValidationError('ledger', 'unknown keys: %s' % ', '.join(unknown))
    if data.get('version') != FORMAT_VERSION:
        raise ValidationError('version', 'must be %d, got %r' % (FORMAT_VERSION, data.get('version')))
    pools = pools_from_spec(mapping('pools', data.get('pools', {})))
    allocations = mapping('allocations', data.get('allocations', {}))
    for name, hosts in allocations.items():
        mapping('allocations[%s]' % name, hosts)
    released = mapping('released', data.get('released', {}))
    for name, entries in released.items():
        if not isinstance(entries, list):
            raise ValidationError('released[%s]' % name, 'must be a list')
    return Ledger(pools, allocations, released)
