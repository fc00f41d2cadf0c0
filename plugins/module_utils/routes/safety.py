# -*- coding: utf-8 -*-
# Copyright: meshforge.vpn contributors
# GNU General Public License v3.0+ (see https://www.gnu.org/licenses/gpl-3.0.txt)
"""Safety of a route before it is added: it must not replace a route another owner holds, nor capture the traffic
that keeps this host reachable (the management SSH connection, a peer's endpoint, a connected network)."""

from __future__ import absolute_import, division, print_function

__metaclass__ = type

import ipaddress
import os

from ansible_collections.meshforge.vpn.plugins.module_utils import validation as v
from ansible_collections.meshforge.vpn.plugins.module_utils.routes.model import describe, key

# A route is checked against the live table before it is added or changed: it must not replace a route another
# owner holds, and it must not capture the traffic that keeps this host reachable.


def management_connection(environ=None, proc='/proc', pid=None):
    """The SSH connection this module came through (client, port, server, port), or None.

    ``SSH_CONNECTION`` is in the environment of the SSH session; ``become``
    (sudo) resets the environment, so the parents' environments are read too.
    """
    values = [(environ if environ is not None else os.environ).get('SSH_CONNECTION')]
    pid = os.getpid() if pid is None else pid
    for dummy in range(32):
        try:
            with open('%s/%d/stat' % (proc, pid)) as handle:
                pid = int(handle.read().rsplit(')', 1)[1].split()[1])
            if pid <= 1:
                break
            with open('%s/%d/environ' % (proc, pid), 'rb') as handle:
                for entry in handle.read().split(b'\0'):
                    if entry.startswith(b'SSH_CONNECTION='):
                        values.append(entry.split(b'=', 1)[1].decode('ascii', 'replace'))
        except (IOError, OSError, ValueError, IndexError):
            break
    for value in values:
        parsed = parse_ssh_connection(value)
        if parsed:
            return parsed
    return None


def parse_ssh_connection(value):
    words = (value or '').split()
    if len(words) != 4:
        return None
    try:
        client, server = (ipaddress.ip_address(w.split('%', 1)[0]) for w in (words[0], words[2]))
        client_port, server_port = int(words[1]), int(words[3])
    except ValueError:
        return None
    if client.version == 6 and client.ipv4_mapped:
        client, server = client.ipv4_mapped, server.ipv4_mapped or server
    return {'client': str(client), 'client_port': client_port, 'server': str(server), 'server_port': server_port}


def _net(text):
    return ipaddress.ip_network(text, strict=False)


def same_path(route, live):
    """True when ``route`` sends traffic where ``live`` already does (same device, and same gateway if it names one)."""
    return ((route.get('dev') is None or route['dev'] == live['dev'])
            and (route.get('gateway') is None or route['gateway'] == live['gateway']))


def best_route(table_routes, target, skip):
    """The route of one table the kernel uses for the prefix ``target``: the longest prefix containing it, then the
    lowest metric; routes keyed in ``skip`` (the one about to be replaced) do not count."""
    best = None
    for live in table_routes:
        net = _net(live['dst'])
        if net.version != target.version or not target.subnet_of(net) or key(live) in skip:
            continue
        if best is None or (net.prefixlen, -live['metric']) > (_net(best['dst']).prefixlen, -best['metric']):
            best = live
    return best


def protected(table_routes, connection, endpoints, owned):
    """``(prefix, what)`` a new route must not capture: the management connection's client, the peers' endpoints,
    and the networks connected to the host's interfaces (routes the kernel made for their addresses, or of scope link:
    reached on the device itself, with no gateway) except the caller's own routes (``owned`` keys), which it may move."""
    found = []
    if connection:
        found.append((_net(connection['client']), 'the management connection from %s' % connection['client']))
    found += [(_net(addr), 'the peer endpoint %s' % addr) for addr in endpoints]
    found += [(_net(r['dst']), 'the network %s connected to %s' % (r['dst'], r['dev'])) for r in table_routes
              if (r['protocol'] == 'kernel' or r['scope'] == 'link') and key(r) not in owned]
    return found


def refusal(route, table_routes, owned, guarded, names=None):
    """Why ``route`` must not be added to its table (whose live routes are ``table_routes``), or None.

    Capture: the route contains a guarded prefix and would win the kernel's lookup for it (longer prefix, or as
    long with a metric as low) over a route that now sends it another way.  ``owned`` are the keys of routes
    the caller owns and may replace.
    """
    new = _net(route['dst'])
    captured = []
    for target, what in guarded:
        if target.version != new.version or not target.subnet_of(new):
            continue
        current = best_route(table_routes, target, set([key(route)]) & set(owned))
        if current is None or same_path(route, current):
            continue
        length = _net(current['dst']).prefixlen
        if new.prefixlen > length or (new.prefixlen == length and route['metric'] <= current['metric']):
            captured.append('%s (now by %s, proto %s)' % (what, describe(current, names), current['protocol']))
    if captured:
        return ('%s would capture %s; a route must not take away what keeps this host and its tunnels reachable'
                % (describe(route, names), ', '.join(captured)))
    for live in table_routes:
        if key(live) == key(route) and key(live) not in owned:
            return ('%s: the kernel already has this destination, table and metric from another owner (%s, '
                    'proto %s); it is never replaced: remove that route or give this one another metric'
                    % (route['dst'], describe(live, names), live['protocol']))
    return None


def check_routes(host, fields_routes, owned, connection, endpoints=(), names=None):
    """Refuse, before anything changes, the first of ``(field, route)`` that would replace another owner's route or
    capture the management connection, a peer's endpoint or a connected network; each table is read once."""
    tables = {}
    for field, route in fields_routes:
        family = _net(route['dst']).version
        if (family, route['table']) not in tables:
            live = host.table(family, route['table'], names)
            tables[(family, route['table'])] = (live, protected(live, connection, endpoints, owned))
        live, guarded = tables[(family, route['table'])]
        problem = refusal(route, live, owned, guarded, names)
        if problem:
            raise v.ValidationError(field, problem)
