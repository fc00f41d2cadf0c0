# -*- coding: utf-8 -*-
# Copyright: meshforge.vpn contributors
# GNU General Public License v3.0+ (see https://www.gnu.org/licenses/gpl-3.0.txt)
"""wireguard_info: the live status of WireGuard interfaces in the operators' shape, without a secret."""

from __future__ import absolute_import, division, print_function

__metaclass__ = type

import time

from ansible_collections.meshforge.vpn.plugins.module_utils import files
from ansible_collections.meshforge.vpn.plugins.module_utils.wireguard import schema
from ansible_collections.meshforge.vpn.plugins.module_utils.wireguard.host import WireGuardHost
from ansible_collections.meshforge.vpn.plugins.module_utils.wireguard.live import peer_status
from ansible_collections.meshforge.vpn.plugins.module_utils.wireguard.wgquick import parse_descriptions


def _interface(host, ifname, state, now):
    link = host.link(ifname) or {}
    labels = parse_descriptions(files.read_text('%s/%s.conf' % (schema.CONFIG_DIR, ifname)))
    peers = []
    for key, peer in sorted(state['peers'].items()):
        status = peer_status(peer, now)
        status['description'] = labels.get(key)
        peers.append(status)
    return {
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


def gather_info(module, name=None):
    """Live status of one (``name``) or every WireGuard interface, by name."""
    host = WireGuardHost(module)
    if name:
        one = host.dump(name)
        interfaces = {name: one} if one is not None else {}
    else:
        interfaces = host.dump()
    now = time.time()
    return dict((ifname, _interface(host, ifname, state, now)) for ifname, state in sorted(interfaces.items()))
