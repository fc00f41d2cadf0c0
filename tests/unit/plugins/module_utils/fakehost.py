# -*- coding: utf-8 -*-
# Copyright: meshforge.vpn contributors
# GNU General Public License v3.0+ (see https://www.gnu.org/licenses/gpl-3.0.txt)
"""The one fake Linux host of the unit tests, for every driver that runs commands (module_utils/wireguard, routes,
nftables): ``ip`` over one model of links, addresses and routes in numbered tables; ``wg`` and ``wireguard-go``
over the WireGuard state of its links; ``nft`` over its tables; ``systemctl`` over its units, where
``wg-quick@<if>`` brings an interface up from its file as wg-quick does.  After the host: :func:`install`, which
points the drivers at it for what they read without a command; the keys and parameters the tests drive them with;
and one run of a driver function against it.

The commands are honest.  Each parses the argv a driver sends as the real tool does; what the real tool refuses it
refuses with the same exit code and message (iproute2 6.1, nftables 1.0.6 and wireguard-tools on Linux 6.x, as
read on such a host): a device that does not exist or is down, a gateway no connected network reaches, a routing
table the kernel does not have yet, a key that is not one, an element that overlaps an interval or is not in its
set.  An argv it does not know raises AssertionError.  So a test cannot pass on a command the real tool would reject.
Every command is recorded (fakes.CommandLog), one that writes as changing whether it succeeds or not, so a test of
check mode asserts ``changing_commands() == []``.

Left out: loopback and the local table; a listed nft rule shows one placeholder expression (the drivers know their
rules by the fingerprint in the comment, and ``nft_rejects`` stands for nft refusing an expression); key files are
read from the real (temporary) file system, as ``wg set`` reads them.
"""

from __future__ import absolute_import, division, print_function

__metaclass__ = type

import base64
import copy
import hashlib
import ipaddress
import json
import os
import re
import shlex
import signal
import time

from ansible_collections.meshforge.vpn.plugins.module_utils import files, supervise
from ansible_collections.meshforge.vpn.plugins.module_utils.dns import resolver as dns_resolver
from ansible_collections.meshforge.vpn.plugins.module_utils.routes import resource as routes_resource
from ansible_collections.meshforge.vpn.plugins.module_utils.routes import safety
from ansible_collections.meshforge.vpn.plugins.module_utils.wireguard import endpoints, interface, schema, service
from ansible_collections.meshforge.vpn.plugins.module_utils.wireguard.host import WireGuardHost
from ansible_collections.meshforge.vpn.tests.unit.plugins.module_utils.fakes import CommandLog, FakeModule

TABLES = {'default': 253, 'main': 254, 'local': 255}
"""The table names every iproute2 knows; a host's own are in its ``table_names`` (rt_tables)."""
PROTOCOLS = {'redirect': '1', 'kernel': '2', 'boot': '3', 'static': '4', 'dhcp': '16'}
"""The protocol names ip prints instead of their numbers."""
DEFAULT_METRIC = {4: 0, 6: 1024}
WG_KINDS = ('wireguard', 'tun')
"""Links that ``wg`` talks to: the kernel's, and wireguard-go's TUN device."""
STATE_KEYS = ('links', 'routes', 'rules', 'fib_tables', 'nft', 'enabled_units', 'active_units', 'genkey_count',
              'daemon_reloads', 'processes', 'resolved')
"""What a command may change: a check-mode run leaves all of it as it was."""


class Fail(Exception):
    """A command the real tool refuses: its exit code and standard error."""

    def __init__(self, rc, err, out=''):
        super(Fail, self).__init__(err)
        self.rc, self.err, self.out = rc, err, out


def public_of(private_key):
    """The fake host's ``wg pubkey``: a deterministic 32-byte value derived from the private key."""
    raw = base64.b64decode(private_key.strip())
    return base64.b64encode(hashlib.sha256(b'pub' + raw).digest()).decode()


def make_key(seed):
    return base64.b64encode(hashlib.sha256(seed.encode()).digest()).decode()


def is_key(text):
    try:
        return len(base64.b64decode(text, validate=True)) == 32 and len(text) == 44
    except ValueError:
        return False


def _words(args, keywords, single=()):
    """iproute2's ``keyword value`` arguments in any order (a repeated one: the last wins), and the ``single`` words
    found; the fake knows no other word."""
    found, rest = {}, []
    args = list(args)
    while args:
        word = args.pop(0)
        if word in keywords:
            if not args:
                raise Fail(255, 'Command line is not complete. Try option "help"\n')
            found[word] = args.pop(0)
        else:
            assert word in single, 'the fake ip does not know %r' % word
            rest.append(word)
    return found, rest


def _ip_word(text, parse, what, family=None):
    """``parse(text)`` (an address or a prefix, of ``family`` when given), or ip's refusal of the word."""
    try:
        value = parse(text)
    except ValueError:
        raise Fail(1, 'Error: any valid %s is expected rather than "%s".\n' % (what, text))
    if family not in (None, value.version):
        raise Fail(1, 'Error: inet%s %s is expected rather than "%s".\n' % ('' if family == 4 else '6', what, text))
    return value


def _dst_text(net):
    """A destination as ip prints it: ``default``, a bare address for a host route, else the prefix."""
    if net.prefixlen == 0:
        return 'default'
    return str(net.network_address) if net.prefixlen == net.max_prefixlen else str(net)


