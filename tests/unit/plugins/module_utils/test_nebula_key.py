# -*- coding: utf-8 -*-
# Copyright: meshforge.vpn contributors
# GNU General Public License v3.0+ (see https://www.gnu.org/licenses/gpl-3.0.txt)
"""nebula_key's driver against a fake ``nebula-cert keygen`` (it writes the pair as 1.6.1 does, checked by hand:
both files 0600, the PEM headers NEBULA X25519 PRIVATE/PUBLIC KEY): check mode predicts and runs nothing, a
re-run changes nothing, the private key is never in a result or diff, and a file that is not a key is never
removed or replaced."""

from __future__ import absolute_import, division, print_function

__metaclass__ = type

import base64
import json
import os

import pytest

from ansible_collections.meshforge.vpn.plugins.module_utils import files
from ansible_collections.meshforge.vpn.plugins.module_utils.common import MissingTool
from ansible_collections.meshforge.vpn.plugins.module_utils.nebula.key import manage_key
from ansible_collections.meshforge.vpn.plugins.module_utils.validation import ValidationError
from ansible_collections.meshforge.vpn.plugins.modules import nebula_key
from ansible_collections.meshforge.vpn.tests.unit.plugins.module_utils.fakes import CommandLog, FakeModule
from ansible_collections.meshforge.vpn.tests.unit.plugins.modules.runner import on_host, run_module


def pem(kind, raw):
    return '-----BEGIN NEBULA X25519 %s KEY-----\n%s\n-----END NEBULA X25519 %s KEY-----\n' % (
        kind, base64.b64encode(raw).decode(), kind)


class FakeNebulaCert(CommandLog):
    """``nebula-cert keygen -out-key K -out-pub P``; each pair is new (the public key tells the pair apart)."""

    bin_dir = '/usr/bin'

    def __init__(self):
        super(FakeNebulaCert, self).__init__()
        self.tools = {'nebula-cert'}
        self.count = 0

    def run(self, args, data=None, environ=None):
        assert args[:2] == ['/usr/bin/nebula-cert', 'keygen'], args
        self.record(args, True)
        self.count += 1
        opts = dict(zip(args[2::2], args[3::2]))
        files.write_atomic(opts['-out-key'], pem('PRIVATE', bytes([self.count]) * 32), 0o600)
        files.write_atomic(opts['-out-pub'], pem('PUBLIC', bytes([self.count + 100]) * 32), 0o600)
        return 0, '', ''


@pytest.fixture
def cert():
    return FakeNebulaCert()


def params(tmp_path, **overrides):
    base = {'path': str(tmp_path / 'nebula' / 'mesh.key'), 'public_key_path': None, 'state': 'present',
            'rotate': False}
    base.update(overrides)
    return base


def run(cert, args, check_mode=False):
    module = FakeModule(cert, args, check_mode=check_mode, diff=True)
    before = len(cert.changing_commands())
    result = manage_key(module)
    return result, module, cert.changing_commands()[before:]


def listing(tmp_path):
    return sorted(os.path.relpath(os.path.join(d, f), str(tmp_path)) for d, _s, fs in os.walk(str(tmp_path)) for f in fs)


def test_creates_once_and_keeps_the_private_key_on_the_host(cert, tmp_path):
    predicted, _module, changing = run(cert, params(tmp_path), check_mode=True)
    assert predicted['changed'] and predicted['public_key'] is None and changing == []
    assert listing(tmp_path) == []
    result, module, changing = run(cert, params(tmp_path))
    assert result['changed'] and len(changing) == 1 and not result['rotated']
    key = files.read_text(result['path'])
    assert files.file_mode(result['path']) == 0o600 and files.file_mode(result['public_key_path']) == 0o644
    assert result['public_key_path'] == result['path'] + '.pub'
    assert result['public_key'] == files.read_text(result['public_key_path']) == pem('PUBLIC', bytes([101]) * 32)
    assert key.splitlines()[1] in module.no_log_values
    assert key.splitlines()[1] not in json.dumps(result)
    assert [r['change'] for r in result['audit']] == ['key created']
    assert listing(tmp_path) == ['nebula/mesh.key', 'nebula/mesh.key.pub']     # no keygen directory left behind
    for check_mode in (True, False):
        again, _module, changing = run(cert, params(tmp_path), check_mode=check_mode)
        assert not again['changed'] and changing == [] and again['audit'] == []
        assert again['public_key'] == result['public_key']
        assert key.splitlines()[1] not in json.dumps(again)
    assert files.read_text(result['path']) == key


