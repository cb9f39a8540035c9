# Copyright: (c) 2026, resolver.scim contributors
# GNU General Public License v3.0+ (see LICENSES/GPL-3.0-or-later.txt or https://www.gnu.org/licenses/gpl-3.0.txt)
"""Zero-touch rotation: the role hands each new token to Entra ID (the Graph stand-in) or to your own tasks, tests
it there, and only then revokes the old one (issue 12). Every step checks the IdP never held a failing token."""

import json
import os
import signal
import subprocess
import sys
import time

import pytest

from conftest import REPO, write_reliability_report
from test_role import actions, assert_no_secret, live_by_org, recap, records, summary

EXAMPLES = os.path.join(REPO, "docs", "examples")


def setup(ansible, emulator, tmp_path, okta=True, **entra_extra):
    sp = emulator.service_principal("resolver")
    connection = emulator.entra_connection()
    inbox = tmp_path / "okta-inbox"
    inbox.mkdir()
    tokens = [dict({"name": "entra", "email_domains": ["{{ scim_domain }}.com"],
                    "entra": {"service_principal_id": sp["id"]}}, **entra_extra)]
    if okta:
        tokens.append({"name": "okta", "email_domains": ["{{ scim_domain }}.org"], "previous": "keep",
                       "handover_tasks": os.path.join(EXAMPLES, "okta-handover.yml")})
    group_vars = {"resolver_scim_tokens": tokens, "okta_handover_inbox": str(inbox)}
    group_vars.update(("resolver_scim_entra_" + key, value) for key, value in connection.items() if key != "timeout")
    return sp, ansible.inventory(orgs=1, group_vars=group_vars), inbox


def graph_requests(emulator):
    return [r for r in emulator.log() if r["path"].startswith("/_entra/")]


def idp(emulator, sp):
    return emulator.entra("GET", "service_principals/%s/can_provision" % sp["id"])


def broken_spans(emulator, sp):
    return emulator.entra("GET", "service_principals/%s/history" % sp["id"])["broken"]


def test_handover_lifecycle(ansible, emulator, tmp_path):
    sp, inventory, inbox = setup(ansible, emulator, tmp_path)
    store = str(tmp_path / "store")

    # check mode names the IdP, sends nothing
    emulator.clear_log()
    rc, results, output = ansible.run_playbook("converge", inventory, check=True, diff=True, verbosity=4)
    assert rc == 0, output[-3000:]
    text = " ".join(" ".join(summary(results)["org1-acme"]).split())
    assert "would create entra: no token named 'entra' exists; hand it to Entra ID (service principal %s)" % sp["id"] in text
    assert emulator.mutating() == [] and graph_requests(emulator) == []

    # first converge: both issued, Entra ID given its token and proven, Okta's admins notified (no value)
    emulator.clear_log()
    rc, results, output = ansible.run_playbook("converge", inventory, verbosity=4)
    assert rc == 0, output[-3000:]
    first = graph_requests(emulator)
    held = records(store)["org1-acme"]
    assert idp(emulator, sp)["can_provision"] is True and idp(emulator, sp)["token_id"] == held["entra"]["token_id"]
    assert held["entra"]["idp_token_id"] == held["entra"]["token_id"] and held["entra"]["status"] == "current"
    notice = (inbox / "org1-acme-okta.txt").read_text()
    assert "SCIM token %s" % held["okta"]["token_id"] in notice and held["okta"]["token"] not in notice
    assert not [p for p in os.listdir(os.path.join(store, "org1-acme")) if "pending" in p]

    # second run: nothing to change; the IdP check costs a sign-in (msal: the tenant's metadata, the access token) and
    # one test of the saved credentials
    emulator.clear_log()
    rc, results, output = ansible.run_playbook("converge", inventory)
    assert rc == 0 and recap(output)["org1-acme"]["changed"] == 0, output[-3000:]
    no_change = graph_requests(emulator)
    assert [r["path"].rsplit("/", 1)[-1] for r in no_change] == ["openid-configuration", "token", "validateCredentials"], no_change
    assert [r for r in emulator.mutating() if r not in no_change] == []

    # 705 days on: renewed, Entra ID switched with no window where its token failed, the old one then revoked
    old = held["entra"]
    emulator.age_tokens(705)
    emulator.clear_log()
    rc, results, output = ansible.run_playbook("converge", inventory, verbosity=4)
    assert rc == 0, output[-3000:]
    renewal = graph_requests(emulator)
    new = records(store)["org1-acme"]["entra"]
    assert new["token_id"] != old["token_id"] and idp(emulator, sp)["token_id"] == new["token_id"]
    assert emulator.scim_status(old["token"]) == 401 and emulator.scim_status(new["token"]) == 200
    assert broken_spans(emulator, sp) == []
    out = os.path.join(REPO, "tests", "output", "reliability")
    os.makedirs(out, exist_ok=True)
    with open(os.path.join(out, "handover_requests.json"), "w", encoding="utf-8") as handle:
        json.dump({"first converge (2 handovers: entra, okta's own tasks)": len(first),
                   "no-change run (IdP check)": len(no_change), "renewal (entra handover)": len(renewal)}, handle,
                  indent=1)
    # sign-in (metadata, token), jobs, validate new, PUT, validate saved (+ start when paused); after the revoke:
    # sign-in, validate saved
    assert len(renewal) <= 10, renewal
    assert_no_secret(ansible, emulator)


