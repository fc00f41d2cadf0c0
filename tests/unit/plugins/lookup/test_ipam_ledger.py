# -*- coding: utf-8 -*-
# Copyright: meshforge.vpn contributors
# GNU General Public License v3.0+ (see https://www.gnu.org/licenses/gpl-3.0.txt)
"""The lookup the roles' default ledger path comes from is the ipam action's own default."""

from __future__ import absolute_import, division, print_function

__metaclass__ = type

from ansible_collections.meshforge.vpn.plugins.lookup.ipam_ledger import LookupModule
from ansible_collections.meshforge.vpn.plugins.plugin_utils.ipam.storage import default_path


def test_the_roles_default_is_the_actions_default():
    for variables in ({'inventory_dir': '/srv/inventory', 'playbook_dir': '/srv/play'}, {'playbook_dir': '/srv/play'}):
        assert LookupModule().run([], variables) == [default_path(variables)]
    assert LookupModule().run([], {'inventory_dir': '/srv/inventory'}) == ['/srv/inventory/meshforge_vpn_ipam.json']
