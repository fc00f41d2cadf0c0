# -*- coding: utf-8 -*-
# Copyright: meshforge.vpn contributors
# GNU General Public License v3.0+ (see https://www.gnu.org/licenses/gpl-3.0.txt)
"""The one engine every resource module runs on, and the one way a driver runs a command on the host.

A module makes one resource (an interface, a table, a set of routes, a connection) match its parameters.  Every
module does it the same way, so the order lives here once and a driver writes only what is its own::

    want   = resource.want()                   the parameters, checked and normalised (no I/O on the host)
    have   = resource.have(want)               the live state (None: the resource does not exist)
    steps  = resource.steps(want, have)        what must change; a dict whose values are empty when nothing is to do
    resource.check(want, have, steps)          refuse what must not be applied (lockout, capture); runs in check mode
    files  = resource.files(want, have)        the files that persist it (content None: remove the file)
    pending = the files that change
    result = resource.result(want, have, steps, pending) + changed, persisted, audit, diff
    if changed and not check mode:
        resource.apply(want, have, steps), and the files are written (after, or before with files_first)
        the audit records go to the host's audit log (the module's ``audit_log`` option, when it has one and it is set)

Check mode stops at the one guard in :func:`manage`, so it predicts exactly what a real run changes: a step or a file
that differs.  A driver never calls ``fail_json``; it raises the errors of :mod:`.common`, and
:func:`.common.run_module` reports them.
"""

from __future__ import absolute_import, division, print_function

__metaclass__ = type

from ansible_collections.meshforge.vpn.plugins.module_utils import audit as _audit, files as _files
from ansible_collections.meshforge.vpn.plugins.module_utils.common import CommandError, MissingTool


class Host(object):
    """Runs the commands of one host: a list of words, never a shell string.

    :meth:`run` raises :class:`~.common.CommandError` when the command fails; :meth:`probe` returns the exit code
    for commands whose failure is an answer (``wg show`` of a link that does not exist).
    """

    def __init__(self, module):
        self.module = module

    def tool(self, name, required=True, package=None):
        """The path of the command ``name``; :class:`~.common.MissingTool` when it is required and not installed
        (``package`` names what installs it)."""
        path = self.module.get_bin_path(name)
        if path is None and required:
            raise MissingTool('%s%s is not installed on the host (not found in PATH)'
                              % (name, ' (package %s)' % package if package else ''))
        return path

    def probe(self, args, data=None, environ=None):
        """``(rc, stdout, stderr)`` of ``args``."""
        return self.module.run_command(args, data=data, binary_data=data is not None, environ_update=environ or {})

    def run(self, args, data=None, environ=None):
        """The standard output of ``args``; :class:`~.common.CommandError` when its exit code is not 0."""
        rc, out, err = self.probe(args, data, environ)
        if rc != 0:
            raise CommandError(args, rc, err or out)
        return out


class File(object):
    """A file that persists a resource: ``content`` with ``mode``, or None to remove it."""

    def __init__(self, path, content, mode=0o600, dir_mode=0o700):
        self.path, self.content, self.mode, self.dir_mode = path, content, mode, dir_mode

    def pending(self):
        if self.content is None:
            return _files.file_mode(self.path) is not None
        return _files.file_needs_change(self.path, self.content, self.mode)

    def write(self):
        if self.content is None:
            _files.remove(self.path)
        else:
            _files.ensure_file(self.path, self.content, self.mode, self.dir_mode)


class Resource(object):
    """What a driver fills in: :meth:`want`, :meth:`have`, :meth:`steps` and :meth:`apply`; the rest is optional.

    ``module`` is the AnsibleModule (its ``params``, ``check_mode``, ``no_log_values``); ``host`` runs commands.
    """

    files_first = False
    """Write the files before :meth:`apply` (a unit brings the resource up from its file), not after it."""

    kind = 'resource'
    """The resource's name in audit records: the module that manages it."""

    def __init__(self, module, host=None):
        self.module = module
        self.host = host or Host(module)

    def want(self):
        """The desired state from ``self.module.params``; raises ValidationError for a bad value."""
        raise NotImplementedError

    def have(self, want):
        """The live state on the host, or None when the resource does not exist."""
        raise NotImplementedError

    def steps(self, want, have):
        """What must change, as a dict; every value empty (or False) means nothing to do."""
        raise NotImplementedError

    def apply(self, want, have, steps):
        """Make the changes ``steps`` names."""
        raise NotImplementedError

    def check(self, want, have, steps):
        """Raise :class:`~.common.Refused` for a change that must not be applied; called only when a step is pending,
        in check mode too."""

    def files(self, want, have):
        """The :class:`File` objects that persist the resource."""
        return []

    def result(self, want, have, steps, pending):
        """The module's own result keys (no secret); ``pending`` are the :meth:`files` that change."""
        return {}

    def diff(self, want, have, steps, pending):
        """``{'before': ..., 'after': ..., 'before_header': ..., 'after_header': ...}``, or None."""
        return None

    def audit(self, want, have, steps):
        """What the steps change, as an auditor reads it: ``[(change, detail), ...]`` (no secret: name keys and
        fields, never their values)."""
        return []

    def audit_object(self, want):
        """What audit records say the resource is."""
        return str(want.get('name') or want.get('path') or '')


def audit_records(resource, want, have, steps, pending):
    """The ``audit`` result key: one record per change of :meth:`Resource.audit` and per file written or removed;
    ``resource`` is the resource's :attr:`Resource.kind`, ``object`` what :meth:`Resource.audit_object` says."""
    changes = list(resource.audit(want, have, steps))
    changes += [('file removed' if item.content is None else 'file written', item.path) for item in pending]
    return _audit.records(resource.kind, resource.audit_object(want), changes)


def steps_changed(steps):
    """True when any step has something to do."""
    return any(bool(value) for value in steps.values())


def manage(resource):
    """Run one resource through the engine; returns the module result with ``changed``, ``persisted`` and ``diff``."""
    module = resource.module
    want = resource.want()
    have = resource.have(want)
    steps = resource.steps(want, have)
    if steps_changed(steps):
        resource.check(want, have, steps)
    pending = [f for f in resource.files(want, have) if f.pending()]
    result = resource.result(want, have, steps, pending)
    result.update(changed=steps_changed(steps) or bool(pending), persisted=bool(pending))
    result['audit'] = audit_records(resource, want, have, steps, pending) if result['changed'] else []
    if module._diff:
        diff = resource.diff(want, have, steps, pending)
        if diff is not None:
            result['diff'] = diff
    if module.check_mode or not result['changed']:
        return result
    if resource.files_first:
        for item in pending:
            item.write()
    if steps_changed(steps):
        extra = resource.apply(want, have, steps)
        if extra:
            result.update(extra)
    if not resource.files_first:
        for item in pending:
            item.write()
    _audit.log(module, result['audit'])
    return result
