# Copyright: (c) 2026, resolver.scim contributors
# GNU General Public License v3.0+ (see LICENSES/GPL-3.0-or-later.txt or https://www.gnu.org/licenses/gpl-3.0.txt)
"""The hashi_vault store's verbs (roles/scim_tokens/tasks/store/hashi_vault) run by real ansible-playbook against a
real OpenBao dev server on loopback, with community.hashi_vault from the `ansible` wheel (make store-collections).

Requests are counted with OpenBao's audit log. Every run is -vvvv, and its output and recorded results are scanned
for every token value and Vault credential of the test.
"""

import collections
import concurrent.futures
import pathlib
import re
import secrets
import stat
import sys
import time

import pytest

import store_servers
from conftest import Ansible
from store_servers import SHOW_KNOWN, SHOW_RECORDS, StoreRuns, item, shadow_library, store_play, token_value, verb

pytestmark = pytest.mark.xdist_group("hashi_vault")

STORE = "hashi_vault"
# What a token may do under resolver-scim/ (docs/stores.md gives the same policy).
POLICY = """
path "secret/data/resolver-scim/*" { capabilities = ["create", "update", "read", "delete"] }
path "secret/metadata/resolver-scim/*" { capabilities = ["list", "read"] }
"""
READ_ONLY_POLICY = """
path "secret/data/resolver-scim/*" { capabilities = ["read"] }
path "secret/metadata/resolver-scim/*" { capabilities = ["list", "read"] }
"""


VaultRun = collections.namedtuple("VaultRun", "rc results output requests")


class VaultRuns(StoreRuns):
    """ansible-playbook runs of the store's verbs for one org, with the secrets to scan their output for."""

    def __init__(self, tmp_path, openbao, collections):
        super().__init__(Ansible(tmp_path, None), tmp_path, collections)
        self.openbao = openbao
        self.token = openbao.token(POLICY)
        self.secrets = {openbao.root_token, self.token}

    def settings(self, **extra):
        settings = {"resolver_scim_hashi_vault_url": self.openbao.url, "resolver_scim_hashi_vault_token": self.token}
        settings.update(extra)
        return {k: v for k, v in settings.items() if v is not None}

    def run(self, tasks, settings=None, collections=True, env=None, verbosity=4):
        """Run tasks over the org's host; return a VaultRun with the requests Vault served meanwhile."""
        extra = self.collections if collections else None
        environment = {"ANSIBLE_COLLECTIONS_PATH": store_servers.collections_path(extra)}
        environment.update(env or {})
        mark = self.openbao.audit_mark()
        rc, results, output = self.ansible.playbook(
            store_play(self.settings() if settings is None else settings, tasks, org=self.org),
            verbosity=verbosity, env=environment, inventory=self.org + ",")
        return VaultRun(rc, results, output, self.openbao.requests_since(mark))

    def path(self, key):
        return "secret/resolver-scim/%s/%s" % (self.org, key)


@pytest.fixture
def vault(tmp_path, openbao, store_collections):
    return VaultRuns(tmp_path, openbao, store_collections)


def known(results):
    return next(r for r in reversed(results) if r["task"] == "known")["result"]["scim_tokens_store_org_known"]


def failure(results):
    return [r for r in results if r["status"] == "failed"][-1]["result"]["msg"]


