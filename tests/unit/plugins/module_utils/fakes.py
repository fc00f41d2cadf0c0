# -*- coding: utf-8 -*-
# Copyright: meshforge.vpn contributors
# GNU General Public License v3.0+ (see https://www.gnu.org/licenses/gpl-3.0.txt)
"""What every fake host of the unit tests shares: one command log with one rule for what changes the host, and
one fake AnsibleModule that runs the drivers' commands on a fake host.

The fakes are fakehost.FakeHost (ip, wg, wireguard-go, nft, systemctl: the one fake host of the drivers that run
commands) and fakevici's (charon over VICI).  Each records every call through :class:`CommandLog`, saying whether
it changed the host, so a check-mode test asserts ``host.changing_commands() == []`` whatever the fake.
"""

from __future__ import absolute_import, division, print_function

__metaclass__ = type


class CommandLog(object):
    """Every call a fake answered, in order, each marked as changing the host or not."""

    def __init__(self):
        self.log = []

    def record(self, call, changing):
        self.log.append((bool(changing), call))

    @property
    def commands(self):
        """Every call, in order."""
        return [call for dummy, call in self.log]

    def changing_commands(self):
        """The calls that changed the host, in order."""
        return [call for changing, call in self.log if changing]


class FakeModule(object):
    """The parts of AnsibleModule the drivers use.  ``host`` (a fake with ``run(argv, data, environ)`` and
    optionally ``tools``) answers run_command; a driver that runs no command (strongSwan's, which talks VICI)
    passes None."""

    def __init__(self, host, params, check_mode=False, diff=False):
        self.host = host
        self.params = params
        self.check_mode = check_mode
        self._diff = diff
        self.no_log_values = set()

    def get_bin_path(self, name, required=False, opt_dirs=None):
        tools = getattr(self.host, 'tools', None)
        if tools is None or name in tools:
            return '%s/%s' % (getattr(self.host, 'bin_dir', '/usr/bin'), name)
        if required:
            raise AssertionError('required tool %s is missing' % name)
        return None

    def run_command(self, args, check_rc=False, data=None, binary_data=False, environ_update=None, **kwargs):
        assert isinstance(args, list), 'commands are argument lists, never shell strings'
        assert all(isinstance(a, str) for a in args), args
        rc, out, err = self.host.run(args, data, environ_update)
        if check_rc and rc != 0:
            raise AssertionError('%s failed: %s' % (args, err))
        return rc, out, err
