#!/usr/bin/python
# -*- coding: utf-8 -*-
# Copyright: meshforge.vpn contributors
# GNU General Public License v3.0+ (see https://www.gnu.org/licenses/gpl-3.0.txt)

from __future__ import absolute_import, division, print_function

__metaclass__ = type

DOCUMENTATION = r'''
---
module: ipam_record
short_description: Read or keep a host's own record of the overlay addresses it holds (a local fact)
version_added: 0.2.0
description:
  - The host-anchored half of the address manager M(meshforge.vpn.ipam). Each host records the address it holds
    in each pool, as C({pool:address}) JSON in an Ansible local fact file.
  - A controller that has lost the ledger file, such as an AWX job in a fresh container, reads the records of
    all hosts and passes them to M(meshforge.vpn.ipam) in O(meshforge.vpn.ipam#module:records). That rebuilds
    the same ledger, and no address a host holds is ever handed to another.
  - Without O(records), the module only reads. O(records) merges the given pools into the file and keeps
    the other pools' records, so several networks (WireGuard, IPsec) share one file.
  - The record holds no secret. The file is mode 0644, like other local facts, and C(setup) shows it as
    C(ansible_local.meshforge_vpn_ipam).
author:
  - meshforge developers (@meshforge)
attributes:
  check_mode:
    support: full
    description: Reports what the file would become and writes nothing.
  diff_mode:
    support: full
    description: Shows the record before and after.
  platform:
    platforms: posix
    support: full
    description: Any host with Python; the file is an Ansible local fact.
options:
  path:
    description:
      - The record file.
      - An absolute path without V(.), V(..) or empty components; it must not be a symlink, and a symlink
        along the way is followed only when root made it in a directory no other user can change. A refused path creates nothing.
    type: path
    default: /etc/ansible/facts.d/meshforge_vpn_ipam.fact
  records:
    description: The addresses this host holds, as a mapping of pool name to address. Merged into the file.
    type: dict
  state:
    description: V(absent) removes the records of O(pools), or the whole file when O(pools) is not given.
    type: str
    choices: [present, absent]
    default: present
  pools:
    description: With O(state=absent), the pools whose records are removed.
    type: list
    elements: str
seealso:
  - module: meshforge.vpn.ipam
'''

EXAMPLES = r'''
- name: Read what this host says it holds
  meshforge.vpn.ipam_record:
  register: record

- name: Record the addresses the ledger gave this host
  meshforge.vpn.ipam_record:
    records: "{{ overlay.addresses[inventory_hostname] }}"
  when: record.records != overlay.addresses[inventory_hostname]
'''

RETURN = r'''
records:
  description: The record after the call, as C({pool:address}).
  returned: always
  type: dict
  sample: {wg0: 10.88.0.23, wg0_v6: "fd88::7c1:2b0e:91a4:5d3f"}
previous:
  description: The record before the call.
  returned: always
  type: dict
path:
  description: The record file.
  returned: always
  type: str
'''

from ansible.module_utils.basic import AnsibleModule

from ansible_collections.meshforge.vpn.plugins.module_utils import local_facts
from ansible_collections.meshforge.vpn.plugins.module_utils.common import run_module


def main():
    module = AnsibleModule(
        argument_spec=dict(
            path=dict(type='path', default='/etc/ansible/facts.d/meshforge_vpn_ipam.fact'),
            records=dict(type='dict'),
            state=dict(type='str', choices=['present', 'absent'], default='present'),
            pools=dict(type='list', elements='str'),
        ),
        supports_check_mode=True,
    )
    run_module(module, local_facts.manage, untouched='the record')


if __name__ == '__main__':
    main()
