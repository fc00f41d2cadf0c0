# -*- coding: utf-8 -*-
# Copyright: meshforge.vpn contributors
# GNU General Public License v3.0+ (see https://www.gnu.org/licenses/gpl-3.0.txt)
"""Which firewall rules and routes land on which host: the policy compiler.

Pure functions, run on the controller.  Groups (inventory groups or named
lists) become nftables sets of overlay addresses; policies (source groups,
destination groups, protocol, ports, bidirectional, accept or drop) become
each destination host's inbound rules on the VPN interface; routed subnets
become forwarding and masquerade rules on their gateways and routes with
metrics on the other members.  The result per host is the description
meshforge.vpn.nft_table takes and the route list meshforge.vpn.route takes.

Semantics, so that the result does not depend on the order of anything:
drop policies come before accept policies (a drop wins over an accept for
the same traffic); once any policy exists, what no policy accepts is dropped
on the VPN interface; replies (established, related) and ICMPv6 neighbour
discovery always pass.
"""

from __future__ import absolute_import, division, print_function

__metaclass__ = type

import ipaddress
import re

from ansible_collections.meshforge.vpn.plugins.module_utils import validation as v
from ansible_collections.meshforge.vpn.plugins.module_utils.nftables.elements import port_range
from ansible_collections.meshforge.vpn.plugins.module_utils.nftables.render import render_table
from ansible_collections.meshforge.vpn.plugins.module_utils.nftables.table import normalize_table
from ansible_collections.meshforge.vpn.plugins.plugin_utils import underlay as underlay_check

PROTOCOLS = ('all', 'tcp', 'udp', 'icmp')
ACTIONS = ('accept', 'drop')
POLICY_KEYS = ('name', 'sources', 'destinations', 'protocol', 'ports', 'bidirectional', 'action')
ALL = 'all'
ND_TYPES = ['nd-neighbor-solicit', 'nd-neighbor-advert', 'nd-router-solicit', 'nd-router-advert']
INPUT_CHAIN, VPN_CHAIN, FORWARD_CHAIN, NAT_CHAIN = 'input', 'vpn_in', 'forward', 'postrouting'
DEFAULT_METRIC = 100
# wireguard: the interface chooses the peer by destination, so one prefix has one gateway;
# routed: a link where a route's next hop chooses the gateway (Ethernet, IPsec VTI/xfrm, GRE, ...).
INTERFACE_KINDS = ('wireguard', 'routed')


def host_addresses(name, value):
    """A member's overlay addresses from a list, a string, or a plan with ``addresses``."""
    if isinstance(value, dict):
        value = value.get('addresses') or []
    if isinstance(value, str):
        value = [value]
    field = 'addresses[%s]' % name
    found = []
    for i, item in enumerate(value or []):
        text = str(item).strip()
        found.append(v.interface_address('%s[%d]' % (field, i), text).ip if '/' in text
                     else v.address('%s[%d]' % (field, i), text))
    return found


def expand_groups(members, inventory_groups, named_groups, addresses):
    """``{group: {4: [elements], 6: [elements]}}``: each group's overlay addresses and literal prefixes.

    Inventory groups may hold hosts outside the VPN, which have no overlay
    address and are left out; a named list is written for the policy, so a
    name in it that is neither a member nor an address is an error.
    """
    groups = {}
    sources = [(name, items, False) for name, items in sorted((inventory_groups or {}).items())]
    sources += [(name, items, True) for name, items in sorted((named_groups or {}).items())]
    for name, items, strict in sources:
        field = ('groups.%s' if strict else 'inventory group %s') % name
        if isinstance(items, str) or not isinstance(items, (list, tuple)):
            raise v.ValidationError(field, 'must be a list of hosts, addresses or prefixes')
        found = {4: set(), 6: set()}
        for i, item in enumerate(items):
            item = str(item).strip()
            if item in addresses:
                for addr in addresses[item]:
                    found[addr.version].add(ipaddress.ip_network(addr))
                continue
            try:
                net = ipaddress.ip_network(item, strict=True)
            except ValueError:
                if strict:
                    raise v.ValidationError('%s[%d]' % (field, i), '%r is neither a member with an overlay address '
                                            'nor an address or prefix' % item)
                continue
            found[net.version].add(net)
        groups[name] = dict((fam, [_prefix(n) for n in sorted(found[fam])]) for fam in (4, 6))
    if ALL not in groups:
        everyone = {4: set(), 6: set()}
        for name in members:
            for addr in addresses.get(name, []):
                everyone[addr.version].add(ipaddress.ip_network(addr))
        groups[ALL] = dict((fam, [_prefix(n) for n in sorted(everyone[fam])]) for fam in (4, 6))
    return groups


