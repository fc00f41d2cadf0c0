#!/usr/bin/python
# -*- coding: utf-8 -*-
# Copyright: meshforge.vpn contributors
# GNU General Public License v3.0+ (see https://www.gnu.org/licenses/gpl-3.0.txt)

from __future__ import absolute_import, division, print_function

__metaclass__ = type

DOCUMENTATION = r'''
---
module: ipsec_connection
short_description: Make one strongSwan (swanctl) IPsec connection in the running charon match its description
version_added: 0.2.0
description:
  - Validates every option first (proposals against strongSwan's proposal grammar, traffic selectors, identities,
    the pre-shared key), so that bad input fails with an error naming the option and nothing is written or loaded.
  - Reads the connection as the running charon holds it (VICI C(list-conns)) and loads it with C(load-conn) only
    when it differs or the persisted file differs. An unchanged connection is not reloaded, so its SAs are not torn
    down by a re-run.
  - Persists the connection in C(/etc/swanctl/conf.d/<name>.conf) and the pre-shared key separately in
    C(/etc/swanctl/conf.d/<name>.secrets.conf), both mode 0600, so that C(swanctl --load-all) loads the same at boot.
  - Weak algorithms (DES, 3DES, Blowfish, CAST, NULL, MD5, SHA-1 integrity and PRF, SHA-256/96, GCM with a 64-bit ICV,
    GMAC, MODP groups under 2048 bits and groups 22-25) are refused unless O(allow_weak_crypto=true).
author:
  - meshforge developers (@meshforge)
attributes:
  diff_mode:
    support: full
    description: Shows the configuration file and whether charon holds the connection; never the pre-shared key.
  platform:
    platforms: linux
    support: full
    description: strongSwan's charon (C(charon-systemd) or C(charon)) with the vici plugin.
requirements:
  - The C(vici) Python package (strongSwan's VICI client, e.g. C(vici==6.0.3)) for the Python that runs the module.
extends_documentation_fragment:
  - meshforge.vpn.audit
  - meshforge.vpn.attributes.charon
  - meshforge.vpn.vici
options:
  name:
    description: Connection name; also names its files. 1 to 64 letters, digits, C(_) and C(-).
    type: str
    required: true
  state:
    description:
      - V(absent) unloads the connection, closes its SAs, unloads its pre-shared key and removes its files.
    type: str
    choices: [present, absent]
    default: present
  version:
    description: IKE major version.
    type: int
    choices: [1, 2]
    default: 2
  local_addrs:
    description: Local addresses for IKE (IP addresses, DNS names or CIDR prefixes); empty means any (V(%any)).
    type: list
    elements: str
    default: []
  remote_addrs:
    description:
      - Remote addresses for IKE. V(%any) (or empty) accepts any peer, for a responder.
    type: list
    elements: str
    default: []
  local_id:
    description: Local IKE identity (IP address, FQDN, V(@fqdn), email or DN); charon uses the local address when omitted.
    type: str
  remote_id:
    description: Remote IKE identity; V(%any) accepts any.
    type: str
  auth:
    description: V(psk) authenticates with a pre-shared key, V(pubkey) with X.509 certificates.
    type: str
    choices: [psk, pubkey]
    default: psk
  psk:
    description:
      - The pre-shared key, at least 20 characters unless O(allow_short_psk=true). Required with O(auth=psk).
      - Never returned, logged or shown in a diff.
    type: str
  allow_short_psk:
    description: Accept a pre-shared key shorter than 20 characters.
    type: bool
    default: false
  local_certs:
    description:
      - With O(auth=pubkey), the local certificate files, directly in C(/etc/swanctl/x509) (a bare file name is taken
        relative to it).
    type: list
    elements: str
    default: []
  local_key:
    description:
      - With O(auth=pubkey), the private key file, directly in C(/etc/swanctl/private) (where C(swanctl --load-all)
        finds it at boot). Loaded into charon with the connection; its content is never returned.
    type: str
  remote_cacerts:
    description: With O(auth=pubkey), CA certificates the peer's certificate must chain to, directly in C(/etc/swanctl/x509ca).
    type: list
    elements: str
    default: []
  proposals:
    description:
      - IKE proposals in strongSwan's syntax, e.g. V(aes256gcm16-prfsha384-ecp384). V(default) stands for strongSwan's own.
      - When omitted, V(aes256gcm16-aes128gcm16-prfsha384-prfsha256-ecp384-curve25519) (IKEv2), or
        V(aes256-sha384-ecp384) and V(aes128-sha256-ecp256) (IKEv1, which has no AEAD for IKE).
    type: list
    elements: str
  allow_weak_crypto:
    description: Accept weak algorithms in O(proposals) and O(children[].esp_proposals).
    type: bool
    default: false
  dpd_delay:
    description: Interval of dead peer detection checks, in seconds or with a unit (V(30s), V(1m)); V(0) disables DPD.
    type: raw
    default: 30
  dpd_action:
    description:
      - Default for every child's O(children[].dpd_action).
    type: str
    choices: [clear, trap, restart]
  rekey_time:
    description: IKE SA rekeying interval (seconds, or with a unit s, m, h, d).
    type: raw
    default: 14400
  reauth_time:
    description: IKE SA reauthentication interval; V(0) (the default) does not reauthenticate.
    type: raw
    default: 0
  over_time:
    description: Hard IKE SA lifetime beyond O(rekey_time) or O(reauth_time); strongSwan's default (10% of the longer) when omitted.
    type: raw
  mobike:
    description: Enable MOBIKE (IKEv2).
    type: bool
    default: true
  encap:
    description: Force UDP encapsulation of ESP (port 4500), e.g. where ESP is filtered or charon uses C(kernel-libipsec).
    type: bool
    default: false
  keyingtries:
    description:
      - How many times charon tries to establish the IKE SA before it gives up; V(0) keeps trying.
      - The default V(0) differs from strongSwan's (1). A gateway that starts while its peer is still down keeps
        trying (after a reboot of both sites, for example) instead of waiting for the next run.
    type: int
    default: 0
  children:
    description: The CHILD SAs (pairs of traffic selectors) of the connection; at least one. Required with O(state=present).
    type: list
    elements: dict
    suboptions:
      name:
        description: Child name, 1 to 64 letters, digits, C(_) and C(-).
        type: str
        required: true
      local_ts:
        description: Local traffic selectors, CIDR prefixes (V(10.1.0.0/16), V(fd01::/64)).
        type: list
        elements: str
        required: true
      remote_ts:
        description: Remote traffic selectors, CIDR prefixes.
        type: list
        elements: str
        required: true
      mode:
        description: IPsec mode.
        type: str
        choices: [tunnel, transport]
        default: tunnel
      start_action:
        description:
          - What charon does once the connection is loaded. V(start) initiates it, V(trap) installs policies that
            initiate it on traffic, V(none) waits for the peer.
        type: str
        choices: [none, trap, start]
        default: none
      close_action:
        description:
          - What charon does when the peer closes the CHILD SA (or its IKE SA), e.g. when the peer restarts.
            V(start) initiates it again, V(trap) installs policies, V(none) leaves it closed.
        type: str
        choices: [none, trap, start]
        default: none
      esp_proposals:
        description:
          - ESP proposals, e.g. V(aes256gcm16-ecp384) (a group means PFS when rekeying).
          - When omitted, V(aes256gcm16-aes128gcm16-ecp384-curve25519).
        type: list
        elements: str
      rekey_time:
        description: CHILD SA rekeying interval (seconds, or with a unit).
        type: raw
        default: 3600
      life_time:
        description: Hard CHILD SA lifetime; longer than O(children[].rekey_time). strongSwan's default when omitted.
        type: raw
      dpd_action:
        description:
          - What happens to the child when DPD finds the peer dead. When neither this nor O(dpd_action) is given,
            V(restart) for O(children[].start_action=start), V(trap) for V(trap), V(clear) for V(none).
        type: str
        choices: [clear, trap, restart]
notes:
  - Every value that reaches a configuration file is validated first; newlines, braces, brackets, quotes and control
    characters are refused, so no option can inject a line or a section into swanctl.conf.
  - charon does not report proposals, start actions and a few other settings of a loaded connection; those are compared
    through the persisted file, which this module rewrites only after charon accepted the connection.
  - The pre-shared key is loaded with the id C(ike-<name>), the id C(swanctl --load-all) gives the C(secrets) section
    of the same name, so both replace one and the same key.
seealso:
  - module: meshforge.vpn.ipsec_info
  - name: swanctl.conf
    description: strongSwan's connection configuration reference.
    link: https://docs.strongswan.org/docs/5.9/swanctl/swanctlConf.html
  - name: Proposals
    description: strongSwan's algorithm keywords.
    link: https://docs.strongswan.org/docs/5.9/config/proposals.html
'''

