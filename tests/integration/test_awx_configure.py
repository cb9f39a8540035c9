# Copyright: (c) 2026, resolver.scim contributors
# GNU General Public License v3.0+ (see LICENSES/GPL-3.0-or-later.txt or https://www.gnu.org/licenses/gpl-3.0.txt)
"""playbooks/awx_configure.yml run for real against a stand-in awx.awx that records what it was asked to create.

There is no AWX controller here; the stand-in's modules take any arguments and append them to a file, so the
playbook's own logic is what is tested: one credential per org, each org's templates limited to it and given only
its credential, and settings that would put two orgs on one credential refused before anything is created. For the
secrets-manager stores, the job a template would start is then run for real under ansible-runner, with the
template's extra vars and the credentials injected as AWX injects them, against OpenBao and moto.
"""

import json
import os
import pathlib

import pytest
import yaml

import org_inventory
import store_servers
from conftest import REPO
from test_awx import assert_nothing_left_behind, aws_inject, awx_injection, runner_jobs
from test_store_hashi_vault import POLICY

AWX_MODULES = ("credential_type", "credential", "project", "inventory", "inventory_source", "job_template", "schedule")
RECORDING_MODULE = '''#!/usr/bin/python
import json, os
from ansible.module_utils.basic import _load_params
with open(os.environ["AWX_STAND_IN_LOG"], "a") as handle:
    handle.write(json.dumps({"module": "%s", "args": _load_params()}) + "\\n")
print(json.dumps({"changed": True}))
raise SystemExit(0)
'''
KEYS = {"acme-prod": "rk-prod-secret-0001", "acme-staging": "rk-staging-secret-0002"}


@pytest.fixture
def awx(ansible, tmp_path):
    """Run awx_configure.yml with the given settings; return (rc, output, the calls the stand-in recorded)."""
    modules = tmp_path / "stand-in" / "ansible_collections" / "awx" / "awx" / "plugins" / "modules"
    modules.mkdir(parents=True)
    for name in AWX_MODULES:
        (modules / (name + ".py")).write_text(RECORDING_MODULE % name)
    log = tmp_path / "awx-calls.jsonl"

    def configure(settings, inventory=None):
        (tmp_path / "awx.yml").write_text(yaml.safe_dump(settings))
        env = {"AWX_STAND_IN_LOG": str(log), "ANSIBLE_COLLECTIONS_PATH": os.pathsep.join(
            [str(tmp_path / "stand-in"), os.environ.get("ANSIBLE_COLLECTIONS_PATH", "")])}
        rc, _results, output = ansible.playbook(os.path.join(REPO, "playbooks", "awx_configure.yml"), verbosity=4,
                                                env=env, extra_args=["-e", "@%s" % (tmp_path / "awx.yml")],
                                                inventory=inventory)
        calls = [json.loads(line) for line in log.read_text().splitlines()] if log.exists() else []
        return rc, output, calls

    return configure


def settings(*orgs, **extra):
    base = {"resolver_awx_project_url": "https://git.example.com/orgs.git", "resolver_awx_orgs": list(orgs)}
    if extra.get("resolver_awx_token_store", "file") == "file":
        base["resolver_awx_store_dir"] = "/srv/scim"
    base.update(extra)
    return {name: value for name, value in base.items() if value is not None}


def org(host, **inputs):
    return {"host": host, "credential_inputs": dict({"url": "https://acme.resolver.com", "api_key": KEYS[host]},
                                                    **inputs)}


