# -*- coding: utf-8 -*-
# Copyright: meshforge.vpn contributors
# GNU General Public License v3.0+ (see https://www.gnu.org/licenses/gpl-3.0.txt)
"""One dnsmasq per name (dns_resolver): the mesh domain from a hosts text, match domains to their nameservers,
the rest upstream; optionally the host's own resolver, with its original /etc/resolv.conf kept byte for byte.

Files: ``<config_dir>/<name>.conf`` (dnsmasq's options, one per line, every value checked) and ``<name>.hosts``
(``addn-hosts``, which dnsmasq reads again on SIGHUP), 0644.  dnsmasq runs as the unit ``meshforge-dns-<name>``
where systemd runs, and supervised (:mod:`..supervise`) where it does not.  A changed hosts text is a SIGHUP
(``systemctl reload``), a changed configuration a restart, no change touches nothing.

With ``resolv_conf``, /etc/resolv.conf is copied once to ``<config_dir>/resolv.conf.orig`` and rewritten in place
(it is often a bind mount: containers, ``ip netns exec``) to name the first listen address; the rest of the world
goes to the nameservers the original named.  Removing the instance writes the copy back and deletes it.

Where systemd-resolved runs (``host_resolver``), /etc/resolv.conf belongs to it and is left alone: the VPN link
(``link``) gets per-link DNS (``link_dns``, this host's addresses on the link, where dnsmasq then answers too) and
the routing domains ``~<domain>`` and ``~<match domain>`` (plus the search domains), so only those names go to the
overlay.  resolved forgets a link's settings when the link goes away, so they are persisted as a drop-in of the
link's ``wg-quick@<link>.service`` whose ``ExecStartPost`` lines run ``resolvectl`` after every start of the tunnel
(boot included); state absent removes the drop-in and reverts the link.
"""

from __future__ import absolute_import, division, print_function

__metaclass__ = type

import ipaddress
import os
import signal
import socket
import struct
import time

from ansible_collections.meshforge.vpn.plugins.module_utils import engine, files, supervise
from ansible_collections.meshforge.vpn.plugins.module_utils import validation as v
from ansible_collections.meshforge.vpn.plugins.module_utils.common import MissingTool, ModuleError, Refused
from ansible_collections.meshforge.vpn.plugins.module_utils.dns import names

DEFAULT_CONFIG_DIR = '/etc/meshforge-dns'
DEFAULT_RUN_DIR = '/run/meshforge-dns'
UNIT_DIR = '/etc/systemd/system'
DROPIN_DIR = '/etc/systemd/system'
RESOLV_CONF = '/etc/resolv.conf'
BACKUP = 'resolv.conf.orig'
NAMES = ('dnsmasq',)
DIR_MODE = 0o755
START_TIMEOUT = 10.0


def _header(name):
    return '# Managed by meshforge.vpn (dns_resolver %s). Local changes are overwritten.\n' % name


def _addresses(field, values):
    result = []
    for index, value in enumerate(values or []):
        address = v.address('%s[%d]' % (field, index), value)
        if str(address) not in result:
            result.append(str(address))
    return result


def _domains(field, values):
    return [names.domain('%s[%d]' % (field, index), value) for index, value in enumerate(values or [])]


