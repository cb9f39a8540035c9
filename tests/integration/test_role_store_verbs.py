# Copyright: (c) 2026, resolver.scim contributors
# GNU General Public License v3.0+ (see LICENSES/GPL-3.0-or-later.txt or https://www.gnu.org/licenses/gpl-3.0.txt)
"""The role calls each secrets-manager store's verbs with what it really sends (issue 21): a handover that
finishes (its pending record is removed), a token declared `state: absent`, and a token dropped by
resolver_scim_exclusive, against real OpenBao and moto servers on loopback. The store verb tests
(test_store_*.py) call the verbs by hand; these go through the role's own task files.
"""

import json

import pytest

import org_inventory
from test_role import actions, live_by_org, recap, summary
from test_role_stores import ORG, AwsSecretsManager, HashiVault, assert_clean

# handover_tasks that act as an identity provider: they keep the token they are given in a file of the test.
HANDOVER_TASKS = """
- name: Fail the handover when the test says so
  ansible.builtin.fail:
    msg: the identity provider is down
  when: idp_down | default(false) | bool

- name: Give the identity provider its token
  ansible.builtin.copy:
    dest: "{{ idp_inbox }}/{{ resolver_scim_handover.name }}.token"
    content: "{{ resolver_scim_handover.token }}"
    mode: "0600"
  no_log: true
"""


class VaultRecords(HashiVault):
    def record(self, name, org=ORG):
        """The token's stored record (value included), or None when its latest version is deleted or missing."""
        try:
            return self.client.secrets.kv.v2.read_secret_version(
                path="%s/%s/%s" % (self.prefix, org, name), mount_point="secret",
                raise_on_deleted_version=True)["data"]["data"]
        except pytest.importorskip("hvac.exceptions").InvalidPath:
            return None


class AwsRecords(AwsSecretsManager):
    def record(self, name, org=ORG):
        """The token's stored record (value included), or None when its secret is missing or scheduled for
        deletion (what remove.yml does)."""
        try:
            return json.loads(self.client.get_secret_value(SecretId="%s%s/%s" % (self.prefix, org, name))["SecretString"])
        except (self.client.exceptions.ResourceNotFoundException, self.client.exceptions.InvalidRequestException):
            return None


# Each case once in make test (OpenBao), again with moto in make exhaustive.
@pytest.fixture(params=["hashi_vault", pytest.param("aws_secretsmanager", marks=pytest.mark.exhaustive)])
def store(request, store_collections):
    if request.param == "hashi_vault":
        return VaultRecords(store_collections, request.getfixturevalue("openbao"))
    return AwsRecords(store_collections, request.getfixturevalue("moto"))


def declared(tmp_path, *names, absent=()):
    tasks = tmp_path / "handover.yml"
    tasks.write_text(HANDOVER_TASKS)
    entries = {"okta": {"name": "okta", "email_domains": ["{{ scim_domain }}.com"]},
               "idp.pending": {"name": "idp.pending", "email_domains": ["{{ scim_domain }}.com"]},
               "entra-id": {"name": "entra-id", "email_domains": ["{{ scim_domain }}-labs.com"]},
               "idp": {"name": "idp", "email_domains": ["{{ scim_domain }}.org"], "handover_tasks": str(tasks)}}
    for name in absent:
        entries[name] = {"name": name, "state": "absent"}
    return [entries[name] for name in names + tuple(absent)]


def converge(ansible, store, tmp_path, tokens, **extra):
    inbox = tmp_path / "idp"
    inbox.mkdir(exist_ok=True)
    inventory = store.inventory(ansible, resolver_scim_tokens=tokens, idp_inbox=str(inbox), **extra)
    return ansible.run_playbook("converge", inventory, verbosity=4, env=store.env)


def test_handover_absent_and_exclusive_removal_reach_the_store(ansible, emulator, store, tmp_path):
    # A handover that finishes: the pending record is written, handed over, recorded as current, then removed.
    rc, results, output = converge(ansible, store, tmp_path, declared(tmp_path, "okta", "entra-id", "idp"))
    assert rc == 0, output[-3000:]
    assert actions(results, ORG) == {"okta": "created", "entra-id": "created", "idp": "created"}
    live = live_by_org(emulator)[1]
    token_id, value, _previous = store.stored("idp")
    assert [token_id] == live["idp"] and emulator.scim_status(value) == 200
    assert (tmp_path / "idp" / "idp.token").read_text() == value
    assert store.record("idp.pending") is None

    # state: absent revokes the token and the store forgets it.
    rc, results, output = converge(ansible, store, tmp_path, declared(tmp_path, "entra-id", "idp", absent=["okta"]))
    assert rc == 0, output[-3000:]
    assert actions(results, ORG) == {"okta": "deleted"}, summary(results)
    assert "okta" not in live_by_org(emulator)[1] and store.record("okta") is None

    # A token no longer declared, with resolver_scim_exclusive: revoked, and the store forgets it.
    tokens = declared(tmp_path, "idp")
    rc, results, output = converge(ansible, store, tmp_path, tokens, resolver_scim_exclusive=True)
    assert rc == 0, output[-3000:]
    assert actions(results, ORG) == {"entra-id": "deleted"}
    assert live_by_org(emulator)[1] == {"idp": [token_id]} and store.record("entra-id") is None
    assert store.record("idp")["token_id"] == token_id

    emulator.clear_log()
    rc, _results, output = converge(ansible, store, tmp_path, tokens, resolver_scim_exclusive=True)
    assert rc == 0 and recap(output)[ORG]["changed"] == 0 and emulator.mutating() == [], output[-3000:]
    assert_clean(ansible, emulator, store)


