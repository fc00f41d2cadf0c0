# -*- coding: utf-8 -*-
# Copyright: meshforge.vpn contributors
# GNU General Public License v3.0+ (see https://www.gnu.org/licenses/gpl-3.0.txt)
"""Everything about the routes this collection owns: read them live with ``ip -j``, compare, change only the difference.

A route belongs to this collection when it carries one of its protocol tags
(the ``proto`` of ``ip route``).  Reading asks the kernel for that tag only,
and every deletion names the tag, so a route of any other owner (the kernel,
DHCP, a routing daemon, a hand-made ``static`` route) is never removed.

Two owners, two tags, so neither purges the other's routes:
``wireguard_interface`` tags the routes to its peers' allowed IPs with
:data:`PROTOCOL_WIREGUARD`; the ``route`` module uses :data:`PROTOCOL_ROUTE`
unless told otherwise.

``ip -j`` (iproute2's JSON) rather than pyroute2: iproute2 is on every Linux
host, pyroute2 is not, and the wire format is the kernel's either way.
"""

from __future__ import absolute_import, division, print_function

__metaclass__ = type

import glob
import ipaddress
import json
import os

from ansible_collections.meshforge.vpn.plugins.module_utils import files
from ansible_collections.meshforge.vpn.plugins.module_utils.common import CommandError
from ansible_collections.meshforge.vpn.plugins.module_utils import validation as v

PROTOCOL_WIREGUARD = '109'
"""Routes that wireguard_interface adds for allowed IPs."""

PROTOCOL_ROUTE = '110'
"""Default tag of the route module."""

# Tags that mark routes other owners made: the kernel's, redirects, boot-time and hand-made (static) ones,
# and the WireGuard module's.  Purging with one of them would remove routes this module never added.
FOREIGN_PROTOCOLS = {0: 'unspec', 1: 'redirect', 2: 'kernel', 3: 'boot', 4: 'static',
                     int(PROTOCOL_WIREGUARD): 'wireguard_interface'}

BUILTIN_TABLES = {'unspec': 0, 'default': 253, 'main': 254, 'local': 255}
RT_TABLES_FILES = ('/usr/share/iproute2/rt_tables', '/usr/lib/iproute2/rt_tables', '/etc/iproute2/rt_tables')
RT_TABLES_DIRS = ('/usr/share/iproute2/rt_tables.d', '/usr/lib/iproute2/rt_tables.d', '/etc/iproute2/rt_tables.d')
DEFAULT_METRIC = {4: 0, 6: 1024}
"""The kernel stores an IPv6 route without a metric (or with 0) at 1024."""


# ---------------------------------------------------------------- tables --

def parse_rt_tables(text):
    """``{name: number}`` from the text of an rt_tables file (``number name`` lines, ``#`` comments)."""
    names = {}
    for line in (text or '').splitlines():
        words = line.split('#', 1)[0].split()
        if len(words) >= 2:
            try:
                names[words[1]] = int(words[0], 0)
            except ValueError:
                continue
    return names


def read_table_names(read=None):
    """Table names the host's iproute2 knows, the files it reads in its own order (later files win)."""
    if read is None:
        from ansible_collections.meshforge.vpn.plugins.module_utils.files import read_text as read
    names = dict(BUILTIN_TABLES)
    paths = list(RT_TABLES_FILES)
    for directory in RT_TABLES_DIRS:
        paths += sorted(glob.glob(directory + '/*.conf'))
    for path in paths:
        try:
            names.update(parse_rt_tables(read(path)))
        except (IOError, OSError):
            continue
    return names


def table_id(field, value, names):
    """A table given as a number or a name from rt_tables, as its number."""
    if isinstance(value, int) and not isinstance(value, bool):
        return v.integer(field, value, 1, 0xffffffff)
    text = str(value).strip()
    if text.isdigit():
        return v.integer(field, text, 1, 0xffffffff)
    if text not in names:
        raise v.ValidationError(field, '%r is neither a number nor a table named in /etc/iproute2/rt_tables' % text)
    if names[text] == 0:
        raise v.ValidationError(field, '%r is not a routing table' % text)
    return names[text]


def table_label(number, names):
    """The name ip prints for a table number, for people."""
    for name, value in sorted(names.items()):
        if value == number:
            return name
    return str(number)


# ---------------------------------------------------------------- parsing --

def destination(dst, family):
    """ip's ``default`` and bare addresses as CIDR prefixes."""
    if dst == 'default':
        return '0.0.0.0/0' if family == 4 else '::/0'
    if '/' not in dst:
        dst += '/32' if family == 4 else '/128'
    return str(ipaddress.ip_network(dst, strict=False))


