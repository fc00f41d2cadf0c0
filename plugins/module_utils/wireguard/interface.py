# -*- coding: utf-8 -*-
# Copyright: meshforge.vpn contributors
# GNU General Public License v3.0+ (see https://www.gnu.org/licenses/gpl-3.0.txt)
"""wireguard_interface on the engine: one live interface made to match its options, changing only the difference,
persisted in its wg-quick file and, where systemd runs, by its ``wg-quick@`` unit."""

from __future__ import absolute_import, division, print_function

__metaclass__ = type

import ipaddress
import os
import shutil
import tempfile

from ansible_collections.meshforge.vpn.plugins.module_utils import engine, files
from ansible_collections.meshforge.vpn.plugins.module_utils.common import ModuleError
from ansible_collections.meshforge.vpn.plugins.module_utils import validation as v
from ansible_collections.meshforge.vpn.plugins.module_utils.routes import rules
from ansible_collections.meshforge.vpn.plugins.module_utils.routes.safety import management_connection
from ansible_collections.meshforge.vpn.plugins.module_utils.wireguard import forwarding, schema, service, wgquick
from ansible_collections.meshforge.vpn.plugins.module_utils.wireguard.describe import (
    describe, desired_as_described, fingerprint, live_as_described, peer_ref)
from ansible_collections.meshforge.vpn.plugins.module_utils.wireguard.endpoints import endpoint_addresses
from ansible_collections.meshforge.vpn.plugins.module_utils.wireguard.host import WireGuardHost
from ansible_collections.meshforge.vpn.plugins.module_utils.wireguard.key import read_private_key, read_psks
from ansible_collections.meshforge.vpn.plugins.module_utils.wireguard.live import read_interface
from ansible_collections.meshforge.vpn.plugins.module_utils.wireguard.removal import Removal
from ansible_collections.meshforge.vpn.plugins.module_utils.wireguard.routing import (
    ROUTE_PROTOCOL, check_routes, desired_route)
from ansible_collections.meshforge.vpn.plugins.module_utils.wireguard.steps import plan, wg_set_args


class KeyMismatch(ModuleError):
    """The host's key is not the one the plan gave its peers (the host was rebuilt, or its key changed by hand)."""

    def __init__(self, expected, actual, path):
        have = 'has the public key %s' % actual if actual else 'has no key (%s does not exist)' % path
        super(KeyMismatch, self).__init__(
            'expected_public_key: the host %s, not %s, the key its peers were planned with; nothing was changed. '
            'Read the key again (meshforge.vpn.wireguard_key) and plan again' % (have, expected))
        self.actual = actual

    def fail_keys(self):
        return {'key_mismatch': True, 'public_key': self.actual}


