# Copyright: (c) 2026, resolver.scim contributors
# GNU General Public License v3.0+ (see LICENSES/GPL-3.0-or-later.txt or https://www.gnu.org/licenses/gpl-3.0.txt)
"""The role with the secrets-manager stores (issue 13) against real servers: OpenBao (Vault's API) and moto's
Secrets Manager, both on loopback: converge writes, a second run changes nothing, +705 days renews and the store
keeps the previous value, a store that refuses fails the org before anything is issued or revoked."""

import json
import os

import pytest

from test_role import actions, live_by_org, recap
from test_store_hashi_vault import POLICY, READ_ONLY_POLICY as READ_ONLY


def collections_env(store_collections, **extra):
    env = {"ANSIBLE_COLLECTIONS_PATH": os.environ.get("ANSIBLE_COLLECTIONS_PATH", "") + os.pathsep + store_collections}
    env.update(extra)
    return env


def assert_clean(ansible, emulator, *store_secrets):
    secrets = list(emulator.secrets()) + [s for s in store_secrets if s]
    leaks = [s for s in secrets for output in ansible.outputs if s in output]
    assert leaks == [], "%d secret(s) found in the output" % len(leaks)


def run_lifecycle(ansible, emulator, env, stored, refusing_vars, refusing_env=None):
    """The same story for each store; ``stored(name)`` returns (token_id, value, previous value or None)."""
    inventory = ansible.inventory(orgs=1)
    rc, results, output = ansible.run_playbook("converge", inventory, verbosity=4, env=env)
    assert rc == 0, output[-3000:]
    live = live_by_org(emulator)[1]
    for name in ("okta", "entra-id"):
        token_id, value, _previous = stored(name)
        assert [token_id] == live[name] and emulator.scim_status(value) == 200

    emulator.clear_log()
    rc, results, output = ansible.run_playbook("converge", inventory, env=env)
    assert rc == 0 and recap(output)["org1-acme"]["changed"] == 0 and emulator.mutating() == [], output[-3000:]

    old_id, old_value, _previous = stored("okta")
    emulator.age_tokens(705)
    rc, results, output = ansible.run_playbook("converge", inventory, verbosity=4, env=env)
    assert rc == 0 and actions(results, "org1-acme")["okta"] == "renewed", output[-3000:]
    new_id, new_value, previous = stored("okta")
    assert new_id != old_id and live_by_org(emulator)[1]["okta"] == [new_id]
    assert emulator.scim_status(new_value) == 200 and emulator.scim_status(old_value) == 401
    assert previous == old_value  # the store keeps the value before, for a rollback

    # The store refuses writes: the org fails at the store's check, before anything is issued or revoked.
    emulator.age_tokens(705)
    emulator.clear_log()
    refusing = ansible.inventory(orgs=1, group_vars=refusing_vars)
    rc, results, output = ansible.run_playbook("converge", refusing, verbosity=4, env=refusing_env or env)
    assert rc != 0 and recap(output)["org1-acme"]["failed"] == 1
    assert emulator.mutating() == [] and live_by_org(emulator)[1]["okta"] == [new_id]
    return output


def test_role_with_the_hashi_vault_store(ansible, emulator, openbao, store_collections):
    hvac = pytest.importorskip("hvac")
    token = openbao.token(POLICY)
    env = collections_env(store_collections)
    ansible_vars = {"resolver_scim_token_store": "hashi_vault", "resolver_scim_hashi_vault_url": openbao.url,
                    "resolver_scim_hashi_vault_token": token}
    client = hvac.Client(url=openbao.url, token=openbao.root_token)

    def stored(name):
        path = "resolver-scim/org1-acme/%s" % name
        latest = client.secrets.kv.v2.read_secret_version(path=path, mount_point="secret",
                                                          raise_on_deleted_version=True)["data"]
        version = latest["metadata"]["version"]
        previous = None
        if version > 1:
            previous = client.secrets.kv.v2.read_secret_version(path=path, mount_point="secret", version=version - 1,
                                                                raise_on_deleted_version=True)["data"]["data"]["token"]
        return latest["data"]["token_id"], latest["data"]["token"], previous

    ansible.inventory = _with(ansible.inventory, ansible_vars)
    read_only = openbao.token(READ_ONLY)
    output = run_lifecycle(ansible, emulator, env, stored, dict(ansible_vars, resolver_scim_hashi_vault_token=read_only))
    assert "create, update" in output or "refused" in output
    assert_clean(ansible, emulator, token, read_only, openbao.root_token)


def test_role_with_the_aws_secretsmanager_store(ansible, emulator, moto, store_collections):
    writer, reader = moto.keys["writer"], moto.keys["reader"]
    base_env = {"AWS_REGION": "us-east-1", "AWS_CONFIG_FILE": os.devnull, "AWS_SHARED_CREDENTIALS_FILE": os.devnull,
                "AWS_EC2_METADATA_DISABLED": "true"}
    env = collections_env(store_collections, AWS_ACCESS_KEY_ID=writer[0], AWS_SECRET_ACCESS_KEY=writer[1], **base_env)
    refusing_env = collections_env(store_collections, AWS_ACCESS_KEY_ID=reader[0], AWS_SECRET_ACCESS_KEY=reader[1],
                                   **base_env)
    ansible_vars = {"resolver_scim_token_store": "aws_secretsmanager", "resolver_scim_aws_endpoint_url": moto.url}
    client = moto.client()

    def stored(name):
        secret_id = "resolver-scim/org1-acme/%s" % name
        current = json.loads(client.get_secret_value(SecretId=secret_id)["SecretString"])
        try:
            previous = json.loads(client.get_secret_value(SecretId=secret_id,
                                                          VersionStage="AWSPREVIOUS")["SecretString"])["token"]
        except client.exceptions.ResourceNotFoundException:
            previous = None
        return current["token_id"], current["token"], previous

    ansible.inventory = _with(ansible.inventory, ansible_vars)
    output = run_lifecycle(ansible, emulator, env, stored, ansible_vars, refusing_env=refusing_env)
    assert "secretsmanager:" in output or "not authorized" in output
    assert_clean(ansible, emulator, writer[1], reader[1])


def _with(inventory, variables):
    """The fixture's inventory writer with the store settings added to every inventory it writes."""
    def write(orgs=3, group_vars=None, **kwargs):
        merged = dict(variables)
        merged.update(group_vars or {})
        return inventory(orgs=orgs, group_vars=merged, **kwargs)
    return write
