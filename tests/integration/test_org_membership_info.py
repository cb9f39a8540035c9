# Copyright: (c) 2026, resolver.scim contributors
# GNU General Public License v3.0+ (see LICENSES/GPL-3.0-or-later.txt or https://www.gnu.org/licenses/gpl-3.0.txt)
"""resolver.scim.org_membership_info through real ansible-playbook runs against the emulator."""

import json

import pytest

MODULE = "resolver.scim.org_membership_info"


def test_caller_membership_with_api_key(ansible, emulator):
    result = ansible.task(MODULE, {})
    assert result["_status"] == "ok", result["_output"]
    assert result["changed"] is False
    assert result["user_id"] == 10
    assert result["email"] == "admin@acme.com"
    assert result["org_id"] == 1 and result["org_name"] == "Acme Corp"
    assert result["org_membership_id"] == 100
    assert result["is_admin"] is True
    assert result["membership"]["userId"] == 10
    # who am I + load the membership, nothing else
    assert [(r["method"], r["path"]) for r in emulator.log()] == [
        ("GET", "/user/users/me"), ("GET", "/user/org/1/user/10")]


def test_other_user_membership(ansible):
    result = ansible.task(MODULE, {"user_id": 11})
    assert result["_status"] == "ok", result["_output"]
    assert result["org_membership_id"] == 101
    assert result["is_admin"] is False
    assert result["email"] == "viewer@acme.com"


def test_check_mode_reads_the_same(ansible, emulator):
    # An info module must not skip its reads in check mode: same requests, same answer as a normal run.
    normal = ansible.task(MODULE, {})
    requests = [(r["method"], r["path"]) for r in emulator.log()]
    emulator.clear_log()
    checked = ansible.task(MODULE, {}, check=True)
    assert checked["_status"] == "ok"
    assert [(r["method"], r["path"]) for r in emulator.log()] == requests
    assert {k: v for k, v in checked.items() if k != "_output"} == {k: v for k, v in normal.items() if k != "_output"}


def test_non_admin_is_told_scim_needs_administrator(ansible, emulator):
    result = ansible.task(MODULE, {}, connection=ansible.connection(admin=False))
    assert result["_status"] == "failed"
    assert result["msg"].startswith("viewer@acme.com (user 11) is not an Administrator of org 1 (Acme Corp)")
    assert "Traceback" not in result["_output"]
    assert emulator.api_key(admin=False) not in result["_output"]


def test_bad_api_key_names_the_credential_not_its_value(ansible):
    result = ansible.task(MODULE, {}, connection=ansible.connection(api_key="rk-not-a-real-key"))
    assert result["_status"] == "failed"
    assert "API key (api_key / RESOLVER_API_KEY)" in result["msg"]
    assert "rk-not-a-real-key" not in result["_output"]


def test_a_deactivated_service_account_is_refused_by_key_and_by_login(ansible, emulator):
    # The help article's reason for a dedicated account: deactivating its user stops it. Both credentials say so.
    admin = emulator.member()
    emulator.control("POST", "users/%d/deactivate" % admin["user_id"])
    by_key = ansible.task(MODULE, {})
    assert by_key["_status"] == "failed"
    assert by_key["msg"].startswith("Resolver refused who am I (GET /user/users/me) (HTTP 401) for the API key "
                                    "(api_key / RESOLVER_API_KEY): the credential is wrong, expired or revoked")
    env = {"RESOLVER_URL": emulator.url, "RESOLVER_USERNAME": admin["email"],
           "RESOLVER_PASSWORD": admin["password"], "RESOLVER_ORG_ID": "1"}
    by_login = ansible.task(MODULE, {}, env=env, module_defaults=False)
    assert by_login["_status"] == "failed"
    assert "is not an active member of org 1" in by_login["msg"]
    for result in (by_key, by_login):
        assert "Traceback" not in result["_output"]
        assert admin["api_key"] not in result["_output"] and admin["password"] not in result["_output"]


def test_session_auth_from_environment_only(ansible, emulator):
    admin = emulator.member()
    env = {"RESOLVER_URL": emulator.url, "RESOLVER_USERNAME": admin["email"],
           "RESOLVER_PASSWORD": admin["password"], "RESOLVER_ORG_ID": "1"}
    result = ansible.task(MODULE, {}, env=env, module_defaults=False)
    assert result["_status"] == "ok", result["_output"]
    assert result["org_membership_id"] == 100
    assert admin["password"] not in result["_output"]
    assert emulator.log()[0]["path"] == "/user/authenticate"


VARIANTS = [{"prefix": "/api"}] + [pytest.param(s, marks=pytest.mark.exhaustive)
                                   for s in ({"auth_header": "x-api-key"}, {"unauth_status": 403})]


@pytest.mark.parametrize("switches", VARIANTS)
def test_api_variants(ansible, emulator, switches):
    emulator.reset(**switches)
    extra = {"api_key_header": "x-api-key"} if switches.get("auth_header") == "x-api-key" else {}
    result = ansible.task(MODULE, {}, connection=ansible.connection(**extra))
    assert result["_status"] == "ok", result["_output"]
    assert result["org_membership_id"] == 100


def test_api_key_with_password_is_refused_before_any_request(ansible, emulator):
    connection = ansible.connection(username="admin@acme.com", password="x")
    result = ansible.task(MODULE, {}, connection=connection)
    assert result["_status"] == "failed"
    assert "api_key cannot be combined with username/password" in result["msg"]
    assert emulator.log() == []


def test_api_key_as_users_paste_it(ansible, emulator, tmp_path):
    """A key with the newline `echo | ansible-vault encrypt_string` keeps, or with "Bearer " in front, works; one
    with a line break inside fails naming api_key, and no part of it shows at -vvvv (issues 16 and 17)."""
    key = emulator.api_key()
    cases = [("trailing newline", key + "\n", "ok"), ("bearer prefix", "Bearer %s\n" % key, "ok"),
             ("inner newline", key[:12] + "\n" + key[12:], "failed"),
             ("inner tab", key[:12] + "\t" + key[12:], "failed")]
    # The keys come from a variables file, as from a vault: ansible-core quotes playbook lines around a failed task.
    keys = tmp_path / "keys.json"
    keys.write_text(json.dumps({"key%d" % i: value for i, (_name, value, _status) in enumerate(cases)}))
    tasks = [{"name": name, MODULE: {}, "ignore_errors": True,
              "module_defaults": {"group/resolver.scim.resolver": ansible.connection(api_key="{{ key%d }}" % i)}}
             for i, (name, _value, _status) in enumerate(cases)]
    rc, results, output = ansible.playbook([{"hosts": "localhost", "gather_facts": False, "tasks": tasks}],
                                           verbosity=4, extra_args=["-e", "@%s" % keys])
    assert rc == 0, output[-3000:]
    by_task = {r["task"]: r for r in results}
    for name, _value, status in cases:
        assert by_task[name]["status"] == status, (name, by_task[name]["result"].get("msg"))
    assert by_task["trailing newline"]["result"]["org_membership_id"] == 100
    assert by_task["inner newline"]["result"]["msg"].startswith("api_key contains a control or invisible character")
    assert key[:12] not in output and key[12:] not in output
    assert "Traceback" not in output and "Invalid leading whitespace" not in output
