# -*- coding: utf-8 -*-
# Copyright: meshforge.vpn contributors
# GNU General Public License v3.0+ (see https://www.gnu.org/licenses/gpl-3.0.txt)
"""nebula_info against a fake console (ssh answering as nebula 1.6's does, the JSON shapes read from a live one):
the host key pinned, tunnels direct or relayed, a nebula that does not answer is running=false, no console is an
error naming the option to set."""

from __future__ import absolute_import, division, print_function

__metaclass__ = type

import json
import os

import pytest

from ansible_collections.meshforge.vpn.plugins.module_utils import files
from ansible_collections.meshforge.vpn.plugins.module_utils.common import ModuleError
from ansible_collections.meshforge.vpn.plugins.module_utils.nebula import config, info, schema
from ansible_collections.meshforge.vpn.tests.unit.plugins.module_utils.fakes import CommandLog, FakeModule

CERT = {'details': {'name': 'db1', 'ips': ['10.42.0.3/24'], 'groups': ['db'], 'notAfter': '2027-12-05T19:29:52Z'},
        'fingerprint': 'ab' * 32}
HOSTMAP = [
    {'vpnIp': '10.42.0.2', 'remoteAddrs': [{'ip': '198.18.0.12', 'port': 4242}],
     'currentRemote': {'ip': '198.18.0.12', 'port': 4242}, 'cert': {'details': {'name': 'web1', 'groups': ['web']}, 'fingerprint': 'cd' * 32},
     'currentRelaysToMe': [], 'currentRelaysThroughMe': []},
    {'vpnIp': '10.42.0.4', 'remoteAddrs': [], 'currentRemote': None,
     'cert': {'details': {'name': 'app1', 'groups': ['app']}, 'fingerprint': 'ef' * 32}, 'currentRelaysToMe': ['10.42.0.1'],
     'currentRelaysThroughMe': []},
]


class FakeConsole(CommandLog):
    bin_dir = '/usr/bin'

    def __init__(self, up=True):
        super(FakeConsole, self).__init__()
        self.tools = {'ssh'}
        self.up = up
        self.known_hosts = []

    def run(self, args, data=None, environ=None):
        self.record(args, False)
        opts = [args[i + 1] for i, a in enumerate(args) if a == '-o']
        assert 'StrictHostKeyChecking=yes' in opts and 'BatchMode=yes' in opts
        known = [o.split('=', 1)[1] for o in opts if o.startswith('UserKnownHostsFile=')][0]
        self.known_hosts.append(files.read_text(known))
        assert args[args.index('-p') + 1] == '4242' and 'meshforge@127.0.0.1' in args
        command = args[args.index('meshforge@127.0.0.1') + 1:]
        if not self.up:
            return 255, '', 'ssh: connect to host 127.0.0.1 port 4242: Connection refused\n'
        answers = {'print-cert': CERT, 'list-hostmap': HOSTMAP, 'list-pending-hostmap': []}
        return 0, json.dumps(answers[command[0]]), ''


@pytest.fixture
def etc(tmp_path):
    directory = str(tmp_path)
    settings = {'pki': {}, 'sshd': schema.sshd_settings(dict(schema.sshd_paths(directory, 'mesh'), port=4242), 'ssh-ed25519 AAAA x'),
                'lighthouse': {'am_lighthouse': False, 'hosts': ['10.42.0.1', '10.42.0.2']},
                'relay': {'am_relay': False, 'relays': ['10.42.0.4']}}
    files.write_atomic(os.path.join(directory, 'mesh.yml'), config.render(settings), 0o600)
    files.write_atomic(os.path.join(directory, 'mesh-sshd-host.key.pub'), 'ssh-ed25519 HOSTKEY meshforge-nebula\n', 0o644)
    return directory


def test_tunnels_direct_and_relayed_with_the_host_key_pinned(etc):
    console = FakeConsole()
    result = info.read_info(FakeModule(console, {'network': 'mesh', 'config_dir': etc, 'timeout': 5}))
    assert result['running'] and result['certificate']['groups'] == ['db']
    assert result['tunnels'] == [
        {'vpn_ip': '10.42.0.2', 'name': 'web1', 'fingerprint': 'cd' * 32, 'groups': ['web'], 'remote': '198.18.0.12:4242',
         'remote_addrs': ['198.18.0.12:4242'], 'relayed': False, 'relays': []},
        {'vpn_ip': '10.42.0.4', 'name': 'app1', 'fingerprint': 'ef' * 32, 'groups': ['app'], 'remote': None, 'remote_addrs': [],
         'relayed': True, 'relays': ['10.42.0.1']}]
    # lighthouse 10.42.0.1 not reached, 10.42.0.2 direct; the relay 10.42.0.4 is itself reached through a relay
    assert result['lighthouses'] == [
        {'vpn_ip': '10.42.0.1', 'connected': False, 'handshaking': False, 'remote': None, 'relayed': False},
        {'vpn_ip': '10.42.0.2', 'connected': True, 'handshaking': False, 'remote': '198.18.0.12:4242', 'relayed': False}]
    assert result['relays'] == [{'vpn_ip': '10.42.0.4', 'connected': True, 'handshaking': False, 'remote': None, 'relayed': True}]
    assert not result['am_lighthouse'] and not result['am_relay']
    assert set(console.known_hosts) == {'[127.0.0.1]:4242 ssh-ed25519 HOSTKEY\n'}
    assert console.changing_commands() == []


def test_a_nebula_that_does_not_answer_is_down_not_a_failure(etc):
    result = info.read_info(FakeModule(FakeConsole(up=False), {'network': 'mesh', 'config_dir': etc, 'timeout': 5}))
    assert not result['running'] and 'Connection refused' in result['msg'] and result['tunnels'] == []
    assert [item['connected'] for item in result['lighthouses'] + result['relays']] == [False] * 3


def test_no_configuration_and_no_console(etc, tmp_path):
    result = info.read_info(FakeModule(FakeConsole(), {'network': 'other', 'config_dir': etc, 'timeout': 5}))
    assert not result['configured'] and not result['running']
    files.write_atomic(os.path.join(etc, 'plain.yml'), config.render({'pki': {}}), 0o600)
    with pytest.raises(ModuleError) as exc:
        info.read_info(FakeModule(FakeConsole(), {'network': 'plain', 'config_dir': etc, 'timeout': 5}))
    assert str(exc.value).startswith('network: ') and 'sshd_port' in str(exc.value)
