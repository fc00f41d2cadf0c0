# -*- coding: utf-8 -*-
# Copyright: meshforge.vpn contributors
# GNU General Public License v3.0+ (see https://www.gnu.org/licenses/gpl-3.0.txt)
"""Everything about a host's WireGuard state: read it live, compare, change only the difference, persist it.

The pure parts (parsing ``wg show dump``, normalising a desired interface,
computing the difference, rendering the wg-quick file) take and return plain
data so unit tests reach them without a host.  :class:`WireGuardHost` is the
only part that runs commands, always as argument lists through
``module.run_command``.
"""

from __future__ import absolute_import, division, print_function

__metaclass__ = type

import ipaddress
import json
import os
import shutil
import socket
import tempfile
import time

from ansible_collections.meshforge.vpn.plugins.module_utils import files
from ansible_collections.meshforge.vpn.plugins.module_utils.routes import model as rt
from ansible_collections.meshforge.vpn.plugins.module_utils.routes.resource import RouteHost
from ansible_collections.meshforge.vpn.plugins.module_utils.routes.safety import check_routes as check_live_routes, management_connection
from ansible_collections.meshforge.vpn.plugins.module_utils import validation as v
from ansible_collections.meshforge.vpn.plugins.module_utils.common import CommandError, ModuleError

CONNECTED_WITHIN = 180
"""A peer is connected when its latest handshake is at most this many seconds old (NebulaVPN's definition)."""

ROUTE_PROTOCOL = rt.PROTOCOL_WIREGUARD
"""Routes this module adds for allowed IPs carry this protocol number, so only they are ever removed."""

CONFIG_DIR = '/etc/wireguard'
MIN_MTU = {4: 576, 6: 1280}
"""The smallest MTU of each family (RFC 791, RFC 8200)."""
MAX_MTU = 65535
MANAGED_HEADER = '# Managed by meshforge.vpn (wireguard_interface). Local changes are overwritten.\n'


# ---------------------------------------------------------------- parsing --

def _none(value):
    return None if value in ('(none)', '') else value


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
        name = fields[0]
        if len(fields) == 5:
            result[name] = {
                'private_key': _none(fields[1]),
                'public_key': _none(fields[2]),
                'listen_port': int(fields[3]) if fields[3].isdigit() else 0,
                'fwmark': 0 if fields[4] == 'off' else int(fields[4], 0),
                'peers': {},
            }
        elif len(fields) == 9:
            allowed = _none(fields[4])
            result.setdefault(name, {'peers': {}})['peers'][fields[1]] = {
                'public_key': fields[1],
                'preshared_key': _none(fields[2]),
                'endpoint': _none(fields[3]),
                'allowed_ips': sorted(allowed.split(',')) if allowed else [],
                'latest_handshake': int(fields[5]),
                'transfer_rx': int(fields[6]),
                'transfer_tx': int(fields[7]),
                'persistent_keepalive': 0 if fields[8] == 'off' else int(fields[8]),
            }
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


def parse_descriptions(config_text):
    """Peer descriptions from a config file this module wrote (a ``# description`` line before ``PublicKey``)."""
    result = {}
    comment = None
    for line in (config_text or '').splitlines():
        line = line.strip()
        if line.startswith('# ') and line != MANAGED_HEADER.strip():
            comment = line[2:]
        elif line.startswith('PublicKey') and '=' in line:
            if comment:
                result[line.split('=', 1)[1].strip()] = comment
            comment = None
        elif line == '[Interface]':
            comment = None
    return result


# ------------------------------------------------------------ validation --

def peer_options():
    """The options of one wireguard_interface peer: the one definition the module and the planner contract test use."""
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
        mtu=dict(type='int'),
        fwmark=dict(type='str'),
        table=dict(type='str', default='auto'),
        implementation=dict(type='str', choices=['auto', 'kernel', 'userspace'], default='auto'),
        purge=dict(type='bool', default=True, aliases=['purge_peers']),
        persist=dict(type='bool', default=True),
        peers=dict(type='list', elements='dict', default=[], options=peer_options()),
    )


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


