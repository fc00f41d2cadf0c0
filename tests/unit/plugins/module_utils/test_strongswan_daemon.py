# -*- coding: utf-8 -*-
# Copyright: meshforge.vpn contributors
# GNU General Public License v3.0+ (see https://www.gnu.org/licenses/gpl-3.0.txt)

from __future__ import absolute_import, division, print_function

__metaclass__ = type

import os

import pytest

from ansible_collections.meshforge.vpn.plugins.module_utils.strongswan import daemon
from ansible_collections.meshforge.vpn.plugins.module_utils.validation import ValidationError


def test_default_dropin_changes_nothing_but_says_it_is_managed():
    text = daemon.render_dropin(daemon.normalize({}))
    assert text.startswith('# Managed by meshforge.vpn')
    assert 'socket' not in text and 'load' not in text


def test_dropin_with_socket_libipsec_and_disabled_plugins():
    desired = daemon.normalize({'vici_socket': 'unix:///run/meshforge-vpn/charon.vici', 'libipsec': True,
                                'disable_plugins': ['lookip', 'error-notify', 'lookip']})
    text = daemon.render_dropin(desired)
    lines = [line.strip() for line in text.splitlines()]
    assert lines.count('socket = unix:///run/meshforge-vpn/charon.vici') == 2     # charon's vici and swanctl
    assert 'kernel-libipsec {' in lines and 'load = 2' in lines
    assert lines.count('load = no') == 2
    # one key = value per line, braces balanced
    assert text.count('{') == text.count('}')


@pytest.mark.parametrize('params, field', [
    ({'vici_socket': 'tcp://1.2.3.4:4502'}, 'vici_socket'),
    ({'disable_plugins': ['vici']}, 'disable_plugins[0]'),
    ({'manager': 'openrc'}, 'manager'),
    ({'run_dir': 'relative'}, 'run_dir'),
])
def test_bad_options(params, field):
    with pytest.raises(ValidationError) as exc:
        daemon.normalize(params)
    assert exc.value.field == field


def test_own_process_is_not_a_charon_and_dead_pids_are_not_ours():
    assert not daemon.is_our_charon(os.getpid())
    assert not daemon.is_our_charon(None)
    assert not daemon.is_our_charon(2 ** 22 + 1)


def test_read_pid(tmp_path):
    path = tmp_path / 'charon.pid'
    assert daemon.read_pid(str(path)) is None
    path.write_text('123\n')
    assert daemon.read_pid(str(path)) == 123
    path.write_text('garbage')
    assert daemon.read_pid(str(path)) is None
