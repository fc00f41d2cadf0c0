# -*- coding: utf-8 -*-
# Copyright: meshforge.vpn contributors
# GNU General Public License v3.0+ (see https://www.gnu.org/licenses/gpl-3.0.txt)
"""A fake charon for the strongSwan driver (module_utils/strongswan/): the VICI session answered from an in-memory
charon (the systemctl and swanctl commands ipsec_charon runs go to the one fake host, fakehost.FakeHost).  At the end,
the parameters the strongSwan tests drive it with.

The session records every call through :class:`.fakes.CommandLog`, changing ones as such, so a check-mode test asserts
``changing_commands() == []``.  :func:`install` puts the session where the driver opens one: the vici package and
the socket are replaced, everything between them and the resources is the driver's own code.
"""

from __future__ import absolute_import, division, print_function

__metaclass__ = type

import copy
import os
import re
from collections import OrderedDict

import pytest

from ansible_collections.meshforge.vpn.plugins.module_utils.strongswan import client
from ansible_collections.meshforge.vpn.plugins.module_utils.strongswan import compare
from ansible_collections.meshforge.vpn.plugins.module_utils.strongswan import schema
from ansible_collections.meshforge.vpn.tests.unit.plugins.module_utils.fakes import CommandLog, FakeModule


def encoded(value):
    """Values as the vici package returns them: bytes in (ordered) dicts and lists."""
    if isinstance(value, dict):
        return OrderedDict((k, encoded(x)) for k, x in value.items())
    if isinstance(value, list):
        return [encoded(x) for x in value]
    return value.encode('utf-8')


# A list-sa event as charon 5.9.8 streamed it in tests/ipsec/manual_proof.sh (values as the vici package
# gives them).
LIST_SA_EVENT = encoded(OrderedDict([('proof', OrderedDict([
    ('uniqueid', '1'), ('version', '2'), ('state', 'ESTABLISHED'),
    ('local-host', '198.18.0.1'), ('local-port', '4500'), ('local-id', 'a.proof.example'),
    ('remote-host', '198.18.0.2'), ('remote-port', '4500'), ('remote-id', 'b.proof.example'),
    ('initiator', 'yes'), ('initiator-spi', '8553029629c83920'), ('responder-spi', 'ff8f6b218d2fa51e'),
    ('nat-remote', 'yes'), ('nat-any', 'yes'), ('encr-alg', 'AES_GCM_16'), ('encr-keysize', '256'),
    ('prf-alg', 'PRF_HMAC_SHA2_384'), ('dh-group', 'ECP_384'), ('established', '4'), ('rekey-time', '14037'),
    ('child-sas', OrderedDict([('net-1', OrderedDict([
        ('name', 'net'), ('uniqueid', '1'), ('reqid', '1'), ('state', 'INSTALLED'), ('mode', 'TUNNEL'),
        ('protocol', 'ESP'), ('encap', 'yes'), ('spi-in', '3544996f'), ('spi-out', '5ff2a6b3'),
        ('encr-alg', 'AES_GCM_16'), ('encr-keysize', '256'), ('bytes-in', '168'), ('packets-in', '2'),
        ('use-in', '3'), ('bytes-out', '168'), ('packets-out', '2'), ('use-out', '3'), ('rekey-time', '3413'),
        ('life-time', '3956'), ('install-time', '4'), ('local-ts', ['198.19.1.0/24']),
        ('remote-ts', ['198.19.2.0/24'])]))]))]))]))

