# Copyright: (c) 2026, resolver.scim contributors
# GNU General Public License v3.0+ (see LICENSES/GPL-3.0-or-later.txt or https://www.gnu.org/licenses/gpl-3.0.txt)
"""resolver.scim.scim_token and scim_token_info: the whole lifecycle through real ansible-playbook runs."""

import pytest

TOKEN = "resolver.scim.scim_token"
INFO = "resolver.scim.scim_token_info"


def ok(result):
    assert result["_status"] == "ok", result.get("msg") or result["_output"][-3000:]
    return result


def live_ids(emulator, name="okta"):
    return [t["id"] for t in emulator.tokens(name=name)]


@pytest.mark.parametrize("wire", ["list", pytest.param("string", marks=pytest.mark.exhaustive)])
def test_lifecycle(ansible, emulator, wire):
    emulator.reset(domains_wire=wire)
    okta = {"name": "okta", "email_domains": ["ACME.com", " acme.org"]}

    # check mode first: the decision, no request that changes anything, no token
    emulator.clear_log()
    result = ok(ansible.task(TOKEN, okta, check=True))
    assert result["changed"] is True and result["action"] == "created" and "token" not in result
    assert emulator.mutating() == [] and emulator.tokens() == []

    # create: list, who am I, membership, create
    emulator.clear_log()
    result = ok(ansible.task(TOKEN, okta, diff=True))
    creates = 2 if wire == "list" else 1  # auto form: a string first, then an array after the list-only 400
    assert [r["method"] for r in emulator.log()] == ["GET", "GET", "GET"] + ["POST"] * creates
    assert result["changed"] is True and result["action"] == "created"
    assert result["email_domains"] == ["acme.com", "acme.org"] and result["days_to_expiry"] == 730
    first_id, first_secret = result["token_id"], result["token"]
    assert live_ids(emulator) == [first_id]
    assert emulator.scim_status(first_secret) == 200
    assert first_secret not in result["_output"]  # the --diff shows a fingerprint only
    assert "sha256:" in result["_output"]

    # idempotent: unchanged, no token, no mutating request
    emulator.clear_log()
    result = ok(ansible.task(TOKEN, okta))
    assert result["changed"] is False and result["action"] == "none" and "token" not in result
    assert result["token_id"] == first_id
    assert result["days_to_expiry"] == 730, "a later read of the same token must give the same day count"
    assert emulator.mutating() == []
    assert [(r["method"], r["path"]) for r in emulator.log()] == [("GET", "/user/scimTokens")]  # one request

    # 700 days later the token expires in 30 days at most: check mode says renew, sends nothing
    emulator.age_tokens(705)
    emulator.clear_log()
    result = ok(ansible.task(TOKEN, okta, check=True))
    assert result["changed"] is True and result["action"] == "renewed"
    assert "inside rotate_before_days=30" in result["reason"] and "token" not in result
    check_reason = result["reason"]
    assert emulator.mutating() == []

    # renew: same reason as in check mode; new token works, old one revoked
    result = ok(ansible.task(TOKEN, okta))
    assert result["action"] == "renewed" and result["reason"] == check_reason
    assert result["previous_token_ids"] == [first_id]
    second_id, second_secret = result["token_id"], result["token"]
    assert live_ids(emulator) == [second_id]
    assert emulator.scim_status(second_secret) == 200 and emulator.scim_status(first_secret) == 401
    # new before old: the POST came before the DELETE
    assert [r["method"] for r in emulator.mutating()] == ["POST", "DELETE"]

    # domain change → recreated
    result = ok(ansible.task(TOKEN, dict(okta, email_domains=["acme.com"])))
    assert result["action"] == "recreated" and "covers acme.com, acme.org" in result["reason"]
    third_id = result["token_id"]
    assert live_ids(emulator) == [third_id]

    # rotated: always changed
    result = ok(ansible.task(TOKEN, dict(okta, email_domains=["acme.com"], state="rotated")))
    assert result["action"] == "rotated" and result["previous_token_ids"] == [third_id]
    fourth_id = result["token_id"]
    assert live_ids(emulator) == [fourth_id]

    # rotated with previous=keep: overlap for the IdP switch-over
    result = ok(ansible.task(TOKEN, dict(okta, email_domains=["acme.com"], state="rotated", previous="keep")))
    fifth_id = result["token_id"]
    assert result["previous_token_ids"] == [fourth_id]
    assert live_ids(emulator) == [fourth_id, fifth_id]

    # info sees the duplicate name
    info = ok(ansible.task(INFO, {"name": "okta"}))
    assert info["duplicates"] == {"okta": [fourth_id, fifth_id]}

    # present (previous=revoke) revokes the superseded one and keeps the newest
    result = ok(ansible.task(TOKEN, dict(okta, email_domains=["acme.com"])))
    assert result["action"] == "revoked" and result["changed"] is True
    assert result["token_id"] == fifth_id and live_ids(emulator) == [fifth_id]

    # absent, then absent again
    result = ok(ansible.task(TOKEN, {"name": "okta", "state": "absent"}))
    assert result["action"] == "deleted" and result["previous_token_ids"] == [fifth_id]
    assert live_ids(emulator) == []
    emulator.clear_log()
    result = ok(ansible.task(TOKEN, {"name": "okta", "state": "absent"}))
    assert result["changed"] is False and result["action"] == "none"
    assert emulator.mutating() == []


