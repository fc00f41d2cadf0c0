# -*- coding: utf-8 -*-
# Copyright: meshforge.vpn contributors
# GNU General Public License v3.0+ (see https://www.gnu.org/licenses/gpl-3.0.txt)
"""Run a module's ``main()`` through a real AnsibleModule (argument spec, fail_json, no_log) and read its result."""

from __future__ import absolute_import, division, print_function

__metaclass__ = type

import json

import pytest

from ansible.module_utils.testing import patch_module_args


def run_module(module, args, capsys, check_mode=False, diff=False):
    """``(result, whole output)`` of one call of ``module`` with ``args``."""
    with patch_module_args(dict(args, _ansible_check_mode=check_mode, _ansible_diff=diff)):
        with pytest.raises(SystemExit):
            module.main()
    out = capsys.readouterr().out
    # AnsibleModule masks registered secrets: a mask in the output is a secret that the module tried to return
    assert '********' not in out
    return json.loads(out), out
