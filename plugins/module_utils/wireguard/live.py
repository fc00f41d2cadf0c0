# -*- coding: utf-8 -*-
# Copyright: meshforge.vpn contributors
# GNU General Public License v3.0+ (see https://www.gnu.org/licenses/gpl-3.0.txt)
"""The live state of WireGuard as the kernel (or wireguard-go) holds it: ``wg show dump`` parsed, a peer's status
in the operators' shape, and one interface read whole (link, keys, peers, addresses, routes)."""

from __future__ import absolute_import, division, print_function

__metaclass__ = type

import time

from ansible_collections.meshforge.vpn.plugins.module_utils.wireguard.routing import route_table

CONNECTED_WITHIN = 180
"""A peer is connected when its latest handshake is at most this many seconds old (NebulaVPN's definition)."""

NO_DUMP = {'private_key': None, 'public_key': None, 'listen_port': 0, 'fwmark': 0, 'peers': {}}
"""What a link that ``wg`` cannot read (yet) has."""


def _none(value):
    return None if value in ('(none)', '') else value


def _interface_line(fields):
    return {
        'private_key': _none(fields[1]),
        'public_key': _none(fields[2]),
        'listen_port': int(fields[3]) if fields[3].isdigit() else 0,
        'fwmark': 0 if fields[4] == 'off' else int(fields[4], 0),
        'peers': {},
    }


def _peer_line(fields):
    allowed = _none(fields[4])
    return {
        'public_key': fields[1],
        'preshared_key': _none(fields[2]),
        'endpoint': _none(fields[3]),
        'allowed_ips': sorted(allowed.split(',')) if allowed else [],
        'latest_handshake': int(fields[5]),
        'transfer_rx': int(fields[6]),
        'transfer_tx': int(fields[7]),
        'persistent_keepalive': 0 if fields[8] == 'off' else int(fields[8]),
    }


def parse_dump(text, interface=None):
    """Parse ``wg show all dump`` (or ``wg show IFACE dump`` with ``interface`` given).

    Returns ``{ifname: {private_key, public_key, listen_port, fwmark, peers: {public_key: {...}}}}``.
    Interface lines have 5 fields and peer lines 9 in the ``all`` form (one less each with ``interface``).
    """
    result = {}
    for line in text.splitlines():
        if not line.strip():
            continue
        fields = line.split('\t')
        if interface is not None:
            fields.insert(0, interface)
        if len(fields) == 5:
            result[fields[0]] = _interface_line(fields)
        elif len(fields) == 9:
            result.setdefault(fields[0], {'peers': {}})['peers'][fields[1]] = _peer_line(fields)
        else:
            raise ValueError('unexpected line in wg show dump: %d fields' % len(fields))
    return result


def peer_status(peer, now=None):
    """The operator's view of one live peer, without its preshared key."""
    now = time.time() if now is None else now
    handshake = peer['latest_handshake']
    age = int(now - handshake) if handshake else None
    return {
        'public_key': peer['public_key'],
        'endpoint': peer['endpoint'],
        'allowed_ips': peer['allowed_ips'],
        'latest_handshake': handshake or None,
        'latest_handshake_age': age,
        'transfer_rx': peer['transfer_rx'],
        'transfer_tx': peer['transfer_tx'],
        'persistent_keepalive': peer['persistent_keepalive'],
        'preshared_key': peer['preshared_key'] is not None,
        'connected': age is not None and age <= CONNECTED_WITHIN,
    }


def read_interface(host, name, table, link_local=(), exit_table=None):
    """The interface as the kernel has it, or None when there is no such link; ``link_local`` are the link-local
    addresses that count (see WireGuardHost.addresses); ``exit_table``: the table of the default routes through an
    exit node, whose routes count too."""
    link = host.link(name)
    if link is None:
        return None
    dump = host.dump(name) or dict(NO_DUMP, peers={})
    return {
        'name': name,
        'implementation': link['implementation'],
        'up': link['up'],
        'mtu': link['mtu'],
        'addresses': host.addresses(name, link_local),
        'listen_port': dump['listen_port'],
        'fwmark': dump['fwmark'],
        'private_key_value': dump['private_key'],
        'public_key': dump['public_key'],
        'peers': dump['peers'],
        'routes': sorted(set(host.routes(name, route_table(table))
                             + (host.routes(name, exit_table) if exit_table else []))),
    }
