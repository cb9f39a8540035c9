# Copyright: (c) 2026, resolver.scim contributors
# GNU General Public License v3.0+ (see LICENSES/GPL-3.0-or-later.txt or https://www.gnu.org/licenses/gpl-3.0.txt)
"""Signing in to Entra ID without a client secret (issue 24), through real ansible-playbook and ansible-runner runs
against the stand-in, which verifies client assertions as Entra ID does: each way hands a token over end to end, at
module and role level; each failure says what to fix; no key, passphrase, assertion or access token is left in the
-vvvv output, the log or the runner's events and artifacts."""

import os

import pytest

import entra_credentials
import test_awx as awx
from conftest import REPO

ENTRA = "resolver.scim.entra_provisioning"
SUBJECT = "system:serviceaccount:awx:resolver-scim"
ENTRA_CREDENTIAL_TYPE = os.path.join(REPO, "extensions", "awx", "entra_credential_type.yml")

pytestmark = pytest.mark.filterwarnings("ignore:This process .* is multi-threaded:DeprecationWarning")


class Identities:
    """The secret-free identities of one test: a registered certificate, a trusted issuer's token file, the IMDS
    stand-in; ``connection(way)`` gives the options (and ``env`` the environment) of each way."""

    def __init__(self, emulator, tmp_path):
        self.emulator = emulator
        self.key = entra_credentials.new_key()
        self.certificate = entra_credentials.certificate_pem(self.key)
        emulator.register_certificate(self.certificate)
        self.pem_path = tmp_path / "provisioner.pem"
        self.pem_path.write_text(entra_credentials.key_pem(self.key) + self.certificate)
        self.issuer = entra_credentials.Issuer()
        emulator.trust_issuer(self.issuer, SUBJECT)
        self.token_file = tmp_path / "azure-identity-token"
        self.token_file.write_text(self.issuer.token(SUBJECT))
        self.env = {"AZURE_POD_IDENTITY_AUTHORITY_HOST": emulator.base + "/_entra/imds"}

    def connection(self, way):
        ways = {
            "certificate": {"client_certificate_path": str(self.pem_path)},
            "certificate with chain": {"client_certificate": self.pem_path.read_text(), "send_certificate_chain": True},
            "workload identity": {"federated_token_file": str(self.token_file)},
            "system-assigned managed identity": {"managed_identity": True, "tenant_id": None, "client_id": None},
            "user-assigned managed identity": {"managed_identity": True, "tenant_id": None},
        }
        return self.emulator.entra_connection(client_secret=None, **ways[way])

    def secrets(self):
        """What must never be shown: the key (its PEM body), every assertion, access token and SCIM token issued."""
        key_body = entra_credentials.key_pem(self.key).splitlines()[1:-1]
        return self.emulator.secrets() + key_body + [self.token_file.read_text()]


def leaked(text, secrets):
    return [secret[:8] for secret in secrets if secret in text]


def handover_args(emulator, token):
    return {"service_principal_id": emulator.service_principal()["id"], "tenant_url": emulator.base + "/scim/",
            "secret_token": token["token"], "token_id": token["id"]}


WAYS = ["certificate", "certificate with chain", "workload identity", "system-assigned managed identity",
        "user-assigned managed identity"]


@pytest.mark.parametrize("way", WAYS)
def test_each_way_hands_a_token_over_at_module_level(ansible, emulator, tmp_path, way):
    identities = Identities(emulator, tmp_path)
    emulator.managed_identities(system="provisioner", user_assigned=["provisioner"])
    token = emulator.issue_token()
    emulator.clear_log()
    result = ansible.task(ENTRA, handover_args(emulator, token), env=identities.env, verbosity=4,
                          module_defaults={"group/resolver.scim.entra": identities.connection(way)})
    assert result["_status"] == "ok", result.get("msg") or result["_output"][-3000:]
    assert result["credentials_set"] is True and result["validated"] is True
    state = emulator.entra("GET", "service_principals/%s/can_provision" % emulator.service_principal()["id"])
    assert state["can_provision"] is True and state["token_id"] == token["id"]
    sign_in = [(r["method"], r["path"].rsplit("/", 1)[-1]) for r in emulator.log()
               if r["path"].startswith(("/_entra/login/", "/_entra/imds/"))]
    # docs/entra-id.md: discovery + token for an app registration, one IMDS request for a managed identity
    assert sign_in == ([("GET", "token")] if "managed" in way else [("GET", "openid-configuration"), ("POST", "token")])
    assert leaked(result["_output"], identities.secrets()) == []