def parse_routes(text, family, names=None):
    """The routes in ``ip -j -4|-6 route show`` output as plain dicts.

    ``table`` is a number (ip leaves it out for the main table); ``metric`` is
    the kernel's value, 0 for IPv4 and 1024 for IPv6 when none was given.
    """
    names = BUILTIN_TABLES if names is None else names
    found = []
    for raw in json.loads(text or '[]'):
        if raw.get('type', 'unicast') not in ('unicast', 1, '1'):
            continue
        table = raw.get('table', 'main')
        table = int(table) if str(table).isdigit() else names.get(table, table)
        found.append({
            'dst': destination(raw['dst'], family),
            'gateway': raw.get('gateway'),
            'dev': raw.get('dev'),
            'table': table,
            'metric': int(raw.get('metric') or DEFAULT_METRIC[family]),
            'src': raw.get('prefsrc'),
            'multipath': bool(raw.get('nexthops')),
            'protocol': str(raw.get('protocol', 'boot')),
            'scope': raw.get('scope', 'global'),
        })
    return found


# ------------------------------------------------------------ validation --

def normalize_route(field, raw, names):
    """One route of the route module, every value checked; returns its desired form."""
    dst = v.network(field + '.dest', str(raw.get('dest') if raw.get('dest') is not None else ''))
    family = dst.version
    route = {'dst': str(dst), 'family': family, 'gateway': None, 'dev': None, 'src': None,
             'state': raw.get('state') or 'present'}
    if route['state'] not in ('present', 'absent'):
        raise v.ValidationError(field + '.state', '%r is not present or absent' % route['state'])
    for key, ip_key in (('gateway', 'gateway'), ('src', 'src')):
        if raw.get(key):
            addr = v.address(field + '.' + key, str(raw[key]))
            if addr.version != family:
                raise v.ValidationError(field + '.' + key, '%s is IPv%d but dest %s is IPv%d'
                                        % (addr, addr.version, dst, family))
            route[ip_key] = str(addr)
    if raw.get('dev'):
        route['dev'] = v.interface_name(field + '.dev', raw['dev'])
    if route['state'] == 'present' and not (route['gateway'] or route['dev']):
        raise v.ValidationError(field, 'route to %s needs a gateway, a dev or both' % dst)
    route['table'] = table_id(field + '.table', raw.get('table') if raw.get('table') is not None else 'main', names)
    metric = raw.get('metric')
    metric = DEFAULT_METRIC[family] if metric is None else v.integer(field + '.metric', metric, 0, 0xffffffff)
    route['metric'] = DEFAULT_METRIC[6] if family == 6 and metric == 0 else metric
    return route


def protocol_tag(field, value):
    """The tag of the routes a route module owns: a number 1-255 that no other owner uses."""
    number = v.integer(field, value, 1, 255)
    if number in FOREIGN_PROTOCOLS:
        raise v.ValidationError(field, '%d marks routes of %s; purging with it would remove routes this module '
                                       'did not add' % (number, FOREIGN_PROTOCOLS[number]))
    return str(number)


def key(route):
    """What makes a route one route to the kernel: family, table, destination, metric."""
    return (ipaddress.ip_network(route['dst']).version, route['table'], route['dst'], route['metric'])


def _sort_key(route):
    net = ipaddress.ip_network(route['dst'])
    return (net.version, route['table'], net, route['metric'])


def differs(desired, live):
    """The fields of a live route that are not as desired (a device left out is the kernel's choice)."""
    fields = [f for f in ('gateway', 'src') if desired[f] != live[f]]
    if desired['dev'] and desired['dev'] != live['dev']:
        fields.append('dev')
    if live.get('multipath'):
        fields.append('nexthops')
    return fields


def plan(desired, live, purge):
    """``{'add': [...], 'change': [...], 'remove': [...]}`` turning the tagged ``live`` routes into ``desired``."""
    live_by_key = dict((key(r), r) for r in live)
    wanted = set()
    steps = {'add': [], 'change': [], 'remove': []}
    for route in desired:
        k = key(route)
        current = live_by_key.get(k)
        if route['state'] == 'absent':
            if current is not None:
                steps['remove'].append(current)
            continue
        wanted.add(k)
        if current is None:
            steps['add'].append(route)
        else:
            fields = differs(route, current)
            if fields:
                steps['change'].append(dict(route, fields=fields))
    if purge:
        removing = set(key(r) for r in steps['remove'])
        steps['remove'] += [r for r in live if key(r) not in wanted and key(r) not in removing]
    for name in steps:
        steps[name].sort(key=_sort_key)
    return steps


def check_duplicates(routes):
    seen = {}
    for index, route in enumerate(routes):
        k = key(route)
        if k in seen:
            raise v.ValidationError('routes[%d]' % index, 'same destination, table and metric as routes[%d]; '
                                    'give one of them another metric' % seen[k])
        seen[k] = index


def route_args(route, protocol):
    """``ip route`` words after the verb, in the order ip documents them."""
    args = [route['dst']]
    if route.get('gateway'):
        args += ['via', route['gateway']]
    if route.get('dev'):
        args += ['dev', route['dev']]
    args += ['table', str(route['table'])]
    if route.get('metric') is not None:
        args += ['metric', str(route['metric'])]
    if route.get('src'):
        args += ['src', route['src']]
    return args + ['proto', protocol]


BOOT_HEADER = ('# Written by meshforge.vpn.route; restore at boot with ip -force -batch <this file> '
               '(after the interfaces are up). Edits are overwritten.\n')


