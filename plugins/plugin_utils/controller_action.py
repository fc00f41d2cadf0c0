# -*- coding: utf-8 -*-
# Copyright: meshforge.vpn contributors
# GNU General Public License v3.0+ (see https://www.gnu.org/licenses/gpl-3.0.txt)
"""The base of the collection's action plugins that work on a locked file on the controller and touch no host."""

from __future__ import absolute_import, division, print_function

__metaclass__ = type

from ansible.plugins.action import ActionBase


class ControllerAction(ActionBase):
    """Runs on the controller only: no connection, no file transfer, no async; check mode is a dry run."""

    TRANSFERS_FILES = False
    _requires_connection = False
    _supports_check_mode = True
    _supports_async = False

    ARGUMENT_SPEC = {}

    def start(self, tmp, task_vars, **spec_options):
        """``(result, args)``: the base result and the task's arguments checked against :attr:`ARGUMENT_SPEC`."""
        result = super(ControllerAction, self).run(tmp, task_vars)
        dummy, args = self.validate_argument_spec(self.ARGUMENT_SPEC, **spec_options)
        return result, args
