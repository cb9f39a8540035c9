# Copyright: (c) 2026, resolver.scim contributors
# GNU General Public License v3.0+ (see LICENSES/GPL-3.0-or-later.txt or https://www.gnu.org/licenses/gpl-3.0.txt)
"""AWX-style runs: the converge and drift_check playbooks under ansible-runner (the runner AWX uses), with the
credentials only in the environment, injected as the credential type in extensions/awx does.

Every job event, every artifact, the log file and a jsonfile fact cache are scanned for every API key,
password and token value the emulator issued (issue 6, item 4).
"""

import json
import os
import re
import sys

import ansible_runner
import pytest
import yaml
from jinja2.sandbox import ImmutableSandboxedEnvironment

import org_inventory

from conftest import REPO

# ansible-runner starts ansible-playbook with forkpty while the emulator's server thread runs; harmless here.
pytestmark = pytest.mark.filterwarnings("ignore:This process .* is multi-threaded:DeprecationWarning")

CREDENTIAL_TYPE = os.path.join(REPO, "extensions", "awx", "credential_type.yml")
VAULT_CREDENTIAL_TYPE = os.path.join(REPO, "extensions", "awx", "vault_credential_type.yml")
HASHI_VAULT_STORE = os.path.join(REPO, "roles", "scim_tokens", "tasks", "store", "hashi_vault")
# AWX masks an environment variable in a job's stored environment when its name matches this (build_safe_env).
HIDDEN_ENV = re.compile(r"API|TOKEN|KEY|SECRET|PASS", re.IGNORECASE)
# What AWX refuses in a custom credential type (awx/main/fields.py, CredentialTypeInputField and
# CredentialTypeInjectorField; awx/main/constants.py, ENV_BLOCKLIST), checked here as there is no AWX to ask.
AWX_FIELD_KEYS = {"id", "type", "format", "choices", "label", "help_text", "multiline", "secret", "ask_at_runtime",
                  "default"}
AWX_NAME = re.compile(r"^[a-zA-Z_]+[a-zA-Z0-9_]*$")
AWX_FILE_KEY = re.compile(r"^template(\.[a-zA-Z_]+[a-zA-Z0-9_]*)?$")
AWX_ENV_BLOCKLIST = {"VIRTUAL_ENV", "PATH", "PYTHONPATH", "JOB_ID", "INVENTORY_ID", "INVENTORY_SOURCE_ID",
                     "INVENTORY_UPDATE_ID", "AD_HOC_COMMAND_ID", "REST_API_URL", "REST_API_TOKEN", "MAX_EVENT_RES",
                     "CALLBACK_QUEUE", "CALLBACK_CONNECTION", "CACHE", "JOB_CALLBACK_DEBUG", "INVENTORY_HOSTVARS",
                     "AWX_HOST", "PROJECT_REVISION", "SUPERVISOR_CONFIG_PATH"}


def load_credential_type(path=CREDENTIAL_TYPE):
    with open(path, encoding="utf-8") as handle:
        return yaml.safe_load(handle)


def awx_injection(credential_type, inputs, files_dir=None):
    """(env, extra vars) AWX injects for a credential (CredentialType.inject_credential): only the fields it carries
    are defined, a missing boolean is false, each file template is written to a file in ``files_dir`` whose path is
    tower.filename, and each template renders in a sandbox where an undefined field is the empty string."""
    namespace = {name: value for name, value in inputs.items() if value != ""}
    for field in credential_type["inputs"]["fields"]:
        if field["type"] == "boolean" and field["id"] not in inputs:
            namespace[field["id"]] = False
    sandbox = ImmutableSandboxedEnvironment()
    injectors = credential_type["injectors"]
    for label, template in injectors.get("file", {}).items():
        assert label == "template", "only the single-file syntax is emulated here"
        path = os.path.join(files_dir, "credential-file-%d" % len(os.listdir(files_dir)))
        with open(path, "w", encoding="utf-8") as handle:
            handle.write(sandbox.from_string(template).render(**namespace))
        os.chmod(path, 0o600)
        namespace["tower"] = {"filename": path}
    # AWX leaves out (and logs) a variable it does not allow in a credential.
    env = {name: sandbox.from_string(template).render(**namespace) for name, template in injectors["env"].items()
           if not name.startswith("ANSIBLE_") and name not in AWX_ENV_BLOCKLIST}
    extra_vars = {name: sandbox.from_string(template).render(**namespace)
                  for name, template in injectors.get("extra_vars", {}).items()}
    return env, extra_vars


