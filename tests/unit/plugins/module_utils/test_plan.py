# Copyright: (c) 2026, resolver.scim contributors
# GNU General Public License v3.0+ (see LICENSES/GPL-3.0-or-later.txt or https://www.gnu.org/licenses/gpl-3.0.txt)
"""The org planning step: declared entries checked, each decided by tokens.decide, healing and drift."""

import copy
import datetime

import pytest
from hypothesis import assume, given
from hypothesis import strategies as st

from ansible_collections.resolver.scim.plugins.module_utils._plan import plan_org, store_guard
from ansible_collections.resolver.scim.plugins.module_utils._store_records import store_key, store_view
from ansible_collections.resolver.scim.plugins.module_utils._token_entries import validate_entries
from ansible_collections.resolver.scim.plugins.module_utils._errors import InputError
from ansible_collections.resolver.scim.plugins.module_utils._tokens import ScimToken, decide, iso

NOW = datetime.datetime(2026, 11, 28, 12, 0, tzinfo=datetime.timezone.utc)


def token(id, days_left, name, domains):  # pylint: disable=redefined-builtin
    expires = NOW + datetime.timedelta(days=days_left)
    return ScimToken(id, name, 100, domains, expires - datetime.timedelta(days=730), expires)


OKTA = {"name": "okta", "email_domains": ["acme.com", "acme.org"]}
ENTRA = {"name": "entra-id", "email_domains": ["acme-labs.com"], "rotate_before_days": 60}


def entries(*declared):
    return validate_entries(list(declared), "resolver_scim_tokens")


def by_name(plan):
    return {entry["name"]: entry for entry in plan["entries"]}


def test_nothing_to_do_when_every_token_is_live_and_stored():
    tokens = [token(1, 600, "okta", ["acme.com", "acme.org"]), token(2, 600, "entra-id", ["acme-labs.com"])]
    plan = plan_org(entries(OKTA, ENTRA), tokens, NOW, stored={"okta": 1, "entra-id": 2})
    assert plan["actions"] == [] and plan["drifted"] is False
    assert all(not items for items in plan["drift"].values())
    assert plan["next_expiry"] == iso(NOW + datetime.timedelta(days=600))


def test_each_entry_gets_the_module_decision():
    tokens = [token(1, 20, "okta", ["acme.com", "acme.org"]), token(2, 600, "entra-id", ["other.com"])]
    plan = by_name(plan_org(entries(OKTA, ENTRA), tokens, NOW))
    for entry in (OKTA, ENTRA):
        expected = decide("present", entry["name"], tokens, NOW, sorted(entry["email_domains"]),
                          rotate_before_days=entry.get("rotate_before_days", 30))
        assert plan[entry["name"]]["action"] == expected.action and plan[entry["name"]]["reason"] == expected.reason
    assert plan["okta"]["action"] == "renewed" and plan["okta"]["revoke_ids"] == [1]
    assert plan["entra-id"]["action"] == "recreated" and plan["entra-id"]["store"] == "write"


def test_missing_expired_and_drift_categories():
    tokens = [token(3, -2, "okta", ["acme.com", "acme.org"])]
    plan = plan_org(entries(OKTA, ENTRA), tokens, NOW, stored={})
    assert [e["name"] for e in plan["drift"]["missing"]] == ["okta", "entra-id"]
    assert plan["drift"]["expired"] == [{"name": "okta", "token_id": 3, "expires": "2026-11-26T12:00:00Z"}]
    assert plan["drifted"] is True and plan["next_expiry"] is None


@pytest.mark.parametrize("stored, reason", [
    ({}, "the store holds no value for the live token 1"),
    ({"okta": 7}, "the store holds token 7, not the live token 1"),
])
def test_a_live_token_the_store_does_not_hold_is_healed(stored, reason):
    tokens = [token(7, 500, "okta", ["acme.com", "acme.org"]), token(1, 600, "okta", ["acme.com", "acme.org"])]
    plan = by_name(plan_org(entries(OKTA), tokens, NOW, stored=stored))
    okta = plan["okta"]
    assert okta["action"] == "healed" and reason in okta["reason"]
    assert okta["module_state"] == "rotated" and okta["create"] and okta["store"] == "write"
    assert sorted(okta["revoke_ids"]) == [1, 7]


