# -*- coding: utf-8 -*-
# Copyright: meshforge.vpn contributors
# GNU General Public License v3.0+ (see https://www.gnu.org/licenses/gpl-3.0.txt)
"""The wireguard_clients action: key pairs made once, files written only when their text changes, removal."""

from __future__ import absolute_import, division, print_function

__metaclass__ = type

import os
import stat


from ansible_collections.meshforge.vpn.plugins.action import wireguard_clients
from ansible_collections.meshforge.vpn.plugins.plugin_utils import topology
from ansible_collections.meshforge.vpn.tests.unit.plugins.plugin_utils.test_topology import SETTINGS, members
from ansible_collections.meshforge.vpn.tests.unit.plugins.action.runner import run_action

SECRET = 'a secret of at least sixteen characters'


def args(tmp_path, state, clients, plans=None, **more):
    return dict({'state': state, 'clients': clients, 'members': ['a', 'b'], 'plans': plans or {},
                 'keys_dir': str(tmp_path / 'keys'), 'output_dir': str(tmp_path / 'out')}, **more)


def _run(task_args, check_mode, diff):
    return run_action(wireguard_clients.ActionModule, task_args, {}, check_mode, diff)


def mode(path):
    return stat.S_IMODE(os.stat(str(path)).st_mode)


def test_a_key_pair_is_made_once_0600_and_only_its_public_key_is_returned(tmp_path):
    client = {'name': 'phone', 'gateway': 'a', 'generate_key': True}
    predicted = _run(args(tmp_path, 'keys', [client]), True, False)
    assert predicted['changed'] and predicted['generated'] == ['phone'] and not (tmp_path / 'keys').exists()
    made = _run(args(tmp_path, 'keys', [client]), False, False)
    private = (tmp_path / 'keys' / 'phone.key').read_text().strip()
    assert made['changed'] and mode(tmp_path / 'keys' / 'phone.key') == 0o600 and mode(tmp_path / 'keys') == 0o700
    assert made['public_keys']['phone'] == wireguard_clients.public_key(private) and private not in str(made)
    again = _run(args(tmp_path, 'keys', [client]), False, False)
    assert not again['changed'] and again['public_keys'] == made['public_keys']


def test_files_are_written_once_with_qr_codes_and_removed_with_state_absent(tmp_path):
    client = {'name': 'phone', 'gateway': 'a', 'generate_key': True}
    keys = _run(args(tmp_path, 'keys', [client]), False, False)['public_keys']
    plans = topology.plan_mesh(members(['a', 'b']), dict(SETTINGS, clients=[client], client_keys=keys,
                                                         client_addresses={'phone': {'wg0': '10.88.0.40'}}))
    task = args(tmp_path, 'present', [client], plans, psk_secret=SECRET)
    predicted = _run(task, True, True)
    assert predicted['changed'] and predicted['written'] == ['phone'] and not (tmp_path / 'out').exists()
    done = _run(task, False, True)
    conf = (tmp_path / 'out' / 'phone.conf').read_text()
    private = (tmp_path / 'keys' / 'phone.key').read_text().strip()
    assert 'PrivateKey = ' + private in conf and 'PresharedKey = ' in conf and 'Address = 10.88.0.40/32' in conf
    assert all(mode(tmp_path / 'out' / ('phone' + s)) == 0o600 for s in ('.conf', '.png', '.txt'))
    assert (tmp_path / 'out' / 'phone.png').read_bytes()[:4] == b'\x89PNG'
    assert private not in str(done) and 'PresharedKey' not in str(done)
    assert not _run(task, False, False)['changed']
    gone = args(tmp_path, 'present', [{'name': 'phone', 'state': 'absent'}])
    assert _run(gone, False, False)['removed'] == ['phone']
    assert not os.listdir(str(tmp_path / 'out')) and not (tmp_path / 'keys' / 'phone.key').exists()
    assert not _run(gone, False, False)['changed']


def test_a_fallback_gateway_gets_its_own_file_removed_when_the_client_loses_it(tmp_path):
    client = {'name': 'phone', 'gateway': ['a', 'b'], 'generate_key': True}
    keys = _run(args(tmp_path, 'keys', [client]), False, False)['public_keys']

    def present(entry):
        plans = topology.plan_mesh(members(['a', 'b']), dict(SETTINGS, clients=[entry], client_keys=keys,
                                                             client_addresses={'phone': {'wg0': '10.88.0.40'}}))
        return _run(args(tmp_path, 'present', [entry], plans), False, False)

    assert present(client)['written'] == ['phone', 'phone-2']
    first, second = ((tmp_path / 'out' / n).read_text() for n in ('phone.conf', 'phone-2.conf'))
    assert 'Endpoint = 198.18.1.10:51820' in first and 'Endpoint = 198.18.1.11:51820' in second
    assert first.split('[Peer]')[0].replace('through a', 'through b') == second.split('[Peer]')[0]
    # a client named like the fallback file is never a victim: only phone's own fallback files go
    (tmp_path / 'out' / 'phone-3.conf').write_text('stale')
    single = dict(client, gateway='a')
    done = present(single)
    assert done['removed'] == ['phone-2', 'phone-3'] and sorted(os.listdir(str(tmp_path / 'out'))) == [
        'phone.conf', 'phone.png', 'phone.txt']
    assert not present(single)['changed']


def test_clients_without_dns_get_the_default_and_their_own_dns_wins(tmp_path):
    own = {'name': 'phone', 'gateway': 'a', 'public_key': topology.placeholder_key('phone'), 'dns': ['10.0.0.53']}
    bare = {'name': 'tab', 'gateway': 'a', 'public_key': topology.placeholder_key('tab')}
    plans = topology.plan_mesh(members(['a', 'b']), dict(SETTINGS, clients=[own, bare], client_addresses={
        'phone': {'wg0': '10.88.0.40'}, 'tab': {'wg0': '10.88.0.41'}}))
    done = _run(args(tmp_path, 'present', [own, bare], plans, default_dns=['10.88.0.1', 'Mesh.Example.']), False, False)
    assert done['written'] == ['phone', 'tab']
    assert 'DNS = 10.0.0.53\n' in (tmp_path / 'out' / 'phone.conf').read_text()
    assert 'DNS = 10.88.0.1, mesh.example\n' in (tmp_path / 'out' / 'tab.conf').read_text()
    bad = _run(args(tmp_path, 'present', [bare], plans, default_dns=['mesh.example\nPostUp = x']), False, False)
    assert bad['failed'] and 'default_dns[0]' in bad['msg'] and 'neither an address nor a DNS name' in bad['msg']
