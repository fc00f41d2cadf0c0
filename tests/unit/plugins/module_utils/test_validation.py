# -*- coding: utf-8 -*-
# Copyright: meshforge.vpn contributors
# GNU General Public License v3.0+ (see https://www.gnu.org/licenses/gpl-3.0.txt)
"""Unit tests of module_utils/validation.py: every check names its field, and returns the normal form."""

from __future__ import absolute_import, division, print_function

__metaclass__ = type

import base64
import ipaddress
import os

import pytest
from hypothesis import given, strategies as st

from ansible_collections.meshforge.vpn.plugins.module_utils import validation as v
from ansible_collections.meshforge.vpn.plugins.module_utils.validation import ValidationError

KEY = base64.b64encode(bytes(range(32))).decode()

# Everything str.splitlines() treats as a line boundary: a line break to some reader of the file.
LINE_BREAKS = ['\n', '\r', '\r\n', '\x0b', '\x0c', '\x1c', '\x1d', '\x1e', '\x85', '\u2028', '\u2029']


def raises_for(field, func, *args, **kwargs):
    with pytest.raises(ValidationError) as info:
        func(field, *args, **kwargs)
    assert info.value.field == field
    assert str(info.value).startswith(field + ': ')
    return info.value


# ------------------------------------------------------------------ names --

@pytest.mark.parametrize('name', ['wg0', 'a', 'wg_mesh.1', 'x' * 15, 'tun+=_.-9'])
def test_interface_name_accepts(name):
    assert v.interface_name('name', name) == name


@pytest.mark.parametrize('name', ['', 'x' * 16, 'wg 0', 'wg/0', 'wg:0', 'wg0\n', 'wg;rm', 'wg$0', 'wg\u00e9',
                                  '-f', '--foreground', '.', '..'])
def test_interface_name_refuses(name):
    raises_for('name', v.interface_name, name)


def test_interface_name_refuses_non_strings():
    error = raises_for('name', v.interface_name, 0)
    assert 'expected a string' in error.problem


# -------------------------------------------------------------- free text --

@pytest.mark.parametrize('text', ['branch-1', 'laptop of Ann (2024)', 'a = b # c', 'caf\u00e9', ''])
def test_free_text_accepts(text):
    assert v.free_text('description', text) == text


@pytest.mark.parametrize('text', ['a\nb', 'a\rb', 'x\x00', '[Peer]', 'x]', '{{ x }}', 'tab\there', 'del\x7f'] +
                         ['a%sPublicKey = x' % brk for brk in LINE_BREAKS])
def test_free_text_refuses_line_breaks_sections_and_control_characters(text):
    raises_for('peers[0].description', v.free_text, text)


def test_free_text_length():
    assert v.free_text('d', 'x' * 255) == 'x' * 255
    error = raises_for('d', v.free_text, 'x' * 256)
    assert '255' in error.problem


@given(st.text())
def test_free_text_never_accepts_a_line_break_or_section(text):
    try:
        accepted = v.free_text('d', text)
    except ValidationError as exc:
        assert exc.field == 'd'
        return
    assert accepted == text
    assert len(accepted.splitlines()) <= 1
    assert '[' not in accepted and ']' not in accepted


# -------------------------------------------------------------------- keys --

def test_wireguard_key_accepts_and_strips():
    assert v.wireguard_key('k', KEY) == KEY
    assert v.wireguard_key('k', ' %s\n' % KEY) == KEY


@pytest.mark.parametrize('value', [
    base64.b64encode(b'x' * 31).decode(),       # 31 bytes
    base64.b64encode(b'x' * 33).decode(),       # 33 bytes
    KEY[:-1],                                   # truncated
    KEY[:-2] + '!=',                            # not base64
    KEY.rstrip('=') ,                           # missing padding
    '',
    'not a key',
])
def test_wireguard_key_refuses(value):
    raises_for('peers[2].public_key', v.wireguard_key, value)


def test_wireguard_key_refuses_none():
    raises_for('peers[0].public_key', v.wireguard_key, None)


@given(st.binary(min_size=0, max_size=64))
def test_wireguard_key_accepts_exactly_32_bytes(raw):
    text = base64.b64encode(raw).decode()
    if len(raw) == 32:
        assert v.wireguard_key('k', text) == text
    else:
        raises_for('k', v.wireguard_key, text)


# ------------------------------------------------------------------- ports --

@pytest.mark.parametrize('value,expected', [(1, 1), (51820, 51820), ('51820', 51820), (65535, 65535)])
def test_port_accepts(value, expected):
    assert v.port('listen_port', value) == expected


