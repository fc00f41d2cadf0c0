# -*- coding: utf-8 -*-
# Copyright: meshforge.vpn contributors
# GNU General Public License v3.0+ (see https://www.gnu.org/licenses/gpl-3.0.txt)
"""nebula_config's driver on the fake host: under systemd (the fake systemctl, nebula@<network>) and supervised
(the process calls of module_utils.supervise replaced by a fake process table).  Check mode predicts and changes
nothing, a re-run touches nothing, a changed file reloads (SIGHUP) and a changed TUN device restarts, a dead
nebula is started again, absent stops it and removes its files; no value can inject YAML."""

from __future__ import absolute_import, division, print_function

__metaclass__ = type

import base64
import json
import os
import signal

import pytest

from ansible.module_utils.common.yaml import yaml_load

from ansible_collections.meshforge.vpn.plugins.module_utils import files, supervise
from ansible_collections.meshforge.vpn.plugins.module_utils.nebula import config, schema
from ansible_collections.meshforge.vpn.plugins.module_utils.validation import ValidationError
from ansible_collections.meshforge.vpn.tests.unit.plugins.module_utils.fakehost import FakeHost, run, snapshot

KEY = '-----BEGIN NEBULA X25519 PRIVATE KEY-----\n%s\n-----END NEBULA X25519 PRIVATE KEY-----\n' % (
    base64.b64encode(b'k' * 32).decode())


def cert(seed):
    body = base64.b64encode(seed.encode() * 40).decode()
    lines = [body[i:i + 64] for i in range(0, len(body), 64)]
    return '-----BEGIN NEBULA CERTIFICATE-----\n%s\n-----END NEBULA CERTIFICATE-----\n' % '\n'.join(lines)


class Processes(object):
    """The process calls of supervise: spawn makes a live pid, stop and signals are recorded."""

    def __init__(self, monkeypatch):
        self.alive, self.next_pid, self.calls = set(), 4000, []
        monkeypatch.setattr(supervise, 'is_ours', lambda pid, names: pid in self.alive)
        monkeypatch.setattr(supervise, 'spawn', self.spawn)
        monkeypatch.setattr(supervise, 'stop', self.stop)
        monkeypatch.setattr(supervise, 'signal_pid', lambda pid, signum: self.calls.append(('signal', pid, signum)))
        monkeypatch.setattr(config, 'interface_up', lambda name: True)

    def spawn(self, argv, run_dir, pid_file, log_file):
        self.next_pid += 1
        self.alive.add(self.next_pid)
        self.calls.append(('spawn', argv))
        files.write_atomic(pid_file, '%d\n' % self.next_pid, 0o644)
        pid = self.next_pid

        class Proc(object):
            def poll(self):
                return None
        proc = Proc()
        proc.pid = pid
        return proc

    def stop(self, pid, names):
        self.calls.append(('stop', pid))
        self.alive.discard(pid)


@pytest.fixture
def lab(tmp_path, monkeypatch):
    directory = tmp_path / 'etc' / 'nebula'
    directory.mkdir(parents=True)
    files.write_atomic(str(directory / 'mesh.key'), KEY, 0o600)
    monkeypatch.setattr(supervise, 'systemd_booted', lambda: False)
    monkeypatch.setattr(config, 'DROPIN_DIR', str(tmp_path / 'etc' / 'systemd' / 'system'))
    return str(directory)


def params(directory, **overrides):
    base = {'network': 'mesh', 'state': 'present', 'config_dir': directory, 'key_path': None,
            'certificate': cert('host'), 'ca_certificate': cert('ca'), 'interface': None, 'mtu': 1300,
            'listen_host': '0.0.0.0', 'listen_port': 4242, 'am_lighthouse': False, 'lighthouses': ['10.42.0.1'],
            'lighthouse_interval': 60, 'static_host_map': {'10.42.0.1': ['198.18.0.11:4242']}, 'am_relay': False,
            'relays': [], 'use_relays': True, 'punch': True, 'inbound': None, 'outbound': None, 'log_level': 'info',
            'manager': 'auto', 'run_dir': os.path.join(os.path.dirname(directory), 'run'), 'blocklist': []}
    base.update(overrides)
    return base


