# -*- coding: utf-8 -*-
# Copyright: meshforge.vpn contributors
# GNU General Public License v3.0+ (see https://www.gnu.org/licenses/gpl-3.0.txt)
"""How results and diffs show an interface and its peers: readable, and never a key."""

from __future__ import absolute_import, division, print_function

__metaclass__ = type

import base64
import hashlib

from ansible_collections.meshforge.vpn.plugins.module_utils.wireguard.routing import wanted_routes


def fingerprint(key):
    """``SHA256:<base64>`` of a public key, as audit records name keys (the form ``ssh-keygen -l`` prints)."""
    try:
        raw = base64.b64decode(key, validate=True)
    except (TypeError, ValueError):
        raw = key.encode('utf-8')
    return 'SHA256:' + base64.b64encode(hashlib.sha256(raw).digest()).decode('ascii').rstrip('=')


def peer_ref(key, labels):
    """A peer as results name it: its public key and what people know it by (``labels``: names by public key)."""
    return {'public_key': key, 'description': labels.get(key)}


def describe(state, labels):
    """A readable, secret-free text of an interface; ``labels`` are the peers' names by public key."""
    if state is None:
        return ''
    lines = ['interface %s' % state['name'],
             '  addresses: %s' % ', '.join(state['addresses']),
             '  listen_port: %s' % state['listen_port'],
             '  mtu: %s' % (state['mtu'] or 'default'),
             '  fwmark: %s' % (hex(state['fwmark']) if state['fwmark'] else 'off'),
             '  private_key: %s' % state['private_key'],
             '  up: %s' % state['up']]
    for peer in sorted(state['peers'], key=lambda p: (labels.get(p['public_key']) or '', p['public_key'])):
        lines.append('peer %s (%s)' % (peer['public_key'], labels.get(peer['public_key']) or 'no description'))
        lines.append('  endpoint: %s' % (peer['endpoint'] or 'none'))
        lines.append('  allowed_ips: %s' % ', '.join(peer['allowed_ips']))
        lines.append('  persistent_keepalive: %s' % (peer['persistent_keepalive'] or 'off'))
        lines.append('  preshared_key: %s' % ('set' if peer['preshared_key'] else 'none'))
    for route in state.get('routes', []):
        lines.append('route %s dev %s' % (route, state['name']))
    return '\n'.join(lines) + '\n'


def live_as_described(live, private_key_file, private_key_matches):
    """The live state in the shape :func:`describe` prints."""
    if live is None:
        return None
    if private_key_matches:
        private_key = 'from %s' % private_key_file
    else:
        private_key = 'set, not from %s' % private_key_file if live['private_key_value'] else 'none'
    return {
        'name': live['name'], 'addresses': live['addresses'], 'listen_port': live['listen_port'],
        'mtu': live['mtu'], 'fwmark': live['fwmark'], 'up': live['up'], 'private_key': private_key,
        'peers': list(live['peers'].values()), 'routes': live['routes'],
    }


def desired_as_described(desired, psks, live=None):
    """The desired state in the shape :func:`describe` prints (what the kernel picks, taken from ``live``)."""
    return {
        'name': desired['name'], 'addresses': desired['addresses'],
        'listen_port': desired['listen_port'] or (live['listen_port'] if live else 'random'),
        'mtu': desired['mtu'] or (live['mtu'] if live else None), 'fwmark': desired['fwmark'], 'up': True,
        'private_key': 'from %s' % desired['private_key_file'],
        'peers': [dict(p, preshared_key=psks.get(p['public_key'])) for p in desired['peers']],
        'routes': wanted_routes(desired),
    }
