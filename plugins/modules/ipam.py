#!/usr/bin/python
# -*- coding: utf-8 -*-
# Copyright: meshforge.vpn contributors
# GNU General Public License v3.0+ (see https://www.gnu.org/licenses/gpl-3.0.txt)

from __future__ import absolute_import, division, print_function

__metaclass__ = type

DOCUMENTATION = r'''
---
module: ipam
short_description: Allocate, release and look up overlay addresses in a ledger kept on the controller
version_added: 0.2.0
description:
  - The collection's address manager. It runs on the controller (an action plugin) and keeps a ledger
    of named pools and of the address each host holds in each pool.
  - Allocation is stable. A host keeps its address across runs, whatever the inventory order, C(--limit),
    the number of forks, or the hosts added or removed around it.
  - A new host gets the first free address at or after a slot derived from a hash of its name.
    On an empty ledger this gives the same addresses as the stateless choice that
    M(meshforge.vpn.wireguard_interface) users had before.
  - A host that leaves the inventory keeps its address until it is released with O(state=absent),
    so an inventory mistake never renumbers a live host.
  - The ledger file is JSON with sorted keys, one value per line. It is diff-friendly and meant to be committed.
    Every change happens under an exclusive lock on C(<ledger>.lock), so forks that allocate at once
    never get the same address. The file is replaced atomically, so an interrupted run never leaves
    a corrupt ledger.
  - "Host-anchored storage: each host can also record what it holds (M(meshforge.vpn.ipam_record), a local
    fact). A controller without the ledger file, such as an AWX job in a fresh container, passes those
    records in O(records) and rebuilds the same ledger. It never hands out an address a host says it holds."
  - Nothing is changed when a request is refused. Refused requests include an exhausted pool, a pin outside its
    pool or on a reserved address, two hosts pinned to one address, a pool redefined so that an
    allocation would fall outside it, pools of one network that overlap, and a ledger file that does not parse.
author:
  - meshforge developers (@meshforge)
extends_documentation_fragment:
  - meshforge.vpn.attributes.controller
attributes:
  diff_mode:
    support: full
    description: Shows the ledger file before and after.
options:
  ledger:
    description:
      - Path of the ledger file on the controller. A missing file is an empty ledger, and is created when
        a request changes it.
      - Defaults to C(meshforge_vpn_ipam.json) in the inventory's directory (the playbook's when there is none).
    type: path
  pools:
    description:
      - Pools to define, or to redefine, before the request. A mapping of pool name to its settings, or to a bare CIDR.
      - Redefining a pool so that a held address would fall outside it, or on a reserved address, is refused.
        Release the hosts first; addresses are never renumbered silently.
      - Pools named elsewhere in the ledger are kept as they are.
    type: dict
    suboptions:
      cidr:
        description: The pool's prefix, IPv4 or IPv6.
        type: str
        required: true
      network:
        description:
          - The network the pool belongs to. The pools of one network must not overlap.
          - For dual stack, a network has one IPv4 pool and one IPv6 pool, and a host gets an address from each.
        type: str
        default: default
      reserve_first:
        description: How many usable addresses at the start of the pool are never allocated (gateways, appliances).
        type: int
        default: 0
      exclude:
        description: Addresses or CIDRs inside the pool that are never allocated.
        type: list
        elements: str
        default: []
  pool:
    description: The pools the request is about. Defaults to every pool of O(network), else to the pools O(pools) defines.
    type: list
    elements: str
  network:
    description: Select every pool of this network, for example an IPv4 and an IPv6 pool for dual stack.
    type: str
  hosts:
    description:
      - The hosts to allocate to (O(state=present)) or to release (O(state=absent)).
      - Defaults to the current host. Give the whole group with C(run_once) to allocate in one locked step.
    type: list
    elements: str
  pins:
    description:
      - Static addresses, as a mapping of host to C({pool:address}). When the request has a single pool, a bare address works too.
      - A pin is recorded in the ledger like any allocation. A pin that differs from the address the host holds
        moves the host, and RV(moved) reports it.
      - A pin on an address held by another host is refused, unless that host is pinned elsewhere in the same request.
    type: dict
  records:
    description:
      - What hosts say they hold (host-anchored storage), as a mapping of host to C({pool:address}).
        Registered results of M(meshforge.vpn.ipam_record) work as the values too.
      - Records are merged into the ledger before anything is allocated.
      - A record that contradicts the ledger, or two hosts that claim one address, is an error.
      - A record of an address the ledger says its host released is stale and is ignored (RV(stale_records)).
    type: dict
  hints:
    description:
      - What hosts are believed to hold, as a mapping of host to C({pool:address}), for example from the mesh registry
        (M(meshforge.vpn.wireguard_registry)) when a host cannot be asked itself.
      - Merged like O(records) after them, but the ledger wins. A hint is ignored for a host the ledger already gives
        an address in that pool, for an address another host holds, and for an address the pool cannot hold.
      - A new ledger (an AWX job in a fresh container) thus never hands a hinted address to another host.
    type: dict
  state:
    description:
      - V(present) gives every host an address in every selected pool; a host that holds one keeps it.
      - V(absent) releases the hosts' addresses. The ledger keeps a history of releases.
      - V(query) changes nothing and returns the tables of the selected pools. With O(address), it also
        says who holds that address and whether it is free.
    type: str
    choices: [present, absent, query]
    default: present
  address:
    description: With O(state=query), the address to look up in the selected pools.
    type: str
  release:
    description:
      - With O(state=present), hosts whose addresses are released before the others are allocated, in the same
        locked step. Use it for former members, so their addresses can go to new ones in the same run.
      - A host that O(hosts) or O(pins) also names is refused.
    type: list
    elements: str
notes:
  - Add C(*.lock) next to the ledger to C(.gitignore); the lock file is left in place on purpose.
  - "O(state=present) reports C(changed) only when an address is allocated, moved or released, or a pool is redefined.
    Addresses recovered from host records are not a change, because the hosts already hold them."
seealso:
  - module: meshforge.vpn.ipam_record
  - plugin: meshforge.vpn.wireguard_mesh_ipam_request
    plugin_type: filter
'''

