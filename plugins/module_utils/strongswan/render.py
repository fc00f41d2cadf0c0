# -*- coding: utf-8 -*-
# Copyright: meshforge.vpn contributors
# GNU General Public License v3.0+ (see https://www.gnu.org/licenses/gpl-3.0.txt)
"""The swanctl.conf files, rendered from the very VICI message that is loaded, so that a boot loads the same."""

from __future__ import absolute_import, division, print_function

__metaclass__ = type

import base64
import re

from ansible_collections.meshforge.vpn.plugins.module_utils.strongswan import messages
from ansible_collections.meshforge.vpn.plugins.module_utils.strongswan import schema


MANAGED_HEADER = '# Managed by meshforge.vpn (ipsec_connection). Local changes are overwritten.\n'


# Anything else (blanks, commas, '=' in a DN, '#') is quoted.
BARE_VALUE_RE = re.compile(r'\A[A-Za-z0-9_.:/%@-]+\Z')


def _render_value(value):
    if isinstance(value, list):
        return ', '.join(value)
    if BARE_VALUE_RE.match(value):
        return value
    # validation refused '"' and '\\' in every value that may need quotes
    return '"%s"' % value


def _render_section(out, name, section, depth):
    indent = '    ' * depth
    out.append('%s%s {\n' % (indent, name))
    for key, value in section.items():
        if isinstance(value, dict):
            _render_section(out, key, value, depth + 1)
        else:
            out.append('%s    %s = %s\n' % (indent, key, _render_value(value)))
    out.append('%s}\n' % indent)


def render_config(desired, digests=None):
    """``/etc/swanctl/conf.d/<name>.conf``: one ``key = value`` per line, no secret.

    ``digests`` (path -> sha256) of the certificates are written as comments: a renewed certificate
    changes the file, and that is how a re-run knows to load it again.
    """
    out = [MANAGED_HEADER]
    for path in sorted(digests or {}):
        out.append('# %s sha256 %s\n' % (path, digests[path]))
    message = messages.build_load_conn(desired)
    _render_section(out, 'connections', message, 0)
    return ''.join(out)


def render_secrets(desired):
    """``/etc/swanctl/conf.d/<name>.secrets.conf`` (0600), or None without a PSK.

    The secret is written as ``0s`` + base64: no character of a PSK can end the value, start a comment
    or be read as hex, and the bytes charon gets from this file are the ones it gets over VICI.
    """
    if not desired.get('psk'):
        return None
    out = [MANAGED_HEADER, 'secrets {\n', '    %s {\n' % schema.shared_id(desired['name'])]
    for index, owner in enumerate(messages.owners(desired)):
        out.append('        id-%d = %s\n' % (index + 1, _render_value(owner)))
    out.append('        secret = 0s%s\n' % base64.b64encode(desired['psk'].encode('utf-8')).decode('ascii'))
    out.append('    }\n}\n')
    return ''.join(out)
