# -*- coding: utf-8 -*-
# Copyright: meshforge.vpn contributors
# GNU General Public License v3.0+ (see https://www.gnu.org/licenses/gpl-3.0.txt)
"""Site-to-site IPsec planned on the controller: one tunnel definition, both ends' connections.

``plan_sites`` takes the role's ``ipsec_site_tunnels`` list and each managed host's settings and returns, per host,
the ``meshforge.vpn.ipsec_connection`` options of every tunnel end it holds, without any pre-shared key: the plan
may be shown.  Every connection is checked with the module's own validation (``schema.normalize_connection``)
here, so a bad value fails on the controller, naming the variable, before any host is touched.

Pre-shared keys come from ``site_psk``: a tunnel between two managed hosts uses the collection's one per-pair
derivation (``topology.preshared_key``: HMAC of one secret over the pair of names), so it is made once, kept, and
the same on both ends; a tunnel to an unmanaged appliance uses the key given in its definition.
"""

from __future__ import absolute_import, division, print_function

__metaclass__ = type

import ipaddress

from ansible_collections.meshforge.vpn.plugins.module_utils import validation as v
from ansible_collections.meshforge.vpn.plugins.module_utils.strongswan import schema
from ansible_collections.meshforge.vpn.plugins.plugin_utils import topology, underlay

VAR = 'ipsec_site_tunnels'
TUNNEL_OPTIONS = frozenset([
    'name', 'left', 'right', 'left_address', 'right_address', 'left_id', 'right_id', 'left_subnets', 'right_subnets',
    'auth', 'psk', 'allow_short_psk', 'initiator', 'version', 'proposals', 'esp_proposals', 'allow_weak_crypto',
    'dpd_delay', 'rekey_time', 'reauth_time', 'over_time', 'child_rekey_time', 'child_life_time', 'mode', 'mobike',
    'encap', 'keyingtries', 'children'])
CHILD_OPTIONS = frozenset(['name', 'left_subnets', 'right_subnets', 'esp_proposals', 'rekey_time', 'life_time',
                           'mode'])
SIDES = ('left', 'right')
# child option, and the tunnel option that gives its default
CHILD_DEFAULTS = (('esp_proposals', 'esp_proposals'), ('rekey_time', 'child_rekey_time'),
                  ('life_time', 'child_life_time'), ('mode', 'mode'))
# stands for a derived key while the definition is checked: the real one is made only where it is used
PLACEHOLDER_PSK = 'x' * schema.MIN_PSK_LENGTH


def _subnets(field, values):
    if isinstance(values, str):
        values = [values]
    if not isinstance(values, (list, tuple)) or not values:
        raise v.ValidationError(field, 'must be a non-empty list of CIDR prefixes')
    return [str(v.prefix('%s[%d]' % (field, i), s)) for i, s in enumerate(values)]


def _end(field, tunnel, side, hosts, settings):
    """One end of a tunnel: managed (an inventory host) or an unmanaged appliance (address and identity given)."""
    host = tunnel.get(side)
    end = {'host': None, 'management': None}
    fields = dict((key, '%s.%s_%s' % (field, side, key)) for key in ('address', 'id', 'subnets'))
    if host is not None:
        host = v.name('%s.%s' % (field, side), host)
        if host not in hosts:
            raise v.ValidationError('%s.%s' % (field, side), '%r is not a host of the inventory' % host)
        end['host'] = host
        own = hosts[host]
        address = tunnel.get(side + '_address') or own.get('address') or own.get('ansible_host') or host
        identity = tunnel.get(side + '_id') or own.get('id') or host
        subnets = tunnel.get(side + '_subnets') or own.get('subnets')
        # a value that comes from the host's variables is told as that variable
        for key, variable in (('address', 'ipsec_site_address'), ('id', 'ipsec_site_id'),
                              ('subnets', 'ipsec_site_subnets')):
            if not tunnel.get('%s_%s' % (side, key)):
                fields[key] = '%s (%s)' % (variable, host)
        end['management'] = underlay.ip_literal(own.get('ansible_host') or host)
    else:
        if side == 'left':
            raise v.ValidationError(field + '.left', 'is required: the managed host of the tunnel')
        address = tunnel.get('right_address')
        if not address:
            raise v.ValidationError(field + '.right', 'give a managed host, or right_address (and right_id, '
                                    'right_subnets) of an unmanaged peer')
        identity = tunnel.get('right_id') or address
        subnets = tunnel.get('right_subnets')
    end['address'] = schema.ike_address(fields['address'], address)
    end['id'] = schema.identity(fields['id'], identity)
    end['subnets'] = _subnets(fields['subnets'], subnets) if subnets else None
    end['subnets_field'] = fields['subnets']
    return end


