# -*- coding: utf-8 -*-
# Copyright: (c) 2026, resolver.scim contributors
# GNU General Public License v3.0+ (see LICENSES/GPL-3.0-or-later.txt or https://www.gnu.org/licenses/gpl-3.0.txt)
"""Filters that join a plan with what a run did, and read or explain a secrets-manager store; the logic lives in
module_utils and plugin_utils/secret_store_*.py (unit-tested).

The scim_tokens role uses them so that its task files hold no decision of their own. Each filter is documented
in the YAML file of its name next to this one.
"""

from ansible.errors import AnsibleFilterError

from ansible_collections.resolver.scim.plugins.module_utils import _reports, _run_outcome, _store_records
from ansible_collections.resolver.scim.plugins.plugin_utils.secret_store_advice import store_error_advice
from ansible_collections.resolver.scim.plugins.plugin_utils.secret_store_records import store_records


def _view(records):
    """What a store read (back) holds; the plan already refused records of another org."""
    return _store_records.store_view(records or [], None)


def _ran(result):
    """A registered module result of this run, or None (skipped, failed or never registered)."""
    if not isinstance(result, dict) or result.get("skipped") or result.get("failed") or "actions" not in result:
        return None
    return result


def _planned(result):
    """A plan of this run, also one the store guard refused (its failed result carries the plan), or None."""
    if isinstance(result, dict) and result.get("refused") and "drift" in result:
        return result
    return _ran(result)


def token_outcome(plan, issued, store_records, store_error=None, check_mode=False, final_plan=None,
                  handover_failures=()):
    """Which tokens to revoke after issuing, storing and handing over, and what failed (per token name and step,
    never a value)."""
    if _ran(plan) is None:
        raise AnsibleFilterError("token_outcome expects a scim_token_plan result")
    result = _run_outcome.outcome(plan, issued, _view(store_records), store_error=store_error or None,
                                  check_mode=check_mode, handover_failures=handover_failures or ())
    if _ran(final_plan) is not None:
        failed = {failure["name"] for failure in result["failures"]}
        result["failures"].extend(f for f in _run_outcome.postcondition(final_plan, plan) if f["name"] not in failed)
    return result


def token_store_items(plan, issued, org, org_id):
    """The records a store writes after the issue step (with the new values: use with no_log)."""
    return _run_outcome.store_items(plan, issued, org, org_id)


def token_store_conflicts(store_records, keys, org_id):
    """Why a store must not write these keys: records of another org under them (see _store_records.foreign_records)."""
    return _store_records.foreign_records(store_records, set(keys or []), int(org_id))


def token_store_changed(store_records, items):
    """The write items whose record changed since the plan (see _store_records.changed_records)."""
    return _store_records.changed_records(store_records, items)


def token_handovers(plan, issued, store_records, scim_url, org, org_id):
    """The handovers to run after the store was read back (no values: see _run_outcome.handover_items)."""
    return _run_outcome.handover_items(plan, issued, _view(store_records), scim_url, org, org_id)


def token_summary(hosts, hostvars, check_mode=False, active_hosts=None):
    """The per-org summary lines of a converge, for the hosts of the play in order (``active_hosts``: the ones
    that have not failed)."""
    orgs = []
    for host in hosts:
        facts = hostvars[host]
        plan = facts.get("scim_tokens_plan")
        error = plan.get("msg") if isinstance(plan, dict) and plan.get("failed") else None
        if error is None and active_hosts is not None and host not in active_hosts:
            error = "see the failed task of this org above"
        orgs.append({"org": _reports.org_label(host, facts.get("resolver_scim_org")), "plan": _ran(plan),
                     "final": _ran(facts.get("scim_tokens_final")),
                     "failures": facts.get("scim_tokens_failures") or [], "error": error})
    return _reports.summary_lines(orgs, check_mode=check_mode)


def token_lock_paths(hosts, hostvars):
    """The lock paths of the hosts whose plan has actions, sorted: the one order every run takes locks in."""
    paths = set()
    for host in hosts:
        plan = _ran(hostvars[host].get("scim_tokens_plan"))
        if plan is not None and plan["actions"]:
            paths.add(hostvars[host]["scim_tokens_lock_file"])
    return sorted(paths)


def token_drift_report(hosts, hostvars, generated):
    """The drift report of all orgs as data; an org that could not be read carries its error, an org whose plan the
    store guard refused its drift (store_unknown)."""
    orgs = []
    for host in hosts:
        facts = hostvars[host]
        plan = facts.get("scim_tokens_plan")
        planned = _planned(plan)
        error = None if planned is not None and planned.get("refused") else facts.get("scim_tokens_drift_error")
        if not error and planned is None:
            error = plan.get("msg") if isinstance(plan, dict) and plan.get("msg") else "the org could not be read"
        orgs.append({"org": host, "plan": planned, "error": error or None,
                     "exclusive": (plan or {}).get("exclusive"), "resolver_scim_org": facts.get("resolver_scim_org")})
    return _reports.drift_report(orgs, generated)


def token_drift_lines(report):
    return _reports.drift_lines(report)


def token_drift_failure(report, host):
    """Why a host's drift check fails (it drifted, or its org could not be read), or an empty string."""
    return _reports.drift_failure(report, host) or ""


def token_shared_orgs(hosts, hostvars):
    """{host: message} for the hosts of the play that share a Resolver org (any host whose plan ran) or a store
    location (the hosts about to change their org, which note where their store is on the change path)."""
    found = {}
    for host in hosts:
        facts = hostvars[host]
        plan = facts.get("scim_tokens_plan") or {}
        membership = plan.get("membership") or {}
        if plan.get("api_url") and membership.get("org_id") is not None:
            found[host] = {"org_key": "%s#%s" % (plan["api_url"].rstrip("/").lower(), membership["org_id"]),
                           "store": facts.get("scim_tokens_store_at") if plan.get("actions") else None,
                           "targets": plan.get("idp_targets") or {}}
    return _reports.shared_orgs(found)


class FilterModule:  # pylint: disable=too-few-public-methods
    def filters(self):
        return {
            "store_key": _store_records.store_key,
            "store_records": store_records,
            "store_error_advice": store_error_advice,
            "token_outcome": token_outcome,
            "token_store_items": token_store_items,
            "token_store_conflicts": token_store_conflicts,
            "token_store_changed": token_store_changed,
            "token_handovers": token_handovers,
            "token_summary": token_summary,
            "token_drift_report": token_drift_report,
            "token_drift_lines": token_drift_lines,
            "token_drift_failure": token_drift_failure,
            "token_shared_orgs": token_shared_orgs,
            "token_lock_paths": token_lock_paths,
        }