def normalize(params):
    """The options, checked before anything is touched."""
    want = {'name': names.label('name', params['name']), 'state': params.get('state') or 'present'}
    for option, default in (('config_dir', DEFAULT_CONFIG_DIR), ('run_dir', DEFAULT_RUN_DIR)):
        want[option] = v.host_path(option, params.get(option) or default)
    want['manager'] = params.get('manager') or 'auto'
    if want['manager'] == 'auto':
        want['manager'] = 'systemd' if supervise.systemd_booted() else 'daemon'
    base = os.path.join(want['config_dir'], want['name'])
    want.update(conf=base + '.conf', hosts_file=base + '.hosts', backup=os.path.join(want['config_dir'], BACKUP),
                unit='meshforge-dns-%s.service' % want['name'],
                pid_file=os.path.join(want['run_dir'], want['name'] + '.pid'))
    want['unit_file'] = os.path.join(UNIT_DIR, want['unit'])
    want['resolv_conf'] = bool(params.get('resolv_conf')) and want['state'] == 'present'
    want['link'] = params.get('link') and v.interface_name('link', params['link'])
    want['host_resolver'] = params.get('host_resolver') or 'auto'
    if want['host_resolver'] == 'resolved' and not want['link']:
        raise v.ValidationError('host_resolver', 'resolved needs the VPN interface in link')
    if want['link']:
        want['dropin'] = os.path.join(DROPIN_DIR, 'wg-quick@%s.service.d' % want['link'],
                                      'meshforge-dns-%s.conf' % want['name'])
    if want['state'] == 'absent':
        want['resolved'] = False
        return want
    want['listen'] = _addresses('listen', params.get('listen'))
    if not want['listen']:
        raise v.ValidationError('listen', 'give at least one address to answer on')
    want['port'] = v.port('port', params.get('port') or 53)
    if want['resolv_conf'] and want['port'] != 53:
        raise v.ValidationError('port', '/etc/resolv.conf can only name a resolver on port 53, not %d' % want['port'])
    want['domain'] = names.domain('domain', params.get('domain'))
    want['hosts'] = names.hosts_text('hosts', params.get('hosts') or '')
    forward = []
    for index, entry in enumerate(params.get('forward') or []):
        where = 'forward[%d]' % index
        v.known_options(where, entry, ('domains', 'nameservers'))
        domains = _domains(where + '.domains', entry.get('domains'))
        servers = _addresses(where + '.nameservers', entry.get('nameservers'))
        if not domains or not servers:
            raise v.ValidationError(where, 'give at least one domain and one nameserver')
        if want['domain'] in domains:
            raise v.ValidationError(where + '.domains', '%s is the mesh domain, which this resolver answers itself'
                                    % want['domain'])
        forward.append({'domains': domains, 'nameservers': servers})
    want['forward'] = forward
    want['search_domains'] = _domains('search_domains', params.get('search_domains'))
    want['upstream'] = (None if params.get('upstream') is None
                        else _addresses('upstream', params.get('upstream')))
    link_dns = params.get('link_dns')
    want['link_dns'] = (_addresses('link_dns', link_dns) if link_dns is not None
                        else [a for a in want['listen'] if not ipaddress.ip_address(a).is_loopback])
    want['link_domains'] = ['~' + want['domain']] + ['~' + d for e in forward for d in e['domains']] + \
        list(want['search_domains'])
    if params.get('link_default_route'):
        # a primary nameserver: every name goes to the link (and from dnsmasq to the upstream), not only the domain
        want['link_domains'].append('~.')
    want['resolved'] = want['resolv_conf'] and bool(want['link']) and (
        want['host_resolver'] == 'resolved' or (want['host_resolver'] == 'auto' and resolved_running()))
    if want['resolved']:
        if not want['link_dns'] or any(ipaddress.ip_address(a).is_loopback for a in want['link_dns']):
            raise v.ValidationError('link_dns', 'systemd-resolved asks a link\'s DNS servers through the link: give '
                                                'this host\'s addresses on %s, not loopback ones' % want['link'])
        want['listen'] += [a for a in want['link_dns'] if a not in want['listen']]
        want['resolv_conf'] = False
    return want


def resolved_running():
    """systemd-resolved answers here: systemd is init and its varlink socket is there."""
    return supervise.systemd_booted() and os.path.exists('/run/systemd/resolve/io.systemd.Resolve')


def render_dropin(want, resolvectl):
    """The wg-quick@<link> drop-in that gives the link its DNS after every start; '-': a resolved that is down
    never keeps the tunnel from coming up."""
    return ''.join([
        _header(want['name']), '[Service]\n',
        'ExecStartPost=-%s dns %s %s\n' % (resolvectl, want['link'], ' '.join(want['link_dns'])),
        'ExecStartPost=-%s domain %s %s\n' % (resolvectl, want['link'], ' '.join(want['link_domains']))])


def link_values(text):
    """The values ``resolvectl dns|domain <link>`` prints (``Link 5 (wg0): a b``), server names dropped."""
    found = []
    for line in (text or '').splitlines():
        if '):' in line:
            found += [w.split('#', 1)[0] for w in line.split('):', 1)[1].split()]
    return found


