# Copyright: (c) 2026, resolver.scim contributors
# GNU General Public License v3.0+ (see LICENSES/GPL-3.0-or-later.txt or https://www.gnu.org/licenses/gpl-3.0.txt)
"""resolver.scim.entra_provisioning through real ansible-playbook runs against the Entra ID / Graph stand-in.

Every test counts the requests Entra ID and Graph got (the emulator's request log), so the cost of a handover is
pinned: see REQUESTS below.
"""

import pytest

ENTRA = "resolver.scim.entra_provisioning"
LOGIN = "/_entra/login/"
GRAPH = "/_entra/graph/v1.0/"


def ok(result):
    assert result["_status"] == "ok", result.get("msg") or result["_output"][-3000:]
    return result


def failed(result):
    assert result["_status"] == "failed", result["_output"][-3000:]
    assert "Traceback" not in result["_output"]
    return result


def entra_calls(emulator):
    """(method, what) of every request to the token endpoint and Graph, in order; Graph paths shortened."""
    calls = []
    for entry in emulator.log():
        if entry["path"].startswith(LOGIN):
            # msal's tenant discovery (openid-configuration), then the token
            calls.append((entry["method"], "discovery" if entry["method"] == "GET" else "token", entry["status"]))
        elif entry["path"].startswith(GRAPH):
            tail = entry["path"].split("/synchronization/", 1)[1]
            calls.append((entry["method"], tail.split("/")[0] if tail.count("/") < 2 else tail.split("/")[-1],
                          entry["status"]))
    return calls


def run(ansible, emulator, args, app="provisioner", check=False, diff=False, env=None, verbosity=0, **connection):
    return ansible.task(ENTRA, args, check=check, diff=diff, env=env, verbosity=verbosity,
                        module_defaults={"group/resolver.scim.entra": emulator.entra_connection(app, **connection)})


def handover(emulator, sp_name="resolver", token=None, **extra):
    token = token or emulator.issue_token()
    args = {"service_principal_id": emulator.service_principal(sp_name)["id"], "tenant_url": emulator.base + "/scim/",
            "secret_token": token["token"], "token_id": token["id"]}
    args.update(extra)
    return args, token


def provisioning(emulator, sp_name="resolver"):
    return emulator.entra("GET", "service_principals/%s/can_provision" % emulator.service_principal(sp_name)["id"])


def history(emulator, sp_name="resolver"):
    return emulator.entra("GET", "service_principals/%s/history" % emulator.service_principal(sp_name)["id"])


def job_of(emulator, sp_name):
    return emulator.entra("GET", "jobs/" + emulator.service_principal(sp_name)["jobs"][0]["id"])


def test_check_mode_sends_nothing_and_says_what_would_be_set(ansible, emulator):
    args, token = handover(emulator)
    emulator.clear_log()
    result = ok(run(ansible, emulator, args, check=True, diff=True))
    assert emulator.log() == []  # not even a token request
    assert result["changed"] is True and result["credentials_set"] is False and result["validated"] is None
    assert result["msg"].startswith("Would set BaseAddress %s/scim/ and SecretToken sha256:" % emulator.base)
    assert "(token %d)" % token["id"] in result["msg"] and "Check mode sends no request" in result["msg"]
    assert result["token_fingerprint"].startswith("sha256:") and result["token_id"] == token["id"]
    assert result["diff"]["after"] == {"base_address": emulator.base + "/scim/", "token_id": token["id"],
                                       "secret_token": result["token_fingerprint"]}
    assert token["token"] not in result["_output"] and result["token_fingerprint"] in result["_output"]
    assert history(emulator)["held"] == [] and provisioning(emulator)["can_provision"] is False


