# -*- coding: utf-8 -*-
# Copyright: meshforge.vpn contributors
# GNU General Public License v3.0+ (see https://www.gnu.org/licenses/gpl-3.0.txt)
"""Who peers with whom: the WireGuard mesh planner.

Pure functions, run on the controller.  Given the members of a mesh (their
inventory settings and public keys), return each host's interface: its
addresses and its peers with their allowed IPs, endpoints and preshared keys.
The same input gives the same plan whatever the order of hosts.

A prefix may be routed behind several members (high availability): each
claim carries its member's route metric, and only the lowest metric among the
claims not withdrawn goes into allowed IPs, since WireGuard sends a packet to
the one peer whose allowed IPs hold its destination, whatever a route says.

Exit nodes are chosen the same way: a member with ``exit_node`` offers the
internet (``0.0.0.0/0``, and ``::/0`` when the mesh has IPv6) to the members
with ``use_exit_node``, and each of them gets the default routes on the exit
node with the lowest metric that is not withdrawn and that it peers with.
"""

from __future__ import absolute_import, division, print_function

__metaclass__ = type

import base64
import hashlib
import hmac
import ipaddress
import re

from ansible.module_utils.parsing.convert_bool import boolean

from ansible_collections.meshforge.vpn.plugins.module_utils import validation as v
from ansible_collections.meshforge.vpn.plugins.module_utils.wireguard.schema import MAX_MTU, MIN_MTU
from ansible_collections.meshforge.vpn.plugins.plugin_utils import clients as roaming
from ansible_collections.meshforge.vpn.plugins.plugin_utils import underlay
from ansible_collections.meshforge.vpn.plugins.plugin_utils.addressing import choose_addresses
from ansible_collections.meshforge.vpn.plugins.plugin_utils.ipam.pools import pool_names

TOPOLOGIES = ('full', 'hub_spoke')
# role variables (wireguard_mesh_<key>) that reach a module as a path
PATH_SETTINGS = ('private_key_file', 'ipam_record_file')
DEFAULT_ROUTE_METRIC = 100
DEFAULT_ROUTES = {4: ipaddress.ip_network('0.0.0.0/0'), 6: ipaddress.ip_network('::/0')}


def split_endpoint(field, value, default_port):
    """``host``, ``host:port``, ``IPv6`` or ``[IPv6]:port`` to a normal ``host:port``; empty means none."""
    if value in (None, '', False):
        return None
    value = str(value).strip()
    if value.startswith('['):
        return v.endpoint(field, value)
    if value.count(':') > 1:
        return v.format_endpoint(str(v.address(field, value)), default_port)
    if ':' in value:
        return v.endpoint(field, value)
    return v.format_endpoint(v.endpoint_host(field, value), default_port)


def preshared_key(secret, interface, a, b):
    """The preshared key of the pair (a, b): derived from one secret, so never regenerated and never stored."""
    low, high = sorted((a, b))
    message = ('meshforge.vpn wireguard psk v1\0%s\0%s\0%s' % (interface, low, high)).encode('utf-8')
    return base64.b64encode(hmac.new(secret.encode('utf-8'), message, hashlib.sha256).digest()).decode('ascii')


def placeholder_key(name):
    """A well-formed key that stands for a member whose key will only exist after the real run."""
    return base64.b64encode(hashlib.sha256(('meshforge.vpn pending key\0%s' % name).encode('utf-8')).digest()).decode('ascii')


def check_psk_secret(field, secret):
    """The one secret every pair's key derives from: at least 16 characters."""
    if not secret or len(str(secret)) < 16:
        raise v.ValidationError(field, 'must be a secret of at least 16 characters')


def add_preshared_keys(peers, secret, interface, name):
    """``peers`` of host ``name`` with each pair's preshared key."""
    check_psk_secret('wireguard_mesh_psk_secret', secret)
    # paired by the peer's inventory name, never by a display text, so a new display format rotates no key
    return [dict(peer, preshared_key=preshared_key(str(secret), interface, name, peer['name'])) for peer in peers]