def awx_inject(credential_type, inputs):
    """The environment AWX injects for a credential of a type without file injectors."""
    return awx_injection(credential_type, inputs)[0]


def aws_inject(inputs):
    """The environment AWX's own "Amazon Web Services" credential type injects (awx_plugins.credentials.injectors.aws):
    username and password as the key pair, security_token as both session token variables when given."""
    env = {"AWS_ACCESS_KEY_ID": inputs.get("username", ""), "AWS_SECRET_ACCESS_KEY": inputs.get("password", "")}
    if "security_token" in inputs:
        env["AWS_SECURITY_TOKEN"] = env["AWS_SESSION_TOKEN"] = inputs["security_token"]
    return env


@pytest.mark.parametrize("path", [CREDENTIAL_TYPE, VAULT_CREDENTIAL_TYPE], ids=os.path.basename)
def test_credential_type_is_one_awx_accepts(path):
    from jinja2 import StrictUndefined

    credential_type = load_credential_type(path)
    assert set(credential_type) == {"name", "kind", "description", "inputs", "injectors"}
    assert credential_type["kind"] in ("cloud", "net")  # the kinds of a custom type
    fields = credential_type["inputs"]["fields"]
    ids = [field["id"] for field in fields]
    assert len(ids) == len(set(ids)) and "tower" not in ids and all(AWX_NAME.match(i) for i in ids)
    # A field named like a Jinja global (namespace, range, dict, ...) renders as that global when it is empty.
    assert not set(ids) & set(ImmutableSandboxedEnvironment().globals), ids
    for field in fields:
        assert set(field) <= AWX_FIELD_KEYS and {"id", "label"} <= set(field), field
        assert field["type"] in ("string", "boolean")
        if field["type"] != "string":
            assert not {"choices", "multiline", "format", "secret"} & set(field), field
        if "default" in field:
            assert isinstance(field["default"], {"string": str, "boolean": bool}[field["type"]])
    assert set(credential_type["inputs"].get("required", [])) <= set(ids)
    injectors = credential_type["injectors"]
    assert set(injectors) <= {"file", "env", "extra_vars"}
    assert all(AWX_FILE_KEY.match(key) for key in injectors.get("file", {}))
    for name, template in injectors["env"].items():
        assert AWX_NAME.match(name) and template.isascii()
        # AWX drops these from a job's environment, logging an error.
        assert not name.startswith("ANSIBLE_") and name not in AWX_ENV_BLOCKLIST, name
    assert all(AWX_NAME.match(name) for name in injectors.get("extra_vars", {}))
    # AWX renders every template with each field set and refuses the type when one names anything else.
    namespace = dict.fromkeys(ids, "EXAMPLE")
    if "template" in injectors.get("file", {}):
        namespace["tower"] = {"filename": "EXAMPLE_FILENAME"}
    sandbox = ImmutableSandboxedEnvironment(undefined=StrictUndefined)
    for kind in ("file", "env", "extra_vars"):
        for template in injectors.get(kind, {}).values():
            sandbox.from_string(template).render(**namespace)


def hashi_vault_store_reads():
    """(environment variables, role variables) the hashi_vault store reads: its task files, and its connection
    options, which the store's variables file vars/main/store/hashi_vault.yml defines once (scim_tokens_hashi_vault_*)."""
    texts = []
    for name in os.listdir(HASHI_VAULT_STORE):
        if name.endswith(".yml"):
            with open(os.path.join(HASHI_VAULT_STORE, name), encoding="utf-8") as handle:
                texts.append(handle.read())
    with open(os.path.join(REPO, "roles", "scim_tokens", "vars", "main", "store", "hashi_vault.yml"), encoding="utf-8") as handle:
        role_vars = yaml.safe_load(handle)
    texts += [str(value) for name, value in role_vars.items() if name.startswith("scim_tokens_hashi_vault_")]
    text = "\n".join(texts)
    return (set(re.findall(r"lookup\('ansible\.builtin\.env', '(\w+)'\)", text)),
            set(re.findall(r"\bresolver_scim_hashi_vault_\w+", text)))