EXAMPLES = r'''
- name: Site-to-site tunnel to branch-1 with a pre-shared key, started at once
  meshforge.vpn.ipsec_connection:
    name: branch-1
    local_addrs: [198.51.100.10]
    remote_addrs: [203.0.113.20]
    local_id: hq.example.net
    remote_id: branch-1.example.net
    psk: "{{ vault_branch1_psk }}"
    children:
      - name: lan
        local_ts: [10.1.0.0/16]
        remote_ts: [10.20.0.0/24]
        start_action: start

- name: Responder for any peer with certificates
  meshforge.vpn.ipsec_connection:
    name: roadwarriors
    remote_addrs: ['%any']
    auth: pubkey
    local_id: vpn.example.net
    local_certs: [vpn.example.net.pem]
    local_key: vpn.example.net.key
    remote_cacerts: [example-ca.pem]
    proposals: [aes256gcm16-prfsha384-ecp384]
    children:
      - name: net
        local_ts: [10.1.0.0/16]
        remote_ts: [10.99.0.0/16]
        esp_proposals: [aes256gcm16-ecp384]

- name: Remove branch-1, closing its SAs
  meshforge.vpn.ipsec_connection:
    name: branch-1
    state: absent
'''

RETURN = r'''
audit:
  description:
    - What the run changed (or in check mode would change), as an auditor reads it, one record per change with
      C(resource), C(object), C(change) and C(detail). Never a pre-shared key.
  returned: always
  type: list
  elements: dict
  sample: [{resource: ipsec_connection, object: west-east, change: tunnel loaded, detail: "net, proposals aes256gcm16 (no file)"}]
name:
  description: The connection's name.
  returned: always
  type: str
loaded:
  description: Whether the connection was (or in check mode would be) loaded into charon.
  returned: always
  type: bool
reasons:
  description: Why it was loaded or changed; empty when nothing changed.
  returned: always
  type: list
  elements: str
  sample: ["rekey_time", "configuration file differs"]
config_file:
  description: Path of the persisted swanctl configuration file.
  returned: always
  type: str
  sample: /etc/swanctl/conf.d/branch-1.conf
secrets_file:
  description: Path of the file holding the pre-shared key; null with O(auth=pubkey).
  returned: always
  type: str
  sample: /etc/swanctl/conf.d/branch-1.secrets.conf
config_changed:
  description: Whether the configuration file was (or would be) written or removed.
  returned: always
  type: bool
secrets_changed:
  description: Whether the secrets file was (or would be) written or removed.
  returned: always
  type: bool
persisted:
  description: Whether the configuration file or the secrets file was (or would be) written or removed.
  returned: always
  type: bool
terminated:
  description: Unique ids of the IKE SAs that were closed.
  returned: when O(state=absent)
  type: list
  elements: int
'''