def normalize_member(name, raw, defaults):
    """One member's settings with the mesh defaults filled in; every value checked."""
    def get(key):
        value = raw.get(key)
        return defaults.get(key) if value is None else value

    def field(key):
        return host_field(key, name)

    port = v.port(field('listen_port'), get('listen_port'))
    subnets = []
    if not isinstance(get('routed_subnets') or [], (list, tuple)):
        raise v.ValidationError(field('routed_subnets'), 'must be a list of CIDR prefixes, got %r' % (get('routed_subnets'),))
    for i, subnet in enumerate(get('routed_subnets') or []):
        subnets.append(v.prefix(field('routed_subnets[%d]' % i), subnet))
    metric = get('route_metric')
    metric = v.integer(field('route_metric'), DEFAULT_ROUTE_METRIC if metric in (None, '') else metric, 0, 2 ** 32 - 1)
    flags = {}
    for key in ('routed_subnets_withdrawn', 'exit_node', 'use_exit_node'):
        try:
            flags[key] = boolean(get(key) or False, strict=True)
        except TypeError:
            raise v.ValidationError(field(key), '%r is not a boolean' % (get(key),))
    if flags['exit_node'] and flags['use_exit_node']:
        raise v.ValidationError(field('use_exit_node'), '%s is an exit node itself; its traffic leaves by its own '
                                'uplink' % name)
    endpoint = raw.get('endpoint')
    if endpoint is None:
        endpoint = raw.get('ansible_host') or name
    endpoint = split_endpoint(field('endpoint'), endpoint, port)
    return {
        'name': name,
        'address': v.address(field('address'), raw['address']) if raw.get('address') else None,
        'address6': v.address(field('address6'), raw['address6']) if raw.get('address6') else None,
        'listen_port': port,
        'endpoint': endpoint,
        'persistent_keepalive': v.integer(field('persistent_keepalive'), get('persistent_keepalive') or 0, 0, 65535),
        'routed_subnets': sorted(set(subnets), key=lambda n: (n.version, n)),
        'route_metric': metric,
        'routed_subnets_withdrawn': flags['routed_subnets_withdrawn'],
        'exit_node': flags['exit_node'],
        'use_exit_node': flags['use_exit_node'],
        'public_key': v.wireguard_key(field('public_key'), raw['public_key']) if raw.get('public_key') else None,
        'underlay': {'management': underlay.ip_literal(raw.get('ansible_host') or name),
                     'endpoint': underlay.ip_literal(endpoint), 'connected': list(raw.get('connected') or [])},
    }


def host_field(key, name):
    """The name of a member's variable in a message: ``wireguard_mesh_address (h2)``."""
    return 'wireguard_mesh_%s (%s)' % (key, name)


def ipam_network(settings):
    """The mesh's network in the address ledger.

    It defaults to the interface's name, so a value that came from the interface is reported as
    ``wireguard_mesh_interface``, the variable the user set.
    """
    interface = v.interface_name('wireguard_mesh_interface', settings.get('interface') or 'wg0')
    return v.name('wireguard_mesh_ipam_network', settings.get('ipam_network') or interface)


def ipam_pools(settings):
    """The address manager's pools of the mesh's network: ``(ipv4 pool, ipv6 pool)``."""
    return pool_names(ipam_network(settings))


