# -*- coding: utf-8 -*-
# Copyright: meshforge.vpn contributors
# GNU General Public License v3.0+ (see https://www.gnu.org/licenses/gpl-3.0.txt)
"""Would a table drop the management (SSH) connection?  The rules of each base chain are evaluated for its packets,
both directions, new and established; a rule the model cannot read (raw text) counts as every outcome it might have."""

from __future__ import absolute_import, division, print_function

__metaclass__ = type

import ipaddress


def _ranges(texts):
    found = []
    for text in texts:
        parts = text.split('-', 1)
        if len(parts) == 2:
            found.append((ipaddress.ip_address(parts[0]), ipaddress.ip_address(parts[1])))
        else:
            net = ipaddress.ip_network(text)
            found.append((net.network_address, net.broadcast_address))
    return found


def _address_in(addr, model, sets):
    if model[0] == 'set':
        item = sets.get(model[1])
        texts = item['elements'] if item else []
    else:
        texts = model[1]
    return any(low.version == addr.version and low <= addr <= high for low, high in _ranges(texts))


def _port_in(port, model, sets):
    texts = sets[model[1]]['elements'] if model[0] == 'set' else model[1]
    for text in texts:
        low, high = (text.split('-', 1) + [text])[:2]
        if int(low) <= port <= int(high):
            return True
    return False


def rule_matches(model, packet, sets):
    """True, False, or None when the rule cannot be evaluated (raw text)."""
    if model['raw'] is not None:
        return None
    addr_version = packet['saddr'].version
    if model['version'] not in (None, addr_version):
        return False
    for key in ('iifname', 'oifname'):
        if model[key] is not None:
            if packet[key] is None:
                return None
            if packet[key] not in model[key]:
                return False
    for key in ('saddr', 'daddr'):
        if model[key] is not None and not _address_in(packet[key], model[key], sets):
            return False
    if model['protocols'] is not None and 'tcp' not in model['protocols']:
        return False
    for key in ('sport', 'dport'):
        if model[key] is not None and not _port_in(packet[key], model[key], sets):
            return False
    if model['ct_state'] is not None and packet['ct_state'] not in model['ct_state']:
        return False
    return True


def _verdicts(model):
    """What a rule does when it matches: a set of accept, drop, continue, return, or ('jump'|'goto', chain)."""
    if model['raw'] is not None:
        words = model['raw'].split()
        if 'drop' in words or 'reject' in words or 'jump' in words or 'goto' in words:
            return {'drop'}
        return {'accept', 'continue'}
    action = model['action']
    if action in ('drop', 'reject'):
        return {'drop'}
    if action in ('accept', 'masquerade', 'snat', 'dnat'):
        return {'accept'}
    if action in ('jump', 'goto'):
        return {(action, model['target'])}
    return {action}


def run_chain(chain, packet, sets, chains, depth=0):
    """Every way ``packet`` can leave ``chain``: accept, drop, or fall through (``return``)."""
    outcomes = set()
    if depth > 16:
        return {'drop'}
    for rule in chain['rules']:
        matched = rule_matches(rule['model'], packet, sets)
        if matched is False:
            continue
        ends = set()
        for verdict in _verdicts(rule['model']):
            if isinstance(verdict, tuple):
                inner = run_chain(chains[verdict[1]], packet, sets, chains, depth + 1)
                ends |= inner - {'return'}
                if 'return' in inner:
                    ends.add('continue' if verdict[0] == 'jump' else 'return')
            else:
                ends.add(verdict)
        outcomes |= ends - {'continue'}
        if matched is True and 'continue' not in ends:
            return outcomes
    outcomes.add('return')
    return outcomes


def lockout_risks(desired, connection, device):
    """Base chains that could drop the management connection: new or established, either direction."""
    if not connection:
        return []
    client, server = ipaddress.ip_address(connection['client']), ipaddress.ip_address(connection['server'])
    fam = desired['family']
    if fam in ('arp', 'bridge') or (fam == 'ip' and client.version != 4) or (fam == 'ip6' and client.version != 6):
        return []
    chains = dict((c['name'], c) for c in desired['chains'])
    incoming = [dict(saddr=client, daddr=server, sport=connection['client_port'], dport=connection['server_port'],
                     iifname=device, oifname=None, ct_state=state) for state in ('new', 'established')]
    outgoing = [dict(saddr=server, daddr=client, sport=connection['server_port'], dport=connection['client_port'],
                     iifname=None, oifname=device, ct_state='established')]
    risks = []
    for chain in desired['chains']:
        if chain['hook'] in ('prerouting', 'input', 'ingress'):
            packets = incoming
        elif chain['hook'] in ('output', 'postrouting'):
            packets = outgoing
        else:
            continue
        if chain['hook'] == 'ingress' and chain['device'] != device:
            continue
        for packet in packets:
            ends = run_chain(chain, dict(packet, iifname=None if chain['hook'] == 'output' else packet['iifname']),
                             desired['sets'], chains)
            if 'return' in ends:
                ends = (ends - {'return'}) | {chain['policy']}
            if 'drop' in ends:
                risks.append('%s (%s, ct state %s)' % (chain['name'], 'to us' if packet in incoming else 'from us',
                                                       packet['ct_state']))
                break
    return risks