def test_no_healing_without_a_store_or_when_turned_off():
    tokens = [token(1, 600, "okta", ["acme.com", "acme.org"])]
    assert plan_org(entries(OKTA), tokens, NOW, stored=None)["actions"] == []
    assert plan_org(entries(OKTA), tokens, NOW, stored={}, heal_unstored=False)["actions"] == []


def test_exclusive_deletes_undeclared_names_only():
    tokens = [token(1, 600, "okta", ["acme.com", "acme.org"]), token(5, 600, "legacy", ["acme.com"]),
              token(6, 100, "legacy", ["acme.com"])]
    plain = plan_org(entries(OKTA), tokens, NOW)
    assert plain["actions"] == [] and [t["id"] for t in plain["undeclared"]] == [6, 5]
    exclusive = plan_org(entries(OKTA), tokens, NOW, exclusive=True)
    [legacy] = exclusive["actions"]
    assert legacy["action"] == "deleted" and legacy["module_state"] == "absent" and legacy["store"] == "remove"
    assert sorted(legacy["revoke_ids"]) == [5, 6] and exclusive["drift"]["extra"][0]["name"] == "legacy"


def test_forced_rotation_and_absent_entries():
    tokens = [token(1, 600, "okta", ["acme.com", "acme.org"]), token(2, 600, "entra-id", ["acme-labs.com"])]
    plan = by_name(plan_org(entries(OKTA, dict(ENTRA, state="absent")), tokens, NOW, rotate=["okta"]))
    assert plan["okta"]["action"] == "rotated" and plan["okta"]["module_state"] == "rotated"
    assert plan["entra-id"]["action"] == "deleted" and plan["entra-id"]["store"] == "remove"


@pytest.mark.parametrize("declared, fragment", [
    ([OKTA, dict(OKTA)], "resolver_scim_tokens[1] (okta) repeats the name 'okta' of resolver_scim_tokens[0]"),
    ([{"name": "okta", "email_domains": ["a@acme.com"]}], "resolver_scim_tokens[0] (okta).email_domains value"),
    ([{"name": "okta"}], "resolver_scim_tokens[0] (okta).email_domains must be a list"),
    ([{"name": "okta", "email_domains": "acme.com"}], "email_domains must be a list"),
    ([{"name": "", "email_domains": ["acme.com"]}], "resolver_scim_tokens[0].name must be a non-empty string"),
    ([{"name": "x" * 300, "email_domains": ["acme.com"]}], "at most 255 are accepted"),
    ([dict(OKTA, state="enabled")], "state must be one of present, absent, rotated; got 'enabled'"),
    ([dict(OKTA, previous="delete")], "previous must be one of revoke, keep"),
    ([dict(OKTA, rotate_before_days=-1)], "rotate_before_days must be a whole number of days from 0 to 729"),
    ([dict(OKTA, rotate_before_days="30")], "rotate_before_days must be a whole number"),
    ([dict(OKTA, rotate_before_days=True)], "rotate_before_days must be a whole number"),
    ([dict(OKTA, domains=["acme.com"])], "unknown key(s) domains; accepted keys: name, email_domains"),
    (["okta"], "resolver_scim_tokens[0] must be a dict"),
    ("okta", "resolver_scim_tokens must be a list"),
])
def test_bad_entries_name_the_entry_and_what_is_accepted(declared, fragment):
    with pytest.raises(InputError) as caught:
        validate_entries(declared, "resolver_scim_tokens")
    assert fragment in str(caught.value)


def test_absent_entries_need_no_domains_and_defaults_are_filled_in():
    [okta, gone] = validate_entries([{"name": "okta", "email_domains": ["ACME.com "]}, {"name": "old", "state": "absent"}])
    assert okta == {"name": "okta", "email_domains": ["acme.com"], "state": "present", "rotate_before_days": 30,
                    "previous": "revoke", "handover": None}
    assert gone["email_domains"] == []