def test_session_auth_and_other_variants(ansible, emulator):
    emulator.reset(prefix="/api", create_status=200, timestamps="plain", login_org_field="orgId")
    admin = emulator.member()
    connection = {"url": emulator.url, "username": admin["email"], "password": admin["password"], "org_id": 1}
    result = ok(ansible.task(TOKEN, {"name": "entra-id", "email_domains": ["acme-labs.com"], "verify": True},
                             connection=connection))
    assert result["action"] == "created"
    assert emulator.scim_status(result["token"]) == 200
    assert admin["password"] not in result["_output"]
    result = ok(ansible.task(TOKEN, {"name": "entra-id", "email_domains": ["acme-labs.com"]}, connection=connection))
    assert result["changed"] is False


@pytest.mark.parametrize("fault", [
    {"drop": True},                          # connection reset after Resolver acted
    {"status": 502},                         # 5xx after Resolver acted
    {"delay": 7},                            # answer slower than the read timeout
])
def test_lost_create_answer_leaves_one_working_token(ansible, emulator, fault):
    rule = dict({"method": "POST", "path": "^/user/scimTokens$", "count": 1, "act": True}, **fault)
    emulator.faults(rule)
    connection = ansible.connection(email_domains_format="list")
    result = ok(ansible.task(TOKEN, {"name": "okta", "email_domains": ["acme.com"]}, connection=connection))
    assert result["action"] == "created"
    tokens = emulator.tokens(live_only=False, name="okta")
    assert len(tokens) == 2 and tokens[0]["deleted"] and not tokens[1]["deleted"]  # the orphan was revoked
    assert live_ids(emulator) == [result["token_id"]]
    assert emulator.scim_status(result["token"]) == 200


def test_create_lost_twice_fails_clearly_and_leaves_no_orphan(ansible, emulator):
    emulator.faults({"method": "POST", "path": "^/user/scimTokens$", "count": 2, "act": True, "status": 500})
    connection = ansible.connection(email_domains_format="list")
    result = ansible.task(TOKEN, {"name": "okta", "email_domains": ["acme.com"]}, connection=connection)
    assert result["_status"] == "failed"
    assert "failed twice without a usable answer" in result["msg"]
    assert live_ids(emulator) == []
    assert "Traceback" not in result["_output"]


def test_verify_failure_keeps_previous_and_returns_new_token(ansible, emulator):
    first = ok(ansible.task(TOKEN, {"name": "okta", "email_domains": ["acme.com"]}))
    emulator.faults({"method": "GET", "path": "^/scim/Users$", "count": 1, "status": 401})
    result = ansible.task(TOKEN, {"name": "okta", "email_domains": ["acme.com"], "state": "rotated", "verify": True})
    assert result["_status"] == "failed" and "does not authenticate" in result["msg"]
    assert result["token"] and result["token_id"] != first["token_id"]
    assert live_ids(emulator) == [first["token_id"], result["token_id"]]
    assert emulator.scim_status(first["token"]) == 200


def test_verify_uses_the_documented_scim_base_and_tolerates_scim_v2(ansible, emulator):
    """The default verify URL is <host>/scim/; a deployment serving /scim/v2/ needs scim_url, and the 404 says so."""
    okta = {"name": "okta", "email_domains": ["acme.com"], "verify": True}
    result = ok(ansible.task(TOKEN, okta))
    assert emulator.scim_status(result["token"]) == 200
    assert ("GET", "/scim/Users", 200) in [(r["method"], r["path"], r["status"]) for r in emulator.log()]

    emulator.reset(scim_path="/scim/v2")
    result = ansible.task(TOKEN, okta)
    assert result["_status"] == "failed"
    assert "could not be checked at %s/scim/" % emulator.base in result["msg"]
    assert "GET %s/scim/Users?count=1 answered HTTP 404" % emulator.base in result["msg"]
    assert "Set scim_url" in result["msg"] and "(for example %s/scim/v2/)" % emulator.base in result["msg"]
    assert live_ids(emulator) == [result["token_id"]] and result["token"]  # the new token is handed back, not lost

    result = ok(ansible.task(TOKEN, dict(okta, state="rotated", scim_url=emulator.base + "/scim/v2/")))
    assert emulator.scim_status(result["token"], path="/scim/v2/Users?count=1") == 200
    assert emulator.scim_status(result["token"]) == 404


