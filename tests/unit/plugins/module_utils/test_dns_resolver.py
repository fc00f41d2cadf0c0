# -*- coding: utf-8 -*-
# Copyright: meshforge.vpn contributors
# GNU General Public License v3.0+ (see https://www.gnu.org/licenses/gpl-3.0.txt)
"""dns_resolver on the fake host: dnsmasq supervised or under systemd, SIGHUP for records, restart for options,
the host's resolv.conf kept and given back byte for byte, bad input refused before anything is touched."""

from __future__ import absolute_import, division, print_function

__metaclass__ = type

import os

import pytest

from ansible_collections.meshforge.vpn.plugins.module_utils import supervise
from ansible_collections.meshforge.vpn.plugins.module_utils.common import Refused
from ansible_collections.meshforge.vpn.plugins.module_utils.dns import resolver
from ansible_collections.meshforge.vpn.plugins.module_utils.validation import ValidationError
from ansible_collections.meshforge.vpn.tests.unit.plugins.module_utils.fakehost import (
    FakeHost, install, run, snapshot, underlay)

HOSTS = '10.88.0.1 a.mesh.example\nfd88::1 a.mesh.example\n10.88.0.2 b.mesh.example\n'
ORIGINAL = b'# from DHCP\r\nnameserver 198.18.0.53\nnameserver fd00:18::53\nsearch lab.example\noptions edns0\n\xff\n'


@pytest.fixture
def host(tmp_path, monkeypatch):
    fake = install(underlay(FakeHost()), str(tmp_path), monkeypatch)
    fake.add_link('wg0', 'tun', addresses=['10.88.0.1/24'])
    fake.top = str(tmp_path)
    with open(resolver.RESOLV_CONF, 'wb') as handle:
        handle.write(ORIGINAL)
    return fake


def params(host, **overrides):
    base = {'name': 'mesh', 'state': 'present', 'listen': ['10.88.0.1'], 'port': 53, 'domain': 'mesh.example.',
            'hosts': HOSTS, 'forward': [], 'upstream': None, 'search_domains': [], 'resolv_conf': False,
            'manager': 'auto', 'link': None, 'link_dns': None, 'host_resolver': 'auto',
            'config_dir': os.path.join(host.top, 'etc'), 'run_dir': os.path.join(host.top, 'run')}
    base.update(overrides)
    return base


def apply(host, check=True, **overrides):
    """Check mode first (it changes nothing and predicts ``changed``), then the real run."""
    p = params(host, **overrides)
    if check:
        before_files, before_state = snapshot(host.top), host.state()
        predicted, _module, changing = run(host, resolver.manage_resolver, p, check_mode=True)
        assert changing == [] and host.state() == before_state and snapshot(host.top) == before_files
    result, _module, changing = run(host, resolver.manage_resolver, p)
    if check:
        assert predicted['changed'] == result['changed']
        for key in ('started', 'restarted', 'reloaded', 'stopped', 'resolv_conf'):
            assert predicted[key] == result[key], key
    if not result['changed']:
        assert changing == []
    return result


def live(host):
    return [pid for pid, proc in host.processes.items() if proc['alive']]


def test_supervised_dnsmasq_answers_the_domain_and_a_rerun_touches_nothing(host):
    result = apply(host, forward=[{'domains': ['corp.example'], 'nameservers': ['10.1.2.3']}], upstream=['198.18.0.53'])
    assert result['changed'] and result['started'] and result['manager'] == 'daemon' and result['records'] == 3
    conf = open(result['config_file']).read().splitlines()
    assert 'listen-address=10.88.0.1' in conf and 'local=/mesh.example/' in conf and 'no-resolv' in conf
    assert 'server=/corp.example/10.1.2.3' in conf and 'server=198.18.0.53' in conf
    assert os.stat(result['config_file']).st_mode & 0o777 == 0o644 and os.stat(result['hosts_file']).st_mode & 0o777 == 0o644
    assert host.answers('10.88.0.1', 53) and host.resolve('10.88.0.1', 'a.mesh.example') == ['10.88.0.1', 'fd88::1']
    pid = result['pid']
    assert open(os.path.join(host.top, 'run', 'mesh.pid')).read() == '%d\n' % pid
    again = apply(host, forward=[{'domains': ['corp.example'], 'nameservers': ['10.1.2.3']}], upstream=['198.18.0.53'])
    assert not again['changed'] and again['audit'] == [] and again['pid'] == pid


