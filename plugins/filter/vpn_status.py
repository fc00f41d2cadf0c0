# -*- coding: utf-8 -*-
# Copyright: meshforge.vpn contributors
# GNU General Public License v3.0+ (see https://www.gnu.org/licenses/gpl-3.0.txt)
"""Thin filter entry points over the report of the whole VPN (the meshforge.vpn.status playbook)."""

from __future__ import absolute_import, division, print_function

__metaclass__ = type

from ansible.errors import AnsibleFilterError

from ansible_collections.meshforge.vpn.plugins.plugin_utils.lazy import lazy

report = lazy('plugin_utils.report')
status_page = lazy('plugin_utils.status_page')


def _warn_days(value):
    """``cert_warn_days`` (the playbook's vpn_status_cert_warn_days) as a whole number of days, 0 or more; None is the
    report's default (a default argument of report.CERT_WARN_DAYS would import the report with this file)."""
    if value is None:
        return report.CERT_WARN_DAYS
    try:
        days = int(value)
    except (TypeError, ValueError):
        days = -1
    if isinstance(value, bool) or days < 0 or str(days) != str(value).strip():
        raise AnsibleFilterError('vpn_status_cert_warn_days: %r is not a whole number of days (0 or more)' % (value,))
    return days


def vpn_status_report(wireguard, ipsec=None, tunnels=None, dns=None, nebula=None, nebula_roles=None,
                      cert_warn_days=None):
    return report.vpn_status(wireguard, ipsec, report.tunnel_names(tunnels), dns, nebula, nebula_roles,
                             _warn_days(cert_warn_days))


def vpn_status_table(wireguard, ipsec=None, tunnels=None, dns=None, nebula=None, nebula_roles=None,
                     cert_warn_days=None):
    return report.vpn_table(wireguard, ipsec, report.tunnel_names(tunnels), dns, nebula, nebula_roles,
                            _warn_days(cert_warn_days))


def vpn_status_html(wireguard, ipsec=None, read_at='', tunnels=None, nebula=None, nebula_roles=None,
                    cert_warn_days=None):
    return status_page.render_vpn(wireguard, ipsec, read_at, expected=report.tunnel_names(tunnels), nebula=nebula,
                                  nebula_roles=nebula_roles, cert_warn_days=_warn_days(cert_warn_days))


class FilterModule(object):
    def filters(self):
        return {
            'vpn_status_report': vpn_status_report,
            'vpn_status_table': vpn_status_table,
            'vpn_status_html': vpn_status_html,
        }
