# -*- coding: utf-8 -*-
# Copyright: meshforge.vpn contributors
# GNU General Public License v3.0+ (see https://www.gnu.org/licenses/gpl-3.0.txt)
"""One rule: checked, rendered to nft text, fingerprinted, and modelled for the lockout evaluator.

Rules are compared by a fingerprint of their rendered text that each rule carries in its comment (``mf:<hash>``):
nft rewrites a rule's expressions on the way into the kernel (implicit protocol dependencies, anonymous sets), so
comparing expressions would depend on the nft version; a fingerprint does not.
"""

from __future__ import absolute_import, division, print_function

__metaclass__ = type

import hashlib

from ansible_collections.meshforge.vpn.plugins.module_utils import validation as v
from ansible_collections.meshforge.vpn.plugins.module_utils.nftables.elements import (
    ADDRESS_TYPES, address_part, element_sort_key, nft_name, port_range)

VERDICTS = ('accept', 'drop', 'reject', 'return', 'continue', 'jump', 'goto', 'masquerade', 'snat', 'dnat')
CT_STATES = ('established', 'related', 'new', 'invalid', 'untracked')
PROTOCOLS = {'tcp': 'tcp', 'udp': 'udp', 'icmp': 'icmp', 'icmpv6': 'ipv6-icmp'}
ICMP_TYPES = ('echo-reply', 'destination-unreachable', 'source-quench', 'redirect', 'echo-request',
              'router-advertisement', 'router-solicitation', 'time-exceeded', 'parameter-problem')
ICMPV6_TYPES = ('destination-unreachable', 'packet-too-big', 'time-exceeded', 'parameter-problem', 'echo-request',
                'echo-reply', 'mld-listener-query', 'mld-listener-report', 'mld-listener-done', 'nd-router-solicit',
                'nd-router-advert', 'nd-neighbor-solicit', 'nd-neighbor-advert', 'nd-redirect', 'mld2-listener-report')
RULE_KEYS = ('iifname', 'oifname', 'saddr', 'daddr', 'protocol', 'sport', 'dport', 'icmp_type', 'icmpv6_type',
             'ct_state', 'counter', 'log_prefix', 'action', 'target', 'to', 'comment', 'rule')


# The boot file holds the same batch a run applies: it creates, deletes and defines only this table, so

def _as_list(value):
    if value is None:
        return []
    return list(value) if isinstance(value, (list, tuple)) else [value]


def _anonymous(items):
    return items[0] if len(items) == 1 else '{ %s }' % ', '.join(items)


def _address_match(field, value, sets):
    """``(version, text, model)`` of saddr/daddr: a ``@set`` of the table, or addresses, prefixes and ranges."""
    items = _as_list(value)
    if len(items) == 1 and isinstance(items[0], str) and items[0].startswith('@'):
        name = nft_name(field, items[0][1:])
        if name not in sets:
            raise v.ValidationError(field, 'set %r is not defined in this table' % name)
        kinds = sets[name]['type']
        if len(kinds) != 1 or kinds[0] not in ADDRESS_TYPES:
            raise v.ValidationError(field, 'set %r does not hold addresses' % name)
        return ADDRESS_TYPES[kinds[0]], '@' + name, ('set', name)
    if not items:
        raise v.ValidationError(field, 'is empty')
    texts, versions = [], set()
    for i, item in enumerate(items):
        text = str(item).strip()
        first = text.split('-', 1)[0].split('/', 1)[0]
        version = v.address('%s[%d]' % (field, i), first).version
        versions.add(version)
        texts.append(address_part('%s[%d]' % (field, i), text, version, True))
    if len(versions) > 1:
        raise v.ValidationError(field, 'mixes IPv4 and IPv6; write one rule for each')
    texts = sorted(set(texts), key=element_sort_key)
    return versions.pop(), _anonymous(texts), ('list', texts)


