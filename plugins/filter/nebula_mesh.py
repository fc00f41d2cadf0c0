# -*- coding: utf-8 -*-
# Copyright: meshforge.vpn contributors
# GNU General Public License v3.0+ (see https://www.gnu.org/licenses/gpl-3.0.txt)
"""The filter entry points of the Nebula planner (plugin_utils.nebula_plan) and of its certificate report."""

from __future__ import absolute_import, division, print_function

__metaclass__ = type

import datetime
from collections.abc import Mapping

from ansible.errors import AnsibleFilterError

from ansible_collections.meshforge.vpn.plugins.plugin_utils.lazy import lazy

validation = lazy('module_utils.validation')
nebula_pki = lazy('plugin_utils.nebula_pki')
nebula_plan = lazy('plugin_utils.nebula_plan')

MEMBER_KEYS = ('address', 'endpoint', 'listen_port', 'groups')


def nebula_mesh_plan(names, hostvars, settings, allocation=None, revoked=None):
    """``{'problem', 'network', 'pools', 'pins', 'release', 'reenroll', 'revoke', 'revoked', 'plans'}``: the first
    problem (naming the role's variable, empty when none), the address manager's request (``release``: the hosts
    leaving the network), ``reenroll`` (the members getting a new key pair), ``revoke`` (this run's revocations, for
    nebula_cert), ``revoked`` (the revoked members), and with ``allocation`` (the registered ipam result) every
    member's plan but the revoked ones'; ``revoked`` (nebula_cert's state=revoked result) adds the record.
    ``device_hosts``, ``device_release``: the devices (``nebula_mesh_devices``) for the address manager; ``devices``:
    with ``allocation``, each present device's certificate and bundle options (nebula_cert's ``bundle``)."""
    members = {}
    for name in names or []:
        members[name] = _member(hostvars[name], name)
    result = {'problem': '', 'network': None, 'pools': {}, 'pins': {}, 'release': [], 'reenroll': [], 'revoke': [],
              'revoked': [], 'plans': {}, 'device_hosts': [], 'device_release': [], 'devices': []}
    if isinstance(revoked, Mapping):
        record = revoked.get('revoked') or []
        settings = dict(settings, revoked=[item.get('name') for item in record if item.get('name')],
                        blocklist=[item.get('fingerprint') for item in record])
    try:
        result.update(nebula_plan.ipam_request(members, settings))
        if allocation is not None:
            if isinstance(allocation, Mapping) and 'addresses' in allocation:
                allocation = allocation['addresses']
            result['plans'], result['devices'] = nebula_plan.plan_all(members, settings, allocation)
    except validation.ValidationError as exc:
        result['problem'] = str(exc)
    return result


def _member(variables, name):
    """What the planner needs of one member: what it published in this run (the role's first task), else, for a
    member outside the run (``--limit``, unreachable), its inventory variables with the role's defaults, so that
    the lighthouses' and relays' endpoints in the others' ``static_host_map`` stay what they are."""
    published = variables.get('nebula_mesh__self')
    if published:
        return dict((key, published.get(key)) for key in MEMBER_KEYS)
    return {'address': variables.get('nebula_mesh_address'),
            'endpoint': variables.get('nebula_mesh_endpoint') or variables.get('ansible_host') or name,
            'listen_port': variables.get('nebula_mesh_listen_port'), 'groups': variables.get('nebula_mesh_groups')}


def nebula_mesh_certificates(status, now=None):
    """Every answering member's certificate as a row ``{'member', 'name', 'groups', 'address', 'not_after',
    'fingerprint', 'days_left'}``, the soonest to expire first; ``status`` maps each member to its nebula_info
    result (what the nebula_status playbook collects); ``now`` (ISO 8601, UTC) defaults to the present."""
    if not isinstance(status, Mapping):
        raise AnsibleFilterError('nebula_mesh_certificates: expects a mapping of member to nebula_info result')
    rows = []
    try:
        moment = datetime.datetime.now(datetime.timezone.utc) if now is None else nebula_pki.nebula_time(now)
        for member in sorted(status):
            cert = (status[member] or {}).get('certificate') or {}
            if cert:
                rows.append(dict(nebula_pki.certificate_row(cert, moment), member=member))
    except ValueError as exc:
        raise AnsibleFilterError('nebula_mesh_certificates: a time is not like 2027-12-05T17:01:46Z: %s' % exc)
    return sorted(rows, key=lambda row: (row['days_left'] is None, row['days_left'] or 0, row['member']))


class FilterModule(object):
    def filters(self):
        return {'nebula_mesh_plan': nebula_mesh_plan, 'nebula_mesh_certificates': nebula_mesh_certificates}