def test_set_and_validate_then_the_idp_can_provision(ansible, emulator):
    args, token = handover(emulator)
    emulator.clear_log()
    result = ok(run(ansible, emulator, args, diff=True))
    assert result["changed"] is True and result["credentials_set"] is True and result["validated"] is True
    sp = emulator.service_principal()
    assert result["job_id"] == sp["jobs"][0]["id"] and result["job_status"] == "Active"
    assert result["job_started"] is False and result["token_id"] == token["id"]
    # msal's discovery, 1 token + 4 Graph requests: find the job, test the new credentials, save them, test the saved ones
    assert entra_calls(emulator) == [("GET", "discovery", 200), ("POST", "token", 200), ("GET", "jobs", 200),
                                     ("POST", "validateCredentials", 204), ("PUT", "secrets", 204),
                                     ("POST", "validateCredentials", 204)]
    # each validateCredentials made a real SCIM request with the token to Resolver's documented base URL
    assert [(r["method"], r["path"], r["status"]) for r in emulator.log() if r["path"].startswith("/scim/")] == \
        [("GET", "/scim/Users", 200)] * 2
    state = provisioning(emulator)
    assert state["can_provision"] is True and state["token_id"] == token["id"]
    assert state["base_address"] == emulator.base + "/scim/"
    assert history(emulator)["broken"] == []
    assert token["token"] not in result["_output"]

    # a second token, job known and no start wanted: the job is not even read (discovery, token + 3 Graph requests)
    second = emulator.issue_token()
    args, _token = handover(emulator, token=second, job_id=result["job_id"], start_job="never")
    emulator.clear_log()
    result = ok(run(ansible, emulator, args))
    assert [c[:2] for c in entra_calls(emulator)] == [("GET", "discovery"), ("POST", "token"), ("POST", "validateCredentials"),
                                                      ("PUT", "secrets"), ("POST", "validateCredentials")]
    assert provisioning(emulator)["token_id"] == second["id"]
    held = history(emulator)
    assert [h["token_id"] for h in held["held"]] == [token["id"], second["id"]] and held["broken"] == []


@pytest.mark.parametrize("put_semantics", ["merge", "replace"])
def test_both_keys_are_sent_so_merge_or_replace_does_not_matter(ansible, emulator, put_semantics):
    emulator.reset(entra_secrets_put=put_semantics)
    sp = emulator.service_principal()
    old = emulator.issue_token(name="old")
    emulator.entra("POST", "service_principals/%s/secrets" % sp["id"],
                   {"BaseAddress": emulator.base + "/scim/v2/", "SecretToken": old["token"]})
    args, token = handover(emulator)
    ok(run(ansible, emulator, args))
    state = provisioning(emulator)
    assert state["can_provision"] is True and state["token_id"] == token["id"]


def test_validated_state_for_drift_checks(ansible, emulator):
    args, token = handover(emulator)
    ok(run(ansible, emulator, args))
    sp_id = args["service_principal_id"]
    for check in (True, False):
        emulator.clear_log()
        result = ok(run(ansible, emulator, {"service_principal_id": sp_id, "state": "validated"}, check=check))
        assert result["changed"] is False and result["validated"] is True and result["credentials_set"] is False
        assert result["base_address"] is None and result["token_fingerprint"] is None
        # discovery, token + 2 Graph requests, nothing that changes anything
        assert [c[:2] for c in entra_calls(emulator)] == [("GET", "discovery"), ("POST", "token"), ("GET", "jobs"),
                                                          ("POST", "validateCredentials")]
    # the held token is revoked in Resolver: the drift check fails, naming what Graph said
    emulator.control("POST", "age_tokens", {"days": 800, "ids": [token["id"]]})
    result = failed(run(ansible, emulator, {"service_principal_id": sp_id, "state": "validated"}))
    assert result["failed_step"] == "validate_saved" and result["validated"] is False
    assert result["validation_error"]["code"] == \
        "SystemForCrossDomainIdentityManagementCredentialValidationUnauthorized"
    assert "The credentials Entra ID has saved do not work" in result["msg"]


@pytest.mark.parametrize("sp_name, expected", [
    ("no-jobs", "has no provisioning job with templateId scim. Turn on automatic provisioning"),
    ("gallery-only", "has no provisioning job with templateId scim; its jobs: salesforce."),
    ("two-scim-jobs", "has 2 jobs with templateId scim ("),
])
def test_job_discovery_errors_fail_before_anything_is_set(ansible, emulator, sp_name, expected):
    args, _token = handover(emulator, sp_name)
    emulator.clear_log()
    result = failed(run(ansible, emulator, args))
    assert result["failed_step"] == "job" and expected in result["msg"]
    assert result["msg"].startswith("find the SCIM job: service principal %s" % args["service_principal_id"])
    assert result["changed"] is False and result["credentials_set"] is False
    assert [c[:2] for c in entra_calls(emulator)] == [("GET", "discovery"), ("POST", "token"), ("GET", "jobs")]
    if sp_name == "two-scim-jobs":
        jobs = emulator.service_principal(sp_name)["jobs"]
        assert all(j["id"] in result["msg"] for j in jobs) and "set job_id" in result["msg"]
        result = ok(run(ansible, emulator, dict(args, job_id=jobs[0]["id"])))
        assert result["job_id"] == jobs[0]["id"] and provisioning(emulator, sp_name)["can_provision"] is True


