# -*- coding: utf-8 -*-
# Copyright: meshforge.vpn contributors
# GNU General Public License v3.0+ (see https://www.gnu.org/licenses/gpl-3.0.txt)
"""A host's own record of the addresses it holds, kept as an Ansible local fact (JSON in facts.d).

The record is what lets a controller without the address ledger rebuild it
from the hosts.  It holds no secret, so it is world-readable like every
other local fact, and ``setup`` shows it as ``ansible_local.<file name>``.
"""

from __future__ import absolute_import, division, print_function

__metaclass__ = type

import json

from ansible_collections.meshforge.vpn.plugins.module_utils import files
from ansible_collections.meshforge.vpn.plugins.module_utils import validation as v

MODE = 0o644


def check_records(field, records):
    """``{pool: address}`` with every pool name and address checked; addresses normalised."""
    if not isinstance(records, dict):
        raise v.ValidationError(field, 'must be a mapping of pool to address, got %r' % (records,))
    return dict((v.name(field, pool), str(v.address('%s[%s]' % (field, pool), str(address))))
                for pool, address in records.items())


def read(path):
    """The record stored at ``path`` (``{}`` when there is none); a file that is not a record is an error."""
    text = files.read_text(path)
    if text is None:
        return {}
    try:
        data = json.loads(text)
    except ValueError as exc:
        raise v.ValidationError(path, 'is not a JSON local fact: %s; fix or remove it' % exc)
    return check_records(path, data)


def render(records):
    return json.dumps(records, sort_keys=True, indent=2) + '\n'


def plan(current, records=None, state='present', pools=None):
    """The record wanted after a request: merge ``records`` in, or drop ``pools`` (all when None)."""
    if state == 'absent':
        return dict((pool, address) for pool, address in current.items() if pools is not None and pool not in pools)
    wanted = dict(current)
    wanted.update(check_records('records', records or {}))
    return wanted


def manage(module):
    """Read, and with ``records`` or ``state=absent`` change, the record at ``path``."""
    params = module.params
    path = v.host_path('path', params['path'])
    pools = [v.name('pools', pool) for pool in params['pools']] if params['pools'] is not None else None
    current = read(path)
    if params['records'] is None and params['state'] == 'present':
        return {'changed': False, 'records': current, 'previous': current, 'path': path}
    wanted = plan(current, params['records'], params['state'], pools)
    remove = params['state'] == 'absent' and not wanted
    exists = files.read_text(path) is not None
    changed = (exists if remove else (wanted != current or not exists or files.file_mode(path) != MODE))
    result = {'changed': changed, 'records': wanted, 'previous': current, 'path': path}
    if module._diff:
        result['diff'] = {'before_header': path, 'after_header': path,
                          'before': render(current) if exists else '', 'after': '' if remove else render(wanted)}
    if changed and not module.check_mode:
        if remove:
            files.remove(path)
        else:
            files.write_atomic(path, render(wanted), MODE, dir_mode=0o755)
    return result