@pytest.mark.parametrize('value', [0, -1, 65536, 70000, '0x10', '051820', 'abc', None, True, 1.5, ''])
def test_port_refuses(value):
    raises_for('listen_port', v.port, value)


def test_port_zero_when_allowed():
    assert v.port('listen_port', 0, allow_zero=True) == 0
    raises_for('listen_port', v.port, 65536, allow_zero=True)


@pytest.mark.parametrize('value', [-1, 65536, 'x', True, None])
def test_integer_refuses(value):
    raises_for('mtu', v.integer, value, 0, 65535)


def test_integer_accepts():
    assert v.integer('mtu', '1420', 576, 65535) == 1420


# ----------------------------------------------------------- address math --

@pytest.mark.parametrize('value,expected', [('10.0.0.0/24', '10.0.0.0/24'), ('fd10::/64', 'fd10::/64'),
                                            (' 0.0.0.0/0 ', '0.0.0.0/0'), ('FD10:0::/64', 'fd10::/64')])
def test_prefix_accepts(value, expected):
    assert str(v.prefix('allowed_ips[0]', value)) == expected


@pytest.mark.parametrize('value', ['10.0.0.1/24', '10.0.0.0/33', '10.0.0.0', '300.0.0.0/8', 'fd10::1/64', 'x/24', ''])
def test_prefix_refuses(value):
    raises_for('peers[0].allowed_ips[1]', v.prefix, value)


@pytest.mark.parametrize('value,expected', [('10.0.0.1/24', '10.0.0.1/24'), ('10.0.0.1', '10.0.0.1/32'),
                                            ('fd10::1/64', 'fd10::1/64'), ('fd10::', 'fd10::/128'),
                                            ('10.0.0.0/31', '10.0.0.0/31')])
def test_interface_address_accepts(value, expected):
    assert str(v.interface_address('addresses[0]', value)) == expected


@pytest.mark.parametrize('value', ['10.0.0.0/24', '10.0.0.1/33', 'wg0', '10.0.0.256/24'])
def test_interface_address_refuses(value):
    raises_for('addresses[0]', v.interface_address, value)


def test_network_and_address():
    assert v.network('n', '10.1.0.0/16') == ipaddress.ip_network('10.1.0.0/16')
    raises_for('n', v.network, '10.1.0.1/16')
    assert v.address('a', '10.1.0.1') == ipaddress.ip_address('10.1.0.1')
    raises_for('a', v.address, '10.1.0.1/32')


# --------------------------------------------------------------- endpoints --

@pytest.mark.parametrize('value,expected', [
    ('198.51.100.7:51820', '198.51.100.7:51820'),
    (' 198.51.100.7:51820 ', '198.51.100.7:51820'),
    ('[2001:DB8:0::1]:51820', '[2001:db8::1]:51820'),
    ('[::1]:1', '[::1]:1'),
    ('vpn.example.com:51820', 'vpn.example.com:51820'),
    ('hub-1:443', 'hub-1:443'),
])
def test_endpoint_accepts_and_normalises(value, expected):
    assert v.endpoint('peers[0].endpoint', value) == expected


@pytest.mark.parametrize('value,problem', [
    ('198.51.100.7', 'no port'),
    ('vpn.example.com', 'no port'),
    ('2001:db8::1:51820', 'IPv6'),
    ('2001:db8::1', 'IPv6'),
    ('[vpn.example.com]:51820', 'IPv6'),
    ('[10.0.0.1]:51820', 'IPv6'),
    ('198.51.100.7:0', 'out of range'),
    ('198.51.100.7:65536', 'out of range'),
    ('198.51.100.7:port', 'not a port'),
    ('bad host:51820', 'neither'),
    ('-x.example:51820', 'neither'),
    ('host\n[Peer]:51820', ''),
    ('', 'no port'),
])
def test_endpoint_refuses(value, problem):
    error = raises_for('peers[3].endpoint', v.endpoint, value)
    assert problem in error.problem


hostnames = st.from_regex(r'\A[a-z][a-z0-9-]{0,20}[a-z0-9](\.[a-z][a-z0-9-]{0,20}[a-z0-9]){0,3}\Z')
ports = st.integers(min_value=1, max_value=65535)


@given(st.one_of(st.ip_addresses().map(str), hostnames), ports)
def test_endpoint_round_trips(host, number):
    text = v.format_endpoint(host, number)
    normal = v.endpoint('e', text)
    assert v.endpoint('e', normal) == normal
    assert normal.endswith(':%d' % number)
    if ':' in host:
        assert normal.startswith('[')
        assert ipaddress.ip_address(normal[1:normal.index(']')]) == ipaddress.ip_address(host)
    else:
        assert normal == text


