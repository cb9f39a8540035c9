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
    for entry in [e for e in plan["actions"] if e.get("handover")]:
        token = _token_handed_over(entry, by_name.get(entry["name"]) or {}, store)
        if token is None:
            continue
        handover = entry["handover"]
        item = {"name": entry["name"], "key": entry["store_key"], "value_from": handover["value_from"],
                "to": handover["to"], "entra": handover.get("entra"), "tasks": handover.get("tasks"),
                "target": handover.get("target"),
                "scim_url": scim_url, "org": org, "org_id": org_id, "email_domains": entry["email_domains"],
                "expected_token_id": entry.get("stored_token_id")}
        item.update(_previous_holding(entry, plan["actions"], store), **pending_records_of(entry["name"], store))
        items.append(dict(item, **token))
    return items


def _token_handed_over(entry, result, store):
    """The token id and expiry a handover gives, or None: a new token (``result``, its issue) only once the store
    holds it as pending."""
    if entry["handover"]["value_from"] != "issue":
        return {"token_id": entry["current_token_id"], "expires": entry["current_expires"]}
    if result.get("failed") or not result.get("token") or store["pending"].get(entry["name"]) != result.get("token_id"):
        return None
    return {"token_id": result["token_id"], "expires": result.get("expires")}


def _previous_holding(entry, actions, store):
    """What the target held before this handover, and under which key: the token the store records as given, or
    for a renamed entry the token of the entry it replaces (kept live until this handover ends)."""
    held = store["idp"].get(entry["name"])
    replaced = [e for e in actions if (e.get("deferred_revoke") or {}).get("after") == entry["name"]]
    if held is None and replaced:
        return {"previous_idp_token_id": replaced[0]["deferred_revoke"]["token_id"],
                "previous_key": replaced[0]["store_key"]}
    return {"previous_idp_token_id": held, "previous_key": entry["store_key"]}


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
    did = {"issued": _issued_by_name(issued), "view": view, "store_error": store_error, "check_mode": check_mode,
           "handover_failures": dict((f["name"], f) for f in handover_failures)}
    revoke, failures, forget, proofs = [], [], [], []
    for entry in plan["actions"]:
        deferred = entry.get("deferred_revoke")
        if deferred and not check_mode and _replaced_at_target(view, deferred):
            revoke.append(deferred["token_id"])
            forget.append({"name": entry["name"], "store_key": entry["store_key"]})
            proofs.extend(_proof(e, view) for e in plan["actions"] if e["name"] == deferred["after"])
        revoked, failure = _entry_outcome(entry, did)
        revoke.extend(revoked)
        if failure:
            failures.append(failure)
        elif not check_mode and (entry.get("handover") or {}).get("entra") and entry["revoke_ids"]:
            proofs.append(_proof(entry, view))
    return {"revoke_ids": sorted(set(revoke)), "failures": failures, "forget": forget,
            "proofs": [p for p in proofs if p is not None]}


def _entry_outcome(entry, did):
    """What one planned action left: (the token ids to revoke, its failure or None). ``did``: what the run did."""
    if not entry["create"] and not entry.get("handover"):
        return entry["revoke_ids"], None
    new_id = entry["current_token_id"]
    if entry["create"]:
        result = did["issued"].get(entry["name"])
        stopped = _issue_stopped(entry["name"], result, did["check_mode"])
        if stopped is not None:
            return stopped
        new_id = result["token_id"]
        stopped = _store_stopped(entry, new_id, did["view"], did["store_error"])
        if stopped is not None:
            return stopped
    if did["check_mode"]:
        return [], None
    failure = _handover_failure(entry, new_id, did) if entry.get("handover") else None
    return ([], failure) if failure else (entry["revoke_ids"], None)


def _issue_stopped(name, result, check_mode):
    """Why a creating action stopped at its issue step, as (ids to revoke, failure), or None when a new token was
    issued. In check mode the issue call already reported the whole change."""
    if result is None:
        return [], _failure(name, "issue", "no token was issued")
    new_id = result.get("token_id") if result.get("token") else None
    if result.get("failed"):
        # Issued but unverified: the token it was to replace stays live.
        return [new_id] if new_id is not None else [], _failure(name, "issue", result.get("msg") or "scim_token failed")
    if check_mode:
        return [], None
    if new_id is None:
        return [], _failure(name, "issue", "scim_token returned no new token")
    return None


def _store_stopped(entry, new_id, view, store_error):
    """Why a new token stopped at the store step, as (ids to revoke, failure), or None when the store holds it. A
    value nothing holds is lost, so its token is revoked and the ones it was to replace stay live."""
    name, handover = entry["name"], entry.get("handover")
    stored_id = view["pending" if handover else "held"].get(name)
    if handover and view["held"].get(name) == new_id:
        stored_id = new_id  # already finished
    seen = entry.get("stored_pending_id" if handover else "stored_token_id", stored_id)
    why = " (%s)" % store_error if store_error else ""
    kept = ", ".join(str(i) for i in entry["revoke_ids"]) or "(none)"
    if stored_id not in (new_id, seen):
        return [new_id], _failure(name, "store", "another run changed its store record after this run planned (it "
                                  "holds token %s, the plan saw %s), so this run did not overwrite it%s; only new "
                                  "token %s, whose value nothing holds, was revoked, and token(s) %s stay live"
                                  % (stored_id, seen if seen is not None else "none", why, new_id, kept))
    if stored_id != new_id:
        return [new_id], _failure(name, "store", "the store did not take new token %s%s, so it was revoked and "
                                  "token(s) %s stay live" % (new_id, why, kept))
    return None


def _handover_failure(entry, new_id, did):
    """Why the handover of a stored token did not finish, or None; its token stays pending, and the ones it
    replaces stay live, so the next run resumes it."""
    name = entry["name"]
    failed = did["handover_failures"].get(name)
    if failed is not None:
        return _failure(name, failed.get("step") or "handover", "%s; token %s stays pending and the token(s) it "
                        "replaces stay live, so the next run resumes the handover"
                        % (failed.get("msg") or "the handover failed", new_id))
    view = did["view"]
    if view["held"].get(name) != new_id or view["idp"].get(name) != new_id:
        return _failure(name, "finish", "the store does not record token %s as current and handed over; the next "
                        "run resumes the handover" % new_id)
    return None


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
