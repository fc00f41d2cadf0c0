# -*- coding: utf-8 -*-
# Copyright: meshforge.vpn contributors
# GNU General Public License v3.0+ (see https://www.gnu.org/licenses/gpl-3.0.txt)
"""The nebula_cert action with the real nebula-cert (package nebula, installed by tests/setup.sh): the CA made once
beside the inventory (key 0600, directory 0700), a certificate signed from a public key only and signed again only
when what it says changes, check mode, no CA key in any result, and bad values refused by option name first."""

from __future__ import absolute_import, division, print_function

__metaclass__ = type

import datetime
import json
import os
import shutil
import subprocess

import pytest


from ansible_collections.meshforge.vpn.plugins.action.nebula_cert import ActionModule
from ansible_collections.meshforge.vpn.plugins.module_utils import files
from ansible_collections.meshforge.vpn.plugins.plugin_utils import nebula_pki
from ansible_collections.meshforge.vpn.tests.unit.plugins.action.runner import run_action

pytestmark = pytest.mark.skipif(shutil.which('nebula-cert') is None, reason='nebula-cert (package nebula) is missing')


def public_key(tmp_path, name):
    key, pub = str(tmp_path / (name + '.key')), str(tmp_path / (name + '.pub'))
    subprocess.run(['nebula-cert', 'keygen', '-out-key', key, '-out-pub', pub], check=True)
    return files.read_text(pub)


def run(args, task_vars, check_mode=False, diff=False):
    return run_action(ActionModule, args, task_vars, check_mode, diff)


def describe(path):
    return json.loads(subprocess.run(['nebula-cert', 'print', '-json', '-path', path], check=True,
                                     stdout=subprocess.PIPE).stdout)['details']


def test_the_ca_is_made_once_and_certificates_are_signed_from_public_keys(tmp_path):
    inventory = tmp_path / 'inventory'
    inventory.mkdir()
    task_vars = {'inventory_dir': str(inventory)}
    args = {'network': 'mesh', 'name': 'web1', 'address': '10.42.0.2/24', 'groups': ['web', 'servers'],
            'public_key': public_key(tmp_path, 'web1'), 'duration': '720h'}
    unknown = run(dict(args, public_key=None), task_vars, check_mode=True)
    assert unknown['changed'] and unknown['signed'] and unknown['ca_created']
    predicted = run(args, task_vars, check_mode=True, diff=True)
    assert predicted['changed'] and predicted['ca_created'] and predicted['signed']
    assert predicted['certificate'] is None and not os.path.exists(str(inventory / 'nebula-ca'))
    done = run(args, task_vars, diff=True)
    ca_dir = str(inventory / 'nebula-ca' / 'mesh')
    assert done['changed'] and done['ca_dir'] == ca_dir and done['ca_created'] and done['signed']
    assert sorted(os.listdir(ca_dir)) == ['ca.crt', 'ca.key', 'ca.lock', 'hosts']   # ca.lock: one run at a time
    assert files.file_mode(ca_dir) == 0o700 and files.file_mode(os.path.join(ca_dir, 'ca.key')) == 0o600
    ca_key = files.read_text(os.path.join(ca_dir, 'ca.key'))
    assert ca_key.splitlines()[1] not in json.dumps([predicted, done])
    details = describe(os.path.join(ca_dir, 'hosts', 'web1.crt'))
    assert details['name'] == 'web1' and details['ips'] == ['10.42.0.2/24']
    assert sorted(details['groups']) == ['servers', 'web'] and done['certificate'].startswith('-----BEGIN NEBULA CERT')
    for check_mode in (True, False):
        again = run(args, task_vars, check_mode=check_mode)
        assert not again['changed'] and again['fingerprint'] == done['fingerprint']
    regrouped = run(dict(args, groups=['web']), task_vars)
    assert regrouped['changed'] and not regrouped['ca_created'] and regrouped['fingerprint'] != done['fingerprint']
    assert done['replaced'] is None and regrouped['replaced'] == done['fingerprint']
    assert describe(os.path.join(ca_dir, 'hosts', 'web1.crt'))['groups'] == ['web']
    rekeyed = run(dict(args, groups=['web'], public_key=public_key(tmp_path, 'new')), task_vars)
    assert rekeyed['changed'] and not rekeyed['ca_created']
    assert files.read_text(os.path.join(ca_dir, 'ca.key')) == ca_key
    gone = {'network': 'mesh', 'name': 'web1', 'state': 'absent'}
    predicted = run(gone, task_vars, check_mode=True, diff=True)
    assert predicted['changed'] and os.path.exists(os.path.join(ca_dir, 'hosts', 'web1.crt'))
    assert run(gone, task_vars)['changed'] and not os.path.exists(os.path.join(ca_dir, 'hosts', 'web1.crt'))
    assert not run(gone, task_vars)['changed'] and os.path.exists(os.path.join(ca_dir, 'ca.key'))


