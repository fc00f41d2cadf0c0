# -*- coding: utf-8 -*-
# Copyright: meshforge.vpn contributors
# GNU General Public License v3.0+ (see https://www.gnu.org/licenses/gpl-3.0.txt)
"""The VICI messages that load, unload and terminate a connection and its shared secret."""

from __future__ import absolute_import, division, print_function

__metaclass__ = type

from collections import OrderedDict

from ansible_collections.meshforge.vpn.plugins.module_utils.strongswan import schema


TERMINATE_TIMEOUT_MS = 10000


def _seconds(value):
    return str(value)


def _yes(value):
    return 'yes' if value else 'no'


def build_load_conn(desired, credential_data=None):
    """The ``load-conn`` message: ``{name: {...}}`` with strings and lists of strings only.

    With ``credential_data`` (path -> PEM text), certificates are sent as data, as charon needs them over
    VICI; without it, they stay paths, which is the form of the configuration file.
    """
    conn = OrderedDict()
    conn['version'] = str(desired['version'])
    conn['local_addrs'] = list(desired['local_addrs'])
    conn['remote_addrs'] = list(desired['remote_addrs'])
    conn['proposals'] = list(desired['proposals'])
    conn['dpd_delay'] = _seconds(desired['dpd_delay'])
    conn['rekey_time'] = _seconds(desired['rekey_time'])
    conn['reauth_time'] = _seconds(desired['reauth_time'])
    if desired['over_time'] is not None:
        conn['over_time'] = _seconds(desired['over_time'])
    conn['mobike'] = _yes(desired['mobike'])
    conn['encap'] = _yes(desired['encap'])
    conn['keyingtries'] = str(desired['keyingtries'])

    def cred(path):
        return credential_data[path] if credential_data is not None else path

    local = OrderedDict([('auth', desired['auth'])])
    if desired['local_id']:
        local['id'] = desired['local_id']
    if desired['local_certs']:
        local['certs'] = [cred(p) for p in desired['local_certs']]
    remote = OrderedDict([('auth', desired['auth'])])
    if desired['remote_id']:
        remote['id'] = desired['remote_id']
    if desired['remote_cacerts']:
        remote['cacerts'] = [cred(p) for p in desired['remote_cacerts']]
    conn['local'] = local
    conn['remote'] = remote
    children = OrderedDict()
    for child in desired['children']:
        section = OrderedDict()
        section['local_ts'] = list(child['local_ts'])
        section['remote_ts'] = list(child['remote_ts'])
        section['mode'] = child['mode']
        section['start_action'] = child['start_action']
        section['close_action'] = child['close_action']
        section['esp_proposals'] = list(child['esp_proposals'])
        section['rekey_time'] = _seconds(child['rekey_time'])
        if child['life_time'] is not None:
            section['life_time'] = _seconds(child['life_time'])
        section['dpd_action'] = child['dpd_action']
        children[child['name']] = section
    conn['children'] = children
    return OrderedDict([(desired['name'], conn)])


def owners(desired):
    return [i for i in (desired['local_id'], desired['remote_id']) if i and i not in schema.ANY_ADDRESS]


def build_load_shared(desired):
    """The ``load-shared`` message for the PSK: its id makes a later load replace it instead of adding one."""
    return OrderedDict([('id', schema.shared_id(desired['name'])), ('type', 'IKE'), ('data', desired['psk']),
                        ('owners', owners(desired))])


def build_unload_conn(name):
    return {'name': name}


def build_unload_shared(name):
    return {'id': schema.shared_id(name)}


def build_terminate(name):
    return OrderedDict([('ike', name), ('timeout', str(TERMINATE_TIMEOUT_MS)), ('force', 'yes')])