def normalize_interface(params):
    """Check every option of wireguard_interface and return the desired state; raises ValidationError."""
    name = v.interface_name('name', params['name'])
    desired = {'name': name, 'state': params.get('state', 'present')}
    if desired['state'] == 'absent':
        return desired
    addresses = [v.interface_address('addresses[%d]' % i, a) for i, a in enumerate(params.get('addresses') or [])]
    seen = set()
    for i, addr in enumerate(addresses):
        if addr.ip in seen:
            raise v.ValidationError('addresses[%d]' % i, '%s is listed twice' % addr.ip)
        seen.add(addr.ip)
    table = str(params.get('table') or 'auto')
    if table not in ('auto', 'off'):
        table = str(v.integer('table', table, 1, 0xffffffff))
    desired.update({
        'addresses': sorted((str(a) for a in addresses), key=_address_sort_key),
        'listen_port': v.port('listen_port', params['listen_port'], allow_zero=True) if params.get('listen_port') is not None else 0,
        'private_key_file': v.host_path('private_key_file', params.get('private_key_file') or '%s/%s.key' % (CONFIG_DIR, name)),
        'mtu': v.integer('mtu', params['mtu'], MIN_MTU[4], MAX_MTU) if params.get('mtu') else None,
        'fwmark': v.fwmark('fwmark', params.get('fwmark')),
        'table': table,
        'implementation': params.get('implementation') or 'auto',
        'purge_peers': params.get('purge', params.get('purge_peers', True)),
        'persist': params.get('persist', True),
        'peers': [],
    })
    keys = {}
    for index, raw in enumerate(params.get('peers') or []):
        peer = normalize_peer(index, raw)
        if peer['public_key'] in keys:
            raise v.ValidationError('peers[%d].public_key' % index, 'same key as peers[%d]' % keys[peer['public_key']])
        keys[peer['public_key']] = index
        desired['peers'].append(peer)
    owner = {}
    for index, peer in enumerate(desired['peers']):
        for prefix in peer['allowed_ips']:
            if prefix in owner:
                raise v.ValidationError('peers[%d].allowed_ips' % index,
                                        '%s is already routed to peers[%d]; WireGuard sends a prefix to one peer only'
                                        % (prefix, owner[prefix]))
            owner[prefix] = index
            if table == 'auto' and ipaddress.ip_network(prefix).prefixlen == 0:
                raise v.ValidationError('peers[%d].allowed_ips' % index,
                                        '%s with table=auto would replace the default route; set table: off '
                                        'and route it yourself' % prefix)
    check_mtu(desired)
    return desired


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


def _address_sort_key(text):
    iface = ipaddress.ip_interface(text)
    return (iface.version, iface.ip)


# ------------------------------------------------------- difference --

def endpoint_matches(desired, live, resolve=None):
    """True when the live endpoint is the desired one (a DNS name matches any of its addresses)."""
    if desired is None:
        return True
    if live is None:
        return False
    if desired == live:
        return True
    host, port = desired.rsplit(':', 1)
    host = host.strip('[]')
    live_host, live_port = live.rsplit(':', 1)
    if port != live_port:
        return False
    try:
        ipaddress.ip_address(host)
        return False
    except ValueError:
        pass
    resolve = resolve or _resolve
    return live_host.strip('[]') in resolve(host, int(port))


def _resolve(host, port):
    try:
        return set(info[4][0] for info in socket.getaddrinfo(host, port, 0, socket.SOCK_DGRAM))
    except socket.gaierror:
        return set()


def peer_changes(desired, live, psk_value, now=None, resolve=None):
    """The fields of one peer that differ from the live peer (empty when nothing differs).

    A peer connected at another endpoint than the configured one has roamed
    (NAT, mobile): WireGuard follows it, and so does this comparison, or every
    run would report a change.
    """
    changes = []
    if desired['allowed_ips'] != live['allowed_ips']:
        changes.append('allowed_ips')
    if desired['persistent_keepalive'] != live['persistent_keepalive']:
        changes.append('persistent_keepalive')
    if psk_value != live['preshared_key']:
        changes.append('preshared_key')
    if not endpoint_matches(desired['endpoint'], live['endpoint'], resolve):
        if not peer_status(live, now)['connected'] or live['endpoint'] is None:
            changes.append('endpoint')
    return changes


def describe(state, descriptions):
    """A readable, secret-free text of an interface, for diff mode."""
    if state is None:
        return ''
    lines = ['interface %s' % state['name'],
             '  addresses: %s' % ', '.join(state['addresses']),
             '  listen_port: %s' % state['listen_port'],
             '  mtu: %s' % (state['mtu'] or 'default'),
             '  fwmark: %s' % (hex(state['fwmark']) if state['fwmark'] else 'off'),
             '  private_key: %s' % state['private_key'],
             '  up: %s' % state['up']]
    for peer in sorted(state['peers'], key=lambda p: (descriptions.get(p['public_key']) or '', p['public_key'])):
        lines.append('peer %s (%s)' % (peer['public_key'], descriptions.get(peer['public_key']) or 'no description'))
        lines.append('  endpoint: %s' % (peer['endpoint'] or 'none'))
        lines.append('  allowed_ips: %s' % ', '.join(peer['allowed_ips']))
        lines.append('  persistent_keepalive: %s' % (peer['persistent_keepalive'] or 'off'))
        lines.append('  preshared_key: %s' % ('set' if peer['preshared_key'] else 'none'))
    for route in state.get('routes', []):
        lines.append('route %s dev %s' % (route, state['name']))
    return '\n'.join(lines) + '\n'


