# -*- coding: utf-8 -*-
# Copyright: meshforge.vpn contributors
# GNU General Public License v3.0+ (see https://www.gnu.org/licenses/gpl-3.0.txt)
"""wireguard_key's driver against the fake host: check mode predicts the real run and runs no changing command,
a re-run changes nothing, the private key never leaves the host, and a file that is not a key is never removed."""

from __future__ import absolute_import, division, print_function

__metaclass__ = type

import os

import pytest

from ansible_collections.meshforge.vpn.plugins.module_utils import files
from ansible_collections.meshforge.vpn.plugins.module_utils.common import MissingTool
from ansible_collections.meshforge.vpn.plugins.module_utils.validation import ValidationError
from ansible_collections.meshforge.vpn.plugins.module_utils.wireguard.key import manage_key
from ansible_collections.meshforge.vpn.plugins.module_utils.wireguard.wgquick import MANAGED_HEADER
from ansible_collections.meshforge.vpn.tests.unit.plugins.module_utils.fakehost import (
    PRIV_A, PUB_A, FakeHost, assert_no_secret, check_then_apply, install, public_of, run, write_key)


@pytest.fixture
def host(tmp_path, monkeypatch):
    return install(FakeHost(), str(tmp_path), monkeypatch)


def key_params(system, **overrides):
    base = {'path': os.path.join(system.dir, 'wg0.key'), 'state': 'present', 'rotate': False}
    base.update(overrides)
    return base


def test_manage_key_creates_once(host):
    result, module = check_then_apply(host, manage_key, key_params(host))
    assert result['changed'] and not result['rotated']
    path = result['path']
    key = files.read_text(path).strip()
    assert files.file_mode(path) == 0o600
    assert result['public_key'] == public_of(key)
    assert key in module.no_log_values
    assert_no_secret(result, key)
    assert host.genkey_count == 1

    again, module, changing = run(host, manage_key, key_params(host))
    assert not again['changed'] and changing == []
    assert again['public_key'] == result['public_key']
    assert files.read_text(path).strip() == key
    checked, _module, _changing = run(host, manage_key, key_params(host), check_mode=True)
    assert not checked['changed'] and checked['public_key'] == result['public_key']
    assert_no_secret([again, checked], key)


def test_manage_key_check_mode_on_a_new_host_returns_no_key(host):
    result, _module, changing = run(host, manage_key, key_params(host), check_mode=True)
    assert result['changed'] and result['public_key'] is None and changing == []
    assert host.genkey_count == 0 and not os.path.exists(result['path'])


def test_manage_key_fixes_the_mode_and_keeps_the_key(host):
    path = write_key(host, mode=0o644)
    result, _module = check_then_apply(host, manage_key, key_params(host), PRIV_A)
    assert result['changed'] and not result['rotated'] and result['public_key'] == PUB_A
    assert files.file_mode(path) == 0o600 and files.read_text(path).strip() == PRIV_A
    assert host.genkey_count == 0


def test_manage_key_rotates(host):
    path = write_key(host)
    result, _module = check_then_apply(host, manage_key, key_params(host, rotate=True), PRIV_A)
    new = files.read_text(path).strip()
    assert result['changed'] and result['rotated'] and new != PRIV_A
    assert result['public_key'] == public_of(new)
    assert_no_secret(result, new)


def test_manage_key_absent(host):
    path = write_key(host)
    result, _module = check_then_apply(host, manage_key, key_params(host, state='absent'), PRIV_A)
    assert result['changed'] and not os.path.exists(path)
    again, _module, _changing = run(host, manage_key, key_params(host, state='absent'))
    assert not again['changed']


@pytest.mark.parametrize('content', [
    'garbage\n', '', PRIV_A + '\n' + PRIV_A + '\n', PRIV_A + '\n\n', ' ' + PRIV_A + '\n', PRIV_A[:-2] + '\n',
    MANAGED_HEADER + '[Interface]\nPostUp = wg set %i private-key /etc/wireguard/wg0.key\n',
], ids=['garbage', 'empty', 'two keys', 'two lines', 'blank', 'short', 'wg-quick config'])
def test_manage_key_absent_refuses_a_file_that_is_not_exactly_a_key(host, content):
    path = os.path.join(host.dir, 'wg0.conf')
    files.write_atomic(path, content, 0o600)
    for check_mode in (True, False):
        with pytest.raises(ValidationError) as info:
            run(host, manage_key, key_params(host, path=path, state='absent'), check_mode=check_mode)
        assert info.value.field == 'path' and PRIV_A not in str(info.value)
        assert 'is not a WireGuard key file' in str(info.value) and 'it is not removed' in str(info.value)
    assert files.read_text(path) == content


@pytest.mark.parametrize('state', ['present', 'absent'])
def test_manage_key_refuses_a_directory(host, state):
    with pytest.raises(ValidationError) as info:
        run(host, manage_key, key_params(host, path=host.dir, state=state))
    assert str(info.value) == 'path: %s cannot be read as a key file: is a directory' % host.dir
    assert os.path.isdir(host.dir)


@pytest.mark.parametrize('path', ['{dir}/../wg0.key', '{dir}/./wg0.key', '{dir}//wg0.key', 'wireguard/wg0.key'])
def test_manage_key_refuses_paths_that_do_not_say_where_they_lead(host, path):
    write_key(host)
    for state in ('present', 'absent'):
        with pytest.raises(ValidationError) as info:
            run(host, manage_key, key_params(host, path=path.format(dir=host.dir), state=state))
        assert info.value.field == 'path'
    assert files.read_text(os.path.join(host.dir, 'wg0.key')) == PRIV_A + '\n' and host.commands == []


def test_manage_key_refuses_a_symbolic_link(host):
    target = write_key(host, name='real')
    os.symlink(target, os.path.join(host.dir, 'wg0.key'))
    with pytest.raises(ValidationError) as info:
        run(host, manage_key, key_params(host, state='absent'))
    assert info.value.field == 'path' and 'is a symlink' in str(info.value)
    assert os.path.exists(target) and os.path.islink(os.path.join(host.dir, 'wg0.key'))


def test_manage_key_refuses_a_corrupt_file_and_leaves_it(host):
    path = os.path.join(host.dir, 'wg0.key')
    files.write_atomic(path, 'garbage\n', 0o600)
    with pytest.raises(ValidationError) as info:
        run(host, manage_key, key_params(host))
    assert info.value.field == 'path'
    assert files.read_text(path) == 'garbage\n' and host.changing_commands() == []


def test_manage_key_refuses_a_relative_path(host):
    with pytest.raises(ValidationError) as info:
        run(host, manage_key, key_params(host, path='wg0.key'))
    assert info.value.field == 'path' and host.commands == []


def test_manage_key_without_wg(host):
    host.tools.discard('wg')
    with pytest.raises(MissingTool):
        run(host, manage_key, key_params(host))
    assert host.commands == []
