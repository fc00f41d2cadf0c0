# -*- coding: utf-8 -*-
# Copyright: meshforge.vpn contributors
# GNU General Public License v3.0+ (see https://www.gnu.org/licenses/gpl-3.0.txt)
"""The controller's side of the hosts' audit logs: one list of records from what each host's logs hold."""

from __future__ import absolute_import, division, print_function

__metaclass__ = type

import base64
import json
from collections import Counter
from collections.abc import Mapping

from ansible.errors import AnsibleFilterError


def audit_records(reads_by_host):
    """Every record of every host's logs, with ``host`` added, oldest first (then by host, in the log's order).

    ``reads_by_host``: by host, its registered loop of ``ansible.builtin.slurp`` over the log and its rotated files
    (a file that does not exist, or a host that did not answer, has no ``content``)."""
    records = []
    for host in sorted(reads_by_host or {}):
        read = reads_by_host[host]
        results = read.get('results', []) if isinstance(read, Mapping) else []
        for result in results:
            if not isinstance(result, Mapping) or not result.get('content'):
                continue
            text = base64.b64decode(result['content']).decode('utf-8', 'replace')
            for number, line in enumerate(text.splitlines(), 1):
                if not line.strip():
                    continue
                try:
                    record = json.loads(line)
                except ValueError:
                    raise AnsibleFilterError('meshforge.vpn.audit_records: line %d of %s on %s is not JSON'
                                             % (number, result.get('source') or result.get('item'), host))
                if isinstance(record, Mapping):
                    records.append(dict(record, host=host))
    return sorted(records, key=lambda r: str(r.get('time') or ''))


def audit_summary(records, path=''):
    """Lines that say what ``records`` hold: their count, hosts and time span, then the count of each change."""
    if not records:
        return ['no audit record%s' % (' (report %s)' % path if path else '')]
    hosts = sorted(set(r.get('host') for r in records))
    lines = ['%d audit records from %d hosts (%s), %s to %s%s' % (
        len(records), len(hosts), ', '.join(hosts), records[0].get('time'), records[-1].get('time'),
        '; report %s' % path if path else '')]
    counts = Counter('%s: %s' % (r.get('resource'), r.get('change')) for r in records)
    lines.extend('%5d  %s' % (count, change) for change, count in sorted(counts.items()))
    return lines


class FilterModule(object):
    def filters(self):
        return {'audit_records': audit_records, 'audit_summary': audit_summary}