def _prefix(net):
    return str(net.network_address) if net.prefixlen == net.max_prefixlen else str(net)


def group_hosts(members, inventory_groups, named_groups):
    """``{group: set(member names)}``, to know which hosts a policy's destinations are."""
    result = {}
    for source in (inventory_groups or {}, named_groups or {}):
        for name, items in source.items():
            result[name] = set(str(i) for i in items or [] if str(i) in members)
    result.setdefault(ALL, set(members))
    return result


def normalize_policy(index, raw, groups):
    field = 'policies[%d]' % index
    if not isinstance(raw, dict):
        raise v.ValidationError(field, 'must be a dict')
    unknown = sorted(set(raw) - set(POLICY_KEYS))
    if unknown:
        raise v.ValidationError(field, 'unknown keys %s' % ', '.join(unknown))
    policy = {'name': v.config_value(field + '.name', raw['name'], 64) if raw.get('name') else 'policy %d' % index}
    for key in ('sources', 'destinations'):
        items = raw.get(key)
        if isinstance(items, str):
            items = [items]
        if not items:
            raise v.ValidationError('%s.%s' % (field, key), 'needs at least one group')
        for i, group in enumerate(items):
            if group not in groups:
                raise v.ValidationError('%s.%s[%d]' % (field, key, i), 'unknown group %r' % (group,))
            v.nft_identifier('%s.%s[%d]' % (field, key, i), group)
        policy[key] = sorted(set(items))
    protocol = raw.get('protocol') or 'all'
    if protocol not in PROTOCOLS:
        raise v.ValidationError(field + '.protocol', '%r is not one of %s' % (protocol, ', '.join(PROTOCOLS)))
    policy['protocol'] = protocol
    ports = raw.get('ports') or []
    if not isinstance(ports, (list, tuple)):
        ports = [ports]
    if ports and protocol not in ('tcp', 'udp'):
        raise v.ValidationError(field + '.ports', 'ports need protocol tcp or udp, not %s' % protocol)
    policy['ports'] = sorted(set(port_range('%s.ports[%d]' % (field, i), p) for i, p in enumerate(ports)),
                             key=lambda p: int(p.split('-')[0]))
    action = raw.get('action') or 'accept'
    if action not in ACTIONS:
        raise v.ValidationError(field + '.action', '%r is not accept or drop' % action)
    policy['action'] = action
    bidirectional = raw.get('bidirectional', False)
    if not isinstance(bidirectional, bool):
        raise v.ValidationError(field + '.bidirectional', 'must be true or false')
    policy['bidirectional'] = bidirectional
    return policy


def set_name(group, family):
    return 'g_%s_v%d' % (group, family)


def _policy_rules(policy, sources, groups, used_sets):
    """The inbound rules of one policy from its ``sources`` groups, IPv4 then IPv6."""
    rules = []
    for family in (4, 6):
        for group in sources:
            if not groups[group][family]:
                continue
            used_sets.add((group, family))
            rule = {'saddr': '@' + set_name(group, family), 'action': policy['action'], 'comment': policy['name']}
            if policy['protocol'] == 'icmp':
                rule['protocol'] = 'icmp' if family == 4 else 'icmpv6'
            elif policy['protocol'] in ('tcp', 'udp'):
                rule['protocol'] = policy['protocol']
                if policy['ports']:
                    rule['dport'] = list(policy['ports'])
            rules.append(rule)
    return rules


