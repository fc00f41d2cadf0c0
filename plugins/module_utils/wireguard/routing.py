# -*- coding: utf-8 -*-
# Copyright: meshforge.vpn contributors
# GNU General Public License v3.0+ (see https://www.gnu.org/licenses/gpl-3.0.txt)
"""The routes into a WireGuard interface: which allowed IPs get one, in which table, with which tag, and the check
that refuses a route that would capture the management connection, a peer's endpoint or a connected network."""

from __future__ import absolute_import, division, print_function

__metaclass__ = type

import ipaddress

from ansible_collections.meshforge.vpn.plugins.module_utils.routes import model as rt
from ansible_collections.meshforge.vpn.plugins.module_utils.routes.safety import check_routes as check_live_routes

ROUTE_PROTOCOL = rt.PROTOCOL_WIREGUARD
"""Routes this module adds for allowed IPs carry this protocol number, so only they are ever removed."""


def route_table(table):
    """The kernel routing table behind the ``table`` option (``off`` still names where old routes are)."""
    return 'main' if table in ('auto', 'off') else table


def route(prefix, name, table):
    """A route into the interface in the shape of module_utils/routes."""
    return {'dst': prefix, 'dev': name, 'table': route_table(table)}


def prefix_table(desired, prefix):
    """The table of the route to ``prefix``: a default route through an exit node goes into ``exit_routing``'s
    table (the policy rules send traffic there), every other route into the interface's table."""
    if desired.get('exit_routing') and ipaddress.ip_network(prefix).prefixlen == 0:
        return desired['exit_routing']['table']
    return desired['table']


def desired_route(desired, prefix, name=None):
    """The route into the interface (``name``: as wg-quick's ``%i``) for ``prefix``."""
    return route(prefix, name or desired['name'], prefix_table(desired, prefix))


def wanted_routes(desired):
    """Prefixes to route into the interface: allowed IPs not already covered by the interface's own prefixes."""
    if desired['table'] == 'off':
        return []
    connected = [ipaddress.ip_interface(a).network for a in desired['addresses']]
    routes = set()
    for peer in desired['peers']:
        for prefix in peer['allowed_ips']:
            net = ipaddress.ip_network(prefix)
            if not any(net.version == c.version and net.subnet_of(c) for c in connected):
                routes.add(str(net))
    return sorted(routes, key=lambda r: (ipaddress.ip_network(r).version, ipaddress.ip_network(r)))


def check_routes(host, desired, live, prefixes, connection, endpoints):
    """Refuse routes to allowed IPs that would replace another owner's route or capture the management
    connection, a peer's endpoint (``endpoints``) or a connected network (see routes.safety.check_routes)."""
    fields = {}
    for index, peer in enumerate(desired['peers']):
        for prefix in peer['allowed_ips']:
            fields.setdefault(prefix, 'peers[%d].allowed_ips' % index)

    def full_route(prefix):
        family = ipaddress.ip_network(prefix).version
        table = route_table(prefix_table(desired, prefix))
        return {'dst': prefix, 'dev': desired['name'], 'gateway': None, 'src': None,
                'table': rt.BUILTIN_TABLES['main'] if table == 'main' else int(table),
                'metric': rt.DEFAULT_METRIC[family]}

    owned = [rt.key(full_route(prefix)) for prefix in (live['routes'] if live else [])]
    check_live_routes(host, [(fields[p], full_route(p)) for p in prefixes], owned, connection, endpoints)
