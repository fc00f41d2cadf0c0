# -*- coding: utf-8 -*-
# Copyright: meshforge.vpn contributors
# GNU General Public License v3.0+ (see https://www.gnu.org/licenses/gpl-3.0.txt)
"""Names on the overlay (issue 14), controller side: checked input and the records of the mesh.

Every address the ledger holds gets a name ``<host>.<domain>`` (A for an IPv4 pool, AAAA for an IPv6 one); extra
records add aliases and service names.  The result is a hosts file text (the format dnsmasq reads with
``addn-hosts`` and reloads on SIGHUP), rendered once on the controller.  Pure functions over plain data; nothing
here reaches a host; the role mesh_dns sends the text to dns_resolver.
"""

from __future__ import absolute_import, division, print_function

__metaclass__ = type

import ipaddress

from ansible_collections.meshforge.vpn.plugins.module_utils import validation as v
from ansible_collections.meshforge.vpn.plugins.module_utils.dns import names
from ansible_collections.meshforge.vpn.plugins.module_utils.validation import ValidationError


domain = names.domain
_label = names.label


def mesh_records(zone, allocations, extra=None, prefix='wireguard_mesh_dns_'):
    """``[(fqdn, address)]`` for every address in the ledger and every extra record, sorted.

    ``allocations`` is the ledger's ``{pool: {host: address}}``.  ``extra`` is a list of ``{name, address}``
    (an address) or ``{name, target}`` (a host of the ledger: all its addresses).  An extra name equal to a host's
    is refused: the host's own record would be shadowed.  Errors name ``prefix`` + domain or records.
    """
    domain_field, records_field = prefix + 'domain', prefix + 'records'
    zone = domain(domain_field, zone)
    by_host = {}
    for pool in sorted(allocations or {}):
        for host, address in sorted(allocations[pool].items()):
            label = _label('%s (ledger host %s)' % (domain_field, host), host)
            by_host.setdefault(label, []).append(ipaddress.ip_address(address))
    records = set()
    for label, addresses in by_host.items():
        for address in addresses:
            records.add(('%s.%s' % (label, zone), address))
    if extra is None:
        extra = []
    if not isinstance(extra, list):
        raise ValidationError(records_field, 'must be a list of {name, address} or {name, target}, got %r' % (extra,))
    seen = set()
    for index, entry in enumerate(extra):
        where = '%s[%d]' % (records_field, index)
        if not isinstance(entry, dict) or 'name' not in entry or ('address' in entry) == ('target' in entry):
            raise ValidationError(where, 'must be a dict with name and one of address or target, got %r' % (entry,))
        unknown = sorted(set(entry) - set(('name', 'address', 'target')))
        if unknown:
            raise ValidationError(where, 'unknown keys: %s' % ', '.join(unknown))
        name = domain(where + '.name', entry['name'])
        fqdn = name if name == zone or name.endswith('.' + zone) else '%s.%s' % (name, zone)
        if fqdn.split('.', 1)[0] in by_host and fqdn.count('.') == zone.count('.') + 1:
            raise ValidationError(where + '.name',
                                  '%s is the name of a member of the mesh; give the record a name of its own' % fqdn)
        if fqdn in seen:
            raise ValidationError(where + '.name', 'two records are named %s' % fqdn)
        seen.add(fqdn)
        if 'address' in entry:
            records.add((fqdn, v.address(where + '.address', str(entry['address']))))
        else:
            target = _label(where + '.target', entry['target'])
            if target not in by_host:
                raise ValidationError(where + '.target', '%r holds no address in the ledger' % (entry['target'],))
            for address in by_host[target]:
                records.add((fqdn, address))
    return sorted(records, key=lambda item: (item[0], item[1].version, item[1]))


def hosts_text(records):
    """The hosts file dnsmasq reads (``addn-hosts``): one ``address name`` line per record, stable order."""
    return ''.join('%s %s\n' % (address, name) for name, address in records)


def nameserver_groups(raw, prefix='wireguard_mesh_dns_'):
    """NetBird-like nameserver groups, checked: ``[{name, nameservers, domains, search_domains, primary, groups}]``.

    ``domains`` are match domains (split DNS); a group with ``primary: true`` answers everything else and has no
    match domains; ``groups`` are inventory groups whose hosts use it.
    """
    if raw is None:
        return []
    if not isinstance(raw, list):
        raise ValidationError(prefix + 'nameserver_groups', 'must be a list of nameserver groups, got %r' % (raw,))
    known = ('name', 'nameservers', 'domains', 'search_domains', 'primary', 'groups')
    result = []
    names = set()
    for index, entry in enumerate(raw):
        where = '%s[%d]' % (prefix + 'nameserver_groups', index)
        if not isinstance(entry, dict) or 'name' not in entry:
            raise ValidationError(where, 'must be a dict with at least name and nameservers, got %r' % (entry,))
        unknown = sorted(set(entry) - set(known))
        if unknown:
            raise ValidationError(where, 'unknown keys: %s' % ', '.join(unknown))
        name = v.name(where + '.name', entry['name'])
        if name in names:
            raise ValidationError(where + '.name', 'two nameserver groups are named %s' % name)
        names.add(name)
        servers = _strings(where + '.nameservers', entry.get('nameservers'))
        if not servers:
            raise ValidationError(where + '.nameservers', 'give at least one nameserver address')
        servers = [str(v.address('%s.nameservers[%d]' % (where, i), s)) for i, s in enumerate(servers)]
        domains = [domain('%s.domains[%d]' % (where, i), d)
                   for i, d in enumerate(_strings(where + '.domains', entry.get('domains')))]
        search = [domain('%s.search_domains[%d]' % (where, i), d)
                  for i, d in enumerate(_strings(where + '.search_domains', entry.get('search_domains')))]
        primary = entry.get('primary', False)
        if not isinstance(primary, bool):
            raise ValidationError(where + '.primary', '%r is not a boolean' % (primary,))
        if primary == bool(domains):
            raise ValidationError(where + '.domains',
                                  'a primary group answers every domain and has no match domains; any other group needs at least one')
        groups = [v.name('%s.groups[%d]' % (where, i), g)
                  for i, g in enumerate(_strings(where + '.groups', entry.get('groups')))]
        result.append({'name': name, 'nameservers': servers, 'domains': domains, 'search_domains': search,
                       'primary': primary, 'groups': groups})
    return result


