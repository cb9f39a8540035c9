# -*- coding: utf-8 -*-
# Copyright: (c) 2026, resolver.scim contributors
# GNU General Public License v3.0+ (see LICENSES/GPL-3.0-or-later.txt or https://www.gnu.org/licenses/gpl-3.0.txt)
"""Run a resolver.scim module's own code in the controller's worker process when its task runs on the controller.

A module run costs a Python start, an AnsiballZ unpack and the import of ``requests`` (about 0.4 s of CPU); the
HTTP work is a few milliseconds. When the task's connection is ``local`` the module would run on the controller
anyway, so its action plugin (plugins/action/NAME.py, a subclass of ``ModuleInProcess``) calls the module's
``run`` through the same harness (``module_utils/_module.py`` ``run_module``) with an AnsibleModule stand-in, and
hands back exactly what the module would have printed. Any other task (another connection, ``become``, ``async``,
a task environment that sets more than the module's own ``RESOLVER_*`` or ``AZURE_*`` variables, no ``requests`` in the
controller's Python) runs the module file as before.

A module file provides ``ARGUMENT_SPEC`` (its own options), ``MODULE_RULES`` (the other AnsibleModule keyword
arguments) and ``run``: ``run(module, api) -> (changed, result, diff)`` for a module that talks to a service (the
connection options are added: Resolver's, or the module's own ``CONNECTION_SPEC`` with ``connect(module) -> api``,
as entra_provisioning has for Microsoft Graph), or ``run(module) -> result`` with ``TALKS_TO_RESOLVER = False``.
"""

import json
import os
import re
import traceback

from ansible import constants as C
from ansible.errors import AnsibleError
from ansible.module_utils.common.arg_spec import ArgumentSpecValidator
from ansible.module_utils.common.parameters import remove_values
from ansible.module_utils.common.validation import check_type_str
from ansible.module_utils.errors import UnsupportedError
from ansible.plugins.action import ActionBase
from ansible.utils.display import Display
from ansible.utils.vars import merge_hash

from ansible_collections.resolver.scim.plugins.module_utils._env import env_fallback
from ansible_collections.resolver.scim.plugins.module_utils._transport import HAS_REQUESTS
from ansible_collections.resolver.scim.plugins.module_utils._module import (
    CONNECTION_ARGUMENT_SPEC,
    build_api,
    run_module,
)

display = Display()

# The pattern of posixpath.expandvars.
_ENV_VARIABLE = re.compile(r"\$(\w+|\{[^}]*\})", re.ASCII)


class ModuleExit(BaseException):
    """What exit_json/fail_json raise in-process, where a module process would print and exit.

    A BaseException, like the SystemExit it stands for, so that no ``except Exception`` in module code stops it.
    """

    def __init__(self, result):
        super().__init__()
        self.result = result


class TaskModule:
    """The part of AnsibleModule that resolver.scim's module code uses, over already validated options."""

    def __init__(self, params, check_mode, no_log_values):
        self.params = params
        self.check_mode = check_mode
        self.no_log_values = no_log_values
        self.warnings = []
        self.deprecations = []

    def warn(self, warning):
        self.warnings.append(warning)

    def deprecate(self, msg, version=None, date=None, collection_name=None):
        self.deprecations.append(dict(msg=msg, version=version, date=date, collection_name=collection_name))

    def exit_json(self, **kwargs):
        raise ModuleExit(kwargs)

    def fail_json(self, msg, **kwargs):
        # A traceback ('exception') is not carried in-process: it may quote a value that no_log does not cover.
        kwargs.pop("exception", None)
        kwargs.update(failed=True, msg=str(msg))
        raise ModuleExit(kwargs)


def expand_vars(value, environ):
    """os.path.expandvars against ``environ``: $NAME and ${NAME} are replaced when set, left as they are otherwise."""
    def replace(match):
        name = match.group(1).strip("{}")
        return environ.get(name, match.group(0))
    return _ENV_VARIABLE.sub(replace, value)


def path_type(environ):
    """The 'path' option type (check_type_path) with $VARIABLES taken from ``environ`` instead of os.environ."""
    def path(value):
        return os.path.expanduser(expand_vars(check_type_str(value), environ))
    return path


def fallback_variables(spec):
    """Every environment variable that an option of ``spec`` falls back to."""
    return {name for option in spec.values() if option.get("fallback", (None,))[0] is env_fallback
            for name in option["fallback"][1]}


def for_environment(spec, environ):
    """A copy of ``spec`` whose env fallbacks and paths read ``environ``, so that os.environ is left alone."""
    copied = {}
    for name, option in spec.items():
        option = dict(option)
        if option.get("fallback", (None,))[0] is env_fallback:
            option["fallback"] = (env_fallback, option["fallback"][1], {"environ": environ})
        if option.get("type") == "path":
            option["type"] = path_type(environ)
        copied[name] = option
    return copied


def closing(run):
    """``run(module, api)`` that closes the API's HTTP session afterwards, so no connection outlives the task."""
    def run_and_close(module, api):
        try:
            return run(module, api)
        finally:
            api.close()
    return run_and_close


