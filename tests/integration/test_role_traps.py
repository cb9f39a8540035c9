# Copyright: (c) 2026, resolver.scim contributors
# GNU General Public License v3.0+ (see LICENSES/GPL-3.0-or-later.txt or https://www.gnu.org/licenses/gpl-3.0.txt)
"""The role against the traps a new user or an unlucky operator falls into (issues 16 and 17), each a real run."""

import json
import os
import stat

from test_role import DECLARED, actions, assert_no_secret, live_by_org, recap, records, summary


def test_two_hosts_on_one_org_fail_before_any_change(ansible, emulator, tmp_path):
    """One credential over several hosts (16.1): both hosts name each other and nothing is issued."""
    twin = {"org2-globex": {"resolver_api_key": emulator.api_key(1)}}
    inventory = ansible.inventory(host_vars=twin)
    rc, results, output = ansible.run_playbook("converge", inventory)
    counters = recap(output)
    assert rc != 0 and counters["org1-acme"]["failed"] == 1 and counters["org2-globex"]["failed"] == 1
    assert "hosts org1-acme, org2-globex manage the same Resolver org" in output
    assert counters["org3-initech"]["failed"] == 0
    assert 1 not in live_by_org(emulator) and 3 in live_by_org(emulator)


def test_two_hosts_on_one_store_location_fail_before_any_change(ansible, emulator, tmp_path):
    """The same resolver_scim_org on two hosts (17.3c): each would overwrite the other's records."""
    inventory = ansible.inventory(orgs=2, group_vars={"resolver_scim_org": "acme"})
    rc, _results, output = ansible.run_playbook("converge", inventory)
    assert rc != 0 and "manage the same token store location" in output
    assert emulator.mutating() == []


def test_a_malformed_store_record_fails_the_org_naming_only_the_file(ansible, emulator, tmp_path):
    """17.1: a record without a name (or a bare string) fails the org without printing any stored value."""
    store = tmp_path / "store"
    inventory = ansible.inventory(orgs=2)
    rc, _results, output = ansible.run_playbook("converge", inventory)
    assert rc == 0, output[-3000:]
    path = store / "org1-acme" / "okta.json"
    record = json.loads(path.read_text())
    del record["name"]
    path.write_text(json.dumps(record))
    (store / "org2-globex" / "okta.json").write_text(json.dumps(record["token"]))
    emulator.clear_log()
    for verbosity in (0, 4):
        rc, _results, output = ansible.run_playbook("converge", inventory, verbosity=verbosity)
        assert rc != 0 and "%s is not a token record" % path in output
        assert "%s is not a token record" % (store / "org2-globex" / "okta.json") in output
    assert emulator.mutating() == []
    assert_no_secret(ansible, emulator)


def test_a_backup_copy_of_a_record_does_not_cause_a_rotation(ansible, emulator, tmp_path):
    """17.3a: a second record of the same name under another file is reported and ignored, whatever the order."""
    store = tmp_path / "store"
    inventory = ansible.inventory(orgs=1)
    rc, _results, output = ansible.run_playbook("converge", inventory)
    assert rc == 0, output[-3000:]
    original = store / "org1-acme" / "okta.json"
    for copy in ("a-okta-backup.json", "okta.json.bak.json", "zz-okta.json"):
        stale = json.loads(original.read_text())
        stale["token_id"] = 1
        (store / "org1-acme" / copy).write_text(json.dumps(stale))
    emulator.clear_log()
    rc, _results, output = ansible.run_playbook("converge", inventory)
    assert rc == 0 and recap(output)["org1-acme"]["changed"] == 0, output[-3000:]
    assert emulator.mutating() == []
    assert "holds token 'okta' but is not its record (okta.json); it was ignored" in output


