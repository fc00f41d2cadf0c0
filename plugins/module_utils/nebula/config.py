# -*- coding: utf-8 -*-
# Copyright: meshforge.vpn contributors
# GNU General Public License v3.0+ (see https://www.gnu.org/licenses/gpl-3.0.txt)
"""nebula_config on the engine: one Nebula network of a host, its files and its process.

The files are ``<config_dir>/<network>.yml`` (0600: it names the key file), the host certificate
``<network>.crt`` and the CA certificate ``<network>-ca.crt`` (0644, public).  The process is the unit
``nebula@<network>`` where systemd runs (reading ``/etc/nebula/<network>.yml``), or nebula supervised
by the module where it does not (pid file ``<run_dir>/nebula-<network>.pid``, started again when dead; the pid is
ours only when alive, running nebula, in this network namespace).  A changed file sends SIGHUP (nebula reads its
configuration and certificates again); a changed TUN device or listen socket, which nebula does not take on
SIGHUP, restarts it.  The private key is never read: the files name it, nebula reads it.

Debian's ``nebula@.service`` (1.6.1) starts nebula from a shell launcher that does not ``exec`` it, so its
``ExecReload=kill -HUP $MAINPID`` kills the launcher and systemd stops the unit: a drop-in
``nebula@<network>.service.d/meshforge.conf`` runs nebula itself as the main process, so that SIGHUP reaches it
(found on the systemd container host; the first run where a launcher-started nebula runs restarts it once).

``blocklist`` (certificate fingerprints, ``pki.blocklist``): nebula 1.6 refuses new handshakes with those
certificates after SIGHUP but keeps the tunnels it has (measured: more than 60 s), so the tunnels whose certificate is
on the list are read from nebula's console (``list-hostmap``) and closed there (``close-tunnel``) after the reload,
again until none is left (the blocklisted peer re-handshakes until nebula has read the list).
"""

from __future__ import absolute_import, division, print_function

__metaclass__ = type

import os
import shutil
import signal
import tempfile
import time

try:
    from ansible.module_utils.common.yaml import HAS_YAML, yaml_dump, yaml_load
    YAML_IMPORT_ERROR = None
except ImportError as exc:     # older ansible-core without the module
    HAS_YAML, YAML_IMPORT_ERROR = False, exc

from ansible_collections.meshforge.vpn.plugins.module_utils import engine, files, supervise
from ansible_collections.meshforge.vpn.plugins.module_utils import validation as v
from ansible_collections.meshforge.vpn.plugins.module_utils.common import ModuleError, Refused, require_library
from ansible_collections.meshforge.vpn.plugins.module_utils.nebula import console, schema
from ansible_collections.meshforge.vpn.plugins.module_utils.nebula.key import config_tools

BINARY_NAMES = ('nebula',)
START_TIMEOUT = 15.0
CLOSE_TIMEOUT = 10.0
CLOSE_SETTLE = 3
HEADER = '# Managed by meshforge.vpn (nebula_config). Local changes are overwritten.\n'
DROPIN_DIR = '/etc/systemd/system'


def render_dropin(want):
    """The unit's drop-in: nebula itself is the main process (ExecReload's SIGHUP reaches it)."""
    return HEADER + '[Service]\nExecStart=\nExecStart=%s -config %s\n' % (want.get('nebula') or '/usr/bin/nebula',
                                                                          want['config'])


def require_yaml():
    """PyYAML, which reads the configuration (nebula_info); nebula_config checks it with its tools (missing_tools)."""
    require_library(HAS_YAML, 'PyYAML', YAML_IMPORT_ERROR)


class KeyMismatch(Refused):
    """The host's key pair is not the one the certificate names: the result says ``key_mismatch``, so a role makes
    the pair and signs again."""

    def fail_keys(self):
        return dict(super(KeyMismatch, self).fail_keys(), key_mismatch=True)


class NebulaError(ModuleError):
    """nebula did not start."""


def render(settings):
    """The configuration file: a dump of ``settings`` (never a template), keys sorted."""
    return HEADER + yaml_dump(settings, default_flow_style=False, sort_keys=True)


def parse(text):
    """The settings of a file this module wrote; None when there is none or it does not parse."""
    if not text:
        return None
    try:
        found = yaml_load(text)
    except Exception:   # pylint: disable=broad-except  # a hand-edited file is replaced, not an error
        return None
    return found if isinstance(found, dict) else None


