# -*- coding: utf-8 -*-
# Copyright: (c) 2026, resolver.scim contributors
# GNU General Public License v3.0+ (see LICENSES/GPL-3.0-or-later.txt or https://www.gnu.org/licenses/gpl-3.0.txt)
"""Plan a whole org against its declared tokens with one token list: the role's planning step and drift check.

Each declared entry is decided by ``tokens.decide`` (the same code ``scim_token`` runs), so the role only calls
``scim_token`` for entries that need action, and ``scim_token`` then reaches the same decision.
"""

import hashlib
import re

from ansible_collections.resolver.scim.plugins.module_utils.tokens import (
    PREVIOUS_CHOICES,
    STATES,
    TOKEN_LIFETIME_DAYS,
    InputError,
    check_days,
    check_name,
    current_token,
    decide,
    iso,
    named,
    normalize_domains,
)

ENTRY_KEYS = ("name", "email_domains", "state", "rotate_before_days", "previous")
DEFAULT_ROTATE_BEFORE_DAYS = 30
# The scim_token state that carries out each action, and the drift category the action stands for.
MODULE_STATE = {"created": "present", "renewed": "present", "recreated": "present", "revoked": "present",
                "rotated": "rotated", "healed": "rotated", "deleted": "absent"}
DRIFT_OF_ACTION = {"created": "missing", "renewed": "expiring", "recreated": "domain_mismatch",
                   "healed": "unstored", "revoked": "superseded", "deleted": "extra"}
DRIFT_CATEGORIES = ("missing", "expiring", "expired", "domain_mismatch", "unstored", "superseded", "extra")


HASHED_KEY = re.compile(r"-[0-9a-f]{8}$")


def store_key(name):
    """A file-system-safe key for a token name; names that needed changing get a short hash against collisions.

    A name that already ends like a hashed key ("-" and 8 hex digits) is hashed too, so that it cannot take the
    key of another name ("okta?" is "okta_-<hash>"; a token named "okta_-<hash>" gets "okta_-<hash>-<hash>").
    """
    safe = re.sub(r"[^A-Za-z0-9._-]", "_", name).lstrip(".") or "_"
    if safe != name or HASHED_KEY.search(name):
        safe += "-" + hashlib.sha256(name.encode("utf-8")).hexdigest()[:8]
    return safe


def validate_entries(entries, label="tokens"):
    """Check every declared entry before any request; return them normalised (defaults filled in)."""
    if entries is None:
        entries = []
    if not isinstance(entries, list):
        raise InputError("%s must be a list of token entries ({name, email_domains, state, ...})." % label)
    result, seen = [], {}
    for index, entry in enumerate(entries):
        where = "%s[%d]" % (label, index)
        if not isinstance(entry, dict):
            raise InputError("%s must be a dict with keys %s; got %r." % (where, ", ".join(ENTRY_KEYS), entry))
        unknown = sorted(set(entry) - set(ENTRY_KEYS))
        if unknown:
            raise InputError("%s has unknown key(s) %s; accepted keys: %s." % (where, ", ".join(unknown), ", ".join(ENTRY_KEYS)))
        name = check_name(entry.get("name"), where + ".name")
        where = "%s (%s)" % (where, name)
        if name in seen:
            raise InputError("%s repeats the name %r of %s[%d]; each token name may be declared once."
                             % (where, name, label, seen[name]))
        seen[name] = index
        state = entry.get("state") or "present"
        if state not in STATES:
            raise InputError("%s.state must be one of %s; got %r." % (where, ", ".join(STATES), state))
        previous = entry.get("previous") or "revoke"
        if previous not in PREVIOUS_CHOICES:
            raise InputError("%s.previous must be one of %s; got %r." % (where, ", ".join(PREVIOUS_CHOICES), previous))
        rotate_before_days = entry.get("rotate_before_days")
        if rotate_before_days is None:
            rotate_before_days = DEFAULT_ROTATE_BEFORE_DAYS
        if isinstance(rotate_before_days, bool) or not isinstance(rotate_before_days, int):
            raise InputError("%s.rotate_before_days must be a whole number of days from 0 to %d; got %r."
                             % (where, TOKEN_LIFETIME_DAYS - 1, rotate_before_days))
        check_days(rotate_before_days, where + ".rotate_before_days")
        domains = entry.get("email_domains")
        if state == "absent" and not domains:
            domains = []
        else:
            if not isinstance(domains, list):
                raise InputError("%s.email_domains must be a list of domains, for example [acme.com]; got %r."
                                 % (where, domains))
            domains = normalize_domains(domains, where + ".email_domains")
        result.append({"name": name, "email_domains": domains, "state": state,
                       "rotate_before_days": rotate_before_days, "previous": previous})
    return result