# A classic-algorithm IKE SA still connecting, with an integrity algorithm and a rekeying child.
LIST_SA_CBC = encoded(OrderedDict([('branch', OrderedDict([
    ('uniqueid', '7'), ('version', '2'), ('state', 'CONNECTING'), ('local-host', '203.0.113.1'),
    ('local-port', '500'), ('local-id', '203.0.113.1'), ('remote-host', '203.0.113.9'), ('remote-port', '500'),
    ('remote-id', '%any'), ('initiator-spi', '0123456789abcdef'), ('responder-spi', '0000000000000000'),
    ('encr-alg', 'AES_CBC'), ('encr-keysize', '256'), ('integ-alg', 'HMAC_SHA2_256_128'),
    ('prf-alg', 'PRF_HMAC_SHA2_256'), ('dh-group', 'CURVE_25519'), ('established', '0'), ('reauth-time', '80000'),
    ('child-sas', OrderedDict([('lan-9', OrderedDict([
        ('name', 'lan'), ('uniqueid', '9'), ('reqid', '3'), ('state', 'REKEYING'), ('mode', 'TRANSPORT'),
        ('protocol', 'ESP'), ('spi-in', 'c8931e89'), ('spi-out', 'cee78125'), ('encr-alg', 'AES_CBC'),
        ('encr-keysize', '128'), ('integ-alg', 'HMAC_SHA2_256_128'), ('dh-group', 'ECP_384'), ('esn', '1'),
        ('bytes-in', '0'), ('packets-in', '0'), ('bytes-out', '0'), ('packets-out', '0'),
        ('local-ts', ['10.1.0.0/16', 'fd01::/64']), ('remote-ts', ['10.2.0.0/16'])]))]))]))]))


class CommandException(Exception):
    """What the vici package raises when charon answers success=no."""


class FakeSession(CommandLog):
    """The parts of vici.Session that client.Charon calls, over an in-memory charon.

    list-conns answers from the loaded messages the way charon 5.9.8 does (what was seen in the manual
    proof): auth sections renamed local-1/remote-1 with a 'class', identities without their '@', version as
    'IKEv2', the children's traffic selectors as local-ts/remote-ts, proposals and start actions not at all.
    ``running`` False: no charon listens on the socket; ``sockets`` are the paths the driver connected to.
    """

    def __init__(self):
        super(FakeSession, self).__init__()
        self.conns = OrderedDict()
        self.shared = {}
        self.keys = []
        self.sas = []
        self.running = True
        self.sockets = []

    def connect(self, path):
        """client.connect_socket: the driver's socket to charon."""
        if not self.running:
            raise OSError(111, 'Connection refused')
        self.sockets.append(path)
        return self

    def close(self):
        """The socket's close (client.listening closes the socket it probed with)."""

    def _record(self, name, message=None):
        self.record((name, copy.deepcopy(message)), name not in ('list_conns', 'get_conns', 'get_shared', 'list_sas'))

    def load_conn(self, message):
        self._record('load_conn', message)
        for name, conn in message.items():
            self.conns[name] = conn
            for child in conn['children'].values():
                if child.get('start_action') == 'start':
                    self.sas.append(encoded({name: {'uniqueid': str(len(self.sas) + 1), 'state': 'ESTABLISHED',
                                                    'version': conn['version'], 'child-sas': {}}}))

    def unload_conn(self, message):
        self._record('unload_conn', message)
        if message['name'] not in self.conns:
            raise CommandException('unloading connection failed')
        conn = self.conns.pop(message['name'])
        # charon 5.9 closes the SAs of a connection with start_action=start when it is unloaded
        if any(c.get('start_action') == 'start' for c in conn['children'].values()):
            self.sas = [s for s in self.sas if message['name'] not in s]

    def load_shared(self, message):
        self._record('load_shared', message)
        self.shared[message['id']] = message

    def unload_shared(self, message):
        self._record('unload_shared', message)
        del self.shared[message['id']]

    def load_key(self, message):
        self._record('load_key', message)
        self.keys.append(message['data'])

    def terminate(self, message):
        self._record('terminate', message)
        if not any(message['ike'] in s for s in self.sas):
            raise CommandException('Command failed: no matching SAs to terminate found')
        self.sas = [s for s in self.sas if message['ike'] not in s]
        return iter([encoded({'msg': 'deleting IKE_SA'})])

    def get_conns(self):
        self._record('get_conns')
        return encoded({'conns': list(self.conns)})

    def get_shared(self):
        self._record('get_shared')
        return encoded({'keys': sorted(self.shared)})

    def list_sas(self, filters=None):
        self._record('list_sas', filters)
        return iter([s for s in self.sas if not filters or filters['ike'] in s])

    def list_conns(self, filters=None):
        self._record('list_conns', filters)
        for name, conn in self.conns.items():
            if filters and filters.get('ike') != name:
                continue
            yield encoded({name: self.reported(conn)})

    @staticmethod
    def reported(conn):
        out = OrderedDict([('local_addrs', conn['local_addrs']), ('remote_addrs', conn['remote_addrs']),
                           ('version', 'IKEv' + conn['version']), ('reauth_time', conn['reauth_time']),
                           ('rekey_time', conn['rekey_time']), ('unique', 'UNIQUE_NO')])
        if conn['dpd_delay'] != '0':
            out['dpd_delay'] = conn['dpd_delay']
        for side in ('local', 'remote'):
            auth = OrderedDict([('class', compare.AUTH_CLASS[conn[side]['auth']]),
                                ('groups', []), ('cert_policy', []), ('certs', []), ('cacerts', [])])
            if 'id' in conn[side]:
                auth['id'] = re.sub(r'^@', '', conn[side]['id'])
            out['%s-1' % side] = auth
        out['children'] = OrderedDict()
        for name, child in conn['children'].items():
            out['children'][name] = OrderedDict([
                ('mode', child['mode'].upper()), ('rekey_time', child['rekey_time']), ('rekey_bytes', '0'),
                ('rekey_packets', '0'), ('dpd_action', 'start'), ('close_action', 'none'),
                ('local-ts', child['local_ts']), ('remote-ts', child['remote_ts'])])
        return out


