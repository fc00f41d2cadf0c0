#!/usr/bin/python
# -*- coding: utf-8 -*-
# Copyright: meshforge.vpn contributors
# GNU General Public License v3.0+ (see https://www.gnu.org/licenses/gpl-3.0.txt)

from __future__ import absolute_import, division, print_function

__metaclass__ = type

DOCUMENTATION = r'''
---
module: ipsec_info
short_description: Live IPsec SAs and connection status from strongSwan's charon
version_added: 0.2.0
description:
  - Reads what charon holds now over VICI (C(list-sas), C(get-conns)) and returns every IKE SA with its state,
    addresses, identities, negotiated algorithms (encryption, integrity, PRF, DH group), time since establishment
    and time to rekeying, and per CHILD SA its state, traffic selectors, SPIs, bytes and packets in and out, and
    negotiated ESP algorithms.
  - Per loaded connection, whether an IKE SA is established and which children are installed.
  - No key material is returned (charon does not report any).
author:
  - meshforge developers (@meshforge)
attributes:
  platform:
    platforms: linux
    support: full
    description: strongSwan's charon with the vici plugin.
requirements:
  - The C(vici) Python package (strongSwan's VICI client) for the Python that runs the module.
extends_documentation_fragment:
  - meshforge.vpn.attributes.info
  - meshforge.vpn.vici
options:
  name:
    description: One connection; all when omitted.
    type: str
seealso:
  - module: meshforge.vpn.ipsec_connection
'''

EXAMPLES = r'''
- name: Status of every IPsec SA
  meshforge.vpn.ipsec_info:
  register: ipsec

- name: Fail unless branch-1's tunnel carries its lan child
  ansible.builtin.assert:
    that: "'lan' in ipsec.connections['branch-1'].children_installed"
'''

RETURN = r'''
connections:
  description: Status by name of every connection loaded over VICI.
  returned: always
  type: dict
  contains:
    established:
      description: Whether an IKE SA of the connection is established.
      type: bool
    ike_sas:
      description: Number of IKE SAs of the connection, in any state.
      type: int
    children_installed:
      description: Names of the children with an installed CHILD SA.
      type: list
      elements: str
  sample: {"branch-1": {"established": true, "ike_sas": 1, "children_installed": ["lan"]}}
sas:
  description: One entry per IKE SA, ordered by connection name and unique id.
  returned: always
  type: list
  elements: dict
  contains:
    name:
      description: Connection name.
      type: str
    uniqueid:
      description: charon's unique id of the IKE SA; it changes when the SA is re-established.
      type: int
    version:
      description: IKE version.
      type: int
    state:
      description: IKE SA state, e.g. C(ESTABLISHED), C(CONNECTING).
      type: str
    initiator:
      description: Whether this host initiated the IKE SA.
      type: bool
    local_host:
      description: Local IKE address.
      type: str
    local_port:
      description: Local IKE port (4500 once NAT-T or encapsulation is in use).
      type: int
    local_id:
      description: Local identity.
      type: str
    remote_host:
      description: Remote IKE address.
      type: str
    remote_port:
      description: Remote IKE port.
      type: int
    remote_id:
      description: Remote identity.
      type: str
    nat:
      description: Whether a NAT was detected (or faked by forced encapsulation).
      type: bool
    initiator_spi:
      description: IKE initiator SPI (hex).
      type: str
    responder_spi:
      description: IKE responder SPI (hex).
      type: str
    encr_alg:
      description: Negotiated encryption algorithm, e.g. C(AES_GCM_16).
      type: str
    encr_keysize:
      description: Its key size in bits.
      type: int
    integ_alg:
      description: Negotiated integrity algorithm; null with AEAD.
      type: str
    integ_keysize:
      description: Its key size, if any.
      type: int
    prf_alg:
      description: Negotiated PRF, e.g. C(PRF_HMAC_SHA2_384).
      type: str
    dh_group:
      description: Negotiated DH group, e.g. C(ECP_384), C(CURVE_25519).
      type: str
    algorithms:
      description: The negotiated algorithms in one string, as C(swanctl --list-sas) prints them.
      type: str
      sample: AES_GCM_16-256/PRF_HMAC_SHA2_384/ECP_384
    established:
      description: Seconds since the IKE SA was established.
      type: int
    rekey_time:
      description: Seconds until the IKE SA is rekeyed.
      type: int
    reauth_time:
      description: Seconds until it is reauthenticated; null when it is not.
      type: int
    child_sas:
      description: Its CHILD SAs.
      type: list
      elements: dict
      contains:
        name:
          description: Child name.
          type: str
        uniqueid:
          description: charon's unique id of the CHILD SA.
          type: int
        reqid:
          description: Request id.
          type: int
        state:
          description: CHILD SA state, e.g. C(INSTALLED).
          type: str
        mode:
          description: C(TUNNEL) or C(TRANSPORT).
          type: str
        protocol:
          description: C(ESP) or C(AH).
          type: str
        encap:
          description: Whether ESP is UDP-encapsulated.
          type: bool
        spi_in:
          description: Inbound SPI (hex).
          type: str
        spi_out:
          description: Outbound SPI (hex).
          type: str
        encr_alg:
          description: Negotiated ESP encryption algorithm.
          type: str
        encr_keysize:
          description: Its key size.
          type: int
        integ_alg:
          description: Negotiated ESP integrity algorithm; null with AEAD.
          type: str
        integ_keysize:
          description: Its key size, if any.
          type: int
        dh_group:
          description: PFS group used at rekeying, if any.
          type: str
        esn:
          description: Whether extended sequence numbers are used.
          type: bool
        algorithms:
          description: The negotiated ESP algorithms in one string.
          type: str
        bytes_in:
          description: Bytes received.
          type: int
        packets_in:
          description: Packets received.
          type: int
        last_in:
          description: Seconds since the last inbound packet; null when none.
          type: int
        bytes_out:
          description: Bytes sent.
          type: int
        packets_out:
          description: Packets sent.
          type: int
        last_out:
          description: Seconds since the last outbound packet; null when none.
          type: int
        installed:
          description: Seconds since the CHILD SA was installed.
          type: int
        rekey_time:
          description: Seconds until it is rekeyed.
          type: int
        life_time:
          description: Seconds until it expires.
          type: int
        local_ts:
          description: Local traffic selectors.
          type: list
          elements: str
        remote_ts:
          description: Remote traffic selectors.
          type: list
          elements: str
'''

from ansible.module_utils.basic import AnsibleModule

from ansible_collections.meshforge.vpn.plugins.module_utils.common import run_module
from ansible_collections.meshforge.vpn.plugins.module_utils.strongswan import purge
from ansible_collections.meshforge.vpn.plugins.module_utils.strongswan import schema


def main():
    module = AnsibleModule(
        argument_spec=dict(
            name=dict(type='str'),
            vici_socket=dict(type='str', default=schema.DEFAULT_SOCKET),
        ),
        supports_check_mode=True,
    )
    run_module(module, purge.report)


if __name__ == '__main__':
    main()
