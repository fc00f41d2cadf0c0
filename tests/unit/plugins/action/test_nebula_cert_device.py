# -*- coding: utf-8 -*-
# Copyright: meshforge.vpn contributors
# GNU General Public License v3.0+ (see https://www.gnu.org/licenses/gpl-3.0.txt)
"""nebula_cert for a device outside the inventory (name device:<name>), with the real nebula-cert: its certificate in
devices/ (never a member's file), its bundle 0600 in a 0700 directory, a configuration nebula can run (pki paths in
the device's directory, listen port 0, the lighthouses), written only when it changes, check mode predicting, a diff
that shows the configuration and no key, revocation by name and state=absent removing both."""

from __future__ import absolute_import, division, print_function

__metaclass__ = type

import json
import os
import shutil
import subprocess

import pytest
import yaml

from ansible_collections.meshforge.vpn.plugins.module_utils import files
from ansible_collections.meshforge.vpn.tests.unit.plugins.action.test_nebula_cert_action import public_key, run

pytestmark = pytest.mark.skipif(shutil.which('nebula-cert') is None, reason='nebula-cert (package nebula) is missing')

OPTIONS = {'listen_port': 0, 'am_lighthouse': False, 'am_relay': False, 'lighthouses': ['10.42.0.1'],
           'relays': ['10.42.0.1'], 'static_host_map': {'10.42.0.1': ['198.18.0.11:4242']},
           'inbound': [{'port': 'any', 'proto': 'icmp', 'host': 'any'}],
           'outbound': [{'port': 'any', 'proto': 'any', 'host': 'any'}], 'blocklist': []}


def test_a_device_gets_its_certificate_and_a_bundle_it_runs_as_is(tmp_path):
    inventory = tmp_path / 'inventory'
    inventory.mkdir()
    task_vars = {'inventory_dir': str(inventory)}
    device_key = str(tmp_path / 'laptop1.key')
    args = {'network': 'mesh', 'name': 'device:laptop1', 'address': '10.42.0.9/24', 'groups': ['web'],
            'public_key': public_key(tmp_path, 'laptop1'), 'duration': '720h',
            'bundle': dict(OPTIONS, config_dir='/etc/nebula/mesh')}
    bundle = str(inventory / 'nebula-devices' / 'mesh' / 'laptop1')
    predicted = run(args, task_vars, check_mode=True, diff=True)
    assert predicted['changed'] and not os.path.exists(bundle)
    done = run(args, task_vars, diff=True)
    assert done['changed'] and done['bundle_dir'] == bundle and done['bundle_files'] == ['.', 'ca.crt', 'config.yml', 'host.crt']
    ca_dir = done['ca_dir']
    assert os.path.exists(os.path.join(ca_dir, 'devices', 'laptop1.crt'))
    assert not os.path.exists(os.path.join(ca_dir, 'hosts'))
    assert files.file_mode(bundle) == 0o700 and sorted(os.listdir(bundle)) == ['ca.crt', 'config.yml', 'host.crt']
    assert all(files.file_mode(os.path.join(bundle, name)) == 0o600 for name in os.listdir(bundle))
    text = files.read_text(os.path.join(bundle, 'config.yml'))
    config = yaml.safe_load(text)
    assert config['pki'] == {'ca': '/etc/nebula/mesh/ca.crt', 'cert': '/etc/nebula/mesh/host.crt',
                             'key': '/etc/nebula/mesh/host.key'}
    assert config['listen']['port'] == 0 and config['lighthouse']['hosts'] == ['10.42.0.1']
    assert config['relay'] == {'am_relay': False, 'use_relays': True, 'relays': ['10.42.0.1']}
    assert config['static_host_map'] == {'10.42.0.1': ['198.18.0.11:4242']} and 'sshd' not in config
    assert text.startswith('# meshforge.vpn: Nebula network mesh, device laptop1') and 'never had it' in text
    assert files.read_text(os.path.join(bundle, 'host.crt')) == done['certificate']
    # the device's private key is nowhere in what the controller wrote or returned
    secret = files.read_text(device_key).splitlines()[1]
    assert secret not in json.dumps([predicted, done]) and 'PRIVATE' not in json.dumps(done)
    assert not any(secret in files.read_text(os.path.join(bundle, name)) for name in os.listdir(bundle))
    assert done['diff']['after'].startswith('# meshforge.vpn') and '# ca.crt: written' in done['diff']['after']
    # nebula-cert accepts the bundle's certificate with the bundle's CA
    subprocess.run(['nebula-cert', 'verify', '-ca', os.path.join(bundle, 'ca.crt'), '-crt',
                    os.path.join(bundle, 'host.crt')], check=True)
    for check_mode in (True, False):
        again = run(args, task_vars, check_mode=check_mode, diff=True)
        assert not again['changed'] and again['bundle_files'] == [] and 'diff' not in again
    # a new lighthouse: only the configuration is written again, the certificate stays
    moved = dict(args, bundle=dict(args['bundle'], lighthouses=['10.42.0.1', '10.42.0.2'],
                                   static_host_map={'10.42.0.1': ['198.18.0.11:4242'], '10.42.0.2': ['198.18.0.12:4242']}))
    predicted = run(moved, task_vars, check_mode=True, diff=True)
    assert predicted['changed'] and predicted['bundle_files'] == ['config.yml'] and not predicted['signed']
    changed = run(moved, task_vars, diff=True)
    assert changed['bundle_files'] == ['config.yml'] and changed['fingerprint'] == done['fingerprint']
    assert '10.42.0.1' in changed['diff']['before'] and '10.42.0.2' in changed['diff']['after']
    os.chmod(bundle, 0o755)
    assert run(moved, task_vars)['changed'] and files.file_mode(bundle) == 0o700
    # revoked by name: its fingerprint in the record under device:laptop1
    revoked = run({'network': 'mesh', 'state': 'revoked', 'revoke': ['device:laptop1']}, task_vars)
    assert revoked['changed'] and revoked['revoked'] == [{'fingerprint': done['fingerprint'], 'name': 'device:laptop1'}]
    gone = {'network': 'mesh', 'name': 'device:laptop1', 'state': 'absent'}
    assert run(gone, task_vars, check_mode=True)['changed'] and os.path.exists(bundle)
    assert run(gone, task_vars)['changed'] and not os.path.exists(bundle)
    assert not os.path.exists(os.path.join(ca_dir, 'devices', 'laptop1.crt'))
    assert not run(gone, task_vars)['changed']


def test_a_device_needs_its_bundle_options_and_clean_values(tmp_path):
    task_vars = {'inventory_dir': str(tmp_path)}
    args = {'network': 'mesh', 'name': 'device:laptop1', 'address': '10.42.0.9/24', 'public_key': public_key(tmp_path, 'd')}
    missing = run(args, task_vars)
    assert missing['failed'] and missing['msg'].startswith('meshforge.vpn.nebula_cert: bundle:')
    bad = run(dict(args, name='device:../x', bundle=OPTIONS), task_vars)
    assert bad['failed'] and 'name:' in bad['msg']
    relative = run(dict(args, bundle=dict(OPTIONS, config_dir='etc/nebula')), task_vars)
    assert relative['failed'] and 'bundle.config_dir' in relative['msg']
    injected = run(dict(args, bundle=dict(OPTIONS, lighthouses=['10.42.0.1\nlisten: {port: 1}'])), task_vars)
    assert injected['failed'] and 'lighthouses[0]' in injected['msg']
    assert not os.path.exists(str(tmp_path / 'nebula-devices'))
