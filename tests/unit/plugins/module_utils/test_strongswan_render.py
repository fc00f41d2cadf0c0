# -*- coding: utf-8 -*-
# Copyright: meshforge.vpn contributors
# GNU General Public License v3.0+ (see https://www.gnu.org/licenses/gpl-3.0.txt)
"""module_utils/strongswan/render.py and messages.py: the swanctl.conf files, rendered from the very VICI message
that is loaded, and the messages themselves (strings and lists of strings only, no secret but load-shared's)."""

from __future__ import absolute_import, division, print_function

__metaclass__ = type

import base64
import re
from collections import OrderedDict

import pytest
from hypothesis import example, given, settings, strategies as st

from ansible_collections.meshforge.vpn.plugins.module_utils import validation as v
from ansible_collections.meshforge.vpn.plugins.module_utils.strongswan import messages
from ansible_collections.meshforge.vpn.plugins.module_utils.strongswan import render
from ansible_collections.meshforge.vpn.plugins.module_utils.strongswan import schema
from ansible_collections.meshforge.vpn.plugins.module_utils.validation import ValidationError
from ansible_collections.meshforge.vpn.tests.unit.plugins.module_utils.fakevici import PSK, golden_params, params

ETC = '/srv/swanctl'


@pytest.fixture
def etc(monkeypatch):
    """/etc/swanctl elsewhere: paths in files and messages name it."""
    monkeypatch.setattr(schema, 'CONFIG_DIR', ETC)
    return ETC


GOLDEN = '''\
# Managed by meshforge.vpn (ipsec_connection). Local changes are overwritten.
connections {
    branch-1 {
        version = 2
        local_addrs = 198.51.100.10
        remote_addrs = 203.0.113.20, 2001:db8::20
        proposals = aes256gcm16-prfsha384-ecp384, aes256-sha384-curve25519
        dpd_delay = 30
        rekey_time = 14400
        reauth_time = 0
        over_time = 600
        mobike = no
        encap = yes
        keyingtries = 0
        local {
            auth = psk
            id = hq.example.net
        }
        remote {
            auth = psk
            id = "C=CH, O=Example, CN=branch 1"
        }
        children {
            lan {
                local_ts = 10.1.0.0/16, fd01::/64
                remote_ts = 10.20.0.0/24
                mode = tunnel
                start_action = start
                close_action = start
                esp_proposals = aes256gcm16-ecp384
                rekey_time = 3600
                life_time = 4000
                dpd_action = restart
            }
        }
    }
}
'''

GOLDEN_SECRETS = '''\
# Managed by meshforge.vpn (ipsec_connection). Local changes are overwritten.
secrets {
    ike-branch-1 {
        id-1 = hq.example.net
        id-2 = "C=CH, O=Example, CN=branch 1"
        secret = 0sY29ycmVjdCBob3JzZSBiYXR0ZXJ5IHN0YXBsZSA0Mg==
    }
}
'''


def test_render_golden():
    desired = schema.normalize_connection(golden_params())
    assert render.render_config(desired) == GOLDEN
    assert render.render_secrets(desired) == GOLDEN_SECRETS
    assert PSK not in render.render_config(desired)


def test_render_pubkey_with_certificate_digests(etc):
    desired = schema.normalize_connection(params(auth='pubkey', psk=None, local_certs=['hq.pem'],
                                                 local_key='hq.key', remote_cacerts=['ca.pem']))
    text = render.render_config(desired, {etc + '/x509/hq.pem': 'ab' * 32, etc + '/x509ca/ca.pem': 'cd' * 32})
    assert '# %s/x509/hq.pem sha256 %s\n' % (etc, 'ab' * 32) in text
    assert '            auth = pubkey\n            id = hq.example.net\n            certs = %s/x509/hq.pem\n' % etc in text
    assert '            cacerts = %s/x509ca/ca.pem\n' % etc in text
    assert render.render_secrets(desired) is None


identities = st.text(alphabet=st.characters(blacklist_categories=('Cs',)), min_size=1, max_size=30)


