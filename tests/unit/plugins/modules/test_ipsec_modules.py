# -*- coding: utf-8 -*-
# Copyright: meshforge.vpn contributors
# GNU General Public License v3.0+ (see https://www.gnu.org/licenses/gpl-3.0.txt)
"""ipsec_connection and ipsec_info end to end through a real AnsibleModule (argument spec, fail_json, no_log),
with charon answered by the fake VICI session of test_strongswan."""

from __future__ import absolute_import, division, print_function

__metaclass__ = type

import json
import os

import pytest


from ansible_collections.meshforge.vpn.plugins.module_utils.strongswan import client
from ansible_collections.meshforge.vpn.plugins.module_utils.strongswan import schema
from ansible_collections.meshforge.vpn.plugins.modules import ipsec_connection, ipsec_info, ipsec_purge
from ansible_collections.meshforge.vpn.tests.unit.plugins.modules.runner import run_module
from ansible_collections.meshforge.vpn.tests.unit.plugins.module_utils.test_strongswan import (
    LIST_SA_EVENT, FakeSession)

PSK = 'module-test pre-shared key, 34 chars'


@pytest.fixture
def charon(tmp_path, monkeypatch):
    session = FakeSession()
    root = str(tmp_path / 'swanctl')
    os.makedirs(os.path.join(root, 'conf.d'))
    monkeypatch.setattr(schema, 'CONFIG_DIR', root)
    monkeypatch.setattr(client, 'HAS_VICI', True)
    sockets = []
    real = client.Charon

    def connect(path):
        sockets.append(path)
        return real(path, session)
    monkeypatch.setattr(client, 'Charon', connect)
    session.sockets = sockets
    session.root = root
    return session


def call(module, args, capsys, check_mode=False, diff=False):
    result, out = run_module(module, args, capsys, check_mode, diff)
    assert PSK not in out
    return result


ARGS = {
    'name': 'branch-1', 'vici_socket': 'unix:///run/mfipsec/charon.vici',
    'local_addrs': ['198.51.100.10'], 'remote_addrs': ['203.0.113.20'],
    'local_id': 'hq.example.net', 'remote_id': 'branch-1.example.net', 'psk': PSK,
    'children': [{'name': 'lan', 'local_ts': ['10.1.0.0/16'], 'remote_ts': ['10.20.0.0/24'], 'start_action': 'start'}],
}


def test_connection_check_mode_apply_rerun_and_info(charon, capsys):
    predicted = call(ipsec_connection, ARGS, capsys, check_mode=True, diff=True)
    assert predicted['changed'] and predicted['loaded'] and not charon.changing_commands()
    assert charon.sockets == ['/run/mfipsec/charon.vici']
    assert 'rekey_time = 14400' in predicted['diff']['after']

    result = call(ipsec_connection, ARGS, capsys, diff=True)
    assert result['changed'] == predicted['changed'] and result['reasons'] == predicted['reasons']
    assert charon.shared['ike-branch-1']['data'] == PSK
    assert result['config_file'].endswith('/conf.d/branch-1.conf')

    calls = len(charon.changing_commands())
    again = call(ipsec_connection, ARGS, capsys, diff=True)
    assert not again['changed'] and len(charon.changing_commands()) == calls

    charon.sas = [LIST_SA_EVENT]
    info = call(ipsec_info, {'vici_socket': 'unix:///run/mfipsec/charon.vici'}, capsys)
    assert not info['changed'] and info['sas'][0]['child_sas'][0]['bytes_in'] == 168
    assert info['connections'] == {'branch-1': {'established': False, 'ike_sas': 0, 'children_installed': []}}


