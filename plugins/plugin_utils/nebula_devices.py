# -*- coding: utf-8 -*-
# Copyright: meshforge.vpn contributors
# GNU General Public License v3.0+ (see https://www.gnu.org/licenses/gpl-3.0.txt)
"""Devices outside the inventory of a Nebula network (``nebula_mesh_devices``): laptops, phones, hosts no playbook
manages.  Each device made its own key pair (``nebula-cert keygen``) and gives only its public key; the controller
signs its certificate with the network's CA (key ``device:<name>`` in the CA directory and the revocation record,
``devices/<name>.crt``, so it never collides with a member's) and writes a bundle for it: ``config.yml`` (what nebula
runs on the device as is), ``ca.crt`` and ``host.crt``, in a 0700 directory beside the inventory.

Pure functions but the bundle's files: :func:`normalize` checks the list (errors name ``nebula_mesh_devices[N].field``),
:func:`ipam` is what the devices ask of the address manager (``device:<name>``, the same pool as the members),
:func:`bundle` renders a device's files from its plan with nebula_config's own checks and renderer, so no value can
add a key or a line to the configuration."""

from __future__ import absolute_import, division, print_function

__metaclass__ = type

import os
import shutil

from ansible_collections.meshforge.vpn.plugins.module_utils import files
from ansible_collections.meshforge.vpn.plugins.module_utils import validation as v
from ansible_collections.meshforge.vpn.plugins.module_utils.nebula import config as renderer
from ansible_collections.meshforge.vpn.plugins.module_utils.nebula import schema
from ansible_collections.meshforge.vpn.plugins.module_utils.validation import ValidationError
from ansible_collections.meshforge.vpn.plugins.plugin_utils.nebula_pki import DEVICE_PREFIX, public_key_hex

FIELD = 'nebula_mesh_devices'
KEYS = ('name', 'public_key', 'groups', 'address', 'state', 'config_dir')
STATES = ('present', 'absent')
FILES = ('config.yml', 'ca.crt', 'host.crt')


def key(name):
    """The device's name in the address manager, the CA directory and the revocation record."""
    return DEVICE_PREFIX + name


def default_config_dir(network):
    """Where the device keeps its bundle and its key by default (Debian's nebula@.service reads /etc/nebula)."""
    return '%s/%s' % (schema.DEFAULT_CONFIG_DIR, network)


def normalize(raw, members, network, name):
    """``nebula_mesh_devices`` checked: ``[{'name', 'key', 'public_key', 'groups', 'address', 'state',
    'config_dir'}]``.  ``members``: the member names; ``network``: the overlay (ip_network); ``name``: the network's
    name.  Raises ValidationError naming ``nebula_mesh_devices[N].field``."""
    if raw is None:
        raw = []
    if isinstance(raw, (str, dict)) or not isinstance(raw, (list, tuple)):
        raise ValidationError(FIELD, 'must be a list of devices ({name, public_key, groups, address, state})')
    devices, seen, pins = [], {}, {}
    for i, item in enumerate(raw):
        where = '%s[%d]' % (FIELD, i)
        if not isinstance(item, dict):
            raise ValidationError(where, 'must be a dict with name and public_key, got %r' % (item,))
        unknown = sorted(str(k) for k in item if k not in KEYS)
        if unknown:
            raise ValidationError(where, 'unknown keys %s (known: %s)' % (', '.join(unknown), ', '.join(KEYS)))
        device = {'name': schema.nebula_name(where + '.name', item.get('name')),
                  'state': item.get('state') or 'present'}
        if device['name'] in members:
            raise ValidationError(where + '.name', '%s is a member of the network; a device needs a name of its own'
                                  % device['name'])
        if device['name'] in seen:
            raise ValidationError(where + '.name', '%s is also the name of %s[%d]'
                                  % (device['name'], FIELD, seen[device['name']]))
        seen[device['name']] = i
        if device['state'] not in STATES:
            raise ValidationError(where + '.state', '%r is not one of %s' % (device['state'], ', '.join(STATES)))
        device['key'] = key(device['name'])
        groups = item.get('groups') or []
        if isinstance(groups, str) or not isinstance(groups, (list, tuple)):
            raise ValidationError(where + '.groups', 'must be a list of certificate group names')
        device['groups'] = sorted(set(schema.nebula_name('%s.groups[%d]' % (where, j), g) for j, g in enumerate(groups)))
        device['config_dir'] = v.absolute_path(where + '.config_dir', item.get('config_dir') or default_config_dir(name))
        device['public_key'] = None
        device['address'] = None
        if device['state'] == 'present':
            device['public_key'] = item.get('public_key')
            if isinstance(device['public_key'], str):
                device['public_key'] = device['public_key'].strip('\n') + '\n'
            public_key_hex(where + '.public_key', device['public_key'])
            if item.get('address'):
                address = v.address(where + '.address', item['address'])
                if address not in network or address in (network.network_address, network.broadcast_address):
                    raise ValidationError(where + '.address', '%s is outside the network %s (or is its network or '
                                                              'broadcast address)' % (address, network))
                if str(address) in pins:
                    raise ValidationError(where + '.address', '%s is already the address of %s'
                                          % (address, pins[str(address)]))
                device['address'] = pins[str(address)] = str(address)
        devices.append(device)
    return devices


