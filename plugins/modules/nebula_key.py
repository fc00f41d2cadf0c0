#!/usr/bin/python
# -*- coding: utf-8 -*-
# Copyright: meshforge.vpn contributors
# GNU General Public License v3.0+ (see https://www.gnu.org/licenses/gpl-3.0.txt)

from __future__ import absolute_import, division, print_function

__metaclass__ = type

DOCUMENTATION = r'''
---
module: nebula_key
short_description: Make sure a Nebula host key pair exists on the host, and return its public key
version_added: 0.3.0
description:
  - Generates the Nebula X25519 key pair on the host that uses it (C(nebula-cert keygen), in a private temporary
    directory), writes the private key with mode 0600 and the public key beside it with mode 0644.
  - The private key never leaves the host and is never returned; the public key is, so that the controller signs
    the host's certificate from it without ever holding the host's private key.
  - An existing pair is kept, so a re-run changes nothing. O(rotate=true) replaces it.
attributes:
  platform:
    platforms: linux
    support: full
    description: Needs C(nebula-cert) from the nebula package.
options:
  path:
    description:
      - The private key file, written with mode 0600. Absolute, with no V(.), V(..) or empty component, not a
        symlink itself; a symlinked directory on the way is accepted only when root owns it in a directory
        that no other user can write.
    type: path
    default: /etc/nebula/host.key
  public_key_path:
    description:
      - Path of the public key file, by default O(path) followed by V(.pub). The same rules as O(path).
      - A private key without its public key file is refused (C(nebula-cert) cannot derive it); O(rotate=true)
        makes a new pair.
    type: path
  state:
    description:
      - V(absent) removes both files, only when each holds exactly one Nebula X25519 key of its kind;
        any other file (a configuration, a certificate, a corrupt key) is refused and left as it is.
    type: str
    choices: [present, absent]
    default: present
  rotate:
    description: Replace an existing pair with a new one (reports changed).
    type: bool
    default: false
  check_tools:
    description:
      - Also require what M(meshforge.vpn.nebula_config) needs on the host (C(nebula), C(ssh-keygen), PyYAML),
        and C(nebula-cert) in check mode too, so that the first module of a run reports RV(missing_tools) and a
        role installs the packages only on the hosts that lack them, before anything is changed.
      - With O(check_tools=false) check mode predicts a new key without C(nebula-cert).
    type: bool
    default: false
extends_documentation_fragment:
  - meshforge.vpn.attributes.KEY
  - meshforge.vpn.audit
seealso:
  - module: meshforge.vpn.wireguard_key
author:
  - meshforge developers (@meshforge)
'''

EXAMPLES = r'''
- name: Generate the host key pair of the network mesh on the host
  meshforge.vpn.nebula_key:
    path: /etc/nebula/mesh.key
    public_key_path: /etc/nebula/mesh.pub
  register: nebula_host_key

- name: Keep the public key on the controller, where the certificate is signed (the CA key stays there)
  ansible.builtin.copy:
    content: "{{ nebula_host_key.public_key }}"
    dest: "{{ inventory_dir }}/nebula-ca/{{ inventory_hostname }}.pub"
    mode: "0644"
  delegate_to: localhost
  when: nebula_host_key.public_key is not none

- name: Remove the pair (only files that hold Nebula keys are removed)
  meshforge.vpn.nebula_key:
    path: /etc/nebula/mesh.key
    public_key_path: /etc/nebula/mesh.pub
    state: absent
'''

RETURN = r'''
path:
  description: Where the private key is (mode 0600).
  type: str
  returned: always
public_key_path:
  description: Where the public key is (mode 0644).
  type: str
  returned: always
public_key:
  description: The public key in PEM. None in check mode when the pair does not exist yet, and with O(state=absent).
  returned: always
  type: str
  sample: "-----BEGIN NEBULA X25519 PUBLIC KEY-----\nZRbE0r+m2xrDvGRooK1WZ2ssahHcmkfqxL65MZ9oIxM=\n-----END NEBULA X25519 PUBLIC KEY-----\n"
rotated:
  description: Whether O(rotate) replaced an existing pair.
  returned: always
  type: bool
audit:
  description:
    - One record per change (C(resource), C(object), C(change), C(detail)), also in check mode; never a key.
  returned: always
  type: list
  elements: dict
  sample: [{resource: nebula_key, object: /etc/nebula/host.key, change: key created, detail: ""}]
persisted:
  description: Always false; the two key files are the resource, so C(changed) tells when they were written or removed.
  returned: always
  type: bool
missing_tools:
  description:
    - Set on failure when C(nebula-cert) (package nebula) is not installed, or with O(check_tools) when a tool of
      M(meshforge.vpn.nebula_config) is missing; the message names it. A role installs them and retries.
  returned: failure
  type: bool
'''

from ansible.module_utils.basic import AnsibleModule

from ansible_collections.meshforge.vpn.plugins.module_utils import audit
from ansible_collections.meshforge.vpn.plugins.module_utils.common import run_module
from ansible_collections.meshforge.vpn.plugins.module_utils.nebula.key import manage_key

ARGUMENTS = dict(
    audit.argument_spec(),
    path=dict(type='path', default='/etc/nebula/host.key'),
    public_key_path=dict(type='path'),
    rotate=dict(type='bool', default=False),
    check_tools=dict(type='bool', default=False),
    state=dict(type='str', choices=['present', 'absent'], default='present'),
)


def main():
    run_module(AnsibleModule(argument_spec=ARGUMENTS, supports_check_mode=True), manage_key, untouched='the files')


if __name__ == '__main__':
    main()
