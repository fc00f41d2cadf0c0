# -*- coding: utf-8 -*-
# Copyright: meshforge.vpn contributors
# GNU General Public License v3.0+ (see https://www.gnu.org/licenses/gpl-3.0.txt)

from __future__ import absolute_import, division, print_function

__metaclass__ = type


class ModuleDocFragment(object):
    # The table family of the modules that manage nftables, and their manual page (listed after the module's own).
    DOCUMENTATION = r'''
options:
  family:
    description: Family of the table.
    type: str
    choices: [inet, ip, ip6, arp, bridge, netdev]
    default: inet
seealso:
  - name: nft(8)
    description: The nftables command line tool.
    link: https://www.netfilter.org/projects/nftables/manpage.html
'''
