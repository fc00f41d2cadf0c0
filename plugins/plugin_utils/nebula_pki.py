# -*- coding: utf-8 -*-
# Copyright: meshforge.vpn contributors
# GNU General Public License v3.0+ (see https://www.gnu.org/licenses/gpl-3.0.txt)
"""A Nebula network's CA on the controller: made once with ``nebula-cert ca`` in a 0700 directory beside the
inventory (the key 0600, never sent anywhere), and host certificates signed there from the hosts' public keys only
(``nebula-cert sign -in-pub``).  A certificate is signed again only when what it says (name, address, groups,
public key, issuer) differs from what is asked, or it has expired."""

from __future__ import absolute_import, division, print_function

__metaclass__ = type

import base64
import binascii
import datetime
import json
import os
import re
import shutil
import subprocess
import tempfile

from ansible_collections.meshforge.vpn.plugins.module_utils import files
from ansible_collections.meshforge.vpn.plugins.module_utils import validation as v
from ansible_collections.meshforge.vpn.plugins.module_utils.nebula.schema import nebula_name
from ansible_collections.meshforge.vpn.plugins.module_utils.validation import ValidationError

PUBLIC_RE = re.compile(r'\A-----BEGIN NEBULA X25519 PUBLIC KEY-----\n([A-Za-z0-9+/]{43}=)\n'
                       r'-----END NEBULA X25519 PUBLIC KEY-----\n?\Z')


def public_key_hex(field, value):
    """The raw public key of a PEM Nebula X25519 public key, in hex (as ``nebula-cert print`` shows it)."""
    match = PUBLIC_RE.match(value) if isinstance(value, str) else None
    if not match:
        raise ValidationError(field, 'is not a Nebula X25519 public key in PEM (what nebula_key returns)')
    return binascii.hexlify(base64.b64decode(match.group(1))).decode()


def validate(args, dry_run=False):
    """The checked request: every value refused names its option, before anything is run or written.  In check
    mode a missing public key (nebula_key in check mode on a new host returns none) predicts a signature."""
    unknown_key = dry_run and not args['public_key']
    address = v.interface_address('address', args['address'])
    if address.version != 4 or address.network.prefixlen == 32:
        raise ValidationError('address', '%s must be an IPv4 address with the prefix of the network (e.g. '
                                         '10.42.0.2/24)' % address)
    duration = v.duration('duration', args['duration'], low=1)
    renew_before = v.duration('renew_before', args.get('renew_before') or 0)
    if renew_before >= duration:
        raise ValidationError('renew_before', 'must be shorter than duration (%ds), or every run signs again' % duration)
    return {
        'network': nebula_name('network', args['network']), 'name': nebula_name('name', args['name']),
        'address': str(address), 'groups': sorted(set(nebula_name('groups[%d]' % i, g)
                                                      for i, g in enumerate(args['groups'] or []))),
        'public_key': None if unknown_key else public_key_hex('public_key', args['public_key']),
        'public_key_pem': args['public_key'],
        'duration': duration, 'ca_duration': v.duration('ca_duration', args['ca_duration'], low=1, high=100 * 365 * 86400),
        'renew_before': renew_before,
    }


