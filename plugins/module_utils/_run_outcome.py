# -*- coding: utf-8 -*-
# Copyright: (c) 2026, resolver.scim contributors
# GNU General Public License v3.0+ (see LICENSES/GPL-3.0-or-later.txt or https://www.gnu.org/licenses/gpl-3.0.txt)
"""What a changing run writes and hands over after its issue step, and the judgement of what it achieved.

``outcome`` takes what the run did (issued tokens, what the store holds afterwards) and says which tokens to
revoke and what failed; nothing here has seen a token value.
"""

from ansible_collections.resolver.scim.plugins.module_utils._plan import rotates_every_run
from ansible_collections.resolver.scim.plugins.module_utils._store_records import pending_key, pending_records_of


def _issued_by_name(issued):
    """The scim_token results of a run's issue loop, by token name (a registered loop, or its results list)."""
    results = issued.get("results", []) if isinstance(issued, dict) else (issued or [])
    return {result["item"]["name"]: result for result in results
            if isinstance(result, dict) and isinstance(result.get("item"), dict) and not result.get("skipped")}


def store_items(plan, issued, org, org_id):
    """What the store must write after the issue step: one record per new token (the value included). A token
    that goes to an identity provider is written as ``pending`` under its own key until the handover finished."""
    items = []
    for entry in plan["actions"]:
        result = _issued_by_name(issued).get(entry["name"])
        if result is None or result.get("failed") or not result.get("token"):
            continue
        pending = entry.get("handover") is not None
        items.append({"name": entry["name"], "key": pending_key(entry["name"]) if pending else entry["store_key"],
                      "token": result["token"], "token_id": result["token_id"],
                      "email_domains": result.get("email_domains") or [], "expires": result.get("expires"),
                      "org": org, "org_id": org_id, "status": "pending" if pending else "current",
                      "expected_token_id": entry.get("stored_pending_id" if pending else "stored_token_id")})
    return items


def handover_items(plan, issued, store, scim_url, org, org_id):
    """The handovers to run, after the store was read back: a new token only once the store holds it as pending
    (so its value is never only in memory), a resumed or adopted one from the store. No value is included: the
    handover step takes a new token's value from the issue result and any other from the store."""
    items = []
    by_name = _issued_by_name(issued)
    for entry in plan["actions"]:
        handover = entry.get("handover")
        if not handover:
            continue
        item = {"name": entry["name"], "key": entry["store_key"], "value_from": handover["value_from"],
                "to": handover["to"], "entra": handover.get("entra"), "tasks": handover.get("tasks"),
                "target": handover.get("target"),
                "scim_url": scim_url, "org": org, "org_id": org_id, "email_domains": entry["email_domains"],
                "previous_idp_token_id": store["idp"].get(entry["name"]), "previous_key": entry["store_key"],
                "expected_token_id": entry.get("stored_token_id")}
        # A renamed entry: what the target held is the token of the entry it replaces (kept live until this ends).
        replaced = [e for e in plan["actions"] if (e.get("deferred_revoke") or {}).get("after") == entry["name"]]
        if item["previous_idp_token_id"] is None and replaced:
            item.update(previous_idp_token_id=replaced[0]["deferred_revoke"]["token_id"],
                        previous_key=replaced[0]["store_key"])
        item.update(pending_records_of(entry["name"], store))
        if handover["value_from"] == "issue":
            result = by_name.get(entry["name"]) or {}
            if result.get("failed") or not result.get("token") or store["pending"].get(entry["name"]) != result.get("token_id"):
                continue
            item.update(token_id=result["token_id"], expires=result.get("expires"))
        else:
            item.update(token_id=entry["current_token_id"], expires=entry["current_expires"])
        items.append(item)
    return items


def _failure(name, step, msg):
    return {"name": name, "step": step, "msg": msg, "message": "%s (%s): %s" % (name, step, msg)}


