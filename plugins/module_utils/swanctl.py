# -*- coding: utf-8 -*-
# Copyright: meshforge.vpn contributors
# GNU General Public License v3.0+ (see https://www.gnu.org/licenses/gpl-3.0.txt)
"""Everything about strongSwan connections: validate, render swanctl.conf, talk to charon over VICI.

The pure parts (proposal grammar, normalising a connection, building VICI
messages, rendering the swanctl.conf files, comparing with the loaded
connection, parsing ``list-sas``) take and return plain data, so unit tests
reach them without a host or a charon.  :class:`Charon` is the only part that
talks to the daemon, through strongSwan's own ``vici`` Python package.

The VICI message is the one description of a connection: the configuration
file is rendered from the very message that is loaded, so that ``swanctl
--load-all`` at boot loads exactly what this module loaded.
"""

from __future__ import absolute_import, division, print_function

__metaclass__ = type

import base64
import hashlib
import ipaddress
import os
import re
import socket
import traceback
from collections import OrderedDict

from ansible_collections.meshforge.vpn.plugins.module_utils import files
from ansible_collections.meshforge.vpn.plugins.module_utils import validation as v
from ansible_collections.meshforge.vpn.plugins.module_utils.common import ModuleError

try:
    import vici
    HAS_VICI = True
    VICI_IMPORT_ERROR = None
except ImportError:
    vici = None
    HAS_VICI = False
    VICI_IMPORT_ERROR = traceback.format_exc()

CONFIG_DIR = '/etc/swanctl'
DEFAULT_SOCKET = 'unix:///var/run/charon.vici'
MANAGED_HEADER = '# Managed by meshforge.vpn (ipsec_connection). Local changes are overwritten.\n'
MIN_PSK_LENGTH = 20
SOCKET_TIMEOUT = 30
TERMINATE_TIMEOUT_MS = 10000

DEFAULT_IKE_PROPOSALS = {
    2: ['aes256gcm16-aes128gcm16-prfsha384-prfsha256-ecp384-curve25519'],
    # IKEv1 has no AEAD for the IKE SA and takes one algorithm of each kind per proposal.
    1: ['aes256-sha384-ecp384', 'aes128-sha256-ecp256'],
}
DEFAULT_ESP_PROPOSALS = ['aes256gcm16-aes128gcm16-ecp384-curve25519']

# strongSwan's defaults for what list-conns reports, so that an option left out compares equal.
DEFAULT_IKE_REKEY = 14400
DEFAULT_CHILD_REKEY = 3600


# --------------------------------------------------------- proposals --
# The keywords of strongSwan 5.9's proposal grammar (src/libstrongswan/crypto/proposal), by kind.
# Encryption algorithms are 'classic' (need an integrity algorithm), 'aead' (carry their own) or
# 'gmac' (authentication only: ESP with no encryption).

def _encryption_keywords():
    table = {'null': 'classic', 'des': 'classic', '3des': 'classic', 'aes': 'classic', 'cast128': 'classic',
             'blowfish': 'classic', 'camellia': 'classic', 'serpent': 'classic', 'twofish': 'classic',
             'chacha20poly1305': 'aead'}
    for size in ('128', '192', '256'):
        for family in ('aes', 'blowfish', 'camellia', 'serpent', 'twofish'):
            table[family + size] = 'classic'
        table['aes%sctr' % size] = 'classic'
        table['camellia%sctr' % size] = 'classic'
        table['aes%sgmac' % size] = 'gmac'
        for icv in ('8', '64', '12', '96', '16', '128'):
            table['aes%sgcm%s' % (size, icv)] = 'aead'
            table['aes%sccm%s' % (size, icv)] = 'aead'
            table['camellia%sccm%s' % (size, icv)] = 'aead'
        table['aes%sgcm' % size] = 'aead'
        table['aes%sccm' % size] = 'aead'
    return table


ENCRYPTION = _encryption_keywords()
INTEGRITY = frozenset(['sha', 'sha1', 'sha1_160', 'sha256', 'sha2_256', 'sha256_96', 'sha2_256_96', 'sha384',
                       'sha2_384', 'sha512', 'sha2_512', 'md5', 'md5_128', 'aesxcbc', 'camelliaxcbc', 'aescmac'])
