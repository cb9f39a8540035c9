# -*- coding: utf-8 -*-
# Copyright: (c) 2026, resolver.scim contributors
# GNU General Public License v3.0+ (see LICENSES/GPL-3.0-or-later.txt or https://www.gnu.org/licenses/gpl-3.0.txt)
"""Plan a whole org against its declared tokens with one token list, and judge what a changing run achieved.

Each declared entry is decided by ``tokens.decide`` (the same code ``scim_token`` runs). The plan carries the
arguments of every call a converge makes (``issue``: the scim_token call that creates a token; ``revoke_ids``:
what is revoked once the new value is stored), so the role only loops over what the plan returned.
``outcome`` then takes what the run did (issued tokens, what the store holds afterwards) and says which tokens to
revoke and what failed, and ``summary_lines`` / ``drift_report`` turn plans into what a person reads.
"""

import hashlib
import re
import textwrap

from ansible_collections.resolver.scim.plugins.module_utils.errors import InputError, kind_of
from ansible_collections.resolver.scim.plugins.module_utils.tokens import (
    DEFAULT_ROTATE_BEFORE_DAYS,
    TOKEN_ENTRY_OPTIONS,
    check_days,
    check_name,
    current_token,
    decide,
    iso,
    named,
    normalize_domains,
)

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
# A declared entry of the plan (the role's resolver_scim_tokens): a token's options and where its value is handed
# over to the identity provider, by Microsoft Graph (entra) or by the user's own tasks (handover_tasks).
PLAN_ENTRY_OPTIONS = dict(
    TOKEN_ENTRY_OPTIONS,
    entra=dict(type="dict", options=dict(service_principal_id=dict(type="str", required=True),
                                         job_id=dict(type="str"))),
    handover_tasks=dict(type="str"),
    # Your own tasks that ask the identity provider whether it can provision with what it holds (no value given).
    handover_check_tasks=dict(type="str"),
)
# Longest store key: with ".json" it stays far below the 255 bytes every common file system allows.
MAX_STORE_KEY = 100
PENDING = "@pending"
LEGACY_PENDING = ".pending"
SUMMARY_WIDTH = 100


HASHED_KEY = re.compile(r"-[0-9a-f]{8}$")


def store_key(name):
    """A file-system-safe key for a token or org name; names that needed changing get a short hash against
    collisions, and long names are shortened (the hash keeps them distinct).

    A name that already ends like a hashed key ("-" and 8 hex digits) is hashed too, so that it cannot take the
    key of another name ("okta?" is "okta_-<hash>"; a token named "okta_-<hash>" gets "okta_-<hash>-<hash>").
    """
    safe = re.sub(r"[^A-Za-z0-9._-]", "_", name).lstrip(".") or "_"
    if safe != name or len(safe) > MAX_STORE_KEY or HASHED_KEY.search(name):
        safe = safe[:MAX_STORE_KEY - 9] + "-" + hashlib.sha256(name.encode("utf-8")).hexdigest()[:8]
    return safe


def pending_key(name):
    """The key of a token's pending handover record. No token's key contains "@" (store_key keeps letters, digits,
    ".", "_" and "-"), so no token name can produce it; the ".pending" of earlier versions could ("X.pending")."""
    return store_key(name) + PENDING


def legacy_pending_key(name):
    """Where earlier versions kept the pending record: read there, and removed once its handover finished."""
    return store_key(name) + LEGACY_PENDING


