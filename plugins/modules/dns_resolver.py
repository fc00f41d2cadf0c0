#!/usr/bin/python
# -*- coding: utf-8 -*-
# Copyright: meshforge.vpn contributors
# GNU General Public License v3.0+ (see https://www.gnu.org/licenses/gpl-3.0.txt)

from __future__ import absolute_import, division, print_function

__metaclass__ = type

DOCUMENTATION = r'''
---
module: dns_resolver
short_description: A dnsmasq that answers the mesh domain, forwards match domains and the rest, and can be the host's resolver
version_added: 0.3.0
description:
  - Runs one C(dnsmasq) per O(name) with its options in O(config_dir)C(/<name>.conf) and the records of O(domain) in
    O(config_dir)C(/<name>.hosts) (O(hosts), a hosts text the controller renders from the address ledger), both
    0644 and written atomically.
  - It answers on the addresses of O(listen) only (an overlay address for the mesh's clients, or a loopback address
    for the host's own stub). O(domain) is answered from the hosts text and never forwarded; the match domains of
    O(forward) go to their nameservers (split DNS); every other name goes to O(upstream).
  - Where systemd runs (O(manager=auto) finds C(/run/systemd/system)) it is the unit C(meshforge-dns-<name>.service);
    where it does not (containers, network-namespace hosts) the module starts dnsmasq in a session of its own, keeps
    its pid in O(run_dir)C(/<name>.pid) and its log in O(run_dir)C(/<name>.log), and starts it again when it died.
    A pid is taken for this instance only when it is alive, runs dnsmasq with this instance's configuration file and
    shares this network namespace.
  - When only the hosts text changed dnsmasq is sent SIGHUP (it reads the hosts again, answering all the while);
    when its options changed it is restarted; when nothing changed nothing is touched.
  - With O(resolv_conf=true) the host resolves through it without an agent. C(/etc/resolv.conf) is copied once, byte
    for byte, to O(config_dir)C(/resolv.conf.orig) (0644) and rewritten in place to name the first address of
    O(listen), keeping its C(search) and C(options) lines; names outside O(domain) and O(forward) go to the
    nameservers the original named (unless O(upstream) says otherwise). When O(resolv_conf) is turned off, or
    O(state=absent), the copy is written back byte for byte and removed. A C(/etc/resolv.conf) that is a symlink
    belongs to another program (systemd-resolved, resolvconf) and is refused.
  - Where systemd-resolved runs (O(host_resolver)), O(resolv_conf=true) leaves C(/etc/resolv.conf) to it and sets
    the VPN interface O(link) instead, with C(resolvectl) - its DNS servers are O(link_dns) (this host's addresses on
    the link, where dnsmasq then answers too) and its routing domains C(~)O(domain), C(~) each match domain of
    O(forward), and the O(search_domains); only those names go to the overlay. resolved forgets a link's settings
    when the link goes, so they are also written as the drop-in
    C(/etc/systemd/system/wg-quick@<link>.service.d/meshforge-dns-<name>.conf), whose C(ExecStartPost) lines set
    them again after every start of the tunnel (a reboot included). Turning it off, or O(state=absent), removes the
    drop-in and reverts the link (C(resolvectl revert)).
  - O(state=absent) stops the instance, removes its files and gives back C(/etc/resolv.conf).
author:
  - meshforge developers (@meshforge)
attributes:
  check_mode:
    support: full
    description: Predicts exactly the C(changed) a real run reports, start, restart and reload included.
  diff_mode:
    support: full
    description: The options file, the hosts text and C(/etc/resolv.conf) before and after.
  platform:
    platforms: linux
    support: full
    description: Linux with C(dnsmasq) 2.80 or later (Debian package C(dnsmasq-base)).
extends_documentation_fragment:
  - meshforge.vpn.audit
options:
  name:
    description: The instance, a DNS label; it names the files, the unit and the pid file.
    type: str
    required: true
  state:
    description: V(present) runs the instance as asked, V(absent) stops it and removes all it wrote.
    type: str
    choices: [present, absent]
    default: present
  listen:
    description: The addresses it answers on, each an IPv4 or IPv6 address (required when O(state=present)).
    type: list
    elements: str
  port:
    description: The port it answers on.
    type: int
    default: 53
  domain:
    description:
      - The mesh domain, e.g. V(mesh.example). Answered from O(hosts) only; a name of it that O(hosts) does not
        hold is answered as not existing, never sent upstream. Required when O(state=present).
    type: str
  hosts:
    description:
      - The records, as a hosts file text, one C(address name) a line ending with a newline; every address and name
        is checked.
    type: str
    default: ''
  forward:
    description: Match domains (split DNS) and the nameservers that answer them, like NetBird's nameserver groups.
    type: list
    elements: dict
    default: []
    suboptions:
      domains:
        description: The match domains.
        type: list
        elements: str
        required: true
      nameservers:
        description: Their nameservers, IP addresses (port 53).
        type: list
        elements: str
        required: true
  upstream:
    description:
      - The nameservers for every other name, IP addresses (port 53).
      - Omitted, the nameservers of the host's original C(/etc/resolv.conf) (without the addresses of O(listen)).
        V([]) forwards nothing.
    type: list
    elements: str
  search_domains:
    description: Search domains put first on the C(search) line of C(/etc/resolv.conf) (with O(resolv_conf) only).
    type: list
    elements: str
    default: []
  resolv_conf:
    description: Make the host resolve through this instance (see the description); requires O(port=53).
    type: bool
    default: false
  link:
    description:
      - The VPN interface (a C(wg-quick@) one) that gets per-link DNS where systemd-resolved runs; without it the host
        resolves through C(/etc/resolv.conf) only.
    type: str
  link_default_route:
    description:
      - Where systemd-resolved runs, also give O(link) the routing domain C(~.), so that every name goes to this
        instance (which sends the names outside O(domain) and O(forward) to O(upstream)); for a primary nameserver.
    type: bool
    default: false
  link_dns:
    description:
      - The link's DNS servers, this host's addresses on O(link) (dnsmasq answers on them too); resolved asks them
        through the link, so a loopback address is refused.
      - Omitted, the addresses of O(listen) that are not loopback ones.
    type: list
    elements: str
  host_resolver:
    description:
      - How O(resolv_conf) makes the host resolve through this instance. V(resolved) sets O(link) in
        systemd-resolved, V(resolv_conf) rewrites C(/etc/resolv.conf), V(auto) picks V(resolved) where O(link) is
        given and systemd-resolved runs.
    type: str
    choices: [auto, resolv_conf, resolved]
    default: auto
  manager:
    description: V(systemd) uses a unit, V(daemon) supervises dnsmasq itself, V(auto) picks by whether systemd runs.
    type: str
    choices: [auto, systemd, daemon]
    default: auto
  config_dir:
    description:
      - Where the options, the hosts text and the copy of C(/etc/resolv.conf) are kept; made 0755, because dnsmasq
        reads the hosts text after it dropped root.
      - An absolute path without V(.), V(..) or empty components; it must not be a symlink, and a symlink
        along the way is followed only when root made it in a directory no other user can change.
    type: path
    default: /etc/meshforge-dns
  run_dir:
    description:
      - Where the supervised daemon keeps C(<name>.pid) and C(<name>.log) (without systemd only); one per network
        namespace when several share a file system.
      - An absolute path, as for O(config_dir).
    type: path
    default: /run/meshforge-dns
'''

