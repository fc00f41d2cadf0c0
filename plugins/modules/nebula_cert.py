#!/usr/bin/python
# -*- coding: utf-8 -*-
# Copyright: meshforge.vpn contributors
# GNU General Public License v3.0+ (see https://www.gnu.org/licenses/gpl-3.0.txt)

from __future__ import absolute_import, division, print_function

__metaclass__ = type

DOCUMENTATION = r'''
---
module: nebula_cert
short_description: Sign a Nebula host certificate on the controller from the host's public key
version_added: 0.3.0
description:
  - Runs on the controller (an action plugin) with C(nebula-cert). The network's CA is made once, in a directory
    with mode 0700 beside the inventory, its key with mode 0600; the CA key is never sent to a host and never returned.
  - The host's certificate is signed from its public key only (what M(meshforge.vpn.nebula_key) returns), so the
    host's private key never leaves the host. It is written to C(hosts/<name>.crt) in the CA directory.
  - A certificate is signed again only when its name, address, groups, public key or issuer differ from what
    is asked, or it has expired or expires within O(renew_before); otherwise nothing changes.
  - A device outside the inventory is named C(device:<name>) in O(name) (and in O(revoke) and O(retire)); its
    certificate (named C(<name>)) is written to C(devices/<name>.crt), so it never collides with a member's, and its
    bundle to O(bundle_dir) - C(config.yml), C(ca.crt) and C(host.crt), each 0600 in a 0700 directory, written only
    when its text or mode differs. The configuration is rendered by M(meshforge.vpn.nebula_config)'s own checks and
    renderer from O(bundle); its C(pki) names C(ca.crt), C(host.crt) and C(host.key) in the device's directory. The
    device's private key is never on the controller. O(state=absent) deletes the bundle too.
  - Every value is checked before C(nebula-cert) runs; a refused value names its option.
options:
  network:
    description: The Nebula network; the CA's name and its directory's name.
    type: str
    required: true
  name:
    description:
      - The certificate's name (the host's name in the network); required with O(state=present) or V(absent).
      - C(device:<name>) for a device outside the inventory (its certificate is named C(<name>)).
    type: str
  address:
    description:
      - The host's IPv4 overlay address with the network's prefix length, such as V(10.42.0.2/24).
      - Required with O(state=present).
    type: str
  state:
    description:
      - V(present) signs the certificate when it is not current.
      - V(absent) deletes the host's certificate from the CA directory (the host left the network); the CA stays,
        and so do its revoked certificates' fingerprints (no longer under its name).
      - V(revoked) adds the certificates of O(revoke) to the network's revocation record (C(revoked.json) in the CA
        directory) and returns the whole record, to put in every member's C(pki.blocklist); with an empty O(revoke)
        it only reads the record.
    type: str
    choices: [present, absent, revoked]
    default: present
  revoke:
    description:
      - With O(state=revoked), member names (their current certificate in the CA directory is revoked) or certificate
        fingerprints (64 hex digits). An entry already in the record is no change.
    type: list
    elements: str
    default: []
    version_added: 0.4.0
  retire:
    description:
      - With O(state=revoked), the names of hosts leaving the network (before O(state=absent) deletes their
        certificates). The certificate the CA directory still has for each, and its replaced ones not yet expired,
        are revoked like a name of O(revoke); a name with no certificate (never signed, or already deleted) is no
        change, so a removal run repeated changes nothing.
    type: list
    elements: str
    default: []
    version_added: 0.4.0
  public_key:
    description:
      - The host's public key in PEM, as M(meshforge.vpn.nebula_key) returns it.
      - Omitted, the key of the certificate the CA directory already holds for O(name) (a re-run need not ask the
        host, M(meshforge.vpn.nebula_config) checks the host still has that pair with its O(meshforge.vpn.nebula_config#module:public_key));
        with no certificate, required, except in check mode, where none (a new host's key is not made yet) predicts a
        signature.
    type: str
  groups:
    description: Certificate groups, used by Nebula's firewall rules; letters, digits, V(_), V(.) and V(-).
    type: list
    elements: str
    default: []
  duration:
    description: How long the certificate is valid, in seconds or with an V(s), V(m), V(h) or V(d) suffix; not zero.
    type: str
    default: 8760h
  ca_duration:
    description: How long a new CA is valid (used only when the CA is made).
    type: str
    default: 87600h
  renew_before:
    description:
      - Sign again a certificate that expires within this time (seconds, or with an V(s), V(m), V(h) or V(d) suffix),
        so that hosts get the new one (C(nebula_config) makes nebula read it on SIGHUP, tunnels stay up) before the
        old one expires. Shorter than O(duration). V(0s) signs again only an expired certificate.
    type: str
    default: 0s
    version_added: 0.3.0
  ca_dir:
    description: The CA directory; by default C(nebula-ca/<network>) beside the inventory (the playbook when there is none).
    type: path
  bundle:
    description:
      - For a device (O(name) C(device:<name>)) with O(state=present), required - the options of its configuration,
        with M(meshforge.vpn.nebula_config)'s names and checks (C(listen_port), C(lighthouses), C(static_host_map),
        C(relays), C(inbound), C(outbound), C(blocklist), ...), and C(config_dir), where the device keeps the files
        (by default C(/etc/nebula/<network>)).
      - The P(meshforge.vpn.nebula_mesh_plan#filter) filter's C(devices) give them.
    type: dict
    version_added: 0.4.0
  bundle_dir:
    description: For a device, the bundle's directory on the controller; by default C(nebula-devices/<network>/<name>) beside the inventory.
    type: path
    version_added: 0.4.0
extends_documentation_fragment:
  - meshforge.vpn.attributes.controller
attributes:
  diff_mode:
    support: full
    description: Says whether the CA is made and what the certificate will say; a device's configuration; never a key.
seealso:
  - module: meshforge.vpn.nebula_key
author:
  - meshforge developers (@meshforge)
'''

