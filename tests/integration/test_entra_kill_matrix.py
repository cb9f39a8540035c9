# Copyright: (c) 2026, resolver.scim contributors
# GNU General Public License v3.0+ (see LICENSES/GPL-3.0-or-later.txt or https://www.gnu.org/licenses/gpl-3.0.txt)
"""The Entra ID kill matrix (issue 20): a role renewal with an Entra ID handover (file store), SIGKILLed (the whole
ansible-playbook process group) right after each step of the handover, then one clean converge.

Each step is seen in the emulator's request log, its tokens or the store file; a delay fault holds the request that
follows it, so the kill lands between the two. After the clean converge: Entra ID holds a token that provisions,
the store holds what Entra ID holds, one live token per name, no secret in any output, and no lock left held (a
third converge changes nothing and sends no mutating request).
Writes tests/output/reliability/entra_kill_matrix.{json,md}.
"""

import json
import os
import re
import signal
import subprocess
import sys
import time

import pytest

from conftest import REPO, RELIABILITY_OUTPUT, write_reliability_report
from test_handover import idp, setup
from test_role import live_by_org, recap

ORG = "org1-acme"
VALIDATE = r"/validateCredentials$"
ACCESS_TOKEN = r"/oauth2/v2\.0/token$"
HELD = 10  # seconds a delayed request is held: far longer than a poll, and the run is killed meanwhile


def requests(emulator, method, path):
    return [r for r in emulator.log() if r["method"] == method and re.search(path, r["path"]) and r["status"] < 300]


def writes(emulator):
    """Mutating requests, less the IdP check's (an access token, a test of the saved credentials)."""
    return [r for r in emulator.mutating() if not re.search("%s|%s" % (ACCESS_TOKEN, VALIDATE), r["path"])]


def held_locks(store):
    """The org locks in the store directory whose run still lives. A killed run's lock stays until a run that changes
    the org breaks it (at once: its process is gone); a run with nothing to change leaves it there."""
    held = []
    for entry in [e for e in os.listdir(store) if e.endswith(".lock")]:
        with open(os.path.join(store, entry, "owner.json"), encoding="utf-8") as handle:
            pid = json.load(handle)["pid"]
        try:
            os.kill(pid, 0)
            held.append(entry)
        except ProcessLookupError:
            pass
    return held


def stored(store, name="entra"):
    path = os.path.join(store, ORG, name + ".json")
    if not os.path.exists(path):
        return None
    try:
        with open(path, encoding="utf-8") as handle:
            return json.load(handle)
    except ValueError:  # caught mid-write
        return None


FINISH = "finish write (store)"


# Each step of the renewal's handover, in order: (has it happened?, the fault that holds what follows it).
# A seen(emulator, store, old) is called with the token id the store held before the run.
STEPS = {
    # The create is done but its answer held: Resolver has the token, the run never learns it.
    "create (Resolver POST)": (
        lambda emulator, store, old: len(emulator.tokens(name="entra")) > 1,
        {"method": "POST", "path": r"^/user/scimTokens$", "act": True, "delay": HELD}),
    "pending write (store)": (
        lambda emulator, store, old: stored(store, "entra@pending") is not None,
        {"method": "POST", "path": ACCESS_TOKEN, "delay": HELD}),
    "Graph secrets PUT": (
        lambda emulator, store, old: requests(emulator, "PUT", r"/synchronization/secrets$"),
        {"method": "POST", "path": VALIDATE, "skip": 1, "delay": HELD}),
    "validateCredentials after saving": (
        lambda emulator, store, old: len(requests(emulator, "POST", VALIDATE)) >= 2,
        {"method": "DELETE", "path": r"^/user/scimTokens/", "delay": HELD}),
    FINISH: (
        lambda emulator, store, old: (stored(store) or {}).get("token_id", old) != old,
        {"method": "DELETE", "path": r"^/user/scimTokens/", "delay": HELD}),
    "revoke (Resolver DELETE)": (
        lambda emulator, store, old: requests(emulator, "DELETE", r"^/user/scimTokens/"),
        {"method": "POST", "path": ACCESS_TOKEN, "skip": 1, "delay": HELD}),
    "proof (validateCredentials)": (
        lambda emulator, store, old: len(requests(emulator, "POST", VALIDATE)) >= 3,
        {"method": "GET", "path": r"^/user/users/me$", "skip": 2, "delay": HELD}),
}
# Run by default: a kill before Entra ID holds the new token, and one after it holds it but before the store says so.
REPRESENTATIVE = ("Graph secrets PUT",)


def process_tree(root):
    """``root`` and its descendants (read from /proc)."""
    children = {}
    for entry in [e for e in os.listdir("/proc") if e.isdigit()]:
        try:
            with open("/proc/%s/stat" % entry, encoding="utf-8") as handle:
                parent = int(handle.read().rsplit(")", 1)[1].split()[1])
        except (OSError, IndexError, ValueError):
            continue
        children.setdefault(parent, []).append(int(entry))
    tree, todo = [], [root]
    while todo:
        pid = todo.pop()
        tree.append(pid)
        todo += children.get(pid, [])
    return tree


def kill_run(pid):
    """SIGKILL the run: its process group and every descendant. ansible-core's workers run in sessions of their own
    (os.setsid), so killing the group alone leaves the task at hand running on."""
    tree = process_tree(pid)
    os.killpg(pid, signal.SIGKILL)
    for process in tree:
        try:
            os.kill(process, signal.SIGKILL)
        except ProcessLookupError:
            pass


