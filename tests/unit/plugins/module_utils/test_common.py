# -*- coding: utf-8 -*-
# Copyright: meshforge.vpn contributors
# GNU General Public License v3.0+ (see https://www.gnu.org/licenses/gpl-3.0.txt)
"""run_module: every error a driver raises becomes the same fail_json in every module."""

from __future__ import absolute_import, division, print_function

__metaclass__ = type

import json

import pytest

from ansible.module_utils.basic import AnsibleModule
from ansible.module_utils.testing import patch_module_args

import importlib
import pkgutil

from ansible_collections.meshforge.vpn.plugins import module_utils
from ansible_collections.meshforge.vpn.plugins.module_utils.common import (
    CommandError, MissingLibrary, MissingTool, ModuleError, Refused, require_library, run_module)
from ansible_collections.meshforge.vpn.plugins.module_utils.validation import ValidationError


def result_of(body, capsys, **kwargs):
    with patch_module_args({'secret': 's3cr3t-value'}):
        module = AnsibleModule(argument_spec=dict(secret=dict(type='str', no_log=True)))
        with pytest.raises(SystemExit):
            run_module(module, body, **kwargs)
    return json.loads(capsys.readouterr().out)


def raising(exc):
    def body(module):
        raise exc
    return body


def test_result_and_failed_result(capsys):
    assert result_of(lambda module: {'changed': True, 'x': 1}, capsys) == {'changed': True, 'x': 1, 'invocation': {
        'module_args': {'secret': 'VALUE_SPECIFIED_IN_NO_LOG_PARAMETER'}}}
    failed = result_of(lambda module: {'changed': False, 'failed': True, 'msg': 'no', 'missing': ['swanctl']}, capsys)
    assert failed['failed'] and failed['msg'] == 'no' and failed['missing'] == ['swanctl']


@pytest.mark.parametrize('exc, keys', [
    (ValidationError('peers[0].endpoint', 'not a host:port'), {'msg': 'peers[0].endpoint: not a host:port',
                                                               'field': 'peers[0].endpoint'}),
    (CommandError(['nft', '-j', 'list', 'ruleset'], 1, 'Error: no such table\n'),
     {'msg': 'nft -j list ruleset failed (rc=1): Error: no such table', 'rc': 1}),
    (CommandError(['ip', 'link'], 2, None), {'msg': 'ip link failed (rc=2): ', 'rc': 2}),
    (Refused('chains[0]', 'would cut the management connection'),
     {'msg': 'chains[0]: would cut the management connection', 'field': 'chains[0]'}),
    (MissingTool('wg (package wireguard-tools) is not installed'),
     {'msg': 'wg (package wireguard-tools) is not installed', 'missing_tools': True}),
    (ModuleError('charon does not answer'), {'msg': 'charon does not answer'}),
    (OSError(13, 'Permission denied'), {'msg': '[Errno 13] Permission denied'}),
])
def test_each_error_fails_with_its_keys(exc, keys, capsys):
    result = result_of(raising(exc), capsys)
    assert result['failed'] and dict((k, result[k]) for k in keys) == keys
    assert set(result) - set(keys) == {'failed', 'invocation'}


def test_untouched_and_always(capsys):
    result = result_of(raising(ValidationError('path', 'is a directory')), capsys, untouched='the file',
                       always={'missing': []})
    assert result['msg'] == 'path: is a directory (the file is left as it is)' and result['missing'] == []
    assert result_of(raising(OSError('gone')), capsys, always={'missing': []})['missing'] == []


def test_missing_library(capsys):
    require_library(True, 'vici', None)
    with pytest.raises(MissingLibrary):
        require_library(False, 'vici', 'Traceback ...')
    result = result_of(lambda module: require_library(False, 'vici', 'Traceback ...'), capsys)
    assert result['failed'] and 'Failed to import the required Python library (vici)' in result['msg']


def _driver_modules():
    for info in pkgutil.walk_packages(module_utils.__path__, module_utils.__name__ + '.'):
        yield importlib.import_module(info.name)


def test_every_driver_error_is_a_module_error_or_a_validation_error():
    """One error type: run_module reports every error a driver raises the same way."""
    found = []
    for module in _driver_modules():
        for value in vars(module).values():
            if isinstance(value, type) and issubclass(value, Exception) and value.__module__ == module.__name__:
                found.append(value)
                assert issubclass(value, (ModuleError, ValidationError)), value
    assert CommandError in found and Refused in found


def test_secrets_are_masked_in_failures(capsys):
    out = result_of(raising(CommandError(['wg', 'set'], 1, 'bad key s3cr3t-value')), capsys)
    assert 's3cr3t-value' not in json.dumps(out)
