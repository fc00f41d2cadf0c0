# -*- coding: utf-8 -*-
# Copyright: meshforge.vpn contributors
# GNU General Public License v3.0+ (see https://www.gnu.org/licenses/gpl-3.0.txt)

from __future__ import absolute_import, division, print_function

__metaclass__ = type

import pytest

from ansible_collections.meshforge.vpn.plugins.module_utils import validation as v


@pytest.mark.parametrize('value', ['meshforge', 'g_web-1_v4', '_x', 'a.b'])
def test_nft_identifier_ok(value):
    assert v.nft_identifier('name', value) == value


@pytest.mark.parametrize('value', ['', '1abc', 'a b', 'a;b', 'a"', 'x' * 65, 'a\n', 'a/b'])
def test_nft_identifier_refused(value):
    with pytest.raises(v.ValidationError) as exc:
        v.nft_identifier('name', value)
    assert exc.value.field == 'name'


def test_nft_rule_text():
    assert v.nft_rule_text('r', '  tcp dport { 22,  80 }   accept ') == 'tcp dport { 22, 80 } accept'
    for bad in ('accept;', 'accept # x', 'a\\b', 'accept\u2028drop', '}{', '"open', 'accept comment x', ' ', 'x' * 1025):
        with pytest.raises(v.ValidationError):
            v.nft_rule_text('r', bad)
