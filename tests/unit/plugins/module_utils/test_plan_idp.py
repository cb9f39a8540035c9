# Copyright: (c) 2026, resolver.scim contributors
# GNU General Public License v3.0+ (see LICENSES/GPL-3.0-or-later.txt or https://www.gnu.org/licenses/gpl-3.0.txt)
"""The identity provider's side in the plan (issue 20): what the IdP check tests, a changed target, a token an IdP
holds kept until something replaced it there, and one Entra ID app per entry and per org."""

import pytest

from ansible_collections.resolver.scim.plugins.module_utils._errors import InputError
from ansible_collections.resolver.scim.plugins.module_utils._plan import plan_org
from ansible_collections.resolver.scim.plugins.module_utils._reports import shared_orgs, summary_lines
from ansible_collections.resolver.scim.plugins.module_utils._run_outcome import outcome
from ansible_collections.resolver.scim.plugins.module_utils._store_records import store_view
from ansible_collections.resolver.scim.plugins.module_utils._token_entries import validate_entries

from test_run_outcome import NOW, issued, token

APP, OTHER_APP, TENANT = "6c2d1e0f-3a4b-4c5d-8e9f-0a1b2c3d4e5f", "7d3e2f1a-3a4b-4c5d-8e9f-0a1b2c3d4e5f", "t1"
TARGET = "entra:%s/%s" % (TENANT, APP)


def entra(name="entra", app=APP, **extra):
    return dict({"name": name, "email_domains": ["acme.com"], "entra": {"service_principal_id": app}}, **extra)


def record(name, token_id, target=TARGET, idp=True):
    found = {"name": name, "token_id": token_id, "org_id": 100, "status": "current"}
    if idp:
        found.update(idp_token_id=token_id, idp_target=target, idp_job_id="scim.job")
    return found


def plan(tokens, entries, records, **kwargs):
    return plan_org(validate_entries(entries), tokens, NOW, store=store_view(records, 100), entra_tenant=TENANT,
                    **kwargs)


def test_a_handed_over_token_is_what_the_idp_check_tests_and_a_failure_hands_it_over_again():
    planned = plan([token(1, 400, "entra")], [entra()], [record("entra", 1)])
    assert planned["actions"] == []
    assert planned["handed_over"] == [{"name": "entra", "token_id": 1, "target": TARGET, "service_principal_id": APP,
                                       "job_id": "scim.job"}]
    failing = plan([token(1, 400, "entra")], [entra()], [record("entra", 1)], idp_failing={"entra": "refused"})
    [entry] = failing["actions"]
    assert (entry["action"], entry["handover"]["value_from"]) == ("handover", "current")
    assert [d["name"] for d in failing["drift"]["idp_cannot_provision"]] == ["entra"]
    assert failing["drifted"]


def test_a_changed_app_is_drift_and_the_live_token_goes_to_it():
    planned = plan([token(1, 400, "entra")], [entra(app=OTHER_APP)], [record("entra", 1)])
    [entry] = planned["actions"]
    assert entry["action"] == "handover" and entry["handover"]["target"] == "entra:%s/%s" % (TENANT, OTHER_APP)
    assert [d["name"] for d in planned["drift"]["idp_target_changed"]] == ["entra"]


@pytest.mark.parametrize("removal", ["exclusive", "absent"])
def test_a_renamed_entry_revokes_the_old_token_only_once_its_handover_to_the_same_app_is_recorded(removal):
    declared = [entra("entra2")] + ([{"name": "entra", "state": "absent"}] if removal == "absent" else [])
    planned = plan([token(1, 400, "entra")], declared, [record("entra", 1)], exclusive=removal == "exclusive")
    deleted = [e for e in planned["actions"] if e["name"] == "entra"][0]
    assert deleted["revoke_ids"] == [] and deleted["store"] is None
    new = [e for e in planned["actions"] if e["name"] == "entra2"][0]
    run = issued({"item": new, "failed": False, "token": "x", "token_id": 2})
    pending = [record("entra", 1), dict(record("entra2", 2, idp=False), status="pending")]
    assert outcome(planned, run, store_view(pending, 100))["revoke_ids"] == []
    finished = [record("entra", 1), record("entra2", 2)]
    judged = outcome(planned, run, store_view(finished, 100))
    assert judged["revoke_ids"] == [1] and judged["forget"] == [{"name": "entra", "store_key": "entra"}]


def test_a_removed_entry_whose_app_nobody_names_any_more_is_revoked_with_a_warning():
    planned = plan([token(1, 400, "entra")], [{"name": "entra", "state": "absent"}], [record("entra", 1)])
    [deleted] = planned["actions"]
    assert deleted["revoke_ids"] == [1]
    lines = " ".join(summary_lines([{"org": "acme", "plan": planned, "failures": []}]))
    assert "WARNING: %s holds token 1, which is revoked: it stops provisioning" % TARGET in " ".join(lines.split())


def test_one_app_per_entry_and_per_org():
    with pytest.raises(InputError, match="entries entra and entra2 both hand their token to Entra ID service principal"):
        validate_entries([entra(), entra("entra2")])
    hosts = {"org1": {"org_key": "a#1", "targets": {"entra": TARGET}},
             "org2": {"org_key": "a#2", "targets": {"idp": TARGET}}}
    problems = shared_orgs(hosts)
    assert sorted(problems) == ["org1", "org2"]
    assert "orgs org1 (entry entra) and org2 (entry idp) hand their tokens to the same Entra ID app" in problems["org1"]
