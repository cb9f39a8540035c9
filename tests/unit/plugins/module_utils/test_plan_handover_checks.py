# Copyright: (c) 2026, resolver.scim contributors
# GNU General Public License v3.0+ (see LICENSES/GPL-3.0-or-later.txt or https://www.gnu.org/licenses/gpl-3.0.txt)
"""Your own IdP tasks in the plan (issue 20, items 2 and 5): the target handover_tasks return, and what
handover_check_tasks are asked to check."""

import pytest

from ansible_collections.resolver.scim.plugins.module_utils._errors import InputError
from ansible_collections.resolver.scim.plugins.module_utils._plan import plan_org
from ansible_collections.resolver.scim.plugins.module_utils._store_records import store_view
from ansible_collections.resolver.scim.plugins.module_utils._token_entries import validate_entries

from test_run_outcome import NOW, token

TASKS, CHECK = "/plays/okta-handover.yml", "/plays/okta-check.yml"
RETURNED, MOVED = "okta:acme.okta.com/app/0oa1", "okta:acme.okta.com/app/0oa2"


def okta(check=CHECK):
    entry = {"name": "okta", "email_domains": ["acme.com"], "handover_tasks": TASKS}
    if check:
        entry["handover_check_tasks"] = check
    return entry


def record(target, token_id=1):
    return {"name": "okta", "token_id": token_id, "org_id": 100, "status": "current", "idp_token_id": token_id,
            "idp_target": target}


def plan(entries, records, **kwargs):
    return plan_org(validate_entries(entries), [token(1, 400, "okta")], NOW, store=store_view(records, 100), **kwargs)


def test_a_handed_over_token_with_check_tasks_is_listed_for_its_check_without_a_value():
    planned = plan([okta()], [record(RETURNED)])
    assert planned["actions"] == [] and planned["handed_over"] == []
    assert planned["handover_checks"] == [{"name": "okta", "token_id": 1, "target": RETURNED, "tasks": CHECK}]
    assert plan([okta(check=None)], [record(RETURNED)])["handover_checks"] == []


def test_a_failed_check_hands_the_stored_token_over_again_naming_the_returned_target():
    planned = plan([okta()], [record(RETURNED)], idp_failing={"okta": "Okta holds token 9"})
    [entry] = planned["actions"]
    assert (entry["action"], entry["handover"]["value_from"], entry["create"]) == ("handover", "current", False)
    [drift] = planned["drift"]["idp_cannot_provision"]
    assert drift["reason"].startswith("handover_tasks %s (target %s) cannot provision with what it holds "
                                      "(Okta holds token 9)" % (TASKS, RETURNED))
    assert planned["handover_checks"] == []


def test_a_returned_target_is_not_drift_until_the_check_finds_another():
    assert plan([okta()], [record(RETURNED)])["actions"] == []
    assert plan([okta()], [record(RETURNED)], idp_targets_found={"okta": RETURNED})["actions"] == []
    moved = plan([okta()], [record(RETURNED)], idp_targets_found={"okta": MOVED})
    [entry] = moved["actions"]
    assert entry["action"] == "handover" and entry["handover"]["target"] == MOVED
    assert [d["name"] for d in moved["drift"]["idp_target_changed"]] == ["okta"]


def test_the_task_file_default_is_still_compared():
    moved = plan([okta()], [record("handover_tasks:/plays/old-handover.yml")])
    assert [d["name"] for d in moved["drift"]["idp_target_changed"]] == ["okta"]


@pytest.mark.parametrize("entry, message", [
    ({"name": "x", "email_domains": ["acme.com"], "handover_check_tasks": CHECK}, "the entry has no handover_tasks"),
    ({"name": "x", "email_domains": ["acme.com"], "entra": {"service_principal_id": "sp"},
      "handover_check_tasks": CHECK}, "the entry has no handover_tasks"),
    (dict(okta(), handover_check_tasks=["a"]), "must be the path of a task file"),
])
def test_check_tasks_need_handover_tasks(entry, message):
    with pytest.raises(InputError, match=message):
        validate_entries([entry])