def test_write_read_new_version_remove(vault):
    okta_v1, entra_v1, okta_v2 = token_value(), token_value(), token_value()
    vault.secrets |= {okta_v1, entra_v1, okta_v2}

    run = vault.run([verb(STORE, "check")])
    assert run.rc == 0, run.output[-3000:]
    # One question to Vault: what may these credentials do under the org's path. The org has no secret yet, so
    # the check then marks it as known to the store, before any token is issued.
    marker = "secret/data/resolver-scim/%s/.org" % vault.org
    assert run.requests == [("update", "sys/capabilities-self"), ("create", marker)]
    assert set(vault.openbao.json("kv get", vault.path(".org"))["data"]["data"]) == {"written_by", "org", "written"}

    # The store knows the org now, though it holds no token: the read is one LIST, and the check writes no marker.
    run = vault.run([verb(STORE, "read"), SHOW_RECORDS, *SHOW_KNOWN, verb(STORE, "check")])
    assert run.rc == 0, run.output[-3000:]
    assert vault.records(run.results) == [] and known(run.results) is True
    assert run.requests == [("list", "secret/metadata/resolver-scim/%s/" % vault.org),
                            ("update", "sys/capabilities-self")]

    run = vault.run([verb(STORE, "write", scim_tokens_store_items=[
        item("okta", okta_v1, 101), item("Entra ID", entra_v1, 102, key="entra-id", status="pending",
                                         idp_token_id=102)])])
    assert run.rc == 0, run.output[-3000:]
    assert [r["status"] for r in run.results if r["task"].startswith("Write each")] == ["ok"]
    assert run.requests == [("create", "secret/data/resolver-scim/%s/okta" % vault.org),
                            ("create", "secret/data/resolver-scim/%s/entra-id" % vault.org)]
    stored = vault.openbao.json("kv get", vault.path("okta"))["data"]
    assert stored["data"] == {"token": okta_v1, "name": "okta", "token_id": 101, "email_domains": ["acme.com"],
                              "expires": "2028-06-01T00:00:00Z", "org": "acme", "org_id": 1, "status": "current"}

    run = vault.run([verb(STORE, "read"), SHOW_RECORDS])
    assert run.rc == 0, run.output[-3000:]
    assert vault.records(run.results) == [
        {"name": "Entra ID", "token_id": 102, "org_id": 1, "email_domains": ["acme.com"],
         "expires": "2028-06-01T00:00:00Z", "status": "pending", "idp_token_id": 102,
         "source": "vault kv2 " + vault.path("entra-id"), "key": "entra-id"},
        {"name": "okta", "token_id": 101, "org_id": 1, "email_domains": ["acme.com"],
         "expires": "2028-06-01T00:00:00Z", "status": "current", "source": "vault kv2 " + vault.path("okta"), "key": "okta"}]
    # One LIST, then per secret one metadata read and one data read.
    assert sorted(operation for operation, path in run.requests) == ["list", "read", "read", "read", "read"]

    # A renewal writes a new version; KV v2 keeps the one before it for rollback.
    run = vault.run([verb(STORE, "write", scim_tokens_store_items=[item("okta", okta_v2, 103)])])
    assert run.rc == 0, run.output[-3000:]
    assert run.requests == [("update", "secret/data/resolver-scim/%s/okta" % vault.org)]
    assert vault.openbao.json("kv get", vault.path("okta"))["data"]["metadata"]["version"] == 2
    assert vault.openbao.json("kv get", "-version=1", vault.path("okta"))["data"]["data"]["token"] == okta_v1
    run = vault.run([verb(STORE, "read"), SHOW_RECORDS])
    assert {r["name"]: r["token_id"] for r in vault.records(run.results)} == {"Entra ID": 102, "okta": 103}

    # Remove soft-deletes the latest version: reads skip the secret, every version can still be recovered.
    run = vault.run([verb(STORE, "remove",
                          scim_tokens_store_names=[{"name": "okta", "store_key": "okta"}])])
    assert run.rc == 0, run.output[-3000:]
    assert run.requests == [("delete", "secret/data/resolver-scim/%s/okta" % vault.org)]
    run = vault.run([verb(STORE, "read"), SHOW_RECORDS])
    assert run.rc == 0, run.output[-3000:]
    assert [r["name"] for r in vault.records(run.results)] == ["Entra ID"]
    assert sorted(operation for operation, path in run.requests) == ["list", "read", "read", "read"]
    metadata = vault.openbao.json("kv metadata get", vault.path("okta"))["data"]
    assert metadata["versions"]["2"]["deletion_time"] and not metadata["versions"]["1"]["deletion_time"]
    vault.openbao.cli("kv", "undelete", "-versions=2", vault.path("okta"))
    run = vault.run([verb(STORE, "read"), SHOW_RECORDS])
    assert {r["name"]: r["token_id"] for r in vault.records(run.results)} == {"Entra ID": 102, "okta": 103}

    vault.assert_clean()


