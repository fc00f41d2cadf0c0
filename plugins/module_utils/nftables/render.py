# -*- coding: utf-8 -*-
# Copyright: meshforge.vpn contributors
# GNU General Public License v3.0+ (see https://www.gnu.org/licenses/gpl-3.0.txt)
"""The nft text of a table, of an element change and of a table for diff mode.

Changes go to ``nft -f -`` as one batch, which the kernel commits whole or not at all, and only ever name this
collection's own table or the one set a task names: no other table is read for changing, flushed or replaced.
"""

from __future__ import absolute_import, division, print_function

__metaclass__ = type

from ansible_collections.meshforge.vpn.plugins.module_utils.nftables.elements import render_element

# The boot file holds the same batch a run applies: it creates, deletes and defines only this table, so
# `nft -f` of it at boot (or by hand) gives exactly the live table, fingerprints included.
PERSIST_HEADER = '# Written by meshforge.vpn.nft_table; loaded at boot with nft -f. Edits are overwritten.\n'
PERSIST_MODE = 0o644


def render_set(item):
    lines = ['  set %s {' % item['name'], '    type %s' % ' . '.join(item['type'])]
    if item['flags']:
        lines.append('    flags %s' % ','.join(item['flags']))
    if item['elements']:
        lines.append('    elements = { %s }' % ', '.join(render_element(e, item['type']) for e in item['elements']))
    lines.append('  }')
    return lines


def render_chain_head(chain):
    if not chain['hook']:
        return '  chain %s {' % chain['name'], '  }'
    device = ' device "%s"' % chain['device'] if chain['device'] else ''
    return ('  chain %s {\n    type %s hook %s%s priority %d; policy %s;' % (
        chain['name'], chain['type'], chain['hook'], device, chain['priority'], chain['policy']), '  }')


def render_table(desired):
    """The batch that replaces the table: create it if missing, delete it, define it again, all in one transaction."""
    head = '%s %s' % (desired['family'], desired['name'])
    lines = ['table %s' % head, 'delete table %s' % head, 'table %s {' % head]
    for name in sorted(desired['sets']):
        lines += render_set(desired['sets'][name])
    for chain in desired['chains']:
        lines += list(render_chain_head(chain))
    lines.append('}')
    for chain in desired['chains']:
        for rule in chain['rules']:
            lines.append('add rule %s %s %s comment "%s"' % (head, chain['name'], rule['text'], rule['nft_comment']))
    return '\n'.join(lines) + '\n'


def render_elements(fam, table, name, kinds, add, remove):
    """The batch that changes elements of one set: removals first, so a replaced interval never overlaps."""
    lines = []
    if remove:
        lines.append('delete element %s %s %s { %s }' % (fam, table, name, ', '.join(render_element(e, kinds) for e in remove)))
    if add:
        lines.append('add element %s %s %s { %s }' % (fam, table, name, ', '.join(render_element(e, kinds) for e in add)))
    return '\n'.join(lines) + '\n' if lines else ''


def describe_table(fam, name, sets, chains, rules_of):
    """A readable text of a table for diff mode: sets with one element a line, chains with their rules."""
    lines = ['table %s %s' % (fam, name)]
    for set_name in sorted(sets):
        item = sets[set_name]
        flags = ' flags ' + ','.join(item['flags']) if item['flags'] else ''
        lines.append('set %s type %s%s' % (set_name, ' . '.join(item['type']), flags))
        lines += ['  element %s' % e for e in item['elements']]
    for chain in chains:
        head = 'chain %s' % chain['name']
        if chain['hook']:
            head += ' type %s hook %s priority %s policy %s' % (
                chain['type'], chain['hook'], chain['priority'], chain['policy'])
        lines.append(head)
        lines += ['  rule %s' % text for text in rules_of(chain)]
    return '\n'.join(lines) + '\n'
