# -*- coding: utf-8 -*-
# Copyright: meshforge.vpn contributors
# GNU General Public License v3.0+ (see https://www.gnu.org/licenses/gpl-3.0.txt)
"""The Nebula network of nebula_mesh, planned on the controller: pure functions, no host contacted.

``members`` maps each member to what its inventory says (``address`` pin, ``endpoint``, ``listen_port``,
``groups``); ``settings`` holds the network-wide values (``name``, ``network``, ``lighthouses``, ``relays``,
``inventory_groups``, ``groups``, ``policies``, ``allow_icmp``, ``remove``, ``remove_force``, ``reenroll``,
``revoke``: this run's revocations, member names or fingerprints; ``revoked``: the members the CA directory's
revocation record names; ``blocklist``: its fingerprints).  A revoked member keeps its address (released when it is
removed) but is no one's peer: no plan of its own, no lighthouse, relay or static_host_map entry, and every plan's
``blocklist`` refuses its certificate.  :func:`check` refuses bad input naming the
role's variable; :func:`ipam_request` is what the address manager is asked; :func:`plan` gives each member its
certificate (address, groups) and its nebula_config options: the lighthouses and relays with their underlay
endpoints (``static_host_map``), and the firewall rules the vpn_firewall-style policies become.

``devices`` (``nebula_mesh_devices``, plugin_utils.nebula_devices): devices outside the inventory, in the same pool
(``device:<name>``); their certificate groups count as groups for the policies (a policy from a group only devices
have gives the members inbound rules for it), and :func:`plan_all` gives each present device not revoked the options
of its bundle: every lighthouse and relay, listen port 0 (it roams), inbound rules from the policies whose
destinations are its groups (or ``all``), outbound open, the blocklist.  A device is revoked by name in ``revoke``.

Policies are read by plugin_utils.policy's normalisation (same keys and checks as vpn_firewall).  Nebula's
firewall denies what no rule allows, so an ``accept`` policy becomes inbound rules (certificate groups of its
sources) on the hosts of its destinations, and on its sources too when bidirectional; a ``drop`` policy cannot be
expressed and is refused.  Without any policy every member accepts everything from every member; with policies,
ICMP stays allowed from every member when ``allow_icmp``.  Outbound is open: the receiving host decides.
"""

from __future__ import absolute_import, division, print_function

__metaclass__ = type

import ipaddress

from ansible_collections.meshforge.vpn.plugins.module_utils import validation as v
from ansible_collections.meshforge.vpn.plugins.module_utils.nebula.schema import FINGERPRINT_RE, fingerprints, nebula_name
from ansible_collections.meshforge.vpn.plugins.module_utils.validation import ValidationError
from ansible_collections.meshforge.vpn.plugins.plugin_utils import nebula_devices
from ansible_collections.meshforge.vpn.plugins.plugin_utils import policy as vpn_policy
from ansible_collections.meshforge.vpn.plugins.plugin_utils import removal

PREFIX = 'nebula_mesh_'
DEFAULT_PORT = 4242
ANY = [{'port': 'any', 'proto': 'any', 'host': 'any'}]


def _var(name):
    return PREFIX + name


def _host_field(name, host):
    return '%s (host %s)' % (_var(name), host)


def _host_list(field, value):
    if isinstance(value, str) or not isinstance(value, (list, tuple)):
        raise ValidationError(field, 'must be a list of inventory host names, got %r' % (value,))
    return [str(item) for item in value]


