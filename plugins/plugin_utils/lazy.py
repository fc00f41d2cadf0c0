# -*- coding: utf-8 -*-
# Copyright: meshforge.vpn contributors
# GNU General Public License v3.0+ (see https://www.gnu.org/licenses/gpl-3.0.txt)
"""Modules imported when first used, for the collection's filter plugins.

To resolve one filter name of a collection, Ansible loads every filter file of that collection, and it does so again
in every worker process (one per host and task), since the parent process that forks them never templates.  So what a
filter file imports at its top is paid by every task that uses any filter of the collection: about 0.05 s of CPU per
host and task with the planners imported eagerly.  A filter file names its planners with `lazy()` instead; a planner is
imported on its first attribute access, only in the workers whose filter calls it.
"""

from __future__ import absolute_import, division, print_function

__metaclass__ = type

import importlib

PREFIX = 'ansible_collections.meshforge.vpn.plugins.'


class LazyModule(object):
    """Stands for the module `plugins.<name>`; importing it on the first attribute read."""

    __slots__ = ('_lazy_name',)

    def __init__(self, name):
        self._lazy_name = PREFIX + name

    def __getattr__(self, attr):
        return getattr(importlib.import_module(self._lazy_name), attr)

    def __repr__(self):
        return '<lazy module %s>' % self._lazy_name


def lazy(name):
    """`lazy('plugin_utils.topology')`: the collection's module plugins/plugin_utils/topology.py, imported when used."""
    return LazyModule(name)
