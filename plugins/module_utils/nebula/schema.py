# -*- coding: utf-8 -*-
# Copyright: meshforge.vpn contributors
# GNU General Public License v3.0+ (see https://www.gnu.org/licenses/gpl-3.0.txt)
"""nebula_config's options checked and turned into Nebula's configuration as data, dumped by a YAML dumper.

Every value that reaches the file is checked first (addresses parsed, names matched against a strict pattern,
ports numbers, certificates PEM blocks), and the file is made by dumping a dict, never by pasting text, so no value
can add a key or a line to it."""

from __future__ import absolute_import, division, print_function

__metaclass__ = type

import ipaddress
import os
import re

from ansible_collections.meshforge.vpn.plugins.module_utils import validation as v
from ansible_collections.meshforge.vpn.plugins.module_utils.validation import ValidationError

NAME_RE = re.compile(r'\A[A-Za-z0-9][A-Za-z0-9_.-]{0,62}\Z')
CERT_RE = re.compile(r'\A(-----BEGIN NEBULA CERTIFICATE-----\n(?:[A-Za-z0-9+/=]{1,76}\n)+'
                     r'-----END NEBULA CERTIFICATE-----\n)+\Z')
FINGERPRINT_RE = re.compile(r'\A[0-9a-f]{64}\Z')
PORT_RANGE_RE = re.compile(r'\A(\d{1,5})-(\d{1,5})\Z')
PROTOCOLS = ('any', 'tcp', 'udp', 'icmp')
LOG_LEVELS = ('panic', 'fatal', 'error', 'warning', 'info', 'debug')
RULE_KEYS = ('port', 'proto', 'host', 'group', 'groups', 'cidr')
DEFAULT_CONFIG_DIR = '/etc/nebula'
DEFAULT_RUN_DIR = '/run/meshforge-vpn'
DEFAULT_OUTBOUND = [{'port': 'any', 'proto': 'any', 'host': 'any'}]
DEFAULT_INBOUND = [{'port': 'any', 'proto': 'icmp', 'host': 'any'}]
SSHD_USER = 'meshforge'
SSHD_LISTEN = '127.0.0.1'


def nebula_name(field, value):
    """A network, host or group name: letters, digits, '_', '.', '-', starting with a letter or digit."""
    if not isinstance(value, str) or not NAME_RE.match(value):
        raise ValidationError(field, '%r is not a valid name (letters, digits, _ . -, at most 63, starting with a '
                                     'letter or digit)' % (value,))
    return value


def ipv4(field, value):
    """An IPv4 address (Nebula 1.6 overlays are IPv4)."""
    address = v.address(field, value)
    if address.version != 4:
        raise ValidationError(field, '%s is not an IPv4 address (Nebula 1.6 overlays are IPv4)' % address)
    return str(address)


def certificate(field, value):
    """One or more PEM Nebula certificates (public material), with a final newline."""
    if not isinstance(value, str):
        raise ValidationError(field, 'expected a PEM Nebula certificate, got %s' % type(value).__name__)
    text = value.strip('\n') + '\n'
    if not CERT_RE.match(text):
        raise ValidationError(field, 'is not a PEM Nebula certificate (what meshforge.vpn.nebula_cert returns)')
    return text


# the raw key (32 bytes, base64) is the group
PUBLIC_KEY_RE = re.compile(r'\A-----BEGIN NEBULA X25519 PUBLIC KEY-----\n([A-Za-z0-9+/]{43}=)\n'
                           r'-----END NEBULA X25519 PUBLIC KEY-----\n?\Z')


def public_key(field, value):
    """A PEM Nebula X25519 public key (what nebula_key and nebula_cert return), with a final newline."""
    text = value.strip('\n') + '\n' if isinstance(value, str) else None
    if text is None or not PUBLIC_KEY_RE.match(text):
        raise ValidationError(field, 'is not a Nebula X25519 public key in PEM (what nebula_key returns)')
    return text


def fingerprints(field, value):
    """Certificate fingerprints (sha256, 64 hex digits, as ``nebula-cert print`` shows them), sorted, no repeats."""
    if not isinstance(value or [], list):
        raise ValidationError(field, 'must be a list of certificate fingerprints')
    found = set()
    for i, item in enumerate(value or []):
        text = item.lower() if isinstance(item, str) else item
        if not isinstance(text, str) or not FINGERPRINT_RE.match(text):
            raise ValidationError('%s[%d]' % (field, i), '%r is not a certificate fingerprint (64 hex digits)' % (item,))
        found.add(text)
    return sorted(found)


