# Copyright: (c) 2026, resolver.scim contributors
# GNU General Public License v3.0+ (see LICENSES/GPL-3.0-or-later.txt or https://www.gnu.org/licenses/gpl-3.0.txt)
"""The action plugins (issue 15): a task on the controller (connection local) runs the module code in the
controller process, any other task the module file; both give the same results, and neither leaves a secret
in the output, the log or the results.

The other path needs a host that is not reached over the connection named local. `remote_stand_in`
(tests/integration/connection_plugins) is the local connection under another name, so it runs the module file
the way an SSH host would, on a machine without an SSH server.
"""

import json
import os

import pytest

from conftest import HERE

TOKEN = "resolver.scim.scim_token"
INFO = "resolver.scim.scim_token_info"
MEMBERSHIP = "resolver.scim.org_membership_info"
PLAN = "resolver.scim.scim_token_plan"
LOCK = "resolver.scim.org_lock"
REVOKE = "resolver.scim.scim_token_revoke"
IN_PROCESS = "running the module code in the controller process"
MODULE_FILE = "running the module file"
STAND_IN = {"ANSIBLE_CONNECTION_PLUGINS": os.path.join(HERE, "integration", "connection_plugins")}
# Values that differ between two runs of the same tasks: secrets, times, and the lock's random owner.
VOLATILE = {"token", "fingerprint", "expires", "created", "next_expiry", "days_to_expiry", "owner", "waited"}


def ok(result):
    assert result["_status"] == "ok", result.get("msg") or result["_output"][-3000:]
    return result


def normalised(value):
    if isinstance(value, dict):
        return {k: "(varies)" if k in VOLATILE or k.endswith("_expires") else normalised(v) for k, v in value.items()}
    if isinstance(value, list):
        return [normalised(v) for v in value]
    return value


def differences(one, other, path="result"):
    """The places where two results differ, with both values."""
    if isinstance(one, dict) and isinstance(other, dict):
        return [d for key in sorted(set(one) | set(other), key=str)
                for d in differences(one.get(key, "(missing)"), other.get(key, "(missing)"), "%s.%s" % (path, key))]
    if isinstance(one, list) and isinstance(other, list) and len(one) == len(other):
        return [d for i, (a, b) in enumerate(zip(one, other)) for d in differences(a, b, "%s[%d]" % (path, i))]
    return [] if one == other else ["%s: %r != %r" % (path, one, other)]


def both_paths_tasks(lock_path):
    """One of each module, with check mode, --diff, warnings, and failures from Resolver, from the module's own
    checks and from argument validation."""
    okta = {"name": "okta", "email_domains": ["acme.com"]}
    failing = {"ignore_errors": True}
    return [
        {"name": "create, check mode", TOKEN: okta, "check_mode": True},
        {"name": "create", TOKEN: okta, "register": "created"},
        {"name": "no change", TOKEN: okta},
        {"name": "recreate refused", TOKEN: dict(okta, email_domains=["acme.org"], recreate="never"), **failing},
        {"name": "domain with @", TOKEN: dict(okta, email_domains=["admin@acme.com"]), **failing},
        {"name": "unknown option", TOKEN: dict(okta, colour="blue"), **failing},
        {"name": "wrong type", TOKEN: dict(okta, rotate_before_days="soon"), **failing},
        {"name": "unknown choice", TOKEN: dict(okta, state="gone"), **failing},
        {"name": "info with a warning", INFO: {"validate_certs": False}},
        {"name": "membership", MEMBERSHIP: {}},
        {"name": "plan", PLAN: {"tokens": [okta, {"name": "entra-id", "email_domains": ["acme-labs.com"]}],
                                "require_admin": True}},
        {"name": "plan with a bad entry", PLAN: {"tokens": [{"name": "okta"}]}, **failing},
        {"name": "wrong API key", MEMBERSHIP: {"api_key": "{{ resolver_connection.api_key }}x"}, **failing},
        {"name": "plain http warning", MEMBERSHIP: {"allow_plain_http": True}},
        {"name": "lock", LOCK: {"path": lock_path}, "register": "held"},
        {"name": "lock with a negative timeout", LOCK: {"path": lock_path, "timeout": -1}, **failing},
        {"name": "unlock", LOCK: {"path": lock_path, "state": "unlocked", "owner": "{{ held.owner }}"}},
        {"name": "rotate, check mode", TOKEN: dict(okta, state="rotated"), "check_mode": True},
        {"name": "revoke by id, check mode", REVOKE: {"token_ids": ["{{ created.token_id }}", 999999]},
         "check_mode": True},
        {"name": "delete", TOKEN: {"name": "okta", "state": "absent"}},
    ]


