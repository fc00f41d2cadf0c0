# -*- coding: utf-8 -*-
# Copyright: meshforge.vpn contributors
# GNU General Public License v3.0+ (see https://www.gnu.org/licenses/gpl-3.0.txt)
"""module_utils/strongswan/proposals.py: strongSwan's proposal grammar, weak algorithms refused by name."""

from __future__ import absolute_import, division, print_function

__metaclass__ = type

import pytest
from hypothesis import given, settings, strategies as st

from ansible_collections.meshforge.vpn.plugins.module_utils.strongswan import proposals
from ansible_collections.meshforge.vpn.plugins.module_utils.validation import ValidationError


@pytest.mark.parametrize('value', [
    'aes256gcm16-prfsha384-ecp384', 'aes256gcm16-aes128gcm16-prfsha384-prfsha256-ecp384-curve25519',
    'chacha20poly1305-prfsha256-x25519', 'aes256-sha384-ecp384', 'aes128-aes256-sha256-sha512-modp3072',
    'aes256gcm16-sha384-ecp521', 'aes256ctr-aescmac-prfaescmac-ecp256bp', 'default', 'DEFAULT',
    'AES256GCM16-PRFSHA384-ECP384', 'camellia256-sha512-curve448', 'aes128ccm12-prfsha256-modp4096',
])
def test_good_ike_proposals(value):
    assert proposals.proposal('proposals[0]', value, 'ike') == value.lower()


@pytest.mark.parametrize('value', [
    'aes256gcm16-ecp384', 'aes256gcm16', 'aes256gcm16-ecp384-esn', 'aes256gcm16-modp3072-noesn',
    'aes256-sha256', 'aes256-sha256-ecp384', 'chacha20poly1305', 'aes128gmac-ecp256', 'aes256gcm16-none',
    'aes256gcm16-aes128gcm16-modpnone', 'aes256ccm16', 'default',
])
def test_good_esp_proposals(value):
    assert proposals.proposal('esp_proposals[0]', value, 'esp', allow_weak='gmac' in value) == value


@pytest.mark.parametrize('value, kind, problem', [
    ('', 'ike', 'empty proposal'),
    ('aes256gcm16--ecp384', 'ike', 'empty algorithm'),
    ('aes256gcm16-ecp384-', 'esp', 'empty algorithm'),
    ('-aes256gcm16', 'esp', 'empty algorithm'),
    ('aes512-sha256-ecp384', 'ike', "unknown algorithm 'aes512'"),
    ('aes256gcm16-prfsha384-ecp384!', 'ike', "unknown algorithm 'ecp384!'"),
    ('aes256 gcm16-ecp384', 'esp', 'unknown algorithm'),
    ('sha256-ecp384', 'esp', 'no encryption algorithm'),
    ('aes256gcm16-prfsha384', 'ike', 'no key exchange'),
    ('aes256gcm16-ecp384', 'ike', 'needs a PRF'),
    ('aes256-ecp384', 'ike', 'no integrity algorithm'),
    ('aes256-ecp384', 'esp', 'no integrity algorithm'),
    ('aes256gcm16-aes256-sha256-ecp384', 'ike', 'separate proposals'),
    ('aes256gcm16-sha256', 'esp', 'AEAD ESP proposal takes no integrity'),
    ('aes256gcm16-prfsha384-ecp384', 'esp', 'PRF algorithms apply to IKE'),
    ('aes256gcm16-prfsha384-ecp384-esn', 'ike', 'ESP proposals only'),
    ('aes256gcm16-prfsha384-none', 'ike', 'ESP proposals only'),
    ('aes128gmac-prfsha256-ecp256', 'ike', 'not an IKE encryption'),
    ('aes256gcm16-prfsha384-ecp384\n}', 'ike', 'newlines'),
    ('aes256gcm16-prfsha384-ecp384, aes128', 'ike', 'unknown algorithm'),
])
def test_malformed_proposals(value, kind, problem):
    with pytest.raises(ValidationError) as exc:
        proposals.proposal('proposals[2]', value, kind)
    assert exc.value.field == 'proposals[2]'
    assert problem in exc.value.problem
    assert not isinstance(exc.value, proposals.WeakAlgorithm)