def check_then_run(host, args):
    before = snapshot(os.path.dirname(args['config_dir']))
    predicted, _module, changing = run(host, config.manage_config, args, check_mode=True)
    assert changing == [] and snapshot(os.path.dirname(args['config_dir'])) == before
    result, _module, _changing = run(host, config.manage_config, args)
    for key in ('changed', 'started', 'reloaded', 'restarted', 'stopped', 'persisted'):
        assert predicted[key] == result[key], key
    assert KEY.splitlines()[1] not in repr(result) and KEY.splitlines()[1] not in repr(predicted)
    return result


def test_supervised_nebula_started_once_reloaded_on_change_restarted_for_a_new_device(lab, monkeypatch):
    procs, host = Processes(monkeypatch), FakeHost()
    result = check_then_run(host, params(lab))
    assert result['changed'] and result['started'] and result['manager'] == 'daemon'
    assert procs.calls == [('spawn', ['/usr/sbin/nebula', '-config', lab + '/mesh.yml'])]
    assert files.file_mode(lab + '/mesh.yml') == 0o600
    assert files.file_mode(lab + '/mesh.crt') == 0o644 and files.file_mode(lab + '/mesh-ca.crt') == 0o644
    settings = yaml_load(files.read_text(lab + '/mesh.yml'))
    assert settings['pki'] == {'ca': lab + '/mesh-ca.crt', 'cert': lab + '/mesh.crt', 'key': lab + '/mesh.key'}
    assert settings['tun']['dev'] == 'neb-mesh' and settings['lighthouse']['hosts'] == ['10.42.0.1']
    assert settings['static_host_map'] == {'10.42.0.1': ['198.18.0.11:4242']}
    assert [a['change'] for a in result['audit']] == ['nebula started'] + ['file written'] * 3

    procs.calls[:] = []
    again = check_then_run(host, params(lab))
    assert not again['changed'] and procs.calls == [] and again['audit'] == []

    rules = [{'port': 5432, 'proto': 'tcp', 'group': 'web'}]
    reloaded = check_then_run(host, params(lab, inbound=rules, certificate=cert('renewed')))
    assert reloaded['reloaded'] and not reloaded['restarted'] and not reloaded['started']
    assert procs.calls == [('signal', result['pid'], signal.SIGHUP)]
    assert yaml_load(files.read_text(lab + '/mesh.yml'))['firewall']['inbound'] == [
        {'port': 5432, 'proto': 'tcp', 'group': 'web'}]

    procs.calls[:] = []
    restarted = check_then_run(host, params(lab, inbound=rules, certificate=cert('renewed'), interface='nebula9'))
    assert restarted['restarted'] and not restarted['reloaded']
    assert [c[0] for c in procs.calls] == ['stop', 'spawn']


def test_a_dead_nebula_is_started_again_and_absent_stops_it_and_removes_its_files(lab, monkeypatch):
    procs, host = Processes(monkeypatch), FakeHost()
    first = check_then_run(host, params(lab))
    procs.alive.clear()
    again = check_then_run(host, params(lab))
    assert again['changed'] and again['started'] and not again['persisted']
    assert again['audit'] == [{'resource': 'nebula_config', 'object': 'mesh', 'change': 'nebula started',
                               'detail': first['pid_file']}]
    gone = check_then_run(host, {'network': 'mesh', 'state': 'absent', 'config_dir': lab, 'key_path': None,
                                 'manager': 'auto', 'run_dir': params(lab)['run_dir']})
    assert gone['stopped'] and gone['changed']
    assert sorted(os.listdir(lab)) == ['mesh.key']      # nebula_key's file stays
    assert not os.path.exists(first['pid_file'])
    assert not check_then_run(host, {'network': 'mesh', 'state': 'absent', 'config_dir': lab, 'key_path': None,
                                     'manager': 'auto', 'run_dir': params(lab)['run_dir']})['changed']


