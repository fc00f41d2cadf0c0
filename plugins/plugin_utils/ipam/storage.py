# -*- coding: utf-8 -*-
# Copyright: meshforge.vpn contributors
# GNU General Public License v3.0+ (see https://www.gnu.org/licenses/gpl-3.0.txt)
"""The ledger file on the controller: where it is, its text, and the lock around a read-modify-write.

The file is a :mod:`..jsonstore` document (strict JSON, sorted keys, a lock, atomic saves); change it only
through :func:`update`.
"""

from __future__ import absolute_import, division, print_function

__metaclass__ = type


from ansible_collections.meshforge.vpn.plugins.module_utils.validation import ValidationError
from ansible_collections.meshforge.vpn.plugins.plugin_utils import jsonstore
from ansible_collections.meshforge.vpn.plugins.plugin_utils.ipam.ledger import Ledger, from_data

LEDGER_NAME = 'meshforge_vpn_ipam.json'


def default_path(variables):
    """Where the ledger is when no path is given: beside the inventory, else the playbook, else here."""
    return jsonstore.default_path(variables, LEDGER_NAME)


def dumps(ledger):
    return jsonstore.dumps(ledger.to_data())


def loads(text, source='<ledger>'):
    """Parse and check a ledger; any problem is a ValidationError whose field is ``source``."""
    data = jsonstore.loads(text, source, 'ledger')
    try:
        return from_data(data)
    except ValidationError as exc:
        raise ValidationError(source, 'invalid ledger: %s' % exc)


def load(path, pools=(), missing_ok=True):
    """The ledger stored at ``path``; a missing file is an empty ledger with ``pools`` (an error without
    ``missing_ok``)."""
    text = jsonstore.read(path, 'ledger')
    if text is None:
        if not missing_ok:
            raise ValidationError(path, 'no ledger at this path')
        return Ledger(pools)
    return loads(text, path)


def save(path, ledger):
    """Write ``ledger`` atomically, keeping the mode of an existing ledger file."""
    jsonstore.save(path, dumps(ledger))


def update(path, change, pools=(), dry_run=False):
    """``change(ledger) -> (ledger, result)`` on the ledger at ``path``: ``(before, after, result)``.

    Under the lock, the new ledger is saved if it differs (or the file does not exist yet).  With ``dry_run``
    nothing is written and no lock is taken.
    """
    return jsonstore.update(path, lambda where: load(where, pools), change, dumps, dry_run)