def test_ikev1_has_no_aead_for_ike():
    with pytest.raises(ValidationError, match='IKEv1 has no AEAD'):
        proposals.proposal('proposals[0]', 'aes256gcm16-prfsha384-ecp384', 'ike', ike_version=1)
    assert proposals.proposal('proposals[0]', 'aes256-sha384-ecp384', 'ike', ike_version=1)


@pytest.mark.parametrize('value, kind, weak', [
    ('3des-sha256-ecp384', 'ike', '3des'), ('des-sha256-ecp384', 'ike', 'des'),
    ('aes256-md5-ecp384', 'ike', 'md5'), ('aes256-sha1-ecp384', 'ike', 'sha1'), ('aes256-sha-ecp384', 'ike', 'sha'),
    ('aes256-sha1_160-ecp384', 'esp', 'sha1_160'), ('aes256-md5_128', 'esp', 'md5_128'),
    ('aes256-sha256-modp768', 'ike', 'modp768'), ('aes256-sha256-modp1024', 'ike', 'modp1024'),
    ('aes256-sha256-modp1536', 'ike', 'modp1536'), ('aes256-sha256-modp1024s160', 'ike', 'modp1024s160'),
    ('aes256-sha256-modp2048s256', 'ike', 'modp2048s256'), ('aes256-sha256-ecp192', 'ike', 'ecp192'),
    ('aes256gcm16-prfsha1-ecp384', 'ike', 'prfsha1'), ('aes256gcm16-prfmd5-ecp384', 'ike', 'prfmd5'),
    ('null-sha256', 'esp', 'null'), ('blowfish-sha256', 'esp', 'blowfish'), ('cast128-sha256', 'esp', 'cast128'),
    ('aes256gcm8', 'esp', 'aes256gcm8'), ('aes128gcm64-prfsha256-ecp256', 'ike', 'aes128gcm64'),
    ('aes256gmac', 'esp', 'aes256gmac'), ('aes256-sha256_96', 'esp', 'sha256_96'),
    ('aes256gcm16-3des-sha256-ecp384', 'ike', 'separate'),
])
def test_weak_proposals_are_refused_naming_algorithm_and_field(value, kind, weak):
    with pytest.raises(ValidationError) as exc:
        proposals.proposal('children[1].esp_proposals[0]', value, kind)
    assert exc.value.field == 'children[1].esp_proposals[0]'
    if weak != 'separate':
        assert isinstance(exc.value, proposals.WeakAlgorithm)
        assert "weak algorithm '%s'" % weak in str(exc.value)
        assert 'allow_weak_crypto' in str(exc.value)
        assert proposals.proposal('x', value, kind, allow_weak=True) == value


TOKENS = sorted(set(proposals.ENCRYPTION) | proposals.INTEGRITY | proposals.PRF | proposals.DH_GROUPS | proposals.NO_PFS
                | proposals.ESN) + ['', 'aes', 'foo', 'AES256', 'sha3']


@settings(max_examples=300)
@given(st.lists(st.sampled_from(TOKENS), min_size=1, max_size=6), st.sampled_from(['ike', 'esp']),
       st.booleans())
def test_any_token_sequence_is_accepted_cleanly_or_refused_with_a_validation_error(tokens, kind, allow_weak):
    text = '-'.join(tokens)
    try:
        result = proposals.proposal('p', text, kind, allow_weak)
    except ValidationError as exc:
        assert exc.field == 'p'
        return
    assert result == text.lower()
    if not allow_weak and result != 'default':
        assert not any(token in proposals.WEAK for token in result.split('-'))
    parts = result.split('-')
    assert any(p in proposals.ENCRYPTION for p in parts) or result == 'default'


@given(st.text(max_size=40))
def test_arbitrary_text_never_crashes_the_proposal_parser(text):
    try:
        proposals.proposal('p', text, 'esp')
    except ValidationError:
        pass


def test_default_proposals_are_valid_and_strong():
    for version, values in proposals.DEFAULT_IKE_PROPOSALS.items():
        assert proposals.proposals('p', values, 'ike', False, version) == values
    assert proposals.proposals('p', proposals.DEFAULT_ESP_PROPOSALS, 'esp') == proposals.DEFAULT_ESP_PROPOSALS
    assert 'gcm16' in proposals.DEFAULT_IKE_PROPOSALS[2][0] and 'ecp384' in proposals.DEFAULT_ESP_PROPOSALS[0]
