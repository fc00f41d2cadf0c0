# -*- coding: utf-8 -*-
# Copyright: meshforge.vpn contributors
# GNU General Public License v3.0+ (see https://www.gnu.org/licenses/gpl-3.0.txt)
"""The routes this collection owns, as data: table names, ``ip -j`` output parsed, the desired form, the plan
between them and the words of ``ip route``.  (``safety`` checks a route before it is added, ``resource`` runs the
``route`` module through the engine.)

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


def sort_key(route):
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
        steps[name].sort(key=sort_key)
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
             for r in sorted(desired, key=sort_key) if r['state'] == 'present']
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
