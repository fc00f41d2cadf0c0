# -*- coding: utf-8 -*-
# Copyright: meshforge.vpn contributors
# GNU General Public License v3.0+ (see https://www.gnu.org/licenses/gpl-3.0.txt)
"""The route, nft_set and nft_table modules through a real AnsibleModule, with ``ip`` and ``nft`` answered by FakeNet:
refusals are fail_json messages that start with the option's name, and leave the host as it was."""

from __future__ import absolute_import, division, print_function

__metaclass__ = type

import copy
import os

import pytest

from ansible.module_utils import basic

from ansible_collections.meshforge.vpn.plugins.module_utils.routes import model as rt
from ansible_collections.meshforge.vpn.plugins.module_utils.routes import resource as routes_resource
from ansible_collections.meshforge.vpn.plugins.module_utils.routes import safety
from ansible_collections.meshforge.vpn.plugins.modules import nft_set, nft_table, route
from ansible_collections.meshforge.vpn.tests.unit.plugins.modules.runner import run_module
from ansible_collections.meshforge.vpn.tests.unit.plugins.module_utils.fakenet import FakeNet, make_set
from ansible_collections.meshforge.vpn.tests.unit.plugins.module_utils.fakes import FakeModule


@pytest.fixture
def net(monkeypatch):
    """FakeNet on 198.18.0.0/24 (eth0) and a LAN on eth1; the controller connects from 198.18.0.1."""
    fake = FakeNet()
    fake.add_route('198.18.0.0/24', 'kernel', dev='eth0', src='198.18.0.10')
    fake.add_route('172.20.1.0/24', 'kernel', dev='eth1', src='172.20.1.1')
    fake.add_route('0.0.0.0/0', 'boot', gateway='198.18.0.254')

    def run_command(self, args, check_rc=False, data=None, **kwargs):
        return FakeModule(fake, {}).run_command(args, data=data)

    monkeypatch.setattr(basic.AnsibleModule, 'run_command', run_command)
    monkeypatch.setattr(basic.AnsibleModule, 'get_bin_path', lambda self, name, required=False, opt_dirs=None:
                        '/usr/sbin/%s' % name)
    monkeypatch.setattr(safety, 'management_connection', lambda: {'client': '198.18.0.1', 'client_port': 50123,
                                                                  'server': '198.18.0.10', 'server_port': 22})
    monkeypatch.setattr(routes_resource, 'read_table_names', lambda: dict(rt.BUILTIN_TABLES))
    return fake


@pytest.mark.parametrize('routes, message', [
    ([{'dest': '198.18.0.0/24', 'dev': 'wg0'}], 'routes[0].dest: 198.18.0.0/24 dev wg0 table main metric 0 would '
                                                'capture the management connection from 198.18.0.1'),
    ([{'dest': '10.9.0.0/16', 'dev': 'wg0'}, {'dest': '172.20.1.0/24', 'dev': 'wg0'}],
     'routes[1].dest: 172.20.1.0/24 dev wg0 table main metric 0 would capture the network 172.20.1.0/24 '
     'connected to eth1'),
])
def test_route_module_refuses_a_capture(net, capsys, routes, message):
    before = copy.deepcopy(net.routes)
    for check_mode in (True, False):
        result, _out = run_module(route, {'routes': routes}, capsys, check_mode=check_mode)
        assert result['failed'] and result['msg'].startswith(message), result['msg']
    assert net.routes == before and net.changing_commands() == []


def test_route_module_adds_what_captures_nothing(net, capsys):
    args = {'routes': [{'dest': '172.20.2.0/24', 'dev': 'wg0'}, {'dest': '198.18.0.128/25', 'dev': 'wg0'}]}
    result, _out = run_module(route, args, capsys)
    assert result['changed'] and len(result['added']) == 2
    assert not run_module(route, args, capsys)[0]['changed']


@pytest.mark.parametrize('module, args', [
    (route, {'routes': [], 'path': '{tmp}/boot/../routes'}),
    (route, {'routes': [], 'path': 'routes.batch'}),
    (nft_table, {'name': 'meshforge', 'path': '{tmp}/nft/../table.nft'}),
])
def test_paths_with_dot_components_are_refused_before_anything_is_written(net, capsys, tmp_path, module, args):
    args = dict(args, path=args['path'].format(tmp=tmp_path))
    result, _out = run_module(module, args, capsys)
    assert result['failed'] and result['msg'].startswith('path: '), result['msg']
    assert os.listdir(str(tmp_path)) == [] and net.changing_commands() == []


def test_nft_table_lockout_fails_naming_the_chain(net, capsys):
    args = {'chains': [{'name': 'c', 'type': 'filter', 'hook': 'input', 'priority': 0, 'policy': 'drop'}]}
    for check_mode in (True, False):
        result, _out = run_module(nft_table, args, capsys, check_mode=check_mode)
        assert result['failed'] and result['field'] == 'chains[0]', result
        assert result['msg'].startswith('chains[0]: the table would drop the management connection'), result
        assert 'rc' not in result
    assert net.tables == {} and net.changing_commands() == []


def test_nft_set_module_predicts_applies_and_refuses_through_the_fake_host(net, capsys):
    make_set(net, name='admins', elements=['10.0.0.1'])
    args = {'family': 'inet', 'table': 'meshforge', 'name': 'admins', 'elements': ['10.0.0.1', '10.0.0.2']}
    predicted, _out = run_module(nft_set, args, capsys, check_mode=True, diff=True)
    assert predicted['changed'] and predicted['added'] == ['10.0.0.2'] and net.changing_commands() == []
    result, _out = run_module(nft_set, args, capsys)
    assert result['changed'] and result['added'] == predicted['added']
    assert net.tables[('inet', 'meshforge')]['sets']['admins']['elements'] == {'10.0.0.1', '10.0.0.2'}
    again, _out = run_module(nft_set, args, capsys)
    assert not again['changed']
    changed = len(net.changing_commands())
    refused, _out = run_module(nft_set, dict(args, elements=['10.0.0.300']), capsys)
    assert refused['failed'] and refused['msg'].startswith('elements[0]: ') and len(net.changing_commands()) == changed