def normalize_routed(index, raw, members, addresses):
    field = 'routed_subnets[%d]' % index
    if not isinstance(raw, dict):
        raise v.ValidationError(field, 'must be a dict')
    gateway = raw.get('gateway')
    if gateway not in members:
        raise v.ValidationError(field + '.gateway', '%r is not a member' % (gateway,))
    subnets = raw.get('subnets')
    if isinstance(subnets, str):
        subnets = [subnets]
    if not subnets:
        raise v.ValidationError(field + '.subnets', 'needs at least one prefix')
    return {
        'gateway': gateway,
        'subnets': [v.prefix('%s.subnets[%d]' % (field, i), s) for i, s in enumerate(subnets)],
        'lan_interface': v.interface_name(field + '.lan_interface', raw.get('lan_interface')),
        'masquerade': bool(raw.get('masquerade', False)),
        'metric': v.integer(field + '.metric', raw['metric'] if raw.get('metric') is not None else DEFAULT_METRIC,
                            0, 0xffffffff),
        'sources': raw.get('sources') or [ALL],
        'field': field,
    }


def compile_policy(members, settings, inventory_groups=None, addresses=None, underlay=None):
    """Each member's nftables table and routes: ``{host: {'table': {...}, 'routes': [...]}}``.

    ``underlay``: what the controller knows of each member outside the VPN (``underlay.describe_host``); a routed
    subnet that would capture it is refused.
    """
    settings = settings or {}
    members = sorted(set(members))
    interface = v.interface_name('interface', settings.get('interface') or 'wg0')
    table = v.nft_identifier('table', settings.get('table') or 'meshforge')
    addresses = dict((name, host_addresses(name, (addresses or {}).get(name))) for name in members)
    named = settings.get('groups') or {}
    if not isinstance(named, dict):
        raise v.ValidationError('groups', 'must be a mapping of group name to a list of hosts, addresses or prefixes')
    for name in sorted(named, key=str):
        # a group's name becomes the name of its sets, even before a policy uses it
        v.nft_identifier('groups.%s' % name, name)
    groups = expand_groups(members, inventory_groups, named, addresses)
    hosts_of = group_hosts(members, inventory_groups, named)
    raw_policies = settings.get('policies') or []
    if not isinstance(raw_policies, (list, tuple)):
        raise v.ValidationError('policies', 'must be a list')
    policies = [normalize_policy(i, p, groups) for i, p in enumerate(raw_policies)]
    routed = [normalize_routed(i, r, members, addresses) for i, r in enumerate(settings.get('routed_subnets') or [])]
    for entry in routed:
        for i, group in enumerate(entry['sources']):
            if group not in groups:
                raise v.ValidationError('%s.sources[%d]' % (entry['field'], i), 'unknown group %r' % (group,))
    kind = settings.get('interface_kind') or 'wireguard'
    if kind not in INTERFACE_KINDS:
        raise v.ValidationError('interface_kind', '%r is not one of %s' % (kind, ', '.join(INTERFACE_KINDS)))
    extra_rules = settings.get('extra_rules') or []
    if not isinstance(extra_rules, (list, tuple)) or not all(isinstance(r, dict) for r in extra_rules):
        raise v.ValidationError('extra_rules', 'must be a list of rules (dicts, as meshforge.vpn.nft_table takes)')
    routes = _routes(routed, addresses, interface, kind)
    _check_underlay(routed, underlay or {})
    plans = {}
    for host in members:
        used_sets = set()
        inbound = {'drop': [], 'accept': []}
        for policy in policies:
            directions = []
            if host in _hosts(policy['destinations'], hosts_of):
                directions.append(policy['sources'])
            if policy['bidirectional'] and host in _hosts(policy['sources'], hosts_of):
                directions.append(policy['destinations'])
            for sources in directions:
                inbound[policy['action']] += _policy_rules(policy, sources, groups, used_sets)
        vpn_rules = [{'protocol': 'icmpv6', 'icmpv6_type': list(ND_TYPES), 'action': 'accept',
                      'comment': 'neighbour discovery'},
                     {'ct_state': ['established', 'related'], 'action': 'accept', 'comment': 'replies'}]
        if policies:
            vpn_rules.append({'ct_state': ['invalid'], 'action': 'drop', 'comment': 'invalid'})
        vpn_rules += _unique(inbound['drop'] + inbound['accept'])
        vpn_rules += [dict(rule) for rule in extra_rules]
        if policies:
            vpn_rules.append({'action': 'drop', 'comment': 'default deny on %s' % interface})
        chains = [{'name': INPUT_CHAIN, 'type': 'filter', 'hook': 'input', 'priority': 0, 'policy': 'accept',
                   'rules': [{'iifname': interface, 'action': 'jump', 'target': VPN_CHAIN}]},
                  {'name': VPN_CHAIN, 'rules': vpn_rules}]
        forward, nat = [], []
        for entry in routed:
            if entry['gateway'] != host:
                continue
            lan = entry['lan_interface']
            for family in (4, 6):
                subnets = [str(s) for s in entry['subnets'] if s.version == family]
                if not subnets:
                    continue
                for group in entry['sources']:
                    if groups[group][family]:
                        used_sets.add((group, family))
                        forward.append({'iifname': interface, 'oifname': lan, 'saddr': '@' + set_name(group, family),
                                        'daddr': subnets, 'action': 'accept', 'comment': 'VPN to %s' % lan})
            forward.append({'iifname': lan, 'oifname': interface, 'ct_state': ['established', 'related'],
                            'action': 'accept', 'comment': 'replies from %s' % lan})
            forward.append({'iifname': interface, 'oifname': lan, 'action': 'drop',
                            'comment': 'default deny %s to %s' % (interface, lan)})
            if entry['masquerade']:
                nat.append({'iifname': interface, 'oifname': lan, 'action': 'masquerade',
                            'comment': 'masquerade VPN into %s' % lan})
        if forward:
            chains.append({'name': FORWARD_CHAIN, 'type': 'filter', 'hook': 'forward', 'priority': 0,
                           'policy': 'accept', 'rules': _unique(forward)})
        if nat:
            chains.append({'name': NAT_CHAIN, 'type': 'nat', 'hook': 'postrouting', 'priority': 100,
                           'policy': 'accept', 'rules': _unique(nat)})
        sets = [{'name': set_name(group, family), 'type': 'ipv4_addr' if family == 4 else 'ipv6_addr',
                 'flags': ['interval'], 'elements': list(groups[group][family])}
                for group, family in sorted(used_sets)]
        plans[host] = {'table': {'family': 'inet', 'name': table, 'sets': sets, 'chains': chains},
                       'routes': routes.get(host, []),
                       # where extra_rules sit in the table, to tell a problem with one at its place
                       'extra_rules': {'chain': 1, 'first': len(vpn_rules) - len(extra_rules) - (1 if policies else 0),
                                       'count': len(extra_rules)}}
        _check_table(plans[host])
    return plans