class ModuleInProcess(ActionBase):
    """The action plugin of one resolver.scim module; subclasses set MODULE to the module's Python module."""

    MODULE = None
    _supports_check_mode = True
    _supports_async = True

    @property
    def _talks_to_resolver(self):
        return getattr(self.MODULE, "TALKS_TO_RESOLVER", True)

    @property
    def _argument_spec(self):
        if self._talks_to_resolver:
            return dict(getattr(self.MODULE, "CONNECTION_SPEC", CONNECTION_ARGUMENT_SPEC), **self.MODULE.ARGUMENT_SPEC)
        return self.MODULE.ARGUMENT_SPEC

    def run(self, tmp=None, task_vars=None):
        result = super().run(tmp, task_vars)
        del tmp  # tmp no longer has any effect
        task_vars = task_vars or {}
        task_environment = {}
        self._compute_environment_string(task_environment)
        where = self._module_file_needed(task_environment)
        if where:
            display.vvv("%s: running the module file (%s)" % (self._task.action, where), host=self._play_context.remote_addr)
            return merge_hash(result, self._run_module_file(task_vars))
        display.vvv("%s: running the module code in the controller process (connection local)" % self._task.action,
                    host=self._play_context.remote_addr)
        environ = dict(os.environ)
        environ.update((name, str(value)) for name, value in task_environment.items())
        result.update(self._run_in_process(environ, task_vars))
        return result

    def _module_file_needed(self, task_environment):
        """Why the module file must run instead (the task does not run on the controller as this user), or None."""
        if not self._connection.matches_name(["ansible.builtin.local"]):
            return "connection %s" % self._connection.ansible_name
        if self._connection.become is not None:
            return "become"
        if self._task.async_val:
            return "async"
        if self._talks_to_resolver and not HAS_REQUESTS:
            return "no requests library in the controller's Python"
        # requests and ssl would read other variables (proxies, CA bundles) from the module's environment.
        others = set(task_environment) - fallback_variables(self._argument_spec)
        if others:
            return "the task environment sets %s" % ", ".join(sorted(others))
        return None

    def _run_module_file(self, task_vars):
        wrap_async = self._task.async_val
        result = self._execute_module(task_vars=task_vars, wrap_async=wrap_async)
        if not wrap_async:
            self._remove_tmp_path(self._connection._shell.tmpdir)
        return result

    def _run_in_process(self, environ, task_vars):
        """Validate the options as AnsibleModule does, run the module's code, return its result."""
        name = self._task.action
        rules = dict(self.MODULE.MODULE_RULES)
        supports_check_mode = rules.pop("supports_check_mode", False)
        validation = ArgumentSpecValidator(for_environment(self._argument_spec, environ), **rules).validate(
            self._task.args)
        module = TaskModule(validation.validated_parameters, self._task.check_mode,
                            set(validation._no_log_values))  # pylint: disable=protected-access
        # What AnsibleModule's validator reports besides errors (ModuleArgumentSpecValidator).
        for deprecation in validation._deprecations:  # pylint: disable=protected-access
            module.deprecate(deprecation["msg"], version=deprecation.get("version"), date=deprecation.get("date"),
                             collection_name=deprecation.get("collection_name"))
        for alias in validation._warnings:  # pylint: disable=protected-access
            module.warn("Both option %s and its alias %s are set." % (alias["option"], alias["alias"]))
        try:
            if validation.error_messages:
                msg = validation.errors.msg
                if isinstance(validation.errors[0], UnsupportedError):
                    msg = "Unsupported parameters for (%s) module: %s" % (name, msg)
                module.fail_json(msg=msg)
            if module.check_mode and not supports_check_mode:
                module.exit_json(skipped=True, msg="remote module (%s) does not support check mode" % name)
            if self._talks_to_resolver:
                run_module(module, closing(self.MODULE.run), getattr(self.MODULE, "connect", build_api))
            else:
                module.exit_json(**self.MODULE.run(module))
            # A module process that ends without exit_json or fail_json prints no result and fails too.
            raise RuntimeError("the module ended without exit_json or fail_json")
        except ModuleExit as done:
            return self._as_module_returns(module, done.result, task_vars)
        except Exception as exc:  # pylint: disable=broad-except
            # The module process would die with a traceback; here only the exception's type and place are told,
            # because its text may quote a value (a URL, a header) that no_log does not cover.
            frame = traceback.extract_tb(exc.__traceback__)[-1]
            return self._as_module_returns(module, {
                "failed": True, "msg": "%s failed unexpectedly: %s at %s line %d, in %s."
                % (name, type(exc).__name__, os.path.basename(frame.filename), frame.lineno, frame.name)}, task_vars)

    def _as_module_returns(self, module, result, task_vars):
        """What AnsibleModule._return_formatted makes of a result: invocation, warnings, no_log values removed."""
        if self._inject_invocation(task_vars):
            result.setdefault("invocation", {"module_args": module.params})
        else:
            result.pop("invocation", None)
        if module.warnings:
            result["warnings"] = module.warnings
        if module.deprecations:
            result["deprecations"] = module.deprecations
        # The module's JSON output: plain types only (tuples become lists, templating tags are dropped).
        result = json.loads(json.dumps(result))
        preserved = {key: value for key, value in result.items() if value is None or isinstance(value, bool)}
        result = remove_values(result, module.no_log_values)
        result.update(preserved)
        return result

    @staticmethod
    def _inject_invocation(task_vars):
        """Whether a module result carries ``invocation``: ansible-core 2.21 made it a setting (off by default);
        AnsibleModule of earlier versions always added it."""
        try:
            return C.config.get_config_value("INJECT_INVOCATION", variables=task_vars)
        except AnsibleError:
            return True
