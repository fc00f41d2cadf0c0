# -*- coding: utf-8 -*-
# Copyright: meshforge.vpn contributors
# GNU General Public License v3.0+ (see https://www.gnu.org/licenses/gpl-3.0.txt)
"""charon's answers as plain data: the IKE and CHILD SAs of list-sas, and each connection's status."""

from __future__ import absolute_import, division, print_function

__metaclass__ = type

from collections import OrderedDict


def decode(value):
    """A VICI answer with bytes values (what the vici package returns) as plain str/list/dict."""
    if isinstance(value, bytes):
        return value.decode('utf-8', 'replace')
    if isinstance(value, dict):
        return OrderedDict((k.decode() if isinstance(k, bytes) else k, decode(x)) for k, x in value.items())
    if isinstance(value, list):
        return [decode(x) for x in value]
    return value


def _int(value):
    try:
        return int(value)
    except (TypeError, ValueError):
        return None


def _algorithm(sa):
    """``AES_GCM_16-256/PRF_HMAC_SHA2_384/ECP_384``, the form swanctl --list-sas prints."""
    parts = []
    if sa.get('encr-alg'):
        parts.append(sa['encr-alg'] + ('-%s' % sa['encr-keysize'] if sa.get('encr-keysize') else ''))
    if sa.get('integ-alg'):
        parts.append(sa['integ-alg'] + ('-%s' % sa['integ-keysize'] if sa.get('integ-keysize') else ''))
    for key in ('prf-alg', 'dh-group'):
        if sa.get(key):
            parts.append(sa[key])
    return '/'.join(parts) or None


def _negotiated(sa):
    """What an IKE SA and a CHILD SA both report of their algorithms."""
    return {
        'encr_alg': sa.get('encr-alg'),
        'encr_keysize': _int(sa.get('encr-keysize')),
        'integ_alg': sa.get('integ-alg'),
        'integ_keysize': _int(sa.get('integ-keysize')),
        'dh_group': sa.get('dh-group'),
        'algorithms': _algorithm(sa),
        'rekey_time': _int(sa.get('rekey-time')),
    }


def parse_child_sa(key, child):
    parsed = _negotiated(child)
    parsed.update({
        'name': child.get('name', key),
        'uniqueid': _int(child.get('uniqueid')),
        'reqid': _int(child.get('reqid')),
        'state': child.get('state'),
        'mode': child.get('mode'),
        'protocol': child.get('protocol'),
        'encap': child.get('encap') == 'yes',
        'spi_in': child.get('spi-in'),
        'spi_out': child.get('spi-out'),
        'esn': child.get('esn') == '1',
        'bytes_in': _int(child.get('bytes-in')) or 0,
        'packets_in': _int(child.get('packets-in')) or 0,
        'last_in': _int(child.get('use-in')),
        'bytes_out': _int(child.get('bytes-out')) or 0,
        'packets_out': _int(child.get('packets-out')) or 0,
        'last_out': _int(child.get('use-out')),
        'installed': _int(child.get('install-time')),
        'life_time': _int(child.get('life-time')),
        'local_ts': list(child.get('local-ts') or []),
        'remote_ts': list(child.get('remote-ts') or []),
    })
    return parsed


def parse_ike_sa(name, sa):
    children = [parse_child_sa(k, c) for k, c in (sa.get('child-sas') or {}).items()]
    children.sort(key=lambda c: (c['name'], c['uniqueid'] or 0))
    parsed = _negotiated(sa)
    parsed.update({
        'name': name,
        'uniqueid': _int(sa.get('uniqueid')),
        'version': _int(sa.get('version')),
        'state': sa.get('state'),
        'initiator': sa.get('initiator') == 'yes',
        'local_host': sa.get('local-host'),
        'local_port': _int(sa.get('local-port')),
        'local_id': sa.get('local-id'),
        'remote_host': sa.get('remote-host'),
        'remote_port': _int(sa.get('remote-port')),
        'remote_id': sa.get('remote-id'),
        'nat': sa.get('nat-any') == 'yes',
        'initiator_spi': sa.get('initiator-spi'),
        'responder_spi': sa.get('responder-spi'),
        'prf_alg': sa.get('prf-alg'),
        'established': _int(sa.get('established')),
        'reauth_time': _int(sa.get('reauth-time')),
        'child_sas': children,
    })
    return parsed


def parse_list_sas(events):
    """``list-sa`` events (each ``{ike_name: {...}}``, decoded or not) as a list of IKE SAs, by name and unique id."""
    sas = []
    for event in events:
        for name, sa in decode(event).items():
            sas.append(parse_ike_sa(name, sa))
    sas.sort(key=lambda s: (s['name'], s['uniqueid'] or 0))
    return sas


def connection_status(names, sas):
    """Per loaded connection: is an IKE SA established, and which of its children are installed."""
    status = OrderedDict()
    for name in sorted(names):
        mine = [s for s in sas if s['name'] == name]
        established = [s for s in mine if s['state'] == 'ESTABLISHED']
        installed = sorted(set(c['name'] for s in established for c in s['child_sas'] if c['state'] == 'INSTALLED'))
        status[name] = {'established': bool(established), 'ike_sas': len(mine), 'children_installed': installed}
    return status