EXAMPLES = r'''
- name: Make the host's key pair on the host
  meshforge.vpn.nebula_key:
    path: /etc/nebula/mesh.key
  register: nebula_host_key

- name: Sign its certificate on the controller
  meshforge.vpn.nebula_cert:
    network: mesh
    name: "{{ inventory_hostname }}"
    address: 10.42.0.2/24
    groups: [web]
    public_key: "{{ nebula_host_key.public_key }}"
  register: nebula_host_cert

- name: Revoke web2's current certificate and an old one by fingerprint; read the whole record
  meshforge.vpn.nebula_cert:
    network: mesh
    state: revoked
    revoke: [web2, c99d4e650533b92061b09918e838a5a0a6aaee21eed1d12fd937682865936c72]
  register: nebula_revoked

- name: Sign a laptop's certificate from the public key it made, and write its bundle
  meshforge.vpn.nebula_cert:
    network: mesh
    name: device:laptop1
    address: 10.42.0.9/24
    groups: [web]
    public_key: "{{ lookup('ansible.builtin.file', 'laptop1.pub') }}"
    bundle:
      listen_port: 0
      lighthouses: [10.42.0.1]
      static_host_map: {10.42.0.1: ["198.51.100.1:4242"]}
      inbound: [{port: any, proto: icmp, host: any}]
'''

RETURN = r'''
ca_created:
  description: Whether the CA was made by this run (in check mode, would be).
  returned: with O(state=present)
  type: bool
signed:
  description: Whether the certificate was signed by this run (in check mode, would be).
  returned: with O(state=present)
  type: bool
certificate:
  description: The host's certificate in PEM. None in check mode when it would be signed.
  returned: with O(state=present)
  type: str
ca_certificate:
  description: The CA's certificate in PEM (public). None in check mode when the certificate would be signed.
  returned: with O(state=present)
  type: str
fingerprint:
  description: The certificate's fingerprint, as C(nebula-cert print) shows it.
  returned: with O(state=present)
  type: str
not_after:
  description: When the certificate expires (UTC).
  returned: with O(state=present)
  type: str
  sample: "2027-12-05T17:01:46Z"
replaced:
  description:
    - The fingerprint of the certificate a new signature replaced (a re-enrolment, a renewal, changed groups); none
      when nothing was signed or there was no certificate before.
  returned: with O(state=present)
  type: str
revoked:
  description: The revocation record, C(fingerprint) and C(name) (none for a fingerprint given as such or whose host left).
  returned: with O(state=revoked)
  type: list
  elements: dict
blocklist:
  description: Every revoked fingerprint, for C(pki.blocklist) (O(meshforge.vpn.nebula_config#module:blocklist)).
  returned: with O(state=revoked)
  type: list
  elements: str
certificates:
  description:
    - The members with a certificate in the CA directory; a role signs again for the key of that certificate
      without asking the host for its public key (O(public_key) omitted).
  returned: with O(state=revoked)
  type: list
  elements: str
  version_added: 0.4.0
public_key:
  description: The public key the certificate is (or would be) signed for, in PEM; none in check mode for a new host.
  returned: with O(state=present)
  type: str
  version_added: 0.4.0
ca_dir:
  description: The CA directory on the controller.
  returned: always
  type: str
bundle_dir:
  description: The device's bundle directory on the controller.
  returned: for a device with O(state=present)
  type: str
  version_added: 0.4.0
bundle_files:
  description: The bundle's files written by this run (in check mode, that would be), V(.) for the directory itself.
  returned: for a device with O(state=present)
  type: list
  elements: str
  sample: [config.yml]
  version_added: 0.4.0
'''
