# -*- coding: utf-8 -*-
# Copyright: meshforge.vpn contributors
# GNU General Public License v3.0+ (see https://www.gnu.org/licenses/gpl-3.0.txt)
"""Thin filter entry point over the controller-side policy compiler."""

from __future__ import absolute_import, division, print_function

__metaclass__ = type

from ansible.errors import AnsibleFilterError

from ansible_collections.meshforge.vpn.plugins.module_utils.validation import ValidationError
from ansible_collections.meshforge.vpn.plugins.plugin_utils import policy


# Fields named after a settings key; a role passes its variable prefix so that an error names its variable.
SETTINGS_FIELDS = ('interface', 'interface_kind', 'table', 'groups', 'policies', 'routed_subnets', 'extra_rules',
                   'addresses')


def firewall_plan(members, settings, groups=None, addresses=None, variable_prefix=''):
    try:
        return policy.compile_policy(list(members), dict(settings or {}), dict(groups or {}), dict(addresses or {}))
    except ValidationError as exc:
        head = str(exc.field).split('[', 1)[0].split('.', 1)[0]
        prefix = variable_prefix if head in SETTINGS_FIELDS else ''
        raise AnsibleFilterError('meshforge.vpn.firewall_plan: %s%s' % (prefix, exc))


class FilterModule(object):
    def filters(self):
        return {'firewall_plan': firewall_plan}
