# -*- coding: utf-8 -*-
# Copyright: meshforge.vpn contributors
# GNU General Public License v3.0+ (see https://www.gnu.org/licenses/gpl-3.0.txt)

from __future__ import absolute_import, division, print_function

__metaclass__ = type

import pytest
from ansible.errors import AnsibleFilterError

from ansible_collections.meshforge.vpn.plugins.filter.registered import FilterModule

RESULTS_BY_HOST = FilterModule().filters()['results_by_host']


def test_play_hosts_results_then_the_delegated_loop_s_by_item():
    hostvars = {'a': {'key': {'public_key': 'A'}}, 'b': {}, 'c': {'key': {'public_key': 'stale'}}}
    outside = {'changed': False, 'msg': 'All items completed',
               'results': [{'item': 'c', 'public_key': 'C'}, {'item': 'd', 'failed': True}]}
    found = RESULTS_BY_HOST(['a', 'b'], hostvars, 'key', outside)
    assert found == {'a': {'public_key': 'A'}, 'b': None, 'c': {'item': 'c', 'public_key': 'C'},
                     'd': {'item': 'd', 'failed': True}}


def test_a_skipped_or_empty_loop_adds_nothing():
    hostvars = {'a': {'record': {'records': {}}}}
    for loop in (None, {'skipped': True, 'changed': False}, {'results': [], 'skipped': True}):
        assert RESULTS_BY_HOST(['a'], hostvars, 'record', loop) == {'a': {'records': {}}}


def test_something_else_than_a_loop_is_refused():
    with pytest.raises(AnsibleFilterError):
        RESULTS_BY_HOST(['a'], {'a': {}}, 'key', {'results': 'x'})