def test_fixes_modes_and_rotates(cert, tmp_path):
    first, _module, _changing = run(cert, params(tmp_path))
    os.chmod(first['path'], 0o644)
    os.chmod(first['public_key_path'], 0o600)
    fixed, _module, changing = run(cert, params(tmp_path))
    assert fixed['changed'] and changing == [] and fixed['public_key'] == first['public_key']
    assert [r['change'] for r in fixed['audit']] == ['key mode set', 'public key mode set']
    assert files.file_mode(first['path']) == 0o600 and files.file_mode(first['public_key_path']) == 0o644
    rotated, _module, changing = run(cert, params(tmp_path, rotate=True))
    assert rotated['changed'] and rotated['rotated'] and len(changing) == 1
    assert rotated['public_key'] != first['public_key']
    assert 'new key' in rotated['diff']['after'] and 'BEGIN' not in json.dumps(rotated['diff'])


def test_absent_removes_the_pair_only(cert, tmp_path):
    first, _module, _changing = run(cert, params(tmp_path))
    checked, _module, _changing = run(cert, params(tmp_path, state='absent'), check_mode=True)
    assert checked['changed'] and os.path.exists(first['path'])
    gone, _module, changing = run(cert, params(tmp_path, state='absent'))
    assert gone['changed'] and changing == [] and gone['public_key'] is None
    assert listing(tmp_path) == []
    again, _module, _changing = run(cert, params(tmp_path, state='absent'))
    assert not again['changed']


@pytest.mark.parametrize('field, content', [
    ('path', 'pki:\n  ca: /etc/nebula/ca.crt\n'),
    ('path', pem('PUBLIC', b'\x01' * 32)),
    ('public_key_path', '-----BEGIN NEBULA CERTIFICATE-----\nAAAA\n-----END NEBULA CERTIFICATE-----\n'),
])
@pytest.mark.parametrize('state', ['present', 'absent'])
def test_a_file_that_is_not_a_key_is_left_as_it_is(cert, tmp_path, field, content, state):
    args = params(tmp_path, state=state)
    os.makedirs(str(tmp_path / 'nebula'))
    if field == 'public_key_path':
        files.write_atomic(args['path'], pem('PRIVATE', b'\x07' * 32), 0o600)
    target = args['path'] if field == 'path' else args['path'] + '.pub'
    files.write_atomic(target, content, 0o644)
    with pytest.raises(ValidationError) as exc:
        run(cert, args)
    assert str(exc.value).startswith(field + ': ') and 'BEGIN' not in str(exc.value)
    assert files.read_text(target) == content and cert.count == 0


def test_a_private_key_without_its_public_key_is_refused(cert, tmp_path):
    first, _module, _changing = run(cert, params(tmp_path))
    os.remove(first['public_key_path'])
    with pytest.raises(ValidationError) as exc:
        run(cert, params(tmp_path), check_mode=True)
    assert str(exc.value).startswith('public_key_path: ') and 'rotate=true' in str(exc.value)
    rotated, _module, changing = run(cert, params(tmp_path, rotate=True))
    assert rotated['changed'] and len(changing) == 1 and os.path.exists(first['public_key_path'])


@pytest.mark.parametrize('overrides, field', [
    ({'path': 'relative.key'}, 'path'),
    ({'path': '/etc/nebula/../x.key'}, 'path'),
    ({'public_key_path': '/etc/nebula/a.pub\nlighthouse:'}, 'public_key_path'),
    ({'path': '/etc/nebula/a.key', 'public_key_path': '/etc/nebula/a.key'}, 'public_key_path'),
])
def test_bad_paths_are_refused_before_anything_runs(cert, tmp_path, overrides, field):
    with pytest.raises(ValidationError) as exc:
        run(cert, params(tmp_path, **overrides))
    assert str(exc.value).startswith(field + ': ') and cert.commands == []