@pytest.mark.parametrize('overrides, message', [
    ({'proposals': ['aes256-sha1-modp2048']}, "weak algorithm 'sha1'"),
    ({'proposals': ['aes256-sha256']}, 'no key exchange'),
    ({'children': [dict(ARGS['children'][0], remote_ts=['10.20.0.0'])]}, 'not in CIDR notation'),
    ({'psk': 'short but secret'}, 'at least 20'),
    ({'local_id': 'hq\nsecret = 0sAAAA'}, 'newlines'),
    ({'children': [dict(ARGS['children'][0], hw_offload='yes')]}, 'Unsupported parameters'),
    ({'children': None}, 'at least one child'),
    ({'vici_socket': '/run/charon.vici'}, 'only unix://'),
])
def test_bad_input_fails_and_touches_nothing(charon, capsys, overrides, message):
    result = call(ipsec_connection, dict(ARGS, **overrides), capsys)
    assert result['failed'] and message in result['msg']
    assert not charon.commands and os.listdir(os.path.join(charon.root, 'conf.d')) == []
    assert 'short but secret' not in json.dumps(result)


def test_missing_vici_is_named(charon, capsys, monkeypatch):
    monkeypatch.setattr(client, 'HAS_VICI', False)
    result = call(ipsec_connection, ARGS, capsys)
    assert result['failed'] and 'vici' in result['msg'] and 'Failed to import' in result['msg']
    result = call(ipsec_info, {}, capsys)
    assert result['failed'] and 'vici' in result['msg']


def test_absent_needs_only_the_name(charon, capsys):
    call(ipsec_connection, ARGS, capsys)
    charon.sas = [LIST_SA_EVENT.__class__([('branch-1', LIST_SA_EVENT['proof'])])]
    result = call(ipsec_connection, {'name': 'branch-1', 'state': 'absent',
                                     'vici_socket': 'unix:///run/mfipsec/charon.vici'}, capsys, diff=True)
    assert result['changed'] and result['terminated'] == [1]
    assert not charon.conns and not charon.shared and os.listdir(os.path.join(charon.root, 'conf.d')) == []
    again = call(ipsec_connection, {'name': 'branch-1', 'state': 'absent'}, capsys)
    assert not again['changed']


def test_info_refuses_a_bad_name(charon, capsys):
    result = call(ipsec_info, {'name': 'a\nb'}, capsys)
    assert result['failed'] and result['field'] == 'name'


def test_purge_keeps_what_is_named_and_needs_vici_only_to_remove(charon, capsys, monkeypatch):
    call(ipsec_connection, ARGS, capsys)
    call(ipsec_connection, dict(ARGS, name='branch-2'), capsys)
    monkeypatch.setattr(client, 'charon_if_running', lambda path, connect: connect(path))
    monkeypatch.setattr(client, 'HAS_VICI', False)
    nothing = call(ipsec_purge, {'keep': ['branch-1', 'branch-2']}, capsys)
    assert not nothing['changed'] and nothing['managed'] == ['branch-1', 'branch-2'] and nothing['charon_running'] is None
    missing = call(ipsec_purge, {'keep': ['branch-1']}, capsys)
    assert missing['failed'] and 'vici' in missing['msg'] and len(os.listdir(os.path.join(charon.root, 'conf.d'))) == 4

    monkeypatch.setattr(client, 'HAS_VICI', True)
    predicted = call(ipsec_purge, {'keep': ['branch-1'], 'vici_socket': 'unix:///run/mfipsec/charon.vici'}, capsys,
                     check_mode=True, diff=True)
    assert predicted['changed'] and predicted['removed'] == ['branch-2'] and 'branch-2' in charon.conns
    result = call(ipsec_purge, {'keep': ['branch-1'], 'vici_socket': 'unix:///run/mfipsec/charon.vici'}, capsys)
    assert result['changed'] and result['removed'] == ['branch-2'] and list(charon.conns) == ['branch-1']
    assert charon.sockets[-1] == '/run/mfipsec/charon.vici'
    again = call(ipsec_purge, {'keep': ['branch-1']}, capsys)
    assert not again['changed']
    bad = call(ipsec_purge, {'keep': ['branch 1']}, capsys)
    assert bad['failed'] and bad['field'] == 'keep[0]' and list(charon.conns) == ['branch-1']
