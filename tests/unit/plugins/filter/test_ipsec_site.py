# -*- coding: utf-8 -*-
# Copyright: meshforge.vpn contributors
# GNU General Public License v3.0+ (see https://www.gnu.org/licenses/gpl-3.0.txt)

from __future__ import absolute_import, division, print_function

__metaclass__ = type

import pytest

from ansible_collections.meshforge.vpn.plugins.filter.ipsec_site import FilterModule

PROBLEM = FilterModule().filters()['ipsec_site_problem']
HOSTVARS = {'west': {'ansible_host': '198.18.1.11', 'ipsec_site_subnets': ['198.19.11.0/24']},
            'east': {'ansible_host': '198.18.1.12', 'ipsec_site_subnets': ['198.19.12.0/24']}}
SETTINGS = {'libipsec': True, 'vici_socket': 'unix:///run/meshforge-vpn/charon.vici', 'ca_name': 'ca'}
PAIR = {'name': 'west-east', 'left': 'west', 'right': 'east'}


# Issue 9: the role fails with the planner's first problem, which starts with the variable.
@pytest.mark.parametrize('tunnel, settings, expected', [
    (PAIR, SETTINGS, ''),
    (dict(PAIR, right_subnets=['fd20::/64']), SETTINGS,
     'ipsec_site_tunnels[0] (west-east): left_subnets are IPv4 only and right_subnets IPv6 only'),
    (dict(PAIR, proposals=['aes128-sha1-modp1024']), SETTINGS, "ipsec_site_tunnels[0] (west-east), as west's proposals[0]"),
    (PAIR, dict(SETTINGS, psk_secret='short'), 'ipsec_site_psk_secret: must be a secret of at least 16 characters'),
])
def test_the_problem_filter_starts_with_the_variable(tunnel, settings, expected):
    problem = PROBLEM([tunnel], ['west', 'east'], HOSTVARS, settings)
    assert problem.startswith(expected) and bool(problem) == bool(expected), problem
