# Copyright: (c) 2026, resolver.scim contributors
# GNU General Public License v3.0+ (see LICENSES/GPL-3.0-or-later.txt or https://www.gnu.org/licenses/gpl-3.0.txt)
"""The in-process path of the action plugins: environment fallbacks without os.environ, the HTTP session closed
after each task, no secret kept in module state, and an unexpected exception reported without its text.

Real module code against the emulator over real HTTP; only the Ansible task handed to the action is a stand-in.
"""

import os
import sys
import types

import pytest
from ansible.module_utils.common.arg_spec import ArgumentSpecValidator

from ansible_collections.resolver.scim.plugins.module_utils._env import env_fallback
from ansible_collections.resolver.scim.plugins.module_utils._module import (
    CONNECTION_ARGUMENT_SPEC,
    run_module,
)
from ansible_collections.resolver.scim.plugins.modules import scim_token
from ansible_collections.resolver.scim.plugins.plugin_utils.in_process import (
    ModuleExit,
    ModuleInProcess,
    TaskModule,
    closing,
    expand_vars,
    for_environment,
)


def test_env_fallback_reads_the_given_environment_and_skips_empty_values():
    environ = {"RESOLVER_ORG_ID": "", "RESOLVER_URL": "https://acme.resolver.com"}
    assert env_fallback("RESOLVER_URL", environ=environ) == "https://acme.resolver.com"
    with pytest.raises(Exception) as raised:
        env_fallback("RESOLVER_ORG_ID", environ=environ)
    assert type(raised.value).__name__ == "AnsibleFallbackNotFound"


def test_fallbacks_and_paths_read_the_task_environment_and_leave_os_environ_and_the_spec_alone(monkeypatch, tmp_path):
    monkeypatch.delenv("RESOLVER_API_KEY", raising=False)
    monkeypatch.setenv("RESOLVER_URL", "https://controller.example")
    bundle = tmp_path / "ca.pem"
    environ = dict(os.environ, RESOLVER_API_KEY="rk-from-the-task", RESOLVER_ORG_ID="", CA_DIR=str(tmp_path))
    before = repr(CONNECTION_ARGUMENT_SPEC)

    spec = for_environment(CONNECTION_ARGUMENT_SPEC, environ)
    validation = ArgumentSpecValidator(spec).validate({"ca_path": "$CA_DIR/ca.pem"})

    assert validation.error_messages == []
    params = validation.validated_parameters
    assert params["api_key"] == "rk-from-the-task" and params["url"] == "https://controller.example"
    assert params["org_id"] is None and params["ca_path"] == str(bundle)
    assert "rk-from-the-task" in validation._no_log_values  # pylint: disable=protected-access
    assert "RESOLVER_API_KEY" not in os.environ and "CA_DIR" not in os.environ
    assert repr(CONNECTION_ARGUMENT_SPEC) == before


def test_expand_vars_is_os_path_expandvars_over_a_mapping(monkeypatch):
    environ = {"HOME": "/home/ops", "EMPTY": ""}
    values = ("$HOME/x", "${HOME}/x", "$UNSET/x", "${UNSET}", "a$EMPTY.b", "$", "no variables", "$HOME$HOME")
    ours = [expand_vars(value, environ) for value in values]
    monkeypatch.setattr(os, "environ", environ)  # os.path.expandvars looks os.environ up on each call
    assert ours == [os.path.expandvars(value) for value in values]


def task_module(params, check_mode=False):
    spec = dict(CONNECTION_ARGUMENT_SPEC, **scim_token.ARGUMENT_SPEC)
    validation = ArgumentSpecValidator(for_environment(spec, {})).validate(params)
    assert validation.error_messages == []
    return TaskModule(validation.validated_parameters, check_mode,
                      set(validation._no_log_values))  # pylint: disable=protected-access


