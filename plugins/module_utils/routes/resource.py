# -*- coding: utf-8 -*-
# Copyright: meshforge.vpn contributors
# GNU General Public License v3.0+ (see https://www.gnu.org/licenses/gpl-3.0.txt)
"""The routes a ``route`` task owns (one protocol tag) on the engine: read live with ``ip -j``, checked against the
live table before they are added, changed one by one with ``ip route replace|del``, kept in a boot file."""

from __future__ import absolute_import, division, print_function

__metaclass__ = type

from ansible_collections.meshforge.vpn.plugins.module_utils import engine
from ansible_collections.meshforge.vpn.plugins.module_utils.common import CommandError
from ansible_collections.meshforge.vpn.plugins.module_utils import validation as v
from ansible_collections.meshforge.vpn.plugins.module_utils.routes.model import (
    PROTOCOL_ROUTE, boot_file, check_duplicates, describe, key, normalize_route, parse_routes, plan, protocol_tag,
    read_table_names, route_args, sort_key)
from ansible_collections.meshforge.vpn.plugins.module_utils.routes import safety


class RouteHost(engine.Host):
    """Reads and changes routes with ``ip``."""

    def ip(self):
        return self.tool('ip', package='iproute2')

    def tagged(self, family, protocol, table='all', dev=None, names=None):
        """Routes of one family that carry ``protocol``, in ``table`` (``all`` for every table), on ``dev`` if given."""
        args = [self.ip(), '-j', '-%d' % family, 'route', 'show', 'table', str(table)]
        if dev:
            args += ['dev', dev]
        args += ['proto', protocol]
        found = parse_routes(self.listing(args), family, names)
        if dev:
            for route in found:
                route['dev'] = dev
        return found

    def table(self, family, table, names=None):
        """Every route of one family in one table, whoever owns it."""
        found = parse_routes(self.listing([self.ip(), '-j', '-%d' % family, 'route', 'show', 'table', str(table)]),
                             family, names)
        for route in found:
            route['table'] = table      # ip leaves the table out when asked for one
        return found

    def listing(self, args):
        """The JSON of ``ip route show``; a numbered table the kernel does not have yet (ip: "FIB table does not
        exist") holds no route."""
        rc, out, err = self.probe(args)
        if rc != 0:
            if 'FIB table does not exist' in (err or ''):
                return '[]'
            raise CommandError(args, rc, err or out)
        return out

    def replace(self, route, protocol):
        self.run([self.ip(), 'route', 'replace'] + route_args(route, protocol))

    def delete(self, route, protocol):
        self.run([self.ip(), 'route', 'del'] + route_args(route, protocol))


class Routes(engine.Resource):
    """The routes of one protocol tag.  ``names`` are the host's table names, ``connection`` the management SSH
    connection (both read from the host when None)."""

    def __init__(self, module, host=None, names=None, connection=None):
        super(Routes, self).__init__(module, host or RouteHost(module))
        self.names = read_table_names() if names is None else names
        self.connection = connection

    def want(self):
        params = self.module.params
        protocol = params.get('protocol')
        if not isinstance(params.get('routes') or [], list):
            raise v.ValidationError('routes', 'must be a list of routes')
        routes = [normalize_route('routes[%d]' % i, r or {}, self.names) for i, r in enumerate(params.get('routes') or [])]
        check_duplicates(routes)
        path = params.get('path')
        return {'routes': routes, 'purge': bool(params.get('purge')),
                'protocol': protocol_tag('protocol', PROTOCOL_ROUTE if protocol is None else protocol),
                'path': v.host_path('path', path) if path is not None else None}

    def have(self, want):
        families = {4, 6} if want['purge'] else set(r['family'] for r in want['routes'])
        return [route for family in sorted(families) for route in self.host.tagged(family, want['protocol'], names=self.names)]

    def steps(self, want, have):
        return plan(want['routes'], have, want['purge'])

    def check(self, want, have, steps):
        fields = dict((key(r), 'routes[%d].dest' % i) for i, r in enumerate(want['routes']))
        pending = [(fields[key(r)], r) for r in steps['add'] + steps['change']]
        if pending:
            connection = safety.management_connection() if self.connection is None else self.connection
            safety.check_routes(self.host, pending, [key(r) for r in have], connection, names=self.names)

    def apply(self, want, have, steps):
        for route in steps['remove']:
            self.host.delete(route, want['protocol'])
        for route in steps['add'] + steps['change']:
            self.host.replace(route, want['protocol'])

    kind = 'route'

    def audit_object(self, want):
        return 'protocol %s' % want['protocol']

    def audit(self, want, have, steps):
        return ([('route added', describe(r, self.names)) for r in steps['add']]
                + [('route changed', '%s: %s' % (describe(r, self.names), ', '.join(r['fields']))) for r in steps['change']]
                + [('route removed', describe(r, self.names)) for r in steps['remove']])

    def files(self, want, have):
        if want['path'] is None:
            return []
        return [engine.File(want['path'], boot_file(want['routes'], want['protocol']), 0o644, 0o755)]

    def result(self, want, have, steps, pending):
        return {
            'protocol': int(want['protocol']),
            'added': [describe(r, self.names) for r in steps['add']],
            'changed_routes': [dict(route=describe(r, self.names), fields=r['fields']) for r in steps['change']],
            'removed': [describe(r, self.names) for r in steps['remove']],
        }

    def diff(self, want, have, steps, pending):
        after = dict((key(r), r) for r in have)
        for route in steps['remove']:
            after.pop(key(route), None)
        for route in steps['add'] + steps['change']:
            after[key(route)] = route
        header = 'routes with protocol %s' % want['protocol']
        return {'before': ''.join(describe(r, self.names) + '\n' for r in sorted(have, key=sort_key)),
                'after': ''.join(describe(r, self.names) + '\n' for r in sorted(after.values(), key=sort_key)),
                'before_header': header, 'after_header': header}


def manage_routes(module, names=None, connection=None):
    """The body of the route module."""
    return engine.manage(Routes(module, names=names, connection=connection))