def check(members, settings):
    """The description checked and normalised: ``{'name', 'network', 'members': {host: {...}}, 'groups': {group:
    sorted hosts}, 'lighthouses', 'relays', 'policies', 'allow_icmp'}``; ValidationError names the variable."""
    name = nebula_name(_var('network_name'), settings.get('name'))
    network = v.network(_var('network'), settings.get('network'))
    if network.version != 4 or network.prefixlen > 30:
        raise ValidationError(_var('network'), '%s is not an IPv4 network of at least 4 addresses (Nebula 1.6 '
                                               'overlays are IPv4)' % network)
    if not members:
        raise ValidationError(_var('group'), 'has no member')
    found = {}
    for host in sorted(members):
        raw = members[host] or {}
        item = {'endpoint': v.endpoint_host(_host_field('endpoint', host), raw.get('endpoint') or host),
                'listen_port': v.port(_host_field('listen_port', host),
                                      DEFAULT_PORT if raw.get('listen_port') is None else raw['listen_port']),
                'address': None}
        if raw.get('address'):
            address = v.address(_host_field('address', host), raw['address'])
            if address not in network or address in (network.network_address, network.broadcast_address):
                raise ValidationError(_host_field('address', host), '%s is outside the network %s (or is its network '
                                                                    'or broadcast address)' % (address, network))
            item['address'] = str(address)
        groups = raw.get('groups') or []
        if isinstance(groups, str) or not isinstance(groups, (list, tuple)):
            raise ValidationError(_host_field('groups', host), 'must be a list of certificate group names')
        item['groups'] = set(nebula_name('%s[%d]' % (_host_field('groups', host), i), g) for i, g in enumerate(groups))
        found[host] = item
    pins = {}
    for host, item in found.items():
        if item['address'] in pins:
            raise ValidationError(_host_field('address', host), '%s is already the address of %s'
                                  % (item['address'], pins[item['address']]))
        if item['address']:
            pins[item['address']] = host
    remove = removal.names(settings.get('remove'), _var('remove'))
    force = settings.get('remove_force', False)
    if not isinstance(force, bool):
        raise ValidationError(_var('remove_force'), 'must be true or false')
    still = [host for host in remove if host in found]
    if still:
        raise ValidationError(_var('remove'), '%s still in the network\'s group (%s); take %s out of it in the inventory '
                              'first' % (', '.join(still), _var('group'), 'it' if len(still) == 1 else 'them'))
    reenroll = removal.names(settings.get('reenroll'), _var('reenroll'))
    strangers = [host for host in reenroll if host not in found]
    if strangers:
        raise ValidationError(_var('reenroll'), '%s %s not a member of the network (%s)'
                              % (', '.join(strangers), 'is' if len(strangers) == 1 else 'are', _var('group')))
    devices = nebula_devices.normalize(settings.get('devices'), found, network, name)
    for i, device in enumerate(devices):
        if device['address'] in pins:
            raise ValidationError('%s[%d].address' % (nebula_devices.FIELD, i), '%s is already the address of %s'
                                  % (device['address'], pins[device['address']]))
    revoke, revoked = _revocations(settings, found, devices)
    back = [host for host in reenroll if host in revoked]
    if back:
        raise ValidationError(_var('reenroll'), '%s %s revoked; a revoked member cannot be re-enrolled (remove it with '
                              '%s, then add it anew)' % (', '.join(back), 'is' if len(back) == 1 else 'are', _var('remove')))
    # a host leaving the network or revoked may still be listed in the lighthouse or relay group: dropped from both
    roles, leaving = {}, []
    for key in ('lighthouses', 'relays'):
        field = _var('lighthouse_group' if key == 'lighthouses' else 'relay_group')
        listed = sorted(set(_host_list(field, settings.get(key) or [])))
        roles[key] = [host for host in listed if host not in remove and host not in revoked]
        for host in roles[key]:
            if host not in found:
                raise ValidationError(field, '%s is not a member of the network (%s)' % (host, _var('group')))
        if key == 'lighthouses':
            leaving = [host for host in listed if host in remove or host in revoked]
    if not roles['lighthouses'] and not force:
        if leaving:
            revoking = set(leaving) & revoked
            raise ValidationError(_var('revoke') if revoking else _var('remove'),
                                  '%s %s leaves the network without a lighthouse, so its members cannot find each '
                                  'other; add a lighthouse first, or set %s'
                                  % ('revoking' if revoking else 'removing', ', '.join(leaving), _var('remove_force')))
        raise ValidationError(_var('lighthouse_group'), 'names no member: a Nebula network needs a lighthouse')
    # certificate groups: the inventory groups chosen, the named lists, each host's own
    for source, field in ((settings.get('inventory_groups') or {}, 'inventory_groups'),
                          (settings.get('groups') or {}, 'certificate_groups')):
        if not isinstance(source, dict):
            raise ValidationError(_var(field), 'must be a mapping of group name to a list of hosts')
        for group in sorted(source, key=str):
            nebula_name('%s.%s' % (_var(field), group), group)
            for i, host in enumerate(_host_list('%s.%s' % (_var(field), group), source[group])):
                if host in found:
                    found[host]['groups'].add(group)
                elif field == 'certificate_groups':
                    raise ValidationError('%s.%s[%d]' % (_var(field), group, i), '%s is not a member' % host)
    groups = {}
    for host, item in found.items():
        item['groups'] = sorted(item['groups'])
        for group in item['groups']:
            groups.setdefault(group, []).append(host)
    policies = settings.get('policies') or []
    if not isinstance(policies, (list, tuple)):
        raise ValidationError(_var('policies'), 'must be a list')
    # a device's groups are certificate groups too (a policy may name a group only devices have)
    device_groups = [g for d in devices if d['state'] == 'present' for g in d['groups']]
    known = dict((group, None) for group in list(groups) + device_groups + [vpn_policy.ALL])
    normalized = []
    for i, raw in enumerate(policies):
        try:
            item = vpn_policy.normalize_policy(i, raw, known)
        except ValidationError as exc:
            raise ValidationError(PREFIX + exc.field, exc.problem)
        if item['action'] != 'accept':
            raise ValidationError(_var('policies[%d].action' % i), 'drop cannot be expressed in Nebula\'s firewall, '
                                  'which drops what no rule accepts: leave the traffic out of every accept policy')
        normalized.append(item)
    allow_icmp = settings.get('allow_icmp', True)
    if not isinstance(allow_icmp, bool):
        raise ValidationError(_var('allow_icmp'), 'must be true or false')
    duration = v.duration(_var('cert_duration'), settings.get('cert_duration') or '8760h', low=1)
    renew = v.duration(_var('cert_renew_before'), settings.get('cert_renew_before') or 0)
    if renew >= duration:
        raise ValidationError(_var('cert_renew_before'), 'must be shorter than %s (%ds), or every run signs again'
                              % (_var('cert_duration'), duration))
    return {'name': name, 'network': network, 'members': found, 'groups': groups, 'lighthouses': roles['lighthouses'],
            'relays': roles['relays'], 'policies': normalized, 'allow_icmp': allow_icmp, 'remove': remove,
            'reenroll': reenroll, 'revoke': revoke, 'revoked': sorted(h for h in revoked if h in found),
            'devices': devices, 'revoked_devices': sorted(h for h in revoked if h not in found),
            'blocklist': fingerprints(_var('revoke'), settings.get('blocklist'))}