def renew_with_a_graph_fault(ansible, emulator, tmp_path, fault):
    """Converge, age the tokens, converge again with ``fault``: the run must fail with Entra ID still holding the
    old token, working, and the old Resolver token live. Returns (sp, inventory, store, the old record, output)."""
    sp, inventory, _inbox = setup(ansible, emulator, tmp_path)
    store = str(tmp_path / "store")
    rc, _results, output = ansible.run_playbook("converge", inventory)
    assert rc == 0, output[-3000:]
    before = records(store)["org1-acme"]["entra"]
    emulator.age_tokens(705)
    emulator.faults(fault)
    rc, _results, output = ansible.run_playbook("converge", inventory, verbosity=4)
    assert rc != 0, output[-3000:]
    assert idp(emulator, sp)["token_id"] == before["token_id"] and idp(emulator, sp)["can_provision"] is True
    assert emulator.scim_status(before["token"]) == 200
    return sp, inventory, store, before, output


def test_a_failed_test_in_entra_keeps_everything_working_and_the_next_run_resumes(ansible, emulator, tmp_path):
    # validateCredentials refuses the new token: nothing is saved in Entra ID, the old token stays live and used
    sp, inventory, store, _before, output = renew_with_a_graph_fault(
        ansible, emulator, tmp_path, {"method": "POST", "path": "validateCredentials$", "status": 400, "count": 1})
    assert "entra (entra validate_new)" in output
    live = live_by_org(emulator)[1]["entra"]
    assert len(live) == 2
    pending = json.loads(open(os.path.join(store, "org1-acme", "entra@pending.json")).read())
    assert pending["token_id"] == max(live) and pending["status"] == "pending"

    # the next run resumes that handover: no new token, Entra ID switched, the old token revoked
    emulator.faults()
    issued = len(emulator.tokens(live_only=False))
    rc, results, output = ansible.run_playbook("converge", inventory, verbosity=4)
    assert rc == 0, output[-3000:]
    assert actions(results, "org1-acme")["entra"] == "handover"
    assert len(emulator.tokens(live_only=False)) == issued
    after = records(store)["org1-acme"]["entra"]
    assert after["token_id"] == pending["token_id"] == idp(emulator, sp)["token_id"]
    assert live_by_org(emulator)[1]["entra"] == [after["token_id"]]
    assert broken_spans(emulator, sp) == []
    assert_no_secret(ansible, emulator)


def test_a_saved_token_that_fails_its_test_is_replaced_by_the_previous_one(ansible, emulator, tmp_path):
    # the test before saving passes, the one after saving fails: the role gives Entra ID its previous token back
    sp, _inventory, _store, _before, output = renew_with_a_graph_fault(
        ansible, emulator, tmp_path,
        {"method": "POST", "path": "validateCredentials$", "status": 400, "skip": 1, "count": 1})
    assert "entra (entra validate_saved)" in output
    assert broken_spans(emulator, sp) == []


def test_a_run_killed_between_set_and_finish_heals(ansible, emulator, tmp_path):
    """SIGKILL the converge once Entra ID holds the new token but before the store says so: the next run finds the
    pending record, breaks the dead run's lock at once, and finishes without issuing yet another token."""
    sp, inventory, _inbox = setup(ansible, emulator, tmp_path)
    store = str(tmp_path / "store")
    rc, _results, output = ansible.run_playbook("converge", inventory)
    assert rc == 0, output[-3000:]
    old_id = records(store)["org1-acme"]["entra"]["token_id"]
    emulator.age_tokens(705)
    held_before = len(emulator.entra("GET", "service_principals/%s/history" % sp["id"])["held"])
    environment = dict(os.environ, ANSIBLE_PYTHON_INTERPRETER=sys.executable, NO_PROXY="127.0.0.1,localhost,::1",
                       ANSIBLE_NOCOLOR="1")
    command = [os.path.join(os.path.dirname(sys.executable), "ansible-playbook"),
               os.path.join(REPO, "playbooks", "converge.yml"), "-i", inventory]
    process = subprocess.Popen(command, env=environment, stdout=subprocess.DEVNULL, stderr=subprocess.DEVNULL,
                               start_new_session=True)
    deadline = time.monotonic() + 180
    while time.monotonic() < deadline:
        held = emulator.entra("GET", "service_principals/%s/history" % sp["id"])["held"]
        if len(held) > held_before and held[-1]["token_id"] != old_id:
            os.killpg(process.pid, signal.SIGKILL)
            break
        time.sleep(0.02)
    process.wait(timeout=30)
    assert process.returncode == -signal.SIGKILL
    new_id = idp(emulator, sp)["token_id"]
    assert new_id != old_id and idp(emulator, sp)["can_provision"] is True
    issued = len(emulator.tokens(live_only=False))

    rc, results, output = ansible.run_playbook("converge", inventory, verbosity=3)
    assert rc == 0, output[-3000:]
    assert len(emulator.tokens(live_only=False)) == issued
    record = records(store)["org1-acme"]["entra"]
    assert record["token_id"] == new_id == record["idp_token_id"] == idp(emulator, sp)["token_id"]
    assert live_by_org(emulator)[1]["entra"] == [new_id]
    assert broken_spans(emulator, sp) == []


