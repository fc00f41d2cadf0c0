# -*- coding: utf-8 -*-
# Copyright: meshforge.vpn contributors
# GNU General Public License v3.0+ (see https://www.gnu.org/licenses/gpl-3.0.txt)
"""Registered results gathered by host, for the planners that need every member's (keys, address records)."""

from __future__ import absolute_import, division, print_function

__metaclass__ = type

from collections.abc import Mapping

from ansible.errors import AnsibleFilterError


def results_by_host(names, hostvars, variable, loop_result=None):
    """``{host: result}``: what each host of ``names`` registered as ``variable`` (None where it has none), then, winning
    over those, the results of ``loop_result``, a loop delegated to other hosts in which each ``item`` is a host."""
    found = {}
    for name in names:
        host = hostvars[name] if name in hostvars else {}
        found[name] = host.get(variable)
    if loop_result is None:
        return found
    if not isinstance(loop_result, Mapping) or not isinstance(loop_result.get('results', []), list):
        raise AnsibleFilterError('meshforge.vpn.results_by_host: loop_result must be a registered loop result, got %r'
                                 % (loop_result,))
    for result in loop_result.get('results', []):
        found[result['item']] = result
    return found


class FilterModule(object):
    def filters(self):
        return {'results_by_host': results_by_host}