def _revocations(settings, found, devices):
    """``(revoke, revoked)``: this run's entries checked (a member's name, a present device's name, or a certificate
    fingerprint for a host that is not one), and the members (and devices' keys ``device:<name>``) revoked by them or
    by the record (``settings['revoked']``)."""
    raw = settings.get('revoke') or []
    if isinstance(raw, str) or not isinstance(raw, (list, tuple)):
        raise ValidationError(_var('revoke'), 'must be a list of member names or certificate fingerprints')
    present = dict((d['name'], d['key']) for d in devices if d['state'] == 'present')
    keys = set(present.values())
    revoke, revoked = [], set(host for host in settings.get('revoked') or [] if host in found or host in keys)
    for i, entry in enumerate(raw):
        field = '%s[%d]' % (_var('revoke'), i)
        if isinstance(entry, str) and FINGERPRINT_RE.match(entry.lower()):
            entry = entry.lower()
        elif nebula_name(field, entry) in found:
            revoked.add(entry)
        elif entry in present:
            entry = present[entry]
            revoked.add(entry)
        else:
            raise ValidationError(field, '%s is not a member of the network (%s) nor a device of %s; revoke a '
                                  'former member\'s certificate by its fingerprint (the nebula_status certificate '
                                  'report shows it)' % (entry, _var('group'), nebula_devices.FIELD))
        if entry not in revoke:
            revoke.append(entry)
    return revoke, revoked


def pool_name(name):
    return 'nebula-' + name


def ipam_request(members, settings):
    """``{'network', 'pools', 'pins', 'release'}`` for meshforge.vpn.ipam: one pool of its own in the shared ledger;
    the hosts of ``remove`` give their address back.  With it, ``reenroll``: the members whose key pair is made anew;
    ``device_hosts`` (the present devices, ``device:<name>``, to allocate with the members) and ``device_release``
    (the devices with state absent: their address released, their certificate revoked and deleted, their bundle
    deleted)."""
    found = check(members, settings)
    pool = pool_name(found['name'])
    hosts, device_pins, gone = nebula_devices.ipam(found['devices'])
    pins = dict((host, {pool: item['address']}) for host, item in found['members'].items() if item['address'])
    pins.update((host, {pool: address}) for host, address in device_pins.items())
    return {'network': pool, 'pools': {pool: {'cidr': str(found['network']), 'network': pool}}, 'release': found['remove'],
            'reenroll': found['reenroll'], 'revoke': found['revoke'], 'revoked': found['revoked'], 'pins': pins,
            'device_hosts': hosts, 'device_release': gone}


