# -*- coding: utf-8 -*-
# Copyright: meshforge.vpn contributors
# GNU General Public License v3.0+ (see https://www.gnu.org/licenses/gpl-3.0.txt)
"""Set elements in canonical text (the form ``nft -j`` gives back), so the same element always compares equal and
nothing a user writes can break out of the line it is rendered into."""

from __future__ import absolute_import, division, print_function

__metaclass__ = type

import ipaddress
import re

from ansible_collections.meshforge.vpn.plugins.module_utils import validation as v

FAMILIES = ('inet', 'ip', 'ip6', 'arp', 'bridge', 'netdev')
ADDRESS_TYPES = {'ipv4_addr': 4, 'ipv6_addr': 6}
SET_TYPES = ('ipv4_addr', 'ipv6_addr', 'inet_service', 'ether_addr', 'ifname', 'mark')
SET_FLAGS = ('interval', 'constant', 'timeout', 'dynamic')
ETHER_RE = re.compile(r'\A[0-9a-fA-F]{2}(:[0-9a-fA-F]{2}){5}\Z')


def nft_name(field, value):
    return v.nft_identifier(field, value)


def family(field, value):
    value = str(value or 'inet')
    if value not in FAMILIES:
        raise v.ValidationError(field, '%r is not an nftables family (%s)' % (value, ', '.join(FAMILIES)))
    return value


def address_part(field, text, version, interval):
    text = text.strip()
    if '-' in text:
        low, high = (v.address(field, t) for t in text.split('-', 1))
        if low.version != version or high.version != version:
            raise v.ValidationError(field, '%r is not an IPv%d range' % (text, version))
        if low > high:
            raise v.ValidationError(field, '%r: the range ends before it starts' % text)
        if not interval:
            raise v.ValidationError(field, '%r is a range; the set needs flags interval' % text)
        nets = list(ipaddress.summarize_address_range(low, high))
        if len(nets) == 1:
            return prefix_text(nets[0])
        return '%s-%s' % (low, high)
    if '/' in text:
        net = v.network(field, text)
        if net.version != version:
            raise v.ValidationError(field, '%r is not an IPv%d prefix' % (text, version))
        if net.prefixlen != net.max_prefixlen and not interval:
            raise v.ValidationError(field, '%r is a prefix; the set needs flags interval' % text)
        return prefix_text(net)
    addr = v.address(field, text)
    if addr.version != version:
        raise v.ValidationError(field, '%r is not an IPv%d address' % (text, version))
    return str(addr)


def prefix_text(net):
    return str(net.network_address) if net.prefixlen == net.max_prefixlen else str(net)


def port_range(field, value, interval=True):
    """A port or ``low-high``, canonical (a one-port range is the port)."""
    if isinstance(value, int) and not isinstance(value, bool):
        return str(v.port(field, value))
    text = str(value).strip()
    if '-' in text:
        low, high = (v.port(field, t) for t in text.split('-', 1))
        if low > high:
            raise v.ValidationError(field, '%r: the range ends before it starts' % text)
        if low == high:
            return str(low)
        if not interval:
            raise v.ValidationError(field, '%r is a range; the set needs flags interval' % text)
        return '%d-%d' % (low, high)
    return str(v.port(field, text))


def element_part(field, value, kind, interval):
    """One value of a set element (one part of a concatenation) in canonical text."""
    if kind in ADDRESS_TYPES:
        return address_part(field, str(value), ADDRESS_TYPES[kind], interval)
    if kind == 'inet_service':
        return port_range(field, value, interval)
    if kind == 'ether_addr':
        text = str(value).strip()
        if not ETHER_RE.match(text):
            raise v.ValidationError(field, '%r is not a MAC address' % text)
        return text.lower()
    if kind == 'ifname':
        return v.interface_name(field, str(value).strip().strip('"'))
    if kind == 'mark':
        return str(v.fwmark(field, value))
    raise v.ValidationError(field, 'sets of type %s are not supported (%s)' % (kind, ', '.join(SET_TYPES)))


def element(field, value, kinds, interval):
    """A set element in canonical text: parts joined by `` . `` for concatenated types."""
    if isinstance(value, (list, tuple)):
        parts = list(value)
    elif len(kinds) > 1:
        parts = str(value).split(' . ')
    else:
        parts = [value]
    if len(parts) != len(kinds):
        raise v.ValidationError(field, '%r has %d parts; the set holds %s' % (value, len(parts), ' . '.join(kinds)))
    return ' . '.join(element_part(field, p, k, interval) for p, k in zip(parts, kinds))


def elements(field, values, kinds, interval):
    """Canonical, de-duplicated, sorted elements; those of an interval set must not overlap."""
    if values is None:
        return []
    if not isinstance(values, (list, tuple)):
        raise v.ValidationError(field, 'must be a list of elements')
    result = sorted(set(element('%s[%d]' % (field, i), value, kinds, interval) for i, value in enumerate(values)),
                    key=element_sort_key)
    if interval:
        check_overlaps(field, result, [], kinds)
    return result


def _span(part, kind):
    """What one part of an element covers: ``(low, high)`` for addresses and ports, the text itself otherwise."""
    if kind in ADDRESS_TYPES:
        if '-' in part:
            low, high = part.split('-', 1)
            return int(ipaddress.ip_address(low)), int(ipaddress.ip_address(high))
        net = ipaddress.ip_network(part)
        return int(net.network_address), int(net.broadcast_address)
    if kind == 'inet_service':
        low, high = (part.split('-', 1) + [part])[:2]
        return int(low), int(high)
    return part, part


def _overlap(a, b, kinds):
    return all(x[0] <= y[1] and y[0] <= x[1] if isinstance(x[0], int) else x == y
               for x, y in zip(*[[_span(p, k) for p, k in zip(e.split(' . '), kinds)] for e in (a, b)]))


def check_overlaps(field, texts, kept, kinds):
    """Refuse elements of an interval set that overlap one another or one of ``kept`` (already in the set).

    nft refuses such a batch with an error that names no element; said here, before nft runs, it names both.
    """
    for i, text in enumerate(texts):
        for other in texts[i + 1:]:
            if _overlap(text, other, kinds):
                raise v.ValidationError(field, '%s overlaps %s; an interval set cannot hold both (merge them into one '
                                        'element)' % (text, other))
        for other in kept:
            if other != text and _overlap(text, other, kinds):
                raise v.ValidationError(field, '%s overlaps %s, already in the set; remove that one in the same '
                                        'change (exclusive) or merge them' % (text, other))


def element_sort_key(text):
    keys = []
    for part in text.split(' . '):
        first = part.split('-', 1)[0].split('/', 1)[0]
        try:
            addr = ipaddress.ip_address(first)
            keys.append((1, addr.version, int(addr), part))
        except ValueError:
            keys.append((0, 0, int(first) if first.isdigit() else 0, part))
    return keys


def render_element(text, kinds):
    """nft text of a canonical element: interface names quoted, everything else as is."""
    return ' . '.join('"%s"' % part if kind == 'ifname' else part for part, kind in zip(text.split(' . '), kinds))
