# Copyright: (c) 2026, resolver.scim contributors
# GNU General Public License v3.0+ (see LICENSES/GPL-3.0-or-later.txt or https://www.gnu.org/licenses/gpl-3.0.txt)
"""Where the hashi_vault store finds its credentials (issue 22): an empty VAULT_TOKEN counts as unset, as every
RESOLVER_* variable does, and a store with no credential at all says so instead of "Vault refused the credentials".
Real ansible-playbook runs of the store's verbs against the OpenBao dev server (tests/servers/store_servers.py)."""

import pytest

from store_servers import verb
from test_role_stores import HashiVault
from test_store_hashi_vault import POLICY, STORE, VaultRuns, failure

pytestmark = pytest.mark.xdist_group("hashi_vault")

EMPTY_VAULT_TOKEN = {"VAULT_TOKEN": ""}
NO_CREDENTIAL = "no credential is set"


@pytest.fixture(name="vault")
def vault_runs(tmp_path, openbao, store_collections):
    return VaultRuns(tmp_path, openbao, store_collections)


def test_an_empty_vault_token_does_not_hide_the_token_variable(vault):
    run = vault.run([verb(STORE, "check"), verb(STORE, "read")], env=EMPTY_VAULT_TOKEN)
    assert run.rc == 0, run.output[-3000:]
    vault.assert_clean()


def test_an_empty_vault_token_does_not_hide_approle(vault, openbao):
    role_id, secret_id = openbao.approle(POLICY)
    vault.secrets.add(secret_id)
    settings = vault.settings(resolver_scim_hashi_vault_token=None, resolver_scim_hashi_vault_auth_method="approle",
                              resolver_scim_hashi_vault_role_id=role_id, resolver_scim_hashi_vault_secret_id=secret_id)
    run = vault.run([verb(STORE, "check"), verb(STORE, "read")], settings=settings, env=EMPTY_VAULT_TOKEN)
    assert run.rc == 0, run.output[-3000:]
    vault.assert_clean()


@pytest.mark.parametrize("vault_token", ["", pytest.param(None, marks=pytest.mark.exhaustive)],
                         ids=["VAULT_TOKEN empty", "VAULT_TOKEN unset"])
@pytest.mark.parametrize("verb_name", ["check", pytest.param("read", marks=pytest.mark.exhaustive)])
def test_no_token_anywhere_is_no_credential(vault, verb_name, vault_token, monkeypatch, tmp_path):
    # No ~/.vault-token either: community.hashi_vault would read it when VAULT_TOKEN is unset.
    monkeypatch.delenv("VAULT_TOKEN", raising=False)
    env = {"HOME": str(tmp_path)} if vault_token is None else {"VAULT_TOKEN": vault_token}
    run = vault.run([verb(STORE, verb_name)], settings=vault.settings(resolver_scim_hashi_vault_token=None), env=env)
    assert run.rc != 0
    message = failure(run.results)
    assert NO_CREDENTIAL in message and "refused" not in message, message
    vault.assert_clean()


def test_an_empty_role_variable_counts_as_unset_too(vault):
    run = vault.run([verb(STORE, "check")], settings=vault.settings(resolver_scim_hashi_vault_token=""),
                    env=EMPTY_VAULT_TOKEN)
    assert run.rc != 0
    assert NO_CREDENTIAL in failure(run.results)
    vault.assert_clean()


def test_the_role_with_an_empty_vault_token(ansible, emulator, store_collections, openbao, monkeypatch, tmp_path):
    """A converge: the token variable works beside VAULT_TOKEN=""; with the variable empty too, the run fails
    before any change, saying that no credential is set."""
    store = HashiVault(store_collections, openbao)
    env = dict(store.env, VAULT_TOKEN="", HOME=str(tmp_path))
    rc, _results, output = ansible.run_playbook("converge", store.inventory(ansible), env=env)
    assert rc == 0, output[-3000:]
    emulator.age_tokens(705)
    emulator.clear_log()
    monkeypatch.delenv("VAULT_TOKEN", raising=False)
    rc, results, output = ansible.run_playbook("converge", store.inventory(ansible, resolver_scim_hashi_vault_token=""),
                                               env=env)
    assert rc != 0 and emulator.mutating() == []
    assert NO_CREDENTIAL in " ".join(str(r["result"].get("msg")) for r in results if r["status"] == "failed")
    assert [s for s in emulator.secrets() + store.secrets if s and s in output] == []
