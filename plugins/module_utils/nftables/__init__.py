# -*- coding: utf-8 -*-
# Copyright: meshforge.vpn contributors
# GNU General Public License v3.0+ (see https://www.gnu.org/licenses/gpl-3.0.txt)
"""nftables, split by concern: elements, rules, table (normalise), render, live (``nft -j``), compare, lockout, host,
resource (nft_table and nft_set on the engine).

The names below are the ones code outside this package imports from ``module_utils.nftables`` (the firewall planner
and its tests, the role spec test; tests/unit/plugins/modules/test_route_module.py patches management_connection
here); they are defined in the submodules named here.
"""

from __future__ import absolute_import, division, print_function

__metaclass__ = type

from ansible_collections.meshforge.vpn.plugins.module_utils.nftables.elements import port_range  # noqa: F401
from ansible_collections.meshforge.vpn.plugins.module_utils.nftables.render import render_table  # noqa: F401
from ansible_collections.meshforge.vpn.plugins.module_utils.nftables.rules import RULE_KEYS  # noqa: F401
from ansible_collections.meshforge.vpn.plugins.module_utils.nftables.table import normalize_table  # noqa: F401
from ansible_collections.meshforge.vpn.plugins.module_utils.routes.safety import management_connection  # noqa: F401
