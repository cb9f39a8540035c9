# Copyright: (c) 2026, resolver.scim contributors
# GNU General Public License v3.0+ (see LICENSES/GPL-3.0-or-later.txt or https://www.gnu.org/licenses/gpl-3.0.txt)
"""What a new user reads in the first hour (issue 22): every-run rotation, resumed rotations, and the summary's and
drift check's words."""

from ansible_collections.resolver.scim.plugins.module_utils._plan import plan_org
from ansible_collections.resolver.scim.plugins.module_utils._reports import (
    drift_failure,
    drift_lines,
    drift_report,
    summary_lines,
)
from ansible_collections.resolver.scim.plugins.module_utils._run_outcome import outcome, postcondition
from ansible_collections.resolver.scim.plugins.module_utils._store_records import store_view
from ansible_collections.resolver.scim.plugins.module_utils._token_entries import validate_entries

from test_run_outcome import NOW, OKTA, issued, plan, result, token

ROTATED = dict(OKTA, state="rotated")
ENTRA = {"name": "entra", "email_domains": ["acme.com"], "entra": {"service_principal_id": "sp-1"}}


def text_of(lines):
    return " ".join(" ".join(lines).split())


def test_an_every_run_rotation_is_an_action_not_drift_and_done_once_it_ran():
    planned = plan([token(1, 600, "okta")], ROTATED, stored={"okta": 1})
    assert [e["action"] for e in planned["actions"]] == ["rotated"] and planned["drifted"] is False
    # the plan made after the rotation plans another one: this run did it, so nothing is left
    final = plan([token(1, 600, "okta"), token(2, 730, "okta")], ROTATED, stored={"okta": 2})
    assert postcondition(final, planned) == []
    # a run that did not act on it (another org's plan, say) still reports it
    assert [f["name"] for f in postcondition(final)] == ["okta"]


def test_the_drift_check_says_what_an_every_run_rotation_would_do_and_passes():
    planned = plan([token(1, 600, "okta")], ROTATED, stored={"okta": 1})
    report = drift_report([{"org": "acme", "plan": planned}], "now")
    assert report["drifted"] is False and drift_failure(report, "acme") is None
    assert "not drift, a converge would rotate okta (declared state: rotated)" in text_of(drift_lines(report))


def test_a_drift_failure_names_the_categories_or_why_the_org_could_not_be_read():
    planned = plan([token(1, 10, "okta")], OKTA, stored={"okta": 1})
    report = drift_report([{"org": "acme", "plan": planned, "resolver_scim_org": "acme-corp"},
                           {"org": "globex", "plan": None, "error": "Resolver refused the API key (HTTP 401)"}], "now")
    assert drift_failure(report, "acme").startswith(
        "acme (resolver_scim_org acme-corp) drifted from the declared tokens (expiring)")
    assert drift_failure(report, "globex") == "globex could not be read: Resolver refused the API key (HTTP 401)"
    assert drift_lines(report)[0].startswith("acme (resolver_scim_org acme-corp): DRIFTED (expiring)")


def test_a_rotation_of_a_name_whose_handover_is_pending_resumes_it():
    tokens = [token(1, 600, "entra"), token(2, 729, "entra")]
    store = store_view([{"name": "entra", "token_id": 1, "idp_token_id": 1},
                        {"name": "entra", "token_id": 2, "status": "pending"}], None)
    for rotated in (plan_org(validate_entries([ENTRA]), tokens, NOW, store=store, rotate=["entra"]),
                    plan_org(validate_entries([dict(ENTRA, state="rotated")]), tokens, NOW, store=store)):
        [entry] = rotated["actions"]
        assert entry["action"] == "handover" and not entry["create"] and entry["handover"]["value_from"] == "pending"
        assert entry["current_token_id"] == 2 and entry["revoke_ids"] == [1]


def test_healing_says_which_hand_made_token_it_revokes_and_what_stops_working():
    planned = plan([token(1, 600, "okta"), token(2, 700, "okta")], OKTA, stored={"okta": 1})
    text = text_of(summary_lines([{"org": "acme", "plan": planned}]))
    assert "healed okta: the store holds token 1, not the live token 2 (made by hand or by another tool" in text
    assert "whatever was given token 2 by hand stops working until it gets the new value from the store" in text
    assert "then revoke 1, 2" in text


def test_check_mode_says_would_and_a_failure_says_what_did_not_happen():
    planned = plan([token(1, 600, "okta", domains=("old.com",))], OKTA, stored={"okta": 1}, check_mode=True)
    lines = summary_lines([{"org": "acme", "plan": planned}], check_mode=True)
    assert "would recreate okta: token 1 covers old.com" in text_of(lines)
    planned = plan([token(1, 600, "okta", domains=("old.com",))], OKTA, stored={"okta": 1})
    failures = outcome(planned, issued(result(planned["actions"][0], failed=True, msg="HTTP 500")), {})["failures"]
    text = text_of(summary_lines([{"org": "acme", "plan": planned, "failures": failures}]))
    assert "recreated okta" not in text
    assert "FAILED okta: did not recreate it, stopped at the issue step" in text and "token(s) 1 were not revoked" in text


def test_the_summary_lists_unmanaged_live_tokens_and_how_to_remove_them():
    planned = plan([token(1, 600, "okta"), token(5, 600, "legacy"), token(6, -5, "old")], OKTA, stored={"okta": 1})
    text = text_of(summary_lines([{"org": "acme", "plan": planned}]))
    assert "unmanaged: legacy (token(s) 5) declared nowhere, left live" in text and "resolver_scim_exclusive" in text
    exclusive = plan([token(1, 600, "okta"), token(5, 600, "legacy")], OKTA, stored={"okta": 1}, exclusive=True)
    assert "unmanaged" not in text_of(summary_lines([{"org": "acme", "plan": exclusive, "exclusive": True}]))


def test_a_long_error_is_cut_to_its_first_sentence_in_the_summary():
    error = "The token store has never been used for this org. " + "Why and what to do. " * 50
    text = text_of(summary_lines([{"org": "acme", "plan": None, "error": error}]))
    assert text == ("acme: FAILED - The token store has never been used for this org (the failed task above has the "
                    "whole message)")