def render_config(desired):
    """The wg-quick file for ``desired``.  Key files stay where they are: PostUp loads them.

    Only a preshared key given as a value (no file) is written into the file, which is mode 0600.
    """
    out = [MANAGED_HEADER, '[Interface]\n']
    if desired['addresses']:
        out.append('Address = %s\n' % ', '.join(desired['addresses']))
    if desired['listen_port']:
        out.append('ListenPort = %d\n' % desired['listen_port'])
    if desired['mtu']:
        out.append('MTU = %d\n' % desired['mtu'])
    if desired['fwmark']:
        out.append('FwMark = %s\n' % hex(desired['fwmark']))
    # wg-quick's own routes would carry protocol "boot", which a later run would not recognise as its own:
    # routing is off for wg-quick and PostUp adds the routes exactly as apply() does.
    out.append('Table = off\n')
    out.append('PostUp = wg set %%i private-key %s\n' % desired['private_key_file'])
    for route in wanted_routes(desired):
        out.append('PostUp = ip route replace %s\n' % ' '.join(rt.route_args(_route(route, '%i', desired['table']), ROUTE_PROTOCOL)))
    for peer in desired['peers']:
        if peer['preshared_key_file']:
            out.append('PostUp = wg set %%i peer %s preshared-key %s\n' % (peer['public_key'], peer['preshared_key_file']))
    for peer in desired['peers']:
        out.append('\n')
        if peer.get('name') or peer['description']:
            out.append('# %s\n' % (peer.get('name') or peer['description']))
        out.append('[Peer]\nPublicKey = %s\n' % peer['public_key'])
        if peer['preshared_key']:
            out.append('PresharedKey = %s\n' % peer['preshared_key'])
        if peer['endpoint']:
            out.append('Endpoint = %s\n' % peer['endpoint'])
        if peer['allowed_ips']:
            out.append('AllowedIPs = %s\n' % ', '.join(peer['allowed_ips']))
        if peer['persistent_keepalive']:
            out.append('PersistentKeepalive = %d\n' % peer['persistent_keepalive'])
    return ''.join(out)


def route_table(table):
    """The kernel routing table behind the ``table`` option (``off`` still names where old routes are)."""
    return 'main' if table in ('auto', 'off') else table


def _route(prefix, name, table):
    """A route into the interface in the shape of module_utils/routes.py."""
    return {'dst': prefix, 'dev': name, 'table': route_table(table)}


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


# ---------------------------------------------------------------- host --

class MissingTool(ModuleError):
    """A command the module needs is not installed."""

    def fail_keys(self):
        return {'missing_tools': True}


