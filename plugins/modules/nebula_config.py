#!/usr/bin/python
# -*- coding: utf-8 -*-
# Copyright: meshforge.vpn contributors
# GNU General Public License v3.0+ (see https://www.gnu.org/licenses/gpl-3.0.txt)

from __future__ import absolute_import, division, print_function

__metaclass__ = type

DOCUMENTATION = r'''
---
module: nebula_config
short_description: One Nebula network of a host, its configuration, certificates and running nebula
version_added: 0.3.0
description:
  - Writes C(<config_dir>/<network>.yml) (mode 0600, it names the key file) from the options, dumped as data by a
    YAML dumper after every value was checked, so that no value can add a key or a line to it; and, beside it, the
    host certificate C(<network>.crt) and the CA certificate C(<network>-ca.crt) (mode 0644, public).
  - Makes nebula run with it. Where systemd runs (O(manager=auto) finds C(/run/systemd/system)), enables and starts
    the unit C(nebula@<network>), with the drop-in C(/etc/systemd/system/nebula@<network>.service.d/meshforge.conf)
    that runs nebula itself as the unit's main process (Debian's launcher does not exec it, so the unit's SIGHUP would
    kill the launcher and stop the network). Where it does not (containers, network-namespace hosts), starts nebula in a session
    of its own with its pid in O(run_dir)C(/nebula-<network>.pid) and its output in
    O(run_dir)C(/nebula-<network>.log), and starts it again when it died. A pid is taken for this network's nebula
    only when it is alive, runs nebula and shares this network namespace.
  - A changed file makes nebula read its configuration and certificates again (SIGHUP, C(systemctl reload)); a changed
    TUN device or listen socket, which nebula does not take on SIGHUP, restarts it. A re-run with nothing changed
    touches nothing, so tunnels stay up.
  - The private key (made on the host by M(meshforge.vpn.nebula_key)) is never read, returned or written by this
    module; it must exist with mode 0600.
  - O(state=absent) stops nebula and removes the files it wrote (and the console's keys); the host key stays
    (M(meshforge.vpn.nebula_key) removes it).
attributes:
  check_mode:
    support: full
    description: Predicts exactly the C(changed) a real run reports, and whether nebula would be started, reloaded or restarted.
  diff_mode:
    support: full
    description: Shows the configuration file before and after, and which certificate files change.
  platform:
    platforms: linux
    support: full
    description: Nebula 1.6 (Debian's C(nebula) package) and PyYAML on the host.
options:
  network:
    description: The network's name; the file names and the unit instance. Letters, digits, V(_), V(.), V(-).
    type: str
    required: true
  state:
    description: V(present) writes the files and runs nebula; V(absent) stops it and removes the files.
    type: str
    choices: [present, absent]
    default: present
  config_dir:
    description:
      - Where the files are. With systemd it must be C(/etc/nebula), where C(nebula@.service) reads them.
      - An absolute path without V(.), V(..) or empty components, not a symlink.
    type: path
    default: /etc/nebula
  key_path:
    description: The host's private key (M(meshforge.vpn.nebula_key)); by default C(<config_dir>/<network>.key).
    type: path
  public_key:
    description:
      - The public key the O(certificate) was signed for, in PEM (M(meshforge.vpn.nebula_cert) returns it). When
        given, the host's public key file (O(public_key_path), written beside the private key by
        M(meshforge.vpn.nebula_key)) must hold it, else the module fails with RV(key_mismatch) before anything is
        changed, also in check mode, so a role that signed from a key it remembered makes the pair and signs again.
    type: str
    version_added: 0.4.0
  public_key_path:
    description: The host's public key file; by default O(key_path) with C(.key) replaced by C(.pub).
    type: path
    version_added: 0.4.0
  certificate:
    description: The host certificate in PEM (M(meshforge.vpn.nebula_cert)). Required with O(state=present).
    type: str
  ca_certificate:
    description: The CA certificate(s) in PEM that the host trusts. Required with O(state=present).
    type: str
  interface:
    description: The TUN device; by default C(neb-<network>) (at most 15 characters).
    type: str
  mtu:
    description: The TUN device's MTU.
    type: int
    default: 1300
  listen_host:
    description: The underlay address nebula listens on.
    type: str
    default: 0.0.0.0
  listen_port:
    description: The UDP port nebula listens on; V(0) picks one (not for lighthouses or relays).
    type: int
    default: 4242
  am_lighthouse:
    description: This host is a lighthouse.
    type: bool
    default: false
  lighthouses:
    description: The overlay addresses of the lighthouses this host asks (empty on a lighthouse).
    type: list
    elements: str
    default: []
  lighthouse_interval:
    description: Seconds between reports to the lighthouses.
    type: int
    default: 60
  static_host_map:
    description: Overlay address to a list of underlay C(host:port) (at least the lighthouses' and the relays').
    type: dict
    default: {}
  am_relay:
    description: This host relays for others.
    type: bool
    default: false
  relays:
    description: The overlay addresses of the relays that others may reach this host through (empty on a relay).
    type: list
    elements: str
    default: []
  use_relays:
    description: Reach others through their relays when no direct path works.
    type: bool
    default: true
  punch:
    description: Punch through NAT (C(punchy.punch) and C(punchy.respond)).
    type: bool
    default: true
  inbound:
    description:
      - Nebula firewall rules for traffic to this host; keys C(port) (V(any), a port, C(low-high) or V(fragment)),
        C(proto) (V(any), V(tcp), V(udp), V(icmp)), and at least one of C(host) (a certificate name or V(any)),
        C(group), C(groups) (certificate groups, all of them must match) and C(cidr) (an IPv4 overlay network).
      - Not set, ICMP from anyone is allowed; an empty list allows nothing.
    type: list
    elements: dict
  outbound:
    description: Rules for traffic from this host, as O(inbound). Not set, everything is allowed.
    type: list
    elements: dict
  blocklist:
    description:
      - Certificate fingerprints (64 hex digits, as C(nebula-cert print) shows them) nebula refuses (C(pki.blocklist)).
      - Tunnels open to a certificate on the list (nebula 1.6 keeps them after SIGHUP) are closed through nebula's
        console after the reload, so O(sshd_port) must be set for that; a re-run finds none and changes nothing.
    type: list
    elements: str
    default: []
  sshd_port:
    description:
      - A TCP port on C(127.0.0.1) for nebula's debug console, which M(meshforge.vpn.nebula_info) reads the live
        state from; V(0) turns it off.
      - Its two ed25519 key pairs (nebula's host key C(<network>-sshd-host.key), the one key allowed to log in
        C(<network>-sshd-client.key)) are made on the host with C(ssh-keygen), private keys 0600, never read or
        returned; O(state=absent) removes them.
    type: int
    default: 0
  log_level:
    description: nebula's log level.
    type: str
    choices: [panic, fatal, error, warning, info, debug]
    default: info
  manager:
    description: V(systemd) uses the unit, V(daemon) supervises nebula itself, V(auto) picks by whether systemd runs.
    type: str
    choices: [auto, systemd, daemon]
    default: auto
  run_dir:
    description: Where the supervised nebula keeps its pid and log files (without systemd only).
    type: path
    default: /run/meshforge-vpn
extends_documentation_fragment:
  - meshforge.vpn.audit
seealso:
  - module: meshforge.vpn.nebula_key
  - module: meshforge.vpn.nebula_cert
  - module: meshforge.vpn.nebula_info
author:
  - meshforge developers (@meshforge)
'''