def check_mesh(members, settings, release=(), rotate_keys=()):
    """Every check of a mesh description that can be made before any host is touched; raises ValidationError.

    The plan (without keys), the address manager's request, the hosts named for a key rotation, and the paths
    the modules get from the role's variables.
    """
    plan_mesh(members, settings)
    ipam_request(members, settings, release)
    if isinstance(rotate_keys, str) or not isinstance(rotate_keys, (list, tuple)):
        raise v.ValidationError('wireguard_mesh_rotate_keys', 'must be a list of member names, got %r' % (rotate_keys,))
    strangers = sorted(set(str(name) for name in rotate_keys) - set(members))
    if strangers:
        raise v.ValidationError('wireguard_mesh_rotate_keys', '%s %s not a member of the mesh, so no key would be '
                                'rotated there; name members of the mesh group'
                                % (', '.join(strangers), 'is' if len(strangers) == 1 else 'are'))
    if settings.get('mtu'):
        mtu = v.integer('wireguard_mesh_mtu', settings['mtu'], MIN_MTU[4], MAX_MTU)
        if settings.get('network6') and mtu < MIN_MTU[6]:
            raise v.ValidationError('wireguard_mesh_mtu', '%d is below %d, the smallest MTU that carries IPv6, and '
                                    'the mesh has wireguard_mesh_network6: the kernel would drop the interface\'s '
                                    'IPv6 addresses' % (mtu, MIN_MTU[6]))
    for key in PATH_SETTINGS:
        if settings.get(key):
            v.absolute_path('wireguard_mesh_' + key, settings[key])
    if settings.get('rotate_psk_secret'):
        if not settings.get('preshared_keys'):
            raise v.ValidationError('wireguard_mesh_rotate_psk_secret', 'the mesh has no preshared keys to rotate; set '
                                    'wireguard_mesh_preshared_keys')
        if settings.get('psk_secret'):
            raise v.ValidationError('wireguard_mesh_rotate_psk_secret', 'the secret is wireguard_mesh_psk_secret: rotate '
                                    'it where it is kept (a vault, a credential), not in a file')
    if settings.get('psk_secret'):
        # one given by the user (an empty one is generated); checked here, before the hosts' keys are made
        check_psk_secret('wireguard_mesh_psk_secret', settings['psk_secret'])


def ipam_problem(message, settings):
    """A failure of the ipam action, told with the role's variable instead of the action's option."""
    text = message.split('meshforge.vpn.ipam: ', 1)[-1]
    field, sep, problem = text.partition(': ')
    if not sep:
        return 'wireguard_mesh_ipam_ledger: %s' % text
    pool4, pool6 = ipam_pools(settings)
    pins = re.match(r'\Apins\[([^\]]*)\](?:\[([^\]]*)\])?', field)
    client_names = [c.get('name') for c in settings.get('clients') or [] if isinstance(c, dict)]
    if pins and pins.group(1) in client_names:
        variable = '%s[%s].%s' % (roaming.FIELD, pins.group(1), 'address6' if pins.group(2) == pool6 else 'address')
    elif pins:
        variable = host_field('address6' if pins.group(2) == pool6 else 'address', pins.group(1))
    elif field.startswith('records['):
        variable = 'wireguard_mesh_ipam_record_file (%s)' % field[len('records['):].split(']', 1)[0]
    elif field.startswith('release'):
        variable = 'wireguard_mesh_ipam_release'
    elif field.startswith('pools['):
        variable = 'wireguard_mesh_network6' if field.startswith('pools[%s]' % pool6) else 'wireguard_mesh_network'
    else:
        # the ledger file itself (its path is the field) or something in it
        variable = 'wireguard_mesh_ipam_ledger'
        problem = '%s: %s' % (field, problem)
    return '%s: %s' % (variable, problem)


