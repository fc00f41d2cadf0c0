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

DOMAIN_FIELD = 'wireguard_mesh_dns_domain'
RECORDS_FIELD = 'wireguard_mesh_dns_records'
GROUPS_FIELD = 'wireguard_mesh_dns_nameserver_groups'

domain = names.domain
_label = names.label


def mesh_records(zone, allocations, extra=None):
    """``[(fqdn, address)]`` for every address in the ledger and every extra record, sorted.

    ``allocations`` is the ledger's ``{pool: {host: address}}``.  ``extra`` is a list of ``{name, address}``
    (an address) or ``{name, target}`` (a host of the ledger: all its addresses).  An extra name equal to a host's
    is refused: the host's own record would be shadowed.
    """
    zone = domain(DOMAIN_FIELD, zone)
    by_host = {}
    for pool in sorted(allocations or {}):
        for host, address in sorted(allocations[pool].items()):
            label = _label('%s (ledger host %s)' % (DOMAIN_FIELD, host), host)
            by_host.setdefault(label, []).append(ipaddress.ip_address(address))
    records = set()
    for label, addresses in by_host.items():
        for address in addresses:
            records.add(('%s.%s' % (label, zone), address))
    if extra is None:
        extra = []
    if not isinstance(extra, list):
        raise ValidationError(RECORDS_FIELD, 'must be a list of {name, address} or {name, target}, got %r' % (extra,))
    seen = set()
    for index, entry in enumerate(extra):
        where = '%s[%d]' % (RECORDS_FIELD, index)
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


def nameserver_groups(raw):
    """NetBird-like nameserver groups, checked: ``[{name, nameservers, domains, search_domains, primary, groups}]``.

    ``domains`` are match domains (split DNS); a group with ``primary: true`` answers everything else and has no
    match domains; ``groups`` are inventory groups whose hosts use it.
    """
    if raw is None:
        return []
    if not isinstance(raw, list):
        raise ValidationError(GROUPS_FIELD, 'must be a list of nameserver groups, got %r' % (raw,))
    known = ('name', 'nameservers', 'domains', 'search_domains', 'primary', 'groups')
    result = []
    names = set()
    for index, entry in enumerate(raw):
        where = '%s[%d]' % (GROUPS_FIELD, index)
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


def _strings(field, value):
    if value is None:
        return []
    if not isinstance(value, list) or not all(isinstance(item, str) for item in value):
        raise ValidationError(field, 'must be a list of strings, got %r' % (value,))
    return value
