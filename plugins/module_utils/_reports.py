# -*- coding: utf-8 -*-
# Copyright: (c) 2026, resolver.scim contributors
# GNU General Public License v3.0+ (see LICENSES/GPL-3.0-or-later.txt or https://www.gnu.org/licenses/gpl-3.0.txt)
"""What a person reads about plans and runs: the per-org summary, the drift report and its lines, and the hosts
that would manage the same org, store location or Entra ID app."""

import textwrap

from ansible_collections.resolver.scim.plugins.module_utils._plan import DRIFT_CATEGORIES, REFUSED, rotates_every_run

SUMMARY_WIDTH = 100


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
        if org.get("plan") is None:
            error = org.get("error") or "see the failed task above"
            lines.extend(_wrapped("%s: FAILED - %s" % (org["org"], _brief(error)), ""))
        else:
            lines.extend(_org_lines(org, check_mode))
    if check_mode:
        lines.append("(check mode: what a converge would do; nothing was changed)")
    return lines


def _org_lines(org, check_mode):
    """The summary of an org whose plan ran: a head line, then one line per action or failure."""
    plan, failures = org["plan"], org.get("failures") or []
    error = org.get("error") if not failures else None
    lines = _wrapped(_org_head(org, "FAILED" if failures or error else
                               ("would change" if check_mode else "changed") if plan["actions"] else "unchanged"), "")
    failed = dict((failure["name"], failure) for failure in failures)
    for entry in plan["actions"]:
        if entry["name"] not in failed:
            lines.extend(_wrapped(_action_line(entry, check_mode), "  "))
    by_name = dict((entry["name"], entry) for entry in plan["actions"])
    for failure in failures:
        lines.extend(_wrapped(_failure_line(by_name.get(failure["name"]), failure), "  "))
    if error:
        lines.extend(_wrapped("FAILED: %s" % _brief(error), "  "))
    return lines + _unmanaged_lines(plan, org.get("exclusive", plan.get("exclusive")))


def _org_head(org, state):
    plan, final = org["plan"], org.get("final") or org["plan"]
    return "%s: %s; %d declared, %d unchanged; next expiry %s" % (
        org["org"], state, len([e for e in plan["entries"] if e["state"] != "absent" or e["action"] == "none"]),
        len([e for e in plan["entries"] if e["action"] == "none"]), (final.get("next_expiry") or "-")[:10])


def drift_report(orgs, generated):
    """The drift report of all orgs as data (written with to_nice_json): valid whatever failed.

    ``orgs``: a list of {org, plan, error, exclusive}; an org whose plan failed carries its error message.
    """
    report = {"generated": generated, "drifted": False, "orgs": {}}
    for org in orgs:
        found = _org_drift(org)
        label = org_label(org["org"], org.get("resolver_scim_org"))
        if label != org["org"]:
            found["label"] = label
        report["orgs"][org["org"]] = found
        # An org that could not be read counts as drifted.
        report["drifted"] = report["drifted"] or found.get("drifted", True)
    return report


def _org_drift(org):
    """One org's part of the drift report."""
    if org.get("error") is not None or org.get("plan") is None:
        return {"org": org["org"], "error": org.get("error") or "the org could not be read"}
    plan = org["plan"]
    return {
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
    for host, message in list(_shared_apps(hosts)) + list(_shared_locations(hosts)):
        problems.setdefault(host, []).append(message)
    return dict((host, " ".join(messages)) for host, messages in problems.items())


def _shared_apps(hosts):
    """(host, message) for each host whose entries hand a token to the Entra ID app of another host's entry."""
    by_target = {}
    for host, facts in hosts.items():
        for entry, target in (facts.get("targets") or {}).items():
            if target.startswith("entra:"):
                by_target.setdefault(target, []).append((host, entry))
    for target, users in by_target.items():
        if len(set(host for host, _entry in users)) < 2:
            continue
        for host, _entry in users:
            yield host, ("orgs %s hand their tokens to the same Entra ID app (%s): each would overwrite the other's "
                         "token there, and the app would provision one org's users into the other org. Give each "
                         "org its own enterprise app."
                         % (" and ".join("%s (entry %s)" % user for user in sorted(users)), target))


def _shared_locations(hosts):
    """(host, message) for each host that shares its Resolver org or its token store location with another."""
    for field, what in (("org_key", "Resolver org"), ("store", "token store location")):
        groups = {}
        for host, facts in hosts.items():
            if facts.get(field):
                groups.setdefault(facts[field], []).append(host)
        for value, members in [(value, members) for value, members in groups.items() if len(members) > 1]:
            shown = value.replace("#", " org ") if field == "org_key" else value
            for host in members:
                yield host, ("hosts %s manage the same %s (%s): their converges would replace each other's tokens. "
                             "Give each org one inventory host (and each host its own resolver_scim_org and "
                             "credential)." % (", ".join(sorted(members)), what, shown))