def test_org_names_with_glob_characters_or_dots_stay_inside_the_store(ansible, emulator, tmp_path):
    """17.3b and 17.5: a glob-like org name is read back (no rotation loop), '../x' cannot leave the store, and
    directories the role creates are 0700 even under umask 000."""
    store = tmp_path / "deep" / "store"
    inventory = ansible.inventory(orgs=2, store_dir=store, host_vars={
        "org1-acme": {"resolver_scim_org": "acme [prod]"}, "org2-globex": {"resolver_scim_org": "../../escaped"}})
    old = os.umask(0)
    try:
        rc, _results, output = ansible.run_playbook("converge", inventory)
    finally:
        os.umask(old)
    assert rc == 0, output[-3000:]
    assert not (tmp_path / "escaped").exists() and not (tmp_path / "deep" / "escaped").exists()
    created = [tmp_path / "deep", store] + [p for p in store.iterdir() if p.is_dir()]
    assert len(created) == 4
    assert all(stat.S_IMODE(p.stat().st_mode) == 0o700 for p in created), [oct(p.stat().st_mode) for p in created]
    emulator.clear_log()
    rc, _results, output = ansible.run_playbook("converge", inventory)
    assert rc == 0 and all(c["changed"] == 0 for c in recap(output).values()), output[-3000:]
    assert emulator.mutating() == []


def test_rotate_refuses_unknown_names_and_patterns(ansible, emulator, tmp_path):
    """16.2: a typo in rotate_tokens or a rotate_orgs that matches nothing fails, naming it; nothing changes."""
    inventory = ansible.inventory(orgs=2)
    rc, _results, output = ansible.run_playbook("converge", inventory)
    assert rc == 0, output[-3000:]
    emulator.clear_log()
    rc, _results, output = ansible.run_playbook("rotate", inventory, extra_vars={"rotate_tokens": "otka"})
    assert rc != 0 and "rotate_tokens names otka, which no targeted org declares" in output
    rc, _results, output = ansible.run_playbook("rotate", inventory,
                                                extra_vars={"rotate_tokens": "okta", "rotate_orgs": "org9-*"})
    assert rc != 0 and "rotate_orgs=org9-* matches no host" in output
    assert emulator.mutating() == []


def test_drift_report_only_when_asked_and_valid_when_an_org_cannot_be_read(ansible, emulator, tmp_path):
    """16.3 and 16.4: no file and changed=0 by default; with a path, valid JSON carrying the unreadable org's error."""
    inventory = ansible.inventory(host_vars={"org2-globex": {"resolver_api_key": "rk-wrong"}})
    home = tmp_path / "home"
    home.mkdir()
    rc, _results, output = ansible.run_playbook("drift_check", inventory, check=True, env={"HOME": str(home)})
    # (ansible-core keeps its own ~/.ansible; no report may appear anywhere in the home directory)
    assert rc != 0 and [p for p in home.rglob("*") if "drift" in p.name] == []
    assert all(c["changed"] == 0 for c in recap(output).values())
    assert "org2-globex: ERROR - Resolver refused" in output
    report = tmp_path / "drift.json"
    rc, _results, output = ansible.run_playbook("drift_check", inventory, check=True,
                                                extra_vars={"drift_report": str(report)})
    data = json.loads(report.read_text())
    assert data["drifted"] is True and data["orgs"]["org2-globex"]["error"].startswith("Resolver refused")
    assert [e["name"] for e in data["orgs"]["org1-acme"]["drift"]["missing"]] == list(reversed(DECLARED))
    # A report path from a launcher (an AWX survey) may not overwrite the store's records (here through a link).
    (tmp_path / "store").mkdir(exist_ok=True)
    (tmp_path / "into-store").symlink_to(tmp_path / "store")
    record = tmp_path / "store" / "keep.json"
    record.write_text("{}")
    rc, _results, output = ansible.run_playbook("drift_check", inventory, check=True,
                                                extra_vars={"drift_report": str(tmp_path / "into-store" / "keep.json")})
    assert rc != 0 and "is inside the token store or the lock directory" in output
    assert record.read_text() == "{}"


def test_check_mode_shows_each_action_with_its_reason(ansible, emulator, tmp_path):
    """16.7: --check --diff prints what a converge would do and why, never a value."""
    inventory = ansible.inventory(orgs=1)
    rc, results, output = ansible.run_playbook("converge", inventory, check=True, diff=True)
    assert rc == 0, output[-3000:]
    lines = summary(results)["org1-acme"]
    assert lines[0].startswith("org1-acme: would change")
    assert "would create okta: no token named 'okta' exists" in lines
    assert emulator.mutating() == []


