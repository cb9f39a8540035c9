# Copyright: (c) 2026, resolver.scim contributors
# GNU General Public License v3.0+ (see LICENSES/GPL-3.0-or-later.txt or https://www.gnu.org/licenses/gpl-3.0.txt)
"""The scim_tokens role and the converge / drift_check / rotate playbooks over three emulated orgs."""

import concurrent.futures
import json
import os
import re
import stat
import time

import pytest
import yaml

ORGS = {"org1-acme": 1, "org2-globex": 2, "org3-initech": 3}
DECLARED = ("entra-id", "okta")


def recap(output):
    """PLAY RECAP counters per host."""
    hosts = {}
    for host, counters in re.findall(r"^(\S+)\s+:\s+(ok=.*)$", output, re.MULTILINE):
        hosts[host] = {k: int(v) for k, v in re.findall(r"(\w+)=(\d+)", counters)}
    return hosts


def records(store):
    """The file store's records: {org: {name: record}}, and each file's mode."""
    found = {}
    for org in sorted(os.listdir(store)) if os.path.isdir(store) else []:
        for entry in sorted(os.listdir(os.path.join(store, org))):
            path = os.path.join(store, org, entry)
            if os.path.isfile(path):
                with open(path, encoding="utf-8") as handle:
                    record = json.load(handle)
                record["_mode"] = stat.S_IMODE(os.stat(path).st_mode)
                found.setdefault(org, {})[record["name"]] = record
    return found


def live_by_org(emulator):
    result = {}
    for token in emulator.tokens():
        result.setdefault(token["orgId"], {}).setdefault(token["name"], []).append(token["id"])
    return result


def assert_store_matches_live(emulator, store, orgs=None):
    """Exactly one live token per declared name, and the store holds that token's working value."""
    orgs = orgs or ORGS
    live = live_by_org(emulator)
    stored = records(store)
    for org, org_id in orgs.items():
        assert sorted(live[org_id]) == sorted(DECLARED), live
        for name in DECLARED:
            assert len(live[org_id][name]) == 1, (org, name, live[org_id])
            record = stored[org][name]
            assert record["token_id"] == live[org_id][name][0], (org, name, record["token_id"], live[org_id])
            assert record["_mode"] == 0o600
            assert emulator.scim_status(record["token"]) == 200
    assert stat.S_IMODE(os.stat(os.path.join(store, next(iter(orgs)))).st_mode) == 0o700


def summary(results):
    """The converge summary by org: {org: [the org's line, then one line per action or failure]}."""
    lines = [r for r in results if r["task"].endswith("Show the summary of all orgs")][-1]["result"]["msg"]
    orgs, current = {}, None
    for line in lines:
        if not line.startswith(" ") and ": " in line:
            current = line.split(": ", 1)[0]
        if current:
            orgs.setdefault(current, []).append(line.strip())
    return orgs


def actions(results, org):
    """{token name: action} that the summary lists for an org (in check mode "would renew" and so on)."""
    found = {}
    for line in summary(results)[org][1:]:
        match = re.match(r"^((?:would )?\w+) (\S+): ", line)
        if match and match.group(1) != "FAILED":
            found[match.group(2)] = match.group(1)
    return found


def assert_no_secret(ansible, emulator):
    secrets = emulator.secrets()
    assert len(secrets) > 6
    leaks = [s for s in secrets for output in ansible.outputs if s in output]
    assert leaks == [], "%d secret(s) found in the output" % len(leaks)


