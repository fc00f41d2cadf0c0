# -*- coding: utf-8 -*-
# Copyright: meshforge.vpn contributors
# GNU General Public License v3.0+ (see https://www.gnu.org/licenses/gpl-3.0.txt)
"""One connection's options checked and normalised (no I/O): the desired state of ipsec_connection."""

from __future__ import absolute_import, division, print_function

__metaclass__ = type

import ipaddress
import os
from collections import OrderedDict

from ansible_collections.meshforge.vpn.plugins.module_utils import validation as v
from ansible_collections.meshforge.vpn.plugins.module_utils.strongswan import proposals


CONFIG_DIR = '/etc/swanctl'
DEFAULT_SOCKET = 'unix:///var/run/charon.vici'
MIN_PSK_LENGTH = 20


# strongSwan's defaults for what list-conns reports, so that an option left out compares equal.
DEFAULT_IKE_REKEY = 14400


DEFAULT_CHILD_REKEY = 3600
CONNECTION_OPTIONS = frozenset([
    'name', 'state', 'vici_socket', 'version', 'local_addrs', 'remote_addrs', 'local_id', 'remote_id', 'auth', 'psk',
    'allow_short_psk', 'local_certs', 'local_key', 'remote_cacerts', 'proposals', 'allow_weak_crypto', 'dpd_delay',
    'dpd_action', 'rekey_time', 'reauth_time', 'over_time', 'mobike', 'encap', 'keyingtries', 'children',
    # the module's, not the connection's: where its audit records go
    'audit_log', 'audit_log_max_size', 'audit_log_keep'])
CHILD_OPTIONS = frozenset(['name', 'local_ts', 'remote_ts', 'mode', 'start_action', 'close_action', 'esp_proposals',
                           'rekey_time', 'life_time', 'dpd_action'])
ANY_ADDRESS = ('%any', '%any4', '%any6')


# What dpd_action follows from start_action when not given: a tunnel that is started is restarted, a trap re-armed.
DPD_FOR_START = {'start': 'restart', 'trap': 'trap', 'none': 'clear'}


def ike_address(field, value):
    """A local or remote IKE address: an IP address, a CIDR (responder only), a DNS name or %any."""
    value = v.free_text(field, value).strip()
    if value in ANY_ADDRESS:
        return value
    if '/' in value:
        return str(v.network(field, value))
    return v.endpoint_host(field, value)


def identity(field, value):
    """An IKE identity (IP address, FQDN, email, DN or %any): one quotable line."""
    return v.config_value(field, value)


def _choice(field, value, choices, default=None):
    if value is None:
        return default
    if value not in choices:
        raise v.ValidationError(field, '%r is not one of %s' % (value, ', '.join(choices)))
    return value


def _credential_path(field, value, directory):
    """A credential file inside ``directory`` (a bare file name is taken relative to it); returns the absolute path.

    ``swanctl --load-all`` finds private keys only in /etc/swanctl/private and takes comma-separated lists of
    certificate files, so the path is kept inside its directory and free of commas.
    """
    value = v._text(field, value).strip()
    if '/' not in value:
        value = '%s/%s' % (directory, value)
    v.absolute_path(field, value)
    if ',' in value or os.path.normpath(value) != value or os.path.dirname(value) != directory:
        raise v.ValidationError(field, '%r must be a file directly in %s (no commas)' % (value, directory))
    return value


def common_family(field, local, remote, names=('local_ts', 'remote_ts')):
    """Traffic selectors form a policy only within one address family: local and remote need one in common."""
    families = [set(ipaddress.ip_network(ts).version for ts in side) for side in (local, remote)]
    if not families[0] & families[1]:
        raise v.ValidationError(field, '%s are IPv%s only and %s IPv%s only: no policy can join them; give both '
                                'sides prefixes of one family' % (names[0], ' and IPv'.join(map(str, sorted(families[0]))),
                                                                  names[1], ' and IPv'.join(map(str, sorted(families[1])))))


def normalize_child(index, raw, defaults, allow_weak, version):
    field = 'children[%d]' % index
    if not isinstance(raw, dict):
        raise v.ValidationError(field, 'must be a dictionary')
    v.known_options(field, raw, CHILD_OPTIONS)
    child = OrderedDict()
    child['name'] = v.section_name(field + '.name', raw.get('name'))
    for key in ('local_ts', 'remote_ts'):
        values = raw.get(key)
        if not isinstance(values, list) or not values:
            raise v.ValidationError('%s.%s' % (field, key), 'must be a non-empty list of CIDR prefixes')
        child[key] = [str(v.prefix('%s.%s[%d]' % (field, key, i), ts)) for i, ts in enumerate(values)]
    common_family(field, child['local_ts'], child['remote_ts'])
    child['mode'] = _choice(field + '.mode', raw.get('mode'), ('tunnel', 'transport'), 'tunnel')
    child['start_action'] = _choice(field + '.start_action', raw.get('start_action'), ('none', 'trap', 'start'), 'none')
    child['close_action'] = _choice(field + '.close_action', raw.get('close_action'), ('none', 'trap', 'start'), 'none')
    child['esp_proposals'] = proposals.proposals(field + '.esp_proposals', raw.get('esp_proposals') or proposals.DEFAULT_ESP_PROPOSALS,
                                                 'esp', allow_weak, version)
    child['rekey_time'] = v.duration(field + '.rekey_time', raw['rekey_time']) \
        if raw.get('rekey_time') is not None else DEFAULT_CHILD_REKEY
    child['life_time'] = v.duration(field + '.life_time', raw['life_time']) \
        if raw.get('life_time') is not None else None
    if child['life_time'] is not None and child['rekey_time'] and child['life_time'] <= child['rekey_time']:
        raise v.ValidationError(field + '.life_time', 'must be longer than rekey_time (%d s)' % child['rekey_time'])
    child['dpd_action'] = _choice(field + '.dpd_action', raw.get('dpd_action') or defaults.get('dpd_action'),
                                  ('clear', 'trap', 'restart'), DPD_FOR_START[child['start_action']])
    return child


