# -*- coding: utf-8 -*-
# Copyright: meshforge.vpn contributors
# GNU General Public License v3.0+ (see https://www.gnu.org/licenses/gpl-3.0.txt)
"""Each role's meta/argument_specs.yml against its defaults and against the planner that reads its variables.

ansible-core validates a role's variables with the spec before the role's first task, but it never takes a default
from it: the value a role runs with is defaults/main.yml's.  So the two must say the same, and every nested option a
planner reads must be declared (ansible-core refuses an undeclared one), with no declared one it does not read.
"""

from __future__ import absolute_import, division, print_function

__metaclass__ = type

import os

import pytest
import yaml

from ansible.module_utils.common.arg_spec import ArgumentSpecValidator

from ansible_collections.meshforge.vpn.plugins.module_utils.nftables.rules import RULE_KEYS
from ansible_collections.meshforge.vpn.plugins.plugin_utils import ipsec_plan, policy

ROOT = os.path.dirname(os.path.dirname(os.path.dirname(os.path.dirname(os.path.abspath(__file__)))))
ROLES = sorted(os.listdir(os.path.join(ROOT, 'roles')))
TYPES = {'str': str, 'path': str, 'int': int, 'bool': bool, 'list': list, 'dict': dict}


def _yaml(*parts):
    with open(os.path.join(ROOT, *parts)) as handle:
        return yaml.safe_load(handle)


def spec(role):
    return _yaml('roles', role, 'meta', 'argument_specs.yml')['argument_specs']['main']['options']


def defaults(role):
    return _yaml('roles', role, 'defaults', 'main.yml')


def validate(role, values):
    return ArgumentSpecValidator(spec(role)).validate(values, validate_role_argument_spec=True).error_messages


def test_every_role_is_checked():
    assert ROLES == ['ipsec_site', 'mesh_dns', 'nebula_mesh', 'vpn_firewall', 'wireguard_mesh']


@pytest.mark.parametrize('role', ROLES)
def test_the_documented_defaults_are_the_defaults(role):
    options, values = spec(role), defaults(role)
    assert sorted(set(values) - set(options)) == [], 'in defaults/main.yml, not documented'
    documented = dict((name, option['default']) for name, option in options.items() if 'default' in option)
    assert sorted(set(documented) - set(values)) == [], 'a documented default that defaults/main.yml does not set'
    for name in sorted(values):
        assert documented.get(name) == values[name], name


@pytest.mark.parametrize('role', ROLES)
def test_every_default_has_its_declared_type(role):
    for name, option in sorted(spec(role).items()):
        value = defaults(role).get(name)
        if isinstance(value, str) and '{{' in value:
            continue
        if name in defaults(role):
            assert isinstance(value, TYPES[option['type']]), name
        assert validate(role, {name: value} if name in defaults(role) else {}) == [], name


def _nested(role, *path):
    options = spec(role)
    for name in path:
        options = options[name]['options']
    return set(options)


def test_each_nested_option_is_one_the_planner_reads():
    assert _nested('ipsec_site', 'ipsec_site_tunnels') == set(ipsec_plan.TUNNEL_OPTIONS)
    assert _nested('ipsec_site', 'ipsec_site_tunnels', 'children') == set(ipsec_plan.CHILD_OPTIONS)
    assert _nested('vpn_firewall', 'vpn_firewall_policies') == set(policy.POLICY_KEYS)
    assert _nested('nebula_mesh', 'nebula_mesh_policies') == set(policy.POLICY_KEYS)
    assert _nested('vpn_firewall', 'vpn_firewall_extra_rules') == set(RULE_KEYS)


def test_the_scenarios_tunnels_pass_and_an_unknown_key_is_refused_naming_the_variable():
    tunnels = _yaml('extensions', 'molecule', 'ipsec_site', 'inventory', 'group_vars', 'all.yml')['ipsec_site_tunnels']
    assert validate('ipsec_site', {'ipsec_site_tunnels': tunnels}) == []
    errors = validate('ipsec_site', {'ipsec_site_tunnels': [dict(tunnels[0], hw_offload=True)]})
    assert errors and errors[0].startswith('ipsec_site_tunnels.hw_offload'), errors
    errors = validate('ipsec_site', {'ipsec_site_tunnels': [dict(tunnels[0], initiator='nobody')]})
    assert 'initiator' in errors[0] and 'nobody' in errors[0], errors


def test_a_psk_is_never_shown_by_the_spec_check():
    assert spec('ipsec_site')['ipsec_site_tunnels']['options']['psk']['no_log'] is True
    tunnel = {'name': 'box', 'left': 'west', 'right_address': '198.51.100.7', 'psk': 'a secret of the appliance',
              'version': 'three', 'auth': 'secret'}
    errors = validate('ipsec_site', {'ipsec_site_tunnels': [tunnel]})
    assert len(errors) == 3 and not any('a secret of the appliance' in error for error in errors), errors


def test_extra_rules_and_policies_of_the_scenario_pass():
    firewall = _yaml('extensions', 'molecule', 'firewall', 'inventory', 'group_vars', 'all.yml')
    assert validate('vpn_firewall', {'vpn_firewall_policies': firewall['vpn_firewall_policies'],
                                     'vpn_firewall_extra_rules': [{'rule': 'tcp dport 9100 accept'},
                                                                  {'protocol': 'udp', 'dport': [53, '5353-5354'],
                                                                   'saddr': '@g_ops_v4', 'action': 'accept'}]}) == []
