# -*- coding: utf-8 -*-
# Copyright: meshforge.vpn contributors
# GNU General Public License v3.0+ (see https://www.gnu.org/licenses/gpl-3.0.txt)
"""Thin filter entry points over the controller-side planner."""

from __future__ import absolute_import, division, print_function

__metaclass__ = type

from collections.abc import Mapping

from ansible.errors import AnsibleFilterError

from ansible_collections.meshforge.vpn.plugins.plugin_utils.lazy import lazy

validation = lazy('module_utils.validation')
clients = lazy('plugin_utils.clients')
registry = lazy('plugin_utils.registry')
removal = lazy('plugin_utils.removal')
report = lazy('plugin_utils.report')
status_page = lazy('plugin_utils.status_page')
topology = lazy('plugin_utils.topology')
underlay = lazy('plugin_utils.underlay')

MEMBER_KEYS = ('address', 'address6', 'endpoint', 'listen_port', 'persistent_keepalive', 'routed_subnets',
               'route_metric', 'routed_subnets_withdrawn', 'exit_node', 'use_exit_node')


def _member(hostvars, name, fallback, interface, sources):
    """A member's settings, with the address Ansible reaches it at and the networks its gathered facts show (which
    no allowed IP may capture).

    A member alive in this run is planned from what it published in it; any other one from its registry entry (what
    it really has, as of its last converge); one the registry does not know yet from what the inventory says of it.
    """
    host = hostvars[name]
    published = host.get('wireguard_mesh__self')
    known = sources.get('registry', {}).get(name)
    if published and (name in sources.get('alive', (name,)) or not known):
        member = dict(published)
        if known:
            member['public_key'] = known['public_key']   # replaced by the key step's result when it ran
    elif known:
        member = registry.planning_view(known)
    else:
        member = {}
        for key in MEMBER_KEYS:
            value = host.get('wireguard_mesh_' + key)
            member[key] = fallback.get(key) if value is None and key != 'endpoint' else value
    member.setdefault('ansible_host', host.get('ansible_host'))
    member['connected'] = underlay.connected_networks(host.get('ansible_facts'), skip=(interface,))
    return member


def _members(names, hostvars, settings, sources=None):
    fallback = dict(settings.get('defaults') or {})
    interface = settings.get('interface') or 'wg0'
    sources = _sources(sources)
    return dict((name, _member(hostvars, name, fallback, interface, sources)) for name in names)


def _sources(sources):
    """``{'alive': [members alive in this run], 'registry': {member: entry}}``; a registered wireguard_registry
    result is taken for its members."""
    sources = dict(sources or {})
    known = sources.get('registry') or {}
    if isinstance(known, Mapping) and 'members' in known and ('changed' in known or 'path' in known):
        known = known.get('members') or {}
    sources['registry'] = dict(known)
    return sources


def wireguard_mesh_plan(names, hostvars, settings, public_keys=None, allocation=None, sources=None):
    try:
        members = _members(names, hostvars, settings, sources)
        if isinstance(allocation, Mapping) and ('addresses' in allocation or 'skipped' in allocation):
            # the registered result of meshforge.vpn.ipam (skipped when the mesh does not use it)
            allocation = allocation.get('addresses')
        topology.apply_allocation(members, settings, allocation)
        # the road-warrior clients are placed from the same allocation
        settings = dict(settings, client_addresses=allocation if isinstance(allocation, Mapping) else None)
        for name in names:
            key = (public_keys or {}).get(name)
            if isinstance(key, Mapping):
                # a registered wireguard_key result; a skipped or failed one has no key
                key = key.get('public_key')
            if key:
                members[name]['public_key'] = key
        return topology.plan_mesh(members, settings)
    except validation.ValidationError as exc:
        raise AnsibleFilterError('meshforge.vpn.wireguard_mesh: %s' % exc)


def wireguard_mesh_joined(names, alive, known, outside_keys=None):
    """The members to plan, in ``names`` order: those alive in this run, those the registry knows (they converged
    before: outside the run or unreachable, they keep their peer entries), and those outside the run whose key could
    be read (converged before the registry existed).  A member with none of these never joined: it is left out."""
    known = _sources({'registry': known})['registry']
    keys = dict((host, result) for host, result in (outside_keys or {}).items()
                if isinstance(result, Mapping) and result.get('public_key'))
    return [name for name in names if name in (alive or []) or name in known or name in keys]


