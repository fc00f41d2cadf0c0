# -*- coding: utf-8 -*-
# Copyright: meshforge.vpn contributors
# GNU General Public License v3.0+ (see https://www.gnu.org/licenses/gpl-3.0.txt)
"""The Nebula host key pair of nebula_key on the engine: generated on the host (``nebula-cert keygen``) into a
private directory, the private key written 0600 and never returned; its public half, read back from the
public key file beside it, is what the controller signs a certificate for."""

from __future__ import absolute_import, division, print_function

__metaclass__ = type

import os
import re
import shutil
import tempfile

from ansible_collections.meshforge.vpn.plugins.module_utils import engine, files
from ansible_collections.meshforge.vpn.plugins.module_utils import validation as v
from ansible_collections.meshforge.vpn.plugins.module_utils.common import MissingTool

PEM = r'-----BEGIN NEBULA X25519 %s KEY-----\n[A-Za-z0-9+/]{43}=\n-----END NEBULA X25519 %s KEY-----\n?'
PRIVATE_RE = re.compile(r'\A%s\Z' % (PEM % ('PRIVATE', 'PRIVATE')))
PUBLIC_RE = re.compile(r'\A%s\Z' % (PEM % ('PUBLIC', 'PUBLIC')))


def read_pem(path, field, pattern, what):
    """The PEM text of ``path`` (None when it does not exist); anything else than one Nebula X25519 key is refused
    naming ``field``, without showing the content."""
    try:
        text = files.read_text(path)
    except (IOError, OSError) as exc:
        raise v.ValidationError(field, '%s cannot be read: %s' % (path, (exc.strerror or exc).lower()))
    if text is not None and not pattern.match(text):
        raise v.ValidationError(field, '%s is not a Nebula X25519 %s key file; it is left as it is' % (path, what))
    return text


def config_tools(host, sshd=True):
    """What nebula_config needs on ``host`` (an engine.Host): PyYAML, ``nebula`` and, for its console (``sshd``),
    ``ssh-keygen``; :class:`~.common.MissingTool` names the first one missing, so a role installs them.  Returns
    ``(nebula, ssh-keygen or None)``: their paths.  nebula_key checks them too (``check_tools``), first in a run."""
    try:
        from ansible.module_utils.common.yaml import HAS_YAML
    except ImportError:     # older ansible-core without the module
        HAS_YAML = False
    if not HAS_YAML:
        raise MissingTool('PyYAML (package python3-yaml) is not installed on the host')
    nebula = host.tool('nebula', package='nebula')
    return nebula, host.tool('ssh-keygen', package='openssh-client') if sshd else None


class NebulaHost(engine.Host):
    """The Nebula tools of this host."""

    def nebula_cert(self):
        return self.tool('nebula-cert', package='nebula')

    def keygen(self, directory):
        """A new key pair made by ``nebula-cert keygen`` in a private directory under ``directory``: (private, public)
        PEM texts.  The temporary files are removed whatever happens."""
        tmp = tempfile.mkdtemp(prefix='.nebula-keygen-', dir=directory)
        try:
            key, pub = os.path.join(tmp, 'host.key'), os.path.join(tmp, 'host.pub')
            self.run([self.nebula_cert(), 'keygen', '-out-key', key, '-out-pub', pub])
            return files.read_text(key), files.read_text(pub)
        finally:
            shutil.rmtree(tmp, ignore_errors=True)


class Key(engine.Resource):
    """The private key file of nebula_key and its public key file; both files are the resource itself."""

    kind = 'nebula_key'

    def __init__(self, module, host=None):
        super(Key, self).__init__(module, host or NebulaHost(module))

    def want(self):
        params = self.module.params
        path = v.host_path('path', params['path'])
        pub = v.host_path('public_key_path', params['public_key_path'] or path + '.pub')
        if pub == path:
            raise v.ValidationError('public_key_path', 'must not be the private key file %s' % path)
        want = {'path': path, 'public_key_path': pub, 'state': params['state'], 'rotate': params['rotate']}
        # missing_tools first, so a role can install nebula and try again; check mode predicts the key without it
        # (the role predicted the installation and installed nothing)
        if want['state'] == 'present' and (params.get('check_tools') or not self.module.check_mode):
            self.host.nebula_cert()
        if want['state'] == 'present' and params.get('check_tools'):
            config_tools(self.host)
        return want

    def have(self, want):
        key = read_pem(want['path'], 'path', PRIVATE_RE, 'private')
        if key is not None:
            self.module.no_log_values.add(key)
            self.module.no_log_values.add(key.splitlines()[1])
        pub = read_pem(want['public_key_path'], 'public_key_path', PUBLIC_RE, 'public')
        return {'key': key, 'public_key': pub, 'mode': files.file_mode(want['path']),
                'pub_mode': files.file_mode(want['public_key_path'])}

    def steps(self, want, have):
        if want['state'] == 'absent':
            return {'remove': have['mode'] is not None or have['pub_mode'] is not None}
        create = have['key'] is None or want['rotate']
        return {'create': create, 'mode': not create and have['mode'] != 0o600,
                'pub_mode': not create and have['pub_mode'] != 0o644}

    def check(self, want, have, steps):
        if want['state'] == 'present' and have['key'] is not None and have['public_key'] is None and not want['rotate']:
            raise v.ValidationError('public_key_path', '%s does not exist beside the private key %s; nebula-cert cannot '
                                    'derive it, set rotate=true to make a new pair' % (want['public_key_path'], want['path']))

    def apply(self, want, have, steps):
        if steps.get('remove'):
            for path in (want['path'], want['public_key_path']):
                files.remove(path)
        elif steps['create']:
            directory = os.path.dirname(want['path'])
            if not os.path.isdir(directory):
                os.makedirs(directory, 0o700)
            key, pub = self.host.keygen(directory)
            self.module.no_log_values.add(key)
            self.module.no_log_values.add(key.splitlines()[1])
            files.write_atomic(want['path'], key, 0o600)
            files.write_atomic(want['public_key_path'], pub, 0o644)
            return {'public_key': pub}
        else:
            if steps['mode']:
                os.chmod(want['path'], 0o600)
            if steps['pub_mode']:
                os.chmod(want['public_key_path'], 0o644)
        return None

    def result(self, want, have, steps, pending):
        present = want['state'] == 'present'
        return {'path': want['path'], 'public_key_path': want['public_key_path'],
                'rotated': bool(present and have['key'] is not None and want['rotate']),
                'public_key': have['public_key'] if present and not steps['create'] else None}

    def audit(self, want, have, steps):
        if steps.get('remove'):
            return [('key removed', '')]
        if steps['create']:
            return [('key rotated' if have['key'] is not None else 'key created', '')]
        records = [('key mode set', '0600')] if steps['mode'] else []
        return records + ([('public key mode set', '0644')] if steps['pub_mode'] else [])

    def diff(self, want, have, steps, pending):
        paths = (want['path'], want['public_key_path'])
        before = ''.join('key %s: %s\n' % (path, 'absent' if mode is None else 'present, mode %04o' % mode)
                         for path, mode in zip(paths, (have['mode'], have['pub_mode'])))
        if want['state'] == 'absent':
            return {'before': before, 'after': ''}
        state = 'new key' if steps['create'] else 'present'
        after = ''.join('key %s: %s, mode %04o\n' % (path, state, mode) for path, mode in zip(paths, (0o600, 0o644)))
        return {'before': before, 'after': after}


def manage_key(module):
    """The body of nebula_key: ensure (or rotate, or remove) a host key pair."""
    return engine.manage(Key(module))