@pytest.mark.parametrize("failure_status", [400, 409])
def test_new_credentials_that_do_not_work_are_never_saved(ansible, emulator, failure_status):
    emulator.reset(entra_validate_failure_status=failure_status)
    working, _token = handover(emulator)
    ok(run(ansible, emulator, working))
    dead = emulator.issue_token(name="dead")
    emulator.control("POST", "age_tokens", {"days": 800, "ids": [dead["id"]]})
    for args, code in ((handover(emulator, token=dead)[0], "Unauthorized"),
                       (dict(working, tenant_url=emulator.base + "/scim/v2/"), "Unavailable")):
        emulator.clear_log()
        result = failed(run(ansible, emulator, args))
        assert result["failed_step"] == "validate_new" and result["changed"] is False
        assert result["msg"].startswith("validate new credentials: Graph refused POST servicePrincipals/")
        assert "(HTTP %d SystemForCrossDomainIdentityManagementCredentialValidation%s" % (failure_status, code) \
            in result["msg"]
        assert "Nothing was saved: the enterprise app keeps its current credentials" in result["msg"]
        assert result["validation_error"]["code"].endswith(code)
        assert ("PUT", "secrets") not in [c[:2] for c in entra_calls(emulator)]
    state = provisioning(emulator)
    assert state["can_provision"] is True and state["token_id"] == working["token_id"]
    assert history(emulator)["broken"] == []


def test_saved_credentials_that_fail_validation_fail_the_task_naming_the_step(ansible, emulator):
    args, _token = handover(emulator)
    emulator.faults({"method": "POST", "path": "/validateCredentials$", "skip": 1, "count": 1, "status": 400})
    result = failed(run(ansible, emulator, args))
    assert result["failed_step"] == "validate_saved" and result["changed"] is True
    assert result["credentials_set"] is True and result["validated"] is False
    assert result["msg"].startswith("validate saved credentials: Graph refused POST")
    assert "(HTTP 400 generalException: injected fault)" in result["msg"]
    assert "so the enterprise app holds them now: set the previous token again" in result["msg"]


def test_forbidden_names_the_permission(ansible, emulator):
    args, _token = handover(emulator)
    result = failed(run(ansible, emulator, args, app="no-permission"))
    assert result["failed_step"] == "job"
    assert "HTTP 403 Authorization_RequestDenied: Insufficient privileges to complete the operation." in result["msg"]
    assert "Synchronization.ReadWrite.All" in result["msg"] and "Application.ReadWrite.OwnedBy" in result["msg"]
    # least privilege: an app with Application.ReadWrite.OwnedBy may manage the service principal it owns only
    ok(run(ansible, emulator, args, app="owner"))
    not_owned, _token = handover(emulator, "resolver-paused")
    result = failed(run(ansible, emulator, not_owned, app="owner"))
    assert "HTTP 403" in result["msg"] and "with the app made an owner of the service principal" in result["msg"]
    # a 403 on the PUT itself names the step that failed
    emulator.faults({"method": "PUT", "path": "/synchronization/secrets$", "count": 1, "status": 403})
    result = failed(run(ansible, emulator, args))
    assert result["failed_step"] == "set" and result["msg"].startswith("set credentials: Graph refused PUT")
    assert result["changed"] is False and result["credentials_set"] is False


@pytest.mark.parametrize("sp_name, start_job, started", [
    ("resolver-paused", "if_paused", True),
    ("resolver-quarantine", "if_paused", True),
    ("resolver", "if_paused", False),
    ("resolver-paused", "never", False),
])
def test_a_paused_or_quarantined_job_is_started_and_an_active_one_is_not(ansible, emulator, sp_name, start_job,
                                                                         started):
    status_before = emulator.service_principal(sp_name)["jobs"][0]["status"]
    args, _token = handover(emulator, sp_name, start_job=start_job)
    emulator.clear_log()
    result = ok(run(ansible, emulator, args, diff=True))
    assert result["job_started"] is started and result["job_status"] == status_before
    job = job_of(emulator, sp_name)
    assert job["starts"] == (1 if started else 0)
    assert job["status"] == ("Active" if started else status_before)
    calls = [c[:2] for c in entra_calls(emulator)]
    assert calls.count(("POST", "start")) == (1 if started else 0)
    if started:
        assert calls[-1] == ("POST", "start") and len(calls) == 7  # discovery, token, 5 Graph requests
        assert result["diff"]["before"]["job_status"] == status_before
        assert result["diff"]["after"]["job_status"] == "Active"
    # in check mode, state=validated reports that it would start a paused job, and does not
    if sp_name == "resolver-paused" and start_job == "if_paused":
        emulator.entra("POST", "jobs/" + job["id"], {"status": "Paused"})
        result = ok(run(ansible, emulator, {"service_principal_id": args["service_principal_id"],
                                            "state": "validated"}, check=True))
        assert result["changed"] is True and result["job_started"] is False
        assert job_of(emulator, sp_name)["starts"] == 1