def test_vault_credential_type_injects_what_the_hashi_vault_store_reads(tmp_path):
    credential_type = load_credential_type(VAULT_CREDENTIAL_TYPE)
    store_env, store_variables = hashi_vault_store_reads()
    assert {"VAULT_ADDR", "VAULT_TOKEN", "ANSIBLE_HASHI_VAULT_ROLE_ID", "ANSIBLE_HASHI_VAULT_SECRET_ID"} <= store_env
    injectors = credential_type["injectors"]
    # Each environment variable is one the store reads; the ANSIBLE_* ones AWX will not inject arrive as the role
    # variables they are the fallbacks of, with the auth method that makes the store use them.
    assert set(injectors["env"]) <= store_env
    # The sign-ins without a secret (jwt, kubernetes, cert, aws_iam) are set up without this credential (docs/awx.md).
    assert store_env - set(injectors["env"]) == {"ANSIBLE_HASHI_VAULT_ROLE_ID", "ANSIBLE_HASHI_VAULT_SECRET_ID",
                                                 "ANSIBLE_HASHI_VAULT_JWT", "ANSIBLE_HASHI_VAULT_CERT_AUTH_PUBLIC_KEY",
                                                 "ANSIBLE_HASHI_VAULT_CERT_AUTH_PRIVATE_KEY",
                                                 "ANSIBLE_HASHI_VAULT_AWS_IAM_SERVER_ID"}
    assert set(injectors["extra_vars"]) == {"resolver_scim_hashi_vault_auth_method",
                                            "resolver_scim_hashi_vault_role_id", "resolver_scim_hashi_vault_secret_id"}
    assert set(injectors["extra_vars"]) <= store_variables
    fields = {f["id"]: f for f in credential_type["inputs"]["fields"]}
    assert {name for name, f in fields.items() if f.get("secret")} == {"token", "secret_id"}
    # A secret in the environment is under a name AWX masks in the job's stored environment.
    assert [name for name, template in injectors["env"].items() if "token" in template] == ["VAULT_TOKEN"]
    assert HIDDEN_ENV.search("VAULT_TOKEN")

    token_env, token_vars = awx_injection(credential_type, {"url": "https://vault:8200", "token": "t"}, str(tmp_path))
    assert token_env == {"VAULT_ADDR": "https://vault:8200", "VAULT_TOKEN": "t", "VAULT_NAMESPACE": "",
                         "VAULT_CACERT": ""}
    assert token_vars == {"resolver_scim_hashi_vault_auth_method": "token", "resolver_scim_hashi_vault_role_id": "",
                          "resolver_scim_hashi_vault_secret_id": ""}
    approle_env, approle_vars = awx_injection(
        credential_type, {"url": "https://vault:8200", "role_id": "r", "secret_id": "s", "vault_namespace": "team",
                          "ca_cert": "-----BEGIN CERTIFICATE-----\n"}, str(tmp_path))
    assert approle_vars == {"resolver_scim_hashi_vault_auth_method": "approle",
                            "resolver_scim_hashi_vault_role_id": "r", "resolver_scim_hashi_vault_secret_id": "s"}
    assert approle_env["VAULT_TOKEN"] == "" and approle_env["VAULT_NAMESPACE"] == "team"
    with open(approle_env["VAULT_CACERT"], encoding="utf-8") as handle:
        assert handle.read() == "-----BEGIN CERTIFICATE-----\n"


