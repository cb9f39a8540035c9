# Copyright: (c) 2026, resolver.scim contributors
# GNU General Public License v3.0+ (see LICENSES/GPL-3.0-or-later.txt or https://www.gnu.org/licenses/gpl-3.0.txt)
"""Issue 23.6: resolver.scim.store_migrate moves an org's records, values included, between stores through the
store verbs: file -> hashi_vault -> aws_secretsmanager -> file against OpenBao and moto. After each hop the converge
against the new store changes nothing in Resolver, and a second migration changes nothing. Values whose token is
not live, or that do not work, are not copied; a rerun after a crash copies the rest; clean_source empties the
source of what the target holds."""

import json

from test_role import live_by_org, recap
from test_role_stores import ORG, AwsSecretsManager, HashiVault, assert_clean

ORG_ID = 1
NAMES = ("okta", "entra-id")
# A token no identity provider gets through the role, handed over by the team's own tasks: a pending record with
# the idp_* fields the role writes, which a migration must keep.
PENDING = "legacy-app"


def file_records(directory):
    return {path.stem: json.loads(path.read_text()) for path in sorted(directory.glob("*.json"))}


def migrate(ansible, inventory, env, source, clean=False, check=False):
    extra = {"migrate_from": source, "migrate_clean_source": clean}
    return ansible.run_playbook("store_migrate", inventory, extra_vars=extra, env=env, verbosity=4, check=check)


def assert_no_change(ansible, emulator, inventory, env, source):
    """The converge against the new store and a second migration: nothing changes, no mutating Resolver request."""
    emulator.clear_log()
    rc, _results, output = ansible.run_playbook("converge", inventory, env=env)
    assert rc == 0 and recap(output)[ORG]["changed"] == 0, output[-3000:]
    rc, _results, output = migrate(ansible, inventory, env, source)
    assert rc == 0 and recap(output)[ORG]["changed"] == 0, output[-3000:]
    assert emulator.mutating() == []


def stored(store, name):
    token_id, value, _previous = store.stored(name)
    return token_id, value


def test_records_move_file_to_hashi_vault_to_aws_and_back_to_file(ansible, emulator, tmp_path, store_collections,
                                                                  openbao, moto):
    vault, aws = HashiVault(store_collections, openbao), AwsSecretsManager(store_collections, moto)
    rc, _results, output = ansible.run_playbook("converge", ansible.inventory(orgs=1))
    assert rc == 0, output[-3000:]
    first = tmp_path / "store" / ORG
    pending = emulator.issue_token(PENDING)
    (first / (PENDING + "@pending.json")).write_text(json.dumps({
        "name": PENDING, "token": pending["token"], "token_id": pending["id"], "email_domains": ["acme.com"],
        "expires": pending.get("tokenExpiry"), "org": ORG, "org_id": ORG_ID, "status": "pending",
        "idp_token_id": pending["id"], "idp_target": "handover_tasks:handover.yml"}))
    original = file_records(first)
    live = live_by_org(emulator)[ORG_ID]
    env = dict(vault.env, **aws.env)
    settings = dict(vault.vars, **aws.vars)

    # file -> hashi_vault
    inventory = ansible.inventory(orgs=1, group_vars=dict(settings, resolver_scim_token_store="hashi_vault"))
    rc, _results, output = migrate(ansible, inventory, env, {"store": "file"})
    assert rc == 0 and recap(output)[ORG]["changed"] > 0, output[-3000:]
    for name in NAMES:
        assert stored(vault, name) == (original[name]["token_id"], original[name]["token"]) and [
            original[name]["token_id"]] == live[name]
    held = vault.client.secrets.kv.v2.read_secret_version(
        path="%s/%s/%s@pending" % (vault.prefix, ORG, PENDING), mount_point="secret", raise_on_deleted_version=True)["data"]["data"]
    assert {k: held[k] for k in ("token", "token_id", "status", "idp_token_id", "idp_target")} == {
        "token": pending["token"], "token_id": pending["id"], "status": "pending", "idp_token_id": pending["id"],
        "idp_target": "handover_tasks:handover.yml"}
    assert file_records(first) == original  # the source stays
    assert_no_change(ansible, emulator, inventory, env, {"store": "file"})

    # hashi_vault -> aws_secretsmanager
    inventory = ansible.inventory(orgs=1, group_vars=dict(settings, resolver_scim_token_store="aws_secretsmanager"))
    rc, _results, output = migrate(ansible, inventory, env, {"store": "hashi_vault"})
    assert rc == 0 and recap(output)[ORG]["changed"] > 0, output[-3000:]
    for name in NAMES:
        assert stored(aws, name) == (original[name]["token_id"], original[name]["token"])
    assert_no_change(ansible, emulator, inventory, env, {"store": "hashi_vault"})

    # aws_secretsmanager -> file, in a new directory
    last = tmp_path / "store-again"
    inventory = ansible.inventory(orgs=1, store_dir=last,
                                  group_vars=dict(settings, resolver_scim_token_store="file"))
    rc, _results, output = migrate(ansible, inventory, env, {"store": "aws_secretsmanager"})
    assert rc == 0 and recap(output)[ORG]["changed"] > 0, output[-3000:]
    moved = file_records(last / ORG)
    assert sorted(moved) == sorted(original)
    for key, record in original.items():
        assert {k: moved[key].get(k) for k in record} == record, key
    assert_no_change(ansible, emulator, inventory, env, {"store": "aws_secretsmanager"})
    assert live_by_org(emulator)[ORG_ID] == dict(live, **{PENDING: [pending["id"]]})
    assert_clean(ansible, emulator, vault)
    assert_clean(ansible, emulator, aws)


