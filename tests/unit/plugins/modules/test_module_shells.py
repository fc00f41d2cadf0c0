# -*- coding: utf-8 -*-
# Copyright: meshforge.vpn contributors
# GNU General Public License v3.0+ (see https://www.gnu.org/licenses/gpl-3.0.txt)
"""Every module shell that runs on a host, except ipsec_* (test_ipsec_modules.py), end to end: its ``main()`` with
arguments through a real AnsibleModule, its commands answered by the one fake host (runner.on_host).  Each that
changes the host predicts a change in check mode and makes none, makes it for real, and changes nothing when called
again; each fails with fail_json, the driver's message and its keys, and leaves the host as it was."""

from __future__ import absolute_import, division, print_function

__metaclass__ = type

import os

import pytest

from ansible_collections.meshforge.vpn.plugins.module_utils import files
from ansible_collections.meshforge.vpn.plugins.modules import (
    ipam_record, nft_set, nft_table, route, wireguard_info, wireguard_interface, wireguard_key)
from ansible_collections.meshforge.vpn.tests.unit.plugins.modules.runner import on_host, run_module
from ansible_collections.meshforge.vpn.tests.unit.plugins.module_utils.fakehost import (
    PUB_A, PUB_B, FakeHost, install, make_key, make_set, snapshot, underlay, write_key)


@pytest.fixture
def host(tmp_path, monkeypatch):
    """The underlay (fakehost.underlay, managed from 198.18.0.1) with an empty set ``inet meshforge admins``; ``files``
    is where the modules write."""
    fake = on_host(install(underlay(FakeHost()), str(tmp_path / 'host'), monkeypatch), monkeypatch)
    make_set(fake, name='admins')
    fake.files = str(tmp_path / 'files')
    os.mkdir(fake.files)
    return fake


def interface_args(host):
    return {'name': 'wg0', 'addresses': ['10.10.0.1/24'], 'private_key_file': write_key(host),
            'peers': [{'public_key': PUB_B, 'endpoint': '198.51.100.7:51820',
                       'allowed_ips': ['10.10.0.2/32', '172.20.2.0/24']}]}


def tagged(host, protocol):
    return sorted(r['dst'] for r in host.routes if r['protocol'] == protocol)


TABLE = {'name': 'meshforge', 'sets': [{'name': 'admins', 'type': 'ipv4_addr', 'elements': ['198.18.0.1']}],
         'chains': [{'name': 'input', 'type': 'filter', 'hook': 'input', 'priority': 0, 'policy': 'drop', 'rules': [
             {'saddr': '@admins', 'protocol': 'tcp', 'dport': [22], 'action': 'accept'}]}]}

# module, its arguments on the host, what the host holds once they are applied, the result keys check mode predicts
CHANGES = {
    'wireguard_key': (
        wireguard_key, lambda host: {'path': os.path.join(host.files, 'wg0.key')},
        lambda host: os.path.exists(os.path.join(host.files, 'wg0.key')) and host.genkey_count == 1, ['path']),
    'wireguard_interface': (
        wireguard_interface, interface_args,
        lambda host: PUB_B in host.links.get('wg0', {}).get('peers', {}) and tagged(host, '109') == ['172.20.2.0/24'],
        ['peers_added', 'config_changed', 'public_key']),
    'route': (
        route, lambda host: {'routes': [{'dest': '10.80.0.0/16', 'gateway': '198.18.0.9'}],
                             'path': os.path.join(host.files, 'routes')},
        lambda host: tagged(host, '110') == ['10.80.0.0/16'] and os.path.exists(os.path.join(host.files, 'routes')),
        ['added', 'persisted']),
    'nft_table': (
        nft_table, lambda host: dict(TABLE, path=os.path.join(host.files, 'meshforge.nft')),
        lambda host: host.nft[('inet', 'meshforge')]['sets']['admins']['elements'] == {'198.18.0.1'},
        ['action', 'rules_added', 'management_connection', 'persisted']),
    'nft_set': (
        nft_set, lambda host: {'table': 'meshforge', 'name': 'admins', 'elements': ['10.0.0.2']},
        lambda host: host.nft[('inet', 'meshforge')]['sets']['admins']['elements'] == {'10.0.0.2'},
        ['added', 'removed', 'elements']),
    'ipam_record': (
        ipam_record, lambda host: {'path': os.path.join(host.files, 'ipam.fact'), 'records': {'wg0': '10.88.0.5'}},
        lambda host: files.read_text(os.path.join(host.files, 'ipam.fact')) == '{\n  "wg0": "10.88.0.5"\n}\n',
        ['records', 'previous']),
}


def unchanged(host):
    """What the test asserts stays as it is: the host's state and every file."""
    return host.state(), snapshot(host.dir, host.files)


@pytest.mark.parametrize('shell', sorted(CHANGES))
def test_check_mode_predicts_the_change_and_makes_none(host, capsys, shell):
    module, args, done, dummy = CHANGES[shell]
    args = args(host)
    before = unchanged(host)
    predicted, _out = run_module(module, args, capsys, check_mode=True, diff=True)
    assert predicted['changed'] and 'diff' in predicted, predicted
    assert unchanged(host) == before and host.changing_commands() == [] and not done(host)


