# -*- coding: utf-8 -*-
# Copyright: meshforge.vpn contributors
# GNU General Public License v3.0+ (see https://www.gnu.org/licenses/gpl-3.0.txt)
"""wireguard_interface's expected_public_key against the fake host: a host whose key is not the one its peers were
planned with (rebuilt, key changed by hand, key file gone) fails with key_mismatch, in check mode too, and nothing
changes; the right key changes nothing by itself."""

from __future__ import absolute_import, division, print_function

__metaclass__ = type

import json
import os

import pytest

from ansible_collections.meshforge.vpn.plugins.module_utils.wireguard.interface import KeyMismatch, manage_interface
from ansible_collections.meshforge.vpn.tests.unit.plugins.module_utils.fakehost import (
    PRIV_A, PUB_A, PUB_B, FakeHost, install, make_key, params, public_of, run, write_key)


@pytest.fixture
def host(tmp_path, monkeypatch):
    return install(FakeHost(), str(tmp_path), monkeypatch)


def key_params(system, expected):
    return params(private_key_file=os.path.join(system.dir, 'wg0.key'), expected_public_key=expected)


def state(system):
    return system.state() + json.dumps(sorted(os.listdir(system.dir)))


def test_the_planned_key_converges_and_a_rerun_checks_it_without_change(host):
    write_key(host)
    result, dummy, changing = run(host, manage_interface, key_params(host, PUB_A))
    assert result['changed'] and result['public_key'] == PUB_A and changing
    again, dummy, changing = run(host, manage_interface, key_params(host, PUB_A))
    assert not again['changed'] and changing == []


@pytest.mark.parametrize('check_mode', [False, True])
def test_another_key_fails_before_anything_changes(host, check_mode):
    write_key(host)
    run(host, manage_interface, key_params(host, PUB_A))
    # the host was rebuilt: a new private key, and the plan still has the old public key
    write_key(host, key=make_key('rebuilt'))
    before = state(host)
    with pytest.raises(KeyMismatch) as info:
        run(host, manage_interface, key_params(host, PUB_A), check_mode=check_mode)
    assert str(info.value).startswith('expected_public_key: the host has the public key %s, not %s'
                                      % (public_of(make_key('rebuilt')), PUB_A))
    assert info.value.fail_keys() == {'key_mismatch': True, 'public_key': public_of(make_key('rebuilt'))}
    assert state(host) == before
    assert make_key('rebuilt') not in str(info.value)


def test_a_missing_key_file_is_a_mismatch_not_a_missing_option(host):
    with pytest.raises(KeyMismatch) as info:
        run(host, manage_interface, key_params(host, PUB_B))
    assert 'has no key' in str(info.value) and info.value.fail_keys()['public_key'] is None
    assert host.links == {}


def test_no_expected_key_checks_nothing(host):
    write_key(host)
    result, dummy, dummy = run(host, manage_interface, key_params(host, None))
    assert result['changed'] and result['public_key'] == PUB_A
    assert PRIV_A not in json.dumps(result)