class Interface(engine.Resource):
    """One WireGuard interface (``state: present``).

    ``want`` also holds the private and preshared key values the options point at (registered as secrets), since
    the live keys are compared with them.  ``have`` is ``link`` (the live interface, None before it exists),
    ``config`` (the wg-quick file's text) and ``unit`` (the systemd unit, None where systemd does not run or
    nothing is persisted).  The wg-quick file is written first: where systemd runs, the unit brings a new interface
    up from it, so that systemd knows the unit as active (a later restart or stop works).
    """

    files_first = True
    kind = 'wireguard_interface'

    def __init__(self, module, host=None, connection=None):
        super(Interface, self).__init__(module, host or WireGuardHost(module))
        self.connection = connection

    def want(self):
        want = schema.normalize_interface(self.module.params)
        want['config_file'] = wgquick.config_path(want['name'])
        want['private_key'] = read_private_key(self.module, want['private_key_file'])
        if want['private_key'] is None and want['expected_public_key']:
            raise KeyMismatch(want['expected_public_key'], None, want['private_key_file'])
        if want['private_key'] is None and not self.module.check_mode:
            raise v.ValidationError('private_key_file', '%s does not exist on the host; create it with '
                                    'meshforge.vpn.wireguard_key first' % want['private_key_file'])
        want['psks'] = read_psks(self.module, want)
        want['rules'] = self._exit_rules(want)
        return want

    def _connection(self):
        return management_connection() if self.connection is None else self.connection

    def _exit_rules(self, want):
        """The policy rules of the families that exit through a peer; the management peer keeps the main table."""
        exit_routing = want['exit_routing']
        if not exit_routing:
            return []
        client = (self._connection() or {}).get('client')
        return [r for prefix in schema.exit_prefixes(want)
                for r in rules.exit_rules(ipaddress.ip_network(prefix).version, exit_routing['fwmark'],
                                          exit_routing['table'], client, exit_routing['priority'])]

    def have(self, want):
        config = files.read_text(want['config_file'])
        return {'link': self._read_link(want, config), 'config': config,
                'rules': self._live_rules(want, config),
                'unit': service.read(self.host, want['name']) if want['persist'] else None,
                'forwarding': forwarding.read(want['forwarding'])}

    def _live_rules(self, want, config):
        """The tagged policy rules of the families this interface wants rules for or wrote rules for before (its
        wg-quick file records them): a member that never used an exit node pays no read."""
        if not want['exit_routing']:
            return []
        families = set(r['family'] for r in want['rules'])
        families |= set(f for f in (4, 6) if ' ip -%d rule add ' % f in (config or '') or not want['persist'])
        return self.host.rules(ROUTE_PROTOCOL, sorted(families)) if families else []

    def _read_link(self, want, config):
        # link-local addresses count when they are wanted or were written before; the kernel's own never do
        link_local = set(want['addresses']) | set(wgquick.config_addresses(config))
        exit_table = want['exit_routing']['table'] if want['exit_routing'] else None
        return read_interface(self.host, want['name'], want['table'], link_local, exit_table)

    def steps(self, want, have):
        steps = plan(want, have['link'], want['private_key'], want['psks'], live_rules=have['rules'])
        implementation = have['link']['implementation'] if have['link'] else want['implementation']
        steps.update(service.steps(have['unit'], implementation))
        steps['forwarding'] = forwarding.steps(want['forwarding'], have['forwarding'])
        return steps

    def check(self, want, have, steps):
        if want['expected_public_key']:
            actual = self._public_key(want, have['link'])
            if actual != want['expected_public_key']:
                raise KeyMismatch(want['expected_public_key'], actual, want['private_key_file'])
        if steps['routes_add']:
            check_routes(self.host, want, have['link'], steps['routes_add'], self._connection(),
                         endpoint_addresses(want, have['link']))

    def files(self, want, have):
        config = engine.File(want['config_file'], wgquick.render_config(want), 0o600) if want['persist'] else None
        return [f for f in (config, forwarding.file(want['forwarding'], have['forwarding'])) if f]

    @staticmethod
    def _pending_sysctl(want, pending):
        """The sysctl file among the files that change (None when it does not, or forwarding is not asked for)."""
        path = want['forwarding']['sysctl_file'] if want['forwarding'] else None
        return next((item for item in pending if item.path == path), None)

    def labels(self, want, have):
        """The peers' names by public key: those the file was written with, then those asked for now."""
        labels = wgquick.parse_descriptions(have['config'])
        labels.update((p['public_key'], schema.label(p)) for p in want['peers'] if schema.label(p))
        return labels

    def result(self, want, have, steps, pending):
        labels = self.labels(want, have)
        link = have['link']
        implementation = link['implementation'] if link else None
        if implementation is None and self.module.check_mode:
            implementation = want['implementation']
        return {
            'peers_added': [peer_ref(k, labels) for k in steps['peers_add']],
            'peers_removed': [peer_ref(k, labels) for k in steps['peers_remove']],
            'peers_changed': [dict(peer_ref(k, labels), fields=f) for k, f in sorted(steps['peers_change'].items())],
            'config_file': want['config_file'] if want['persist'] else None,
            'config_changed': bool(want['persist'] and any(item.path == want['config_file'] for item in pending)),
            'forwarding_changed': bool(steps['forwarding'] or self._pending_sysctl(want, pending)),
            'implementation': implementation,
            'public_key': self._public_key(want, link),
        }

    def audit(self, want, have, steps):
        labels = self.labels(want, have)

        def peer(key):
            return '%s (%s)' % (labels.get(key) or '-', fingerprint(key))

        changes = [('interface created', want['implementation'])] if steps['create'] else []
        changes += [('interface setting changed', field) for field in sorted(steps['interface'])]
        changes += [('address added', a) for a in steps['addresses_add']]
        changes += [('address removed', a) for a in steps['addresses_del']]
        changes += [('mtu changed', steps['mtu'])] if steps['mtu'] else []
        changes += [('interface brought up', '')] if steps['up'] and not steps['create'] else []
        changes += [('peer added', peer(k)) for k in steps['peers_add']]
        changes += [('peer removed', peer(k)) for k in steps['peers_remove']]
        changes += [('peer changed', '%s: %s' % (peer(k), ', '.join(f)))
                    for k, f in sorted(steps['peers_change'].items())]
        changes += [('route added', r) for r in steps['routes_add']]
        changes += [('route removed', r) for r in steps['routes_del']]
        changes += [('rule added', rules.describe(r)) for r in steps['rules_add']]
        changes += [('rule removed', rules.describe(r)) for r in steps['rules_del']]
        changes += [('service %s' % key, want['name']) for key in ('dropin', 'enable') if steps.get(key)]
        changes += [('forwarding enabled', key) for key in steps['forwarding']]
        return changes

    def _public_key(self, want, link):
        if not want['private_key']:
            return None
        if link and link['private_key_value'] == want['private_key']:
            return link['public_key']       # the interface already runs this key: wg show gave its public half
        return self.host.public_key(want['private_key'])

    def diff(self, want, have, steps, pending):
        labels, link = self.labels(want, have), have['link']
        matches = bool(link) and link['private_key_value'] == want['private_key']
        before = describe(live_as_described(link, want['private_key_file'], matches), labels)
        after = describe(desired_as_described(want, want['psks'], link), labels)
        before += ''.join('rule %s\n' % rules.describe(r) for r in have['rules'])
        after += ''.join('rule %s\n' % rules.describe(r) for r in want['rules'])
        if any(item.path == want['config_file'] for item in pending):
            before += 'config %s: %s\n' % (want['config_file'], 'present' if have['config'] is not None else 'absent')
            after += 'config %s: updated\n' % want['config_file']
        for key in ('dropin', 'enable'):
            if steps[key]:
                after += 'service: %s\n' % key
        if want['forwarding']:
            lines = forwarding.diff(want['forwarding'], have['forwarding'], steps['forwarding'],
                                    self._pending_sysctl(want, pending))
            before, after = before + lines[0], after + lines[1]
        return {'before': before, 'after': after,
                'before_header': 'live %s' % want['name'], 'after_header': 'desired %s' % want['name']}

    def apply(self, want, have, steps):
        extra = {}
        forwarding.apply(steps['forwarding'])
        if steps['create'] and have['unit'] is not None:
            # the unit brings the interface up from the file just written; what it left is applied below
            service.apply(self.host, want['name'], steps['dropin'], steps['enable'], start=True)
            link = self._read_link(want, have['config'])
            steps = plan(want, link, want['private_key'], want['psks'], live_rules=have['rules'])
            extra['implementation'] = link['implementation'] if link else None
        elif have['unit'] is not None:
            service.apply(self.host, want['name'], steps['dropin'], steps['enable'])
        if steps['create']:
            extra['implementation'] = self.host.create_link(want['name'], want['implementation'])
        self._apply_live(want, steps)
        return extra

    def _apply_live(self, want, steps):
        name = want['name']
        self._wg_set(want, steps)
        for addr in steps['addresses_del']:
            self.host.ip_run(['address', 'del', addr, 'dev', name])
        for addr in steps['addresses_add']:
            self.host.ip_run(['address', 'add', addr, 'dev', name])
        if steps['mtu']:
            self.host.ip_run(['link', 'set', 'dev', name, 'mtu', str(steps['mtu'])])
        if steps['up']:
            self.host.ip_run(['link', 'set', 'dev', name, 'up'])
        for rule in steps['rules_del']:
            self.host.ip_run(rules.delete_args(rule, ROUTE_PROTOCOL))
        for prefix in steps['routes_del']:
            self.host.delete(desired_route(want, prefix), ROUTE_PROTOCOL)
        for prefix in steps['routes_add']:
            self.host.replace(desired_route(want, prefix), ROUTE_PROTOCOL)
        # the rules come last: the exit table has its default routes before traffic is sent there
        for rule in steps['rules_add']:
            self.host.ip_run(rules.rule_args(rule, ROUTE_PROTOCOL))

    def _wg_set(self, want, steps):
        """One ``wg set``; a preshared key given as a value goes through a private directory removed at once."""
        tmpdir = []

        def psk_file(key, value):
            if not tmpdir:
                tmpdir.append(tempfile.mkdtemp(prefix='.meshforge-', dir=schema.CONFIG_DIR))
            path = os.path.join(tmpdir[0], '%d.psk' % len(os.listdir(tmpdir[0])))
            files.write_atomic(path, value + '\n', 0o600)
            return path

        try:
            args = wg_set_args(want, steps, want['psks'], psk_file)
            if args:
                self.host.wg_set(want['name'], args)
        finally:
            if tmpdir:
                shutil.rmtree(tmpdir[0], ignore_errors=True)


def manage_interface(module, connection=None):
    """The body of wireguard_interface; ``connection`` is the management SSH connection (read when None)."""
    if module.params.get('state') == 'absent':
        return engine.manage(Removal(module, WireGuardHost(module)))
    return engine.manage(Interface(module, connection=connection))
