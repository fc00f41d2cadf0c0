# -*- coding: utf-8 -*-
# Copyright: meshforge.vpn contributors
# GNU General Public License v3.0+ (see https://www.gnu.org/licenses/gpl-3.0.txt)
"""Road-warrior clients of a WireGuard mesh: devices no playbook manages (laptops, phones).

Pure functions, run on the controller.  A client is described in ``wireguard_mesh_clients``; it connects to one
gateway member, which carries it as a peer without an endpoint, and every other member reaches it through that
gateway (its addresses join the gateway's allowed IPs, as a routed subnet does).  A client with several gateways gets
one file per gateway (``name``, ``name-2``, ...); the first gateway not withdrawn carries it, so when a gateway fails
the operator withdraws it (``wireguard_mesh_routed_subnets_withdrawn``), one run moves the client's peer and route to
the next, and the device switches to that gateway's file.  The client gets a wg-quick file
(:func:`render_config`) that plain ``wg-quick up`` and the official apps accept.
"""

from __future__ import absolute_import, division, print_function

__metaclass__ = type

import ipaddress
import re

from ansible.module_utils.parsing.convert_bool import boolean

from ansible_collections.meshforge.vpn.plugins.module_utils import validation as v
from ansible_collections.meshforge.vpn.plugins.module_utils.dns import names

FIELD = 'wireguard_mesh_clients'
OPTIONS = ('name', 'gateway', 'public_key', 'generate_key', 'address', 'address6', 'allowed_ips', 'dns',
           'persistent_keepalive', 'disabled', 'state', 'groups')
# the client's file is <name>.conf and wg-quick names the interface after it: an interface name, which also keeps
# it inside the output directory (no slash, not . or ..)
NAME_RE = re.compile(r'\A[A-Za-z0-9][A-Za-z0-9_=+.-]{0,14}\Z')
DEFAULT_KEEPALIVE = 25
# the gateway's peer entry for a client is named client:<name> (written in its wg-quick file, so the status report
# knows clients from members, and the pair's preshared key derives from it)
CLIENT_PREFIX = 'client:'
MAX_GATEWAYS = 9
PLACEHOLDER = '<the private key of the device: this file was made for a key that never left it>'


def _bool(field, value, default=False):
    if value is None:
        return default
    try:
        return boolean(value, strict=True)
    except TypeError:
        raise v.ValidationError(field, '%r is not a boolean' % (value,))


def _list(field, value):
    if value is None:
        return []
    if isinstance(value, str) or not isinstance(value, (list, tuple)):
        raise v.ValidationError(field, 'must be a list, got %r' % (value,))
    return list(value)


