"""Benchmark of the address manager (plugins/plugin_utils/ipam/) and the planner, on the controller.

Python 3 with the collection importable (run it with the venv of tests/setup.sh; it
finds .tmp/collections itself).  Nothing touches a host.  Side by side in one run,
median of --repeat samples each:

  alloc-one     10,000 hosts allocated in one request (the role's run_once path) in a /16
  stateless     the same 10,000 addresses from addressing.choose_addresses (no ledger):
                what the ledger's bookkeeping costs on top
  alloc-file    --file-hosts hosts allocated one request each against the ledger file,
                lock + load + save every time (the per-host path, as with forks)
  rerun         the 10,000-host request again on the full ledger (nothing changes)
  save/load     writing and parsing the 10,000-host ledger file (JSON, atomically)
  plan-N        plan a --plan-hosts network: allocate (dual stack) then wireguard_mesh plan,
                for hub_spoke (3 hubs) and full mesh

  python3 bench/ipam_bench.py [--hosts 10000] [--file-hosts 1000] [--plan-hosts 1000] [--repeat 5]
"""

import argparse
import base64
import hashlib
import ipaddress
import json
import os
import statistics
import sys
import tempfile
import time

ROOT = os.path.dirname(os.path.dirname(os.path.abspath(__file__)))
sys.path.insert(0, os.path.join(ROOT, '.tmp', 'collections'))

from ansible_collections.meshforge.vpn.plugins.plugin_utils import addressing, topology  # noqa: E402
from ansible_collections.meshforge.vpn.plugins.plugin_utils.ipam import ledger as ipam_ledger, storage  # noqa: E402
from ansible_collections.meshforge.vpn.plugins.plugin_utils.ipam.pools import Pool  # noqa: E402
from ansible_collections.meshforge.vpn.plugins.plugin_utils.ipam.request import apply_request  # noqa: E402


def timed(function, repeat):
    samples = []
    for dummy in range(repeat):
        start = time.perf_counter()
        function()
        samples.append(time.perf_counter() - start)
    return statistics.median(samples), samples


def main():
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument('--hosts', type=int, default=10000)
    parser.add_argument('--file-hosts', type=int, default=1000)
    parser.add_argument('--plan-hosts', type=int, default=1000)
    parser.add_argument('--repeat', type=int, default=5)
    args = parser.parse_args()

    names = ['host-%05d' % i for i in range(args.hosts)]
    pool = Pool('wg0', '10.64.0.0/16', network='wg0')
    pool6 = Pool('wg0_v6', 'fd64::/64', network='wg0')
    figures = {}

    def alloc_one():
        return ipam_ledger.allocate(ipam_ledger.Ledger([pool]), 'wg0', names)

    figures['alloc-one'] = timed(alloc_one, args.repeat)
    full, result = alloc_one()
    assert len(set(result['addresses'].values())) == args.hosts
    figures['stateless'] = timed(lambda: addressing.choose_addresses(names, pool.cidr, {}), args.repeat)
    assert addressing.choose_addresses(names, pool.cidr, {}) == dict(
        (h, ipaddress.ip_address(a)) for h, a in result['addresses'].items())
    figures['rerun'] = timed(lambda: ipam_ledger.allocate(full, 'wg0', names), args.repeat)

    work = tempfile.mkdtemp(prefix='ipam-bench-')
    path = os.path.join(work, 'ledger.json')
    figures['save'] = timed(lambda: storage.save(path, full), args.repeat)
    figures['load'] = timed(lambda: storage.load(path), args.repeat)
    size = os.path.getsize(path)

    def alloc_file():
        os.unlink(path)
        for host in names[:args.file_hosts]:
            storage.update(path, lambda led, host=host: ipam_ledger.allocate(led, 'wg0', [host]), [pool])
    figures['alloc-file'] = timed(alloc_file, max(1, args.repeat // 2))
    assert len(storage.load(path).allocations['wg0']) == args.file_hosts

    members = {}
    for i in range(args.plan_hosts):
        name = 'node-%04d' % i
        key = base64.b64encode(hashlib.sha256(name.encode()).digest()).decode()
        members[name] = {'endpoint': '198.18.%d.%d' % (i // 250, i % 250 + 1), 'public_key': key}
    settings = {'network': '10.64.0.0/16', 'network6': 'fd64::/64', 'interface': 'wg0',
                'defaults': {'listen_port': 51820, 'persistent_keepalive': 25, 'routed_subnets': []}}

    def plan(topo):
        def run():
            request = topology.ipam_request(members, settings)
            ledger = ipam_ledger.Ledger()
            ledger, allocation = apply_request(ledger, hosts=sorted(members), pools=request['pools'],
                                               network=request['network'])
            chosen = dict((n, dict(m)) for n, m in members.items())
            topology.apply_allocation(chosen, settings, allocation['addresses'])
            return topology.plan_mesh(chosen, dict(settings, topology=topo, hubs=sorted(members)[:3]))
        return run
    figures['plan-hub_spoke'] = timed(plan('hub_spoke'), args.repeat)
    figures['plan-full'] = timed(plan('full'), max(1, args.repeat // 2))
    peers = sum(len(p['peers']) for p in plan('full')().values())

    os.unlink(path)
    os.unlink(path + '.lock')
    os.rmdir(work)

    print('address manager and planner, median of samples (seconds)')
    rows = [
        ('alloc-one', '%d hosts in one request' % args.hosts, args.hosts),
        ('stateless', '%d hosts, choose_addresses (no ledger)' % args.hosts, args.hosts),
        ('rerun', '%d hosts again, nothing changes' % args.hosts, args.hosts),
        ('save', 'write the %d-host ledger (%d KiB)' % (args.hosts, size // 1024), None),
        ('load', 'parse and check it', None),
        ('alloc-file', '%d hosts, one locked file update each' % args.file_hosts, args.file_hosts),
        ('plan-hub_spoke', '%d-host hub_spoke: allocate dual stack + plan' % args.plan_hosts, None),
        ('plan-full', '%d-host full mesh: allocate + plan (%d peer entries)' % (args.plan_hosts, peers), None),
    ]
    for key, label, count in rows:
        median, samples = figures[key]
        per = '   %7.1f us/host' % (median / count * 1e6) if count else ''
        print('%-15s %9.3f s  %s%s' % (key, median, label, per))
    print('ratio alloc-one / stateless: %.2fx' % (figures['alloc-one'][0] / figures['stateless'][0]))
    print(json.dumps(dict((k, [round(s, 4) for s in v[1]]) for k, v in figures.items())))


if __name__ == '__main__':
    main()