HANDOVER_STEPS = {
    "token": ("POST", r"/oauth2/v2\.0/token$", 0),
    "jobs": ("GET", r"/synchronization/jobs$", 0),
    "validate new": ("POST", r"/validateCredentials$", 0),
    "set": ("PUT", r"/synchronization/secrets$", 0),
    "validate saved": ("POST", r"/validateCredentials$", 1),
}
HANDOVER_FAULTS = {"403 refused": {"status": 403}, "429 + Retry-After": {"status": 429, "retry_after": 1}}


# One column of the table per test, in make exhaustive; make test runs the refusal of the PUT that saves the token.
@pytest.mark.parametrize("fault, steps", [
    pytest.param("403 refused", ["set"], id="403 refused-set"),
    pytest.param("403 refused", list(HANDOVER_STEPS), id="403 refused", marks=pytest.mark.exhaustive),
    pytest.param("429 + Retry-After", list(HANDOVER_STEPS), id="429 + Retry-After", marks=pytest.mark.exhaustive)])
def test_handover_fault_table(ansible, emulator, tmp_path, fault, steps):
    """Each Graph step of a renewal's handover x a refusal or a throttle: the IdP always holds a working token,
    the old Resolver token stays live until its successor is handed over, the next run resumes without issuing
    another token, and no secret is printed. The table goes to tests/output/reliability/handover_faults_*.md."""
    # Only the Entra ID entry: one token per cell keeps the table fast.
    sp, inventory, _inbox = setup(ansible, emulator, tmp_path, okta=False)
    store = str(tmp_path / "store")
    rows = []
    rc, _results, output = ansible.run_playbook("converge", inventory)
    assert rc == 0, output[-3000:]
    for step in steps:
        method, path, skip = HANDOVER_STEPS[step]
        old = records(store)["org1-acme"]["entra"]
        # Ageing shifts the expiry of tokens the IdP held in earlier cells into the past, so only the spans
        # that start in this cell tell whether the IdP held a failing token here.
        started = time.time()
        emulator.age_tokens(705)
        emulator.faults(dict(HANDOVER_FAULTS[fault], method=method, path=path, skip=skip, count=1))
        rc, _results, faulty = ansible.run_playbook("converge", inventory, verbosity=3)
        emulator.faults()
        held = idp(emulator, sp)
        old_live = emulator.scim_status(old["token"]) == 200
        issued = len(emulator.tokens(live_only=False))
        rc_next, _results, clean = ansible.run_playbook("converge", inventory)
        record = records(store)["org1-acme"]["entra"]
        resumed = (rc_next == 0 and len(emulator.tokens(live_only=False)) == issued
                   and live_by_org(emulator)[1]["entra"] == [record["token_id"]]
                   and idp(emulator, sp)["token_id"] == record["token_id"] == record["idp_token_id"])
        rows.append({"step": step, "fault": fault, "run": "ok" if rc == 0 else "failed cleanly",
                     "idp_working": held["can_provision"], "old_token_live": old_live or rc == 0,
                     "next_run_resumed": resumed,
                     "broken_windows": len([b for b in broken_spans(emulator, sp) if b["from"] >= started])})
        assert held["can_provision"] is True, (step, fault, held)
        if rc != 0:
            assert old_live and "Traceback" not in faulty, (step, fault)
        assert resumed, (step, fault, clean[-2000:])
    assert [row for row in rows if row["broken_windows"]] == []
    assert_no_secret(ansible, emulator)
    lines = ["| step | fault | run | IdP left working | old token live until handed over | next run resumed |",
             "|---|---|---|---|---|---|"]
    lines += ["| %(step)s | %(fault)s | %(run)s | %(idp_working)s | %(old_token_live)s | %(next_run_resumed)s |" % row
              for row in rows]
    lines.append("\ncells: %d; windows where the IdP held a failing token: %d; secrets in any output: 0"
                 % (len(rows), sum(row["broken_windows"] for row in rows)))
    write_reliability_report("handover_faults_%s_%d_steps" % (fault.split()[0], len(steps)), rows, lines)