def test_each_org_gets_its_own_credential_and_templates_limited_to_it(awx):
    rc, output, calls = awx(settings(org("acme-prod"), org("acme-staging")))
    assert rc == 0, output[-3000:]
    credentials = {c["args"]["name"]: c["args"]["inputs"]["api_key"] for c in calls if c["module"] == "credential"}
    assert credentials == {"Resolver SCIM API acme-prod": KEYS["acme-prod"],
                           "Resolver SCIM API acme-staging": KEYS["acme-staging"]}
    templates = {c["args"]["name"]: c["args"] for c in calls if c["module"] == "job_template"}
    assert sorted(templates) == sorted("Resolver SCIM %s %s" % (host, kind) for host in KEYS
                                       for kind in ("converge", "drift check", "rotate"))
    for name, template in templates.items():
        host = name.split()[2]
        assert template["limit"] == host and template["credentials"] == ["Resolver SCIM API %s" % host]
        assert template["ask_limit_on_launch"] is False and template["allow_simultaneous"] is False
        # Nor may a launch swap what the job runs with: its inventory, credentials, playbooks or job type.
        assert [p for p in ("inventory", "credential", "scm_branch", "execution_environment", "job_type")
                if template["ask_%s_on_launch" % p] is not False] == [], name
        assert template["extra_vars"] == {"resolver_scim_token_store_dir": "/srv/scim",
                                          "resolver_scim_lock_dir": "/srv/scim/locks"}
    # The file store needs no store credential.
    assert [c["args"]["name"] for c in calls if c["module"] == "credential_type"] == ["Resolver API"]
    assert templates["Resolver SCIM acme-prod drift check"]["job_type"] == "check"
    # No template takes free-form variables at launch; each takes its survey's and no others.
    for name, template in templates.items():
        assert template["ask_variables_on_launch"] is False, name
        assert_awx_accepts_survey(template)
        assert survey_variables(template) == SURVEY_VARIABLES[name.split(" ", 3)[3]], name
    # Run without the project's inventory, the org's token names are unknown: rotate takes text.
    rotate = templates["Resolver SCIM acme-prod rotate"]["survey_spec"]["spec"]
    assert [(q["type"], q["required"]) for q in rotate] == [("text", True)]
    drift = templates["Resolver SCIM acme-prod drift check"]["survey_spec"]["spec"]
    assert [(q["type"], q["required"], q["default"]) for q in drift] == [("text", False, "")]
    # A schedule gives no variables (it could give only the survey's).
    assert [c["args"] for c in calls if c["module"] == "schedule" and "extra_data" in c["args"]] == []
    schedules = sorted((c["args"]["unified_job_template"], c["args"]["rrule"].split()[1])
                       for c in calls if c["module"] == "schedule")
    assert schedules == [("Resolver SCIM acme-prod converge", "RRULE:FREQ=WEEKLY;INTERVAL=1;BYDAY=MO"),
                         ("Resolver SCIM acme-prod drift check", "RRULE:FREQ=DAILY;INTERVAL=1"),
                         ("Resolver SCIM acme-staging converge", "RRULE:FREQ=WEEKLY;INTERVAL=1;BYDAY=MO"),
                         ("Resolver SCIM acme-staging drift check", "RRULE:FREQ=DAILY;INTERVAL=1")]
    assert not [key for key in KEYS.values() if key in output], "an API key reached the -vvvv output"


# What a launch of each template may give (playbooks/drift_check.yml and rotate.yml read these; rotate_orgs is the
# template's limit).
SURVEY_VARIABLES = {"converge": set(), "drift check": {"drift_report"}, "rotate": {"rotate_tokens"}}
# What a launch could otherwise use to send the injected credentials elsewhere or put the tokens elsewhere.
REDIRECTING_VARS = {"resolver_url": "https://attacker.example.com", "resolver_api_key_header": "X-Other",
                    "resolver_validate_certs": False, "resolver_scim_token_store_dir": "/tmp/stolen",
                    "resolver_scim_token_store": "none", "resolver_scim_hashi_vault_url": "https://attacker.example.com",
                    "resolver_scim_aws_endpoint_url": "https://attacker.example.com", "rotate_orgs": "all"}
# AWX's rules for a survey (awx/api/views/__init__.py, JobTemplateSurveySpec._validate_spec_data; SURVEY_TYPE_MAPPING
# in awx/main/constants.py), checked here as there is no AWX to ask.
AWX_SURVEY_TYPES = {"text": str, "textarea": str, "password": str, "multiplechoice": str, "multiselect": str,
                    "integer": int, "float": (float, int)}


