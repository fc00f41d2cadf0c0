# -*- coding: utf-8 -*-
# Copyright: meshforge.vpn contributors
# GNU General Public License v3.0+ (see https://www.gnu.org/licenses/gpl-3.0.txt)
"""Thin filter entry points over the controller-side policy compiler."""

from __future__ import absolute_import, division, print_function

__metaclass__ = type

from ansible.errors import AnsibleFilterError

from ansible_collections.meshforge.vpn.plugins.plugin_utils.lazy import lazy

v = lazy('module_utils.validation')
policy = lazy('plugin_utils.policy')
underlay = lazy('plugin_utils.underlay')
ipam_ledger = lazy('plugin_utils.ipam.ledger')
ipam_storage = lazy('plugin_utils.ipam.storage')


# Fields named after a settings key; a role passes its variable prefix so that an error names its variable.
SETTINGS_FIELDS = ('interface', 'interface_kind', 'table', 'groups', 'policies', 'routed_subnets', 'extra_rules',
                   'addresses', 'persist_dir', 'ipam_ledger', 'ipam_network')


def _underlay(members, hostvars, interface):
    """What the controller knows of each member outside the VPN; a WireGuard mesh of the run published endpoints."""
    found = {}
    for name in members:
        if name not in (hostvars or {}):
            continue
        host = hostvars[name]
        published = host.get('wireguard_mesh__self') or {}
        found[name] = underlay.describe_host(name, host, published.get('endpoint'), (interface,))
    return found


def _ledger_addresses(settings):
    """What each host holds in the address ledger ``ipam_ledger``, in the pools of the network ``ipam_network``."""
    try:
        ledger = ipam_storage.load(settings['ipam_ledger'], missing_ok=False)
    except v.ValidationError as exc:
        raise v.ValidationError('ipam_ledger', str(exc))
    network = v.name('ipam_network', settings.get('ipam_network') or settings.get('interface') or 'wg0')
    return ipam_ledger.network_addresses(ledger, network)


def _compile(members, settings, groups, addresses, variable_prefix, hostvars):
    settings = dict(settings or {})
    try:
        if settings.get('persist_dir'):
            # where the modules keep the table and routes for boot (their option path)
            v.absolute_path('persist_dir', settings['persist_dir'])
        if not addresses and settings.get('ipam_ledger'):
            addresses = _ledger_addresses(settings)
        return policy.compile_policy(list(members), settings, dict(groups or {}), dict(addresses or {}),
                                     _underlay(members, hostvars, settings.get('interface') or 'wg0'))
    except v.ValidationError as exc:
        head = str(exc.field).split('[', 1)[0].split('.', 1)[0]
        prefix = variable_prefix if head in SETTINGS_FIELDS else ''
        raise v.ValidationError(prefix + exc.field, exc.problem)


def firewall_plan(members, settings, groups=None, addresses=None, variable_prefix='', hostvars=None):
    try:
        return _compile(members, settings, groups, addresses, variable_prefix, hostvars)
    except v.ValidationError as exc:
        raise AnsibleFilterError('meshforge.vpn.firewall_plan: %s' % exc)


def firewall_problem(members, settings, groups=None, addresses=None, variable_prefix='', hostvars=None):
    """The first problem of the policy, ``<variable>: <problem>``, or an empty string (for one ``fail`` task)."""
    try:
        _compile(members, settings, groups, addresses, variable_prefix, hostvars)
    except v.ValidationError as exc:
        return str(exc)
    return ''


def firewall_check_problem(result, plan, variable_prefix=''):
    """The failure of a member's check of its table (nft_table in check mode, registered with failed_when: false),
    naming the role's variable when nft rejected one of its extra rules; empty if the check passed."""
    # registered with failed_when: false, so Ansible says failed: false; a check that ran says what it would do
    if not isinstance(result, dict) or result.get('skipped') or 'action' in result:
        return ''
    message = str(result.get('msg') or 'meshforge.vpn.nft_table failed')
    found = policy.nft_rejection(plan or {}, message)
    return '%s%s: %s' % (variable_prefix, found[0], found[1]) if found else message


class FilterModule(object):
    def filters(self):
        return {'firewall_plan': firewall_plan, 'firewall_problem': firewall_problem,
                'firewall_check_problem': firewall_check_problem}
