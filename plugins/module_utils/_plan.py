# -*- coding: utf-8 -*-
# Copyright: (c) 2026, resolver.scim contributors
# GNU General Public License v3.0+ (see LICENSES/GPL-3.0-or-later.txt or https://www.gnu.org/licenses/gpl-3.0.txt)
"""Plan a whole org against its declared tokens with one token list.

Each declared entry is decided by ``tokens.decide`` (the same code ``scim_token`` runs). The plan carries the
arguments of every call a converge makes (``issue``: the scim_token call that creates a token; ``revoke_ids``:
what is revoked once the new value is stored), so the role only loops over what the plan returned. A store that
was never used for the org cannot make the plan replace live tokens (``store_guard``).
"""

from ansible_collections.resolver.scim.plugins.module_utils._store_records import store_key
from ansible_collections.resolver.scim.plugins.module_utils._token_entries import target_key
from ansible_collections.resolver.scim.plugins.module_utils._tokens import current_token, decide, iso, named

HANDOVER_DRIFT = "handover_pending"
# A handover of the live token to an identity provider that holds something else, or to a target that changed.
IDP_CANNOT_PROVISION = "idp_cannot_provision"
IDP_TARGET_CHANGED = "idp_target_changed"
# A plan refused because the store never saw the org (see store_guard): its entries carry this action.
REFUSED = "refused"
# The scim_token state that carries out each action, and the drift category the action stands for.
MODULE_STATE = {"created": "present", "renewed": "present", "recreated": "present", "revoked": "present",
                "rotated": "rotated", "healed": "rotated", "deleted": "absent", "handover": "present"}
DRIFT_OF_ACTION = {"created": "missing", "renewed": "expiring", "recreated": "domain_mismatch",
                   "healed": "unstored", "revoked": "superseded", "deleted": "extra", "handover": HANDOVER_DRIFT,
                   REFUSED: "store_unknown"}
# unknown_expiry: a current token whose list entry has neither an expiry nor a creation date; nothing a converge
# can fix, so it is reported (and fails a drift check) instead of being trusted to live forever.
# store_unknown: a live declared token that a store which was never used for the org does not hold (store_guard).
DRIFT_CATEGORIES = ("missing", "expiring", "expired", "domain_mismatch", "unstored", "superseded", "extra",
                    "unknown_expiry", "handover_pending", "store_unknown", IDP_CANNOT_PROVISION, IDP_TARGET_CHANGED)


def _issue_call(entry, action, check_mode):
    """The scim_token arguments that carry out a creating action. Outside check mode the replaced tokens are
    kept (previous: keep) until the new value is stored; in check mode the one call reports the whole change."""
    return {"name": entry["name"], "email_domains": entry["email_domains"], "state": MODULE_STATE[action],
            "rotate_before_days": entry["rotate_before_days"],
            "previous": entry["previous"] if check_mode else "keep",
            # A token handed to an identity provider is proven on Resolver's SCIM endpoint first.
            "verify": bool(entry.get("handover"))}


def _describe(target, recorded=None):
    if target.get("entra"):
        return "Entra ID (service principal %s)" % target["entra"]["service_principal_id"]
    if recorded and recorded != target_key(target):
        # The target the tasks returned names the identity provider better than the task file does.
        return "handover_tasks %s (target %s)" % (target["tasks"], recorded)
    return "handover_tasks %s" % target["tasks"]


def _target_moved(recorded, key, target):
    """Whether the store records the token as handed to another target than the entry names now. A target that
    handover_tasks returned is only known again from the tasks (a handover, or the entry's check tasks, which then
    give it as ``key``): until then a returned target counts as the task file's."""
    if recorded in (None, key):
        return False
    returned = target.get("tasks") and not recorded.startswith("handover_tasks:")
    return not (returned and key == target_key(target))


