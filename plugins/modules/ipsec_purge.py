#!/usr/bin/python
# -*- coding: utf-8 -*-
# Copyright: meshforge.vpn contributors
# GNU General Public License v3.0+ (see https://www.gnu.org/licenses/gpl-3.0.txt)

from __future__ import absolute_import, division, print_function

__metaclass__ = type

DOCUMENTATION = r'''
---
module: ipsec_purge
short_description: Remove the strongSwan connections this collection wrote that are no longer wanted
version_added: 0.2.0
description:
  - Finds the connections that M(meshforge.vpn.ipsec_connection) manages on the host - those whose files in
    C(/etc/swanctl/conf.d) (C(<name>.conf), C(<name>.secrets.conf)) all start with its C(Managed by meshforge.vpn)
    header - and removes every one not named in O(keep) the way O(meshforge.vpn.ipsec_connection#module:state=absent)
    does - unloads it from charon, closes its IKE and CHILD SAs, drops its pre-shared key, deletes its files.
  - Connections the collection did not write (C(swanctl.conf), conf.d files without the header, connections loaded
    over VICI by something else) are never touched, nor is a name any of whose files lacks the header.
  - charon is asked only when something is to be removed, so on a host with nothing to purge the module needs
    neither a running charon nor the C(vici) package. When no charon runs, only the files are removed.
author:
  - meshforge developers (@meshforge)
attributes:
  diff_mode:
    support: full
    description: The managed connection names before and after.
  platform:
    platforms: linux
    support: full
    description: strongSwan's charon with the vici plugin (only when something is to be removed).
requirements:
  - The C(vici) Python package for the Python that runs the module, when a running charon holds something to remove.
extends_documentation_fragment:
  - meshforge.vpn.audit
  - meshforge.vpn.attributes.charon
  - meshforge.vpn.vici
options:
  keep:
    description: Names of the managed connections to keep; every other managed connection is removed.
    type: list
    elements: str
    required: true
seealso:
  - module: meshforge.vpn.ipsec_connection
  - module: meshforge.vpn.ipsec_info
'''

EXAMPLES = r'''
- name: Keep only the tunnels of the current plan on this host
  meshforge.vpn.ipsec_purge:
    keep: [hq-branch1, hq-branch2]
  vars:
    ansible_python_interpreter: /opt/meshforge-vpn/venv/bin/python

- name: Remove every connection the collection wrote (the host is no IPsec gateway any more)
  meshforge.vpn.ipsec_purge:
    keep: []
'''

RETURN = r'''
audit:
  description:
    - What the run changed (or in check mode would change), as an auditor reads it, one record per change with
      C(resource), C(object), C(change) and C(detail). Never a pre-shared key.
  returned: always
  type: list
  elements: dict
  sample: [{resource: ipsec_connection, object: old-tunnel, change: tunnel unloaded, detail: ""}]
managed:
  description: The managed connections found before the purge.
  returned: always
  type: list
  elements: str
  sample: [hq-branch1, hq-old]
removed:
  description: The connections removed (or that would be, in check mode).
  returned: always
  type: list
  elements: str
  sample: [hq-old]
terminated:
  description: Per removed connection, the unique ids of the IKE SAs closed.
  returned: always
  type: dict
  sample: {hq-old: [7]}
charon_running:
  description: Whether a charon answered on O(vici_socket); null when it was not asked (nothing to remove).
  returned: always
  type: bool
'''

from ansible.module_utils.basic import AnsibleModule

from ansible_collections.meshforge.vpn.plugins.module_utils import audit
from ansible_collections.meshforge.vpn.plugins.module_utils.common import run_module
from ansible_collections.meshforge.vpn.plugins.module_utils.strongswan import purge
from ansible_collections.meshforge.vpn.plugins.module_utils.strongswan import schema


def main():
    module = AnsibleModule(
        argument_spec=dict(
            keep=dict(type='list', elements='str', required=True),
            vici_socket=dict(type='str', default=schema.DEFAULT_SOCKET),
            **audit.argument_spec()
        ),
        supports_check_mode=True,
    )
    run_module(module, purge.purge_connections)


if __name__ == '__main__':
    main()
