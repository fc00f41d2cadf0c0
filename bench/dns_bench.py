"""Benchmark of the overlay's names on the controller (plugins/plugin_utils/dns.py): no host is touched.

Median of --repeat samples each, for a --hosts member dual-stack ledger:

  records      every ledger address named <host>.<domain>, plus one alias per 10 members
  hosts-text   the addn-hosts file text dnsmasq reads, from those records
  groups       checking --hosts/10 nameserver groups

Applying the records on the hosts (dnsmasq, resolver setup) is not built yet; that side is not measured.

  python3 bench/dns_bench.py [--hosts 1000] [--repeat 7]
"""

import argparse
import ipaddress
import os
import sys

sys.path.insert(0, os.path.dirname(os.path.abspath(__file__)))

from ipam_bench import timed  # noqa: E402  (also puts .tmp/collections on sys.path)
from ansible_collections.meshforge.vpn.plugins.plugin_utils import dns  # noqa: E402


def main():
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument('--hosts', type=int, default=1000)
    parser.add_argument('--repeat', type=int, default=7)
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
    figures = [
        ('records', timed(lambda: dns.mesh_records('mesh.example', ledger, extra), args.repeat)[0]),
        ('hosts-text', timed(lambda: dns.hosts_text(records), args.repeat)[0]),
        ('groups', timed(lambda: dns.nameserver_groups(groups), args.repeat)[0]),
    ]
    print('%d members, %d records, hosts file %d bytes' % (args.hosts, len(records), len(text)))
    for label, seconds in figures:
        print('%-12s %8.2f ms' % (label, seconds * 1000))


if __name__ == '__main__':
    main()
