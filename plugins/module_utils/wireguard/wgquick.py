# -*- coding: utf-8 -*-
# Copyright: meshforge.vpn contributors
# GNU General Public License v3.0+ (see https://www.gnu.org/licenses/gpl-3.0.txt)
"""The wg-quick file that persists an interface: rendered from the desired state, and read back for what only it
knows (the peers' names and the addresses written before)."""

from __future__ import absolute_import, division, print_function

__metaclass__ = type

from ansible_collections.meshforge.vpn.plugins.module_utils import validation as v
from ansible_collections.meshforge.vpn.plugins.module_utils.routes.model import route_args
from ansible_collections.meshforge.vpn.plugins.module_utils.wireguard import schema
from ansible_collections.meshforge.vpn.plugins.module_utils.routes import rules
from ansible_collections.meshforge.vpn.plugins.module_utils.wireguard.routing import (
    ROUTE_PROTOCOL, desired_route, wanted_routes)

MANAGED_HEADER = '# Managed by meshforge.vpn (wireguard_interface). Local changes are overwritten.\n'


def config_path(name):
    """Where wg-quick (and its systemd unit) looks for the interface's file."""
    return v.host_path('name', '%s/%s.conf' % (schema.CONFIG_DIR, name))


def _interface_section(desired):
    out = ['[Interface]\n']
    if desired['addresses']:
        out.append('Address = %s\n' % ', '.join(desired['addresses']))
    if desired['listen_port']:
        out.append('ListenPort = %d\n' % desired['listen_port'])
    if desired['mtu']:
        out.append('MTU = %d\n' % desired['mtu'])
    if desired['fwmark']:
        out.append('FwMark = %s\n' % hex(desired['fwmark']))
    # wg-quick's own routes would carry protocol "boot", which a later run would not recognise as its own:
    # routing is off for wg-quick and PostUp adds the routes exactly as the module does.
    out.append('Table = off\n')
    out.append('PostUp = wg set %%i private-key %s\n' % desired['private_key_file'])
    for prefix in wanted_routes(desired):
        out.append('PostUp = ip route replace %s\n' % ' '.join(route_args(desired_route(desired, prefix, '%i'),
                                                                          ROUTE_PROTOCOL)))
    for rule in desired.get('rules') or []:
        out.append('PostUp = ip %s\n' % ' '.join(rules.rule_args(rule, ROUTE_PROTOCOL)))
    for rule in desired.get('rules') or []:
        out.append('PostDown = ip %s\n' % ' '.join(rules.delete_args(rule, ROUTE_PROTOCOL)))
    for peer in desired['peers']:
        if peer['preshared_key_file']:
            out.append('PostUp = wg set %%i peer %s preshared-key %s\n' % (peer['public_key'], peer['preshared_key_file']))
    return out


def _peer_section(peer):
    out = ['\n']
    if schema.label(peer):
        out.append('# %s\n' % schema.label(peer))
    out.append('[Peer]\nPublicKey = %s\n' % peer['public_key'])
    if peer['preshared_key']:
        out.append('PresharedKey = %s\n' % peer['preshared_key'])
    if peer['endpoint']:
        out.append('Endpoint = %s\n' % peer['endpoint'])
    if peer['allowed_ips']:
        out.append('AllowedIPs = %s\n' % ', '.join(peer['allowed_ips']))
    if peer['persistent_keepalive']:
        out.append('PersistentKeepalive = %d\n' % peer['persistent_keepalive'])
    return out


def render_config(desired):
    """The wg-quick file for ``desired``.  Key files stay where they are: PostUp loads them.

    Only a preshared key given as a value (no file) is written into the file, which is mode 0600.
    """
    out = [MANAGED_HEADER] + _interface_section(desired)
    for peer in desired['peers']:
        out += _peer_section(peer)
    return ''.join(out)


def parse_descriptions(config_text):
    """Peer names from a file this module wrote (a ``# name`` line before ``PublicKey``), by public key."""
    result = {}
    comment = None
    for line in (config_text or '').splitlines():
        line = line.strip()
        if line.startswith('# ') and line != MANAGED_HEADER.strip():
            comment = line[2:]
        elif line.startswith('PublicKey') and '=' in line:
            if comment:
                result[line.split('=', 1)[1].strip()] = comment
            comment = None
        elif line == '[Interface]':
            comment = None
    return result


def config_addresses(config_text):
    """The addresses of the ``Address`` lines of a wg-quick file."""
    found = []
    for line in (config_text or '').splitlines():
        words = line.split('=', 1)
        if len(words) == 2 and words[0].strip() == 'Address':
            found += [a.strip() for a in words[1].split(',') if a.strip()]
    return found