def test_a_refused_domain_is_reported_once_by_token_name(ansible, emulator, tmp_path):
    """16.9: the failing token is named (no_log keeps values out), its message appears once, the other is stored."""
    inventory = ansible.inventory(orgs=1, group_vars={"resolver_scim_tokens": [
        {"name": "okta", "email_domains": ["acme.com"]},
        {"name": "entra-id", "email_domains": ["not-ours.com"]}]})
    rc, results, output = ansible.run_playbook("converge", inventory)
    assert rc != 0
    # One task carries the message (ansible-core itself prints a failed task's message in its error line and its
    # result); the issue loop's own failure is censored by no_log.
    carriers = [r for r in results if r["status"] == "failed" and "Resolver refused add a SCIM token" in
                json.dumps(r["result"])]
    assert len(carriers) == 1 and "entra-id (issue): " in carriers[0]["result"]["msg"]
    assert "entra-id (final plan)" not in output
    assert records(str(tmp_path / "store"))["org1-acme"]["okta"]["token_id"] == live_by_org(emulator)[1]["okta"][0]
    assert "FAILED entra-id: did not create it, stopped at the issue step" in " ".join(summary(results)["org1-acme"])


def test_renewal_with_previous_keep_reports_the_new_expiry_now_and_later(ansible, emulator, tmp_path):
    """14.3: the summary of the run that renewed and of the next no-op run give the same next expiry."""
    inventory = ansible.inventory(orgs=1, group_vars={"resolver_scim_tokens": [
        {"name": "okta", "email_domains": ["acme.com"], "previous": "keep"}]})
    rc, results, output = ansible.run_playbook("converge", inventory)
    assert rc == 0, output[-3000:]
    emulator.age_tokens(705)
    rc, results, output = ansible.run_playbook("converge", inventory)
    assert rc == 0 and actions(results, "org1-acme") == {"okta": "renewed"}, output[-3000:]
    renewed = summary(results)["org1-acme"][0]
    rc, results, output = ansible.run_playbook("converge", inventory)
    assert rc == 0 and recap(output)["org1-acme"]["changed"] == 0
    assert summary(results)["org1-acme"][0].split("next expiry ")[1] == renewed.split("next expiry ")[1]
    assert len(live_by_org(emulator)[1]["okta"]) == 2  # the kept predecessor is still live


def test_exclusive_revokes_many_undeclared_tokens_in_one_call(ansible, emulator, tmp_path):
    """17.10: undeclared names are revoked by one scim_token_revoke run, not one module run per name."""
    inventory = ansible.inventory(orgs=1, group_vars={"resolver_scim_exclusive": True})
    for index in range(40):
        emulator.control("POST", "tokens", {"org_id": 1, "name": "legacy-%02d" % index, "email_domains": ["acme.com"]})
    rc, results, output = ansible.run_playbook("converge", inventory)
    assert rc == 0, output[-3000:]
    revokes = [r for r in results if r["task"].endswith("new tokens that could not be stored")]
    assert len(revokes) == 1 and len(revokes[0]["result"]["revoked"]) == 40
    assert sorted(live_by_org(emulator)[1]) == sorted(DECLARED)


def test_a_token_listed_without_dates_is_reported_not_trusted(ansible, emulator, tmp_path):
    """17.9: no expiry and no creation date: the info module warns and the drift check fails, naming the token."""
    inventory = ansible.inventory(orgs=1)
    rc, _results, output = ansible.run_playbook("converge", inventory)
    assert rc == 0, output[-3000:]
    emulator.control("POST", "config", {"timestamps": "none"})
    rc, _results, output = ansible.run_playbook("drift_check", inventory, check=True)
    assert rc != 0 and "unknown_expiry okta: Resolver lists token" in output
    info = ansible.task("resolver.scim.scim_token_info", {})
    assert sorted(t["name"] for t in info["unknown_expiry"]) == sorted(DECLARED)
    assert any("without an expiry or creation date" in w for w in info.get("warnings", []))
