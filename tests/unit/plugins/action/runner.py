# -*- coding: utf-8 -*-
# Copyright: meshforge.vpn contributors
# GNU General Public License v3.0+ (see https://www.gnu.org/licenses/gpl-3.0.txt)
"""Run one of the collection's controller-only action plugins as a task would, and prove it touched no host."""

from __future__ import absolute_import, division, print_function

__metaclass__ = type

from unittest.mock import MagicMock

from ansible.playbook.play_context import PlayContext
from ansible.playbook.task import Task


def run_action(action_class, args, task_vars=None, check_mode=False, diff=False):
    """The result of ``action_class`` run with ``args``; its connection is a stand-in that shows any use."""
    task = Task()
    task.args = args
    task.check_mode = check_mode
    task.diff = diff
    connection = MagicMock()
    result = action_class(task, connection, PlayContext(), None, None, None).run(task_vars=task_vars or {})
    assert not connection.exec_command.called and not connection.put_file.called
    return result