EXAMPLES = r'''
- name: Answer mesh.example on the overlay, corp.example through the office's DNS server
  meshforge.vpn.dns_resolver:
    name: mesh
    listen: [10.88.0.1]
    domain: mesh.example
    hosts: |
      10.88.0.1 hub.mesh.example
      10.88.0.2 branch.mesh.example
    forward:
      - domains: [corp.example]
        nameservers: [10.1.2.3]
    upstream: [192.0.2.53]

- name: The host's own stub; other names go where they went before
  meshforge.vpn.dns_resolver:
    name: stub
    listen: [127.0.0.53]
    domain: mesh.example
    hosts: "{{ mesh_hosts_text }}"
    resolv_conf: true

- name: Give the host its resolver back
  meshforge.vpn.dns_resolver:
    name: stub
    state: absent
'''

RETURN = r'''
audit:
  description:
    - What the run changed (or in check mode would change), one record per change with C(resource), C(object),
      C(change) and C(detail); files written or removed included.
  returned: always
  type: list
  elements: dict
  sample: [{resource: dns_resolver, object: mesh, change: reloaded records, detail: dnsmasq}]
manager:
  description: How dnsmasq is run, V(systemd) or V(daemon).
  returned: success
  type: str
started:
  description: Whether dnsmasq was (or would be) started because it was not running.
  returned: success
  type: bool
restarted:
  description: Whether dnsmasq was (or would be) restarted to read changed options.
  returned: success
  type: bool
reloaded:
  description: Whether dnsmasq was (or would be) sent SIGHUP to read a changed hosts text.
  returned: success
  type: bool
stopped:
  description: Whether dnsmasq was (or would be) stopped (O(state=absent)).
  returned: success
  type: bool
resolv_conf:
  description: What happened to C(/etc/resolv.conf), V(pointed), V(restored) or V(unchanged).
  returned: success
  type: str
host_resolver:
  description: How the host resolves through the instance, V(resolved), V(resolv_conf) or V(none).
  returned: success
  type: str
link:
  description: The link's settings in systemd-resolved, C(name), C(dns) and C(domains).
  returned: success and the host resolves through systemd-resolved
  type: dict
  sample: {name: wg0, dns: [10.88.0.1], domains: ['~mesh.example']}
upstream:
  description: The nameservers every other name goes to.
  returned: success and state is present
  type: list
  elements: str
records:
  description: The number of lines of the hosts text.
  returned: success and state is present
  type: int
pid:
  description: The supervised dnsmasq's pid (daemon manager).
  returned: success, manager is daemon and dnsmasq runs
  type: int
persisted:
  description: Whether a file was (or would be) written or removed.
  returned: success
  type: bool
'''