EXAMPLES = r'''
- name: Give every member an IPv4 and an IPv6 overlay address, in one locked step
  meshforge.vpn.ipam:
    ledger: "{{ inventory_dir }}/meshforge_vpn_ipam.json"
    pools:
      wg0: {cidr: 10.88.0.0/24, network: wg0, reserve_first: 9}
      wg0_v6: {cidr: "fd88::/64", network: wg0}
    network: wg0
    hosts: "{{ groups['wireguard_mesh'] }}"
    pins:
      gateway1: {wg0: 10.88.0.1}
  run_once: true
  register: overlay

- name: Use the addresses
  ansible.builtin.debug:
    msg: "{{ overlay.addresses[inventory_hostname].wg0 }}"

- name: Release the address of a decommissioned host (as Nebula Commander does on node delete)
  meshforge.vpn.ipam:
    network: wg0
    hosts: [old-host]
    state: absent
  run_once: true

- name: Who holds 10.88.0.23, and is it free? (check-ip)
  meshforge.vpn.ipam:
    pool: wg0
    state: query
    address: 10.88.0.23
  run_once: true
  register: lookup

- name: Show the holder
  ansible.builtin.debug:
    msg: "{{ lookup.holders.wg0 | default('nobody', true) }}"
'''

RETURN = r'''
addresses:
  description: With O(state=present), every requested host's address in every selected pool.
  returned: when state is present
  type: dict
  sample: {h1: {wg0: 10.88.0.23, wg0_v6: "fd88::7c1:2b0e:91a4:5d3f"}}
allocated:
  description: Addresses allocated by this request, as C({pool:{host:address}}).
  returned: always
  type: dict
moved:
  description: Hosts whose pin moved them, as C({pool:{host:{from, to}}}).
  returned: always
  type: dict
released:
  description: Addresses released by this request, as C({pool:{host:address}}).
  returned: always
  type: dict
recovered:
  description: Allocations the ledger did not have and took from O(records), as C({pool:{host:address}}).
  returned: always
  type: dict
stale_records:
  description: Records ignored because the ledger says their host released that address, as C({pool:{host:address}}).
  returned: always
  type: dict
redefined:
  description: Pools whose definition this request changed.
  returned: always
  type: list
  elements: str
pools:
  description: Per selected pool its prefix, network and counts (size, reserved, allocated, free).
  returned: always
  type: dict
  sample: {wg0: {cidr: 10.88.0.0/24, network: wg0, size: 254, reserved: 9, allocated: 3, free: 242}}
tables:
  description: With O(state=query), every allocation of each selected pool in address order, as a list of C({address, host}).
  returned: when state is query
  type: dict
holders:
  description: With O(state=query) and O(address), the host holding the address in each selected pool (null when nobody holds it).
  returned: when state is query and address is given
  type: dict
free:
  description: With O(state=query) and O(address), whether the address could be allocated now in each selected pool.
  returned: when state is query and address is given
  type: dict
ledger:
  description: Path of the ledger file.
  returned: always
  type: str
'''