class FakeHost(CommandLog):
    """A host with no link until a test adds one (:meth:`add_link`, :func:`underlay`) or a driver makes one."""

    bin_dir = '/usr/sbin'

    def __init__(self, kernel_wireguard=True, systemd=False, dns=None):
        super(FakeHost, self).__init__()
        self.tools = set(['ip', 'nft', 'wg', 'wireguard-go', 'systemctl', 'swanctl', 'nebula', 'ssh-keygen', 'dnsmasq',
                          'resolvectl'])
        self.kernel_wireguard = kernel_wireguard
        self.systemd = systemd
        self.dns = dict(dns or {})              # name -> address, for wg set's endpoints and the driver's checks
        self.table_names = dict(TABLES)         # rt_tables
        self.management = None                  # the SSH connection the module came through
        self.links = {}                         # name -> kind, index, mtu, up, addresses (+ WireGuard state)
        self.routes = []                        # family, dst, table, metric, dev, gateway, src, protocol
        self.rules = []                         # ip -j rule show's items with a family, besides the kernel's own
        self.fib_tables = [[f, t] for f in (4, 6) for t in (254, 255)]   # the tables the kernel has, per family
        self.nft = {}                           # (family, name) -> sets, chains, rules
        self.nft_rejects = None                 # text nft refuses wherever a batch holds it
        self.enabled_units, self.active_units = set(), set()
        self.genkey_count = self.daemon_reloads = self.swanctl_loads = 0
        self.restarts = []                      # units restarted, in order
        self.reloads = []                       # units reloaded (ExecReload), in order
        self.processes = {}                     # pid -> argv, netns, alive, returncode, listen, port, hosts, hups
        self.netns = 'net:[4026531840]'         # this host's network namespace (others share the pid space)
        self.boot = []                          # commands run at boot (reboot), e.g. ['ip', '-batch', path]
        self.dir = self.dropins = None          # set by install()
        self.resolved = None                    # systemd-resolved's per-link settings: link -> dns, domains
        self.loaded_dropins = []                # the drop-ins systemd read at its last daemon-reload

    def state(self):
        """Everything a command may change, in one canonical text."""
        found = dict((key, getattr(self, key)) for key in STATE_KEYS)
        found['nft'] = sorted((' '.join(key), table) for key, table in self.nft.items())
        return json.dumps(found, sort_keys=True, default=lambda value: sorted(value, key=str))

    # ------------------------------------------------------------- dispatch --
    def path(self, tool):
        return '%s/%s' % (self.bin_dir, tool)

    def run(self, argv, data=None, environ=None):
        tool = os.path.basename(argv[0])
        assert tool in self.tools and argv[0] == self.path(tool), 'ran %s, which is not installed' % argv[0]
        rc, out, err = self.dispatch(tool, list(argv[1:]), data, environ or {})
        self.record(list(argv), self.writes(tool, argv[1:]))
        return rc, out, err

    def dispatch(self, tool, args, data=None, environ=None):
        try:
            return (0,) + tuple(getattr(self, 'cmd_' + tool.replace('-', '_'))(args, data, environ or {}))
        except Fail as failure:
            return failure.rc, failure.out, failure.err

    @staticmethod
    def writes(tool, args):
        words = [a for a in args if not a.startswith('-')]
        if tool == 'ip':
            return '-batch' in args or words[1] not in ('show', 'get')
        if tool == 'wg':
            return words[0] not in ('show', 'pubkey')
        if tool == 'nft':
            return '--check' not in args and 'list' not in args
        if tool == 'systemctl':
            return words[0] not in ('is-enabled', 'is-active')
        if tool == 'resolvectl':
            return len(words) > 2 or words[0] == 'revert'
        return True

    # ----------------------------------------------------------- resolvectl --
    def cmd_resolvectl(self, args, data, environ):
        """``resolvectl dns|domain LINK [VALUE...]`` and ``resolvectl revert LINK`` over ``self.resolved``."""
        if self.resolved is None:
            raise Fail(1, 'Failed to get global data: Could not activate remote peer \'org.freedesktop.resolve1\'\n')
        verb, name, values = args[0], args[1], args[2:]
        if name not in self.links:
            raise Fail(1, 'Failed to resolve interface "%s": No such device\n' % name)
        if verb == 'revert':
            self.resolved.pop(name, None)
            return '', ''
        assert verb in ('dns', 'domain'), 'the fake resolvectl does not know %s' % verb
        if values:
            self.resolved.setdefault(name, {'dns': [], 'domain': []})[verb] = list(values)
            return '', ''
        held = self.resolved.get(name, {}).get(verb, [])
        return 'Link %d (%s): %s\n' % (self.links[name]['index'], name, ' '.join(held)), ''

    def handshake(self, name, public_key, age, endpoint=None):
        """The peer did a handshake ``age`` seconds ago, from ``endpoint`` if given (roaming)."""
        peer = self.links[name]['peers'][public_key]
        peer['latest_handshake'] = int(time.time() - age)
        if endpoint:
            peer['endpoint'] = endpoint

    # ---------------------------------------------------------------- links --
    def add_link(self, name, kind='ether', addresses=(), up=True):
        """A link as if made earlier (eth0, a LAN, another tunnel) with its addresses; up, it has the kernel's routes
        to their networks."""
        assert name not in self.links, name
        index = max([1] + [other['index'] for other in self.links.values()]) + 1
        link = {'kind': kind, 'index': index, 'mtu': 1500 if kind == 'ether' else 1420, 'up': False,
                'addresses': []}
        if kind in WG_KINDS:
            link.update(private_key=None, listen_port=0, fwmark=0, peers={})
        self.links[name] = link
        for text in addresses:
            self.address_add(name, text)
        if up:
            self.set_up(name)
        return link

    def link_of(self, name, missing='Cannot find device "%s"\n'):
        if name not in self.links:
            raise Fail(1, missing % name)
        return self.links[name]

    def set_up(self, name):
        link = self.links[name]
        link['up'] = True
        if link['kind'] in WG_KINDS and not link['listen_port']:
            link['listen_port'] = 40000 + link['index']         # WireGuard picks a port when none is set
        for text in link['addresses']:
            self.connected_route(name, text, add=True)

    def set_down(self, name):
        self.links[name]['up'] = False
        self.routes = [r for r in self.routes if r['dev'] != name]

    def delete_link(self, name):
        if self.resolved:
            self.resolved.pop(name, None)     # resolved forgets a link that goes
        del self.links[name]
        self.routes = [r for r in self.routes if r['dev'] != name]

    def address_add(self, name, text):
        link = self.links[name]
        iface = ipaddress.ip_interface(text)
        if str(iface) in link['addresses']:
            raise Fail(2, ('Error: ipv4: Address already assigned.\n', 'Error: ipv6: address already assigned.\n')
                       [iface.version == 6])
        link['addresses'].append(str(iface))
        if link['up']:
            self.connected_route(name, str(iface), add=True)

    def address_del(self, name, text):
        link = self.links[name]
        iface = ipaddress.ip_interface(text)
        if str(iface) not in link['addresses']:
            raise Fail(2, ('Error: ipv4: Address not found.\n', 'Error: ipv6: address not found.\n')[iface.version == 6])
        link['addresses'].remove(str(iface))
        if not [a for a in link['addresses'] if ipaddress.ip_interface(a).network == iface.network]:
            self.connected_route(name, str(iface), add=False)

    def connected_route(self, name, text, add):
        """The kernel's route to the network of an address (none for a host address)."""
        iface = ipaddress.ip_interface(text)
        if iface.network.prefixlen == iface.network.max_prefixlen:
            return
        route = {'family': iface.version, 'dst': str(iface.network), 'table': 254,
                 'metric': 0 if iface.version == 4 else 256, 'dev': name, 'gateway': None,
                 'src': str(iface.ip) if iface.version == 4 else None, 'protocol': 'kernel'}
        self.routes = [r for r in self.routes if r != route]
        if add:
            self.routes.append(route)

    def addresses_of(self, family=None):
        return [ipaddress.ip_interface(a) for link in self.links.values() for a in link['addresses']
                if family in (None, ipaddress.ip_interface(a).version)]

    # --------------------------------------------------------------- routes --
    def add_route(self, dst, protocol, dev='eth0', gateway=None, table=254, metric=None, src=None):
        """A route of any owner, as if added earlier; the test answers for it making sense."""
        family = ipaddress.ip_network(dst).version
        table = self.table_id(str(table))
        self.routes.append({'family': family, 'dst': str(ipaddress.ip_network(dst)), 'table': table,
                            'metric': DEFAULT_METRIC[family] if metric is None else metric, 'dev': dev,
                            'gateway': gateway, 'src': src, 'protocol': self.protocol(str(protocol))})
        self.make_fib_table(family, table)

    def make_fib_table(self, family, table):
        if [family, table] not in self.fib_tables:
            self.fib_tables.append([family, table])

    def table_id(self, text):
        if text.isdigit():
            return int(text) or 254
        if text not in self.table_names:
            raise Fail(255, 'Error: argument "%s" is wrong: "table" value is invalid\n\n' % text)
        return self.table_names[text]

    def table_label(self, number):
        names = [name for name, value in sorted(self.table_names.items()) if value == number]
        return names[0] if names else str(number)

    @staticmethod
    def protocol(text):
        if text.isdigit() and 0 <= int(text) <= 255:
            named = [name for name, number in PROTOCOLS.items() if number == text]
            return named[0] if named else text
        if text not in PROTOCOLS:
            raise Fail(255, 'Error: argument "%s" is wrong: "protocol" value is invalid\n\n' % text)
        return text

    def lookup(self, address, table):
        """The route of ``table`` the kernel uses for ``address``: the longest prefix, then the lowest metric."""
        found = [r for r in self.routes if r['table'] == table and r['family'] == address.version
                 and address in ipaddress.ip_network(r['dst'])]
        return max(found, key=lambda r: (ipaddress.ip_network(r['dst']).prefixlen, -r['metric'])) if found else None

    def route_json(self, route, shown):
        """A route as ``ip -j route show`` prints it: what a selector fixed (dev, proto, one table) is left out."""
        item = {'dst': _dst_text(ipaddress.ip_network(route['dst']))}
        if route['gateway']:
            item['gateway'] = route['gateway']
        if 'dev' not in shown:
            item['dev'] = route['dev']
        if shown.get('table') == 'all' and route['table'] != 254:
            item['table'] = self.table_label(route['table'])
        if 'proto' not in shown and route['protocol'] != 'boot':
            item['protocol'] = route['protocol']
        if route['family'] == 4 and not route['gateway']:
            item['scope'] = 'link'
        if route['src']:
            item['prefsrc'] = route['src']
        if route['metric'] or route['family'] == 6:
            item['metric'] = route['metric']
        item['flags'] = []
        if route['family'] == 6:
            item['pref'] = 'medium'
        return item

    # ------------------------------------------------------------------- ip --
    def cmd_ip(self, args, data, environ):
        options = []
        while args and args[0].startswith('-'):
            options.append(args.pop(0))
        assert set(options) <= set(['-d', '-j', '-4', '-6', '-force', '-batch']), 'fake ip does not know %s' % options
        if '-batch' in options:
            return self.ip_batch(args[0], '-force' in options)
        family = 4 if '-4' in options else 6 if '-6' in options else None
        handler = getattr(self, 'ip_%s_%s' % (args[0], {'del': 'delete'}.get(args[1], args[1])), None)
        assert handler, 'fake ip does not know %r' % args
        if args[1] in ('show', 'get'):
            assert '-j' in options, 'the fake ip answers reads in JSON only (-j)'
            return handler(args[2:], family, '-d' in options)
        return handler(args[2:], family)

    def ip_batch(self, path, force):
        with open(path) as handle:
            lines = [line.split() for line in handle if line.strip() and not line.startswith('#')]
        failed = ''
        for words in lines:
            rc, dummy, err = self.dispatch('ip', words)
            if rc:
                failed += err
                if not force:
                    break
        if failed:
            raise Fail(1, failed)
        return '', ''

    def shown_link(self, args):
        """The link ``dev <name>`` names and what ``ip -j link show`` and ``ip -j address show`` say of it first."""
        name = _words(args, ('dev',))[0]['dev']
        link = self.link_of(name, 'Device "%s" does not exist.\n')
        flags = ['BROADCAST', 'MULTICAST'] if link['kind'] == 'ether' else ['POINTOPOINT', 'NOARP']
        operstate = 'UNKNOWN' if link['kind'] in WG_KINDS else ('UP' if link['up'] else 'DOWN')
        return link, {'ifindex': link['index'], 'ifname': name, 'flags': flags + (['UP', 'LOWER_UP'] if link['up'] else []),
                      'mtu': link['mtu'], 'qdisc': 'noqueue', 'operstate': operstate, 'group': 'default'}

    def ip_link_show(self, args, family, details):
        link, item = self.shown_link(args)
        item['link_type'] = 'ether' if link['kind'] == 'ether' else 'none'
        if details and link['kind'] in WG_KINDS:
            item['linkinfo'] = {'info_kind': link['kind']}
        return json.dumps([item]), ''

    def ip_address_show(self, args, family, details):
        link, item = self.shown_link(args)
        infos = []
        for text in link['addresses']:
            iface = ipaddress.ip_interface(text)
            infos.append({'family': 'inet' if iface.version == 4 else 'inet6', 'local': str(iface.ip),
                          'prefixlen': iface.network.prefixlen,
                          'scope': 'link' if iface.ip.is_link_local else 'global'})
        if link['kind'] == 'tun' and link['up']:
            # the kernel gives a TUN device a link-local address of its own (a WireGuard link gets none)
            infos.append({'family': 'inet6', 'local': 'fe80::1', 'prefixlen': 64, 'scope': 'link'})
        item['addr_info'] = [i for i in infos if family in (None, 4 if i['family'] == 'inet' else 6)]
        return json.dumps([item]), ''

    def ip_link_add(self, args, family):
        words = _words(args, ('dev', 'name', 'type'))[0]
        name, kind = words.get('dev', words.get('name')), words['type']
        assert kind == 'wireguard', 'the fake ip makes WireGuard links only'
        if not self.kernel_wireguard:
            raise Fail(2, 'Error: Unknown device type.\n')
        if name in self.links:
            raise Fail(2, 'RTNETLINK answers: File exists\n')
        self.add_link(name, 'wireguard', up=False)
        return '', ''

    def ip_link_delete(self, args, family):
        words = _words(args, ('dev',))[0]
        self.link_of(words['dev'])
        self.delete_link(words['dev'])
        return '', ''

    def ip_link_set(self, args, family):
        words, rest = _words(args, ('dev', 'mtu'), ('up', 'down'))
        link = self.link_of(words['dev'])
        if 'mtu' in words and not words['mtu'].isdigit():
            raise Fail(255, 'Error: argument "%s" is wrong: Invalid "mtu" value\n\n' % words['mtu'])
        if 'mtu' in words:
            link['mtu'] = int(words['mtu'])
        if 'up' in rest:
            self.set_up(words['dev'])
        if 'down' in rest:
            self.set_down(words['dev'])
        return '', ''

    def _address_args(self, args, family):
        words, rest = _words(args, ('dev',), args[:1])
        if 'dev' not in words:
            raise Fail(1, 'Not enough information: "dev" argument is required.\n')
        iface = _ip_word(rest[0], ipaddress.ip_interface, 'prefix', family)
        self.link_of(words['dev'])
        return words['dev'], str(iface)

    def ip_address_add(self, args, family):
        self.address_add(*self._address_args(args, family))
        return '', ''

    def ip_address_delete(self, args, family):
        self.address_del(*self._address_args(args, family))
        return '', ''

    def ip_route_show(self, args, family, details):
        words = _words(args, ('table', 'dev', 'proto'))[0]
        family = family or 4
        table = words.get('table', 'main')
        number = None if table == 'all' else self.table_id(table)
        if number is not None and [family, number] not in self.fib_tables:
            raise Fail(2, 'Error: ipv%d: FIB table does not exist.\nDump terminated\n' % family, out='[')
        if 'dev' in words:
            self.link_of(words['dev'])
        proto = self.protocol(words['proto']) if 'proto' in words else None
        found = [r for r in self.routes if r['family'] == family and number in (None, r['table'])
                 and words.get('dev') in (None, r['dev']) and proto in (None, r['protocol'])]
        found.sort(key=lambda r: (r['table'], ipaddress.ip_network(r['dst']), r['metric']))
        return json.dumps([self.route_json(r, dict(words, table=table)) for r in found]), ''

    def ip_rule_show(self, args, family, details):
        family = family or 4
        kernel = [{'priority': 0, 'src': 'all', 'table': 'local'}, {'priority': 32766, 'src': 'all', 'table': 'main'}]
        found = [dict((k, v) for k, v in r.items() if k != 'family') for r in self.rules if r['family'] == family]
        return json.dumps(sorted(kernel + found, key=lambda r: r['priority'])), ''

    def ip_rule_add(self, args, family):
        negate = 'not' in args
        words = _words([a for a in args if a != 'not'],
                       ('priority', 'to', 'fwmark', 'lookup', 'suppress_prefixlength', 'protocol'))[0]
        item = {'family': family or 4, 'priority': int(words['priority']), 'src': 'all',
                'table': self.table_label(self.table_id(words['lookup']))}
        if 'to' in words:
            item['dst'] = str(_ip_word(words['to'], ipaddress.ip_address, 'address', family))
        if negate:
            item['not'] = None
        if 'fwmark' in words:
            item['fwmark'] = '0x%x' % int(words['fwmark'], 0)
        if 'suppress_prefixlength' in words:
            item['suppress_prefixlen'] = int(words['suppress_prefixlength'])
        if 'protocol' in words:
            item['protocol'] = words['protocol']
        if any(dict(r) == item for r in self.rules):
            raise Fail(2, 'RTNETLINK answers: File exists\n')
        self.rules.append(item)
        return '', ''

    def ip_rule_delete(self, args, family):
        words = _words(args, ('priority', 'protocol'))[0]
        for r in self.rules:
            if (r['family'] == (family or 4) and r['priority'] == int(words['priority'])
                    and words.get('protocol') in (None, r.get('protocol'))):
                self.rules.remove(r)
                return '', ''
        raise Fail(2, 'RTNETLINK answers: No such file or directory\n')

    def ip_route_get(self, args, family, details):
        assert len(args) == 1, 'fake ip route get takes an address only'
        address = _ip_word(args[0], ipaddress.ip_address, 'address')
        route = self.lookup(address, 254)
        if route is None:
            raise Fail(2, 'RTNETLINK answers: Network is unreachable\n')
        item = {'dst': str(address)}
        if route['gateway']:
            item['gateway'] = route['gateway']
        item['dev'] = route['dev']
        own = [str(a.ip) for a in self.addresses_of(address.version) if str(a) in self.links[route['dev']]['addresses']]
        if route['src'] or own:
            item['prefsrc'] = route['src'] or own[0]
        item.update(flags=[], uid=0, cache=[])
        return json.dumps([item]), ''

    def _route_args(self, args, family):
        words, rest = _words(args, ('to', 'via', 'dev', 'table', 'metric', 'src', 'proto'), args[:1])
        text = words.get('to') or (rest[0] if rest else '')
        net = _ip_word('0.0.0.0/0' if text == 'default' else text, lambda t: ipaddress.ip_network(t, strict=False),
                       'prefix', family)
        if text != 'default' and ipaddress.ip_interface(text).ip != net.network_address:
            raise Fail(2, 'Error: Invalid prefix for given prefix length.\n')
        if 'dev' in words:
            self.link_of(words['dev'])
        route = {'family': net.version, 'dst': str(net), 'table': self.table_id(words.get('table', 'main')),
                 'dev': words.get('dev'), 'gateway': words.get('via'), 'src': words.get('src'),
                 'protocol': self.protocol(words['proto']) if 'proto' in words else None}
        if 'metric' in words and not words['metric'].isdigit():
            raise Fail(255, 'Error: argument "%s" is wrong: "metric" value is invalid\n\n' % words['metric'])
        route['metric'] = int(words['metric']) if 'metric' in words else None
        for key in ('gateway', 'src'):
            if route[key]:
                _ip_word(route[key], ipaddress.ip_address, 'address', net.version)
        return route

    def ip_route_replace(self, args, family):
        route = self._route_args(args, family)
        fam = route['family']
        route['metric'] = route['metric'] or DEFAULT_METRIC[fam]
        route['protocol'] = route['protocol'] or 'boot'
        if route['gateway']:
            route['dev'] = self.nexthop_dev(route)
        elif route['dev'] is None:
            raise Fail(2, 'RTNETLINK answers: No such device\n')
        if not self.links[route['dev']]['up']:
            raise Fail(2, 'Error: Device for nexthop is not up.\n' if fam == 4 else 'Error: Nexthop device is not up.\n')
        if route['src'] and route['src'] not in [str(a.ip) for a in self.addresses_of(fam)]:
            raise Fail(2, 'Error: Invalid prefsrc address.\n' if fam == 4 else 'Error: Invalid source address.\n')
        # the kernel knows a route by family, table, destination and metric: replace takes whoever's route is there
        self.routes = [r for r in self.routes if (r['family'], r['table'], r['dst'], r['metric'])
                       != (fam, route['table'], route['dst'], route['metric'])]
        self.routes.append(route)
        self.make_fib_table(fam, route['table'])
        return '', ''

    def nexthop_dev(self, route):
        """The device of a gateway that a connected network (in the route's table, else main) reaches."""
        gateway = ipaddress.ip_address(route['gateway'])
        if gateway.is_link_local and route['dev']:
            return route['dev']
        for table in [route['table'], 254]:
            best = self.lookup(gateway, table) if [route['family'], table] in self.fib_tables else None
            if best is not None:
                break
        if best is None or best['gateway'] or route['dev'] not in (None, best['dev']):
            raise Fail(2, 'Error: Nexthop has invalid gateway.\n' if route['family'] == 4
                       else 'RTNETLINK answers: No route to host\n')
        return best['dev']

    def ip_route_delete(self, args, family):
        wanted = self._route_args(args, family)
        wanted['metric'] = wanted['metric'] or None         # metric 0 names no metric: the first route matches
        for route in sorted(self.routes, key=lambda r: r['metric']):
            if all(wanted[key] in (None, route[key]) for key in ('dev', 'gateway', 'src', 'metric', 'protocol')) and \
                    all(wanted[key] == route[key] for key in ('family', 'table', 'dst')):
                self.routes.remove(route)
                return '', ''
        raise Fail(2, 'RTNETLINK answers: No such process\n')

    # ------------------------------------------------------------------- wg --
    def wg_link(self, name, verb='access'):
        if name not in self.links:
            raise Fail(1, 'Unable to %s interface: No such device\n' % verb)
        if self.links[name]['kind'] not in WG_KINDS:
            raise Fail(1, 'Unable to %s interface: Protocol not supported\n' % verb)
        return self.links[name]

    def cmd_wg(self, args, data, environ):
        if args == ['genkey']:
            self.genkey_count += 1
            return make_key('generated-%d-%f' % (self.genkey_count, time.time())) + '\n', ''
        if args == ['pubkey']:
            text = (data.decode() if isinstance(data, bytes) else data or '').strip()
            if not is_key(text):
                raise Fail(1, 'wg: Key is not the correct length or format\n')
            return public_of(text) + '\n', ''
        if args[:1] == ['show'] and args[2:] == ['dump']:
            names = sorted(n for n in self.links if self.links[n]['kind'] in WG_KINDS) if args[1] == 'all' else [args[1]]
            lines = []
            for name in names:
                self.wg_link(name)
                lines += [(name + '\t' if args[1] == 'all' else '') + line for line in self.dump_lines(name)]
            return ''.join(line + '\n' for line in lines), ''
        if args[:1] == ['set'] and len(args) > 1:
            self.wg_set(self.wg_link(args[1], 'modify'), args[2:])
            return '', ''
        raise AssertionError('fake wg does not know %r' % (args,))

    def dump_lines(self, name):
        link = self.links[name]
        private = link['private_key']
        lines = ['%s\t%s\t%d\t%s' % (private or '(none)', public_of(private) if private else '(none)',
                                     link['listen_port'], hex(link['fwmark']) if link['fwmark'] else 'off')]
        for key, peer in link['peers'].items():
            lines.append('\t'.join([
                key, peer['preshared_key'] or '(none)', peer['endpoint'] or '(none)',
                ','.join(peer['allowed_ips']) or '(none)', str(peer['latest_handshake']),
                str(peer['transfer_rx']), str(peer['transfer_tx']),
                str(peer['persistent_keepalive']) if peer['persistent_keepalive'] else 'off']))
        return lines

    def wg_set(self, link, args):
        """``wg set``'s grammar: interface settings, then ``peer <key>`` and that peer's settings, any number."""
        args = list(args)
        peer = None
        while args:
            word = args.pop(0)
            if word == 'peer' and args:
                key = args.pop(0)
                if not is_key(key):
                    raise Fail(1, 'Key is not the correct length or format: `%s\'\n' % key)
                if args[:1] == ['remove']:
                    args.pop(0)
                    link['peers'].pop(key, None)
                    peer = None
                    continue
                peer = link['peers'].setdefault(key, {
                    'preshared_key': None, 'endpoint': None, 'allowed_ips': [], 'latest_handshake': 0,
                    'transfer_rx': 0, 'transfer_tx': 0, 'persistent_keepalive': 0})
            elif word in ('private-key', 'preshared-key') and args and (word == 'private-key') == (peer is None):
                value = self.read_key(args.pop(0))
                if peer is None:
                    link['private_key'] = value
                else:
                    peer['preshared_key'] = value
            elif word in ('listen-port', 'fwmark', 'allowed-ips', 'persistent-keepalive', 'endpoint') and args:
                self.wg_value(link, peer, word, args.pop(0))
            else:
                raise Fail(1, 'Invalid argument: %s\n' % word)

    def wg_value(self, link, peer, word, value):
        if peer is None and word == 'listen-port' and value.isdigit() and int(value) < 65536:
            link['listen_port'] = int(value) or link['listen_port']
        elif peer is None and word == 'fwmark' and (value == 'off' or re.match(r'\A(0x[0-9a-f]+|\d+)\Z', value)):
            link['fwmark'] = 0 if value == 'off' else int(value, 0)
        elif peer is not None and word == 'persistent-keepalive' and (value == 'off' or value.isdigit()):
            peer['persistent_keepalive'] = 0 if value == 'off' else int(value)
        elif peer is not None and word == 'allowed-ips':
            try:
                prefixes = [str(ipaddress.ip_network(p.strip(), strict=False)) for p in value.split(',') if p.strip()]
            except ValueError:
                raise Fail(1, 'Unable to parse IP address: `%s\'\n' % value)
            for other in link['peers'].values():
                # a prefix belongs to one peer: setting it on one takes it from the others
                other['allowed_ips'] = [p for p in other['allowed_ips'] if p not in prefixes]
            peer['allowed_ips'] = sorted(prefixes)
        elif peer is not None and word == 'endpoint' and ':' in value:
            host, port = value.rsplit(':', 1)
            host = self.dns.get(host.strip('[]'), host.strip('[]'))
            try:
                ipaddress.ip_address(host)
            except ValueError:
                raise Fail(1, 'Name or service not known: `%s\'\n' % value)
            peer['endpoint'] = ('[%s]:%s' if ':' in host else '%s:%s') % (host, port)
        else:
            raise Fail(1, 'Invalid argument: %s %s\n' % (word, value))

    @staticmethod
    def read_key(path):
        if path == '/dev/null':
            return None
        try:
            with open(path) as handle:
                text = handle.read().strip()
        except (IOError, OSError):
            raise Fail(1, 'fopen: No such file or directory\n')
        if not is_key(text):
            raise Fail(1, 'Key is not the correct length or format: `%s\'\n' % path)
        return text

    # --------------------------------------------------------- wireguard-go --
    def cmd_wireguard_go(self, args, data, environ):
        assert environ.get('LOG_LEVEL') == '', 'wireguard-go must be started with its logs off'
        self.make_tun(args[0])
        return '', ''

    def make_tun(self, name):
        if name in self.links:
            raise Fail(1, 'ERROR: (%s) Failed to create TUN device: device or resource busy\n' % name)
        self.add_link(name, 'tun', up=False)

    # ------------------------------------------------------------ systemctl --
    def cmd_systemctl(self, args, data, environ):
        verb, rest = args[0], [a for a in args[1:] if a not in ('--now', '--quiet')]
        now, quiet = '--now' in args, '--quiet' in args
        if not self.systemd and (now or verb not in ('is-enabled', 'enable', 'disable')):
            # without systemd as PID 1 only the unit files can be read and changed
            raise Fail(1, "System has not been booted with systemd as init system (PID 1). Can't operate.\n"
                          "Failed to connect to bus: Host is down\n")
        if args == ['daemon-reload']:
            self.daemon_reloads += 1
            # the drop-ins systemd holds from now on, as it read them at the reload
            self.loaded_dropins = sorted(os.path.relpath(os.path.join(d, f), self.dropins)
                                         for d, dummy, names in os.walk(self.dropins or '') for f in names)
            return '', ''
        units = [u[:-len('.service')] if u.endswith('.service') else u for u in rest]
        assert len(units) == 1, 'the fake systemctl takes one unit at a time'
        unit = units[0]
        if verb in ('is-enabled', 'is-active'):
            held, words = ((self.enabled_units, ('enabled', 'disabled')) if verb == 'is-enabled'
                           else (self.active_units, ('active', 'inactive')))
            if unit not in held:
                raise Fail(1 if verb == 'is-enabled' else 3, '', out='' if quiet else words[1] + '\n')
            return '' if quiet else words[0] + '\n', ''
        if verb in ('enable', 'disable'):
            (self.enabled_units.add if verb == 'enable' else self.enabled_units.discard)(unit)
            if not now:
                return '', ''
            verb = 'start' if verb == 'enable' else 'stop'
        if verb == 'reload':
            if unit not in self.active_units:
                raise Fail(1, 'Failed to reload %s.service: Unit %s.service is not active.\n' % (unit, unit))
            self.reloads.append(unit)
            return '', ''
        if verb in ('stop', 'restart') and unit in self.active_units:
            self.stop(unit)
        if verb == 'restart':
            self.restarts.append(unit)
        if verb in ('start', 'restart') and unit not in self.active_units:
            self.start(unit)
        elif verb not in ('start', 'stop', 'restart'):
            raise AssertionError('fake systemctl does not know %s' % verb)
        return '', ''

    def stop(self, unit):
        self.active_units.discard(unit)
        if unit.startswith('wg-quick@') and unit.split('@', 1)[1] in self.links:     # wg-quick down
            self.delete_link(unit.split('@', 1)[1])

    def cmd_ssh_keygen(self, args, data, environ):
        """``ssh-keygen -q -t ed25519 -N '' -C comment -f path``: a new pair, the private key 0600 (as ssh-keygen
        writes it), refused when the file exists (ssh-keygen would ask)."""
        opts = dict(zip(args[1::2], args[2::2]))
        assert args[0] == '-q' and opts['-t'] == 'ed25519' and opts['-N'] == '', args
        path = opts['-f']
        if os.path.exists(path):
            raise Fail(1, '%s already exists.\nOverwrite (y/n)? ' % path)
        self.genkey_count += 1
        seed = make_key('ssh %d' % self.genkey_count)
        files.write_atomic(path, '-----BEGIN OPENSSH PRIVATE KEY-----\n%s\n-----END OPENSSH PRIVATE KEY-----\n' % seed, 0o600)
        files.write_atomic(path + '.pub', 'ssh-ed25519 %s %s\n' % (public_of(seed), opts['-C']), 0o644)
        return '', ''

    def cmd_swanctl(self, args, data, environ):
        """``swanctl --load-all``: counted (the strongSwan tests read charon's state over the fake VICI session)."""
        assert args[0] == '--load-all', 'the fake swanctl knows --load-all only'
        self.swanctl_loads += 1
        return 'loaded\n', ''

    def start(self, unit):
        """A unit other than wg-quick@ just becomes active. wg-quick up from the interface's file; the unit fails, and
        wg-quick removes the link, when a step fails."""
        if not unit.startswith('wg-quick@'):
            self.active_units.add(unit)
            return
        name = unit.split('@', 1)[1]
        try:
            self.wg_quick_up(name)
        except Fail:
            if name in self.links and self.links[name].get('wg_quick'):
                self.delete_link(name)
            raise Fail(1, 'Job for %s.service failed because the control process exited with error code.\n'
                          'See "systemctl status %s.service" and "journalctl -xeu %s.service" for details.\n'
                       % (unit, unit, unit))
        self.active_units.add(unit)

    def wg_quick_up(self, name):
        assert self.dir, 'install() the host first: wg-quick reads its file from the WireGuard directory'
        path = os.path.join(self.dir, name + '.conf')
        if not os.path.exists(path) or name in self.links:
            raise Fail(1, 'wg-quick: `%s\' cannot be brought up\n' % name)
        interface_keys, peers, hooks = self.wg_quick_file(path)
        if self.kernel_wireguard:
            self.add_link(name, 'wireguard', up=False)
        elif 'wireguard-go' in self.tools:
            self.make_tun(name)
        else:
            raise Fail(1, 'Error: Unknown device type.\n')
        link = self.links[name]
        link['wg_quick'] = True
        # wg setconf: the interface as the file says, every peer it names and no other
        link['peers'] = {}
        for key, value in interface_keys.items():
            if key in ('ListenPort', 'FwMark'):
                self.wg_value(link, None, {'ListenPort': 'listen-port', 'FwMark': 'fwmark'}[key], value)
        for peer_keys in peers:
            self.wg_set(link, ['peer', peer_keys['PublicKey']])
            peer = link['peers'][peer_keys['PublicKey']]
            for key, word in (('AllowedIPs', 'allowed-ips'), ('Endpoint', 'endpoint'),
                              ('PersistentKeepalive', 'persistent-keepalive')):
                if key in peer_keys:
                    self.wg_value(link, peer, word, peer_keys[key].replace(' ', ''))
            if 'PresharedKey' in peer_keys and not is_key(peer_keys['PresharedKey']):
                raise Fail(1, 'Key is not the correct length or format\n')
            peer['preshared_key'] = peer_keys.get('PresharedKey')
        for address in [a.strip() for a in interface_keys.get('Address', '').split(',') if a.strip()]:
            self.address_add(name, address)
        link['mtu'] = int(interface_keys.get('MTU', 1420))
        self.set_up(name)
        assert interface_keys.get('Table') == 'off', 'the fake wg-quick adds no routes of its own'
        for hook in hooks:
            argv = shlex.split(hook.replace('%i', name))
            assert argv[0] in self.tools, 'PostUp runs %s, which is not installed' % argv[0]
            rc, dummy, err = self.dispatch(argv[0], argv[1:])
            if rc:
                raise Fail(rc, err)
        del link['wg_quick']
        self.exec_start_post('wg-quick@' + name)

    def exec_start_post(self, unit):
        """The ExecStartPost lines of the unit's drop-ins, in order ('-': a failure is ignored)."""
        directory = os.path.join(self.dropins or '', unit + '.service.d')
        for entry in sorted(os.listdir(directory)) if os.path.isdir(directory) else []:
            with open(os.path.join(directory, entry)) as handle:
                lines = [line.strip().split('=', 1)[1] for line in handle if line.startswith('ExecStartPost=')]
            for line in lines:
                argv = shlex.split(line.lstrip('-'))
                rc, dummy, err = self.dispatch(os.path.basename(argv[0]), argv[1:])
                if rc and not line.startswith('-'):
                    raise Fail(rc, err)

    @staticmethod
    def wg_quick_file(path):
        """The [Interface] keys, each [Peer]'s keys and the PostUp commands of a wg-quick file."""
        interface_keys, peers, hooks, section = {}, [], [], None
        with open(path) as handle:
            for line in handle:
                line = line.split('#', 1)[0].strip()
                if line in ('[Interface]', '[Peer]'):
                    section = interface_keys if line == '[Interface]' else {}
                    if line == '[Peer]':
                        peers.append(section)
                elif line:
                    key, value = [w.strip() for w in line.split('=', 1)]
                    if key == 'PostUp':
                        hooks.append(value)
                    else:
                        section[key] = value
        return interface_keys, peers, hooks

    # --------------------------------------------------------------- reboot --
    def reboot(self):
        """What a restart leaves: the ether links up with their addresses and the routes of the network's
        configuration (kernel, boot, static, dhcp); no tunnel, other route or nft table.  Then the enabled units start
        and the boot commands run (``self.boot``)."""
        self.links = dict((n, l) for n, l in self.links.items() if l['kind'] == 'ether')
        self.routes = [r for r in self.routes if r['dev'] in self.links
                       and r['protocol'] in ('kernel', 'boot', 'static', 'dhcp')]
        self.fib_tables = [t for t in self.fib_tables if t[1] in (254, 255)
                           or [t[0], t[1]] in [[r['family'], r['table']] for r in self.routes]]
        self.nft, self.active_units = {}, set()
        for unit in sorted(self.enabled_units):
            self.start(unit)
        for argv in self.boot:
            rc, dummy, err = self.dispatch(argv[0], list(argv[1:]))
            assert rc == 0, 'boot: %s failed: %s' % (' '.join(argv), err)

    # ---------------------------------------------------------- processes --
    def answers(self, address, port, zone=None):
        """A live dnsmasq of this namespace answers on ``address``:``port``: it listens there and (bind-dynamic) the
        address is on a link of the host or on loopback."""
        present = ipaddress.ip_address(address).is_loopback or any(
            str(ipaddress.ip_interface(a).ip) == address for a in self.addresses_of())
        return present and any(p['alive'] and p['netns'] == self.netns and address in p['listen'] and p['port'] == port
                               for p in self.processes.values())

    def resolve(self, address, name):
        """What the dnsmasq answering on ``address`` says of ``name``: the addresses its hosts text gives it."""
        for proc in self.processes.values():
            if proc['alive'] and proc['netns'] == self.netns and address in proc['listen']:
                return [line.split()[0] for line in proc['hosts'].splitlines() if name in line.split()[1:]]
        raise AssertionError('nothing answers on %s' % address)

    # ------------------------------------------------------------------ nft --
    def cmd_nft(self, args, data, environ):
        if args[:2] == ['-j', 'list'] and len(args) > 2:
            return self.nft_list(args[2:]), ''
        check = args[:1] == ['--check']
        args = args[1:] if check else args
        assert len(args) == 2 and args[0] == '-f', 'fake nft does not know %r' % (args,)
        if args[1] == '-':
            text = data.decode() if isinstance(data, bytes) else data
        else:
            with open(args[1]) as handle:
                text = handle.read()
        tables = self.nft_batch(text)
        if not check:
            self.nft = tables
        return '', ''

    def nft_batch(self, text):
        """The tables after ``text``, one transaction: any error leaves the tables as they were."""
        if self.nft_rejects and self.nft_rejects in text:
            raise Fail(1, 'Error: syntax error, unexpected %s\n' % self.nft_rejects)
        tables = copy.deepcopy(self.nft)
        stack = []              # the blocks the line is in: the table, then a set or a chain
        for line in text.splitlines():
            line = line.strip()
            if not line or line.startswith('#'):
                continue
            try:
                self.nft_line(tables, stack, line)
            except Fail as failure:
                raise Fail(1, '%s%s\n' % (failure.err, line))
        return tables

    def nft_line(self, tables, stack, line):
        match = re.match(r'(add|delete) element (\S+) (\S+) (\S+) \{ (.*) \}$', line)
        if match:
            verb, fam, table, name, items = match.groups()
            item = tables.get((fam, table), {'sets': {}})['sets'].get(name)
            if item is None:
                raise Fail(1, 'Error: No such file or directory\n')
            for text in items.split(', '):
                self.nft_element(item, text.replace('"', ''), verb)
            return
        match = re.match(r'add rule (\S+) (\S+) (\S+) (.*?)(?: comment "(.*)")?$', line)
        if match:
            fam, table, chain, text, comment = match.groups()
            if chain not in [c['name'] for c in tables.get((fam, table), {'chains': []})['chains']]:
                raise Fail(1, 'Error: No such file or directory\n')
            tables[(fam, table)]['rules'].setdefault(chain, []).append({'text': text, 'comment': comment})
            return
        match = re.match(r'(delete )?table (\S+) (\S+)( \{)?$', line)
        if match and not stack:
            delete, fam, name, block = match.groups()
            if delete and (fam, name) not in tables:
                raise Fail(1, 'Error: No such file or directory\n')
            if delete:
                del tables[(fam, name)]
                return
            table = tables.setdefault((fam, name), {'sets': {}, 'chains': [], 'rules': {}})
            if block:
                stack.append(table)
            return
        if line == '}' and stack:
            stack.pop()
            return
        match = re.match(r'(set|chain) (\S+) \{$', line)
        if match and len(stack) == 1:
            kind, name = match.groups()
            if kind == 'set':
                stack.append(stack[0]['sets'].setdefault(name, {'type': None, 'flags': [], 'elements': set()}))
            else:
                chains = stack[0]['chains']
                if name not in [c['name'] for c in chains]:
                    chains.append({'name': name})
                stack.append([c for c in chains if c['name'] == name][0])
            return
        inner = stack[-1] if len(stack) == 2 else None
        match = re.match(r'type (\S+) hook (\S+)(?: device "(\S+)")? priority (-?\d+); policy (accept|drop);$', line)
        if match and inner is not None and 'elements' not in inner:
            inner.update(zip(('type', 'hook', 'device', 'prio', 'policy'), match.groups()))
            inner['prio'] = int(inner['prio'])
            return
        if inner is not None and 'elements' in inner and line.startswith('type '):
            inner['type'] = line[5:].split(' . ')
        elif inner is not None and 'elements' in inner and line.startswith('flags '):
            inner['flags'] = line[6:].split(',')
        elif inner is not None and 'elements' in inner and line.startswith('elements = { ') and line.endswith(' }'):
            for text in line[len('elements = { '):-2].split(', '):
                self.nft_element(inner, text.replace('"', ''), 'add', declared=True)
        else:
            raise AssertionError('fake nft cannot read %r' % line)

    @staticmethod
    def nft_element(item, text, verb, declared=False):
        """Add or delete one element as nft does: a prefix or a range needs an interval set, whose elements must not
        overlap; a deleted element must be there.  Elements are kept as nft lists them (a range that is one prefix
        as the prefix)."""
        parts = text.split(' . ')
        assert item['type'] and len(parts) == len(item['type']), (text, item['type'])
        spans = [_span(part, kind) for part, kind in zip(parts, item['type'])]
        if any(span and span[0] != span[1] for span in spans) and 'interval' not in item['flags']:
            raise Fail(1, "Error: You must add 'flags interval' to your set declaration if you want to add prefix "
                          "elements\n")
        text = ' . '.join(_span_text(span, kind) if span else part
                          for span, part, kind in zip(spans, parts, item['type']))
        if verb == 'delete':
            if text not in item['elements']:
                raise Fail(1, 'Error: element does not exist\n')
            item['elements'].remove(text)
            return
        single = len(spans) == 1 and spans[0] is not None
        for other in item['elements']:
            theirs = _span(other, item['type'][0]) if single else None
            if single and other != text and theirs[0] <= spans[0][1] and spans[0][0] <= theirs[1]:
                raise Fail(1, 'Error: conflicting intervals specified\n' if declared
                           else 'Error: interval overlaps with an existing one\n')
        item['elements'].add(text)

    def nft_list(self, what):
        out = [{'metainfo': {'version': '1.0.6', 'release_name': 'Lester Gooch #5', 'json_schema_version': 1}}]
        table = self.nft.get((what[1], what[2])) if len(what) > 2 else None
        if what[0] == 'set' and len(what) == 4 and table is not None and what[3] in table['sets']:
            out.append(self.set_json(what[1], what[2], what[3], table['sets'][what[3]]))
            return json.dumps({'nftables': out})
        if what[0] != 'table' or len(what) != 3 or table is None:
            assert what[0] in ('set', 'table'), 'fake nft does not list %r' % (what,)
            raise Fail(1, 'Error: No such file or directory\nlist %s\n' % ' '.join(what))
        out.append({'table': {'family': what[1], 'name': what[2], 'handle': 1}})
        for name in table['sets']:
            out.append(self.set_json(what[1], what[2], name, table['sets'][name]))
        for chain in table['chains']:
            body = {'family': what[1], 'table': what[2], 'name': chain['name'], 'handle': 2}
            body.update((key, chain[key]) for key in ('type', 'hook', 'prio', 'policy') if key in chain)
            if chain.get('device'):
                body['dev'] = chain['device']
            out.append({'chain': body})
        handle = 10
        for chain in table['chains']:
            for rule in table['rules'].get(chain['name'], []):
                handle += 1
                body = {'family': what[1], 'table': what[2], 'chain': chain['name'], 'handle': handle,
                        'expr': [{'match': {'op': '==', 'left': {'meta': {'key': 'iifname'}}, 'right': 'x'}},
                                 {'accept': None}]}
                if rule.get('comment'):
                    body['comment'] = rule['comment']
                out.append({'rule': body})
        return json.dumps({'nftables': out})

    @staticmethod
    def set_json(fam, table, name, item):
        body = {'family': fam, 'name': name, 'table': table, 'handle': 3,
                'type': item['type'][0] if len(item['type']) == 1 else list(item['type'])}
        if item['flags']:
            body['flags'] = list(item['flags'])
        if item['elements']:
            body['elem'] = [element_json(e) for e in sorted(item['elements'], key=lambda e: _element_key(e, item['type']))]
        return {'set': body}