def test_systemd_unit_enabled_started_reloaded_and_stopped(lab, monkeypatch):
    monkeypatch.setattr(supervise, 'systemd_booted', lambda: True)
    monkeypatch.setattr(schema, 'DEFAULT_CONFIG_DIR', lab)
    host = FakeHost(systemd=True)
    result = check_then_run(host, params(lab))
    assert result['service'] == 'nebula@mesh.service' and result['started']
    assert 'nebula@mesh' in host.enabled_units and 'nebula@mesh' in host.active_units
    # nebula itself is the unit's main process (Debian's launcher does not exec it, and its SIGHUP kills the unit)
    dropin = os.path.join(config.DROPIN_DIR, 'nebula@mesh.service.d', 'meshforge.conf')
    assert files.read_text(dropin).splitlines()[1:] == [
        '[Service]', 'ExecStart=', 'ExecStart=/usr/sbin/nebula -config %s/mesh.yml' % lab]
    assert os.stat(dropin).st_mode & 0o777 == 0o644 and host.daemon_reloads == 1
    assert not check_then_run(host, params(lab))['changed']
    assert check_then_run(host, params(lab, log_level='debug'))['reloaded'] and host.reloads == ['nebula@mesh']
    assert check_then_run(host, params(lab, log_level='debug', listen_port=4243))['restarted']
    assert host.restarts == ['nebula@mesh'] and host.daemon_reloads == 1
    # a unit started by an earlier version (through the launcher): the drop-in comes, nebula starts again under it
    os.remove(dropin)
    again = check_then_run(host, params(lab, log_level='debug', listen_port=4243))
    assert again['restarted'] and not again['reloaded'] and host.daemon_reloads == 2 and os.path.exists(dropin)
    gone = check_then_run(host, {'network': 'mesh', 'state': 'absent', 'config_dir': lab, 'key_path': None,
                                 'manager': 'auto', 'run_dir': '/run/x'})
    assert gone['stopped'] and not host.active_units and not host.enabled_units
    assert not os.path.exists(dropin) and host.daemon_reloads == 3


def test_systemd_wants_the_directory_its_unit_reads(lab, monkeypatch):
    monkeypatch.setattr(supervise, 'systemd_booted', lambda: True)
    with pytest.raises(ValidationError) as exc:
        run(FakeHost(systemd=True), config.manage_config, params(lab))
    assert exc.value.field == 'config_dir'


def test_a_missing_or_open_key_is_refused(lab, monkeypatch):
    Processes(monkeypatch)
    os.chmod(lab + '/mesh.key', 0o644)
    with pytest.raises(ValidationError) as exc:
        run(FakeHost(), config.manage_config, params(lab))
    assert exc.value.field == 'key_path' and '0644' in str(exc.value)
    os.unlink(lab + '/mesh.key')
    with pytest.raises(ValidationError) as exc:
        run(FakeHost(), config.manage_config, params(lab))
    assert exc.value.field == 'key_path' and 'nebula_key' in str(exc.value)
    assert not os.path.exists(lab + '/mesh.yml')
    # check mode on a new host (nebula_key in check mode made no key) predicts without failing
    assert run(FakeHost(), config.manage_config, params(lab), check_mode=True)[0]['started']


@pytest.mark.parametrize('overrides, field', [
    ({'network': 'mesh\nfirewall: {}'}, 'network'),
    ({'network': 'a: b'}, 'network'),
    ({'inbound': [{'port': 5432, 'proto': 'tcp', 'group': 'web\nfirewall: x'}]}, 'inbound[0].group'),
    ({'inbound': [{'port': 5432, 'proto': 'tcp', 'groups': ['web', 'db: x']}]}, 'inbound[0].groups[1]'),
    ({'inbound': [{'port': 70000, 'proto': 'tcp', 'host': 'any'}]}, 'inbound[0].port'),
    ({'inbound': [{'port': '10-5', 'proto': 'tcp', 'host': 'any'}]}, 'inbound[0].port'),
    ({'inbound': [{'port': 22, 'proto': 'sctp', 'host': 'any'}]}, 'inbound[0].proto'),
    ({'inbound': [{'port': 22, 'proto': 'tcp'}]}, 'inbound[0]'),
    ({'outbound': [{'port': 22, 'host': 'any', 'ca_sha': 'x'}]}, 'outbound[0]'),
    ({'inbound': [{'port': 22, 'cidr': 'fd00::/64'}]}, 'inbound[0].cidr'),
    ({'lighthouses': ['10.42.0.1\nx: y']}, 'lighthouses[0]'),
    ({'lighthouses': ['fd00::1']}, 'lighthouses[0]'),
    ({'am_lighthouse': True}, 'lighthouses'),
    ({'static_host_map': {'10.42.0.1': ['198.18.0.11:4242\nkey: x']}}, 'static_host_map[10.42.0.1][0]'),
    ({'static_host_map': {'not-an-ip': ['198.18.0.11:4242']}}, 'static_host_map[not-an-ip]'),
    ({'listen_port': 65536}, 'listen_port'),
    ({'interface': 'nebula-much-too-long'}, 'interface'),
    ({'certificate': 'not a certificate'}, 'certificate'),
    ({'ca_certificate': cert('ca') + 'pki: {}\n'}, 'ca_certificate'),
    ({'certificate': None}, 'certificate'),
    ({'am_relay': True, 'relays': ['10.42.0.1']}, 'relays'),
])
def test_bad_values_are_refused_naming_the_option_before_anything_is_written(lab, monkeypatch, overrides, field):
    procs = Processes(monkeypatch)
    with pytest.raises(ValidationError) as exc:
        run(FakeHost(), config.manage_config, params(lab, **overrides))
    assert exc.value.field == field
    assert sorted(os.listdir(lab)) == ['mesh.key'] and procs.calls == []


