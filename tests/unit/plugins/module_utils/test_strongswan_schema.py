# -*- coding: utf-8 -*-
# Copyright: meshforge.vpn contributors
# GNU General Public License v3.0+ (see https://www.gnu.org/licenses/gpl-3.0.txt)
"""module_utils/strongswan/schema.py: every option of ipsec_connection checked and normalised before anything on the
host is touched, and the validation checks added for swanctl."""

from __future__ import absolute_import, division, print_function

__metaclass__ = type

from collections import OrderedDict

import pytest

from ansible_collections.meshforge.vpn.plugins.module_utils import validation as v
from ansible_collections.meshforge.vpn.plugins.module_utils.strongswan import proposals
from ansible_collections.meshforge.vpn.plugins.module_utils.strongswan import schema
from ansible_collections.meshforge.vpn.plugins.module_utils.validation import ValidationError
from ansible_collections.meshforge.vpn.tests.unit.plugins.module_utils.fakevici import child, params


def test_normalize_fills_secure_defaults():
    desired = schema.normalize_connection(params(children=[child()]))
    assert desired['proposals'] == proposals.DEFAULT_IKE_PROPOSALS[2]
    assert desired['children'][0]['esp_proposals'] == proposals.DEFAULT_ESP_PROPOSALS
    assert desired['children'][0]['mode'] == 'tunnel' and desired['children'][0]['start_action'] == 'none'
    assert desired['children'][0]['dpd_action'] == 'clear'
    assert desired['dpd_delay'] == 30 and desired['rekey_time'] == 14400 and desired['reauth_time'] == 0
    assert desired['mobike'] is True and desired['encap'] is False
    assert desired['keyingtries'] == 0
    assert desired['vici_socket'] == '/var/run/charon.vici'


def test_normalize_ikev1_defaults_have_no_aead():
    desired = schema.normalize_connection(params(version=1))
    assert desired['proposals'] == proposals.DEFAULT_IKE_PROPOSALS[1]


def test_normalize_durations_responder_and_dpd_defaults():
    desired = schema.normalize_connection(params(
        remote_addrs=['%any'], remote_id='%any', rekey_time='4h', reauth_time='1d', over_time='10m', dpd_delay='1m',
        dpd_action='trap',
        children=[child(rekey_time='45m', life_time=3600, start_action='start'),
                  child(name='dmz', local_ts=['fd01::/64'], remote_ts=['fd02::/64'], start_action='start',
                        dpd_action='restart')]))
    assert desired['remote_addrs'] == ['%any'] and desired['remote_id'] == '%any'
    assert (desired['rekey_time'], desired['reauth_time'], desired['over_time'], desired['dpd_delay']) == \
        (14400, 86400, 600, 60)
    assert desired['children'][0]['rekey_time'] == 2700 and desired['children'][0]['life_time'] == 3600
    assert desired['children'][0]['dpd_action'] == 'trap'
    assert desired['children'][1]['dpd_action'] == 'restart'


def test_dpd_action_follows_start_action():
    desired = schema.normalize_connection(params(children=[
        child(name='a', start_action='start'), child(name='b', start_action='trap'), child(name='c')]))
    assert [c['dpd_action'] for c in desired['children']] == ['restart', 'trap', 'clear']


@pytest.mark.parametrize('overrides, field, problem', [
    ({'proposals': ['aes256-sha1-modp1024']}, 'proposals[0]', "weak algorithm 'sha1'"),
    ({'proposals': ['aes256gcm16-prfsha384-ecp384', '3des-sha256-modp2048']}, 'proposals[1]', "weak algorithm '3des'"),
    ({'proposals': ['aes256gcm16+prfsha384']}, 'proposals[0]', 'unknown algorithm'),
    ({'children': [child(esp_proposals=['aes256-md5'])]}, 'children[0].esp_proposals[0]', "weak algorithm 'md5'"),
    ({'children': [child(esp_proposals=['aes256gcm16-modp999'])]}, 'children[0].esp_proposals[0]', 'unknown'),
    ({'children': [child(local_ts=['10.1.0.0'])]}, 'children[0].local_ts[0]', 'not in CIDR notation'),
    ({'children': [child(remote_ts=['10.20.0.1/24'])]}, 'children[0].remote_ts[0]', 'not a valid CIDR'),
    ({'children': [child(remote_ts=['dynamic'])]}, 'children[0].remote_ts[0]', 'CIDR'),
    ({'children': [child(local_ts=[])]}, 'children[0].local_ts', 'non-empty list'),
    ({'children': [child(marks=1)]}, 'children[0]', 'unknown option marks'),
    ({'children': [child(), child()]}, 'children[1].name', 'listed twice'),
    ({'children': [child(name='lan.x')]}, 'children[0].name', 'not a valid name'),
    ({'children': [child(mode='beet')]}, 'children[0].mode', 'not one of'),
    ({'children': [child(start_action='route')]}, 'children[0].start_action', 'not one of'),
    ({'children': [child(rekey_time='1h', life_time='30m')]}, 'children[0].life_time', 'longer than'),
    ({'children': []}, 'children', 'at least one child'),
    ({'psk': 'short-psk'}, 'psk', 'at least 20'),
    ({'psk': None}, 'psk', 'required with auth: psk'),
    ({'psk': 'x' * 30 + '\n'}, 'psk', 'control character'),
    ({'local_id': 'hq.example.net\nsecret = 0sAAAA'}, 'local_id', 'newlines'),
    ({'remote_id': 'b}\n}'}, 'remote_id', 'newlines'),
    ({'remote_id': 'CN="x"'}, 'remote_id', 'double quotes'),
    ({'remote_id': ' padded'}, 'remote_id', 'blank'),
    ({'local_addrs': ['198.51.100.10\n']}, 'local_addrs[0]', 'newlines'),
    ({'remote_addrs': ['not an address']}, 'remote_addrs[0]', 'neither an IP address nor a DNS name'),
    ({'name': '../etc'}, 'name', 'not a valid name'),
    ({'name': 'a.secrets'}, 'name', 'not a valid name'),
    ({'version': 3}, 'version', 'not 1 or 2'),
    ({'keyingtries': -1}, 'keyingtries', 'out of range'),
    ({'dpd_delay': '30 s'}, 'dpd_delay', 'not a duration'),
    ({'rekey_time': -1}, 'rekey_time', 'not a duration'),
    ({'auth': 'eap'}, 'auth', 'not one of'),
    ({'auth': 'pubkey'}, 'psk', 'applies to auth: psk only'),
    ({'auth': 'pubkey', 'psk': None}, 'local_certs', 'needs the local certificate'),
    ({'local_certs': ['a.pem']}, 'local_certs', 'applies to auth: pubkey only'),
    ({'auth': 'pubkey', 'psk': None, 'local_certs': ['/etc/passwd']}, 'local_certs[0]', 'directly in'),
    ({'auth': 'pubkey', 'psk': None, 'local_certs': ['../private/k.pem']}, 'local_certs[0]', 'absolute path'),
    ({'auth': 'pubkey', 'psk': None, 'local_certs': ['a,b.pem']}, 'local_certs[0]', 'no commas'),
    ({'vici_socket': 'tcp://127.0.0.1:4502'}, 'vici_socket', 'only unix://'),
    ({'esp_proposals': ['aes256gcm16']}, 'options', 'unknown option esp_proposals'),
])
def test_bad_input_is_a_clear_error_naming_the_field(overrides, field, problem):
    with pytest.raises(ValidationError) as exc:
        schema.normalize_connection(params(**overrides))
    assert exc.value.field == field
    assert problem in exc.value.problem