def _ports(field, value, sets):
    items = _as_list(value)
    if len(items) == 1 and isinstance(items[0], str) and items[0].startswith('@'):
        name = nft_name(field, items[0][1:])
        if name not in sets or sets[name]['type'] != ['inet_service']:
            raise v.ValidationError(field, 'set %r of ports is not defined in this table' % name)
        return '@' + name, ('set', name)
    if not items:
        raise v.ValidationError(field, 'is empty')
    texts = sorted(set(port_range('%s[%d]' % (field, i), p) for i, p in enumerate(items)), key=element_sort_key)
    return _anonymous(texts), ('list', texts)


def fingerprint(text):
    return hashlib.sha256(text.encode('utf-8')).hexdigest()[:12]


def normalize_rule(field, raw, table_family, sets, chains):
    """One rule: its nft text, its fingerprint comment and the model the lockout check evaluates."""
    if not isinstance(raw, dict):
        raise v.ValidationError(field, 'must be a dict')
    unknown = sorted(set(raw) - set(RULE_KEYS))
    if unknown:
        raise v.ValidationError(field, 'unknown keys %s' % ', '.join(unknown))
    comment = v.config_value(field + '.comment', raw['comment'], 100) if raw.get('comment') else None
    if raw.get('rule') is not None:
        structured = [k for k in RULE_KEYS if k not in ('rule', 'comment') and raw.get(k) not in (None, [], False)]
        if structured:
            raise v.ValidationError(field + '.rule', 'raw rule text cannot be combined with %s' % ', '.join(structured))
        text = v.nft_rule_text(field + '.rule', raw['rule'])
        return _finish_rule(text, comment, {'raw': text})
    model = {'raw': None}
    # the order of the words is nft's own order of a rule: match interfaces, addresses, protocol, state; then act
    words = _interfaces(field, raw, model)
    words += _addresses(field, raw, table_family, sets, model)
    words += _protocol_match(field, raw, sets, model)
    words += _ct_state(field, raw, model)
    if raw.get('counter'):
        words.append('counter')
    if raw.get('log_prefix'):
        words.append('log prefix "%s"' % v.config_value(field + '.log_prefix', raw['log_prefix'], 64))
    words.append(_verdict(field, raw, table_family, chains, model))
    return _finish_rule(' '.join(words), comment, model)


def _interfaces(field, raw, model):
    words = []
    for key in ('iifname', 'oifname'):
        names = [v.interface_name('%s.%s' % (field, key), n) for n in _as_list(raw.get(key))]
        model[key] = sorted(set(names)) or None
        if names:
            words.append('%s %s' % (key, _anonymous(['"%s"' % n for n in sorted(set(names))])))
    return words


def _addresses(field, raw, table_family, sets, model):
    words = []
    model['version'] = None
    for key in ('saddr', 'daddr'):
        model[key] = None
        if raw.get(key) in (None, []):
            continue
        version, text, addr_model = _address_match('%s.%s' % (field, key), raw[key], sets)
        if model['version'] not in (None, version):
            raise v.ValidationError(field + '.daddr', 'is IPv%d but saddr is IPv%d' % (version, model['version']))
        if table_family in ('ip', 'ip6') and version != {'ip': 4, 'ip6': 6}[table_family]:
            raise v.ValidationError('%s.%s' % (field, key), 'IPv%d in a table of family %s' % (version, table_family))
        model['version'] = version
        model[key] = addr_model
        words.append('%s %s %s' % ('ip' if version == 4 else 'ip6', key, text))
    return words


