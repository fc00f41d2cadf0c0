# -*- coding: utf-8 -*-
# Copyright: meshforge.vpn contributors
# GNU General Public License v3.0+ (see https://www.gnu.org/licenses/gpl-3.0.txt)
"""Thin filter entry points over the overlay's names (plugin_utils/dns.py), for the role mesh_dns."""

from __future__ import absolute_import, division, print_function

__metaclass__ = type

import os

from ansible.errors import AnsibleFilterError

from ansible_collections.meshforge.vpn.plugins.plugin_utils.lazy import lazy

v = lazy('module_utils.validation')
dns = lazy('plugin_utils.dns')
ipam_ledger = lazy('plugin_utils.ipam.ledger')
ipam_storage = lazy('plugin_utils.ipam.storage')


def _plan(members, settings, addresses, groups, variable_prefix):
    settings = dict(settings or {})
    if settings.get('ipam_ledger'):
        # check mode before the mesh's first run: no ledger yet, so no address to name; every member is pending
        if settings.get('check_mode') and not addresses and not os.path.exists(settings['ipam_ledger']):
            dns.domain(variable_prefix + 'domain', settings.get('domain'))
            return {'hosts': '', 'records': 0, 'members': {}, 'pending': settings['ipam_ledger']}
        # every host of the mesh's network in the ledger, clients included
        try:
            ledger = ipam_storage.load(settings['ipam_ledger'], missing_ok=bool(addresses))
        except v.ValidationError as exc:
            raise v.ValidationError(variable_prefix + 'ipam_ledger', str(exc))
        network = v.name(variable_prefix + 'ipam_network', settings.get('ipam_network') or 'wg0')
        settings['ledger'] = ipam_ledger.network_addresses(ledger, network)
    return dns.plan(list(members or []), settings, dict(addresses or {}), dict(groups or {}), variable_prefix)


def mesh_dns_plan(members, settings, addresses=None, groups=None, variable_prefix='mesh_dns_'):
    try:
        return _plan(members, settings, addresses, groups, variable_prefix)
    except v.ValidationError as exc:
        raise AnsibleFilterError('meshforge.vpn.mesh_dns_plan: %s' % exc)


def mesh_dns_problem(members, settings, addresses=None, groups=None, variable_prefix='mesh_dns_'):
    """The first problem, ``<variable>: <problem>``, or an empty string (for one ``fail`` task)."""
    try:
        _plan(members, settings, addresses, groups, variable_prefix)
    except v.ValidationError as exc:
        return str(exc)
    return ''


def mesh_dns_view(getent_output, hosts):
    """A member's view of the names (``getent ahosts`` output) against the records (the plan's hosts text)."""
    return dns.view(getent_output, hosts)


class FilterModule(object):
    def filters(self):
        return {'mesh_dns_plan': mesh_dns_plan, 'mesh_dns_problem': mesh_dns_problem, 'mesh_dns_view': mesh_dns_view}
