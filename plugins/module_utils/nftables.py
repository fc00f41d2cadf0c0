# -*- coding: utf-8 -*-
# Copyright: meshforge.vpn contributors
# GNU General Public License v3.0+ (see https://www.gnu.org/licenses/gpl-3.0.txt)
"""Everything about nftables: read sets and tables live with ``nft -j``, compare, apply the difference in one transaction.

Values are validated into a canonical text (the form ``nft -j`` gives back), so
the same element or rule always compares equal and nothing a user writes can
break out of the line it is rendered into.  Changes go to ``nft -f -`` as one
batch, which the kernel commits whole or not at all, and only ever name this
collection's own table or the one set a task names: no other table is read
for changing, flushed or replaced.

Rules are compared by a fingerprint of their rendered text that each rule
carries in its comment (``mf:<hash>``): nft rewrites a rule's expressions on
the way into the kernel (implicit protocol dependencies, anonymous sets), so
comparing expressions would depend on the nft version; a fingerprint does not.
Chains, sets and set elements are compared field by field.
"""

from __future__ import absolute_import, division, print_function

__metaclass__ = type

import hashlib
import ipaddress
import json
import re

from ansible_collections.meshforge.vpn.plugins.module_utils import files
from ansible_collections.meshforge.vpn.plugins.module_utils import validation as v
# one error for a command that failed, whichever driver ran it
from ansible_collections.meshforge.vpn.plugins.module_utils.common import CommandError, Refused
from ansible_collections.meshforge.vpn.plugins.module_utils.routes.safety import management_connection

FAMILIES = ('inet', 'ip', 'ip6', 'arp', 'bridge', 'netdev')
ADDRESS_TYPES = {'ipv4_addr': 4, 'ipv6_addr': 6}
SET_TYPES = ('ipv4_addr', 'ipv6_addr', 'inet_service', 'ether_addr', 'ifname', 'mark')
SET_FLAGS = ('interval', 'constant', 'timeout', 'dynamic')
ETHER_RE = re.compile(r'\A[0-9a-fA-F]{2}(:[0-9a-fA-F]{2}){5}\Z')
FINGERPRINT_RE = re.compile(r'\Amf:([0-9a-f]{12})(?: (.*))?\Z', re.S)
CHAIN_TYPES = ('filter', 'nat', 'route')
HOOKS = ('prerouting', 'input', 'forward', 'output', 'postrouting', 'ingress')
PRIORITIES = {'raw': -300, 'mangle': -150, 'dstnat': -100, 'filter': 0, 'security': 50, 'srcnat': 100}
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
# `nft -f` of it at boot (or by hand) gives exactly the live table, fingerprints included.
PERSIST_HEADER = '# Written by meshforge.vpn.nft_table; loaded at boot with nft -f. Edits are overwritten.\n'
PERSIST_MODE = 0o644


# ---------------------------------------------------------------- names --

def nft_name(field, value):
    return v.nft_identifier(field, value)


def family(field, value):
    value = str(value or 'inet')
    if value not in FAMILIES:
        raise v.ValidationError(field, '%r is not an nftables family (%s)' % (value, ', '.join(FAMILIES)))
    return value


# -------------------------------------------------------------- elements --

def _address_part(field, text, version, interval):
    text = text.strip()
    if '-' in text:
        low, high = (v.address(field, t) for t in text.split('-', 1))
        if low.version != version or high.version != version:
            raise v.ValidationError(field, '%r is not an IPv%d range' % (text, version))
        if low > high:
            raise v.ValidationError(field, '%r: the range ends before it starts' % text)
        if not interval:
            raise v.ValidationError(field, '%r is a range; the set needs flags interval' % text)
        nets = list(ipaddress.summarize_address_range(low, high))
        if len(nets) == 1:
            return _prefix_text(nets[0])
        return '%s-%s' % (low, high)
    if '/' in text:
        net = v.network(field, text)
        if net.version != version:
            raise v.ValidationError(field, '%r is not an IPv%d prefix' % (text, version))
        if net.prefixlen != net.max_prefixlen and not interval:
            raise v.ValidationError(field, '%r is a prefix; the set needs flags interval' % text)
        return _prefix_text(net)
    addr = v.address(field, text)
    if addr.version != version:
        raise v.ValidationError(field, '%r is not an IPv%d address' % (text, version))
    return str(addr)


