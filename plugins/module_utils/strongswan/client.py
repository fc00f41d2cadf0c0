# -*- coding: utf-8 -*-
# Copyright: meshforge.vpn contributors
# GNU General Public License v3.0+ (see https://www.gnu.org/licenses/gpl-3.0.txt)
"""The one part that talks to charon: a VICI session through strongSwan's own vici package, and the engine host
that opens it."""

from __future__ import absolute_import, division, print_function

__metaclass__ = type

import socket
import traceback

from ansible_collections.meshforge.vpn.plugins.module_utils import engine
from ansible_collections.meshforge.vpn.plugins.module_utils import validation as v
from ansible_collections.meshforge.vpn.plugins.module_utils.common import ModuleError, require_library
from ansible_collections.meshforge.vpn.plugins.module_utils.strongswan import messages
from ansible_collections.meshforge.vpn.plugins.module_utils.strongswan import sas
from ansible_collections.meshforge.vpn.plugins.module_utils.strongswan import schema


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


def socket_path(params):
    """charon's socket from the module's ``vici_socket`` option, checked on this host (no planted link)."""
    return v.host_path('vici_socket', schema.vici_socket('vici_socket', params.get('vici_socket') or schema.DEFAULT_SOCKET))


def connect_socket(path):
    """A stream socket connected to ``path``; OSError when nothing listens there."""
    sock = socket.socket(socket.AF_UNIX, socket.SOCK_STREAM)
    sock.settimeout(SOCKET_TIMEOUT)
    try:
        sock.connect(path)
    except (OSError, socket.error):
        sock.close()
        raise
    return sock


def listening(path):
    """True when something accepts connections on ``path`` (no socket, or a stale one: False)."""
    try:
        connect_socket(path).close()
    except (OSError, socket.error):
        return False
    return True


def open_session(path):
    """A vici.Session with the charon on ``path``; MissingLibrary without the vici package, CharonError when no charon
    answers."""
    require_library(HAS_VICI, 'vici', VICI_IMPORT_ERROR)
    try:
        sock = connect_socket(path)
    except (OSError, socket.error) as exc:
        raise CharonError('cannot reach charon at unix://%s: %s (is charon running, and is vici_socket its '
                          'socket?)' % (path, exc))
    return vici.Session(sock)


class Charon(object):
    """A VICI session with charon; every answer is decoded to str.  Only this class talks to the daemon."""

    def __init__(self, path, session=None):
        self.path = path
        self.session = open_session(path) if session is None else session

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


class CharonHost(engine.Host):
    """The host of the strongSwan resources: engine.Host's commands, and charon through :attr:`charon`, a
    :class:`Charon` session opened by :meth:`connect` once the input is checked (or given, by a test)."""

    def __init__(self, module, charon=None):
        super(CharonHost, self).__init__(module)
        self.charon = charon

    def connect(self, path):
        """The session with the charon on ``path``, opened unless it is open."""
        if self.charon is None:
            self.charon = Charon(path)
        return self.charon

    def connect_if_running(self, path):
        """The session, or None when no charon listens on ``path``: the vici package is needed only when one does."""
        if self.charon is None and listening(path):
            self.connect(path)
        return self.charon