def test_new_records_are_a_sighup_and_new_options_a_restart(host):
    first = apply(host, upstream=[])
    reloaded = apply(host, upstream=[], hosts=HOSTS + '10.88.0.3 c.mesh.example\n')
    assert reloaded['reloaded'] and not reloaded['restarted'] and not reloaded['started']
    assert host.processes[first['pid']]['hups'] == 1 and live(host) == [first['pid']]
    assert host.resolve('10.88.0.1', 'c.mesh.example') == ['10.88.0.3']
    assert ('reloaded records', 'dnsmasq') in [(r['change'], r['detail']) for r in reloaded['audit']]
    restarted = apply(host, upstream=['198.18.0.53'], hosts=HOSTS)
    assert restarted['restarted'] and not restarted['reloaded']
    assert not host.processes[first['pid']]['alive'] and len(live(host)) == 1
    assert host.resolve('10.88.0.1', 'c.mesh.example') == []


def test_a_dead_dnsmasq_is_started_again_and_another_namespaces_is_not_ours(host):
    first = apply(host, upstream=[])
    host.processes[first['pid']]['netns'] = 'net:[4026532001]'      # the same pid file, read from another namespace
    result = apply(host, upstream=[])
    assert result['started'] and host.processes[first['pid']]['alive']
    supervise.signal_pid(result['pid'], 9)
    assert apply(host, upstream=[])['started']


def test_the_host_resolves_through_its_stub_and_gets_its_file_back_byte_for_byte(host):
    result = apply(host, listen=['127.0.0.53'], resolv_conf=True, search_domains=['mesh.example'])
    assert result['resolv_conf'] == 'pointed' and result['upstream'] == ['198.18.0.53', 'fd00:18::53']
    text = open(resolver.RESOLV_CONF, 'rb').read().decode('utf-8', 'replace')
    assert 'nameserver 127.0.0.53\n' in text and 'search mesh.example lab.example\n' in text
    assert 'options edns0\n' in text and '198.18.0.53' not in text
    backup = os.path.join(host.top, 'etc', 'resolv.conf.orig')
    assert open(backup, 'rb').read() == ORIGINAL and os.stat(backup).st_mode & 0o777 == 0o644
    again = apply(host, listen=['127.0.0.53'], resolv_conf=True, search_domains=['mesh.example'])
    assert not again['changed'] and again['upstream'] == ['198.18.0.53', 'fd00:18::53']
    gone = apply(host, state='absent')
    assert gone['stopped'] and gone['resolv_conf'] == 'restored' and live(host) == []
    assert open(resolver.RESOLV_CONF, 'rb').read() == ORIGINAL
    assert os.listdir(os.path.join(host.top, 'etc')) == [] and not os.path.exists(os.path.join(host.top, 'run', 'mesh.pid'))
    assert not apply(host, state='absent')['changed']


def test_resolv_conf_turned_off_gives_the_file_back_and_keeps_the_resolver(host):
    first = apply(host, listen=['127.0.0.53'], resolv_conf=True)
    result = apply(host, listen=['127.0.0.53'], resolv_conf=False)
    assert result['resolv_conf'] == 'restored' and not result['restarted'] and result['pid'] == first['pid']
    assert open(resolver.RESOLV_CONF, 'rb').read() == ORIGINAL


def test_a_dnsmasq_that_cannot_start_leaves_the_resolver_alone(host):
    apply(host, name='other', listen=['127.0.0.53'], upstream=[])
    with pytest.raises(resolver.ResolverError) as exc:
        apply(host, check=False, listen=['127.0.0.53'], resolv_conf=True)
    assert 'exited with 2' in str(exc.value)
    assert 'Address already in use' in open(os.path.join(host.top, 'run', 'mesh.log')).read()
    assert open(resolver.RESOLV_CONF, 'rb').read() == ORIGINAL


def test_a_symlinked_resolv_conf_belongs_to_another_program(host):
    target = os.path.join(host.top, 'stub-resolv.conf')
    os.rename(resolver.RESOLV_CONF, target)
    os.symlink(target, resolver.RESOLV_CONF)
    with pytest.raises(Refused) as exc:
        apply(host, listen=['127.0.0.53'], resolv_conf=True)
    assert str(exc.value).startswith('resolv_conf: ') and host.changing_commands() == []
    assert not os.path.exists(os.path.join(host.top, 'etc'))


