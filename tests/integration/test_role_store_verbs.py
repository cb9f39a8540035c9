# Copyright: (c) 2026, resolver.scim contributors
# GNU General Public License v3.0+ (see LICENSES/GPL-3.0-or-later.txt or https://www.gnu.org/licenses/gpl-3.0.txt)
"""The role calls each secrets-manager store's verbs with what it really sends (issue 21): a handover that
finishes (its pending record is removed), a token declared `state: absent`, and a token dropped by
resolver_scim_exclusive, against real OpenBao and moto servers on loopback. The store verb tests
(test_store_*.py) call the verbs by hand; these go through the role's own task files.
"""

import pytest

from test_role import actions, live_by_org, recap, summary
from test_role_stores import ORG, AwsSecretsManager, HashiVault, assert_clean

# handover_tasks that act as an identity provider: they keep the token they are given in a file of the test.
HANDOVER_TASKS = """
- name: Give the identity provider its token
  ansible.builtin.copy:
    dest: "{{ idp_inbox }}/{{ resolver_scim_handover.name }}.token"
    content: "{{ resolver_scim_handover.token }}"
    mode: "0600"
  no_log: true
"""


class VaultRecords(HashiVault):
    def holds(self, name):
        """Whether the latest version of the token's secret is there (remove.yml soft-deletes it)."""
        try:
            self.stored(name)
        except self.hvac_errors.InvalidPath:
            return False
        return True

    @property
    def hvac_errors(self):
        return pytest.importorskip("hvac.exceptions")


class AwsRecords(AwsSecretsManager):
    def holds(self, name):
        """Whether the token's secret is there and not scheduled for deletion (remove.yml schedules it)."""
        try:
            return "DeletedDate" not in self.client.describe_secret(SecretId="%s%s/%s" % (self.prefix, ORG, name))
        except self.client.exceptions.ResourceNotFoundException:
            return False


@pytest.fixture(params=["hashi_vault", "aws_secretsmanager"])
def store(request, store_collections):
    if request.param == "hashi_vault":
        return VaultRecords(store_collections, request.getfixturevalue("openbao"))
    return AwsRecords(store_collections, request.getfixturevalue("moto"))


def declared(tmp_path, *names, absent=()):
    tasks = tmp_path / "handover.yml"
    tasks.write_text(HANDOVER_TASKS)
    entries = {"okta": {"name": "okta", "email_domains": ["{{ scim_domain }}.com"]},
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
    assert not store.holds("idp.pending")

    # state: absent revokes the token and the store forgets it.
    rc, results, output = converge(ansible, store, tmp_path, declared(tmp_path, "entra-id", "idp", absent=["okta"]))
    assert rc == 0, output[-3000:]
    assert actions(results, ORG) == {"okta": "deleted"}, summary(results)
    assert "okta" not in live_by_org(emulator)[1] and not store.holds("okta")

    # A token no longer declared, with resolver_scim_exclusive: revoked, and the store forgets it.
    tokens = declared(tmp_path, "idp")
    rc, results, output = converge(ansible, store, tmp_path, tokens, resolver_scim_exclusive=True)
    assert rc == 0, output[-3000:]
    assert actions(results, ORG) == {"entra-id": "deleted"}
    assert live_by_org(emulator)[1] == {"idp": [token_id]} and not store.holds("entra-id")
    assert store.holds("idp") and store.stored("idp")[0] == token_id

    emulator.clear_log()
    rc, _results, output = converge(ansible, store, tmp_path, tokens, resolver_scim_exclusive=True)
    assert rc == 0 and recap(output)[ORG]["changed"] == 0 and emulator.mutating() == [], output[-3000:]
    assert_clean(ansible, emulator, store)