def validate_entries(entries, label="tokens"):
    """Check every declared entry before any request; return them normalised, defaults filled in.

    Types and choices are checked by Ansible from ``TOKEN_ENTRY_OPTIONS``; this adds what a spec cannot say:
    unique names, domain normalisation and the day range. It also runs on entries a role passes through a
    variable, which Ansible's suboption checks have not seen.
    """
    if entries is None:
        entries = []
    if not isinstance(entries, list):
        raise InputError("%s must be a list of token entries ({name, email_domains, state, ...})." % label)
    result, seen, targets = [], {}, {}
    for index, entry in enumerate(entries):
        where = "%s[%d]" % (label, index)
        if not isinstance(entry, dict):
            raise InputError("%s must be a dict with keys %s; got %s."
                             % (where, ", ".join(PLAN_ENTRY_OPTIONS), kind_of(entry)))
        unknown = sorted(set(entry) - set(PLAN_ENTRY_OPTIONS))
        if unknown:
            raise InputError("%s has unknown key(s) %s; accepted keys: %s."
                             % (where, ", ".join(unknown), ", ".join(PLAN_ENTRY_OPTIONS)))
        name = check_name(entry.get("name"), where + ".name")
        where = "%s (%s)" % (where, name)
        if name in seen:
            raise InputError("%s repeats the name %r of %s[%d]; each token name may be declared once."
                             % (where, name, label, seen[name]))
        seen[name] = index
        normalised = {"name": name}
        for option in ("state", "previous"):
            value = entry.get(option) or TOKEN_ENTRY_OPTIONS[option]["default"]
            if value not in TOKEN_ENTRY_OPTIONS[option]["choices"]:
                raise InputError("%s.%s must be one of %s; got %r."
                                 % (where, option, ", ".join(TOKEN_ENTRY_OPTIONS[option]["choices"]), value))
            normalised[option] = value
        days = entry.get("rotate_before_days")
        days = DEFAULT_ROTATE_BEFORE_DAYS if days is None else days
        if isinstance(days, bool) or not isinstance(days, int):
            raise InputError("%s.rotate_before_days must be a whole number of days from 0 to 729; got %s."
                             % (where, kind_of(days)))
        normalised["rotate_before_days"] = check_days(days, where + ".rotate_before_days")
        domains = entry.get("email_domains")
        if normalised["state"] == "absent" and not domains:
            domains = []
        else:
            if not isinstance(domains, list):
                raise InputError("%s.email_domains must be a list of domains, for example [acme.com]; got %s."
                                 % (where, kind_of(domains)))
            domains = normalize_domains(domains, where + ".email_domains")
        normalised["email_domains"] = domains
        normalised["handover"] = _handover_target(entry, where, normalised["state"])
        check_tasks = _check_tasks(entry, normalised["handover"], where)
        if check_tasks:
            normalised["handover_check_tasks"] = check_tasks
        _check_own_target(normalised, targets)
        result.append(normalised)
    return result


def _check_own_target(entry, targets):
    """Two entries of one org that hand their tokens to the same Entra ID app would overwrite each other there."""
    entra = (entry["handover"] or {}).get("entra")
    if not entra:
        return
    other = targets.setdefault(entra["service_principal_id"], entry["name"])
    if other != entry["name"]:
        raise InputError("entries %s and %s both hand their token to Entra ID service principal %s: each would "
                         "overwrite the other's token there. Give each entry its own enterprise app."
                         % (other, entry["name"], entra["service_principal_id"]))


def target_key(target, entra_tenant=None):
    """The identity provider target a token is handed to, as the store records it (idp_target): Entra ID's tenant
    and service principal, or the handover task file (unless the tasks name their target)."""
    if target.get("entra"):
        return "entra:%s/%s" % (entra_tenant or "", target["entra"]["service_principal_id"])
    return "handover_tasks:%s" % target["tasks"]


def _check_tasks(entry, target, where):
    """The entry's handover_check_tasks: a task file, for an entry whose own tasks hand its token over."""
    check = entry.get("handover_check_tasks")
    if not check:
        return None
    if not (target or {}).get("tasks"):
        raise InputError("%s.handover_check_tasks checks what handover_tasks handed over; the entry has no "
                         "handover_tasks (an Entra ID app is checked by resolver_scim_idp_check)." % where)
    if not isinstance(check, str):
        raise InputError("%s.handover_check_tasks must be the path of a task file; got %r." % (where, check))
    return check


def _handover_target(entry, where, state):
    """Where the entry's value goes: {"entra": {...}} or {"tasks": path}, or None."""
    entra, tasks = entry.get("entra"), entry.get("handover_tasks")
    if entra and tasks:
        raise InputError("%s has both entra and handover_tasks; give one place to hand the token to." % where)
    if (entra or tasks) and state == "absent":
        raise InputError("%s is state=absent, so there is nothing to hand over; remove entra/handover_tasks." % where)
    if entra:
        if not isinstance(entra, dict) or not isinstance(entra.get("service_principal_id"), str) \
                or not entra["service_principal_id"].strip():
            raise InputError("%s.entra needs service_principal_id, the Object ID of the Entra ID enterprise app, as "
                             "a string." % where)
        return {"entra": {"service_principal_id": entra["service_principal_id"].strip(),
                          "job_id": entra.get("job_id") or None}}
    if tasks:
        if not isinstance(tasks, str):
            raise InputError("%s.handover_tasks must be the path of a task file; got %s." % (where, kind_of(tasks)))
        return {"tasks": tasks}
    return None