def _prefix_text(net):
    return str(net.network_address) if net.prefixlen == net.max_prefixlen else str(net)


def port_range(field, value, interval=True):
    """A port or ``low-high``, canonical (a one-port range is the port)."""
    if isinstance(value, int) and not isinstance(value, bool):
        return str(v.port(field, value))
    text = str(value).strip()
    if '-' in text:
        low, high = (v.port(field, t) for t in text.split('-', 1))
        if low > high:
            raise v.ValidationError(field, '%r: the range ends before it starts' % text)
        if low == high:
            return str(low)
        if not interval:
            raise v.ValidationError(field, '%r is a range; the set needs flags interval' % text)
        return '%d-%d' % (low, high)
    return str(v.port(field, text))


def element_part(field, value, kind, interval):
    """One value of a set element (one part of a concatenation) in canonical text."""
    if kind in ADDRESS_TYPES:
        return _address_part(field, str(value), ADDRESS_TYPES[kind], interval)
    if kind == 'inet_service':
        return port_range(field, value, interval)
    if kind == 'ether_addr':
        text = str(value).strip()
        if not ETHER_RE.match(text):
            raise v.ValidationError(field, '%r is not a MAC address' % text)
        return text.lower()
    if kind == 'ifname':
        return v.interface_name(field, str(value).strip().strip('"'))
    if kind == 'mark':
        return str(v.fwmark(field, value))
    raise v.ValidationError(field, 'sets of type %s are not supported (%s)' % (kind, ', '.join(SET_TYPES)))


def element(field, value, kinds, interval):
    """A set element in canonical text: parts joined by `` . `` for concatenated types."""
    if isinstance(value, (list, tuple)):
        parts = list(value)
    elif len(kinds) > 1:
        parts = str(value).split(' . ')
    else:
        parts = [value]
    if len(parts) != len(kinds):
        raise v.ValidationError(field, '%r has %d parts; the set holds %s' % (value, len(parts), ' . '.join(kinds)))
    return ' . '.join(element_part(field, p, k, interval) for p, k in zip(parts, kinds))


def elements(field, values, kinds, interval):
    """Canonical, de-duplicated, sorted elements; those of an interval set must not overlap."""
    if values is None:
        return []
    if not isinstance(values, (list, tuple)):
        raise v.ValidationError(field, 'must be a list of elements')
    result = sorted(set(element('%s[%d]' % (field, i), value, kinds, interval) for i, value in enumerate(values)),
                    key=element_sort_key)
    if interval:
        check_overlaps(field, result, [], kinds)
    return result


def _span(part, kind):
    """What one part of an element covers: ``(low, high)`` for addresses and ports, the text itself otherwise."""
    if kind in ADDRESS_TYPES:
        if '-' in part:
            low, high = part.split('-', 1)
            return int(ipaddress.ip_address(low)), int(ipaddress.ip_address(high))
        net = ipaddress.ip_network(part)
        return int(net.network_address), int(net.broadcast_address)
    if kind == 'inet_service':
        low, high = (part.split('-', 1) + [part])[:2]
        return int(low), int(high)
    return part, part


def _overlap(a, b, kinds):
    return all(x[0] <= y[1] and y[0] <= x[1] if isinstance(x[0], int) else x == y
               for x, y in zip(*[[_span(p, k) for p, k in zip(e.split(' . '), kinds)] for e in (a, b)]))


def check_overlaps(field, texts, kept, kinds):
    """Refuse elements of an interval set that overlap one another or one of ``kept`` (already in the set).

    nft refuses such a batch with an error that names no element; said here, before nft runs, it names both.
    """
    for i, text in enumerate(texts):
        for other in texts[i + 1:]:
            if _overlap(text, other, kinds):
                raise v.ValidationError(field, '%s overlaps %s; an interval set cannot hold both (merge them into one '
                                        'element)' % (text, other))
        for other in kept:
            if other != text and _overlap(text, other, kinds):
                raise v.ValidationError(field, '%s overlaps %s, already in the set; remove that one in the same '
                                        'change (exclusive) or merge them' % (text, other))


