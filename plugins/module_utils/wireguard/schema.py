# -*- coding: utf-8 -*-
# Copyright: meshforge.vpn contributors
# GNU General Public License v3.0+ (see https://www.gnu.org/licenses/gpl-3.0.txt)
"""One schema for wireguard_interface: the argument spec the module, its documentation check and the planner's
contract test use, and the normaliser that turns the parameters into the desired state (no I/O on the host)."""

from __future__ import absolute_import, division, print_function

__metaclass__ = type

import ipaddress

from ansible_collections.meshforge.vpn.plugins.module_utils import validation as v
from ansible_collections.meshforge.vpn.plugins.module_utils.routes import rules
from ansible_collections.meshforge.vpn.plugins.module_utils.wireguard import forwarding
from ansible_collections.meshforge.vpn.plugins.module_utils.wireguard.routing import wanted_routes

CONFIG_DIR = '/etc/wireguard'
MIN_MTU = {4: 576, 6: 1280}
"""The smallest MTU of each family (RFC 791, RFC 8200)."""
MAX_MTU = 65535
EXIT_TABLE = 51820
"""The table of the default routes through an exit node (wg-quick's number, also the default fwmark)."""
EXIT_PRIORITY = 31000
"""The first priority of the exit rules: before the main table's rule (32766), after most hand-made ones."""
RESERVED_TABLES = (253, 254, 255)


def peer_options():
    """The options of one wireguard_interface peer."""
    return dict(
        public_key=dict(type='str', required=True),
        name=dict(type='str'),
        description=dict(type='str'),
        endpoint=dict(type='str'),
        allowed_ips=dict(type='list', elements='str', default=[]),
        persistent_keepalive=dict(type='int', default=0),
        preshared_key=dict(type='str', no_log=True),
        preshared_key_file=dict(type='path', no_log=False),
    )


def interface_argument_spec():
    """wireguard_interface's argument spec (a fresh copy: AnsibleModule may change what it is given)."""
    return dict(
        name=dict(type='str', required=True),
        state=dict(type='str', choices=['present', 'absent'], default='present'),
        addresses=dict(type='list', elements='str', default=[]),
        listen_port=dict(type='int'),
        private_key_file=dict(type='path'),
        expected_public_key=dict(type='str'),
        mtu=dict(type='int'),
        fwmark=dict(type='str'),
        table=dict(type='str', default='auto'),
        implementation=dict(type='str', choices=['auto', 'kernel', 'userspace'], default='auto'),
        purge=dict(type='bool', default=True, aliases=['purge_peers']),
        persist=dict(type='bool', default=True),
        peers=dict(type='list', elements='dict', default=[], options=peer_options()),
        exit_routing=dict(type='dict', options=exit_routing_options()),
        forwarding=dict(type='dict', options=forwarding.options()),
    )


def exit_routing_options():
    """The options of wireguard_interface's ``exit_routing`` (a default route through a peer, the exit node)."""
    return dict(
        table=dict(type='int', default=EXIT_TABLE),
        fwmark=dict(type='str'),
        priority=dict(type='int', default=EXIT_PRIORITY),
    )


def normalize_exit_routing(raw, fwmark):
    """The desired ``exit_routing`` (None when not asked for): table, fwmark (the table's number unless given, as
    wg-quick does) and the first of the rules' priorities."""
    if not raw:
        return None
    table = v.integer('exit_routing.table', raw.get('table') or EXIT_TABLE, 1, 0xffffffff)
    if table in RESERVED_TABLES:
        raise v.ValidationError('exit_routing.table', '%d is a table the kernel uses itself; pick another' % table)
    mark = v.fwmark('exit_routing.fwmark', raw.get('fwmark')) or fwmark or table
    if fwmark and fwmark != mark:
        raise v.ValidationError('fwmark', '0x%x differs from exit_routing.fwmark 0x%x; the tunnel marks its packets '
                                          'with one mark, give only exit_routing.fwmark' % (fwmark, mark))
    priority = v.integer('exit_routing.priority', raw.get('priority') or EXIT_PRIORITY, 1,
                         32765 - rules.RULES_PER_FAMILY)
    return {'table': str(table), 'fwmark': mark, 'priority': priority}


def exit_prefixes(desired):
    """The default routes (``0.0.0.0/0``, ``::/0``) among the peers' allowed IPs: the families that exit."""
    return sorted(set(p for peer in desired['peers'] for p in peer['allowed_ips']
                      if ipaddress.ip_network(p).prefixlen == 0))


def normalize_peer(index, raw):
    field = 'peers[%d]' % index
    peer = {
        'public_key': v.wireguard_key(field + '.public_key', raw.get('public_key')),
        'name': v.free_text(field + '.name', raw['name']) if raw.get('name') else None,
        'description': v.free_text(field + '.description', raw['description']) if raw.get('description') else None,
        'endpoint': v.endpoint(field + '.endpoint', raw['endpoint']) if raw.get('endpoint') else None,
        'allowed_ips': sorted(set(str(v.prefix('%s.allowed_ips[%d]' % (field, i), ip))
                                  for i, ip in enumerate(raw.get('allowed_ips') or []))),
        'persistent_keepalive': v.integer(field + '.persistent_keepalive', raw.get('persistent_keepalive') or 0, 0, 65535),
        'preshared_key': None,
        'preshared_key_file': None,
    }
    if raw.get('preshared_key') and raw.get('preshared_key_file'):
        raise v.ValidationError(field, 'preshared_key and preshared_key_file are mutually exclusive')
    if raw.get('preshared_key'):
        peer['preshared_key'] = v.wireguard_key(field + '.preshared_key', raw['preshared_key'])
    if raw.get('preshared_key_file'):
        peer['preshared_key_file'] = v.host_path(field + '.preshared_key_file', raw['preshared_key_file'])
    return peer