def run_tasks(ansible, tasks, connection, secrets=None, **kwargs):
    """Run tasks over a connection; ``secrets`` become extra variables from a file, so that the playbook's text
    (which Ansible quotes around a failed task) holds none."""
    secrets = dict(secrets or {}, resolver_connection=ansible.connection())
    variables = ansible.tmp_path / ("secrets-%s.json" % connection)
    variables.write_text(json.dumps(secrets))
    play = {"hosts": "localhost", "gather_facts": False, "vars": {"ansible_connection": connection},
            "module_defaults": {"group/resolver.scim.resolver": "{{ resolver_connection }}"}, "tasks": tasks}
    env = dict(STAND_IN, **kwargs.pop("env", {}))
    rc, results, output = ansible.playbook([play], env=env, extra_args=["-e", "@%s" % variables], **kwargs)
    return rc, {r["task"]: r for r in results}, output


def test_both_paths_give_the_same_results(ansible, emulator, tmp_path):
    """The same tasks with --diff and invocation on: once in the controller process, once through the module
    file, from the same emulator state. Every result (status, changed, messages, warnings, diff, the masked
    invocation) is the same but for the values that differ on any two runs."""
    env = {"ANSIBLE_INJECT_INVOCATION": "1"}
    outcomes = {}
    for connection in ("local", "remote_stand_in"):
        emulator.reset()
        tasks = both_paths_tasks(str(tmp_path / "org.lock"))
        rc, outcomes[connection], output = run_tasks(ansible, tasks, connection, diff=True, verbosity=3, env=env)
        assert rc == 0, output[-3000:]
        assert len(outcomes[connection]) == len(tasks)
        marker, other = (IN_PROCESS, MODULE_FILE) if connection == "local" else (MODULE_FILE, IN_PROCESS)
        assert output.count(marker) == len(tasks) and other not in output
        assert ("AnsiballZ_scim_token.py" in output) == (connection != "local")
    local, remote = outcomes["local"], outcomes["remote_stand_in"]
    for task in local:
        assert differences(normalised(local[task]), normalised(remote[task])) == [], task
    # The results say what users expect, so the comparison above compares something.
    assert local["create, check mode"]["status"] == "ok" and local["create, check mode"]["result"]["changed"]
    assert local["create"]["result"]["diff"]["after"]["tokens"][0]["fingerprint"].startswith("sha256:")
    assert local["no change"]["result"]["changed"] is False
    assert local["recreate refused"]["status"] == "failed" and "recreate=never" in local["recreate refused"]["result"]["msg"]
    assert "contains '@'" in local["domain with @"]["result"]["msg"]
    assert local["unknown option"]["result"]["msg"].startswith(
        "Unsupported parameters for (resolver.scim.scim_token) module: colour.")
    assert "rotate_before_days" in local["wrong type"]["result"]["msg"]
    assert "value of state must be one of: present, absent, rotated, got: gone" in local["unknown choice"]["result"]["msg"]
    assert "validate_certs is false" in str(local["info with a warning"]["result"]["warnings"])
    assert "allow_plain_http is true" in str(local["plain http warning"]["result"]["warnings"])
    assert "credential is wrong" in local["wrong API key"]["result"]["msg"]
    assert local["lock with a negative timeout"]["result"]["msg"] == "timeout must be a number of seconds, 0 or more; got -1."
    assert local["unlock"]["result"]["released"] is True
    assert local["revoke by id, check mode"]["result"]["revoked"] == [local["create"]["result"]["token_id"]]
    invocation = local["wrong API key"]["result"]["invocation"]["module_args"]
    assert invocation["api_key"] == "VALUE_SPECIFIED_IN_NO_LOG_PARAMETER" and invocation["url"] == emulator.url


def test_delegated_and_non_local_tasks_run_the_module_file(ansible, emulator, tmp_path):
    inventory = tmp_path / "hosts"
    inventory.write_text("localhost ansible_connection=local\nfar ansible_connection=remote_stand_in\n")
    tasks = [
        {"name": "on the controller", INFO: {}},
        {"name": "delegated to a remote host", INFO: {}, "delegate_to": "far"},
        {"name": "delegated to the controller", INFO: {}, "delegate_to": "localhost"},
        # The module would run as another user: the module file runs (here root becomes root, which Ansible skips).
        {"name": "become", INFO: {}, "become": True, "become_method": "ansible.builtin.su"},
    ]
    play = {"hosts": "localhost", "gather_facts": False,
            "module_defaults": {"group/resolver.scim.resolver": ansible.connection()}, "tasks": tasks}
    rc, results, output = ansible.playbook([play], verbosity=3, env=STAND_IN, inventory=str(inventory))
    assert rc == 0, output[-3000:]
    assert [r["status"] for r in results] == ["ok"] * 4
    assert output.count(IN_PROCESS) == 2
    assert output.count(MODULE_FILE + " (connection remote_stand_in)") == 1
    assert output.count(MODULE_FILE + " (become)") == 1
    assert [r["result"]["tokens"] for r in results] == [[]] * 4


