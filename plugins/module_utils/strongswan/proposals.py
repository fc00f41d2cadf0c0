# -*- coding: utf-8 -*-
# Copyright: meshforge.vpn contributors
# GNU General Public License v3.0+ (see https://www.gnu.org/licenses/gpl-3.0.txt)
"""strongSwan's proposal grammar: the keywords of each kind, the weak ones, and the check of a proposal."""

from __future__ import absolute_import, division, print_function

__metaclass__ = type

from ansible_collections.meshforge.vpn.plugins.module_utils import validation as v


DEFAULT_IKE_PROPOSALS = {
    2: ['aes256gcm16-aes128gcm16-prfsha384-prfsha256-ecp384-curve25519'],
    # IKEv1 has no AEAD for the IKE SA and takes one algorithm of each kind per proposal.
    1: ['aes256-sha384-ecp384', 'aes128-sha256-ecp256'],
}
DEFAULT_ESP_PROPOSALS = ['aes256gcm16-aes128gcm16-ecp384-curve25519']


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
    keywords = (('encr', ENCRYPTION), ('integ', INTEGRITY), ('prf', PRF), ('dh', DH_GROUPS), ('nopfs', NO_PFS), ('esn', ESN))
    for token in value.split('-'):
        if not token:
            raise v.ValidationError(field, '%r: empty algorithm (two dashes, or a dash at either end)' % value)
        which = next((name for name, known in keywords if token in known), None)
        if which is None:
            raise v.ValidationError(field, '%r: unknown algorithm %r' % (value, token))
        found[which].append(token)
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