def resolv_nameservers(text):
    """The nameserver addresses of a resolv.conf text, in order (what the C library would ask)."""
    found = []
    for line in (text or b'').decode('utf-8', 'replace').splitlines():
        words = line.split()
        if len(words) >= 2 and words[0] == 'nameserver':
            try:
                found.append(str(ipaddress.ip_address(words[1].split('%', 1)[0])))
            except ValueError:
                continue
    return found


def render_resolv(want, original):
    """The host's resolv.conf pointing at this resolver; the original's search and options lines stay."""
    out = [_header(want['name']), '# The original is kept in %s and comes back when the resolver is removed.\n'
           % want['backup'], 'nameserver %s\n' % want['listen'][0]]
    search = list(want['search_domains'])
    options = []
    for line in (original or b'').decode('utf-8', 'replace').splitlines():
        words = line.split()
        if words and words[0] in ('search', 'domain'):
            search += [w for w in words[1:] if w not in search]
        elif words and words[0] == 'options':
            options.append(' '.join(words) + '\n')
    if search:
        out.append('search %s\n' % ' '.join(search))
    return ''.join(out + options)


def render_config(want, upstream):
    out = [_header(want['name']), 'port=%d\n' % want['port']]
    out += ['listen-address=%s\n' % address for address in want['listen']]
    # bind-dynamic: only these addresses, taken as they come and go (an overlay address follows its tunnel);
    # no-resolv and no-hosts: nothing but what this file says; pid-file empty: the unit or the module tracks it
    out += ['bind-dynamic\n', 'no-resolv\n', 'no-hosts\n', 'pid-file=\n', 'domain-needed\n',
            'local=/%s/\n' % want['domain'], 'addn-hosts=%s\n' % want['hosts_file']]
    for entry in want['forward']:
        for server in entry['nameservers']:
            out.append('server=/%s/%s\n' % ('/'.join(entry['domains']), server))
    out += ['server=%s\n' % server for server in upstream]
    return ''.join(out)


def render_unit(want, binary):
    return ''.join([
        _header(want['name']),
        '[Unit]\n', 'Description=meshforge.vpn DNS resolver %s (dnsmasq)\n' % want['name'],
        'After=network.target\n', '\n',
        '[Service]\n', 'Type=simple\n',
        'ExecStart=%s\n' % ' '.join(daemon_argv(want, binary)),
        'ExecReload=/bin/kill -HUP $MAINPID\n', 'Restart=on-failure\n', '\n',
        '[Install]\n', 'WantedBy=multi-user.target\n'])


def daemon_argv(want, binary):
    return [binary, '--keep-in-foreground', '--log-facility=-', '--conf-file=%s' % want['conf']]


def query(address, port, name, qtype=6):
    """The number of answers a DNS server on ``address``:``port`` gives to a ``qtype`` query of ``name`` (6: SOA,
    1: A), or None when nothing replies."""
    qname = b''.join(struct.pack('B', len(part)) + part.encode('ascii') for part in name.split('.')) + b'\0'
    packet = struct.pack('>HHHHHH', 0x6d66, 0x0100, 1, 0, 0, 0) + qname + struct.pack('>HH', qtype, 1)
    family = socket.AF_INET6 if ':' in address else socket.AF_INET
    sock = socket.socket(family, socket.SOCK_DGRAM)
    sock.settimeout(0.3)
    try:
        sock.sendto(packet, (address, port))
        reply = sock.recv(512)
    except (IOError, OSError):
        return None
    finally:
        sock.close()
    if len(reply) < 12 or reply[:2] != packet[:2]:
        return None
    return struct.unpack('>H', reply[6:8])[0]


def answers(address, port, zone):
    """A DNS server answers on ``address``:``port`` (a SOA query of ``zone``; any reply counts)."""
    return query(address, port, zone) is not None


class ResolverError(ModuleError):
    """dnsmasq did not start or answer."""


class Bytes(engine.File):
    """A file kept byte for byte (the copy of the original resolv.conf)."""

    def pending(self):
        if self.content is None:
            return files.file_mode(self.path) is not None
        return files.read_bytes(self.path) != self.content or files.file_mode(self.path) != self.mode


class InPlace(Bytes):
    """/etc/resolv.conf: rewritten in place, because it is often a bind mount that a rename cannot replace."""

    def pending(self):
        return files.read_bytes(self.path) != self.content

    def write(self):
        with open(self.path, 'wb') as handle:
            handle.write(self.content)
            handle.flush()
            os.fsync(handle.fileno())


