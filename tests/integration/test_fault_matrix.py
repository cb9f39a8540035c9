# Copyright: (c) 2026, resolver.scim contributors
# GNU General Public License v3.0+ (see LICENSES/GPL-3.0-or-later.txt or https://www.gnu.org/licenses/gpl-3.0.txt)
"""Fault matrix: every request of a role renewal x every fault the emulator injects, with the invariants checked.

One emulator with one org per fault; for each step, every org gets its own fault at that step in the same
converge (forks run them together). Writes tests/output/reliability/fault_matrix.{json,md}.
"""

import json
import os
import re

import pytest

from conftest import Ansible, Emulator, start_server, write_reliability_report

FAULTS = {
    "429 + Retry-After": {"status": 429, "retry_after": 1},
    "500": {"status": 500, "act": True},
    "502": {"status": 502, "act": True},
    "503": {"status": 503, "act": True},
    "connection reset": {"drop": True, "act": True},
    "slower than the read timeout": {"delay": 4, "act": True},
    "malformed JSON": {"malformed": True, "act": True},
    "401 mid-session (session auth)": {"status": 401},
}
SESSION_FAULT = "401 mid-session (session auth)"
STEPS = {
    "identity": ("GET", r"^/user/users/me$"),
    "membership": ("GET", r"^/user/org/\d+/user/\d+$"),
    "list": ("GET", r"^/user/scimTokens$"),
    "create": ("POST", r"^/user/scimTokens$"),
    "verify": ("GET", r"^/scim/Users"),
    "delete": ("DELETE", r"^/user/scimTokens/\d+$"),
}
TIMEOUT = 3
OUTCOMES = []
# The matrix's table is gathered in this process (OUTCOMES): under pytest-xdist all its cells run on one worker.
pytestmark = pytest.mark.xdist_group("fault_matrix")


@pytest.fixture(scope="module")
def matrix_server():
    server = start_server(seed_orgs=len(FAULTS))
    yield server
    server.shutdown()
    write_report()


def write_report():
    steps = list(STEPS) + ["store"]
    lines = ["| fault | " + " | ".join(steps) + " |", "|---" * (len(steps) + 1) + "|"]
    for fault in list(FAULTS) + ["store write fails"]:
        cells = []
        for step in steps:
            found = [o for o in OUTCOMES if o["fault"] == fault and o["step"] == step]
            cells.append(found[0]["cell"] if found else "")
        if any(cells):
            lines.append("| %s | %s |" % (fault, " | ".join(cells)))
    runs = len(OUTCOMES)
    lines += ["", "cells: %d; runs that succeeded despite the fault: %d; failed cleanly: %d; converged on the next run: %d;"
              " tokens lost: %d; secrets leaked: %d" % (
                  runs, sum(o["outcome"] == "ok" for o in OUTCOMES), sum(o["outcome"] == "failed" for o in OUTCOMES),
                  sum(o["converged"] for o in OUTCOMES), sum(o["lost"] for o in OUTCOMES),
                  sum(o["leaked"] for o in OUTCOMES))]
    write_reliability_report("fault_matrix", OUTCOMES, lines)


def org_state(emulator, store, host, org_id):
    """Live okta tokens (oldest first) and the stored record of an org, with whether its value works now."""
    live = sorted(t["id"] for t in emulator.tokens(name="okta") if t["orgId"] == org_id)
    path = os.path.join(store, host, "okta.json")
    record = None
    if os.path.isfile(path):
        with open(path, encoding="utf-8") as handle:
            record = json.load(handle)
        record["works"] = emulator.scim_status(record["token"]) == 200
    return live, record


def host_failure(output, host):
    """The message of a host's failed task, or None when the PLAY RECAP shows no failure for it."""
    failed = re.search(r"^%s\s+:.*\bfailed=([1-9])" % re.escape(host), output, re.MULTILINE)
    if not failed:
        return None
    fatal = max(output.find("fatal: [%s]" % host), output.find("failed: [%s]" % host))
    found = re.search(r'"msg": "((?:[^"\\]|\\.)*)"', output[fatal:]) if fatal >= 0 else None
    return found.group(1) if found else "failed (no message)"


# The issue (where a lost answer hides a live token) in make test; every other step in make exhaustive.
@pytest.mark.parametrize("step", [s if s == "create" else pytest.param(s, marks=pytest.mark.exhaustive)
                                  for s in list(STEPS) + ["store"]])
