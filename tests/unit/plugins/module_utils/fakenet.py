# -*- coding: utf-8 -*-
# Copyright: meshforge.vpn contributors
# GNU General Public License v3.0+ (see https://www.gnu.org/licenses/gpl-3.0.txt)
"""A fake host for the route, nft_set and nft_table drivers: ``ip route`` and ``nft`` over an in-memory model.

``nft -f`` understands the batches module_utils/nftables/render.py writes (and nothing else); ``nft -j list``
answers in libnftables' JSON shape.  Every command is recorded, changing ones as such.
"""

from __future__ import absolute_import, division, print_function

__metaclass__ = type

import copy
import ipaddress
import json
import os
import re

from ansible_collections.meshforge.vpn.tests.unit.plugins.module_utils.fakes import CommandLog


class FakeNet(CommandLog):
    """A command changes the host when the routes or tables differ after it."""

    bin_dir = '/usr/sbin'

    def __init__(self):
        super(FakeNet, self).__init__()
        self.routes = []        # dst, gateway, dev, table (int), metric, src, protocol (str), family
        self.tables = {}        # (family, name) -> {'sets': {}, 'chains': [], 'rules': {}}
        self.check_fails = None
        self.route_get_dev = 'eth0'

    def run(self, argv, data=None, environ=None):
        before = _state(self)
        rc, out, err = getattr(self, 'cmd_' + os.path.basename(argv[0]))(argv[1:], data)
        self.record(list(argv), _state(self) != before)
        return rc, out, err

    # ----------------------------------------------------------------- ip --
    def cmd_ip(self, args, data):
        if args[:3] == ['-j', 'route', 'get']:
            return 0, json.dumps([{'dst': args[3], 'dev': self.route_get_dev}]), ''
        if args[0] == '-j':
            family = int(args[1][1])
            words = dict(zip(args[4::2], args[5::2]))
            found = []
            for r in self.routes:
                if r['family'] != family or (words.get('proto') and r['protocol'] != words['proto']):
                    continue
                if words['table'] != 'all' and str(r['table']) != words['table']:
                    continue
                net = ipaddress.ip_network(r['dst'])
                item = {'dst': 'default' if net.prefixlen == 0 else (str(net.network_address)
                                                                     if net.prefixlen == net.max_prefixlen else str(net)),
                        'dev': r['dev'], 'protocol': r['protocol'], 'flags': []}
                if not r['gateway']:
                    item['scope'] = 'link'
                if r['table'] != 254:
                    item['table'] = {255: 'local', 253: 'default'}.get(r['table'], str(r['table']))
                if r['gateway']:
                    item['gateway'] = r['gateway']
                if r['src']:
                    item['prefsrc'] = r['src']
                if r['metric']:
                    item['metric'] = r['metric']
                found.append(item)
            return 0, json.dumps(found), ''
        verb = args[1]
        dst = str(ipaddress.ip_network(args[2]))
        words = dict(zip(args[3::2], args[4::2]))
        family = ipaddress.ip_network(dst).version
        table = int(words['table']) if words['table'].isdigit() else {'main': 254}[words['table']]
        metric = int(words.get('metric', 0 if family == 4 else 1024)) or (0 if family == 4 else 1024)
        keyed = [r for r in self.routes if (r['dst'], r['table'], r['metric']) == (dst, table, metric)]
        if verb == 'del':
            matching = [r for r in keyed if r['protocol'] == words['proto']]
            if not matching:
                return 2, '', 'RTNETLINK answers: No such process\n'
            self.routes.remove(matching[0])
            return 0, '', ''
        for r in keyed:
            self.routes.remove(r)
        self.routes.append({'dst': dst, 'gateway': words.get('via'), 'dev': words.get('dev', 'eth0'), 'table': table,
                            'metric': metric, 'src': words.get('src'), 'protocol': words['proto'], 'family': family})
        return 0, '', ''

    def add_route(self, dst, protocol, dev='eth0', gateway=None, table=254, metric=None, src=None):
        """A route of any owner; one without a gateway is of scope link, as the kernel makes it."""
        family = ipaddress.ip_network(dst).version
        self.routes.append({'dst': dst, 'gateway': gateway, 'dev': dev, 'table': table,
                            'metric': metric if metric is not None else (0 if family == 4 else 1024),
                            'src': src, 'protocol': protocol, 'family': family})

    # ---------------------------------------------------------------- nft --
    def cmd_nft(self, args, data):
        if args[:2] == ['-j', 'list']:
            return self.list_json(args[2:])
        if args == ['--check', '-f', '-']:
            if self.check_fails and self.check_fails in data:
                return 1, '', 'Error: syntax error, unexpected %s\n' % self.check_fails
            snapshot = copy.deepcopy(self.tables)
            try:
                self.apply(data)
            finally:
                self.tables = snapshot
            return 0, '', ''
        if args == ['-f', '-']:
            self.apply(data)
            return 0, '', ''
        raise AssertionError('unexpected nft %r' % (args,))

    def new_table(self, family, name):
        self.tables[(family, name)] = {'sets': {}, 'chains': [], 'rules': {}}
        return self.tables[(family, name)]

    def apply(self, batch):
        lines = batch.splitlines()
        current = None
        in_set = None
        for line in lines:
            line = line.strip()
            match = re.match(r'(add|delete) element (\S+) (\S+) (\S+) \{ (.*) \}$', line)
            if match:
                verb, fam, table, name, items = match.groups()
                target = self.tables[(fam, table)]['sets'][name]['elements']
                for item in items.split(', '):
                    item = item.replace('"', '')
                    if verb == 'add':
                        target.add(item)
                    elif item in target:
                        target.remove(item)
                    else:
                        raise AssertionError('deleting missing element %s' % item)
                continue
            match = re.match(r'add rule (\S+) (\S+) (\S+) (.*) comment "(.*)"$', line)
            if match:
                fam, table, chain, text, comment = match.groups()
                self.tables[(fam, table)]['rules'].setdefault(chain, []).append({'text': text, 'comment': comment})
                continue
            match = re.match(r'(delete )?table (\S+) (\S+)( \{)?$', line)
            if match:
                delete, fam, name, block = match.groups()
                if delete:
                    del self.tables[(fam, name)]
                elif block:
                    current = self.new_table(fam, name)
                elif (fam, name) not in self.tables:
                    self.new_table(fam, name)
                continue
            match = re.match(r'set (\S+) \{$', line)
            if match:
                in_set = current['sets'].setdefault(match.group(1), {'type': None, 'flags': [], 'elements': set()})
                continue
            match = re.match(r'chain (\S+) \{$', line)
            if match:
                current['chains'].append({'name': match.group(1)})
                in_set = None
                continue
            match = re.match(r'type (\S+) hook (\S+)(?: device "\S+")? priority (-?\d+); policy (\S+);$', line)
            if match:
                current['chains'][-1].update(type=match.group(1), hook=match.group(2), prio=int(match.group(3)),
                                             policy=match.group(4))
                continue
            if in_set is not None and line.startswith('type '):
                in_set['type'] = line[5:].split(' . ')
            elif in_set is not None and line.startswith('flags '):
                in_set['flags'] = line[6:].split(',')
            elif in_set is not None and line.startswith('elements = { '):
                in_set['elements'] = set(e.replace('"', '') for e in line[len('elements = { '):-2].split(', '))
            elif line == '}':
                continue
            else:
                raise AssertionError('fake nft cannot read %r' % line)

    def list_json(self, what):
        out = [{'metainfo': {'json_schema_version': 1}}]
        if what[0] == 'set':
            table = self.tables.get((what[1], what[2]))
            if table is None or what[3] not in table['sets']:
                return 1, '', 'Error: No such file or directory\n'
            out.append(self.set_json(what[1], what[2], what[3], table['sets'][what[3]]))
            return 0, json.dumps({'nftables': out}), ''
        table = self.tables.get((what[1], what[2]))
        if table is None:
            return 1, '', 'Error: No such file or directory\n'
        out.append({'table': {'family': what[1], 'name': what[2], 'handle': 1}})
        for name in sorted(table['sets']):
            out.append(self.set_json(what[1], what[2], name, table['sets'][name]))
        for chain in table['chains']:
            body = {'family': what[1], 'table': what[2], 'name': chain['name'], 'handle': 2}
            for key in ('type', 'hook', 'prio', 'policy'):
                if key in chain:
                    body[key] = chain[key]
            out.append({'chain': body})
        handle = 10
        for chain in table['chains']:
            for rule in table['rules'].get(chain['name'], []):
                handle += 1
                body = {'family': what[1], 'table': what[2], 'chain': chain['name'], 'handle': handle,
                        'expr': [{'match': {'op': '==', 'left': {'meta': {'key': 'iifname'}}, 'right': 'x'}},
                                 {'accept': None}]}
                if rule.get('comment'):
                    body['comment'] = rule['comment']
                out.append({'rule': body})
        return 0, json.dumps({'nftables': out}), ''

    def set_json(self, fam, table, name, item):
        body = {'family': fam, 'name': name, 'table': table, 'handle': 3,
                'type': item['type'][0] if len(item['type']) == 1 else list(item['type'])}
        if item['flags']:
            body['flags'] = list(item['flags'])
        if item['elements']:
            body['elem'] = [self.element_json(e) for e in sorted(item['elements'])]
        return {'set': body}

    @classmethod
    def element_json(cls, text):
        parts = text.split(' . ')
        if len(parts) > 1:
            return {'concat': [cls.part_json(p) for p in parts]}
        return cls.part_json(text)

    @staticmethod
    def part_json(text):
        if '/' in text:
            addr, length = text.split('/')
            return {'prefix': {'addr': addr, 'len': int(length)}}
        if '-' in text:
            low, high = text.split('-')
            return {'range': [int(low) if low.isdigit() else low, int(high) if high.isdigit() else high]}
        return int(text) if text.isdigit() else text


def make_set(net, name='web_v4', kinds=('ipv4_addr',), flags=('interval',), elements=()):
    """An nft set in the table inet meshforge, as if made earlier."""
    table = net.tables.setdefault(('inet', 'meshforge'), {'sets': {}, 'chains': [], 'rules': {}})
    table['sets'][name] = {'type': list(kinds), 'flags': list(flags), 'elements': set(elements)}


def _canonical(value):
    # sets have no stable order (string hashes are salted per process, and a deep copy may re-order them)
    return sorted(value, key=str) if isinstance(value, (set, frozenset)) else str(value)


def _state(net):
    """Routes and tables in one canonical text, to tell a changing command from a reading one."""
    return json.dumps([net.routes, sorted((' '.join(k), t) for k, t in net.tables.items())],
                      sort_keys=True, default=_canonical)