def ipam(devices):
    """``(hosts, pins, release)`` for the address manager: a present device holds an address (its pin, if any), a
    device with state absent gives its address back."""
    present = [d for d in devices if d['state'] == 'present']
    return ([d['key'] for d in present], dict((d['key'], d['address']) for d in present if d['address']),
            [d['key'] for d in devices if d['state'] == 'absent'])


def settings(device, options, certificate, ca_certificate, network):
    """The device's Nebula settings, checked by nebula_config's schema (``options``: the plan's nebula_config-style
    options): its pki names ``ca.crt``, ``host.crt`` and ``host.key`` in the device's ``config_dir``."""
    directory = device['config_dir']
    params = dict(options, network=network, config_dir=directory, key_path=os.path.join(directory, 'host.key'),
                  certificate=certificate, ca_certificate=ca_certificate, sshd_port=0, state='present')
    found = schema.normalize(params)['settings']
    found['pki'].update(ca=os.path.join(directory, 'ca.crt'), cert=os.path.join(directory, 'host.crt'))
    return found


def render(device, options, certificate, ca_certificate, network):
    """The device's ``config.yml``: a comment on where the files go, then the dump of its settings."""
    directory = device['config_dir']
    head = ('# meshforge.vpn: Nebula network %s, device %s (outside the inventory).\n'
            '# Copy ca.crt, host.crt and this file, on the device, to\n#   %s\n'
            '# host.key there is the private key the device made with nebula-cert keygen: it stays on the device;\n'
            '# the controller never had it.  Run: nebula -config %s\n'
            % (network, device['name'], directory, os.path.join(directory, 'config.yml')))
    text = renderer.render(settings(device, options, certificate, ca_certificate, network))
    return head + text[len(renderer.HEADER):]


def bundle(device, options, certificate, ca_certificate, network):
    """``{file name: text}`` of the device's bundle (no private key in any of them)."""
    return {'config.yml': render(device, options, certificate, ca_certificate, network),
            'ca.crt': schema.certificate('ca_certificate', ca_certificate),
            'host.crt': schema.certificate('certificate', certificate)}


def pending(directory, content):
    """The bundle's files that differ from ``content`` (or have another mode), sorted, and ``.`` first when the
    directory is missing or not 0700."""
    names = sorted(name for name, text in content.items()
                   if files.file_needs_change(os.path.join(directory, name), text, 0o600))
    return (['.'] if files.file_mode(directory) != 0o700 else []) + names


def write(directory, content, dry_run=False):
    """Write the files that differ, 0600 in a 0700 directory (nothing in a dry run); what :func:`pending` says."""
    names = pending(directory, content)
    if dry_run:
        return names
    if not os.path.isdir(directory):
        os.makedirs(directory, 0o700)
    os.chmod(directory, 0o700)
    for name in names:
        if name != '.':
            files.write_atomic(os.path.join(directory, name), content[name], 0o600)
    return names


def remove(directory, dry_run=False):
    """Delete the device's bundle; True when there was one."""
    if not os.path.lexists(directory):
        return False
    if not dry_run:
        shutil.rmtree(directory)
    return True