def _check_underlay(routed, underlay):
    """A routed subnet becomes a route through the VPN on the members that are not its gateways."""
    for entry in routed:
        gateways = [e['gateway'] for e in routed if set(e['subnets']) & set(entry['subnets'])]
        for i, subnet in enumerate(entry['subnets']):
            underlay_check.check_prefix('%s.subnets[%d]' % (entry['field'], i), subnet, underlay, gateways)


def _extra_rule_field(plan, chain, index, rest=''):
    """``extra_rules[N]<rest>`` when rule ``index`` of chain ``chain`` of the plan's table is an extra rule, or None."""
    extra = plan['extra_rules']
    position = index - extra['first']
    if chain == extra['chain'] and 0 <= position < extra['count']:
        return 'extra_rules[%d]%s' % (position, rest)
    return None


def _check_table(plan):
    """The module's own check of the table (meshforge.vpn.nft_table), on the controller.

    Only ``extra_rules`` come into the table unchecked, so a problem is told at its place in ``extra_rules``.
    """
    try:
        normalize_table(plan['table'])
    except v.ValidationError as exc:
        match = re.match(r'chains\[(\d+)\]\.rules\[(\d+)\](.*)\Z', exc.field)
        field = match and _extra_rule_field(plan, int(match.group(1)), int(match.group(2)), match.group(3))
        if field:
            raise v.ValidationError(field, exc.problem)
        raise


