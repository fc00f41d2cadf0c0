# -*- coding: utf-8 -*-
# Copyright: meshforge.vpn contributors
# GNU General Public License v3.0+ (see https://www.gnu.org/licenses/gpl-3.0.txt)
"""Address management: named pools, a ledger of allocations, and its storage.

Pure functions over plain data, run on the controller.  ``allocate`` never
changes an address a host already holds and never releases one implicitly: a
host leaves the ledger only through ``release``, so an inventory mistake never
renumbers a live host.  New hosts get an address derived from a hash of their
name, probing upwards past taken and reserved ones, the same rule as
``addressing.choose_addresses``; so the result depends neither on the order of
hosts nor on forks or ``--limit``, and on an empty ledger both give the same
addresses.

The ledger file is JSON with sorted keys and one value per line: stdlib only,
the same text for the same ledger (diff-friendly, meant to be committed), and a
strict parser, so a hand-edit that breaks the file is caught on load instead
of being read as something else.  Change it only inside ``locked(path)``;
``save`` writes atomically.
"""

from __future__ import absolute_import, division, print_function

__metaclass__ = type

import bisect
import contextlib
import errno
import fcntl
import ipaddress
import json
import os

from ansible_collections.meshforge.vpn.plugins.module_utils import files
from ansible_collections.meshforge.vpn.plugins.module_utils import validation as v
from ansible_collections.meshforge.vpn.plugins.module_utils.validation import ValidationError
from ansible_collections.meshforge.vpn.plugins.plugin_utils.addressing import name_slot

FORMAT_VERSION = 1
DEFAULT_NETWORK = 'default'


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


def _pool(ledger, pool):
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
    spec = _pool(ledger, pool)
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
    _pool(ledger, pool)
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
    spec = _pool(ledger, pool)
    address = v.address('address', str(address))
    for host, text in ledger.allocations[spec.name].items():
        if ipaddress.ip_address(text) == address:
            return host
    return None


def is_free(ledger, pool, address):
    """Whether ``address`` could be allocated from ``pool`` now (inside it, not reserved, not held)."""
    spec = _pool(ledger, pool)
    address = v.address('address', str(address))
    return spec.problem(address) is None and holder(ledger, pool, address) is None


def table(ledger, pool):
    """Every allocation of ``pool`` in address order: a list of ``{'address', 'host'}``."""
    spec = _pool(ledger, pool)
    rows = sorted((ipaddress.ip_address(text), host) for host, text in ledger.allocations[spec.name].items())
    return [{'address': str(address), 'host': host} for address, host in rows]


def usage(ledger, pool):
    """Counts of ``pool``: usable size, reserved, allocated and free addresses."""
    spec = _pool(ledger, pool)
    allocated = len(ledger.allocations[spec.name])
    return {'size': spec.size, 'reserved': spec.reserved_count, 'allocated': allocated,
            'free': spec.capacity - allocated}


def host_records(ledger, host):
    """What ``host`` holds, ``{pool: address}``: the record a host keeps about itself."""
    return dict((pool, hosts[host]) for pool, hosts in sorted(ledger.allocations.items()) if host in hosts)


def merge_host_records(ledger, records):
    """Extend ``ledger`` with what hosts say they hold: ``records`` is ``{host: {pool: address}}``.

    Returns ``(new_ledger, result)``; ``result`` has ``added`` (``{pool: {host:
    address}}``) and ``ignored`` (records of pools not in the ledger, ``{host:
    [pool]}``).  Refused, with nothing changed: an address outside its pool or
    reserved, two hosts claiming one address, a record that contradicts the
    ledger.
    """
    if not isinstance(records, dict):
        raise ValidationError('records', 'must be a mapping of host to {pool: address}, got %r' % (records,))
    allocations = dict((pool, dict(hosts)) for pool, hosts in ledger.allocations.items())
    claims = dict((pool, dict((ipaddress.ip_address(text), host) for host, text in hosts.items()))
                  for pool, hosts in allocations.items())
    added = {}
    ignored = {}
    for host in sorted(records):
        v.name('records', host)
        record = records[host] or {}
        if not isinstance(record, dict):
            raise ValidationError('records[%s]' % host, 'must be a mapping of pool to address, got %r' % (record,))
        for pool in sorted(record):
            where = 'records[%s][%s]' % (host, pool)
            if pool not in ledger.pools:
                ignored.setdefault(host, []).append(pool)
                continue
            address = v.address(where, str(record[pool]))
            problem = ledger.pools[pool].problem(address)
            if problem:
                raise ValidationError(where, problem)
            if host in allocations[pool] and allocations[pool][host] != str(address):
                raise ValidationError(where, '%s says it holds %s but the ledger gives it %s'
                                      % (host, address, allocations[pool][host]))
            other = claims[pool].get(address)
            if other is not None and other != host:
                raise ValidationError(where, '%s is claimed by both %s and %s' % (address, other, host))
            if other is None:
                claims[pool][address] = host
                allocations[pool][host] = str(address)
                added.setdefault(pool, {})[host] = str(address)
    return Ledger(ledger.pools.values(), allocations, ledger.released), {'added': added, 'ignored': ignored}