EXAMPLES = r'''
- name: A node of the network mesh, one lighthouse, web servers may reach it on tcp/5432
  meshforge.vpn.nebula_config:
    network: mesh
    certificate: "{{ nebula_host_cert.certificate }}"
    ca_certificate: "{{ nebula_host_cert.ca_certificate }}"
    lighthouses: [10.42.0.1]
    static_host_map:
      10.42.0.1: ["198.51.100.1:4242"]
    inbound:
      - {port: any, proto: icmp, host: any}
      - {port: 5432, proto: tcp, group: web}

- name: Stop it and remove its files
  meshforge.vpn.nebula_config:
    network: mesh
    state: absent
'''

RETURN = r'''
network:
  description: The network.
  returned: always
  type: str
manager:
  description: How nebula runs, V(systemd) or V(daemon).
  returned: success
  type: str
config:
  description: The configuration file.
  returned: success
  type: str
  sample: /etc/nebula/mesh.yml
interface:
  description: The TUN device.
  returned: success and state is present
  type: str
started:
  description: Whether nebula was (or would be) started because it was not running.
  returned: success
  type: bool
reloaded:
  description: Whether nebula was (or would be) sent SIGHUP to read changed files.
  returned: success
  type: bool
restarted:
  description: Whether nebula was (or would be) restarted (its TUN device or listen socket changed).
  returned: success
  type: bool
stopped:
  description: Whether nebula was (or would be) stopped (O(state=absent)).
  returned: success
  type: bool
closed:
  description: The overlay addresses whose tunnels were (or would be) closed because their certificate is on O(blocklist).
  returned: success
  type: list
  elements: str
  sample: [10.42.0.4]
pid:
  description: The supervised nebula's pid (daemon manager); None in check mode before it started.
  returned: success
  type: int
audit:
  description: One record per change (C(resource), C(object), C(change), C(detail)), also in check mode; never a key.
  returned: always
  type: list
  elements: dict
persisted:
  description: Whether a file was (or would be) written or removed.
  returned: always
  type: bool
key_mismatch:
  description: Set on failure when the host's public key file is missing or is not O(public_key); nothing was changed.
  returned: failure
  type: bool
  version_added: 0.4.0
missing_tools:
  description: Set on failure when C(nebula) or C(ssh-keygen) is not installed; a role installs them and retries.
  returned: failure
  type: bool
  version_added: 0.4.0
'''

