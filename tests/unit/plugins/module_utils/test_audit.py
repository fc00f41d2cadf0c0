# -*- coding: utf-8 -*-
# Copyright: meshforge.vpn contributors
# GNU General Public License v3.0+ (see https://www.gnu.org/licenses/gpl-3.0.txt)
"""The audit records every engine resource returns, and the host's audit log they are appended to."""

from __future__ import absolute_import, division, print_function

__metaclass__ = type

import datetime
import json
import os
import stat

import pytest

from ansible_collections.meshforge.vpn.plugins.module_utils import audit
from ansible_collections.meshforge.vpn.plugins.module_utils.validation import ValidationError
from ansible_collections.meshforge.vpn.plugins.module_utils.wireguard.describe import fingerprint
from ansible_collections.meshforge.vpn.plugins.module_utils.wireguard.interface import manage_interface
from ansible_collections.meshforge.vpn.tests.unit.plugins.module_utils.fakehost import (
    PRIV_A, PSK_1, PUB_B, FakeSystem, install, params, peer_params, run, write_key)

NOW = datetime.datetime(2026, 12, 5, 12, 0, 0, tzinfo=datetime.timezone.utc)


def lines(path):
    with open(path) as f:
        return [json.loads(line) for line in f]


def test_records_are_appended_with_the_time_in_a_0600_file(tmp_path):
    path = str(tmp_path / 'log' / 'audit.jsonl')
    record = {'resource': 'route', 'object': 'protocol 110', 'change': 'route added', 'detail': '192.0.2.0/24'}
    assert audit.append(path, [record], now=NOW) == 1
    assert audit.append(path, [], now=NOW) == 0
    assert audit.append(path, [dict(record, change='route removed')], now=NOW) == 1
    assert [r['change'] for r in lines(path)] == ['route added', 'route removed']
    assert lines(path)[0]['time'] == '2026-12-05T12:00:00Z'
    assert stat.S_IMODE(os.stat(path).st_mode) == 0o600
    assert stat.S_IMODE(os.stat(os.path.dirname(path)).st_mode) == 0o700


def test_the_log_is_rotated_by_size_and_keeps_the_newest_files(tmp_path):
    path = str(tmp_path / 'audit.jsonl')
    record = {'resource': 'nft_set', 'object': 'inet t s', 'change': 'element added', 'detail': 'x' * 100}
    for _count in range(10):
        audit.append(path, [record], max_size=300, keep=2, now=NOW)
    assert sorted(os.listdir(str(tmp_path))) == ['audit.jsonl', 'audit.jsonl.1', 'audit.jsonl.2']
    assert all(os.path.getsize(p) <= 300 for p in (path, path + '.1', path + '.2'))
    assert sum(len(lines(p)) for p in (path, path + '.1', path + '.2')) <= 10


def test_a_relative_or_dotted_path_is_refused_naming_the_option():
    with pytest.raises(ValidationError, match='^audit_log: '):
        audit.append('var/log/audit.jsonl', [{'change': 'x'}])
    with pytest.raises(ValidationError, match='^audit_log: '):
        audit.append('/var/log/../audit.jsonl', [{'change': 'x'}])


def test_the_interface_says_what_changed_by_name_and_fingerprint_and_logs_it_without_a_secret(tmp_path, monkeypatch):
    system = install(FakeSystem(), str(tmp_path), monkeypatch)
    write_key(system)
    log = str(tmp_path / 'audit' / 'audit.jsonl')
    first = dict(params(private_key_file=os.path.join(system.dir, 'wg0.key')), audit_log=log)
    result, _module, _changing = run(system, manage_interface, first)
    changes = [(r['change'], r['detail']) for r in result['audit']]
    assert ('interface created', 'auto') in changes
    assert ('peer added', 'branch-1 (%s)' % fingerprint(PUB_B)) in changes
    assert ('address added', '10.10.0.1/24') in changes
    assert lines(log) == [dict(r, time=lines(log)[0]['time']) for r in result['audit']]
    again, _module, _changing = run(system, manage_interface, first)
    assert again['audit'] == [] and len(lines(log)) == len(result['audit'])
    # a preshared key is named as a field, never shown
    second = dict(peer_params(0, preshared_key=PSK_1), private_key_file=first['private_key_file'], audit_log=log)
    changed, _module, _changing = run(system, manage_interface, second)
    assert ('peer changed', 'branch-1 (%s): preshared_key' % fingerprint(PUB_B)) in [
        (r['change'], r['detail']) for r in changed['audit']]
    with open(log) as f:
        text = f.read()
    assert PSK_1 not in text and PRIV_A not in text
    # check mode predicts the records and writes none
    third = dict(second, peers=[])
    predicted, _module, _changing = run(system, manage_interface, third, check_mode=True)
    assert [r['change'] for r in predicted['audit']].count('peer removed') == len(second['peers'])
    assert len(lines(log)) == len(result['audit']) + len(changed['audit'])


def test_the_key_says_it_was_created_rotated_or_removed_and_never_shows_a_key(tmp_path, monkeypatch):
    from ansible_collections.meshforge.vpn.plugins.module_utils.wireguard.key import manage_key
    system = install(FakeSystem(), str(tmp_path), monkeypatch)
    path = os.path.join(system.dir, 'new.key')
    created, _module, _changing = run(system, manage_key, {'path': path, 'state': 'present', 'rotate': False})
    assert [(r['resource'], r['object'], r['change']) for r in created['audit']] == [('wireguard_key', path, 'key created')]
    old_public = created['public_key']
    rotated, _module, _changing = run(system, manage_key, {'path': path, 'state': 'present', 'rotate': True})
    assert [(r['change'], r['detail']) for r in rotated['audit']] == [
        ('key rotated', 'the old public key was %s' % fingerprint(old_public))]
    with open(path) as f:
        assert f.read().strip() not in json.dumps(rotated)
    removed, _module, _changing = run(system, manage_key, {'path': path, 'state': 'absent', 'rotate': False})
    assert [r['change'] for r in removed['audit']] == ['key removed']


def test_an_ipsec_connection_says_it_was_loaded_and_unloaded_and_logs_it_without_the_psk(tmp_path, monkeypatch):
    from ansible_collections.meshforge.vpn.plugins.module_utils.strongswan import client, connection, schema
    from ansible_collections.meshforge.vpn.tests.unit.plugins.module_utils.test_strongswan import (
        PSK, FakeSession, params as ipsec_params, strongswan_module)
    root = str(tmp_path / 'swanctl')
    for sub in ('conf.d', 'x509', 'x509ca', 'private'):
        os.makedirs(os.path.join(root, sub))
    monkeypatch.setattr(schema, 'CONFIG_DIR', root)
    log = str(tmp_path / 'audit' / 'audit.jsonl')
    session = FakeSession()
    loaded = connection.manage_connection(strongswan_module(ipsec_params(audit_log=log)),
                                          client.Charon('/run/fake.vici', session))
    changes = [r['change'] for r in loaded['audit']]
    assert changes[:2] == ['tunnel loaded', 'pre-shared key loaded'] and changes.count('file written') == 2
    assert loaded['audit'][0]['object'] == 'branch-1' and 'proposals ' in loaded['audit'][0]['detail']
    removed = connection.manage_connection(strongswan_module(ipsec_params(audit_log=log, state='absent')),
                                           client.Charon('/run/fake.vici', session))
    assert [r['change'] for r in removed['audit']][:2] == ['tunnel unloaded', 'SAs closed']
    with open(log) as f:
        text = f.read()
    assert PSK not in text and len(text.splitlines()) == len(loaded['audit']) + len(removed['audit'])