@given(st.text(min_size=1, max_size=40))
def test_store_keys_are_safe_file_names(name):
    key = store_key(name)
    assert "/" not in key and not key.startswith(".") and key
    if key == name:
        assert all(c.isalnum() or c in "._-" for c in name)


# Names that differ only in characters a file name cannot hold, and names shaped like another name's key.
NEAR_NAMES = st.text(alphabet="ab_-/ .:", min_size=1, max_size=6)


@given(NEAR_NAMES, NEAR_NAMES)
def test_distinct_names_get_distinct_store_keys(first, second):
    assume(first != second)
    assert store_key(first) != store_key(second)


@given(st.text(min_size=1, max_size=40))
def test_a_name_spelled_like_another_names_key_gets_its_own(name):
    # "okta?" is stored as "okta_-<hash>"; a token named exactly that must not share its file.
    key = store_key(name)
    assume(key != name)
    assert store_key(key) != key


# The store guard: a store that was never used for the org (asked in the wrong place, or really new) reads as empty.
LIVE = [token(1, 600, "okta", ["acme.com", "acme.org"]), token(2, 600, "entra-id", ["acme-labs.com"])]


def test_a_store_that_never_saw_the_org_refuses_to_heal_its_live_tokens():
    plan = plan_org(entries(OKTA, ENTRA), LIVE, NOW, stored={}, store_org_known=False,
                    store_location="aws secretsmanager resolver-scim/acme/ (eu-west-1)", option_prefix="resolver_scim_")
    assert plan["actions"] == [] and plan["drifted"] is True
    assert [e["action"] for e in plan["entries"]] == ["refused", "refused"]
    assert all(e["issue"] is None and e["revoke_ids"] == [] and not e["create"] and e["store"] is None
               for e in plan["entries"])
    assert [e["name"] for e in plan["drift"]["store_unknown"]] == ["okta", "entra-id"]
    assert plan["drift"]["unstored"] == []
    assert "the store holds no value for the live token 1" in plan["drift"]["store_unknown"][0]["reason"]
    message = plan["refused"]
    assert message.startswith("The token store (aws secretsmanager resolver-scim/acme/ (eu-west-1)) has never been "
                              "used for this org")
    assert "okta (live token 1; planned: healed), entra-id (live token 2; planned: healed)" in message
    assert "Nothing was changed" in message and "point to the wrong place" in message
    assert "set resolver_scim_heal_unstored=false to keep using the tokens until they are due" in message
    assert "resolver_scim_store_is_new=true for one run" in message


def test_a_refused_renewal_offers_only_the_confirmation():
    due = [token(1, 20, "okta", ["acme.com", "acme.org"]), token(2, 600, "entra-id", ["acme-labs.com"])]
    for heal in (True, False):
        plan = plan_org(entries(OKTA, ENTRA), due, NOW, stored={}, heal_unstored=heal, store_org_known=False)
        assert plan["actions"] == [] and plan["refused"]
        assert "okta (live token 1; planned: renewed)" in plan["refused"]
        assert "heal_unstored" not in plan["refused"] and "set store_is_new=true for one run" in plan["refused"]
    # Without healing, a token that is not due is simply kept: only the renewal is at risk.
    assert [e["name"] for e in plan["drift"]["store_unknown"]] == ["okta"]
    assert by_name(plan)["entra-id"]["action"] == "none"


@pytest.mark.parametrize("declared, live, state", [
    # Forced rotation, other domains, older tokens revoked: each replaces or revokes what the right store may hold.
    ({"name": "okta", "email_domains": ["acme.com", "acme.org"], "state": "rotated"},
     [token(1, 600, "okta", ["acme.com", "acme.org"])], "rotated"),
    ({"name": "okta", "email_domains": ["acme.com"]}, [token(1, 600, "okta", ["other.com"])], "recreated"),
    ({"name": "okta", "email_domains": ["acme.com"]},
     [token(1, 500, "okta", ["acme.com"]), token(2, 600, "okta", ["acme.com"])], "revoked"),
])
def test_every_change_of_a_live_token_is_refused(declared, live, state):
    known = plan_org(entries(declared), live, NOW, stored={}, heal_unstored=False)
    assert [e["action"] for e in known["actions"]] == [state]
    plan = plan_org(entries(declared), live, NOW, stored={}, heal_unstored=False, store_org_known=False)
    assert plan["actions"] == [] and "planned: %s" % state in plan["refused"]