def nft_rejection(plan, message):
    """``(field, problem)`` of the extra rule a host's ``nft --check`` of ``plan``'s table rejected, or None.

    nft names the line of the batch it read (``/dev/stdin:LINE:COLUMNS: Error: ...``); the batch is the module's
    rendering of the same table, whose last lines are the rules, one a line, chain after chain.
    """
    match = re.search(r'/dev/stdin:(\d+):[\d-]+: Error: ([^\n]*)', message or '')
    extra = plan.get('extra_rules') or {}
    if not match or not extra.get('count'):
        return None
    desired = normalize_table(plan['table'])
    lines = render_table(desired).splitlines()
    index = int(match.group(1)) - 1 - (len(lines) - sum(len(c['rules']) for c in desired['chains']))
    for number, chain in enumerate(desired['chains']):
        if 0 <= index < len(chain['rules']):
            field = _extra_rule_field(plan, number, index, '.rule')
            if field:
                return (field, '%r is rejected by nft on the host: %s'
                        % (plan['table']['chains'][number]['rules'][index].get('rule'), match.group(2).strip()))
            return None
        index -= len(chain['rules'])
    return None


def _hosts(group_names, hosts_of):
    found = set()
    for name in group_names:
        found |= hosts_of.get(name, set())
    return found


def _unique(rules):
    seen, result = [], []
    for rule in rules:
        if rule not in seen:
            seen.append(rule)
            result.append(rule)
    return result


def _routes(routed, addresses, interface, kind):
    """Routes to each routed subnet through its gateways' overlay addresses; the lower metric wins."""
    by_subnet = {}
    for entry in routed:
        for subnet in entry['subnets']:
            by_subnet.setdefault(subnet, []).append(entry)
    routes = {}
    for subnet in sorted(by_subnet, key=lambda n: (n.version, n)):
        entries = by_subnet[subnet]
        if kind == 'wireguard' and len(entries) > 1:
            # WireGuard picks the peer by the destination address alone (cryptokey routing): a prefix is in
            # one peer's allowed IPs, whatever next hop a route names, so a second route cannot fail over.
            raise v.ValidationError(entries[1]['field'] + '.subnets', '%s is routed through %s and %s on the '
                                    'WireGuard interface %s, which sends a prefix to one peer only (its allowed IPs); '
                                    'route it through one gateway (for high availability over the mesh, give the '
                                    'gateways the prefix in wireguard_mesh_routed_subnets with their own '
                                    'wireguard_mesh_route_metric), or use interface_kind routed on links where the '
                                    'next hop counts' % (subnet, entries[0]['gateway'], entries[1]['gateway'],
                                                         interface))
        metrics = {}
        for entry in entries:
            if entry['metric'] in metrics:
                raise v.ValidationError(entry['field'] + '.metric', '%s is routed through %s and %s with metric %d; '
                                        'give each gateway its own metric'
                                        % (subnet, metrics[entry['metric']], entry['gateway'], entry['metric']))
            metrics[entry['metric']] = entry['gateway']
        for host in sorted(addresses):
            for entry in sorted(entries, key=lambda e: e['metric']):
                if entry['gateway'] == host:
                    continue
                via = [a for a in addresses[entry['gateway']] if a.version == subnet.version]
                if not via:
                    raise v.ValidationError(entry['field'] + '.gateway', '%s has no IPv%d overlay address to route %s '
                                            'through' % (entry['gateway'], subnet.version, subnet))
                routes.setdefault(host, []).append({'dest': str(subnet), 'gateway': str(via[0]), 'dev': interface,
                                                    'metric': entry['metric']})
    return routes
