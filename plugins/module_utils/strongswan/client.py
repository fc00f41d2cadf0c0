# -*- coding: utf-8 -*-
# Copyright: meshforge.vpn contributors
# GNU General Public License v3.0+ (see https://www.gnu.org/licenses/gpl-3.0.txt)
"""The one part that talks to charon: a VICI session through strongSwan's own vici package."""

from __future__ import absolute_import, division, print_function

__metaclass__ = type

import os
import socket
import traceback

from ansible_collections.meshforge.vpn.plugins.module_utils.common import ModuleError
from ansible_collections.meshforge.vpn.plugins.module_utils.strongswan import messages
from ansible_collections.meshforge.vpn.plugins.module_utils.strongswan import sas


try:
    import vici
    HAS_VICI = True
    VICI_IMPORT_ERROR = None
except ImportError:
    vici = None
    HAS_VICI = False
    VICI_IMPORT_ERROR = traceback.format_exc()


SOCKET_TIMEOUT = 30


class CharonError(ModuleError):
    """charon refused a command or cannot be reached."""


class Charon(object):
    """A VICI session with charon; every answer is decoded to str.  Only this class talks to the daemon."""

    def __init__(self, path, session=None):
        self.path = path
        if session is None:
            if not HAS_VICI:
                raise CharonError('the vici Python package is missing')
            sock = socket.socket(socket.AF_UNIX, socket.SOCK_STREAM)
            sock.settimeout(SOCKET_TIMEOUT)
            try:
                sock.connect(path)
            except (OSError, socket.error) as exc:
                sock.close()
                raise CharonError('cannot reach charon at unix://%s: %s (is charon running, and is vici_socket its '
                                  'socket?)' % (path, exc))
            session = vici.Session(sock)
        self.session = session

    def _call(self, what, function, *args):
        try:
            result = function(*args)
            # streamed commands (list-*, initiate, terminate) do their work while they are iterated
            if result is not None and not isinstance(result, dict):
                result = list(result)
            return sas.decode(result)
        except CharonError:
            raise
        except Exception as exc:  # the vici package raises its own exceptions and socket errors
            raise CharonError('%s failed: %s' % (what, exc))

    def connection(self, name):
        for event in self._call('list-conns', self.session.list_conns, {'ike': name}):
            if name in event:
                return event[name]
        return None

    def connection_names(self):
        return list(self._call('get-conns', self.session.get_conns).get('conns') or [])

    def shared_ids(self):
        return set(self._call('get-shared', self.session.get_shared).get('keys') or [])

    def sas(self, name=None):
        return sas.parse_list_sas(self._call('list-sas', self.session.list_sas, {'ike': name} if name else None))

    def load_conn(self, message):
        self._call('load-conn', self.session.load_conn, message)

    def load_shared(self, message):
        self._call('load-shared', self.session.load_shared, message)

    def load_key(self, pem):
        self._call('load-key', self.session.load_key, {'type': 'any', 'data': pem})

    def unload_conn(self, name):
        self._call('unload-conn', self.session.unload_conn, messages.build_unload_conn(name))

    def unload_shared(self, name):
        self._call('unload-shared', self.session.unload_shared, messages.build_unload_shared(name))

    def terminate(self, name):
        try:
            self._call('terminate', self.session.terminate, messages.build_terminate(name))
        except CharonError as exc:
            # unloading a connection with start_action=start already closes its SAs in charon 5.9, on
            # charon's own time: SAs that are gone when terminate arrives are what was wanted
            if 'no matching SAs' not in str(exc):
                raise


def charon_if_running(socket_path, connect=None):
    """A Charon session, or None when no charon listens on ``socket_path`` (no socket, or a stale one)."""
    if not os.path.exists(socket_path):
        return None
    sock = socket.socket(socket.AF_UNIX, socket.SOCK_STREAM)
    try:
        sock.connect(socket_path)
    except (OSError, socket.error):
        return None
    finally:
        sock.close()
    return (connect or Charon)(socket_path)