def element_sort_key(text):
    keys = []
    for part in text.split(' . '):
        first = part.split('-', 1)[0].split('/', 1)[0]
        try:
            addr = ipaddress.ip_address(first)
            keys.append((1, addr.version, int(addr), part))
        except ValueError:
            keys.append((0, 0, int(first) if first.isdigit() else 0, part))
    return keys


def render_element(text, kinds):
    """nft text of a canonical element: interface names quoted, everything else as is."""
    return ' . '.join('"%s"' % part if kind == 'ifname' else part for part, kind in zip(text.split(' . '), kinds))


def _json_part(value):
    if isinstance(value, dict):
        if 'prefix' in value:
            return _prefix_text(ipaddress.ip_network('%s/%s' % (value['prefix']['addr'], value['prefix']['len'])))
        if 'range' in value:
            low, high = (_json_part(x) for x in value['range'])
            try:
                nets = list(ipaddress.summarize_address_range(ipaddress.ip_address(low), ipaddress.ip_address(high)))
                if len(nets) == 1:
                    return _prefix_text(nets[0])
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


# ----------------------------------------------------------------- rules --

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
        texts.append(_address_part('%s[%d]' % (field, i), text, version, True))
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
    words = []
    for key in ('iifname', 'oifname'):
        names = [v.interface_name('%s.%s' % (field, key), n) for n in _as_list(raw.get(key))]
        model[key] = sorted(set(names)) or None
        if names:
            words.append('%s %s' % (key, _anonymous(['"%s"' % n for n in sorted(set(names))])))
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
    protocols = []
    for i, proto in enumerate(_as_list(raw.get('protocol'))):
        if proto not in PROTOCOLS:
            raise v.ValidationError('%s.protocol' % field, '%r is not one of %s' % (proto, ', '.join(PROTOCOLS)))
        protocols.append(proto)
    protocols = sorted(set(protocols))
    model['protocols'] = protocols or None
    ports = [k for k in ('sport', 'dport') if raw.get(k) not in (None, [])]
    icmp_types = [k for k in ('icmp_type', 'icmpv6_type') if raw.get(k) not in (None, [])]
    if ports and (not protocols or set(protocols) - {'tcp', 'udp'}):
        raise v.ValidationError('%s.%s' % (field, ports[0]), 'ports need protocol tcp or udp, not %s'
                                % (', '.join(protocols) or 'none'))
    if ports and icmp_types:
        raise v.ValidationError(field + '.' + icmp_types[0], 'cannot be combined with ports')
    for key in ('sport', 'dport'):
        model[key] = None
    if ports:
        if len(protocols) == 1:
            prefix = protocols[0]
        else:
            words.append('meta l4proto { tcp, udp }')
            prefix = 'th'
        for key in ports:
            text, port_model = _ports('%s.%s' % (field, key), raw[key], sets)
            model[key] = port_model
            words.append('%s %s %s' % (prefix, key, text))
    elif icmp_types:
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
        words.append('%s type %s' % (proto, _anonymous(sorted(set(types)))))
    elif protocols:
        words.append('meta l4proto %s' % _anonymous([PROTOCOLS[p] for p in protocols]))
    states = []
    for i, state in enumerate(_as_list(raw.get('ct_state'))):
        if state not in CT_STATES:
            raise v.ValidationError('%s.ct_state[%d]' % (field, i), '%r is not one of %s' % (state, ', '.join(CT_STATES)))
        states.append(state)
    model['ct_state'] = sorted(set(states)) or None
    if states:
        words.append('ct state %s' % ','.join(s for s in CT_STATES if s in states))
    if raw.get('counter'):
        words.append('counter')
    if raw.get('log_prefix'):
        words.append('log prefix "%s"' % v.config_value(field + '.log_prefix', raw['log_prefix'], 64))
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
        words.append('%s %s' % (action, target))
    elif action in ('snat', 'dnat'):
        to = v.address(field + '.to', str(raw.get('to') or ''))
        if table_family == 'inet':
            words.append('%s %s to %s' % (action, 'ip' if to.version == 4 else 'ip6', to))
        else:
            words.append('%s to %s' % (action, to))
    else:
        words.append(action)
    return _finish_rule(' '.join(words), comment, model)


def _finish_rule(text, comment, model):
    mark = fingerprint(text + '\0' + (comment or ''))
    return {'text': text, 'comment': comment, 'fingerprint': mark, 'model': model,
            'nft_comment': 'mf:%s%s' % (mark, ' ' + comment if comment else '')}


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


