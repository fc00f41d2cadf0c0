# -*- coding: utf-8 -*-
# Copyright: meshforge.vpn contributors
# GNU General Public License v3.0+ (see https://www.gnu.org/licenses/gpl-3.0.txt)
"""The ipsec_* modules end to end through a real AnsibleModule (argument spec, fail_json, no_log), with charon
answered by the fake VICI session of fakevici and ipsec_charon's commands by its fake units."""

from __future__ import absolute_import, division, print_function

__metaclass__ = type

import json
import os

import pytest

from ansible_collections.meshforge.vpn.plugins.module_utils.strongswan import client
from ansible_collections.meshforge.vpn.plugins.module_utils.strongswan import daemon
from ansible_collections.meshforge.vpn.plugins.modules import ipsec_charon, ipsec_connection, ipsec_info, ipsec_purge
from ansible_collections.meshforge.vpn.tests.unit.plugins.modules import runner
from ansible_collections.meshforge.vpn.tests.unit.plugins.modules.runner import run_module
from ansible_collections.meshforge.vpn.tests.unit.plugins.module_utils.fakehost import FakeHost
from ansible_collections.meshforge.vpn.tests.unit.plugins.module_utils.fakevici import (  # noqa: F401 pylint: disable=unused-import
    LIST_SA_EVENT, charon, encoded)

PSK = 'module-test pre-shared key, 34 chars'
SOCKET = 'unix:///run/mfipsec/charon.vici'


def call(module, args, capsys, check_mode=False, diff=False):
    result, out = run_module(module, args, capsys, check_mode, diff)
    assert PSK not in out
    return result


def conf_d(charon):
    return sorted(os.listdir(os.path.join(charon.root, 'conf.d')))


ARGS = {
    'name': 'branch-1', 'vici_socket': SOCKET,
    'local_addrs': ['198.51.100.10'], 'remote_addrs': ['203.0.113.20'],
    'local_id': 'hq.example.net', 'remote_id': 'branch-1.example.net', 'psk': PSK,
    'children': [{'name': 'lan', 'local_ts': ['10.1.0.0/16'], 'remote_ts': ['10.20.0.0/24'], 'start_action': 'start'}],
}


def test_connection_check_mode_apply_rerun_and_info(charon, capsys):
    predicted = call(ipsec_connection, ARGS, capsys, check_mode=True, diff=True)
    assert predicted['changed'] and predicted['loaded'] and predicted['persisted'] and not charon.changing_commands()
    assert charon.sockets == ['/run/mfipsec/charon.vici']
    assert 'rekey_time = 14400' in predicted['diff']['after']

    result = call(ipsec_connection, ARGS, capsys, diff=True)
    assert result == predicted
    assert charon.shared['ike-branch-1']['data'] == PSK
    assert result['config_file'].endswith('/conf.d/branch-1.conf')

    calls = len(charon.changing_commands())
    again = call(ipsec_connection, ARGS, capsys, diff=True)
    assert not again['changed'] and not again['persisted'] and len(charon.changing_commands()) == calls

    charon.sas = [LIST_SA_EVENT]
    info = call(ipsec_info, {'vici_socket': SOCKET}, capsys)
    assert not info['changed'] and info['sas'][0]['child_sas'][0]['bytes_in'] == 168
    assert info['connections'] == {'branch-1': {'established': False, 'ike_sas': 0, 'children_installed': []}}
    assert len(charon.changing_commands()) == calls


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
    assert not charon.commands and not charon.sockets and conf_d(charon) == []
    assert 'short but secret' not in json.dumps(result)


def test_missing_vici_is_named_after_the_input_is_checked(charon, capsys, monkeypatch):
    monkeypatch.setattr(client, 'HAS_VICI', False)
    result = call(ipsec_connection, ARGS, capsys)
    assert result['failed'] and 'vici' in result['msg'] and 'Failed to import' in result['msg']
    bad = call(ipsec_connection, dict(ARGS, psk='short but secret'), capsys)
    assert bad['failed'] and bad['field'] == 'psk'
    result = call(ipsec_info, {}, capsys)
    assert result['failed'] and 'vici' in result['msg'] and not charon.sockets


