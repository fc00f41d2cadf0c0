#!/usr/bin/python
# -*- coding: utf-8 -*-
# Copyright: meshforge.vpn contributors
# GNU General Public License v3.0+ (see https://www.gnu.org/licenses/gpl-3.0.txt)

from __future__ import absolute_import, division, print_function

__metaclass__ = type

DOCUMENTATION = r'''
---
module: nebula_info
short_description: Live state of a Nebula network on the host, from nebula itself
version_added: 0.3.0
description:
  - Asks the running nebula, over its debug console on the loopback (turned on by
    M(meshforge.vpn.nebula_config) with O(meshforge.vpn.nebula_config#module:sshd_port)), for its certificate and its
    tunnels (C(print-cert), C(list-hostmap), C(list-pending-hostmap)), and reports whether each lighthouse and relay
    the configuration names is reached.
  - Logs in with the key nebula_config made for it and checks nebula's host key against the one made with it; no
    private key is read or returned.
  - A nebula that does not answer is reported with RV(running=false), not as a failure.
extends_documentation_fragment:
  - meshforge.vpn.attributes.INFO
attributes:
  platform:
    platforms: linux
    support: full
    description: Nebula 1.6, C(ssh) (openssh-client) and PyYAML on the host.
options:
  network:
    description: The network, as given to M(meshforge.vpn.nebula_config).
    type: str
    required: true
  config_dir:
    description: Where nebula_config wrote the network's files.
    type: path
    default: /etc/nebula
  timeout:
    description: Seconds to wait for the console.
    type: int
    default: 5
seealso:
  - module: meshforge.vpn.nebula_config
author:
  - meshforge developers (@meshforge)
'''

EXAMPLES = r'''
- name: Read the live tunnels of the network mesh
  meshforge.vpn.nebula_info:
    network: mesh
  register: nebula

- name: Show which peers are reached through a relay
  ansible.builtin.debug:
    msg: "{{ nebula.tunnels | selectattr('relayed') | map(attribute='name') | list }}"
'''

RETURN = r'''
configured:
  description: Whether the network's configuration file exists.
  returned: always
  type: bool
running:
  description: Whether nebula answered on its console.
  returned: always
  type: bool
certificate:
  description: The certificate nebula uses (C(name), C(ips), C(groups), C(not_after), C(fingerprint)); None when it does not answer.
  returned: always
  type: dict
tunnels:
  description:
    - One entry per established tunnel, by overlay address - C(vpn_ip), C(name), C(fingerprint) and C(groups) (from
      the peer's certificate), C(remote) (the underlay address in use; None when the tunnel goes through a relay), C(remote_addrs),
      C(relayed), C(relays).
  returned: always
  type: list
  elements: dict
pending:
  description: Tunnels still handshaking, as RV(tunnels).
  returned: always
  type: list
  elements: dict
am_lighthouse:
  description: Whether this host is a lighthouse of the network, as its configuration says.
  returned: always
  type: bool
  version_added: 0.4.0
am_relay:
  description: Whether this host is a relay of the network, as its configuration says.
  returned: always
  type: bool
  version_added: 0.4.0
lighthouses:
  description:
    - The lighthouses the configuration names (empty on a lighthouse), each with C(vpn_ip), C(connected) (nebula has
      a tunnel to it now), C(handshaking) (one is being made), C(remote) and C(relayed) (as in RV(tunnels)). A member
      that reaches no lighthouse learns of no new peer.
  returned: always
  type: list
  elements: dict
  version_added: 0.4.0
relays:
  description: The relays the configuration names (empty on a relay), as RV(lighthouses).
  returned: always
  type: list
  elements: dict
  version_added: 0.4.0
msg:
  description: Why nebula was not read (no configuration, no answer); empty when it was.
  returned: always
  type: str
'''

from ansible.module_utils.basic import AnsibleModule

from ansible_collections.meshforge.vpn.plugins.module_utils.common import run_module
from ansible_collections.meshforge.vpn.plugins.module_utils.nebula.info import read_info


def main():
    module = AnsibleModule(
        argument_spec=dict(
            network=dict(type='str', required=True),
            config_dir=dict(type='path', default='/etc/nebula'),
            timeout=dict(type='int', default=5),
        ),
        supports_check_mode=True,
    )
    run_module(module, read_info)


if __name__ == '__main__':
    main()