def survey_variables(template):
    return {q["variable"] for q in template["survey_spec"]["spec"]} if template["survey_enabled"] else set()


def assert_awx_accepts_survey(template):
    """The survey is one AWX's API takes, and the module sends it as AWX gives it back (so a second run is
    idempotent): choices as a list, which AWX stores as given."""
    assert isinstance(template["survey_enabled"], bool)
    if not template["survey_enabled"]:
        assert "survey_spec" not in template
        return
    survey = template["survey_spec"]
    assert isinstance(survey["name"], str) and isinstance(survey["description"], str)
    assert isinstance(survey["spec"], list) and survey["spec"]
    variables = [q["variable"] for q in survey["spec"]]
    assert len(variables) == len(set(variables))
    for question in survey["spec"]:
        assert all(isinstance(question[key], str) for key in ("type", "question_name", "variable")), question
        assert isinstance(question["required"], bool) and question["type"] in AWX_SURVEY_TYPES
        assert question.get("default", "") == "" or isinstance(question["default"], AWX_SURVEY_TYPES[question["type"]])
        assert all(isinstance(question[key], int) for key in ("min", "max") if question.get(key) is not None)
        if question["type"] in ("multiselect", "multiplechoice"):
            assert isinstance(question["choices"], list) and question["choices"], question
            assert all(isinstance(choice, str) and choice.strip() for choice in question["choices"])


def awx_answer_errors(question, answers):
    """AWX's check of one survey answer (awx/main/models/mixins.py, SurveyJobTemplateMixin._survey_element_validation)
    for the question types used here."""
    variable = question["variable"]
    if variable not in answers:
        return ["'%s' value missing" % variable] if question["required"] else []
    value = answers[variable]
    if question["type"] in ("text", "textarea", "password"):
        if not isinstance(value, str):
            return ["Value %s for '%s' expected to be a string." % (value, variable)]
        too_short = question.get("min") not in ("", None) and len(value) < question["min"]
        too_long = question.get("max") not in ("", None) and len(value) > question["max"]
        return ["'%s' value has the wrong length" % variable] if too_short or too_long else []
    assert question["type"] == "multiselect", question["type"]
    if not isinstance(value, list):
        return ["'%s' value is expected to be a list." % variable]
    return ["Value %s for '%s' expected to be one of %s." % (v, variable, question["choices"])
            for v in value if v not in question["choices"]]


def awx_launch(template, launch_vars):
    """(the job's extra vars, errors) of a launch of the recorded template with these extra vars, as AWX makes them
    (SurveyJobTemplateMixin._accept_or_ignore_variables, then _update_unified_job_kwargs). AWX refuses a launch
    with errors."""
    questions = template["survey_spec"]["spec"] if template["survey_enabled"] else []
    left, accepted, errors = dict(launch_vars), {}, []
    for question in questions:
        problems = awx_answer_errors(question, launch_vars)
        errors += problems
        if question["variable"] in left:
            value = left.pop(question["variable"])
            if not problems:
                accepted[question["variable"]] = value
    if template["ask_variables_on_launch"]:
        accepted.update(left)
        left = {}
    # A variable equal to the template's own is dropped rather than refused.
    left = {name: value for name, value in left.items()
            if not (name in template["extra_vars"] and template["extra_vars"][name] == value)}
    if left:
        errors.append("Variables %s are not allowed on launch." % ", ".join(sorted(left)))
    job_vars = dict(template["extra_vars"])
    job_vars.update({q["variable"]: q["default"] for q in questions
                     if q.get("default") is not None and not awx_answer_errors(q, {q["variable"]: q["default"]})})
    job_vars.update(accepted)
    return job_vars, errors


@pytest.mark.parametrize("orgs", [
    pytest.param([org("acme-prod"), org("acme-prod")], id="one org twice"),
    pytest.param([{"host": "acme-prod", "credential_inputs": {"api_key": KEYS["acme-prod"]}}], id="no url"),
    pytest.param([{"credential_inputs": {"url": "https://acme.resolver.com"}}], id="no host"),
    pytest.param([], id="no org"),
])
def test_settings_that_cannot_give_each_org_its_credential_are_refused_first(awx, orgs):
    rc, output, calls = awx(settings(*orgs))
    assert rc != 0 and calls == []
    assert "resolver_awx_orgs, a list with one entry per org" in " ".join(output.split())
    assert not [key for key in KEYS.values() if key in output]


