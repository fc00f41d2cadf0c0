# -*- coding: utf-8 -*-
# Copyright: meshforge.vpn contributors
# GNU General Public License v3.0+ (see https://www.gnu.org/licenses/gpl-3.0.txt)
"""The host's audit log: what each changing module did, one JSON object per line, 0600, rotated by size.

Records come from :func:`.engine.audit_records` (``resource``, ``object``, ``change``, ``detail``; names, prefixes,
fields and key fingerprints, never a secret).  Each line adds the time and the module's run context.  The file is
opened for appending with 0600 from its creation; when it would pass ``max_size`` it becomes ``<path>.1`` (and
``.1`` becomes ``.2``, up to ``keep`` files) before the line is written.
"""

from __future__ import absolute_import, division, print_function

__metaclass__ = type

import datetime
import json
import os

from ansible_collections.meshforge.vpn.plugins.module_utils import validation as v


def argument_spec():
    """The options of every module that writes the audit log (a fresh copy: AnsibleModule may change its spec)."""
    return {
        'audit_log': {'type': 'path'},
        'audit_log_max_size': {'type': 'int', 'default': 1048576},
        'audit_log_keep': {'type': 'int', 'default': 3},
    }


def _rotate(path, keep):
    for index in range(keep - 1, 0, -1):
        older = '%s.%d' % (path, index)
        if os.path.exists(older):
            os.replace(older, '%s.%d' % (path, index + 1))
    if keep > 0:
        os.replace(path, path + '.1')
    else:
        os.unlink(path)


def append(path, records, max_size=1048576, keep=3, now=None):
    """Append ``records`` to the log at ``path``; returns the number of lines written."""
    path = v.absolute_path('audit_log', path)
    if not records:
        return 0
    stamp = (now or datetime.datetime.now(datetime.timezone.utc)).strftime('%Y-%m-%dT%H:%M:%SZ')
    text = ''.join(json.dumps(dict(record, time=stamp), sort_keys=True) + '\n' for record in records)
    directory = os.path.dirname(path)
    if not os.path.isdir(directory):
        os.makedirs(directory, 0o700)
    try:
        size = os.path.getsize(path)
    except OSError:
        size = 0
    if size and size + len(text) > max_size:
        _rotate(path, max(int(keep), 0))
    fd = os.open(path, os.O_WRONLY | os.O_APPEND | os.O_CREAT, 0o600)
    try:
        os.fchmod(fd, 0o600)
        os.write(fd, text.encode('utf-8'))
        os.fsync(fd)
    finally:
        os.close(fd)
    return len(records)


def records(resource, target, changes):
    """Audit records of ``changes`` (``[(change, detail), ...]``) made by ``resource`` (a module's name) to ``target``."""
    return [{'resource': resource, 'object': target, 'change': change, 'detail': str(detail)} for change, detail in changes]


def log(module, found):
    """Append ``found`` to the module's ``audit_log`` in a real run, when the option is set."""
    if module.params.get('audit_log') and found and not module.check_mode:
        append(module.params['audit_log'], found, module.params.get('audit_log_max_size') or 1048576,
               module.params.get('audit_log_keep', 3))