def test_under_systemd_a_unit_reloaded_for_records_and_restarted_for_options(host):
    host.systemd = True
    result = apply(host, upstream=[])
    assert result['manager'] == 'systemd' and result['started'] and result['service'] == 'meshforge-dns-mesh.service'
    unit = open(os.path.join(resolver.UNIT_DIR, 'meshforge-dns-mesh.service')).read()
    assert 'ExecStart=/usr/sbin/dnsmasq --keep-in-foreground --log-facility=- --conf-file=%s\n' % result['config_file'] in unit
    assert [c[1:] for c in host.changing_commands()] == [
        ['daemon-reload'], ['enable', 'meshforge-dns-mesh.service'], ['start', 'meshforge-dns-mesh.service']]
    assert not apply(host, upstream=[])['changed']
    assert apply(host, upstream=[], hosts=HOSTS[:-1] + '\n10.88.0.9 z.mesh.example\n')['reloaded']
    assert host.reloads == ['meshforge-dns-mesh'] and host.restarts == []
    assert apply(host, upstream=['198.18.0.53'])['restarted'] and host.restarts == ['meshforge-dns-mesh']
    gone = apply(host, state='absent')
    assert gone['stopped'] and 'meshforge-dns-mesh' not in host.active_units | host.enabled_units
    assert not os.path.exists(os.path.join(resolver.UNIT_DIR, 'meshforge-dns-mesh.service'))
    assert host.changing_commands()[-1][1:] == ['daemon-reload']


@pytest.mark.parametrize('overrides, field', [
    ({'name': 'a b'}, 'name'),
    ({'domain': 'mesh..example'}, 'domain'),
    ({'domain': 'mesh.example\nserver=6.6.6.6'}, 'domain'),
    ({'listen': ['10.88.0.1\nserver=6.6.6.6']}, 'listen[0]'),
    ({'listen': []}, 'listen'),
    ({'hosts': '10.88.0.1 a.mesh.example\nserver=6.6.6.6\n'}, 'hosts'),
    ({'hosts': '10.88.0.1 a.mesh.example'}, 'hosts'),
    ({'forward': [{'domains': ['corp.example\nserver=6.6.6.6'], 'nameservers': ['10.1.2.3']}]}, 'forward[0].domains[0]'),
    ({'forward': [{'domains': ['corp.example'], 'nameservers': ['office']}]}, 'forward[0].nameservers[0]'),
    ({'forward': [{'domains': ['mesh.example'], 'nameservers': ['10.1.2.3']}]}, 'forward[0].domains'),
    ({'upstream': ['8.8.8.8#53']}, 'upstream[0]'),
    ({'port': 5353, 'resolv_conf': True}, 'port'),
    ({'config_dir': 'etc'}, 'config_dir'),
    ({'link': 'wg0\nExecStartPost=/bin/sh', 'resolv_conf': True}, 'link'),
    ({'host_resolver': 'resolved', 'resolv_conf': True}, 'host_resolver'),
    ({'link': 'wg0', 'host_resolver': 'resolved', 'resolv_conf': True, 'listen': ['127.0.88.53']}, 'link_dns'),
    ({'link': 'wg0', 'host_resolver': 'resolved', 'resolv_conf': True, 'link_dns': ['10.88.0.1 ~evil']}, 'link_dns[0]'),
])
def test_bad_input_is_refused_naming_the_field_before_anything_is_touched(host, overrides, field):
    with pytest.raises(ValidationError) as exc:
        run(host, resolver.manage_resolver, params(host, **overrides))
    assert exc.value.field.startswith(field) and host.changing_commands() == []
    assert not os.path.exists(os.path.join(host.top, 'etc')) and open(resolver.RESOLV_CONF, 'rb').read() == ORIGINAL


def test_resolv_nameservers_reads_what_the_c_library_would_ask():
    assert resolver.resolv_nameservers(b'nameserver 10.0.0.1\n#nameserver 10.0.0.2\nnameserver fe80::1%eth0\n'
                                       b'nameserver bogus\n') == ['10.0.0.1', 'fe80::1']


def test_a_closed_config_dir_is_opened_for_dnsmasq_which_drops_root(host):
    os.makedirs(os.path.join(host.top, 'etc'), 0o700)
    os.chmod(os.path.join(host.top, 'etc'), 0o700)
    result = apply(host, upstream=[])
    assert os.stat(os.path.join(host.top, 'etc')).st_mode & 0o777 == 0o755
    assert ('mode set', '%s 0755' % os.path.join(host.top, 'etc')) in [(r['change'], r['detail']) for r in result['audit']]
    os.chmod(os.path.join(host.top, 'etc'), 0o700)
    again = apply(host, upstream=[])
    assert again['reloaded'] and not again['restarted'] and os.stat(os.path.join(host.top, 'etc')).st_mode & 0o777 == 0o755
    assert not apply(host, upstream=[])['changed']


RESOLVED = dict(listen=['127.0.88.53'], link='wg0', link_dns=['10.88.0.1'], resolv_conf=True, upstream=[],
                forward=[{'domains': ['corp.example'], 'nameservers': ['10.1.2.3']}], search_domains=['mesh.example'])


