# -*- coding: utf-8 -*-
# Copyright: meshforge.vpn contributors
# GNU General Public License v3.0+ (see https://www.gnu.org/licenses/gpl-3.0.txt)

from __future__ import absolute_import, division, print_function

__metaclass__ = type

from ansible_collections.meshforge.vpn.plugins.filter.ipam import FilterModule

FILTERS = FilterModule().filters()


def test_the_ipam_table_shows_counts_then_allocations_in_address_order():
    query = {'pools': {'wg0': {'cidr': '10.88.0.0/24', 'network': 'wg0', 'allocated': 2, 'free': 252, 'reserved': 0}},
             'tables': {'wg0': [{'address': '10.88.0.9', 'host': 'b'}, {'address': '10.88.0.10', 'host': 'a'}]}}
    assert FILTERS['ipam_table'](query) == [
        'pool wg0 10.88.0.0/24 (network wg0): 2 allocated, 252 free, 0 reserved',
        '  10.88.0.9   b',
        '  10.88.0.10  a']
