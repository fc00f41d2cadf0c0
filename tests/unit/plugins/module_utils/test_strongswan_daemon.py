# -*- coding: utf-8 -*-
# Copyright: meshforge.vpn contributors
# GNU General Public License v3.0+ (see https://www.gnu.org/licenses/gpl-3.0.txt)

from __future__ import absolute_import, division, print_function

__metaclass__ = type

import os

import pytest

from ansible_collections.meshforge.vpn.plugins.module_utils.common import CommandError
from ansible_collections.meshforge.vpn.plugins.module_utils.strongswan import daemon
from ansible_collections.meshforge.vpn.plugins.module_utils.validation import ValidationError
from ansible_collections.meshforge.vpn.tests.unit.plugins.module_utils.fakehost import FakeHost
from ansible_collections.meshforge.vpn.tests.unit.plugins.module_utils.fakevici import strongswan_module


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


def charon_under_systemd(tmp_path, monkeypatch, units, check_mode=False, **options):
    """ipsec_charon's body with ``units`` answering systemctl, on a host that has strongSwan."""
    monkeypatch.setattr(daemon, 'find_binary', lambda: '/usr/sbin/charon-systemd')
    monkeypatch.setattr(daemon, 'systemd_booted', lambda: True)
    module = strongswan_module(dict({'dropin': str(tmp_path / 'strongswan.d' / 'meshforge-vpn.conf')}, **options),
                               check_mode=check_mode, diff=True, host=units)
    return daemon.manage_charon(module)


def test_systemd_unit_is_enabled_and_started_then_left_alone(tmp_path, monkeypatch):
    units = FakeHost(systemd=True)
    predicted = charon_under_systemd(tmp_path, monkeypatch, units, check_mode=True)
    assert predicted['changed'] and predicted['started'] and predicted['enabled'] and predicted['config_changed']
    assert units.changing_commands() == [] and not os.path.exists(predicted['dropin'])
    result = charon_under_systemd(tmp_path, monkeypatch, units)
    assert dict(result, diff=None) == dict(predicted, diff=None)
    assert [c[1:] for c in units.changing_commands()] == [['enable', 'strongswan.service'], ['start', 'strongswan.service']]
    again = charon_under_systemd(tmp_path, monkeypatch, units)
    assert not again['changed'] and not again['restarted'] and len(units.changing_commands()) == 2
    changed = charon_under_systemd(tmp_path, monkeypatch, units, libipsec=True)
    assert changed['restarted'] and units.changing_commands()[-1][1:] == ['restart', 'strongswan.service']
    assert 'kernel-libipsec' in changed['diff']['after'] and changed['diff']['before'] == again['diff']['after']


def test_a_failing_systemctl_is_a_command_error(tmp_path, monkeypatch):
    units = FakeHost(systemd=True)
    units.run = lambda argv, data=None, environ=None: (1, '', 'Unit strongswan.service not found.')
    with pytest.raises(CommandError) as exc:
        charon_under_systemd(tmp_path, monkeypatch, units)
    assert exc.value.rc == 1 and 'enable strongswan.service' in str(exc.value) and 'not found' in str(exc.value)


def test_missing_swanctl_is_named_and_nothing_is_written(tmp_path, monkeypatch):
    units = FakeHost(systemd=True)
    units.tools = set(['systemctl'])
    result = charon_under_systemd(tmp_path, monkeypatch, units)
    assert result['failed'] and result['missing'] == ['swanctl'] and not result['changed']
    assert units.commands == [] and not (tmp_path / 'strongswan.d').exists()