def test_credential_type_injects_every_connection_fallback():
    from ansible_collections.resolver.scim.plugins.module_utils._module import CONNECTION_ARGUMENT_SPEC

    credential_type = load_credential_type()
    fields = {f["id"]: f for f in credential_type["inputs"]["fields"]}
    assert {name for name, f in fields.items() if f.get("secret")} == {"api_key", "password"}
    # Every variable that carries a secret field is one AWX masks in the job's stored environment.
    env = credential_type["injectors"]["env"]
    assert {name for name, template in env.items() if "api_key" in template or "password" in template} == {
        "RESOLVER_API_KEY", "RESOLVER_PASSWORD"}
    assert all(HIDDEN_ENV.search(name) for name in ("RESOLVER_API_KEY", "RESOLVER_PASSWORD"))
    fallbacks = {spec["fallback"][1][0] for spec in CONNECTION_ARGUMENT_SPEC.values() if "fallback" in spec}
    injected = set(credential_type["injectors"]["env"])
    assert injected <= fallbacks, injected - fallbacks
    # A credential created through the API without the TLS field still verifies certificates.
    assert awx_inject(credential_type, {"url": "https://x"})["RESOLVER_VALIDATE_CERTS"] == "true"
    assert awx_inject(credential_type, {"url": "https://x", "skip_tls_verify": True})["RESOLVER_VALIDATE_CERTS"] == "false"


def scan(paths, secrets):
    """(file, secret prefix) for every secret found in any file under the given paths."""
    found = []
    for root in paths:
        files = [root] if os.path.isfile(root) else [os.path.join(d, f) for d, _s, fs in os.walk(root) for f in fs]
        for path in files:
            with open(path, encoding="utf-8", errors="replace") as handle:
                text = handle.read()
            found += [(path, secret[:6]) for secret in secrets if secret in text]
    return found


def runner_jobs(emulator, tmp_path, inputs, store_env=None, job_vars=None, credential_vars=None):
    """A job function running the collection's playbooks under ansible-runner, as AWX runs them with a credential
    of this collection's type holding ``inputs``; the log file and fact cache land in tmp_path. A job template's
    extra vars are ``job_vars``; another credential adds ``store_env`` and its injected ``credential_vars``, which
    AWX hands over in a file of its own."""
    env = awx_inject(load_credential_type(), inputs)
    env.update(store_env or {})
    env.update({
        "ANSIBLE_PYTHON_INTERPRETER": sys.executable,
        "PATH": os.path.dirname(sys.executable) + os.pathsep + os.environ["PATH"],
        "ANSIBLE_LOG_PATH": str(tmp_path / "ansible.log"),
        # ansible-runner points the jsonfile fact cache into the job's artifacts (as AWX does), scanned with them.
        "ANSIBLE_CACHE_PLUGIN": "jsonfile",
        "NO_PROXY": "127.0.0.1,localhost,::1",
    })
    # The inventory carries no connection variable: only the injected environment does.
    host = {"scim_domain": org_inventory.org_hosts(emulator.seed, emulator.url, 1)["org1-acme"]["scim_domain"]}
    inventory = org_inventory.write_inventory(str(tmp_path / "inventory"), {"org1-acme": host},
                                              {"resolver_scim_token_store_dir": str(tmp_path / "store")})
    (tmp_path / "runner").mkdir(exist_ok=True)
    cmdline = "--diff"
    if credential_vars:
        (tmp_path / "credential-vars.yml").write_text(yaml.safe_dump(credential_vars))
        cmdline += " -e @%s" % (tmp_path / "credential-vars.yml")

    def job(playbook, extravars=None, check=False, **kwargs):
        # A job template of job type check runs with --check.
        return ansible_runner.run(private_data_dir=str(tmp_path / "runner"), playbook=os.path.join(
            REPO, "playbooks", playbook), inventory=inventory, envvars=env, quiet=True, verbosity=4,
            cmdline=cmdline + (" --check" if check else ""), extravars=dict(job_vars or {}, **(extravars or {})),
            **kwargs)

    return job


