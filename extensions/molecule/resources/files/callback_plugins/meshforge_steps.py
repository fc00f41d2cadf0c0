# Copyright: meshforge.vpn contributors
# GNU General Public License v3.0+ (see https://www.gnu.org/licenses/gpl-3.0.txt)
"""What a run cost each host: the steps that ran on it, not skipped, as the scenarios count round trips.

Enabled only for a run that asks (ANSIBLE_CALLBACKS_ENABLED=meshforge_steps, ANSIBLE_CALLBACK_PLUGINS naming this
directory); at the end of the run it writes {host: [{"task", "action", "calls"}]} to $MESHFORGE_STEPS_FILE.  A step
that runs on the controller for the whole play (run_once) or only there (set_fact, assert, debug, an include) is
not one of a host's: what is left are the module calls each host paid a round trip for ("calls": the items of a
loop).  Task names and actions only, never a result: nothing secret is written.
"""
from __future__ import absolute_import, division, print_function

__metaclass__ = type

DOCUMENTATION = '''
name: meshforge_steps
type: aggregate
short_description: write the module steps each host ran to $MESHFORGE_STEPS_FILE (the scenarios' round-trip count)
description: See the file's docstring.
requirements: [enable in configuration]
'''

import json
import os

from ansible.plugins.callback import CallbackBase

CONTROLLER_ONLY = frozenset(['set_fact', 'assert', 'debug', 'fail', 'validate_argument_spec', 'include_tasks', 'import_tasks',
                             'include_role', 'import_role', 'include_vars', 'meta', 'add_host', 'group_by'])


class CallbackModule(CallbackBase):
    CALLBACK_VERSION = 2.0
    CALLBACK_TYPE = 'aggregate'
    CALLBACK_NAME = 'meshforge_steps'
    CALLBACK_NEEDS_ENABLED = True

    def __init__(self):
        super(CallbackModule, self).__init__()
        self.steps = {}

    def _record(self, result):
        task = result._task
        if task.run_once or task.action.rsplit('.', 1)[-1] in CONTROLLER_ONLY:
            return
        items = result._result.get('results')
        calls = len([item for item in items if not item.get('skipped')]) if items else 1
        self.steps.setdefault(result._host.get_name(), []).append(
            {'task': task.get_name(), 'action': task.action, 'calls': calls})

    def v2_runner_on_ok(self, result):
        self._record(result)

    def v2_runner_on_failed(self, result, ignore_errors=False):
        self._record(result)

    def v2_playbook_on_stats(self, stats):
        path = os.environ.get('MESHFORGE_STEPS_FILE')
        if path:
            with open(path, 'w') as handle:
                json.dump(self.steps, handle, indent=1, sort_keys=True)
