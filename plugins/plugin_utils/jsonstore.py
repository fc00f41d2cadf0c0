# -*- coding: utf-8 -*-
# Copyright: meshforge.vpn contributors
# GNU General Public License v3.0+ (see https://www.gnu.org/licenses/gpl-3.0.txt)
"""A JSON document beside the inventory that several runs change: strict text, an exclusive lock, atomic saves.

The address ledger and the mesh registry are both such documents.  The text is JSON with sorted keys and one value
per line: stdlib only, the same text for the same data (diff-friendly, meant to be committed), and a strict parser
(no duplicate key), so a hand-edit that breaks the file is caught on load instead of being read as something else.
Change a document only through :func:`update`; the save is ``files.write_atomic``, so a reader without the lock
sees one whole version.
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


def default_path(variables, name):
    """``name`` beside the inventory, else beside the playbook, else in the working directory."""
    directory = variables.get('inventory_dir') or variables.get('playbook_dir') or os.getcwd()
    return os.path.join(str(directory), name)


def dumps(data):
    return json.dumps(data, sort_keys=True, indent=2, separators=(',', ': ')) + '\n'


def _no_duplicate_keys(pairs):
    data = {}
    for key, value in pairs:
        if key in data:
            raise ValueError('key %r appears twice in one mapping' % key)
        data[key] = value
    return data


def loads(text, source, what):
    """The data of a document's text; any problem is a ValidationError whose field is ``source``."""
    try:
        return json.loads(text, object_pairs_hook=_no_duplicate_keys)
    except ValueError as exc:
        raise ValidationError(source, 'not a valid %s (JSON): %s' % (what, exc))


def read(path, what):
    """The text of the document at ``path``, or None when there is none."""
    try:
        with open(path, 'r', encoding='utf-8') as handle:
            return handle.read()
    except OSError as exc:
        if exc.errno != errno.ENOENT:
            raise ValidationError(path, 'cannot read the %s: %s' % (what, exc))
        return None
    except UnicodeDecodeError as exc:
        raise ValidationError(path, 'not a valid %s (not UTF-8 text): %s' % (what, exc))


def save(path, text):
    """Write ``text`` atomically, keeping the mode of an existing file (else the umask's)."""
    mode = files.file_mode(path)
    if mode is None:
        umask = os.umask(0)
        os.umask(umask)
        mode = 0o666 & ~umask
    files.write_atomic(os.path.abspath(path), text, mode, dir_mode=0o755)


@contextlib.contextmanager
def locked(path):
    """Hold an exclusive lock on ``path`` (through ``path.lock``, left in place) for a read-modify-write.

    The lock is on a sidecar file because a save replaces the document: a lock on the old inode would not exclude
    a process that opened the new one.
    """
    fd = os.open(path + '.lock', os.O_RDWR | os.O_CREAT, 0o644)
    try:
        fcntl.flock(fd, fcntl.LOCK_EX)
        yield
    finally:
        os.close(fd)


def update(path, load, change, dump, dry_run=False):
    """``change(before) -> (after, result)`` on the document at ``path`` (``load(path)`` reads it, ``dump(data)``
    gives its text): returns ``(before, after, result)``.

    Under the lock the document is saved when its text differs or the file does not exist yet.  With ``dry_run``
    nothing is written and no lock is taken.
    """
    if dry_run:
        before = load(path)
        after, result = change(before)
        return before, after, result
    with locked(path):
        before = load(path)
        after, result = change(before)
        if dump(after) != dump(before) or not os.path.exists(path):
            save(path, dump(after))
    return before, after, result