def _span(part, kind):
    """What one part of an element covers, ``(low, high)``, for addresses and ports; None for other types."""
    if kind in ('ipv4_addr', 'ipv6_addr'):
        if '-' in part:
            low, high = part.split('-', 1)
            return ipaddress.ip_address(low), ipaddress.ip_address(high)
        net = ipaddress.ip_network(part)
        return net.network_address, net.broadcast_address
    if kind == 'inet_service':
        low, high = (part.split('-', 1) + [part])[:2]
        return int(low), int(high)
    return None


def _element_key(text, kinds):
    """Elements in the order nft lists them: by value."""
    return [(0, int(span[0]), '') if span else (1, 0, part) for part, span in
            [(part, _span(part, kind)) for part, kind in zip(text.split(' . '), kinds)]]


def _span_text(span, kind):
    if kind == 'inet_service':
        return str(span[0]) if span[0] == span[1] else '%d-%d' % span
    nets = list(ipaddress.summarize_address_range(*span))
    if len(nets) == 1:
        return _dst_text(nets[0]) if nets[0].prefixlen else str(nets[0])
    return '%s-%s' % span


def element_json(text):
    """An element as ``nft -j`` lists it."""
    parts = [_part_json(p) for p in text.split(' . ')]
    return {'concat': parts} if len(parts) > 1 else parts[0]


