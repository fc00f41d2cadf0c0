# -*- coding: utf-8 -*-
# Copyright: meshforge.vpn contributors
# GNU General Public License v3.0+ (see https://www.gnu.org/licenses/gpl-3.0.txt)

from __future__ import absolute_import, division, print_function

__metaclass__ = type

import base64
import json

import pytest
from ansible.errors import AnsibleFilterError

from ansible_collections.meshforge.vpn.plugins.filter.audit import audit_records, audit_summary


def slurped(*records, **extra):
    text = ''.join(json.dumps(r) + '\n' for r in records) + extra.get('tail', '')
    return {'content': base64.b64encode(text.encode()).decode(), 'source': '/var/log/a'}


def test_records_of_every_host_and_rotated_file_oldest_first_with_the_host():
    reads = {
        'h2': {'results': [slurped({'time': '2026-12-05T10:00:02Z', 'change': 'peer added'}),
                           {'failed': True, 'msg': 'file not found'}]},
        'h1': {'results': [slurped({'time': '2026-12-05T10:00:03Z', 'change': 'route added'}, tail='\n'),
                           slurped({'time': '2026-12-05T10:00:01Z', 'change': 'peer added'})]},
        'h3': None,
    }
    records = audit_records(reads)
    assert [(r['host'], r['change']) for r in records] == [('h1', 'peer added'), ('h2', 'peer added'),
                                                           ('h1', 'route added')]
    lines = audit_summary(records, '/r.jsonl')
    assert lines[0] == '3 audit records from 2 hosts (h1, h2), 2026-12-05T10:00:01Z to 2026-12-05T10:00:03Z; report /r.jsonl'
    assert '    2  None: peer added' in lines
    assert audit_summary([]) == ['no audit record']


def test_a_line_that_is_not_json_names_the_host_and_the_line():
    with pytest.raises(AnsibleFilterError, match='line 2 of /var/log/a on h1 is not JSON'):
        audit_records({'h1': {'results': [slurped({'a': 1}, tail='garbage\n')]}})