class Resolver(engine.Resource):
    kind = 'dns_resolver'

    @property
    def files_first(self):
        # present: the files before the daemon reads them; absent: stop the daemon before its files go
        return self.module.params.get('state') != 'absent'

    def want(self):
        return normalize(self.module.params)

    def have(self, want):
        have = {'resolv': files.read_bytes(RESOLV_CONF), 'backup': files.read_bytes(want['backup']),
                'dir_mode': files.file_mode(want['config_dir']),
                'resolv_link': os.path.islink(RESOLV_CONF), 'binary': self.host.tool('dnsmasq', required=False)}
        if want.get('resolved'):
            have['link_dns'], have['link_domains'] = self.link_state(want)
        elif want['link'] and files.read_text(want['dropin']) is not None:
            have['link_dns'], have['link_domains'] = self.link_state(want)
        if want['manager'] == 'systemd':
            have['running'], have['enabled'] = supervise.unit_state(self.host, want['unit'])
        else:
            have['pid'] = supervise.read_pid(want['pid_file'])
            have['running'] = supervise.is_ours(have['pid'], NAMES, '--conf-file=%s' % want['conf'])
        return have

    def link_state(self, want):
        """The link's DNS servers and domains as resolved holds them; None when the link or resolved is not
        there (the drop-in gives them when wg-quick brings the link up)."""
        resolvectl = self.host.tool('resolvectl', required=False)
        if resolvectl is None:
            return None, None
        found = []
        for verb in ('dns', 'domain'):
            rc, out, dummy = self.host.probe([resolvectl, verb, want['link']])
            if rc:
                return None, None
            found.append(link_values(out))
        return found[0], found[1]

    def original(self, have):
        return have['backup'] if have['backup'] is not None else have['resolv']

    def upstream(self, want, have):
        if want['upstream'] is not None:
            return want['upstream']
        return [s for s in resolv_nameservers(self.original(have)) if s not in want['listen']]

    def ours(self, want, text):
        return (text or b'').startswith(_header(want['name']).encode())

    def desired_files(self, want, have):
        if want['state'] == 'absent':
            return {}
        found = {'conf': render_config(want, self.upstream(want, have)), 'hosts': want['hosts']}
        if want['manager'] == 'systemd':
            found['unit'] = render_unit(want, have['binary'] or '/usr/sbin/dnsmasq')
        if want['resolved']:
            found['dropin'] = render_dropin(want, self.host.tool('resolvectl', required=False) or '/usr/bin/resolvectl')
        return found

    def files(self, want, have):
        desired = self.desired_files(want, have)
        found = [engine.File(want['conf'], desired.get('conf'), 0o644, DIR_MODE),
                 engine.File(want['hosts_file'], desired.get('hosts'), 0o644, DIR_MODE)]
        if want['manager'] == 'systemd' or want['state'] == 'absent':
            found.append(engine.File(want['unit_file'], desired.get('unit'), 0o644, 0o755))
        if want['link']:
            found.append(engine.File(want['dropin'], desired.get('dropin'), 0o644, 0o755))
        if want['resolv_conf']:
            found.append(Bytes(want['backup'], self.original(have), 0o644, 0o755))
        elif self.restores(want, have):
            found.append(Bytes(want['backup'], None))
        return found

    def restores(self, want, have):
        return have['backup'] is not None and self.ours(want, have['resolv'])

    def steps(self, want, have):
        desired = self.desired_files(want, have)
        changed = dict((key, files.file_needs_change(path, desired[key], 0o644))
                       for key, path in (('conf', want['conf']), ('hosts', want['hosts_file']),
                                         ('unit', want['unit_file'])) if key in desired)
        steps = {'start': False, 'restart': False, 'reload': False, 'daemon_reload': False, 'stop': False,
                 'enable': False, 'point': None, 'restore': None, 'dir_mode': False, 'link': None, 'revert': False}
        if want['link']:
            content = desired.get('dropin')
            changed['dropin'] = files.read_text(want['dropin']) != content or \
                (content is not None and files.file_mode(want['dropin']) != 0o644)
            steps['daemon_reload'] = changed['dropin']
        if want['resolved'] and have['link_dns'] is not None and \
                (have['link_dns'] != want['link_dns'] or have['link_domains'] != want['link_domains']):
            steps['link'] = (want['link_dns'], want['link_domains'])
        elif not want['resolved'] and have.get('link_dns') is not None and changed.get('dropin'):
            steps['revert'] = True
        if want['state'] == 'absent':
            steps['stop'] = have['running'] or bool(have.get('enabled'))
        else:
            steps['daemon_reload'] = changed.get('unit', False) or steps['daemon_reload']
            steps['start'] = not have['running']
            steps['enable'] = want['manager'] == 'systemd' and not have['enabled']
            steps['restart'] = have['running'] and (changed['conf'] or changed.get('unit', False))
            # dnsmasq drops root before it reads the hosts text: the directory must let it through (and a dnsmasq
            # that could not read it reads it again)
            steps['dir_mode'] = have['dir_mode'] not in (None, DIR_MODE)
            steps['reload'] = have['running'] and (changed['hosts'] or steps['dir_mode']) and not steps['restart']
        if want['resolv_conf']:
            text = render_resolv(want, self.original(have)).encode()
            if have['resolv'] != text:
                steps['point'] = text
        elif self.restores(want, have):
            steps['restore'] = have['backup']
        return steps

    def check(self, want, have, steps):
        if have['binary'] is None and want['state'] == 'present' and (steps['start'] or steps['restart']):
            raise MissingTool('dnsmasq is not installed on the host (package dnsmasq-base)')
        if want.get('resolved') and self.host.tool('resolvectl', required=False) is None:
            raise MissingTool('resolvectl is not installed on the host (package systemd-resolved)')
        if steps['point'] is not None:
            if self.original(have) is None:
                raise Refused('resolv_conf', '%s does not exist, so there is nothing to keep and give back' % RESOLV_CONF)
            if have['resolv_link']:
                raise Refused('resolv_conf', '%s is a symlink, so another program (systemd-resolved, resolvconf) '
                              'manages it; leave it to that program' % RESOLV_CONF)
            if have['backup'] is not None and not self.ours(want, have['resolv']) and \
                    (have['resolv'] or b'').startswith(b'# Managed by meshforge.vpn (dns_resolver '):
                raise Refused('resolv_conf', '%s already names another dns_resolver instance' % RESOLV_CONF)

    def apply(self, want, have, steps):
        result = {}
        if want['state'] == 'present' and files.file_mode(want['config_dir']) != DIR_MODE:
            os.chmod(want['config_dir'], DIR_MODE)
        if steps['daemon_reload'] and want['link'] and not self.desired_files(want, have).get('dropin'):
            # a drop-in that goes must be gone before systemd reloads, or systemd keeps it (the engine removes
            # files after apply when the state is absent)
            files.remove(want['dropin'])
        if steps['restore'] is not None:
            InPlace(RESOLV_CONF, steps['restore']).write()
        if want['manager'] == 'systemd':
            self.apply_systemd(want, have, steps)
        else:
            result.update(self.apply_daemon(want, have, steps))
        if steps['point'] is not None:
            InPlace(RESOLV_CONF, steps['point']).write()
        self.apply_link(want, steps)
        return result

    def apply_link(self, want, steps):
        """The link's DNS now (after dnsmasq answers on the link), or its own settings back."""
        if steps['daemon_reload'] and want['manager'] != 'systemd':
            supervise.daemon_reload(self.host)
        resolvectl = self.host.tool('resolvectl', required=False) if steps['link'] or steps['revert'] else None
        if steps['link']:
            self.host.run([resolvectl, 'dns', want['link']] + steps['link'][0])
            self.host.run([resolvectl, 'domain', want['link']] + steps['link'][1])
        if steps['revert']:
            self.host.run([resolvectl, 'revert', want['link']])

    def apply_systemd(self, want, have, steps):
        if steps['stop']:
            supervise.unit_commands(self.host, want['unit'], stop=have['running'], disable=have['enabled'])
            files.remove(want['unit_file'])
            steps['daemon_reload'] = True
        if steps['daemon_reload']:
            supervise.daemon_reload(self.host)
        if want['state'] == 'present':
            supervise.unit_commands(self.host, want['unit'], enable=not have['enabled'], start=not have['running'],
                                    restart=steps['restart'], reload=steps['reload'])

    def apply_daemon(self, want, have, steps):
        marker = '--conf-file=%s' % want['conf']
        if steps['reload']:
            supervise.signal_pid(have['pid'], signal.SIGHUP)
        if steps['stop'] or steps['restart']:
            supervise.stop(have['pid'], NAMES, marker)
        if steps['stop']:
            files.remove(want['pid_file'])
            return {}
        if not (steps['start'] or steps['restart']):
            return {}

        return {'pid': self.start(want)}

    def start(self, want):
        """dnsmasq started detached; its pid once it answers on the first listen address."""
        log_path = os.path.join(want['run_dir'], want['name'] + '.log')
        proc = supervise.spawn(daemon_argv(want, self.host.tool('dnsmasq', package='dnsmasq-base')), want['run_dir'],
                               want['pid_file'], log_path)
        where = (want['listen'][0], want['port'])
        for dummy in range(int(START_TIMEOUT / 0.05)):
            if proc.poll() is not None:
                raise ResolverError('dnsmasq exited with %s at start; see %s' % (proc.poll(), log_path))
            if answers(where[0], where[1], want['domain']):
                return proc.pid
            time.sleep(0.05)
        raise ResolverError('dnsmasq (pid %d) does not answer on %s port %d after %ds; see %s'
                            % ((proc.pid,) + where + (START_TIMEOUT, log_path)))

    def result(self, want, have, steps, pending):
        result = {'name': want['name'], 'state': want['state'], 'manager': want['manager'],
                  'config_file': want['conf'], 'hosts_file': want['hosts_file'],
                  'started': bool(steps['start']), 'restarted': bool(steps['restart']),
                  'reloaded': bool(steps['reload']), 'stopped': bool(steps['stop']),
                  'resolv_conf': 'pointed' if steps['point'] is not None else
                  'restored' if steps['restore'] is not None else 'unchanged',
                  'host_resolver': 'resolved' if want['resolved'] else 'resolv_conf' if want['resolv_conf'] else 'none'}
        if want['resolved']:
            result['link'] = {'name': want['link'], 'dns': want['link_dns'], 'domains': want['link_domains']}
        if want['state'] == 'present':
            result['upstream'] = self.upstream(want, have)
            result['records'] = len(want['hosts'].splitlines())
        if want['manager'] == 'systemd':
            result['service'] = want['unit']
        elif have.get('running'):
            result['pid'] = have['pid']
        return result

    def diff(self, want, have, steps, pending):
        desired = self.desired_files(want, have)
        before, after = [], []
        for key, path in (('conf', want['conf']), ('hosts', want['hosts_file'])):
            before.append('# %s\n%s' % (path, files.read_text(path) or ''))
            after.append('# %s\n%s' % (path, desired.get(key) or ''))
        if steps['point'] is not None or steps['restore'] is not None:
            before.append('# %s\n%s' % (RESOLV_CONF, (have['resolv'] or b'').decode('utf-8', 'replace')))
            after.append('# %s\n%s' % (RESOLV_CONF, (steps['point'] or steps['restore']).decode('utf-8', 'replace')))
        return {'before': ''.join(before), 'after': ''.join(after), 'before_header': want['name'],
                'after_header': want['name']}

    def audit(self, want, have, steps):
        found = []
        for key, change in (('start', 'started'), ('restart', 'restarted'), ('reload', 'reloaded records'),
                            ('stop', 'stopped')):
            if steps[key]:
                found.append((change, 'dnsmasq'))
        if steps['dir_mode']:
            found.append(('mode set', '%s 0755' % want['config_dir']))
        if steps['point'] is not None:
            found.append(('resolver pointed', '%s names %s' % (RESOLV_CONF, want['listen'][0])))
        if steps['restore'] is not None:
            found.append(('resolver restored', RESOLV_CONF))
        if steps['link']:
            found.append(('link DNS set', ' '.join([want['link']] + steps['link'][0] + steps['link'][1])))
        if steps['revert']:
            found.append(('link DNS reverted', want['link']))
        return found


def manage_resolver(module):
    """The body of dns_resolver."""
    return engine.manage(Resolver(module))