def _part_json(text):
    if '/' in text:
        addr, length = text.split('/')
        return {'prefix': {'addr': addr, 'len': int(length)}}
    if '-' in text:
        low, high = text.split('-')
        return {'range': [int(low) if low.isdigit() else low, int(high) if high.isdigit() else high]}
    return int(text) if text.isdigit() else text


def make_set(host, name='web_v4', kinds=('ipv4_addr',), flags=('interval',), elements=(), table='meshforge'):
    """An nft set in the table ``inet <table>``, as if made earlier."""
    tables = host.nft
    tables.setdefault(('inet', table), {'sets': {}, 'chains': [], 'rules': {}})['sets'][name] = {
        'type': list(kinds), 'flags': list(flags), 'elements': set()}
    for text in elements:
        host.nft_element(tables[('inet', table)]['sets'][name], text, 'add')


# --------------------------------------------------------- the drivers' view --
MANAGEMENT = {'client': '198.18.0.1', 'client_port': 50123, 'server': '198.18.0.10', 'server_port': 22}


def underlay(host):
    """The host on 198.18.0.0/24 and fd00:18::/64 (eth0, default route via 198.18.0.254), managed over SSH from
    198.18.0.1."""
    host.add_link('eth0', addresses=['198.18.0.10/24', 'fd00:18::10/64'])
    host.add_route('0.0.0.0/0', 'boot', gateway='198.18.0.254')
    host.management = dict(MANAGEMENT)
    return host


