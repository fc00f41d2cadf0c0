# -*- coding: utf-8 -*-
# Copyright: meshforge.vpn contributors
# GNU General Public License v3.0+ (see https://www.gnu.org/licenses/gpl-3.0.txt)
"""Peer endpoints: a DNS name matches any of its addresses, and the addresses peers are reached at (configured or
roamed to) are what a route must never capture."""

from __future__ import absolute_import, division, print_function

__metaclass__ = type

import ipaddress
import socket


def resolve_name(host, port):
    """The addresses ``host`` resolves to on this host (none when it does not resolve)."""
    try:
        return set(info[4][0] for info in socket.getaddrinfo(host, port, 0, socket.SOCK_DGRAM))
    except socket.gaierror:
        return set()


def _split(endpoint):
    host, port = endpoint.rsplit(':', 1)
    return host.strip('[]'), port


def _is_address(text):
    try:
        ipaddress.ip_address(text)
        return True
    except ValueError:
        return False


def endpoint_matches(desired, live, resolve=None):
    """True when the live endpoint is the desired one (a DNS name matches any of its addresses)."""
    if desired is None:
        return True
    if live is None:
        return False
    if desired == live:
        return True
    host, port = _split(desired)
    live_host, live_port = _split(live)
    if port != live_port or _is_address(host):
        return False
    return live_host in (resolve or resolve_name)(host, int(port))


def endpoint_addresses(desired, live, resolve=None):
    """The addresses the peers are reached at: configured (a DNS name resolved) and, for roamed peers, live."""
    found = set()
    live_peers = live['peers'] if live else {}
    for peer in desired['peers']:
        endpoints = [peer['endpoint'], (live_peers.get(peer['public_key']) or {}).get('endpoint')]
        for endpoint in [e for e in endpoints if e]:
            host, port = _split(endpoint)
            if _is_address(host):
                found.add(str(ipaddress.ip_address(host)))
            else:
                found |= set(a.split('%', 1)[0] for a in (resolve or resolve_name)(host, int(port)))
    return sorted(found)
