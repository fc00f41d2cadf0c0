# -*- coding: utf-8 -*-
# Copyright: meshforge.vpn contributors
# GNU General Public License v3.0+ (see https://www.gnu.org/licenses/gpl-3.0.txt)
"""A fake Linux host for unit tests: answers the ``wg``, ``ip``, ``wireguard-go`` and ``systemctl`` commands
that the WireGuard driver (module_utils/wireguard/) runs, from an in-memory model of links, peers, addresses, routes and units.
At the end, the keys and parameters the WireGuard tests drive it with, and one run of a driver function against it.

Commands that change the model are recorded as such, so a test can assert that check mode ran none.
Key files are read from the real (temporary) file system, as ``wg set`` reads them.
"""

from __future__ import absolute_import, division, print_function

__metaclass__ = type

import base64
import copy
import hashlib
import ipaddress
import json
import os
import time

from ansible_collections.meshforge.vpn.plugins.module_utils import files
from ansible_collections.meshforge.vpn.plugins.module_utils.wireguard import endpoints, interface, schema, service
from ansible_collections.meshforge.vpn.plugins.module_utils.wireguard.host import WireGuardHost
from ansible_collections.meshforge.vpn.tests.unit.plugins.module_utils.fakes import CommandLog, FakeModule

READ_ONLY = object()
CHANGING = object()


def public_of(private_key):
    """The fake host's ``wg pubkey``: a deterministic 32-byte value derived from the private key."""
    raw = base64.b64decode(private_key.strip())
    return base64.b64encode(hashlib.sha256(b'pub' + raw).digest()).decode()


def make_key(seed):
    return base64.b64encode(hashlib.sha256(seed.encode()).digest()).decode()