DNSMASQ_OPTIONS = ('port', 'listen-address', 'bind-dynamic', 'no-resolv', 'no-hosts', 'pid-file', 'domain-needed',
                   'local', 'addn-hosts', 'server')
"""The dnsmasq options the fake knows; any other line is dnsmasq's "bad option"."""


class FakePopen(object):
    def __init__(self, host, pid):
        self.host, self.pid = host, pid

    def poll(self):
        proc = self.host.processes[self.pid]
        return None if proc['alive'] else proc['returncode']

    @property
    def returncode(self):
        return self.poll()


class FakeProcesses(object):
    """The process calls of :mod:`supervise` on a fake host (spawn, is_ours, stop, signal_pid): ``dnsmasq --keep-in-foreground --conf-file=FILE`` reads
    FILE as dnsmasq does (one ``option=value`` a line, an unknown option is exit code 1, an address another live
    dnsmasq of the namespace holds is exit code 2), and reads its ``addn-hosts`` file again on SIGHUP."""

    def __init__(self, host):
        self.host = host
        self.next_pid = 4000

    def spawn(self, argv, run_dir, pid_file, log_path):
        tool = os.path.basename(argv[0])
        assert tool in self.host.tools and argv[0] == self.host.path(tool), 'ran %s, which is not installed' % argv[0]
        assert tool == 'dnsmasq' and argv[1:3] == ['--keep-in-foreground', '--log-facility=-'], argv
        self.host.record(list(argv), True)
        self.next_pid += 1
        proc = {'argv': list(argv), 'netns': self.host.netns, 'alive': True, 'returncode': None, 'listen': [],
                'port': 53, 'hosts': '', 'hosts_file': None, 'hups': 0}
        self.host.processes[self.next_pid] = proc
        if not os.path.isdir(run_dir):
            os.makedirs(run_dir, 0o700)
        conf = argv[3][len('--conf-file='):]
        with open(conf) as handle:
            lines = handle.read().splitlines()
        for number, line in enumerate(lines, 1):
            if not line or line.startswith('#'):
                continue
            key, dummy, value = line.partition('=')
            if key not in DNSMASQ_OPTIONS:
                return self.exit(proc, 1, log_path, 'dnsmasq: bad option at line %d of %s' % (number, conf))
            if key == 'listen-address':
                proc['listen'].append(value)
            elif key == 'port':
                proc['port'] = int(value)
            elif key == 'addn-hosts':
                proc['hosts_file'] = value
        for other in self.host.processes.values():
            if other is not proc and other['alive'] and other['netns'] == proc['netns'] and \
                    other['port'] == proc['port'] and set(other['listen']) & set(proc['listen']):
                return self.exit(proc, 2, log_path, 'dnsmasq: failed to create listening socket for %s: Address '
                                 'already in use' % sorted(set(other['listen']) & set(proc['listen']))[0])
        self.read_hosts(proc)
        files.write_atomic(pid_file, '%d\n' % self.next_pid, mode=0o644, dir_mode=0o700)
        return FakePopen(self.host, self.next_pid)

    def exit(self, proc, code, log_path, message):
        proc.update(alive=False, returncode=code)
        with open(log_path, 'a') as log:
            log.write(message + '\n')
        return FakePopen(self.host, self.next_pid)

    @staticmethod
    def read_hosts(proc):
        if proc['hosts_file']:
            proc['hosts'] = files.read_text(proc['hosts_file']) or ''

    def is_ours(self, pid, names, marker=None):
        proc = self.host.processes.get(pid)
        return bool(proc and proc['alive'] and os.path.basename(proc['argv'][0]) in names
                    and proc['netns'] == self.host.netns and (marker is None or marker in proc['argv']))

    def stop(self, pid, names, marker=None):
        self.signal_pid(pid, signal.SIGTERM)

    def signal_pid(self, pid, sig):
        proc = self.host.processes.get(pid)
        self.host.record(['kill', '-%d' % sig, str(pid)], True)
        if not proc or not proc['alive']:
            return
        if sig == signal.SIGHUP:
            proc['hups'] += 1
            self.read_hosts(proc)
        else:
            proc.update(alive=False, returncode=-sig)


