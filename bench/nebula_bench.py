"""Benchmark of the Nebula network (issue 15, "Speed"): signing, converge against `ansible -m ping`, first packet.

Run as root with the venv of tests/setup.sh (it finds .tmp/collections itself).  Three parts:

  sign     on the controller, no host: --members public keys made beforehand with `nebula-cert keygen` (not timed),
           then (a) plugin_utils.nebula_pki.ensure per member (what the nebula_cert action runs) on a CA made
           beforehand, (b) a bash loop of plain `nebula-cert sign -in-pub` for the same members, (c) ensure again on
           the current certificates (what a re-run pays); interleaved in chunks of --chunk members.  Also counts and
           times the nebula-cert calls ensure makes, by kind.
  converge on a namespace lab nebench (lh1 lighthouse and relay, then web1, db1, app1, web2, ... up to --hosts), as
           bench/bench.py times wireguard_mesh: `ansible all -m ping` next to every cold converge of
           `meshforge.vpn.nebula_mesh` (fresh lab, fresh CA directory and ledger; --cold-repeat) and every re-run
           (--repeat); checks that the cold run brought every tunnel up (every host pings every overlay address) and
           the re-run changed nothing; then a cold run and a re-run with profile_tasks on a fresh lab.
  first    on that last lab, --first-repeat times each: the role's nebula on a node is stopped, then started by the
           bench (`nebula -config /etc/nebula/mesh.yml` in the node's namespace) while the node pings a peer's overlay
           address every 0.05 s; the time from the start to the first reply.  direct: web1 to db1 (found through the
           lighthouse); relay: app1 to db1, whose underlay traffic to each other the lab drops (as the molecule
           scenario does), so only the relay on lh1 carries it.

  .venv/bin/python bench/nebula_bench.py --parts sign [--members 1000] [--chunk 100]
  flock /tmp/meshforge-lab.lock .venv/bin/python bench/nebula_bench.py --parts converge,first [--hosts 4] [--repeat 3]
        [--cold-repeat 3] [--first-repeat 5] [--floor]

The signing part needs no lab, so no lock: hold the lab lock only for the lab parts (all three in one run also
work).  The lab is always torn down, also on Ctrl-C or SIGTERM.
Writes bench/results/nebula-<timestamp>.json and the raw Ansible output in bench/results/nebula-<timestamp>/.
"""

import argparse
import json
import os
import re
import shutil
import signal
import statistics
import subprocess
import sys
import tempfile
import time
import types

sys.path.insert(0, os.path.dirname(os.path.abspath(__file__)))

from bench import ROOT, LAB_PY, RESULTS, Bench, BenchError, Env, Lab, log, summarize  # noqa: E402
from ipam_bench import timed  # noqa: E402  (also puts .tmp/collections on sys.path)
from ansible_collections.meshforge.vpn.plugins.plugin_utils import nebula_pki  # noqa: E402

NETWORK = 'mesh'                      # nebula_mesh_network_name's default: /etc/nebula/mesh.yml
PLAYBOOK = 'meshforge.vpn.nebula_mesh'
RELAY_PAIR = ('app1', 'db1')          # their underlay traffic to each other is dropped: only the relay joins them
DIRECT_PAIR = ('web1', 'db1')
DROP_TABLE = 'lab_underlay_drop'


# --------------------------------------------------------------------------- signing on the controller

