# -*- coding: utf-8 -*-
# Copyright: meshforge.vpn contributors
# GNU General Public License v3.0+ (see https://www.gnu.org/licenses/gpl-3.0.txt)
"""Every row of cases.py fails, with a message that starts with the field and says the problem, and changes
nothing: modules run their real main() against the fake host of their family, role variables go through the
role's planner filter."""

from __future__ import absolute_import, division, print_function

__metaclass__ = type

import copy
import os
import re

import pytest

from ansible.errors import AnsibleActionFail, AnsibleFilterError
from ansible.module_utils import basic

from ansible_collections.meshforge.vpn.plugins.filter.firewall import FilterModule as FirewallFilters
from ansible_collections.meshforge.vpn.plugins.filter.ipsec_site import FilterModule as IpsecFilters
from ansible_collections.meshforge.vpn.plugins.filter.wireguard_mesh import FilterModule as MeshFilters
from ansible_collections.meshforge.vpn.plugins.module_utils.strongswan import daemon
from ansible_collections.meshforge.vpn.plugins.modules import (
    ipam_record, ipsec_charon, ipsec_connection, ipsec_info, ipsec_purge, nft_set, nft_table, route,
    wireguard_info, wireguard_interface, wireguard_key)
from ansible_collections.meshforge.vpn.tests.unit.bad_input.cases import CASES, CORE, KEY
from ansible_collections.meshforge.vpn.tests.unit.plugins.action.test_ipam_action import run as run_ipam
from ansible_collections.meshforge.vpn.tests.unit.plugins.module_utils.fakehost import make_key
from ansible_collections.meshforge.vpn.tests.unit.plugins.module_utils.fakenet import FakeNet, make_set
from ansible_collections.meshforge.vpn.tests.unit.plugins.module_utils.fakes import FakeModule
from ansible_collections.meshforge.vpn.tests.unit.plugins.modules.runner import run_module
# the fake hosts of the module tests, as fixtures
from ansible_collections.meshforge.vpn.tests.unit.plugins.modules.test_ipsec_modules import charon  # noqa: F401 pylint: disable=unused-import
from ansible_collections.meshforge.vpn.tests.unit.plugins.modules.test_wireguard_modules import host  # noqa: F401 pylint: disable=unused-import

MODULES = dict((m.__name__.rsplit('.', 1)[1], m) for m in (
    ipam_record, ipsec_charon, ipsec_connection, ipsec_info, ipsec_purge, nft_set, nft_table, route,
    wireguard_info, wireguard_interface, wireguard_key))
FAMILY = {'wireguard_key': 'host', 'wireguard_interface': 'host', 'wireguard_info': 'host',
          'route': 'net', 'nft_set': 'net', 'nft_table': 'net',
          'ipsec_connection': 'charon', 'ipsec_info': 'charon', 'ipsec_purge': 'charon'}
MANAGEMENT = '198.18.0.1 50022 198.18.0.2 22'

# the roles' valid bases (each row breaks one thing)
MESH_NAMES = ['h1', 'h2', 'h3']
MESH_HOSTVARS = {'h1': {'ansible_host': '198.18.1.11'}, 'h2': {'ansible_host': '198.18.1.12'},
                 'h3': {'ansible_host': '198.18.1.13'}}
MESH_SETTINGS = {'network': '10.88.0.0/24', 'network6': '', 'topology': 'full', 'interface': 'wg0', 'hubs': ['h1'],
                 'require_keys': False,
                 'defaults': {'listen_port': 51820, 'persistent_keepalive': 25, 'routed_subnets': [],
                              'route_metric': 100, 'routed_subnets_withdrawn': False}}
FW_MEMBERS = ['web1', 'db1', 'ops1']
FW_SETTINGS = {'interface': 'wg0', 'interface_kind': 'wireguard', 'table': 'meshforge', 'groups': {},
               'policies': [{'sources': ['web'], 'destinations': ['db'], 'protocol': 'tcp', 'ports': [5432]}],
               'routed_subnets': [], 'extra_rules': []}
FW_GROUPS = {'web': ['web1'], 'db': ['db1'], 'ops': ['ops1']}
FW_ADDRESSES = {'web1': ['10.88.0.11/24'], 'db1': ['10.88.0.12/24'], 'ops1': ['10.88.0.13/24']}
FW_HOSTVARS = {'web1': {'ansible_host': '198.18.1.11'}, 'db1': {'ansible_host': '198.18.1.12'},
               'ops1': {'ansible_host': '198.18.1.13'}}