def test_where_resolved_runs_the_link_gets_the_domain_kept_across_restarts_and_removed_exactly(host):
    host.systemd, host.resolved = True, {'eth0': {'dns': ['198.18.0.53'], 'domain': ['lab.example']}}
    result = apply(host, **RESOLVED)
    assert result['host_resolver'] == 'resolved' and result['resolv_conf'] == 'unchanged'
    assert result['link'] == {'name': 'wg0', 'dns': ['10.88.0.1'], 'domains': ['~mesh.example', '~corp.example', 'mesh.example']}
    assert host.resolved['wg0'] == {'dns': ['10.88.0.1'], 'domain': ['~mesh.example', '~corp.example', 'mesh.example']}
    assert open(resolver.RESOLV_CONF, 'rb').read() == ORIGINAL
    conf = open(result['config_file']).read().splitlines()
    assert 'listen-address=127.0.88.53' in conf and 'listen-address=10.88.0.1' in conf
    dropin = os.path.join(host.dropins, 'wg-quick@wg0.service.d', 'meshforge-dns-mesh.conf')
    assert os.stat(dropin).st_mode & 0o777 == 0o644
    assert 'ExecStartPost=-/usr/sbin/resolvectl dns wg0 10.88.0.1\n' in open(dropin).read()
    assert not apply(host, **RESOLVED)['changed']
    # the tunnel goes and comes back (a reboot too): resolved forgot the link, wg-quick's start gives it back
    host.delete_link('wg0')
    assert 'wg0' not in host.resolved
    host.add_link('wg0', 'tun', addresses=['10.88.0.1/24'])
    host.exec_start_post('wg-quick@wg0')
    assert host.resolved['wg0']['domain'] == ['~mesh.example', '~corp.example', 'mesh.example']
    assert not apply(host, **RESOLVED)['changed']
    host.resolved['wg0']['dns'] = ['10.9.9.9']
    fixed = apply(host, **RESOLVED)
    assert fixed['changed'] and host.resolved['wg0']['dns'] == ['10.88.0.1'] and not fixed['restarted']
    assert 'wg-quick@wg0.service.d/meshforge-dns-mesh.conf' in host.loaded_dropins
    gone = apply(host, state='absent', link='wg0')
    assert gone['changed'] and host.resolved == {'eth0': {'dns': ['198.18.0.53'], 'domain': ['lab.example']}}
    assert not os.path.exists(dropin) and open(resolver.RESOLV_CONF, 'rb').read() == ORIGINAL
    # systemd reloaded after the drop-in was gone: it does not keep it (nor run it at the next start of wg0)
    assert 'wg-quick@wg0.service.d/meshforge-dns-mesh.conf' not in host.loaded_dropins
    assert not apply(host, state='absent', link='wg0')['changed']


def test_a_primary_nameserver_makes_the_link_the_default_route(host):
    """link_default_route (a primary nameserver group): ~. after the domains, in resolved and in the drop-in, so every
    name goes to dnsmasq and from there to the upstream; turned off again, the link has only the domains."""
    host.systemd, host.resolved = True, {}
    primary = dict(RESOLVED)
    primary.update(upstream=['10.9.9.9'], link_default_route=True)
    result = apply(host, **primary)
    assert result['link']['domains'] == ['~mesh.example', '~corp.example', 'mesh.example', '~.']
    assert host.resolved['wg0']['domain'] == ['~mesh.example', '~corp.example', 'mesh.example', '~.']
    assert 'server=10.9.9.9' in open(result['config_file']).read().splitlines()
    dropin = os.path.join(host.dropins, 'wg-quick@wg0.service.d', 'meshforge-dns-mesh.conf')
    assert 'ExecStartPost=-/usr/sbin/resolvectl domain wg0 ~mesh.example ~corp.example mesh.example ~.\n' in open(dropin).read()
    assert not apply(host, **primary)['changed']
    split = dict(primary)
    split['link_default_route'] = False
    back = apply(host, **split)
    assert back['changed'] and host.resolved['wg0']['domain'] == ['~mesh.example', '~corp.example', 'mesh.example']


def test_without_resolved_the_link_is_left_alone_and_resolv_conf_pointed(host):
    host.systemd = True
    result = apply(host, **RESOLVED)
    assert result['host_resolver'] == 'resolv_conf' and result['resolv_conf'] == 'pointed' and host.resolved is None
    assert not os.path.exists(os.path.join(host.dropins, 'wg-quick@wg0.service.d'))
    assert not apply(host, **RESOLVED)['changed']
    assert apply(host, state='absent', link='wg0')['resolv_conf'] == 'restored'
    assert open(resolver.RESOLV_CONF, 'rb').read() == ORIGINAL