def test_without_nebula_cert(cert, tmp_path):
    cert.tools = set()
    with pytest.raises(MissingTool) as exc:
        run(cert, params(tmp_path))
    assert 'nebula-cert (package nebula) is not installed' in str(exc.value)
    assert listing(tmp_path) == []


def test_check_mode_predicts_the_key_where_nebula_is_not_installed_yet(cert, tmp_path):
    """The role's package task only predicts the installation in check mode: the key is predicted without the tool
    (a fresh systemd container host, extensions/molecule/systemd)."""
    cert.tools = set()
    predicted, _module, changing = run(cert, params(tmp_path), check_mode=True)
    assert predicted['changed'] and predicted['public_key'] is None and changing == [] and listing(tmp_path) == []


def test_the_module_shell_end_to_end(cert, tmp_path, monkeypatch, capsys):
    """main() through a real AnsibleModule: check mode, the change, a second call, and fail_json naming the field;
    the private key is never in the output (runner.run_module also fails on a masked secret)."""
    on_host(cert, monkeypatch)
    args = {'path': str(tmp_path / 'mesh.key')}
    predicted, _out = run_module(nebula_key, args, capsys, check_mode=True, diff=True)
    assert predicted['changed'] and cert.count == 0 and listing(tmp_path) == []
    result, out = run_module(nebula_key, args, capsys, diff=True)
    assert result['changed'] and result['public_key'].startswith('-----BEGIN NEBULA X25519 PUBLIC KEY-----')
    assert files.read_text(args['path']).splitlines()[1] not in out
    again, _out = run_module(nebula_key, args, capsys)
    assert not again['changed'] and again['public_key'] == result['public_key']
    failed, _out = run_module(nebula_key, {'path': 'mesh.key'}, capsys)
    assert failed['failed'] and failed['msg'].startswith('path: ') and failed['field'] == 'path'
    cert.tools = set()
    missing, _out = run_module(nebula_key, {'path': str(tmp_path / 'other.key')}, capsys)
    assert missing['failed'] and missing['missing_tools'] is True


@pytest.mark.parametrize('tools, missing', [
    ({'nebula-cert', 'ssh-keygen'}, 'nebula (package nebula)'),
    ({'nebula-cert', 'nebula'}, 'ssh-keygen (package openssh-client)'),
    ({'nebula', 'ssh-keygen'}, 'nebula-cert (package nebula)'),
])
@pytest.mark.parametrize('check_mode', [False, True])
def test_check_tools_names_what_nebula_config_lacks_in_both_modes(cert, tmp_path, tools, missing, check_mode):
    """The role's first call: a host without any of nebula's tools says so before any change, also in check mode
    (the role then predicts or runs the installation)."""
    cert.tools = tools
    with pytest.raises(MissingTool) as exc:
        run(cert, params(tmp_path, check_tools=True), check_mode=check_mode)
    assert '%s is not installed' % missing in str(exc.value) and exc.value.fail_keys() == {'missing_tools': True}
    assert listing(tmp_path) == [] and cert.changing_commands() == []


def test_check_tools_without_pyyaml(cert, tmp_path, monkeypatch):
    from ansible.module_utils.common import yaml
    monkeypatch.setattr(yaml, 'HAS_YAML', False)
    cert.tools = {'nebula-cert', 'nebula', 'ssh-keygen'}
    with pytest.raises(MissingTool, match=r'PyYAML \(package python3-yaml\) is not installed'):
        run(cert, params(tmp_path, check_tools=True))


def test_check_tools_with_everything_installed_makes_the_key(cert, tmp_path):
    cert.tools = {'nebula-cert', 'nebula', 'ssh-keygen'}
    result, _module, changing = run(cert, params(tmp_path, check_tools=True))
    assert result['changed'] and result['public_key'].startswith('-----BEGIN NEBULA X25519 PUBLIC KEY') and len(changing) == 1