def ipam_request(members, settings, release=()):
    """What the mesh asks of the address manager: its pools, and the addresses members pin in the inventory.

    Returns ``{'network', 'pools', 'pins'}`` for the ipam action.  ``release``
    lists hosts whose addresses are to be freed; a current member is refused,
    since releasing it would renumber a live host.
    """
    ledger_network = ipam_network(settings)
    pool4, pool6 = pool_names(ledger_network)
    network = v.network('wireguard_mesh_network', settings.get('network'))
    network6 = v.network('wireguard_mesh_network6', settings['network6']) if settings.get('network6') else None
    options = settings.get('ipam') or {}
    reserve_first = v.integer('wireguard_mesh_ipam_reserve_first', options.get('reserve_first') or 0, 0, 2 ** 31)
    exclude = options.get('exclude') or []
    if isinstance(exclude, str) or not isinstance(exclude, (list, tuple)):
        raise v.ValidationError('wireguard_mesh_ipam_exclude', 'must be a list of addresses or CIDRs, got %r' % (exclude,))
    excluded = [v.network('wireguard_mesh_ipam_exclude[%d]' % i, str(item)) for i, item in enumerate(exclude)]
    pools = {}
    pins = {}
    for pool, net, key in ((pool4, network, 'address'), (pool6, network6, 'address6')):
        if net is None:
            continue
        pools[pool] = {'cidr': str(net), 'network': ledger_network, 'reserve_first': reserve_first,
                       'exclude': [str(e) for e in excluded if e.version == net.version]}
        for name in sorted(members):
            value = (members[name] or {}).get(key)
            if value:
                pins.setdefault(name, {})[pool] = str(v.address(host_field(key, name), value))
    if isinstance(release, str) or not isinstance(release, (list, tuple)):
        raise v.ValidationError('wireguard_mesh_ipam_release', 'must be a list of host names, got %r' % (release,))
    still = sorted(set(release) & set(members))
    if still:
        raise v.ValidationError('wireguard_mesh_ipam_release', '%s still in the mesh group; remove it from the group '
                                'before releasing its address' % ', '.join(still))
    held, client_pins, gone = roaming.ipam(roaming.normalize(settings.get('clients'), members),
                                           pool4, pool6 if network6 else None)
    for name, pinned in client_pins.items():
        for pool, address in pinned.items():
            net = network if pool == pool4 else network6
            if ipaddress.ip_address(address) not in net:
                raise v.ValidationError('%s[%s].%s' % (roaming.FIELD, name, 'address' if pool == pool4 else 'address6'),
                                        '%s is outside the mesh network %s' % (address, net))
    pins.update(client_pins)
    return {'network': ledger_network, 'pools': pools, 'pins': pins, 'release': sorted(set(release) | set(gone)),
            'clients': held}


def apply_allocation(members, settings, addresses):
    """Set each member's ``address``/``address6`` from the address manager's ``{host: {pool: address}}``."""
    pool4, pool6 = ipam_pools(settings)
    for name, member in members.items():
        held = (addresses or {}).get(name) or {}
        for pool, key in ((pool4, 'address'), (pool6, 'address6')):
            if held.get(pool):
                member[key] = held[pool]
    return members


