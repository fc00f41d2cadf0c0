# -*- coding: utf-8 -*-
# Copyright: meshforge.vpn contributors
# GNU General Public License v3.0+ (see https://www.gnu.org/licenses/gpl-3.0.txt)
"""The mesh planner with the registry: members outside the run or unreachable, never-joined ones, rebuilt hosts."""

from __future__ import absolute_import, division, print_function

__metaclass__ = type

import base64

from ansible_collections.meshforge.vpn.plugins.filter.wireguard_mesh import FilterModule

FILTERS = FilterModule().filters()
SETTINGS = {'network': '10.88.0.0/24', 'topology': 'full', 'interface': 'wg0',
            'defaults': {'listen_port': 51999, 'persistent_keepalive': 25, 'routed_subnets': []}}


def key(n):
    return base64.b64encode(bytes([n]) * 32).decode()


def entry(n, **changes):
    base = {'public_key': key(n), 'endpoint': '198.18.1.1%d:51820' % n, 'listen_port': 51820,
            'address': '10.88.0.%d' % n, 'address6': None, 'routed_subnets': [], 'route_metric': 100,
            'routed_subnets_withdrawn': False, 'persistent_keepalive': 25, 'ansible_host': '198.18.1.1%d' % n,
            'converged': '2026-12-05T00:00:00Z'}
    base.update(changes)
    return base


# h1 runs with a per-host listen port of 51999 (the defaults above are its values); h2 and h3 do not run
HOSTVARS = {
    'h1': {'ansible_host': '198.18.1.11',
           'wireguard_mesh__self': {'endpoint': None, 'listen_port': 51999, 'persistent_keepalive': 25,
                                    'routed_subnets': []}},
    'h2': {'ansible_host': 'h2'},
    'h3': {'ansible_host': 'h3'},
}
REGISTRY = {'changed': False, 'path': '/x', 'existed': True, 'members': {'h2': entry(2), 'h3': entry(3)}}


def plan(names=('h1', 'h2', 'h3'), keys=None, sources=None):
    sources = sources or {'alive': ['h1'], 'registry': REGISTRY}
    return FILTERS['wireguard_mesh_plan'](list(names), HOSTVARS, SETTINGS, keys or {'h1': key(1)}, None, sources)


def test_members_outside_the_run_are_planned_from_their_registry_entry_not_the_planning_hosts_values():
    peers = dict((p['name'], p) for p in plan()['h1']['peers'])
    assert peers['h2']['endpoint'] == '198.18.1.12:51820' and peers['h3']['endpoint'] == '198.18.1.13:51820'
    assert peers['h2']['public_key'] == key(2) and peers['h2']['allowed_ips'] == ['10.88.0.2/32']
    # what h1 publishes: its own port and key
    assert plan()['h1']['member']['listen_port'] == 51999 and plan()['h1']['member']['public_key'] == key(1)


def test_an_alive_member_the_registry_knows_needs_no_key_step():
    hostvars = dict(HOSTVARS, h2=dict(HOSTVARS['h2'], wireguard_mesh__self={'endpoint': '198.18.1.12', 'listen_port': 51820}))
    plans = FILTERS['wireguard_mesh_plan'](['h1', 'h2', 'h3'], hostvars, SETTINGS, {'h1': key(1), 'h2': {'skipped': True}},
                                           None, {'alive': ['h1', 'h2'], 'registry': REGISTRY})
    assert plans['h2']['member']['public_key'] == key(2)
    assert [p['public_key'] for p in plans['h1']['peers'] if p['name'] == 'h2'] == [key(2)]


def test_joined_leaves_out_members_that_never_joined():
    outside_keys = {'h4': {'public_key': key(4), 'changed': False}, 'h5': {'unreachable': True}}
    joined = FILTERS['wireguard_mesh_joined'](['h1', 'h2', 'h3', 'h4', 'h5', 'h6'], ['h1', 'h6'], REGISTRY, outside_keys)
    assert joined == ['h1', 'h2', 'h3', 'h4', 'h6']


