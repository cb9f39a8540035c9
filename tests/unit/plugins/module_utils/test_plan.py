# Copyright: (c) 2026, resolver.scim contributors
# GNU General Public License v3.0+ (see LICENSES/GPL-3.0-or-later.txt or https://www.gnu.org/licenses/gpl-3.0.txt)
"""module_utils/_plan.py: every plan entry comes from one builder, and the store guard changes no entry in place."""

import copy

from ansible_collections.resolver.scim.plugins.module_utils._plan import plan_org, store_guard
from ansible_collections.resolver.scim.plugins.module_utils._store_records import store_view

from test_org_plan import LIVE, NOW, OKTA, entries, token


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