def test_absent_needs_only_the_name_and_logs_what_it_removed(charon, capsys, tmp_path):
    call(ipsec_connection, ARGS, capsys)
    charon.sas = [encoded({'branch-1': {'uniqueid': '1', 'state': 'ESTABLISHED', 'child-sas': {}}})]
    log = str(tmp_path / 'audit.jsonl')
    result = call(ipsec_connection, {'name': 'branch-1', 'state': 'absent', 'vici_socket': SOCKET,
                                     'audit_log': log}, capsys, diff=True)
    assert result['changed'] and result['terminated'] == [1] and result['persisted']
    assert not charon.conns and not charon.shared and conf_d(charon) == []
    assert [json.loads(line)['change'] for line in open(log)] == [r['change'] for r in result['audit']]
    again = call(ipsec_connection, {'name': 'branch-1', 'state': 'absent'}, capsys)
    assert not again['changed'] and charon.sockets[-1] == '/var/run/charon.vici'


def test_info_refuses_a_bad_name(charon, capsys):
    result = call(ipsec_info, {'name': 'a\nb'}, capsys)
    assert result['failed'] and result['field'] == 'name' and not charon.sockets


def test_purge_keeps_what_is_named_and_needs_vici_only_to_remove(charon, capsys, monkeypatch):
    call(ipsec_connection, ARGS, capsys)
    call(ipsec_connection, dict(ARGS, name='branch-2'), capsys)
    monkeypatch.setattr(client, 'HAS_VICI', False)
    nothing = call(ipsec_purge, {'keep': ['branch-1', 'branch-2']}, capsys)
    assert not nothing['changed'] and nothing['managed'] == ['branch-1', 'branch-2'] and nothing['charon_running'] is None
    missing = call(ipsec_purge, {'keep': ['branch-1']}, capsys)
    assert missing['failed'] and 'vici' in missing['msg'] and len(conf_d(charon)) == 4

    monkeypatch.setattr(client, 'HAS_VICI', True)
    predicted = call(ipsec_purge, {'keep': ['branch-1'], 'vici_socket': SOCKET}, capsys, check_mode=True, diff=True)
    assert predicted['changed'] and predicted['removed'] == ['branch-2'] and 'branch-2' in charon.conns
    result = call(ipsec_purge, {'keep': ['branch-1'], 'vici_socket': SOCKET}, capsys)
    assert result['changed'] and result['removed'] == ['branch-2'] and list(charon.conns) == ['branch-1']
    assert charon.sockets[-1] == '/run/mfipsec/charon.vici'
    again = call(ipsec_purge, {'keep': ['branch-1']}, capsys)
    assert not again['changed']
    bad = call(ipsec_purge, {'keep': ['branch 1']}, capsys)
    assert bad['failed'] and bad['field'] == 'keep[0]' and list(charon.conns) == ['branch-1']


@pytest.fixture
def units(monkeypatch):
    """systemctl and swanctl for ipsec_charon, on a host that runs systemd and has strongSwan."""
    fake = runner.on_host(FakeHost(systemd=True), monkeypatch)
    monkeypatch.setattr(daemon, 'find_binary', lambda: '/usr/sbin/charon-systemd')
    monkeypatch.setattr(daemon, 'systemd_booted', lambda: True)
    return fake


def test_charon_unit_is_started_once(units, capsys, tmp_path):
    args = {'dropin': str(tmp_path / 'meshforge-vpn.conf'), 'run_dir': str(tmp_path / 'run')}
    predicted = call(ipsec_charon, args, capsys, check_mode=True, diff=True)
    assert predicted['changed'] and predicted['started'] and units.changing_commands() == []
    result = call(ipsec_charon, args, capsys, diff=True)
    assert result == predicted and [c[1] for c in units.changing_commands()] == ['enable', 'start']
    assert not call(ipsec_charon, args, capsys)['changed']
    units.tools.discard('swanctl')
    missing = call(ipsec_charon, args, capsys)
    assert missing['failed'] and missing['missing'] == ['swanctl']