def test_an_expired_certificate_is_signed_again(tmp_path):
    ca = nebula_pki.CA(str(tmp_path / 'ca'))
    want = nebula_pki.validate({'network': 'mesh', 'name': 'db1', 'address': '10.42.0.3/24', 'groups': ['db'],
                                'public_key': public_key(tmp_path, 'db1'), 'duration': '1h', 'ca_duration': '48h'})
    first = nebula_pki.ensure(ca, want, dry_run=False)
    later = datetime.datetime.now(datetime.timezone.utc) + datetime.timedelta(hours=2)
    assert nebula_pki.ensure(ca, want, dry_run=True, now=later)['signed']
    assert not nebula_pki.ensure(ca, want, dry_run=True)['signed'] and first['signed']


def test_a_certificate_is_signed_again_within_renew_before_of_its_expiry(tmp_path):
    ca = nebula_pki.CA(str(tmp_path / 'ca'))
    args = {'network': 'mesh', 'name': 'db1', 'address': '10.42.0.3/24', 'groups': ['db'],
            'public_key': public_key(tmp_path, 'db1'), 'duration': '1h', 'ca_duration': '48h', 'renew_before': '30m'}
    want = nebula_pki.validate(args)
    first = nebula_pki.ensure(ca, want, dry_run=False)
    now = datetime.datetime.now(datetime.timezone.utc)
    assert not nebula_pki.ensure(ca, want, dry_run=True, now=now + datetime.timedelta(minutes=25))['signed']
    assert nebula_pki.ensure(ca, want, dry_run=True, now=now + datetime.timedelta(minutes=35))['signed']
    renewed = nebula_pki.ensure(ca, want, dry_run=False, now=now + datetime.timedelta(minutes=35))
    assert renewed['signed'] and first['signed'] and not renewed['ca_created']
    assert nebula_pki.ensure(ca, dict(want, renew_before=0), dry_run=True)['signed'] is False


@pytest.mark.parametrize('change, field', [
    ({'renew_before': '8760h'}, 'renew_before'),
    ({'renew_before': 'soon'}, 'renew_before'),
    ({'network': 'mesh\nx'}, 'network'),
    ({'name': '../web1'}, 'name'),
    ({'groups': ['web', 'd b']}, 'groups[1]'),
    ({'address': '10.42.0.0/24'}, 'address'),
    ({'address': 'fd00::2/64'}, 'address'),
    ({'address': '10.42.0.2'}, 'address'),
    ({'duration': '0'}, 'duration'),
    ({'ca_duration': 'soon'}, 'ca_duration'),
    ({'public_key': '-----BEGIN NEBULA X25519 PRIVATE KEY-----\nAAAA\n'}, 'public_key'),
    ({'public_key': None}, 'public_key'),
])
def test_bad_values_are_refused_by_option_before_anything_is_made(tmp_path, change, field):
    args = dict({'network': 'mesh', 'name': 'web1', 'address': '10.42.0.2/24', 'groups': ['web'],
                 'public_key': public_key(tmp_path, 'k')}, **change)
    failed = run(args, {'inventory_dir': str(tmp_path)})
    assert failed['failed'] and failed['msg'].startswith('meshforge.vpn.nebula_cert: %s: ' % field)
    assert not os.path.exists(str(tmp_path / 'nebula-ca'))
    assert 'PRIVATE' not in failed['msg']