@pytest.mark.parametrize('shell', sorted(CHANGES))
def test_the_change_is_made_and_a_second_call_changes_nothing(host, capsys, shell):
    module, args, done, keys = CHANGES[shell]
    args = args(host)
    predicted, _out = run_module(module, args, capsys, check_mode=True)
    result, _out = run_module(module, args, capsys)
    assert result['changed'] and done(host), result
    assert dict((k, result[k]) for k in keys) == dict((k, predicted[k]) for k in keys)
    count, before = len(host.changing_commands()), unchanged(host)
    for check_mode in (False, True):
        again, _out = run_module(module, args, capsys, check_mode=check_mode)
        assert not again['changed'], again
    assert len(host.changing_commands()) == count and unchanged(host) == before


def corrupt_record(host):
    with open(os.path.join(host.files, 'ipam.fact'), 'w') as handle:
        handle.write('{"wg0": ')
    return {'path': os.path.join(host.files, 'ipam.fact'), 'records': {'wg0': '10.88.0.5'}}


def without_wg(host):
    host.tools.discard('wg')
    return {'path': os.path.join(host.files, 'wg0.key')}


def refused_by_nft(host):
    host.nft_rejects = '@admins'
    return TABLE


PLANNED = make_key('the key the plan has')

# module, what makes it fail (returns the arguments), how the message starts and the keys the failure carries
# ({files}: where the modules write)
FAILURES = {
    'wireguard_key': (wireguard_key, without_wg,
                      'wg (package wireguard-tools) is not installed on the host (not found in PATH)',
                      {'missing_tools': True}),
    'wireguard_interface': (wireguard_interface, lambda host: dict(interface_args(host), expected_public_key=PLANNED),
                            'expected_public_key: the host has the public key %s, not %s' % (PUB_A, PLANNED),
                            {'key_mismatch': True, 'public_key': PUB_A}),
    'wireguard_info': (wireguard_info, lambda host: {'name': 'wg0;reboot'}, 'name: ', {'field': 'name'}),
    'route': (route, lambda host: {'routes': [{'dest': '198.18.0.0/25', 'gateway': '198.18.0.9'}]},
              'routes[0].dest: 198.18.0.0/25 via 198.18.0.9 table main metric 0 would capture the management '
              'connection from 198.18.0.1', {'field': 'routes[0].dest'}),
    'nft_table': (nft_table, refused_by_nft,
                  '/usr/sbin/nft --check -f - failed (rc=1): Error: syntax error, unexpected @admins', {'rc': 1}),
    'nft_set': (nft_set, lambda host: {'table': 'meshforge', 'name': 'web', 'elements': ['10.0.0.2']},
                'name: set inet meshforge web does not exist; define it with meshforge.vpn.nft_table',
                {'field': 'name'}),
    'ipam_record': (ipam_record, corrupt_record, '{files}/ipam.fact: is not a JSON local fact: ',
                    {'field': '{files}/ipam.fact'}),
}


@pytest.mark.parametrize('shell', sorted(FAILURES))
def test_a_failure_is_fail_json_with_the_driver_s_message_and_leaves_the_host_as_it_was(host, capsys, shell):
    module, failing, message, keys = FAILURES[shell]
    args = failing(host)
    message = message.format(files=host.files)
    keys = dict((k, v.format(files=host.files) if isinstance(v, str) else v) for k, v in keys.items())
    before = unchanged(host)
    for check_mode in (True, False):
        result, _out = run_module(module, args, capsys, check_mode=check_mode)
        assert result['failed'] and result['msg'].startswith(message), result
        assert dict((k, result.get(k)) for k in keys) == keys, result
    assert unchanged(host) == before and host.changing_commands() == []


def test_a_corrupt_ipam_record_says_it_is_left_as_it_is(host, capsys):
    result, _out = run_module(ipam_record, corrupt_record(host), capsys)
    assert result['msg'].endswith('; fix or remove it (the record is left as it is)')


def test_wireguard_info_reads_the_live_interface_and_never_changes_it(host, capsys):
    assert run_module(wireguard_interface, interface_args(host), capsys)[0]['changed']
    host.handshake('wg0', PUB_B, age=30)
    before, count = unchanged(host), len(host.changing_commands())
    results = [run_module(wireguard_info, args, capsys, check_mode=check_mode)[0]
               for args in ({}, {'name': 'wg0'}) for check_mode in (False, True)]
    assert [r['interfaces'] for r in results] == [results[0]['interfaces']] * 4
    assert [r['changed'] for r in results] == [False] * 4
    wg0 = results[0]['interfaces']['wg0']
    assert (wg0['public_key'], wg0['peers_total'], wg0['peers_connected']) == (PUB_A, 1, 1)
    assert run_module(wireguard_info, {'name': 'wg7'}, capsys)[0]['interfaces'] == {}
    assert unchanged(host) == before and len(host.changing_commands()) == count
