# -*- coding: utf-8 -*-
# Copyright: meshforge.vpn contributors
# GNU General Public License v3.0+ (see https://www.gnu.org/licenses/gpl-3.0.txt)
"""The WireGuard driver, split by concern (schema, live, steps, wgquick, service, host, interface, key, info)."""

from __future__ import absolute_import, division, print_function

__metaclass__ = type

# plugin_utils/topology.py still imports the MTU limits from here; they live in .schema (to go once it imports them there)
from ansible_collections.meshforge.vpn.plugins.module_utils.wireguard.schema import MAX_MTU, MIN_MTU  # noqa: F401 pylint: disable=unused-import