def _children(field, tunnel, ends):
    raw = tunnel.get('children')
    if raw is None:
        raw = [{'name': 'net'}]
    if not isinstance(raw, list) or not raw:
        raise v.ValidationError(field + '.children', 'must be a non-empty list')
    children = []
    for i, child in enumerate(raw):
        cfield = '%s.children[%d]' % (field, i)
        if not isinstance(child, dict):
            raise v.ValidationError(cfield, 'must be a dictionary')
        v.known_options(cfield, child, CHILD_OPTIONS)
        out = {'name': v.section_name(cfield + '.name', child.get('name'))}
        out['fields'] = {}
        for side in SIDES:
            if child.get(side + '_subnets'):
                out['fields'][side] = '%s.%s_subnets' % (cfield, side)
                out[side] = _subnets(out['fields'][side], child[side + '_subnets'])
            elif ends[side]['subnets']:
                out['fields'][side] = ends[side]['subnets_field']
                out[side] = ends[side]['subnets']
            else:
                raise v.ValidationError('%s.%s_subnets' % (cfield, side), 'no subnets for this end (set it, or '
                                        'ipsec_site_subnets of %s)' % (ends[side]['host'] or 'the peer'))
        # said in the tunnel's own words: its sides' subnets, left and right
        schema.common_family(cfield if tunnel.get('children') is not None else field, out['left'], out['right'],
                             ('left_subnets', 'right_subnets'))
        for key in ('esp_proposals', 'rekey_time', 'life_time', 'mode'):
            if child.get(key) is not None:
                out[key] = child[key]
        if any(c['name'] == out['name'] for c in children):
            raise v.ValidationError(cfield + '.name', '%r is listed twice' % out['name'])
        children.append(out)
    return children


def _check_underlay(ends, children):
    """A managed end routes the other side's subnets into the tunnel (charon's routes, table 220): they must not
    hold the address Ansible reaches that end at, nor the other side's IKE address unless they are exactly that
    host (a host-to-host tunnel)."""
    for side in SIDES:
        peer = 'right' if side == 'left' else 'left'
        if ends[side]['host'] is None:
            continue
        ike = underlay.ip_literal(ends[peer]['address'])
        for child in children:
            for text in child[peer]:
                prefix = ipaddress.ip_network(text)
                hosts = {ends[side]['host']: {'management': ends[side]['management']}}
                if prefix.prefixlen < prefix.max_prefixlen:
                    hosts[ends[peer]['host'] or ends[peer]['id']] = {'endpoint': ike}
                underlay.check_prefix(child['fields'][peer], prefix, hosts)


def _settings(settings):
    """The role's own settings, told as its variables."""
    if settings.get('vici_socket') is not None:
        v.name('ipsec_site_vici_socket', settings['vici_socket'])
        schema.vici_socket('ipsec_site_vici_socket', settings['vici_socket'])
    if settings.get('ca_name') is not None:
        v.section_name('ipsec_site_ca_name', settings['ca_name'])
    if settings.get('psk_secret'):
        # one given by the user (an empty one is generated); checked before any host is touched
        topology.check_psk_secret('ipsec_site_psk_secret', settings['psk_secret'])


