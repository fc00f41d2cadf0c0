# -*- coding: utf-8 -*-
# Copyright: meshforge.vpn contributors
# GNU General Public License v3.0+ (see https://www.gnu.org/licenses/gpl-3.0.txt)
"""One request of the ipam action, carried out on a ledger: define pools, merge host records, release, allocate,
or look up.  Pure: the action loads and saves the ledger around it (:mod:`.storage`)."""

from __future__ import absolute_import, division, print_function

__metaclass__ = type

from ansible_collections.meshforge.vpn.plugins.module_utils import validation as v
from ansible_collections.meshforge.vpn.plugins.module_utils.validation import ValidationError
from ansible_collections.meshforge.vpn.plugins.plugin_utils.ipam import ledger as ipam_ledger
from ansible_collections.meshforge.vpn.plugins.plugin_utils.ipam.pools import pools_from_spec
from ansible_collections.meshforge.vpn.plugins.plugin_utils.ipam.records import (
    merge_host_records, plain_records, split_stale, usable_hints)

STATES = ('present', 'absent', 'query')


def select_pools(ledger, pools=None, network=None, defined=()):
    """The pool names a request is about: ``pools``, else every pool of ``network``, else the ones it defines."""
    if pools:
        if isinstance(pools, str):
            pools = [pools]
        for name in pools:
            ipam_ledger.pool_of(ledger, name)
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
                  records=None, address=None, release_hosts=None, hints=None):
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
    because the hosts already hold them.  ``hints`` are records the ledger wins over
    (:func:`.records.usable_hints`), merged after them.  Nothing is changed on an error.
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
        ledger = ipam_ledger.set_pool(ledger, spec)
    if state == 'query' and pools:
        for spec in pools_from_spec(pools):
            if spec.name not in ledger.pools:
                ledger = ipam_ledger.set_pool(ledger, spec)
    names = select_pools(ledger, pool, network, [p.name for p in defined])
    fresh, stale = split_stale(ledger, plain_records(records))
    ledger, merged = merge_host_records(ledger, fresh)
    ledger, hinted = merge_host_records(ledger, usable_hints(ledger, hints))
    for pool, hosts_added in hinted['added'].items():
        merged['added'].setdefault(pool, {}).update(hosts_added)
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
            ledger = ipam_ledger.release(ledger, name, host)[0]
    if state == 'present':
        per_pool = _pins(pins, names)
        # a host pinned in one pool of a dual-stack network still gets an address in the others
        everyone = sorted(set(hosts) | set(v.name('pins', host) for host in pins or {}))
        for name in names:
            ledger = ipam_ledger.allocate(ledger, name, everyone, per_pool.get(name), pin_field='pins[%%s][%s]' % name)[0]
    elif state == 'absent':
        for host in hosts + sorted(pins or {}):
            v.name('hosts', host)
            for name in names:
                ledger = ipam_ledger.release(ledger, name, host)[0]
    allocated, moved, released = _changes(start, ledger, names)
    result = {
        'changed': bool(allocated or moved or released or redefined),
        'pools': dict((name, dict(ipam_ledger.usage(ledger, name), cidr=str(ledger.pools[name].cidr),
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
        result['tables'] = dict((name, ipam_ledger.table(ledger, name)) for name in names)
        if address not in (None, ''):
            result['holders'] = dict((name, ipam_ledger.holder(ledger, name, address)) for name in names)
            result['free'] = dict((name, ipam_ledger.is_free(ledger, name, address)) for name in names)
    return ledger, result
