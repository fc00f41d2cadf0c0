# -*- coding: utf-8 -*-
# Copyright: meshforge.vpn contributors
# GNU General Public License v3.0+ (see https://www.gnu.org/licenses/gpl-3.0.txt)

from __future__ import absolute_import, division, print_function

__metaclass__ = type

import os
import subprocess
import sys

from ansible_collections.meshforge.vpn.plugins.plugin_utils.lazy import lazy

FILTERS = ('audit', 'firewall', 'ipam', 'ipsec_site', 'mesh_dns', 'nebula_mesh', 'registered', 'vpn_status',
           'wireguard_mesh')


def test_a_lazy_module_gives_the_module_attributes():
    from ansible_collections.meshforge.vpn.plugins.plugin_utils import topology
    lazy_topology = lazy('plugin_utils.topology')
    assert lazy_topology.plan_mesh is topology.plan_mesh
    assert 'plugin_utils.topology' in repr(lazy_topology)


def test_loading_every_filter_file_imports_no_planner():
    """What a worker pays to resolve one filter name of the collection: every filter file, none of the planners."""
    code = ('import sys, importlib\n'
            'for name in %r:\n'
            '    importlib.import_module("ansible_collections.meshforge.vpn.plugins.filter." + name)\n'
            'print("\\n".join(m for m in sys.modules if m.startswith("ansible_collections.meshforge.vpn.plugins.")\n'
            '                 and (".plugin_utils." in m or ".module_utils." in m)))\n' % (FILTERS,))
    env = dict(os.environ, PYTHONPATH=os.pathsep.join(sys.path))
    out = subprocess.run([sys.executable, '-c', code], capture_output=True, text=True, check=True, env=env).stdout.split()
    assert out == ['ansible_collections.meshforge.vpn.plugins.plugin_utils.lazy']