def test_converge_drift_heal_lifecycle(ansible, emulator, tmp_path):
    store = str(tmp_path / "store")
    inventory = ansible.inventory()

    # check mode: the plan for every org, nothing sent that changes anything, nothing stored
    emulator.clear_log()
    rc, results, output = ansible.run_playbook("converge", inventory, check=True, verbosity=4)
    assert rc == 0, output[-3000:]
    assert emulator.mutating() == [] and not os.path.exists(store)
    assert all(counters["changed"] >= 1 for counters in recap(output).values())

    # converge: two tokens per org, stored, each working
    rc, results, output = ansible.run_playbook("converge", inventory, verbosity=4)
    assert rc == 0, output[-3000:]
    assert_store_matches_live(emulator, store)
    assert actions(results, "org1-acme") == {"okta": "created", "entra-id": "created"}
    assert re.match(r"org1-acme: changed; .*next expiry 20\d\d-", summary(results)["org1-acme"][0])
    assert all(len(line) <= 100 for lines in summary(results).values() for line in lines)

    # again: nothing to do, no mutating request, three reads per org whatever the number of tokens
    emulator.clear_log()
    rc, results, output = ansible.run_playbook("converge", inventory, verbosity=4)
    assert rc == 0 and all(c["changed"] == 0 for c in recap(output).values()), output[-3000:]
    assert emulator.mutating() == []
    assert len(emulator.log()) == 3 * len(ORGS)

    # 700 days on: the drift check (check mode) fails, names the expiring tokens and writes a JSON report
    emulator.age_tokens(700)
    emulator.clear_log()
    report = tmp_path / "drift.json"
    rc, results, output = ansible.run_playbook("drift_check", inventory, check=True, verbosity=4,
                                               extra_vars={"drift_report": str(report)})
    assert rc != 0
    assert re.search(r"org2-globex: DRIFTED \(expiring\)", output), output[-3000:]
    assert "expiring okta: token" in output and "inside rotate_before_days=30" in output
    assert emulator.mutating() == []
    data = json.loads(report.read_text())
    assert data["drifted"] is True
    assert sorted(e["name"] for e in data["orgs"]["org3-initech"]["drift"]["expiring"]) == ["entra-id", "okta"]

    # converge renews; the stored files hold the new, live tokens; the old ones are revoked
    old = records(store)
    rc, results, output = ansible.run_playbook("converge", inventory, verbosity=4)
    assert rc == 0, output[-3000:]
    assert_store_matches_live(emulator, store)
    assert emulator.scim_status(old["org1-acme"]["okta"]["token"]) == 401
    assert actions(results, "org1-acme") == {"okta": "renewed", "entra-id": "renewed"}
    assert "then revoke %s" % old["org1-acme"]["okta"]["token_id"] in "\n".join(summary(results)["org1-acme"])

    # the drift check now passes
    rc, results, output = ansible.run_playbook("drift_check", inventory, check=True,
                                               extra_vars={"drift_report": str(report)})
    assert rc == 0 and json.loads(report.read_text())["drifted"] is False, output[-3000:]

    # an undeclared token: kept by default, revoked by an exclusive converge
    emulator.control("POST", "tokens", {"org_id": 1, "name": "legacy", "email_domains": ["acme.com"]})
    rc, results, output = ansible.run_playbook("converge", inventory)
    assert rc == 0 and "legacy" in live_by_org(emulator)[1]
    exclusive = ansible.inventory(group_vars={"resolver_scim_exclusive": True})
    rc, results, output = ansible.run_playbook("converge", exclusive, verbosity=4)
    assert rc == 0, output[-3000:]
    assert "legacy" not in live_by_org(emulator)[1]
    assert_store_matches_live(emulator, store)

    # the store lost org1's okta record: the drift check says so, and the next converge heals it with a fresh
    # token, stored, every other okta token revoked
    os.remove(os.path.join(store, "org1-acme", "okta.json"))
    rc, results, output = ansible.run_playbook("drift_check", inventory, check=True)
    assert rc != 0 and "unstored okta: the store holds no value for the live token" in output
    rc, results, output = ansible.run_playbook("converge", inventory, verbosity=4)
    assert rc == 0, output[-3000:]
    assert_store_matches_live(emulator, store)
    assert actions(results, "org1-acme") == {"okta": "healed"}

    # a store that cannot take the new values fails the org before anything is issued: the old tokens stay live
    # and stored, the other orgs are unaffected
    org1 = [t["id"] for t in emulator.tokens() if t["orgId"] == 1]
    emulator.age_tokens(705, ids=org1)
    okta_record = os.path.join(store, "org1-acme", "okta.json")
    os.remove(okta_record)
    os.mkdir(okta_record)
    emulator.clear_log()
    rc, results, output = ansible.run_playbook("converge", inventory, verbosity=4)
    counters = recap(output)
    assert rc != 0 and counters["org1-acme"]["failed"] == 1
    assert counters["org2-globex"]["failed"] == 0 and counters["org3-initech"]["failed"] == 0
    assert "%s exists but is not a regular file" % okta_record in output
    assert summary(results)["org1-acme"][0].startswith("org1-acme: FAILED")
    assert emulator.mutating() == []
    live = live_by_org(emulator)
    assert len(live[1]["okta"]) == 1 and len(live[1]["entra-id"]) == 1
    for record in records(store)["org1-acme"].values():
        assert emulator.scim_status(record["token"]) == 200

    # once the path is free, the converge renews both
    os.rmdir(okta_record)
    rc, results, output = ansible.run_playbook("converge", inventory, verbosity=4)
    assert rc == 0, output[-3000:]
    assert_store_matches_live(emulator, store)
    assert actions(results, "org1-acme") == {"okta": "renewed", "entra-id": "renewed"}

    assert_no_secret(ansible, emulator)