VAULT_SECRET_ID = "vault-secret-id-0003"
VAULT_TOKEN = "hvs.vault-token-0004"
AWS_SECRET = "aws-secret-key-0005"
STORE_SECRETS = list(KEYS.values()) + [VAULT_SECRET_ID, VAULT_TOKEN, AWS_SECRET]


def created(calls, module):
    return [c["args"] for c in calls if c["module"] == module]


def job_templates(calls):
    return {args["name"]: args for args in created(calls, "job_template")}


def store_credentials(calls):
    return [args for args in created(calls, "credential") if args["credential_type"] != "Resolver API"]


def test_hashi_vault_store_gives_every_template_one_shared_store_credential(awx):
    vault_vars = {"resolver_scim_hashi_vault_mount": "kv", "resolver_scim_hashi_vault_path_prefix": "scim"}
    rc, output, calls = awx(settings(
        org("acme-prod"), org("acme-staging"), resolver_awx_token_store="hashi_vault",
        resolver_awx_store_vars=vault_vars,
        resolver_awx_store_credential_inputs={"url": "https://vault.example.com:8200", "role_id": "role-1",
                                              "secret_id": VAULT_SECRET_ID}))
    assert rc == 0, output[-3000:]
    types = created(calls, "credential_type")
    assert [t["name"] for t in types] == ["Resolver API", "Resolver SCIM HashiCorp Vault"]
    with open(os.path.join(REPO, "extensions", "awx", "vault_credential_type.yml"), encoding="utf-8") as handle:
        vault_type = yaml.safe_load(handle)
    assert (types[1]["inputs"], types[1]["injectors"]) == (vault_type["inputs"], vault_type["injectors"])
    store = store_credentials(calls)
    assert [(c["name"], c["credential_type"]) for c in store] == [
        ("Resolver SCIM hashi_vault store", "Resolver SCIM HashiCorp Vault")]
    assert store[0]["inputs"]["secret_id"] == VAULT_SECRET_ID and store[0]["update_secrets"] is True
    templates = job_templates(calls)
    assert len(templates) == 6
    for name, template in templates.items():
        host = name.split()[2]
        assert template["credentials"] == ["Resolver SCIM API " + host, "Resolver SCIM hashi_vault store"]
        # No store directory: the job reaches Vault with the store credential.
        assert template["extra_vars"] == dict(vault_vars, resolver_scim_token_store="hashi_vault")
        assert template["allow_simultaneous"] is False and template["limit"] == host
    assert not [s for s in STORE_SECRETS if s in output], "a secret reached the -vvvv output"


def test_aws_store_with_an_existing_shared_credential_and_one_org_of_its_own(awx):
    aws_vars = {"resolver_scim_aws_region": "eu-west-1", "resolver_scim_aws_secret_prefix": "scim/"}
    rc, output, calls = awx(settings(
        dict(org("acme-prod"), store_credential_inputs={"username": "AKIAPROD", "password": AWS_SECRET}),
        org("acme-staging"), resolver_awx_token_store="aws_secretsmanager", resolver_awx_store_vars=aws_vars,
        resolver_awx_store_credential="Cloud team AWS"))
    assert rc == 0, output[-3000:]
    # AWX's own "Amazon Web Services" type: no type to create, and the existing credential is only referred to.
    assert [t["name"] for t in created(calls, "credential_type")] == ["Resolver API"]
    store = store_credentials(calls)
    assert [(c["name"], c["credential_type"]) for c in store] == [
        ("Resolver SCIM aws_secretsmanager store acme-prod", "Amazon Web Services")]
    assert store[0]["inputs"] == {"username": "AKIAPROD", "password": AWS_SECRET}
    templates = job_templates(calls)
    for kind in ("converge", "drift check", "rotate"):
        assert templates["Resolver SCIM acme-prod " + kind]["credentials"] == [
            "Resolver SCIM API acme-prod", "Resolver SCIM aws_secretsmanager store acme-prod"]
        assert templates["Resolver SCIM acme-staging " + kind]["credentials"] == [
            "Resolver SCIM API acme-staging", "Cloud team AWS"]
    assert all(t["extra_vars"] == dict(aws_vars, resolver_scim_token_store="aws_secretsmanager")
               for t in templates.values())
    assert not [s for s in STORE_SECRETS if s in output], "a secret reached the -vvvv output"


