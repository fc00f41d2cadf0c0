#!/usr/bin/python
# -*- coding: utf-8 -*-
# Copyright: meshforge.vpn contributors
# GNU General Public License v3.0+ (see https://www.gnu.org/licenses/gpl-3.0.txt)

from __future__ import absolute_import, division, print_function

__metaclass__ = type

DOCUMENTATION = r'''
---
module: wireguard_info
short_description: Live status of WireGuard interfaces and their peers
version_added: 0.1.0
description:
  - Reads what the kernel or C(wireguard-go) holds now (C(wg show all dump)) and returns, per interface, its public key,
    listen port, addresses and, per peer, endpoint, allowed IPs, latest handshake (time and age), bytes received and sent,
    persistent keepalive and whether it is connected.
  - A peer is C(connected) when its latest handshake is at most 180 seconds old, the definition the NebulaVPN API uses.
  - Preshared and private keys are never returned; C(preshared_key) only says whether one is set.
author:
  - meshforge developers (@meshforge)
attributes:
  platform:
    platforms: linux
    support: full
    description: Needs C(wg) and C(ip).
extends_documentation_fragment:
  - meshforge.vpn.attributes.info
options:
  name:
    description: One interface; all interfaces when omitted.
    type: str
seealso:
  - module: meshforge.vpn.wireguard_interface
'''

EXAMPLES = r'''
- name: Status of every WireGuard interface
  meshforge.vpn.wireguard_info:
  register: wg

- name: Fail when a peer of wg0 is not connected
  ansible.builtin.assert:
    that: wg.interfaces.wg0.peers_connected == wg.interfaces.wg0.peers_total
'''

RETURN = r'''
interfaces:
  description: Live status by interface name.
  returned: always
  type: dict
  contains:
    public_key:
      description: The interface's public key.
      type: str
    listen_port:
      description: The UDP port it listens on.
      type: int
    implementation:
      description: V(kernel) or V(userspace).
      type: str
    up:
      description: Whether the link is up.
      type: bool
    addresses:
      description: Addresses with prefix length.
      type: list
      elements: str
    peers_total:
      description: Number of peers.
      type: int
    peers_connected:
      description: Number of connected peers.
      type: int
    peers:
      description: One entry per peer.
      type: list
      elements: dict
      contains:
        public_key:
          description: The peer's public key.
          type: str
        description:
          description: The peer's description from the persisted configuration, if any.
          type: str
        endpoint:
          description: The address and port the peer was last seen at, or its configured endpoint.
          type: str
        allowed_ips:
          description: Prefixes routed to the peer.
          type: list
          elements: str
        latest_handshake:
          description: Unix time of the latest handshake; null when there was none.
          type: int
        latest_handshake_age:
          description: Seconds since the latest handshake; null when there was none.
          type: int
        transfer_rx:
          description: Bytes received from the peer.
          type: int
        transfer_tx:
          description: Bytes sent to the peer.
          type: int
        persistent_keepalive:
          description: Keepalive interval in seconds, 0 when off.
          type: int
        preshared_key:
          description: Whether a preshared key is set.
          type: bool
        connected:
          description: True when the latest handshake is at most 180 seconds old.
          type: bool
  sample:
    wg0:
      public_key: xTIBA5rboUvnH4htodjb6e697QjLERt1NAB4mZqp8Dg=
      listen_port: 51820
      peers_total: 1
      peers_connected: 1
      peers:
        - public_key: TrMvSoP4jYQlY6RIzBgbssQqY3vxI2Pi+y71lOWWXX0=
          description: branch-1
          endpoint: 198.51.100.7:51820
          allowed_ips: [10.10.0.2/32]
          latest_handshake: 1763800000
          latest_handshake_age: 12
          transfer_rx: 10240
          transfer_tx: 20480
          persistent_keepalive: 25
          preshared_key: true
          connected: true
'''

from ansible.module_utils.basic import AnsibleModule

from ansible_collections.meshforge.vpn.plugins.module_utils.common import run_module
from ansible_collections.meshforge.vpn.plugins.module_utils.validation import interface_name
from ansible_collections.meshforge.vpn.plugins.module_utils.wireguard.info import gather_info


def info(module):
    name = interface_name('name', module.params['name']) if module.params['name'] else None
    return dict(changed=False, interfaces=gather_info(module, name))


def main():
    module = AnsibleModule(argument_spec=dict(name=dict(type='str')), supports_check_mode=True)
    run_module(module, info)


if __name__ == '__main__':
    main()