def test_vault_store(ansible, emulator, tmp_path):
    password = tmp_path / "vault-password"
    password.write_text("correct horse battery staple\n")
    inventory = ansible.inventory(orgs=1, group_vars={"resolver_scim_token_store": "vault",
                                                      "resolver_scim_vault_password_file": str(password)})
    rc, results, output = ansible.run_playbook("converge", inventory, verbosity=4)
    assert rc == 0, output[-3000:]
    record = records(str(tmp_path / "store"))["org1-acme"]["okta"]
    assert record["token"].startswith("$ANSIBLE_VAULT;1.2;AES256;resolver_scim")
    assert record["_mode"] == 0o600

    # the value decrypts with the password (as a user's own task would), and works
    record_path = os.path.join(tmp_path, "store", "org1-acme", "okta.json")
    content = ("{{ (lookup('ansible.builtin.file', '%s') | from_json).token"
               " | ansible.builtin.unvault(lookup('ansible.builtin.file', '%s')) }}" % (record_path, password))
    decrypt = [{"hosts": "localhost", "gather_facts": False, "tasks": [
        {"name": "decrypt", "no_log": True,
         "ansible.builtin.copy": {"content": content, "dest": str(tmp_path / "plain"), "mode": "0600"}}]}]
    rc, results, output = ansible.playbook(decrypt)
    assert rc == 0, output[-3000:]
    assert emulator.scim_status((tmp_path / "plain").read_text().strip()) == 200

    # no change on the next run: the ids are read without the password
    emulator.clear_log()
    rc, results, output = ansible.run_playbook("converge", inventory)
    assert rc == 0 and recap(output)["org1-acme"]["changed"] == 0 and emulator.mutating() == []
    assert_no_secret(ansible, emulator)


def test_none_store_hands_values_to_the_play(ansible, emulator, tmp_path):
    inventory = ansible.inventory(orgs=1, group_vars={"resolver_scim_token_store": "none"})
    out = tmp_path / "handed.json"
    again = tmp_path / "handed-again.json"
    play = [{"hosts": "resolver_orgs", "gather_facts": False, "tasks": [
        {"name": "converge", "ansible.builtin.include_role": {"name": "resolver.scim.scim_tokens"}},
        {"name": "my own store", "no_log": True, "ansible.builtin.copy": {
            "content": "{{ resolver_scim_new_tokens | to_json }}", "dest": str(out), "mode": "0600"}},
        # The role again in the same play: nothing to issue, and nothing of the first run is handed over twice.
        {"name": "converge again", "ansible.builtin.include_role": {"name": "resolver.scim.scim_tokens"}},
        {"name": "my own store again", "no_log": True, "ansible.builtin.copy": {
            "content": "{{ resolver_scim_new_tokens | to_json }}", "dest": str(again), "mode": "0600"}}]}]
    rc, results, output = ansible.playbook(play, inventory=inventory, verbosity=4)
    assert rc == 0, output[-3000:]
    handed = json.loads(out.read_text())
    assert sorted(t["name"] for t in handed) == list(DECLARED)
    assert all(emulator.scim_status(t["token"]) == 200 for t in handed)
    assert json.loads(again.read_text()) == []
    assert sorted(t["name"] for t in emulator.tokens()) == list(DECLARED)
    # Nothing written but the org's lock, which lives next to where a store would be and is gone after the run.
    assert not [p for p in (tmp_path / "store").rglob("*") if p.is_file()]
    assert_no_secret(ansible, emulator)


