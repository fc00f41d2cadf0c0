# -*- coding: utf-8 -*-
# Copyright: meshforge.vpn contributors
# GNU General Public License v3.0+ (see https://www.gnu.org/licenses/gpl-3.0.txt)

from __future__ import absolute_import, division, print_function

__metaclass__ = type


class ModuleDocFragment(object):
    # The host's audit log, written by every module that changes the host through the engine.
    DOCUMENTATION = r'''
options:
  audit_log:
    description:
      - A file on the host to which each change of a real run (not check mode) is appended, one JSON object per line
        with C(time), C(resource), C(object), C(change) and C(detail), the same records as the C(audit) result.
      - Created 0600 in a 0700 directory; never holds a secret (keys appear as C(SHA256:) fingerprints).
      - An absolute path without V(.), V(..) or empty components. Omit it to keep no log.
    type: path
  audit_log_max_size:
    description: Bytes the log may reach; the line that would pass it first moves the log to C(<audit_log>.1).
    type: int
    default: 1048576
  audit_log_keep:
    description: Rotated logs kept (C(.1) the newest); V(0) keeps none.
    type: int
    default: 3
'''
