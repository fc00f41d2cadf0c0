# -*- coding: utf-8 -*-
# Copyright: meshforge.vpn contributors
# GNU General Public License v3.0+ (see https://www.gnu.org/licenses/gpl-3.0.txt)
"""Which hosts may leave a mesh for good (``wireguard_mesh_remove``), checked before any host is touched.

A removed host is one the inventory no longer counts as a member (it left the mesh group): the run releases its
addresses, forgets its registry entry and, where it answers, takes down what the collection set up on it.  Taking
the last hub, or the only gateway of a routed subnet, away cuts members or LANs off, so it needs ``force``.
"""

from __future__ import absolute_import, division, print_function

__metaclass__ = type

import ipaddress

from ansible_collections.meshforge.vpn.plugins.module_utils import validation as v

FIELD = 'wireguard_mesh_remove'


def names(raw, field=FIELD):
    """The list of host names in ``raw``; raises ValidationError naming the variable (``field``)."""
    if raw is None:
        return []
    if isinstance(raw, str):
        raw = [part.strip() for part in raw.split(',') if part.strip()]      # as the argument spec's list type does
    if not isinstance(raw, (list, tuple)):
        raise v.ValidationError(field, 'must be a list of inventory host names, got %r' % (raw,))
    found = []
    for index, name in enumerate(raw):
        if not isinstance(name, str) or not name.strip() or name != name.strip() or '\n' in name:
            raise v.ValidationError('%s[%d]' % (field, index), 'must be a host name, got %r' % (name,))
        if name not in found:
            found.append(name)
    return found


def _subnets(value):
    prefixes = set()
    for item in value or []:
        try:
            prefixes.add(ipaddress.ip_network(str(item), strict=False))
        except ValueError:
            continue        # a bad one of a member is reported by the member's own check
    return prefixes


def check(remove, members, settings, known, inventory, force=False):
    """Raise ValidationError for a removal the run must not do.

    ``members``: the mesh's members as planned (``{name: settings}``); ``known``: the registry's entries;
    ``inventory``: the host names the inventory has; ``settings`` has ``topology`` and ``hubs``.
    """
    remove = names(remove)
    still = [name for name in remove if name in members]
    if still:
        raise v.ValidationError(FIELD, '%s %s still in the mesh group; take %s out of the group in the inventory first '
                                '(a run would otherwise add %s back)'
                                % (', '.join(still), 'is' if len(still) == 1 else 'are',
                                   'it' if len(still) == 1 else 'them', 'it' if len(still) == 1 else 'them'))
    strangers = [name for name in remove if name not in inventory and name not in known]
    if strangers:
        raise v.ValidationError(FIELD, '%s %s neither a host of the inventory nor a member the mesh registry knows: '
                                'check the spelling' % (', '.join(strangers), 'is' if len(strangers) == 1 else 'are'))
    if force:
        return remove
    hubs = set(settings.get('hubs') or [])
    if settings.get('topology') == 'hub_spoke' and hubs & set(remove) and not hubs & set(members):
        raise v.ValidationError(FIELD, 'removing %s leaves the hub-and-spoke mesh without a hub, which cuts every '
                                'spoke off; add a hub first, or set wireguard_mesh_remove_force'
                                % ', '.join(sorted(hubs & set(remove))))
    served = set()
    for member in members.values():
        if not (member or {}).get('routed_subnets_withdrawn'):
            served |= _subnets((member or {}).get('routed_subnets'))
    for name in remove:
        orphans = sorted(_subnets((known.get(name) or {}).get('routed_subnets')) - served,
                         key=lambda n: (n.version, n))
        if orphans:
            raise v.ValidationError(FIELD, '%s is the only gateway of %s: removing it cuts that LAN off the mesh; '
                                    'route it through another member first, or set wireguard_mesh_remove_force'
                                    % (name, ', '.join(str(n) for n in orphans)))
    return remove