def test_psk_errors_never_show_the_psk():
    for value in ('tiny-secret-1', 'a-long-enough-secret-value\x00'):
        with pytest.raises(ValidationError) as exc:
            schema.normalize_connection(params(psk=value))
        assert value.strip('\x00') not in str(exc.value)


def test_short_psk_when_the_user_insists():
    assert schema.normalize_connection(params(psk='short', allow_short_psk=True))['psk'] == 'short'


def test_pubkey_paths_are_kept_in_their_directories(monkeypatch):
    etc = '/srv/swanctl'
    monkeypatch.setattr(schema, 'CONFIG_DIR', etc)
    desired = schema.normalize_connection(params(
        auth='pubkey', psk=None, local_certs=['hq.pem'], local_key=etc + '/private/hq.key',
        remote_cacerts=['ca.pem']))
    assert desired['local_certs'] == [etc + '/x509/hq.pem']
    assert desired['local_key'] == etc + '/private/hq.key'
    assert desired['remote_cacerts'] == [etc + '/x509ca/ca.pem']


def test_absent_needs_only_the_name():
    assert schema.normalize_connection({'name': 'gone', 'state': 'absent'}) == \
        OrderedDict([('name', 'gone'), ('state', 'absent'), ('vici_socket', '/var/run/charon.vici')])


# ------------------------------------------- validation checks added for swanctl --

@pytest.mark.parametrize('value, seconds', [(0, 0), ('30', 30), ('30s', 30), ('5m', 300), ('4h', 14400),
                                            ('1d', 86400), (' 2h ', 7200)])
def test_duration(value, seconds):
    assert v.duration('t', value) == seconds


@pytest.mark.parametrize('value', [True, None, -1, '1.5h', '1w', '', '3 h', 1.5, '99999d'])
def test_duration_refuses(value):
    with pytest.raises(ValidationError):
        v.duration('t', value)


def test_secret_and_config_value_and_section_name():
    assert v.secret('psk', 'x' * 20, 20) == 'x' * 20
    for bad in ('x' * 19, 'x' * 25 + '\u2028', 123):
        with pytest.raises(ValidationError) as exc:
            v.secret('psk', bad, 20)
        assert 'x' * 19 not in str(exc.value)
    assert v.config_value('id', 'C=CH, O=Example # 1') == 'C=CH, O=Example # 1'
    for bad in ('', ' x', 'x ', 'a"b', 'a\\b', 'a{b', 'a\nb'):
        with pytest.raises(ValidationError):
            v.config_value('id', bad)
    assert v.section_name('n', 'site-1_b') == 'site-1_b'
    for bad in ('', '-x', '_x', 'a.b', 'a b', 'x' * 65, None):
        with pytest.raises(ValidationError):
            v.section_name('n', bad)


# Issue 9, defect 7: traffic selectors with no family in common cannot form a policy.
@pytest.mark.parametrize('local_ts, remote_ts, words', [
    (['10.1.0.0/16'], ['fd20::/64'], 'local_ts are IPv4 only and remote_ts IPv6 only'),
    (['fd10::/64'], ['10.20.0.0/24', '10.21.0.0/24'], 'local_ts are IPv6 only and remote_ts IPv4 only'),
])
def test_traffic_selectors_without_a_common_family_are_refused(local_ts, remote_ts, words):
    with pytest.raises(ValidationError) as exc:
        schema.normalize_connection(params(children=[child(local_ts=local_ts, remote_ts=remote_ts)]))
    assert exc.value.field == 'children[0]' and words in exc.value.problem


def test_traffic_selectors_with_a_family_in_common_are_accepted():
    both = schema.normalize_connection(params(children=[child(local_ts=['10.1.0.0/16', 'fd10::/64'],
                                                              remote_ts=['fd20::/64'])]))
    assert both['children'][0]['remote_ts'] == ['fd20::/64']
