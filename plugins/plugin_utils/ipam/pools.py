# -*- coding: utf-8 -*-
# Copyright: meshforge.vpn contributors
# GNU General Public License v3.0+ (see https://www.gnu.org/licenses/gpl-3.0.txt)
"""A pool of the address manager: one CIDR with its reserved addresses, and how pools are named and described.

Pools belong to a *network*; a host gets one address from each pool of the network it asks for.  A network's IPv4
pool is named after the network and its IPv6 pool after the network with ``_v6`` (:func:`pool_names`): the only place
that naming is written, so a role that reads the ledger asks for a network, never for a pool by name.
"""

from __future__ import absolute_import, division, print_function

__metaclass__ = type

import bisect

from ansible_collections.meshforge.vpn.plugins.module_utils import validation as v
from ansible_collections.meshforge.vpn.plugins.module_utils.validation import ValidationError
from ansible_collections.meshforge.vpn.plugins.plugin_utils.addressing import name_slot

DEFAULT_NETWORK = 'default'
SPEC_KEYS = ('cidr', 'network', 'reserve_first', 'exclude')


def pool_names(network):
    """``(IPv4 pool, IPv6 pool)`` of a network."""
    return network, network + '_v6'


def _merge(intervals):
    merged = []
    for low, high in sorted(intervals):
        if merged and low <= merged[-1][1] + 1:
            merged[-1][1] = max(merged[-1][1], high)
        else:
            merged.append([low, high])
    return [tuple(pair) for pair in merged]


class Pool:
    """One CIDR with its reserved addresses; immutable once built.

    Offsets count from the network address.  Usable offsets are
    ``first..last``: IPv4 prefixes shorter than /31 lose the network and
    broadcast addresses, IPv6 prefixes shorter than /127 the subnet-router
    anycast address (offset 0), as in ``addressing.choose_addresses``.
    ``reserve_first`` reserves that many usable addresses from the start;
    ``exclude`` reserves addresses or CIDRs.
    """

    def __init__(self, name, cidr, reserve_first=0, exclude=(), network=DEFAULT_NETWORK):
        field = 'pools[%s]' % name
        self.name = v.name('pools', name)
        self.network = v.name(field + '.network', network)
        self.cidr = v.network(field + '.cidr', cidr if isinstance(cidr, str) else str(cidr))
        net = self.cidr
        self.first = 1
        self.last = net.num_addresses - (2 if net.version == 4 and net.prefixlen < 31 else 1)
        if net.prefixlen >= net.max_prefixlen - 1:
            self.first, self.last = 0, net.num_addresses - 1
        self.size = self.last - self.first + 1
        self.reserve_first = v.integer(field + '.reserve_first', reserve_first, 0, self.size)
        if isinstance(exclude, str) or not isinstance(exclude, (list, tuple)):
            raise ValidationError(field + '.exclude', 'must be a list of addresses or CIDRs, got %r' % (exclude,))
        self.exclude = []
        intervals = []
        if self.reserve_first:
            intervals.append((self.first, self.first + self.reserve_first - 1))
        base = int(net.network_address)
        for i, item in enumerate(exclude):
            where = '%s.exclude[%d]' % (field, i)
            excluded = v.network(where, item if isinstance(item, str) else str(item))
            if excluded.version != net.version or not excluded.overlaps(net):
                raise ValidationError(where, '%s is outside the pool %s' % (excluded, net))
            self.exclude.append(excluded)
            low = max(int(excluded.network_address) - base, self.first)
            high = min(int(excluded.broadcast_address) - base, self.last)
            if low <= high:
                intervals.append((low, high))
        self.exclude = tuple(sorted(self.exclude))
        self._reserved = _merge(intervals)
        self._starts = [low for low, dummy in self._reserved]
        self.reserved_count = sum(high - low + 1 for low, high in self._reserved)
        self.capacity = self.size - self.reserved_count

    def to_data(self):
        return {'cidr': str(self.cidr), 'network': self.network, 'reserve_first': self.reserve_first,
                'exclude': [str(item) for item in self.exclude]}

    def __eq__(self, other):
        return isinstance(other, Pool) and (self.name, self.to_data()) == (other.name, other.to_data())

    def __ne__(self, other):
        return not self == other

    def __repr__(self):
        return 'Pool(%r, %r)' % (self.name, self.to_data())

    def offset(self, address):
        return int(address) - int(self.cidr.network_address)

    def address(self, offset):
        return self.cidr.network_address + offset

    def _reserved_interval(self, offset):
        i = bisect.bisect_right(self._starts, offset) - 1
        if i >= 0 and self._reserved[i][0] <= offset <= self._reserved[i][1]:
            return self._reserved[i]
        return None

    def problem(self, address):
        """Why ``address`` cannot be allocated from this pool, or None."""
        if address.version != self.cidr.version or address not in self.cidr:
            return '%s is outside the pool %s (%s)' % (address, self.name, self.cidr)
        offset = self.offset(address)
        if not self.first <= offset <= self.last:
            return '%s is reserved in pool %s (%s): network, broadcast or subnet-router address' % (
                address, self.name, self.cidr)
        if offset < self.first + self.reserve_first:
            return '%s is reserved in pool %s (%s): one of its first %d addresses' % (
                address, self.name, self.cidr, self.reserve_first)
        if self._reserved_interval(offset) is not None:
            return '%s is reserved in pool %s (%s): excluded by %s' % (
                address, self.name, self.cidr, ', '.join(str(e) for e in self.exclude if address in e))
        return None

    def probe(self, name, taken):
        """The first free offset at or after the hash slot of ``name``, wrapping; the pool must have one."""
        offset = self.first + name_slot(name, self.size)
        while True:
            interval = self._reserved_interval(offset)
            if interval is not None:
                offset = interval[1] + 1
            elif offset in taken:
                offset += 1
            else:
                return offset
            if offset > self.last:
                offset = self.first


def mapping(where, value):
    if not isinstance(value, dict):
        raise ValidationError(where, 'must be a mapping, got %s' % type(value).__name__)
    return value


def pools_from_spec(spec):
    """``{name: {cidr, network, reserve_first, exclude}}`` (or ``{name: cidr}``) to a list of Pool."""
    if spec is None:
        return []
    if not isinstance(spec, dict):
        raise ValidationError('pools', 'must be a mapping of pool name to {cidr, network, reserve_first, exclude}, '
                                       'got %r' % (spec,))
    pools = []
    for name in sorted(spec):
        item = spec[name]
        if isinstance(item, str):
            item = {'cidr': item}
        item = mapping('pools[%s]' % name, item)
        extra = sorted(set(item) - set(SPEC_KEYS))
        if extra or not item.get('cidr'):
            raise ValidationError('pools[%s]' % name, 'needs cidr and may have network, reserve_first, exclude; '
                                                      'unknown keys: %s' % (', '.join(extra) or 'none'))
        pools.append(Pool(name, item['cidr'], item.get('reserve_first') or 0, item.get('exclude') or [],
                          item.get('network') or DEFAULT_NETWORK))
    return pools