def test_an_org_without_secrets_reads_no_records(vault):
    run = vault.run([verb(STORE, "read"), SHOW_RECORDS])
    assert run.rc == 0, run.output[-3000:]
    assert vault.records(run.results) == []
    # Vault answers the LIST of an empty path with 404: one more question tells that from a failure.
    assert run.requests == [("list", "secret/metadata/resolver-scim/%s/" % vault.org),
                            ("update", "sys/capabilities-self")]
    # The store never saw the org, which the role's plan must know (a store asked in the wrong place reads so).
    run = vault.run([verb(STORE, "read"), *SHOW_KNOWN])
    assert known(run.results) is False
    source = next(r for r in run.results if r["task"] == "source")["result"]["scim_tokens_store_org_source"]
    assert source == "vault kv2 secret/resolver-scim/%s/ at %s" % (vault.org, vault.openbao.url)
    vault.assert_clean()


def test_approle_auth(vault, openbao):
    role_id, secret_id = openbao.approle(POLICY)
    value = token_value()
    vault.secrets |= {secret_id, value}
    settings = vault.settings(resolver_scim_hashi_vault_token=None, resolver_scim_hashi_vault_auth_method="approle",
                              resolver_scim_hashi_vault_role_id=role_id, resolver_scim_hashi_vault_secret_id=secret_id)

    run = vault.run(
        [verb(STORE, "check"), verb(STORE, "write", scim_tokens_store_items=[item("okta", value, 7)]),
         verb(STORE, "read"), SHOW_RECORDS], settings=settings)
    assert run.rc == 0, run.output[-3000:]
    assert [r["token_id"] for r in vault.records(run.results)] == [7]
    # Each lookup or module run logs in once: check 2 (its question, the new org's marker), write 1, read 3 (list,
    # metadata, data).
    assert [path for operation, path in run.requests].count("auth/approle/login") == 6
    vault.assert_clean()


def test_check_and_read_name_the_missing_collection(vault):
    for verb_name in ("check", "read"):
        run = vault.run([verb(STORE, verb_name)], collections=False)
        assert run.rc != 0
        message = failure(run.results)
        assert "the community.hashi_vault collection is not installed" in message
        assert "ansible-galaxy collection install community.hashi_vault" in message
        assert run.requests == []
    vault.assert_clean()


def test_check_names_the_missing_hvac_library(vault, tmp_path):
    shadow = shadow_library(str(tmp_path / "no-hvac"), "hvac")
    run = vault.run([verb(STORE, "check")], env={"PYTHONPATH": shadow})
    assert run.rc != 0
    message = failure(run.results)
    assert "the Python library hvac is missing" in message
    assert "%s -m pip install hvac" % sys.executable in message
    assert run.requests == []
    vault.assert_clean()


def test_check_proves_the_modules_python_too(vault, tmp_path):
    """The lookups run in the controller's Python; modules in the host's, here one that cannot import hvac."""
    shadow = shadow_library(str(tmp_path / "no-hvac"), "hvac")
    python = tmp_path / "python-without-hvac"
    python.write_text('#!/bin/sh\nPYTHONPATH=%s exec %s "$@"\n' % (shadow, sys.executable))
    python.chmod(python.stat().st_mode | stat.S_IEXEC)
    run = vault.run([verb(STORE, "check")],
                    env={"ANSIBLE_PYTHON_INTERPRETER": str(python)})
    assert run.rc != 0
    # The lookups passed; the module run failed, and the explanation names the library.
    failed_tasks = [r["task"] for r in run.results if r["status"] == "failed"]
    assert failed_tasks[0] == "Ask Vault about the org's path through a module"
    assert "the Python library hvac is missing" in failure(run.results)
    vault.assert_clean()


def test_credentials_without_the_policy_fail_check_read_and_write(vault, openbao):
    """A token Vault knows but whose policy does not cover the org (403 on the paths themselves)."""
    vault.token = openbao.token()
    vault.secrets.add(vault.token)
    run = vault.run([verb(STORE, "check")])
    assert run.rc != 0
    message = failure(run.results)
    assert "do too little for the hashi_vault store" in message
    assert ("create, update, read, delete on secret/data/resolver-scim/%s/* (to write, read and remove token "
            "values; has: deny)" % vault.org) in message
    assert run.requests == [("update", "sys/capabilities-self")]

    run = vault.run([verb(STORE, "read")])
    assert run.rc != 0
    assert "may not list secret/metadata/resolver-scim/%s/" % vault.org in failure(run.results)

    vault.token = openbao.token(READ_ONLY_POLICY)
    vault.secrets.add(vault.token)
    value = token_value()
    run = vault.run([verb(STORE, "write", scim_tokens_store_items=[
        item("okta", value, 987654321)])])
    assert run.rc != 0
    message = failure(run.results)
    assert "Vault refused the credentials (token auth)" in message
    # The module masks every value of its no_log data in its messages, the token name included.
    assert "Permission denied writing to 'resolver-scim/%s/" % vault.org in message
    vault.assert_clean(value)


