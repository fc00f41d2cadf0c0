# -*- coding: utf-8 -*-
# Copyright: meshforge.vpn contributors
# GNU General Public License v3.0+ (see https://www.gnu.org/licenses/gpl-3.0.txt)

from __future__ import absolute_import, division, print_function

__metaclass__ = type


class ModuleDocFragment(object):
    # The socket of the modules that talk to strongSwan's charon over VICI.
    DOCUMENTATION = r'''
options:
  vici_socket:
    description: charon's VICI socket, as a C(unix://) URI.
    type: str
    default: unix:///var/run/charon.vici
'''
