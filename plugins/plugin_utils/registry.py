# -*- coding: utf-8 -*-
# Copyright: meshforge.vpn contributors
# GNU General Public License v3.0+ (see https://www.gnu.org/licenses/gpl-3.0.txt)
"""The mesh registry: what every member publishes to the others, kept on the controller when it converges.

A member outside a run (``--limit``, an AWX slice) or unreachable is planned from its registry entry, never from the
values of the host that plans: its own listen port, endpoint, addresses and routed subnets, and the public key it
really has.  The registry holds public data only, by construction: an entry has exactly the keys of
:data:`ENTRY_KEYS`, each checked on load and on record, so nothing else (a private key, a PSK) can enter it.

The document (``meshforge_vpn_registry.json`` beside the inventory) is ``{"version": 1, "meshes": {<interface>:
{<member>: <entry>}}}``, stored like the address ledger (:mod:`.jsonstore`).
"""

from __future__ import absolute_import, division, print_function

__metaclass__ = type

import copy

from ansible_collections.meshforge.vpn.plugins.module_utils import validation as v
from ansible_collections.meshforge.vpn.plugins.module_utils.validation import ValidationError
from ansible_collections.meshforge.vpn.plugins.plugin_utils import jsonstore

FORMAT_VERSION = 1
REGISTRY_NAME = 'meshforge_vpn_registry.json'

PEER_KEYS = ('public_key', 'endpoint', 'listen_port', 'address', 'address6', 'routed_subnets', 'route_metric',
             'routed_subnets_withdrawn', 'exit_node')
"""What the other members' plans use; a change in one of them puts members that did not run behind."""

ENTRY_KEYS = PEER_KEYS + ('persistent_keepalive', 'ansible_host', 'converged')


def empty():
    return {'version': FORMAT_VERSION, 'meshes': {}}


def _optional(check):
    return lambda field, value: None if value in (None, '') else check(field, value)


def _text(field, value):
    return v.free_text(field, str(value))


def _subnets(field, value):
    if not isinstance(value, list):
        raise ValidationError(field, 'must be a list of CIDR prefixes')
    return [str(v.prefix('%s[%d]' % (field, i), p)) for i, p in enumerate(value)]


def _boolean(field, value):
    if not isinstance(value, bool):
        raise ValidationError(field, 'must be true or false')
    return value


CHECKS = {
    'public_key': v.wireguard_key,
    'endpoint': _optional(v.endpoint),
    'listen_port': v.port,
    'address': _optional(lambda field, value: str(v.address(field, value))),
    'address6': _optional(lambda field, value: str(v.address(field, value))),
    'routed_subnets': _subnets,
    'route_metric': lambda field, value: v.integer(field, value, 0, 2 ** 32 - 1),
    'routed_subnets_withdrawn': _boolean,
    'exit_node': _boolean,
    'persistent_keepalive': lambda field, value: v.integer(field, value or 0, 0, 65535),
    'ansible_host': _optional(_text),
    'converged': _text,
}


ADDED_LATER = {'exit_node': False}
"""Keys added after entries were first written, with the value an entry without them means."""


def peer_value(entry, key):
    """``entry[key]``, or the meaning of its absence for a key added after the entry was written."""
    return entry.get(key, ADDED_LATER.get(key))


def check_entry(field, raw):
    """One entry with exactly :data:`ENTRY_KEYS`, every value checked; raises ValidationError."""
    if not isinstance(raw, dict):
        raise ValidationError(field, 'must be a mapping')
    unknown = sorted(set(raw) - set(ENTRY_KEYS))
    if unknown:
        raise ValidationError(field, 'unknown keys %s: the registry holds only %s' % (', '.join(unknown), ', '.join(ENTRY_KEYS)))
    missing = sorted(k for k in ('public_key', 'listen_port', 'converged') if raw.get(k) in (None, ''))
    if missing:
        raise ValidationError(field, 'missing %s' % ', '.join(missing))
    return dict((key, CHECKS[key]('%s.%s' % (field, key), peer_value(raw, key))) for key in ENTRY_KEYS)


