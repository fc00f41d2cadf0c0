#!/usr/bin/python
# -*- coding: utf-8 -*-
# Copyright: meshforge.vpn contributors
# GNU General Public License v3.0+ (see https://www.gnu.org/licenses/gpl-3.0.txt)

from __future__ import absolute_import, division, print_function

__metaclass__ = type

DOCUMENTATION = r'''
---
module: wireguard_registry
short_description: Keep on the controller what every mesh member publishes to the others
version_added: 0.3.0
description:
  - The mesh registry. When a member converges, what the other members need to know about it is recorded on the
    controller - its public key, endpoint, listen port, overlay addresses, routed subnets and their metric,
    keepalive - with the time it was last converged.
  - Members outside a run (C(--limit), an AWX slice) or unreachable in it are planned from their entry, never from
    the values of the host that plans. The role C(meshforge.vpn.wireguard_mesh) reads it first and records the
    members that converged last.
  - The file holds public data only, by construction. An entry has exactly the keys listed under RV(members) and each
    value is checked, so no secret can enter it. It is JSON with sorted keys, one value per line, safe to commit.
  - Every change happens under an exclusive lock on C(<path>.lock) and the file is replaced atomically, so parallel
    jobs (AWX slices) lose no update and an interrupted run never leaves a corrupt file.
  - A job whose controller-side files do not survive (AWX) passes the entries Ansible's fact cache kept per host in
    O(cached); for each member the entry converged last wins.
author:
  - meshforge developers (@meshforge)
extends_documentation_fragment:
  - meshforge.vpn.attributes.controller
attributes:
  diff_mode:
    support: full
    description: Shows the mesh's entries before and after when a member's published values change.
options:
  path:
    description:
      - Path of the registry file on the controller. A missing file is an empty registry, created when members are
        recorded.
      - Defaults to C(meshforge_vpn_registry.json) in the inventory's directory (the playbook's when there is none).
    type: path
  mesh:
    description: The mesh, named by its WireGuard interface. One file holds several meshes.
    type: str
    required: true
  state:
    description:
      - V(query) reads the mesh's members. V(present) records the members of O(entries) as converged now.
        V(absent) removes the members of O(names).
    type: str
    choices: [query, present, absent]
    default: query
  entries:
    description:
      - With O(state=present), the members that converged, as a mapping of member to entry. Each entry has the keys
        of RV(members) except C(converged).
    type: dict
    default: {}
  names:
    description: With O(state=absent), the members to remove.
    type: list
    elements: str
    default: []
  cached:
    description:
      - Entries as Ansible's fact cache kept them (the role's C(wireguard_mesh_registered) fact), as a mapping of
        member to entry; null entries are ignored. Merged into what the file holds before anything else happens.
    type: dict
    default: {}
  outside:
    description:
      - With O(state=present), the members that did not run. RV(behind) names those whose configuration is now
        behind the ones that ran.
    type: list
    elements: str
    default: []
notes:
  - O(state=present) reports C(changed) only when a value the other members use changed; the last-converged time is
    updated all the same.
seealso:
  - module: meshforge.vpn.ipam
  - module: meshforge.vpn.wireguard_interface
'''

EXAMPLES = r'''
- name: Read the mesh's registry
  meshforge.vpn.wireguard_registry:
    mesh: wg0
  run_once: true
  register: registry

- name: Record a member that converged, and see who is now behind
  meshforge.vpn.wireguard_registry:
    mesh: wg0
    state: present
    entries:
      h4: {public_key: "{{ h4_public_key }}", endpoint: "198.51.100.4:51820", listen_port: 51820,
           address: 10.88.0.4, address6: null, routed_subnets: [], route_metric: 100,
           routed_subnets_withdrawn: false, persistent_keepalive: 25, ansible_host: 198.51.100.4}
    outside: [h1, h2, h3]
  run_once: true
  register: recorded

- name: Forget a member removed from the mesh
  meshforge.vpn.wireguard_registry:
    mesh: wg0
    state: absent
    names: [h3]
  run_once: true
'''

RETURN = r'''
members:
  description:
    - The mesh's members after the request, as a mapping of member to entry. An entry has C(public_key), C(endpoint), C(listen_port),
      C(address), C(address6), C(routed_subnets), C(route_metric), C(routed_subnets_withdrawn),
      C(persistent_keepalive), C(ansible_host) and C(converged) (UTC, ISO 8601), and nothing else.
  returned: always
  type: dict
recorded:
  description: Members whose published values this request added, changed or removed.
  returned: always
  type: list
  elements: str
behind:
  description:
    - With O(state=present), the members outside the run that are now behind, each with its reasons, when members
      that ran are new or changed a value their peers use (C(new member h4), C(h1 changed listen_port)).
    - Empty when nobody is behind.
  returned: always
  type: dict
cache_behind:
  description:
    - Members whose entry in RV(members) differs from the one O(cached) gives for them, the C(converged) stamp left
      out; the role writes only these to the fact cache.
  returned: always
  type: list
  elements: str
existed:
  description: Whether the file existed before this request. A new file while members already have keys means the
    controller's files are not kept between runs.
  returned: always
  type: bool
path:
  description: Path of the registry file.
  returned: always
  type: str
'''