def plan_entry(entry, action, reason, revoke_ids, current=None, create=False, drift_kind=None, idp_target=None,
               value_from=None, issue=None, stored_ids=(None, None)):
    """An entry of a plan, and the one place that builds one: the declared ``entry`` with what to do and why, and
    the arguments of each call a converge makes for it. ``value_from`` says where a handover takes the value from
    (None: no handover); ``stored_ids`` are the current and the pending token id this plan saw in the store: a
    write replaces a record only while it still holds them."""
    target = entry.get("handover")
    return dict(entry, action=action, reason=reason, create=create, drift_kind=drift_kind, idp_target=idp_target,
                idp_entra=(target or {}).get("entra"),
                module_state=MODULE_STATE.get(action, entry["state"]),
                current_token_id=current.id if current else None,
                current_expires=iso(current.expires) if current else None,
                revoke_ids=revoke_ids, issue=issue,
                handover=dict(target, to=_describe(target), value_from=value_from, target=idp_target) if value_from else None,
                store="remove" if action == "deleted" else ("write" if create or value_from else None),
                store_key=store_key(entry["name"]),
                stored_token_id=stored_ids[0], stored_pending_id=stored_ids[1])


def _state_to_decide(entry, rotate, live, pending):
    """The state the entry asks of this run: a rotation when ``rotate`` names it, unless the newest live token is a
    rotation whose handover did not finish. Then that rotation is finished instead of issuing yet another token over
    its pending record (whose value would then be lost while it stays live)."""
    state = "rotated" if entry["name"] in rotate and entry["state"] != "absent" else entry["state"]
    if state == "rotated" and live is not None and pending == live.id:
        return "present"
    return state


def _entry_plan(entry, tokens, now, store, options):
    """Plan one declared entry: what ``tokens.decide`` says, revisited with what the store and the identity
    provider say. ``options``: what plan_org was asked, the same for every entry."""
    name, target, idp = entry["name"], entry.get("handover"), options["idp"]
    # A target your own tasks returned (found again by the entry's check tasks) replaces the task file's default.
    key = (idp["found"].get(name) or target_key(target, idp["tenant"])) if target else None
    pending = store["pending"].get(name) if store is not None and target else None
    state = _state_to_decide(entry, options["rotate"], current_token(named(tokens, name), now), pending)
    decision = decide(state, name, tokens, now, email_domains=entry["email_domains"],
                      rotate_before_days=entry["rotate_before_days"], previous=entry["previous"])
    change = {"action": decision.action, "reason": decision.reason, "revoke_ids": [t.id for t in decision.revoke]}
    if state == "absent" and decision.action == "none" and store is not None and store["held"].get(name) is not None:
        change.update(_forget_revoked(name, store["held"][name]))
    if not decision.create and decision.current is not None:
        change.update(_revisited(entry, decision.current, key, store, pending, options, tokens) or {})
    create = decision.create or change["action"] == "healed"
    if target and create:
        change["value_from"] = "issue"
    return plan_entry(entry, current=decision.current, create=create, idp_target=key,
                      issue=_issue_call(entry, change["action"], options["check_mode"]) if create else None,
                      stored_ids=(store["held"].get(name) if store is not None else None, pending), **change)


def _forget_revoked(name, held):
    """No store keeps the value of a token it saw revoked (by hand, or by a run that died before forgetting it)."""
    return {"action": "deleted",
            "reason": "no token named %r exists, but the store holds the value of token %s: forget it" % (name, held)}


def _revisited(entry, current, key, store, pending, options, tokens):
    """What the store and the identity provider change about a decision that keeps the live token ``current``: a
    handover to resume, a live token to heal, or one to hand over again. None: the decision stands."""
    name, target = entry["name"], entry.get("handover")
    if target and pending == current.id:
        # A run stopped between handing the new token over and finishing: resume it, never issue yet another.
        return {"action": "handover", "value_from": "pending",
                "reason": "the handover of token %s to %s did not finish: hand it over again, then finish"
                          % (current.id, _describe(target))}
    if store is not None and options["heal_unstored"] and store["held"].get(name) != current.id:
        return _healed(store["held"].get(name), current, named(tokens, name))
    if target:
        return _handover_again(name, target, key, current, store, options["idp"])
    return None


