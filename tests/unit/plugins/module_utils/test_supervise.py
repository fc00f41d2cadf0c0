# -*- coding: utf-8 -*-
# Copyright: meshforge.vpn contributors
# GNU General Public License v3.0+ (see https://www.gnu.org/licenses/gpl-3.0.txt)
"""The supervision shared by ipsec_charon and nebula_config, with a real process: spawned detached with its pid
file, taken for ours only by its binary's name, stopped."""

from __future__ import absolute_import, division, print_function

__metaclass__ = type

import os

from ansible_collections.meshforge.vpn.plugins.module_utils import supervise


def test_spawn_is_ours_and_stop(tmp_path):
    run_dir = str(tmp_path / 'run')
    pid_file, log_file = os.path.join(run_dir, 'sleep.pid'), os.path.join(run_dir, 'sleep.log')
    proc = supervise.spawn(['sleep', '30'], run_dir, pid_file, log_file)
    try:
        assert supervise.read_pid(pid_file) == proc.pid
        assert os.stat(run_dir).st_mode & 0o777 == 0o700
        assert supervise.is_ours(proc.pid, ('sleep',))
        assert not supervise.is_ours(proc.pid, ('nebula',))      # another binary's pid is never ours
        assert os.getsid(proc.pid) == proc.pid                    # a session of its own
        assert os.readlink('/proc/%d/cwd' % proc.pid) == '/'
        supervise.stop(proc.pid, ('sleep',), timeout=5)
        proc.wait(5)
        assert not supervise.is_ours(proc.pid, ('sleep',))
    finally:
        if proc.poll() is None:
            proc.kill()