def plan_mesh(members, settings):
    """Plan every member's interface.

    ``members`` maps inventory names to their raw settings (``address``,
    ``address6``, ``endpoint``, ``ansible_host``, ``listen_port``,
    ``persistent_keepalive``, ``routed_subnets``, ``route_metric``,
    ``routed_subnets_withdrawn``, ``exit_node``, ``use_exit_node``,
    ``public_key``).
    ``settings`` holds the mesh-wide values: ``network``, ``network6``,
    ``topology``, ``hubs`` (names), ``interface``, and ``defaults`` for the
    per-member keys.  Preshared keys are added later by :func:`add_preshared_keys`
    so that a plan never holds a secret.

    Without public keys the plan still validates everything, so it can run
    before anything on a host is touched.  With ``require_keys`` true a member
    without a key is an error; with it false (check mode, where a new member's
    key does not exist yet) such a member gets a placeholder key, so that
    check mode predicts the peer its real run will add.  Raises ValidationError.

    The plans are read-only: the peer entries every member has in common (the same peer, keepalive and allowed IPs)
    are one object shared between the plans, since a 1,000-member full mesh has a million peer entries.
    """
    interface = v.interface_name('wireguard_mesh_interface', settings.get('interface') or 'wg0')
    topology = settings.get('topology') or 'full'
    if topology not in TOPOLOGIES:
        raise v.ValidationError('wireguard_mesh_topology', '%r is not one of %s' % (topology, ', '.join(TOPOLOGIES)))
    network = v.network('wireguard_mesh_network', settings.get('network'))
    network6 = v.network('wireguard_mesh_network6', settings['network6']) if settings.get('network6') else None
    if network.version != 4:
        raise v.ValidationError('wireguard_mesh_network', '%s is not an IPv4 network; put IPv6 in wireguard_mesh_network6' % network)
    if network6 is not None and network6.version != 6:
        raise v.ValidationError('wireguard_mesh_network6', '%s is not an IPv6 network' % network6)
    if not members:
        raise v.ValidationError('wireguard_mesh_group', 'the group has no hosts')

    defaults = settings.get('defaults') or {}
    nodes = dict((name, normalize_member(name, raw or {}, defaults)) for name, raw in members.items())
    hubs = sorted(set(settings.get('hubs') or []) & set(nodes))
    if topology == 'hub_spoke' and not hubs:
        raise v.ValidationError('wireguard_mesh_hub_group', 'hub_spoke needs at least one hub among the members')

    _check_addresses(nodes, network, network6)
    _check_subnets(nodes, network, network6)
    _check_underlay(nodes, network, network6)
    served = _elect_gateways(nodes)
    placeholder = settings.get('require_keys') is False
    clients = _place_clients(nodes, settings, network, network6, served, placeholder)
    exits = _exit_nodes(nodes)
    keyless = sorted(n for n in nodes if not nodes[n]['public_key'])
    if settings.get('require_keys') and keyless:
        raise v.ValidationError('public_key', 'no WireGuard key is known for %s: a member outside this run (--limit) '
                                'must have been converged once before' % ', '.join(keyless))

    # Built once per member, not once per pair: a 1,000-member full mesh has a million peer entries.
    own = dict((n, _own_prefixes(nodes[n], served[n])) for n in nodes)
    own_text = dict((n, _sorted_text(own[n])) for n in nodes)
    # A standby gateway reaches its prefix itself: routing it into the interface would replace its LAN's route.
    local = dict((n, set() if nodes[n]['routed_subnets_withdrawn'] else set(nodes[n]['routed_subnets'])) for n in nodes)
    ordered = sorted(nodes)
    shared = {}
    plans = {}
    for name in ordered:
        node = nodes[name]
        if topology == 'hub_spoke' and name not in hubs:
            peer_names = hubs
        else:
            peer_names = [n for n in ordered if n != name]
        peers = []
        for other in peer_names:
            special = topology == 'hub_spoke' and name not in hubs and other == hubs[0]
            keepalive = node['persistent_keepalive'] if nodes[other]['endpoint'] else 0
            if not special and not local[name] and (other, keepalive) in shared:
                peers.append(shared[(other, keepalive)])
                continue
            allowed_ips = own_text[other]
            if special:
                # The first hub carries everything a spoke cannot reach directly.
                allowed = own[other] + [network] + ([network6] if network6 else [])
                for third in ordered:
                    if third not in (name, other) and third not in hubs:
                        allowed += served[third]
                allowed_ips = _sorted_text(allowed)
            if local[name]:
                allowed_ips = [p for p in allowed_ips if ipaddress.ip_network(p) not in local[name]]
            peer = {
                'name': other,
                'description': other,
                'public_key': nodes[other]['public_key'] or (placeholder_key(other) if placeholder else None),
                'endpoint': nodes[other]['endpoint'],
                'allowed_ips': list(allowed_ips),
                'persistent_keepalive': keepalive,
            }
            if not special and not local[name]:
                shared[(other, keepalive)] = peer
            peers.append(peer)
        exit_node = _choose_exit(name, node, exits, peer_names)
        if exit_node:
            peers = [dict(p, allowed_ips=p['allowed_ips'] + [str(DEFAULT_ROUTES[4])] + (
                [str(DEFAULT_ROUTES[6])] if network6 else [])) if p['name'] == exit_node else p for p in peers]
        addresses = ['%s/%d' % (node['address'], network.prefixlen)]
        if network6:
            addresses.append('%s/%d' % (node['address6'], network6.prefixlen))
        plans[name] = {
            'interface': interface,
            'addresses': addresses,
            'listen_port': node['listen_port'],
            'role': 'hub' if name in hubs and topology == 'hub_spoke' else ('spoke' if topology == 'hub_spoke' else 'member'),
            'forwarding': bool((topology == 'hub_spoke' and name in hubs) or node['routed_subnets'] or node['exit_node']),
            'exit_node': node['exit_node'],
            'uses_exit_node': exit_node,
            'peers': peers,
            'member': _published(node, members[name]),
        }
    _add_clients(plans, nodes, clients, network, network6, served)
    return plans