def test_a_rerun_after_a_crash_copies_the_rest_refuses_what_is_not_live_and_cleans_the_source(
        ansible, emulator, tmp_path, store_collections, openbao):
    vault = HashiVault(store_collections, openbao)
    rc, _results, output = ansible.run_playbook("converge", ansible.inventory(orgs=1))
    assert rc == 0, output[-3000:]
    source = tmp_path / "store" / ORG
    original = file_records(source)
    # Records the migration must not copy: a token Resolver no longer lists, and a live token whose stored value
    # is not its own.
    other = emulator.issue_token("mismatch")
    refused_values = ["stale-value-of-a-revoked-token", "a-value-that-is-not-token-%d" % other["id"]]
    for name, token_id, value in zip(("stale", "mismatch"), (999999, other["id"]), refused_values):
        (source / (name + ".json")).write_text(json.dumps({
            "name": name, "token": value, "token_id": token_id, "email_domains": ["acme.com"], "expires": None,
            "org": ORG, "org_id": ORG_ID, "status": "current"}))
    # A migration that died after its first write: the target holds okta already.
    vault.client.secrets.kv.v2.create_or_update_secret(
        path="%s/%s/okta" % (vault.prefix, ORG), mount_point="secret", secret=original["okta"])
    inventory = ansible.inventory(orgs=1, group_vars=dict(vault.vars, resolver_scim_token_store="hashi_vault"))

    emulator.clear_log()
    mark = vault.mark()
    rc, _results, output = migrate(ansible, inventory, vault.env, {"store": "file"}, clean=True, check=True)
    assert rc == 0 and '"would_copy": [\n' in output and '"entra-id"' in output, output[-3000:]
    assert [path for operation, path in openbao.requests_since(mark) if "/data/" in path and operation != "read"] == []
    assert sorted(file_records(source)) == sorted(list(original) + ["mismatch", "stale"])
    rc, _results, output = migrate(ansible, inventory, vault.env, {"store": "file"}, clean=True)
    assert rc == 0 and recap(output)[ORG]["changed"] > 0, output[-3000:]
    writes = [path for operation, path in openbao.requests_since(mark) if operation in ("create", "update")
              and "/data/" in path]
    assert sorted(writes) == ["secret/data/%s/%s/entra-id" % (vault.prefix, ORG)], writes
    for name in NAMES:
        assert stored(vault, name) == (original[name]["token_id"], original[name]["token"])
    assert "token 999999 is not live in Resolver" in output
    assert "the stored value does not authenticate at the SCIM endpoint, so it is not the value of live token %d" \
        % other["id"] in output
    # The source keeps only what was not copied; Resolver was only read.
    assert sorted(file_records(source)) == ["mismatch", "stale"]
    assert emulator.mutating() == []

    rc, _results, output = migrate(ansible, inventory, vault.env, {"store": "file"}, clean=True)
    assert rc == 0 and recap(output)[ORG]["changed"] == 0, output[-3000:]
    rc, _results, output = ansible.run_playbook("converge", inventory, env=vault.env)
    assert rc == 0 and recap(output)[ORG]["changed"] == 0, output[-3000:]
    assert emulator.mutating() == []
    assert_clean(ansible, emulator, vault)
    assert not [value for value in refused_values for output in ansible.outputs if value in output]
