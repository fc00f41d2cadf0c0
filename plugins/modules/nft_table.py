#!/usr/bin/python
# -*- coding: utf-8 -*-
# Copyright: meshforge.vpn contributors
# GNU General Public License v3.0+ (see https://www.gnu.org/licenses/gpl-3.0.txt)

from __future__ import absolute_import, division, print_function

__metaclass__ = type

DOCUMENTATION = r'''
---
module: nft_table
short_description: Own one whole nftables table, rendered from a structured description and replaced atomically
version_added: 0.2.0
description:
  - Renders the table (sets, chains, rules, NAT) from O(sets) and O(chains), reads the live table with C(nft -j list table),
    and changes it only when it differs. No other table is read for changing, flushed or replaced, so Docker's,
    libvirt's and the distribution's tables stay as they are.
  - When only set elements differ, only those elements are added and deleted. Otherwise the table is replaced in one
    transaction (C(table T), C(delete table T), C(table T {...}) and its rules in one C(nft -f) batch); the kernel
    commits all of it or none, and no packet sees a half-built table.
  - The complete batch is validated with C(nft --check) against the running kernel before it is applied (in check mode too).
  - A table that would drop the management connection (the SSH connection Ansible came through, from C(SSH_CONNECTION)
    of the module's process or, after C(become), of its parents) is refused unless O(allow_lockout=true).
    Every base chain on the prerouting, input, output and postrouting hooks is evaluated for a new and an
    established connection in both directions; a raw rule that may drop counts as dropping.
  - Rules carry a comment C(mf:<fingerprint>) of their rendered text, by which they are compared with the live table.
author:
  - meshforge developers (@meshforge)
attributes:
  check_mode:
    support: full
    description: Predicts exactly the C(changed) a real run reports; the batch is still checked with C(nft --check).
  diff_mode:
    support: full
    description: Sets with one element a line, chains and their rules, before and after.
  platform:
    platforms: linux
    support: full
    description: Linux with C(nft) (nftables 0.9.3 or later) and C(ip) (iproute2).
extends_documentation_fragment:
  - meshforge.vpn.audit
  - meshforge.vpn.nftables
options:
  name:
    description: Name of the table.
    type: str
    default: meshforge
  state:
    description: V(absent) deletes the table (this one only).
    type: str
    choices: [present, absent]
    default: present
  sets:
    description: Named sets of the table.
    type: list
    elements: dict
    default: []
    suboptions:
      name:
        description: Set name.
        type: str
        required: true
      type:
        description:
          - V(ipv4_addr), V(ipv6_addr), V(inet_service), V(ether_addr), V(ifname) or V(mark);
            a list for a concatenation (V([ipv4_addr, inet_service])).
        type: raw
        required: true
      flags:
        description: Set flags (V(interval) for prefixes and ranges).
        type: list
        elements: str
        choices: [interval, constant, timeout, dynamic]
        default: []
      elements:
        description: Elements, as in M(meshforge.vpn.nft_set).
        type: list
        elements: raw
        default: []
  chains:
    description: Chains in order; a chain with a O(chains[].hook) is a base chain.
    type: list
    elements: dict
    default: []
    suboptions:
      name:
        description: Chain name.
        type: str
        required: true
      type:
        description: Base chain type.
        type: str
        choices: [filter, nat, route]
      hook:
        description: Netfilter hook; omit it for a regular chain (a target of C(jump) and C(goto)).
        type: str
        choices: [prerouting, input, forward, output, postrouting, ingress]
      priority:
        description: Number or one of V(raw), V(mangle), V(dstnat), V(filter), V(security), V(srcnat).
        type: raw
      policy:
        description: Verdict for packets that no rule decides.
        type: str
        choices: [accept, drop]
      device:
        description: Interface of a C(netdev) ingress chain.
        type: str
      rules:
        description:
          - Rules in order. Each is either structured (the keys below, rendered to nft syntax) or a raw C(rule) text.
          - Structured keys - C(iifname), C(oifname) (name or list); C(saddr), C(daddr) (addresses, prefixes, ranges,
            or V(@set)); C(protocol) (V(tcp), V(udp), V(icmp), V(icmpv6), or a list; ports need V(tcp) or V(udp));
            C(sport), C(dport) (ports and V(low-high) ranges, or V(@set)); C(icmp_type), C(icmpv6_type) (type names);
            C(ct_state) (list of V(established), V(related), V(new), V(invalid), V(untracked)); C(counter) (bool);
            C(log_prefix); C(action) (V(accept), V(drop), V(reject), V(return), V(continue), V(jump), V(goto),
            V(masquerade), V(snat), V(dnat)); C(target) (chain of a jump or goto); C(to) (address of snat or dnat);
            C(comment).
          - C(rule) - raw nft rule text, one line, no C(;), C(#) or backslash, braces balanced, no C(comment) (use the
            C(comment) key); C(nft --check) judges the rest. It cannot be combined with structured keys.
        type: list
        elements: dict
        default: []
  allow_lockout:
    description: Apply a table even though it would drop the management SSH connection.
    type: bool
    default: false
  path:
    description:
      - A file to keep the table in for a reboot, for example V(/etc/nftables.d/meshforge.nft). It holds the same
        batch a run applies (it creates, deletes and defines this table only), so C(nft -f) of it at boot gives exactly
        the table this module made, and the next run changes nothing. Load it from a unit or include it in
        C(/etc/nftables.conf); the C(meshforge.vpn.vpn_firewall) role installs a unit for it.
      - Written (mode 0644) only after the kernel took the table; removed with O(state=absent). Omit it to keep
        nothing.
      - An absolute path without V(.), V(..) or empty components; it must not be a symlink, and a symlink
        along the way is followed only when root made it in a directory no other user can change.
    type: path
seealso:
  - module: meshforge.vpn.nft_set
'''

