# Copyright: (c) 2026, resolver.scim contributors
# GNU General Public License v3.0+ (see LICENSES/GPL-3.0-or-later.txt or https://www.gnu.org/licenses/gpl-3.0.txt)
"""What the role's task files only carry out: issue calls, revocations after the store, summary, drift, shared orgs."""

import datetime
import json

import yaml

from ansible_collections.resolver.scim.plugins.module_utils._plan import DRIFT_CATEGORIES, plan_org
from ansible_collections.resolver.scim.plugins.module_utils._reports import (
    drift_lines,
    drift_report,
    shared_orgs,
    summary_lines,
)
from ansible_collections.resolver.scim.plugins.module_utils._run_outcome import outcome, postcondition, store_items
from ansible_collections.resolver.scim.plugins.module_utils._store_records import store_key, store_view
from ansible_collections.resolver.scim.plugins.module_utils._token_entries import validate_entries
from ansible_collections.resolver.scim.plugins.module_utils._tokens import (
    DEFAULT_ROTATE_BEFORE_DAYS,
    TOKEN_ENTRY_OPTIONS,
    ScimToken,
)

NOW = datetime.datetime(2026, 11, 28, 12, 0, tzinfo=datetime.timezone.utc)
SECRET = "scim-SECRET-value"


def token(id, days_left, name, domains=("acme.com",)):  # pylint: disable=redefined-builtin
    expires = NOW + datetime.timedelta(days=days_left)
    return ScimToken(id, name, 100, domains, expires - datetime.timedelta(days=730), expires)


def plan(tokens, *declared, **kwargs):
    return plan_org(validate_entries(list(declared)), tokens, NOW, **kwargs)


def issued(*results):
    return {"results": results}


def result(entry, token_id=None, failed=False, msg=None):
    found = {"item": entry, "failed": failed}
    if token_id is not None:
        found.update(token=SECRET, token_id=token_id, email_domains=["acme.com"], expires="2028-11-28T12:00:00Z")
    if msg:
        found["msg"] = msg
    return found


OKTA = {"name": "okta", "email_domains": ["acme.com"]}


def test_a_renewal_carries_its_issue_call_and_keeps_the_old_token_until_stored():
    planned = plan([token(1, 10, "okta")], OKTA, stored={"okta": 1})
    [entry] = planned["actions"]
    assert entry["issue"] == {"name": "okta", "email_domains": ["acme.com"], "state": "present",
                              "rotate_before_days": DEFAULT_ROTATE_BEFORE_DAYS, "previous": "keep", "verify": False}
    assert entry["revoke_ids"] == [1]
    # In check mode the one issue call reports the whole change, revocation included.
    checked = plan([token(1, 10, "okta")], OKTA, stored={"okta": 1}, check_mode=True)
    assert checked["actions"][0]["issue"]["previous"] == "revoke"


def test_old_tokens_are_revoked_only_when_the_store_holds_the_successor():
    planned = plan([token(1, 10, "okta")], OKTA, stored={"okta": 1})
    entry = planned["actions"][0]
    stored = outcome(planned, issued(result(entry, token_id=2)), {"okta": 2})
    assert stored == {"revoke_ids": [1], "failures": [], "forget": [], "proofs": []}
    # The store did not take it: the new token (whose value is now nowhere) goes, the old one stays live.
    lost = outcome(planned, issued(result(entry, token_id=2)), {"okta": 1}, store_error="disk full")
    assert lost["revoke_ids"] == [2]
    assert lost["failures"][0]["step"] == "store" and "disk full" in lost["failures"][0]["message"]
    assert SECRET not in json.dumps(lost)


def test_a_failed_issue_is_reported_by_name_and_an_unverified_token_revoked():
    planned = plan([token(1, 10, "okta")], OKTA, stored={"okta": 1})
    entry = planned["actions"][0]
    unverified = outcome(planned, issued(result(entry, token_id=2, failed=True, msg="does not authenticate")), {})
    assert unverified["revoke_ids"] == [2]
    assert unverified["failures"] == [{"name": "okta", "step": "issue", "msg": "does not authenticate",
                                       "message": "okta (issue): does not authenticate"}]
    refused = outcome(planned, issued(result(entry, failed=True, msg="domain refused")), {})
    assert refused["revoke_ids"] == [] and len(refused["failures"]) == 1


def test_check_mode_revokes_only_what_is_not_replaced():
    tokens = [token(1, 10, "okta"), token(5, 600, "legacy")]
    planned = plan(tokens, OKTA, stored={"okta": 1}, exclusive=True, check_mode=True)
    entry = [e for e in planned["actions"] if e["name"] == "okta"][0]
    assert outcome(planned, issued(result(entry)), {}, check_mode=True) == {
        "revoke_ids": [5], "failures": [], "forget": [], "proofs": []}


