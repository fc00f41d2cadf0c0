# -*- coding: utf-8 -*-
# Copyright: meshforge.vpn contributors
# GNU General Public License v3.0+ (see https://www.gnu.org/licenses/gpl-3.0.txt)
"""A Nebula network's CA on the controller: made once with ``nebula-cert ca`` in a 0700 directory beside the
inventory (the key 0600, never sent anywhere), and host certificates signed there from the hosts' public keys only
(``nebula-cert sign -in-pub``).  A certificate is signed again only when what it says (name, address, groups,
public key, issuer) differs from what is asked, or it has expired.

Revocation: ``revoked.json`` in the CA directory keeps every revoked certificate's fingerprint (and the member it was
signed for, until that member is removed), so every later run puts them in each member's ``pki.blocklist``.  A
member's certificates replaced before they expired (renewal, re-enrolment, new groups) stay valid, and peers keep the
one they saw at the handshake, so ``hosts/<name>.replaced`` lists them (fingerprint, not-after) and revoking the
member revokes those not yet expired too.  A host removed from the network has its certificates revoked the same
way before they are deleted, so a copy of its key and certificate (a host that was down, a stolen disk) opens no
tunnel until they expire."""

from __future__ import absolute_import, division, print_function

__metaclass__ = type

import base64
import binascii
import contextlib
import copy
import datetime
import json
import os
import shutil
import subprocess
import tempfile

from ansible_collections.meshforge.vpn.plugins.module_utils import files
from ansible_collections.meshforge.vpn.plugins.module_utils import validation as v
from ansible_collections.meshforge.vpn.plugins.module_utils.nebula.schema import FINGERPRINT_RE, PUBLIC_KEY_RE, nebula_name
from ansible_collections.meshforge.vpn.plugins.module_utils.validation import ValidationError
from ansible_collections.meshforge.vpn.plugins.plugin_utils import jsonstore

DEVICE_PREFIX = 'device:'


def entry_name(field, value):
    """``(key, name)`` of a member's name or of ``device:<name>`` (a device outside the inventory): the key names
    its files in the CA directory and its entries in the revocation record, the name is the certificate's."""
    if isinstance(value, str) and value.startswith(DEVICE_PREFIX):
        name = nebula_name(field, value[len(DEVICE_PREFIX):])
        return DEVICE_PREFIX + name, name
    return nebula_name(field, value), value


def public_key_hex(field, value):
    """The raw public key of a PEM Nebula X25519 public key, in hex (as ``nebula-cert print`` shows it)."""
    match = PUBLIC_KEY_RE.match(value) if isinstance(value, str) else None
    if not match:
        raise ValidationError(field, 'is not a Nebula X25519 public key in PEM (what nebula_key returns)')
    return binascii.hexlify(base64.b64decode(match.group(1))).decode()


def public_key_pem(hex_key):
    """The PEM of a raw public key in hex (``publicKey`` of ``nebula-cert print -json``): the inverse of
    :func:`public_key_hex`."""
    return ('-----BEGIN NEBULA X25519 PUBLIC KEY-----\n%s\n-----END NEBULA X25519 PUBLIC KEY-----\n'
            % base64.b64encode(binascii.unhexlify(hex_key)).decode())


def validate(args, dry_run=False):
    """The checked request: every value refused names its option, before anything is run or written.  Without a
    public key, :func:`ensure` signs for the key of the certificate the CA directory holds (a re-run that did not ask
    the host); where there is none, check mode predicts a signature (nebula_key in check mode on a new host returns
    none) and a real run is refused."""
    unknown_key = not args['public_key']
    address = v.interface_address('address', args['address'])
    if address.version != 4 or address.network.prefixlen == 32:
        raise ValidationError('address', '%s must be an IPv4 address with the prefix of the network (e.g. '
                                         '10.42.0.2/24)' % address)
    duration = v.duration('duration', args['duration'], low=1)
    renew_before = v.duration('renew_before', args.get('renew_before') or 0)
    if renew_before >= duration:
        raise ValidationError('renew_before', 'must be shorter than duration (%ds), or every run signs again' % duration)
    key, name = entry_name('name', args['name'])
    return {
        'network': nebula_name('network', args['network']), 'name': name, 'key': key,
        'address': str(address), 'groups': sorted(set(nebula_name('groups[%d]' % i, g)
                                                      for i, g in enumerate(args['groups'] or []))),
        'public_key': None if unknown_key else public_key_hex('public_key', args['public_key']),
        'public_key_pem': args['public_key'],
        'duration': duration, 'ca_duration': v.duration('ca_duration', args['ca_duration'], low=1, high=100 * 365 * 86400),
        'renew_before': renew_before,
    }