def _entry_plan(entry, tokens, now, stored, heal_unstored, rotate):
    state = "rotated" if entry["name"] in rotate and entry["state"] != "absent" else entry["state"]
    plan = decide(state, entry["name"], tokens, now, email_domains=entry["email_domains"],
                  rotate_before_days=entry["rotate_before_days"], previous=entry["previous"])
    action, reason = plan.action, plan.reason
    current = plan.current
    held = stored.get(entry["name"]) if stored is not None else None
    if stored is not None and heal_unstored and current is not None and not plan.create and held != current.id:
        action = "healed"
        reason = ("the store holds no value for the live token %s" % current.id if held is None else
                  "the store holds token %s, not the live token %s" % (held, current.id))
        reason += ": issue a fresh token, store it, then revoke the others"
    create = plan.create or action == "healed"
    return dict(entry, action=action, reason=reason, create=create,
                module_state=MODULE_STATE.get(action, entry["state"]),
                current_token_id=current.id if current else None,
                revoke_ids=[t.id for t in plan.revoke] if action != "healed" else [t.id for t in named(tokens, entry["name"])],
                store="remove" if action == "deleted" else ("write" if create else None),
                store_key=store_key(entry["name"]))


def plan_org(entries, tokens, now, stored=None, exclusive=False, heal_unstored=True, rotate=()):
    """Plan every declared entry and, with ``exclusive``, the removal of undeclared tokens.

    ``stored`` maps token names to the token id the secret store holds, or is None when nothing is stored
    (then nothing can be healed). Returns a dict: entries, actions, undeclared, drift, drifted, next_expiry.
    """
    planned = [_entry_plan(entry, tokens, now, stored, heal_unstored, set(rotate)) for entry in entries]
    declared = {entry["name"] for entry in entries}
    ordered = sorted(tokens, key=lambda t: (t.name, t.sort_key()))
    undeclared = [t for t in ordered if t.name not in declared]
    if exclusive:
        for name in sorted({t.name for t in undeclared}):
            ids = [t.id for t in undeclared if t.name == name]
            planned.append({"name": name, "email_domains": [], "state": "absent", "rotate_before_days": 0,
                            "previous": "revoke", "action": "deleted", "create": False, "module_state": "absent",
                            "reason": "token(s) %s named %r are not declared and resolver_scim_exclusive is true"
                            % (", ".join(str(i) for i in ids), name),
                            "current_token_id": None, "revoke_ids": ids, "store": "remove",
                            "store_key": store_key(name)})

    drift = dict((category, []) for category in DRIFT_CATEGORIES)
    for entry in planned:
        category = DRIFT_OF_ACTION.get(entry["action"])
        if category:
            drift[category].append({"name": entry["name"], "reason": entry["reason"]})
    for token in tokens:
        if token.name in declared and not token.is_live(now):
            drift["expired"].append({"name": token.name, "token_id": token.id, "expires": iso(token.expires)})

    currents = [current_token(named(tokens, entry["name"]), now) for entry in entries if entry["state"] != "absent"]
    expiries = [t.expires for t in currents if t is not None and t.expires is not None]
    actions = [entry for entry in planned if entry["action"] != "none"]
    return {
        "entries": planned,
        "actions": actions,
        "undeclared": [t.as_dict(now) for t in undeclared],
        "drift": drift,
        # Drift means exactly "a converge would change something".
        "drifted": bool(actions),
        "next_expiry": iso(min(expiries)) if expiries else None,
        "tokens": [t.as_dict(now) for t in ordered],
    }