VAULT_INPUTS = {"url": "https://vault.example.com:8200", "token": VAULT_TOKEN}
AWS = {"resolver_awx_token_store": "aws_secretsmanager",
       "resolver_awx_store_vars": {"resolver_scim_aws_region": "eu-west-1"},
       "resolver_awx_store_credential_inputs": {"username": "AKIA1", "password": AWS_SECRET}}
VAULT = {"resolver_awx_token_store": "hashi_vault", "resolver_awx_store_credential_inputs": VAULT_INPUTS}


@pytest.mark.parametrize("orgs, extra, message", [
    pytest.param([org("acme-prod")], {"resolver_awx_token_store": "vault_kv"},
                 "resolver_awx_token_store must be file, hashi_vault or aws_secretsmanager (got vault_kv)",
                 id="unknown store"),
    pytest.param([org("acme-prod")], {"resolver_awx_store_dir": None},
                 "the file store needs resolver_awx_store_dir", id="file store without directory"),
    pytest.param([org("acme-prod")], {"resolver_awx_store_credential_inputs": VAULT_INPUTS},
                 "need resolver_awx_token_store hashi_vault or aws_secretsmanager", id="file store with credential"),
    pytest.param([org("acme-prod"), org("acme-staging")], {"resolver_awx_token_store": "hashi_vault"},
                 "org acme-prod: no store credential; set resolver_awx_store_credential_inputs", id="no credential"),
    pytest.param([org("acme-prod")],
                 dict(VAULT, resolver_awx_store_credential_inputs=dict(VAULT_INPUTS, url="http://vault.example.com")),
                 "resolver_awx_store_credential_inputs needs url, Vault's https:// address", id="vault over http"),
    pytest.param([org("acme-prod")],
                 dict(VAULT, resolver_awx_store_credential_inputs={"url": "https://vault.example.com",
                                                                   "secret_id": VAULT_SECRET_ID}),
                 "resolver_awx_store_credential_inputs needs token, or role_id and secret_id", id="vault no auth"),
    pytest.param([org("acme-prod")],
                 dict(VAULT, resolver_awx_store_vars={"resolver_scim_hashi_vault_token": VAULT_TOKEN}),
                 "resolver_awx_store_vars may not set resolver_scim_hashi_vault_token: the store credential carries it",
                 id="vault token in template vars"),
    pytest.param([org("acme-prod")], dict(VAULT, resolver_awx_store_vars={"resolver_scim_token_store_dir": "/x"}),
                 "resolver_awx_store_vars may only set resolver_scim_hashi_vault_* variables, not"
                 " resolver_scim_token_store_dir", id="another variable in template vars"),
    pytest.param([org("acme-prod")], dict(AWS, resolver_awx_store_vars={}),
                 "the aws_secretsmanager store needs resolver_awx_store_vars.resolver_scim_aws_region",
                 id="aws without region"),
    pytest.param([dict(org("acme-prod"), store_credential_inputs={"password": AWS_SECRET})], AWS,
                 "org acme-prod: store_credential_inputs needs username (the access key ID) and password",
                 id="aws org credential without key id"),
    pytest.param([org("acme-prod")], dict(AWS, resolver_awx_store_credential="Cloud team AWS"),
                 "set resolver_awx_store_credential (an existing credential) or resolver_awx_store_credential_inputs"
                 " (a new one), not both", id="shared credential twice"),
    pytest.param([dict(org("acme-prod"), store_credential="AWS", store_credential_inputs={"username": "AKIA2"})],
                 AWS, "org acme-prod: set store_credential or store_credential_inputs, not both",
                 id="org credential twice"),
])
def test_bad_store_settings_are_refused_before_any_change(awx, orgs, extra, message):
    rc, output, calls = awx(settings(*orgs, **extra))
    assert rc != 0 and calls == []
    assert message in " ".join(output.split()), output[-3000:]
    assert not [s for s in STORE_SECRETS if s in output], "a secret reached the -vvvv output"