def normalize(raw, members):
    """``wireguard_mesh_clients`` checked: a list of clients with every option filled in.

    ``members``: the names of the mesh's members.  Raises ValidationError naming the client's field.
    """
    clients = []
    seen = set()
    for index, entry in enumerate(_list(FIELD, raw)):
        where = '%s[%d]' % (FIELD, index)
        if not isinstance(entry, dict):
            raise v.ValidationError(where, 'must be a dict with at least name and gateway, got %r' % (entry,))
        v.known_options(where, entry, OPTIONS)
        name = entry.get('name')
        if not isinstance(name, str) or not NAME_RE.match(name) or name in ('.', '..'):
            raise v.ValidationError(where + '.name', '%r is not a client name: 1 to 15 letters, digits and _=+.-, '
                                    'starting with a letter or digit (it names the client\'s file and interface)'
                                    % (name,))
        field = '%s[%s]' % (FIELD, name)
        if name in seen:
            raise v.ValidationError(field + '.name', 'two clients are named %s' % name)
        if name in members:
            raise v.ValidationError(field + '.name', '%s is a member of the mesh; a client needs a name of its own' % name)
        seen.add(name)
        state = entry.get('state') or 'present'
        if state not in ('present', 'absent'):
            raise v.ValidationError(field + '.state', '%r is not present or absent' % (state,))
        gateways = _gateways(field + '.gateway', entry.get('gateway'), members, state)
        if len(gateways) > 1 and len(fallback_file(name, len(gateways) - 1)) > 15:
            raise v.ValidationError(field + '.name', '%s is too long for a client with %d gateways: its fallback '
                                    'files are named %s and wg-quick takes at most 15 characters'
                                    % (name, len(gateways), fallback_file(name, len(gateways) - 1)))
        public_key = entry.get('public_key')
        generate = _bool(field + '.generate_key', entry.get('generate_key'))
        if public_key:
            public_key = v.wireguard_key(field + '.public_key', public_key)
            if generate:
                raise v.ValidationError(field + '.generate_key', 'the client has a public_key: its device holds the '
                                        'private key, so none is generated')
        elif state == 'present' and not generate:
            raise v.ValidationError(field + '.public_key', 'give the public key the device made (wg genkey | wg '
                                    'pubkey), or set generate_key: true to have a key pair made on the controller')
        clients.append({
            'name': name,
            'state': state,
            'gateway': gateways[0] if gateways else None,
            'gateways': gateways,
            'public_key': public_key or None,
            'generate_key': generate,
            'address': str(v.address(field + '.address', entry['address'])) if entry.get('address') else None,
            'address6': str(v.address(field + '.address6', entry['address6'])) if entry.get('address6') else None,
            'allowed_ips': [str(v.prefix('%s.allowed_ips[%d]' % (field, i), p))
                            for i, p in enumerate(_list(field + '.allowed_ips', entry.get('allowed_ips')))] or None,
            'dns': dns_entries(field + '.dns', _list(field + '.dns', entry.get('dns'))),
            'persistent_keepalive': v.integer(field + '.persistent_keepalive',
                                              DEFAULT_KEEPALIVE if entry.get('persistent_keepalive') is None
                                              else entry['persistent_keepalive'], 0, 65535),
            'disabled': _bool(field + '.disabled', entry.get('disabled')),
            'groups': [v.name('%s.groups[%d]' % (field, i), g) for i, g in enumerate(_list(field + '.groups', entry.get('groups')))],
        })
    files = dict((fallback_file(c['name'], i), c['name']) for c in clients for i in range(1, len(c['gateways'])))
    for client in clients:
        if client['name'] in files:
            raise v.ValidationError('%s[%s].name' % (FIELD, client['name']), 'is the name of the fallback file of '
                                    'client %s; give one of them another name' % files[client['name']])
    return clients


def dns_entries(field, values):
    """What a wg-quick ``DNS =`` line takes: nameserver addresses and search domains, each checked (no line break
    or comma can reach the file)."""
    found = []
    for index, value in enumerate(values):
        where = '%s[%d]' % (field, index)
        try:
            found.append(str(v.address(where, value)))
        except v.ValidationError:
            try:
                found.append(names.domain(where, value))
            except v.ValidationError:
                raise v.ValidationError(where, '%r is neither an address nor a DNS name (a search domain)' % (value,))
    return found


def _gateways(field, value, members, state):
    """The client's gateways, the first the one it normally connects to, the others its fallbacks."""
    gateways = list(value) if isinstance(value, (list, tuple)) else ([value] if value else [])
    if state != 'present':
        return gateways
    if not gateways:
        raise v.ValidationError(field, 'give the member the client connects to (or a list: the first, then its '
                                'fallbacks)')
    for gateway in gateways:
        if gateway not in members:
            raise v.ValidationError(field, '%r is not a member of the mesh (members: %s)'
                                    % (gateway, ', '.join(sorted(members))))
    if len(set(gateways)) != len(gateways):
        raise v.ValidationError(field, 'names a gateway twice: %s' % ', '.join(gateways))
    if len(gateways) > MAX_GATEWAYS:
        raise v.ValidationError(field, 'names %d gateways; at most %d' % (len(gateways), MAX_GATEWAYS))
    return gateways


def fallback_file(name, index):
    """The name of the client's file for its gateway number ``index`` (0: the client's own name)."""
    return name if index == 0 else '%s-%d' % (name, index + 1)


def active_gateway(client, withdrawn):
    """The gateway the mesh routes the client through: its first one not withdrawn (``withdrawn``: names), else its
    first."""
    return next((g for g in client['gateways'] if g not in withdrawn), client['gateways'][0])


def ipam(clients, pool4, pool6):
    """What the clients ask of the address manager: ``(names that hold addresses, pins, names to release)``.

    A disabled client keeps its address; a client with ``state: absent`` releases it.
    """
    names = sorted(c['name'] for c in clients if c['state'] == 'present')
    pins = {}
    for client in clients:
        if client['state'] != 'present':
            continue
        for pool, key in ((pool4, 'address'), (pool6, 'address6')):
            if pool and client[key]:
                pins.setdefault(client['name'], {})[pool] = client[key]
    return names, pins, sorted(c['name'] for c in clients if c['state'] == 'absent')


