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
# AWX masks an environment variable in a job's stored environment when its name matches this (build_safe_env).
HIDDEN_ENV = re.compile(r"API|TOKEN|KEY|SECRET|PASS", re.IGNORECASE)


def load_credential_type():
    with open(CREDENTIAL_TYPE, encoding="utf-8") as handle:
        return yaml.safe_load(handle)


def awx_inject(credential_type, inputs):
    """The environment AWX injects for a credential: only the fields it carries are defined, a missing boolean
    is false, and each template renders in a sandbox where an undefined field is the empty string."""
    namespace = dict(inputs)
    for field in credential_type["inputs"]["fields"]:
        if field["type"] == "boolean" and field["id"] not in inputs:
            namespace[field["id"]] = False
    sandbox = ImmutableSandboxedEnvironment()
    return {name: sandbox.from_string(template).render(**namespace)
            for name, template in credential_type["injectors"]["env"].items()}


def test_credential_type_injects_every_connection_fallback():
    from ansible_collections.resolver.scim.plugins.module_utils.module import CONNECTION_ARGUMENT_SPEC

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


def runner_jobs(emulator, tmp_path, inputs):
    """A job function running the collection's playbooks under ansible-runner, as AWX runs them with a credential
    of this collection's type holding ``inputs``; the log file and fact cache land in tmp_path."""
    env = awx_inject(load_credential_type(), inputs)
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

    def job(playbook, **kwargs):
        return ansible_runner.run(private_data_dir=str(tmp_path / "runner"), playbook=os.path.join(
            REPO, "playbooks", playbook), inventory=inventory, envvars=env, quiet=True, verbosity=4,
            cmdline="--diff", **kwargs)

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