def _protocol_match(field, raw, sets, model):
    """The protocol words: ports (tcp, udp, or both through ``th``), ICMP types, or the protocol alone."""
    protocols = []
    for proto in _as_list(raw.get('protocol')):
        if proto not in PROTOCOLS:
            raise v.ValidationError('%s.protocol' % field, '%r is not one of %s' % (proto, ', '.join(PROTOCOLS)))
        protocols.append(proto)
    protocols = sorted(set(protocols))
    model['protocols'] = protocols or None
    model['sport'] = model['dport'] = None
    ports = [k for k in ('sport', 'dport') if raw.get(k) not in (None, [])]
    icmp_types = [k for k in ('icmp_type', 'icmpv6_type') if raw.get(k) not in (None, [])]
    if ports and (not protocols or set(protocols) - {'tcp', 'udp'}):
        raise v.ValidationError('%s.%s' % (field, ports[0]), 'ports need protocol tcp or udp, not %s'
                                % (', '.join(protocols) or 'none'))
    if ports and icmp_types:
        raise v.ValidationError(field + '.' + icmp_types[0], 'cannot be combined with ports')
    if ports:
        return _port_words(field, raw, sets, model, ports, protocols)
    if icmp_types:
        return _icmp_words(field, raw, model, icmp_types, protocols)
    if protocols:
        return ['meta l4proto %s' % _anonymous([PROTOCOLS[p] for p in protocols])]
    return []


def _port_words(field, raw, sets, model, ports, protocols):
    words = []
    if len(protocols) == 1:
        prefix = protocols[0]
    else:
        words.append('meta l4proto { tcp, udp }')
        prefix = 'th'
    for key in ports:
        text, port_model = _ports('%s.%s' % (field, key), raw[key], sets)
        model[key] = port_model
        words.append('%s %s %s' % (prefix, key, text))
    return words


def _icmp_words(field, raw, model, icmp_types, protocols):
    key = icmp_types[0]
    if len(icmp_types) > 1:
        raise v.ValidationError(field + '.icmpv6_type', 'icmp_type and icmpv6_type go into separate rules')
    allowed = ICMP_TYPES if key == 'icmp_type' else ICMPV6_TYPES
    proto = 'icmp' if key == 'icmp_type' else 'icmpv6'
    if protocols and protocols != [proto]:
        raise v.ValidationError('%s.%s' % (field, key), 'needs protocol %s' % proto)
    if model['version'] not in (None, 4 if proto == 'icmp' else 6):
        raise v.ValidationError('%s.%s' % (field, key), 'does not match the addresses of the rule')
    types = []
    for i, name in enumerate(_as_list(raw[key])):
        if name not in allowed:
            raise v.ValidationError('%s.%s[%d]' % (field, key, i), '%r is not one of %s' % (name, ', '.join(allowed)))
        types.append(name)
    model['protocols'] = [proto]
    return ['%s type %s' % (proto, _anonymous(sorted(set(types))))]


def _ct_state(field, raw, model):
    states = []
    for i, state in enumerate(_as_list(raw.get('ct_state'))):
        if state not in CT_STATES:
            raise v.ValidationError('%s.ct_state[%d]' % (field, i), '%r is not one of %s' % (state, ', '.join(CT_STATES)))
        states.append(state)
    model['ct_state'] = sorted(set(states)) or None
    return ['ct state %s' % ','.join(s for s in CT_STATES if s in states)] if states else []


def _verdict(field, raw, table_family, chains, model):
    action = raw.get('action')
    if action is None:
        raise v.ValidationError(field + '.action', 'is required for a structured rule (%s)' % ', '.join(VERDICTS))
    if action not in VERDICTS:
        raise v.ValidationError(field + '.action', '%r is not one of %s' % (action, ', '.join(VERDICTS)))
    model['action'] = action
    model['target'] = None
    if action in ('jump', 'goto'):
        target = nft_name(field + '.target', raw.get('target'))
        if target not in chains:
            raise v.ValidationError(field + '.target', 'chain %r is not defined in this table' % target)
        model['target'] = target
        return '%s %s' % (action, target)
    if action in ('snat', 'dnat'):
        to = v.address(field + '.to', str(raw.get('to') or ''))
        if table_family == 'inet':
            return '%s %s to %s' % (action, 'ip' if to.version == 4 else 'ip6', to)
        return '%s to %s' % (action, to)
    return action


def _finish_rule(text, comment, model):
    mark = fingerprint(text + '\0' + (comment or ''))
    return {'text': text, 'comment': comment, 'fingerprint': mark, 'model': model,
            'nft_comment': 'mf:%s%s' % (mark, ' ' + comment if comment else '')}
