# -*- coding: utf-8 -*-
# Copyright: meshforge.vpn contributors
# GNU General Public License v3.0+ (see https://www.gnu.org/licenses/gpl-3.0.txt)
"""Thin filter entry points over the site-to-site IPsec planner and the SA report."""

from __future__ import absolute_import, division, print_function

__metaclass__ = type

from ansible.errors import AnsibleFilterError

from ansible_collections.meshforge.vpn.plugins.plugin_utils.lazy import lazy

validation = lazy('module_utils.validation')
ipsec_plan = lazy('plugin_utils.ipsec_plan')
report = lazy('plugin_utils.report')
status_page = lazy('plugin_utils.status_page')


def _hosts(names, hostvars):
    hosts = {}
    for name in names:
        host = hostvars[name]
        hosts[name] = {'ansible_host': host.get('ansible_host'), 'address': host.get('ipsec_site_address'),
                       'id': host.get('ipsec_site_id'), 'subnets': host.get('ipsec_site_subnets')}
    return hosts


def ipsec_site_plan(tunnels, names, hostvars, settings):
    try:
        plans = ipsec_plan.plan_sites(tunnels, _hosts(names, hostvars), settings)
    except validation.ValidationError as exc:
        raise AnsibleFilterError('meshforge.vpn.ipsec_site: %s' % exc)
    return {'hosts': plans, 'needs_psk_secret': ipsec_plan.needs_psk_secret(plans)}


def ipsec_site_problem(tunnels, names, hostvars, settings):
    """The first problem of the tunnels, ``<variable>: <problem>``, or an empty string (for one ``fail`` task)."""
    try:
        ipsec_plan.plan_sites(tunnels, _hosts(names, hostvars), settings)
        ipsec_plan.check_removal(tunnels, settings.get('remove') or [], names)
    except validation.ValidationError as exc:
        return str(exc)
    return ''


def ipsec_site_psk(connection, secret, tunnels):
    try:
        return ipsec_plan.site_psk(connection, secret, tunnels)
    except validation.ValidationError as exc:
        raise AnsibleFilterError('meshforge.vpn.ipsec_site: %s' % exc)


def ipsec_status_table(info_by_host, tunnels=None):
    return report.ipsec_table(info_by_host, report.tunnel_names(tunnels))


def ipsec_status_report(info_by_host, tunnels=None):
    return report.ipsec_status(info_by_host, report.tunnel_names(tunnels))


def ipsec_status_html(info_by_host, read_at='', tunnels=None):
    return status_page.render_ipsec(info_by_host, read_at, expected=report.tunnel_names(tunnels))


class FilterModule(object):
    def filters(self):
        return {
            'ipsec_site_plan': ipsec_site_plan,
            'ipsec_site_problem': ipsec_site_problem,
            'ipsec_site_psk': ipsec_site_psk,
            'ipsec_status_table': ipsec_status_table,
            'ipsec_status_report': ipsec_status_report,
            'ipsec_status_html': ipsec_status_html,
        }