PRF = frozenset(['prfsha1', 'prfsha256', 'prfsha384', 'prfsha512', 'prfmd5', 'prfaesxcbc', 'prfcamelliaxcbc',
                 'prfaescmac'])
DH_GROUPS = frozenset(['modp768', 'modp1024', 'modp1536', 'modp2048', 'modp3072', 'modp4096', 'modp6144', 'modp8192',
                       'modp1024s160', 'modp2048s224', 'modp2048s256', 'ecp192', 'ecp224', 'ecp256', 'ecp384', 'ecp521',
                       'ecp224bp', 'ecp256bp', 'ecp384bp', 'ecp512bp', 'curve25519', 'x25519', 'curve448', 'x448'])
NO_PFS = frozenset(['none', 'modpnone'])
ESN = frozenset(['esn', 'noesn'])


def _weak_keywords():
    weak = {
        'null': 'NULL encryption (no confidentiality)',
        'des': 'DES (56-bit key)',
        '3des': '3DES (64-bit block, Sweet32)',
        'cast128': 'CAST-128 (64-bit block)',
        'sha': 'SHA-1 integrity', 'sha1': 'SHA-1 integrity', 'sha1_160': 'SHA-1 integrity',
        'md5': 'MD5 integrity', 'md5_128': 'MD5 integrity',
        'sha256_96': 'SHA-256 truncated to 96 bits (non-standard)',
        'sha2_256_96': 'SHA-256 truncated to 96 bits (non-standard)',
        'prfsha1': 'SHA-1 PRF', 'prfmd5': 'MD5 PRF',
        'modp768': 'MODP group 1 (768 bits)', 'modp1024': 'MODP group 2 (1024 bits)',
        'modp1536': 'MODP group 5 (1536 bits)',
        'modp1024s160': 'MODP group 22 (1024 bits, small subgroup)',
        'modp2048s224': 'MODP group 23 (small subgroup, RFC 8247 SHOULD NOT)',
        'modp2048s256': 'MODP group 24 (small subgroup, RFC 8247 SHOULD NOT)',
        'ecp192': 'ECP group 25 (192 bits)',
    }
    for size in ('', '128', '192', '256'):
        weak['blowfish' + size] = 'Blowfish (64-bit block)'
    for size in ('128', '192', '256'):
        weak['aes%sgmac' % size] = 'AES-GMAC (authentication only, no encryption)'
        for icv in ('8', '64'):
            weak['aes%sgcm%s' % (size, icv)] = 'AES-GCM with a 64-bit ICV'
    return weak


WEAK = _weak_keywords()


class WeakAlgorithm(v.ValidationError):
    """A proposal names an algorithm refused unless allow_weak_crypto is set."""