def install(host, directory, monkeypatch):
    """Point the drivers at ``host``: its WireGuard files and systemd drop-ins under ``directory``, and what they
    read without a command (systemd running, the kernel's WireGuard, DNS, rt_tables, the management connection)."""
    host.dir = os.path.join(directory, 'wireguard')
    host.dropins = os.path.join(directory, 'systemd')
    os.makedirs(host.dir, 0o700)
    monkeypatch.setattr(schema, 'CONFIG_DIR', host.dir)
    monkeypatch.setattr(service, 'systemd_running', lambda: host.systemd)
    monkeypatch.setattr(service, 'dropin_path', lambda name: '%s/wg-quick@%s.service.d/userspace.conf' % (host.dropins, name))
    monkeypatch.setattr(WireGuardHost, 'kernel_module_present', lambda self: host.kernel_wireguard)
    monkeypatch.setattr(endpoints, 'resolve_name', lambda name, port: set(a for h, a in host.dns.items() if h == name))
    monkeypatch.setattr(interface, 'management_connection', lambda: host.management)
    monkeypatch.setattr(safety, 'management_connection', lambda: host.management)
    monkeypatch.setattr(routes_resource, 'read_table_names', lambda: dict(host.table_names))
    processes = FakeProcesses(host)
    for name in ('spawn', 'is_ours', 'stop', 'signal_pid'):
        monkeypatch.setattr(supervise, name, getattr(processes, name))
    monkeypatch.setattr(supervise, 'systemd_booted', lambda: host.systemd)
    monkeypatch.setattr(dns_resolver, 'UNIT_DIR', os.path.join(directory, 'systemd-system'))
    monkeypatch.setattr(dns_resolver, 'RESOLV_CONF', os.path.join(directory, 'resolv.conf'))
    monkeypatch.setattr(dns_resolver, 'answers', host.answers)
    monkeypatch.setattr(dns_resolver, 'DROPIN_DIR', host.dropins)
    monkeypatch.setattr(dns_resolver, 'resolved_running', lambda: host.systemd and host.resolved is not None)
    return host


