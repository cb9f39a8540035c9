# -*- coding: utf-8 -*-
# Copyright: (c) 2026, resolver.scim contributors
# GNU General Public License v3.0+ (see LICENSES/GPL-3.0-or-later.txt or https://www.gnu.org/licenses/gpl-3.0.txt)
"""The token entries a plan declares (the role's resolver_scim_tokens): their options, checked and normalised
before any request, and where each hands its value over."""

from ansible_collections.resolver.scim.plugins.module_utils._errors import InputError, kind_of
from ansible_collections.resolver.scim.plugins.module_utils._tokens import (
    DEFAULT_ROTATE_BEFORE_DAYS,
    TOKEN_ENTRY_OPTIONS,
    check_days,
    check_name,
    normalize_domains,
)

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
        name = _entry_name(entry, where)
        where = "%s (%s)" % (where, name)
        if name in seen:
            raise InputError("%s repeats the name %r of %s[%d]; each token name may be declared once."
                             % (where, name, label, seen[name]))
        seen[name] = index
        normalised = _normalised(entry, name, where)
        _check_own_target(normalised, targets)
        result.append(normalised)
    return result


def _entry_name(entry, where):
    """The name of a declared entry that is a dict of known keys."""
    if not isinstance(entry, dict):
        raise InputError("%s must be a dict with keys %s; got %s."
                         % (where, ", ".join(PLAN_ENTRY_OPTIONS), kind_of(entry)))
    unknown = sorted(set(entry) - set(PLAN_ENTRY_OPTIONS))
    if unknown:
        raise InputError("%s has unknown key(s) %s; accepted keys: %s."
                         % (where, ", ".join(unknown), ", ".join(PLAN_ENTRY_OPTIONS)))
    return check_name(entry.get("name"), where + ".name")


def _normalised(entry, name, where):
    """The entry checked option by option, defaults filled in."""
    normalised = {"name": name}
    for option in ("state", "previous"):
        normalised[option] = _choice(entry, option, where)
    normalised["rotate_before_days"] = _days(entry.get("rotate_before_days"), where)
    normalised["email_domains"] = _domains(entry.get("email_domains"), normalised["state"], where)
    normalised["handover"] = _handover_target(entry, where, normalised["state"])
    check_tasks = _check_tasks(entry, normalised["handover"], where)
    if check_tasks:
        normalised["handover_check_tasks"] = check_tasks
    return normalised


def _choice(entry, option, where):
    value = entry.get(option) or TOKEN_ENTRY_OPTIONS[option]["default"]
    if value not in TOKEN_ENTRY_OPTIONS[option]["choices"]:
        raise InputError("%s.%s must be one of %s; got %r."
                         % (where, option, ", ".join(TOKEN_ENTRY_OPTIONS[option]["choices"]), value))
    return value


def _days(days, where):
    days = DEFAULT_ROTATE_BEFORE_DAYS if days is None else days
    if isinstance(days, bool) or not isinstance(days, int):
        raise InputError("%s.rotate_before_days must be a whole number of days from 0 to 729; got %s."
                         % (where, kind_of(days)))
    return check_days(days, where + ".rotate_before_days")


def _domains(domains, state, where):
    """The entry's email domains, normalised; an entry declared absent needs none."""
    if state == "absent" and not domains:
        return []
    if not isinstance(domains, list):
        raise InputError("%s.email_domains must be a list of domains, for example [acme.com]; got %s."
                         % (where, kind_of(domains)))
    return normalize_domains(domains, where + ".email_domains")


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