def test_the_file_is_the_settings_dumped():
    want = schema.normalize(params('/etc/nebula', am_relay=True, lighthouses=[], am_lighthouse=True,
                                   inbound=[{'port': '5432-5433', 'proto': 'tcp', 'groups': ['web', 'app']}]))
    text = config.render(want['settings'])
    assert text.startswith('# Managed by meshforge.vpn')
    assert yaml_load(text) == want['settings']
    assert want['settings']['firewall']['inbound'] == [{'port': '5432-5433', 'proto': 'tcp', 'groups': ['app', 'web']}]
    assert want['settings']['firewall']['outbound'] == schema.DEFAULT_OUTBOUND


def test_the_console_keys_are_made_once_on_the_host_and_only_their_public_half_is_read(lab, monkeypatch):
    procs, host = Processes(monkeypatch), FakeHost()
    predicted, _module, changing = run(host, config.manage_config, params(lab, sshd_port=4243), check_mode=True)
    assert predicted['changed'] and changing == [] and sorted(os.listdir(lab)) == ['mesh.key']
    result = check_then_run(FakeHost(), params(lab))                   # without the console first
    assert 'sshd' not in yaml_load(files.read_text(lab + '/mesh.yml'))
    procs.calls[:] = []
    result = check_then_run(host, params(lab, sshd_port=4243))
    assert result['reloaded'] and not result['restarted']                # nebula takes its console on SIGHUP
    assert 'console keys created' in [a['change'] for a in result['audit']]
    for name in ('mesh-sshd-host.key', 'mesh-sshd-client.key'):
        assert files.file_mode(os.path.join(lab, name)) == 0o600
        assert files.file_mode(os.path.join(lab, name + '.pub')) == 0o644
        private = files.read_text(os.path.join(lab, name)).splitlines()[1]
        assert private not in repr(result)
    sshd = yaml_load(files.read_text(lab + '/mesh.yml'))['sshd']
    assert sshd == {'enabled': True, 'listen': '127.0.0.1:4243', 'host_key': lab + '/mesh-sshd-host.key',
                    'authorized_users': [{'user': 'meshforge', 'keys': [
                        files.read_text(lab + '/mesh-sshd-client.key.pub').strip()]}]}
    made = host.genkey_count
    assert not check_then_run(host, params(lab, sshd_port=4243))['changed'] and host.genkey_count == made
    gone = check_then_run(host, {'network': 'mesh', 'state': 'absent', 'config_dir': lab, 'key_path': None,
                                 'manager': 'auto', 'run_dir': params(lab)['run_dir'], 'sshd_port': 0})
    assert gone['changed'] and sorted(os.listdir(lab)) == ['mesh.key']