class WireGuardHost(object):
    """Reads and changes WireGuard, links, addresses and routes on this host."""

    def __init__(self, module):
        self.module = module

    def run(self, args, data=None, environ=None):
        rc, out, err = self.module.run_command(args, data=data, binary_data=data is not None,
                                               environ_update=environ or {})
        if rc != 0:
            raise CommandError(args, rc, err or out)
        return out

    def tool(self, name, required=True):
        return self.module.get_bin_path(name, required=required)

    # reading --
    def dump(self, name=None):
        wg = self.tool('wg')
        if name:
            rc, out, err = self.module.run_command([wg, 'show', name, 'dump'])
            if rc != 0:
                return None
            return parse_dump(out, name)[name]
        return parse_dump(self.run([wg, 'show', 'all', 'dump']))

    def link(self, name):
        rc, out, err = self.module.run_command([self.tool('ip'), '-d', '-j', 'link', 'show', 'dev', name])
        if rc != 0:
            return None
        info = json.loads(out)[0]
        kind = (info.get('linkinfo') or {}).get('info_kind')
        return {
            'mtu': info.get('mtu'),
            'up': 'UP' in info.get('flags', []),
            'implementation': 'kernel' if kind == 'wireguard' else 'userspace',
        }

    def addresses(self, name, link_local=()):
        """The link's addresses; of the link-local ones only those in ``link_local`` (the kernel makes its own)."""
        out = self.run([self.tool('ip'), '-j', 'address', 'show', 'dev', name])
        found = []
        for link in json.loads(out):
            for addr in link.get('addr_info', []):
                text = '%s/%s' % (addr['local'], addr['prefixlen'])
                if addr.get('scope') == 'link' and text not in link_local:
                    continue
                found.append(text)
        return sorted(found, key=_address_sort_key)

    def routes(self, name, table):
        """Prefixes of the routes into ``name`` in ``table`` that carry this module's protocol."""
        host = RouteHost(self.module)
        return sorted(route['dst'] for family in (4, 6) for route in host.tagged(family, ROUTE_PROTOCOL, table, name))

    def kernel_module_present(self):
        """Best guess without changing anything; creation falls back to userspace when it is wrong."""
        if os.path.isdir('/sys/module/wireguard'):
            return True
        release = os.uname()[2]
        for index in ('modules.builtin', 'modules.dep'):
            text = files.read_text('/lib/modules/%s/%s' % (release, index)) or ''
            if '/wireguard.ko' in text:
                return True
        return False

    # changing --
    def create(self, name, implementation):
        """Create the link; returns the implementation used."""
        if implementation in ('auto', 'kernel'):
            rc, out, err = self.module.run_command([self.tool('ip'), 'link', 'add', 'dev', name, 'type', 'wireguard'])
            if rc == 0:
                return 'kernel'
            if implementation == 'kernel':
                raise CommandError(['ip', 'link', 'add', 'dev', name, 'type', 'wireguard'], rc,
                                   err + ' (the kernel has no WireGuard; use implementation: userspace or auto)')
        wireguard_go = self.module.get_bin_path('wireguard-go')
        if not wireguard_go:
            raise CommandError(['wireguard-go'], 127, 'the kernel has no WireGuard and wireguard-go is not installed')
        # wireguard-go detaches itself; with LOG_LEVEL empty its daemon half writes to /dev/null instead of
        # keeping our pipes, which would otherwise kill it with SIGPIPE once this module exits.
        self.run([wireguard_go, name], environ={'LOG_LEVEL': ''})
        return 'userspace'

    def delete(self, name):
        self.run([self.tool('ip'), 'link', 'delete', 'dev', name])

    def wg_set(self, name, args):
        self.run([self.tool('wg'), 'set', name] + args)

    def ip(self, args):
        self.run([self.tool('ip')] + args)


def private_key_public(host, private_key):
    return host.run([host.tool('wg'), 'pubkey'], data=private_key + '\n').strip()


