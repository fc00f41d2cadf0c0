#!/usr/bin/python
# -*- coding: utf-8 -*-
# Copyright: meshforge.vpn contributors
# GNU General Public License v3.0+ (see https://www.gnu.org/licenses/gpl-3.0.txt)

from __future__ import absolute_import, division, print_function

__metaclass__ = type

DOCUMENTATION = r'''
---
module: route
short_description: Make the IPv4 and IPv6 routes this collection owns match a list, changing only the difference
version_added: 0.2.0
description:
  - Reads the routes that carry the module's protocol tag (O(protocol)) live with C(ip -j route show), compares them
    with O(routes) and adds, replaces or deletes only the routes that differ, with C(ip route replace) and C(ip route del).
  - A route is one route to the kernel by its destination, table and metric; two routes to one prefix with different
    metrics are two routes (the lower metric wins, the other takes over when it is removed).
  - Every route it adds carries the tag, and every deletion names it, so routes of any other owner (the kernel, DHCP,
    routing daemons, hand-made C(static) routes, M(meshforge.vpn.wireguard_interface)'s tag 109) are never removed.
  - Before anything changes, each route to be added or changed is checked against the live table. It is refused
    when another owner (another protocol tag, such as the kernel's route of a connected network) holds a route for the
    same destination, table and metric, which would be replaced; and when it would capture the management SSH
    connection (the controller's address, also found under C(become)) or a network connected to another interface,
    that is when its prefix contains them and would win the kernel's lookup over the route that carries them now.
  - Routes are not restored after a reboot by this module itself; O(path) keeps them in a file to restore at boot,
    or run it at boot (or from the role) again.
author:
  - meshforge developers (@meshforge)
attributes:
  diff_mode:
    support: full
    description: Shows the tagged routes before and after.
  platform:
    platforms: linux
    support: full
    description: Linux with C(ip) (iproute2) with JSON output (C(ip -j), iproute2 4.13 or later).
extends_documentation_fragment:
  - meshforge.vpn.audit
  - meshforge.vpn.attributes
options:
  routes:
    description: The routes.
    type: list
    elements: dict
    default: []
    suboptions:
      dest:
        description: Destination prefix, V(172.20.1.0/24), V(fd20::/48), V(0.0.0.0/0). Host bits must be zero.
        type: str
        required: true
      gateway:
        description: Next hop address, of the same family as O(routes[].dest).
        type: str
      dev:
        description: Output interface. At least one of O(routes[].gateway) and O(routes[].dev) is required.
        type: str
      table:
        description: Routing table, a number or a name from C(/etc/iproute2/rt_tables) (V(main), V(local) and V(default) are known everywhere).
        type: str
        default: main
      metric:
        description:
          - Route metric (priority); part of what makes a route unique. Lower wins.
          - Defaults to V(0) for IPv4 and V(1024) for IPv6, the kernel's own defaults (an IPv6 metric of 0 is stored as 1024).
        type: int
      src:
        description: Preferred source address for traffic this host sends along the route.
        type: str
        aliases: [source]
      state:
        description: V(absent) removes the route if it carries the tag.
        type: str
        choices: [present, absent]
        default: present
  protocol:
    description:
      - The tag (C(proto) of C(ip route), 5 to 255) of the routes this task owns.
      - V(0) to V(4) and V(109) are refused, since they mark routes of other owners (V(109) is M(meshforge.vpn.wireguard_interface)'s).
      - Give separate tags to tasks that purge separately.
    type: int
    default: 110
  purge:
    description: Remove the routes carrying the tag, in every table and both families, that are not in O(routes).
    type: bool
    default: false
  path:
    description:
      - A file to keep the present routes of O(routes) in for a reboot, one C(route replace ...) line each, for
        C(ip -force -batch <path>) once the interfaces are up (the C(meshforge.vpn.vpn_firewall) role installs a unit
        for it). Written (mode 0644) when its content differs. Omit it to keep nothing.
      - An absolute path without V(.), V(..) or empty components; it must not be a symlink, and a symlink
        along the way is followed only when root made it in a directory no other user can change.
    type: path
notes:
  - C(ip -j) rather than pyroute2, because iproute2 is on every Linux host and pyroute2 is not.
seealso:
  - module: meshforge.vpn.wireguard_interface
  - name: ip-route(8)
    description: The iproute2 route command.
    link: https://man7.org/linux/man-pages/man8/ip-route.8.html
'''

EXAMPLES = r'''
- name: A routed LAN through two gateways; the one with the lower metric is used while it exists
  meshforge.vpn.route:
    routes:
      - dest: 172.20.1.0/24
        gateway: 10.10.0.2
        dev: wg0
        metric: 100
      - dest: 172.20.1.0/24
        gateway: 10.10.0.3
        dev: wg0
        metric: 200
      - dest: fd20::/48
        dev: wg0
        table: 100
    purge: true

- name: Remove one route
  meshforge.vpn.route:
    routes:
      - dest: 172.20.9.0/24
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
  sample: [{resource: route, object: protocol 110, change: route added, detail: 192.0.2.0/24 dev wg0 table main metric 100}]
added:
  description: Routes that were (or in check mode would be) added.
  returned: always
  type: list
  elements: str
  sample: ["172.20.1.0/24 via 10.10.0.2 dev wg0 table main metric 100"]
changed_routes:
  description: Routes that were replaced, with the C(fields) that differed (gateway, dev, src, nexthops).
  returned: always
  type: list
  elements: dict
removed:
  description: Routes that were (or would be) removed.
  returned: always
  type: list
  elements: str
persisted:
  description: Whether the file of O(path) was (or would be) written.
  returned: always
  type: bool
protocol:
  description: The tag of the routes this task owns.
  returned: always
  type: int
  sample: 110
'''

from ansible.module_utils.basic import AnsibleModule

from ansible_collections.meshforge.vpn.plugins.module_utils import audit
from ansible_collections.meshforge.vpn.plugins.module_utils.routes.resource import manage_routes
from ansible_collections.meshforge.vpn.plugins.module_utils.common import run_module


def main():
    module = AnsibleModule(
        argument_spec=dict(
            routes=dict(type='list', elements='dict', default=[], options=dict(
                dest=dict(type='str', required=True),
                gateway=dict(type='str'),
                dev=dict(type='str'),
                table=dict(type='str', default='main'),
                metric=dict(type='int'),
                src=dict(type='str', aliases=['source']),
                state=dict(type='str', choices=['present', 'absent'], default='present'),
            )),
            protocol=dict(type='int', default=110),
            purge=dict(type='bool', default=False),
            path=dict(type='path'),
            **audit.argument_spec()
        ),
        supports_check_mode=True,
    )
    run_module(module, manage_routes)


if __name__ == '__main__':
    main()
