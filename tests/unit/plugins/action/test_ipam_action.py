# -*- coding: utf-8 -*-
# Copyright: meshforge.vpn contributors
# GNU General Public License v3.0+ (see https://www.gnu.org/licenses/gpl-3.0.txt)
"""The ipam action plugin: where the ledger goes, check mode writes nothing, diff mode, errors."""

from __future__ import absolute_import, division, print_function

__metaclass__ = type

import json
import os

import pytest

from ansible.errors import AnsibleActionFail

from ansible_collections.meshforge.vpn.plugins.action.ipam import ActionModule
from ansible_collections.meshforge.vpn.tests.unit.plugins.action.runner import run_action

POOLS = {'wg0': {'cidr': '10.88.0.0/24', 'network': 'wg0'}}


def run(args, task_vars, check_mode=False, diff=False):
    result = run_action(ActionModule, args, task_vars, check_mode, diff)
    if result.get('failed'):
        # a refused request is a failed result (so that failed_when applies); raised here for the tests' pytest.raises
        raise AnsibleActionFail(result['msg'])
    return result


def test_a_refused_request_is_a_failed_result_not_an_exception(tmp_path):
    """The wireguard_mesh role registers it with failed_when: false and fails naming its own variable."""
    args = {'ledger': str(tmp_path / 'l.json'), 'pools': POOLS, 'hosts': ['a'], 'pins': {'a': {'wg0': '10.9.0.1'}}}
    result = run_action(ActionModule, args, {})
    assert result['failed'] and result['msg'].startswith('meshforge.vpn.ipam: pins[a][wg0]: ')
    assert not os.path.exists(str(tmp_path / 'l.json'))


def test_the_ledger_goes_beside_the_inventory_and_check_mode_writes_nothing(tmp_path):
    task_vars = {'inventory_dir': str(tmp_path), 'inventory_hostname': 'h1'}
    predicted = run({'pools': POOLS}, task_vars, check_mode=True, diff=True)
    path = str(tmp_path / 'meshforge_vpn_ipam.json')
    assert predicted['changed'] and predicted['ledger'] == path and not os.path.exists(path)
    assert predicted['diff']['before'] == '' and '"h1"' in predicted['diff']['after']

    result = run({'pools': POOLS}, task_vars)
    assert result['addresses'] == predicted['addresses'] and result['changed']
    assert json.load(open(path))['allocations']['wg0'] == {'h1': result['addresses']['h1']['wg0']}
    again = run({'pools': POOLS}, task_vars, diff=True)
    assert not again['changed'] and 'diff' not in again


def test_a_query_on_a_missing_ledger_creates_no_file(tmp_path):
    path = str(tmp_path / 'l.json')
    result = run({'ledger': path, 'pools': POOLS, 'pool': ['wg0'], 'state': 'query', 'address': '10.88.0.5'}, {})
    assert result['tables'] == {'wg0': []} and result['free'] == {'wg0': True} and not os.path.exists(path)


def test_errors_name_the_field_and_leave_the_ledger_alone(tmp_path):
    path = str(tmp_path / 'l.json')
    run({'ledger': path, 'pools': POOLS, 'hosts': ['a', 'b']}, {})
    before = open(path).read()
    with pytest.raises(AnsibleActionFail) as info:
        run({'ledger': path, 'pools': {'wg0': {'cidr': '10.88.0.0/30', 'network': 'wg0'}}, 'hosts': ['a']}, {})
    assert 'pools[wg0]' in str(info.value) and 'cannot change the pool' in str(info.value)
    assert open(path).read() == before
    with pytest.raises(AnsibleActionFail) as info:
        run({'ledger': path, 'pool': ['wg0'], 'network': 'wg0', 'hosts': ['a']}, {})
    assert 'mutually exclusive' in str(info.value)