def test_revocation_is_recorded_once_kept_and_loses_the_name_when_the_host_leaves(tmp_path):
    task_vars = {'inventory_dir': str(tmp_path)}
    args = {'network': 'mesh', 'name': 'web1', 'address': '10.42.0.2/24', 'public_key': public_key(tmp_path, 'web1')}
    first = run(args, task_vars)['fingerprint']
    web1 = run(dict(args, groups=['web']), task_vars)['fingerprint']      # the first one stays valid: revoked too
    other = 'C9' * 32
    revoke = {'network': 'mesh', 'state': 'revoked', 'revoke': ['web1', other]}
    assert run({'network': 'mesh', 'state': 'revoked'}, task_vars) == dict(
        run({'network': 'mesh', 'state': 'revoked'}, task_vars), changed=False, revoked=[], blocklist=[])
    predicted = run(revoke, task_vars, check_mode=True, diff=True)
    ca_dir = predicted['ca_dir']
    assert predicted['changed'] and not os.path.exists(os.path.join(ca_dir, 'revoked.json'))
    assert predicted['blocklist'] == sorted([first, web1, other.lower()]) and web1 in predicted['diff']['after']
    done = run(revoke, task_vars)
    assert done['changed'] and done['revoked'] == sorted([{'fingerprint': web1, 'name': 'web1'},
                                                          {'fingerprint': first, 'name': 'web1'},
                                                          {'fingerprint': other.lower(), 'name': None}],
                                                         key=lambda item: item['fingerprint'])
    assert files.file_mode(os.path.join(ca_dir, 'revoked.json')) == 0o600
    for check_mode in (True, False):
        assert not run(revoke, task_vars, check_mode=check_mode)['changed']
    kept = run({'network': 'mesh', 'state': 'revoked'}, task_vars)
    assert not kept['changed'] and kept['blocklist'] == done['blocklist']
    assert run({'network': 'mesh', 'name': 'web1', 'state': 'absent'}, task_vars)['changed']
    after = run({'network': 'mesh', 'state': 'revoked'}, task_vars)
    assert after['blocklist'] == done['blocklist'] and [item['name'] for item in after['revoked']] == [None] * 3
    assert sorted(os.listdir(os.path.join(ca_dir, 'hosts'))) == []
    failed = run({'network': 'mesh', 'state': 'revoked', 'revoke': ['db9']}, task_vars)
    assert failed['failed'] and failed['msg'].startswith('meshforge.vpn.nebula_cert: revoke[0]: db9 has no certificate')


def test_a_host_leaving_the_network_has_its_certificates_revoked_before_they_are_deleted(tmp_path):
    """nebula_mesh_remove: the role passes the leaving hosts as retire, then deletes their certificates; a copy of
    the key and certificate left on a host that was down opens no tunnel.  Repeated, the removal changes nothing;
    a name that never had a certificate is no error."""
    task_vars = {'inventory_dir': str(tmp_path)}
    args = {'network': 'mesh', 'name': 'out1', 'address': '10.42.0.9/24', 'public_key': public_key(tmp_path, 'out1')}
    first = run(args, task_vars)['fingerprint']
    current = run(dict(args, groups=['web']), task_vars)['fingerprint']
    retire = {'network': 'mesh', 'state': 'revoked', 'retire': ['out1', 'never9']}
    predicted = run(retire, task_vars, check_mode=True)
    assert predicted['changed'] and predicted['blocklist'] == sorted([first, current])
    assert not os.path.exists(os.path.join(predicted['ca_dir'], 'revoked.json'))
    done = run(retire, task_vars)
    assert done['changed'] and done['blocklist'] == predicted['blocklist']
    assert run({'network': 'mesh', 'name': 'out1', 'state': 'absent'}, task_vars)['changed']
    for check_mode in (True, False):
        again = run(retire, task_vars, check_mode=check_mode)
        assert not again['changed'] and again['blocklist'] == done['blocklist']
    # a new host of that name is a new certificate, not revoked (the planner refuses to remove a member)
    back = run(dict(args, public_key=public_key(tmp_path, 'out1-new')), task_vars)['fingerprint']
    assert back not in run({'network': 'mesh', 'state': 'revoked'}, task_vars)['blocklist']