# ------------------------------------------------------- what tests drive it with --
PRIV_A = make_key('private a')
PUB_A = public_of(PRIV_A)
PUB_B = make_key('peer b')
PUB_C = make_key('peer c')
PUB_D = make_key('peer d')
PSK_1 = make_key('psk 1')
PSK_2 = make_key('psk 2')


def params(**overrides):
    base = {
        'name': 'wg0', 'state': 'present', 'addresses': ['10.10.0.1/24', 'fd10::1/64'], 'listen_port': 51820,
        'private_key_file': None, 'mtu': None, 'fwmark': None, 'table': 'auto', 'implementation': 'auto',
        'purge_peers': True, 'persist': True,
        'peers': [
            {'public_key': PUB_B, 'description': 'branch-1', 'endpoint': '198.51.100.7:51820',
             'allowed_ips': ['10.10.0.2/32', 'fd10::2/128', '172.20.1.0/24'], 'persistent_keepalive': 25,
             'preshared_key': None, 'preshared_key_file': None},
            {'public_key': PUB_C, 'description': None, 'endpoint': None, 'allowed_ips': ['10.10.0.3/32'],
             'persistent_keepalive': 0, 'preshared_key': None, 'preshared_key_file': None},
        ],
    }
    base.update(overrides)
    return base