# describe()'s answers by (path, inode, size, mtime): for the life of one process (an Ansible worker)
_DESCRIBED = {}


class CA(object):
    """The CA directory of one network: ``ca.crt`` and ``ca.key`` (0600), ``hosts/<name>.crt`` for the members and
    ``devices/<name>.crt`` for the devices outside the inventory (key ``device:<name>``: the two never collide)."""

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

    @contextlib.contextmanager
    def locked(self, dry_run=False):
        """One run at a time changes the directory (parallel AWX slices of one network): the CA's creation, a
        signature and its record of replaced certificates, the revocation record.  A dry run takes no lock."""
        if dry_run:
            yield
            return
        os.makedirs(self.dir, 0o700, exist_ok=True)
        with jsonstore.locked(os.path.join(self.dir, 'ca')):
            yield

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
        """``nebula-cert print -json`` of the certificate at ``path``, or None when there is none.  A file read before
        and not replaced since (same inode, size and modification time: every write here is a rename) is not printed
        again: the role's signing loop runs in one process, so the CA certificate is printed once per run and a
        current member's certificate once, not three times (each print is a process start, 2-4 ms)."""
        try:
            stat = os.stat(path)
        except OSError:
            return None
        key = (os.path.abspath(path), stat.st_ino, stat.st_size, stat.st_mtime_ns)
        if key not in _DESCRIBED:
            _DESCRIBED[key] = json.loads(self._run(['print', '-json', '-path', path]))
        return copy.deepcopy(_DESCRIBED[key])

    def _base(self, key):
        if key.startswith(DEVICE_PREFIX):
            return os.path.join(self.dir, 'devices', key[len(DEVICE_PREFIX):])
        return os.path.join(self.dir, 'hosts', key)

    def host_crt(self, key):
        return self._base(key) + '.crt'

    def members(self):
        """The members that have a certificate in the directory (``hosts/<name>.crt``), sorted."""
        try:
            names = os.listdir(os.path.join(self.dir, 'hosts'))
        except OSError:
            return []
        return sorted(name[:-len('.crt')] for name in names if name.endswith('.crt'))

    def current(self, want, ca_fingerprint, now):
        """True when the host's certificate says what ``want`` asks, comes from this CA and is valid for longer than
        ``renew_before`` (0: has not expired)."""
        have = self.describe(self.host_crt(want.get('key', want['name'])))
        if have is None or ca_fingerprint is None:
            return False
        details = have['details']
        not_after = nebula_time(details['notAfter'])
        return (details['name'] == want['name'] and details['ips'] == [want['address']]
                and sorted(details['groups']) == want['groups'] and details['publicKey'] == want['public_key']
                and details['issuer'] == ca_fingerprint
                and not_after > now + datetime.timedelta(seconds=want.get('renew_before') or 0))

    def replaced_path(self, key):
        return self._base(key) + '.replaced'

    def replaced(self, name):
        """The member's earlier certificates, ``[{'fingerprint', 'not_after'}]``."""
        text = files.read_text(self.replaced_path(name))
        try:
            return json.loads(text)['replaced'] if text else []
        except (ValueError, KeyError, TypeError):
            raise ValidationError('nebula_cert', '%s is not a list nebula_cert wrote; fix or remove it'
                                  % self.replaced_path(name))

    def remember(self, name, former, now):
        """Add the replaced certificate ``former`` (nebula-cert print -json) to the member's list; the expired ones
        are dropped from it."""
        kept = [item for item in self.replaced(name) if nebula_time(item['not_after']) > now]
        kept.append({'fingerprint': former['fingerprint'], 'not_after': former['details']['notAfter']})
        files.write_atomic(self.replaced_path(name), json.dumps({'replaced': kept}, indent=1, sort_keys=True) + '\n',
                           0o644)

    def forget(self, name, dry_run=False):
        """Delete the host's certificate from the CA directory (it left the network): True when there was one.  Its
        revoked certificates stay revoked, no longer under its name (a new host of that name is not revoked)."""
        path = self.host_crt(name)
        if not os.path.isdir(self.dir):
            return False
        with self.locked(dry_run):
            record = self.revoked()
            named = [item for item in record if item['name'] == name]
            if not os.path.exists(path) and not named:
                return False
            if not dry_run:
                if named:
                    self.write_revoked([dict(item, name=None) if item['name'] == name else item for item in record])
                for stale in (path, self.replaced_path(name)):
                    if os.path.exists(stale):
                        os.unlink(stale)
        return True

    def revoked_path(self):
        return os.path.join(self.dir, 'revoked.json')

    def revoked(self):
        """The record of revoked certificates: ``[{'fingerprint', 'name'}]`` (name None for a fingerprint given
        as such, or whose member left)."""
        text = files.read_text(self.revoked_path())
        if not text:
            return []
        try:
            record = json.loads(text)['revoked']
            return [{'fingerprint': str(item['fingerprint']), 'name': item.get('name')} for item in record]
        except (ValueError, KeyError, TypeError):
            raise ValidationError('nebula_cert', '%s is not a revocation record nebula_cert wrote; fix or remove it'
                                  % self.revoked_path())

    def write_revoked(self, record):
        record = sorted(record, key=lambda item: item['fingerprint'])
        files.write_atomic(self.revoked_path(), json.dumps({'revoked': record}, indent=1, sort_keys=True) + '\n', 0o600)

    def revoke(self, entries, dry_run=False, now=None, retire=()):
        """Add ``entries`` (member names: their current certificate and the replaced ones not yet expired; or
        fingerprints) to the record, and the certificates of the hosts named in ``retire`` (leaving the network)
        that the CA directory still has.  Returns ``(record, added)``; an entry already there is no change."""
        with self.locked(dry_run or not (entries or retire)):
            return self._revoke(entries, retire, dry_run, now or datetime.datetime.now(datetime.timezone.utc))

    def _revoke(self, entries, retire, dry_run, now):
        record = self.revoked()
        known = dict((item['fingerprint'], item) for item in record)
        added = []
        requests = [('revoke[%d]' % i, entry, False) for i, entry in enumerate(entries)]
        requests += [('retire[%d]' % i, name, True) for i, name in enumerate(retire)]
        for field, entry, leaving in requests:
            if not leaving and isinstance(entry, str) and FINGERPRINT_RE.match(entry.lower()):
                items = [{'fingerprint': entry.lower(), 'name': None}]
            else:
                name = entry_name(field, entry)[0]
                if any(item['name'] == name for item in record):
                    continue
                found = self.describe(self.host_crt(name))
                if found is None and leaving:
                    continue        # never signed, or already forgotten: its certificates were revoked then
                if found is None:
                    raise ValidationError(field, '%s has no certificate in %s to revoke' % (name, self.dir))
                items = [{'fingerprint': found['fingerprint'], 'name': name}] + [
                    {'fingerprint': item['fingerprint'], 'name': name} for item in self.replaced(name)
                    if nebula_time(item['not_after']) > now]
            for item in items:
                if item['fingerprint'] not in known:
                    known[item['fingerprint']] = item
                    added.append(item)
        if added and not dry_run:
            self.write_revoked(list(known.values()))
        return sorted(known.values(), key=lambda item: item['fingerprint']), added

    def sign(self, want):
        """``nebula-cert sign`` from the public key only; the certificate (public) is written 0644."""
        key = want.get('key', want['name'])
        os.makedirs(os.path.dirname(self.host_crt(key)), 0o700, exist_ok=True)
        tmp = tempfile.mkdtemp(prefix='.sign-', dir=self.dir)
        try:
            pub, crt = os.path.join(tmp, 'host.pub'), os.path.join(tmp, 'host.crt')
            files.write_atomic(pub, want['public_key_pem'], 0o644)
            args = ['sign', '-ca-crt', self.crt, '-ca-key', self.key, '-name', want['name'], '-ip', want['address'],
                    '-in-pub', pub, '-out-crt', crt, '-duration', '%ds' % want['duration']]
            self._run(args + (['-groups', ','.join(want['groups'])] if want['groups'] else []))
            files.write_atomic(self.host_crt(key), files.read_text(crt), 0o644)
        finally:
            shutil.rmtree(tmp, ignore_errors=True)


