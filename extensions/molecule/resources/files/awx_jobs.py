# -*- coding: utf-8 -*-
# Copyright: meshforge.vpn contributors
# GNU General Public License v3.0+ (see https://www.gnu.org/licenses/gpl-3.0.txt)
"""AWX-style jobs through ansible-runner, each in a new private data directory: the converge twice, then the status.

As AWX does: nothing a job wrote on the controller survives (the address ledger and the mesh registry live in the
job's directory), except the fact cache, which AWX keeps per host and writes into the next job's directory, and the
extra variables come from the job template.  The first converge may record the registry (one change) and must say
that its controller-side files are new; the second must change nothing on any host (counted from its events) and say
nothing of the kind; the status job must find every peer connected.  No event of any job may contain a secret.
Prints one JSON line per job; exits 1 when a check fails.

  awx_jobs.py WORK_DIR CONVERGE_PLAYBOOK STATUS_PLAYBOOK SECRETS_JSON INVENTORY [INVENTORY...]

SECRETS_JSON is a 0600 file ``{name: secret}`` (private keys, preshared keys, the preshared key secret).
"""

from __future__ import absolute_import, division, print_function

import collections
import json
import os
import shutil
import sys

import ansible_runner

LOST = 'did not exist although'
COUNTED = {'runner_on_ok': 'ok', 'runner_on_failed': 'failed', 'runner_on_unreachable': 'unreachable'}


def per_host(events):
    """``{host: {ok, changed, failed, unreachable}}`` counted from the job's task events, as AWX's job host summary."""
    counts = collections.defaultdict(collections.Counter)
    for event in events:
        data = event.get('event_data') or {}
        kind = COUNTED.get(event.get('event'))
        if kind and data.get('host'):
            counts[data['host']][kind] += 1
            if kind == 'ok' and (data.get('res') or {}).get('changed'):
                counts[data['host']]['changed'] += 1
    return dict((host, dict(c)) for host, c in sorted(counts.items()))


def job(work, ident, playbook, inventories, facts_from, extravars, secrets):
    pdd = os.path.join(work, ident)
    shutil.rmtree(pdd, ignore_errors=True)
    os.makedirs(os.path.join(pdd, 'project'))
    fact_cache = os.path.join(pdd, 'artifacts', ident, 'fact_cache')
    if facts_from:
        shutil.copytree(facts_from, fact_cache)
    variables = {'wireguard_mesh_ipam_ledger': os.path.join(pdd, 'meshforge_vpn_ipam.json'),
                 'wireguard_mesh_registry': os.path.join(pdd, 'meshforge_vpn_registry.json'),
                 'wireguard_mesh_ipam_storage': 'host'}
    variables.update(extravars)
    runner = ansible_runner.run(private_data_dir=pdd, ident=ident, playbook=os.path.abspath(playbook),
                                inventory=inventories, quiet=True, fact_cache_type='jsonfile', extravars=variables)
    output = runner.stdout.read()
    with open(os.path.join(work, ident + '.log'), 'w') as log:
        log.write(output)
    events = list(runner.events)
    text = '\n'.join(json.dumps(event, sort_keys=True) for event in events)
    return {'job': ident, 'rc': runner.rc, 'status': runner.status, 'hosts': per_host(events), 'events': len(events),
            'lost_state_said': LOST in output, 'fact_cache': fact_cache, 'output': output,
            'secrets_seen': sorted(name for name, secret in secrets.items() if secret in text or secret in output)}


def main(argv):
    work, converge, status, secrets_file, inventories = argv[1], argv[2], argv[3], argv[4], argv[5:]
    with open(secrets_file) as f:
        secrets = dict((name, value) for name, value in json.load(f).items() if value)
    first = job(work, 'job1', converge, inventories, None, {}, secrets)
    second = job(work, 'job2', converge, inventories, first['fact_cache'], {}, secrets)
    third = job(work, 'status', status, inventories, second['fact_cache'],
                {'wireguard_status_format': 'json', 'wireguard_status_output_dir': os.path.join(work, 'status', 'files')},
                secrets)
    problems = []
    for result in (first, second, third):
        output = result.pop('output')
        print(json.dumps(result, sort_keys=True))
        if result['rc'] != 0 or any(c.get('failed') or c.get('unreachable') for c in result['hosts'].values()):
            problems.append('%s failed (rc %s)' % (result['job'], result['rc']))
        if not result['hosts']:
            problems.append('%s: no host took part' % result['job'])
        if result['secrets_seen']:
            problems.append('%s: its events or output contain %s' % (result['job'], ', '.join(result['secrets_seen'])))
        result['output'] = output
    if sum(c.get('changed', 0) for c in first['hosts'].values()) > 1 or not first['lost_state_said']:
        problems.append('job1: at most the registry record may change and the output must say the state is new')
    if any(c.get('changed') for c in second['hosts'].values()) or second['lost_state_said']:
        problems.append('job2: a second job in a new directory must change nothing and find its state')
    if '"healthy": true' not in third['output']:
        problems.append('status: the report must say the mesh is healthy (every peer connected)')
    for problem in problems:
        print('FAIL: ' + problem)
    return 1 if problems else 0


if __name__ == '__main__':
    sys.exit(main(sys.argv))
