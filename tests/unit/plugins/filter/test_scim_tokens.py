# Copyright: (c) 2026, resolver.scim contributors
# GNU General Public License v3.0+ (see LICENSES/GPL-3.0-or-later.txt or https://www.gnu.org/licenses/gpl-3.0.txt)
"""The role's filters over hostvars: what a drift check reports for an org whose plan the store guard refused."""

import datetime

from ansible_collections.resolver.scim.plugins.filter.scim_tokens import token_drift_report, token_summary
from ansible_collections.resolver.scim.plugins.module_utils._plan import plan_org
from ansible_collections.resolver.scim.plugins.module_utils._token_entries import validate_entries
from ansible_collections.resolver.scim.plugins.module_utils._tokens import ScimToken

NOW = datetime.datetime(2026, 11, 28, 12, 0, tzinfo=datetime.timezone.utc)


def refused_result():
    """The failed scim_token_plan result of an org whose store never saw it, as Ansible registers it."""
    created = NOW - datetime.timedelta(days=30)
    live = [ScimToken(1, "okta", 100, ("acme.com",), created, created + datetime.timedelta(days=730))]
    plan = plan_org(validate_entries([{"name": "okta", "email_domains": ["acme.com"]}]), live, NOW, stored={},
                    store_org_known=False, store_location="file store /srv/scim/acme")
    return dict(plan, failed=True, msg=plan["refused"], exclusive=False)


def test_a_refused_plan_is_reported_as_drift_and_fails_the_summary():
    hostvars = {"acme": {"scim_tokens_plan": refused_result(), "scim_tokens_drift_error": "the guard's message"},
                "globex": {"scim_tokens_plan": {"failed": True, "msg": "Resolver refused who am I (HTTP 401)"},
                           "scim_tokens_drift_error": "Resolver refused who am I (HTTP 401)"}}
    report = token_drift_report(["acme", "globex"], hostvars, "2026-11-28T12:00:00Z")
    acme = report["orgs"]["acme"]
    assert "error" not in acme and acme["drifted"] and report["drifted"]
    assert [item["name"] for item in acme["drift"]["store_unknown"]] == ["okta"]
    assert report["orgs"]["globex"] == {"org": "globex", "error": "Resolver refused who am I (HTTP 401)"}
    lines = token_summary(["acme"], hostvars)
    assert lines[0].startswith("acme: FAILED - The token store (file store /srv/scim/acme) has never been used")
