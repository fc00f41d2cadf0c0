# -*- coding: utf-8 -*-
# Copyright: meshforge.vpn contributors
# GNU General Public License v3.0+ (see https://www.gnu.org/licenses/gpl-3.0.txt)
"""The route module through a real AnsibleModule, with ``ip`` answered by the fake host: refusals are fail_json
messages that start with the option's name, and leave the host as it was."""

from __future__ import absolute_import, division, print_function

__metaclass__ = type

import os

import pytest

from ansible_collections.meshforge.vpn.plugins.modules import route
from ansible_collections.meshforge.vpn.tests.unit.plugins.modules.runner import on_host, run_module
from ansible_collections.meshforge.vpn.tests.unit.plugins.module_utils.fakehost import FakeHost, install, underlay


@pytest.fixture
def host(tmp_path, monkeypatch):
    """The underlay (fakehost.underlay, managed from 198.18.0.1), a LAN on eth1 and the tunnel wg0."""
    fake = on_host(install(underlay(FakeHost()), str(tmp_path / 'host'), monkeypatch), monkeypatch)
    fake.add_link('eth1', addresses=['172.20.1.1/24'])
    fake.add_link('wg0', 'wireguard', addresses=['10.10.0.1/24'])
    return fake


@pytest.mark.parametrize('routes, message', [
    ([{'dest': '198.18.0.0/24', 'dev': 'wg0'}], 'routes[0].dest: 198.18.0.0/24 dev wg0 table main metric 0 would '
                                                'capture the management connection from 198.18.0.1'),
    ([{'dest': '10.9.0.0/16', 'dev': 'wg0'}, {'dest': '172.20.1.0/24', 'dev': 'wg0'}],
     'routes[1].dest: 172.20.1.0/24 dev wg0 table main metric 0 would capture the network 172.20.1.0/24 '
     'connected to eth1'),
])
def test_route_module_refuses_a_capture(host, capsys, routes, message):
    before = host.state()
    for check_mode in (True, False):
        result, _out = run_module(route, {'routes': routes}, capsys, check_mode=check_mode)
        assert result['failed'] and result['msg'].startswith(message), result['msg']
    assert host.state() == before and host.changing_commands() == []


def test_route_module_adds_what_captures_nothing(host, capsys):
    args = {'routes': [{'dest': '172.20.2.0/24', 'dev': 'wg0'}, {'dest': '198.18.0.128/25', 'dev': 'wg0'}]}
    result, _out = run_module(route, args, capsys)
    assert result['changed'] and len(result['added']) == 2
    assert not run_module(route, args, capsys)[0]['changed']


@pytest.mark.parametrize('args', [
    {'routes': [], 'path': '{tmp}/boot/../routes'},
    {'routes': [], 'path': 'routes.batch'},
], ids=['dot-dot', 'relative'])
def test_paths_with_dot_components_are_refused_before_anything_is_written(host, capsys, tmp_path, args):
    args = dict(args, path=args['path'].format(tmp=tmp_path))
    result, _out = run_module(route, args, capsys)
    assert result['failed'] and result['msg'].startswith('path: '), result['msg']
    assert os.listdir(str(tmp_path)) == ['host'] and host.changing_commands() == []