def wireguard_mesh_registry_hints(names, known, settings):
    """``{member: {pool: address}}`` the registry knows of ``names``, for the address manager's ``hints``."""
    known = _sources({'registry': known})['registry']
    pool4, pool6 = topology.ipam_pools(settings)
    hints = {}
    for name in names:
        entry = known.get(name) or {}
        record = dict((pool, entry[key]) for pool, key in ((pool4, 'address'), (pool6, 'address6')) if entry.get(key))
        if record:
            hints[name] = record
    return hints


def wireguard_mesh_registry_entries(names, plans, check_mode=False):
    """``{member: entry}`` for the registry, of the members of ``names`` that converged with ``plans``: the values
    the other members' plans used for them.  In check mode a new member has no key yet: it stands in with the
    placeholder its peers were planned with, so that the prediction records it as the real run will."""
    entries = {}
    for name in names:
        if name not in plans:
            continue
        entry = dict(plans[name]['member'])
        if not entry['public_key'] and check_mode:
            entry['public_key'] = topology.placeholder_key(name)
        if entry['public_key']:
            entries[name] = entry
    return entries


def wireguard_mesh_new_keys(results):
    """Members whose key step made a key (new member, rotation): ``{host: registered wireguard_key result}`` to their
    names.  Their registry entries are recorded before any interface changes, so that a run stopped in between
    never leaves peers planned with the old key."""
    return sorted(name for name, result in (results or {}).items()
                  if isinstance(result, Mapping) and result.get('changed') and not result.get('failed'))


def wireguard_mesh_rekeyed(results):
    """Members whose interface call refused a key that is not the one they were planned with (``key_mismatch``), or
    found no ``wg`` (a rebuilt host): ``{host: registered wireguard_interface result}`` to their names.  The role
    registers those failures with ``failed_when`` false, so the keys tell them, not ``failed``."""
    return sorted(name for name, result in (results or {}).items()
                  if isinstance(result, Mapping) and (result.get('key_mismatch') or result.get('missing_tools')))


def wireguard_mesh_summary(names, play_hosts, alive, joined, recorded, known, keys, removed=None):
    """The lines that say which members of ``names`` did not converge in this run and what they still need, and
    which hosts of ``removed`` still carry what the collection set up on them; empty when every member converged,
    nobody is behind and every removed host is clean."""
    recorded = recorded if isinstance(recorded, Mapping) else {}
    known = known if isinstance(known, Mapping) else {}
    # against the registry as the run found it: the members with a new key were recorded before the interfaces
    start, end = ({'meshes': {'m': dict(r.get('members') or {})}} for r in (known, recorded))
    behind = registry.behind(start, end, 'm', set(names) - set(alive))
    lines = []
    for name in names:
        needs = behind.get(name) or []
        later = ('; it still needs a run for: %s' % ', '.join(needs)) if needs else ''
        if name not in joined:
            lines.append('%s never joined the mesh (no registry entry and no answer): it is left out of every member\'s '
                         'peers and holds no address; run it when it is up' % name)
        elif name in play_hosts and name not in alive:
            lines.append('%s did not converge (unreachable or failed): the others keep its peer entry as the registry '
                         'knows it%s' % (name, later))
        elif name not in play_hosts and needs:
            lines.append('%s was outside this run (--limit) and is now behind: run it%s' % (name, later))
    for name in removed or []:
        if name not in alive:
            why = 'did not answer' if name in play_hosts else 'was outside this run (--limit)'
            lines.append('%s left the mesh (its addresses are released, its registry entry is forgotten and no member '
                         'has it as a peer any more) but %s: its WireGuard interface, key and files are still on it; '
                         'run meshforge.vpn.remove_host for it again when it answers' % (name, why))
    existing = sorted(n for n, k in (keys or {}).items() if isinstance(k, Mapping) and k.get('public_key')
                      and not k.get('changed') and not k.get('skipped'))
    if known.get('existed') is False and existing and recorded.get('existed') is not None:
        lines.append('the mesh registry %s did not exist although %s already had a key: it was created now. If this '
                     'happens on every run, the controller\'s files are not kept between runs (an AWX job): enable the '
                     'job template\'s fact cache, which keeps each member\'s entry, and see the operations guide'
                     % (recorded.get('path') or known.get('path'), ', '.join(existing)))
    return lines


