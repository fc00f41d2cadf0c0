# -*- coding: utf-8 -*-
# Copyright: meshforge.vpn contributors
# GNU General Public License v3.0+ (see https://www.gnu.org/licenses/gpl-3.0.txt)
"""Thin filter entry points over the report of the whole VPN (the meshforge.vpn.status playbook)."""

from __future__ import absolute_import, division, print_function

__metaclass__ = type

from ansible_collections.meshforge.vpn.plugins.plugin_utils import report, status_page


def vpn_status_report(wireguard, ipsec=None, tunnels=None, dns=None):
    return report.vpn_status(wireguard, ipsec, report.tunnel_names(tunnels), dns)


def vpn_status_table(wireguard, ipsec=None, tunnels=None, dns=None):
    return report.vpn_table(wireguard, ipsec, report.tunnel_names(tunnels), dns)


def vpn_status_html(wireguard, ipsec=None, read_at='', tunnels=None):
    return status_page.render_vpn(wireguard, ipsec, read_at, expected=report.tunnel_names(tunnels))


class FilterModule(object):
    def filters(self):
        return {
            'vpn_status_report': vpn_status_report,
            'vpn_status_table': vpn_status_table,
            'vpn_status_html': vpn_status_html,
        }