SITE_NAMES = ['west', 'east']
SITE_HOSTVARS = {'west': {'ansible_host': '198.18.1.11', 'ipsec_site_subnets': ['198.19.11.0/24']},
                 'east': {'ansible_host': '198.18.1.12', 'ipsec_site_subnets': ['198.19.12.0/24'],
                          'ipsec_site_id': 'east.example'}}
SITE_SETTINGS = {'libipsec': True, 'vici_socket': 'unix:///run/meshforge-vpn/charon.vici', 'ca_name': 'ca'}
SITE_TUNNELS = [{'name': 'west-east', 'left': 'west', 'right': 'east'}]

# a filter's message starts with its own name ("meshforge.vpn.firewall_plan: "); the field comes next
PLUGIN_PREFIX = re.compile(r'^meshforge\.vpn\.\w+: ')


# ansible-core's own argument checking, before the module runs: its wording, the field in its first words
CORE_FORMS = (r"argument '{field}' is of type ", r"value of {field} must be one (or more )?of: ",
              r"Unsupported parameters for \([\w.]+\) module: {field}\b")


def _param(case):
    name, target, args, field, problem = case[:5]
    defect = case[5] if len(case) > 5 else None
    if defect == CORE:
        return pytest.param(target, args, field, problem, True, id=name)
    if isinstance(defect, int):
        marks = [pytest.mark.xfail(strict=True, reason='issue 9 defect %d, fixed by a concurrent change' % defect)]
    elif defect:
        marks = [pytest.mark.xfail(strict=True, reason='issue 9 %s' % defect)]
    else:
        marks = []
    return pytest.param(target, args, field, problem, False, id=name, marks=marks)


def _merge(base, changes):
    out = copy.deepcopy(base)
    for key, value in (changes or {}).items():
        out[key] = dict(out.get(key) or {}, **value) if isinstance(value, dict) and key in out else value
    return out


def _fill(value, directory):
    if isinstance(value, str):
        return value.replace('{dir}', directory)
    if isinstance(value, list):
        return [_fill(v, directory) for v in value]
    if isinstance(value, dict):
        return dict((k, _fill(v, directory)) for k, v in value.items())
    return value


def _tree(root):
    """Every file and link under ``root`` with its content: what "nothing changed" compares.

    The ipam ledger's sidecar ``.lock`` is left out: it is taken before anything is read, by design.
    """
    found = {}
    for top, dirs, files in os.walk(root):
        for name in dirs + [f for f in files if not f.endswith('.json.lock')]:
            path = os.path.join(top, name)
            if os.path.islink(path):
                found[path] = 'link ' + os.readlink(path)
            elif os.path.isfile(path):
                with open(path, 'rb') as handle:
                    found[path] = handle.read()
            else:
                found[path] = 'dir'
    return found


@pytest.fixture
def net(monkeypatch):
    fake = FakeNet()
    make_set(fake, name='admins')
    fake.add_route('198.18.7.0/24', 'kernel', dev='eth0')        # the underlay's connected route
    monkeypatch.setenv('SSH_CONNECTION', MANAGEMENT)
    shell = FakeModule(fake, {})

    def run_command(self, args, check_rc=False, data=None, **kwargs):
        return shell.run_command(args, data=data)

    monkeypatch.setattr(basic.AnsibleModule, 'run_command', run_command)
    monkeypatch.setattr(basic.AnsibleModule, 'get_bin_path', lambda self, name, *a, **kw: '/usr/sbin/' + name)
    return fake


def _module_failure(request, tmp_path, monkeypatch, capsys, target, args):
    """``(message, what changed)`` of one call of the module ``target``."""
    family = FAMILY.get(target)
    fake = request.getfixturevalue(family) if family else None
    directory = fake.dir if family == 'host' else str(tmp_path / 'files')
    os.makedirs(directory, exist_ok=True)
    for name, content in (('wg0.key', make_key('bad input own key')), ('psk', KEY),
                          ('wg0.conf', '[Interface]\nListenPort = 51820\n')):
        with open(os.path.join(directory, name), 'w') as handle:
            handle.write(content + '\n')
    os.symlink(os.path.join(directory, 'wg0.key'), os.path.join(directory, 'link.key'))
    managed = []
    monkeypatch.setattr(daemon, 'manage', lambda module, desired: managed.append(desired) or {})
    before = _tree(str(tmp_path))
    result, _out = run_module(MODULES[target], _fill(args, directory), capsys)
    changes = {'files': _tree(str(tmp_path)) != before, 'charon managed': managed}
    if fake is not None:
        changes['commands'] = fake.changing_commands()
    assert result.get('failed'), 'accepted: %r' % (result,)
    return result['msg'], changes