def boot_file(desired, protocol):
    """The routes in ``ip -batch`` form, present ones only: ``replace`` adds or corrects, so a reload is harmless."""
    lines = ['route replace %s' % ' '.join(route_args(r, protocol))
             for r in sorted(desired, key=_sort_key) if r['state'] == 'present']
    return BOOT_HEADER + ''.join(line + '\n' for line in lines)


def describe(route, names=None):
    text = route['dst']
    if route.get('gateway'):
        text += ' via %s' % route['gateway']
    if route.get('dev'):
        text += ' dev %s' % route['dev']
    text += ' table %s metric %s' % (table_label(route['table'], names or BUILTIN_TABLES), route['metric'])
    if route.get('src'):
        text += ' src %s' % route['src']
    return text


# ------------------------------------------------------- safety --
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


# ---------------------------------------------------------------- host --

class RouteHost(object):
    """Runs ``ip`` for routes; failures raise :class:`CommandError`."""

    def __init__(self, module):
        self.module = module

    def run(self, args):
        rc, out, err = self.module.run_command(args)
        if rc != 0:
            raise CommandError(args, rc, err or out)
        return out

    def ip(self):
        return self.module.get_bin_path('ip', required=True)

    def tagged(self, family, protocol, table='all', dev=None, names=None):
        """Routes of one family that carry ``protocol``, in ``table`` (``all`` for every table), on ``dev`` if given."""
        args = [self.ip(), '-j', '-%d' % family, 'route', 'show', 'table', str(table)]
        if dev:
            args += ['dev', dev]
        args += ['proto', protocol]
        found = parse_routes(self.run(args), family, names)
        if dev:
            for route in found:
                route['dev'] = dev
        return found

    def table(self, family, table, names=None):
        """Every route of one family in one table, whoever owns it."""
        found = parse_routes(self.run([self.ip(), '-j', '-%d' % family, 'route', 'show', 'table', str(table)]),
                             family, names)
        for route in found:
            route['table'] = table      # ip leaves the table out when asked for one
        return found

    def replace(self, route, protocol):
        self.run([self.ip(), 'route', 'replace'] + route_args(route, protocol))

    def delete(self, route, protocol):
        self.run([self.ip(), 'route', 'del'] + route_args(route, protocol))


# ------------------------------------------------------------ module --

def manage_routes(module, names=None, connection=None):
    """The body of the route module: make the tagged routes match ``routes``; returns the module result.

    ``connection`` is the management SSH connection (read from the environment when None).
    """
    params = module.params
    names = read_table_names() if names is None else names
    protocol = protocol_tag('protocol', params.get('protocol') if params.get('protocol') is not None else PROTOCOL_ROUTE)
    if not isinstance(params.get('routes') or [], list):
        raise v.ValidationError('routes', 'must be a list of routes')
    desired = [normalize_route('routes[%d]' % i, r or {}, names) for i, r in enumerate(params.get('routes') or [])]
    check_duplicates(desired)
    purge = bool(params.get('purge'))
    host = RouteHost(module)
    families = set(r['family'] for r in desired)
    if purge:
        families = {4, 6}
    live = []
    for family in sorted(families):
        live += host.tagged(family, protocol, names=names)
    path = params.get('path')
    if path is not None:
        path = v.host_path('path', path)
    steps = plan(desired, live, purge)
    if steps['add'] or steps['change']:
        fields = dict((key(r), 'routes[%d].dest' % i) for i, r in enumerate(desired))
        check_routes(host, [(fields[key(r)], r) for r in steps['add'] + steps['change']], [key(r) for r in live],
                     management_connection() if connection is None else connection, names=names)
    content = None
    if path is not None:
        content = boot_file(desired, protocol)
    persist = content is not None and files.file_needs_change(path, content, 0o644)
    changed = any(steps.values())
    result = {
        'changed': changed or persist,
        'persisted': persist,
        'protocol': int(protocol),
        'added': [describe(r, names) for r in steps['add']],
        'changed_routes': [dict(route=describe(r, names), fields=r['fields']) for r in steps['change']],
        'removed': [describe(r, names) for r in steps['remove']],
    }
    if module._diff:
        after = dict((key(r), r) for r in live)
        for route in steps['remove']:
            after.pop(key(route), None)
        for route in steps['add'] + steps['change']:
            after[key(route)] = route
        result['diff'] = {
            'before': ''.join(describe(r, names) + '\n' for r in sorted(live, key=_sort_key)),
            'after': ''.join(describe(r, names) + '\n' for r in sorted(after.values(), key=_sort_key)),
            'before_header': 'routes with protocol %s' % protocol,
            'after_header': 'routes with protocol %s' % protocol,
        }
    if changed and not module.check_mode:
        for route in steps['remove']:
            host.delete(route, protocol)
        for route in steps['add'] + steps['change']:
            host.replace(route, protocol)
    if persist and not module.check_mode:
        files.ensure_file(path, content, 0o644, 0o755)
    return result