def _sign_in_parallel(job):
    directory, name, pub = job
    ca = nebula_pki.CA(directory)
    want = nebula_pki.validate({'network': 'mesh', 'name': name, 'address': '10.42.0.%d/24' % (10 + int(name[1:])),
                                'groups': [], 'public_key': pub, 'duration': '720h', 'ca_duration': '8760h',
                                'renew_before': '0s'})
    outcome = nebula_pki.ensure(ca, want, dry_run=False)
    ca.revoke([name] if name == 'h0' else [], retire=['h1'] if name == 'h2' else [])
    return outcome['ca_created']


def test_parallel_runs_make_one_ca_and_lose_no_revocation(tmp_path):
    """AWX slices of one network, started together on a new CA directory: the lock lets one make the CA, so every
    certificate is signed by the CA that stays, and both revocations land in the record."""
    import multiprocessing
    directory = str(tmp_path / 'nebula-ca' / 'mesh')
    jobs = [(directory, 'h%d' % i, public_key(tmp_path, 'h%d' % i)) for i in range(6)]
    pool = multiprocessing.get_context('fork').Pool(6)
    try:
        created = pool.map(_sign_in_parallel, jobs)
    finally:
        pool.close()
        pool.join()
    assert created.count(True) == 1
    ca = nebula_pki.CA(directory)
    issuer = ca.describe(ca.crt)['fingerprint']
    assert all(describe(ca.host_crt('h%d' % i))['issuer'] == issuer for i in range(6))
    assert sorted(item['name'] for item in ca.revoked()) == ['h0', 'h1']


def test_a_recheck_prints_each_current_certificate_once_and_the_ca_once(tmp_path):
    """The signing loop of a re-run: one nebula-cert print per member and one for the CA, not three per member; a
    certificate signed again is a new file, so it is printed afresh."""
    directory = str(tmp_path / 'ca')
    calls = []

    class Counting(nebula_pki.CA):
        def _run(self, args):
            calls.append(args[0])
            return super(Counting, self)._run(args)

    def want(name, groups=()):
        return nebula_pki.validate({'network': 'mesh', 'name': name, 'address': '10.42.0.%d/24' % (10 + int(name[1:])),
                                    'groups': list(groups), 'public_key': keys[name], 'duration': '720h',
                                    'ca_duration': '8760h', 'renew_before': '0s'})
    keys = dict(('h%d' % i, public_key(tmp_path, 'h%d' % i)) for i in range(3))
    for name in keys:
        nebula_pki.ensure(Counting(directory), want(name), dry_run=False)
    del calls[:]
    outcomes = [nebula_pki.ensure(Counting(directory), want(name), dry_run=False) for name in keys]
    assert not any(outcome['signed'] for outcome in outcomes) and calls.count('print') <= 3 + 1 and 'sign' not in calls
    del calls[:]
    regrouped = nebula_pki.ensure(Counting(directory), want('h1', ['web']), dry_run=False)
    assert regrouped['signed'] and describe(Counting(directory).host_crt('h1'))['groups'] == ['web']
    assert regrouped['fingerprint'] == json.loads(subprocess.run(
        ['nebula-cert', 'print', '-json', '-path', Counting(directory).host_crt('h1')], check=True,
        stdout=subprocess.PIPE).stdout)['fingerprint']


def test_without_a_public_key_the_certificate_held_gives_it(tmp_path):
    """A re-run that did not run nebula_key on the host: the certificate in the CA directory says the key; nothing is
    signed when it is current, a renewal keeps that key, and the result returns it for nebula_config to check."""
    task_vars = {'inventory_dir': str(tmp_path)}
    pub = public_key(tmp_path, 'web1')
    args = {'network': 'mesh', 'name': 'web1', 'address': '10.42.0.2/24', 'groups': ['web'], 'public_key': pub}
    first = run(args, task_vars)
    for check_mode in (True, False):
        again = run(dict(args, public_key=None), task_vars, check_mode=check_mode)
        assert not again['changed'] and again['fingerprint'] == first['fingerprint'] and again['public_key'] == pub
    regrouped = run(dict(args, public_key=None, groups=['web', 'db']), task_vars)
    assert regrouped['changed'] and regrouped['public_key'] == pub
    assert describe(os.path.join(first['ca_dir'], 'hosts', 'web1.crt'))['publicKey'] == nebula_pki.public_key_hex('k', pub)
    listed = run({'network': 'mesh', 'state': 'revoked'}, task_vars)
    assert listed['certificates'] == ['web1'] and not listed['changed']
