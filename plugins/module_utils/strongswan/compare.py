# -*- coding: utf-8 -*-
# Copyright: meshforge.vpn contributors
# GNU General Public License v3.0+ (see https://www.gnu.org/licenses/gpl-3.0.txt)
"""The loaded connection against the desired one: the differences, and the steps that follow from them."""

from __future__ import absolute_import, division, print_function

__metaclass__ = type


def _id_text(value):
    """An identity as charon prints it: FQDN and email without their '@' forcing prefix, DN parts ', '-separated."""
    if value is None:
        return None
    if value.startswith('@@'):
        value = value[2:]
    elif value.startswith('@') and not value.startswith('@#'):
        value = value[1:]
    if '=' in value:
        value = ', '.join(part.strip() for part in value.split(','))
    return value


AUTH_CLASS = {'psk': 'pre-shared key', 'pubkey': 'public key'}


def _first(conn, prefix):
    for key in sorted(conn):
        if key == prefix or key.startswith(prefix + '-'):
            return conn[key]
    return {}


def conn_differences(desired, live):
    """Fields of the loaded connection (a decoded list-conns entry) that differ from ``desired``.

    charon reports addresses, version, times, identities, authentication classes and the children's mode
    and traffic selectors; proposals, start actions and the like it does not report, and those are compared
    through the configuration file this module writes after every load.
    """
    if live is None:
        return ['not loaded']
    found = []

    def check(name, want, have):
        if want != have:
            found.append(name)

    check('version', 'IKEv%d' % desired['version'], live.get('version'))
    check('local_addrs', desired['local_addrs'], live.get('local_addrs', ['%any']))
    check('remote_addrs', desired['remote_addrs'], live.get('remote_addrs', ['%any']))
    check('rekey_time', str(desired['rekey_time']), live.get('rekey_time'))
    check('reauth_time', str(desired['reauth_time']), live.get('reauth_time'))
    check('dpd_delay', str(desired['dpd_delay']), live.get('dpd_delay', '0'))
    for side in ('local', 'remote'):
        auth = _first(live, side)
        check('%s auth' % side, AUTH_CLASS[desired['auth']], auth.get('class'))
        if desired['%s_id' % side]:
            check('%s_id' % side, _id_text(desired['%s_id' % side]), _id_text(auth.get('id')))
    live_children = live.get('children') or {}
    check('children', sorted(c['name'] for c in desired['children']), sorted(live_children))
    for child in desired['children']:
        have = live_children.get(child['name'])
        if have is None:
            continue
        prefix = 'children.%s.' % child['name']
        check(prefix + 'mode', child['mode'].upper(), have.get('mode'))
        check(prefix + 'rekey_time', str(child['rekey_time']), have.get('rekey_time'))
        check(prefix + 'local_ts', sorted(child['local_ts']), sorted(have.get('local-ts') or []))
        check(prefix + 'remote_ts', sorted(child['remote_ts']), sorted(have.get('remote-ts') or []))
    return found


def plan_connection(desired, live, has_shared, old_config, config, old_secrets, secrets):
    """What charon must be told for ``desired``: ``load_conn``, ``load_shared``, ``unload_shared`` and the
    ``reasons``, all empty/False when nothing is to do.

    The files decide too: a configuration file that differs holds a setting charon does not report, and a secrets
    file that differs holds another PSK.  Writing them is the engine's (a file that differs only in its mode is
    rewritten, and loads nothing).
    """
    differences = conn_differences(desired, live)
    config_changed = old_config != config
    steps = {'load_conn': bool(differences) or config_changed, 'load_shared': False, 'unload_shared': False,
             'reasons': list(differences)}
    if config_changed:
        steps['reasons'].append('configuration file differs' if old_config is not None else 'no configuration file')
    if secrets is not None:
        steps['load_shared'] = old_secrets != secrets or not has_shared
        if steps['load_shared']:
            steps['reasons'].append('pre-shared key not loaded or changed')
    else:
        steps['unload_shared'] = has_shared
    return steps