def dumps(ledger):
    return json.dumps(ledger.to_data(), sort_keys=True, indent=2, separators=(',', ': ')) + '\n'


def _no_duplicate_keys(pairs):
    data = {}
    for key, value in pairs:
        if key in data:
            raise ValueError('key %r appears twice in one mapping' % key)
        data[key] = value
    return data


def _mapping(where, value):
    if not isinstance(value, dict):
        raise ValidationError(where, 'must be a mapping, got %s' % type(value).__name__)
    return value


def from_data(data):
    data = _mapping('ledger', data)
    unknown = sorted(set(data) - set(['version', 'pools', 'allocations', 'released']))
    if unknown:
        raise ValidationError('ledger', 'unknown keys: %s' % ', '.join(unknown))
    if data.get('version') != FORMAT_VERSION:
        raise ValidationError('version', 'must be %d, got %r' % (FORMAT_VERSION, data.get('version')))
    pools = pools_from_spec(_mapping('pools', data.get('pools', {})))
    allocations = _mapping('allocations', data.get('allocations', {}))
    for name, hosts in allocations.items():
        _mapping('allocations[%s]' % name, hosts)
    released = _mapping('released', data.get('released', {}))
    for name, entries in released.items():
        if not isinstance(entries, list):
            raise ValidationError('released[%s]' % name, 'must be a list')
    return Ledger(pools, allocations, released)


def loads(text, source='<ledger>'):
    """Parse and check a ledger; any problem is a ValidationError whose field is ``source``."""
    try:
        data = json.loads(text, object_pairs_hook=_no_duplicate_keys)
    except ValueError as exc:
        raise ValidationError(source, 'not a valid ledger (JSON): %s' % exc)
    try:
        return from_data(data)
    except ValidationError as exc:
        raise ValidationError(source, 'invalid ledger: %s' % exc)


def load(path, pools=()):
    """The ledger stored at ``path``; a missing file is an empty ledger with ``pools``."""
    try:
        with open(path, 'r', encoding='utf-8') as handle:
            text = handle.read()
    except OSError as exc:
        if exc.errno != errno.ENOENT:
            raise ValidationError(path, 'cannot read the ledger: %s' % exc)
        return Ledger(pools)
    except UnicodeDecodeError as exc:
        raise ValidationError(path, 'not a valid ledger (not UTF-8 text): %s' % exc)
    return loads(text, path)


def save(path, ledger):
    """Write ``ledger`` atomically (files.write_atomic), keeping the mode of an existing ledger file."""
    mode = files.file_mode(path)
    if mode is None:
        umask = os.umask(0)
        os.umask(umask)
        mode = 0o666 & ~umask
    files.write_atomic(os.path.abspath(path), dumps(ledger), mode, dir_mode=0o755)


@contextlib.contextmanager
def locked(path):
    """Hold an exclusive lock on ``path`` (through ``path.lock``, left in place) for a read-modify-write.

    The lock is on a sidecar file because ``save`` replaces the ledger file:
    a lock on the old inode would not exclude a process that opened the new one.
    """
    fd = os.open(path + '.lock', os.O_RDWR | os.O_CREAT, 0o644)
    try:
        fcntl.flock(fd, fcntl.LOCK_EX)
        yield
    finally:
        os.close(fd)