# --------------------------------------------------------------- render --

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


# ------------------------------------------------------------------ live --

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
    replace = bool(live['other'])
    live_chains = dict((c['name'], c) for c in live['chains'])
    for chain in desired['chains']:
        if chain['name'] not in live_chains or _chain_signature(live_chains[chain['name']]) != _chain_signature(chain):
            result['chains_changed'].append(chain['name'])
    result['chains_changed'] += sorted(set(live_chains) - set(c['name'] for c in desired['chains']))
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
            replace = True
    for name in sorted(set(live['rules']) - set(c['name'] for c in desired['chains'])):
        result['rules_removed'] += ['%s: %s' % (name, r['text']) for r in live['rules'][name]]
    for name, item in sorted(desired['sets'].items()):
        current = live['sets'].get(name)
        if current is None or (current['type'], current['flags']) != (item['type'], item['flags']):
            result['sets_changed'].append(name)
            current_elements = current['elements'] if current else []
        else:
            current_elements = current['elements']
        added = [e for e in item['elements'] if e not in current_elements]
        removed = [e for e in current_elements if e not in item['elements']]
        if added:
            result['elements_added'][name] = added
        if removed:
            result['elements_removed'][name] = removed
    result['sets_changed'] += sorted(set(live['sets']) - set(desired['sets']))
    replace = replace or bool(result['chains_changed'] or result['sets_changed'])
    if replace:
        result['action'] = 'replace'
    elif result['elements_added'] or result['elements_removed']:
        result['action'] = 'elements'
    return result


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


# -------------------------------------------------------------- lockout --

def _ranges(texts):
    found = []
    for text in texts:
        parts = text.split('-', 1)
        if len(parts) == 2:
            found.append((ipaddress.ip_address(parts[0]), ipaddress.ip_address(parts[1])))
        else:
            net = ipaddress.ip_network(text)
            found.append((net.network_address, net.broadcast_address))
    return found


def _address_in(addr, model, sets):
    if model[0] == 'set':
        item = sets.get(model[1])
        texts = item['elements'] if item else []
    else:
        texts = model[1]
    return any(low.version == addr.version and low <= addr <= high for low, high in _ranges(texts))


def _port_in(port, model, sets):
    texts = sets[model[1]]['elements'] if model[0] == 'set' else model[1]
    for text in texts:
        low, high = (text.split('-', 1) + [text])[:2]
        if int(low) <= port <= int(high):
            return True
    return False


def rule_matches(model, packet, sets):
    """True, False, or None when the rule cannot be evaluated (raw text)."""
    if model['raw'] is not None:
        return None
    addr_version = packet['saddr'].version
    if model['version'] not in (None, addr_version):
        return False
    for key in ('iifname', 'oifname'):
        if model[key] is not None:
            if packet[key] is None:
                return None
            if packet[key] not in model[key]:
                return False
    for key in ('saddr', 'daddr'):
        if model[key] is not None and not _address_in(packet[key], model[key], sets):
            return False
    if model['protocols'] is not None and 'tcp' not in model['protocols']:
        return False
    for key in ('sport', 'dport'):
        if model[key] is not None and not _port_in(packet[key], model[key], sets):
            return False
    if model['ct_state'] is not None and packet['ct_state'] not in model['ct_state']:
        return False
    return True


def _verdicts(model):
    """What a rule does when it matches: a set of accept, drop, continue, return, or ('jump'|'goto', chain)."""
    if model['raw'] is not None:
        words = model['raw'].split()
        if 'drop' in words or 'reject' in words or 'jump' in words or 'goto' in words:
            return {'drop'}
        return {'accept', 'continue'}
    action = model['action']
    if action in ('drop', 'reject'):
        return {'drop'}
    if action in ('accept', 'masquerade', 'snat', 'dnat'):
        return {'accept'}
    if action in ('jump', 'goto'):
        return {(action, model['target'])}
    return {action}