def proposal(field, value, kind, allow_weak=False, ike_version=2):
    """Check one proposal string of ``kind`` 'ike' or 'esp' against strongSwan's grammar; returns it lower-cased.

    ``default`` stands for strongSwan's own default proposals (no weak algorithm since 5.4).
    """
    value = v.free_text(field, value, 512).strip().lower()
    if value == 'default':
        return value
    if not value:
        raise v.ValidationError(field, 'empty proposal')
    found = {'encr': [], 'integ': [], 'prf': [], 'dh': [], 'nopfs': [], 'esn': []}
    for token in value.split('-'):
        if not token:
            raise v.ValidationError(field, '%r: empty algorithm (two dashes, or a dash at either end)' % value)
        if token in ENCRYPTION:
            found['encr'].append(token)
        elif token in INTEGRITY:
            found['integ'].append(token)
        elif token in PRF:
            found['prf'].append(token)
        elif token in DH_GROUPS:
            found['dh'].append(token)
        elif token in NO_PFS:
            found['nopfs'].append(token)
        elif token in ESN:
            found['esn'].append(token)
        else:
            raise v.ValidationError(field, '%r: unknown algorithm %r' % (value, token))
    kinds = set(ENCRYPTION[t] for t in found['encr'])
    if not found['encr']:
        raise v.ValidationError(field, '%r: no encryption algorithm (e.g. aes256gcm16)' % value)
    if 'aead' in kinds and len(kinds) > 1:
        raise v.ValidationError(field, '%r: AEAD (GCM, CCM, ChaCha20-Poly1305) and other encryption algorithms '
                                       'must be in separate proposals' % value)
    if kind == 'ike':
        for key, what in (('esn', 'extended sequence numbers'), ('nopfs', '%r' % (found['nopfs'] or [''])[0])):
            if found[key]:
                raise v.ValidationError(field, '%r: %s apply to ESP proposals only' % (value, what))
        if 'gmac' in kinds:
            raise v.ValidationError(field, '%r: AES-GMAC is not an IKE encryption algorithm' % value)
        if not found['dh']:
            raise v.ValidationError(field, '%r: no key exchange (DH) group (e.g. ecp384 or curve25519)' % value)
        if kinds == set(['aead']):
            if ike_version == 1:
                raise v.ValidationError(field, '%r: IKEv1 has no AEAD algorithms for IKE; use e.g. aes256-sha384-ecp384'
                                        % value)
            if not found['prf'] and not found['integ']:
                raise v.ValidationError(field, '%r: an AEAD proposal for IKE needs a PRF (e.g. prfsha384)' % value)
        elif not found['integ']:
            raise v.ValidationError(field, '%r: no integrity algorithm (e.g. sha384)' % value)
    else:
        if found['prf']:
            raise v.ValidationError(field, '%r: PRF algorithms apply to IKE proposals only' % value)
        if kinds == set(['aead']) and found['integ']:
            raise v.ValidationError(field, '%r: an AEAD ESP proposal takes no integrity algorithm' % value)
        if kinds == set(['classic']) and not found['integ']:
            raise v.ValidationError(field, '%r: no integrity algorithm (e.g. sha256)' % value)
    if not allow_weak:
        for token in value.split('-'):
            if token in WEAK:
                raise WeakAlgorithm(field, '%r: weak algorithm %r (%s) is refused; set allow_weak_crypto: true to '
                                           'use it anyway' % (value, token, WEAK[token]))
    return value


def proposals(field, values, kind, allow_weak=False, ike_version=2):
    if not isinstance(values, list) or not values:
        raise v.ValidationError(field, 'must be a non-empty list of proposals')
    result = []
    for index, value in enumerate(values):
        checked = proposal('%s[%d]' % (field, index), value, kind, allow_weak, ike_version)
        if checked not in result:
            result.append(checked)
    return result


# -------------------------------------------------------- connections --