def _place_clients(nodes, settings, network, network6, served, placeholder):
    """The road-warrior clients (``settings['clients']``), checked; once the address manager placed them
    (``settings['client_addresses']``, its ``{name: {pool: address}}``), each enabled one's addresses join its gateway's
    served prefixes, so every member reaches it through the gateway.  Before that (the checks before any host is
    touched) they are only validated."""
    clients = roaming.normalize(settings.get('clients'), nodes)
    for client in clients:
        full = [p for p in client['allowed_ips'] or [] if ipaddress.ip_network(p).prefixlen == 0]
        plain = [g for g in client['gateways'] if not nodes[g]['exit_node']]
        if full and client['state'] == 'present' and plain:
            raise v.ValidationError('%s[%s].allowed_ips' % (roaming.FIELD, client['name']),
                                    '%s sends all the client\'s traffic to its gateway %s, which is not an exit node '
                                    '(wireguard_mesh_exit_node)' % (full[0], plain[0]))
    if 'client_addresses' not in settings:
        return []
    pool4, pool6 = ipam_pools(settings)
    placed = roaming.place(clients, network, network6, settings['client_addresses'], pool4, pool6 if network6 else None)
    keys = settings.get('client_keys') or {}
    withdrawn = set(n for n in nodes if nodes[n]['routed_subnets_withdrawn'])
    for client in placed:
        client['public_key'] = client['public_key'] or keys.get(client['name']) or (
            placeholder_key('client ' + client['name']) if placeholder else None)
        if not client['public_key']:
            raise v.ValidationError('%s[%s].public_key' % (roaming.FIELD, client['name']),
                                    'no key is known for the client')
        client['active'] = roaming.active_gateway(client, withdrawn)
        if not client['disabled']:
            served[client['active']] = served[client['active']] + roaming.prefixes(client)
    return placed


def _exit_nodes(nodes):
    """The exit nodes not withdrawn, best (lowest metric) first; two with one metric are refused, as for a prefix."""
    # a tie is refused even when one of them is withdrawn, so that putting it back stays valid
    every = sorted((nodes[n]['route_metric'], n) for n in nodes if nodes[n]['exit_node'])
    offered = [(metric, n) for metric, n in every if not nodes[n]['routed_subnets_withdrawn']]
    for (metric, first), (other_metric, second) in zip(every, every[1:]):
        if metric == other_metric:
            raise v.ValidationError(host_field('route_metric', second),
                                    '%s and %s are both exit nodes with metric %d; give each its own '
                                    'wireguard_mesh_route_metric (the lower one carries the traffic)'
                                    % (first, second, metric))
    if any(n['use_exit_node'] for n in nodes.values()) and not any(n['exit_node'] for n in nodes.values()):
        user = sorted(n for n in nodes if nodes[n]['use_exit_node'])[0]
        raise v.ValidationError(host_field('use_exit_node', user), 'no member of the mesh is an exit node; set '
                                'wireguard_mesh_exit_node: true on the one whose uplink the traffic should leave by')
    return [name for dummy, name in offered]


def _choose_exit(name, node, exits, peer_names):
    """The exit node ``name`` sends its default traffic to (None: it does not use one, or none is available now, and
    its traffic leaves by its own uplink)."""
    if not node['use_exit_node']:
        return None
    candidates = [n for n in exits if n in peer_names]
    return candidates[0] if candidates else None


def _add_clients(plans, nodes, clients, network, network6, served):
    """Each enabled client is a peer of its gateway (which forwards for it); ``plans[gateway]['clients']`` holds what
    the client's file needs, disabled clients included (their file is kept)."""
    routed = [p for name in sorted(served) for p in served[name] if p.prefixlen < p.max_prefixlen]
    for client in clients:
        for index, gateway in enumerate(client['gateways']):
            plan = plans[gateway]
            # only the active gateway carries the client: WireGuard gives an address to one peer, and a standby that
            # held it would send its own traffic for the client to a peer the client is not connected to
            if not client['disabled'] and gateway == client['active']:
                plan['peers'] = plan['peers'] + [roaming.gateway_peer(client)]
                plan['forwarding'] = True
            plan.setdefault('clients', []).append({
                'client': client,
                'file': roaming.fallback_file(client['name'], index),
                'gateway': {'name': gateway, 'public_key': nodes[gateway]['public_key'],
                            'endpoint': nodes[gateway]['endpoint'],
                            'allowed_ips': roaming.client_allowed_ips(client, network, network6, routed)},
            })


