# -*- coding: utf-8 -*-
# Copyright: meshforge.vpn contributors
# GNU General Public License v3.0+ (see https://www.gnu.org/licenses/gpl-3.0.txt)
"""Two AWX-style jobs of a playbook through ansible-runner, each in a new private data directory.

As AWX does: nothing the first job wrote on the controller survives (the address ledger and the mesh registry live
in the job's directory), except the fact cache, which AWX keeps per host and writes into the next job's directory.
The first job may record the registry (one change) and must say that its controller-side files are new; the second
must change nothing and say nothing of the kind.  Prints one JSON line per job; exits 1 when a check fails.

  awx_jobs.py WORK_DIR PLAYBOOK INVENTORY [INVENTORY...]
"""

from __future__ import absolute_import, division, print_function

import json
import os
import shutil
import sys

import ansible_runner

LOST = 'did not exist although'


def job(work, ident, playbook, inventories, facts_from):
    pdd = os.path.join(work, ident)
    shutil.rmtree(pdd, ignore_errors=True)
    os.makedirs(os.path.join(pdd, 'project'))
    fact_cache = os.path.join(pdd, 'artifacts', ident, 'fact_cache')
    if facts_from:
        shutil.copytree(facts_from, fact_cache)
    runner = ansible_runner.run(
        private_data_dir=pdd, ident=ident, playbook=os.path.abspath(playbook), inventory=inventories, quiet=True,
        fact_cache_type='jsonfile',
        extravars={'wireguard_mesh_ipam_ledger': os.path.join(pdd, 'meshforge_vpn_ipam.json'),
                   'wireguard_mesh_registry': os.path.join(pdd, 'meshforge_vpn_registry.json'),
                   'wireguard_mesh_ipam_storage': 'host'})
    output = runner.stdout.read()
    with open(os.path.join(work, ident + '.log'), 'w') as log:
        log.write(output)
    stats = runner.stats or {}
    return {'job': ident, 'rc': runner.rc, 'status': runner.status, 'changed': stats.get('changed', {}),
            'failures': stats.get('failures', {}), 'unreachable': stats.get('dark', {}), 'lost_state_said': LOST in output,
            'fact_cache': fact_cache}


def main(argv):
    work, playbook, inventories = argv[1], argv[2], argv[3:]
    first = job(work, 'job1', playbook, inventories, None)
    second = job(work, 'job2', playbook, inventories, first['fact_cache'])
    problems = []
    for result in (first, second):
        print(json.dumps(result, sort_keys=True))
        if result['rc'] != 0 or result['failures'] or result['unreachable']:
            problems.append('%s failed (rc %s)' % (result['job'], result['rc']))
    if sum(first['changed'].values()) > 1 or not first['lost_state_said']:
        problems.append('job1: at most the registry record may change and the output must say the state is new')
    if second['changed'] or second['lost_state_said']:
        problems.append('job2: a second job in a new directory must change nothing and find its state')
    for problem in problems:
        print('FAIL: ' + problem)
    return 1 if problems else 0


if __name__ == '__main__':
    sys.exit(main(sys.argv))