def test_hints_carry_the_registrys_addresses():
    settings = dict(SETTINGS, network6='fd88::/64')
    registry = dict(REGISTRY, members={'h2': entry(2, address6='fd88::2'), 'h3': entry(3)})
    assert FILTERS['wireguard_mesh_registry_hints'](['h2', 'h3', 'h9'], registry, settings) == {
        'h2': {'wg0': '10.88.0.2', 'wg0_v6': 'fd88::2'}, 'h3': {'wg0': '10.88.0.3'}}


def test_entries_are_what_the_peers_were_planned_with_and_check_mode_records_new_members_too():
    plans = FILTERS['wireguard_mesh_plan'](['h1', 'h2', 'h3'], HOSTVARS, dict(SETTINGS, require_keys=False),
                                           {'h1': {'changed': False}}, None, {'alive': ['h1'], 'registry': REGISTRY})
    # h1 has no key in check mode: it is recorded with the placeholder its peers got
    assert FILTERS['wireguard_mesh_registry_entries'](['h1'], plans) == {}
    predicted = FILTERS['wireguard_mesh_registry_entries'](['h1'], plans, True)
    assert predicted['h1']['public_key'] == [p for p in plans['h2']['peers'] if p['name'] == 'h1'][0]['public_key']
    entries = FILTERS['wireguard_mesh_registry_entries'](['h1', 'h9'], plan())
    assert sorted(entries) == ['h1'] and entries['h1']['endpoint'] == '198.18.1.11:51999'


def test_rekeyed_names_hosts_whose_key_is_not_the_planned_one():
    results = {'h1': {'failed': False, 'key_mismatch': True}, 'h2': {'failed': True, 'msg': 'other'},
               'h3': {'failed': True, 'missing_tools': True}, 'h4': {'changed': False}, 'h5': None}
    assert FILTERS['wireguard_mesh_rekeyed'](results) == ['h1', 'h3']


def test_the_summary_names_what_each_member_that_did_not_converge_still_needs():
    # behind against the registry as the run found it (h4 may have been recorded early, with its new key)
    recorded = {'members': dict(REGISTRY['members'], h1=entry(1), h4=entry(4)), 'existed': True, 'path': '/x'}
    start = dict(REGISTRY, members=dict(REGISTRY['members'], h1=entry(1)))
    lines = FILTERS['wireguard_mesh_summary'](['h1', 'h2', 'h3', 'h4', 'h5'], ['h1', 'h3', 'h4', 'h5'], ['h1', 'h4'],
                                              ['h1', 'h2', 'h3', 'h4'], recorded, start, {})
    assert lines[0].startswith('h2 was outside this run (--limit) and is now behind') and 'new member h4' in lines[0]
    assert lines[1].startswith('h3 did not converge (unreachable or failed)') and 'new member h4' in lines[1]
    assert lines[2].startswith('h5 never joined the mesh')
    assert FILTERS['wireguard_mesh_summary'](['h1'], ['h1'], ['h1'], ['h1'], {'members': {}}, REGISTRY, {}) == []


def test_the_summary_says_when_the_controller_lost_its_registry():
    keys = {'h1': {'public_key': key(1), 'changed': False}}
    lines = FILTERS['wireguard_mesh_summary'](['h1'], ['h1'], ['h1'], ['h1'], {'behind': {}, 'existed': False, 'path': '/r'},
                                              dict(REGISTRY, existed=False, members={}), keys)
    assert len(lines) == 1 and 'did not exist although h1 already had a key' in lines[0]


def test_new_keys_are_the_members_whose_key_step_made_one():
    results = {'h1': {'changed': True, 'public_key': key(1)}, 'h2': {'changed': False}, 'h3': {'skipped': True},
               'h4': None, 'h5': {'changed': True, 'failed': True}}
    assert FILTERS['wireguard_mesh_new_keys'](results) == ['h1']


def test_the_summary_says_what_is_left_on_removed_hosts_that_did_not_answer():
    lines = FILTERS['wireguard_mesh_summary'](['h1'], ['h1', 'h4', 'h5'], ['h1', 'h5'], ['h1'], {'members': {}},
                                              REGISTRY, {}, ['h4', 'h5', 'h6'])
    assert len(lines) == 2
    assert lines[0].startswith('h4 left the mesh') and 'did not answer: its WireGuard interface, key and files' in lines[0]
    assert lines[1].startswith('h6 left the mesh') and 'was outside this run (--limit)' in lines[1]
