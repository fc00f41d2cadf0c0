# -*- coding: utf-8 -*-
# Copyright: meshforge.vpn contributors
# GNU General Public License v3.0+ (see https://www.gnu.org/licenses/gpl-3.0.txt)
"""What must change on a live interface (pure: the desired and the live state in, the steps out), and the one
``wg set`` command that makes the WireGuard part of it change."""

from __future__ import absolute_import, division, print_function

__metaclass__ = type

from ansible_collections.meshforge.vpn.plugins.module_utils.routes import rules as policy_rules
from ansible_collections.meshforge.vpn.plugins.module_utils.wireguard.endpoints import endpoint_matches
from ansible_collections.meshforge.vpn.plugins.module_utils.wireguard.live import peer_status
from ansible_collections.meshforge.vpn.plugins.module_utils.wireguard.routing import wanted_routes

NO_LINK = {'addresses': [], 'listen_port': 0, 'fwmark': 0, 'private_key_value': None, 'peers': {}, 'mtu': None,
           'up': False, 'routes': []}
"""The live state of an interface that does not exist yet."""


def peer_changes(desired, live, psk_value, now=None, resolve=None):
    """The fields of one peer that differ from the live peer (empty when nothing differs).

    A peer connected at another endpoint than the configured one has roamed
    (NAT, mobile): WireGuard follows it, and so does this comparison, or every
    run would report a change.
    """
    changes = []
    if desired['allowed_ips'] != live['allowed_ips']:
        changes.append('allowed_ips')
    if desired['persistent_keepalive'] != live['persistent_keepalive']:
        changes.append('persistent_keepalive')
    if psk_value != live['preshared_key']:
        changes.append('preshared_key')
    if not endpoint_matches(desired['endpoint'], live['endpoint'], resolve):
        if not peer_status(live, now)['connected'] or live['endpoint'] is None:
            changes.append('endpoint')
    return changes


def _interface_changes(desired, live, private_key):
    changes = []
    if live['private_key_value'] != private_key:
        changes.append('private_key')
    if desired['listen_port'] and live['listen_port'] != desired['listen_port']:
        changes.append('listen_port')
    if live['fwmark'] != desired['fwmark']:
        changes.append('fwmark')
    return changes


def _peer_steps(desired, live, psks, now):
    add, change = [], {}
    for peer in desired['peers']:
        current = live['peers'].get(peer['public_key'])
        if current is None:
            add.append(peer['public_key'])
        else:
            changed = peer_changes(peer, current, psks.get(peer['public_key']), now)
            if changed:
                change[peer['public_key']] = changed
    wanted = set(p['public_key'] for p in desired['peers'])
    remove = sorted(k for k in live['peers'] if k not in wanted) if desired.get('purge_peers', True) else []
    return add, change, remove


def plan(desired, live, private_key, psks, now=None, live_rules=()):
    """What must change: a dict of steps, each empty when nothing is to be done (``live`` None: no link yet;
    ``live_rules``: the policy rules the collection's tag holds now, read when ``exit_routing`` is set)."""
    steps = {'create': live is None}
    live = live or NO_LINK
    steps['interface'] = _interface_changes(desired, live, private_key)
    steps['addresses_add'] = [a for a in desired['addresses'] if a not in live['addresses']]
    steps['addresses_del'] = [a for a in live['addresses'] if a not in desired['addresses']]
    steps['mtu'] = desired['mtu'] if desired['mtu'] and live['mtu'] != desired['mtu'] else None
    steps['up'] = not live['up']
    steps['peers_add'], steps['peers_change'], steps['peers_remove'] = _peer_steps(desired, live, psks, now)
    routes = wanted_routes(desired)
    steps['routes_add'] = [r for r in routes if r not in live['routes']]
    steps['routes_del'] = [r for r in live['routes'] if r not in routes]
    steps['rules_add'], steps['rules_del'] = [], []
    if desired.get('exit_routing'):
        base = desired['exit_routing']['priority']
        owned = range(base, base + policy_rules.RULES_PER_FAMILY)
        rules = policy_rules.plan(desired['rules'], list(live_rules), owned)
        steps['rules_add'], steps['rules_del'] = rules['add'], rules['remove']
    return steps


def wg_set_args(desired, steps, psks, psk_file):
    """The arguments of the one ``wg set`` that applies the interface and peer steps (empty: nothing to set).

    Peers that did not change are not named, so their sessions continue.  ``psk_file(key, value)`` gives a file
    that holds a preshared key given as a value, since ``wg`` reads keys only from files.
    """
    args = []
    if 'private_key' in steps['interface']:
        args += ['private-key', desired['private_key_file']]
    if 'listen_port' in steps['interface']:
        args += ['listen-port', str(desired['listen_port'])]
    if 'fwmark' in steps['interface']:
        args += ['fwmark', hex(desired['fwmark']) if desired['fwmark'] else 'off']
    for key in steps['peers_remove']:
        args += ['peer', key, 'remove']
    by_key = dict((p['public_key'], p) for p in desired['peers'])
    for key in steps['peers_add'] + sorted(steps['peers_change']):
        peer = by_key[key]
        args += ['peer', key, 'allowed-ips', ','.join(peer['allowed_ips']),
                 'persistent-keepalive', str(peer['persistent_keepalive'] or 'off')]
        # a roamed peer (see peer_changes) keeps its live endpoint when only other settings change
        if peer['endpoint'] and 'endpoint' in steps['peers_change'].get(key, ['endpoint']):
            args += ['endpoint', peer['endpoint']]
        if not psks.get(key):
            args += ['preshared-key', '/dev/null']
        else:
            args += ['preshared-key', peer['preshared_key_file'] or psk_file(key, psks[key])]
    return args