def _published(node, raw):
    """What the other members' plans use of ``node``: its entry in the mesh registry."""
    return {
        'public_key': node['public_key'], 'endpoint': node['endpoint'], 'listen_port': node['listen_port'],
        'address': str(node['address']), 'address6': str(node['address6']) if node['address6'] else None,
        'routed_subnets': _sorted_text(node['routed_subnets']), 'route_metric': node['route_metric'],
        'routed_subnets_withdrawn': node['routed_subnets_withdrawn'], 'exit_node': node['exit_node'],
        'persistent_keepalive': node['persistent_keepalive'], 'ansible_host': (raw or {}).get('ansible_host'),
    }


def _sorted_text(prefixes):
    return [str(p) for p in sorted(set(prefixes), key=lambda n: (n.version, n))]


def _own_prefixes(node, served):
    prefixes = [ipaddress.ip_network(node['address'])]
    if node.get('address6'):
        prefixes.append(ipaddress.ip_network(node['address6']))
    return prefixes + list(served)


def _elect_gateways(nodes):
    """``{member: [prefixes it carries]}``: each prefix goes to its claim with the lowest metric, withdrawn ones aside."""
    best = {}
    for name in sorted(nodes):
        node = nodes[name]
        if node['routed_subnets_withdrawn']:
            continue
        for subnet in node['routed_subnets']:
            if subnet not in best or node['route_metric'] < nodes[best[subnet]]['route_metric']:
                best[subnet] = name
    served = dict((name, []) for name in nodes)
    for subnet, name in best.items():
        served[name].append(subnet)
    return served


def _check_addresses(nodes, network, network6):
    for family, net, key in ((4, network, 'address'), (6, network6, 'address6')):
        if net is None:
            continue
        pins = {}
        for name, node in nodes.items():
            if node[key] is not None:
                if node[key].version != family:
                    raise v.ValidationError(host_field(key, name),
                                            '%s is not an IPv%d address' % (node[key], family))
                pins[name] = node[key]
        chosen = choose_addresses(sorted(nodes), net, pins, host_field(key, '%s'),
                                  'wireguard_mesh_network%s' % ('6' if family == 6 else ''))
        for name, address in chosen.items():
            nodes[name][key] = address


def _check_subnets(nodes, network, network6):
    """Routed subnets must not overlap the mesh or each other; the same prefix on several members needs distinct metrics.

    Withdrawn claims are checked too, so that putting a gateway back never makes a valid inventory invalid.
    """
    owners = []
    for name in sorted(nodes):
        for subnet in nodes[name]['routed_subnets']:
            field = host_field('routed_subnets', name)
            for net in (network, network6):
                if net is not None and subnet.version == net.version and subnet.overlaps(net):
                    raise v.ValidationError(field, '%s overlaps the mesh network %s' % (subnet, net))
            for other, taken in owners:
                if subnet == taken and other != name:
                    if nodes[name]['route_metric'] == nodes[other]['route_metric']:
                        raise v.ValidationError(
                            host_field('route_metric', name),
                            '%s is routed behind both %s and %s with metric %d; give each gateway of a prefix its own '
                            'wireguard_mesh_route_metric (the lower one carries the prefix)'
                            % (subnet, other, name, nodes[name]['route_metric']))
                elif subnet.version == taken.version and subnet.overlaps(taken):
                    raise v.ValidationError(field, '%s overlaps %s, routed behind %s; only the same prefix can have '
                                            'several gateways' % (subnet, taken, other))
            owners.append((name, subnet))


def _check_underlay(nodes, network, network6):
    """No allowed IP may capture an endpoint, a management address or a connected network of a member (underlay)."""
    hosts = dict((name, node['underlay']) for name, node in nodes.items())
    for key, net in (('wireguard_mesh_network', network), ('wireguard_mesh_network6', network6)):
        if net is not None:
            underlay.check_prefix(key, net, hosts, overlay=True)
    for name in sorted(nodes):
        for subnet in nodes[name]['routed_subnets']:
            gateways = [n for n in nodes if subnet in nodes[n]['routed_subnets']]
            underlay.check_prefix(host_field('routed_subnets', name), subnet, hosts, gateways)