def outcome(plan, issued, stored_after, store_error=None, check_mode=False, handover_failures=()):
    """Judge a changing run after the issue, store and handover steps; nothing here has seen a token value.

    ``issued``: the registered scim_token loop. ``stored_after``: a ``store_view`` (or {name: token id}) of what
    the store holds now, read back after writing. ``handover_failures``: {name, step, msg} of the handovers that
    failed. Returns revoke_ids (the replaced tokens whose successor is stored as current and, where it goes to an
    identity provider, handed over; the undeclared and deleted ones; and every new token the store did not take:
    its value is lost, so it must not stay live) and failures, one per token name and step, never a value.
    In check mode the issue calls already reported the whole change of their entries.
    """
    view = stored_after if "held" in (stored_after or {}) else {"held": stored_after or {}, "pending": {}, "idp": {}}
    by_name = _issued_by_name(issued)
    handed = dict((f["name"], f) for f in handover_failures)
    revoke, failures, forget, proofs = [], [], [], []
    for entry in plan["actions"]:
        name, handover = entry["name"], entry.get("handover")
        deferred = entry.get("deferred_revoke")
        if deferred and not check_mode and _replaced_at_target(view, deferred):
            revoke.append(deferred["token_id"])
            forget.append({"name": name, "store_key": entry["store_key"]})
            proofs.extend(_proof(e, view) for e in plan["actions"] if e["name"] == deferred["after"])
        if not entry["create"] and not handover:
            revoke.extend(entry["revoke_ids"])
            continue
        new_id = entry["current_token_id"]
        if entry["create"]:
            result = by_name.get(name)
            if result is None:
                failures.append(_failure(name, "issue", "no token was issued"))
                continue
            new_id = result.get("token_id") if result.get("token") else None
            if result.get("failed"):
                failures.append(_failure(name, "issue", result.get("msg") or "scim_token failed"))
                if new_id is not None:
                    revoke.append(new_id)  # issued but unverified: the token it was to replace stays live
                continue
            if check_mode:
                continue
            if new_id is None:
                failures.append(_failure(name, "issue", "scim_token returned no new token"))
                continue
            stored_id = view["pending" if handover else "held"].get(name)
            if handover and view["held"].get(name) == new_id:
                stored_id = new_id  # already finished
            seen = entry.get("stored_pending_id" if handover else "stored_token_id", stored_id)
            if stored_id not in (new_id, seen):
                failures.append(_failure(name, "store", "another run changed its store record after this run planned "
                                         "(it holds token %s, the plan saw %s), so this run did not overwrite it%s; "
                                         "only new token %s, whose value nothing holds, was revoked, and token(s) %s "
                                         "stay live" % (stored_id, seen if seen is not None else "none",
                                                        " (%s)" % store_error if store_error else "", new_id,
                                                        ", ".join(str(i) for i in entry["revoke_ids"]) or "(none)")))
                revoke.append(new_id)
                continue
            if stored_id != new_id:
                failures.append(_failure(name, "store", "the store did not take new token %s%s, so it was revoked and "
                                         "token(s) %s stay live" % (new_id, " (%s)" % store_error if store_error else "",
                                                                    ", ".join(str(i) for i in entry["revoke_ids"])
                                                                    or "(none)")))
                revoke.append(new_id)
                continue
        if check_mode:
            continue
        if handover:
            if name in handed:
                failed = handed[name]
                failures.append(_failure(name, failed.get("step") or "handover", "%s; token %s stays pending and the "
                                         "token(s) it replaces stay live, so the next run resumes the handover"
                                         % (failed.get("msg") or "the handover failed", new_id)))
                continue
            if view["held"].get(name) != new_id or view["idp"].get(name) != new_id:
                failures.append(_failure(name, "finish", "the store does not record token %s as current and handed "
                                         "over; the next run resumes the handover" % new_id))
                continue
        revoke.extend(entry["revoke_ids"])
        if handover and handover.get("entra") and entry["revoke_ids"]:
            proofs.append(_proof(entry, view))
    return {"revoke_ids": sorted(set(revoke)), "failures": failures, "forget": forget,
            "proofs": [p for p in proofs if p is not None]}


def _proof(entry, view):
    """An Entra ID handover of this run to test again once the token the app held before is revoked: only then can
    the test of the saved credentials tell the new token from the old one (a write Graph acknowledged but lost)."""
    entra = (entry.get("handover") or {}).get("entra")
    if not entra:
        return None
    return {"name": entry["name"], "key": entry["store_key"], "token_id": view["held"].get(entry["name"]),
            "service_principal_id": entra["service_principal_id"],
            "job_id": entra.get("job_id") or view.get("job", {}).get(entry["name"]),
            "target": entry["handover"].get("target"), "email_domains": entry["email_domains"]}


def _replaced_at_target(view, deferred):
    """Whether the store records the token of the entry that replaces a deleted one as held by the same target."""
    after = deferred["after"]
    return view.get("target", {}).get(after) == deferred["target"] and view["idp"].get(after) is not None \
        and view["idp"].get(after) == view["held"].get(after)


def postcondition(final_plan, plan=None):
    """Failures when the plan made after a changing run still has work left (it should have none). A state=rotated
    entry always plans another rotation: once this run (``plan``) acted on it, it is done."""
    acted = {entry["name"] for entry in (plan or {}).get("actions", [])}
    return [_failure(entry["name"], "final plan", "still %s after the run: %s" % (entry["action"], entry["reason"]))
            for entry in final_plan["actions"] if not (rotates_every_run(entry) and entry["name"] in acted)]
