"""Benchmark of the overlay's names on the controller (plugins/plugin_utils/dns.py): no host is touched.

Median of --repeat samples each, for a --hosts member dual-stack ledger:

  records      every ledger address named <host>.<domain>, plus one alias per 10 members
  hosts-text   the addn-hosts file text dnsmasq reads, from those records
  groups       checking --hosts/10 nameserver groups
  plan         the role's whole rendering (mesh_dns_plan): records, text and every member's resolver

With --apply (root; dnsmasq installed), the host side too, once each, in a network namespace of its own
(mfbench-dns, removed at the end): dns_resolver's driver starting a supervised dnsmasq with those records, a re-run
with no change, and a re-run with one record more (a SIGHUP), each until dnsmasq answers the new name.

  python3 bench/dns_bench.py [--hosts 1000] [--repeat 7] [--apply]
"""

import argparse
import ipaddress
import os
import shutil
import subprocess
import sys
import tempfile
import time

sys.path.insert(0, os.path.dirname(os.path.abspath(__file__)))

from ipam_bench import timed  # noqa: E402  (also puts .tmp/collections on sys.path)
from ansible_collections.meshforge.vpn.plugins.plugin_utils import dns  # noqa: E402


def main():
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument('--hosts', type=int, default=1000)
    parser.add_argument('--repeat', type=int, default=7)
    parser.add_argument('--apply', action='store_true')
    args = parser.parse_args()
    net4 = ipaddress.ip_network('10.64.0.0/16')
    net6 = ipaddress.ip_network('fd64::/64')
    names = ['host-%05d' % i for i in range(args.hosts)]
    ledger = {'wg0': dict((name, str(net4[i + 1])) for i, name in enumerate(names)),
              'wg0_v6': dict((name, str(net6[i + 1])) for i, name in enumerate(names))}
    extra = [{'name': 'svc-%d' % i, 'target': names[i]} for i in range(0, args.hosts, 10)]
    groups = [{'name': 'g%d' % i, 'nameservers': [str(net4[i + 1])], 'domains': ['d%d.example' % i]}
              for i in range(max(1, args.hosts // 10))]
    records = dns.mesh_records('mesh.example', ledger, extra)
    text = dns.hosts_text(records)
    settings = {'domain': 'mesh.example', 'stub_address': '127.0.88.53', 'records': extra,
                'nameserver_groups': groups[:3],
                'ledger': dict((n, [ledger['wg0'][n], ledger['wg0_v6'][n]]) for n in names)}
    figures = [
        ('records', timed(lambda: dns.mesh_records('mesh.example', ledger, extra), args.repeat)[0]),
        ('hosts-text', timed(lambda: dns.hosts_text(records), args.repeat)[0]),
        ('groups', timed(lambda: dns.nameserver_groups(groups), args.repeat)[0]),
        ('plan', timed(lambda: dns.plan(names, settings), args.repeat)[0]),
    ]
    if os.environ.get('MFBENCH_INSIDE') != '1':
        print('%d members, %d records, hosts file %d bytes' % (args.hosts, len(records), len(text)))
        for label, seconds in figures:
            print('%-12s %8.2f ms' % (label, seconds * 1000))
    if args.apply:
        apply_figures(text)


class Shim(object):
    """The parts of AnsibleModule the driver uses, for a run outside Ansible."""

    def __init__(self, params):
        self.params, self.check_mode, self._diff, self.no_log_values = params, False, False, set()

    @staticmethod
    def get_bin_path(name, required=False):
        return shutil.which(name)

    @staticmethod
    def run_command(args, data=None, binary_data=False, environ_update=None):
        proc = subprocess.run(args, input=data, capture_output=True, text=not binary_data, check=False,
                              env=dict(os.environ, **(environ_update or {})))
        return proc.returncode, proc.stdout, proc.stderr


def apply_figures(text):
    """Inside the namespace (re-executed there): start, no change, one record more; then absent."""
    if os.environ.get('MFBENCH_INSIDE') != '1':
        subprocess.run(['ip', 'netns', 'add', 'mfbench-dns'], check=True)
        try:
            subprocess.run(['ip', '-n', 'mfbench-dns', 'link', 'set', 'lo', 'up'], check=True)
            subprocess.run(['ip', 'netns', 'exec', 'mfbench-dns', sys.executable] + sys.argv,
                           env=dict(os.environ, MFBENCH_INSIDE='1'), check=True)
        finally:
            subprocess.run(['ip', 'netns', 'delete', 'mfbench-dns'], check=False)
        return
    from ansible_collections.meshforge.vpn.plugins.module_utils.dns import resolver
    top = tempfile.mkdtemp(prefix='mfbench-dns-')
    os.chmod(top, 0o755)        # dnsmasq reads the hosts text after it dropped root
    params = {'name': 'bench', 'state': 'present', 'listen': ['127.0.88.53'], 'port': 53, 'domain': 'mesh.example',
              'hosts': text, 'forward': [], 'upstream': [], 'search_domains': [], 'resolv_conf': False,
              'manager': 'daemon', 'config_dir': top + '/etc', 'run_dir': top + '/run'}

    def run(hosts, name):
        start = time.perf_counter()
        result = resolver.manage_resolver(Shim(dict(params, hosts=hosts)))
        deadline = start + 10
        while not resolver_answers(name):
            if time.perf_counter() > deadline:
                raise SystemExit('dnsmasq does not answer %s; see %s/run/bench.log' % (name, top))
            time.sleep(0.005)
        return time.perf_counter() - start, result

    try:
        name = text.splitlines()[-1].split()[1]
        first, started = run(text, name)
        same, unchanged = run(text, name)
        more, reloaded = run(text + '10.64.255.254 added.mesh.example\n', 'added.mesh.example')
        assert started['started'] and not unchanged['changed'] and reloaded['reloaded']
        for label, seconds in (('apply-start', first), ('apply-same', same), ('apply-record', more)):
            print('%-12s %8.2f ms' % (label, seconds * 1000))
    finally:
        resolver.manage_resolver(Shim(dict(params, state='absent')))
        shutil.rmtree(top)


def resolver_answers(name):
    """dnsmasq on 127.0.88.53 gives ``name`` an address."""
    from ansible_collections.meshforge.vpn.plugins.module_utils.dns import resolver
    return bool(resolver.query('127.0.88.53', 53, name, 1))


if __name__ == '__main__':
    main()
