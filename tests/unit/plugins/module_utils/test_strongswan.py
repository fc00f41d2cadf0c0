# -*- coding: utf-8 -*-
# Copyright: meshforge.vpn contributors
# GNU General Public License v3.0+ (see https://www.gnu.org/licenses/gpl-3.0.txt)
"""module_utils/strongswan/connection.py and removal.py: the ipsec_connection resource on the engine, present and
absent, against the fake charon of fakevici.  The other parts of the driver have their own test_strongswan_*.py."""

from __future__ import absolute_import, division, print_function

__metaclass__ = type

import os

import pytest

from ansible_collections.meshforge.vpn.plugins.module_utils.strongswan import client
from ansible_collections.meshforge.vpn.plugins.module_utils.strongswan import connection
from ansible_collections.meshforge.vpn.plugins.module_utils.strongswan import schema
from ansible_collections.meshforge.vpn.plugins.module_utils.validation import ValidationError
from ansible_collections.meshforge.vpn.tests.unit.plugins.module_utils.fakevici import (  # noqa: F401 pylint: disable=unused-import
    PSK, CommandException, FakeSession, charon, child, encoded, params, strongswan_module)


def run(check_mode=False, diff=True, **overrides):
    """ipsec_connection's body with ``params(**overrides)``; the session is opened on the fake charon."""
    module = strongswan_module(params(**overrides), check_mode=check_mode, diff=diff)
    result = connection.manage_connection(module)
    assert PSK not in repr(result)
    if overrides.get('psk'):
        assert overrides['psk'] not in repr(result)
    return result, module


def absent(check_mode=False, diff=False):
    return connection.manage_connection(strongswan_module({'name': 'branch-1', 'state': 'absent'}, check_mode, diff))


def conf_d(charon):
    return sorted(os.listdir(os.path.join(charon.root, 'conf.d')))


def test_present_check_mode_then_real_then_rerun(charon):
    predicted, module = run(check_mode=True)
    assert predicted['changed'] and predicted['loaded'] and predicted['persisted'] and not charon.changing_commands()
    assert conf_d(charon) == [] and charon.sockets == ['/var/run/charon.vici']
    assert PSK in module.no_log_values

    result = run()[0]
    assert result == dict(predicted, reasons=result['reasons'])
    assert [c[0] for c in charon.changing_commands()] == ['load_shared', 'load_conn']
    assert charon.shared['ike-branch-1']['data'] == PSK
    conf, secrets = schema.config_path('branch-1'), schema.secrets_path('branch-1')
    assert oct(os.stat(conf).st_mode & 0o777) == oct(0o600) == oct(os.stat(secrets).st_mode & 0o777)
    assert PSK not in open(conf).read()
    assert 'secret = 0s' in open(secrets).read()
    assert PSK not in result['diff']['before'] + result['diff']['after']
    assert [(r['change'], r['detail']) for r in result['audit']][1:] == [
        ('pre-shared key loaded', ''), ('file written', conf), ('file written', secrets)]

    before = len(charon.changing_commands())
    again = run()[0]
    assert not again['changed'] and not again['loaded'] and again['reasons'] == [] and not again['persisted']
    assert again['audit'] == []
    assert len(charon.changing_commands()) == before, 'an unchanged connection must not be reloaded'
    assert len(charon.sas) == 1

    predicted = run(check_mode=True, rekey_time='2h')[0]
    assert predicted['changed'] and predicted['reasons'] == ['rekey_time', 'configuration file differs']
    assert len(charon.changing_commands()) == before
    changed = run(rekey_time='2h')[0]
    assert changed['changed'] and [c[0] for c in charon.changing_commands()[before:]] == ['load_conn']


def test_diff_says_what_charon_holds_and_never_the_psk(charon):
    first = run()[0]['diff']
    assert first['before'] == '# charon: not loaded\n'
    assert first['after'].startswith('# charon: loaded\n# Managed by meshforge.vpn')
    assert first['after'].endswith('}\n# pre-shared key: updated\n')
    charon.conns['branch-1']['rekey_time'] = '7200'
    differs = run()[0]['diff']
    assert differs['before'].startswith('# charon: loaded, differs in rekey_time\n')
    assert differs['before'].endswith('# pre-shared key: set\n') and differs['after'].endswith('# pre-shared key: set\n')
    assert differs['before_header'] == differs['after_header'] == schema.config_path('branch-1')
    assert 'diff' not in run(diff=False)[0]


def test_bad_input_writes_and_loads_nothing(charon):
    run()
    files_before = dict((n, open(os.path.join(charon.root, 'conf.d', n)).read()) for n in conf_d(charon))
    calls = len(charon.commands)
    for overrides in ({'proposals': ['3des-sha1-modp1024']}, {'psk': 'too short'},
                      {'children': [child(local_ts=['10.1.0.1'])]}, {'local_id': 'a\nb'},
                      {'children': [child(unknown=True)]}, {'vici_socket': 'tcp://127.0.0.1:4502'}):
        with pytest.raises(ValidationError):
            run(**overrides)
    assert len(charon.commands) == calls, 'charon must not even be asked before the input is valid'
    assert files_before == dict((n, open(os.path.join(charon.root, 'conf.d', n)).read()) for n in conf_d(charon))