class FakeSystem(CommandLog):

    def __init__(self, kernel_wireguard=True, tools=('wg', 'ip', 'wireguard-go', 'systemctl'), dns=None):
        super(FakeSystem, self).__init__()
        self.kernel_wireguard = kernel_wireguard
        self.tools = set(tools)
        self.dns = dict(dns or {})
        self.links = {}
        self.routes = []            # dicts: dst, dev, table, protocol, family, gateway (optional); default metrics
        self.management = None      # the SSH connection the module came through (routes.management_connection)
        self.enabled_units = set()
        self.daemon_reloads = 0
        self.genkey_count = 0

    # -------------------------------------------------------------- helpers --
    def link_add(self, name, kind):
        self.links[name] = {'kind': kind, 'mtu': 1420, 'up': False, 'addresses': [], 'private_key': None,
                            'listen_port': 0, 'fwmark': 0, 'peers': {}}

    def peer(self, ifname, public_key):
        return self.links[ifname]['peers'][public_key]

    def handshake(self, ifname, public_key, age, endpoint=None):
        """The peer did a handshake ``age`` seconds ago, from ``endpoint`` if given (roaming)."""
        peer = self.peer(ifname, public_key)
        peer['latest_handshake'] = int(time.time() - age)
        if endpoint:
            peer['endpoint'] = endpoint

    # ------------------------------------------------------------- dispatch --
    def run(self, argv, data=None, environ=None):
        tool = os.path.basename(argv[0])
        assert tool in self.tools, 'ran %s, which is not installed' % tool
        handler = getattr(self, 'cmd_' + tool.replace('-', '_'))
        kind, rc, out, err = handler(argv[1:], data, environ or {})
        self.record(list(argv), kind is CHANGING)
        return rc, out, err

    # ------------------------------------------------------------------ wg --
    def cmd_wg(self, args, data, environ):
        if args == ['genkey']:
            self.genkey_count += 1
            return CHANGING, 0, make_key('generated-%d-%f' % (self.genkey_count, time.time())) + '\n', ''
        if args == ['pubkey']:
            return READ_ONLY, 0, public_of(data.decode() if isinstance(data, bytes) else data) + '\n', ''
        if args[0] == 'show' and args[2:] == ['dump']:
            if args[1] == 'all':
                lines = []
                for name in sorted(self.links):
                    lines += [name + '\t' + line for line in self.dump_lines(name)]
                return READ_ONLY, 0, ''.join(line + '\n' for line in lines), ''
            if args[1] not in self.links:
                return READ_ONLY, 1, '', 'Unable to access interface: No such device\n'
            return READ_ONLY, 0, ''.join(line + '\n' for line in self.dump_lines(args[1])), ''
        if args[0] == 'set':
            return (CHANGING,) + self.wg_set(args[1], args[2:])
        raise AssertionError('unexpected wg %r' % (args,))

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

    def wg_set(self, name, args):
        if name not in self.links:
            return 1, '', 'Unable to access interface: No such device\n'
        link = self.links[name]
        peer = None
        args = list(args)
        while args:
            word = args.pop(0)
            if word == 'peer':
                key = args.pop(0)
                if args and args[0] == 'remove':
                    args.pop(0)
                    link['peers'].pop(key, None)
                    peer = None
                    continue
                peer = link['peers'].setdefault(key, {
                    'preshared_key': None, 'endpoint': None, 'allowed_ips': [], 'latest_handshake': 0,
                    'transfer_rx': 0, 'transfer_tx': 0, 'persistent_keepalive': 0})
            elif peer is None and word == 'private-key':
                link['private_key'] = self.read_key(args.pop(0))
            elif peer is None and word == 'listen-port':
                link['listen_port'] = int(args.pop(0))
            elif peer is None and word == 'fwmark':
                value = args.pop(0)
                link['fwmark'] = 0 if value == 'off' else int(value, 0)
            elif peer is not None and word == 'allowed-ips':
                prefixes = [str(ipaddress.ip_network(p)) for p in args.pop(0).split(',') if p]
                for other in link['peers'].values():
                    # a prefix belongs to one peer: setting it on one takes it from the others
                    other['allowed_ips'] = [p for p in other['allowed_ips'] if p not in prefixes]
                peer['allowed_ips'] = sorted(prefixes)
            elif peer is not None and word == 'persistent-keepalive':
                value = args.pop(0)
                peer['persistent_keepalive'] = 0 if value == 'off' else int(value)
            elif peer is not None and word == 'endpoint':
                value = args.pop(0)
                host, port = value.rsplit(':', 1)
                host = self.dns.get(host.strip('[]'), host.strip('[]'))
                peer['endpoint'] = ('[%s]:%s' if ':' in host else '%s:%s') % (host, port)
            elif peer is not None and word == 'preshared-key':
                path = args.pop(0)
                peer['preshared_key'] = None if path == '/dev/null' else self.read_key(path)
            else:
                raise AssertionError('unexpected wg set word %r' % word)
        return 0, '', ''

    @staticmethod
    def read_key(path):
        with open(path) as handle:
            return handle.read().strip()

    # ------------------------------------------------------------------ ip --
    def cmd_ip(self, args, data, environ):
        if args[:4] == ['-d', '-j', 'link', 'show']:
            name = args[5]
            if name not in self.links:
                return READ_ONLY, 1, '', 'Device "%s" does not exist.\n' % name
            link = self.links[name]
            flags = ['POINTOPOINT', 'NOARP'] + (['UP', 'LOWER_UP'] if link['up'] else [])
            return READ_ONLY, 0, json.dumps([{
                'ifindex': 7, 'ifname': name, 'flags': flags, 'mtu': link['mtu'], 'operstate': 'UNKNOWN',
                'linkinfo': {'info_kind': link['kind']}}]), ''
        if args[:4] == ['-j', 'address', 'show', 'dev']:
            name = args[4]
            if name not in self.links:
                return READ_ONLY, 1, '', 'Device "%s" does not exist.\n' % name
            infos = []
            for text in self.links[name]['addresses']:
                iface = ipaddress.ip_interface(text)
                infos.append({'family': 'inet' if iface.version == 4 else 'inet6', 'local': str(iface.ip),
                              'prefixlen': iface.network.prefixlen,
                              'scope': 'link' if iface.ip.is_link_local else 'global'})
            if self.links[name]['kind'] == 'tun' and self.links[name]['up']:
                infos.append({'family': 'inet6', 'local': 'fe80::1', 'prefixlen': 64, 'scope': 'link'})
            return READ_ONLY, 0, json.dumps([{'ifname': name, 'addr_info': infos}]), ''
        if args[:2] == ['-j', '-4'] or args[:2] == ['-j', '-6']:
            assert args[2:4] == ['route', 'show'] and args[4] == 'table' and args[6:7] in (['dev'], []), args
            family, table = int(args[1][1]), {'254': 'main'}.get(args[5], args[5])
            name = args[7] if args[6:] else None
            proto = args[9] if args[8:9] == ['proto'] else None
            found = []
            for route in self.routes:
                if (route['family'], route['table']) == (family, table) and name in (None, route['dev']) \
                        and proto in (None, route['protocol']):
                    net = ipaddress.ip_network(route['dst'])
                    if net.prefixlen == 0:
                        dst = 'default'
                    elif net.prefixlen == net.max_prefixlen:
                        dst = str(net.network_address)
                    else:
                        dst = str(net)
                    found.append({'dst': dst, 'dev': route['dev'], 'protocol': route['protocol'], 'flags': []})
                    if route.get('gateway'):
                        found[-1]['gateway'] = route['gateway']
                    else:
                        found[-1]['scope'] = 'link'
            return READ_ONLY, 0, json.dumps(found), ''
        if args[:3] == ['link', 'add', 'dev'] and args[4:] == ['type', 'wireguard']:
            if not self.kernel_wireguard:
                return CHANGING, 2, '', 'Error: Unknown device type.\n'
            if args[3] in self.links:
                return CHANGING, 2, '', 'RTNETLINK answers: File exists\n'
            self.link_add(args[3], 'wireguard')
            return CHANGING, 0, '', ''
        if args[:3] == ['link', 'delete', 'dev']:
            self.links.pop(args[3])
            self.routes = [r for r in self.routes if r['dev'] != args[3]]
            return CHANGING, 0, '', ''
        if args[:3] == ['link', 'set', 'dev']:
            link = self.links[args[3]]
            if args[4:] == ['up']:
                link['up'] = True
                if not link['listen_port']:
                    link['listen_port'] = 40000 + len(self.links)
                for text in link['addresses']:
                    self.add_connected_route(args[3], text)
            elif args[4] == 'mtu':
                link['mtu'] = int(args[5])
            else:
                raise AssertionError(args)
            return CHANGING, 0, '', ''
        if args[0] == 'address' and args[1] in ('add', 'del') and args[3] == 'dev':
            link = self.links[args[4]]
            text = str(ipaddress.ip_interface(args[2]))
            if args[1] == 'add':
                if text in link['addresses']:
                    return CHANGING, 2, '', 'RTNETLINK answers: File exists\n'
                link['addresses'].append(text)
                if link['up']:
                    self.add_connected_route(args[4], text)
            else:
                link['addresses'].remove(text)
                net = str(ipaddress.ip_interface(text).network)
                self.routes = [r for r in self.routes if not (r['dev'] == args[4] and r['dst'] == net
                                                              and r['protocol'] == 'kernel')]
            return CHANGING, 0, '', ''
        if args[0] == 'route' and args[1] in ('replace', 'del'):
            dst = str(ipaddress.ip_network(args[2]))
            words = dict(zip(args[3::2], args[4::2]))
            if not (words['table'] == 'main' or words['table'].isdigit()):
                return CHANGING, 1, '', 'Error: argument "%s" is wrong: table id value is invalid\n' % words['table']
            # the kernel knows a route by destination and table (and metric): replace takes whoever's route is there,
            # a delete that names a device and protocol removes only a route that has them
            if args[1] == 'replace':
                self.routes = [r for r in self.routes if (r['dst'], r['table']) != (dst, words['table'])]
            else:
                key = (dst, words['dev'], words['table'], words['proto'])
                if key not in [(r['dst'], r['dev'], r['table'], r['protocol']) for r in self.routes]:
                    return CHANGING, 2, '', 'RTNETLINK answers: No such process\n'
                self.routes = [r for r in self.routes if (r['dst'], r['dev'], r['table'], r['protocol']) != key]
            if args[1] == 'replace':
                self.routes.append({'dst': dst, 'dev': words['dev'], 'table': words['table'],
                                    'protocol': words['proto'], 'family': ipaddress.ip_network(dst).version})
            return CHANGING, 0, '', ''
        raise AssertionError('unexpected ip %r' % (args,))

    def add_connected_route(self, name, text):
        net = ipaddress.ip_interface(text).network
        self.routes.append({'dst': str(net), 'dev': name, 'table': 'main', 'protocol': 'kernel',
                            'family': net.version})

    # -------------------------------------------------------- wireguard-go --
    def cmd_wireguard_go(self, args, data, environ):
        assert environ.get('LOG_LEVEL') == '', 'wireguard-go must be started with its logs off'
        self.link_add(args[0], 'tun')
        return CHANGING, 0, '', ''

    # ------------------------------------------------------------ systemctl --
    def cmd_systemctl(self, args, data, environ):
        if args[0] == 'is-enabled':
            enabled = args[1] in self.enabled_units
            return READ_ONLY, 0 if enabled else 1, 'enabled\n' if enabled else 'disabled\n', ''
        if args[0] == 'daemon-reload':
            self.daemon_reloads += 1
            return CHANGING, 0, '', ''
        now = '--now' in args
        unit = [a for a in args[1:] if a != '--now'][0]
        ifname = unit.split('@', 1)[1]
        if args[0] == 'enable':
            self.enabled_units.add(unit)
            if now:
                # wg-quick up, reduced to what matters here: the link exists; the module applies the rest
                self.link_add(ifname, 'wireguard' if self.kernel_wireguard else 'tun')
        elif args[0] == 'disable':
            self.enabled_units.discard(unit)
            if now and ifname in self.links:
                self.links.pop(ifname)
                self.routes = [r for r in self.routes if r['dev'] != ifname]
        else:
            raise AssertionError(args)
        return CHANGING, 0, '', ''


