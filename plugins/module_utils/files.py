# -*- coding: utf-8 -*-
# Copyright: meshforge.vpn contributors
# GNU General Public License v3.0+ (see https://www.gnu.org/licenses/gpl-3.0.txt)
"""The one way this collection writes a file on a host: atomically, with its mode set before any content exists."""

from __future__ import absolute_import, division, print_function

__metaclass__ = type

import os
import tempfile


def read_text(path):
    """The file's text, or None when it does not exist."""
    return _read(path, 'r')


def read_bytes(path):
    """The file's bytes, or None when it does not exist."""
    return _read(path, 'rb')


def _read(path, mode):
    try:
        with open(path, mode) as handle:
            return handle.read()
    except (IOError, OSError) as exc:
        if getattr(exc, 'errno', None) == 2:
            return None
        raise


def file_mode(path):
    try:
        return os.stat(path).st_mode & 0o7777
    except OSError:
        return None


def write_atomic(path, content, mode=0o600, dir_mode=0o700):
    """Write ``content`` (text, or bytes) to ``path`` through a temporary file in the same directory.

    The temporary file is created 0600 (mkstemp) and given ``mode`` before the
    content is written, so a secret is never readable by others, and a crash
    leaves either the old file or the new one, never half of one.
    """
    directory = os.path.dirname(path) or '.'
    if not os.path.isdir(directory):
        os.makedirs(directory, dir_mode)
    fd, tmp = tempfile.mkstemp(prefix='.%s.' % os.path.basename(path), dir=directory)
    try:
        os.fchmod(fd, mode)
        with os.fdopen(fd, 'wb' if isinstance(content, bytes) else 'w') as handle:
            handle.write(content)
            handle.flush()
            os.fsync(handle.fileno())
        os.replace(tmp, path)
    except BaseException:
        if os.path.exists(tmp):
            os.unlink(tmp)
        raise
    # the rename itself must survive a crash too
    dir_fd = os.open(directory, os.O_RDONLY)
    try:
        os.fsync(dir_fd)
    finally:
        os.close(dir_fd)


def ensure_file(path, content, mode=0o600, dir_mode=0o700):
    """Make ``path`` hold ``content`` with ``mode``; returns True when it changed anything."""
    if read_text(path) == content:
        if file_mode(path) != mode:
            os.chmod(path, mode)
            return True
        return False
    write_atomic(path, content, mode, dir_mode)
    return True


def file_needs_change(path, content, mode=0o600):
    return read_text(path) != content or file_mode(path) != mode


def remove(path):
    try:
        os.unlink(path)
        return True
    except OSError as exc:
        if exc.errno == 2:
            return False
        raise
