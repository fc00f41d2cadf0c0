# -*- coding: utf-8 -*-
# Copyright: meshforge.vpn contributors
# GNU General Public License v3.0+ (see https://www.gnu.org/licenses/gpl-3.0.txt)
"""Overlay address choice for a mesh: the one function the roles call, so the allocator behind it can change."""

from __future__ import absolute_import, division, print_function

__metaclass__ = type

import hashlib
import ipaddress

from ansible_collections.meshforge.vpn.plugins.module_utils.validation import ValidationError


def name_slot(name, size):
    """Where a name starts probing in a range of ``size`` addresses: a hash, so no order matters."""
    digest = hashlib.sha256(name.encode('utf-8')).digest()
    return int.from_bytes(digest[:16], 'big') % size


def choose_addresses(names, network, pins, pin_field='address of %s', pool_field='network'):
    """Give every name one host address of ``network``.

    ``pins`` maps names to explicit addresses; they are checked (inside the
    network, not reserved, not shared) and kept.  Every other name gets an
    address derived from a hash of its name, probing upwards past taken ones,
    so the result depends neither on the order of ``names`` nor on forks or
    ``--limit``.  Names are placed in order of (hash slot, name), so two names
    that hash to the same slot always resolve the same way.
    """
    network = ipaddress.ip_network(network)
    first = 1
    last = network.num_addresses - (2 if network.version == 4 and network.prefixlen < 31 else 1)
    if network.prefixlen >= network.max_prefixlen - 1:
        first, last = 0, network.num_addresses - 1
    size = last - first + 1
    taken = {}
    result = {}
    for name in sorted(pins):
        address = ipaddress.ip_address(pins[name])
        where = pin_field % name
        if address not in network:
            raise ValidationError(where, '%s is outside the network %s' % (address, network))
        offset = int(address) - int(network.network_address)
        if not first <= offset <= last:
            raise ValidationError(where, '%s is reserved in %s (network or broadcast address)' % (address, network))
        if address in taken:
            raise ValidationError(where, '%s is already the address of %s' % (address, taken[address]))
        taken[address] = name
        result[name] = address
    free = sorted((n for n in set(names) if n not in pins), key=lambda n: (name_slot(n, size), n))
    if len(free) + len(taken) > size:
        raise ValidationError(pool_field, 'network %s has %d host addresses; %d hosts need one'
                              % (network, size, len(free) + len(taken)))
    for name in free:
        offset = name_slot(name, size)
        while True:
            address = network.network_address + first + offset
            if address not in taken:
                break
            offset = (offset + 1) % size
        taken[address] = name
        result[name] = address
    return result