def members(count):
    return [('host-%04d' % i, '10.64.%d.%d/16' % ((i + 1) // 256, (i + 1) % 256)) for i in range(count)]


def sign_figures(count, chunk):
    """Keys made (not timed); then, interleaved chunk by chunk (the order alternating) so that a burst of load on the
    machine hits every side: ensure for the chunk's new members, the same members by hand, ensure again."""
    work = tempfile.mkdtemp(prefix='mfbench-nebula-sign-')
    try:
        keys = os.path.join(work, 'keys')
        os.makedirs(keys)
        log('making %d key pairs with nebula-cert keygen (not timed)' % count)
        wants = []
        for name, address in members(count):
            pub = os.path.join(keys, name + '.pub')
            subprocess.run(['nebula-cert', 'keygen', '-out-key', os.path.join(keys, name + '.key'), '-out-pub', pub],
                           check=True)
            with open(pub) as f:
                wants.append({'network': NETWORK, 'name': name, 'address': address, 'groups': ['web'],
                              'public_key': f.read(), 'duration': '8760h', 'ca_duration': '87600h',
                              'renew_before': '720h'})
        ca = nebula_pki.CA(os.path.join(work, 'ca'))
        ca.create(NETWORK, 10 * 365 * 86400)
        calls = {'new': count_calls(ca, {}), 'recheck': {}}
        seconds = {'new': 0.0, 'by_hand': 0.0, 'recheck': 0.0}
        log('signing, interleaved in chunks of %d' % chunk)
        for first in range(0, count, chunk):
            part = wants[first:first + chunk]
            sides = [('new', part), ('by_hand', part), ('recheck', part)]
            for kind, members_ in (sides if (first // chunk) % 2 == 0 else [sides[1], sides[0], sides[2]]):
                if kind == 'by_hand':
                    seconds[kind] += sign_by_hand(work, ca, members_)
                    continue
                count_calls(ca, calls[kind])
                if kind == 'recheck':
                    forget_prints()     # a re-run is a new process: it has printed nothing yet
                start = time.perf_counter()
                signed = sum(1 for args in members_
                             if nebula_pki.ensure(ca, nebula_pki.validate(args), dry_run=False)['signed'])
                seconds[kind] += time.perf_counter() - start
                if signed != (len(members_) if kind == 'new' else 0):
                    raise BenchError('nebula_pki.ensure (%s) signed %d of %d' % (kind, signed, len(members_)))
        del ca._run             # the class's own method again: this is not counted
        one_print = timed(lambda: forget_prints() or ca.describe(ca.crt), 7)[0]
    finally:
        shutil.rmtree(work, ignore_errors=True)
    by_hand = seconds['by_hand']
    result = dict(('%s_s' % kind, round(value, 3)) for kind, value in seconds.items())
    result.update(members=count, chunk=chunk, new_over_by_hand=round(seconds['new'] / by_hand, 2),
                  recheck_over_by_hand=round(seconds['recheck'] / by_hand, 2), one_print_ms=round(one_print * 1000, 2),
                  nebula_cert_calls=dict((kind, dict((k, round(v, 3)) for k, v in c.items()))
                                         for kind, c in calls.items()))
    lines = ['', 'signing %d members on the controller (keys and CA made beforehand; interleaved in chunks of %d)'
             % (count, chunk)]
    for kind, label in (('new', 'nebula_pki.ensure, new members'), ('by_hand', 'nebula-cert sign -in-pub loop (bash)'),
                        ('recheck', 'nebula_pki.ensure, re-check')):
        line = '  %-36s %7.2f s  %6.2f ms each' % (label, seconds[kind], seconds[kind] * 1000 / count)
        if kind != 'by_hand':
            line += '  %.2fx by hand   nebula-cert: %s' % (seconds[kind] / by_hand, fmt_calls(calls[kind], count))
        lines.append(line)
    lines.append('  one `nebula-cert print -json` of the CA certificate: %.2f ms (median of 7)' % (one_print * 1000))
    return result, '\n'.join(lines)


def forget_prints():
    """nebula_pki.CA.describe remembers what it printed for the life of the process (one Ansible worker runs the
    role's whole signing loop): forgotten where the bench models a new run."""
    getattr(nebula_pki, '_DESCRIBED', {}).clear()


def count_calls(ca, calls):
    """From now on, count this CA object's nebula-cert subprocesses in ``calls`` by sub-command, and the seconds in
    them (``<kind> s``).  The module is not changed: only this object's method is wrapped."""
    run = type(ca)._run

    def counting(self, args):
        start = time.perf_counter()
        try:
            return run(self, args)
        finally:
            calls[args[0]] = calls.get(args[0], 0) + 1
            calls[args[0] + ' s'] = calls.get(args[0] + ' s', 0) + time.perf_counter() - start
    ca._run = types.MethodType(counting, ca)
    return calls


def fmt_calls(calls, count):
    kinds = sorted(kind for kind in calls if not kind.endswith(' s'))
    return ', '.join('%.1f %s (%.2f s)' % (calls[kind] / count, kind, calls[kind + ' s'])
                     for kind in kinds) + ' per member'


def sign_by_hand(work, ca, wants):
    """A bash loop of plain nebula-cert sign -in-pub for the same members, as a person would write it; seconds."""
    out = os.path.join(work, 'by-hand')
    shutil.rmtree(out, ignore_errors=True)
    os.makedirs(out)
    lines = ''.join('%s %s\n' % (args['name'], args['address']) for args in wants)
    script = ('while read -r name ip; do nebula-cert sign -ca-crt %s -ca-key %s -name "$name" -ip "$ip" -groups web '
              '-in-pub %s/keys/"$name".pub -out-crt %s/"$name".crt -duration 8760h || exit 1; done'
              % (ca.crt, ca.key, work, out))
    start = time.perf_counter()
    subprocess.run(['bash', '-c', script], input=lines, text=True, check=True)
    elapsed = time.perf_counter() - start
    made = len(os.listdir(out))
    if made != len(wants):
        raise BenchError('the nebula-cert sign loop made %d of %d certificates' % (made, len(wants)))
    return elapsed


# --------------------------------------------------------------------------- the lab

def host_names(size):
    """lh1, then web1, db1, app1, web2, db2, ... up to size hosts."""
    kinds = ('web', 'db', 'app')
    return ['lh1'] + ['%s%d' % (kinds[i % 3], i // 3 + 1) for i in range(size - 1)]


class NebulaLab(Lab):
    """The lab of extensions/molecule/nebula (without out1), with a vars inventory beside the lab's own."""

    def __init__(self, size, work):
        Lab.__init__(self, size)
        self.name = 'nebench'
        self.hosts = host_names(size)
        self.work = work
        self.state_dir = os.path.join(work, 'lab')
        self.vars_inventory = os.path.join(work, 'nebula-vars.yml')

    def group(self, kind):
        return [h for h in self.hosts if h.startswith(kind)]

    def up(self):
        # a fresh CA directory and ledger with every fresh lab: a cold run starts from nothing
        for stale in ('ca', 'ledger.json'):
            path = os.path.join(self.work, stale)
            if os.path.isdir(path):
                shutil.rmtree(path)
            elif os.path.exists(path):
                os.unlink(path)
        groups = [('nebula_mesh', self.hosts), ('nebula_lighthouses', ['lh1']), ('nebula_relays', ['lh1']),
                  ('web', self.group('web')), ('db', self.group('db'))]
        argv = [sys.executable, LAB_PY, 'up', '--lab', self.name, '--state-dir', self.state_dir,
                '--hosts', ','.join(self.hosts), '--private-dir', '/etc/nebula', '--private-dir', '/run/meshforge-vpn']
        for name, hosts in groups:
            argv += ['--group', '%s=%s' % (name, ','.join(hosts))]
        p = subprocess.run(argv, capture_output=True, text=True, check=False)
        if p.returncode != 0:
            raise BenchError('lab up %s failed:\n%s%s' % (self.name, p.stdout, p.stderr))
        self.inventory = p.stdout.strip().splitlines()[-1]
        with open(os.path.join(self.state_dir, 'state.json')) as f:
            self.cp_dir = json.load(f)['cp_dir']
        settings = {'nebula_mesh_network': '10.42.0.0/24', 'nebula_mesh_inventory_groups': ['web', 'db'],
                    'nebula_mesh_certificate_groups': {'app': self.group('app')},
                    'nebula_mesh_policies': [{'name': 'web to db', 'sources': ['web'], 'destinations': ['db'],
                                              'protocol': 'tcp', 'ports': [5432]}],
                    'nebula_mesh_ca_dir': os.path.join(self.work, 'ca'),
                    'nebula_mesh_ipam_ledger': os.path.join(self.work, 'ledger.json'),
                    'nebula_mesh_audit_log': os.path.join(self.work, 'audit.jsonl')}
        with open(self.vars_inventory, 'w') as f:
            json.dump({'all': {'vars': settings}}, f, indent=1)    # JSON is YAML: an inventory file

    def exec_argv(self, host, *cmd):
        return ([sys.executable, LAB_PY, 'exec', '--lab', self.name, '--state-dir', self.state_dir, host, '--']
                + list(cmd))

    def sh(self, host, script, check=True):
        p = subprocess.run(self.exec_argv(host, 'bash', '-c', script), capture_output=True, text=True, check=False)
        if check and p.returncode != 0:
            raise BenchError('%s on %s failed (rc %d): %s%s' % (script[:80], host, p.returncode, p.stdout, p.stderr))
        return p

    def overlay(self):
        """{host: overlay address} from the ledger."""
        with open(os.path.join(self.work, 'ledger.json')) as f:
            allocations = json.load(f)['allocations']
        pool = next(addresses for addresses in allocations.values() if set(self.hosts) <= set(addresses))
        return dict((h, pool[h].split('/')[0]) for h in self.hosts)

    def underlay(self, host):
        with open(os.path.join(self.state_dir, 'state.json')) as f:
            return json.load(f)['hosts'][host]['ipv4']


class NebulaBench(Bench):
    """bench.Bench with the Nebula lab's inventories, playbook and check of the tunnels."""

    def ping_cmd(self, lab):
        return ['ansible', 'all', '-i', lab.inventory, '-i', lab.vars_inventory, '-f', str(self.forks(lab)),
                '-m', 'ansible.builtin.ping']

    def playbook_cmd(self, lab):
        return ['ansible-playbook', '-i', lab.inventory, '-i', lab.vars_inventory, '-f', str(self.forks(lab)), PLAYBOOK]

    def verify_mesh(self, lab):
        """Every host pings every other overlay address (a first packet may start a handshake: 10 tries)."""
        overlay = lab.overlay()
        bad = []
        for src in lab.hosts:
            targets = ' '.join(overlay[dst] for dst in lab.hosts if dst != src)
            script = ('for a in %s; do ok=; for t in $(seq 10); do ping -c1 -W1 -n -q $a >/dev/null && '
                      '{ ok=1; break; }; done; [ -n "$ok" ] || echo "$a"; done' % targets)
            failed = lab.sh(src, script, check=False).stdout.split()
            bad += ['%s->%s' % (src, a) for a in failed]
        self.check(lab, 'every host pings every overlay address (%d pairs)' % (lab.size * (lab.size - 1)),
                   not bad, ' '.join(bad))
        return not bad


# --------------------------------------------------------------------------- time to the first packet

FIRST_SCRIPT = r'''
# the host's overlay address on an interface: a nebula still runs (the measure would be of the old one)
ip -o addr show | grep -q " %(own)s/" && { echo STILL-UP; exit 1; }
echo "T0 $(date +%%s.%%N)"
nebula -config %(config)s >/dev/null 2>&1 &
echo "PID $!"
for i in $(seq 2000); do
    # fails at once while nebula has no route yet; then sends every 0.05 s until the first reply
    if ping -n -q -i 0.05 -c 1 -w 20 %(peer)s >/dev/null 2>&1; then
        echo "REPLY $(date +%%s.%%N)"
        kill -0 $! && exit 0       # the reply came through the nebula started here
        echo EXITED; exit 1
    fi
    sleep 0.005
done
'''


def stop_nebula(lab, host, pid=None):
    """Stop the host's nebula: the one the bench started (pid), else the role's supervised one (its pid file)."""
    if pid is None:
        text = lab.sh(host, 'cat /run/meshforge-vpn/nebula-%s.pid 2>/dev/null || true' % NETWORK).stdout.strip()
        pid = int(text) if text.isdigit() else None
    if pid is None:
        return
    try:
        os.kill(pid, signal.SIGTERM)
    except ProcessLookupError:
        return
    deadline = time.time() + 10
    while time.time() < deadline:
        try:
            os.kill(pid, 0)
        except ProcessLookupError:
            return
        time.sleep(0.02)
    raise BenchError('nebula (pid %d) on %s did not stop' % (pid, host))


def first_packet(lab, host, peer, overlay, ours):
    """Start nebula on host (stopped beforehand) and ping peer until it answers: seconds from the start to the
    reply, both read on the host's clock.  ours[host]: the pid of the nebula started."""
    script = FIRST_SCRIPT % {'config': '/etc/nebula/%s.yml' % NETWORK, 'peer': overlay[peer], 'own': overlay[host]}
    p = lab.sh(host, script, check=False)
    found = dict(re.findall(r'^(PID|T0|REPLY) (\S+)$', p.stdout, re.M))
    if 'PID' in found:
        ours[host] = int(found['PID'])
    if 'REPLY' not in found or p.returncode != 0:
        raise BenchError('no reply from %s to %s after the start: %s%s' % (peer, host, p.stdout, p.stderr))
    return float(found['REPLY']) - float(found['T0'])


def drop_underlay(lab):
    """The lab's nft table on both hosts of RELAY_PAIR dropping what comes from the other one on the underlay."""
    a, b = RELAY_PAIR
    for host, other in ((a, b), (b, a)):
        rules = ('add table inet %(t)s; add chain inet %(t)s input { type filter hook input priority -10; }; '
                 'add rule inet %(t)s input ip saddr %(ip)s counter drop'
                 % {'t': DROP_TABLE, 'ip': lab.underlay(other)})
        subprocess.run(lab.exec_argv(host, 'nft', rules), check=True, capture_output=True)


def dropped(lab):
    """Packets the drop tables dropped (proof that the relay pair tried the direct way)."""
    return sum(int(n) for host in RELAY_PAIR
               for n in re.findall(r'counter packets (\d+)',
                                   lab.sh(host, 'nft list table inet %s' % DROP_TABLE).stdout))


def first_figures(lab, repeat):
    overlay = lab.overlay()
    drop_underlay(lab)
    samples = {'direct': [], 'relay': []}
    ours = {}
    for dummy in range(repeat):
        for kind, (host, peer) in (('direct', DIRECT_PAIR), ('relay', RELAY_PAIR)):
            stop_nebula(lab, host, ours.pop(host, None))
            seconds = first_packet(lab, host, peer, overlay, ours)
            samples[kind].append(round(seconds, 3))
            log('first packet %-6s %s -> %s %.3fs' % (kind, host, peer, seconds))
    samples['underlay_packets_dropped'] = dropped(lab)
    lines = ['', 'time from the start of nebula to the first ping reply (pings every 0.05 s), %d samples each:'
             % repeat]
    for kind, (host, peer) in (('direct', DIRECT_PAIR), ('relay', RELAY_PAIR)):
        s = samples[kind]
        what = 'found through the lighthouse' if kind == 'direct' else 'through the relay on lh1'
        lines.append('  %-6s %s -> %s %-28s min %.3f  median %.3f  max %.3f s   (%s)' % (
            kind, host, peer, what, min(s), statistics.median(s), max(s), ' '.join('%.3f' % x for x in s)))
    lines.append('  underlay packets between %s and %s dropped by the lab: %d'
                 % (RELAY_PAIR + (samples['underlay_packets_dropped'],)))
    return samples, '\n'.join(lines)


# --------------------------------------------------------------------------- main

def main():
    ap = argparse.ArgumentParser(description=__doc__.split('\n\n', maxsplit=1)[0])
    ap.add_argument('--parts', default='sign,converge,first', help='which parts (default sign,converge,first)')
    ap.add_argument('--members', type=int, default=1000, help='members to sign (default 1000)')
    ap.add_argument('--chunk', type=int, default=100, help='members per interleaved chunk of the signing (default 100)')
    ap.add_argument('--hosts', type=int, default=4, help='lab hosts, lh1 included (default 4, at least 4)')
    ap.add_argument('--repeat', type=int, default=3, help='timed ping and re-run samples (default 3)')
    ap.add_argument('--cold-repeat', type=int, default=3, help='cold converges, each on a fresh lab (default 3)')
    ap.add_argument('--first-repeat', type=int, default=5, help='first-packet samples of each kind (default 5)')
    ap.add_argument('--floor', action='store_true',
                    help='also time a playbook of two ansible.builtin.ping tasks next to every re-run (as bench.py)')
    ap.add_argument('--top', type=int, default=8, help='tasks to show from the profile (default 8)')
    a = ap.parse_args()
    parts = set(a.parts.split(','))
    if parts - {'sign', 'converge', 'first'}:
        ap.error('--parts: sign, converge, first')
    if a.hosts < 4 or a.hosts > 40:
        ap.error('--hosts: between 4 and 40')
    lab_parts = parts & {'converge', 'first'}
    if lab_parts and os.geteuid() != 0:
        sys.exit('nebula_bench.py: run as root (the lab creates network namespaces)')
    stamp = time.strftime('%Y%m%d-%H%M%S')
    logdir = os.path.join(RESULTS, 'nebula-%s' % stamp)
    os.makedirs(RESULTS, exist_ok=True)
    result = {'date': stamp, 'parts': sorted(parts)}
    if 'sign' in parts:
        result['sign'], text = sign_figures(a.members, a.chunk)
        print(text, flush=True)
    if lab_parts:
        os.makedirs(logdir)
        lab_figures(a, parts, logdir, result)
    with open(os.path.join(RESULTS, 'nebula-%s.json' % stamp), 'w') as f:
        json.dump(result, f, indent=2)
        f.write('\n')
    logs = '   logs: ' + os.path.relpath(logdir, ROOT) if lab_parts else ''
    print('\nJSON: bench/results/nebula-%s.json%s' % (stamp, logs))
    if result.get('error') or result.get('failures'):
        print('ERROR: %s %s' % (result.get('error') or '', result.get('failures') or ''))
        sys.exit(1)


def lab_figures(a, parts, logdir, result):
    """The converge and first-packet parts on one lab, always torn down."""
    def on_term(signum, frame):
        raise KeyboardInterrupt('signal %d' % signum)
    signal.signal(signal.SIGTERM, on_term)
    signal.signal(signal.SIGHUP, on_term)
    work = tempfile.mkdtemp(prefix='mfbench-nebula-')
    lab = NebulaLab(a.hosts, work)
    env = None
    try:
        env = Env(argparse.Namespace(ref=None), logdir)
        args = argparse.Namespace(forks=0, repeat=a.repeat, cold_repeat=a.cold_repeat, floor=a.floor,
                                  no_profile=False)
        bench = NebulaBench(args, env, [lab])
        if 'converge' in parts:
            profile = bench.run()
            rows, table = summarize(bench, profile, a.top)
            table = table.replace('meshforge.vpn.nebula_mesh : ', '')
            result.update(converge=rows, profile=profile, failures=bench.failures)
            print(table, flush=True)
        else:
            bench.fresh(lab)
            bench.timed_playbook(lab, 'cold')
        if 'first' in parts:
            result['first'], figures = first_figures(lab, a.first_repeat)
            print(figures, flush=True)
    except BenchError as exc:
        result['error'] = str(exc)
        log('ERROR: %s' % exc)
    except KeyboardInterrupt as exc:
        result['error'] = 'interrupted (%s)' % (exc or 'ctrl-c')
        log('interrupted, tearing down')
    finally:
        lab.down()
        if env:
            env.cleanup()
        shutil.rmtree(work, ignore_errors=True)


if __name__ == '__main__':
    main()
