# -*- coding: utf-8 -*-
# Copyright: meshforge.vpn contributors
# GNU General Public License v3.0+ (see https://www.gnu.org/licenses/gpl-3.0.txt)
"""What a member must keep reaching outside the VPN: a prefix routed into the tunnel must not capture it.

A prefix in allowed IPs or in a routed subnet becomes a route through the VPN interface on every member that
does not serve it.  If it holds a peer's endpoint, the tunnel's own packets are sent into the tunnel; if it holds
the address Ansible reaches a member at, the controller loses the member in the middle of the run; if it overlaps
a network a member is connected to, the route through the tunnel takes that network's traffic.  So such a prefix
is refused on the controller, before any host is touched.

Pure functions.  The controller knows a member's endpoint and ``ansible_host`` from the inventory, and its
connected networks only from facts gathered earlier in the play (or a fact cache); what it does not know it
cannot check, and the host-side drivers check the live routes again.
"""

from __future__ import absolute_import, division, print_function

__metaclass__ = type

import ipaddress

from ansible_collections.meshforge.vpn.plugins.module_utils import validation as v


def ip_literal(value):
    """The address in ``value`` (an address, or an endpoint ``host:port`` / ``[v6]:port``), or None for a name."""
    if value in (None, ''):
        return None
    text = str(value).strip()
    if text.startswith('['):
        text = text[1:].split(']', 1)[0]
    elif text.count(':') == 1:
        text = text.split(':', 1)[0]
    try:
        return ipaddress.ip_address(text.split('%', 1)[0])
    except ValueError:
        return None


def connected_networks(facts, skip=()):
    """``[(interface, network)]`` from a host's gathered facts: the networks of its interfaces, not host routes."""
    found = []
    if not isinstance(facts, dict):
        return found
    for interface in facts.get('interfaces') or []:
        if interface == 'lo' or interface in skip:
            continue
        data = facts.get(str(interface).replace('-', '_'))
        if not isinstance(data, dict):
            continue
        entries = [data.get('ipv4')] + list(data.get('ipv4_secondaries') or []) + list(data.get('ipv6') or [])
        for entry in entries:
            if not isinstance(entry, dict) or not entry.get('address'):
                continue
            try:
                net = ipaddress.ip_interface('%s/%s' % (entry['address'], entry.get('prefix') or entry.get('netmask'))).network
            except ValueError:
                continue
            if net.prefixlen < net.max_prefixlen and not net.is_link_local:
                found.append((str(interface), net))
    return sorted(set(found), key=lambda item: (item[1].version, item[1], item[0]))


def describe_host(name, host, endpoint=None, skip_interfaces=()):
    """What the controller knows of a member's underlay, from its variables (a hostvars entry)."""
    host = host or {}
    return {
        'management': ip_literal(host.get('ansible_host') or name),
        'endpoint': ip_literal(endpoint),
        'connected': connected_networks(host.get('ansible_facts'), skip_interfaces),
    }


def check_prefix(field, prefix, hosts, gateways=(), overlay=False):
    """Refuse ``prefix`` if, routed into the VPN, it would capture what a member reaches outside it.

    ``hosts``: ``{member: describe_host(...)}``.  ``gateways``: the members behind which ``prefix`` sits; they do
    not route it into the tunnel, and their own management address and networks may be in it (a LAN managed from
    inside).  ``overlay``: ``prefix`` is the VPN's own network, where a member may well be managed over the VPN.
    Raises ValidationError naming ``field``.
    """
    for name in sorted(hosts):
        host = hosts[name]
        endpoint = host.get('endpoint')
        if endpoint is not None and endpoint.version == prefix.version and endpoint in prefix:
            raise v.ValidationError(field, '%s contains the endpoint of %s (%s), an underlay address: its peers '
                                    'would send the tunnel\'s own packets into the tunnel' % (prefix, name, endpoint))
        if name in gateways:
            continue
        management = host.get('management')
        if (not overlay and management is not None and management.version == prefix.version
                and management in prefix):
            raise v.ValidationError(field, '%s contains the address Ansible reaches %s at (%s), an underlay '
                                    'address: the management connection would be routed into the tunnel'
                                    % (prefix, name, management))
        for interface, net in host.get('connected') or []:
            if net.version == prefix.version and net.overlaps(prefix):
                raise v.ValidationError(field, '%s overlaps %s\'s connected network %s (%s), underlay: its route '
                                        'through the tunnel would take that network\'s traffic'
                                        % (prefix, name, net, interface))