def _connection(tunnel, ends, children, side, psk_source, settings):
    peer = 'right' if side == 'left' else 'left'
    initiates = tunnel.get('initiator', 'left') in (side, 'both')
    action = 'start' if initiates else 'none'
    conn = {
        'name': tunnel['name'],
        'version': tunnel.get('version') or 2,
        'local_addrs': [ends[side]['address']],
        'remote_addrs': [ends[peer]['address']],
        'local_id': ends[side]['id'],
        'remote_id': ends[peer]['id'],
        'auth': tunnel.get('auth') or 'psk',
        'encap': bool(settings.get('libipsec')) if tunnel.get('encap') is None else bool(tunnel['encap']),
        'mobike': True if tunnel.get('mobike') is None else bool(tunnel['mobike']),
        'allow_weak_crypto': bool(tunnel.get('allow_weak_crypto')),
        'allow_short_psk': bool(tunnel.get('allow_short_psk')),
        'psk_source': psk_source,
        'initiates': initiates,
        'children': [],
    }
    for key in ('proposals', 'dpd_delay', 'rekey_time', 'reauth_time', 'over_time', 'keyingtries'):
        if tunnel.get(key) is not None:
            conn[key] = tunnel[key]
    if conn['auth'] == 'pubkey':
        host = ends[side]['host']
        conn['local_certs'] = ['%s.pem' % host]
        conn['local_key'] = '%s.key' % host
        conn['remote_cacerts'] = ['%s.pem' % settings.get('ca_name', 'meshforge-vpn-ca')]
    for child in children:
        out = {'name': child['name'], 'local_ts': child[side], 'remote_ts': child[peer],
               'start_action': action, 'close_action': action}
        for key, tunnel_key in CHILD_DEFAULTS:
            value = child.get(key) if child.get(key) is not None else tunnel.get(tunnel_key)
            if value is not None:
                out[key] = value
        conn['children'].append(out)
    return conn


def _routes_subnets(subnets):
    """Whether a list of local subnets is more than this host's own addresses (so the host forwards for them)."""
    four = six = False
    for s in subnets:
        net = ipaddress.ip_network(s, strict=False)
        if net.num_addresses > 1:
            if net.version == 4:
                four = True
            else:
                six = True
    return four, six