def test_an_unknown_store_changes_nothing_in_a_refused_org_and_lets_new_orgs_and_deletions_through():
    new = {"name": "scim-new", "email_domains": ["acme.com"]}
    gone = {"name": "old", "state": "absent"}
    mixed = LIVE + [token(3, 600, "old", ["acme.com"])]
    plan = plan_org(entries(OKTA, new, gone), mixed, NOW, stored={}, store_org_known=False, exclusive=True)
    assert plan["actions"] == [] and plan["refused"]
    # What was not refused is still reported as drift, and is not done either.
    assert by_name(plan)["scim-new"]["action"] == "created" and by_name(plan)["old"]["action"] == "deleted"
    assert [e["name"] for e in plan["drift"]["missing"]] == ["scim-new"]
    # A brand-new org has no live token to lose: it is created; a declared deletion needs no store either.
    for declared, tokens in (((OKTA, ENTRA), []), ((gone,), mixed)):
        plan = plan_org(entries(*declared), tokens, NOW, stored={}, store_org_known=False)
        assert plan["refused"] is None and plan["actions"] and plan["drift"]["store_unknown"] == []


def test_a_known_store_or_no_store_is_never_refused():
    assert plan_org(entries(OKTA), LIVE, NOW, stored={})["actions"][0]["action"] == "healed"
    plan = plan_org(entries(OKTA), LIVE, NOW, stored=None, store_org_known=False)
    assert plan["refused"] is None and plan["actions"] == []
    # A store that holds the live tokens has nothing at risk, whatever it says.
    plan = plan_org(entries(OKTA), LIVE, NOW, stored={"okta": 1}, store_org_known=False, rotate=["okta"])
    assert plan["refused"] is None and plan["actions"][0]["action"] == "rotated"


def test_a_deletion_of_an_undeclared_token_is_an_entry_like_every_other():
    held = store_view([{"name": "okta", "token_id": 1, "org_id": 1}], 1)
    plan = plan_org(entries(OKTA), LIVE[:1] + [token(3, 600, "old", ["acme.com"])], NOW, store=held, exclusive=True)
    declared, undeclared = plan["entries"]
    assert (declared["action"], undeclared["action"]) == ("none", "deleted")
    assert set(undeclared) == set(declared)
    assert undeclared["revoke_ids"] == [3] and undeclared["store"] == "remove" and undeclared["stored_token_id"] is None


def test_the_store_guard_returns_refused_copies_and_leaves_the_plan_it_was_given_alone():
    planned = plan_org(entries(OKTA), LIVE, NOW, stored={})["entries"]
    given = copy.deepcopy(planned)
    guarded, message = store_guard(planned, LIVE, NOW, {"held": {}}, "file store /srv/scim/acme", "resolver_scim_")
    assert planned == given
    assert [e["action"] for e in guarded] == ["refused"] and guarded[0]["revoke_ids"] == [] and guarded[0]["issue"] is None
    assert guarded[0]["reason"].startswith(given[0]["reason"] + "; refused: the token store (file store /srv/scim/acme)")
    assert message.startswith("The token store (file store /srv/scim/acme) has never been used for this org")
    assert "set resolver_scim_heal_unstored=false" in message


def test_an_absent_token_the_store_still_holds_a_value_of_is_forgotten():
    held = store_view([{"name": "okta", "token_id": 1, "org_id": 1}], 1)
    plan = plan_org(entries({"name": "okta", "state": "absent"}), LIVE[1:], NOW, store=held)
    assert by_name(plan)["okta"]["action"] == "deleted"
    assert by_name(plan)["okta"]["revoke_ids"] == []
    assert "store holds the value of token 1" in by_name(plan)["okta"]["reason"]
    assert by_name(plan_org(entries({"name": "okta", "state": "absent"}), LIVE[1:], NOW, store=store_view([], 1)))[
        "okta"]["action"] == "none"
