# -*- coding: utf-8 -*-
# Copyright: meshforge.vpn contributors
# GNU General Public License v3.0+ (see https://www.gnu.org/licenses/gpl-3.0.txt)
"""Host-anchored storage: what each host records of the addresses it holds, merged into the ledger.

A host keeps ``{pool: address}`` in a local fact (``module_utils.local_facts``, written by ``ipam_record``).  A
controller without the ledger file rebuilds it from those records, and an address a live host claims is never given
to another host.  Pure functions over plain data.
"""

from __future__ import absolute_import, division, print_function

__metaclass__ = type

import ipaddress

from ansible_collections.meshforge.vpn.plugins.module_utils import validation as v
from ansible_collections.meshforge.vpn.plugins.module_utils.validation import ValidationError
from ansible_collections.meshforge.vpn.plugins.plugin_utils.ipam.ledger import Ledger


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


def plain_records(records):
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


def split_stale(ledger, records):
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


def usable_hints(ledger, hints):
    """The hints (``{host: {pool: address}}``, what hosts are believed to hold, e.g. from the mesh registry) that the
    ledger has nothing to say against: pools it has, hosts it gives no address there, addresses nobody holds.  The
    ledger wins over a hint, so a hint older than the ledger (an interrupted run) is never a conflict."""
    usable = {}
    for host, record in sorted(plain_records(hints).items()):
        for pool, address in sorted((record or {}).items()):
            held = ledger.allocations.get(pool)
            if held is None or host in held or not address:
                continue
            if str(ipaddress.ip_address(str(address))) in set(held.values()) or ledger.pools[pool].problem(
                    ipaddress.ip_address(str(address))):
                continue
            usable.setdefault(host, {})[pool] = str(address)
    return usable