def plan_sites(tunnels, hosts, settings):
    """{host: {'connections': [...], 'forwarding': bool, 'forwarding6': bool}} for every managed host in ``hosts``.

    ``hosts``: inventory name -> {'ansible_host', 'address', 'id', 'subnets'} (the host's ipsec_site_* variables);
    ``settings``: {'libipsec', 'vici_socket', 'ca_name'}.  Raises ValidationError naming the variable.
    """
    _settings(settings)
    if tunnels is None:
        tunnels = []
    if not isinstance(tunnels, list):
        raise v.ValidationError(VAR, 'must be a list of tunnels')
    plans = dict((h, {'connections': [], 'forwarding': False, 'forwarding6': False, 'pubkey': False})
                 for h in hosts)
    names = {}
    for index, tunnel in enumerate(tunnels):
        field = '%s[%d]' % (VAR, index)
        if not isinstance(tunnel, dict):
            raise v.ValidationError(field, 'must be a dictionary')
        v.known_options(field, tunnel, TUNNEL_OPTIONS)
        name = v.section_name(field + '.name', tunnel.get('name'))
        field = '%s (%s)' % (field, name)
        if name in names:
            raise v.ValidationError(field + '.name', 'already the name of %s[%d]' % (VAR, names[name]))
        names[name] = index
        if tunnel.get('initiator', 'left') not in ('left', 'right', 'both'):
            raise v.ValidationError(field + '.initiator', '%r is not one of left, right, both' % (tunnel['initiator'],))
        ends = dict((side, _end(field, tunnel, side, hosts, settings)) for side in SIDES)
        if ends['left']['host'] == ends['right']['host']:
            raise v.ValidationError(field + '.right', 'must differ from left')
        children = _children(field, tunnel, ends)
        _check_underlay(ends, children)
        auth = tunnel.get('auth') or 'psk'
        if auth == 'psk':
            if tunnel.get('psk') is not None:
                # a key given by the user (an appliance's): checked here, never put into the plan
                minimum = 1 if tunnel.get('allow_short_psk') else schema.MIN_PSK_LENGTH
                v.secret(field + '.psk', tunnel['psk'], minimum)
                psk_source = {'tunnel': index}
            elif ends['right']['host'] is None:
                raise v.ValidationError(field + '.psk', 'a tunnel to an unmanaged peer needs the pre-shared key its '
                                        'administrator configures (from a vault)')
            else:
                psk_source = {'pair': sorted([ends['left']['host'], ends['right']['host']])}
        else:
            if tunnel.get('psk') is not None:
                raise v.ValidationError(field + '.psk', 'applies to auth: psk only')
            psk_source = None
        for side in SIDES:
            host = ends[side]['host']
            if host is None:
                continue
            conn = _connection(dict(tunnel, name=name), ends, children, side, psk_source, settings)
            check = dict((k, val) for k, val in conn.items() if k not in ('psk_source', 'initiates'))
            check['vici_socket'] = settings.get('vici_socket')
            if auth == 'psk':
                check['psk'] = tunnel['psk'] if tunnel.get('psk') is not None else PLACEHOLDER_PSK
            try:
                schema.normalize_connection(check)
            except v.ValidationError as exc:
                raise v.ValidationError('%s, as %s\'s %s' % (field, host, exc.field), exc.problem)
            plan = plans[host]
            if any(c['name'] == name for c in plan['connections']):
                raise v.ValidationError(field + '.name', 'two tunnels named %r on %s' % (name, host))
            plan['connections'].append(conn)
            plan['pubkey'] = plan['pubkey'] or auth == 'pubkey'
            for child in conn['children']:
                four, six = _routes_subnets(child['local_ts'])
                plan['forwarding'] = plan['forwarding'] or four
                plan['forwarding6'] = plan['forwarding6'] or six
    for plan in plans.values():
        plan['connections'].sort(key=lambda c: c['name'])
    return plans


def check_removal(tunnels, remove, inventory):
    """Refuse ``ipsec_site_remove`` (hosts that leave the sites for good) naming a host the inventory does not have, or
    one that is still an end of a tunnel (the next run would set the tunnel up again)."""
    field = 'ipsec_site_remove'
    if isinstance(remove, str):
        remove = [part.strip() for part in remove.split(',') if part.strip()]
    if not isinstance(remove, (list, tuple)) or not all(isinstance(name, str) and name for name in remove):
        raise v.ValidationError(field, 'must be a list of inventory host names, got %r' % (remove,))
    strangers = [name for name in remove if name not in inventory]
    if strangers:
        raise v.ValidationError(field, '%s is not a host of the inventory' % ', '.join(strangers))
    for tunnel in tunnels if isinstance(tunnels, list) else []:
        ends = [tunnel.get(side) for side in SIDES if isinstance(tunnel, dict)]
        still = [name for name in remove if name in ends]
        if still:
            raise v.ValidationError(field, '%s is still an end of the tunnel %s; drop the tunnel from ipsec_site_tunnels '
                                    'first' % (still[0], tunnel.get('name')))
    return list(remove)


def needs_psk_secret(plans):
    return any((c.get('psk_source') or {}).get('pair') for p in plans.values() for c in p['connections'])


def site_psk(connection, secret, tunnels):
    """The pre-shared key of a planned connection; pass it only to a ``no_log`` option."""
    source = connection.get('psk_source') or {}
    if 'tunnel' in source:
        return tunnels[source['tunnel']]['psk']
    if 'pair' in source:
        topology.check_psk_secret('ipsec_site_psk_secret', secret)
        low, high = source['pair']
        return topology.preshared_key(str(secret), 'ipsec/' + connection['name'], low, high)
    return None