def label(peer):
    """What people know a peer by: its name, else its description (None when it has neither)."""
    return peer.get('name') or peer.get('description')


def normalize_interface(params):
    """Check every option of wireguard_interface and return the desired state; raises ValidationError."""
    name = v.interface_name('name', params['name'])
    desired = {'name': name, 'state': params.get('state', 'present')}
    if desired['state'] == 'absent':
        desired['exit_routing'] = normalize_exit_routing(params.get('exit_routing'), 0)
        return desired
    addresses = _addresses(params.get('addresses') or [])
    table = str(params.get('table') or 'auto')
    if table not in ('auto', 'off'):
        table = str(v.integer('table', table, 1, 0xffffffff))
    fwmark = v.fwmark('fwmark', params.get('fwmark'))
    exit_routing = normalize_exit_routing(params.get('exit_routing'), fwmark)
    if exit_routing and table != 'auto':
        raise v.ValidationError('exit_routing', 'needs table: auto (the other routes in main, the default routes '
                                                'in exit_routing.table); table is %s' % table)
    desired.update({
        'addresses': addresses,
        'listen_port': v.port('listen_port', params['listen_port'], allow_zero=True) if params.get('listen_port') is not None else 0,
        'private_key_file': v.host_path('private_key_file', params.get('private_key_file') or '%s/%s.key' % (CONFIG_DIR, name)),
        'expected_public_key': (v.wireguard_key('expected_public_key', params['expected_public_key'])
                                if params.get('expected_public_key') else None),
        'mtu': v.integer('mtu', params['mtu'], MIN_MTU[4], MAX_MTU) if params.get('mtu') else None,
        'fwmark': fwmark,
        'table': table,
        'exit_routing': exit_routing,
        'implementation': params.get('implementation') or 'auto',
        'purge_peers': params.get('purge', params.get('purge_peers', True)),
        'persist': params.get('persist', True),
        'peers': _peers(params.get('peers') or [], table, exit_routing),
        'forwarding': forwarding.normalize(params.get('forwarding')),
    })
    if exit_routing and exit_prefixes(desired):
        desired['fwmark'] = exit_routing['fwmark']     # the tunnel's own packets keep the main table
    check_mtu(desired)
    return desired


def _addresses(raw):
    addresses = [v.interface_address('addresses[%d]' % i, a) for i, a in enumerate(raw)]
    seen = set()
    for i, addr in enumerate(addresses):
        if addr.ip in seen:
            raise v.ValidationError('addresses[%d]' % i, '%s is listed twice' % addr.ip)
        seen.add(addr.ip)
    return sorted((str(a) for a in addresses), key=address_sort_key)


def _peers(raw, table, exit_routing=None):
    """The normalised peers: one key once, and a prefix routed to one peer only (WireGuard's own rule)."""
    peers, keys, owner = [], {}, {}
    for index, item in enumerate(raw):
        peer = normalize_peer(index, item)
        if peer['public_key'] in keys:
            raise v.ValidationError('peers[%d].public_key' % index, 'same key as peers[%d]' % keys[peer['public_key']])
        keys[peer['public_key']] = index
        peers.append(peer)
    for index, peer in enumerate(peers):
        for prefix in peer['allowed_ips']:
            if prefix in owner:
                raise v.ValidationError('peers[%d].allowed_ips' % index,
                                        '%s is already routed to peers[%d]; WireGuard sends a prefix to one peer only'
                                        % (prefix, owner[prefix]))
            owner[prefix] = index
            if table == 'auto' and ipaddress.ip_network(prefix).prefixlen == 0 and not exit_routing:
                raise v.ValidationError('peers[%d].allowed_ips' % index,
                                        '%s with table=auto would replace the default route; to send the host\'s '
                                        'traffic through this peer (an exit node) set exit_routing, which keeps the '
                                        'underlay and the management connection direct' % prefix)
    return peers


def check_mtu(desired):
    """The kernel takes IPv6 off a link whose MTU is below 1280, with its addresses and routes; refuse that MTU."""
    if not desired['mtu'] or desired['mtu'] >= MIN_MTU[6]:
        return
    ipv6 = [a for a in desired['addresses'] if ipaddress.ip_interface(a).version == 6]
    if desired['table'] != 'off':
        ipv6 += [r for r in wanted_routes(desired) if ipaddress.ip_network(r).version == 6]
    if ipv6:
        raise v.ValidationError('mtu', '%d is below %d, the smallest MTU that carries IPv6, and the interface has %s; '
                                       'the kernel would drop its IPv6 addresses and routes'
                                % (desired['mtu'], MIN_MTU[6], ipv6[0]))


def address_sort_key(text):
    iface = ipaddress.ip_interface(text)
    return (iface.version, iface.ip)
