#!/usr/bin/python
# -*- coding: utf-8 -*-
# Copyright: meshforge.vpn contributors
# GNU General Public License v3.0+ (see https://www.gnu.org/licenses/gpl-3.0.txt)

from __future__ import absolute_import, division, print_function

__metaclass__ = type

DOCUMENTATION = r'''
---
module: nft_set
short_description: Add and remove the elements of one named nftables set, element by element
version_added: 0.2.0
description:
  - Reads the set live with C(nft -j list set), compares its elements with O(elements) and adds or deletes only the
    elements that differ, in one C(nft -f) transaction. Nothing else is reloaded or flushed; rules, other sets and
    other tables are not touched.
  - The set must exist (M(meshforge.vpn.nft_table) defines sets); its type and flags decide which elements are valid.
  - Elements are compared in the canonical form C(nft -j) lists them in, so V(10.0.3.0-10.0.3.255) and V(10.0.3.0/24)
    are the same element, and V(10.0.0.1/32) is V(10.0.0.1).
author:
  - meshforge developers (@meshforge)
attributes:
  check_mode:
    support: full
    description: Predicts exactly the C(changed) a real run reports; the change is validated with C(nft --check).
  diff_mode:
    support: full
    description: The elements, one a line, before and after.
  platform:
    platforms: linux
    support: full
    description: Linux with C(nft) (nftables 0.9 or later, JSON support).
extends_documentation_fragment:
  - meshforge.vpn.audit
  - meshforge.vpn.nftables
options:
  table:
    description: Name of the table that holds the set.
    type: str
    required: true
  name:
    description: Name of the set.
    type: str
    required: true
  elements:
    description:
      - Elements, in the set's type. Addresses (V(10.0.0.1), V(fd10::1)); with C(flags interval) also prefixes
        (V(10.0.1.0/24)) and ranges (V(10.0.2.1-10.0.2.9)); ports (V(22), V(8000-8080) with C(flags interval));
        MAC addresses; interface names; marks.
      - A concatenation (C(type ipv4_addr . inet_service)) is written V(10.0.0.1 . 22) or as a list V([10.0.0.1, 22]).
    type: list
    elements: raw
    default: []
  state:
    description: V(present) adds the listed elements, V(absent) removes them.
    type: str
    choices: [present, absent]
    default: present
  purge:
    description:
      - With O(state=present), remove every element that is not listed, so the set holds exactly O(elements).
      - The old name O(exclusive) is kept as an alias.
    type: bool
    default: false
    aliases: [exclusive]
notes:
  - Sets with the C(auto-merge) flag merge adjacent elements, so their listed elements drift from what was given; list merged elements.
seealso:
  - module: meshforge.vpn.nft_table
'''

EXAMPLES = r'''
- name: Put two peers in the allowed set
  meshforge.vpn.nft_set:
    table: meshforge
    name: web_v4
    elements: [10.10.0.2, 10.10.1.0/24]

- name: The set holds exactly these address and port pairs
  meshforge.vpn.nft_set:
    table: meshforge
    name: services
    elements:
      - 10.10.0.2 . 5432
      - [10.10.0.3, 22]
    purge: true

- name: Take one element out
  meshforge.vpn.nft_set:
    table: meshforge
    name: web_v4
    elements: [10.10.0.2]
    state: absent
'''

RETURN = r'''
audit:
  description:
    - What the run changed (or in check mode would change), as an auditor reads it, one record per change with
      C(resource), C(object), C(change) and C(detail); files written or removed included. Never a secret.
  returned: always
  type: list
  elements: dict
  sample: [{resource: nft_set, object: inet meshforge ops, change: element added, detail: 10.88.0.7}]
added:
  description: Elements that were (or would be) added, in canonical form.
  returned: always
  type: list
  elements: str
  sample: ["10.10.0.2", "10.10.1.0/24"]
removed:
  description: Elements that were (or would be) removed.
  returned: always
  type: list
  elements: str
elements:
  description: All elements of the set after the change.
  returned: always
  type: list
  elements: str
set_type:
  description: The set's type, e.g. C(ipv4_addr) or C(ipv4_addr . inet_service).
  returned: always
  type: str
persisted:
  description: Always V(false); nft_set keeps no file (the table's boot file is the O(meshforge.vpn.nft_table#module:path) of nft_table).
  returned: always
  type: bool
'''

from ansible.module_utils.basic import AnsibleModule

from ansible_collections.meshforge.vpn.plugins.module_utils import audit
from ansible_collections.meshforge.vpn.plugins.module_utils.nftables.resource import manage_set
from ansible_collections.meshforge.vpn.plugins.module_utils.common import run_module


def main():
    module = AnsibleModule(
        argument_spec=dict(
            family=dict(type='str', choices=['inet', 'ip', 'ip6', 'arp', 'bridge', 'netdev'], default='inet'),
            table=dict(type='str', required=True),
            name=dict(type='str', required=True),
            elements=dict(type='list', elements='raw', default=[]),
            state=dict(type='str', choices=['present', 'absent'], default='present'),
            purge=dict(type='bool', default=False, aliases=['exclusive']),
            **audit.argument_spec()
        ),
        supports_check_mode=True,
    )
    run_module(module, manage_set)


if __name__ == '__main__':
    main()
