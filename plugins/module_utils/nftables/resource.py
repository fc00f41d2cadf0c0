# -*- coding: utf-8 -*-
# Copyright: meshforge.vpn contributors
# GNU General Public License v3.0+ (see https://www.gnu.org/licenses/gpl-3.0.txt)
"""nft_table and nft_set on the engine: a whole table replaced in one transaction or changed element by element, and
the elements of one named set.  Every batch goes through ``nft --check`` first, in check mode too."""

from __future__ import absolute_import, division, print_function

__metaclass__ = type

import json

from ansible_collections.meshforge.vpn.plugins.module_utils import engine
from ansible_collections.meshforge.vpn.plugins.module_utils import validation as v
from ansible_collections.meshforge.vpn.plugins.module_utils.common import Refused
from ansible_collections.meshforge.vpn.plugins.module_utils.nftables.compare import compare_table
from ansible_collections.meshforge.vpn.plugins.module_utils.nftables.elements import (
    check_overlaps, element_sort_key, elements, family, nft_name)
from ansible_collections.meshforge.vpn.plugins.module_utils.nftables.host import NftHost
from ansible_collections.meshforge.vpn.plugins.module_utils.nftables.live import parse_set, parse_table
from ansible_collections.meshforge.vpn.plugins.module_utils.nftables.lockout import lockout_risks
from ansible_collections.meshforge.vpn.plugins.module_utils.nftables.render import (
    PERSIST_HEADER, PERSIST_MODE, describe_table, render_elements, render_table)
from ansible_collections.meshforge.vpn.plugins.module_utils.nftables.table import normalize_table
from ansible_collections.meshforge.vpn.plugins.module_utils.routes import safety


class Table(engine.Resource):
    """This collection's own table.  ``connection`` is the management SSH connection (read from the host when None,
    none with False)."""

    kind = 'nft_table'

    def __init__(self, module, host=None, connection=None):
        super(Table, self).__init__(module, host or NftHost(module))
        self.connection = connection
        self.checked = None         # the connection the lockout check looked at, for the result

    def want(self):
        desired = normalize_table(self.module.params)
        path = self.module.params.get('path')
        desired['path'] = v.host_path('path', path) if path is not None else None
        return desired

    def have(self, want):
        text = self.host.list_json(['table', want['family'], want['name']])
        return parse_table(text) if text is not None else None

    def steps(self, want, have):
        if want['state'] == 'absent':
            return {'batch': 'delete table %s %s\n' % (want['family'], want['name']) if have is not None else ''}
        plan = compare_table(want, have)
        if plan['action'] == 'none':
            return {'batch': ''}
        if plan['action'] == 'elements':
            return {'batch': ''.join(
                render_elements(want['family'], want['name'], name, want['sets'][name]['type'],
                                plan['elements_added'].get(name, []), plan['elements_removed'].get(name, []))
                for name in sorted(set(plan['elements_added']) | set(plan['elements_removed'])))}
        return {'batch': render_table(want)}

    def check(self, want, have, steps):
        if want['state'] == 'present':
            self.check_lockout(want)
        self.host.check(steps['batch'])

    def check_lockout(self, want):
        connection = safety.management_connection() if self.connection is None else self.connection
        if not connection:
            return
        device = self.host.device_to(connection['client'])
        self.checked = dict(connection, device=device)
        risks = lockout_risks(want, connection, device)
        if risks and not self.module.params.get('allow_lockout'):
            first = [c['name'] for c in want['chains']].index(risks[0].split(' ', 1)[0])
            raise Refused('chains[%d]' % first,
                          'the table would drop the management connection %s:%d -> %s:%d in chain %s; '
                          'allow it in the rules, or set allow_lockout: true' % (
                              connection['client'], connection['client_port'], connection['server'],
                              connection['server_port'], ', '.join(risks)))

    def apply(self, want, have, steps):
        self.host.apply(steps['batch'])

    def files(self, want, have):
        # written after apply: only a table the kernel took goes to the boot file, so a reboot never loads one it
        # would refuse
        if want['path'] is None:
            return []
        content = PERSIST_HEADER + render_table(want) if want['state'] == 'present' else None
        return [engine.File(want['path'], content, PERSIST_MODE, 0o755)]

    def result(self, want, have, steps, pending):
        if want['state'] == 'absent':
            return {'action': 'delete' if have is not None else 'none'}
        return dict(compare_table(want, have), management_connection=self.checked)

    def audit_object(self, want):
        return '%s %s' % (want['family'], want['name'])

    def audit(self, want, have, steps):
        if want['state'] == 'absent':
            return [('table removed', '')] if have is not None else []
        plan = compare_table(want, have)
        changes = [('table created', '')] if have is None else []
        changes += [('rule added', rule) for rule in plan['rules_added']]
        changes += [('rule removed', rule) for rule in plan['rules_removed']]
        for verb, key in (('added to', 'elements_added'), ('removed from', 'elements_removed')):
            changes += [('element %s set %s' % (verb, name), element)
                        for name in sorted(plan[key]) for element in plan[key][name]]
        changes += [('set changed', name) for name in plan['sets_changed'] if have is not None]
        return changes

    def diff(self, want, have, steps, pending):
        fam, name = want['family'], want['name']
        if want['state'] == 'absent':
            return {'before': 'table %s %s\n' % (fam, name) if have else '', 'after': ''}
        by_print = dict((r['fingerprint'], r['text']) for c in want['chains'] for r in c['rules'])
        before = ''
        if have is not None:
            before = describe_table(fam, name, have['sets'], have['chains'], lambda c: [
                by_print.get(r['fingerprint'], r['text']) for r in have['rules'].get(c['name'], [])])
        after = describe_table(fam, name, want['sets'], want['chains'], lambda c: [r['text'] for r in c['rules']])
        return {'before': before, 'after': after, 'before_header': 'live table %s %s' % (fam, name),
                'after_header': 'desired table %s %s' % (fam, name)}


