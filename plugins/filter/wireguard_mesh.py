# -*- coding: utf-8 -*-
# Copyright: meshforge.vpn contributors
# GNU General Public License v3.0+ (see https://www.gnu.org/licenses/gpl-3.0.txt)
"""Thin filter entry points over the controller-side planner."""

from __future__ import absolute_import, division, print_function

__metaclass__ = type

from collections.abc import Mapping

from ansible.errors import AnsibleFilterError

from ansible_collections.meshforge.vpn.plugins.module_utils.validation import ValidationError
from ansible_collections.meshforge.vpn.plugins.plugin_utils import report, topology, underlay

MEMBER_KEYS = ('address', 'address6', 'endpoint', 'listen_port', 'persistent_keepalive', 'routed_subnets',
               'route_metric', 'routed_subnets_withdrawn')


def _member(hostvars, name, fallback, interface):
    """A member's settings: what it published in this run, else what the inventory says of it.

    Either way with the address Ansible reaches it at and the networks its gathered facts show, which no allowed
    IP may capture.
    """
    host = hostvars[name]
    published = host.get('wireguard_mesh__self')
    if published:
        member = dict(published)
    else:
        member = {}
        for key in MEMBER_KEYS:
            value = host.get('wireguard_mesh_' + key)
            member[key] = fallback.get(key) if value is None and key != 'endpoint' else value
    member['ansible_host'] = host.get('ansible_host')
    member['connected'] = underlay.connected_networks(host.get('ansible_facts'), skip=(interface,))
    return member


def _members(names, hostvars, settings):
    fallback = dict(settings.get('defaults') or {})
    interface = settings.get('interface') or 'wg0'
    return dict((name, _member(hostvars, name, fallback, interface)) for name in names)


def wireguard_mesh_plan(names, hostvars, settings, public_keys=None, allocation=None):
    try:
        members = _members(names, hostvars, settings)
        if isinstance(allocation, Mapping) and ('addresses' in allocation or 'skipped' in allocation):
            # the registered result of meshforge.vpn.ipam (skipped when the mesh does not use it)
            allocation = allocation.get('addresses')
        topology.apply_allocation(members, settings, allocation)
        for name in names:
            key = (public_keys or {}).get(name)
            if isinstance(key, Mapping):
                # a registered wireguard_key result; a skipped or failed one has no key
                key = key.get('public_key')
            if key:
                members[name]['public_key'] = key
        return topology.plan_mesh(members, settings)
    except ValidationError as exc:
        raise AnsibleFilterError('meshforge.vpn.wireguard_mesh: %s' % exc)


def wireguard_mesh_ipam_request(names, hostvars, settings, release=None):
    try:
        return topology.ipam_request(_members(names, hostvars, settings), settings, release or [])
    except ValidationError as exc:
        raise AnsibleFilterError('meshforge.vpn.wireguard_mesh: %s' % exc)


def wireguard_mesh_problem(names, hostvars, settings, release=None, rotate_keys=None):
    """The first problem of the mesh description, ``<variable>: <problem>``, or an empty string.

    The role fails with it in one ``fail`` task, so that the message starts with the variable instead of the text
    Ansible wraps around an error raised while templating.
    """
    try:
        members = _members(names, hostvars, settings)
        topology.check_mesh(members, settings, release or [], rotate_keys or [])
    except ValidationError as exc:
        return str(exc)
    return ''


def wireguard_mesh_ipam_problem(result, settings):
    """The failure of the registered meshforge.vpn.ipam result, naming the role's variable; empty if it succeeded."""
    # registered with failed_when: false, so a failure is a result without addresses
    if not isinstance(result, Mapping) or result.get('skipped') or 'addresses' in result:
        return ''
    return topology.ipam_problem(str(result.get('msg') or 'the address manager failed'), settings)


def wireguard_mesh_psk(peers, secret, interface, name):
    try:
        return topology.add_preshared_keys(peers, secret, interface, name)
    except ValidationError as exc:
        raise AnsibleFilterError('meshforge.vpn.wireguard_mesh: %s' % exc)


def wireguard_status_table(results_by_host):
    return report.wireguard_table(results_by_host)


def wireguard_status_report(results_by_host):
    return report.wireguard_status(results_by_host)


class FilterModule(object):
    def filters(self):
        return {
            'wireguard_mesh_plan': wireguard_mesh_plan,
            'wireguard_mesh_ipam_request': wireguard_mesh_ipam_request,
            'wireguard_mesh_problem': wireguard_mesh_problem,
            'wireguard_mesh_ipam_problem': wireguard_mesh_ipam_problem,
            'wireguard_mesh_psk': wireguard_mesh_psk,
            'wireguard_status_table': wireguard_status_table,
            'wireguard_status_report': wireguard_status_report,
        }
