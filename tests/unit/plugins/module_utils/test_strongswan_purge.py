# -*- coding: utf-8 -*-
# Copyright: meshforge.vpn contributors
# GNU General Public License v3.0+ (see https://www.gnu.org/licenses/gpl-3.0.txt)
"""module_utils/strongswan/purge.py: ipsec_purge removes the connections it manages and that are not kept, each as
ipsec_connection's state=absent does, and asks charon only when there is one to remove; ipsec_info's report."""

from __future__ import absolute_import, division, print_function

__metaclass__ = type

import os

import pytest

from ansible_collections.meshforge.vpn.plugins.module_utils.strongswan import connection
from ansible_collections.meshforge.vpn.plugins.module_utils.strongswan import purge
from ansible_collections.meshforge.vpn.plugins.module_utils.strongswan import render
from ansible_collections.meshforge.vpn.plugins.module_utils.strongswan import schema
from ansible_collections.meshforge.vpn.plugins.module_utils.validation import ValidationError
from ansible_collections.meshforge.vpn.tests.unit.plugins.module_utils.fakevici import (  # noqa: F401 pylint: disable=unused-import
    LIST_SA_CBC, LIST_SA_EVENT, charon, params, strongswan_module)

HAND_WRITTEN = 'connections {\n    operator {\n        remote_addrs = 192.0.2.9\n    }\n}\n'


def present(*names):
    for name in names:
        connection.manage_connection(strongswan_module(params(name=name)))


def run_purge(keep, check_mode=False, audit_log=None):
    module = strongswan_module({'vici_socket': 'unix:///run/fake.vici', 'keep': keep, 'audit_log': audit_log},
                               check_mode=check_mode, diff=True)
    return purge.purge_connections(module)


def conf_d(charon):
    return sorted(os.listdir(os.path.join(charon.root, 'conf.d')))


def test_purge_removes_only_managed_connections_not_kept(charon, tmp_path):
    present('branch-1', 'branch-2')
    with open(os.path.join(charon.root, 'conf.d', 'operator.conf'), 'w') as handle:
        handle.write(HAND_WRITTEN)
    charon.conns['operator'] = {'children': {}}
    assert list(purge.managed_connections()) == ['branch-1', 'branch-2']

    predicted = run_purge(['branch-1'], check_mode=True)
    assert predicted['changed'] and predicted['removed'] == ['branch-2'] and charon.sockets[-1] == '/run/fake.vici'
    assert predicted['terminated'] == {'branch-2': [2]} and predicted['charon_running'] is True
    assert predicted['diff']['before'] == 'branch-1\nbranch-2\n' and predicted['diff']['after'] == 'branch-1\n'
    assert [(r['object'], r['change']) for r in predicted['audit']] == [
        ('branch-2', 'tunnel unloaded'), ('branch-2', 'SAs closed'), ('branch-2', 'pre-shared key unloaded'),
        ('branch-2', 'file removed'), ('branch-2', 'file removed')]
    calls = len(charon.changing_commands())
    assert calls == 4 and 'branch-2' in charon.conns

    log = str(tmp_path / 'audit.jsonl')
    result = run_purge(['branch-1'], audit_log=log)
    assert result == predicted
    assert len(open(log).read().splitlines()) == len(result['audit'])
    assert [c[0] for c in charon.changing_commands()[calls:]] == ['unload_conn', 'terminate', 'unload_shared']
    assert sorted(charon.conns) == ['branch-1', 'operator'] and sorted(charon.shared) == ['ike-branch-1']
    assert [s for s in charon.sas if 'branch-1' in s]
    assert conf_d(charon) == ['branch-1.conf', 'branch-1.secrets.conf', 'operator.conf']
    assert open(os.path.join(charon.root, 'conf.d', 'operator.conf')).read() == HAND_WRITTEN


def test_purge_with_nothing_to_remove_does_not_ask_charon(charon):
    present('branch-1')
    asked = len(charon.sockets)
    result = run_purge(['branch-1'])
    assert not result['changed'] and result['removed'] == [] and result['charon_running'] is None
    assert len(charon.sockets) == asked and result['managed'] == ['branch-1']
    os.remove(schema.config_path('branch-1'))
    os.remove(schema.secrets_path('branch-1'))
    assert run_purge([])['managed'] == []


def test_purge_without_a_running_charon_removes_the_files(charon):
    present('branch-1')
    charon.running = False
    calls = len(charon.commands)
    result = run_purge([])
    assert result['changed'] and result['removed'] == ['branch-1'] and result['charon_running'] is False
    assert [r['change'] for r in result['audit']] == ['file removed', 'file removed']
    assert len(charon.commands) == calls and conf_d(charon) == []


def test_purge_spares_a_name_any_of_whose_files_is_not_ours(charon):
    present('branch-1')
    # an administrator replaced the connection file by one of his own, and left our secrets file
    with open(schema.config_path('branch-1'), 'w') as handle:
        handle.write(HAND_WRITTEN)
    with open(os.path.join(charon.root, 'conf.d', 'notes.txt'), 'w') as handle:
        handle.write(render.MANAGED_HEADER)
    os.symlink(schema.secrets_path('branch-1'), os.path.join(charon.root, 'conf.d', 'linked.conf'))
    assert purge.managed_connections() == {}
    assert not run_purge([])['changed']


def test_purge_checks_the_names_to_keep_first(charon):
    present('branch-1')
    calls = len(charon.commands)
    with pytest.raises(ValidationError, match=r'keep\[1\]'):
        run_purge(['branch-1', 'bad name'])
    assert os.path.exists(schema.config_path('branch-1')) and len(charon.commands) == calls


def test_report_of_all_connections_or_one(charon):
    charon.conns['proof'] = {}
    charon.sas = [LIST_SA_EVENT, LIST_SA_CBC]
    info = purge.report(strongswan_module({'name': None, 'vici_socket': 'unix:///run/fake.vici'}))
    assert not info['changed'] and [s['name'] for s in info['sas']] == ['branch', 'proof']
    assert info['connections'] == {'proof': {'established': True, 'ike_sas': 1, 'children_installed': ['net']}}
    one = purge.report(strongswan_module({'name': 'branch'}))
    assert [s['name'] for s in one['sas']] == ['branch'] and one['connections'] == {}
    assert charon.sockets == ['/run/fake.vici', '/var/run/charon.vici'] and charon.changing_commands() == []
    with pytest.raises(ValidationError, match='name'):
        purge.report(strongswan_module({'name': 'a b'}))