from ansible.module_utils.basic import AnsibleModule

from ansible_collections.meshforge.vpn.plugins.module_utils import audit
from ansible_collections.meshforge.vpn.plugins.module_utils.common import run_module
from ansible_collections.meshforge.vpn.plugins.module_utils.dns import resolver


def main():
    module = AnsibleModule(
        argument_spec=dict(
            name=dict(type='str', required=True),
            state=dict(type='str', choices=['present', 'absent'], default='present'),
            listen=dict(type='list', elements='str'),
            port=dict(type='int', default=53),
            domain=dict(type='str'),
            hosts=dict(type='str', default=''),
            forward=dict(type='list', elements='dict', default=[], options=dict(
                domains=dict(type='list', elements='str', required=True),
                nameservers=dict(type='list', elements='str', required=True),
            )),
            upstream=dict(type='list', elements='str'),
            search_domains=dict(type='list', elements='str', default=[]),
            resolv_conf=dict(type='bool', default=False),
            link=dict(type='str'),
            link_dns=dict(type='list', elements='str'),
            link_default_route=dict(type='bool', default=False),
            host_resolver=dict(type='str', choices=['auto', 'resolv_conf', 'resolved'], default='auto'),
            manager=dict(type='str', choices=['auto', 'systemd', 'daemon'], default='auto'),
            config_dir=dict(type='path', default=resolver.DEFAULT_CONFIG_DIR),
            run_dir=dict(type='path', default=resolver.DEFAULT_RUN_DIR),
            **audit.argument_spec()
        ),
        required_if=[('state', 'present', ('listen', 'domain'))],
        supports_check_mode=True,
    )
    run_module(module, resolver.manage_resolver, untouched='the host')


if __name__ == '__main__':
    main()
