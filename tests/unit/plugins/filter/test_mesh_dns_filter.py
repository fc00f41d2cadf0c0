# -*- coding: utf-8 -*-
# Copyright: meshforge.vpn contributors
# GNU General Public License v3.0+ (see https://www.gnu.org/licenses/gpl-3.0.txt)
"""The mesh_dns filters over plugin_utils/dns.py: the address ledger as the role reads it."""

from __future__ import absolute_import, division, print_function

__metaclass__ = type

import pytest

from ansible.errors import AnsibleFilterError

from ansible_collections.meshforge.vpn.plugins.filter import mesh_dns as dns_filter


def test_check_mode_before_the_first_run_has_no_ledger_and_every_member_is_pending(tmp_path):
    """The filter behind the role: in check mode, a ledger the mesh has not written yet is no error (the run would
    make it); outside check mode it is, naming the variable; a bad domain is refused either way."""
    settings = {'domain': 'mesh.example', 'ipam_ledger': str(tmp_path / 'ledger.json'), 'stub_address': '127.0.88.53',
                'check_mode': True}
    plan = dns_filter.mesh_dns_plan(['h1', 'h2'], settings)
    assert plan['pending'] == settings['ipam_ledger'] and plan['members'] == {} and plan['hosts'] == ''
    assert dns_filter.mesh_dns_problem(['h1', 'h2'], settings) == ''
    assert dns_filter.mesh_dns_problem(['h1'], dict(settings, check_mode=False)).startswith('mesh_dns_ipam_ledger: ')
    assert dns_filter.mesh_dns_problem(['h1'], dict(settings, domain='bad domain')).startswith('mesh_dns_domain: ')
    with pytest.raises(AnsibleFilterError):
        dns_filter.mesh_dns_plan(['h1'], dict(settings, check_mode=False))
