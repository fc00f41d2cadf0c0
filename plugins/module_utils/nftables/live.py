# -*- coding: utf-8 -*-
# Copyright: meshforge.vpn contributors
# GNU General Public License v3.0+ (see https://www.gnu.org/licenses/gpl-3.0.txt)
"""``nft -j`` read back: sets, tables (rules by the fingerprint in their comment) and element values in canonical text."""

from __future__ import absolute_import, division, print_function

__metaclass__ = type

import ipaddress
import json
import re

from ansible_collections.meshforge.vpn.plugins.module_utils.nftables.elements import ETHER_RE, element_sort_key, prefix_text

FINGERPRINT_RE = re.compile(r'\Amf:([0-9a-f]{12})(?: (.*))?\Z', re.S)


def _json_part(value):
    if isinstance(value, dict):
        if 'prefix' in value:
            return prefix_text(ipaddress.ip_network('%s/%s' % (value['prefix']['addr'], value['prefix']['len'])))
        if 'range' in value:
            low, high = (_json_part(x) for x in value['range'])
            try:
                nets = list(ipaddress.summarize_address_range(ipaddress.ip_address(low), ipaddress.ip_address(high)))
                if len(nets) == 1:
                    return prefix_text(nets[0])
            except ValueError:
                pass
            return '%s-%s' % (low, high) if low != high else low
        raise ValueError('unexpected nft element %r' % (value,))
    if isinstance(value, bool):
        raise ValueError('unexpected nft element %r' % (value,))
    if isinstance(value, int):
        return str(value)
    try:
        return str(ipaddress.ip_address(value))
    except ValueError:
        return str(value).lower() if ETHER_RE.match(str(value)) else str(value)


def json_element(value):
    """The canonical text of an element as ``nft -j`` lists it."""
    if isinstance(value, dict) and 'elem' in value:
        value = value['elem']['val']
    if isinstance(value, dict) and 'concat' in value:
        return ' . '.join(_json_part(p) for p in value['concat'])
    return _json_part(value)


def set_kinds(raw_type):
    return list(raw_type) if isinstance(raw_type, list) else [raw_type]


def parse_set(obj):
    """A set as ``nft -j`` lists it, in the shape :func:`normalize_set` returns."""
    return {
        'name': obj['name'],
        'type': set_kinds(obj['type']),
        'flags': sorted(obj.get('flags') or []),
        'elements': sorted(set(json_element(e) for e in obj.get('elem') or []), key=element_sort_key),
    }


def parse_table(text):
    """A table as ``nft -j list table`` gives it: chains, sets, rules (by fingerprint) and anything else found."""
    table = {'sets': {}, 'chains': [], 'rules': {}, 'other': []}
    for obj in json.loads(text).get('nftables', []):
        kind = list(obj)[0]
        body = obj[kind]
        if kind in ('metainfo', 'table'):
            continue
        if kind == 'set':
            table['sets'][body['name']] = parse_set(body)
        elif kind == 'chain':
            table['chains'].append({'name': body['name'], 'type': body.get('type'), 'hook': body.get('hook'),
                                    'priority': body.get('prio'), 'policy': body.get('policy'),
                                    'device': body.get('dev')})
        elif kind == 'rule':
            match = FINGERPRINT_RE.match(body.get('comment') or '')
            table['rules'].setdefault(body['chain'], []).append(
                {'fingerprint': match.group(1) if match else None, 'handle': body.get('handle'),
                 'text': expr_text(body.get('expr') or []), 'comment': body.get('comment')})
        else:
            table['other'].append('%s %s' % (kind, body.get('name', '')))
    return table


def expr_text(exprs):
    """An approximate nft text of a rule's JSON expressions, for diffs of rules this collection did not write."""
    words = []
    for expr in exprs:
        kind = list(expr)[0]
        body = expr[kind]
        if kind == 'match':
            left = body['left']
            lkind = list(left)[0] if isinstance(left, dict) else None
            if lkind == 'payload':
                name = '%s %s' % (left['payload'].get('protocol', ''), left['payload'].get('field', ''))
            elif lkind in ('meta', 'ct'):
                name = '%s %s' % ('ct' if lkind == 'ct' else 'meta', left[lkind].get('key'))
            else:
                name = json.dumps(left, sort_keys=True)
            op = '' if body.get('op') in ('==', 'in') else body.get('op') + ' '
            words.append('%s %s%s' % (name.strip(), op, _json_value(body['right'])))
        elif kind == 'counter':
            words.append('counter')
        elif kind in ('jump', 'goto'):
            words.append('%s %s' % (kind, body.get('target')))
        elif body is None:
            words.append(kind)
        else:
            words.append('%s %s' % (kind, json.dumps(body, sort_keys=True)))
    return ' '.join(words)


def _json_value(value):
    if isinstance(value, dict) and 'set' in value:
        return '{ %s }' % ', '.join(_json_value(x) for x in value['set'])
    if isinstance(value, list):
        return ','.join(_json_value(x) for x in value)
    if isinstance(value, dict):
        try:
            return json_element(value)
        except (ValueError, KeyError, TypeError):
            return json.dumps(value, sort_keys=True)
    return str(value)