EXAMPLES = r'''
- name: Inbound policy on wg0, masquerade of the VPN into a LAN
  meshforge.vpn.nft_table:
    name: meshforge
    sets:
      - name: web_v4
        type: ipv4_addr
        flags: [interval]
        elements: [10.10.0.2, 10.10.0.3]
    chains:
      - name: input
        type: filter
        hook: input
        priority: filter
        policy: accept
        rules:
          - ct_state: [established, related]
            action: accept
          - iifname: wg0
            action: jump
            target: vpn_in
      - name: vpn_in
        rules:
          - saddr: "@web_v4"
            protocol: tcp
            dport: [5432, 8000-8080]
            action: accept
            comment: web to db
          - rule: meta l4proto ipv6-icmp icmpv6 type { nd-neighbor-solicit, nd-neighbor-advert } accept
          - action: drop
      - name: postrouting
        type: nat
        hook: postrouting
        priority: srcnat
        rules:
          - oifname: eth1
            saddr: 10.10.0.0/24
            action: masquerade
'''

RETURN = r'''
audit:
  description:
    - What the run changed (or in check mode would change), as an auditor reads it, one record per change with
      C(resource), C(object), C(change) and C(detail); files written or removed included. Never a secret.
  returned: always
  type: list
  elements: dict
  sample: [{resource: nft_table, object: inet meshforge, change: rule added, detail: "input: tcp dport 22 accept"}]
action:
  description: V(none), V(create), V(elements) (only set elements changed), V(replace) or V(delete).
  returned: always
  type: str
rules_added:
  description: Rules (C(chain - text)) that are new.
  returned: when state is present
  type: list
  elements: str
rules_removed:
  description: Live rules that are not in the description.
  returned: when state is present
  type: list
  elements: str
elements_added:
  description: Elements added, by set name.
  returned: when state is present
  type: dict
  sample: {"web_v4": ["10.10.0.4"]}
elements_removed:
  description: Elements removed, by set name.
  returned: when state is present
  type: dict
sets_changed:
  description: Sets whose definition (type, flags) changed, or that appear or disappear.
  returned: when state is present
  type: list
  elements: str
chains_changed:
  description: Chains whose definition (type, hook, priority, policy) changed, or that appear or disappear.
  returned: when state is present
  type: list
  elements: str
persisted:
  description: Whether the file of O(path) was (or would be) written or removed.
  returned: always
  type: bool
management_connection:
  description: The SSH connection that was checked for a lockout (client, ports, server, device), when one was found.
  returned: when state is present
  type: dict
'''

from ansible.module_utils.basic import AnsibleModule

from ansible_collections.meshforge.vpn.plugins.module_utils import audit
from ansible_collections.meshforge.vpn.plugins.module_utils.nftables.resource import manage_table
from ansible_collections.meshforge.vpn.plugins.module_utils.common import run_module


def main():
    module = AnsibleModule(
        argument_spec=dict(
            family=dict(type='str', choices=['inet', 'ip', 'ip6', 'arp', 'bridge', 'netdev'], default='inet'),
            name=dict(type='str', default='meshforge'),
            state=dict(type='str', choices=['present', 'absent'], default='present'),
            sets=dict(type='list', elements='dict', default=[], options=dict(
                name=dict(type='str', required=True),
                type=dict(type='raw', required=True),
                flags=dict(type='list', elements='str', default=[], choices=['interval', 'constant', 'timeout', 'dynamic']),
                elements=dict(type='list', elements='raw', default=[]),
            )),
            chains=dict(type='list', elements='dict', default=[], options=dict(
                name=dict(type='str', required=True),
                type=dict(type='str', choices=['filter', 'nat', 'route']),
                hook=dict(type='str', choices=['prerouting', 'input', 'forward', 'output', 'postrouting', 'ingress']),
                priority=dict(type='raw'),
                policy=dict(type='str', choices=['accept', 'drop']),
                device=dict(type='str'),
                rules=dict(type='list', elements='dict', default=[]),
            )),
            allow_lockout=dict(type='bool', default=False),
            path=dict(type='path'),
            **audit.argument_spec()
        ),
        supports_check_mode=True,
    )
    run_module(module, manage_table)


if __name__ == '__main__':
    main()
