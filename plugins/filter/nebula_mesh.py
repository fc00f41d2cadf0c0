# -*- coding: utf-8 -*-
# Copyright: meshforge.vpn contributors
# GNU General Public License v3.0+ (see https://www.gnu.org/licenses/gpl-3.0.txt)
"""The filter entry point of the Nebula planner (plugin_utils.nebula_plan)."""

from __future__ import absolute_import, division, print_function

__metaclass__ = type

from collections.abc import Mapping

from ansible_collections.meshforge.vpn.plugins.module_utils.validation import ValidationError
from ansible_collections.meshforge.vpn.plugins.plugin_utils import nebula_plan

MEMBER_KEYS = ('address', 'endpoint', 'listen_port', 'groups')


def nebula_mesh_plan(names, hostvars, settings, allocation=None):
    """``{'problem', 'network', 'pools', 'pins', 'release', 'reenroll', 'plans'}``: the first problem (naming the
    role's variable, empty when none), the address manager's request (``release``: the hosts leaving the network),
    ``reenroll`` (the members getting a new key pair), and with ``allocation`` (the registered ipam result) every
    member's plan."""
    members = {}
    for name in names or []:
        published = hostvars[name].get('nebula_mesh__self') or {}
        members[name] = dict((key, published.get(key)) for key in MEMBER_KEYS)
    result = {'problem': '', 'network': None, 'pools': {}, 'pins': {}, 'release': [], 'reenroll': [], 'plans': {}}
    try:
        result.update(nebula_plan.ipam_request(members, settings))
        if allocation is not None:
            if isinstance(allocation, Mapping) and 'addresses' in allocation:
                allocation = allocation['addresses']
            result['plans'] = nebula_plan.plan(members, settings, allocation)
    except ValidationError as exc:
        result['problem'] = str(exc)
    return result


class FilterModule(object):
    def filters(self):
        return {'nebula_mesh_plan': nebula_mesh_plan}