def rule_port(field, value):
    """``any``, ``fragment``, a port, or a range ``low-high``."""
    if value in ('any', 'fragment'):
        return value
    if isinstance(value, str):
        match = PORT_RANGE_RE.match(value)
        if match:
            low, high = (v.port(field, part) for part in match.groups())
            if low > high:
                raise ValidationError(field, '%r is an empty range' % value)
            return '%d-%d' % (low, high)
    return v.port(field, value)


def firewall_rule(field, raw):
    """One inbound or outbound rule, with only Nebula's keys; at least one of host, group, groups, cidr."""
    if not isinstance(raw, dict):
        raise ValidationError(field, 'expected a dict, got %s' % type(raw).__name__)
    unknown = sorted(set(k for k, value in raw.items() if value is not None) - set(RULE_KEYS))
    if unknown:
        raise ValidationError(field, 'unknown keys %s (known: %s)' % (', '.join(map(str, unknown)), ', '.join(RULE_KEYS)))
    rule = {'port': rule_port(field + '.port', raw.get('port', 'any')),
            'proto': raw.get('proto') or 'any'}
    if rule['proto'] not in PROTOCOLS:
        raise ValidationError(field + '.proto', '%r is not one of %s' % (rule['proto'], ', '.join(PROTOCOLS)))
    if raw.get('host') is not None:
        rule['host'] = 'any' if raw['host'] == 'any' else nebula_name(field + '.host', raw['host'])
    if raw.get('group') is not None:
        rule['group'] = nebula_name(field + '.group', raw['group'])
    if raw.get('groups') is not None:
        if not isinstance(raw['groups'], list) or not raw['groups']:
            raise ValidationError(field + '.groups', 'must be a non-empty list of group names')
        rule['groups'] = sorted(set(nebula_name('%s.groups[%d]' % (field, i), g) for i, g in enumerate(raw['groups'])))
    if raw.get('cidr') is not None:
        net = v.network(field + '.cidr', raw['cidr'])
        if net.version != 4:
            raise ValidationError(field + '.cidr', '%s is not an IPv4 network' % net)
        rule['cidr'] = str(net)
    if not set(rule) & set(['host', 'group', 'groups', 'cidr']):
        raise ValidationError(field, 'names no peer: set host (any for everyone), group, groups or cidr')
    return rule


def rules(field, value, default):
    if value is None:
        return [dict(rule) for rule in default]
    if not isinstance(value, list):
        raise ValidationError(field, 'must be a list of rules')
    return [firewall_rule('%s[%d]' % (field, i), rule) for i, rule in enumerate(value)]


def addresses(field, value):
    """A list of IPv4 overlay addresses, sorted, without repeats."""
    return sorted(set(ipv4('%s[%d]' % (field, i), a) for i, a in enumerate(value or [])),
                  key=ipaddress.IPv4Address)


def host_map(field, value):
    """``{overlay address: [host:port, ...]}``, addresses IPv4, endpoints checked and normalised."""
    if not isinstance(value or {}, dict):
        raise ValidationError(field, 'must be a dict of overlay address to a list of host:port')
    found = {}
    for key, endpoints in sorted((value or {}).items(), key=lambda item: str(item[0])):
        address = ipv4('%s[%s]' % (field, key), key)
        if isinstance(endpoints, str):
            endpoints = [endpoints]
        if not isinstance(endpoints, list) or not endpoints:
            raise ValidationError('%s[%s]' % (field, key), 'must be a non-empty list of host:port')
        found[address] = [v.endpoint('%s[%s][%d]' % (field, key, i), e) for i, e in enumerate(endpoints)]
    return found


