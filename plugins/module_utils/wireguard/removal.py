# -*- coding: utf-8 -*-
# Copyright: meshforge.vpn contributors
# GNU General Public License v3.0+ (see https://www.gnu.org/licenses/gpl-3.0.txt)
"""wireguard_interface with ``state: absent`` on the engine: the link, its wg-quick file and its unit go; the key
file stays (it is wireguard_key's to remove)."""

from __future__ import absolute_import, division, print_function

__metaclass__ = type

import os

from ansible_collections.meshforge.vpn.plugins.module_utils import engine, files
from ansible_collections.meshforge.vpn.plugins.module_utils.routes import rules
from ansible_collections.meshforge.vpn.plugins.module_utils.wireguard import schema, service, wgquick
from ansible_collections.meshforge.vpn.plugins.module_utils.wireguard.describe import peer_ref
from ansible_collections.meshforge.vpn.plugins.module_utils.wireguard.routing import ROUTE_PROTOCOL


class Removal(engine.Resource):
    """No interface called ``name``.  The file is removed after the unit is stopped, since ``wg-quick down``
    reads it."""

    kind = 'wireguard_interface'

    def want(self):
        want = schema.normalize_interface(self.module.params)
        want['config_file'] = wgquick.config_path(want['name'])
        return want

    def have(self, want):
        name = want['name']
        link = self.host.link(name)
        systemd = service.systemd_running()
        dump = self.host.dump(name) if link and self.host.tool('wg', required=False) else None
        exit_routing = want['exit_routing']
        owned = range(exit_routing['priority'], exit_routing['priority'] + rules.RULES_PER_FAMILY) if exit_routing else ()
        return {'link': link, 'config': files.read_text(want['config_file']),
                'rules': [r for r in self.host.rules(ROUTE_PROTOCOL) if r['priority'] in owned] if owned else [],
                'enabled': systemd and service.unit_enabled(self.host, name),
                'dropin': systemd and os.path.exists(service.dropin_path(name)),
                'peers': sorted(dump['peers']) if dump else []}

    def steps(self, want, have):
        return {'disable': have['enabled'], 'delete': bool(have['link']), 'dropin': have['dropin'],
                'rules': have['rules']}

    def apply(self, want, have, steps):
        if steps['disable']:
            service.disable(self.host, want['name'])
        if self.host.link(want['name']):        # the unit may have taken it down already
            self.host.delete_link(want['name'])
        if steps['dropin']:
            service.remove_dropin(self.host, want['name'])
        for rule in steps['rules']:
            self.host.ip_run(rules.delete_args(rule, ROUTE_PROTOCOL))

    def files(self, want, have):
        return [engine.File(want['config_file'], None)]

    def audit(self, want, have, steps):
        return ([('service disabled', want['name'])] if steps['disable'] else []) + (
            [('interface removed', '%d peers' % len(have['peers']))] if steps['delete'] else []) + [
            ('rule removed', rules.describe(r)) for r in steps['rules']]

    def result(self, want, have, steps, pending):
        labels = wgquick.parse_descriptions(have['config'])
        return {'peers_added': [], 'peers_changed': [],
                'peers_removed': [peer_ref(k, labels) for k in have['peers']],
                'config_file': want['config_file'], 'config_changed': have['config'] is not None,
                'implementation': have['link']['implementation'] if have['link'] else None}

    def diff(self, want, have, steps, pending):
        name, path = want['name'], want['config_file']
        return {'before': 'interface %s: %s\nconfig %s: %s\n' % (name, 'present' if have['link'] else 'absent', path,
                                                                 'present' if have['config'] is not None else 'absent'),
                'after': 'interface %s: absent\nconfig %s: absent\n' % (name, path)}