def run_chain(chain, packet, sets, chains, depth=0):
    """Every way ``packet`` can leave ``chain``: accept, drop, or fall through (``return``)."""
    outcomes = set()
    if depth > 16:
        return {'drop'}
    for rule in chain['rules']:
        matched = rule_matches(rule['model'], packet, sets)
        if matched is False:
            continue
        ends = set()
        for verdict in _verdicts(rule['model']):
            if isinstance(verdict, tuple):
                inner = run_chain(chains[verdict[1]], packet, sets, chains, depth + 1)
                ends |= inner - {'return'}
                if 'return' in inner:
                    ends.add('continue' if verdict[0] == 'jump' else 'return')
            else:
                ends.add(verdict)
        outcomes |= ends - {'continue'}
        if matched is True and 'continue' not in ends:
            return outcomes
    outcomes.add('return')
    return outcomes


def lockout_risks(desired, connection, device):
    """Base chains that could drop the management connection: new or established, either direction."""
    if not connection:
        return []
    client, server = ipaddress.ip_address(connection['client']), ipaddress.ip_address(connection['server'])
    fam = desired['family']
    if fam in ('arp', 'bridge') or (fam == 'ip' and client.version != 4) or (fam == 'ip6' and client.version != 6):
        return []
    chains = dict((c['name'], c) for c in desired['chains'])
    incoming = [dict(saddr=client, daddr=server, sport=connection['client_port'], dport=connection['server_port'],
                     iifname=device, oifname=None, ct_state=state) for state in ('new', 'established')]
    outgoing = [dict(saddr=server, daddr=client, sport=connection['server_port'], dport=connection['client_port'],
                     iifname=None, oifname=device, ct_state='established')]
    risks = []
    for chain in desired['chains']:
        if chain['hook'] in ('prerouting', 'input', 'ingress'):
            packets = incoming
        elif chain['hook'] in ('output', 'postrouting'):
            packets = outgoing
        else:
            continue
        if chain['hook'] == 'ingress' and chain['device'] != device:
            continue
        for packet in packets:
            ends = run_chain(chain, dict(packet, iifname=None if chain['hook'] == 'output' else packet['iifname']),
                             desired['sets'], chains)
            if 'return' in ends:
                ends = (ends - {'return'}) | {chain['policy']}
            if 'drop' in ends:
                risks.append('%s (%s, ct state %s)' % (chain['name'], 'to us' if packet in incoming else 'from us',
                                                       packet['ct_state']))
                break
    return risks


# ------------------------------------------------------------------ host --

class NftHost(object):
    def __init__(self, module):
        self.module = module

    def nft(self):
        return self.module.get_bin_path('nft', required=True)

    def run(self, args, data=None):
        rc, out, err = self.module.run_command(args, data=data)
        if rc != 0:
            raise CommandError(args, rc, err or out)
        return out

    def list_json(self, what):
        """``nft -j list <what>``, or None when it does not exist."""
        args = [self.nft(), '-j', 'list'] + what
        rc, out, err = self.module.run_command(args)
        if rc != 0:
            if 'No such file or directory' in (err or ''):
                return None
            raise CommandError(args, rc, err or out)
        return out

    def check(self, batch):
        self.run([self.nft(), '--check', '-f', '-'], data=batch)

    def apply(self, batch):
        self.run([self.nft(), '-f', '-'], data=batch)

    def device_to(self, address):
        """The interface this host reaches ``address`` through (where the management connection comes in)."""
        ip = self.module.get_bin_path('ip')
        if not ip:
            return None
        rc, out, err = self.module.run_command([ip, '-j', 'route', 'get', address])
        if rc != 0:
            return None
        try:
            return json.loads(out)[0].get('dev')
        except (ValueError, IndexError):
            return None


# --------------------------------------------------------------- modules --