class ConsoleHost(FakeHost):
    """A fake host whose nebula console answers list-hostmap with ``tunnels`` and closes one on close-tunnel;
    ``back`` peers handshake again once after their first close (nebula had not read the blocklist yet)."""

    def __init__(self, tunnels, back=()):
        super(ConsoleHost, self).__init__()
        self.tools.add('ssh')
        self.tunnels, self.back, self.closes = dict(tunnels), set(back), []

    def writes(self, tool, args):
        return 'close-tunnel' in args if tool == 'ssh' else FakeHost.writes(tool, args)

    def cmd_ssh(self, args, data, environ):
        command = args[args.index('meshforge@127.0.0.1') + 1:]
        if command[0] == 'list-hostmap':
            return json.dumps([{'vpnIp': ip, 'cert': {'fingerprint': fp}} for ip, fp in sorted(self.tunnels.items())]), ''
        assert command[0] == 'close-tunnel'
        self.closes.append(command[1])
        fingerprint = self.tunnels.pop(command[1])
        if command[1] in self.back:
            self.back.discard(command[1])
            self.tunnels[command[1]] = fingerprint
        return 'Closed\n', ''


def test_a_blocklisted_peer_is_refused_and_its_open_tunnel_closed_then_nothing_changes(lab, monkeypatch):
    procs = Processes(monkeypatch)
    revoked, other = 'ab' * 32, 'cd' * 32
    host = ConsoleHost({'10.42.0.4': revoked, '10.42.0.2': other}, back=['10.42.0.4'])
    check_then_run(host, params(lab, sshd_port=4243))
    procs.calls[:] = []
    result = check_then_run(host, params(lab, sshd_port=4243, blocklist=[revoked.upper()]))
    assert result['reloaded'] and not result['restarted'] and result['closed'] == ['10.42.0.4']
    assert procs.calls == [('signal', result['pid'], signal.SIGHUP)]
    assert host.closes == ['10.42.0.4', '10.42.0.4'] and list(host.tunnels) == ['10.42.0.2']
    assert yaml_load(files.read_text(lab + '/mesh.yml'))['pki']['blocklist'] == [revoked]
    assert 'blocklisted tunnel closed' in [a['change'] for a in result['audit']]
    again = check_then_run(host, params(lab, sshd_port=4243, blocklist=[revoked]))
    assert not again['changed'] and again['closed'] == [] and host.closes == ['10.42.0.4', '10.42.0.4']
    with pytest.raises(ValidationError) as exc:
        run(host, config.manage_config, params(lab, sshd_port=4243, blocklist=['ab' * 31]))
    assert exc.value.field == 'blocklist[0]'


PUB = '-----BEGIN NEBULA X25519 PUBLIC KEY-----\n%s=\n-----END NEBULA X25519 PUBLIC KEY-----\n'


@pytest.mark.parametrize('check_mode', [False, True])
def test_a_key_pair_that_is_not_the_certificates_is_refused_before_anything_changes(lab, monkeypatch, check_mode):
    """public_key: the role signed from the key it remembers (the certificate's); a host rebuilt with a new pair, or
    none, must not get that certificate: key_mismatch, nothing written, so the role makes the pair and signs again."""
    procs = Processes(monkeypatch)
    mine, other = PUB % ('A' * 43), PUB % ('B' * 43)
    for pub, says in ((None, 'missing'), (other, 'another key')):
        if pub:
            files.write_atomic(lab + '/mesh.pub', pub, 0o644)
        with pytest.raises(config.KeyMismatch) as exc:
            run(FakeHost(), config.manage_config, params(lab, public_key=mine), check_mode=check_mode)
        assert str(exc.value).startswith('public_key: %s/mesh.pub on the host is %s' % (lab, says))
        assert exc.value.fail_keys() == {'field': 'public_key', 'key_mismatch': True}
        assert not os.path.exists(lab + '/mesh.yml') and procs.calls == []
    files.write_atomic(lab + '/mesh.pub', mine, 0o644)
    assert check_then_run(FakeHost(), params(lab, public_key=mine.strip('\n')))['started']
    # with nothing else to change (the configuration is current), a pair replaced since is still found
    files.write_atomic(lab + '/mesh.pub', other, 0o644)
    with pytest.raises(config.KeyMismatch):
        run(FakeHost(), config.manage_config, params(lab, public_key=mine), check_mode=check_mode)


def test_a_public_key_that_is_not_one_is_refused_naming_the_option(lab, monkeypatch):
    Processes(monkeypatch)
    with pytest.raises(ValidationError) as exc:
        run(FakeHost(), config.manage_config, params(lab, public_key='ssh-ed25519 AAAA\nfirewall: {}'))
    assert exc.value.field == 'public_key'
