# Copyright: (c) 2026, resolver.scim contributors
# GNU General Public License v3.0+ (see LICENSES/GPL-3.0-or-later.txt or https://www.gnu.org/licenses/gpl-3.0.txt)
"""What a store migration copies, leaves and refuses (module_utils/_store_migration.py)."""

from ansible_collections.resolver.scim.plugins.module_utils._store_migration import migration_items, migration_plan


def record(name, token_id, **extra):
    return dict({"name": name, "token_id": token_id, "org_id": 1, "email_domains": ["acme.com"],
                 "expires": "2028-01-01T00:00:00Z", "status": "current", "source": "src/" + name}, **extra)


def test_copies_what_the_target_lacks_keeps_what_it_holds_and_never_overwrites_another_token():
    source = [record("okta", 1), record("entra-id", 2), record("entra-id", 5, status="pending"),
              record("jira", 3, key="jira")]
    target = [record("entra-id", 2, key="entra-id"), record("jira", 4, key="jira")]
    plan = migration_plan(source, target)
    assert [(r["name"], r["key"]) for r in plan["to_copy"]] == [("okta", "okta"), ("entra-id", "entra-id@pending")]
    assert plan["held"] == [{"name": "entra-id", "store_key": "entra-id", "token_id": 2}]
    assert [(c["name"], c["token_id"]) for c in plan["conflicts"]] == [("jira", 3)]
    assert "holds token 4 under jira" in plan["conflicts"][0]["reason"]


def test_items_only_for_live_tokens_whose_value_works_with_every_idp_field():
    records = [dict(record("okta", 1), key="okta", idp_token_id=1, idp_target="handover_tasks:x.yml"),
               dict(record("gone", 2), key="gone"), dict(record("wrong", 3), key="wrong")]
    values = [{"token_id": 1, "value": "v1"}, {"token_id": 2, "value": "v2"}, {"token_id": 3, "value": "v3"}]
    checks = [{"token_id": 1, "live": True, "works": True}, {"token_id": 2, "live": False, "works": None},
              {"token_id": 3, "live": True, "works": False}]
    result = migration_items(records, values, checks, "acme")
    assert result["items"] == [{"name": "okta", "key": "okta", "token": "v1", "token_id": 1,
                                "email_domains": ["acme.com"], "expires": "2028-01-01T00:00:00Z", "org": "acme",
                                "org_id": 1, "status": "current", "expected_token_id": None, "idp_token_id": 1,
                                "idp_target": "handover_tasks:x.yml"}]
    assert [(r["name"], r["reason"].split(",")[0]) for r in result["refused"]] == [
        ("gone", "token 2 is not live in Resolver (revoked or expired)"),
        ("wrong", "the stored value does not authenticate at the SCIM endpoint")]
    assert all("v2" not in str(r) and "v3" not in str(r) for r in result["refused"])