def test_rotate_selected_tokens(ansible, emulator, tmp_path):
    store = str(tmp_path / "store")
    inventory = ansible.inventory(orgs=2)
    rc, results, output = ansible.run_playbook("converge", inventory)
    assert rc == 0, output[-3000:]
    before = records(store)
    rc, results, output = ansible.run_playbook("rotate", inventory, verbosity=4,
                                               extra_vars={"rotate_tokens": "okta", "rotate_orgs": "org1-acme"})
    assert rc == 0, output[-3000:]
    after = records(store)
    assert after["org1-acme"]["okta"]["token_id"] != before["org1-acme"]["okta"]["token_id"]
    assert after["org1-acme"]["entra-id"]["token_id"] == before["org1-acme"]["entra-id"]["token_id"]
    assert after["org2-globex"] == before["org2-globex"]
    assert_store_matches_live(emulator, store, orgs={"org1-acme": 1, "org2-globex": 2})
    assert emulator.scim_status(before["org1-acme"]["okta"]["token"]) == 401

    rc, results, output = ansible.run_playbook("rotate", inventory)
    assert rc != 0 and "Name the tokens to rotate" in output


def test_non_admin_org_fails_early_and_others_converge(ansible, emulator, tmp_path):
    inventory = ansible.inventory(host_vars={"org2-globex": {"resolver_api_key": emulator.api_key(2, admin=False)}})
    rc, results, output = ansible.run_playbook("converge", inventory)
    counters = recap(output)
    assert rc != 0 and counters["org2-globex"]["failed"] == 1
    assert "viewer@globex.com (user 21) is not an Administrator of org 2 (Globex" in output
    assert counters["org1-acme"]["failed"] == 0 and counters["org3-initech"]["failed"] == 0
    assert 2 not in live_by_org(emulator)
    assert_store_matches_live(emulator, str(tmp_path / "store"), orgs={"org1-acme": 1, "org3-initech": 3})


def test_concurrent_converges_of_the_same_orgs_take_turns(ansible, emulator, tmp_path):
    """Two converges started together (separate processes) issue one token per name, stored and live."""
    inventory = ansible.inventory(orgs=2)
    # A SaaS-like round trip makes both runs plan before either creates a token, the race the lock exists for.
    emulator.control("POST", "config", {"latency_ms": 150})
    with concurrent.futures.ThreadPoolExecutor(2) as pool:
        runs = list(pool.map(lambda _: ansible.run_playbook("converge", inventory), range(2)))
    emulator.control("POST", "config", {"latency_ms": 0})
    for rc, _results, output in runs:
        assert rc == 0, output[-3000:]
    orgs = {"org1-acme": 1, "org2-globex": 2}
    # Not only one live token per name in the end: one token per name was ever issued.
    issued = emulator.tokens(live_only=False)
    assert sorted((t["orgId"], t["name"]) for t in issued) == sorted((o, n) for o in orgs.values() for n in DECLARED)
    assert_store_matches_live(emulator, str(tmp_path / "store"), orgs=orgs)
    # Both runs saw work to do, so both locked; the one that waited found nothing left after planning again.
    locks = [item for _rc, results, _output in runs for r in results if "Lock the orgs" in r["task"]
             for item in r["result"]["results"]]
    assert len(locks) == 4 and max(lock["waited"] for lock in locks) > 0
    assert not [entry for entry in os.listdir(str(tmp_path / "store")) if entry.endswith(".lock")]


def test_a_held_lock_fails_the_run_with_its_holder(ansible, emulator, tmp_path):
    lock = tmp_path / "store" / "org1-acme.lock"
    lock.mkdir(parents=True)
    lock.joinpath("owner.json").write_text(json.dumps({"owner": "other", "pid": 4242, "host": "awx-node-2",
                                                       "since": time.time(), "description": "converge"}))
    inventory = ansible.inventory(orgs=1, group_vars={"resolver_scim_lock_timeout": 1})
    rc, _results, output = ansible.run_playbook("converge", inventory)
    assert rc != 0
    assert "still locked by pid 4242 on awx-node-2 (converge)" in output
    assert emulator.mutating() == [] and lock.is_dir()