@pytest.mark.parametrize("names", [
    {"tenant_id": "AZURE_TENANT_ID", "client_id": "AZURE_CLIENT_ID", "client_secret": "AZURE_CLIENT_SECRET"},
    {"tenant_id": "AZURE_TENANT", "client_id": "AZURE_CLIENT_ID", "client_secret": "AZURE_SECRET"},  # AWX's names
])
def test_azure_environment_variables(ansible, emulator, names):
    connection = emulator.entra_connection()
    env = {variable: connection.pop(option) for option, variable in names.items()}
    # an empty variable counts as unset (AWX injects every field of a credential type)
    env.update({v: "" for v in ("AZURE_TENANT_ID", "AZURE_CLIENT_SECRET") if v not in env})
    args, token = handover(emulator)
    result = ok(ansible.task(ENTRA, args, env=env, module_defaults={"group/resolver.scim.entra": connection}))
    assert result["credentials_set"] is True and provisioning(emulator)["token_id"] == token["id"]


def test_token_endpoint_errors_name_the_credential_to_check(ansible, emulator):
    args, _token = handover(emulator)
    emulator.clear_log()
    result = failed(run(ansible, emulator, args, client_secret="cs~wrong-secret-value"))
    assert result["failed_step"] == "token" and result["changed"] is False
    assert "Entra ID refused the client secret sign-in of client_id" in result["msg"]
    assert "(HTTP 401 invalid_client: AADSTS7000215: Invalid client secret provided." in result["msg"]
    assert "Check client_secret (or AZURE_CLIENT_SECRET / AZURE_SECRET)" in result["msg"]
    assert "Trace ID" not in result["msg"]
    result = failed(run(ansible, emulator, args, tenant_id="contoso.onmicrosoft.com"))
    assert "AADSTS90002: Tenant 'contoso.onmicrosoft.com' not found." in result["msg"]
    assert "Check tenant_id (or AZURE_TENANT_ID / AZURE_TENANT)" in result["msg"]
    # the unknown tenant fails at msal's tenant discovery, before any credential is sent
    assert [c[:2] for c in entra_calls(emulator)] == [("GET", "discovery"), ("POST", "token"), ("GET", "discovery")]


BAD_INPUTS = [
    # (case, task arguments changed, connection changed (None removes), what the message must say)
    ("no tenant", {}, {"tenant_id": None}, "tenant_id is required: set the tenant_id option or the AZURE_TENANT_ID or "
                                           "AZURE_TENANT environment variable"),
    ("tenant with a slash", {}, {"tenant_id": "contoso/x"}, "tenant_id is not a tenant (its value is not shown"),
    ("client id not a GUID", {}, {"client_id": "my-app"}, "client_id is not an Application (client) ID (its value is not shown"),
    ("no client secret", {}, {"client_secret": None}, "No way of signing in to Entra ID is set: give one of "
                                                      "client_secret (AZURE_CLIENT_SECRET / AZURE_SECRET)"),
    ("service principal not a GUID", {"service_principal_id": "resolver"}, {},
     "service_principal_id is not an object ID (its value is not shown, in case it is a secret given to the wrong "
     "option): give the GUID of the enterprise application"),
    ("job id with a slash", {"job_id": "scim/../x"}, {}, "job_id is not a synchronization job id such as scim.0a1b... (its value is not shown"),
    ("no tenant_url", {"tenant_url": None}, {}, "tenant_url is required with state=present"),
    ("tenant_url without scheme", {"tenant_url": "acme.resolver.com/scim/"}, {},
     "tenant_url 'acme.resolver.com/scim/' is not an http(s) URL"),
    ("tenant_url plain http", {"tenant_url": "http://acme.resolver.com/scim/"}, {},
     "tenant_url 'http://acme.resolver.com/scim/' uses plain http:// to a non-loopback host"),
    ("no secret_token", {"secret_token": None}, {}, "secret_token is required with state=present"),
    ("secret_token with a line break", {"secret_token": "abc\ndef"}, {}, "secret_token contains spaces or line breaks"),
    ("validated with a token", {"state": "validated", "tenant_url": None}, {},
     "secret_token is only used with state=present"),
    ("validated without validate", {"state": "validated", "tenant_url": None, "secret_token": None,
                                    "validate": False}, {}, "validate=false leaves state=validated nothing to do"),
    ("authority with the tenant", {}, {"authority_url": "https://login.microsoftonline.com/contoso.onmicrosoft.com",
                                       "tenant_id": "contoso.onmicrosoft.com"},
     "authority_url 'https://login.microsoftonline.com/contoso.onmicrosoft.com' must be the authority host only"),
    ("graph with a version", {}, {"graph_url": "https://graph.microsoft.com/v1.0"},
     "graph_url 'https://graph.microsoft.com/v1.0' must be the Graph root without a version"),
    ("plain http graph", {}, {"graph_url": "http://graph.microsoft.com"}, "uses plain http:// to a non-loopback host"),
    ("zero timeout", {}, {"timeout": 0}, "timeout must be a positive number of seconds; got 0"),
    ("missing ca_path", {}, {"ca_path": "/nonexistent/ca.pem"}, "ca_path '/nonexistent/ca.pem' does not exist"),
    ("unknown start_job", {"start_job": "always"}, {}, "value of start_job must be one of: if_paused, never"),
]


