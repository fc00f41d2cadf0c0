#!/usr/bin/python
# -*- coding: utf-8 -*-
# Copyright: meshforge.vpn contributors
# GNU General Public License v3.0+ (see https://www.gnu.org/licenses/gpl-3.0.txt)

from __future__ import absolute_import, division, print_function

__metaclass__ = type

DOCUMENTATION = r'''
---
module: wireguard_key
short_description: Make sure a WireGuard private key exists on the host, and return its public key
version_added: 0.1.0
description:
  - Generates the private key on the host that uses it (C(wg genkey)) and writes it with mode 0600.
    The private key never leaves the host and is never returned; only the public key is.
  - An existing key is kept, so a re-run changes nothing. O(rotate=true) replaces it.
author:
  - meshforge developers (@meshforge)
attributes:
  platform:
    platforms: linux
    support: full
    description: Needs C(wg) from wireguard-tools.
extends_documentation_fragment:
  - meshforge.vpn.attributes.KEY
  - meshforge.vpn.audit
options:
  path:
    description:
      - Path of the private key file.
      - An absolute path without V(.), V(..) or empty components; it must not be a symlink, and a symlink
        along the way is followed only when root made it in a directory no other user can change.
    type: path
    default: /etc/wireguard/wg0.key
  state:
    description:
      - V(absent) removes the key file, only when it holds exactly one WireGuard key (one line, base64 of 32 bytes);
        any other file at O(path) (a wg-quick configuration, a corrupt key) is refused and left as it is.
    type: str
    choices: [present, absent]
    default: present
  rotate:
    description: Replace an existing key with a new one (reports changed).
    type: bool
    default: false
seealso:
  - module: meshforge.vpn.wireguard_interface
'''

EXAMPLES = r'''
- name: Make sure wg0 has a key
  meshforge.vpn.wireguard_key:
    path: /etc/wireguard/wg0.key
  register: wg0_key

- name: Show the public key
  ansible.builtin.debug:
    msg: "{{ wg0_key.public_key }}"

- name: Rotate the key
  meshforge.vpn.wireguard_key:
    path: /etc/wireguard/wg0.key
    rotate: true
'''

RETURN = r'''
audit:
  description:
    - What the run changed (or in check mode would change), as an auditor reads it, one record per change with
      C(resource), C(object), C(change) and C(detail). Never a key; a rotation names the old public key's fingerprint.
  returned: always
  type: list
  elements: dict
  sample: [{resource: wireguard_key, object: /etc/wireguard/wg0.key, change: key created, detail: ""}]
public_key:
  description: The public key, base64. None in check mode when the key does not exist yet, and with O(state=absent).
  returned: always
  type: str
  sample: xTIBA5rboUvnH4htodjb6e697QjLERt1NAB4mZqp8Dg=
path:
  description: Path of the private key file.
  returned: always
  type: str
rotated:
  description: Whether an existing key was replaced.
  returned: always
  type: bool
persisted:
  description: Always false. The key file is the resource itself, so C(changed) says when it was written or removed.
  returned: always
  type: bool
missing_tools:
  description: True when the module failed because C(wg) is not installed, so a role can install it and try again.
  returned: failure
  type: bool
'''

from ansible.module_utils.basic import AnsibleModule

from ansible_collections.meshforge.vpn.plugins.module_utils import audit
from ansible_collections.meshforge.vpn.plugins.module_utils.common import run_module
from ansible_collections.meshforge.vpn.plugins.module_utils.wireguard.key import manage_key


def main():
    module = AnsibleModule(
        argument_spec=dict(
            path=dict(type='path', default='/etc/wireguard/wg0.key'),
            state=dict(type='str', choices=['present', 'absent'], default='present'),
            rotate=dict(type='bool', default=False),
            **audit.argument_spec()
        ),
        supports_check_mode=True,
    )
    run_module(module, manage_key, untouched='the file')


if __name__ == '__main__':
    main()