def normalize(params):
    """The checked options; raises ValidationError naming the option, before anything is read or touched."""
    network = nebula_name('network', params['network'])
    config_dir = v.host_path('config_dir', params.get('config_dir') or DEFAULT_CONFIG_DIR)
    want = {
        'network': network, 'state': params.get('state') or 'present', 'config_dir': config_dir,
        'config': os.path.join(config_dir, network + '.yml'),
        'key_path': v.host_path('key_path', params.get('key_path') or os.path.join(config_dir, network + '.key')),
        'cert_path': os.path.join(config_dir, network + '.crt'),
        'ca_path': os.path.join(config_dir, network + '-ca.crt'),
        'run_dir': v.host_path('run_dir', params.get('run_dir') or DEFAULT_RUN_DIR),
        'manager': params.get('manager') or 'auto',
    }
    if want['manager'] not in ('auto', 'systemd', 'daemon'):
        raise ValidationError('manager', '%r is not one of auto, systemd, daemon' % want['manager'])
    port = params.get('sshd_port') or 0
    port = v.port('sshd_port', port, allow_zero=True)
    want['sshd'] = dict(sshd_paths(config_dir, network), port=port) if port else None
    if want['state'] == 'absent':
        return want
    interface = params.get('interface') or 'neb-' + network
    want['interface'] = v.interface_name('interface', interface)
    want['public_key'] = public_key('public_key', params.get('public_key')) if params.get('public_key') else None
    pub = params.get('public_key_path') or (want['key_path'][:-len('.key')] if want['key_path'].endswith('.key')
                                            else want['key_path']) + '.pub'
    want['public_key_path'] = v.host_path('public_key_path', pub)
    for option in ('certificate', 'ca_certificate'):
        if not params.get(option):
            raise ValidationError(option, 'is required with state=present')
        want[option] = certificate(option, params[option])
    port = params.get('listen_port')
    am_lighthouse = bool(params.get('am_lighthouse'))
    am_relay = bool(params.get('am_relay'))
    lighthouses = addresses('lighthouses', params.get('lighthouses'))
    if am_lighthouse and lighthouses:
        raise ValidationError('lighthouses', 'must be empty on a lighthouse (am_lighthouse=true)')
    want['settings'] = {
        'pki': {'ca': want['ca_path'], 'cert': want['cert_path'], 'key': want['key_path']},
        'static_host_map': host_map('static_host_map', params.get('static_host_map')),
        'lighthouse': {'am_lighthouse': am_lighthouse, 'hosts': lighthouses,
                       'interval': v.integer('lighthouse_interval', params.get('lighthouse_interval', 60), 1, 3600)},
        'listen': {'host': str(v.address('listen_host', params.get('listen_host') or '0.0.0.0')),
                   'port': v.port('listen_port', 4242 if port is None else port, allow_zero=True)},
        'punchy': {'punch': bool(params.get('punch', True)), 'respond': bool(params.get('punch', True))},
        'relay': {'am_relay': am_relay, 'use_relays': bool(params.get('use_relays', True)),
                  'relays': addresses('relays', params.get('relays'))},
        'tun': {'disabled': False, 'dev': want['interface'],
                'mtu': v.integer('mtu', params.get('mtu') or 1300, 576, 9000),
                'drop_local_broadcast': True, 'drop_multicast': True},
        'logging': {'level': params.get('log_level') or 'info', 'format': 'text'},
        'firewall': {'outbound': rules('outbound', params.get('outbound'), DEFAULT_OUTBOUND),
                     'inbound': rules('inbound', params.get('inbound'), DEFAULT_INBOUND)},
    }
    blocklist = fingerprints('blocklist', params.get('blocklist'))
    if blocklist:
        want['settings']['pki']['blocklist'] = blocklist
    if want['settings']['logging']['level'] not in LOG_LEVELS:
        raise ValidationError('log_level', '%r is not one of %s' % (params.get('log_level'), ', '.join(LOG_LEVELS)))
    if am_relay and want['settings']['relay']['relays']:
        raise ValidationError('relays', 'must be empty on a relay (am_relay=true)')
    return want


def sshd_paths(config_dir, network):
    """The private keys of nebula's console (each with its ``.pub`` beside it): nebula's host key, nebula_info's."""
    return {'host_key': os.path.join(config_dir, network + '-sshd-host.key'),
            'client_key': os.path.join(config_dir, network + '-sshd-client.key')}


def sshd_settings(sshd, client_public):
    """nebula's debug console on the loopback only, for nebula_info: one user, the key made on the host."""
    return {'enabled': True, 'listen': '%s:%d' % (SSHD_LISTEN, sshd['port']), 'host_key': sshd['host_key'],
            'authorized_users': [{'user': SSHD_USER, 'keys': [client_public]}]}


def restart_needed(old, new):
    """Settings nebula 1.6 does not take on SIGHUP: its TUN device and its listen socket."""
    old = old or {}
    return any(old.get(section) != new.get(section) for section in ('tun', 'listen'))
