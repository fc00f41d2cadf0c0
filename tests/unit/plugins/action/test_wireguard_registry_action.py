# -*- coding: utf-8 -*-
# Copyright: meshforge.vpn contributors
# GNU General Public License v3.0+ (see https://www.gnu.org/licenses/gpl-3.0.txt)
"""The wireguard_registry action: where the file goes, query/present/absent, check mode, the fact cache, behind."""

from __future__ import absolute_import, division, print_function

__metaclass__ = type

import json
import os


from ansible_collections.meshforge.vpn.plugins.action.wireguard_registry import ActionModule
from ansible_collections.meshforge.vpn.tests.unit.plugins.action.runner import run_action

KEY = 'YAnz5TF+lXXJte14tji3zlMNq+hd2rYUIgJBgB3fBmk='
KEY2 = 'xTIBA5rboUvnH4htodjb6e697QjLERt1NAB4mZqp8Dg='


def entry(**changes):
    base = {'public_key': KEY, 'endpoint': '198.18.0.11:51820', 'listen_port': 51820, 'address': '10.88.0.1',
            'address6': None, 'routed_subnets': [], 'route_metric': 100, 'routed_subnets_withdrawn': False,
            'persistent_keepalive': 25, 'ansible_host': '198.18.0.11'}
    base.update(changes)
    return base


def run(args, task_vars, check_mode=False, diff=False):
    return run_action(ActionModule, args, task_vars, check_mode, diff)


def test_present_records_beside_the_inventory_and_check_mode_predicts_it(tmp_path):
    task_vars = {'inventory_dir': str(tmp_path)}
    path = str(tmp_path / 'meshforge_vpn_registry.json')
    args = {'mesh': 'wg0', 'state': 'present', 'entries': {'h1': entry()}, 'outside': ['h2']}
    predicted = run(args, task_vars, check_mode=True, diff=True)
    assert predicted['changed'] and predicted['recorded'] == ['h1'] and not os.path.exists(path)
    assert predicted['existed'] is False and predicted['path'] == path
    assert predicted['behind'] == {'h2': ['new member h1']}
    assert KEY in predicted['diff']['after']

    done = run(args, task_vars)
    assert done['changed'] and done['behind'] == predicted['behind']
    assert json.load(open(path))['meshes']['wg0']['h1']['public_key'] == KEY

    again = run(args, task_vars)
    # the last-converged stamp moved, nothing the peers use did
    assert not again['changed'] and again['behind'] == {} and again['existed'] is True


def test_query_changes_nothing_and_the_fact_cache_fills_a_new_file(tmp_path):
    path = str(tmp_path / 'r.json')
    cached = {'h1': dict(entry(), converged='2026-12-01T00:00:00Z'), 'h2': None}
    result = run({'path': path, 'mesh': 'wg0', 'cached': cached}, {})
    assert result['members']['h1']['public_key'] == KEY and 'h2' not in result['members']
    assert not result['changed'] and not os.path.exists(path)


def test_the_entry_converged_last_wins(tmp_path):
    path = str(tmp_path / 'r.json')
    run({'path': path, 'mesh': 'wg0', 'state': 'present', 'entries': {'h1': entry()}}, {})
    older = {'h1': dict(entry(public_key=KEY2), converged='2000-01-01T00:00:00Z')}
    assert run({'path': path, 'mesh': 'wg0', 'cached': older}, {})['members']['h1']['public_key'] == KEY
    newer = {'h1': dict(entry(public_key=KEY2), converged='2999-01-01T00:00:00Z')}
    assert run({'path': path, 'mesh': 'wg0', 'cached': newer}, {})['members']['h1']['public_key'] == KEY2


def test_absent_forgets_members(tmp_path):
    path = str(tmp_path / 'r.json')
    run({'path': path, 'mesh': 'wg0', 'state': 'present', 'entries': {'h1': entry(), 'h2': entry(public_key=KEY2)}}, {})
    result = run({'path': path, 'mesh': 'wg0', 'state': 'absent', 'names': ['h2', 'h9']}, {})
    assert result['changed'] and result['recorded'] == ['h2'] and sorted(result['members']) == ['h1']


def test_a_secret_or_a_bad_value_never_enters_the_file(tmp_path):
    path = str(tmp_path / 'r.json')
    result = run({'path': path, 'mesh': 'wg0', 'state': 'present',
                  'entries': {'h1': dict(entry(), preshared_key=KEY2)}}, {})
    assert result['failed'] and result['msg'].startswith('meshforge.vpn.wireguard_registry: wg0 (h1): unknown keys preshared_key')
    assert not os.path.exists(path)
    bad = run({'path': path, 'mesh': 'wg0', 'state': 'present', 'entries': {'h1': entry(endpoint='a\nb')}}, {})
    assert bad['failed'] and 'endpoint' in bad['msg'] and not os.path.exists(path)


def test_cache_behind_names_the_entries_the_fact_cache_lacks_but_for_the_stamp(tmp_path):
    path = str(tmp_path / 'r.json')
    first = run({'path': path, 'mesh': 'wg0', 'state': 'present',
                 'entries': {'h1': entry(), 'h2': entry(public_key=KEY2)}}, {})
    # an empty fact cache (the first run, or the in-memory cache): every member is written to it
    assert first['cache_behind'] == ['h1', 'h2']
    cached = dict((name, dict(value, converged='2000-01-01T00:00:00Z')) for name, value in first['members'].items())
    cached['h2']['listen_port'] = 51999
    again = run({'path': path, 'mesh': 'wg0', 'state': 'present', 'cached': cached,
                 'entries': {'h1': entry(), 'h2': entry(public_key=KEY2)}}, {})
    # h1 differs only in its last-converged stamp; h2's cached port is not the registry's
    assert again['cache_behind'] == ['h2']