def secrets_in(value, secrets, seen=None, depth=0):
    """Every secret found in ``value``, following containers and object attributes a few levels down."""
    seen = set() if seen is None else seen
    if id(value) in seen or depth > 6:
        return set()
    seen.add(id(value))
    if isinstance(value, (str, bytes)):
        text = value.decode("utf-8", "replace") if isinstance(value, bytes) else value
        return {s for s in secrets if s in text}
    if isinstance(value, dict):
        children = list(value.keys()) + list(value.values())
    elif isinstance(value, (list, tuple, set, frozenset)):
        children = list(value)
    elif isinstance(value, (types.ModuleType, types.FunctionType, type)):
        return set()
    else:
        children = list(getattr(value, "__dict__", {}).values())
    found = set()
    for child in children:
        found |= secrets_in(child, secrets, seen, depth + 1)
    return found


def run_scim_token(module):
    """scim_token's run() through the in-process harness: (the module's result, the API object it was given)."""
    used = []

    def run(module, api):
        used.append(api)
        return scim_token.run(module, api)

    with pytest.raises(ModuleExit) as done:
        run_module(module, closing(run))
    return done.value.result, used[0]


def test_an_in_process_run_closes_its_session_and_keeps_no_secret(emulator):
    key = emulator.api_key()
    result, api = run_scim_token(task_module({"url": emulator.url, "api_key": key, "name": "okta",
                                              "email_domains": ["acme.com"]}))
    token = result["token"]
    assert result["changed"] is True and emulator.scim_status(token) == 200
    # The keep-alive connection is gone with the task, not left to the worker process's exit.
    assert all(not adapter.poolmanager.pools for adapter in api.client.session.adapters.values())
    # No module of the collection holds the key or the new token in its state.
    collection = [m for name, m in sys.modules.items() if name.startswith("ansible_collections.resolver.scim.")]
    assert len(collection) >= 8
    assert [(m.__name__, found) for m in collection for found in secrets_in(vars(m), {key, token})] == []


def test_a_failed_in_process_run_closes_its_session_too(emulator):
    result, api = run_scim_token(task_module({"url": emulator.url, "api_key": emulator.api_key() + "x",
                                              "name": "okta", "email_domains": ["acme.com"]}))
    assert result["failed"] is True and "credential is wrong" in result["msg"]
    assert all(not adapter.poolmanager.pools for adapter in api.client.session.adapters.values())


class StandInTask:
    """The few attributes of an Ansible task that the in-process path reads."""

    def __init__(self, args):
        self.action = "resolver.scim.broken"
        self.args = args
        self.check_mode = False


def action_for(run, talks_to_resolver, args):
    broken = types.SimpleNamespace(ARGUMENT_SPEC={} if talks_to_resolver else {"path": {"type": "path"}},
                                   MODULE_RULES={"supports_check_mode": True}, TALKS_TO_RESOLVER=talks_to_resolver,
                                   run=run)
    action = ModuleInProcess.__new__(type("ActionModule", (ModuleInProcess,), {"MODULE": broken}))
    action._task = StandInTask(args)  # pylint: disable=protected-access
    return action


def test_an_unexpected_exception_outside_the_harness_is_reported_without_its_text(tmp_path):
    def run(module):
        raise KeyError("value-that-must-not-show %s" % module.params["path"])

    result = action_for(run, False, {"path": str(tmp_path)})._run_in_process({}, {})  # pylint: disable=protected-access
    assert result["failed"] is True
    assert result["msg"] == "resolver.scim.broken failed unexpectedly: KeyError at test_in_process.py line %d, in run." % (
        run.__code__.co_firstlineno + 1)
    assert "value-that-must-not-show" not in repr(result)


def test_an_unexpected_exception_in_the_harness_is_told_as_the_module_tells_it_without_a_traceback(emulator):
    key = emulator.api_key()

    def run(module, api):
        raise KeyError("while sending %s" % module.params["api_key"])

    action = action_for(run, True, {"url": emulator.url, "api_key": key})
    result = action._run_in_process({}, {})  # pylint: disable=protected-access
    # run_module's own words, with the known secrets redacted, as the module file reports it.
    assert result["failed"] is True and result["msg"].startswith("Unexpected error (KeyError: ")
    assert "while sending" in result["msg"] and key not in repr(result)
    assert "exception" not in result