def kill_when(seen, inventory, tmp_path):
    """Run the converge (-vvv, output kept) and SIGKILL all of it once ``seen()``; return its output."""
    environment = dict(os.environ, ANSIBLE_PYTHON_INTERPRETER=sys.executable, NO_PROXY="127.0.0.1,localhost,::1",
                       ANSIBLE_NOCOLOR="1")
    command = [os.path.join(os.path.dirname(sys.executable), "ansible-playbook"),
               os.path.join(REPO, "playbooks", "converge.yml"), "-i", inventory, "-vvv"]
    log = tmp_path / "killed-run.log"
    with open(log, "w", encoding="utf-8") as output:
        process = subprocess.Popen(command, env=environment, cwd=str(tmp_path),  # pylint: disable=consider-using-with
                                   stdout=output, stderr=subprocess.STDOUT, start_new_session=True)
        deadline = time.monotonic() + 300
        while time.monotonic() < deadline and process.poll() is None:
            if seen():
                kill_run(process.pid)
                break
            time.sleep(0.01)
        process.wait(timeout=60)
    assert process.returncode == -signal.SIGKILL, log.read_text()[-3000:]
    return log.read_text()


def write_report(row):
    """Merge this step's row into the report (steps may run in separate workers)."""
    path = os.path.join(RELIABILITY_OUTPUT, "entra_kill_matrix.json")
    rows = {}
    if os.path.exists(path):
        with open(path, encoding="utf-8") as handle:
            rows = dict((r["step"], r) for r in json.load(handle))
    rows[row["step"]] = row
    ordered = [rows[step] for step in STEPS if step in rows]
    lines = ["| killed after | Entra ID held at the kill | store held at the kill | clean converge | IdP provisions "
             "| store = IdP | one live token | secrets leaked | lock dir left | third converge |",
             "|---|---|---|---|---|---|---|---|---|---|"]
    lines += ["| %(step)s | %(idp_at_kill)s | %(store_at_kill)s | %(clean)s | %(provisions)s | %(store_is_idp)s "
              "| %(one_live)s | %(leaked)d | %(lock_left)s | %(third)s, changed %(changed)d, writes %(mutating)d |" % r
              for r in ordered]
    write_reliability_report("entra_kill_matrix", ordered, lines)


def token_label(token_id, old, new):
    return {old: "old token", new: "new token"}.get(token_id, "token %s" % token_id)


@pytest.mark.parametrize("step", [pytest.param(s, marks=() if s in REPRESENTATIVE else pytest.mark.exhaustive)
                                  for s in STEPS])
def test_a_renewal_killed_after_each_handover_step_heals(ansible, emulator, tmp_path, step):
    sp, inventory, _inbox = setup(ansible, emulator, tmp_path, okta=False)
    store = str(tmp_path / "store")
    rc, _results, output = ansible.run_playbook("converge", inventory)
    assert rc == 0, output[-3000:]
    old = stored(store)["token_id"]
    emulator.age_tokens(705)
    seen, hold_next = STEPS[step]
    emulator.faults(hold_next)
    emulator.clear_log()
    ansible.outputs.append(kill_when(lambda: seen(emulator, store, old), inventory, tmp_path))
    emulator.faults()
    new = max(t["id"] for t in emulator.tokens(live_only=False, name="entra"))
    at_kill = stored(store) or {}
    idp_at_kill = token_label(idp(emulator, sp)["token_id"], old, new)
    store_at_kill = token_label(at_kill.get("token_id"), old, new) + (
        ", pending new token" if stored(store, "entra@pending") else "")

    # The kill landed where meant: the store holds the new token once (and only once) its finish write was seen.
    assert at_kill["token_id"] == (new if list(STEPS).index(step) >= list(STEPS).index(FINISH) else old), step

    rc, _results, clean = ansible.run_playbook("converge", inventory, verbosity=3)
    held, record = idp(emulator, sp), stored(store)
    live = live_by_org(emulator).get(1, {}).get("entra", [])
    locks = [entry for entry in os.listdir(store) if entry.endswith(".lock")]
    held_lock = held_locks(store)
    emulator.clear_log()
    rc_third, _results, third = ansible.run_playbook("converge", inventory)
    row = {"step": step, "idp_at_kill": idp_at_kill, "store_at_kill": store_at_kill,
           "clean": "ok" if rc == 0 else "failed", "provisions": held["can_provision"],
           "store_is_idp": record["token_id"] == record["idp_token_id"] == held["token_id"],
           "one_live": live == [record["token_id"]],
           "leaked": len([s for s in emulator.secrets() for out in ansible.outputs if s in out]),
           "lock_left": "the killed run's (its process gone)" if locks else "none",
           "third": "ok" if rc_third == 0 else "failed", "changed": recap(third).get(ORG, {}).get("changed", -1),
           "mutating": len(writes(emulator))}
    write_report(row)
    assert rc == 0, clean[-3000:]
    assert held["can_provision"] is True, (step, held)
    assert row["store_is_idp"], (step, record, held)
    assert row["one_live"], (step, live, record)
    assert row["leaked"] == 0, step
    assert held_lock == [], (step, held_lock)
    assert row["third"] == "ok" and row["changed"] == 0 and row["mutating"] == 0, (step, writes(emulator), third[-3000:])
