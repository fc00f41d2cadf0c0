# -*- coding: utf-8 -*-
# Copyright: meshforge.vpn contributors
# GNU General Public License v3.0+ (see https://www.gnu.org/licenses/gpl-3.0.txt)

from __future__ import absolute_import, division, print_function

__metaclass__ = type

DOCUMENTATION = r'''
---
name: ipam_ledger
version_added: 0.3.0
short_description: Where the address ledger is kept when no path is given
description:
  - Returns the path of the address ledger that M(meshforge.vpn.ipam) uses when its O(meshforge.vpn.ipam#module:ledger)
    is not given - C(meshforge_vpn_ipam.json) in the inventory's directory, else in the playbook's directory.
  - The roles meshforge.vpn.wireguard_mesh and meshforge.vpn.vpn_firewall take their default ledger path from it, so
    the file's name is written in one place.
options: {}
author:
  - meshforge developers (@meshforge)
'''

EXAMPLES = r'''
- name: Show where the ledger is
  ansible.builtin.debug:
    msg: "{{ lookup('meshforge.vpn.ipam_ledger') }}"
'''

RETURN = r'''
_raw:
  description: The path of the ledger file, one element.
  type: list
  elements: str
'''

from ansible.plugins.lookup import LookupBase

from ansible_collections.meshforge.vpn.plugins.plugin_utils.ipam import storage


class LookupModule(LookupBase):
    def run(self, terms, variables=None, **kwargs):
        return [storage.default_path(variables or {})]
