# -*- coding: utf-8 -*-
# Copyright: meshforge.vpn contributors
# GNU General Public License v3.0+ (see https://www.gnu.org/licenses/gpl-3.0.txt)
"""What turns the live table into the desired one: nothing, element changes only, or the whole table replaced."""

from __future__ import absolute_import, division, print_function

__metaclass__ = type


def _chain_signature(chain):
    return tuple(chain.get(k) for k in ('name', 'type', 'hook', 'priority', 'policy', 'device'))


def compare_table(desired, live):
    """What turns ``live`` (None: absent) into ``desired``: ``action`` is none, create, elements or replace."""
    result = {'action': 'none', 'rules_added': [], 'rules_removed': [], 'elements_added': {}, 'elements_removed': {},
              'sets_changed': [], 'chains_changed': []}
    if live is None:
        result['action'] = 'create'
        result['rules_added'] = ['%s: %s' % (c['name'], r['text']) for c in desired['chains'] for r in c['rules']]
        result['elements_added'] = dict((n, s['elements']) for n, s in desired['sets'].items() if s['elements'])
        return result
    rules_differ = _compare_chains(desired, live, result)
    _compare_sets(desired, live, result)
    # anything but elements changes the table whole: nft cannot reorder rules or retype a set in place
    if live['other'] or rules_differ or result['chains_changed'] or result['sets_changed']:
        result['action'] = 'replace'
    elif result['elements_added'] or result['elements_removed']:
        result['action'] = 'elements'
    return result


def _compare_chains(desired, live, result):
    """Fill in the chains and rules that differ; True when the rules of a desired chain differ."""
    live_chains = dict((c['name'], c) for c in live['chains'])
    names = set(c['name'] for c in desired['chains'])
    for chain in desired['chains']:
        if chain['name'] not in live_chains or _chain_signature(live_chains[chain['name']]) != _chain_signature(chain):
            result['chains_changed'].append(chain['name'])
    result['chains_changed'] += sorted(set(live_chains) - names)
    differ = False
    for chain in desired['chains']:
        wanted = [r['fingerprint'] for r in chain['rules']]
        present = live['rules'].get(chain['name'], [])
        if wanted != [r['fingerprint'] for r in present]:
            known = set(wanted)
            have = set(r['fingerprint'] for r in present)
            result['rules_added'] += ['%s: %s' % (chain['name'], r['text']) for r in chain['rules']
                                      if r['fingerprint'] not in have]
            result['rules_removed'] += ['%s: %s' % (chain['name'], r['text']) for r in present
                                        if r['fingerprint'] is None or r['fingerprint'] not in known]
            differ = True
    for name in sorted(set(live['rules']) - names):
        result['rules_removed'] += ['%s: %s' % (name, r['text']) for r in live['rules'][name]]
    return differ


def _compare_sets(desired, live, result):
    """Fill in the sets whose type or flags differ and the elements each set gains or loses."""
    for name, item in sorted(desired['sets'].items()):
        current = live['sets'].get(name)
        if current is None or (current['type'], current['flags']) != (item['type'], item['flags']):
            result['sets_changed'].append(name)
        current_elements = current['elements'] if current else []
        added = [e for e in item['elements'] if e not in current_elements]
        removed = [e for e in current_elements if e not in item['elements']]
        if added:
            result['elements_added'][name] = added
        if removed:
            result['elements_removed'][name] = removed
    result['sets_changed'] += sorted(set(live['sets']) - set(desired['sets']))
