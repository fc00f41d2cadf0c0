#!/usr/bin/python
# -*- coding: utf-8 -*-
# Copyright: meshforge.vpn contributors
# GNU General Public License v3.0+ (see https://www.gnu.org/licenses/gpl-3.0.txt)

from __future__ import absolute_import, division, print_function

__metaclass__ = type

DOCUMENTATION = r'''
---
module: wireguard_interface
short_description: Make a live WireGuard interface match its description, changing only the difference
version_added: 0.1.0
description:
  - Reads the interface as the kernel or C(wireguard-go) holds it now (C(wg show dump), addresses and routes from C(ip -j)),
    compares it with the options, and applies only the difference with C(wg set) and C(ip).
    The interface is never taken down, so peers that did not change keep their sessions.
  - Persists the configuration in wg-quick format in C(/etc/wireguard/<name>.conf) (mode 0600) so that it survives
    a reboot. The private key and preshared key files are loaded by C(PostUp); the private key is never copied into
    the file. Routes are added by C(PostUp) too, exactly as this module adds them, so a run after a reboot changes nothing.
  - Where systemd runs, the C(wg-quick@<name>) unit is enabled, and a new interface is brought up by starting it, so
    that systemd knows the unit as active; on a host whose kernel has no WireGuard, a drop-in selects C(wireguard-go).
  - Peers not listed are removed unless O(purge=false).
  - Routes to every peer's allowed IPs go through the interface (O(table)), tagged with protocol number 109,
    so only routes this module added are ever removed.
  - Before anything changes, each route to be added is checked against the live routing table and refused when it
    would capture the management SSH connection (the controller's address, also found under C(become)), a peer's
    endpoint, or a network connected to another interface, that is when its prefix contains them and would win the
    kernel's lookup over the route that carries them now. A route for the same destination, table and metric that
    another owner holds (another protocol, or another interface's WireGuard routes) is refused, never replaced.
    Less specific prefixes, and more specific ones that hold none of these addresses, are routed as usual.
author:
  - meshforge developers (@meshforge)
attributes:
  check_mode:
    support: full
    description:
      - Predicts exactly the C(changed) a real run reports.
      - A private key file that does not exist yet is taken to be one an earlier task in the same run would create.
  diff_mode:
    support: full
    description:
      - Shows the interface, peers (by public key and description) and routes before and after; never a key.
      - With O(forwarding), the live values that change and the sysctl file's text before and after.
  platform:
    platforms: linux
    support: full
    description: Linux with the WireGuard kernel module or C(wireguard-go), C(wg) and C(ip) (iproute2).
extends_documentation_fragment:
  - meshforge.vpn.audit
options:
  name:
    description: Interface name (1 to 15 characters of letters, digits and C(_=+.-)).
    type: str
    required: true
  state:
    description: V(absent) removes the interface, its configuration file and its unit.
    type: str
    choices: [present, absent]
    default: present
  addresses:
    description:
      - Addresses with prefix length, IPv4 and IPv6, e.g. V(10.10.0.1/24) and V(fd10::1/64).
      - Link-local addresses (V(fe80::99/64)) are managed like the others. The link-local address the kernel gives
        an interface by itself is never a difference and is never removed.
    type: list
    elements: str
    default: []
  listen_port:
    description: UDP port. Omit it for a random port (a client that only dials out).
    type: int
  private_key_file:
    description:
      - Path of the private key on the host, as made by M(meshforge.vpn.wireguard_key).
      - When omitted, C(/etc/wireguard/<name>.key).
      - An absolute path without V(.), V(..) or empty components; it must not be a symlink, and a symlink
        along the way is followed only when root made it in a directory no other user can change.
    type: path
  expected_public_key:
    description:
      - The public key the host's peers were planned with (a mesh planned from its registry). When the key in
        O(private_key_file) has another public key, or does not exist, the module fails with RV(key_mismatch) and
        changes nothing, so that a stale plan never configures a peer set that cannot reach this host.
    type: str
  mtu:
    description:
      - MTU of the interface, 576 to 65535; omitted means the implementation's default (1420).
      - At least 1280 when the interface has an IPv6 address or routes IPv6 allowed IPs, since the kernel takes IPv6
        off a link with a smaller MTU.
    type: int
  fwmark:
    description: Firewall mark for the interface's own packets; V(0) or V(off) for none.
    type: str
  table:
    description:
      - Routing table for routes to the peers' allowed IPs. V(auto) uses the main table, V(off) adds no routes,
        a number names a table.
      - A default route (V(0.0.0.0/0) or V(::/0)) in allowed IPs is refused with V(auto) unless O(exit_routing) is
        set, since it would replace the host's default route.
    type: str
    default: auto
  exit_routing:
    description:
      - Send the host's traffic through the peer whose allowed IPs hold V(0.0.0.0/0) or V(::/0) (an exit node), the
        way C(wg-quick) does for a full tunnel, without ever cutting the host off.
      - The default routes go into O(exit_routing.table); the tunnel's own packets carry O(exit_routing.fwmark) and
        keep the main table. Per family that exits, policy rules at fixed priorities from O(exit_routing.priority)
        send the management connection's client (C(SSH_CONNECTION)) to the main table, let the main table's
        specific routes win (connected networks, the underlay, routed subnets, by C(suppress_prefixlength 0)), and send
        everything else unmarked to O(exit_routing.table).
      - The rules carry the route tag 109 (C(protocol 109)); only such rules at the three owned priorities are ever
        removed, so a re-run changes nothing and other rules stay. With no default route among the peers, the owned
        rules and routes are removed and the fwmark falls back to O(fwmark).
      - Needs O(table=auto). With strict reverse-path filtering (C(rp_filter=1)) on the uplink, replies from an
        exit node reached through the default gateway are dropped; Debian's default is loose (V(2)).
    type: dict
    suboptions:
      table:
        description: Routing table of the default routes through the exit node.
        type: int
        default: 51820
      fwmark:
        description: Mark of the tunnel's own packets; defaults to O(fwmark), else to the table's number.
        type: str
      priority:
        description: Priority of the first of the three rules per family (the next two follow it).
        type: int
        default: 31000
  forwarding:
    description:
      - Turn on IP forwarding for the families set to V(true), in this same call (a hub or a router needs it), both in
        the running kernel (C(/proc/sys)) and for boot, as C(key=1) lines in O(forwarding.sysctl_file).
      - Forwarding is only ever turned on. A family that is V(false) or omitted is not managed, its setting stays as
        it is (another service may rely on it); this module never sets a family to 0 nor removes a line.
      - The file is read and written as C(ansible.posix.sysctl) does (C(key=value) lines), so a host whose file that
        module wrote sees no change. Only the lines of the keys turned on are rewritten (a line with another value
        becomes C(key=1), a missing key is appended); other lines stay as they are. A new file gets mode 0644, an
        existing one keeps its mode.
      - Ignored with O(state=absent) (the lines stay until removed with C(ansible.posix.sysctl)).
    type: dict
    version_added: 0.4.0
    suboptions:
      ipv4:
        description: Turn on C(net.ipv4.ip_forward).
        type: bool
        default: false
      ipv6:
        description: Turn on C(net.ipv6.conf.all.forwarding).
        type: bool
        default: false
      sysctl_file:
        description:
          - The file that makes the setting survive a reboot.
          - An absolute path without V(.), V(..) or empty components, and not a symlink.
        type: path
        default: /etc/sysctl.d/90-meshforge-vpn.conf
  implementation:
    description:
      - V(kernel) uses the kernel module, V(userspace) runs C(wireguard-go), V(auto) tries the kernel first.
      - Applies when the interface is created; an existing interface keeps its implementation.
    type: str
    choices: [auto, kernel, userspace]
    default: auto
  purge:
    description: Remove live peers that are not listed.
    aliases: [purge_peers]
    type: bool
    default: true
  persist:
    description: Write the wg-quick file and enable the C(wg-quick@) unit where systemd runs.
    type: bool
    default: true
  peers:
    description: The peers of the interface.
    type: list
    elements: dict
    default: []
    suboptions:
      public_key:
        description: The peer's public key (base64 of 32 bytes).
        type: str
        required: true
      name:
        description:
          - The peer's name, shown instead of O(peers[].description) in diffs, results and the configuration file's comment.
          - No newline or control character.
        type: str
      description:
        description: A name for the peer, used in diffs, results and as a comment in the configuration file.
        type: str
      endpoint:
        description:
          - V(host:port), with an IPv6 address in brackets (V([fd18::1]:51820)). Omit it for a peer that dials in.
          - A peer that is connected from another endpoint has roamed and is left where it is.
        type: str
      allowed_ips:
        description:
          - Prefixes routed to this peer and accepted from it.
          - A prefix whose route would capture the management connection, a peer's endpoint or a connected network,
            or replace another owner's route, is refused (see the description).
        type: list
        elements: str
        default: []
      persistent_keepalive:
        description: Seconds between keepalives; V(0) for none.
        type: int
        default: 0
      preshared_key:
        description: A preshared key value (base64 of 32 bytes). Mutually exclusive with O(peers[].preshared_key_file).
        type: str
      preshared_key_file:
        description: Path of a file on the host that holds the preshared key.
        type: path
notes:
  - Every value that reaches the configuration file is validated first; newlines, brackets and control characters
    are refused, so no option can inject a line or a section.
seealso:
  - module: meshforge.vpn.wireguard_key
  - module: meshforge.vpn.wireguard_info
  - name: wg(8)
    description: The WireGuard configuration tool.
    link: https://git.zx2c4.com/wireguard-tools/about/src/man/wg.8
'''

