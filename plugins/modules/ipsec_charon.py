#!/usr/bin/python
# -*- coding: utf-8 -*-
# Copyright: meshforge.vpn contributors
# GNU General Public License v3.0+ (see https://www.gnu.org/licenses/gpl-3.0.txt)

from __future__ import absolute_import, division, print_function

__metaclass__ = type

DOCUMENTATION = r'''
---
module: ipsec_charon
short_description: strongSwan's charon running with this collection's settings, under systemd or supervised without it
version_added: 0.2.0
description:
  - Writes a C(strongswan.conf) drop-in (O(dropin)) with only what differs from the distribution's settings
    (VICI socket, C(kernel-libipsec), plugins turned off) and makes charon run with it.
  - Where systemd runs (O(manager=auto) finds C(/run/systemd/system)), enables and starts the unit O(service)
    (C(strongswan.service) runs C(charon-systemd) and loads the persisted connections), and restarts it when the
    drop-in changed.
  - Where it does not (containers, network-namespace hosts), starts C(charon-systemd) in a session of its own,
    keeps its pid in O(run_dir)C(/charon.pid) and its output in O(run_dir)C(/charon.log), waits for the VICI socket
    and loads the persisted configuration with C(swanctl --load-all), as the unit would. A re-run starts it again
    when it died and restarts it when the drop-in changed; otherwise it leaves it alone, so SAs survive a re-run.
  - A pid is taken for this host's charon only when it is alive, runs a charon binary and shares this network
    namespace.
  - Fails with RV(missing) set, and changes nothing, when strongSwan is not installed (or C(kernel-libipsec) is
    asked for and its plugin is missing), so that a role can install what is missing and call it again.
author:
  - meshforge developers (@meshforge)
attributes:
  check_mode:
    support: full
    description: Predicts the drop-in change and the start or restart without making them.
  diff_mode:
    support: full
    description: Shows the drop-in before and after.
  platform:
    platforms: linux
    support: full
    description: strongSwan 5.9 with C(charon-systemd) and C(swanctl).
options:
  vici_socket:
    description: charon's VICI socket, as a C(unix://) URI; written to the drop-in (for charon and swanctl) when not the default.
    type: str
    default: unix:///var/run/charon.vici
  libipsec:
    description: Load C(kernel-libipsec) (userspace ESP over a TUN device) before C(kernel-netlink), for kernels without ESP.
    type: bool
    default: false
  disable_plugins:
    description: Plugins not to load; their sockets have fixed paths that several charons sharing C(/run) would fight over.
    type: list
    elements: str
    choices: [stroke, lookip, error-notify]
    default: []
  dropin:
    description:
      - Path of the drop-in; it must be read after the distribution's plugin settings (C(/etc/strongswan.d/*.conf)).
      - An absolute path without V(.), V(..) or empty components; it must not be a symlink, and a symlink
        along the way is followed only when root made it in a directory no other user can change.
    type: path
    default: /etc/strongswan.d/meshforge-vpn.conf
  manager:
    description: V(systemd) uses the unit, V(daemon) supervises charon-systemd itself, V(auto) picks by whether systemd runs.
    type: str
    choices: [auto, systemd, daemon]
    default: auto
  service:
    description: The systemd unit (without C(.service)) that runs charon.
    type: str
    default: strongswan
  run_dir:
    description:
      - Where the supervised daemon keeps C(charon.pid) and C(charon.log) (without systemd only).
      - An absolute path without V(.), V(..) or empty components; it must not be a symlink, and a symlink
        along the way is followed only when root made it in a directory no other user can change.
    type: path
    default: /run/meshforge-vpn
seealso:
  - module: meshforge.vpn.ipsec_connection
  - module: meshforge.vpn.ipsec_info
'''

EXAMPLES = r'''
- name: charon with userspace ESP on a host without systemd, socket in a directory of its own
  meshforge.vpn.ipsec_charon:
    vici_socket: unix:///run/meshforge-vpn/charon.vici
    libipsec: true
    disable_plugins: [stroke, lookip, error-notify]
'''

RETURN = r'''
manager:
  description: How charon is run, V(systemd) or V(daemon).
  returned: success
  type: str
missing:
  description: What strongSwan lacks on the host (C(charon-systemd), C(swanctl), C(kernel-libipsec)); empty when complete.
  returned: always
  type: list
  elements: str
config_changed:
  description: Whether the drop-in was (or would be) written.
  returned: success
  type: bool
started:
  description: Whether charon was (or would be) started because it was not running.
  returned: success
  type: bool
restarted:
  description: Whether charon was (or would be) restarted to read a changed drop-in.
  returned: success
  type: bool
pid:
  description: The supervised charon's pid (daemon manager).
  returned: success and manager is daemon
  type: int
'''

from ansible.module_utils.basic import AnsibleModule

from ansible_collections.meshforge.vpn.plugins.module_utils.common import run_module
from ansible_collections.meshforge.vpn.plugins.module_utils.strongswan import daemon
from ansible_collections.meshforge.vpn.plugins.module_utils.strongswan import schema


def main():
    module = AnsibleModule(
        argument_spec=dict(
            vici_socket=dict(type='str', default=schema.DEFAULT_SOCKET),
            libipsec=dict(type='bool', default=False),
            disable_plugins=dict(type='list', elements='str', choices=list(daemon.OPTIONAL_PLUGINS), default=[]),
            dropin=dict(type='path', default=daemon.DEFAULT_DROPIN),
            manager=dict(type='str', choices=['auto', 'systemd', 'daemon'], default='auto'),
            service=dict(type='str', default='strongswan'),
            run_dir=dict(type='path', default=daemon.DEFAULT_RUN_DIR),
        ),
        supports_check_mode=True,
    )
    run_module(module, daemon.manage_charon, always=dict(missing=[]))


if __name__ == '__main__':
    main()