def store_view(records, org_id):
    """What the store holds per name, from the records a store read returned (never a value).

    Returns {"held": {name: current token id}, "pending": {name: token id handed over but not finished},
    "idp": {name: token id the identity provider was last given}, "problems": [...]}. A record of another org (two
    hosts sharing a store key) or a second record of a name is reported and not used, so a stray copy can never
    make a run replace the token an identity provider is using.
    """
    view = {"held": {}, "pending": {}, "idp": {}, "target": {}, "job": {}, "pending_keys": {}, "problems": []}
    by_slot = {}
    for record in records:
        if not isinstance(record, dict) or not isinstance(record.get("name"), str):
            view["problems"].append("a store record without a token name was ignored")
            continue
        source = record.get("source") or "the store record of %r" % record["name"]
        if org_id is not None and record.get("org_id") not in (None, org_id):
            view["problems"].append("%s belongs to org %s, not this org (%s); it was ignored. Give each org its own "
                                    "resolver_scim_org." % (source, record.get("org_id"), org_id))
            continue
        slot = "pending" if record.get("status") == "pending" else "held"
        by_slot.setdefault((slot, record["name"]), []).append((record, source))
    for (slot, name), found in sorted(by_slot.items()):
        # Copies that agree on the token are one record: a pending record under its old and its new key.
        if len({_int_or_none(record.get("token_id")) for record, _source in found}) > 1:
            view["problems"].append("%s hold token %r more than once; none of them was used. Remove the copies."
                                    % (" and ".join(source for _record, source in found), name))
            view[slot][name] = None
            continue
        record = found[0][0]
        view[slot][name] = _int_or_none(record.get("token_id"))
        if slot == "held" and "idp_token_id" in record:
            view["idp"][name] = _int_or_none(record.get("idp_token_id"))
            view["target"][name] = record.get("idp_target") or None
            view["job"][name] = record.get("idp_job_id") or None
        if slot == "pending":
            # Where the store found them (a store whose read gives no key keeps them under the current key).
            view["pending_keys"][name] = sorted({r.get("key") or pending_key(name) for r, _source in found})
    return view


def foreign_records(records, keys, org_id):
    """Why a store must not write the records ``keys`` (token keys) for org ``org_id``: a record it holds under one
    of those keys belongs to another org (two inventories that give two orgs one host name share a path). The
    same refusal as the file store's ``write_problems``, from the records a store's read returned."""
    problems = []
    for record in records or []:
        if not isinstance(record, dict) or not isinstance(record.get("name"), str):
            continue
        owner = record.get("org_id")
        if store_key(record["name"]) in keys and owner is not None and org_id is not None and owner != org_id:
            problems.append("%s belongs to org %s, not to this org (%s): it is not overwritten. Give each org its "
                            "own resolver_scim_org." % (record.get("source") or record["name"], owner, org_id))
    return problems


def changed_records(records, items):
    """The write items (``{name, key, expected_token_id}``) whose record no longer holds the token id the run's plan
    saw (None: no record): another run, on a node that shares the store but not the lock, wrote it meanwhile. A
    store compares before it writes (docs/stores.md, "Compare and swap") and writes none of these. ``records`` is
    what the store holds now (a read's records, metadata only); an item without ``expected_token_id`` is not
    compared. Returns ``[{name, key, message}]``; a message names the token and the record, never a value."""
    by_key = {}
    for record in records or []:
        if isinstance(record, dict) and isinstance(record.get("name"), str):
            pending = record.get("status") == "pending"
            by_key[record.get("key") or (pending_key if pending else store_key)(record["name"])] = record
    changed = []
    for item in items or []:
        if "expected_token_id" not in item:
            continue
        record = by_key.get(item["key"], {})
        found = _int_or_none(record.get("token_id"))
        if found != item["expected_token_id"]:
            changed.append({"name": item["name"], "key": item["key"], "message": (
                "%s: %s holds %s, not %s as this run's plan saw: another run wrote it meanwhile, so it was not "
                "overwritten." % (item["name"], record.get("source") or "the store record %r" % item["key"],
                                  "token %s" % found if found is not None else "no token",
                                  "token %s" % item["expected_token_id"] if item["expected_token_id"] is not None
                                  else "no record"))})
    return changed


def _int_or_none(value):
    return value if isinstance(value, int) and not isinstance(value, bool) else None


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