CONNECTION_OPTIONS = frozenset([
    'name', 'state', 'vici_socket', 'version', 'local_addrs', 'remote_addrs', 'local_id', 'remote_id', 'auth', 'psk',
    'allow_short_psk', 'local_certs', 'local_key', 'remote_cacerts', 'proposals', 'allow_weak_crypto', 'dpd_delay',
    'dpd_action', 'rekey_time', 'reauth_time', 'over_time', 'mobike', 'encap', 'keyingtries', 'children'])
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
    child['esp_proposals'] = proposals(field + '.esp_proposals', raw.get('esp_proposals') or DEFAULT_ESP_PROPOSALS,
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
    desired['proposals'] = proposals('proposals', params.get('proposals') or DEFAULT_IKE_PROPOSALS[version],
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


# -------------------------------------------------------------- VICI --

def _seconds(value):
    return str(value)


def _yes(value):
    return 'yes' if value else 'no'


def build_load_conn(desired, credential_data=None):
    """The ``load-conn`` message: ``{name: {...}}`` with strings and lists of strings only.

    With ``credential_data`` (path -> PEM text), certificates are sent as data, as charon needs them over
    VICI; without it, they stay paths, which is the form of the configuration file.
    """
    conn = OrderedDict()
    conn['version'] = str(desired['version'])
    conn['local_addrs'] = list(desired['local_addrs'])
    conn['remote_addrs'] = list(desired['remote_addrs'])
    conn['proposals'] = list(desired['proposals'])
    conn['dpd_delay'] = _seconds(desired['dpd_delay'])
    conn['rekey_time'] = _seconds(desired['rekey_time'])
    conn['reauth_time'] = _seconds(desired['reauth_time'])
    if desired['over_time'] is not None:
        conn['over_time'] = _seconds(desired['over_time'])
    conn['mobike'] = _yes(desired['mobike'])
    conn['encap'] = _yes(desired['encap'])
    conn['keyingtries'] = str(desired['keyingtries'])

    def cred(path):
        return credential_data[path] if credential_data is not None else path

    local = OrderedDict([('auth', desired['auth'])])
    if desired['local_id']:
        local['id'] = desired['local_id']
    if desired['local_certs']:
        local['certs'] = [cred(p) for p in desired['local_certs']]
    remote = OrderedDict([('auth', desired['auth'])])
    if desired['remote_id']:
        remote['id'] = desired['remote_id']
    if desired['remote_cacerts']:
        remote['cacerts'] = [cred(p) for p in desired['remote_cacerts']]
    conn['local'] = local
    conn['remote'] = remote
    children = OrderedDict()
    for child in desired['children']:
        section = OrderedDict()
        section['local_ts'] = list(child['local_ts'])
        section['remote_ts'] = list(child['remote_ts'])
        section['mode'] = child['mode']
        section['start_action'] = child['start_action']
        section['close_action'] = child['close_action']
        section['esp_proposals'] = list(child['esp_proposals'])
        section['rekey_time'] = _seconds(child['rekey_time'])
        if child['life_time'] is not None:
            section['life_time'] = _seconds(child['life_time'])
        section['dpd_action'] = child['dpd_action']
        children[child['name']] = section
    conn['children'] = children
    return OrderedDict([(desired['name'], conn)])


def _owners(desired):
    return [i for i in (desired['local_id'], desired['remote_id']) if i and i not in ANY_ADDRESS]


def build_load_shared(desired):
    """The ``load-shared`` message for the PSK: its id makes a later load replace it instead of adding one."""
    return OrderedDict([('id', shared_id(desired['name'])), ('type', 'IKE'), ('data', desired['psk']),
                        ('owners', _owners(desired))])


def build_unload_conn(name):
    return {'name': name}


def build_unload_shared(name):
    return {'id': shared_id(name)}


def build_terminate(name):
    return OrderedDict([('ike', name), ('timeout', str(TERMINATE_TIMEOUT_MS)), ('force', 'yes')])


# ------------------------------------------------------------ render --

# Anything else (blanks, commas, '=' in a DN, '#') is quoted.
BARE_VALUE_RE = re.compile(r'\A[A-Za-z0-9_.:/%@-]+\Z')


def _render_value(value):
    if isinstance(value, list):
        return ', '.join(value)
    if BARE_VALUE_RE.match(value):
        return value
    # validation refused '"' and '\\' in every value that may need quotes
    return '"%s"' % value


def _render_section(out, name, section, depth):
    indent = '    ' * depth
    out.append('%s%s {\n' % (indent, name))
    for key, value in section.items():
        if isinstance(value, dict):
            _render_section(out, key, value, depth + 1)
        else:
            out.append('%s    %s = %s\n' % (indent, key, _render_value(value)))
    out.append('%s}\n' % indent)


def render_config(desired, digests=None):
    """``/etc/swanctl/conf.d/<name>.conf``: one ``key = value`` per line, no secret.

    ``digests`` (path -> sha256) of the certificates are written as comments: a renewed certificate
    changes the file, and that is how a re-run knows to load it again.
    """
    out = [MANAGED_HEADER]
    for path in sorted(digests or {}):
        out.append('# %s sha256 %s\n' % (path, digests[path]))
    message = build_load_conn(desired)
    _render_section(out, 'connections', message, 0)
    return ''.join(out)


def render_secrets(desired):
    """``/etc/swanctl/conf.d/<name>.secrets.conf`` (0600), or None without a PSK.

    The secret is written as ``0s`` + base64: no character of a PSK can end the value, start a comment
    or be read as hex, and the bytes charon gets from this file are the ones it gets over VICI.
    """
    if not desired.get('psk'):
        return None
    out = [MANAGED_HEADER, 'secrets {\n', '    %s {\n' % shared_id(desired['name'])]
    for index, owner in enumerate(_owners(desired)):
        out.append('        id-%d = %s\n' % (index + 1, _render_value(owner)))
    out.append('        secret = 0s%s\n' % base64.b64encode(desired['psk'].encode('utf-8')).decode('ascii'))
    out.append('    }\n}\n')
    return ''.join(out)


# ----------------------------------------------------------- compare --

def _id_text(value):
    """An identity as charon prints it: FQDN and email without their '@' forcing prefix, DN parts ', '-separated."""
    if value is None:
        return None
    if value.startswith('@@'):
        value = value[2:]
    elif value.startswith('@') and not value.startswith('@#'):
        value = value[1:]
    if '=' in value:
        value = ', '.join(part.strip() for part in value.split(','))
    return value


AUTH_CLASS = {'psk': 'pre-shared key', 'pubkey': 'public key'}


def _first(conn, prefix):
    for key in sorted(conn):
        if key == prefix or key.startswith(prefix + '-'):
            return conn[key]
    return {}


def conn_differences(desired, live):
    """Fields of the loaded connection (a decoded list-conns entry) that differ from ``desired``.

    charon reports addresses, version, times, identities, authentication classes and the children's mode
    and traffic selectors; proposals, start actions and the like it does not report, and those are compared
    through the configuration file this module writes after every load.
    """
    if live is None:
        return ['not loaded']
    found = []

    def check(name, want, have):
        if want != have:
            found.append(name)

    check('version', 'IKEv%d' % desired['version'], live.get('version'))
    check('local_addrs', desired['local_addrs'], live.get('local_addrs', ['%any']))
    check('remote_addrs', desired['remote_addrs'], live.get('remote_addrs', ['%any']))
    check('rekey_time', str(desired['rekey_time']), live.get('rekey_time'))
    check('reauth_time', str(desired['reauth_time']), live.get('reauth_time'))
    check('dpd_delay', str(desired['dpd_delay']), live.get('dpd_delay', '0'))
    for side in ('local', 'remote'):
        auth = _first(live, side)
        check('%s auth' % side, AUTH_CLASS[desired['auth']], auth.get('class'))
        if desired['%s_id' % side]:
            check('%s_id' % side, _id_text(desired['%s_id' % side]), _id_text(auth.get('id')))
    live_children = live.get('children') or {}
    check('children', sorted(c['name'] for c in desired['children']), sorted(live_children))
    for child in desired['children']:
        have = live_children.get(child['name'])
        if have is None:
            continue
        prefix = 'children.%s.' % child['name']
        check(prefix + 'mode', child['mode'].upper(), have.get('mode'))
        check(prefix + 'rekey_time', str(child['rekey_time']), have.get('rekey_time'))
        check(prefix + 'local_ts', sorted(child['local_ts']), sorted(have.get('local-ts') or []))
        check(prefix + 'remote_ts', sorted(child['remote_ts']), sorted(have.get('remote-ts') or []))
    return found


def plan_connection(desired, live, shared_ids, old_config, config, old_secrets, secrets):
    """What must change for ``desired``: a dict of steps and the reasons, all empty/False when nothing is to do."""
    differences = conn_differences(desired, live)
    config_changed = files_differ(old_config, config)
    steps = {
        'load_conn': bool(differences) or config_changed,
        'load_shared': False,
        'unload_shared': False,
        'write_config': config_changed,
        'write_secrets': False,
        'remove_secrets': False,
        'reasons': list(differences),
    }
    if config_changed and old_config is not None:
        steps['reasons'].append('configuration file differs')
    elif config_changed:
        steps['reasons'].append('no configuration file')
    has_shared = shared_id(desired['name']) in shared_ids
    if secrets is not None:
        steps['write_secrets'] = files_differ(old_secrets, secrets)
        steps['load_shared'] = steps['write_secrets'] or not has_shared
        if steps['load_shared']:
            steps['reasons'].append('pre-shared key not loaded or changed')
    else:
        steps['unload_shared'] = has_shared
        steps['remove_secrets'] = old_secrets is not None
    return steps


def files_differ(old, new):
    return old != new


def steps_changed(steps):
    return any(value for key, value in steps.items() if key != 'reasons')


# ------------------------------------------------------------- parse --

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


def parse_child_sa(key, child):
    return {
        'name': child.get('name', key),
        'uniqueid': _int(child.get('uniqueid')),
        'reqid': _int(child.get('reqid')),
        'state': child.get('state'),
        'mode': child.get('mode'),
        'protocol': child.get('protocol'),
        'encap': child.get('encap') == 'yes',
        'spi_in': child.get('spi-in'),
        'spi_out': child.get('spi-out'),
        'encr_alg': child.get('encr-alg'),
        'encr_keysize': _int(child.get('encr-keysize')),
        'integ_alg': child.get('integ-alg'),
        'integ_keysize': _int(child.get('integ-keysize')),
        'dh_group': child.get('dh-group'),
        'esn': child.get('esn') == '1',
        'algorithms': _algorithm(child),
        'bytes_in': _int(child.get('bytes-in')) or 0,
        'packets_in': _int(child.get('packets-in')) or 0,
        'last_in': _int(child.get('use-in')),
        'bytes_out': _int(child.get('bytes-out')) or 0,
        'packets_out': _int(child.get('packets-out')) or 0,
        'last_out': _int(child.get('use-out')),
        'installed': _int(child.get('install-time')),
        'rekey_time': _int(child.get('rekey-time')),
        'life_time': _int(child.get('life-time')),
        'local_ts': list(child.get('local-ts') or []),
        'remote_ts': list(child.get('remote-ts') or []),
    }


def parse_ike_sa(name, sa):
    children = [parse_child_sa(k, c) for k, c in (sa.get('child-sas') or {}).items()]
    children.sort(key=lambda c: (c['name'], c['uniqueid'] or 0))
    return {
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
        'encr_alg': sa.get('encr-alg'),
        'encr_keysize': _int(sa.get('encr-keysize')),
        'integ_alg': sa.get('integ-alg'),
        'integ_keysize': _int(sa.get('integ-keysize')),
        'prf_alg': sa.get('prf-alg'),
        'dh_group': sa.get('dh-group'),
        'algorithms': _algorithm(sa),
        'established': _int(sa.get('established')),
        'rekey_time': _int(sa.get('rekey-time')),
        'reauth_time': _int(sa.get('reauth-time')),
        'child_sas': children,
    }


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


# -------------------------------------------------------------- host --

class CharonError(ModuleError):
    """charon refused a command or cannot be reached."""


class Charon(object):
    """A VICI session with charon; every answer is decoded to str.  Only this class talks to the daemon."""

    def __init__(self, path, session=None):
        self.path = path
        if session is None:
            if not HAS_VICI:
                raise CharonError('the vici Python package is missing')
            sock = socket.socket(socket.AF_UNIX, socket.SOCK_STREAM)
            sock.settimeout(SOCKET_TIMEOUT)
            try:
                sock.connect(path)
            except (OSError, socket.error) as exc:
                sock.close()
                raise CharonError('cannot reach charon at unix://%s: %s (is charon running, and is vici_socket its '
                                  'socket?)' % (path, exc))
            session = vici.Session(sock)
        self.session = session

    def _call(self, what, function, *args):
        try:
            result = function(*args)
            # streamed commands (list-*, initiate, terminate) do their work while they are iterated
            if result is not None and not isinstance(result, dict):
                result = list(result)
            return decode(result)
        except CharonError:
            raise
        except Exception as exc:  # the vici package raises its own exceptions and socket errors
            raise CharonError('%s failed: %s' % (what, exc))

    def connection(self, name):
        for event in self._call('list-conns', self.session.list_conns, {'ike': name}):
            if name in event:
                return event[name]
        return None

    def connection_names(self):
        return list(self._call('get-conns', self.session.get_conns).get('conns') or [])

    def shared_ids(self):
        return set(self._call('get-shared', self.session.get_shared).get('keys') or [])

    def sas(self, name=None):
        return parse_list_sas(self._call('list-sas', self.session.list_sas, {'ike': name} if name else None))

    def load_conn(self, message):
        self._call('load-conn', self.session.load_conn, message)

    def load_shared(self, message):
        self._call('load-shared', self.session.load_shared, message)

    def load_key(self, pem):
        self._call('load-key', self.session.load_key, {'type': 'any', 'data': pem})

    def unload_conn(self, name):
        self._call('unload-conn', self.session.unload_conn, build_unload_conn(name))

    def unload_shared(self, name):
        self._call('unload-shared', self.session.unload_shared, build_unload_shared(name))

    def terminate(self, name):
        try:
            self._call('terminate', self.session.terminate, build_terminate(name))
        except CharonError as exc:
            # unloading a connection with start_action=start already closes its SAs in charon 5.9, on
            # charon's own time: SAs that are gone when terminate arrives are what was wanted
            if 'no matching SAs' not in str(exc):
                raise


def read_credentials(module, desired):
    """PEM text of the certificate and key files by path, and sha256 of the certificates.

    A file that does not exist is None; in check mode it may be one an earlier task would create.
    """
    data, digests = {}, {}
    for path in desired['local_certs'] + desired['remote_cacerts']:
        text = files.read_text(path)
        data[path] = text
        digests[path] = hashlib.sha256(text.encode('utf-8')).hexdigest() if text is not None else 'missing'
    if desired['local_key']:
        text = files.read_text(desired['local_key'])
        if text is not None:
            module.no_log_values.add(text)
        data[desired['local_key']] = text
    missing = [p for p, text in data.items() if text is None]
    if missing and not module.check_mode:
        raise v.ValidationError('local_certs' if missing[0] in desired['local_certs'] else
                                'local_key' if missing[0] == desired['local_key'] else 'remote_cacerts',
                                '%s does not exist on the host' % missing[0])
    return data, digests


def describe(config, live, differences):
    """Diff text: the configuration file (which holds no secret) and what charon holds."""
    if live is None:
        state = '# charon: not loaded\n'
    elif differences:
        state = '# charon: loaded, differs in %s\n' % ', '.join(differences)
    else:
        state = '# charon: loaded\n'
    return state + (config or '')


def manage_connection(module, charon=None):
    """Make one swanctl connection match the module's parameters; returns the module result (no secret in it)."""
    desired = normalize_connection(module.params)
    if desired.get('psk'):
        module.no_log_values.add(desired['psk'])
    name = desired['name']
    charon = charon or Charon(desired['vici_socket'])
    if desired['state'] == 'absent':
        return remove_connection(module, charon, name)

    credentials, digests = read_credentials(module, desired)
    config = render_config(desired, digests)
    secrets = render_secrets(desired)
    old_config = files.read_text(config_path(name))
    old_secrets = files.read_text(secrets_path(name))
    live = charon.connection(name)
    steps = plan_connection(desired, live, charon.shared_ids(), old_config, config, old_secrets, secrets)
    # a file with the right content but another mode is rewritten, which sets its mode
    if files.file_mode(config_path(name)) not in (None, 0o600):
        steps['write_config'] = True
    if secrets is not None and files.file_mode(secrets_path(name)) not in (None, 0o600):
        steps['write_secrets'] = True
    changed = steps_changed(steps)
    result = {
        'changed': changed,
        'name': name,
        'loaded': steps['load_conn'],
        'reasons': steps['reasons'],
        'config_file': config_path(name),
        'secrets_file': secrets_path(name) if secrets is not None else None,
        'config_changed': steps['write_config'],
        'secrets_changed': steps['write_secrets'] or steps['remove_secrets'],
    }
    if module._diff:
        result['diff'] = {
            'before': describe(old_config, live, conn_differences(desired, live)) + _secret_line(old_secrets),
            'after': describe(config, {}, []) + _secret_line(secrets, steps['write_secrets']),
            'before_header': config_path(name), 'after_header': config_path(name)}
    if module.check_mode or not changed:
        return result
    # charon first: a connection it refuses leaves no file behind that the next boot would load
    if steps['unload_shared']:
        charon.unload_shared(name)
    if steps['load_shared']:
        charon.load_shared(build_load_shared(desired))
    if steps['load_conn']:
        if desired['local_key']:
            charon.load_key(credentials[desired['local_key']])
        charon.load_conn(build_load_conn(desired, credentials))
    if steps['write_config']:
        files.write_atomic(config_path(name), config, 0o600, dir_mode=0o750)
    if steps['write_secrets']:
        files.write_atomic(secrets_path(name), secrets, 0o600, dir_mode=0o750)
    if steps['remove_secrets']:
        files.remove(secrets_path(name))
    return result


def _secret_line(text, changed=False):
    if text is None:
        return ''
    return '# pre-shared key: %s\n' % ('updated' if changed else 'set')


def remove_connection(module, charon, name):
    """state=absent: unload the connection, close its SAs, drop its PSK and remove its files.

    ``charon`` None means no charon runs: there is nothing loaded to unload, only files to remove.
    """
    live = charon.connection(name) if charon else None
    sas = charon.sas(name) if charon else []
    has_shared = shared_id(name) in charon.shared_ids() if charon else False
    present = [p for p in (config_path(name), secrets_path(name)) if files.file_mode(p) is not None]
    changed = bool(live is not None or sas or has_shared or present)
    result = {'changed': changed, 'name': name, 'loaded': False, 'reasons': [],
              'config_file': config_path(name), 'secrets_file': secrets_path(name),
              'config_changed': config_path(name) in present, 'secrets_changed': secrets_path(name) in present,
              'terminated': [s['uniqueid'] for s in sas]}
    if module._diff:
        before = '# charon: %s, %d IKE SA(s)\n' % ('loaded' if live is not None else 'not loaded', len(sas))
        before += (files.read_text(config_path(name)) or '')
        result['diff'] = {'before': before, 'after': '# charon: not loaded, 0 IKE SA(s)\n',
                          'before_header': config_path(name), 'after_header': config_path(name)}
    if module.check_mode or not changed:
        return result
    # unloaded first, so that no start or DPD action brings the SAs back once they are closed
    if live is not None:
        charon.unload_conn(name)
    if sas:
        charon.terminate(name)
    if has_shared:
        charon.unload_shared(name)
    for path in present:
        files.remove(path)
    return result


def _is_managed(path):
    with open(path, 'r') as handle:
        return handle.readline() == MANAGED_HEADER


def managed_connections():
    """Names of the connections whose files in conf.d carry this module's header, with those files.

    The header is the mark of ownership: a name counts only when every file it has (``<name>.conf``,
    ``<name>.secrets.conf``) carries it, so an administrator's swanctl.conf, a conf.d file written by hand or by
    another tool, and anything sharing a name with one, are never touched by a purge.
    """
    conf_d = os.path.join(CONFIG_DIR, 'conf.d')
    try:
        entries = os.listdir(conf_d)
    except OSError:
        return OrderedDict()
    names = set(e[:-len('.secrets.conf')] if e.endswith('.secrets.conf') else e[:-len('.conf')]
                for e in entries if e.endswith('.conf'))
    found = OrderedDict()
    for name in sorted(n for n in names if v.SECTION_NAME_RE.match(n)):
        present = [p for p in (config_path(name), secrets_path(name)) if os.path.lexists(p)]
        if all(os.path.isfile(p) and not os.path.islink(p) and _is_managed(p) for p in present):
            found[name] = present
    return found


def charon_if_running(socket_path, connect=None):
    """A Charon session, or None when no charon listens on ``socket_path`` (no socket, or a stale one)."""
    if not os.path.exists(socket_path):
        return None
    sock = socket.socket(socket.AF_UNIX, socket.SOCK_STREAM)
    try:
        sock.connect(socket_path)
    except (OSError, socket.error):
        return None
    finally:
        sock.close()
    return (connect or Charon)(socket_path)


def purge_connections(module, keep, connect=None):
    """Remove every managed connection (see managed_connections) not named in ``keep``, as state=absent does.

    charon is asked only when there is something to remove, so a host with nothing to purge needs no vici client.
    """
    keep = [v.section_name('keep[%d]' % i, name) for i, name in enumerate(keep or [])]
    socket_path = vici_socket('vici_socket', module.params.get('vici_socket') or DEFAULT_SOCKET)
    managed = managed_connections()
    stale = [name for name in managed if name not in keep]
    result = {'changed': False, 'managed': list(managed), 'removed': [], 'terminated': {}, 'charon_running': None}
    if stale:
        charon = charon_if_running(socket_path, connect)
        result['charon_running'] = charon is not None
        for name in stale:
            removed = remove_connection(module, charon, name)
            result['removed'].append(name)
            if removed['terminated']:
                result['terminated'][name] = removed['terminated']
        result['changed'] = True
    if module._diff:
        result['diff'] = {'before': ''.join('%s\n' % n for n in managed),
                          'after': ''.join('%s\n' % n for n in managed if n not in stale),
                          'before_header': 'managed connections', 'after_header': 'managed connections'}
    return result


def gather_info(charon, name=None):
    """Live IKE and CHILD SAs (optionally of one connection) and the status of loaded connections."""
    sas = charon.sas(name)
    names = charon.connection_names()
    if name:
        names = [n for n in names if n == name]
    return {'sas': sas, 'connections': connection_status(names, sas)}
