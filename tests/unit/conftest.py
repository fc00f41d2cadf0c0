# -*- coding: utf-8 -*-
# Copyright: meshforge.vpn contributors
# GNU General Public License v3.0+ (see https://www.gnu.org/licenses/gpl-3.0.txt)
"""Makes ``ansible_collections.meshforge.vpn`` importable for a plain ``pytest tests/unit``.

Under ``ansible-test units`` the collection already sits in an
``ansible_collections/meshforge/vpn`` tree and nothing is added.  Otherwise the
tree that ``.tmp/collections`` holds is used; it is made here if missing
(a symlink to this checkout).
"""

from __future__ import absolute_import, division, print_function

__metaclass__ = type

import os
import sys

ROOT = os.path.dirname(os.path.dirname(os.path.dirname(os.path.abspath(__file__))))


def _collections_dir():
    parts = ROOT.split(os.sep)
    if parts[-3:-1] == ['ansible_collections', 'meshforge'] and parts[-1] == 'vpn':
        return os.sep.join(parts[:-3])
    base = os.path.join(ROOT, '.tmp', 'collections')
    link = os.path.join(base, 'ansible_collections', 'meshforge', 'vpn')
    if not os.path.exists(link):
        os.makedirs(os.path.dirname(link), exist_ok=True)
        os.symlink(ROOT, link)
    return base


_path = _collections_dir()
if _path not in sys.path:
    sys.path.insert(0, _path)

try:
    from hypothesis import settings as _hypothesis_settings
except ImportError:  # pragma: no cover - hypothesis is in tests/requirements
    _hypothesis_settings = None

# `make test` (tests/all.sh) runs the property tests with --hypothesis-profile=ci: the same examples on every run,
# so that a CI run fails for a change, not for a draw; a plain `pytest tests/unit` keeps drawing new ones.
if _hypothesis_settings is not None:
    _hypothesis_settings.register_profile('ci', derandomize=True, database=None)
