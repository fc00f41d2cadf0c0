# -*- coding: utf-8 -*-
# Copyright: meshforge.vpn contributors
# GNU General Public License v3.0+ (see https://www.gnu.org/licenses/gpl-3.0.txt)
"""Policy rules (``ip rule``) of an exit-node client, as data: the rules a full-tunnel interface needs, ``ip -j rule
show`` parsed, the plan between them and the words of ``ip rule``.

The rules sit at fixed priorities from ``base`` on: ``ip rule add`` without a priority takes the lowest one in use
minus one, so a rule added later would land before the earlier ones (measured with iproute2 6.1), and an identical
rule added twice fails (``File exists``), so every change is planned from the live read.  They carry the route tag
of their owner (``protocol``), so only rules this collection added are ever removed:

- ``base``:     ``to <management peer> lookup main`` (the SSH client keeps its direct route), when there is one;
- ``base + 1``: ``lookup main suppress_prefixlength 0`` (main's specific routes win over the tunnel's default);
- ``base + 2``: ``not fwmark <mark> lookup <table>`` (everything but the tunnel's own packets into its table).
"""

from __future__ import absolute_import, division, print_function

__metaclass__ = type

import ipaddress
import json

FIELDS = ('family', 'priority', 'dst', 'not', 'fwmark', 'table', 'suppress_prefixlen')
RULES_PER_FAMILY = 3


def exit_rules(family, mark, table, management=None, base=31000):
    """The rules of one family (4 or 6) that send the host's traffic into ``table`` except packets marked ``mark``;
    ``management`` is the management peer's address (None: a local run)."""
    rules = []
    if management is not None and ipaddress.ip_address(management).version == family:
        rules.append(rule(family, base, dst=str(ipaddress.ip_address(management)), table='main'))
    rules.append(rule(family, base + 1, table='main', suppress_prefixlen=0))
    rules.append(rule(family, base + 2, negate=True, fwmark='0x%x' % int(mark), table=str(table)))
    return rules


def rule(family, priority, dst=None, negate=False, fwmark=None, table='main', suppress_prefixlen=None):
    return {'family': family, 'priority': int(priority), 'dst': dst, 'not': bool(negate), 'fwmark': fwmark,
            'table': str(table), 'suppress_prefixlen': suppress_prefixlen}


def parse_rules(family, text, protocol):
    """The rules of ``ip -j -<family> rule show`` that carry ``protocol``, in the form of :func:`rule` (a host
    destination without its /32 or /128)."""
    found = []
    for item in json.loads(text or '[]'):
        if str(item.get('protocol')) != str(protocol):
            continue
        dst = item.get('dst')
        if dst and item.get('dstlen') is not None:
            dst = '%s/%s' % (dst, item['dstlen'])
        fwmark = item.get('fwmark')
        found.append(rule(family, item.get('priority', 0), dst=dst, negate='not' in item,
                          fwmark='0x%x' % int(fwmark, 0) if fwmark else None, table=item.get('table', 'main'),
                          suppress_prefixlen=item.get('suppress_prefixlen')))
    return found


def plan(want, have, owned):
    """``{'add': [...], 'remove': [...]}``: live rules (already only this owner's) at an ``owned`` priority that are
    not wanted go, wanted rules that are not live come."""
    wanted = [tuple(r[f] for f in FIELDS) for r in want]
    live = [tuple(r[f] for f in FIELDS) for r in have]
    return {'remove': [r for r, t in zip(have, live) if r['priority'] in owned and t not in wanted],
            'add': [r for r, t in zip(want, wanted) if t not in live]}


def _words(r):
    """``ip rule``'s words for the rule itself, from its priority to its table."""
    words = ['priority', str(r['priority'])]
    if r['not']:
        words.append('not')
    if r['dst']:
        words += ['to', r['dst']]
    if r['fwmark']:
        words += ['fwmark', r['fwmark']]
    words += ['lookup', r['table']]
    if r['suppress_prefixlen'] is not None:
        words += ['suppress_prefixlength', str(r['suppress_prefixlen'])]
    return words


def rule_args(r, protocol):
    """The words after ``ip`` that add rule ``r`` (``-4 rule add ...``); :func:`delete_args` removes it."""
    return ['-%d' % r['family'], 'rule', 'add'] + _words(r) + ['protocol', str(protocol)]


def delete_args(r, protocol):
    """The words after ``ip`` that remove the owner's rule at ``r``'s priority."""
    return ['-%d' % r['family'], 'rule', 'del', 'priority', str(r['priority']), 'protocol', str(protocol)]


def describe(r):
    """``ip rule``'s own words for one rule, for results and audit records."""
    return '%s (IPv%d)' % (' '.join(_words(r)), r['family'])