def peer_params(index, **overrides):
    peers = copy.deepcopy(params()['peers'])
    peers[index].update(overrides)
    return params(peers=peers)


def snapshot(*dirs):
    """Every file under ``dirs`` with its mode and content."""
    found = {}
    for top in dirs:
        for root, _dirs, names in os.walk(top):
            for name in names:
                path = os.path.join(root, name)
                with open(path, 'rb') as handle:
                    found[path] = (os.stat(path).st_mode & 0o7777, handle.read())
    return found


def run(host, func, params, check_mode=False, diff=True):
    """One module run; returns (result, module, changing commands it ran)."""
    module = FakeModule(host, params, check_mode=check_mode, diff=diff)
    before = len(host.log)
    result = func(module)
    changing = [argv for kind, argv in host.log[before:] if kind]
    return result, module, changing


def assert_no_secret(result, *secrets):
    text = json.dumps(result)
    for secret in secrets:
        assert secret not in text


def check_then_apply(host, func, params, *secrets):
    """Check mode, then the real run: same ``changed``, and check mode changed nothing. Returns the real result."""
    files_before, state_before = snapshot(host.dir, host.dropins), host.state()
    predicted, _module, changing = run(host, func, params, check_mode=True)
    assert changing == [], 'check mode ran %s' % changing
    assert snapshot(host.dir, host.dropins) == files_before and host.state() == state_before
    result, module, changing = run(host, func, params)
    assert result['changed'] == predicted['changed']
    if not result['changed']:
        assert changing == []
    for key in ('peers_added', 'peers_removed', 'peers_changed', 'config_changed'):
        if key in result:
            assert predicted[key] == result[key], key
    assert_no_secret(predicted, *secrets)
    assert_no_secret(result, *secrets)
    return result, module


def write_key(host, name='wg0', key=PRIV_A, mode=0o600):
    path = os.path.join(host.dir, '%s.key' % name)
    files.write_atomic(path, key + '\n', mode)
    return path


# the names tests/unit/plugins/module_utils/test_audit.py imports
FakeSystem = FakeHost
