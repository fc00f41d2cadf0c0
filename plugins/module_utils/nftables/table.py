# -*- coding: utf-8 -*-
# Copyright: meshforge.vpn contributors
# GNU General Public License v3.0+ (see https://www.gnu.org/licenses/gpl-3.0.txt)
"""A whole table as nft_table describes it: its sets and chains checked and normalised (no I/O)."""

from __future__ import absolute_import, division, print_function

__metaclass__ = type

from ansible_collections.meshforge.vpn.plugins.module_utils import validation as v
from ansible_collections.meshforge.vpn.plugins.module_utils.nftables.elements import (
    SET_FLAGS, SET_TYPES, elements, family, nft_name)
from ansible_collections.meshforge.vpn.plugins.module_utils.nftables.rules import normalize_rule

CHAIN_TYPES = ('filter', 'nat', 'route')
HOOKS = ('prerouting', 'input', 'forward', 'output', 'postrouting', 'ingress')
PRIORITIES = {'raw': -300, 'mangle': -150, 'dstnat': -100, 'filter': 0, 'security': 50, 'srcnat': 100}


def normalize_set(field, raw):
    kinds = raw.get('type')
    kinds = list(kinds) if isinstance(kinds, (list, tuple)) else [kinds]
    for i, kind in enumerate(kinds):
        if kind not in SET_TYPES:
            raise v.ValidationError(field + '.type', '%r is not a supported set type (%s)' % (kind, ', '.join(SET_TYPES)))
    flags = sorted(set(raw.get('flags') or []))
    for flag in flags:
        if flag not in SET_FLAGS:
            raise v.ValidationError(field + '.flags', '%r is not a set flag (%s)' % (flag, ', '.join(SET_FLAGS)))
    return {
        'name': nft_name(field + '.name', raw.get('name')),
        'type': kinds,
        'flags': flags,
        'elements': elements(field + '.elements', raw.get('elements'), kinds, 'interval' in flags),
    }


def normalize_table(params):
    """Check a whole table description (module options of nft_table); returns the desired table."""
    fam = family('family', params.get('family'))
    desired = {'family': fam, 'name': nft_name('name', params.get('name') or 'meshforge'),
               'state': params.get('state') or 'present', 'sets': {}, 'chains': []}
    if desired['state'] == 'absent':
        return desired
    for i, raw in enumerate(params.get('sets') or []):
        item = normalize_set('sets[%d]' % i, raw or {})
        if item['name'] in desired['sets']:
            raise v.ValidationError('sets[%d].name' % i, '%r is defined twice' % item['name'])
        desired['sets'][item['name']] = item
    raw_chains = params.get('chains') or []
    names = []
    for i, raw in enumerate(raw_chains):
        name = nft_name('chains[%d].name' % i, (raw or {}).get('name'))
        if name in names:
            raise v.ValidationError('chains[%d].name' % i, '%r is defined twice' % name)
        names.append(name)
    for i, raw in enumerate(raw_chains):
        desired['chains'].append(normalize_chain('chains[%d]' % i, raw, fam, desired['sets'], names))
    return desired


def normalize_chain(field, raw, fam, sets, names):
    chain = {'name': raw['name'], 'type': None, 'hook': None, 'priority': None, 'policy': None, 'device': None}
    if raw.get('hook'):
        if raw['hook'] not in HOOKS:
            raise v.ValidationError(field + '.hook', '%r is not one of %s' % (raw['hook'], ', '.join(HOOKS)))
        chain['hook'] = raw['hook']
        chain['type'] = raw.get('type') or 'filter'
        if chain['type'] not in CHAIN_TYPES:
            raise v.ValidationError(field + '.type', '%r is not one of %s' % (chain['type'], ', '.join(CHAIN_TYPES)))
        priority = raw.get('priority')
        if priority is None and chain['type'] == 'nat':
            priority = 'srcnat' if chain['hook'] in ('postrouting', 'input') else 'dstnat'
        elif priority is None:
            priority = 0
        if str(priority) in PRIORITIES:
            priority = PRIORITIES[str(priority)]
        chain['priority'] = v.integer(field + '.priority', priority, -2147483648, 2147483647)
        chain['policy'] = raw.get('policy') or 'accept'
        if chain['policy'] not in ('accept', 'drop'):
            raise v.ValidationError(field + '.policy', '%r is not accept or drop' % chain['policy'])
        if chain['hook'] == 'ingress':
            chain['device'] = v.interface_name(field + '.device', raw.get('device'))
    else:
        for key in ('type', 'priority', 'policy', 'device'):
            if raw.get(key) not in (None, ''):
                raise v.ValidationError(field + '.' + key, 'only a base chain (with a hook) has a %s' % key)
    chain['rules'] = [normalize_rule('%s.rules[%d]' % (field, i), r, fam, sets, names)
                      for i, r in enumerate(raw.get('rules') or [])]
    return chain