def from_data(data, source):
    """The registry in ``data`` (parsed JSON), checked; raises ValidationError naming ``source``."""
    if not isinstance(data, dict) or sorted(data) != ['meshes', 'version']:
        raise ValidationError(source, 'invalid registry: must be a mapping of version and meshes')
    if data['version'] != FORMAT_VERSION:
        raise ValidationError(source, 'invalid registry: version must be %d, got %r' % (FORMAT_VERSION, data['version']))
    if not isinstance(data['meshes'], dict):
        raise ValidationError(source, 'invalid registry: meshes must be a mapping')
    meshes = {}
    for mesh, members in data['meshes'].items():
        if not isinstance(members, dict):
            raise ValidationError(source, 'invalid registry: meshes.%s must be a mapping' % mesh)
        try:
            meshes[mesh] = dict((name, check_entry('meshes.%s.%s' % (mesh, name), entry)) for name, entry in members.items())
        except ValidationError as exc:
            raise ValidationError(source, 'invalid registry: %s' % exc)
    return {'version': FORMAT_VERSION, 'meshes': meshes}


def load(path):
    """The registry at ``path``; an empty one when the file does not exist."""
    text = jsonstore.read(path, 'registry')
    if text is None:
        return empty()
    return from_data(jsonstore.loads(text, path, 'registry'), path)


def members(registry, mesh):
    """``{member: entry}`` of one mesh."""
    return registry['meshes'].get(mesh, {})


def planning_view(entry):
    """An entry as the planner takes a member's settings."""
    return dict((key, copy.deepcopy(peer_value(entry, key))) for key in ENTRY_KEYS if key != 'converged')


def record(registry, mesh, entries, now):
    """``(new registry, names whose peer-visible values changed)`` after the members of ``entries`` converged at
    ``now``; every entry is checked."""
    new = copy.deepcopy(registry)
    current = new['meshes'].setdefault(mesh, {})
    changed = []
    for name in sorted(entries):
        entry = check_entry('%s (%s)' % (mesh, name), dict(entries[name], converged=now))
        old = current.get(name)
        if old is None or any(peer_value(old, k) != entry[k] for k in PEER_KEYS):
            changed.append(name)
        current[name] = entry
    return new, changed


def forget(registry, mesh, names):
    """The registry without ``names`` in ``mesh`` (members removed from the mesh)."""
    new = copy.deepcopy(registry)
    for name in names:
        new['meshes'].get(mesh, {}).pop(name, None)
    return new


def behind(before, after, mesh, outside):
    """``{member outside the run: [reasons]}``: what the members in ``outside`` do not know yet because members
    that ran were added or changed what their peers use."""
    old, new = members(before, mesh), members(after, mesh)
    reasons = []
    for name in sorted(new):
        if name in outside:
            continue
        if name not in old:
            reasons.append('new member %s' % name)
        else:
            fields = [k for k in PEER_KEYS if peer_value(old[name], k) != peer_value(new[name], k)]
            if fields:
                reasons.append('%s changed %s' % (name, ', '.join(fields)))
    return dict((name, list(reasons)) for name in sorted(outside)) if reasons else {}


def update(path, change, dry_run=False):
    """:func:`.jsonstore.update` of the registry at ``path``."""
    return jsonstore.update(path, load, change, jsonstore.dumps, dry_run)


def merge_cached(registry, mesh, cached):
    """The registry with the entries of ``cached`` (``{member: entry or None}``, as Ansible's fact cache keeps them
    per host) merged into ``mesh``: for each member the entry converged last wins, so a job whose controller-side
    file is new (AWX) plans from what the fact cache remembers."""
    new = copy.deepcopy(registry)
    current = new['meshes'].setdefault(mesh, {})
    for name in sorted(cached or {}):
        raw = cached[name]
        if not raw:
            continue
        entry = check_entry('wireguard_mesh_registered (%s)' % name, raw)
        if name not in current or entry['converged'] > current[name]['converged']:
            current[name] = entry
    return new


def cache_behind(members, cached):
    """The names of ``members`` (``{member: entry}``) whose entry differs from the one ``cached`` (``{member: entry or
    None}``, Ansible's fact cache) keeps for them, the last-converged stamp left out: the stamp alone is bookkeeping
    (the file has it, and the newer entry wins when both are read), so only these are written to the fact cache."""
    cached = cached or {}
    return sorted(name for name, entry in members.items()
                  if dict(entry, converged=None) != dict(cached.get(name) or {}, converged=None))


def default_path(variables):
    """Where the registry is when no path is given: beside the inventory, else the playbook, else here."""
    return jsonstore.default_path(variables, REGISTRY_NAME)
