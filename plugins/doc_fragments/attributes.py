# -*- coding: utf-8 -*-
# Copyright: meshforge.vpn contributors
# GNU General Public License v3.0+ (see https://www.gnu.org/licenses/gpl-3.0.txt)

from __future__ import absolute_import, division, print_function

__metaclass__ = type


class ModuleDocFragment(object):
    # Attribute sets that modules share word for word. A module's own entry for an attribute replaces the
    # fragment's entry as a whole, so a module that says more about its check mode writes its whole entry.

    # A module that changes the host: check mode is a prediction, not a guess.
    DOCUMENTATION = r'''
options: {}
attributes:
  check_mode:
    support: full
    description: Predicts exactly the C(changed) a real run reports.
'''

    # A module that asks strongSwan's charon what it holds before it changes anything.
    CHARON = r'''
options: {}
attributes:
  check_mode:
    support: full
    description: Predicts exactly the C(changed) a real run reports; reads charon but changes nothing.
'''

    # A module that generates a private key on the host and returns only its public half (wireguard_key, nebula_key).
    KEY = r'''
options: {}
attributes:
  check_mode:
    support: full
    description: On a host without a key, reports that one would be created, and returns no public key.
  diff_mode:
    support: full
    description: Shows whether the key files exist and their modes, never their content.
'''

    # An *_info module: it reads live state and changes nothing.
    INFO = r'''
options: {}
attributes:
  check_mode:
    support: full
    description: Reads only.
  diff_mode:
    support: none
    description: Changes nothing.
'''

    # An action plugin that keeps a locked file on the controller (the address ledger, the mesh registry).
    CONTROLLER = r'''
options: {}
attributes:
  check_mode:
    support: full
    description: Computes the same result and writes nothing.
  action:
    support: full
    description: An action plugin; all the work happens on the controller.
  async:
    support: none
    description: The file's lock is held for milliseconds; there is nothing to wait for.
  platform:
    platforms: all
    support: full
    description: Runs on the controller; touches no managed host.
'''