# A stress of the lock order; test_concurrent_converges_of_the_same_orgs_take_turns stays in make test.
@pytest.mark.exhaustive
def test_overlapping_multi_org_converges_never_deadlock(ansible, emulator, tmp_path):
    """Two converges of the same three orgs, listed in opposite orders, started together again and again: locks
    are taken in one global order, so neither run holds one org while waiting for the other's (issue 17.6)."""
    orgs = {"org1-acme": 1, "org2-globex": 2, "org3-initech": 3}
    forward = ansible.inventory(orgs=3, group_vars={"resolver_scim_lock_timeout": 120})
    backward = ansible.inventory(orgs=3, group_vars={"resolver_scim_lock_timeout": 120})
    hosts = os.path.join(backward, "hosts.yml")
    with open(hosts, encoding="utf-8") as handle:
        inventory = yaml.safe_load(handle)
    group = inventory["resolver_orgs"]
    group["hosts"] = dict(reversed(list(group["hosts"].items())))
    with open(hosts, "w", encoding="utf-8") as handle:
        yaml.safe_dump(inventory, handle, sort_keys=False)
    emulator.control("POST", "config", {"latency_ms": 100})
    trials, hangs = 3, 0
    for trial in range(trials):
        if trial:
            emulator.age_tokens(705)
        started = time.monotonic()
        with concurrent.futures.ThreadPoolExecutor(2) as pool:
            runs = list(pool.map(lambda inv: ansible.run_playbook("converge", inv), [forward, backward]))
        for rc, _results, output in runs:
            hangs += "is still locked by" in output
            assert rc == 0, output[-3000:]
        assert time.monotonic() - started < 120
        assert_store_matches_live(emulator, str(tmp_path / "store"), orgs=orgs)
    emulator.control("POST", "config", {"latency_ms": 0})
    assert hangs == 0
    # Each trial issued exactly one token per name and org: nobody issued twice while the other held the lock.
    issued = emulator.tokens(live_only=False)
    assert len(issued) == trials * len(orgs) * len(DECLARED)


def test_a_store_directory_that_never_saw_the_org_replaces_nothing(ansible, emulator, tmp_path):
    """A wrong resolver_scim_token_store_dir (or the store of another machine) reads empty, like a lost store: the
    org fails before any change, in check mode too, and the drift check reports it; heal_unstored=false keeps the
    live tokens, and resolver_scim_store_is_new=true (once) replaces them into the new directory."""
    rc, _results, output = ansible.run_playbook("converge", ansible.inventory(orgs=1))
    assert rc == 0, output[-3000:]
    before = records(str(tmp_path / "store"))["org1-acme"]
    live = live_by_org(emulator)[1]
    elsewhere = tmp_path / "elsewhere"
    wrong = ansible.inventory(orgs=1, store_dir=str(elsewhere))

    emulator.clear_log()
    for check in (True, False):
        rc, results, output = ansible.run_playbook("converge", wrong, check=check, verbosity=4)
        failed = [r for r in results if r["status"] == "failed"]
        assert rc != 0 and failed[0]["task"].endswith("Plan the declared tokens with one read of the org")
        message = failed[0]["result"]["msg"]
        assert message.startswith("The token store (file store %s) has never been used for this org"
                                  % (elsewhere / "org1-acme")), message
        for name in DECLARED:
            assert "%s (live token %s; planned: healed)" % (name, live[name][0]) in message
        assert "resolver_scim_heal_unstored=false" in message and "resolver_scim_store_is_new=true" in message
        assert summary(results)["org1-acme"][0].startswith("org1-acme: FAILED - The token store (file store")
        assert emulator.mutating() == [] and not elsewhere.exists()

    report = tmp_path / "drift.json"
    rc, results, output = ansible.run_playbook("drift_check", wrong, check=True,
                                               extra_vars={"drift_report": str(report)})
    assert rc != 0 and "org1-acme: DRIFTED (store_unknown)" in output, output[-3000:]
    assert "store_unknown okta: the store holds no value for the live token" in output
    drift = json.loads(report.read_text())["orgs"]["org1-acme"]["drift"]
    assert sorted(item["name"] for item in drift["store_unknown"]) == sorted(DECLARED) and drift["unstored"] == []
    assert emulator.mutating() == [] and live_by_org(emulator)[1] == live

    # Tokens kept until they are due: nothing to do.
    keep = ansible.inventory(orgs=1, store_dir=str(elsewhere), group_vars={"resolver_scim_heal_unstored": False})
    rc, _results, output = ansible.run_playbook("converge", keep)
    assert rc == 0 and recap(output)["org1-acme"]["changed"] == 0 and emulator.mutating() == [], output[-3000:]

    # Confirmed as new: healed into the new directory, the tokens the old one holds revoked; from then on the new
    # directory knows the org, and a run without the confirmation has nothing to do.
    confirmed = ansible.inventory(orgs=1, store_dir=str(elsewhere), group_vars={"resolver_scim_store_is_new": True})
    rc, results, output = ansible.run_playbook("converge", confirmed)
    assert rc == 0 and actions(results, "org1-acme") == {name: "healed" for name in DECLARED}, output[-3000:]
    assert_store_matches_live(emulator, str(elsewhere), {"org1-acme": 1})
    assert all(emulator.scim_status(before[name]["token"]) == 401 for name in DECLARED)
    emulator.clear_log()
    rc, _results, output = ansible.run_playbook("converge", wrong)
    assert rc == 0 and recap(output)["org1-acme"]["changed"] == 0 and emulator.mutating() == [], output[-3000:]
    assert_no_secret(ansible, emulator)