def _structure(text):
    """Each line's key (or section line), without values."""
    return [line.split(' = ')[0] for line in text.splitlines()]


@settings(max_examples=300)
@given(identities, identities)
@example('0', '%any4')
def test_no_identity_can_inject_a_line_or_a_section(local_id, remote_id):
    try:
        desired = schema.normalize_connection(params(local_id=local_id, remote_id=remote_id))
    except ValidationError:
        return
    # %any (and %any4, %any6) names no one, so it has no line in the secrets: the reference has the same wildcards
    reference = schema.normalize_connection(params(**dict(
        (key, '%any') for key, value in (('local_id', local_id), ('remote_id', remote_id)) if value in schema.ANY_ADDRESS)))
    for rendered in (render.render_config, render.render_secrets):
        assert _structure(rendered(desired)) == _structure(rendered(reference))
    assert '            id = %s' % render._render_value(local_id) in render.render_config(desired).splitlines()


@settings(max_examples=200)
@given(st.text(min_size=20, max_size=60).filter(lambda t: not v.CONTROL_RE.search(t)))
def test_any_psk_is_written_as_base64_on_one_line(psk):
    desired = schema.normalize_connection(params(psk=psk))
    text = render.render_secrets(desired)
    assert _structure(text) == _structure(GOLDEN_SECRETS)
    assert psk not in text
    encoded = re.search(r'secret = 0s(\S+)\n', text).group(1)
    assert base64.b64decode(encoded).decode('utf-8') == psk


# ------------------------------------------------------------ VICI messages --

def test_load_conn_message():
    desired = schema.normalize_connection(golden_params())
    message = messages.build_load_conn(desired)
    assert list(message) == ['branch-1']
    conn = message['branch-1']
    assert conn['version'] == '2' and conn['remote_addrs'] == ['203.0.113.20', '2001:db8::20']
    assert conn['proposals'] == ['aes256gcm16-prfsha384-ecp384', 'aes256-sha384-curve25519']
    assert conn['local'] == {'auth': 'psk', 'id': 'hq.example.net'}
    assert conn['remote'] == {'auth': 'psk', 'id': 'C=CH, O=Example, CN=branch 1'}
    assert conn['children']['lan'] == OrderedDict([
        ('local_ts', ['10.1.0.0/16', 'fd01::/64']), ('remote_ts', ['10.20.0.0/24']), ('mode', 'tunnel'),
        ('start_action', 'start'), ('close_action', 'start'), ('esp_proposals', ['aes256gcm16-ecp384']),
        ('rekey_time', '3600'), ('life_time', '4000'), ('dpd_action', 'restart')])

    def strings_only(value):
        if isinstance(value, dict):
            return all(isinstance(k, str) and strings_only(x) for k, x in value.items())
        if isinstance(value, list):
            return all(isinstance(x, str) for x in value)
        return isinstance(value, str)
    assert strings_only(message)
    assert PSK not in repr(message)


def test_load_conn_message_sends_certificate_data(etc):
    desired = schema.normalize_connection(params(auth='pubkey', psk=None, local_certs=['hq.pem'],
                                                 remote_cacerts=['ca.pem']))
    data = {etc + '/x509/hq.pem': 'PEM hq', etc + '/x509ca/ca.pem': 'PEM ca'}
    conn = messages.build_load_conn(desired, data)['branch-1']
    assert conn['local']['certs'] == ['PEM hq'] and conn['remote']['cacerts'] == ['PEM ca']
    assert conn['local']['auth'] == conn['remote']['auth'] == 'pubkey'


def test_load_shared_and_unload_messages():
    desired = schema.normalize_connection(params(remote_id='%any'))
    assert messages.build_load_shared(desired) == OrderedDict([
        ('id', 'ike-branch-1'), ('type', 'IKE'), ('data', PSK), ('owners', ['hq.example.net'])])
    assert messages.build_unload_conn('branch-1') == {'name': 'branch-1'}
    assert messages.build_unload_shared('branch-1') == {'id': 'ike-branch-1'}
    assert messages.build_terminate('branch-1')['ike'] == 'branch-1'
