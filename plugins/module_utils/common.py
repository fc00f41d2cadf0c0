# -*- coding: utf-8 -*-
# Copyright: meshforge.vpn contributors
# GNU General Public License v3.0+ (see https://www.gnu.org/licenses/gpl-3.0.txt)
"""What every module shell shares: the errors a driver raises and :func:`run_module`, which turns them into
``fail_json`` the same way in every module.

A driver raises a :class:`ModuleError` (or a :class:`~.validation.ValidationError` for a bad value); the error
knows the extra keys its failure carries (``rc``, ``field``, ...).  A module's ``main()`` is its argument spec and
one call: ``run_module(module, driver.manage_x)``.
"""

from __future__ import absolute_import, division, print_function

__metaclass__ = type

from ansible.module_utils.basic import missing_required_lib

from ansible_collections.meshforge.vpn.plugins.module_utils.validation import ValidationError


class ModuleError(Exception):
    """A failure the module reports with ``fail_json``: ``str()`` is the message, :meth:`fail_keys` the rest."""

    def fail_keys(self):
        return {}


class CommandError(ModuleError):
    """A command on the host failed; the message names it, its exit code and its standard error."""

    def __init__(self, args, rc, err):
        self.args_list = args
        self.rc = rc
        self.err = err
        super(CommandError, self).__init__('%s failed (rc=%s): %s' % (' '.join(args), rc, (err or '').strip()))

    def fail_keys(self):
        return {'rc': self.rc}


class Refused(ModuleError):
    """A change that validation accepts but that must not be applied (for example one that would cut the
    management connection); the message starts with the field that asks for it."""

    def __init__(self, field, message):
        super(Refused, self).__init__('%s: %s' % (field, message))
        self.field = field

    def fail_keys(self):
        return {'field': self.field}


class MissingTool(ModuleError):
    """A command the module needs is not installed; the result says ``missing_tools`` so a role can install it."""

    def fail_keys(self):
        return {'missing_tools': True}


class MissingLibrary(ModuleError):
    """A Python package the module needs on the host is not installed."""

    def __init__(self, name, import_error):
        super(MissingLibrary, self).__init__(missing_required_lib(name))
        self.import_error = import_error

    def fail_keys(self):
        return {'exception': self.import_error}


def require_library(has_library, name, import_error):
    """Raise :class:`MissingLibrary` unless ``has_library``."""
    if not has_library:
        raise MissingLibrary(name, import_error)


def run_module(module, body, untouched=None, always=None):
    """Exit the module with ``body(module)``'s result, or fail it with the error ``body`` raised.

    A bad value fails with ``msg`` and ``field``; ``untouched`` (e.g. ``'the file'``) adds to that message that
    the target is left as it is.  A :class:`ModuleError` fails with its message and its :meth:`~ModuleError.fail_keys`,
    an ``OSError`` with its message.  A result that says ``failed`` fails with itself.  ``always`` holds the keys
    a failure carries too, because the module documents them as always returned.
    """
    failure = dict(always or {})
    try:
        result = body(module)
    except ValidationError as exc:
        msg = '%s (%s is left as it is)' % (exc, untouched) if untouched else str(exc)
        failure.update(msg=msg, field=exc.field)
    except ModuleError as exc:
        failure.update(exc.fail_keys(), msg=str(exc))
    except OSError as exc:
        failure.update(msg=str(exc))
    else:
        if result.get('failed'):
            module.fail_json(**result)
        module.exit_json(**result)
    module.fail_json(**failure)