def _healed(held, current, tokens_of_name):
    """A live token the store holds no value of: issue a fresh one, store it, then revoke every token of the name."""
    reason = ("the store holds no value for the live token %s" % current.id if held is None else
              "the store holds token %s, not the live token %s" % (held, current.id))
    reason += (" (made by hand or by another tool, or a run stopped before storing it): issue a fresh token, "
               "store it, then revoke the others")
    return {"action": "healed", "reason": reason, "revoke_ids": [t.id for t in tokens_of_name]}


def _handover_again(name, target, key, current, store, idp):
    """The live token handed over (again): its identity provider was never given it, the entry names another target
    than the store records, or the IdP check found that it cannot provision. None: it holds the live token."""
    again = {"action": "handover", "value_from": "current"}
    if store is not None and store["idp"].get(name) != current.id:
        given = store["idp"].get(name)
        return dict(again, reason=(
            "%s was never given the live token %s" % (_describe(target), current.id) if given is None else
            "%s was last given token %s, not the live token %s" % (_describe(target), given, current.id)))
    if store is not None and _target_moved(store["target"].get(name), key, target):
        return dict(again, drift_kind=IDP_TARGET_CHANGED, reason=(
            "the store records token %s as handed to %s, but the entry now names %s: hand it over there"
            % (current.id, store["target"][name], key)))
    if name in idp["failing"]:
        return dict(again, drift_kind=IDP_CANNOT_PROVISION, reason=(
            "%s cannot provision with what it holds (%s): hand the live token %s over again"
            % (_describe(target, store and store["target"].get(name)), idp["failing"][name], current.id)))
    return None


def store_guard(planned, tokens, now, store, location=None, option_prefix=""):
    """Refuse a plan that would replace live tokens on the word of a store that was never used for the org.

    A store asked in the wrong place (another region, mount, path prefix or directory, or a store on another
    machine) reads as empty, exactly like a lost one; healing would then issue fresh tokens into the wrong place and
    revoke the ones the right place, and the identity providers, still use. The caller knows whether the store was
    ever used for the org (its records, or the marker its check leaves before the first token is issued); only when
    it was not is this called. Returns the entries, each declared one whose action would replace or revoke a live
    token the store does not hold now ``refused``, and the message that fails the org, or None when no live token
    is at risk (a new org: nothing to lose; a token declared absent goes whatever the store holds).
    ``option_prefix`` is how the caller's variables name the options (the role's: ``resolver_scim_``).
    """
    at_risk = {}
    for entry in planned:
        live = current_token(named(tokens, entry["name"]), now)
        if entry["state"] != "absent" and entry["action"] != "none" and live is not None \
                and store["held"].get(entry["name"]) != live.id:
            at_risk[entry["name"]] = live.id
    if not at_risk:
        return planned, None
    where = "the token store (%s)" % location if location else "the token store"
    risky = [(entry, at_risk[entry["name"]]) for entry in planned if entry["name"] in at_risk]
    return ([_refused(entry, where, at_risk[entry["name"]]) if entry["name"] in at_risk else entry
             for entry in planned], _refusal(where, risky, option_prefix))


def _refused(entry, where, live):
    """A planned entry that the store guard refused: it changes nothing, and its reason says why."""
    return dict(entry, action=REFUSED, create=False, issue=None, revoke_ids=[], handover=None, store=None,
                module_state=entry["state"],
                reason="%s; refused: %s has never been used for this org and does not hold live token %s"
                % (entry["reason"], where, live))


def _refusal(where, risky, option_prefix):
    """The message that fails an org whose plan the store guard refused; ``risky``: (entry, live token id)."""
    found = ["%s (live token %s; planned: %s)" % (entry["name"], live, entry["action"]) for entry, live in risky]
    new = option_prefix + "store_is_new"
    if all(entry["action"] == "healed" for entry, _live in risky):
        remedy = ("set %sheal_unstored=false to keep using the tokens until they are due (their renewal then "
                  "needs %s=true once), or set %s=true for one run to replace them now with tokens stored here"
                  % (option_prefix, new, new))
    else:
        remedy = "set %s=true for one run to replace them with tokens stored here" % new
    return ("%s has never been used for this org, yet Resolver has live declared tokens it does not hold: %s. "
            "Nothing was changed: replacing them would revoke tokens that the right store location, and the "
            "identity providers, may still use. If the store settings point to the wrong place (another region, "
            "mount, path prefix or directory, or a store on another machine), fix them. If this store really is "
            "new for the org (the old store was lost, or the tokens were made outside this collection), %s."
            % (where[0].upper() + where[1:], ", ".join(found), remedy))


