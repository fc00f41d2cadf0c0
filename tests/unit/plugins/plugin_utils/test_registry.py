# -*- coding: utf-8 -*-
# Copyright: meshforge.vpn contributors
# GNU General Public License v3.0+ (see https://www.gnu.org/licenses/gpl-3.0.txt)

from __future__ import absolute_import, division, print_function

__metaclass__ = type

import json
import multiprocessing
import os

import pytest

from ansible_collections.meshforge.vpn.plugins.module_utils.validation import ValidationError
from ansible_collections.meshforge.vpn.plugins.plugin_utils import jsonstore, registry

KEY = 'YAnz5TF+lXXJte14tji3zlMNq+hd2rYUIgJBgB3fBmk='
KEY2 = 'xTIBA5rboUvnH4htodjb6e697QjLERt1NAB4mZqp8Dg='
NOW = '2026-12-05T02:00:00Z'


def entry(**changes):
    base = {'public_key': KEY, 'endpoint': '198.18.0.11:51820', 'listen_port': 51820, 'address': '10.88.0.1',
            'address6': None, 'routed_subnets': [], 'route_metric': 100, 'routed_subnets_withdrawn': False,
            'persistent_keepalive': 25, 'ansible_host': '198.18.0.11'}
    base.update(changes)
    return base


def test_record_then_load_gives_the_same_registry(tmp_path):
    path = str(tmp_path / 'r.json')
    before, after, changed = registry.update(path, lambda r: registry.record(r, 'wg0', {'h1': entry()}, NOW))
    assert before == registry.empty() and changed == ['h1']
    assert registry.load(path) == after
    assert registry.members(after, 'wg0')['h1']['converged'] == NOW
    assert registry.planning_view(registry.members(after, 'wg0')['h1'])['listen_port'] == 51820


def test_a_rerun_with_the_same_values_changes_no_peer_visible_value():
    first = registry.record(registry.empty(), 'wg0', {'h1': entry()}, NOW)[0]
    second, changed = registry.record(first, 'wg0', {'h1': entry()}, '2026-12-06T00:00:00Z')
    assert changed == []
    assert registry.behind(first, second, 'wg0', ['h2']) == {}


def test_behind_names_what_members_outside_the_run_miss():
    first = registry.record(registry.empty(), 'wg0', {'h1': entry(), 'h2': entry(public_key=KEY2)}, NOW)[0]
    second, changed = registry.record(first, 'wg0', {'h1': entry(listen_port=51999), 'h3': entry()}, NOW)
    assert changed == ['h1', 'h3']
    assert registry.behind(first, second, 'wg0', ['h2']) == {'h2': ['h1 changed listen_port', 'new member h3']}


@pytest.mark.parametrize('bad, problem', [
    ({'private_key': KEY}, 'unknown keys private_key'),
    ({'preshared_key': KEY}, 'unknown keys preshared_key'),
    ({'public_key': 'not a key'}, 'public_key'),
    ({'listen_port': 70000}, 'listen_port'),
    ({'endpoint': 'a\nPostUp = rm -rf /'}, 'endpoint'),
    ({'routed_subnets': '10.0.0.0/8'}, 'routed_subnets'),
])
def test_nothing_but_checked_public_values_enters_the_registry(bad, problem):
    with pytest.raises(ValidationError) as info:
        registry.record(registry.empty(), 'wg0', {'h1': entry(**bad)}, NOW)
    assert problem in str(info.value)


@pytest.mark.parametrize('text, problem', [
    ('{', 'not a valid registry (JSON)'),
    ('{"version": 1, "meshes": {}, "meshes": {}}', 'appears twice'),
    ('{"version": 2, "meshes": {}}', 'version must be 1'),
    ('[]', 'must be a mapping of version and meshes'),
    ('{"version": 1, "meshes": {"wg0": {"h1": {"public_key": "%s"}}}}' % KEY, 'missing converged, listen_port'),
])
def test_a_corrupt_registry_is_refused_naming_the_file(tmp_path, text, problem):
    path = tmp_path / 'r.json'
    path.write_text(text)
    with pytest.raises(ValidationError) as info:
        registry.load(str(path))
    assert info.value.field == str(path) and problem in str(info.value)


def test_a_missing_registry_is_empty_and_a_dry_run_writes_nothing(tmp_path):
    path = str(tmp_path / 'r.json')
    registry.update(path, lambda r: registry.record(r, 'wg0', {'h1': entry()}, NOW), dry_run=True)
    assert not os.path.exists(path)


def test_forget_removes_a_member():
    first = registry.record(registry.empty(), 'wg0', {'h1': entry(), 'h2': entry()}, NOW)[0]
    assert sorted(registry.members(registry.forget(first, 'wg0', ['h2']), 'wg0')) == ['h1']


def _record_one(args):
    path, name = args
    registry.update(path, lambda r: registry.record(r, 'wg0', {name: entry()}, NOW))


def test_parallel_slices_lose_no_update(tmp_path):
    """AWX job slices record their members at the same time: every one of them is in the registry afterwards."""
    path = str(tmp_path / 'r.json')
    names = ['h%02d' % i for i in range(24)]
    with multiprocessing.get_context('fork').Pool(8) as pool:
        pool.map(_record_one, [(path, n) for n in names])
    assert sorted(registry.members(registry.load(path), 'wg0')) == names
    json.loads(open(path).read())


def test_the_text_is_stable(tmp_path):
    assert jsonstore.dumps({'b': 1, 'a': [1]}) == '{\n  "a": [\n    1\n  ],\n  "b": 1\n}\n'


def test_an_ipv6_endpoint_is_recorded_and_a_bad_one_refused():
    new, changed = registry.record(registry.empty(), 'wg0', {'h1': entry(endpoint='[fd18:1::11]:51820')}, NOW)
    assert registry.members(new, 'wg0')['h1']['endpoint'] == '[fd18:1::11]:51820' and changed == ['h1']
    with pytest.raises(ValidationError) as info:
        registry.record(registry.empty(), 'wg0', {'h1': entry(endpoint='h1.example\nPublicKey = x:51820')}, NOW)
    assert 'endpoint' in info.value.field


def test_an_entry_written_before_exit_nodes_reads_as_no_exit_node_and_is_not_a_change():
    old = dict(entry(), converged=NOW)       # no exit_node key, as registries written before it have
    loaded = registry.from_data({'version': 1, 'meshes': {'wg0': {'h1': old}}}, 'r.json')
    assert loaded['meshes']['wg0']['h1']['exit_node'] is False
    assert registry.record({'version': 1, 'meshes': {'wg0': {'h1': old}}}, 'wg0', {'h1': entry(exit_node=False)},
                           NOW)[1] == []
    assert registry.record(loaded, 'wg0', {'h1': entry(exit_node=True)}, NOW)[1] == ['h1']