def test_bad_input_fails_before_any_request_naming_the_option(ansible, emulator):
    args, _token = handover(emulator)
    connection = emulator.entra_connection()
    tasks = []
    for case, changes, connection_changes, _expected in BAD_INPUTS:
        task_args = {k: v for k, v in dict(args, **changes).items() if v is not None}
        task_args.update({k: v for k, v in dict(connection, **connection_changes).items() if v is not None})
        tasks.append({"name": case, ENTRA: task_args, "ignore_errors": True})
    emulator.clear_log()
    rc, results, output = ansible.playbook([{"hosts": "localhost", "gather_facts": False, "tasks": tasks}],
                                           env={"AZURE_TENANT_ID": "", "AZURE_CLIENT_SECRET": ""})
    assert rc == 0, output[-3000:]
    assert emulator.log() == []
    by_task = {r["task"]: r for r in results}
    for case, _changes, _connection, expected in BAD_INPUTS:
        assert by_task[case]["status"] == "failed", case
        assert expected in by_task[case]["result"]["msg"], (case, by_task[case]["result"]["msg"])
    assert "Traceback" not in output and args["secret_token"] not in output


def test_no_secret_at_any_verbosity(ansible, emulator, tmp_path):
    """-vvvv, --diff and a log file over set, validate, check mode and failures: no secret the emulator issued."""
    log_path = tmp_path / "ansible.log"
    args, _token = handover(emulator, "resolver-quarantine")
    dead = emulator.issue_token(name="dead")
    emulator.control("POST", "age_tokens", {"days": 800, "ids": [dead["id"]]})
    sp_id = args["service_principal_id"]
    tasks = [
        {"name": "set", ENTRA: args},
        {"name": "check mode", ENTRA: args, "check_mode": True},
        {"name": "validated", ENTRA: {"service_principal_id": sp_id, "state": "validated"}},
        {"name": "dead token", ENTRA: dict(args, secret_token=dead["token"]), "ignore_errors": True},
        {"name": "wrong secret", ENTRA: dict(args, client_secret="cs~not-the-secret"), "ignore_errors": True},
        {"name": "throttled", ENTRA: args},
    ]
    emulator.faults({"method": "PUT", "path": "/synchronization/secrets$", "skip": 1, "count": 1, "status": 429,
                     "retry_after": 1})
    plays = [{"hosts": "localhost", "gather_facts": False, "tasks": tasks,
              "module_defaults": {"group/resolver.scim.entra": emulator.entra_connection()}}]
    rc, results, output = ansible.playbook(plays, diff=True, verbosity=4, env={"ANSIBLE_LOG_PATH": str(log_path)})
    assert rc == 0, output[-3000:]
    statuses = {r["task"]: r["status"] for r in results}
    assert statuses == {"set": "ok", "check mode": "ok", "validated": "ok", "dead token": "failed",
                        "wrong secret": "failed", "throttled": "ok"}
    assert ("PUT", "secrets", 429) in entra_calls(emulator)
    issued = emulator.secrets()
    assert len([s for s in issued if s.startswith("eyJ0eXAi.")]) == 4  # access tokens, one per run that got one
    haystack = output + log_path.read_text()
    leaked = [s for s in issued if s in haystack]
    assert leaked == [], "secrets found in -vvvv output: %d" % len(leaked)
