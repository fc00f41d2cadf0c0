# -*- coding: utf-8 -*-
# Copyright: meshforge.vpn contributors
# GNU General Public License v3.0+ (see https://www.gnu.org/licenses/gpl-3.0.txt)
"""The host as WireGuard sees it: ``wg`` for keys and peers, ``ip`` for links, addresses and routes (the routes
through :class:`~..routes.resource.RouteHost`), ``wireguard-go`` where the kernel has no WireGuard."""

from __future__ import absolute_import, division, print_function

__metaclass__ = type

import json
import os

from ansible_collections.meshforge.vpn.plugins.module_utils import files
from ansible_collections.meshforge.vpn.plugins.module_utils.common import CommandError
from ansible_collections.meshforge.vpn.plugins.module_utils.routes import rules
from ansible_collections.meshforge.vpn.plugins.module_utils.routes.resource import RouteHost
from ansible_collections.meshforge.vpn.plugins.module_utils.wireguard.live import parse_dump
from ansible_collections.meshforge.vpn.plugins.module_utils.wireguard.routing import ROUTE_PROTOCOL
from ansible_collections.meshforge.vpn.plugins.module_utils.wireguard.schema import address_sort_key


class WireGuardHost(RouteHost):
    """Reads and changes WireGuard, links, addresses and routes on this host."""

    def wg(self):
        return self.tool('wg', package='wireguard-tools')

    # reading --
    def dump(self, name=None):
        """One interface's ``wg show dump`` parsed (None when there is no such interface), or every interface's."""
        if name:
            rc, out, dummy = self.probe([self.wg(), 'show', name, 'dump'])
            return parse_dump(out, name)[name] if rc == 0 else None
        return parse_dump(self.run([self.wg(), 'show', 'all', 'dump']))

    def public_key(self, private_key):
        """``wg pubkey`` of ``private_key`` (given on standard input, never as an argument)."""
        return self.run([self.wg(), 'pubkey'], data=private_key + '\n').strip()

    def link(self, name):
        """MTU, up and implementation of the link ``name``, or None when it does not exist."""
        rc, out, dummy = self.probe([self.ip(), '-d', '-j', 'link', 'show', 'dev', name])
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
        out = self.run([self.ip(), '-j', 'address', 'show', 'dev', name])
        found = []
        for link in json.loads(out):
            for addr in link.get('addr_info', []):
                text = '%s/%s' % (addr['local'], addr['prefixlen'])
                if addr.get('scope') == 'link' and text not in link_local:
                    continue
                found.append(text)
        return sorted(found, key=address_sort_key)

    def routes(self, name, table):
        """Prefixes of the routes into ``name`` in ``table`` that carry this module's protocol."""
        return sorted(r['dst'] for family in (4, 6) for r in self.tagged(family, ROUTE_PROTOCOL, table, name))

    def rules(self, protocol, families=(4, 6)):
        """The policy rules of ``families`` that carry ``protocol`` (see routes.rules)."""
        return [r for family in families
                for r in rules.parse_rules(family, self.run([self.ip(), '-j', '-%d' % family, 'rule', 'show']), protocol)]

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
    def create_link(self, name, implementation):
        """Create the link; returns the implementation used."""
        if implementation in ('auto', 'kernel'):
            args = [self.ip(), 'link', 'add', 'dev', name, 'type', 'wireguard']
            rc, out, err = self.probe(args)
            if rc == 0:
                return 'kernel'
            if implementation == 'kernel':
                raise CommandError(args, rc, err + ' (the kernel has no WireGuard; use implementation: userspace or auto)')
        wireguard_go = self.tool('wireguard-go', required=False)
        if not wireguard_go:
            raise CommandError(['wireguard-go'], 127, 'the kernel has no WireGuard and wireguard-go is not installed')
        # wireguard-go detaches itself; with LOG_LEVEL empty its daemon half writes to /dev/null instead of
        # keeping our pipes, which would otherwise kill it with SIGPIPE once this module exits.
        self.run([wireguard_go, name], environ={'LOG_LEVEL': ''})
        return 'userspace'

    def delete_link(self, name):
        self.run([self.ip(), 'link', 'delete', 'dev', name])

    def wg_set(self, name, args):
        self.run([self.wg(), 'set', name] + args)

    def ip_run(self, args):
        self.run([self.ip()] + args)