def test_environment_keyword_fallbacks_leave_the_controller_environment_alone(ansible, emulator):
    """RESOLVER_* from a task's environment (merged over the controller's, an empty one counting as unset) reach
    the in-process run; a loop item with another environment in the same worker process sees none of them."""
    key = emulator.api_key()
    items = [{"RESOLVER_API_KEY": key, "RESOLVER_ORG_ID": "", "RESOLVER_TIMEOUT": "4"}, {}]
    tasks = [
        {"name": "environment", MEMBERSHIP: {}, "loop": items, "environment": "{{ item }}", "ignore_errors": True},
        {"name": "no environment", MEMBERSHIP: {}, "ignore_errors": True},
        {"name": "another variable", MEMBERSHIP: {}, "environment": {"RESOLVER_API_KEY": key, "LANG": "C.UTF-8"}},
    ]
    play = {"hosts": "localhost", "gather_facts": False, "tasks": tasks}
    rc, results, output = ansible.playbook([play], verbosity=3, env={"RESOLVER_URL": emulator.url})
    assert rc == 0, output[-3000:]
    by_task = {r["task"]: r for r in results}
    first, second = by_task["environment"]["result"]["results"]
    assert by_task["environment"]["status"] == "failed"  # (a loop item's result does not say "failed" to callbacks)
    assert first["org_membership_id"] == emulator.member()["membership_id"] and "msg" not in first
    assert second["msg"].startswith("No credentials: set api_key")
    assert by_task["no environment"]["result"]["msg"].startswith("No credentials")
    assert by_task["another variable"]["status"] == "ok"
    # Other variables could change what the module sees (proxies, CA bundles): the module file runs.
    assert output.count(IN_PROCESS) == 3
    assert output.count(MODULE_FILE + " (the task environment sets LANG)") == 1


def test_module_defaults_group_applies_in_process(ansible, emulator):
    result = ok(ansible.task(MEMBERSHIP, {}, verbosity=3))
    assert result["org_membership_id"] == emulator.member()["membership_id"]
    assert IN_PROCESS in result["_output"]


@pytest.mark.parametrize("connection", ["local", "remote_stand_in"])
def test_no_secret_after_failures_on_either_path(ansible, emulator, tmp_path, connection):
    """-vvvv, --diff, invocation on and a log file: runs that fail after a token was created (verification and
    revocation failing), a wrong API key, a wrong password and bad input leave no API key, password or token
    value anywhere, on either path."""
    admin = emulator.member()
    log_path = tmp_path / "ansible.log"
    okta = {"name": "okta", "email_domains": ["acme.com"]}
    failing = {"ignore_errors": True, "no_log": True}
    tasks = [
        {"name": "create", TOKEN: okta, "no_log": True},
        {"name": "rotate, verification fails", TOKEN: dict(okta, state="rotated", verify=True), **failing},
        {"name": "rotate, revocation fails", TOKEN: dict(okta, state="rotated"), **failing},
        {"name": "wrong API key", TOKEN: dict(okta, api_key="{{ wrong_key }}"), "ignore_errors": True},
        {"name": "bad input with the key", TOKEN: dict(okta, api_key="{{ resolver_connection.api_key }}",
                                                       email_domains=[""]), "ignore_errors": True},
        {"name": "wrong password", MEMBERSHIP: {}, "ignore_errors": True, "module_defaults": {
            "group/resolver.scim.resolver": {"url": emulator.url, "username": admin["email"],
                                             "password": "{{ wrong_password }}", "org_id": 1}}},
        {"name": "info", INFO: {}},
    ]
    secrets = {"wrong_key": admin["api_key"] + "x", "wrong_password": admin["password"] + "x"}
    emulator.faults({"method": "GET", "path": "^/scim(/v2)?/Users$", "count": 1, "status": 401},
                    {"method": "DELETE", "path": "^/user/scimTokens/", "count": 1, "status": 409})
    rc, results, output = run_tasks(ansible, tasks, connection, secrets, diff=True, verbosity=4,
                                    env={"ANSIBLE_LOG_PATH": str(log_path), "ANSIBLE_INJECT_INVOCATION": "1"})
    assert rc == 0, output[-3000:]
    assert [results[t["name"]]["status"] for t in tasks] == ["ok"] + ["failed"] * 5 + ["ok"]
    assert "credential is wrong" in results["wrong API key"]["result"]["msg"]
    assert "rejected the login" in results["wrong password"]["result"]["msg"]
    # Three tokens were issued (create, and one by each failed rotation) and none was revoked.
    assert len(emulator.tokens(name="okta")) == 3
    issued = emulator.secrets()
    haystack = output + log_path.read_text()
    assert [s[:6] for s in issued if s in haystack] == []