class Set(engine.Resource):
    """The elements of one named set of a table that exists; the set's type comes from the live set."""

    def want(self):
        params = self.module.params
        return {'family': family('family', params.get('family')), 'table': nft_name('table', params.get('table')),
                'name': nft_name('name', params.get('name')), 'elements': params.get('elements') or [],
                'state': params.get('state') or 'present', 'purge': bool(params.get('purge'))}

    def have(self, want):
        text = self.host.list_json(['set', want['family'], want['table'], want['name']])
        if text is None:
            raise v.ValidationError('name', 'set %s %s %s does not exist; define it with meshforge.vpn.nft_table'
                                    % (want['family'], want['table'], want['name']))
        return [parse_set(o['set']) for o in json.loads(text)['nftables'] if 'set' in o][0]

    def steps(self, want, have):
        interval = 'interval' in have['flags']
        wanted = elements('elements', want['elements'], have['type'], interval)
        if want['state'] == 'absent':
            return {'add': [], 'remove': [e for e in wanted if e in have['elements']]}
        add = [e for e in wanted if e not in have['elements']]
        remove = [e for e in have['elements'] if e not in wanted] if want['purge'] else []
        if interval:
            check_overlaps('elements', add, [e for e in have['elements'] if e not in remove], have['type'])
        return {'add': add, 'remove': remove}

    def batch(self, want, have, steps):
        return render_elements(want['family'], want['table'], want['name'], have['type'], steps['add'], steps['remove'])

    def check(self, want, have, steps):
        self.host.check(self.batch(want, have, steps))

    def apply(self, want, have, steps):
        self.host.apply(self.batch(want, have, steps))

    def after(self, have, steps):
        return sorted((set(have['elements']) | set(steps['add'])) - set(steps['remove']), key=element_sort_key)

    kind = 'nft_set'

    def audit_object(self, want):
        return '%s %s %s' % (want['family'], want['table'], want['name'])

    def audit(self, want, have, steps):
        return [('element added', e) for e in steps['add']] + [('element removed', e) for e in steps['remove']]

    def result(self, want, have, steps, pending):
        return {'added': steps['add'], 'removed': steps['remove'], 'elements': self.after(have, steps),
                'set_type': ' . '.join(have['type'])}

    def diff(self, want, have, steps, pending):
        header = 'set %s %s %s' % (want['family'], want['table'], want['name'])
        return {'before': ''.join(e + '\n' for e in have['elements']),
                'after': ''.join(e + '\n' for e in self.after(have, steps)),
                'before_header': header, 'after_header': header}


def manage_table(module, connection=None):
    """The body of nft_table."""
    return engine.manage(Table(module, connection=connection))


def manage_set(module):
    """The body of nft_set."""
    return engine.manage(Set(module, NftHost(module)))