class CA(object):
    """The CA directory of one network: ``ca.crt`` and ``ca.key`` (0600), and ``hosts/<name>.crt``."""

    def __init__(self, directory, nebula_cert='nebula-cert'):
        self.dir = directory
        self.tool = nebula_cert
        self.crt, self.key = os.path.join(directory, 'ca.crt'), os.path.join(directory, 'ca.key')

    def _run(self, args):
        try:
            proc = subprocess.run([self.tool] + args, stdout=subprocess.PIPE, stderr=subprocess.PIPE, check=False)
        except OSError as exc:
            raise ValidationError('nebula_cert', '%s cannot be run on the controller: %s' % (self.tool, exc.strerror))
        if proc.returncode != 0:
            raise ValidationError('nebula_cert', '%s %s failed: %s' % (self.tool, args[0], proc.stderr.decode().strip()))
        return proc.stdout.decode()

    def exists(self):
        return os.path.exists(self.crt) and os.path.exists(self.key)

    def create(self, network, seconds):
        """``nebula-cert ca``, into a private directory first, so a half-made CA is never left behind."""
        os.makedirs(self.dir, 0o700, exist_ok=True)
        os.chmod(self.dir, 0o700)
        tmp = tempfile.mkdtemp(prefix='.ca-', dir=self.dir)
        try:
            crt, key = os.path.join(tmp, 'ca.crt'), os.path.join(tmp, 'ca.key')
            self._run(['ca', '-name', network, '-duration', '%ds' % seconds, '-out-crt', crt, '-out-key', key])
            os.chmod(key, 0o600)
            os.chmod(crt, 0o644)
            os.rename(key, self.key)
            os.rename(crt, self.crt)
        finally:
            shutil.rmtree(tmp, ignore_errors=True)

    def describe(self, path):
        """``nebula-cert print -json`` of the certificate at ``path``, or None when there is none."""
        if not os.path.exists(path):
            return None
        return json.loads(self._run(['print', '-json', '-path', path]))

    def host_crt(self, name):
        return os.path.join(self.dir, 'hosts', name + '.crt')

    def current(self, want, ca_fingerprint, now):
        """True when the host's certificate says what ``want`` asks, comes from this CA and is valid for longer than
        ``renew_before`` (0: has not expired)."""
        have = self.describe(self.host_crt(want['name']))
        if have is None or ca_fingerprint is None:
            return False
        details = have['details']
        not_after = datetime.datetime.strptime(details['notAfter'], '%Y-%m-%dT%H:%M:%SZ').replace(
            tzinfo=datetime.timezone.utc)
        return (details['name'] == want['name'] and details['ips'] == [want['address']]
                and sorted(details['groups']) == want['groups'] and details['publicKey'] == want['public_key']
                and details['issuer'] == ca_fingerprint
                and not_after > now + datetime.timedelta(seconds=want.get('renew_before') or 0))

    def forget(self, name, dry_run=False):
        """Delete the host's certificate from the CA directory (it left the network): True when there was one."""
        path = self.host_crt(name)
        if not os.path.exists(path):
            return False
        if not dry_run:
            os.unlink(path)
        return True

    def sign(self, want):
        """``nebula-cert sign`` from the public key only; the certificate (public) is written 0644."""
        os.makedirs(os.path.join(self.dir, 'hosts'), 0o700, exist_ok=True)
        tmp = tempfile.mkdtemp(prefix='.sign-', dir=self.dir)
        try:
            pub, crt = os.path.join(tmp, 'host.pub'), os.path.join(tmp, 'host.crt')
            files.write_atomic(pub, want['public_key_pem'], 0o644)
            args = ['sign', '-ca-crt', self.crt, '-ca-key', self.key, '-name', want['name'], '-ip', want['address'],
                    '-in-pub', pub, '-out-crt', crt, '-duration', '%ds' % want['duration']]
            self._run(args + (['-groups', ','.join(want['groups'])] if want['groups'] else []))
            files.write_atomic(self.host_crt(want['name']), files.read_text(crt), 0o644)
        finally:
            shutil.rmtree(tmp, ignore_errors=True)


def ensure(ca, want, dry_run, now=None):
    """Make the CA if it is missing and sign the host's certificate when it is not current.  Returns
    ``{'ca_created', 'signed', 'certificate', 'ca_certificate', 'fingerprint', 'not_after', 'replaced'}`` (certificates
    only; ``replaced``: the fingerprint of the certificate a new signature replaces)."""
    now = now or datetime.datetime.now(datetime.timezone.utc)
    ca_created = not ca.exists()
    ca_fingerprint = None if ca_created else ca.describe(ca.crt)['fingerprint']
    signed = ca_created or not ca.current(want, ca_fingerprint, now)
    outcome = {'ca_created': ca_created, 'signed': signed, 'certificate': None, 'ca_certificate': None,
               'fingerprint': None, 'not_after': None, 'replaced': None}
    if signed and not ca_created:
        former = ca.describe(ca.host_crt(want['name']))
        outcome['replaced'] = former['fingerprint'] if former else None
    if dry_run and signed:
        return outcome
    if ca_created:
        ca.create(want['network'], want['ca_duration'])
    if signed:
        ca.sign(want)
    details = ca.describe(ca.host_crt(want['name']))
    outcome.update(certificate=files.read_text(ca.host_crt(want['name'])), ca_certificate=files.read_text(ca.crt),
                   fingerprint=details['fingerprint'], not_after=details['details']['notAfter'])
    return outcome