def nebula_time(value):
    """A time as nebula prints it (``2027-12-05T17:01:46Z``), in UTC; ValueError when it is not one."""
    return datetime.datetime.strptime(str(value).replace('Z', '+0000'), '%Y-%m-%dT%H:%M:%S%z').astimezone(
        datetime.timezone.utc)


def certificate_row(cert, now):
    """A certificate as nebula_info returns it (``name``, ``ips``, ``groups``, ``not_after``, ``fingerprint``) as one
    row of a report: ``{'name', 'groups', 'address', 'not_after', 'fingerprint', 'days_left'}`` (whole days from
    ``now``, negative once expired); ValueError when ``not_after`` is not a time."""
    not_after = cert.get('not_after')
    days = None if not not_after else int((nebula_time(not_after) - now).total_seconds() // 86400)
    return {'name': cert.get('name'), 'groups': list(cert.get('groups') or []), 'address': ','.join(cert.get('ips') or []),
            'not_after': not_after, 'fingerprint': cert.get('fingerprint'), 'days_left': days}


def ensure(ca, want, dry_run, now=None):
    """Make the CA if it is missing and sign the host's certificate when it is not current.  Returns
    ``{'ca_created', 'signed', 'certificate', 'ca_certificate', 'fingerprint', 'not_after', 'replaced'}`` (certificates
    only; ``replaced``: the fingerprint of the certificate a new signature replaces)."""
    if want['public_key'] is None and not dry_run and not os.path.exists(ca.host_crt(want.get('key', want['name']))):
        raise ValidationError('public_key', 'is required: %s has no certificate in %s to take the key from'
                              % (want['name'], ca.dir))
    with ca.locked(dry_run):
        return _ensure(ca, want, dry_run, now or datetime.datetime.now(datetime.timezone.utc))


def _ensure(ca, want, dry_run, now):
    if want['public_key'] is None:
        held = ca.describe(ca.host_crt(want.get('key', want['name'])))
        if held is not None:
            want = dict(want, public_key=held['details']['publicKey'],
                        public_key_pem=public_key_pem(held['details']['publicKey']))
    ca_created = not ca.exists()
    ca_fingerprint = None if ca_created else ca.describe(ca.crt)['fingerprint']
    signed = ca_created or not ca.current(want, ca_fingerprint, now)
    outcome = {'ca_created': ca_created, 'signed': signed, 'certificate': None, 'ca_certificate': None,
               'fingerprint': None, 'not_after': None, 'replaced': None, 'public_key': want['public_key_pem']}
    former, key = None, want.get('key', want['name'])
    if signed and not ca_created:
        former = ca.describe(ca.host_crt(key))
        outcome['replaced'] = former['fingerprint'] if former else None
    if dry_run and signed:
        return outcome
    if ca_created:
        ca.create(want['network'], want['ca_duration'])
    if signed:
        ca.sign(want)
        if former and nebula_time(former['details']['notAfter']) > now:
            ca.remember(key, former, now)
    details = ca.describe(ca.host_crt(key))
    outcome.update(certificate=files.read_text(ca.host_crt(key)), ca_certificate=files.read_text(ca.crt),
                   fingerprint=details['fingerprint'], not_after=details['details']['notAfter'])
    return outcome