@pytest.mark.filterwarnings("ignore:This process .* is multi-threaded:DeprecationWarning")
def test_a_launch_takes_its_survey_answers_and_nothing_else(awx, emulator, tmp_path):
    """The templates as configured, launched the way AWX launches them: a survey answer reaches the job, which
    rotates or reports as before; any other variable, one that could send the injected key or the tokens
    elsewhere, makes AWX refuse the launch."""
    admin = emulator.member()
    domain = org_inventory.org_hosts(emulator.seed, emulator.url, 1)["org1-acme"]["scim_domain"]
    # The project's inventory, with no connection variable: awx_configure.yml reads the declared names from it.
    project = org_inventory.write_inventory(str(tmp_path / "project"), {"org1-acme": {"scim_domain": domain}})
    (tmp_path / "job").mkdir()
    rc, output, calls = awx(settings(
        {"host": "org1-acme", "credential_inputs": {"url": emulator.url, "api_key": admin["api_key"]}},
        # Not in the inventory: its token names are unknown.
        {"host": "org9-elsewhere", "credential_inputs": {"url": emulator.url, "api_key": admin["api_key"]}},
        resolver_awx_store_dir=str(tmp_path / "job" / "store")), inventory=os.path.join(project, "hosts.yml"))
    assert rc == 0, output[-3000:]
    assert admin["api_key"] not in output
    templates = job_templates(calls)
    for template in templates.values():
        assert_awx_accepts_survey(template)
    rotate, drift = templates["Resolver SCIM org1-acme rotate"], templates["Resolver SCIM org1-acme drift check"]
    assert [(q["type"], q["choices"]) for q in rotate["survey_spec"]["spec"]] == [
        ("multiselect", [t["name"] for t in org_inventory.DECLARED_TOKENS])]
    assert [q["type"] for q in templates["Resolver SCIM org9-elsewhere rotate"]["survey_spec"]["spec"]] == ["text"]

    for name, template in templates.items():
        for variable, value in REDIRECTING_VARS.items():
            _job_vars, errors = awx_launch(template, {variable: value})
            assert [e for e in errors if "Variables %s are not allowed" % variable in e], (name, variable)
    assert awx_launch(rotate, {"rotate_tokens": ["okta", "undeclared"]})[1] == [
        "Value undeclared for 'rotate_tokens' expected to be one of ['okta', 'entra-id']."]
    assert awx_launch(rotate, {})[1] == ["'rotate_tokens' value missing"]
    assert awx_launch(templates["Resolver SCIM org9-elsewhere rotate"], {"rotate_tokens": "okta"})[1] == []

    job = runner_jobs(emulator, tmp_path / "job", {"url": emulator.url, "api_key": admin["api_key"]})

    def launch(template, playbook, launch_vars):
        job_vars, errors = awx_launch(template, launch_vars)
        assert errors == []
        run = job(playbook, extravars=job_vars, check=template["job_type"] == "check")
        assert (run.status, run.rc) == ("successful", 0), run.stdout.read()[-3000:]
        return run

    converge = launch(templates["Resolver SCIM org1-acme converge"], "converge.yml", {})
    before = {t["name"]: t["id"] for t in emulator.tokens()}
    rotation = launch(rotate, "rotate.yml", {"rotate_tokens": ["okta"]})
    after = {t["name"]: t["id"] for t in emulator.tokens()}
    assert sorted(after) == ["entra-id", "okta"]
    assert after["okta"] != before["okta"] and after["entra-id"] == before["entra-id"]
    # The survey's default: no report.
    assert awx_launch(drift, {})[0]["drift_report"] == ""
    quiet = launch(drift, "drift_check.yml", {})
    report = tmp_path / "job" / "drift.json"
    gate = launch(drift, "drift_check.yml", {"drift_report": str(report)})
    assert json.loads(report.read_text())["drifted"] is False
    assert_nothing_left_behind([tmp_path / "job"], (converge, rotation, quiet, gate), emulator.secrets())


