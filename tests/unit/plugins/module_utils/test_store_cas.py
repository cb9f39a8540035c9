# Copyright: (c) 2026, resolver.scim contributors
# GNU General Public License v3.0+ (see LICENSES/GPL-3.0-or-later.txt or https://www.gnu.org/licenses/gpl-3.0.txt)
"""Issue 21.3: store writes compare and swap. A write item carries the token id its plan saw under its key, a store
writes only where the record still holds it, and a run that lost the race revokes only its own unstored token."""

import datetime

from ansible_collections.resolver.scim.plugins.module_utils._plan import plan_org
from ansible_collections.resolver.scim.plugins.module_utils._run_outcome import handover_items, outcome, store_items
from ansible_collections.resolver.scim.plugins.module_utils._store_records import (
    changed_records,
    pending_key,
    store_view,
)
from ansible_collections.resolver.scim.plugins.module_utils._token_entries import validate_entries
from ansible_collections.resolver.scim.plugins.module_utils._tokens import ScimToken

NOW = datetime.datetime(2026, 11, 28, 12, 0, tzinfo=datetime.timezone.utc)
OKTA = {"name": "okta", "email_domains": ["acme.com"]}
ENTRA = {"name": "entra", "email_domains": ["acme.com"], "handover_tasks": "/tmp/handover.yml"}


def token(id, days_left, name):  # pylint: disable=redefined-builtin
    expires = NOW + datetime.timedelta(days=days_left)
    return ScimToken(id, name, 100, ["acme.com"], expires - datetime.timedelta(days=730), expires)


def record(name, token_id, status="current"):
    return {"name": name, "token_id": token_id, "org_id": 12, "status": status, "email_domains": ["acme.com"],
            "source": "/store/acme/%s.json" % name}


def renewal():
    """okta is due: the store holds token 1, the plan renews it."""
    planned = plan_org(validate_entries([OKTA]), [token(1, 10, "okta")], NOW,
                       store=store_view([record("okta", 1)], 12))
    [entry] = planned["actions"]
    issued = {"results": [{"item": entry["issue"], "failed": False, "token": "scim-SECRET", "token_id": 2,
                           "email_domains": ["acme.com"], "expires": "2028-11-28T12:00:00Z"}]}
    return planned, issued


def test_a_write_item_carries_the_token_id_its_plan_saw():
    planned, issued = renewal()
    [item] = store_items(planned, issued, "acme", 12)
    assert item["expected_token_id"] == 1 and item["token_id"] == 2


def test_a_new_name_expects_no_record_and_a_pending_write_expects_the_pending_record():
    planned = plan_org(validate_entries([OKTA, ENTRA]), [], NOW, store=store_view([], 12))
    issued = {"results": [{"item": e["issue"], "failed": False, "token": "v", "token_id": i, "email_domains": []}
                          for i, e in enumerate(planned["actions"], 10)]}
    items = {item["name"]: item for item in store_items(planned, issued, "acme", 12)}
    assert items["okta"]["expected_token_id"] is None
    assert items["entra"]["key"] == pending_key("entra") and items["entra"]["expected_token_id"] is None


def test_the_handover_finish_expects_the_current_record_the_plan_saw():
    tokens = [token(1, 10, "entra")]
    store = store_view([record("entra", 1)], 12)
    planned = plan_org(validate_entries([ENTRA]), tokens, NOW, store=store)
    [entry] = planned["actions"]
    issued = {"results": [{"item": entry["issue"], "failed": False, "token": "v", "token_id": 2}]}
    after = store_view([record("entra", 1), dict(record("entra", 2, "pending"), key=pending_key("entra"))], 12)
    [item] = handover_items(planned, issued, after, "https://scim", "acme", 12)
    assert item["expected_token_id"] == 1


def test_an_unchanged_record_may_be_written():
    planned, issued = renewal()
    assert changed_records([record("okta", 1)], store_items(planned, issued, "acme", 12)) == []


def test_a_record_another_run_wrote_meanwhile_is_named_with_its_location():
    planned, issued = renewal()
    [changed] = changed_records([record("okta", 7)], store_items(planned, issued, "acme", 12))
    assert changed["name"] == "okta" and changed["key"] == "okta"
    assert changed["message"] == ("okta: /store/acme/okta.json holds token 7, not token 1 as this run's plan saw: "
                                  "another run wrote it meanwhile, so it was not overwritten.")
    assert "SECRET" not in str(changed)


def test_a_record_that_appeared_or_went_away_counts_as_changed():
    item = {"name": "okta", "key": "okta", "expected_token_id": None}
    assert changed_records([], [item]) == []
    assert "holds token 3, not no record" in changed_records([record("okta", 3)], [item])[0]["message"]
    gone = dict(item, expected_token_id=3)
    assert "the store record 'okta' holds no token, not token 3" in changed_records([], [gone])[0]["message"]


def test_an_item_without_an_expectation_is_not_compared():
    """A custom caller that sends no expected_token_id keeps writing as before."""
    assert changed_records([record("okta", 7)], [{"name": "okta", "key": "okta"}]) == []


def test_a_pending_record_is_compared_under_its_own_key():
    item = {"name": "entra", "key": pending_key("entra"), "expected_token_id": None}
    assert changed_records([record("entra", 1)], [item]) == []
    assert changed_records([record("entra", 5, "pending")], [item])[0]["key"] == pending_key("entra")


def test_a_run_that_lost_the_race_revokes_only_its_own_unstored_token():
    planned, issued = renewal()
    result = outcome(planned, issued, store_view([record("okta", 7)], 12), store_error="okta: /store/acme/okta.json")
    assert result["revoke_ids"] == [2]
    [failure] = result["failures"]
    assert failure["step"] == "store" and "another run changed its store record" in failure["msg"]
    assert "it holds token 7, the plan saw 1" in failure["msg"] and "/store/acme/okta.json" in failure["msg"]
    assert "token(s) 1 stay live" in failure["msg"]


def test_a_write_that_failed_without_a_race_is_reported_as_before():
    planned, issued = renewal()
    result = outcome(planned, issued, store_view([record("okta", 1)], 12))
    assert result["revoke_ids"] == [2] and "the store did not take new token 2" in result["failures"][0]["msg"]
