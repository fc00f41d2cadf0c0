# -*- coding: utf-8 -*-
# Copyright: meshforge.vpn contributors
# GNU General Public License v3.0+ (see https://www.gnu.org/licenses/gpl-3.0.txt)
"""module_utils/strongswan/compare.py: the no-reload decision.  A connection charon holds as it is asked, with the
files as they are, is not loaded again; what charon does not report is compared through the file."""

from __future__ import absolute_import, division, print_function

__metaclass__ = type

import pytest

from ansible_collections.meshforge.vpn.plugins.module_utils import engine
from ansible_collections.meshforge.vpn.plugins.module_utils.strongswan import compare
from ansible_collections.meshforge.vpn.plugins.module_utils.strongswan import messages
from ansible_collections.meshforge.vpn.plugins.module_utils.strongswan import render
from ansible_collections.meshforge.vpn.plugins.module_utils.strongswan import sas
from ansible_collections.meshforge.vpn.plugins.module_utils.strongswan import schema
from ansible_collections.meshforge.vpn.tests.unit.plugins.module_utils.fakevici import (
    FakeSession, encoded, golden_params, params)


def loaded(desired):
    """What list-conns reports once ``desired`` is loaded, decoded."""
    return sas.decode(encoded(FakeSession.reported(messages.build_load_conn(desired)[desired['name']])))


def test_unchanged_connection_is_not_reloaded():
    desired = schema.normalize_connection(golden_params())
    config = render.render_config(desired)
    secrets = render.render_secrets(desired)
    steps = compare.plan_connection(desired, loaded(desired), True, config, config, secrets, secrets)
    assert not engine.steps_changed(steps) and steps['reasons'] == []


def test_identities_compare_as_charon_prints_them():
    desired = schema.normalize_connection(params(local_id='@hq.example.net', remote_id='C=CH,O=Example,CN=b'))
    live = loaded(desired)
    live['remote-1']['id'] = 'C=CH, O=Example, CN=b'
    assert compare.conn_differences(desired, live) == []


@pytest.mark.parametrize('change, reason', [
    (lambda live: live.update(rekey_time='7200'), 'rekey_time'),
    (lambda live: live.update(version='IKEv1'), 'version'),
    (lambda live: live.update(remote_addrs=['203.0.113.21']), 'remote_addrs'),
    (lambda live: live['remote-1'].update(id='other.example.net'), 'remote_id'),
    (lambda live: live['local-1'].update({'class': 'public key'}), 'local auth'),
    (lambda live: live['children']['lan'].update({'remote-ts': ['10.21.0.0/24']}), 'children.lan.remote_ts'),
    (lambda live: live['children']['lan'].update(mode='TRANSPORT'), 'children.lan.mode'),
    (lambda live: live['children'].pop('lan'), 'children'),
])
def test_loaded_connection_that_differs_is_reloaded(change, reason):
    desired = schema.normalize_connection(golden_params())
    config = render.render_config(desired)
    live = loaded(desired)
    change(live)
    steps = compare.plan_connection(desired, live, True, config, config,
                                    render.render_secrets(desired), render.render_secrets(desired))
    assert steps['load_conn'] and reason in steps['reasons']
    assert not steps['load_shared'] and 'configuration file differs' not in steps['reasons']


def test_settings_charon_does_not_report_are_compared_through_the_file():
    old = schema.normalize_connection(golden_params())
    new = schema.normalize_connection(dict(golden_params(), proposals=['aes128gcm16-prfsha256-ecp256']))
    assert compare.conn_differences(new, loaded(old)) == []
    steps = compare.plan_connection(new, loaded(old), True, render.render_config(old),
                                    render.render_config(new), None, render.render_secrets(new))
    assert steps['load_conn'] and 'configuration file differs' in steps['reasons']
    first = compare.plan_connection(new, None, False, None, render.render_config(new), None, None)
    assert first['reasons'] == ['not loaded', 'no configuration file']


def test_psk_is_loaded_when_charon_lost_it_or_it_changed():
    desired = schema.normalize_connection(params())
    config, secrets = render.render_config(desired), render.render_secrets(desired)
    steps = compare.plan_connection(desired, loaded(desired), False, config, config, secrets, secrets)
    assert steps['load_shared'] and not steps['load_conn']
    other = render.render_secrets(schema.normalize_connection(params(psk='another secret of 20+ chars')))
    steps = compare.plan_connection(desired, loaded(desired), True, config, config, other, secrets)
    assert steps['load_shared'] and not steps['load_conn']
    assert steps['reasons'] == ['pre-shared key not loaded or changed']


def test_a_psk_charon_holds_is_unloaded_when_the_connection_has_none():
    desired = schema.normalize_connection(params(auth='pubkey', psk=None, local_certs=['hq.pem']))
    config = render.render_config(desired)
    steps = compare.plan_connection(desired, loaded(desired), True, config, config, 'old secrets', None)
    assert steps == {'load_conn': False, 'load_shared': False, 'unload_shared': True, 'reasons': []}
