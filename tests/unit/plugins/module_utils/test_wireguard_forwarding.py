# -*- coding: utf-8 -*-
# Copyright: meshforge.vpn contributors
# GNU General Public License v3.0+ (see https://www.gnu.org/licenses/gpl-3.0.txt)
"""wireguard_interface's ``forwarding`` option against the fake host (fakehost.py), with ``/proc/sys`` and the sysctl
file in its directory: turned on live and for boot in the interface's own call, check mode predicts it and writes
nothing, a second run changes nothing, a file in ansible.posix.sysctl's format is left as it is byte for byte, other
lines are kept, and a bad file path is refused before anything is touched."""

from __future__ import absolute_import, division, print_function

__metaclass__ = type

import os

import pytest

from ansible_collections.meshforge.vpn.plugins.module_utils import files
from ansible_collections.meshforge.vpn.plugins.module_utils.validation import ValidationError
from ansible_collections.meshforge.vpn.plugins.module_utils.wireguard import forwarding
from ansible_collections.meshforge.vpn.plugins.module_utils.wireguard.interface import manage_interface
from ansible_collections.meshforge.vpn.tests.unit.plugins.module_utils.fakehost import (
    FakeHost, check_then_apply, install, params, run, snapshot, write_key)

IPV4, IPV6 = 'net.ipv4.ip_forward', 'net.ipv6.conf.all.forwarding'
# what ansible.posix.sysctl writes (sysctl_set, value 1, one task per key): key=value lines, nothing else
POSIX_FORMAT = 'net.ipv4.ip_forward=1\nnet.ipv6.conf.all.forwarding=1\n'


@pytest.fixture
def host(tmp_path, monkeypatch):
    system = install(FakeHost(), str(tmp_path), monkeypatch)
    # under the fake host's directory: check_then_apply's snapshot proves check mode writes neither
    system.proc = os.path.join(system.dir, 'proc')
    monkeypatch.setattr(forwarding, 'PROC_DIR', system.proc)
    for key in (IPV4, IPV6):
        files.write_atomic(forwarding.proc_path(key), '0\n', 0o644)
    system.sysctl_file = os.path.join(system.dir, 'sysctl.d', '90-meshforge-vpn.conf')
    write_key(system)
    return system


def live(system, key):
    return files.read_text(forwarding.proc_path(key))


def wanted(system, **options):
    options.setdefault('sysctl_file', system.sysctl_file)
    return params(private_key_file=os.path.join(system.dir, 'wg0.key'), forwarding=options)


def converge(system, params_):
    """Check mode, then the real run (same prediction, check mode writes nothing); a second run and a second check
    change nothing and write nothing."""
    result, _module = check_then_apply(system, manage_interface, params_)
    before = snapshot(system.dir)
    for check_mode in (False, True):
        again, _module, changing = run(system, manage_interface, params_, check_mode=check_mode)
        assert not again['changed'] and not again['forwarding_changed'] and changing == [], again
    assert snapshot(system.dir) == before
    return result


def test_off_to_on_live_and_for_boot_in_the_interface_call(host):
    predicted, _module, _changing = run(host, manage_interface, wanted(host, ipv4=True, ipv6=True), check_mode=True)
    assert predicted['forwarding_changed']
    assert 'sysctl net.ipv4.ip_forward = 0\n' in predicted['diff']['before']
    assert 'sysctl file %s:\n(absent)\n' % host.sysctl_file in predicted['diff']['before']
    assert predicted['diff']['after'].endswith('sysctl file %s:\n%s' % (host.sysctl_file, POSIX_FORMAT))
    result = converge(host, wanted(host, ipv4=True, ipv6=True))
    assert result['changed'] and result['forwarding_changed'] and result['persisted']
    assert live(host, IPV4) == '1\n' and live(host, IPV6) == '1\n'
    assert files.read_text(host.sysctl_file) == POSIX_FORMAT
    assert files.file_mode(host.sysctl_file) == 0o644
    changes = [(r['change'], r['detail']) for r in result['audit']]
    assert ('forwarding enabled', IPV4) in changes and ('forwarding enabled', IPV6) in changes
    assert ('file written', host.sysctl_file) in changes


def test_already_on_changes_and_writes_nothing(host):
    converge(host, wanted(host, ipv4=True, ipv6=True))
    stat = os.stat(host.sysctl_file)
    again, _module, changing = run(host, manage_interface, wanted(host, ipv4=True, ipv6=True))
    assert not again['changed'] and not again['forwarding_changed'] and changing == []
    assert os.stat(host.sysctl_file).st_mtime_ns == stat.st_mtime_ns and os.stat(host.sysctl_file).st_ino == stat.st_ino


@pytest.mark.parametrize('text', [POSIX_FORMAT, 'net.ipv4.ip_forward=1\n', 'net.ipv4.ip_forward = 1\nkernel.x=2'],
                         ids=['both', 'ipv4', 'other spacing, no final newline'])