def interface_up(name):
    return os.path.exists(os.path.join('/sys/class/net', name))


class Config(engine.Resource):
    """A Nebula network of this host: three files and a running nebula."""

    kind = 'nebula_config'
    files_first = True

    def want(self):
        want = schema.normalize(self.module.params)
        if want['state'] == 'present':    # missing_tools, so that a role installs them
            want['nebula'], keygen = config_tools(self.host, bool(want['sshd']))
            if keygen:
                want['ssh_keygen'] = keygen
        manager = want['manager']
        if manager == 'auto':
            manager = 'systemd' if supervise.systemd_booted() else 'daemon'
        want['manager'] = manager
        if manager == 'systemd' and want['config_dir'] != schema.DEFAULT_CONFIG_DIR:
            raise v.ValidationError('config_dir', 'must be %s with systemd: nebula@.service reads its files there'
                                    % schema.DEFAULT_CONFIG_DIR)
        want['unit'] = 'nebula@%s.service' % want['network']
        want['dropin'] = os.path.join(DROPIN_DIR, want['unit'] + '.d', 'meshforge.conf')
        want['pid_file'] = os.path.join(want['run_dir'], 'nebula-%s.pid' % want['network'])
        want['log_file'] = os.path.join(want['run_dir'], 'nebula-%s.log' % want['network'])
        return want

    def have(self, want):
        if want['state'] == 'present' and want.get('public_key'):
            # first, also when nothing else would change: the running nebula may still hold the old pair
            found = files.read_text(want['public_key_path'])
            if (found or '').strip('\n') + '\n' != want['public_key']:
                raise KeyMismatch('public_key', '%s on the host is %s, not the public key the certificate was signed '
                                  'for (the host was rebuilt or its key pair replaced); nothing was changed: make the '
                                  'pair and sign again (the nebula_mesh role does)'
                                  % (want['public_key_path'], 'missing' if found is None else 'another key'))
        text = files.read_text(want['config'])
        have = {'config': text, 'settings': parse(text), 'key_mode': files.file_mode(want['key_path']),
                'pid': None, 'running': False, 'enabled': True, 'sshd_keys_made': False, 'sshd_public': None}
        if want['sshd'] and want['state'] == 'present':
            self.sshd_keys(want, have)
        if want['manager'] == 'systemd':
            have['running'], have['enabled'] = supervise.unit_state(self.host, want['unit'])
        else:
            pid = supervise.read_pid(want['pid_file'])
            if supervise.is_ours(pid, BINARY_NAMES):
                have['pid'], have['running'] = pid, True
            have['pid_file'] = files.file_mode(want['pid_file']) is not None
        have['blocked'] = self.blocked(want) if have['running'] and not have['sshd_keys_made'] else []
        return have

    def console(self, want):
        public = files.read_text(want['sshd']['host_key'] + '.pub') or ''
        return console.Console(self.host, want['sshd'], 5, public)

    def blocked(self, want, run=None):
        """The overlay addresses of the tunnels whose certificate is on the blocklist (none without a blocklist, a
        console, or an answer from it)."""
        blocklist = set(((want.get('settings') or {}).get('pki') or {}).get('blocklist') or [])
        if not blocklist or not want['sshd'] or want['state'] != 'present':
            return []
        if run is None:
            with console.Session(self.console(want)) as run:
                return self.blocked(want, run)
        try:
            entries = console.hostmap(run)
        except (ModuleError, ValueError):
            return []
        return sorted(set(str(entry.get('vpnIp')) for entry in entries
                          if (entry.get('cert') or {}).get('fingerprint') in blocklist))

    def sshd_keys(self, want, have):
        """The console's two key pairs (nebula's host key, the key nebula_info logs in with), made on the host with
        ssh-keygen before the state is read, as prerequisites of the file (it names the public one); never read back
        but for their public halves.  In check mode a missing pair is predicted, not made."""
        sshd = want['sshd']
        paths = [sshd['host_key'], sshd['host_key'] + '.pub', sshd['client_key'], sshd['client_key'] + '.pub']
        if all(files.file_mode(path) is not None for path in paths):
            have['sshd_public'] = (files.read_text(sshd['client_key'] + '.pub') or '').strip()
            return
        have['sshd_keys_made'] = True
        if self.module.check_mode:
            have['sshd_public'] = 'ssh-ed25519 (a key pair a real run makes)'
            return
        for key in (sshd['host_key'], sshd['client_key']):
            self.keygen(want, key)
        have['sshd_public'] = files.read_text(sshd['client_key'] + '.pub').strip()

    def keygen(self, want, path):
        """A new ed25519 pair made by ssh-keygen in a private directory, moved to ``path`` (0600) and ``path.pub``."""
        directory = os.path.dirname(path)
        if not os.path.isdir(directory):
            os.makedirs(directory, 0o700)
        tmp = tempfile.mkdtemp(prefix='.nebula-sshd-', dir=directory)
        try:
            key = os.path.join(tmp, 'key')
            self.host.run([want['ssh_keygen'], '-q', '-t', 'ed25519', '-N', '', '-C', 'meshforge-nebula', '-f', key])
            os.chmod(key, 0o600)
            os.rename(key, path)
            files.write_atomic(path + '.pub', files.read_text(key + '.pub'), 0o644)
        finally:
            shutil.rmtree(tmp, ignore_errors=True)

    def content(self, want, have):
        """The configuration file's text (the console's section names the public key made on the host)."""
        settings = dict(want['settings'])
        if want['sshd']:
            settings['sshd'] = schema.sshd_settings(want['sshd'], have['sshd_public'])
        return render(settings)

    def files(self, want, have):
        present = want['state'] == 'present'
        found = [engine.File(want['config'], self.content(want, have) if present else None, 0o600),
                 engine.File(want['cert_path'], want['certificate'] if present else None, 0o644),
                 engine.File(want['ca_path'], want['ca_certificate'] if present else None, 0o644)]
        if not present:
            found += [engine.File(path, None) for key in schema.sshd_paths(want['config_dir'], want['network']).values()
                      for path in (key, key + '.pub')]
        if want['manager'] == 'systemd':
            found.append(engine.File(want['dropin'], render_dropin(want) if present else None, 0o644, 0o755))
        return found

    def steps(self, want, have):
        pending = [item.path for item in self.files(want, have) if item.pending()]
        dropin = want['manager'] == 'systemd' and want['dropin'] in pending
        if want['state'] == 'absent':
            return {'stop': have['running'], 'disable': want['manager'] == 'systemd' and have['enabled'],
                    'pid_file': bool(have.get('pid_file')), 'daemon_reload': dropin}
        changed = bool(pending)
        # a new drop-in: systemd reads it, and a running nebula (perhaps the launcher's) starts again under it
        restart = have['running'] and changed and (dropin or schema.restart_needed(have['settings'], want['settings']))
        return {'start': not have['running'], 'restart': restart,
                'reload': have['running'] and changed and not restart,
                'enable': want['manager'] == 'systemd' and not have['enabled'], 'daemon_reload': dropin,
                'close': [] if restart else have['blocked']}

    def check(self, want, have, steps):
        if want['state'] == 'present' and not self.module.check_mode:
            if have['key_mode'] is None:
                raise v.ValidationError('key_path', '%s does not exist; make the pair with meshforge.vpn.nebula_key '
                                                    'first' % want['key_path'])
        if want['state'] == 'present' and have['key_mode'] not in (None, 0o600):
            raise v.ValidationError('key_path', '%s has mode %04o; a private key must be 0600 (nebula_key sets it)'
                                    % (want['key_path'], have['key_mode']))

    def apply(self, want, have, steps):
        extra = self.manage_process(want, have, steps)
        if steps.get('close'):
            extra = dict(extra or {}, closed=self.close(want, steps['close']))
        return extra

    def close(self, want, addresses):
        """close-tunnel on nebula's console for each blocklisted peer, and again whenever one is back (it handshook
        before nebula had read the blocklist), until none has been seen for CLOSE_SETTLE checks in a row, for up
        to CLOSE_TIMEOUT seconds."""
        deadline = time.time() + CLOSE_TIMEOUT
        with console.Session(self.console(want)) as run:
            left, quiet = list(addresses), 0
            while quiet < CLOSE_SETTLE:
                if left and time.time() > deadline:
                    raise NebulaError('tunnels to %s (blocklisted) are still up %ds after close-tunnel'
                                      % (', '.join(left), CLOSE_TIMEOUT))
                for address in left:
                    run('close-tunnel', address)
                quiet = 0 if left else quiet + 1
                time.sleep(0.3)
                left = self.blocked(want, run)
        return list(addresses)

    def manage_process(self, want, have, steps):
        if want['manager'] == 'systemd':
            # the files (the drop-in too) are written or removed before this: systemd reads them at daemon-reload
            if steps['daemon_reload'] and want['state'] == 'present':
                supervise.daemon_reload(self.host)
            supervise.unit_commands(self.host, want['unit'], stop=steps.get('stop'), disable=steps.get('disable'),
                                    enable=steps.get('enable'), start=steps.get('start'),
                                    restart=steps.get('restart'), reload=steps.get('reload'))
            if steps['daemon_reload'] and want['state'] == 'absent':
                supervise.daemon_reload(self.host)
            return None
        if want['state'] == 'absent':
            if steps['stop']:
                supervise.stop(have['pid'], BINARY_NAMES)
            files.remove(want['pid_file'])
            return None
        if steps['reload']:
            supervise.signal_pid(have['pid'], signal.SIGHUP)
            return {'pid': have['pid']}
        if steps['restart']:
            supervise.stop(have['pid'], BINARY_NAMES)
        return {'pid': self.start(want)}

    def start(self, want):
        """nebula supervised: started detached, up once its TUN device exists."""
        proc = supervise.spawn([want['nebula'], '-config', want['config']], want['run_dir'], want['pid_file'],
                               want['log_file'])
        deadline = time.time() + START_TIMEOUT
        while time.time() < deadline:
            if proc.poll() is not None:
                raise NebulaError('nebula exited with %s at start; see %s' % (proc.returncode, want['log_file']))
            if interface_up(want['interface']):
                return proc.pid
            time.sleep(0.1)
        raise NebulaError('nebula (pid %d) did not bring %s up within %ds; see %s'
                          % (proc.pid, want['interface'], START_TIMEOUT, want['log_file']))

    def result(self, want, have, steps, pending):
        result = {'network': want['network'], 'manager': want['manager'], 'config': want['config'],
                  'certificate_path': want['cert_path'], 'ca_certificate_path': want['ca_path'],
                  'key_path': want['key_path'], 'pid': have['pid'],
                  'started': bool(steps.get('start')), 'restarted': bool(steps.get('restart')),
                  'reloaded': bool(steps.get('reload')), 'stopped': bool(steps.get('stop')),
                  'closed': list(steps.get('close') or [])}
        if want['manager'] == 'systemd':
            result['service'] = want['unit']
        else:
            result['pid_file'] = want['pid_file']
        if want['state'] == 'present':
            result['interface'] = want['interface']
        return result

    def audit(self, want, have, steps):
        names = {'start': 'nebula started', 'restart': 'nebula restarted', 'reload': 'nebula reloaded (SIGHUP)',
                 'enable': 'unit enabled', 'stop': 'nebula stopped', 'disable': 'unit disabled'}
        detail = want['unit'] if want['manager'] == 'systemd' else want['pid_file']
        records = [('console keys created', want['sshd']['client_key'])] if have['sshd_keys_made'] else []
        records += [(names[step], detail) for step in ('stop', 'disable', 'enable', 'start', 'restart', 'reload')
                    if steps.get(step)]
        return records + [('blocklisted tunnel closed', address) for address in steps.get('close') or []]

    def audit_object(self, want):
        return want['network']

    def diff(self, want, have, steps, pending):
        """The configuration file before and after (it holds no secret: it names the key file), and which
        certificate files change (public, but long)."""
        certs = [item.path for item in pending if item.path != want['config']]
        after = self.content(want, have) if want['state'] == 'present' else ''
        after += ''.join('# certificate %s: %s\n' % (path, 'removed' if want['state'] == 'absent' else 'written')
                         for path in certs)
        running = '# nebula: %s\n'
        after += ''.join('# tunnel to %s (blocklisted): closed\n' % address for address in steps.get('close') or [])
        return {'before': (have['config'] or '') + running % ('running' if have['running'] else 'not running'),
                'after': after + running % ('not running' if want['state'] == 'absent' else 'running'),
                'before_header': want['config'], 'after_header': want['config']}


def manage_config(module):
    """The body of nebula_config."""
    return engine.manage(Config(module))