class InterfaceManager(object):
    """Plans and applies one interface: the body of the wireguard_interface module."""

    def __init__(self, module, host=None):
        self.module = module
        self.host = host or WireGuardHost(module)

    def live_state(self, name, table, link_local=()):
        """The interface as the kernel has it; ``link_local`` are the link-local addresses that count (see addresses)."""
        link = self.host.link(name)
        if link is None:
            return None
        dump = self.host.dump(name) or {'private_key': None, 'public_key': None, 'listen_port': 0, 'fwmark': 0, 'peers': {}}
        return {
            'name': name,
            'implementation': link['implementation'],
            'up': link['up'],
            'mtu': link['mtu'],
            'addresses': self.host.addresses(name, link_local),
            'listen_port': dump['listen_port'],
            'fwmark': dump['fwmark'],
            'private_key_value': dump['private_key'],
            'public_key': dump['public_key'],
            'peers': dump['peers'],
            'routes': self.host.routes(name, route_table(table)),
        }

    def read_psks(self, desired):
        """Preshared key values by peer public key; values are registered as secrets at once."""
        values = {}
        for index, peer in enumerate(desired['peers']):
            value = peer['preshared_key']
            if peer['preshared_key_file']:
                text = files.read_text(peer['preshared_key_file'])
                if text is None:
                    raise v.ValidationError('peers[%d].preshared_key_file' % index,
                                            '%s does not exist on the host' % peer['preshared_key_file'])
                value = v.wireguard_key('peers[%d].preshared_key_file' % index, text.strip())
            if value:
                self.module.no_log_values.add(value)
            values[peer['public_key']] = value
        return values

    def plan(self, desired, live, private_key, psks, now=None):
        """What must change: a dict of steps, each empty when nothing is to be done."""
        steps = {'create': live is None, 'interface': [], 'addresses_add': [], 'addresses_del': [],
                 'mtu': None, 'up': False, 'peers_add': [], 'peers_change': {}, 'peers_remove': [],
                 'routes_add': [], 'routes_del': []}
        live = live or {'addresses': [], 'listen_port': 0, 'fwmark': 0, 'private_key_value': None,
                        'peers': {}, 'mtu': None, 'up': False, 'routes': []}
        if live['private_key_value'] != private_key:
            steps['interface'].append('private_key')
        if desired['listen_port'] and live['listen_port'] != desired['listen_port']:
            steps['interface'].append('listen_port')
        if live['fwmark'] != desired['fwmark']:
            steps['interface'].append('fwmark')
        steps['addresses_add'] = [a for a in desired['addresses'] if a not in live['addresses']]
        steps['addresses_del'] = [a for a in live['addresses'] if a not in desired['addresses']]
        if desired['mtu'] and live['mtu'] != desired['mtu']:
            steps['mtu'] = desired['mtu']
        steps['up'] = not live['up']
        wanted = set(p['public_key'] for p in desired['peers'])
        for peer in desired['peers']:
            current = live['peers'].get(peer['public_key'])
            if current is None:
                steps['peers_add'].append(peer['public_key'])
            else:
                changed = peer_changes(peer, current, psks.get(peer['public_key']), now)
                if changed:
                    steps['peers_change'][peer['public_key']] = changed
        if desired.get('purge_peers', True):
            steps['peers_remove'] = sorted(k for k in live['peers'] if k not in wanted)
        routes = wanted_routes(desired)
        steps['routes_add'] = [r for r in routes if r not in live['routes']]
        steps['routes_del'] = [r for r in live['routes'] if r not in routes]
        return steps

    def apply(self, desired, steps, psks, implementation):
        name = desired['name']
        used = None
        if steps['create']:
            used = self.host.create(name, implementation)
        args = []
        if 'private_key' in steps['interface']:
            args += ['private-key', desired['private_key_file']]
        if 'listen_port' in steps['interface']:
            args += ['listen-port', str(desired['listen_port'])]
        if 'fwmark' in steps['interface']:
            args += ['fwmark', hex(desired['fwmark']) if desired['fwmark'] else 'off']
        for key in steps['peers_remove']:
            args += ['peer', key, 'remove']
        tmpdir = None
        try:
            by_key = dict((p['public_key'], p) for p in desired['peers'])
            for key in steps['peers_add'] + sorted(steps['peers_change']):
                peer = by_key[key]
                args += ['peer', key, 'allowed-ips', ','.join(peer['allowed_ips']),
                         'persistent-keepalive', str(peer['persistent_keepalive'] or 'off')]
                # a roamed peer (see peer_changes) keeps its live endpoint when only other settings change
                if peer['endpoint'] and 'endpoint' in steps['peers_change'].get(key, ['endpoint']):
                    args += ['endpoint', peer['endpoint']]
                if psks.get(key):
                    if peer['preshared_key_file']:
                        args += ['preshared-key', peer['preshared_key_file']]
                    else:
                        # wg reads keys only from files: a private directory that is removed at once.
                        tmpdir = tmpdir or tempfile.mkdtemp(prefix='.meshforge-', dir=CONFIG_DIR)
                        path = os.path.join(tmpdir, '%d.psk' % len(os.listdir(tmpdir)))
                        files.write_atomic(path, psks[key] + '\n', 0o600)
                        args += ['preshared-key', path]
                else:
                    args += ['preshared-key', '/dev/null']
            if args:
                self.host.wg_set(name, args)
        finally:
            if tmpdir:
                shutil.rmtree(tmpdir, ignore_errors=True)
        for addr in steps['addresses_del']:
            self.host.ip(['address', 'del', addr, 'dev', name])
        for addr in steps['addresses_add']:
            self.host.ip(['address', 'add', addr, 'dev', name])
        if steps['mtu']:
            self.host.ip(['link', 'set', 'dev', name, 'mtu', str(steps['mtu'])])
        if steps['up']:
            self.host.ip(['link', 'set', 'dev', name, 'up'])
        routes = RouteHost(self.module)
        for route in steps['routes_del']:
            routes.delete(_route(route, name, desired['table']), ROUTE_PROTOCOL)
        for route in steps['routes_add']:
            routes.replace(_route(route, name, desired['table']), ROUTE_PROTOCOL)
        return used


def steps_changed(steps):
    return any(bool(value) for value in steps.values())


def live_as_described(live, private_key_file, private_key_matches):
    """The live state in the shape :func:`describe` prints."""
    if live is None:
        return None
    return {
        'name': live['name'], 'addresses': live['addresses'], 'listen_port': live['listen_port'],
        'mtu': live['mtu'], 'fwmark': live['fwmark'], 'up': live['up'],
        'private_key': ('from %s' % private_key_file) if private_key_matches else
                       ('set, not from %s' % private_key_file if live['private_key_value'] else 'none'),
        'peers': list(live['peers'].values()), 'routes': live['routes'],
    }