def assert_nothing_left_behind(job_dirs, runs, secrets):
    """No secret in any job event, artifact or log under ``job_dirs`` (each a runner_jobs tmp_path), but in the
    runner's `command` artifact under a name AWX masks."""
    events = [event for run in runs for event in run.events]
    assert any(e["event"].startswith("runner_on_") for e in events)
    assert [s[:6] for e in events for s in secrets if s in json.dumps(e)] == []
    artifacts = [str(job_dir / "runner" / "artifacts") for job_dir in job_dirs]
    logs = [str(job_dir / "ansible.log") for job_dir in job_dirs]
    assert all(os.path.getsize(log) > 0 for log in logs)
    assert sum(len(os.listdir(directory)) for directory in artifacts) == len(runs)
    command_files = [os.path.join(d, i, "command") for d in artifacts for i in os.listdir(d)]
    for path in command_files:
        with open(path, encoding="utf-8") as handle:
            leaked = {k for k, v in json.load(handle)["env"].items() if v in secrets}
        assert leaked and all(HIDDEN_ENV.search(k) for k in leaked), leaked
        os.remove(path)  # checked above: only under names AWX masks
    assert scan(artifacts + logs, secrets) == []


@pytest.mark.parametrize("auth", ["api_key", "session"])
def test_converge_under_ansible_runner_with_injected_credentials(emulator, tmp_path, auth):
    admin = emulator.member()
    inputs = {"url": emulator.url}
    if auth == "api_key":
        inputs["api_key"] = admin["api_key"]
    else:
        inputs.update(username=admin["email"], password=admin["password"], org_id="1")
    # Like AWX, the runner keeps the injected variables in the job's input (env/envvars), which AWX deletes after the
    # job; what a job leaves behind is its artifacts directory (events, stdout), scanned below. The runner's own
    # `command` artifact repeats the whole environment; AWX keeps that as the job's environment with every variable
    # whose name matches HIDDEN_ENV masked, which the credential type's secret variables must therefore match.
    job = runner_jobs(emulator, tmp_path, inputs)

    first = job("converge.yml")
    assert (first.status, first.rc) == ("successful", 0), first.stdout.read()[-3000:]
    assert first.stats["changed"]["org1-acme"] >= 1 and not first.stats["failures"]
    live = emulator.tokens()
    assert sorted(t["name"] for t in live) == ["entra-id", "okta"]

    again = job("converge.yml")
    assert again.status == "successful"
    assert again.stats["changed"] == {} and again.stats["ok"]["org1-acme"] > 0

    gate = job("drift_check.yml", extravars={"drift_report": str(tmp_path / "drift.json")})
    assert gate.status == "successful"
    with open(str(tmp_path / "drift.json"), encoding="utf-8") as handle:
        assert json.load(handle)["drifted"] is False

    secrets = emulator.secrets()
    assert admin["api_key"] in secrets and admin["password"] in secrets and len(secrets) >= 4
    assert_nothing_left_behind([tmp_path], (first, again, gate), secrets)


def test_failed_jobs_leave_no_secret_behind(emulator, tmp_path):
    """Issue 15, item 3: a job that fails after new tokens were issued and stored (Resolver refuses to revoke the
    old ones) and a job whose API key is wrong leave no key or token value in the events, artifacts or log."""
    admin = emulator.member()
    job = runner_jobs(emulator, tmp_path, {"url": emulator.url, "api_key": admin["api_key"]})
    first = job("converge.yml")
    assert first.status == "successful", first.stdout.read()[-3000:]

    emulator.age_tokens(705)
    emulator.faults({"method": "DELETE", "path": "^/user/scimTokens/", "count": 10, "status": 409})
    renewal = job("converge.yml")
    assert renewal.status == "failed" and renewal.stats["failures"] == {"org1-acme": 1}
    # It failed after issuing: both names have their old and their new token live, the new ones stored.
    assert sorted(t["name"] for t in emulator.tokens()) == ["entra-id", "entra-id", "okta", "okta"]
    emulator.faults()

    # Another job directory: ansible-runner keeps a job's environment in its private data directory.
    (tmp_path / "wrong").mkdir()
    wrong_key = {"url": emulator.url, "api_key": admin["api_key"] + "x"}
    wrong = runner_jobs(emulator, tmp_path / "wrong", wrong_key)("converge.yml")
    assert wrong.status == "failed"
    assert any("credential is wrong" in json.dumps(e) for e in wrong.events)

    secrets = emulator.secrets()
    assert admin["api_key"] in secrets and len(secrets) >= 4
    assert_nothing_left_behind([tmp_path, tmp_path / "wrong"], (first, renewal, wrong), secrets + [wrong_key["api_key"]])