def configured_job(awx, calls, template):
    """What AWX would run for a template: its extra vars and the store credential's type and inputs as recorded."""
    job_template = job_templates(calls)[template]
    store_name = job_template["credentials"][1]
    credential = next(c for c in created(calls, "credential") if c["name"] == store_name)
    types = {t["name"]: t for t in created(calls, "credential_type")}
    return job_template["extra_vars"], types.get(credential["credential_type"]), credential["inputs"]


@pytest.fixture(scope="module")
def openbao_tls(tmp_path_factory):
    """An OpenBao with a certificate from its own CA, which only the store credential's ca_cert makes trusted."""
    server = store_servers.OpenBao(tmp_path_factory.mktemp("openbao-awx"), tls=True)
    yield server
    server.close()


@pytest.mark.xdist_group("awx_hashi_vault")
@pytest.mark.filterwarnings("ignore:This process .* is multi-threaded:DeprecationWarning")
@pytest.mark.parametrize("auth", [pytest.param("approle", marks=pytest.mark.exhaustive), "token"])
def test_a_hashi_vault_job_as_configured_converges_into_vault(awx, emulator, openbao_tls, store_collections,
                                                              tmp_path, auth):
    """awx_configure.yml's converge template run the way AWX runs it: its extra vars, the Resolver credential and
    the Vault credential injected by the recorded credential type (CA file, env, AppRole as extra vars)."""
    hvac = pytest.importorskip("hvac")
    inputs = {"url": openbao_tls.url, "ca_cert": pathlib.Path(openbao_tls.ca_cert).read_text()}
    policy = "awx-" + auth
    openbao_tls.token(POLICY.replace("resolver-scim", "awx-scim"), policy_name=policy)
    if auth == "approle":
        openbao_tls.cli("auth", "enable", "approle", check=False)
        openbao_tls.cli("write", "auth/approle/role/awx", "token_policies=" + policy, "token_ttl=10m")
        inputs["role_id"] = openbao_tls.json("read", "auth/approle/role/awx/role-id")["data"]["role_id"]
        inputs["secret_id"] = openbao_tls.json("write", "-f", "auth/approle/role/awx/secret-id")["data"]["secret_id"]
        store_secrets = [inputs["secret_id"]]
    else:
        inputs["token"] = openbao_tls.json("token create", "-ttl=1h", "-policy=" + policy)["auth"]["client_token"]
        store_secrets = [inputs["token"]]
    admin = emulator.member()
    rc, output, calls = awx(settings(
        {"host": "org1-acme", "credential_inputs": {"url": emulator.url, "api_key": admin["api_key"]}},
        resolver_awx_token_store="hashi_vault", resolver_awx_store_credential_inputs=inputs,
        resolver_awx_store_vars={"resolver_scim_hashi_vault_path_prefix": "awx-scim"}))
    assert rc == 0, output[-3000:]
    assert not [s for s in store_secrets + [admin["api_key"]] if s in output]

    job_vars, credential_type, store_inputs = configured_job(awx, calls, "Resolver SCIM org1-acme converge")
    (tmp_path / "job").mkdir()
    store_env, credential_vars = awx_injection(credential_type, store_inputs, str(tmp_path / "job"))
    store_env["ANSIBLE_COLLECTIONS_PATH"] = os.pathsep.join([os.environ.get("ANSIBLE_COLLECTIONS_PATH", ""),
                                                             store_collections])
    job = runner_jobs(emulator, tmp_path / "job", {"url": emulator.url, "api_key": admin["api_key"]},
                      store_env=store_env, job_vars=job_vars, credential_vars=credential_vars)
    mark = openbao_tls.audit_mark()
    converge = job("converge.yml")
    assert (converge.status, converge.rc) == ("successful", 0), converge.stdout.read()[-3000:]
    drift = job("drift_check.yml")
    assert drift.status == "successful" and drift.stats["changed"] == {}, drift.stdout.read()[-3000:]
    # The credential chose the auth method: AppRole logs in for each lookup or module run, a token never does.
    logins = [path for _operation, path in openbao_tls.requests_since(mark) if path == "auth/approle/login"]
    assert (len(logins) > 0) == (auth == "approle")

    client = hvac.Client(url=openbao_tls.url, token=openbao_tls.root_token, verify=openbao_tls.ca_cert)
    live = {t["name"]: t["id"] for t in emulator.tokens()}
    for name in ("okta", "entra-id"):
        stored = client.secrets.kv.v2.read_secret_version(path="awx-scim/org1-acme/" + name, mount_point="secret",
                                                          raise_on_deleted_version=True)["data"]["data"]
        assert stored["token_id"] == live[name]
    assert_nothing_left_behind([tmp_path / "job"], (converge, drift),
                               emulator.secrets() + store_secrets + [admin["api_key"]])


