# Copyright: (c) 2026, resolver.scim contributors
# GNU General Public License v3.0+ (see LICENSES/GPL-3.0-or-later.txt or https://www.gnu.org/licenses/gpl-3.0.txt)
"""scim_token_plan's diff: each acted-on name's tokens before and after, as metadata only (issue 22)."""

import json

from ansible_collections.resolver.scim.plugins.module_utils._plan_diff import KNOWN_AFTER_ISSUE
from ansible_collections.resolver.scim.plugins.modules import scim_token_plan

from test_modules import FakeApi, FakeModule, token

SP = "6c2d0f4e-1a2b-4c3d-8e9f-0a1b2c3d4e5f"


def planned(tokens, declared, **params):
    module = FakeModule(scim_token_plan, tokens=declared, require_admin=True, **params)
    return scim_token_plan.run(module, FakeApi(tokens))


def test_a_renewal_shows_the_old_token_going_and_a_new_one_coming():
    _changed, result, diff = planned([token(1, 10), token(2, 600, name="entra")],
                                     [{"name": "okta", "email_domains": ["acme.com"]},
                                      {"name": "entra", "email_domains": ["acme.com"]}])
    assert [a["action"] for a in result["actions"]] == ["renewed"]
    old = result["tokens"][1]
    assert old["id"] == 1
    assert diff["before"] == {"okta": {"tokens": [{"id": 1, "email_domains": ["acme.com"],
                                                   "expires": old["expires"]}]}}
    assert diff["after"] == {"okta": {"tokens": [{"id": KNOWN_AFTER_ISSUE, "email_domains": ["acme.com"],
                                                  "expires": KNOWN_AFTER_ISSUE}]}}
    assert diff["before_header"] == "Acme: SCIM tokens now"


def test_a_new_name_is_only_after_and_a_deleted_one_only_before():
    _changed, _result, diff = planned([token(3, 600, name="old")], [
        {"name": "okta", "email_domains": ["acme.com"]}, {"name": "old", "state": "absent"}])
    assert set(diff["before"]) == {"old"} and set(diff["after"]) == {"okta"}


def test_a_handover_names_the_identity_provider():
    _changed, result, diff = planned([], [{"name": "entra", "email_domains": ["acme.com"],
                                           "entra": {"service_principal_id": SP}}])
    assert diff["after"]["entra"]["handed_over_to"] == result["actions"][0]["handover"]["to"]


def test_no_action_no_diff_and_never_a_value():
    assert planned([token(1, 600)], [{"name": "okta", "email_domains": ["acme.com"]}])[2] is None
    _changed, _result, diff = planned([token(1, 10)], [{"name": "okta", "email_domains": ["acme.com"]}])
    assert "value" not in json.dumps(diff) and "secret" not in json.dumps(diff)
