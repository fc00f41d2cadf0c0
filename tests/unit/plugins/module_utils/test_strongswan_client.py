# -*- coding: utf-8 -*-
# Copyright: meshforge.vpn contributors
# GNU General Public License v3.0+ (see https://www.gnu.org/licenses/gpl-3.0.txt)
"""module_utils/strongswan/client.py: the VICI session (charon's refusals as CharonError) and CharonHost, the
engine host that opens it only when asked, on a socket that answers."""

from __future__ import absolute_import, division, print_function

__metaclass__ = type

import socket

import pytest

from ansible_collections.meshforge.vpn.plugins.module_utils import engine
from ansible_collections.meshforge.vpn.plugins.module_utils.common import MissingLibrary
from ansible_collections.meshforge.vpn.plugins.module_utils.strongswan import client
from ansible_collections.meshforge.vpn.plugins.module_utils.validation import ValidationError
from ansible_collections.meshforge.vpn.tests.unit.plugins.module_utils.fakevici import (  # noqa: F401 pylint: disable=unused-import
    CommandException, FakeSession, charon, strongswan_module)


def test_terminate_of_sas_already_gone_is_what_was_wanted_any_other_failure_an_error():
    session = FakeSession()
    client.Charon('/run/fake.vici', session).terminate('x')
    assert session.changing_commands() == [('terminate', {'ike': 'x', 'timeout': '10000', 'force': 'yes'})]

    def refuse(message):
        raise CommandException('Command failed: terminating IKE_SA failed')
    session.terminate = refuse
    with pytest.raises(client.CharonError, match='terminating IKE_SA failed'):
        client.Charon('/run/fake.vici', session).terminate('x')


def test_unreachable_charon_is_a_clear_error(tmp_path, monkeypatch):
    monkeypatch.setattr(client, 'HAS_VICI', True)
    monkeypatch.setattr(client, 'vici', object())
    with pytest.raises(client.CharonError, match='cannot reach charon at unix://.*missing.vici'):
        client.Charon(str(tmp_path / 'missing.vici'))


def test_missing_vici_is_named_only_when_a_session_is_opened(monkeypatch):
    monkeypatch.setattr(client, 'HAS_VICI', False)
    host = client.CharonHost(strongswan_module({}))
    assert isinstance(host, engine.Host) and host.charon is None
    with pytest.raises(MissingLibrary, match='vici'):
        host.connect('/run/fake.vici')


def test_listening_needs_a_live_socket(tmp_path):
    assert not client.listening(str(tmp_path / 'none.vici'))
    stale = tmp_path / 'stale.vici'
    listener = socket.socket(socket.AF_UNIX, socket.SOCK_STREAM)
    listener.bind(str(stale))
    listener.close()
    assert not client.listening(str(stale))
    live = socket.socket(socket.AF_UNIX, socket.SOCK_STREAM)
    live.bind(str(tmp_path / 'live.vici'))
    live.listen(1)
    try:
        assert client.listening(str(tmp_path / 'live.vici'))
    finally:
        live.close()


def test_connect_opens_one_session_and_only_on_a_charon_that_runs(charon):
    host = client.CharonHost(strongswan_module({}))
    charon.running = False
    assert host.connect_if_running('/run/fake.vici') is None and charon.sockets == []
    charon.running = True
    session = host.connect_if_running('/run/fake.vici')
    assert session.session is charon and host.connect('/run/other.vici') is session
    assert charon.sockets == ['/run/fake.vici', '/run/fake.vici']       # the probe, then the session


@pytest.mark.parametrize('value, problem', [('tcp://127.0.0.1:4502', 'only unix://'),
                                            ('unix://run/charon.vici', 'absolute path')])
def test_socket_path_is_checked(value, problem):
    with pytest.raises(ValidationError, match=problem):
        client.socket_path({'vici_socket': value})
    assert client.socket_path({}) == '/var/run/charon.vici'