class FakeVici(object):
    """The vici package: its Session on a socket is the fake session."""

    def __init__(self, session):
        self.session = session

    def Session(self, sock):  # noqa: N802 pylint: disable=invalid-name
        assert sock is self.session, 'a session on the socket the driver connected'
        return self.session


@pytest.fixture
def charon(tmp_path, monkeypatch):
    """A fake charon behind every socket, and an empty /etc/swanctl under ``tmp_path`` (the session's ``root``)."""
    session = FakeSession()
    install(session, str(tmp_path), monkeypatch)
    return session


def install(session, directory, monkeypatch):
    """An /etc/swanctl under ``directory`` and ``session`` as the charon behind every socket; returns its path."""
    root = os.path.join(directory, 'swanctl')
    for sub in ('conf.d', 'x509', 'x509ca', 'private'):
        os.makedirs(os.path.join(root, sub))
    monkeypatch.setattr(schema, 'CONFIG_DIR', root)
    monkeypatch.setattr(client, 'HAS_VICI', True)
    monkeypatch.setattr(client, 'vici', FakeVici(session))
    monkeypatch.setattr(client, 'connect_socket', session.connect)
    session.root = root
    return root


# ------------------------------------------------------- what tests drive it with --
PSK = 'correct horse battery staple 42'


def strongswan_module(params, check_mode=False, diff=False, host=None):
    """The fake module of the strongSwan driver: charon answers over VICI, ``host`` (a fakehost.FakeHost) the commands."""
    return FakeModule(host, params, check_mode=check_mode, diff=diff)


def params(**overrides):
    base = {
        'name': 'branch-1', 'state': 'present', 'vici_socket': None, 'version': 2,
        'local_addrs': ['198.51.100.10'], 'remote_addrs': ['203.0.113.20'],
        'local_id': 'hq.example.net', 'remote_id': 'branch-1.example.net', 'auth': 'psk', 'psk': PSK,
        'children': [{'name': 'lan', 'local_ts': ['10.1.0.0/16'], 'remote_ts': ['10.20.0.0/24'],
                      'start_action': 'start'}],
    }
    base.update(overrides)
    return base


def child(**overrides):
    base = {'name': 'lan', 'local_ts': ['10.1.0.0/16'], 'remote_ts': ['10.20.0.0/24']}
    base.update(overrides)
    return base


def golden_params():
    return params(remote_addrs=['203.0.113.20', '2001:db8::20'], remote_id='C=CH, O=Example, CN=branch 1',
                  proposals=['aes256gcm16-prfsha384-ecp384', 'aes256-sha384-curve25519'], over_time='10m',
                  mobike=False, encap=True,
                  children=[child(local_ts=['10.1.0.0/16', 'fd01::/64'], start_action='start', close_action='start',
                                  esp_proposals=['aes256gcm16-ecp384'], life_time=4000)])