def _rules(item):
    """The Nebula inbound rules of one accept policy from its sources: one per port and source group."""
    proto = 'any' if item['protocol'] == vpn_policy.ALL else item['protocol']
    ports = item['ports'] or ['any']
    rules = []
    for source in item['sources']:
        peer = {'host': 'any'} if source == vpn_policy.ALL else {'group': source}
        for port in ports:
            rules.append(dict(peer, port=port if port == 'any' or '-' in port else int(port), proto=proto))
    return rules


def plan(members, settings, addresses):
    """The members' plans of :func:`plan_all`."""
    return plan_all(members, settings, addresses)[0]


def plan_all(members, settings, addresses):
    """``(plans, devices)``.  ``plans``: each member's certificate and nebula_config options: ``{host: {'address':
    'a.b.c.d/len', 'groups', 'am_lighthouse', 'am_relay', 'lighthouses', 'relays', 'static_host_map', 'listen_port', 'inbound',
    'outbound', 'blocklist'}}`` for every member not revoked.  ``addresses`` is the ipam result's ``addresses``
    (``{host: {pool: address}}``).  ``devices``: ``[{'name', 'key', 'address', 'groups', 'public_key', 'config_dir',
    'options'}]`` for every present device not revoked, ``options`` those of its bundle (nebula_config's names)."""
    found = check(members, settings)
    pool = pool_name(found['name'])
    network = found['network']
    overlay = {}
    present = [d for d in found['devices'] if d['state'] == 'present' and d['key'] not in found['revoked_devices']]
    for host in list(found['members']) + [d['key'] for d in present]:
        address = ((addresses or {}).get(host) or {}).get(pool)
        if not address:
            raise ValidationError(_var('network'), 'the address manager gave %s no address in pool %s' % (host, pool))
        if ipaddress.ip_address(address) not in network:
            raise ValidationError(_host_field('address', host), '%s is outside the network %s' % (address, network))
        overlay[host] = address
    active = sorted(host for host in found['members'] if host not in found['revoked'])
    plans = {}
    public = sorted(set(found['lighthouses']) | set(found['relays']))
    for host in active:
        item = found['members'][host]
        rules = _inbound(found, item['groups'])
        plans[host] = {
            'address': '%s/%d' % (overlay[host], network.prefixlen), 'groups': item['groups'],
            'am_lighthouse': host in found['lighthouses'], 'am_relay': host in found['relays'],
            'lighthouses': [] if host in found['lighthouses'] else [overlay[h] for h in found['lighthouses']],
            'relays': [] if host in found['relays'] else [overlay[h] for h in found['relays']],
            'static_host_map': _host_map(found, overlay, [h for h in public if h != host]),
            'listen_port': item['listen_port'],
            'inbound': rules, 'outbound': [dict(rule) for rule in ANY], 'blocklist': found['blocklist'],
        }
    devices = []
    for device in present:
        options = {'listen_port': 0, 'am_lighthouse': False, 'am_relay': False,
                   'lighthouses': [overlay[h] for h in found['lighthouses']],
                   'relays': [overlay[h] for h in found['relays']],
                   'static_host_map': _host_map(found, overlay, public),
                   'inbound': _inbound(found, device['groups']), 'outbound': [dict(rule) for rule in ANY],
                   'blocklist': found['blocklist']}
        devices.append(dict([(k, device[k]) for k in ('name', 'key', 'groups', 'public_key', 'config_dir')],
                            address='%s/%d' % (overlay[device['key']], network.prefixlen), options=options))
    return plans, devices


def _inbound(found, groups):
    """The inbound rules of a member or device with certificate ``groups``: everything without policies; else ICMP
    (allow_icmp) and the rules of the policies whose destinations (or sources, when bidirectional) name one of its
    groups or ``all``, each rule once."""
    if not found['policies']:
        return [dict(rule) for rule in ANY]
    rules = [{'port': 'any', 'proto': 'icmp', 'host': 'any'}] if found['allow_icmp'] else []
    mine = set(groups) | set([vpn_policy.ALL])
    for item in found['policies']:
        if mine & set(item['destinations']):
            rules.extend(_rules(item))
        if item['bidirectional'] and mine & set(item['sources']):
            rules.extend(_rules(dict(item, sources=item['destinations'])))
    return _unique(rules)


def _host_map(found, overlay, hosts):
    """``static_host_map`` of the lighthouses and relays ``hosts``: overlay address to underlay endpoint."""
    return dict((overlay[h], [v.format_endpoint(found['members'][h]['endpoint'], found['members'][h]['listen_port'])])
                for h in hosts)


def _unique(rules):
    unique = []
    for rule in rules:
        if rule not in unique:
            unique.append(rule)
    return unique
