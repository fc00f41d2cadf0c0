# -*- coding: utf-8 -*-
# Copyright: meshforge.vpn contributors
# GNU General Public License v3.0+ (see https://www.gnu.org/licenses/gpl-3.0.txt)
"""The names tests/unit/bad_input/test_bad_input.py still imports from here; fakehost.py is the one fake host."""

from __future__ import absolute_import, division, print_function

__metaclass__ = type

from ansible_collections.meshforge.vpn.tests.unit.plugins.module_utils.fakehost import FakeHost as FakeNet, make_set

__all__ = ['FakeNet', 'make_set']