def _raise(problem):
    if problem:
        raise AnsibleFilterError(problem)


def _role_failure(tmp_path, target, changes):
    """The message of the role's planner (or of the ipam action) refusing the row's variables."""
    mesh, firewall, ipsec = MeshFilters().filters(), FirewallFilters().filters(), IpsecFilters().filters()
    hostvars = _merge(MESH_HOSTVARS, changes.get('hostvars'))
    settings = _merge(MESH_SETTINGS, changes.get('settings'))
    calls = {
        'wireguard_mesh': lambda: mesh['wireguard_mesh_plan'](MESH_NAMES, hostvars, settings),
        'wireguard_mesh_ipam': lambda: mesh['wireguard_mesh_ipam_request'](MESH_NAMES, hostvars, settings,
                                                                           changes.get('release')),
        'wireguard_mesh_psk': lambda: mesh['wireguard_mesh_psk']([{'description': 'h2', 'public_key': KEY}],
                                                                 changes['secret'], 'wg0', 'h1'),
        'vpn_firewall': lambda: firewall['firewall_plan'](FW_MEMBERS, _merge(FW_SETTINGS, changes.get('settings')),
                                                          FW_GROUPS, FW_ADDRESSES, 'vpn_firewall_', FW_HOSTVARS),
        # the role's check before any host is touched (it returns its first problem)
        'ipsec_site': lambda: _raise(ipsec['ipsec_site_problem'](
            changes.get('tunnels', SITE_TUNNELS), SITE_NAMES, _merge(SITE_HOSTVARS, changes.get('hostvars')),
            _merge(SITE_SETTINGS, changes.get('settings')))),
        # the role's check of the whole description, which returns its first problem instead of raising it
        'wireguard_mesh_problem': lambda: _raise(mesh['wireguard_mesh_problem'](
            changes.get('names', MESH_NAMES), hostvars, settings, changes.get('release'), changes.get('rotate_keys'))),
        'ipam': lambda: run_ipam(_fill(changes, str(tmp_path / 'files')), {'inventory_dir': str(tmp_path)}),
    }
    os.makedirs(str(tmp_path / 'files'), exist_ok=True)
    before = _tree(str(tmp_path))
    with pytest.raises((AnsibleFilterError, AnsibleActionFail)) as exc:
        calls[target]()
    assert _tree(str(tmp_path)) == before, 'the ledger changed'
    return PLUGIN_PREFIX.sub('', exc.value.message)


def test_the_valid_bases_are_accepted(tmp_path):
    """Each row fails because of what it changes, not because its base was already wrong."""
    mesh = MeshFilters().filters()['wireguard_mesh_plan'](MESH_NAMES, MESH_HOSTVARS, MESH_SETTINGS)
    assert set(mesh) == set(MESH_NAMES)
    firewall = FirewallFilters().filters()['firewall_plan'](FW_MEMBERS, FW_SETTINGS, FW_GROUPS, FW_ADDRESSES)
    assert set(firewall) == set(FW_MEMBERS)
    plans = IpsecFilters().filters()['ipsec_site_plan'](SITE_TUNNELS, SITE_NAMES, SITE_HOSTVARS, SITE_SETTINGS)
    assert plans['hosts']['west']['connections']
    settings = dict(MESH_SETTINGS, private_key_file='/etc/wireguard/wg0.key')
    assert MeshFilters().filters()['wireguard_mesh_problem'](MESH_NAMES, MESH_HOSTVARS, settings) == ''
    assert IpsecFilters().filters()['ipsec_site_problem'](SITE_TUNNELS, SITE_NAMES, SITE_HOSTVARS, SITE_SETTINGS) == ''


def test_the_table_is_broad():
    targets = set(case[1] for case in CASES)
    assert set(MODULES) | set(['ipam', 'wireguard_mesh', 'vpn_firewall', 'ipsec_site']) <= targets
    assert len(CASES) >= 100 and len(set(case[0] for case in CASES)) == len(CASES)


@pytest.mark.parametrize('target, args, field, problem, core', [_param(case) for case in CASES])
def test_bad_input_is_refused_naming_the_field_and_changes_nothing(
        request, tmp_path, monkeypatch, capsys, target, args, field, problem, core):
    if target in MODULES:
        message, changes = _module_failure(request, tmp_path, monkeypatch, capsys, target, args)
        assert not any(changes.values()), '%s changed the host: %r' % (target, changes)
    else:
        message = _role_failure(tmp_path, target, args)
    if core:
        assert any(re.match(form.format(field=re.escape(field)), message) for form in CORE_FORMS), message
    else:
        assert message.startswith(field), message
    assert problem in message, message
