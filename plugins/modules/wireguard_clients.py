#!/usr/bin/python
# -*- coding: utf-8 -*-
# Copyright: meshforge.vpn contributors
# GNU General Public License v3.0+ (see https://www.gnu.org/licenses/gpl-3.0.txt)

from __future__ import absolute_import, division, print_function

__metaclass__ = type

DOCUMENTATION = r'''
---
module: wireguard_clients
short_description: Key pairs and wg-quick files with QR codes for road-warrior clients of a mesh
version_added: 0.3.0
description:
  - Devices no playbook manages (laptops, phones) join a mesh as clients of a gateway member. This action works on
    the controller only; the role C(meshforge.vpn.wireguard_mesh) runs it for C(wireguard_mesh_clients).
  - With O(state=keys) it returns the public key of every client whose key pair the controller holds
    (C(generate_key)), making a missing pair once. The private key is a 0600 file in O(keys_dir) and is never
    returned, printed or made again.
  - With O(state=present) it writes each client's wg-quick file, C(<name>.conf), with a QR code of it as
    C(<name>.png) and as text for a terminal, C(<name>.txt), all 0600 in O(output_dir). They are written only when
    the file's text changes. A client whose device holds its key gets a file that names the missing private key.
    The files and the key of a client with C(state=absent) are removed.
author:
  - meshforge developers (@meshforge)
extends_documentation_fragment:
  - meshforge.vpn.attributes.controller
attributes:
  diff_mode:
    support: partial
    description: Names the clients whose files are written or removed; never the files' text, which holds keys.
options:
  state:
    description:
      - V(keys) makes the missing key pairs and returns the public keys; V(present) writes and removes the files.
    type: str
    choices: [keys, present]
    default: present
  clients:
    description:
      - C(wireguard_mesh_clients), checked as the role checks it. Each client has C(name), C(gateway) and either
        C(public_key) or C(generate_key).
    type: list
    elements: raw
    default: []
  members:
    description: The mesh's members (a client's gateway must be one, and no client may share a member's name).
    type: list
    elements: str
    required: true
  plans:
    description:
      - With O(state=present), the plans of the members (the role's planner output); each gateway's plan lists its
        clients with the gateway's public key, endpoint and the allowed IPs of the client's file.
    type: dict
    default: {}
  interface:
    description: The mesh's interface, which the pair's preshared key derives from.
    type: str
    default: wg0
  psk_secret:
    description: The mesh's preshared key secret; omitted, the files carry no preshared key.
    type: str
  keys_dir:
    description: The directory of the key pairs the controller holds (0700).
    type: path
    required: true
  output_dir:
    description: The directory of the clients' files (0700).
    type: path
    required: true
  default_dns:
    description:
      - The C(DNS =) line of clients that name no C(dns) of their own - nameserver addresses and search domains, as
        wg-quick takes them (for example the mesh's resolvers and its domain, see the meshforge.vpn.mesh_dns role).
    type: list
    elements: str
    default: []
requirements:
  - cryptography (X25519 key pairs)
  - segno (QR codes)
seealso:
  - module: meshforge.vpn.wireguard_interface
'''

EXAMPLES = r'''
- name: Make the key pairs asked for and read their public keys
  meshforge.vpn.wireguard_clients:
    state: keys
    clients: "{{ wireguard_mesh_clients }}"
    members: "{{ groups['wireguard_mesh'] }}"
    keys_dir: "{{ inventory_dir }}/credentials/wireguard_clients"
    output_dir: "{{ inventory_dir }}/wireguard-clients"
  run_once: true
  register: client_keys
'''

RETURN = r'''
public_keys:
  description: With O(state=keys), the public key of each client whose key pair the controller holds.
  returned: success
  type: dict
generated:
  description: With O(state=keys), the clients whose key pair was made (or, in check mode, would be).
  returned: success
  type: list
  elements: str
written:
  description: With O(state=present), the clients whose files were written (or would be).
  returned: success
  type: list
  elements: str
removed:
  description: With O(state=present), the clients whose files and key were removed (or would be).
  returned: success
  type: list
  elements: str
output_dir:
  description: With O(state=present), the directory of the files.
  returned: success
  type: str
'''
