# -*- coding: utf-8 -*-
# Copyright: meshforge.vpn contributors
# GNU General Public License v3.0+ (see https://www.gnu.org/licenses/gpl-3.0.txt)
"""The bad-input corpus that needs no host: one row per hostile or clumsy value.

A row is ``(id, target, input, field, problem[, defect])``:

- ``target`` is a module (its real ``main()`` runs against the fake host of its family), ``ipam`` (the
  action), or a role's planner filter: ``wireguard_mesh``, ``wireguard_mesh_ipam``, ``wireguard_mesh_psk``,
  ``wireguard_mesh_problem`` (the role's whole check), ``vpn_firewall`` or ``ipsec_site``;
- ``input`` is the module's arguments (``{dir}`` is the fake host's directory of files), or what the row
  changes in the role's valid base (``hostvars``/``settings``/``groups``/``tunnels``, see test_bad_input.py);
- the error message must start with ``field`` and contain ``problem``; nothing may change.

``defect`` (a number) names the issue 9 defect a row proves fixed (a row still marked with one is a strict xfail):
 1 a routed subnet that captures the underlay (an endpoint, the ansible_host)   7 a child with IPv4-only local_ts
 2 ``route`` over a prefix the kernel owns                                        and IPv6-only remote_ts
 3 ``wireguard_interface`` mtu below 1280 with an IPv6 address                  8 (molecule) rotate_keys non-member
 4 ``wireguard_key state: absent`` on a file that is not a key                  9 a bad interface named as the
 5 paths with ``..`` or a symlink                                                 role's variable
 6 ``ipam_record`` path with ``..``                                            10 extra_rules named as such
                                                                               11 overlapping set intervals: elements
                                                                               12 messages start with the field, not
                                                                                  with Ansible's own wording
A row commented ``# defect N`` passes since that defect's fix (in the working tree when the row was written).
A ``defect`` that is text (``new: ...``) is a failure found by this corpus that no change fixes yet.

``CORE`` marks a value that ansible-core's own argument checking refuses before the module runs (a wrong type,
a value outside ``choices``, an unknown option): its message keeps ansible-core's wording, which every collection's
users know, and names the field in its first words (``argument 'listen_port' is of type ...``, ``value of
implementation must be one of ...``, ``Unsupported parameters for (...) module: children[0].hw_offload``).
"""

from __future__ import absolute_import, division, print_function

__metaclass__ = type

CORE = 'ansible-core'

import base64
import hashlib


def _key(seed):
    return base64.b64encode(hashlib.sha256(seed.encode()).digest()).decode()


KEY = _key('bad input peer')
KEY2 = _key('bad input second peer')
NL, LS, NEL, NUL = '\n', u'\u2028', u'\u0085', '\x00'

# valid bases that each row breaks in one place
WG = {'name': 'wg0', 'addresses': ['10.10.0.1/24'], 'private_key_file': '{dir}/wg0.key'}
PEER = {'public_key': KEY, 'allowed_ips': ['10.10.0.2/32']}
ROUTE = {'dest': '10.50.0.0/24', 'dev': 'eth0'}
CONN = {'name': 'branch-1', 'vici_socket': 'unix:///run/mfipsec/charon.vici', 'local_addrs': ['198.51.100.10'],
        'remote_addrs': ['203.0.113.20'], 'local_id': 'hq.example.net', 'remote_id': 'branch-1.example.net',
        'psk': 'a pre-shared key of enough length',
        'children': [{'name': 'lan', 'local_ts': ['10.1.0.0/16'], 'remote_ts': ['10.20.0.0/24']}]}
CHAIN = {'name': 'input', 'type': 'filter', 'hook': 'input', 'priority': 'filter', 'policy': 'accept',
         'rules': [{'action': 'accept'}]}
SET = {'name': 'admins', 'type': 'ipv4_addr', 'flags': ['interval'], 'elements': ['10.0.0.1']}
POOLS = {'wg0': {'cidr': '10.88.0.0/24', 'network': 'wg0'}}
POLICY = {'sources': ['web'], 'destinations': ['db'], 'protocol': 'tcp', 'ports': [5432]}
PAIR = {'name': 'west-east', 'left': 'west', 'right': 'east'}


def wg(**kw):
    return dict(WG, **kw)


def peer(**kw):
    return wg(peers=[dict(PEER, **kw)])


def route(**kw):
    return {'routes': [dict(ROUTE, **kw)]}


def conn(**kw):
    return dict(CONN, **kw)


def child(**kw):
    return conn(children=[dict(CONN['children'][0], **kw)])


def chain(**kw):
    return {'name': 'meshforge', 'chains': [dict(CHAIN, **kw)]}


def rule(text):
    return chain(rules=[{'action': 'accept'}, {'rule': text}])


def nset(**kw):
    return {'name': 'meshforge', 'sets': [dict(SET, **kw)], 'chains': [CHAIN]}


def member(host, **kw):
    return {'hostvars': {host: dict(('wireguard_mesh_' + k, v) for k, v in kw.items())}}


def fw(**kw):
    return {'settings': kw}


def tunnel(**kw):
    return {'tunnels': [dict(PAIR, **kw)]}