def desired_as_described(desired, psks, live=None):
    return {
        'name': desired['name'], 'addresses': desired['addresses'],
        'listen_port': desired['listen_port'] or (live['listen_port'] if live else 'random'),
        'mtu': desired['mtu'] or (live['mtu'] if live else None), 'fwmark': desired['fwmark'], 'up': True,
        'private_key': 'from %s' % desired['private_key_file'],
        'peers': [dict(p, preshared_key=psks.get(p['public_key'])) for p in desired['peers']],
        'routes': wanted_routes(desired),
    }


def systemd_running():
    return os.path.isdir('/run/systemd/system')


USERSPACE_DROPIN = ('# Managed by meshforge.vpn: this kernel has no WireGuard.\n'
                    '[Service]\nEnvironment=WG_QUICK_USERSPACE_IMPLEMENTATION=wireguard-go\n')


def dropin_path(name):
    return '/etc/systemd/system/wg-quick@%s.service.d/meshforge-userspace.conf' % name


def unit_enabled(module, name):
    systemctl = module.get_bin_path('systemctl')
    if not systemctl:
        return True
    rc, out, err = module.run_command([systemctl, 'is-enabled', 'wg-quick@%s' % name])
    return out.strip() == 'enabled'


# ------------------------------------------------------------ modules --

def read_key_text(path, field):
    """The text of the key file at ``path``, or None when it does not exist; a directory or an unreadable file is
    refused naming ``field``."""
    try:
        return files.read_text(path)
    except (IOError, OSError) as exc:
        raise v.ValidationError(field, '%s cannot be read as a key file: %s' % (path, (exc.strerror or exc).lower()))


def read_private_key(module, path, field='private_key_file'):
    """The key in ``path`` (registered as a secret), or None when the file does not exist."""
    text = read_key_text(path, field)
    if text is None:
        return None
    key = text.strip()
    module.no_log_values.add(key)
    return v.wireguard_key(field, key)


def manage_interface(module, connection=None):
    """Make one WireGuard interface match the module's parameters; returns the module result.

    ``connection`` is the management SSH connection (read from the environment when None).
    """
    desired = normalize_interface(module.params)
    name = desired['name']
    config_path = v.host_path('name', '%s/%s.conf' % (CONFIG_DIR, name))
    manager = InterfaceManager(module)
    host = manager.host
    if desired['state'] == 'absent':
        return remove_interface(module, host, name, config_path)

    private_key = read_private_key(module, desired['private_key_file'])
    if private_key is None and not module.check_mode:
        raise v.ValidationError('private_key_file', '%s does not exist on the host; create it with '
                                'meshforge.vpn.wireguard_key first' % desired['private_key_file'])
    psks = manager.read_psks(desired)
    old_config = files.read_text(config_path)
    # link-local addresses count when they are wanted or were written before; the kernel's own never do
    link_local = set(desired['addresses']) | set(config_addresses(old_config))
    live = manager.live_state(name, desired['table'], link_local)
    steps = manager.plan(desired, live, private_key, psks)
    if steps['routes_add']:
        check_routes(module, desired, live, steps['routes_add'], connection)

    config = render_config(desired)
    config_changed = desired['persist'] and files.file_needs_change(config_path, config, 0o600)
    service = service_steps(module, name, desired, live) if desired['persist'] else {}
    changed = steps_changed(steps) or config_changed or steps_changed(service)

    descriptions = parse_descriptions(old_config)
    descriptions.update((p['public_key'], p.get('name') or p['description']) for p in desired['peers'] if p.get('name') or p['description'])
    result = {
        'changed': changed,
        'peers_added': [_peer_ref(k, descriptions) for k in steps['peers_add']],
        'peers_removed': [_peer_ref(k, descriptions) for k in steps['peers_remove']],
        'peers_changed': [dict(_peer_ref(k, descriptions), fields=f) for k, f in sorted(steps['peers_change'].items())],
        'config_file': config_path if desired['persist'] else None,
        'config_changed': bool(config_changed),
        'implementation': live['implementation'] if live else None,
    }
    if module._diff:
        before = describe(live_as_described(live, desired['private_key_file'], live and live['private_key_value'] == private_key),
                          descriptions)
        after = describe(desired_as_described(desired, psks, live), descriptions)
        if config_changed:
            before += 'config %s: %s\n' % (config_path, 'present' if old_config is not None else 'absent')
            after += 'config %s: updated\n' % config_path
        for key, value in sorted(service.items()):
            if value:
                after += 'service: %s\n' % key
        result['diff'] = {'before': before, 'after': after,
                          'before_header': 'live %s' % name, 'after_header': 'desired %s' % name}

    if not module.check_mode and changed:
        if config_changed:
            files.write_atomic(config_path, config, 0o600)
        if steps['create'] and service:
            # Where systemd runs, the unit brings a new interface up from the file just written, so that
            # systemd knows it as active (a later restart or stop works); what is left is applied below.
            apply_service(module, name, service, desired['implementation'], start=True)
            live = manager.live_state(name, desired['table'], link_local)
            steps = manager.plan(desired, live, private_key, psks)
            result['implementation'] = live['implementation'] if live else None
        else:
            apply_service(module, name, service, result['implementation'] or desired['implementation'])
        used = manager.apply(desired, steps, psks, desired['implementation'])
        if used:
            result['implementation'] = used
    if result['implementation'] is None and module.check_mode:
        result['implementation'] = desired['implementation']
    if live and live['private_key_value'] == private_key and private_key:
        # the interface already runs this key: wg show gave its public half
        result['public_key'] = live['public_key']
    else:
        result['public_key'] = private_key_public(host, private_key) if private_key else None
    return result