def test_failures_say_what_to_fix_and_show_no_credential(ansible, emulator, tmp_path):
    identities = Identities(emulator, tmp_path)
    unregistered, expired = entra_credentials.new_key(), entra_credentials.new_key()
    expired_certificate = entra_credentials.certificate_pem(expired, expired=True)
    emulator.register_certificate(expired_certificate)
    untrusted = tmp_path / "untrusted-token"
    untrusted.write_text(identities.issuer.token("system:serviceaccount:default:intruder"))
    empty = tmp_path / "empty-token"
    empty.write_text("")
    emulator.managed_identities()  # this "Azure resource" has none
    cases = {
        "wrong thumbprint": ({"client_certificate": entra_credentials.key_pem(unregistered)
                              + entra_credentials.certificate_pem(unregistered)},
                             "AADSTS700027: Client assertion contains an invalid signature. [Reason - The key was not "
                             "found."),
        "expired certificate": ({"client_certificate": entra_credentials.key_pem(expired) + expired_certificate},
                                "[Reason - The key used is expired."),
        "wrong key": ({"client_certificate": entra_credentials.key_pem(unregistered) + identities.certificate},
                      "none of its certificates is the private key's"),
        "wrong passphrase": ({"client_certificate": entra_credentials.key_pem(identities.key, "right")
                              + identities.certificate, "client_certificate_password": "{{ wrong_passphrase }}"},
                             "client_certificate_password is wrong"),
        "untrusted subject": ({"federated_token_file": str(untrusted)},
                              "AADSTS700213: No matching federated identity record found for presented assertion "
                              "subject 'system:serviceaccount:default:intruder'"),
        "empty token file": ({"federated_token_file": str(empty)}, "is empty: the token issuer has not written it"),
        "missing token file": ({"federated_token_file": str(tmp_path / "absent")}, "does not exist or is not a file"),
        "no managed identity": ({"managed_identity": True, "tenant_id": None, "client_id": None},
                                "Identity not found). Check that the Azure resource that runs this has a managed "
                                "identity"),
    }
    token = emulator.issue_token()
    tasks = [{"name": name, ENTRA: dict(handover_args(emulator, token), **emulator.entra_connection(
        client_secret=None, **options)), "ignore_errors": True} for name, (options, _message) in cases.items()]
    log_path = tmp_path / "ansible.log"
    variables = tmp_path / "secrets.yml"
    variables.write_text("wrong_passphrase: hunter2-wrong-passphrase\n")
    env = dict(identities.env, ANSIBLE_LOG_PATH=str(log_path))
    rc, results, output = ansible.playbook([{"hosts": "localhost", "gather_facts": False, "tasks": tasks}],
                                           verbosity=4, env=env, extra_args=["-e", "@%s" % variables])
    assert rc == 0, output[-3000:]
    by_task = {r["task"]: r for r in results}
    for name, (_options, message) in cases.items():
        assert by_task[name]["status"] == "failed", name
        assert message in by_task[name]["result"]["msg"], (name, by_task[name]["result"]["msg"])
    assert "Traceback" not in output
    secrets = identities.secrets() + entra_credentials.key_pem(unregistered).splitlines()[1:-1] + [
        untrusted.read_text(), "hunter2-wrong-passphrase"]
    assert leaked(output + log_path.read_text(), secrets) == []
    assert emulator.entra("GET", "service_principals/%s/history" % emulator.service_principal()["id"])["held"] == []