def test_recreate_never_fails_without_change(ansible, emulator):
    ok(ansible.task(TOKEN, {"name": "okta", "email_domains": ["acme.com"]}))
    emulator.clear_log()
    result = ansible.task(TOKEN, {"name": "okta", "email_domains": ["acme.org"], "recreate": "never"})
    assert result["_status"] == "failed" and "recreate=never" in result["msg"]
    assert emulator.mutating() == []


def test_server_validation_message_is_shown(ansible):
    result = ansible.task(TOKEN, {"name": "okta", "email_domains": ["not-in-sso.com"]})
    assert result["_status"] == "failed"
    assert "not in this org's SSO setup" in result["msg"]


def test_info_reports_expiring_and_expired(ansible, emulator):
    soon = emulator.control("POST", "tokens", {"org_id": 1, "name": "okta", "email_domains": ["acme.com"]})
    dead = emulator.control("POST", "tokens", {"org_id": 1, "name": "old", "email_domains": ["acme.com"]})
    edge = emulator.control("POST", "tokens", {"org_id": 1, "name": "edge", "email_domains": ["acme.com"]})
    fine = emulator.control("POST", "tokens", {"org_id": 1, "name": "entra", "email_domains": ["acme.org"]})
    emulator.age_tokens(710, [soon["id"]])
    emulator.age_tokens(740, [dead["id"]])
    # 29.7 days left: 30 to the nearest day, but inside 30 days, where scim_token renews it.
    emulator.age_tokens(700.3, [edge["id"]])
    result = ok(ansible.task(INFO, {}))
    assert [t["id"] for t in result["tokens"]] == [dead["id"], soon["id"], edge["id"], fine["id"]]
    assert [t["id"] for t in result["expiring"]] == [soon["id"], edge["id"]]
    assert result["expiring"][1]["days_to_expiry"] == 30
    assert [t["id"] for t in result["expired"]] == [dead["id"]]
    assert result["tokens"][0]["expired"] is True and result["duplicates"] == {}
    assert len(result["warnings"]) == 3
    assert [r["method"] for r in emulator.log()] == ["GET"]
    renew = ok(ansible.task(TOKEN, {"name": "edge", "email_domains": ["acme.com"]}, check=True))
    assert renew["action"] == "renewed"


def test_no_secret_at_any_verbosity(ansible, emulator, tmp_path):
    """-vvvv, --diff and a log file: no API key, password or token value the emulator issued shows up."""
    admin = emulator.member()
    log_path = tmp_path / "ansible.log"
    tasks = [
        {"name": "create", "resolver.scim.scim_token": {"name": "okta", "email_domains": ["acme.com"]},
         "register": "created", "no_log": True},
        {"name": "rotate", "resolver.scim.scim_token": {"name": "okta", "email_domains": ["acme.com"],
                                                        "state": "rotated", "verify": True}, "no_log": True},
        {"name": "recreate in check mode", "resolver.scim.scim_token": {"name": "okta", "email_domains": ["acme.org"]},
         "check_mode": True},
        {"name": "info", "resolver.scim.scim_token_info": {}},
        {"name": "membership", "resolver.scim.org_membership_info": {}},
        {"name": "bad key", "resolver.scim.org_membership_info": {"api_key": admin["api_key"] + "x"},
         "ignore_errors": True},
        {"name": "absent", "resolver.scim.scim_token": {"name": "okta", "state": "absent"}},
    ]
    plays = [
        {"hosts": "localhost", "gather_facts": False, "tasks": tasks,
         "module_defaults": {"group/resolver.scim.resolver": ansible.connection()}},
        {"hosts": "localhost", "gather_facts": False, "tasks": tasks[:2],
         "module_defaults": {"group/resolver.scim.resolver": {"url": emulator.url, "username": admin["email"],
                                                              "password": admin["password"], "org_id": 1}}},
    ]
    rc, results, output = ansible.playbook(plays, diff=True, verbosity=4, env={"ANSIBLE_LOG_PATH": str(log_path)})
    assert rc == 0, output[-3000:]
    assert len([r for r in results if r["task"] == "create"]) == 2
    issued = emulator.secrets()
    assert len(issued) > 10
    haystack = output + log_path.read_text()
    leaked = [s for s in issued if s in haystack]
    assert leaked == [], "secrets found in -vvvv output: %d" % len(leaked)