def held_addresses(addresses, field):
    """``{host: [address]}`` from the role's addresses: a list, one address, or a plan with ``addresses``
    (interface addresses such as ``10.88.0.5/24`` count as their address)."""
    held = {}
    for host, value in sorted((addresses or {}).items()):
        if isinstance(value, dict):
            value = value.get('addresses') or []
        if isinstance(value, str):
            value = [value]
        where = '%s[%s]' % (field, host)
        held[host] = [str(v.address('%s[%d]' % (where, i), str(item).split('/', 1)[0]))
                      for i, item in enumerate(value or [])]
    return held


def plan(members, settings, addresses=None, inventory_groups=None, prefix='mesh_dns_'):
    """What each member's dns_resolver call gets, from one rendering of the records.

    ``settings``: ``domain``, ``records`` (extra), ``nameserver_groups``, ``resolvers`` (members that also answer on
    their overlay addresses), ``stub_address`` (where each member's own resolver listens), ``upstream`` (None: what
    each host's resolv.conf named), ``ledger`` (``{host: [address]}``: clients and members the run does not plan).
    ``addresses`` (``{host: plan or addresses}``) wins over the ledger for its hosts.  Returns ``{'hosts': text,
    'records': count, 'members': {host: {listen, forward, upstream, search_domains, link_dns, default_route}}}``; errors name ``prefix`` +
    the setting.
    """
    settings = dict(settings or {})
    held = held_addresses(settings.get('ledger'), prefix + 'ipam_ledger')
    held.update(held_addresses(addresses, prefix + 'addresses'))
    allocations = {}
    for host, found in held.items():
        for index, address in enumerate(found):
            allocations.setdefault(str(index), {})[host] = address
    records = mesh_records(settings.get('domain'), allocations, settings.get('records'), prefix)
    groups = nameserver_groups(settings.get('nameserver_groups'), prefix)
    resolvers = _strings(prefix + 'resolvers', settings.get('resolvers'))
    for index, name in enumerate(resolvers):
        if name not in members:
            raise ValidationError('%sresolvers[%d]' % (prefix, index), '%r is not a member of the mesh' % (name,))
    stub = str(v.address(prefix + 'stub_address', str(settings.get('stub_address') or '')))
    upstream = settings.get('upstream')
    if upstream is not None:
        upstream = [str(v.address('%supstream[%d]' % (prefix, i), str(s))) for i, s in enumerate(_strings(
            prefix + 'upstream', upstream))]
    inventory_groups = inventory_groups or {}
    planned = {}
    for member in members:
        mine = [g for g in groups if _uses(member, g, inventory_groups)]
        primary = [server for g in mine if g['primary'] for server in g['nameservers']]
        search = []
        for g in mine:
            search += [d for d in g['search_domains'] if d not in search]
        listen = [stub] + (held.get(member, []) if member in resolvers else [])
        # link_dns: where systemd-resolved runs, the member's own addresses on the link are its link's DNS servers
        # default_route: with a primary group, systemd-resolved sends every name to the link (~.), not only the domain
        planned[member] = {'listen': listen, 'search_domains': search, 'link_dns': held.get(member, []),
                           'default_route': bool(primary),
                           'forward': [{'domains': g['domains'], 'nameservers': g['nameservers']}
                                       for g in mine if not g['primary']],
                           'upstream': primary or upstream}
    return {'hosts': hosts_text(records), 'records': len(records), 'members': planned}


def _uses(member, group, inventory_groups):
    """A nameserver group serves the members of its inventory groups, or every member when it names none."""
    return not group['groups'] or any(member in (inventory_groups.get(name) or []) for name in group['groups'])


def _strings(field, value):
    if value is None:
        return []
    if not isinstance(value, list) or not all(isinstance(item, str) for item in value):
        raise ValidationError(field, 'must be a list of strings, got %r' % (value,))
    return value


def view(getent_text, hosts):
    """One member's view of the names: ``[{name, expected, got, ok}]`` for every name of the hosts text ``hosts``,
    from what ``getent ahosts <name>...`` printed on the member (a block per name found, its first line naming it)."""
    expected = {}
    for line in hosts.splitlines():
        address, name = line.split()[:2]
        expected.setdefault(name, set()).add(str(ipaddress.ip_address(address)))
    got, current = {}, None
    for line in (getent_text or '').splitlines():
        words = line.split()
        if len(words) >= 3:
            current = words[2].lower().rstrip('.')
        if current and words:
            got.setdefault(current, set()).add(str(ipaddress.ip_address(words[0])))
    return [{'name': name, 'expected': sorted(expected[name]), 'got': sorted(got.get(name, ())),
             'ok': got.get(name) == expected[name]} for name in sorted(expected)]