CASES = [
    # ------------------------------------------------------------------ wireguard_interface
    ('wgif_name_too_long', 'wireguard_interface', wg(name='wg-much-too-long'), 'name', 'interface name'),
    ('wgif_name_newline_peer', 'wireguard_interface', wg(name='wg0\n[Peer]'), 'name', 'interface name'),
    ('wgif_name_semicolon', 'wireguard_interface', wg(name='wg0;reboot'), 'name', 'interface name'),
    ('wgif_name_traversal', 'wireguard_interface', wg(name='../wg0'), 'name', 'interface name'),
    ('wgif_name_empty', 'wireguard_interface', wg(name=''), 'name', 'interface name'),
    ('wgif_name_u2028', 'wireguard_interface', wg(name='wg0' + LS), 'name', 'interface name'),
    ('wgif_port_high', 'wireguard_interface', wg(listen_port=70000), 'listen_port', 'out of range'),
    ('wgif_port_negative', 'wireguard_interface', wg(listen_port=-1), 'listen_port', 'out of range'),
    ('wgif_port_not_a_number', 'wireguard_interface', wg(listen_port='51820; PostUp = x'), 'listen_port',
     'int', CORE),
    ('wgif_mtu_low', 'wireguard_interface', wg(mtu=100), 'mtu', 'out of range'),
    ('wgif_mtu_ipv6', 'wireguard_interface', wg(mtu=1200, addresses=['10.10.0.1/24', 'fd10::1/64']), 'mtu',
     '1280'),  # defect 3
    ('wgif_fwmark_word', 'wireguard_interface', wg(fwmark='mark'), 'fwmark', 'not a number'),
    ('wgif_fwmark_high', 'wireguard_interface', wg(fwmark='0x1ffffffff'), 'fwmark', 'out of range'),
    ('wgif_table_injection', 'wireguard_interface', wg(table='main\nPostUp = reboot'), 'table', ''),
    ('wgif_address_octet', 'wireguard_interface', wg(addresses=['10.10.0.300/24']), 'addresses[0]', 'not a valid'),
    ('wgif_address_network', 'wireguard_interface', wg(addresses=['10.10.0.0/24']), 'addresses[0]',
     'network address'),
    ('wgif_address_ipv6_prefix', 'wireguard_interface', wg(addresses=['fd10::1/129']), 'addresses[0]', 'not a valid'),
    ('wgif_address_duplicate', 'wireguard_interface', wg(addresses=['10.10.0.1/24', '10.10.0.1/24']),
     'addresses[1]', ''),
    ('wgif_key_file_relative', 'wireguard_interface', wg(private_key_file='wg0.key'), 'private_key_file',
     'absolute path'),
    ('wgif_key_file_traversal', 'wireguard_interface', wg(private_key_file='{dir}/../wireguard/wg0.key'),
     'private_key_file', '..'),  # defect 5
    ('wgif_key_file_newline', 'wireguard_interface', wg(private_key_file='{dir}/wg0.key\nPostUp = reboot'),
     'private_key_file', 'absolute path'),
    ('wgif_sysctl_file_relative', 'wireguard_interface', wg(forwarding={'ipv4': True, 'sysctl_file': 'fwd.conf'}),
     'forwarding.sysctl_file', 'absolute path'),
    ('wgif_sysctl_file_traversal', 'wireguard_interface',
     wg(forwarding={'ipv4': True, 'sysctl_file': '{dir}/../sysctl.d/fwd.conf'}), 'forwarding.sysctl_file', '..'),
    ('wgif_sysctl_file_newline', 'wireguard_interface',
     wg(forwarding={'ipv4': True, 'sysctl_file': '{dir}/fwd.conf\nnet.ipv4.ip_forward=0'}), 'forwarding.sysctl_file',
     'absolute path'),
    ('wgif_forwarding_unknown', 'wireguard_interface', wg(forwarding={'ipv4': True, 'ipv9': True}), 'forwarding',
     'ipv9', CORE),
    ('wgif_implementation_choice', 'wireguard_interface', wg(implementation='dkms'), 'implementation', 'one of',
     CORE),
    ('wgif_peer_key_garbage', 'wireguard_interface', peer(public_key='not-a-key'), 'peers[0].public_key',
     'base64'),
    ('wgif_peer_key_short', 'wireguard_interface', peer(public_key='AAAA'), 'peers[0].public_key', '32 bytes'),
    ('wgif_peer_key_newline', 'wireguard_interface', peer(public_key=KEY + '\n[Peer]'), 'peers[0].public_key', ''),
    ('wgif_peer_duplicate', 'wireguard_interface', wg(peers=[PEER, dict(PEER, allowed_ips=['10.10.0.3/32'])]),
     'peers[1]', ''),
    ('wgif_endpoint_no_port', 'wireguard_interface', peer(endpoint='h2.example'), 'peers[0].endpoint', 'no port'),
    ('wgif_endpoint_section', 'wireguard_interface', peer(endpoint='h2.example:51820\n[Peer]'),
     'peers[0].endpoint', ''),
    ('wgif_endpoint_ipv6_bare', 'wireguard_interface', peer(endpoint='fd00::1:51820'), 'peers[0].endpoint',
     '[address]:port'),
    ('wgif_endpoint_ipv4_brackets', 'wireguard_interface', peer(endpoint='[10.0.0.1]:51820'), 'peers[0].endpoint',
     'only IPv6'),
    ('wgif_endpoint_port_zero', 'wireguard_interface', peer(endpoint='h2.example:0'), 'peers[0].endpoint', ''),
    ('wgif_endpoint_semicolon', 'wireguard_interface', peer(endpoint='h2;reboot:51820'), 'peers[0].endpoint', ''),
    ('wgif_endpoint_nel', 'wireguard_interface', peer(endpoint='h2' + NEL + 'PostUp = x:51820'),
     'peers[0].endpoint', ''),
    ('wgif_allowed_ips_not_cidr', 'wireguard_interface', peer(allowed_ips=['10.0.0.1/33']),
     'peers[0].allowed_ips[0]', ''),
    ('wgif_allowed_ips_host_bits', 'wireguard_interface', peer(allowed_ips=['10.20.0.1/16']),
     'peers[0].allowed_ips[0]', ''),
    ('wgif_allowed_ips_default_v4', 'wireguard_interface', peer(allowed_ips=['0.0.0.0/0']),
     'peers[0].allowed_ips', 'default route'),
    ('wgif_allowed_ips_default_v6', 'wireguard_interface', peer(allowed_ips=['::/0']),
     'peers[0].allowed_ips', 'default route'),
    ('wgif_allowed_ips_two_peers', 'wireguard_interface',
     wg(peers=[PEER, {'public_key': KEY2, 'allowed_ips': ['10.10.0.2/32']}]), 'peers[1].allowed_ips', ''),
    ('wgif_keepalive_high', 'wireguard_interface', peer(persistent_keepalive=70000),
     'peers[0].persistent_keepalive', 'out of range'),
    ('wgif_psk_short', 'wireguard_interface', peer(preshared_key='short'), 'peers[0].preshared_key', 'base64'),
    ('wgif_psk_and_file', 'wireguard_interface', peer(preshared_key=KEY2, preshared_key_file='{dir}/psk'),
     'peers[0]', ''),
    ('wgif_description_peer', 'wireguard_interface', peer(description='x\n[Peer]'), 'peers[0].description',
     'newlines'),
    ('wgif_description_postup_u2028', 'wireguard_interface', peer(description='x' + LS + 'PostUp = reboot'),
     'peers[0].description', ''),
    ('wgif_description_nel', 'wireguard_interface', peer(description='x' + NEL + 'PostUp = reboot'),
     'peers[0].description', ''),
    ('wgif_description_nul', 'wireguard_interface', peer(description='x' + NUL + 'y'), 'peers[0].description', ''),
    ('wgif_description_long', 'wireguard_interface', peer(description='x' * 300), 'peers[0].description',
     'longer'),
    # --------------------------------------------------------------------- wireguard_key
    ('wgkey_relative', 'wireguard_key', {'path': 'relative.key'}, 'path', 'absolute path'),
    ('wgkey_traversal', 'wireguard_key', {'path': '{dir}/../escaped.key'}, 'path', '..'),  # defect 5
    ('wgkey_symlink', 'wireguard_key', {'path': '{dir}/link.key'}, 'path', 'symlink'),  # defect 5
    ('wgkey_newline', 'wireguard_key', {'path': '{dir}/wg0.key\n[Peer]'}, 'path', 'absolute path'),
    ('wgkey_directory', 'wireguard_key', {'path': '{dir}'}, 'path', 'directory'),  # was a traceback
    ('wgkey_absent_on_conf', 'wireguard_key', {'path': '{dir}/wg0.conf', 'state': 'absent'}, 'path',
     'not a WireGuard key'),  # defect 4
    ('wgkey_rotate_not_bool', 'wireguard_key', {'path': '{dir}/wg0.key', 'rotate': 'maybe'}, 'rotate', 'bool',
     CORE),
    # -------------------------------------------------------------------- wireguard_info
    ('wginfo_semicolon', 'wireguard_info', {'name': 'wg0;x'}, 'name', 'interface name'),
    ('wginfo_newline', 'wireguard_info', {'name': 'wg0\n'}, 'name', 'interface name'),
    ('wginfo_traversal', 'wireguard_info', {'name': '../wg0'}, 'name', 'interface name'),
    ('wginfo_too_long', 'wireguard_info', {'name': 'x' * 20}, 'name', 'interface name'),
    # ----------------------------------------------------------------------------- route
    ('route_host_bits', 'route', route(dest='10.50.0.1/24'), 'routes[0].dest', 'not a valid CIDR'),
    ('route_empty_dest', 'route', route(dest=''), 'routes[0].dest', ''),
    ('route_ipv6_prefix', 'route', route(dest='fd20::/129'), 'routes[0].dest', ''),
    ('route_no_gateway_no_dev', 'route', {'routes': [{'dest': '10.50.0.0/24'}]}, 'routes[0]', 'gateway, a dev'),
    ('route_gateway_family', 'route', route(gateway='fd00::1'), 'routes[0].gateway', 'IPv6'),
    ('route_gateway_injection', 'route', route(gateway='10.0.0.1 dev lo'), 'routes[0].gateway', ''),
    ('route_table_unknown', 'route', route(table='nosuch'), 'routes[0].table', 'rt_tables'),
    ('route_metric_negative', 'route', route(metric=-1), 'routes[0].metric', 'out of range'),
    ('route_dev_semicolon', 'route', route(dev='eth0;reboot'), 'routes[0].dev', 'interface name'),
    ('route_dev_newline', 'route', route(dev='eth0\nlo'), 'routes[0].dev', 'interface name'),
    ('route_src_not_address', 'route', route(src='me'), 'routes[0].src', ''),
    ('route_src_family', 'route', route(src='fd00::1'), 'routes[0].src', ''),
    ('route_duplicate', 'route', {'routes': [ROUTE, dict(ROUTE, dev='eth1')]}, 'routes[1]', 'routes[0]'),
    ('route_protocol_wireguard', 'route', dict(route(), protocol=109), 'protocol', ''),
    ('route_protocol_high', 'route', dict(route(), protocol=256), 'protocol', ''),
    ('route_over_kernel_prefix', 'route', route(dest='198.18.7.0/24', dev='wg0'), 'routes[0].dest',
     'kernel'),  # defect 2
    ('route_path_relative', 'route', dict(route(), path='meshforge.routes'), 'path', 'absolute path'),
    ('route_path_traversal', 'route', dict(route(), path='{dir}/../meshforge.routes'), 'path', '..'),  # defect 5
    # --------------------------------------------------------------------------- nft_set
    ('nftset_table_semicolon', 'nft_set', {'table': 'meshforge;flush ruleset', 'name': 'admins'}, 'table', ''),
    ('nftset_name_newline', 'nft_set', {'table': 'meshforge', 'name': 'admins\nflush ruleset'}, 'name', ''),
    ('nftset_element_octet', 'nft_set', {'table': 'meshforge', 'name': 'admins', 'elements': ['10.0.0.300']},
     'elements[0]', ''),
    ('nftset_element_brace', 'nft_set', {'table': 'meshforge', 'name': 'admins', 'elements': ['10.0.0.1 }']},
     'elements[0]', ''),
    ('nftset_element_quote', 'nft_set', {'table': 'meshforge', 'name': 'admins', 'elements': ['"10.0.0.1']},
     'elements[0]', ''),
    ('nftset_element_family', 'nft_set', {'table': 'meshforge', 'name': 'admins', 'elements': ['fd00::1']},
     'elements[0]', ''),
    ('nftset_element_overlap', 'nft_set',
     {'table': 'meshforge', 'name': 'admins', 'elements': ['10.9.0.0/16', '10.9.128.0/17']}, 'elements',
     'overlap'),  # defect 11
    # ------------------------------------------------------------------------- nft_table
    ('nfttable_name_semicolon', 'nft_table', {'name': 'meshforge;flush ruleset'}, 'name', 'not an nftables name'),
    ('nfttable_set_name_brace', 'nft_table', nset(name='admins}'), 'sets[0].name', 'not an nftables name'),
    ('nfttable_set_type_unknown', 'nft_table', nset(type='ipv5_addr'), 'sets[0].type', ''),
    ('nfttable_set_element_hash', 'nft_table', nset(elements=['10.0.0.1 # x']), 'sets[0].elements[0]', ''),
    ('nfttable_set_duplicate', 'nft_table',
     {'name': 'meshforge', 'sets': [SET, SET], 'chains': [CHAIN]}, 'sets[1]', ''),
    ('nfttable_set_overlap', 'nft_table', nset(elements=['10.9.0.0/16', '10.9.128.0/17']), 'sets[0].elements',
     'overlap'),  # defect 11
    ('nfttable_chain_name_newline', 'nft_table', chain(name='input\nflush ruleset'), 'chains[0].name', ''),
    ('nfttable_chain_duplicate', 'nft_table', {'name': 'meshforge', 'chains': [CHAIN, CHAIN]}, 'chains[1]', ''),
    ('nfttable_chain_priority_word', 'nft_table', chain(priority='first'), 'chains[0].priority', ''),
    ('nfttable_chain_device_quote', 'nft_table', chain(hook='ingress', device='eth0" flush'),
     'chains[0].device', ''),
    ('nfttable_rule_semicolon', 'nft_table', rule('accept; flush ruleset'), 'chains[0].rules[1].rule', 'contains'),
    ('nfttable_rule_hash', 'nft_table', rule('accept # x'), 'chains[0].rules[1].rule', 'contains'),
    ('nfttable_rule_newline', 'nft_table', rule('accept\nflush ruleset'), 'chains[0].rules[1].rule', 'contains'),
    ('nfttable_rule_u2028', 'nft_table', rule('accept' + LS + 'flush ruleset'), 'chains[0].rules[1].rule', ''),
    ('nfttable_rule_brace', 'nft_table', rule('accept } chain x { accept'), 'chains[0].rules[1].rule',
     'closes a brace'),
    ('nfttable_rule_open_brace', 'nft_table', rule('tcp dport { 22 accept'), 'chains[0].rules[1].rule',
     'brace open'),
    ('nfttable_rule_quote', 'nft_table', rule('meta iifname "wg0 accept'), 'chains[0].rules[1].rule',
     'quote open'),
    ('nfttable_rule_empty', 'nft_table', rule(''), 'chains[0].rules[1].rule', 'empty'),
    ('nfttable_lockout', 'nft_table', chain(policy='drop', rules=[]), 'chains[0]', 'management'),
    ('nfttable_path_relative', 'nft_table', dict(chain(), path='meshforge.nft'), 'path', 'absolute path'),
    ('nfttable_path_traversal', 'nft_table', dict(chain(), path='{dir}/../meshforge.nft'), 'path', '..'),  # defect 5
    # ----------------------------------------------------------------------- ipam_record
    ('ipamrec_path_traversal', 'ipam_record', {'path': '{dir}/../x.fact', 'records': {'wg0': '10.88.0.5'}},
     'path', '..'),  # defect 6
    ('ipamrec_path_relative', 'ipam_record', {'path': 'x.fact', 'records': {'wg0': '10.88.0.5'}}, 'path',
     'absolute path'),
    ('ipamrec_address', 'ipam_record', {'path': '{dir}/r.fact', 'records': {'wg0': 'not-an-address'}},
     'records[wg0]', ''),
    ('ipamrec_address_section', 'ipam_record', {'path': '{dir}/r.fact', 'records': {'wg0': '10.0.0.1\n[Interface]'}},
     'records[wg0]', ''),
    ('ipamrec_pool_newline', 'ipam_record', {'path': '{dir}/r.fact', 'records': {'wg\n0': '10.0.0.1'}}, 'records',
     'line break'),
    # ------------------------------------------------------------------ ipam (action)
    ('ipam_pool_cidr', 'ipam', {'pools': {'wg0': {'cidr': '10.88.0.0/33', 'network': 'wg0'}}}, 'pools[wg0]', ''),
    ('ipam_pool_overlap', 'ipam', {'pools': dict(POOLS, lan={'cidr': '10.88.0.128/25', 'network': 'wg0'})},
     'pools[', 'overlap'),
    ('ipam_pin_outside', 'ipam', {'pools': POOLS, 'hosts': ['a'], 'pins': {'a': {'wg0': '10.99.0.5'}}}, 'pins[a]',
     ''),
    ('ipam_pin_duplicate', 'ipam',
     {'pools': POOLS, 'hosts': ['a', 'b'], 'pins': {'a': {'wg0': '10.88.0.5'}, 'b': {'wg0': '10.88.0.5'}}},
     'pins[b]', ''),
    ('ipam_reserve_negative', 'ipam', {'pools': {'wg0': dict(POOLS['wg0'], reserve_first=-1)}}, 'pools[wg0]', ''),
    ('ipam_host_newline', 'ipam', {'pools': POOLS, 'hosts': ['a\nb']}, 'hosts', 'line break'),
    ('ipam_query_address', 'ipam', {'pools': POOLS, 'pool': ['wg0'], 'state': 'query', 'address': '10.88.0.300'},
     'address', ''),
    ('ipam_ledger_traversal', 'ipam', {'ledger': '{dir}/../l.json', 'pools': POOLS, 'hosts': ['a']}, 'ledger', '..'),  # defect 5
    # ------------------------------------------------------------------ ipsec_connection
    ('conn_name_newline', 'ipsec_connection', conn(name='branch\nrogue { }'), 'name', ''),
    ('conn_name_brace', 'ipsec_connection', conn(name='branch{'), 'name', ''),
    ('conn_name_traversal', 'ipsec_connection', conn(name='../../strongswan'), 'name', ''),
    ('conn_name_hash', 'ipsec_connection', conn(name='branch#1'), 'name', ''),
    ('conn_local_addr', 'ipsec_connection', conn(local_addrs=['198.51.100.10; rm']), 'local_addrs[0]', ''),
    ('conn_remote_addr_empty', 'ipsec_connection', conn(remote_addrs=['']), 'remote_addrs[0]', ''),
    ('conn_local_id_newline', 'ipsec_connection', conn(local_id='hq\nsecret = 0sAAAA'), 'local_id', 'newlines'),
    ('conn_remote_id_quote', 'ipsec_connection', conn(remote_id='branch"1'), 'remote_id', 'double quotes'),
    ('conn_remote_id_u2028', 'ipsec_connection', conn(remote_id='branch' + LS + 'x'), 'remote_id', ''),
    ('conn_psk_short', 'ipsec_connection', conn(psk='short but secret'), 'psk', 'at least 20'),
    ('conn_psk_nul', 'ipsec_connection', conn(psk='a pre-shared key\x00of enough length'), 'psk', 'control'),
    ('conn_proposal_weak', 'ipsec_connection', conn(proposals=['aes256-sha1-modp2048']), 'proposals[0]', 'sha1'),
    ('conn_proposal_no_ke', 'ipsec_connection', conn(proposals=['aes256-sha256']), 'proposals[0]',
     'no key exchange'),
    ('conn_proposal_brace', 'ipsec_connection', conn(proposals=['aes256-sha256-ecp384 }']), 'proposals[0]', ''),
    ('conn_esp_weak', 'ipsec_connection', child(esp_proposals=['3des-md5']), 'children[0].esp_proposals[0]', ''),
    ('conn_child_name', 'ipsec_connection', child(name='lan\n}'), 'children[0].name', ''),
    ('conn_child_ts_not_cidr', 'ipsec_connection', child(remote_ts=['10.20.0.0']), 'children[0].remote_ts[0]',
     'CIDR'),
    ('conn_child_ts_v6_prefix', 'ipsec_connection', child(local_ts=['fd00::/129']), 'children[0].local_ts[0]', ''),
    ('conn_child_ts_families', 'ipsec_connection', child(local_ts=['10.1.0.0/16'], remote_ts=['fd20::/64']),
     'children[0]', 'IPv6'),  # defect 7
    ('conn_child_duplicate', 'ipsec_connection', conn(children=CONN['children'] * 2), 'children[1].name', ''),
    ('conn_children_empty', 'ipsec_connection', conn(children=[]), 'children', 'at least one child'),
    ('conn_child_unknown_option', 'ipsec_connection', child(hw_offload='yes'), 'children', 'hw_offload',
     CORE),
    ('conn_vici_path', 'ipsec_connection', conn(vici_socket='/run/charon.vici'), 'vici_socket', 'only unix://'),
    ('conn_vici_newline', 'ipsec_connection', conn(vici_socket='unix:///run/x.vici\n'), 'vici_socket', ''),
    ('conn_rekey_word', 'ipsec_connection', conn(rekey_time='soon'), 'rekey_time', 'duration'),
    ('conn_dpd_negative', 'ipsec_connection', conn(dpd_delay=-5), 'dpd_delay', ''),
    ('conn_pubkey_without_certs', 'ipsec_connection', conn(auth='pubkey', psk=None), 'local_certs', ''),
    ('conn_cert_traversal', 'ipsec_connection',
     conn(auth='pubkey', psk=None, local_certs=['../../private/x.pem'], local_key='x.pem'), 'local_certs[0]', ''),
    # ------------------------------------------------------------------------ ipsec_info
    ('info_name_newline', 'ipsec_info', {'name': 'a\nb'}, 'name', ''),
    ('info_vici_tcp', 'ipsec_info', {'vici_socket': 'tcp://10.0.0.1:4502'}, 'vici_socket', 'only unix://'),
    # ----------------------------------------------------------------------- ipsec_purge
    ('purge_keep_newline', 'ipsec_purge', {'keep': ['a\nb']}, 'keep[0]', ''),
    ('purge_keep_traversal', 'ipsec_purge', {'keep': ['../x']}, 'keep[0]', ''),
    ('purge_vici_tcp', 'ipsec_purge', {'keep': [], 'vici_socket': 'tcp://x'}, 'vici_socket', ''),
    # ---------------------------------------------------------------------- ipsec_charon
    ('charon_vici_tcp', 'ipsec_charon', {'vici_socket': 'tcp://1.2.3.4:4502'}, 'vici_socket', ''),
    ('charon_plugin_vici', 'ipsec_charon', {'disable_plugins': ['vici']}, 'disable_plugins', 'one or more of',
     CORE),
    ('charon_run_dir_relative', 'ipsec_charon', {'run_dir': 'relative'}, 'run_dir', ''),
    ('charon_dropin_traversal', 'ipsec_charon', {'dropin': '{dir}/../meshforge.conf'}, 'dropin', '..'),  # defect 5
    ('charon_service_semicolon', 'ipsec_charon', {'service': 'strongswan;reboot'}, 'service', ''),
    # ------------------------------------------------------------ wireguard_mesh (role)
    ('mesh_network_octet', 'wireguard_mesh', {'settings': {'network': '10.88.0.300/24'}}, 'wireguard_mesh_network',
     'not a valid CIDR'),
    ('mesh_network_host_bits', 'wireguard_mesh', {'settings': {'network': '10.88.0.1/24'}}, 'wireguard_mesh_network',
     ''),
    ('mesh_network_ipv6', 'wireguard_mesh', {'settings': {'network': 'fd88::/64'}}, 'wireguard_mesh_network',
     'not an IPv4'),
    ('mesh_network6_ipv4', 'wireguard_mesh', {'settings': {'network6': '10.89.0.0/24'}}, 'wireguard_mesh_network6',
     'not an IPv6'),
    ('mesh_network6_prefix', 'wireguard_mesh', {'settings': {'network6': 'fd88::/129'}}, 'wireguard_mesh_network6',
     ''),
    ('mesh_topology', 'wireguard_mesh', {'settings': {'topology': 'star'}}, 'wireguard_mesh_topology', 'not one of'),
    ('mesh_hub_spoke_no_hub', 'wireguard_mesh', {'settings': {'topology': 'hub_spoke', 'hubs': []}},
     'wireguard_mesh_hub_group', 'at least one hub'),
    ('mesh_interface_long', 'wireguard_mesh', {'settings': {'interface': 'wg-much-too-long'}},
     'wireguard_mesh_interface', 'interface name'),  # defect 9
    ('mesh_interface_newline', 'wireguard_mesh', {'settings': {'interface': 'wg0\n[Peer]'}},
     'wireguard_mesh_interface', 'interface name'),  # defect 9
    ('mesh_address_outside', 'wireguard_mesh', member('h1', address='203.0.113.5'),
     'wireguard_mesh_address', 'outside'),
    ('mesh_address_not_ip', 'wireguard_mesh', member('h1', address='10.88.0.5; x'),
     'wireguard_mesh_address', 'not an IP address'),
    ('mesh_address_duplicate', 'wireguard_mesh',
     {'hostvars': {'h1': {'wireguard_mesh_address': '10.88.0.7'}, 'h2': {'wireguard_mesh_address': '10.88.0.7'}}},
     'wireguard_mesh_', 'already'),
    ('mesh_address6_outside', 'wireguard_mesh',
     dict(member('h1', address6='fd99::5'), settings={'network6': 'fd88::/64'}),
     'wireguard_mesh_address6', 'outside'),
    ('mesh_endpoint_newline', 'wireguard_mesh', member('h1', endpoint='h1.example\nPublicKey = x'),
     'wireguard_mesh_endpoint', 'neither an IP address nor a DNS name'),
    ('mesh_endpoint_section', 'wireguard_mesh', member('h1', endpoint='h1.example[Peer]'),
     'wireguard_mesh_endpoint', 'neither'),
    ('mesh_endpoint_semicolon', 'wireguard_mesh', member('h1', endpoint='h1;reboot'),
     'wireguard_mesh_endpoint', 'neither'),
    ('mesh_endpoint_hash', 'wireguard_mesh', member('h1', endpoint='h1#x'),
     'wireguard_mesh_endpoint', 'neither'),
    ('mesh_endpoint_u2028', 'wireguard_mesh', member('h1', endpoint='h1.example' + LS + 'PostUp = x'),
     'wireguard_mesh_endpoint', 'neither'),
    ('mesh_endpoint_nul', 'wireguard_mesh', member('h1', endpoint='h1' + NUL),
     'wireguard_mesh_endpoint', 'neither'),
    ('mesh_endpoint_ipv6_port', 'wireguard_mesh', member('h1', endpoint='[fd00::1]:70000'),
     'wireguard_mesh_endpoint', ''),
    ('mesh_listen_port_high', 'wireguard_mesh', member('h1', listen_port=70000),
     'wireguard_mesh_listen_port', 'out of range'),
    ('mesh_listen_port_word', 'wireguard_mesh', member('h1', listen_port='x'),
     'wireguard_mesh_listen_port', 'not a port'),
    ('mesh_keepalive_negative', 'wireguard_mesh', member('h1', persistent_keepalive=-1),
     'wireguard_mesh_persistent_keepalive', 'out of range'),
    ('mesh_routed_not_cidr', 'wireguard_mesh', member('h1', routed_subnets=['198.19.99.1']),
     'wireguard_mesh_routed_subnets[0]', 'not in CIDR'),
    ('mesh_routed_not_list', 'wireguard_mesh', member('h1', routed_subnets='198.19.99.0/24'),
     'wireguard_mesh_routed_subnets', 'must be a list'),
    ('mesh_routed_overlaps_network', 'wireguard_mesh', member('h1', routed_subnets=['10.88.0.0/16']),
     'wireguard_mesh_routed_subnets', 'overlaps the mesh network'),
    ('mesh_routed_overlap_other', 'wireguard_mesh',
     {'hostvars': {'h1': {'wireguard_mesh_routed_subnets': ['198.19.0.0/16']},
                   'h2': {'wireguard_mesh_routed_subnets': ['198.19.5.0/24']}}},
     'wireguard_mesh_', 'overlaps'),
    ('mesh_routed_same_metric', 'wireguard_mesh',
     {'hostvars': {'h1': {'wireguard_mesh_routed_subnets': ['198.19.5.0/24']},
                   'h2': {'wireguard_mesh_routed_subnets': ['198.19.5.0/24']}}},
     'wireguard_mesh_', 'metric'),
    ('mesh_routed_underlay', 'wireguard_mesh', member('h1', routed_subnets=['198.18.1.0/24']),
     'wireguard_mesh_routed_subnets', 'underlay'),  # defect 1
    ('mesh_routed_peer_endpoint', 'wireguard_mesh', member('h1', routed_subnets=['198.18.1.12/32']),
     'wireguard_mesh_routed_subnets', 'h2'),  # defect 1
    ('mesh_routed_default', 'wireguard_mesh', member('h1', routed_subnets=['0.0.0.0/0']),
     'wireguard_mesh_routed_subnets', ''),  # defect 1
    ('mesh_metric_negative', 'wireguard_mesh', member('h1', route_metric=-1),
     'wireguard_mesh_route_metric', 'out of range'),
    ('mesh_withdrawn_word', 'wireguard_mesh', member('h1', routed_subnets_withdrawn='perhaps'),
     'wireguard_mesh_routed_subnets_withdrawn', 'not a boolean'),
    ('mesh_ipam_release_member', 'wireguard_mesh_ipam', {'release': ['h1']}, 'wireguard_mesh_ipam_release',
     'still in the mesh group'),
    ('mesh_ipam_release_string', 'wireguard_mesh_ipam', {'release': 'gone'}, 'wireguard_mesh_ipam_release',
     'must be a list'),
    ('mesh_ipam_exclude_string', 'wireguard_mesh_ipam', {'settings': {'ipam': {'exclude': '10.88.0.5'}}},
     'wireguard_mesh_ipam_exclude', 'must be a list'),
    ('mesh_ipam_network_newline', 'wireguard_mesh_ipam', {'settings': {'ipam_network': 'office\n'}},
     'wireguard_mesh_ipam_network', ''),
    ('mesh_rotate_stranger', 'wireguard_mesh_problem', {'rotate_keys': ['h1', 'nosuch']}, 'wireguard_mesh_rotate_keys',
     'not a member'),  # defect 8
    ('mesh_rotate_string', 'wireguard_mesh_problem', {'rotate_keys': 'h1'}, 'wireguard_mesh_rotate_keys',
     'must be a list'),
    ('mesh_release_member_check', 'wireguard_mesh_problem', {'release': ['h2']}, 'wireguard_mesh_ipam_release',
     'still in the mesh group'),
    ('mesh_group_empty', 'wireguard_mesh_problem', {'names': []}, 'wireguard_mesh_group', 'no hosts'),
    ('mesh_mtu_ipv6', 'wireguard_mesh_problem', {'settings': {'mtu': 1200, 'network6': 'fd88::/64'}},
     'wireguard_mesh_mtu', '1280'),  # defect 3, named as the role's variable
    ('mesh_mtu_low', 'wireguard_mesh_problem', {'settings': {'mtu': 100}}, 'wireguard_mesh_mtu', 'out of range'),
    ('mesh_key_file_traversal', 'wireguard_mesh_problem', {'settings': {'private_key_file': '/etc/wireguard/../shadow'}},
     'wireguard_mesh_private_key_file', '..'),  # defect 5
    ('mesh_key_file_relative', 'wireguard_mesh_problem', {'settings': {'private_key_file': 'wg0.key'}},
     'wireguard_mesh_private_key_file', 'absolute path'),
    ('mesh_record_file_relative', 'wireguard_mesh_problem', {'settings': {'ipam_record_file': 'ipam.fact'}},
     'wireguard_mesh_ipam_record_file', 'absolute path'),
    ('mesh_reserve_first_negative', 'wireguard_mesh_problem', {'settings': {'ipam': {'reserve_first': -1}}},
     'wireguard_mesh_ipam_reserve_first', 'out of range'),
    ('mesh_psk_secret_short', 'wireguard_mesh_psk', {'secret': 'short'}, 'wireguard_mesh_psk_secret',
     'at least 16'),
    # --------------------------------------------------------------- vpn_firewall (role)
    ('fw_unknown_group', 'vpn_firewall', fw(policies=[dict(POLICY, sources=['nosuch'])]),
     'vpn_firewall_policies[0].sources[0]', "unknown group 'nosuch'"),
    ('fw_port_high', 'vpn_firewall', fw(policies=[dict(POLICY, ports=[70000])]), 'vpn_firewall_policies[0].ports[0]',
     'out of range'),
    ('fw_port_range_reversed', 'vpn_firewall', fw(policies=[dict(POLICY, ports=['9000-8000'])]),
     'vpn_firewall_policies[0].ports[0]', ''),
    ('fw_ports_icmp', 'vpn_firewall', fw(policies=[dict(POLICY, protocol='icmp')]), 'vpn_firewall_policies[0].ports',
     'ports need protocol tcp or udp'),
    ('fw_protocol_unknown', 'vpn_firewall', fw(policies=[dict(POLICY, protocol='gre')]),
     'vpn_firewall_policies[0].protocol', 'gre'),
    ('fw_policy_no_sources', 'vpn_firewall', fw(policies=[{'destinations': ['db']}]),
     'vpn_firewall_policies[0]', 'sources'),
    ('fw_group_element', 'vpn_firewall', fw(groups={'admins': ['10.89.0.300']},
                                            policies=[dict(POLICY, sources=['admins'])]),
     'vpn_firewall_groups.admins[0]', 'neither a member'),
    ('fw_group_name_brace', 'vpn_firewall', fw(groups={'web}': ['web1']}, policies=[dict(POLICY, sources=['web}'])]),
     'vpn_firewall_groups', 'not an nftables name'),
    ('fw_extra_semicolon', 'vpn_firewall', fw(extra_rules=[{'rule': 'accept; flush ruleset'}]),
     'vpn_firewall_extra_rules[0]', 'contains'),  # defect 10
    ('fw_extra_hash', 'vpn_firewall', fw(extra_rules=[{'rule': 'accept # all'}]), 'vpn_firewall_extra_rules[0]',
     'contains'),  # defect 10
    ('fw_extra_brace', 'vpn_firewall', fw(extra_rules=[{'rule': 'accept } chain x {'}]),
     'vpn_firewall_extra_rules[0]', 'brace'),  # defect 10
    ('fw_extra_newline', 'vpn_firewall', fw(extra_rules=[{'rule': 'accept\nflush ruleset'}]),
     'vpn_firewall_extra_rules[0]', 'contains'),  # defect 10
    ('fw_routed_two_gateways', 'vpn_firewall', fw(interface_kind='wireguard', routed_subnets=[
        {'gateway': 'db1', 'subnets': ['10.98.0.0/24'], 'lan_interface': 'lan0'},
        {'gateway': 'ops1', 'subnets': ['10.98.0.0/24'], 'lan_interface': 'lo', 'metric': 200}]),
     'vpn_firewall_routed_subnets[1].subnets', 'routed through db1 and ops1'),
    ('fw_routed_not_cidr', 'vpn_firewall', fw(routed_subnets=[
        {'gateway': 'db1', 'subnets': ['10.98.0.1/24'], 'lan_interface': 'lan0'}]),
     'vpn_firewall_routed_subnets[0].subnets[0]', ''),
    ('fw_routed_gateway_unknown', 'vpn_firewall', fw(routed_subnets=[
        {'gateway': 'nosuch', 'subnets': ['10.98.0.0/24'], 'lan_interface': 'lan0'}]),
     'vpn_firewall_routed_subnets[0].gateway', ''),
    ('fw_routed_lan_interface', 'vpn_firewall', fw(routed_subnets=[
        {'gateway': 'db1', 'subnets': ['10.98.0.0/24'], 'lan_interface': 'lan0;x'}]),
     'vpn_firewall_routed_subnets[0].lan_interface', ''),
    ('fw_routed_underlay', 'vpn_firewall', fw(routed_subnets=[
        {'gateway': 'db1', 'subnets': ['198.18.1.0/24'], 'lan_interface': 'lan0'}]),
     'vpn_firewall_routed_subnets[0]', 'underlay'),  # defect 1
    ('fw_routed_management', 'vpn_firewall', fw(routed_subnets=[
        {'gateway': 'db1', 'subnets': ['198.18.1.11/32'], 'lan_interface': 'lan0'}]),
     'vpn_firewall_routed_subnets[0]', 'web1'),  # defect 1
    ('fw_persist_dir_relative', 'vpn_firewall', fw(persist_dir='meshforge-vpn'), 'vpn_firewall_persist_dir',
     'absolute path'),
    ('fw_persist_dir_traversal', 'vpn_firewall', fw(persist_dir='/etc/meshforge-vpn/../cron.d'),
     'vpn_firewall_persist_dir', '..'),  # defect 5
    ('fw_interface_newline', 'vpn_firewall', fw(interface='wg0\n'), 'vpn_firewall_interface', ''),
    ('fw_table_name', 'vpn_firewall', fw(table='meshforge;flush ruleset'), 'vpn_firewall_table', ''),
    # ------------------------------------------------------------------ ipsec_site (role)
    ('site_weak_proposal', 'ipsec_site', tunnel(proposals=['aes128-sha1-modp1024']),
     "ipsec_site_tunnels[0] (west-east)", 'sha1'),
    ('site_ts_not_cidr', 'ipsec_site', tunnel(left_subnets=['198.19.0.0/33']),
     'ipsec_site_tunnels[0] (west-east).left_subnets[0]', ''),
    ('site_left_id_newline', 'ipsec_site', tunnel(left_id='west\nrogue = yes'),
     'ipsec_site_tunnels[0] (west-east).left_id', ''),
    ('site_unknown_child_option', 'ipsec_site', tunnel(children=[{'name': 'net', 'start_action': 'trap'}]),
     'ipsec_site_tunnels[0] (west-east).children[0]', 'unknown option start_action'),
    ('site_name_brace', 'ipsec_site', tunnel(name='west{east'), 'ipsec_site_tunnels[0]', ''),
    ('site_duplicate_name', 'ipsec_site', {'tunnels': [PAIR, PAIR]}, 'ipsec_site_tunnels[1]', 'west-east'),
    ('site_unknown_left', 'ipsec_site', tunnel(left='nosuch'), 'ipsec_site_tunnels[0] (west-east).left', ''),
    ('site_same_ends', 'ipsec_site', tunnel(right='west'), 'ipsec_site_tunnels[0] (west-east)', ''),
    ('site_short_psk', 'ipsec_site', {'tunnels': [{'name': 'to-box', 'left': 'west', 'right_address': '203.0.113.9',
                                                   'right_id': 'box.example', 'right_subnets': ['10.9.0.0/16'],
                                                   'psk': 'short-psk'}]},
     'ipsec_site_tunnels[0] (to-box).psk', ''),
    ('site_right_address_injection', 'ipsec_site',
     {'tunnels': [{'name': 'to-box', 'left': 'west', 'right_address': '203.0.113.9 }', 'right_id': 'box.example',
                   'right_subnets': ['10.9.0.0/16'], 'psk': 'a-vault-psk-of-enough-length'}]},
     'ipsec_site_tunnels[0] (to-box).right_address', ''),
    ('site_psk_secret_short', 'ipsec_site', {'settings': {'psk_secret': 'short'}}, 'ipsec_site_psk_secret',
     'at least 16'),
    ('site_vici_tcp', 'ipsec_site', {'settings': {'vici_socket': 'tcp://198.18.1.11:4502'}}, 'ipsec_site_vici_socket',
     'only unix://'),
    ('site_vici_newline', 'ipsec_site', {'settings': {'vici_socket': 'unix:///run/x.vici\n'}}, 'ipsec_site_vici_socket',
     ''),
    ('site_ca_name_newline', 'ipsec_site', {'settings': {'ca_name': 'ca\n[x]'}}, 'ipsec_site_ca_name', ''),
    ('site_id_newline', 'ipsec_site', {'hostvars': {'west': {'ipsec_site_id': 'west\n}'}}}, 'ipsec_site_id', ''),
    ('site_address_octet', 'ipsec_site', {'hostvars': {'west': {'ipsec_site_address': '198.18.1.300'}}},
     'ipsec_site_address', ''),
    ('site_subnets_underlay', 'ipsec_site', {'hostvars': {'west': {'ipsec_site_subnets': ['198.18.1.0/24']}}},
     'ipsec_site_subnets', ''),
    ('site_families', 'ipsec_site', tunnel(right_subnets=['fd20::/64']),
     'ipsec_site_tunnels[0] (west-east)', 'IPv6'),  # defect 7
]