@given(st.ip_addresses(v=6), ports)
def test_endpoint_ipv6_without_brackets_is_refused(address, number):
    error = raises_for('e', v.endpoint, '%s:%d' % (address, number))
    assert 'IPv6' in error.problem or 'port' in error.problem


# -------------------------------------------------------------- the rest --

@pytest.mark.parametrize('value,expected', [(None, 0), ('off', 0), (0, 0), ('0', 0), ('0x1', 1), ('51820', 51820),
                                            (0xffffffff, 0xffffffff)])
def test_fwmark_accepts(value, expected):
    assert v.fwmark('fwmark', value) == expected


@pytest.mark.parametrize('value', ['on', '-1', '0x100000000', 'ca fe'])
def test_fwmark_refuses(value):
    raises_for('fwmark', v.fwmark, value)


@pytest.mark.parametrize('value', ['/etc/wireguard/wg0.key', '/etc/wireguard/psk/hub-1_spoke.2@x+y=z,1:2.psk'])
def test_absolute_path_accepts(value):
    assert v.absolute_path('private_key_file', value) == value


@pytest.mark.parametrize('value', ['etc/wireguard/wg0.key', '/etc/wire guard', '/etc/[Peer]', '/etc/x\ny',
                                   # these reach a wg-quick PostUp line, which bash evaluates
                                   '/tmp/$(reboot)', '/tmp/`reboot`', '/tmp/a;reboot', '/tmp/a|b', '/tmp/a&b',
                                   '/tmp/*', '/tmp/a?', "/tmp/'a'", '/tmp/"a"', '/tmp/a>b', '/tmp/a\\b',
                                   # wg-quick cuts a line at '#' and replaces %i
                                   '/tmp/a#b', '/etc/wireguard/%i.key', '', None,
                                   # a path says where it leads: no . or .. component, no empty one
                                   '/etc/wireguard/../shadow', '/etc/wireguard/..', '/etc/./wireguard/wg0.key',
                                   '/etc//wireguard/wg0.key', '/etc/wireguard/', '/..'])
def test_absolute_path_refuses(value):
    raises_for('private_key_file', v.absolute_path, value)


def test_host_path_follows_trusted_links_and_refuses_the_rest(tmp_path):
    real = tmp_path / 'real'
    real.mkdir()
    (tmp_path / 'real' / 'wg0.key').write_text('x')
    os.symlink(str(real), str(tmp_path / 'link'))
    # a link root made in a directory only root can change (like /var/run -> /run): followed
    os.chmod(str(tmp_path), 0o755)
    assert v.host_path('path', '%s/link/wg0.key' % tmp_path) == '%s/link/wg0.key' % tmp_path
    assert v.host_path('path', '%s/link/new/file' % tmp_path)
    # the file itself a link: refused
    os.symlink(str(real / 'wg0.key'), str(real / 'alias.key'))
    assert 'is a symlink;' in raises_for('path', v.host_path, '%s/real/alias.key' % tmp_path).problem
    # a directory others may write (not sticky): its links could be anyone's
    os.chmod(str(tmp_path), 0o777)
    assert 'another user' in raises_for('path', v.host_path, '%s/link/wg0.key' % tmp_path).problem
    os.chmod(str(tmp_path), 0o1777)
    assert v.host_path('path', '%s/link/wg0.key' % tmp_path)
    os.chmod(str(tmp_path), 0o755)


def test_host_path_refuses_a_link_another_user_owns(tmp_path):
    os.symlink('/etc', str(tmp_path / 'etc'))
    real_lstat = os.lstat

    def lstat(path):
        info = real_lstat(path)
        if path.endswith('/etc') and path.startswith(str(tmp_path)):
            return os.stat_result((info.st_mode, info.st_ino, info.st_dev, info.st_nlink, 1000) + tuple(info)[5:])
        return info
    assert 'owner uid 1000' in raises_for('path', v.host_path, '%s/etc/passwd' % tmp_path, lstat=lstat).problem
    assert v.host_path('path', '%s/etc/passwd' % tmp_path, lstat=lstat, euid=1000)


def test_validation_error_is_a_value_error():
    error = ValidationError('peers[1].endpoint', 'bad')
    assert isinstance(error, ValueError)
    assert (error.field, error.problem, str(error)) == ('peers[1].endpoint', 'bad', 'peers[1].endpoint: bad')
