# -*- coding: utf-8 -*-
# Copyright: meshforge.vpn contributors
# GNU General Public License v3.0+ (see https://www.gnu.org/licenses/gpl-3.0.txt)
"""Contract: what the mesh planner emits for a host is what wireguard_interface accepts, through its argument spec and normaliser."""

from __future__ import absolute_import, division, print_function

__metaclass__ = type

import base64

import pytest
from ansible.module_utils.common.arg_spec import ArgumentSpecValidator

from ansible_collections.meshforge.vpn.plugins.module_utils.wireguard import schema
from ansible_collections.meshforge.vpn.plugins.plugin_utils import topology


def key(n):
    return base64.b64encode(bytes([n]) * 32).decode()


def members(names, **extra):
    out = {}
    for i, name in enumerate(names):
        out[name] = {'ansible_host': '198.18.1.%d' % (10 + i), 'public_key': key(i + 1)}
        out[name].update(extra.get(name, {}))
    return out


SETTINGS = {'network': '10.88.0.0/24', 'topology': 'full', 'interface': 'wg0',
            'defaults': {'listen_port': 51820, 'persistent_keepalive': 25}}

PLANS = {
    'full_mesh': (members(['a', 'b', 'c']), SETTINGS),
    'hub_spoke': (members(['hub', 's1', 's2']), dict(SETTINGS, topology='hub_spoke', hubs=['hub'])),
    'routed_subnets': (members(['hub', 's1', 's2'], hub={'routed_subnets': ['198.19.12.0/24']},
                               s2={'routed_subnets': ['198.19.13.0/24']}),
                       dict(SETTINGS, topology='hub_spoke', hubs=['hub'])),
}


def module_params(plan):
    """The role's wireguard_interface task, fed from one host's plan."""
    return {'name': plan['interface'], 'addresses': plan['addresses'], 'listen_port': plan['listen_port'],
            'peers': plan['peers']}


@pytest.mark.parametrize('shape', sorted(PLANS))
def test_planner_output_passes_the_argument_spec_and_the_normaliser(shape):
    plans = topology.plan_mesh(*PLANS[shape])
    for host, plan in sorted(plans.items()):
        result = ArgumentSpecValidator(schema.interface_argument_spec()).validate(module_params(plan))
        assert not result.error_messages, (host, result.error_messages)
        desired = schema.normalize_interface(result.validated_parameters)
        assert len(desired['peers']) == len(plan['peers'])


@pytest.mark.parametrize('shape', sorted(PLANS))
def test_every_planner_peer_key_is_a_peer_option(shape):
    options = set(schema.peer_options())
    for plan in topology.plan_mesh(*PLANS[shape]).values():
        for peer in plan['peers']:
            assert set(peer) <= options, set(peer) - options
            if 'name' in peer:
                # the planner's name is the PSK pairing key; the description shows the same
                assert peer['name'] == peer['description']
