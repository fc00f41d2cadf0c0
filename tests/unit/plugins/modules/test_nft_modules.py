# -*- coding: utf-8 -*-
# Copyright: meshforge.vpn contributors
# GNU General Public License v3.0+ (see https://www.gnu.org/licenses/gpl-3.0.txt)
"""nft_table and nft_set through a real AnsibleModule, with ``nft`` and ``ip`` answered by the fake host: check mode
predicts, a refusal is a fail_json message that starts with the option's name and leaves the host as it was."""

from __future__ import absolute_import, division, print_function

__metaclass__ = type

import os

import pytest

from ansible_collections.meshforge.vpn.plugins.modules import nft_set, nft_table
from ansible_collections.meshforge.vpn.tests.unit.plugins.modules.runner import on_host, run_module
from ansible_collections.meshforge.vpn.tests.unit.plugins.module_utils.fakehost import (
    FakeHost, install, make_set, underlay)


@pytest.fixture
def host(tmp_path, monkeypatch):
    """The underlay (fakehost.underlay), managed over SSH from 198.18.0.1 through eth0."""
    return on_host(install(underlay(FakeHost()), str(tmp_path / 'host'), monkeypatch), monkeypatch)


def test_paths_with_dot_components_are_refused_before_anything_is_written(host, capsys, tmp_path):
    result, _out = run_module(nft_table, {'name': 'meshforge', 'path': '%s/nft/../table.nft' % tmp_path}, capsys)
    assert result['failed'] and result['msg'].startswith('path: '), result['msg']
    assert os.listdir(str(tmp_path)) == ['host'] and host.changing_commands() == []


def test_nft_table_lockout_fails_naming_the_chain(host, capsys):
    args = {'chains': [{'name': 'c', 'type': 'filter', 'hook': 'input', 'priority': 0, 'policy': 'drop'}]}
    for check_mode in (True, False):
        result, _out = run_module(nft_table, args, capsys, check_mode=check_mode)
        assert result['failed'] and result['field'] == 'chains[0]', result
        assert result['msg'].startswith('chains[0]: the table would drop the management connection '
                                        '198.18.0.1:50123 -> 198.18.0.10:22 in chain c'), result
        assert 'rc' not in result
    assert host.nft == {} and host.changing_commands() == []


def test_nft_set_module_predicts_applies_and_refuses_through_the_fake_host(host, capsys):
    make_set(host, name='admins', elements=['10.0.0.1'])
    args = {'family': 'inet', 'table': 'meshforge', 'name': 'admins', 'elements': ['10.0.0.1', '10.0.0.2']}
    predicted, _out = run_module(nft_set, args, capsys, check_mode=True, diff=True)
    assert predicted['changed'] and predicted['added'] == ['10.0.0.2'] and host.changing_commands() == []
    result, _out = run_module(nft_set, args, capsys)
    assert result['changed'] and result['added'] == predicted['added']
    assert host.nft[('inet', 'meshforge')]['sets']['admins']['elements'] == {'10.0.0.1', '10.0.0.2'}
    again, _out = run_module(nft_set, args, capsys)
    assert not again['changed']
    changed = len(host.changing_commands())
    refused, _out = run_module(nft_set, dict(args, elements=['10.0.0.300']), capsys)
    assert refused['failed'] and refused['msg'].startswith('elements[0]: ') and len(host.changing_commands()) == changed