def install(system, directory, monkeypatch):
    """Point the WireGuard driver at ``system``'s files under ``directory``, and at its kernel, systemd and DNS."""
    system.systemd = False
    system.dir = os.path.join(directory, 'wireguard')
    system.dropins = os.path.join(directory, 'systemd')
    os.mkdir(system.dir, 0o700)
    monkeypatch.setattr(schema, 'CONFIG_DIR', system.dir)
    monkeypatch.setattr(service, 'systemd_running', lambda: system.systemd)
    monkeypatch.setattr(service, 'dropin_path', lambda name: '%s/wg-quick@%s.service.d/userspace.conf' % (system.dropins, name))
    monkeypatch.setattr(WireGuardHost, 'kernel_module_present', lambda self: system.kernel_wireguard)
    monkeypatch.setattr(endpoints, 'resolve_name', lambda host, port: set(a for h, a in system.dns.items() if h == host))
    monkeypatch.setattr(interface, 'management_connection', lambda: system.management)
    return system


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
                with open(path) as handle:
                    found[path] = (os.stat(path).st_mode & 0o7777, handle.read())
    return found


def run(system, func, params, check_mode=False, diff=True):
    """One module run; returns (result, module, changing commands it ran)."""
    module = FakeModule(system, params, check_mode=check_mode, diff=diff)
    before = len(system.log)
    result = func(module)
    changing = [argv for kind, argv in system.log[before:] if kind]
    return result, module, changing