def manage_set(module):
    """The body of nft_set: the elements of one named set, element by element."""
    params = module.params
    fam = family('family', params.get('family'))
    table = nft_name('table', params.get('table'))
    name = nft_name('name', params.get('name'))
    host = NftHost(module)
    text = host.list_json(['set', fam, table, name])
    if text is None:
        raise v.ValidationError('name', 'set %s %s %s does not exist; define it with meshforge.vpn.nft_table' % (fam, table, name))
    live = [parse_set(o['set']) for o in json.loads(text)['nftables'] if 'set' in o][0]
    interval = 'interval' in live['flags']
    wanted = elements('elements', params.get('elements') or [], live['type'], interval)
    state = params.get('state') or 'present'
    if state == 'absent':
        add, remove = [], [e for e in wanted if e in live['elements']]
    else:
        add = [e for e in wanted if e not in live['elements']]
        remove = [e for e in live['elements'] if e not in wanted] if params.get('exclusive') else []
        if interval:
            check_overlaps('elements', add, [e for e in live['elements'] if e not in remove], live['type'])
    after = sorted((set(live['elements']) | set(add)) - set(remove), key=element_sort_key)
    changed = bool(add or remove)
    result = {'changed': changed, 'added': add, 'removed': remove, 'elements': after,
              'set_type': ' . '.join(live['type'])}
    if module._diff:
        result['diff'] = {'before': ''.join(e + '\n' for e in live['elements']),
                          'after': ''.join(e + '\n' for e in after),
                          'before_header': 'set %s %s %s' % (fam, table, name),
                          'after_header': 'set %s %s %s' % (fam, table, name)}
    if changed:
        batch = render_elements(fam, table, name, live['type'], add, remove)
        host.check(batch)
        if not module.check_mode:
            host.apply(batch)
    return result


def manage_table(module, connection=None):
    """The body of nft_table: one whole table, replaced in one transaction or changed element by element."""
    desired = normalize_table(module.params)
    fam, name = desired['family'], desired['name']
    host = NftHost(module)
    text = host.list_json(['table', fam, name])
    live = parse_table(text) if text is not None else None
    path = module.params.get('path')
    if path is not None:
        path = v.host_path('path', path)
    if desired['state'] == 'absent':
        stale = path is not None and files.read_text(path) is not None
        result = {'changed': live is not None or stale, 'action': 'delete' if live is not None else 'none',
                  'persisted': stale}
        if module._diff:
            result['diff'] = {'before': 'table %s %s\n' % (fam, name) if live else '', 'after': ''}
        if not module.check_mode:
            if live is not None:
                host.apply('delete table %s %s\n' % (fam, name))
            if stale:
                files.remove(path)
        return result
    plan = compare_table(desired, live)
    batch = render_table(desired)
    persist = path is not None and files.file_needs_change(path, PERSIST_HEADER + batch, PERSIST_MODE)
    changed = plan['action'] != 'none'
    result = dict(plan, changed=changed or persist, persisted=persist, management_connection=None)
    if module._diff:
        by_print = dict((r['fingerprint'], r['text']) for c in desired['chains'] for r in c['rules'])
        before = ''
        if live is not None:
            before = describe_table(fam, name, live['sets'], live['chains'], lambda c: [
                by_print.get(r['fingerprint'], r['text']) for r in live['rules'].get(c['name'], [])])
        after = describe_table(fam, name, desired['sets'], desired['chains'], lambda c: [r['text'] for r in c['rules']])
        result['diff'] = {'before': before, 'after': after, 'before_header': 'live table %s %s' % (fam, name),
                          'after_header': 'desired table %s %s' % (fam, name)}
    if not changed:
        if persist and not module.check_mode:
            files.ensure_file(path, PERSIST_HEADER + batch, PERSIST_MODE, 0o755)
        return result
    connection = management_connection() if connection is None else connection
    if connection:
        device = host.device_to(connection['client'])
        result['management_connection'] = dict(connection, device=device)
        risks = lockout_risks(desired, connection, device)
        if risks and not module.params.get('allow_lockout'):
            first = [c['name'] for c in desired['chains']].index(risks[0].split(' ', 1)[0])
            raise Refused('chains[%d]' % first,
                          'the table would drop the management connection %s:%d -> %s:%d in chain %s; '
                          'allow it in the rules, or set allow_lockout: true' % (
                              connection['client'], connection['client_port'], connection['server'],
                              connection['server_port'], ', '.join(risks)))
    whole = batch
    if plan['action'] == 'elements':
        batch = ''.join(render_elements(fam, name, set_name, desired['sets'][set_name]['type'],
                                        plan['elements_added'].get(set_name, []),
                                        plan['elements_removed'].get(set_name, []))
                        for set_name in sorted(set(plan['elements_added']) | set(plan['elements_removed'])))
    host.check(batch)
    if not module.check_mode:
        host.apply(batch)
        # only a table the kernel took goes to the boot file, so a reboot never loads one it would refuse
        if persist:
            files.ensure_file(path, PERSIST_HEADER + whole, PERSIST_MODE, 0o755)
    return result