def update(path, change, pools=()):
    """Under the lock: load ``path``, ``change(ledger) -> (ledger, result)``, save if it changed, return result."""
    with locked(path):
        ledger = load(path, pools)
        new, result = change(ledger)
        if new != ledger or not os.path.exists(path):
            save(path, new)
    return result


# --- one request, as the ipam action plugin receives it -------------------------

STATES = ('present', 'absent', 'query')


def pools_from_spec(spec):
    """``{name: {cidr, network, reserve_first, exclude}}`` (the action's ``pools``) to a list of Pool."""
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
        item = _mapping('pools[%s]' % name, item)
        extra = sorted(set(item) - set(['cidr', 'network', 'reserve_first', 'exclude']))
        if extra or not item.get('cidr'):
            raise ValidationError('pools[%s]' % name, 'needs cidr and may have network, reserve_first, exclude; '
                                                      'unknown keys: %s' % (', '.join(extra) or 'none'))
        pools.append(Pool(name, item['cidr'], item.get('reserve_first') or 0, item.get('exclude') or [],
                          item.get('network') or DEFAULT_NETWORK))
    return pools


def select_pools(ledger, pools=None, network=None, defined=()):
    """The pool names a request is about: ``pools``, else every pool of ``network``, else the ones it defines."""
    if pools:
        if isinstance(pools, str):
            pools = [pools]
        for name in pools:
            _pool(ledger, name)
        return sorted(set(pools))
    if network:
        names = sorted(name for name, pool in ledger.pools.items() if pool.network == network)
        if not names:
            raise ValidationError('network', 'no pool of network %r in the ledger (networks: %s)' % (
                network, ', '.join(sorted(set(p.network for p in ledger.pools.values()))) or 'none'))
        return names
    if defined:
        return sorted(defined)
    raise ValidationError('pool', 'name a pool (pool), a network (network) or define pools (pools)')


def _records(records):
    """Host records as given: ``{host: {pool: address}}`` or registered ipam_record results."""
    if records is None:
        return {}
    if not isinstance(records, dict):
        raise ValidationError('records', 'must be a mapping of host to {pool: address}, got %r' % (records,))
    plain = {}
    for host, record in records.items():
        if isinstance(record, dict) and 'records' in record and ('changed' in record or 'skipped' in record):
            record = record.get('records') or {}
        plain[host] = record
    return plain


def _stale(ledger, records):
    """Records of an address the ledger says its host released: the host gave it up, so it is not reclaimed."""
    fresh, stale = {}, {}
    for host, record in records.items():
        for pool, address in (record or {}).items():
            released = [e['address'] for e in ledger.released.get(pool, []) if e['host'] == host]
            if (pool in ledger.allocations and host not in ledger.allocations[pool]
                    and released and released[-1] == str(address)):
                stale.setdefault(pool, {})[host] = str(address)
            else:
                fresh.setdefault(host, {})[pool] = address
    return fresh, stale


def _pins(pins, names):
    """``{host: {pool: address}}`` per pool: ``{pool: {host: address}}``; a bare address needs one pool."""
    if pins is None:
        return {}
    if not isinstance(pins, dict):
        raise ValidationError('pins', 'must be a mapping of host to {pool: address}, got %r' % (pins,))
    per_pool = {}
    for host in sorted(pins):
        wanted = pins[host]
        if wanted in (None, '', {}):
            continue
        if not isinstance(wanted, dict):
            if len(names) != 1:
                raise ValidationError('pins[%s]' % host, 'name the pool of %r: {pool: address}' % (wanted,))
            wanted = {names[0]: wanted}
        for pool, address in wanted.items():
            if pool not in names:
                raise ValidationError('pins[%s][%s]' % (host, pool), 'not one of the pools of this request (%s)'
                                      % ', '.join(names))
            if address not in (None, ''):
                per_pool.setdefault(pool, {})[host] = address
    return per_pool


def _changes(before, after, names):
    allocated, moved, released = {}, {}, {}
    for pool in names:
        old, new = before.allocations.get(pool, {}), after.allocations.get(pool, {})
        for host in sorted(set(old) | set(new)):
            if host not in old:
                allocated.setdefault(pool, {})[host] = new[host]
            elif host not in new:
                released.setdefault(pool, {})[host] = old[host]
            elif old[host] != new[host]:
                moved.setdefault(pool, {})[host] = {'from': old[host], 'to': new[host]}
    return allocated, moved, released