EXAMPLES = r'''
- name: Bring up wg0 with two peers
  meshforge.vpn.wireguard_interface:
    name: wg0
    addresses: [10.10.0.1/24, fd10::1/64]
    listen_port: 51820
    peers:
      - public_key: xTIBA5rboUvnH4htodjb6e697QjLERt1NAB4mZqp8Dg=
        description: branch-1
        endpoint: 198.51.100.7:51820
        allowed_ips: [10.10.0.2/32, fd10::2/128, 172.20.1.0/24]
        persistent_keepalive: 25
      - public_key: TrMvSoP4jYQlY6RIzBgbssQqY3vxI2Pi+y71lOWWXX0=
        description: laptop
        allowed_ips: [10.10.0.3/32]

- name: Send this host's internet traffic through the exit node gw1, keeping the underlay and SSH direct
  meshforge.vpn.wireguard_interface:
    name: wg0
    addresses: [10.10.0.5/24]
    exit_routing: {}
    peers:
      - public_key: xTIBA5rboUvnH4htodjb6e697QjLERt1NAB4mZqp8Dg=
        name: gw1
        endpoint: 198.51.100.7:51820
        allowed_ips: [10.10.0.1/32, 0.0.0.0/0, "::/0"]

- name: A hub that forwards between its spokes, IPv4 and IPv6, in the same call
  meshforge.vpn.wireguard_interface:
    name: wg0
    addresses: [10.10.0.1/24, fd10::1/64]
    listen_port: 51820
    forwarding:
      ipv4: true
      ipv6: true
    peers:
      - public_key: xTIBA5rboUvnH4htodjb6e697QjLERt1NAB4mZqp8Dg=
        name: spoke-1
        allowed_ips: [10.10.0.2/32, fd10::2/128]

- name: Remove wg1 entirely
  meshforge.vpn.wireguard_interface:
    name: wg1
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
  sample: [{resource: wireguard_interface, object: wg0, change: peer added, detail: "h2 (SHA256:5DyvkzS3...)"}]
public_key:
  description:
    - The interface's public key.
    - On a failure with RV(key_mismatch), the key the host really has (null when it has none).
  returned: when state is present
  type: str
key_mismatch:
  description: The module failed, changing nothing, because the host's key is not O(expected_public_key).
  returned: on that failure
  type: bool
implementation:
  description: V(kernel) or V(userspace); in check mode for a new interface, the requested implementation.
  returned: always
  type: str
peers_added:
  description: Peers that were (or in check mode would be) added.
  returned: always
  type: list
  elements: dict
  sample: [{"public_key": "xTIBA5rboUvnH4htodjb6e697QjLERt1NAB4mZqp8Dg=", "description": "branch-1"}]
peers_removed:
  description: Peers that were removed.
  returned: always
  type: list
  elements: dict
peers_changed:
  description: Peers whose settings changed, with the names of the changed C(fields).
  returned: always
  type: list
  elements: dict
  sample: [{"public_key": "xTIBA5rboUvnH4htodjb6e697QjLERt1NAB4mZqp8Dg=", "description": "branch-1", "fields": ["endpoint"]}]
config_file:
  description: Path of the persisted wg-quick file.
  returned: always
  type: str
config_changed:
  description: Whether the persisted file was (or would be) rewritten.
  returned: always
  type: bool
forwarding_changed:
  description:
    - Whether IP forwarding was (or would be) turned on for a family of O(forwarding), in the kernel or in
      O(forwarding.sysctl_file). The audit records name each key turned on and the file written.
  returned: when state is present
  type: bool
  version_added: 0.4.0
persisted:
  description:
    - Whether the wg-quick file was (or would be) written, or with O(state=absent) removed, or the sysctl file of
      O(forwarding) written; without O(forwarding), the same as RV(config_changed).
    - The C(wg-quick@) unit and its drop-in do not count here (C(changed) and the diff say when they change).
  returned: always
  type: bool
'''

from ansible.module_utils.basic import AnsibleModule

from ansible_collections.meshforge.vpn.plugins.module_utils.common import run_module
from ansible_collections.meshforge.vpn.plugins.module_utils import audit
from ansible_collections.meshforge.vpn.plugins.module_utils.wireguard import schema
from ansible_collections.meshforge.vpn.plugins.module_utils.wireguard.interface import manage_interface


def main():
    module = AnsibleModule(
        argument_spec=dict(schema.interface_argument_spec(), **audit.argument_spec()),
        supports_check_mode=True,
    )
    run_module(module, manage_interface)


if __name__ == '__main__':
    main()