def test_check_fails_for_a_token_vault_does_not_know(vault):
    vault.token = "s." + secrets.token_urlsafe(18)
    vault.secrets.add(vault.token)
    run = vault.run([verb(STORE, "check")])
    assert run.rc != 0
    message = failure(run.results)
    assert "Vault refused the credentials (token auth)" in message
    assert "permission denied" in message
    vault.assert_clean()


def test_check_and_read_fail_while_vault_is_sealed(vault, openbao):
    openbao.cli("operator", "seal")
    try:
        for verb_name in ("check", "read"):
            run = vault.run([verb(STORE, verb_name)])
            assert run.rc != 0
            assert "Vault is sealed; unseal it, nothing was issued." in failure(run.results)
    finally:
        openbao.cli("operator", "unseal", openbao.unseal_key())
    vault.assert_clean()


def test_check_fails_when_vault_cannot_be_reached(vault):
    run = vault.run(
        [verb(STORE, "check")],
        settings=vault.settings(resolver_scim_hashi_vault_url="http://127.0.0.1:%d" % store_servers.free_port()))
    assert run.rc != 0
    assert "Vault cannot be reached; check resolver_scim_hashi_vault_url" in failure(run.results)
    vault.assert_clean()


def test_credentials_are_not_sent_over_plain_http_to_a_remote_host(vault, openbao):
    # The IPv4-mapped form of loopback: the guard takes it for a remote host, and the test still never leaves it.
    url = openbao.url.replace("127.0.0.1", "[::ffff:127.0.0.1]")
    for verb_name in ("check", "read"):
        run = vault.run([verb(STORE, verb_name)],
                        settings=vault.settings(resolver_scim_hashi_vault_url=url))
        assert run.rc != 0
        assert "must be an https:// URL" in failure(run.results) or "with an https:// URL" in failure(run.results)
        assert run.requests == []
    vault.assert_clean()


def test_a_malformed_record_fails_the_read_naming_its_location_only(vault, openbao):
    inside = token_value()
    openbao.cli("kv", "put", vault.path("hand-made"), "token=" + inside, "note=no token_id here")
    run = vault.run([verb(STORE, "read")])
    assert run.rc != 0
    message = failure(run.results)
    assert "Not a resolver.scim token record" in message
    assert "vault kv2 %s" % vault.path("hand-made") in message
    vault.assert_clean(inside, "no token_id here")


def test_tls_is_verified_by_default(tmp_path_factory, vault):
    server = store_servers.OpenBao(tmp_path_factory.mktemp("openbao-tls"), tls=True)
    try:
        vault.openbao = server
        vault.token = server.token(POLICY)
        vault.secrets |= {server.root_token, vault.token}
        run = vault.run([verb(STORE, "check")])
        assert run.rc != 0
        assert "the TLS connection failed; give the CA" in failure(run.results)
        run = vault.run([verb(STORE, "check")],
                        settings=vault.settings(resolver_scim_hashi_vault_ca_cert=server.ca_cert))
        assert run.rc == 0, run.output[-3000:]
        vault.assert_clean()
    finally:
        server.close()


def put_lock(vault, **data):
    path = vault.path(".lock")
    vault.openbao.cli("kv", "put", path, *("%s=%s" % item for item in data.items()))