def apply_request(ledger, state='present', pools=None, pool=None, network=None, hosts=None, pins=None,
                  records=None, address=None, release_hosts=None):
    """Carry out one request of the ipam action on ``ledger``: ``(new_ledger, result)``.

    ``pools`` defines or redefines pools (refused if an allocation would fall
    outside); ``pool`` or ``network`` selects the pools the request is about.
    ``records`` (host-anchored storage) are merged first, so every address a
    host says it holds stays its own and is never handed to another host.
    ``present`` first releases the hosts of ``release_hosts`` (former members; not
    one of ``hosts``), then gives every host of ``hosts`` and ``pins`` an
    address in every selected pool; ``absent`` releases ``hosts``; ``query``
    changes nothing.
    ``changed`` is true when an allocation is made, moved or released or a
    pool is redefined; addresses recovered from host records are no change,
    because the hosts already hold them.  Nothing is changed on an error.
    """
    if state not in STATES:
        raise ValidationError('state', '%r is not one of %s' % (state, ', '.join(STATES)))
    if state != 'query' and hosts is None and not pins:
        raise ValidationError('hosts', 'name the hosts of the request')
    if isinstance(hosts, (str, bytes, dict)):
        raise ValidationError('hosts', 'must be a list of host names, got %r' % (hosts,))
    hosts = list(hosts or [])
    defined = pools_from_spec(pools) if state != 'query' else []
    redefined = []
    for spec in defined:
        if spec.name in ledger.pools and ledger.pools[spec.name] != spec:
            redefined.append(spec.name)
        ledger = set_pool(ledger, spec)
    if state == 'query' and pools:
        for spec in pools_from_spec(pools):
            if spec.name not in ledger.pools:
                ledger = set_pool(ledger, spec)
    names = select_pools(ledger, pool, network, [p.name for p in defined])
    fresh, stale = _stale(ledger, _records(records))
    ledger, merged = merge_host_records(ledger, fresh)
    start = ledger
    if isinstance(release_hosts, (str, bytes, dict)):
        raise ValidationError('release', 'must be a list of host names, got %r' % (release_hosts,))
    former = sorted(set(v.name('release', host) for host in release_hosts or []))
    if former and state != 'present':
        raise ValidationError('release', 'goes with state=present; with state=absent, name the hosts in hosts')
    clash = sorted(set(former) & (set(hosts) | set(pins or {})))
    if clash:
        raise ValidationError('release', '%s also asked for an address in this request' % ', '.join(clash))
    for host in former:
        for name in names:
            ledger = release(ledger, name, host)[0]
    if state == 'present':
        per_pool = _pins(pins, names)
        # a host pinned in one pool of a dual-stack network still gets an address in the others
        everyone = sorted(set(hosts) | set(v.name('pins', host) for host in pins or {}))
        for name in names:
            ledger = allocate(ledger, name, everyone, per_pool.get(name), pin_field='pins[%%s][%s]' % name)[0]
    elif state == 'absent':
        for host in hosts + sorted(pins or {}):
            v.name('hosts', host)
            for name in names:
                ledger = release(ledger, name, host)[0]
    allocated, moved, released = _changes(start, ledger, names)
    result = {
        'changed': bool(allocated or moved or released or redefined),
        'pools': dict((name, dict(usage(ledger, name), cidr=str(ledger.pools[name].cidr),
                                  network=ledger.pools[name].network)) for name in names),
        'allocated': allocated,
        'moved': moved,
        'released': released,
        'recovered': merged['added'],
        'stale_records': stale,
        'redefined': redefined,
    }
    if state == 'present':
        result['addresses'] = dict((host, dict((name, ledger.allocations[name][host]) for name in names))
                                   for host in sorted(set(hosts) | set(pins or {})))
    if state == 'query':
        result['tables'] = dict((name, table(ledger, name)) for name in names)
        if address not in (None, ''):
            result['holders'] = dict((name, holder(ledger, name, address)) for name in names)
            result['free'] = dict((name, is_free(ledger, name, address)) for name in names)
    return ledger, result