def plan_org(entries, tokens, now, stored=None, exclusive=False, heal_unstored=True, rotate=(), check_mode=False,
             store=None, store_org_known=True, store_location=None, option_prefix="", entra_tenant=None,
             idp_failing=None, idp_targets_found=None):
    """Plan every declared entry and, with ``exclusive``, the removal of undeclared tokens.

    ``store`` is a ``store_view`` of what the secret store holds; ``stored`` (token name to token id) is the short
    form without pending handovers; with neither, nothing is stored (then nothing can be healed or handed over
    again). ``store_org_known=False`` says the store was never used for this org: see ``store_guard`` (a refused
    plan has no actions and its ``refused`` message says why). Returns a dict: entries, actions, undeclared, drift,
    drifted, next_expiry, tokens, refused, handed_over (the tokens the store records as held by their identity
    provider, for an IdP check), idp_targets (entry name: target).

    ``entra_tenant`` completes the Entra ID targets; ``idp_failing`` ({name: why}) names the tokens whose identity
    provider failed the IdP check: each is handed over again. ``idp_targets_found`` ({name: target}) are the
    targets the entries' check tasks found; one that differs from the store's record is handed over there.
    """
    store = _whole_view(store, stored)
    options = {"heal_unstored": heal_unstored, "rotate": set(rotate), "check_mode": check_mode,
               "idp": {"tenant": entra_tenant, "failing": idp_failing or {}, "found": idp_targets_found or {}}}
    planned, refused = [_entry_plan(entry, tokens, now, store, options) for entry in entries], None
    if store is not None and not store_org_known:
        planned, refused = store_guard(planned, tokens, now, store, store_location, option_prefix)
    ordered = sorted(tokens, key=lambda t: (t.name, t.sort_key()))
    undeclared = [t for t in ordered if t.name not in {entry["name"] for entry in entries}]
    if exclusive:
        planned += _deletions(undeclared)
    if store is not None:
        planned = [_keep_what_an_idp_holds(entry, planned, store) for entry in planned]
    return dict(_plan_result(planned, refused, _drift(planned, entries, tokens, now), store),
                undeclared=[t.as_dict(now) for t in undeclared], tokens=[t.as_dict(now) for t in ordered],
                next_expiry=_next_expiry(_live_declared(entries, tokens, now)))


def _whole_view(store, stored):
    """The store view a plan reads, every key filled in (None: nothing is stored)."""
    if store is None and stored is not None:
        store = {"held": stored, "pending": {}, "idp": {}}
    if store is not None:
        store = dict({"target": {}, "job": {}}, **store)
    return store


def _deletions(undeclared):
    """With exclusive, one entry per undeclared name that removes its tokens."""
    planned = []
    for name in sorted({t.name for t in undeclared}):
        ids = [t.id for t in undeclared if t.name == name]
        entry = {"name": name, "email_domains": [], "state": "absent", "rotate_before_days": 0, "previous": "revoke"}
        planned.append(plan_entry(entry, "deleted", "token(s) %s named %r are not declared, and exclusive is set"
                                  % (", ".join(str(i) for i in ids), name), ids))
    return planned


def _live_declared(entries, tokens, now):
    """The live token of each declared entry that has one (none of a state=absent entry)."""
    currents = [current_token(named(tokens, entry["name"]), now) for entry in entries if entry["state"] != "absent"]
    return [token for token in currents if token is not None]


def _next_expiry(live):
    expiries = [token.expires for token in live if token.expires is not None]
    return iso(min(expiries)) if expiries else None