def test_store_items_carry_the_value_and_the_keys():
    planned = plan([], {"name": "okta/prod", "email_domains": ["acme.com"]}, stored={})
    entry = planned["actions"][0]
    [item] = store_items(planned, issued(result(entry, token_id=7)), "acme", 12)
    assert item["token"] == SECRET and item["key"] == store_key("okta/prod") and item["org_id"] == 12


def test_the_final_plan_must_have_nothing_left():
    assert postcondition(plan([token(1, 600, "okta")], OKTA, stored={"okta": 1})) == []
    [left] = postcondition(plan([token(1, 10, "okta")], OKTA, stored={"okta": 1}))
    assert left["step"] == "final plan" and "still renewed" in left["msg"]


def test_store_records_of_another_org_or_twice_the_same_name_are_not_used():
    records = [{"name": "okta", "token_id": 1, "org_id": 12, "source": "a.json"},
               {"name": "entra", "token_id": 2, "org_id": 99, "source": "b.json"},
               {"name": "scim", "token_id": 3, "org_id": 12, "source": "c.json"},
               {"name": "scim", "token_id": 4, "org_id": 12, "source": "d.json"}]
    view = store_view(records, 12)
    held, problems = view["held"], view["problems"]
    assert held == {"okta": 1, "scim": None}
    assert any("b.json belongs to org 99" in p for p in problems)
    assert any("c.json and d.json hold token 'scim' more than once" in p for p in problems)


def test_a_token_without_expiry_or_creation_date_is_reported_not_trusted():
    planned = plan([ScimToken(9, "okta", 100, ("acme.com",))], OKTA, stored={"okta": 9})
    assert planned["actions"] == [] and planned["drifted"] is True
    assert planned["drift"]["unknown_expiry"][0]["token_id"] == 9


def test_summary_lines_fit_100_columns_and_say_what_was_revoked():
    long_name = "x" * 200
    planned = plan([token(1, 10, "okta")], OKTA, {"name": long_name, "email_domains": ["acme.com"]},
                   stored={"okta": 1})
    lines = summary_lines([{"org": "acme", "plan": planned, "final": None, "failures": []},
                           {"org": "globex", "plan": None, "error": "wrong key"}], check_mode=True)
    assert all(len(line) <= 100 for line in lines)
    text = "\n".join(lines)
    assert "would renew okta: token 1 expires in 10 days" in text and "then revoke 1" in text
    assert "globex: FAILED - wrong key" in text and text.endswith("nothing was changed)")


def test_drift_report_is_data_with_the_error_of_an_org_that_could_not_be_read():
    planned = plan([token(1, 10, "okta"), token(5, 600, "legacy")], OKTA, stored={"okta": 1})
    report = drift_report([{"org": "acme", "plan": planned},
                           {"org": "globex", "plan": None, "error": "Resolver refused who am I (HTTP 401)"}],
                          "2026-11-28T12:00:00Z")
    assert json.loads(json.dumps(report))["orgs"]["globex"]["error"].startswith("Resolver refused")
    assert report["drifted"] is True and report["orgs"]["acme"]["unmanaged"] == ["legacy"]
    assert set(report["orgs"]["acme"]["drift"]) == set(DRIFT_CATEGORIES)
    lines = drift_lines(report)
    assert lines[0].startswith("acme: DRIFTED (expiring)") and "unmanaged: legacy" in lines[0]
    assert any(line.startswith("globex: ERROR") for line in lines)


def test_hosts_on_one_org_or_one_store_location_are_named():
    found = shared_orgs({"a": {"org_key": "https://r/api#1", "store": "/s/a"},
                         "b": {"org_key": "https://r/api#1", "store": "/s/b"},
                         "c": {"org_key": "https://r/api#2", "store": "/s/a"},
                         "d": {"org_key": "https://r/api#3", "store": "/s/d"}})
    assert sorted(found) == ["a", "b", "c"]
    assert "hosts a, b manage the same Resolver org (https://r/api org 1)" in found["b"]
    assert "hosts a, c manage the same token store location (/s/a)" in found["c"]


def test_role_documentation_and_defaults_agree_with_the_entry_spec():
    with open("roles/scim_tokens/meta/argument_specs.yml", encoding="utf-8") as handle:
        spec = yaml.safe_load(handle)["argument_specs"]["main"]["options"]
    entry = spec["resolver_scim_tokens"]["options"]
    for option, definition in TOKEN_ENTRY_OPTIONS.items():
        assert entry[option]["type"] == definition["type"]
        assert entry[option].get("default") == definition.get("default"), option
        assert entry[option].get("choices") == definition.get("choices"), option
    with open("roles/scim_tokens/defaults/main.yml", encoding="utf-8") as handle:
        defaults = handle.read()
    for option, definition in spec.items():
        if "default" in definition and option.startswith("resolver_scim_") and "{{" not in str(definition["default"]):
            default = definition["default"]
            shown = ("'%s'" % default) if isinstance(default, str) else json.dumps(default)
            assert "%s | default(%s)" % (option, shown) in defaults, option