def _entry_plan(entry, tokens, now, store, heal_unstored, rotate, check_mode, idp):
    name, target = entry["name"], entry.get("handover")
    # A target your own tasks returned (found again by the entry's check tasks) replaces the task file's default.
    key = (idp["found"].get(name) or target_key(target, idp.get("tenant"))) if target else None
    drift_kind = None
    stored = store["held"] if store is not None else None
    state = "rotated" if name in rotate and entry["state"] != "absent" else entry["state"]
    pending = store["pending"].get(name) if store is not None and target else None
    live = current_token(named(tokens, name), now)
    if state == "rotated" and live is not None and pending == live.id:
        # The newest live token is a rotation whose handover did not finish: finish that rotation instead of
        # issuing yet another token over its pending record (whose value would then be lost while it stays live).
        state = "present"
    plan = decide(state, name, tokens, now, email_domains=entry["email_domains"],
                  rotate_before_days=entry["rotate_before_days"], previous=entry["previous"])
    action, reason = plan.action, plan.reason
    if state == "absent" and action == "none" and stored is not None and stored.get(name) is not None:
        # No store keeps the value of a token it saw revoked (by hand, or by a run that died before forgetting it).
        action = "deleted"
        reason = ("no token named %r exists, but the store holds the value of token %s: forget it"
                  % (name, stored[name]))
    current = plan.current
    revoke = [t.id for t in plan.revoke]
    value_from = None
    if target and not plan.create and current is not None and pending == current.id:
        # A run stopped between handing the new token over and finishing: resume it, never issue yet another.
        action, value_from = "handover", "pending"
        reason = ("the handover of token %s to %s did not finish: hand it over again, then finish"
                  % (current.id, _describe(target)))
    elif stored is not None and heal_unstored and current is not None and not plan.create and \
            stored.get(name) != current.id:
        held = stored.get(name)
        action = "healed"
        reason = ("the store holds no value for the live token %s" % current.id if held is None else
                  "the store holds token %s, not the live token %s" % (held, current.id))
        reason += (" (made by hand or by another tool, or a run stopped before storing it): issue a fresh token, "
                   "store it, then revoke the others")
        revoke = [t.id for t in named(tokens, name)]
    elif target and store is not None and not plan.create and current is not None and \
            store["idp"].get(name) != current.id:
        given = store["idp"].get(name)
        action, value_from = "handover", "current"
        reason = ("%s was never given the live token %s" % (_describe(target), current.id) if given is None else
                  "%s was last given token %s, not the live token %s" % (_describe(target), given, current.id))
    elif target and store is not None and not plan.create and current is not None and \
            _target_moved(store["target"].get(name), key, target):
        action, value_from, drift_kind = "handover", "current", IDP_TARGET_CHANGED
        reason = ("the store records token %s as handed to %s, but the entry now names %s: hand it over there"
                  % (current.id, store["target"][name], key))
    elif target and not plan.create and current is not None and name in idp.get("failing", {}):
        action, value_from, drift_kind = "handover", "current", IDP_CANNOT_PROVISION
        reason = ("%s cannot provision with what it holds (%s): hand the live token %s over again"
                  % (_describe(target, store and store["target"].get(name)), idp["failing"][name], current.id))
    create = plan.create or action == "healed"
    if target and create:
        value_from = "issue"
    return dict(entry, action=action, reason=reason, create=create, drift_kind=drift_kind, idp_target=key,
                idp_entra=target.get("entra") if target else None,
                module_state=MODULE_STATE.get(action, entry["state"]),
                current_token_id=current.id if current else None,
                current_expires=iso(current.expires) if current else None,
                revoke_ids=revoke,
                issue=_issue_call(entry, action, check_mode) if create else None,
                handover=dict(target, to=_describe(target), value_from=value_from, target=key) if value_from else None,
                store="remove" if action == "deleted" else ("write" if create or value_from else None),
                store_key=store_key(name),
                # The token ids this plan saw in the store: a write replaces a record only while it still holds them.
                stored_token_id=stored.get(name) if stored is not None else None,
                stored_pending_id=pending)