def test_two_runs_take_turns_on_the_store_lock(vault, tmp_path):
    """Two runs of the same org started together: check-and-set lets one in, the other waits for its release."""
    def locked_section(name):
        return [verb(STORE, "lock"),
                {"name": "enter", "ansible.builtin.copy": {"content": "{{ now().timestamp() }}",
                                                           "dest": str(tmp_path / (name + ".start"))}},
                {"name": "hold", "ansible.builtin.wait_for": {"timeout": 3}},
                {"name": "leave", "ansible.builtin.copy": {"content": "{{ now().timestamp() }}",
                                                           "dest": str(tmp_path / (name + ".end"))}},
                verb(STORE, "unlock")]

    with concurrent.futures.ThreadPoolExecutor(2) as pool:
        outcomes = [run.result() for run in [pool.submit(vault.run, locked_section(name)) for name in "ab"]]
    assert [run.rc for run in outcomes] == [0, 0], [run.output[-3000:] for run in outcomes]
    spans = sorted((float((tmp_path / (name + ".start")).read_text()), float((tmp_path / (name + ".end")).read_text()))
                   for name in "ab")
    assert spans[0][1] <= spans[1][0], "the two runs held the lock at the same time: %s" % spans
    attempts = sorted(r["result"].get("attempts", 1) for run in outcomes for r in run.results
                      if r["task"] == "Take the org's lock, waiting while another run holds it")
    assert attempts[0] == 1 and attempts[1] > 1, attempts
    lock = vault.openbao.json("kv get", vault.path(".lock"))["data"]
    # Two takes and two releases, each a check-and-set write on the version before it.
    assert lock["data"]["state"] == "free" and lock["metadata"]["version"] == 4
    vault.assert_clean()


def test_a_lock_whose_lease_ran_out_is_taken_over(vault):
    now = int(time.time())
    put_lock(vault, state="held", owner="run-that-died", holder="converge (acme)", taken=now - 1000,
             expires=now - 10)
    run = vault.run([verb(STORE, "lock"), verb(STORE, "unlock"), verb(STORE, "read"),
                     SHOW_RECORDS])
    assert run.rc == 0, run.output[-3000:]
    assert vault.openbao.json("kv get", vault.path(".lock"))["data"]["metadata"]["version"] == 3
    # The lock is the store's own secret, not a token record.
    assert vault.records(run.results) == []
    vault.assert_clean()


def test_a_held_lock_fails_the_run_naming_its_holder(vault):
    now = int(time.time())
    put_lock(vault, state="held", owner="run-elsewhere", holder="converge (acme) on node-7", taken=now,
             expires=now + 600)
    run = vault.run([verb(STORE, "lock")],
                    settings=vault.settings(resolver_scim_lock_timeout=2))
    assert run.rc != 0
    assert "The org %s is locked by converge (acme) on node-7 since" % vault.org in failure(run.results)
    lock = vault.openbao.json("kv get", vault.path(".lock"))["data"]
    assert lock["data"]["owner"] == "run-elsewhere" and lock["metadata"]["version"] == 1
    vault.assert_clean()


def test_the_role_readme_of_the_store_lists_every_variable_the_verbs_read():
    store_dir = pathlib.Path(store_servers.STORE_DIR) / STORE
    used = set()
    # Its verbs and its variables file (connection and paths).
    for path in [*store_dir.glob("*.yml"), pathlib.Path(store_servers.ROLE_DIR, "vars", "main", "store", STORE + ".yml")]:
        used |= set(re.findall(r"resolver_scim_hashi_vault_\w+", path.read_text()))
    readme = (store_dir / "README.md").read_text()
    assert sorted(v for v in used if "`%s`" % v not in readme) == []


def test_a_lock_vault_refuses_or_cannot_take_fails_at_once(vault, openbao):
    """Credentials that may read but not write, or a Vault that does not answer: not a lock another run holds, so
    the run fails at once instead of waiting until resolver_scim_lock_timeout."""
    read_only = openbao.token(READ_ONLY_POLICY)
    vault.secrets.add(read_only)
    gone = "http://127.0.0.1:%d" % store_servers.free_port()
    for settings in (vault.settings(resolver_scim_hashi_vault_token=read_only, resolver_scim_lock_timeout=60),
                     vault.settings(resolver_scim_hashi_vault_url=gone, resolver_scim_lock_timeout=60)):
        started = time.monotonic()
        run = vault.run([verb(STORE, "lock")], settings=settings)
        assert run.rc != 0 and time.monotonic() - started < 30
        message = failure(run.results)
        assert message.startswith("Cannot lock the org in the hashi_vault store (vault kv2 secret/resolver-scim/%s/"
                                  ".lock)" % vault.org), message
        assert "Vault did not take this run's claim on the org's lock, and no other run holds it" in message
        assert "at %s and that the credentials may create and update secret/data/resolver-scim/%s/.lock" % (
            settings["resolver_scim_hashi_vault_url"], vault.org) in message
    vault.assert_clean()