@pytest.mark.parametrize("way", ["certificate", pytest.param("workload identity", marks=pytest.mark.exhaustive),
                                 pytest.param("system-assigned managed identity", marks=pytest.mark.exhaustive)])
def test_role_handover_without_a_secret(ansible, emulator, tmp_path, way):
    identities = Identities(emulator, tmp_path)
    emulator.managed_identities(system="provisioner")
    sp = emulator.service_principal()
    group_vars = {"resolver_scim_tokens": [{"name": "entra", "email_domains": ["{{ scim_domain }}.com"],
                                            "entra": {"service_principal_id": sp["id"]}}]}
    group_vars.update(("resolver_scim_entra_" + key, value) for key, value in identities.connection(way).items()
                      if key != "timeout")
    inventory = ansible.inventory(orgs=1, group_vars=group_vars)
    rc, _results, output = ansible.run_playbook("converge", inventory, verbosity=4, env=identities.env)
    assert rc == 0, output[-3000:]
    live = emulator.tokens(name="entra")
    state = emulator.entra("GET", "service_principals/%s/can_provision" % sp["id"])
    assert len(live) == 1 and state["can_provision"] is True and state["token_id"] == live[0]["id"]
    emulator.clear_log()
    rc, results, output = ansible.run_playbook("converge", inventory, env=identities.env)
    assert rc == 0, output[-3000:]
    # Nothing changes: the IdP check's sign-in (a managed identity's is a GET) and its test of the saved credentials
    # are the only POSTs.
    posts = {r["path"].rsplit("/", 1)[-1] for r in emulator.mutating()}
    assert "validateCredentials" in posts and posts <= {"token", "validateCredentials"}, output[-3000:]
    assert leaked(output, identities.secrets()) == []


def test_entra_credential_type_is_one_awx_accepts():
    awx.test_credential_type_is_one_awx_accepts(ENTRA_CREDENTIAL_TYPE)
    credential_type = awx.load_credential_type(ENTRA_CREDENTIAL_TYPE)
    # The key is a file; only its path is in the environment.
    assert credential_type["injectors"]["file"] == {"template": "{{ certificate }}"}
    assert credential_type["injectors"]["env"]["AZURE_CLIENT_CERTIFICATE_PATH"] == "{{ tower.filename }}"
    assert not [name for name, template in credential_type["injectors"]["env"].items() if "certificate }}" in template]


def test_awx_job_with_the_certificate_injected_as_a_file(emulator, tmp_path):
    identities = Identities(emulator, tmp_path)
    (tmp_path / "files").mkdir()
    entra_env, _extra = awx.awx_injection(awx.load_credential_type(ENTRA_CREDENTIAL_TYPE), {
        "tenant_id": emulator.entra_connection()["tenant_id"], "client_id": emulator.app()["client_id"],
        "certificate": identities.pem_path.read_text(), "authority_host": emulator.server.login_url + "/_entra/login"},
        str(tmp_path / "files"))
    assert entra_env["AZURE_CLIENT_CERTIFICATE_PATH"].startswith(str(tmp_path / "files"))
    sp = emulator.service_principal()
    job_vars = {"resolver_scim_tokens": [{"name": "entra", "email_domains": ["{{ scim_domain }}.com"],
                                          "entra": {"service_principal_id": sp["id"]}}],
                "resolver_scim_entra_graph_url": emulator.base + "/_entra/graph",
                "resolver_scim_entra_ca_path": emulator.server.login_ca}
    admin = emulator.member()
    job = awx.runner_jobs(emulator, tmp_path, {"url": emulator.url, "api_key": admin["api_key"]},
                          store_env=entra_env, job_vars=job_vars)
    first = job("converge.yml")
    assert (first.status, first.rc) == ("successful", 0), first.stdout.read()[-3000:]
    state = emulator.entra("GET", "service_principals/%s/can_provision" % sp["id"])
    assert state["can_provision"] is True and state["token_id"] == emulator.tokens(name="entra")[0]["id"]
    awx.assert_nothing_left_behind([tmp_path], (first,), identities.secrets())