def test_charon_refusal_leaves_no_file(charon):
    def refuse(message):
        raise CommandException('Command failed: loading connection failed')
    charon.load_conn = refuse
    with pytest.raises(client.CharonError, match='load-conn failed'):
        run()
    assert conf_d(charon) == []


def test_no_charon_is_a_clear_error_before_any_file(charon):
    charon.running = False
    with pytest.raises(client.CharonError, match='cannot reach charon at unix:///var/run/charon.vici'):
        run()
    with pytest.raises(client.CharonError):
        absent()
    assert conf_d(charon) == []


def test_changed_psk_reloads_only_the_secret(charon):
    run()
    before = len(charon.changing_commands())
    result = run(psk='a different secret, long enough')[0]
    assert result['changed'] and result['secrets_changed'] and not result['loaded'] and not result['config_changed']
    assert [c[0] for c in charon.changing_commands()[before:]] == ['load_shared']
    assert 'updated' in result['diff']['after']


@pytest.mark.parametrize('path, changed', [(schema.config_path, 'config_changed'),
                                           (schema.secrets_path, 'secrets_changed')])
def test_file_with_a_wrong_mode_is_rewritten_and_loads_nothing(charon, path, changed):
    run()
    before = len(charon.changing_commands())
    os.chmod(path('branch-1'), 0o644)
    predicted = run(check_mode=True)[0]
    assert predicted['changed'] and predicted[changed] and predicted['persisted'] and not predicted['loaded']
    assert run()[0] == predicted
    assert os.stat(path('branch-1')).st_mode & 0o777 == 0o600
    assert len(charon.changing_commands()) == before


def test_pubkey_loads_key_and_certificates_and_drops_old_psk(charon):
    run()
    for path, text in (('x509/hq.pem', 'CERT hq'), ('x509ca/ca.pem', 'CERT ca'), ('private/hq.key', 'KEY hq')):
        with open(os.path.join(charon.root, path), 'w') as handle:
            handle.write(text)
    module = strongswan_module(params(auth='pubkey', psk=None, local_certs=['hq.pem'], local_key='hq.key',
                               remote_cacerts=['ca.pem']), diff=True)
    result = connection.manage_connection(module)
    assert result['changed'] and result['secrets_changed'] and result['secrets_file'] is None
    assert 'KEY hq' in module.no_log_values and 'KEY hq' not in repr(result)
    assert charon.keys == ['KEY hq'] and 'ike-branch-1' not in charon.shared
    loaded_conn = charon.conns['branch-1']
    assert loaded_conn['local']['certs'] == ['CERT hq'] and loaded_conn['remote']['cacerts'] == ['CERT ca']
    assert not os.path.exists(schema.secrets_path('branch-1'))
    assert ('file removed', schema.secrets_path('branch-1')) in [(r['change'], r['detail']) for r in result['audit']]
    again = connection.manage_connection(module)
    assert not again['changed']
    with open(os.path.join(charon.root, 'x509/hq.pem'), 'w') as handle:
        handle.write('CERT hq renewed')
    renewed = connection.manage_connection(module)
    assert renewed['loaded'] and charon.conns['branch-1']['local']['certs'] == ['CERT hq renewed']


def test_missing_certificate_fails_except_in_check_mode(charon):
    module = strongswan_module(params(auth='pubkey', psk=None, local_certs=['hq.pem']), check_mode=True)
    assert connection.manage_connection(module)['changed']
    module.check_mode = False
    with pytest.raises(ValidationError, match='hq.pem does not exist'):
        connection.manage_connection(module)
    assert not charon.changing_commands()


def test_absent_unloads_terminates_and_removes(charon):
    run()
    assert charon.sas
    predicted = absent(check_mode=True, diff=True)
    calls = len(charon.changing_commands())
    assert predicted['changed'] and predicted['terminated'] == [1] and predicted['persisted']
    assert predicted['diff']['before'].startswith('# charon: loaded, 1 IKE SA(s)\n# Managed by meshforge.vpn')
    assert predicted['diff']['after'] == '# charon: not loaded, 0 IKE SA(s)\n'
    result = absent(diff=True)
    assert result == predicted
    assert [c[0] for c in charon.changing_commands()[calls:]] == ['unload_conn', 'terminate', 'unload_shared']
    assert [r['change'] for r in result['audit']] == ['tunnel unloaded', 'SAs closed', 'pre-shared key unloaded',
                                                      'file removed', 'file removed']
    assert not charon.conns and not charon.sas and not charon.shared
    assert conf_d(charon) == []
    again = absent()
    assert not again['changed'] and again['terminated'] == [] and not again['config_changed']


def test_absent_closes_sas_that_outlive_the_unload(charon):
    run(children=[child()])
    charon.sas = [encoded({'branch-1': {'uniqueid': '5', 'state': 'ESTABLISHED', 'child-sas': {}}})]
    result = absent()
    assert result['terminated'] == [5] and not charon.sas
    assert [c[0] for c in charon.changing_commands()][-3:] == ['unload_conn', 'terminate', 'unload_shared']


def test_an_open_session_is_used_as_given(charon):
    session = FakeSession()
    result = connection.manage_connection(strongswan_module(params()), client.Charon('/run/other.vici', session))
    assert result['loaded'] and list(session.conns) == ['branch-1'] and charon.sockets == []
