# -*- coding: utf-8 -*-
# Copyright: meshforge.vpn contributors
# GNU General Public License v3.0+ (see https://www.gnu.org/licenses/gpl-3.0.txt)
"""Thin filter entry point over the controller-side policy compiler."""

from __future__ import absolute_import, division, print_function

__metaclass__ = type

from ansible.errors import AnsibleFilterError

from ansible_collections.meshforge.vpn.plugins.module_utils.validation import ValidationError
from ansible_collections.meshforge.vpn.plugins.plugin_utils import policy


def firewall_plan(members, settings, groups=None, addresses=None):
    try:
        return policy.compile_policy(list(members), dict(settings or {}), dict(groups or {}), dict(addresses or {}))
    except ValidationError as exc:
        raise AnsibleFilterError('meshforge.vpn.firewall_plan: %s' % exc)


class FilterModule(object):
    def filters(self):
        return {'firewall_plan': firewall_plan}
