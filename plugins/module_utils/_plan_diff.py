# -*- coding: utf-8 -*-
# Copyright: (c) 2026, resolver.scim contributors
# GNU General Public License v3.0+ (see LICENSES/GPL-3.0-or-later.txt or https://www.gnu.org/licenses/gpl-3.0.txt)
"""The diff of an org's plan, as a Terraform plan shows one: for each token name the plan acts on, its tokens'
metadata (id, email domains, expiry) now and after the planned actions, and the identity provider a token is
handed to. Never a value: a new token is shown with what is known before it exists."""

KNOWN_AFTER_ISSUE = "(known after the issue)"


def _metadata(token):
    return {"id": token["id"], "email_domains": token["email_domains"], "expires": token["expires"]}


def _name_diff(entry, tokens):
    """(before, after) of one planned action: the tokens of its name that are live or that it revokes."""
    revoked = set(entry["revoke_ids"])
    shown = [t for t in tokens if t["name"] == entry["name"] and (not t["expired"] or t["id"] in revoked)]
    before = {"tokens": [_metadata(t) for t in shown]}
    after = {"tokens": [_metadata(t) for t in shown if t["id"] not in revoked]}
    if entry["create"]:
        after["tokens"].append({"id": KNOWN_AFTER_ISSUE, "email_domains": entry["email_domains"],
                                "expires": KNOWN_AFTER_ISSUE})
    if entry["handover"]:
        after["handed_over_to"] = entry["handover"]["to"]
    return before, after


def _existing(names):
    """A name without tokens is left out, as a resource not yet created or destroyed is."""
    return dict((name, state) for name, state in names.items() if state["tokens"] or len(state) > 1)


def plan_diff(plan, org):
    """The Ansible diff ({before, after, before_header, after_header}) of a plan_org() result, or None when the
    plan has no action."""
    if not plan["actions"]:
        return None
    before, after = {}, {}
    for entry in plan["actions"]:
        before[entry["name"]], after[entry["name"]] = _name_diff(entry, plan["tokens"])
    return {"before": _existing(before), "after": _existing(after), "before_header": "%s: SCIM tokens now" % org,
            "after_header": "%s: SCIM tokens after the planned actions" % org}