def _drift(planned, entries, tokens, now):
    """The org's drift by category: each planned action's, the declared tokens that expired, and the live ones
    whose expiry nobody can tell."""
    drift = dict((category, []) for category in DRIFT_CATEGORIES)
    for entry in planned:
        category = entry.get("drift_kind") or DRIFT_OF_ACTION.get(entry["action"])
        if category:
            drift[category].append({"name": entry["name"], "reason": entry["reason"]})
    declared = {entry["name"] for entry in entries}
    drift["expired"].extend({"name": token.name, "token_id": token.id, "expires": iso(token.expires)}
                            for token in tokens if token.name in declared and not token.is_live(now))
    drift["unknown_expiry"].extend({
        "name": token.name, "token_id": token.id,
        "reason": "Resolver lists token %s without an expiry or creation date, so its renewal cannot be "
                  "planned; rotate it, and check docs/api-assumptions.md" % token.id}
        for token in _live_declared(entries, tokens, now) if token.expires is None)
    return drift


def _plan_result(planned, refused, drift, store):
    # A refused org changes nothing at all, not even what the guard did not refuse.
    actions = [] if refused else [entry for entry in planned if entry["action"] != "none"]
    return {
        "entries": planned,
        "actions": actions,
        "drift": drift,
        # Drift means "a converge would change something" (other than the rotation that state=rotated asks of every
        # run: that is what was declared), or a token whose expiry nobody can tell.
        "drifted": bool([entry for entry in actions if not rotates_every_run(entry)]) or bool(refused)
        or bool(drift["unknown_expiry"]),
        "refused": refused,
        "handed_over": _handed_over(planned, store),
        "handover_checks": _handover_checks(planned, store),
        "idp_targets": dict((e["name"], e["idp_target"]) for e in planned if e.get("idp_target")),
    }


def rotates_every_run(entry):
    """Whether a planned entry is the rotation that its declared state=rotated asks of every run (not drift)."""
    return entry["action"] == "rotated" and entry["state"] == "rotated"


def _keep_what_an_idp_holds(entry, planned, store):
    """A deletion must not revoke the token an identity provider holds while nothing has replaced it there.

    When a declared entry hands its token to the same target (a renamed entry), the held token is revoked only once
    the store records that entry's handover to it (``outcome``); the record stays until then. When no declared entry
    targets it any more, the deletion goes ahead and the summary warns that the target stops provisioning. Returns
    the entry, changed so, as a new one."""
    name = entry["name"]
    held = store["idp"].get(name)
    if entry["action"] != "deleted" or held is None or held not in entry["revoke_ids"]:
        return entry
    target = store["target"].get(name)
    after = [e["name"] for e in planned if target and e.get("idp_target") == target and e["name"] != name
             and e["state"] != "absent"]
    if not after:
        return dict(entry, idp_warning="%s holds token %s, which is revoked: it stops provisioning"
                    % (target or "the identity provider it was handed to", held))
    return dict(entry, revoke_ids=[i for i in entry["revoke_ids"] if i != held], store=None,
                deferred_revoke={"token_id": held, "target": target, "after": after[0]},
                reason="%s; token %s stays live until %s is handed to %s" % (entry["reason"], held, after[0], target))


def _idp_holds_live_token(entry, store):
    """Whether the store records the live token of an entry the plan leaves alone as held by its identity provider:
    the tokens an IdP check tests."""
    return store is not None and entry["action"] == "none" and entry["current_token_id"] is not None \
        and store["idp"].get(entry["name"]) == entry["current_token_id"]


def _handed_over(planned, store):
    """The live tokens the store records as held by their Entra ID app, with what an IdP check needs."""
    return [{"name": entry["name"], "token_id": entry["current_token_id"], "target": entry["idp_target"],
             "service_principal_id": entry["idp_entra"]["service_principal_id"],
             "job_id": entry["idp_entra"].get("job_id") or store["job"].get(entry["name"])}
            for entry in planned if entry.get("idp_entra") and _idp_holds_live_token(entry, store)]


def _handover_checks(planned, store):
    """The live tokens the store records as handed over by your own tasks whose entry names handover_check_tasks:
    what those tasks are given (never a value). Empty for an org without such tokens, so it runs no check task."""
    return [{"name": entry["name"], "token_id": entry["current_token_id"],
             "target": store["target"].get(entry["name"]) or entry["idp_target"],
             "tasks": entry["handover_check_tasks"]}
            for entry in planned if entry.get("handover_check_tasks") and _idp_holds_live_token(entry, store)]