def test_a_store_of_your_own_and_a_store_that_fails_to_write(ansible, emulator, tmp_path):
    """docs/examples/custom-store works as a store; a store whose write fails costs no live token (17.4)."""
    mine = tmp_path / "mine"
    mine.mkdir()
    example = os.path.join(os.path.dirname(__file__), "..", "..", "docs", "examples", "custom-store")
    inventory = ansible.inventory(orgs=1, group_vars={"resolver_scim_token_store": "custom",
                                                      "resolver_scim_token_store_tasks": os.path.abspath(example),
                                                      "my_store_dir": str(mine)})
    rc, results, output = ansible.run_playbook("converge", inventory, verbosity=4)
    assert rc == 0, output[-3000:]
    held = {r["name"]: r["token_id"] for r in json.loads((mine / "org1-acme.ids.json").read_text())}
    live = live_by_org(emulator)[1]
    assert held == {name: ids[0] for name, ids in live.items()}
    assert emulator.scim_status((mine / "org1-acme.okta.token").read_text().strip()) == 200
    emulator.clear_log()
    rc, results, output = ansible.run_playbook("converge", inventory)
    assert rc == 0 and recap(output)["org1-acme"]["changed"] == 0 and emulator.mutating() == []

    # A store whose write fails: the renewal's new tokens are revoked at once (their values are nowhere), the old
    # ones stay live and stored, and the run fails naming each token and the step.
    broken = tmp_path / "broken"
    broken.mkdir()
    for verb in ("read", "remove"):
        (broken / ("%s.yml" % verb)).write_text(open(os.path.join(example, "%s.yml" % verb)).read())
    (broken / "write.yml").write_text("---\n- name: Fail like an unreachable secrets manager\n"
                                      "  ansible.builtin.fail:\n    msg: store unreachable\n")
    failing = ansible.inventory(orgs=1, group_vars={"resolver_scim_token_store": "custom",
                                                    "resolver_scim_token_store_tasks": str(broken),
                                                    "my_store_dir": str(mine)})
    emulator.age_tokens(705)
    rc, results, output = ansible.run_playbook("converge", failing, verbosity=4)
    assert rc != 0
    assert "okta (store): the store did not take new token" in output
    after = live_by_org(emulator)[1]
    assert after == live, "the old tokens stay live and nothing new is left live"
    assert emulator.scim_status((mine / "org1-acme.okta.token").read_text().strip()) == 200
    assert_no_secret(ansible, emulator)