def normalize_connection(params):
    """Check every option of ipsec_connection and return the desired connection; raises ValidationError.

    Nothing is read from or written to the host here: a bad value fails before anything is touched.
    """
    v.known_options('options', params, CONNECTION_OPTIONS)
    desired = OrderedDict()
    desired['name'] = v.section_name('name', params.get('name'))
    desired['state'] = _choice('state', params.get('state'), ('present', 'absent'), 'present')
    desired['vici_socket'] = vici_socket('vici_socket', params.get('vici_socket') or DEFAULT_SOCKET)
    if desired['state'] == 'absent':
        return desired
    allow_weak = bool(params.get('allow_weak_crypto'))
    version = params.get('version') or 2
    if version not in (1, 2):
        raise v.ValidationError('version', '%r is not 1 or 2' % (version,))
    desired['version'] = version
    for key in ('local_addrs', 'remote_addrs'):
        values = params.get(key) or []
        if not isinstance(values, list):
            raise v.ValidationError(key, 'must be a list')
        desired[key] = [ike_address('%s[%d]' % (key, i), a) for i, a in enumerate(values)] or ['%any']
    for key in ('local_id', 'remote_id'):
        desired[key] = identity(key, params[key]) if params.get(key) else None
    desired['auth'] = _choice('auth', params.get('auth'), ('psk', 'pubkey'), 'psk')
    desired['psk'] = None
    desired['local_certs'], desired['local_key'], desired['remote_cacerts'] = [], None, []
    if desired['auth'] == 'psk':
        if params.get('psk') is None:
            raise v.ValidationError('psk', 'required with auth: psk')
        minimum = 1 if params.get('allow_short_psk') else MIN_PSK_LENGTH
        desired['psk'] = v.secret('psk', params['psk'], minimum)
        for key in ('local_certs', 'local_key', 'remote_cacerts'):
            if params.get(key):
                raise v.ValidationError(key, 'applies to auth: pubkey only')
    else:
        if params.get('psk') is not None:
            raise v.ValidationError('psk', 'applies to auth: psk only')
        desired['local_certs'] = [_credential_path('local_certs[%d]' % i, p, CONFIG_DIR + '/x509')
                                  for i, p in enumerate(params.get('local_certs') or [])]
        if not desired['local_certs']:
            raise v.ValidationError('local_certs', 'auth: pubkey needs the local certificate')
        if params.get('local_key'):
            desired['local_key'] = _credential_path('local_key', params['local_key'], CONFIG_DIR + '/private')
        desired['remote_cacerts'] = [_credential_path('remote_cacerts[%d]' % i, p, CONFIG_DIR + '/x509ca')
                                     for i, p in enumerate(params.get('remote_cacerts') or [])]
    desired['proposals'] = proposals.proposals('proposals', params.get('proposals') or proposals.DEFAULT_IKE_PROPOSALS[version],
                                               'ike', allow_weak, version)
    desired['dpd_delay'] = v.duration('dpd_delay', params['dpd_delay'] if params.get('dpd_delay') is not None else 30)
    desired['rekey_time'] = v.duration('rekey_time', params['rekey_time']) \
        if params.get('rekey_time') is not None else DEFAULT_IKE_REKEY
    desired['reauth_time'] = v.duration('reauth_time', params['reauth_time']) \
        if params.get('reauth_time') is not None else 0
    desired['over_time'] = v.duration('over_time', params['over_time']) \
        if params.get('over_time') is not None else None
    # 0 = keep trying: a gateway whose peer is not up yet (both rebooting) must not give up after one attempt,
    # which is strongSwan's default.
    desired['keyingtries'] = v.integer('keyingtries', params['keyingtries'] if params.get('keyingtries') is not None
                                       else 0, 0, 65535)
    desired['mobike'] = True if params.get('mobike') is None else bool(params['mobike'])
    desired['encap'] = bool(params.get('encap'))
    defaults = {'dpd_action': _choice('dpd_action', params.get('dpd_action'), ('clear', 'trap', 'restart'))}
    children = params.get('children') or []
    if not isinstance(children, list) or not children:
        raise v.ValidationError('children', 'at least one child (a pair of traffic selectors) is required')
    desired['children'] = []
    for index, raw in enumerate(children):
        child = normalize_child(index, raw, defaults, allow_weak, version)
        if child['name'] in [c['name'] for c in desired['children']]:
            raise v.ValidationError('children[%d].name' % index, '%r is listed twice' % child['name'])
        desired['children'].append(child)
    return desired


def vici_socket(field, value):
    """charon's VICI URI: ``unix://`` followed by an absolute path; returns the path."""
    value = v._text(field, value)
    if value != value.strip():
        raise v.ValidationError(field, '%r: no spaces or line breaks around the socket URI' % value)
    if not value.startswith('unix://'):
        raise v.ValidationError(field, '%r: only unix:// sockets are supported (e.g. %s)' % (value, DEFAULT_SOCKET))
    return v.absolute_path(field, value[len('unix://'):])


def shared_id(name):
    """The id of the connection's IKE secret: swanctl uses the secrets subsection name, so this one is shared."""
    return 'ike-%s' % name


def config_path(name):
    return '%s/conf.d/%s.conf' % (CONFIG_DIR, name)


def secrets_path(name):
    return '%s/conf.d/%s.secrets.conf' % (CONFIG_DIR, name)
