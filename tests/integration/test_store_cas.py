# Copyright: (c) 2026, resolver.scim contributors
# GNU General Public License v3.0+ (see LICENSES/GPL-3.0-or-later.txt or https://www.gnu.org/licenses/gpl-3.0.txt)
"""Issue 21.3: store writes compare and swap. Another run, on a node that shares the store but not the lock
directory, writes a token's record while this run's create of its successor is on its way (Resolver answers
slowly). This run must not write over that record: it fails naming the token and the store, revokes none of the
tokens it meant to replace (only its own new token, whose value no store holds), and the other record stays."""

import concurrent.futures
import json
import time

import pytest

from org_inventory import DECLARED_TOKENS
from test_role import live_by_org
from test_role_stores import ORG, AwsSecretsManager, HashiVault, assert_clean

ORG_ID = 1


class FileStore:
    """The file store as the role writes it: <store dir>/<org>/<key>.json."""

    name = "file"

    def __init__(self, tmp_path):
        self.directory = tmp_path / "store" / ORG
        self.env, self.vars, self.secrets = {}, {}, []

    def inventory(self, ansible):
        return ansible.inventory(orgs=1)

    def stored(self, name):
        data = json.loads((self.directory / ("%s.json" % name)).read_text())
        return data["token_id"], data["token"], None

    def write(self, name, record):
        (self.directory / ("%s.json" % name)).write_text(json.dumps(record, indent=4))

    def location(self, name):
        return str(self.directory / ("%s.json" % name))


class VaultStore(HashiVault):
    def write(self, name, record):
        """What `bao kv put` does: a new version of the token's secret."""
        self.client.secrets.kv.v2.create_or_update_secret(path="%s/%s/%s" % (self.prefix, ORG, name),
                                                          mount_point="secret", secret=record)

    def location(self, _name):
        return "secret/%s/%s" % (self.prefix, ORG)


class AwsStore(AwsSecretsManager):
    def write(self, name, record):
        self.client.put_secret_value(SecretId="%s%s/%s" % (self.prefix, ORG, name), SecretString=json.dumps(record))

    def location(self, name):
        return "aws secretsmanager %s%s/%s" % (self.prefix, ORG, name)


@pytest.fixture(params=["file", "hashi_vault", "aws_secretsmanager"])
def store(request, tmp_path):
    if request.param == "file":
        return FileStore(tmp_path)
    collections = request.getfixturevalue("store_collections")
    if request.param == "hashi_vault":
        return VaultStore(collections, request.getfixturevalue("openbao"))
    return AwsStore(collections, request.getfixturevalue("moto"))


def test_a_record_written_by_another_run_between_plan_and_write_is_not_overwritten(ansible, emulator, store):
    inventory = store.inventory(ansible)
    rc, _results, output = ansible.run_playbook("converge", inventory, env=store.env)
    assert rc == 0, output[-3000:]
    old_id, _value, _previous = store.stored("okta")
    untouched = store.stored("entra-id")
    [declared] = [t["emailDomains"] for t in emulator.tokens(name="okta")]
    emulator.age_tokens(705, ids=[old_id])
    before = {t["id"] for t in emulator.tokens(live_only=False)}
    # The create succeeds at once on the server; its answer comes 4 seconds later.
    emulator.faults({"method": "POST", "path": "^/user/scimTokens$", "count": 1, "act": True, "delay": 4})
    with concurrent.futures.ThreadPoolExecutor(1) as pool:
        run = pool.submit(ansible.run_playbook, "converge", inventory, verbosity=4, env=store.env)
        deadline = time.monotonic() + 120
        while not {t["id"] for t in emulator.tokens(live_only=False)} - before and time.monotonic() < deadline:
            time.sleep(0.02)
        [new_id] = {t["id"] for t in emulator.tokens(live_only=False)} - before
        # Meanwhile another run renewed okta too and stored its token, as the role writes a record.
        other = emulator.issue_token("okta", declared, org=ORG_ID)
        store.write("okta", {"name": "okta", "token": other["token"], "token_id": other["id"],
                             "email_domains": declared, "expires": other.get("tokenExpiry"), "org": ORG,
                             "org_id": ORG_ID, "status": "current"})
        rc, _results, output = run.result(timeout=300)

    assert rc != 0, output[-3000:]
    assert "another run changed its store record" in output and store.location("okta") in output, output[-3000:]
    assert "okta (store)" in output
    # The other run's record stays, and so does every token but this run's unstored one.
    assert store.stored("okta")[:2] == (other["id"], other["token"])
    assert store.stored("entra-id") == untouched
    assert sorted(live_by_org(emulator)[ORG_ID]["okta"]) == sorted([old_id, other["id"]])
    revoked = [t["id"] for t in emulator.tokens(live_only=False) if t["deleted"]]
    assert revoked == [new_id]
    assert emulator.scim_status(other["token"]) == 200
    assert_clean(ansible, emulator, store)


def test_a_token_declared_absent_does_not_remove_another_orgs_record(ansible, emulator, tmp_path):
    """Two inventories give two orgs one host name, so they share the store's path: org 1 declaring okta absent
    must not delete the okta record that org 2 wrote there (the check before writes does not run: nothing is
    written). The org fails before anything is revoked or removed."""
    store = FileStore(tmp_path)
    rc, _results, output = ansible.run_playbook("converge", ansible.inventory(orgs=1))
    assert rc == 0, output[-3000:]
    [live] = live_by_org(emulator)[ORG_ID]["okta"]
    foreign = {"name": "okta", "token": "another-orgs-token-value", "token_id": 99999, "email_domains": ["globex.com"],
               "expires": None, "org": ORG, "org_id": 2, "status": "current"}
    store.write("okta", foreign)
    tokens = [dict(entry, state="absent") if entry["name"] == "okta" else entry for entry in DECLARED_TOKENS]
    rc, _results, output = ansible.run_playbook("converge", ansible.inventory(
        orgs=1, group_vars={"resolver_scim_tokens": tokens}), verbosity=4)
    assert rc != 0
    assert "%s belongs to org 2, not to this org (1)" % store.location("okta") in output, output[-3000:]
    assert json.loads((store.directory / "okta.json").read_text()) == foreign
    assert live_by_org(emulator)[ORG_ID]["okta"] == [live]
    assert_clean(ansible, emulator, store)
