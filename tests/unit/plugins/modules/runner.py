# -*- coding: utf-8 -*-
# Copyright: meshforge.vpn contributors
# GNU General Public License v3.0+ (see https://www.gnu.org/licenses/gpl-3.0.txt)
"""Run a module's ``main()`` through a real AnsibleModule (argument spec, fail_json, no_log) and read its result;
:func:`on_host` makes its commands run on a fake host."""

from __future__ import absolute_import, division, print_function

__metaclass__ = type

import json

import pytest

from ansible.module_utils import basic
from ansible.module_utils.testing import patch_module_args

from ansible_collections.meshforge.vpn.tests.unit.plugins.module_utils.fakes import FakeModule


def run_module(module, args, capsys, check_mode=False, diff=False):
    """``(result, whole output)`` of one call of ``module`` with ``args``."""
    with patch_module_args(dict(args, _ansible_check_mode=check_mode, _ansible_diff=diff)):
        with pytest.raises(SystemExit):
            module.main()
    out = capsys.readouterr().out
    # AnsibleModule masks registered secrets: a mask in the output is a secret that the module tried to return
    assert '********' not in out
    return json.loads(out), out


def on_host(host, monkeypatch):
    """Every AnsibleModule runs its commands on ``host`` (see fakehost.FakeHost) and finds the tools it has, as the
    fake module does; everything else is AnsibleModule's own."""
    shell = FakeModule(host, {})

    def run_command(self, args, check_rc=False, data=None, binary_data=False, environ_update=None, **kwargs):
        return shell.run_command(args, check_rc, data, binary_data, environ_update)

    monkeypatch.setattr(basic.AnsibleModule, 'run_command', run_command)
    monkeypatch.setattr(basic.AnsibleModule, 'get_bin_path', lambda self, name, required=False, opt_dirs=None:
                        shell.get_bin_path(name, required, opt_dirs))
    return host
