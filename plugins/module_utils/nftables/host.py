# -*- coding: utf-8 -*-
# Copyright: meshforge.vpn contributors
# GNU General Public License v3.0+ (see https://www.gnu.org/licenses/gpl-3.0.txt)
"""The host as nftables sees it: ``nft -j list``, ``nft --check -f -``, ``nft -f -``, and the device a peer is
reached through."""

from __future__ import absolute_import, division, print_function

__metaclass__ = type

import json

from ansible_collections.meshforge.vpn.plugins.module_utils import engine
from ansible_collections.meshforge.vpn.plugins.module_utils.common import CommandError


class NftHost(engine.Host):
    """Runs ``nft``; every change goes through :meth:`check` and :meth:`apply` as one batch."""

    def nft(self):
        return self.tool('nft', package='nftables')

    def list_json(self, what):
        """``nft -j list <what>``, or None when it does not exist."""
        args = [self.nft(), '-j', 'list'] + what
        rc, out, err = self.probe(args)
        if rc != 0:
            if 'No such file or directory' in (err or ''):
                return None
            raise CommandError(args, rc, err or out)
        return out

    def check(self, batch):
        self.run([self.nft(), '--check', '-f', '-'], data=batch)

    def apply(self, batch):
        self.run([self.nft(), '-f', '-'], data=batch)

    def device_to(self, address):
        """The interface this host reaches ``address`` through (where the management connection comes in)."""
        ip = self.tool('ip', required=False)
        if not ip:
            return None
        rc, out, dummy = self.probe([ip, '-j', 'route', 'get', address])
        if rc != 0:
            return None
        try:
            return json.loads(out)[0].get('dev')
        except (ValueError, IndexError):
            return None
