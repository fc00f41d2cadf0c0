# -*- coding: utf-8 -*-
# Copyright: meshforge.vpn contributors
# GNU General Public License v3.0+ (see https://www.gnu.org/licenses/gpl-3.0.txt)
"""The ipam_record module through a real AnsibleModule: the host's own record of its addresses."""

from __future__ import absolute_import, division, print_function

__metaclass__ = type

import json
import os
import stat

import pytest


from ansible_collections.meshforge.vpn.plugins.modules import ipam_record
from ansible_collections.meshforge.vpn.tests.unit.plugins.modules.runner import run_module


def call(args, capsys, check_mode=False, diff=False):
    return run_module(ipam_record, args, capsys, check_mode, diff)[0]


def test_read_write_merge_and_remove(tmp_path, capsys):
    path = str(tmp_path / 'facts.d' / 'meshforge_vpn_ipam.fact')
    result = call({'path': path}, capsys)
    assert result == dict(result, changed=False, records={}) and not os.path.exists(path)

    predicted = call({'path': path, 'records': {'wg0': '10.88.0.5'}}, capsys, check_mode=True, diff=True)
    assert predicted['changed'] and not os.path.exists(path)
    assert predicted['diff']['before'] == '' and '10.88.0.5' in predicted['diff']['after']
    written = call({'path': path, 'records': {'wg0': '10.88.0.5'}}, capsys)
    assert written['changed'] and json.load(open(path)) == {'wg0': '10.88.0.5'}
    assert stat.S_IMODE(os.stat(path).st_mode) == 0o644
    assert not call({'path': path, 'records': {'wg0': '10.88.0.5'}}, capsys)['changed']

    merged = call({'path': path, 'records': {'ipsec': 'FD00:0::7'}}, capsys)
    assert merged['changed'] and merged['records'] == {'wg0': '10.88.0.5', 'ipsec': 'fd00::7'}
    assert call({'path': path}, capsys)['records'] == merged['records']

    dropped = call({'path': path, 'state': 'absent', 'pools': ['ipsec']}, capsys)
    assert dropped['changed'] and dropped['records'] == {'wg0': '10.88.0.5'}
    assert call({'path': path, 'state': 'absent'}, capsys)['changed'] and not os.path.exists(path)
    assert not call({'path': path, 'state': 'absent'}, capsys)['changed']


@pytest.mark.parametrize('records, words', [
    ({'wg0': 'not-an-address'}, 'records[wg0]'),
    ({'wg0': '10.0.0.1\n[Interface]'}, 'records[wg0]'),
    ({'wg\n0': '10.0.0.1'}, 'line break'),
])
def test_bad_records_are_refused_and_nothing_written(tmp_path, capsys, records, words):
    path = str(tmp_path / 'r.fact')
    result = call({'path': path, 'records': records}, capsys)
    assert result['failed'] and words in result['msg'] and not os.path.exists(path)


def test_a_corrupt_record_file_is_named_and_left_alone(tmp_path, capsys):
    path = str(tmp_path / 'r.fact')
    with open(path, 'w') as handle:
        handle.write('{"wg0": ')
    result = call({'path': path, 'records': {'wg0': '10.0.0.1'}}, capsys)
    assert result['failed'] and path in result['msg'] and 'fix or remove it' in result['msg']
    assert open(path).read() == '{"wg0": '


@pytest.mark.parametrize('relative', ['new/../r.fact', 'new/..', './new/r.fact', 'new//r.fact'])
def test_a_path_with_dot_components_is_refused_before_anything_is_created(tmp_path, capsys, relative):
    path = '%s/%s' % (tmp_path, relative)
    for state in ('present', 'absent'):
        result = call({'path': path, 'records': {'wg0': '10.0.0.1'}, 'state': state}, capsys)
        assert result['failed'] and result['msg'].startswith('path: ') and 'component' in result['msg']
        assert 'Traceback' not in result.get('exception', '')
    assert os.listdir(str(tmp_path)) == []


def test_a_symbolic_link_as_the_record_is_refused(tmp_path, capsys):
    target = tmp_path / 'elsewhere'
    target.write_text('{}')
    os.symlink(str(target), str(tmp_path / 'r.fact'))
    result = call({'path': str(tmp_path / 'r.fact'), 'records': {'wg0': '10.0.0.1'}}, capsys)
    assert result['failed'] and result['msg'].startswith('path: ') and 'is a symlink' in result['msg']
    assert target.read_text() == '{}' and os.path.islink(str(tmp_path / 'r.fact'))