def place(clients, network, network6, addresses, pool4, pool6):
    """Each present client with its ``address``/``address6`` from the address manager's ``{name: {pool: address}}``
    (or its pin, when the address manager is off); refused when outside the mesh's networks."""
    placed = []
    for client in clients:
        if client['state'] != 'present':
            continue
        client = dict(client)
        held = (addresses or {}).get(client['name']) or {}
        for pool, key, net in ((pool4, 'address', network), (pool6, 'address6', network6)):
            value = held.get(pool) or client[key]
            if net is None:
                client[key] = None
                continue
            if not value:
                raise v.ValidationError('%s[%s].%s' % (FIELD, client['name'], key),
                                        'the client has no address: pin one in %s, or keep the address manager on'
                                        % net)
            if ipaddress.ip_address(value) not in net:
                raise v.ValidationError('%s[%s].%s' % (FIELD, client['name'], key),
                                        '%s is outside the mesh network %s' % (value, net))
            client[key] = str(value)
        placed.append(client)
    return placed


def prefixes(client):
    """The client's own addresses as host prefixes."""
    return [ipaddress.ip_network(client[key]) for key in ('address', 'address6') if client.get(key)]


def peer_name(client):
    """The name of the client's peer entry on its gateway."""
    return CLIENT_PREFIX + client['name']


def gateway_peer(client):
    """The gateway's peer entry for the client: no endpoint (the client dials in), keepalive from the client side."""
    return {'name': peer_name(client), 'description': peer_name(client), 'public_key': client['public_key'],
            'endpoint': None, 'allowed_ips': [str(p) for p in prefixes(client)], 'persistent_keepalive': 0}


def client_allowed_ips(client, network, network6, served):
    """What the client routes into the tunnel: its ``allowed_ips``, or the mesh's networks and every routed subnet."""
    if client.get('allowed_ips'):
        return client['allowed_ips']
    nets = set([network] + ([network6] if network6 else []) + list(served))
    return [str(n) for n in sorted(nets, key=lambda n: (n.version, n))]


def render_config(client, gateway, private_key=None, preshared_key=None):
    """The client's wg-quick file.  ``gateway``: the gateway's ``public_key``, ``endpoint``, and the client's
    ``allowed_ips``.  Without ``private_key`` (a key the device holds) the file names the missing value instead."""
    lines = ['# meshforge.vpn: WireGuard client %s, through %s' % (client['name'], gateway['name']),
             '[Interface]']
    if private_key:
        lines.append('PrivateKey = %s' % private_key)
    else:
        lines += ['# The device made its own key pair: put its private key here before use.',
                  'PrivateKey = %s' % PLACEHOLDER]
    addresses = ['%s/32' % client['address']] + (['%s/128' % client['address6']] if client.get('address6') else [])
    lines.append('Address = %s' % ', '.join(addresses))
    if client['dns']:
        lines.append('DNS = %s' % ', '.join(client['dns']))
    lines += ['', '[Peer]', 'PublicKey = %s' % gateway['public_key']]
    if preshared_key:
        lines.append('PresharedKey = %s' % preshared_key)
    lines += ['Endpoint = %s' % gateway['endpoint'], 'AllowedIPs = %s' % ', '.join(gateway['allowed_ips'])]
    if client['persistent_keepalive']:
        lines.append('PersistentKeepalive = %d' % client['persistent_keepalive'])
    return '\n'.join(lines) + '\n'


def firewall_groups(named, inventory_groups, plans):
    """``vpn_firewall_groups`` with each enabled client's addresses in the groups it names, so that policies whose
    sources name those groups let the client in.  A group only an inventory group defined keeps its members (a named
    group hides the inventory group of the same name)."""
    merged = dict((name, list(items)) for name, items in (named or {}).items())
    for plan in (plans or {}).values():
        for entry in plan.get('clients') or []:
            client = entry['client']
            if client['disabled'] or entry.get('file', client['name']) != client['name']:
                continue        # a fallback gateway's entry: the client counts once
            for group in client['groups']:
                if group not in merged:
                    merged[group] = list((inventory_groups or {}).get(group) or [])
                merged[group] += [str(p) for p in prefixes(client)]
    return merged