def test_two_orgs_under_one_host_name_do_not_overwrite_each_other(ansible, emulator, store):
    """Two inventories, each with a host `prod`, for two Resolver orgs: the second org's run finds the first org's
    records where its own would go, and refuses before anything is issued."""
    first, second = list(org_inventory.org_hosts(emulator.seed, emulator.url, 2).values())
    inventories = [org_inventory.write_inventory(str(ansible.tmp_path / ("prod-%d" % n)), {"prod": host},
                                                 dict(store.vars, resolver_timeout=5))
                   for n, host in enumerate((first, second), 1)]
    rc, _results, output = ansible.run_playbook("converge", inventories[0], env=store.env)
    assert rc == 0, output[-3000:]
    before = {name: store.record(name, org="prod") for name in ("okta", "entra-id")}
    assert {record["org_id"] for record in before.values()} == {1}

    emulator.clear_log()
    rc, results, output = ansible.run_playbook("converge", inventories[1], verbosity=4, env=store.env)
    assert rc != 0
    message = " ".join(str(r["result"].get("msg")) for r in results if r["status"] == "failed")
    for name in ("okta", "entra-id"):
        assert "prod/%s" % name in message
    assert "belongs to org 1, not to this org (2): it is not overwritten" in message
    # Nothing was issued for the second org, and the first org's records and tokens are as they were.
    assert emulator.mutating() == [] and 2 not in live_by_org(emulator)
    assert {name: store.record(name, org="prod") for name in before} == before
    for record in before.values():
        assert emulator.scim_status(record["token"]) == 200
    assert_clean(ansible, emulator, store)


def test_a_token_named_like_a_pending_record_survives_the_handovers_of_the_other(ansible, emulator, store, tmp_path):
    """Token `idp` is handed over (a pending record while it is), token `idp.pending` is stored as usual: the
    pending record's key is not the other token's, so four converges (create, two renewals, nothing to do) leave
    both live and stored."""
    names = ("idp", "idp.pending")
    tokens = declared(tmp_path, *names)
    for run, age in enumerate((None, 705, 705, None)):
        if age:
            emulator.age_tokens(age)
        rc, results, output = converge(ansible, store, tmp_path, tokens)
        assert rc == 0, output[-3000:]
        live = live_by_org(emulator)[1]
        for name in names:
            record = store.record(name)
            assert record["name"] == name and [record["token_id"]] == live[name], (run, name)
            assert emulator.scim_status(record["token"]) == 200
        assert (tmp_path / "idp" / "idp.token").read_text() == store.record("idp")["token"]
        assert store.record("idp@pending") is None
    assert actions(results, ORG) == {} and recap(output)[ORG]["changed"] == 0
    assert_clean(ansible, emulator, store)


def test_a_pending_record_under_the_old_key_is_handed_over_and_removed(ansible, emulator, tmp_path):
    """A handover that an earlier version left pending under "<key>.pending" (the file store): the next converge
    reads the value there, finishes the handover and removes the old record."""
    directory = tmp_path / "store" / ORG
    tokens = declared(tmp_path, "idp")
    inbox = tmp_path / "idp"
    inbox.mkdir()
    inventory = ansible.inventory(orgs=1, group_vars={"resolver_scim_tokens": tokens, "idp_inbox": str(inbox)})
    rc, _results, output = ansible.run_playbook("converge", inventory, extra_vars={"idp_down": True})
    assert rc != 0 and "the identity provider is down" in output
    (directory / "idp@pending.json").rename(directory / "idp.pending.json")
    pending = json.loads((directory / "idp.pending.json").read_text())

    rc, results, output = ansible.run_playbook("converge", inventory, verbosity=4)
    assert rc == 0, output[-3000:]
    assert actions(results, ORG) == {"idp": "handover"}
    record = json.loads((directory / "idp.json").read_text())
    assert record["token_id"] == record["idp_token_id"] == pending["token_id"] == live_by_org(emulator)[1]["idp"][0]
    assert (inbox / "idp.token").read_text() == record["token"] == pending["token"]
    assert sorted(path.name for path in directory.iterdir()) == ["idp.json"]

    rc, _results, output = ansible.run_playbook("converge", inventory)
    assert rc == 0 and recap(output)[ORG]["changed"] == 0, output[-3000:]