def store_guard(planned, tokens, now, store, location=None, option_prefix=""):
    """Refuse a plan that would replace live tokens on the word of a store that was never used for the org.

    A store asked in the wrong place (another region, mount, path prefix or directory, or a store on another
    machine) reads as empty, exactly like a lost one; healing would then issue fresh tokens into the wrong place and
    revoke the ones the right place, and the identity providers, still use. The caller knows whether the store was
    ever used for the org (its records, or the marker its check leaves before the first token is issued); only when
    it was not is this called. Marks each declared entry whose action would replace or revoke a live token the
    store does not hold as ``refused`` (in place) and returns the message that fails the org, or None when no live
    token is at risk (a new org: nothing to lose; a token declared absent goes whatever the store holds).
    ``option_prefix`` is how the caller's variables name the options (the role's: ``resolver_scim_``).
    """
    at_risk = []
    for entry in planned:
        live = current_token(named(tokens, entry["name"]), now)
        if entry["state"] != "absent" and entry["action"] != "none" and live is not None \
                and store["held"].get(entry["name"]) != live.id:
            at_risk.append((entry, live.id))
    if not at_risk:
        return None
    where = "the token store (%s)" % location if location else "the token store"
    healing_only = all(entry["action"] == "healed" for entry, _live in at_risk)
    found = []
    for entry, live in at_risk:
        found.append("%s (live token %s; planned: %s)" % (entry["name"], live, entry["action"]))
        entry.update(reason="%s; refused: %s has never been used for this org and does not hold live token %s"
                     % (entry["reason"], where, live),
                     action=REFUSED, create=False, issue=None, revoke_ids=[], handover=None, store=None,
                     module_state=entry["state"])
    new = option_prefix + "store_is_new"
    if healing_only:
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
    if store is None and stored is not None:
        store = {"held": stored, "pending": {}, "idp": {}}
    if store is not None:
        store = dict({"target": {}, "job": {}}, **store)
    idp = {"tenant": entra_tenant, "failing": idp_failing or {}, "found": idp_targets_found or {}}
    planned = [_entry_plan(entry, tokens, now, store, heal_unstored, set(rotate), check_mode, idp)
               for entry in entries]
    refused = None
    if store is not None and not store_org_known:
        refused = store_guard(planned, tokens, now, store, store_location, option_prefix)
    declared = {entry["name"] for entry in entries}
    ordered = sorted(tokens, key=lambda t: (t.name, t.sort_key()))
    undeclared = [t for t in ordered if t.name not in declared]
    if exclusive:
        for name in sorted({t.name for t in undeclared}):
            ids = [t.id for t in undeclared if t.name == name]
            planned.append({"name": name, "email_domains": [], "state": "absent", "rotate_before_days": 0,
                            "previous": "revoke", "action": "deleted", "create": False, "module_state": "absent",
                            "reason": "token(s) %s named %r are not declared, and exclusive is set"
                            % (", ".join(str(i) for i in ids), name),
                            "current_token_id": None, "current_expires": None, "revoke_ids": ids, "issue": None,
                            "handover": None, "store": "remove", "store_key": store_key(name)})
    if store is not None:
        for entry in planned:
            _keep_what_an_idp_holds(entry, planned, store)

    drift = dict((category, []) for category in DRIFT_CATEGORIES)
    for entry in planned:
        category = entry.get("drift_kind") or DRIFT_OF_ACTION.get(entry["action"])
        if category:
            drift[category].append({"name": entry["name"], "reason": entry["reason"]})
    for token in tokens:
        if token.name in declared and not token.is_live(now):
            drift["expired"].append({"name": token.name, "token_id": token.id, "expires": iso(token.expires)})

    currents = [current_token(named(tokens, entry["name"]), now) for entry in entries if entry["state"] != "absent"]
    for token in currents:
        if token is not None and token.expires is None:
            drift["unknown_expiry"].append({
                "name": token.name, "token_id": token.id,
                "reason": "Resolver lists token %s without an expiry or creation date, so its renewal cannot be "
                          "planned; rotate it, and check docs/api-assumptions.md" % token.id})
    expiries = [t.expires for t in currents if t is not None and t.expires is not None]
    # A refused org changes nothing at all, not even what the guard did not refuse.
    actions = [] if refused else [entry for entry in planned if entry["action"] != "none"]
    drifting = [entry for entry in actions if not rotates_every_run(entry)]
    return {
        "entries": planned,
        "actions": actions,
        "undeclared": [t.as_dict(now) for t in undeclared],
        "drift": drift,
        # Drift means "a converge would change something" (other than the rotation that state=rotated asks of every
        # run: that is what was declared), or a token whose expiry nobody can tell.
        "drifted": bool(drifting) or bool(refused) or bool(drift["unknown_expiry"]),
        "next_expiry": iso(min(expiries)) if expiries else None,
        "tokens": [t.as_dict(now) for t in ordered],
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
    targets it any more, the deletion goes ahead and the summary warns that the target stops provisioning."""
    name = entry["name"]
    held = store["idp"].get(name)
    if entry["action"] != "deleted" or held is None or held not in entry["revoke_ids"]:
        return
    target = store["target"].get(name)
    after = [e["name"] for e in planned if target and e.get("idp_target") == target and e["name"] != name
             and e["state"] != "absent"]
    if not after:
        entry["idp_warning"] = ("%s holds token %s, which is revoked: it stops provisioning"
                                % (target or "the identity provider it was handed to", held))
        return
    entry.update(revoke_ids=[i for i in entry["revoke_ids"] if i != held], store=None,
                 deferred_revoke={"token_id": held, "target": target, "after": after[0]},
                 reason="%s; token %s stays live until %s is handed to %s" % (entry["reason"], held, after[0], target))


def _handed_over(planned, store):
    """The live tokens the store records as held by their Entra ID app, with what an IdP check needs."""
    found = []
    for entry in planned:
        entra = entry.get("idp_entra")
        if store is None or entry["action"] != "none" or not entra or entry["current_token_id"] is None \
                or store["idp"].get(entry["name"]) != entry["current_token_id"]:
            continue
        found.append({"name": entry["name"], "token_id": entry["current_token_id"], "target": entry["idp_target"],
                      "service_principal_id": entra["service_principal_id"],
                      "job_id": entra.get("job_id") or store["job"].get(entry["name"])})
    return found


def _handover_checks(planned, store):
    """The live tokens the store records as handed over by your own tasks whose entry names handover_check_tasks:
    what those tasks are given (never a value). Empty for an org without such tokens, so it runs no check task."""
    found = []
    for entry in planned:
        if store is None or entry["action"] != "none" or not entry.get("handover_check_tasks") \
                or entry["current_token_id"] is None or store["idp"].get(entry["name"]) != entry["current_token_id"]:
            continue
        found.append({"name": entry["name"], "token_id": entry["current_token_id"],
                      "target": store["target"].get(entry["name"]) or entry["idp_target"],
                      "tasks": entry["handover_check_tasks"]})
    return found


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


def pending_records_of(name, store):
    """Where a handover reads a pending value (``value_key``) and which records it removes when it finished
    (``pending_records``, as remove.yml takes them): the pending record under its key and, read from and then
    removed, one that an earlier version left under the old key. The old key is removed only where the read found
    this token's pending record: the same key may hold the record of a token named "<name>.pending"."""
    found = store.get("pending_keys", {}).get(name) or []
    keys = sorted(set(found) | {pending_key(name)})
    legacy = [key for key in found if key == legacy_pending_key(name)]
    return {"value_key": pending_key(name) if pending_key(name) in found or not legacy else legacy[0],
            "pending_records": [{"name": name, "store_key": key} for key in keys]}


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


def _wrapped(text, indent):
    return textwrap.wrap(text, SUMMARY_WIDTH, initial_indent=indent, subsequent_indent=indent + "    ",
                         break_on_hyphens=False) or [indent]


# What each action does, for "would ..." in check mode and "did not ..." after a failure.
VERB_OF_ACTION = {"created": "create", "renewed": "renew", "recreated": "recreate", "healed": "heal",
                  "rotated": "rotate", "revoked": "revoke", "deleted": "delete", "handover": "hand over",
                  REFUSED: "refuse"}
# Longer errors are cut to their first sentence in a summary: the failed task above carries the whole message.
BRIEF_ERROR = 200


def org_label(host, org=None):
    """How summaries and failures name an org: its inventory host, and its resolver_scim_org where that differs."""
    return host if not org or org == host else "%s (resolver_scim_org %s)" % (host, org)


def _brief(error):
    if len(error) <= BRIEF_ERROR:
        return error
    first = error.split(". ", 1)[0].rstrip(".")
    if len(first) > BRIEF_ERROR:
        first = first[:BRIEF_ERROR].rsplit(" ", 1)[0] + " …"
    return "%s (the failed task above has the whole message)" % first


def _action_line(entry, check_mode):
    revoked = entry["revoke_ids"]
    verb = "would %s" % VERB_OF_ACTION.get(entry["action"], entry["action"]) if check_mode else entry["action"]
    detail = "%s %s: %s" % (verb, entry["name"], entry["reason"])
    if entry.get("handover") and entry["action"] != "handover":
        detail += "; hand it to %s" % entry["handover"]["to"]
    if (entry["create"] or entry.get("handover")) and revoked:
        detail += "; then revoke %s" % ", ".join(str(i) for i in revoked)
    if entry["action"] == "healed" and entry["current_token_id"] in revoked:
        detail += ("; whatever was given token %s by hand stops working until it gets the new value from the store"
                   % entry["current_token_id"])
    if entry.get("idp_warning"):
        detail += "; WARNING: %s" % entry["idp_warning"]
    return detail


def _failure_line(entry, failure):
    """What did and did not happen to an entry whose change failed (the failed task above has the message)."""
    verb = VERB_OF_ACTION.get(entry["action"], entry["action"]) if entry else "change"
    if failure["step"] == "final plan":
        return "FAILED %s: the run changed it, but the plan made after the run still has work left: %s" % (
            failure["name"], failure["msg"])
    kept = ", ".join(str(i) for i in entry["revoke_ids"]) if entry else ""
    return "FAILED %s: did not %s it, stopped at the %s step (%s); %s" % (
        failure["name"], verb, failure["step"], entry["reason"] if entry else "see the failed task above",
        "token(s) %s were not revoked" % kept if kept else "nothing was revoked for it")


def _unmanaged_lines(plan, exclusive):
    """Live tokens that no entry declares: left alone by default, which a converge says rather than hides."""
    live = [t for t in plan.get("undeclared") or [] if not t.get("expired")]
    if exclusive or not live:
        return []
    names = sorted({t["name"] for t in live})
    return _wrapped("unmanaged: %s (token(s) %s) declared nowhere, left live; to revoke them, declare them "
                    "state: absent or set resolver_scim_exclusive: true" % (
                        ", ".join(names), ", ".join(str(t["id"]) for t in live)), "  ")


def summary_lines(orgs, check_mode=False):
    """The per-org summary a person reads, at most SUMMARY_WIDTH columns wide, never a value.

    ``orgs``: a list of {org, plan, final (the plan after the run, or None), failures, error} in play order
    (``org``: the name to show, see ``org_label``). Every action is listed with its reason; a replacement says which
    tokens it revoked; a failed one what did and did not happen.
    """
    lines = []
    for org in orgs:
        name = org["org"]
        failures = org.get("failures") or []
        if org.get("plan") is None:
            lines.extend(_wrapped("%s: FAILED - %s" % (name, _brief(org.get("error") or "see the failed task above")),
                                  ""))
            continue
        plan, final = org["plan"], org.get("final") or org["plan"]
        error = org.get("error") if not failures else None
        unchanged = [e["name"] for e in plan["entries"] if e["action"] == "none"]
        state = ("FAILED" if failures or error else
                 ("would change" if check_mode else "changed") if plan["actions"] else "unchanged")
        head = "%s: %s; %d declared, %d unchanged; next expiry %s" % (
            name, state, len([e for e in plan["entries"] if e["state"] != "absent" or e["action"] == "none"]),
            len(unchanged), (final.get("next_expiry") or "-")[:10])
        lines.extend(_wrapped(head, ""))
        failed = dict((failure["name"], failure) for failure in failures)
        for entry in plan["actions"]:
            if entry["name"] not in failed:
                lines.extend(_wrapped(_action_line(entry, check_mode), "  "))
        by_name = dict((entry["name"], entry) for entry in plan["actions"])
        for failure in failures:
            lines.extend(_wrapped(_failure_line(by_name.get(failure["name"]), failure), "  "))
        if error:
            lines.extend(_wrapped("FAILED: %s" % _brief(error), "  "))
        lines.extend(_unmanaged_lines(plan, org.get("exclusive", plan.get("exclusive"))))
    if check_mode:
        lines.append("(check mode: what a converge would do; nothing was changed)")
    return lines


def drift_report(orgs, generated):
    """The drift report of all orgs as data (written with to_nice_json): valid whatever failed.

    ``orgs``: a list of {org, plan, error, exclusive}; an org whose plan failed carries its error message.
    """
    report = {"generated": generated, "drifted": False, "orgs": {}}
    orgs_by_host = dict((org["org"], org.get("resolver_scim_org")) for org in orgs)
    for org in orgs:
        if org.get("error") is not None or org.get("plan") is None:
            report["orgs"][org["org"]] = {"org": org["org"], "error": org.get("error") or "the org could not be read"}
            report["drifted"] = True
            continue
        plan = org["plan"]
        report["orgs"][org["org"]] = {
            "org": org["org"],
            "org_name": (plan.get("membership") or {}).get("org_name"),
            "drifted": plan["drifted"],
            "drift": plan["drift"],
            "next_expiry": plan["next_expiry"],
            "unmanaged": [] if org.get("exclusive") else sorted({t["name"] for t in plan["undeclared"]}),
            # Declared state=rotated: a converge rotates them on every run, which is not drift.
            "rotates_every_run": [{"name": entry["name"], "reason": entry["reason"]}
                                  for entry in plan["actions"] if rotates_every_run(entry)],
        }
        report["drifted"] = report["drifted"] or plan["drifted"]
    for host, org in report["orgs"].items():
        label = org_label(host, orgs_by_host.get(host))
        if label != host:
            org["label"] = label
    return report


def drift_lines(report):
    """The drift report as lines of at most SUMMARY_WIDTH columns: one line per org, one per finding."""
    lines = []
    for host, org in report["orgs"].items():
        name = org.get("label", host)
        if "error" in org:
            lines.extend(_wrapped("%s: ERROR - %s" % (name, org["error"]), ""))
            continue
        found = _drift_found(org)
        state = "DRIFTED (%s)" % ", ".join(found) if org["drifted"] else "no drift"
        head = "%s: %s; next expiry %s" % (name, state, (org["next_expiry"] or "-")[:10])
        if org["unmanaged"]:
            head += "; unmanaged: %s" % ", ".join(org["unmanaged"])
        lines.extend(_wrapped(head, ""))
        for category in found:
            for item in org["drift"][category]:
                text = item.get("reason") or "token %s expired %s" % (item.get("token_id"), item.get("expires"))
                lines.extend(_wrapped("%s %s: %s" % (category, item["name"], text), "  "))
        for item in org.get("rotates_every_run", []):
            lines.extend(_wrapped("not drift, a converge would rotate %s (declared state: rotated): %s"
                                  % (item["name"], item["reason"]), "  "))
    return lines


def _drift_found(org):
    return [category for category in DRIFT_CATEGORIES if org["drift"].get(category)]


def drift_failure(report, host):
    """The message that fails an org's drift check, or None when the org matches its declared tokens."""
    org = report["orgs"][host]
    name = org.get("label", host)
    if "error" in org:
        return "%s could not be read: %s" % (name, _brief(org["error"]))
    if not org["drifted"]:
        return None
    found = _drift_found(org)
    return "%s drifted from the declared tokens (%s); the lines above name the tokens. Run the converge playbook to " \
        "fix it." % (name, ", ".join(found) or "its plan has changes to make")


def shared_orgs(hosts):
    """Hosts that would manage the same Resolver org or write the same store location.

    ``hosts``: {host: {"org_key": "<api url>#<org id>", "store": "<store location>", "targets": {entry: target}}}
    for the hosts whose plan ran. Returns {host: message} for every host that shares an org, a store location or
    an Entra ID app with another; each message names them all.
    """
    problems = {}
    by_target = {}
    for host, facts in hosts.items():
        for entry, target in (facts.get("targets") or {}).items():
            if target.startswith("entra:"):
                by_target.setdefault(target, []).append((host, entry))
    for target, users in by_target.items():
        if len(set(host for host, _entry in users)) < 2:
            continue
        for host, _entry in users:
            problems.setdefault(host, []).append(
                "orgs %s hand their tokens to the same Entra ID app (%s): each would overwrite the other's token "
                "there, and the app would provision one org's users into the other org. Give each org its own "
                "enterprise app." % (" and ".join("%s (entry %s)" % user for user in sorted(users)), target))
    for field, what in (("org_key", "Resolver org"), ("store", "token store location")):
        groups = {}
        for host, facts in hosts.items():
            if facts.get(field):
                groups.setdefault(facts[field], []).append(host)
        for value, members in groups.items():
            if len(members) < 2:
                continue
            shown = value.replace("#", " org ") if field == "org_key" else value
            for host in members:
                problems.setdefault(host, []).append(
                    "hosts %s manage the same %s (%s): their converges would replace each other's tokens. Give "
                    "each org one inventory host (and each host its own resolver_scim_org and credential)."
                    % (", ".join(sorted(members)), what, shown))
    return dict((host, " ".join(messages)) for host, messages in problems.items())