def config_addresses(config_text):
    """The addresses of the ``Address`` lines of a wg-quick file."""
    found = []
    for line in (config_text or '').splitlines():
        words = line.split('=', 1)
        if len(words) == 2 and words[0].strip() == 'Address':
            found += [a.strip() for a in words[1].split(',') if a.strip()]
    return found


def endpoint_addresses(desired, live, resolve=None):
    """The addresses the peers are reached at: configured (a DNS name resolved) and, for roamed peers, live."""
    found = set()
    live_peers = live['peers'] if live else {}
    for peer in desired['peers']:
        endpoints = [peer['endpoint'], (live_peers.get(peer['public_key']) or {}).get('endpoint')]
        for endpoint in [e for e in endpoints if e]:
            host, port = endpoint.rsplit(':', 1)
            host = host.strip('[]')
            try:
                found.add(str(ipaddress.ip_address(host)))
            except ValueError:
                found |= set(a.split('%', 1)[0] for a in (resolve or _resolve)(host, int(port)))
    return sorted(found)


def check_routes(module, desired, live, prefixes, connection=None):
    """Refuse routes to allowed IPs that would replace another owner's route or capture the management
    connection, a peer's endpoint or a connected network (see routes.check_routes)."""
    table = route_table(desired['table'])
    table = rt.BUILTIN_TABLES['main'] if table == 'main' else int(table)
    fields = {}
    for index, peer in enumerate(desired['peers']):
        for prefix in peer['allowed_ips']:
            fields.setdefault(prefix, 'peers[%d].allowed_ips' % index)

    def route(prefix):
        family = ipaddress.ip_network(prefix).version
        return {'dst': prefix, 'dev': desired['name'], 'gateway': None, 'src': None, 'table': table,
                'metric': rt.DEFAULT_METRIC[family]}

    owned = [rt.key(route(prefix)) for prefix in (live['routes'] if live else [])]
    check_live_routes(RouteHost(module), [(fields[p], route(p)) for p in prefixes], owned,
                      management_connection() if connection is None else connection, endpoint_addresses(desired, live))


def _peer_ref(key, descriptions):
    return {'public_key': key, 'description': descriptions.get(key)}


def service_steps(module, name, desired, live):
    """What the wg-quick@ unit needs so the interface comes back after a reboot (systemd hosts only)."""
    if not systemd_running():
        return {}
    implementation = live['implementation'] if live else desired['implementation']
    steps = {}
    if implementation == 'userspace' or (implementation == 'auto' and not WireGuardHost(module).kernel_module_present()):
        steps['dropin'] = files.file_needs_change(dropin_path(name), USERSPACE_DROPIN, 0o644)
    steps['enable'] = not unit_enabled(module, name)
    return steps


def apply_service(module, name, steps, implementation, start=False):
    systemctl = module.get_bin_path('systemctl')
    if not steps or not systemctl:
        return
    if steps.get('dropin'):
        files.ensure_file(dropin_path(name), USERSPACE_DROPIN, 0o644, dir_mode=0o755)
        WireGuardHost(module).run([systemctl, 'daemon-reload'])
    if steps.get('enable') or start:
        WireGuardHost(module).run([systemctl, 'enable'] + (['--now'] if start else []) + ['wg-quick@%s' % name])