from ansible.module_utils.basic import AnsibleModule

from ansible_collections.meshforge.vpn.plugins.module_utils import audit
from ansible_collections.meshforge.vpn.plugins.module_utils.common import run_module
from ansible_collections.meshforge.vpn.plugins.module_utils.nebula.config import manage_config

ARGUMENTS = dict(
    audit.argument_spec(),
    network=dict(type='str', required=True),
    state=dict(type='str', choices=['present', 'absent'], default='present'),
    config_dir=dict(type='path', default='/etc/nebula'),
    key_path=dict(type='path'),
    public_key=dict(type='str'),
    public_key_path=dict(type='path'),
    certificate=dict(type='str'),
    ca_certificate=dict(type='str'),
    interface=dict(type='str'),
    mtu=dict(type='int', default=1300),
    listen_host=dict(type='str', default='0.0.0.0'),
    listen_port=dict(type='int', default=4242),
    am_lighthouse=dict(type='bool', default=False),
    lighthouses=dict(type='list', elements='str', default=[]),
    lighthouse_interval=dict(type='int', default=60),
    static_host_map=dict(type='dict', default={}),
    am_relay=dict(type='bool', default=False),
    relays=dict(type='list', elements='str', default=[]),
    use_relays=dict(type='bool', default=True),
    punch=dict(type='bool', default=True),
    inbound=dict(type='list', elements='dict'),
    outbound=dict(type='list', elements='dict'),
    log_level=dict(type='str', choices=['panic', 'fatal', 'error', 'warning', 'info', 'debug'], default='info'),
    manager=dict(type='str', choices=['auto', 'systemd', 'daemon'], default='auto'),
    run_dir=dict(type='path', default='/run/meshforge-vpn'),
    sshd_port=dict(type='int', default=0),
    blocklist=dict(type='list', elements='str', default=[], no_log=False),
)


def main():
    run_module(AnsibleModule(argument_spec=ARGUMENTS, supports_check_mode=True), manage_config)


if __name__ == '__main__':
    main()
