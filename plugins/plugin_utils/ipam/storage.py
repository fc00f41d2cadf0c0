# -*- coding: utf-8 -*-
# Copyright: meshforge.vpn contributors
# GNU General Public License v3.0+ (see https://www.gnu.org/licenses/gpl-3.0.txt)
"""The ledger file on the controller: where it is, its text, and the lock around a read-modify-write.

The file is JSON with sorted keys and one value per line: stdlib only, the same text for the same ledger
(diff-friendly, meant to be committed), and a strict parser, so a hand-edit that breaks the file is caught on load
instead of being read as something else.  Change it only through :func:`update` (under :func:`locked`); ``save``
writes atomically.
"""

from __future__ import absolute_import, division, print_function

__metaclass__ = type

import contextlib
import errno
import fcntl
import json
import os

from ansible_collections.meshforge.vpn.plugins.module_utils import files
from ansible_collections.meshforge.vpn.plugins.module_utils.validation import ValidationError
from ansible_collections.meshforge.vpn.plugins.plugin_utils.ipam.ledger import Ledger, from_data

LEDGER_NAME = 'meshforge_vpn_ipam.json'


def default_path(variables):
    """Where the ledger is when no path is given: beside the inventory, else the playbook, else here."""
    directory = variables.get('inventory_dir') or variables.get('playbook_dir') or os.getcwd()
    return os.path.join(str(directory), LEDGER_NAME)


def dumps(ledger):
    return json.dumps(ledger.to_data(), sort_keys=True, indent=2, separators=(',', ': ')) + '\n'


def _no_duplicate_keys(pairs):
    data = {}
    for key, value in pairs:
        if key in data:
            raise ValueError('key %r appears twice in one mapping' % key)
        data[key] = value
    return data


def loads(text, source='<ledger>'):
    """Parse and check a ledger; any problem is a ValidationError whose field is ``source``."""
    try:
        data = json.loads(text, object_pairs_hook=_no_duplicate_keys)
    except ValueError as exc:
        raise ValidationError(source, 'not a valid ledger (JSON): %s' % exc)
    try:
        return from_data(data)
    except ValidationError as exc:
        raise ValidationError(source, 'invalid ledger: %s' % exc)


def load(path, pools=(), missing_ok=True):
    """The ledger stored at ``path``; a missing file is an empty ledger with ``pools`` (an error without
    ``missing_ok``)."""
    try:
        with open(path, 'r', encoding='utf-8') as handle:
            text = handle.read()
    except OSError as exc:
        if exc.errno != errno.ENOENT:
            raise ValidationError(path, 'cannot read the ledger: %s' % exc)
        if not missing_ok:
            raise ValidationError(path, 'no ledger at this path')
        return Ledger(pools)
    except UnicodeDecodeError as exc:
        raise ValidationError(path, 'not a valid ledger (not UTF-8 text): %s' % exc)
    return loads(text, path)


def save(path, ledger):
    """Write ``ledger`` atomically (files.write_atomic), keeping the mode of an existing ledger file."""
    mode = files.file_mode(path)
    if mode is None:
        umask = os.umask(0)
        os.umask(umask)
        mode = 0o666 & ~umask
    files.write_atomic(os.path.abspath(path), dumps(ledger), mode, dir_mode=0o755)


@contextlib.contextmanager
def locked(path):
    """Hold an exclusive lock on ``path`` (through ``path.lock``, left in place) for a read-modify-write.

    The lock is on a sidecar file because ``save`` replaces the ledger file:
    a lock on the old inode would not exclude a process that opened the new one.
    """
    fd = os.open(path + '.lock', os.O_RDWR | os.O_CREAT, 0o644)
    try:
        fcntl.flock(fd, fcntl.LOCK_EX)
        yield
    finally:
        os.close(fd)


def update(path, change, pools=(), dry_run=False):
    """``change(ledger) -> (ledger, result)`` on the ledger at ``path``: ``(before, after, result)``.

    Under the lock, the new ledger is saved if it differs (or the file does not exist yet).  With ``dry_run``
    nothing is written and no lock is taken: the file is replaced atomically, so a read sees one whole version.
    """
    if dry_run:
        before = load(path, pools)
        after, result = change(before)
        return before, after, result
    with locked(path):
        before = load(path, pools)
        after, result = change(before)
        if after != before or not os.path.exists(path):
            save(path, after)
    return before, after, result