def test_a_file_ansible_posix_sysctl_wrote_is_left_as_it_is(host, text):
    """A host the old role converged (sysctl task, then the interface) sees no change after the upgrade."""
    converge(host, params(private_key_file=os.path.join(host.dir, 'wg0.key')))
    files.write_atomic(host.sysctl_file, text, 0o644)
    for key in (IPV4, IPV6):
        files.write_atomic(forwarding.proc_path(key), '1\n', 0o644)
    before = snapshot(host.dir)
    for check_mode in (True, False):
        result, _module, changing = run(host, manage_interface, wanted(host, ipv4=True), check_mode=check_mode)
        assert not result['changed'] and not result['forwarding_changed'] and changing == []
    assert snapshot(host.dir) == before


def test_other_lines_are_kept_and_only_the_families_asked_for_are_touched(host):
    text = '# the admin\'s\nvm.swappiness = 10\n; a comment\n\nnet.ipv4.ip_forward = 0\nnet.ipv6.conf.all.forwarding=0\n'
    files.write_atomic(host.sysctl_file, text, 0o600)
    result = converge(host, wanted(host, ipv4=True))
    assert result['forwarding_changed']
    assert files.read_text(host.sysctl_file) == text.replace('net.ipv4.ip_forward = 0', 'net.ipv4.ip_forward=1')
    assert files.file_mode(host.sysctl_file) == 0o600           # an existing file keeps its mode
    assert live(host, IPV4) == '1\n' and live(host, IPV6) == '0\n'   # ipv6 not asked for: never set to 0 or 1


@pytest.mark.parametrize('where', ['live', 'file'])
def test_only_one_half_off_is_repaired(host, where):
    converge(host, wanted(host, ipv4=True))
    if where == 'live':
        files.write_atomic(forwarding.proc_path(IPV4), '0\n', 0o644)
    else:
        files.write_atomic(host.sysctl_file, 'net.ipv4.ip_forward=0\n', 0o644)
    result = converge(host, wanted(host, ipv4=True))
    assert result['changed'] and result['forwarding_changed']
    assert result['persisted'] == (where == 'file') and not result['config_changed']
    assert live(host, IPV4) == '1\n' and files.read_text(host.sysctl_file) == 'net.ipv4.ip_forward=1\n'


def test_no_family_asked_for_reads_and_writes_nothing(host):
    converge(host, wanted(host, ipv4=False))
    assert not os.path.exists(host.sysctl_file) and live(host, IPV4) == '0\n'


@pytest.mark.parametrize('path', ['etc/sysctl.d/x.conf', '/etc/sysctl.d/../x.conf', '/etc//x.conf',
                                  '/etc/sysctl.d/x.conf\nkernel.panic=1', '/etc/sysctl d/x.conf'])
def test_a_bad_file_path_is_refused_before_anything_is_touched(host, path):
    before, state = snapshot(host.dir), host.state()
    with pytest.raises(ValidationError) as error:
        run(host, manage_interface, wanted(host, ipv4=True, sysctl_file=path))
    assert str(error.value).startswith('forwarding.sysctl_file: ')
    assert snapshot(host.dir) == before and host.state() == state and 'wg0' not in host.links


def test_a_symlinked_file_is_refused(host):
    os.makedirs(os.path.dirname(host.sysctl_file))
    os.symlink('/etc/passwd', host.sysctl_file)
    with pytest.raises(ValidationError, match='^forwarding.sysctl_file: .* is a symlink'):
        run(host, manage_interface, wanted(host, ipv4=True))


def test_a_host_without_ipv6_is_told_so_before_anything_is_touched(host):
    os.unlink(forwarding.proc_path(IPV6))
    with pytest.raises(ValidationError, match='^forwarding.ipv6: the host has no net.ipv6.conf.all.forwarding'):
        run(host, manage_interface, wanted(host, ipv4=True, ipv6=True))
    assert live(host, IPV4) == '0\n' and not os.path.exists(host.sysctl_file)


@pytest.mark.parametrize('text,expected', [
    (None, 'net.ipv4.ip_forward=1\n'),
    ('', 'net.ipv4.ip_forward=1\n'),
    ('kernel.x=1', 'kernel.x=1\nnet.ipv4.ip_forward=1\n'),
    ('net.ipv4.ip_forward=1\nnet.ipv4.ip_forward=0\n', 'net.ipv4.ip_forward=1\nnet.ipv4.ip_forward=1\n'),
    ('#net.ipv4.ip_forward=0\n', '#net.ipv4.ip_forward=0\nnet.ipv4.ip_forward=1\n'),
    ('  net.ipv4.ip_forward  =  1  \n', '  net.ipv4.ip_forward  =  1  \n'),
])
def test_render(text, expected):
    assert forwarding.render(text, [IPV4]) == expected
