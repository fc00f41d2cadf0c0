# -*- coding: utf-8 -*-
# Copyright: meshforge.vpn contributors
# GNU General Public License v3.0+ (see https://www.gnu.org/licenses/gpl-3.0.txt)
"""nebula_config on the engine: one Nebula network of a host, its files and its process.

The files are ``<config_dir>/<network>.yml`` (0600: it names the key file), the host certificate
``<network>.crt`` and the CA certificate ``<network>-ca.crt`` (0644, public).  The process is the unit
``nebula@<network>`` where systemd runs (its launcher reads ``/etc/nebula/<network>.yml``), or nebula supervised
by the module where it does not (pid file ``<run_dir>/nebula-<network>.pid``, started again when dead; the pid is
ours only when alive, running nebula, in this network namespace).  A changed file sends SIGHUP (nebula reads its
configuration and certificates again); a changed TUN device or listen socket, which nebula does not take on
SIGHUP, restarts it.  The private key is never read: the files name it, nebula reads it.
"""

from __future__ import absolute_import, division, print_function

__metaclass__ = type

import os
import signal
import time

try:
    from ansible.module_utils.common.yaml import HAS_YAML, yaml_dump, yaml_load
    YAML_IMPORT_ERROR = None
except ImportError as exc:     # older ansible-core without the module
    HAS_YAML, YAML_IMPORT_ERROR = False, exc

from ansible_collections.meshforge.vpn.plugins.module_utils import engine, files, supervise
from ansible_collections.meshforge.vpn.plugins.module_utils import validation as v
from ansible_collections.meshforge.vpn.plugins.module_utils.common import ModuleError, require_library
from ansible_collections.meshforge.vpn.plugins.module_utils.nebula import schema

BINARY_NAMES = ('nebula',)
START_TIMEOUT = 15.0
HEADER = '# Managed by meshforge.vpn (nebula_config). Local changes are overwritten.\n'


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
        if want['state'] == 'present':
            require_library(HAS_YAML, 'PyYAML', YAML_IMPORT_ERROR)
            want['nebula'] = self.host.tool('nebula', package='nebula')
            want['content'] = render(want['settings'])
        manager = want['manager']
        if manager == 'auto':
            manager = 'systemd' if supervise.systemd_booted() else 'daemon'
        want['manager'] = manager
        if manager == 'systemd' and want['config_dir'] != schema.DEFAULT_CONFIG_DIR:
            raise v.ValidationError('config_dir', 'must be %s with systemd: nebula@.service reads its files there'
                                    % schema.DEFAULT_CONFIG_DIR)
        want['unit'] = 'nebula@%s.service' % want['network']
        want['pid_file'] = os.path.join(want['run_dir'], 'nebula-%s.pid' % want['network'])
        want['log_file'] = os.path.join(want['run_dir'], 'nebula-%s.log' % want['network'])
        return want

    def have(self, want):
        text = files.read_text(want['config'])
        have = {'config': text, 'settings': parse(text), 'key_mode': files.file_mode(want['key_path']),
                'pid': None, 'running': False, 'enabled': True}
        if want['manager'] == 'systemd':
            have['running'], have['enabled'] = supervise.unit_state(self.host, want['unit'])
        else:
            pid = supervise.read_pid(want['pid_file'])
            if supervise.is_ours(pid, BINARY_NAMES):
                have['pid'], have['running'] = pid, True
            have['pid_file'] = files.file_mode(want['pid_file']) is not None
        return have

    def files(self, want, have):
        present = want['state'] == 'present'
        return [engine.File(want['config'], want['content'] if present else None, 0o600),
                engine.File(want['cert_path'], want['certificate'] if present else None, 0o644),
                engine.File(want['ca_path'], want['ca_certificate'] if present else None, 0o644)]

    def steps(self, want, have):
        if want['state'] == 'absent':
            return {'stop': have['running'], 'disable': want['manager'] == 'systemd' and have['enabled'],
                    'pid_file': bool(have.get('pid_file'))}
        changed = any(item.pending() for item in self.files(want, have))
        restart = have['running'] and changed and schema.restart_needed(have['settings'], want['settings'])
        return {'start': not have['running'], 'restart': restart,
                'reload': have['running'] and changed and not restart,
                'enable': want['manager'] == 'systemd' and not have['enabled']}

    def check(self, want, have, steps):
        if want['state'] == 'present' and not self.module.check_mode:
            if have['key_mode'] is None:
                raise v.ValidationError('key_path', '%s does not exist; make the pair with meshforge.vpn.nebula_key '
                                                    'first' % want['key_path'])
        if want['state'] == 'present' and have['key_mode'] not in (None, 0o600):
            raise v.ValidationError('key_path', '%s has mode %04o; a private key must be 0600 (nebula_key sets it)'
                                    % (want['key_path'], have['key_mode']))

    def apply(self, want, have, steps):
        if want['manager'] == 'systemd':
            supervise.unit_commands(self.host, want['unit'], stop=steps.get('stop'), disable=steps.get('disable'),
                                    enable=steps.get('enable'), start=steps.get('start'),
                                    restart=steps.get('restart'), reload=steps.get('reload'))
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

    def result(self, want, have, steps):
        result = {'network': want['network'], 'manager': want['manager'], 'config': want['config'],
                  'certificate_path': want['cert_path'], 'ca_certificate_path': want['ca_path'],
                  'key_path': want['key_path'], 'pid': have['pid'],
                  'started': bool(steps.get('start')), 'restarted': bool(steps.get('restart')),
                  'reloaded': bool(steps.get('reload')), 'stopped': bool(steps.get('stop'))}
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
        return [(names[step], detail) for step in ('stop', 'disable', 'enable', 'start', 'restart', 'reload')
                if steps.get(step)]

    def audit_object(self, want):
        return want['network']

    def diff(self, want, have, steps, pending):
        """The configuration file before and after (it holds no secret: it names the key file), and which
        certificate files change (public, but long)."""
        certs = [item.path for item in pending if item.path != want['config']]
        after = want.get('content') or ''
        after += ''.join('# certificate %s: %s\n' % (path, 'removed' if want['state'] == 'absent' else 'written')
                         for path in certs)
        running = '# nebula: %s\n'
        return {'before': (have['config'] or '') + running % ('running' if have['running'] else 'not running'),
                'after': after + running % ('not running' if want['state'] == 'absent' else 'running'),
                'before_header': want['config'], 'after_header': want['config']}


def manage_config(module):
    """The body of nebula_config."""
    return engine.manage(Config(module))