@pytest.mark.xdist_group("aws_secretsmanager")
@pytest.mark.filterwarnings("ignore:This process .* is multi-threaded:DeprecationWarning")
def test_an_aws_job_as_configured_converges_into_secrets_manager(awx, emulator, moto, store_collections, tmp_path):
    """The same with AWX's own "Amazon Web Services" credential: its key pair in AWS_ACCESS_KEY_ID and
    AWS_SECRET_ACCESS_KEY, the region (and, here, moto's endpoint) from the template's extra vars."""
    writer = moto.keys["writer"]
    admin = emulator.member()
    rc, output, calls = awx(settings(
        {"host": "org1-acme", "credential_inputs": {"url": emulator.url, "api_key": admin["api_key"]}},
        resolver_awx_token_store="aws_secretsmanager",
        resolver_awx_store_credential_inputs={"username": writer[0], "password": writer[1]},
        resolver_awx_store_vars={"resolver_scim_aws_region": "us-east-1", "resolver_scim_aws_endpoint_url": moto.url,
                                 "resolver_scim_aws_secret_prefix": "awx-scim/"}))
    assert rc == 0, output[-3000:]
    assert writer[1] not in output and admin["api_key"] not in output

    job_vars, credential_type, store_inputs = configured_job(awx, calls, "Resolver SCIM org1-acme converge")
    assert credential_type is None  # AWX's own type
    store_env = aws_inject(store_inputs)
    # Only the injected key: no configuration file, profile or instance metadata of this machine.
    store_env.update(AWS_CONFIG_FILE=os.devnull, AWS_SHARED_CREDENTIALS_FILE=os.devnull,
                     AWS_EC2_METADATA_DISABLED="true", ANSIBLE_COLLECTIONS_PATH=os.pathsep.join(
                         [os.environ.get("ANSIBLE_COLLECTIONS_PATH", ""), store_collections]))
    (tmp_path / "job").mkdir()
    job = runner_jobs(emulator, tmp_path / "job", {"url": emulator.url, "api_key": admin["api_key"]},
                      store_env=store_env, job_vars=job_vars)
    converge = job("converge.yml")
    assert (converge.status, converge.rc) == ("successful", 0), converge.stdout.read()[-3000:]
    drift = job("drift_check.yml")
    assert drift.status == "successful" and drift.stats["changed"] == {}, drift.stdout.read()[-3000:]

    client = moto.client()
    live = {t["name"]: t["id"] for t in emulator.tokens()}
    for name in ("okta", "entra-id"):
        stored = json.loads(client.get_secret_value(SecretId="awx-scim/org1-acme/" + name)["SecretString"])
        assert stored["token_id"] == live[name]
    assert_nothing_left_behind([tmp_path / "job"], (converge, drift), emulator.secrets() + [writer[1]])