def _release(settings, release):
    """The hosts whose addresses are released: ``wireguard_mesh_ipam_release`` and the hosts removed from the mesh."""
    removed = removal.names(settings.get('remove'))
    if not removed or not isinstance(release, (list, tuple, type(None))):
        return release or []        # a release that is not a list is refused by the address manager's request
    return list(release or []) + [name for name in removed if name not in (release or [])]


def wireguard_mesh_ipam_request(names, hostvars, settings, release=None, sources=None):
    try:
        return topology.ipam_request(_members(names, hostvars, settings, sources), settings, _release(settings, release))
    except validation.ValidationError as exc:
        raise AnsibleFilterError('meshforge.vpn.wireguard_mesh: %s' % exc)


def wireguard_mesh_problem(names, hostvars, settings, release=None, rotate_keys=None, sources=None):
    """The first problem of the mesh description, ``<variable>: <problem>``, or an empty string.

    The role fails with it in one ``fail`` task, so that the message starts with the variable instead of the text
    Ansible wraps around an error raised while templating.
    """
    try:
        members = _members(names, hostvars, settings, sources)
        removal.check(settings.get('remove'), members, settings, _sources(sources)['registry'], hostvars,
                      settings.get('remove_force'))
        topology.check_mesh(members, settings, _release(settings, release), rotate_keys or [])
    except validation.ValidationError as exc:
        return str(exc)
    return ''


def wireguard_mesh_ipam_problem(result, settings):
    """The failure of the registered meshforge.vpn.ipam result, naming the role's variable; empty if it succeeded."""
    # registered with failed_when: false, so a failure is a result without addresses
    if not isinstance(result, Mapping) or result.get('skipped') or 'addresses' in result:
        return ''
    return topology.ipam_problem(str(result.get('msg') or 'the address manager failed'), settings)


def wireguard_mesh_client_groups(named, inventory_groups, plans):
    return clients.firewall_groups(named, inventory_groups, plans)


def wireguard_mesh_psk(peers, secret, interface, name):
    try:
        return topology.add_preshared_keys(peers, secret, interface, name)
    except validation.ValidationError as exc:
        raise AnsibleFilterError('meshforge.vpn.wireguard_mesh: %s' % exc)


def wireguard_mesh_psk_peers(plans, secret, interface):
    """Every planned member's peers with each pair's preshared key, by member: computed once on the controller, so
    that a member's interface task reads its own peers instead of calling a filter (which costs every host's worker
    the loading of the collection's filter files)."""
    if not isinstance(plans, Mapping):
        raise AnsibleFilterError('meshforge.vpn.wireguard_mesh_psk_peers: the plans must be a mapping of member to plan')
    return dict((name, wireguard_mesh_psk(plan.get('peers') or [], secret, interface, name))
                for name, plan in plans.items())


def wireguard_status_table(results_by_host):
    return report.wireguard_table(results_by_host)


def wireguard_status_report(results_by_host):
    return report.wireguard_status(results_by_host)


def wireguard_status_html(results_by_host, read_at=''):
    return status_page.render(report.wireguard_status(results_by_host), read_at)


class FilterModule(object):
    def filters(self):
        return {
            'wireguard_mesh_plan': wireguard_mesh_plan,
            'wireguard_mesh_ipam_request': wireguard_mesh_ipam_request,
            'wireguard_mesh_problem': wireguard_mesh_problem,
            'wireguard_mesh_ipam_problem': wireguard_mesh_ipam_problem,
            'wireguard_mesh_psk': wireguard_mesh_psk,
            'wireguard_mesh_psk_peers': wireguard_mesh_psk_peers,
            'wireguard_mesh_joined': wireguard_mesh_joined,
            'wireguard_mesh_registry_hints': wireguard_mesh_registry_hints,
            'wireguard_mesh_registry_entries': wireguard_mesh_registry_entries,
            'wireguard_mesh_rekeyed': wireguard_mesh_rekeyed,
            'wireguard_mesh_new_keys': wireguard_mesh_new_keys,
            'wireguard_mesh_summary': wireguard_mesh_summary,
            'wireguard_mesh_client_groups': wireguard_mesh_client_groups,
            'wireguard_status_table': wireguard_status_table,
            'wireguard_status_report': wireguard_status_report,
            'wireguard_status_html': wireguard_status_html,
        }