def test_renewal_under_every_fault(matrix_server, tmp_path, step):
    emulator = Emulator(matrix_server)
    emulator.reset()
    ansible = Ansible(tmp_path, emulator)
    store = str(tmp_path / "store")
    seeds = {org["id"]: org for org in emulator.seed["orgs"]}
    faults = list(FAULTS) if step != "store" else ["store write fails"]
    hosts = {}
    host_vars = {}
    for org_id, fault in enumerate(faults, start=1):
        slug = seeds[org_id]["sso_domains"][0].split(".")[0]
        host = "org%d-%s" % (org_id, slug)
        hosts[host] = (org_id, fault)
        if fault == SESSION_FAULT:
            admin = emulator.member(org_id)
            host_vars[host] = {"resolver_api_key": None, "resolver_username": admin["email"],
                               "resolver_password": admin["password"], "resolver_org_id": org_id}
    group_vars = {"resolver_scim_tokens": [{"name": "okta", "email_domains": ["{{ scim_domain }}.com"]}],
                  "resolver_scim_verify": True, "resolver_timeout": TIMEOUT}
    inventory = ansible.inventory(orgs=len(faults), group_vars=group_vars, host_vars=host_vars)

    forks = {"ANSIBLE_FORKS": str(len(faults))}
    rc, _results, output = ansible.run_playbook("converge", inventory, env=forks)
    assert rc == 0, output[-3000:]
    emulator.age_tokens(705)
    before = {host: org_state(emulator, store, host, org_id) for host, (org_id, _fault) in hosts.items()}

    if step == "store":
        for host in hosts:
            os.remove(os.path.join(store, host, "okta.json"))
            os.mkdir(os.path.join(store, host, "okta.json"))
    else:
        method, path = STEPS[step]
        emulator.faults(*[dict(FAULTS[fault], method=method, path=path, org=org_id, count=1)
                          for org_id, fault in hosts.values()])
    rc, _results, faulty_output = ansible.run_playbook("converge", inventory, verbosity=3, env=forks)
    after = {host: org_state(emulator, store, host, org_id) for host, (org_id, _fault) in hosts.items()}
    emulator.faults()
    if step == "store":
        for host in hosts:
            os.rmdir(os.path.join(store, host, "okta.json"))

    rc_clean, _results, clean_output = ansible.run_playbook("converge", inventory, env=forks)
    secrets = emulator.secrets()
    for host, (org_id, fault) in hosts.items():
        (old_live, old_record), (live, record) = before[host], after[host]
        old_id = old_record["token_id"]
        message = host_failure(faulty_output, host)
        new_live = [t for t in live if t not in old_live]
        # at most one new token per run
        assert len(new_live) <= 1, (step, fault, live)
        # the store never holds a revoked token
        if record is not None:
            assert record["works"], (step, fault, record["token_id"])
        # the token being replaced stays alive unless its stored successor works
        if old_id not in live:
            assert record is not None and record["token_id"] in live and record["token_id"] != old_id, (step, fault)
        # the store holds the current (newest live) token, except when the store itself failed
        lost = step != "store" and (record is None or record["token_id"] != live[-1])
        assert not lost, (step, fault, live, record and record["token_id"], message)
        if step == "verify" and fault in ("500", SESSION_FAULT):
            # a new token that failed its check is neither stored nor left live; the old one stays
            assert message and "verify=true" in message and record["token_id"] == old_id and live == old_live, \
                (fault, message, live, record["token_id"])
        if message is not None:
            assert "Traceback" not in message and not [s for s in secrets if s in message], (step, fault, message)
        # the next clean run converges: one live token, stored, working
        clean_live, clean_record = org_state(emulator, store, host, org_id)
        converged = (host_failure(clean_output, host) is None and len(clean_live) == 1
                     and clean_record["token_id"] == clean_live[0] and clean_record["works"])
        assert converged, (step, fault, clean_live, clean_record and clean_record["token_id"], clean_output[-2000:])
        leaked = [s for s in secrets if s in faulty_output or s in clean_output]
        assert leaked == []
        outcome = "failed" if message else "ok"
        OUTCOMES.append({"step": step, "fault": fault, "outcome": outcome, "message": message,
                         "converged": converged, "lost": int(lost), "leaked": len(leaked),
                         "cell": "ok" if outcome == "ok" else "failed cleanly"})
    assert rc_clean == 0, clean_output[-3000:]