def assert_no_secret(result, *secrets):
    text = json.dumps(result)
    for secret in secrets:
        assert secret not in text


def check_then_apply(system, func, params, *secrets):
    """Check mode, then the real run: same ``changed``, and check mode changed nothing. Returns the real result."""
    files_before = snapshot(system.dir, system.dropins)
    state_before = json.dumps([system.links, system.routes, sorted(system.enabled_units)], sort_keys=True)
    predicted, _module, changing = run(system, func, params, check_mode=True)
    assert changing == [], 'check mode ran %s' % changing
    assert snapshot(system.dir, system.dropins) == files_before
    assert json.dumps([system.links, system.routes, sorted(system.enabled_units)], sort_keys=True) == state_before
    result, module, changing = run(system, func, params)
    assert result['changed'] == predicted['changed']
    if not result['changed']:
        assert changing == []
    for key in ('peers_added', 'peers_removed', 'peers_changed', 'config_changed'):
        if key in result:
            assert predicted[key] == result[key], key
    assert_no_secret(predicted, *secrets)
    assert_no_secret(result, *secrets)
    return result, module


def write_key(system, name='wg0', key=PRIV_A, mode=0o600):
    path = os.path.join(system.dir, '%s.key' % name)
    files.write_atomic(path, key + '\n', mode)
    return path