from ansible.module_utils.basic import AnsibleModule

from ansible_collections.meshforge.vpn.plugins.module_utils import audit
from ansible_collections.meshforge.vpn.plugins.module_utils.common import run_module
from ansible_collections.meshforge.vpn.plugins.module_utils.strongswan import connection
from ansible_collections.meshforge.vpn.plugins.module_utils.strongswan import schema

ACTIONS = ['clear', 'trap', 'restart']


def main():
    module = AnsibleModule(
        argument_spec=dict(
            name=dict(type='str', required=True),
            state=dict(type='str', choices=['present', 'absent'], default='present'),
            vici_socket=dict(type='str', default=schema.DEFAULT_SOCKET),
            version=dict(type='int', choices=[1, 2], default=2),
            local_addrs=dict(type='list', elements='str', default=[]),
            remote_addrs=dict(type='list', elements='str', default=[]),
            local_id=dict(type='str'),
            remote_id=dict(type='str'),
            auth=dict(type='str', choices=['psk', 'pubkey'], default='psk'),
            psk=dict(type='str', no_log=True),
            allow_short_psk=dict(type='bool', default=False),
            local_certs=dict(type='list', elements='str', default=[]),
            local_key=dict(type='str', no_log=False),
            remote_cacerts=dict(type='list', elements='str', default=[]),
            proposals=dict(type='list', elements='str'),
            allow_weak_crypto=dict(type='bool', default=False),
            dpd_delay=dict(type='raw', default=30),
            dpd_action=dict(type='str', choices=ACTIONS),
            rekey_time=dict(type='raw', default=14400, no_log=False),
            reauth_time=dict(type='raw', default=0),
            over_time=dict(type='raw'),
            mobike=dict(type='bool', default=True),
            encap=dict(type='bool', default=False),
            keyingtries=dict(type='int', default=0, no_log=False),
            children=dict(type='list', elements='dict', options=dict(
                name=dict(type='str', required=True),
                local_ts=dict(type='list', elements='str', required=True),
                remote_ts=dict(type='list', elements='str', required=True),
                mode=dict(type='str', choices=['tunnel', 'transport'], default='tunnel'),
                start_action=dict(type='str', choices=['none', 'trap', 'start'], default='none'),
                close_action=dict(type='str', choices=['none', 'trap', 'start'], default='none'),
                esp_proposals=dict(type='list', elements='str'),
                rekey_time=dict(type='raw', default=3600, no_log=False),
                life_time=dict(type='raw'),
                dpd_action=dict(type='str', choices=ACTIONS),
            )),
            **audit.argument_spec()
        ),
        required_if=[('state', 'present', ['children'])],
        supports_check_mode=True,
    )
    run_module(module, connection.manage_connection)


if __name__ == '__main__':
    main()
