# Copyright: (c) 2026, resolver.scim contributors
# GNU General Public License v3.0+ (see LICENSES/GPL-3.0-or-later.txt or https://www.gnu.org/licenses/gpl-3.0.txt)
"""A secrets-manager store refuses to write over another org's record (issue 21.4), as the file store does."""

from ansible_collections.resolver.scim.plugins.module_utils._store_records import foreign_records, store_key

SOURCE = "vault kv2 secret/resolver-scim/prod/okta"


def record(name, org_id, source=SOURCE, status="current"):
    return {"name": name, "token_id": 7, "org_id": org_id, "status": status, "source": source}


def test_a_record_of_another_org_under_a_key_to_write_is_refused_naming_both_orgs_and_the_path():
    problems = foreign_records([record("okta", 1)], {"okta"}, 3)
    assert problems == ["%s belongs to org 1, not to this org (3): it is not overwritten. Give each org its own "
                        "resolver_scim_org." % SOURCE]


def test_a_pending_record_of_another_org_is_refused_too():
    assert len(foreign_records([record("okta", 1, status="pending")], {"okta"}, 3)) == 1


def test_own_records_other_keys_and_records_without_an_org_are_written():
    assert foreign_records([record("okta", 3), record("entra", 1), record("okta", None)], {"okta"}, 3) == []


def test_a_name_is_compared_by_the_key_the_store_keeps_it_under():
    assert len(foreign_records([record("Entra ID", 1)], {store_key("Entra ID")}, 3)) == 1
    assert foreign_records([record("Entra ID", 1)], {"Entra ID"}, 3) == []