def remove_interface(module, host, name, config_path):
    live = host.link(name)
    config_exists = files.read_text(config_path) is not None
    enabled = systemd_running() and unit_enabled(module, name)
    dropin = systemd_running() and os.path.exists(dropin_path(name))
    changed = bool(live) or config_exists or enabled or dropin
    result = {'changed': changed, 'peers_added': [], 'peers_changed': [], 'config_file': config_path,
              'config_changed': config_exists, 'implementation': live['implementation'] if live else None}
    if module._diff:
        result['diff'] = {'before': 'interface %s: %s\nconfig %s: %s\n' % (
            name, 'present' if live else 'absent', config_path, 'present' if config_exists else 'absent'),
            'after': 'interface %s: absent\nconfig %s: absent\n' % (name, config_path)}
    dump = host.dump(name) if live and host.tool('wg', required=False) else None
    descriptions = parse_descriptions(files.read_text(config_path))
    result['peers_removed'] = [_peer_ref(k, descriptions) for k in sorted(dump['peers'])] if dump else []
    if module.check_mode or not changed:
        return result
    systemctl = module.get_bin_path('systemctl')
    if enabled and systemctl:
        # --now stops the unit too (wg-quick down), so systemd does not keep a unit for a missing interface
        host.run([systemctl, 'disable', '--now', 'wg-quick@%s' % name])
    if host.link(name):
        host.delete(name)
    files.remove(config_path)
    if dropin:
        files.remove(dropin_path(name))
        host.run([systemctl, 'daemon-reload'])
    return result


def check_key_file(module, path):
    """Refuse to remove ``path`` unless it holds exactly one WireGuard key: one line, base64 of 32 bytes.

    A wrong path (the interface's config, any other file) must not cost the host that file.
    """
    problem = 'is not a WireGuard key file (exactly one line of base64 of 32 bytes)'
    key = read_key_text(path, 'path')
    key = key[:-1] if key.endswith('\n') else key
    try:
        v.wireguard_key('path', key)
    except v.ValidationError:
        raise v.ValidationError('path', '%s %s; it is not removed' % (path, problem))
    module.no_log_values.add(key)
    if key != key.strip():
        raise v.ValidationError('path', '%s %s; it is not removed' % (path, problem))


def generate_private_key(host):
    return host.run([host.tool('wg'), 'genkey']).strip()


def manage_key(module):
    """Ensure (or rotate, or remove) a private key file; returns the module result with the public key only."""
    path = v.host_path('path', module.params['path'])
    state = module.params['state']
    host = WireGuardHost(module)
    if state == 'present' and not host.tool('wg', required=False):
        raise MissingTool('wg (package wireguard-tools) is not installed')
    mode = files.file_mode(path)
    result = {'path': path, 'public_key': None, 'changed': False, 'rotated': False}
    if state == 'absent':
        if mode is not None:
            check_key_file(module, path)
        result['changed'] = mode is not None
        if module._diff:
            result['diff'] = {'before': 'key %s: present\n' % path if mode is not None else '',
                              'after': ''}
        if result['changed'] and not module.check_mode:
            files.remove(path)
        return result

    existing = read_private_key(module, path, 'path')

    create = existing is None or module.params['rotate']
    fix_mode = not create and mode != 0o600
    result['changed'] = create or fix_mode
    result['rotated'] = bool(existing is not None and module.params['rotate'])
    if module._diff:
        before = 'key %s: %s\n' % (path, 'absent' if existing is None else 'present, mode %04o' % mode)
        after = 'key %s: %s, mode 0600\n' % (path, 'new key' if create else 'present')
        result['diff'] = {'before': before, 'after': after}
    if module.check_mode:
        if not create:
            result['public_key'] = private_key_public(host, existing)
        return result
    if create:
        key = generate_private_key(host)
        module.no_log_values.add(key)
        files.write_atomic(path, key + '\n', 0o600)
        existing = key
    elif fix_mode:
        os.chmod(path, 0o600)
    result['public_key'] = private_key_public(host, existing)
    return result


def gather_info(module, name=None):
    """Live status of one or every WireGuard interface, in the operators' shape, without secrets."""
    host = WireGuardHost(module)
    now = time.time()
    if name:
        one = host.dump(name)
        interfaces = {name: one} if one is not None else {}
    else:
        interfaces = host.dump()
    result = {}
    for ifname, state in sorted(interfaces.items()):
        link = host.link(ifname) or {}
        descriptions = parse_descriptions(files.read_text('%s/%s.conf' % (CONFIG_DIR, ifname)))
        peers = []
        for key, peer in sorted(state['peers'].items()):
            status = peer_status(peer, now)
            status['description'] = descriptions.get(key)
            peers.append(status)
        result[ifname] = {
            'name': ifname,
            'public_key': state.get('public_key'),
            'listen_port': state.get('listen_port'),
            'fwmark': state.get('fwmark'),
            'implementation': link.get('implementation'),
            'up': link.get('up'),
            'mtu': link.get('mtu'),
            'addresses': host.addresses(ifname) if link else [],
            'peers': peers,
            'peers_total': len(peers),
            'peers_connected': sum(1 for p in peers if p['connected']),
        }
    return result
