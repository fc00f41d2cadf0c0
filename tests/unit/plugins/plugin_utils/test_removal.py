# -*- coding: utf-8 -*-
# Copyright: meshforge.vpn contributors
# GNU General Public License v3.0+ (see https://www.gnu.org/licenses/gpl-3.0.txt)

from __future__ import absolute_import, division, print_function

__metaclass__ = type

import pytest

from ansible_collections.meshforge.vpn.plugins.module_utils.validation import ValidationError
from ansible_collections.meshforge.vpn.plugins.plugin_utils import removal

MEMBERS = {'h1': {'routed_subnets': ['192.0.2.0/24']}, 'h2': {'routed_subnets': []}}
INVENTORY = ('h1', 'h2', 'h3', 'h4')
FULL = {'topology': 'full', 'hubs': []}


def refusal(remove, members=None, settings=None, known=None, force=False):
    with pytest.raises(ValidationError) as exc:
        removal.check(remove, MEMBERS if members is None else members, settings or FULL, known or {}, INVENTORY, force)
    return str(exc.value)


def test_names_take_a_list_or_a_comma_separated_string_like_the_argument_spec():
    assert removal.names(['h3', 'h4', 'h3']) == ['h3', 'h4']
    assert removal.names('h3, h4') == ['h3', 'h4']
    assert removal.names(None) == []


@pytest.mark.parametrize('raw, field', [({'h3': 1}, 'wireguard_mesh_remove: must be a list'),
                                        (['h3\nh4'], 'wireguard_mesh_remove[0]: must be a host name'),
                                        ([' h3'], 'wireguard_mesh_remove[0]: must be a host name'),
                                        ([3], 'wireguard_mesh_remove[0]: must be a host name')])
def test_bad_names_are_refused_naming_the_variable(raw, field):
    assert refusal(raw).startswith(field)


def test_a_host_still_in_the_group_is_refused():
    assert refusal(['h2']).startswith('wireguard_mesh_remove: h2 is still in the mesh group; take it out of the group')


def test_a_name_nobody_knows_is_refused_and_one_the_registry_knows_is_taken():
    assert refusal(['h9']).startswith('wireguard_mesh_remove: h9 is neither a host of the inventory nor a member')
    assert removal.check(['h9'], MEMBERS, FULL, {'h9': {'routed_subnets': []}}, INVENTORY) == ['h9']


def test_the_last_hub_needs_force():
    settings = {'topology': 'hub_spoke', 'hubs': ['h3']}
    assert 'leaves the hub-and-spoke mesh without a hub' in refusal(['h3'], settings=settings)
    assert removal.check(['h3'], MEMBERS, settings, {}, INVENTORY, force=True) == ['h3']
    # another hub remains among the members
    assert removal.check(['h3'], MEMBERS, {'topology': 'hub_spoke', 'hubs': ['h3', 'h1']}, {}, INVENTORY) == ['h3']


def test_the_only_gateway_of_a_routed_subnet_needs_force():
    known = {'h3': {'routed_subnets': ['198.51.100.0/24', '192.0.2.0/24']}}
    message = refusal(['h3'], known=known)
    assert message.startswith('wireguard_mesh_remove: h3 is the only gateway of 198.51.100.0/24:')
    assert '192.0.2.0/24' not in message        # h1 routes that one too
    assert removal.check(['h3'], MEMBERS, FULL, known, INVENTORY, force=True) == ['h3']
    # a member that withdrew its claim does not count as a gateway
    withdrawn = {'h1': {'routed_subnets': ['198.51.100.0/24'], 'routed_subnets_withdrawn': True}}
    assert '198.51.100.0/24' in refusal(['h3'], members=withdrawn, known=known)
