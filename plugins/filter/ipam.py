# -*- coding: utf-8 -*-
# Copyright: meshforge.vpn contributors
# GNU General Public License v3.0+ (see https://www.gnu.org/licenses/gpl-3.0.txt)
"""Thin filter entry points for the address manager's reports."""

from __future__ import absolute_import, division, print_function

__metaclass__ = type

from ansible_collections.meshforge.vpn.plugins.plugin_utils.lazy import lazy

report = lazy('plugin_utils.report')


def ipam_table(query):
    return report.ipam_table(query)


class FilterModule(object):
    def filters(self):
        return {'ipam_table': ipam_table}
