# Copyright: (c) 2026, resolver.scim contributors
# GNU General Public License v3.0+ (see LICENSES/GPL-3.0-or-later.txt or https://www.gnu.org/licenses/gpl-3.0.txt)
"""What a new user hits in the first hour (issue 22), with real ansible-playbook runs against the emulators."""

import json
import os

import pytest
import yaml

from conftest import REPO
from test_awx import runner_jobs
from test_handover import idp, setup
from test_role import assert_no_secret, live_by_org, records, summary

ROTATED = [{"name": "okta", "email_domains": ["{{ scim_domain }}.com"], "state": "rotated"},
           {"name": "entra-id", "email_domains": ["{{ scim_domain }}-labs.com"]}]


def flat(lines):
    return " ".join(" ".join(lines).split())


def test_a_state_rotated_entry_rotates_on_every_converge_and_is_no_drift(ansible, emulator, tmp_path):
    inventory = ansible.inventory(orgs=1, group_vars={"resolver_scim_tokens": ROTATED})
    store = str(tmp_path / "store")
    seen = []
    for _run in range(2):
        rc, results, output = ansible.run_playbook("converge", inventory)
        assert rc == 0, output[-3000:]
        seen.append(records(store)["org1-acme"]["okta"]["token_id"])
        assert "rotated okta: state=rotated" in flat(summary(results)["org1-acme"])
    assert seen[0] != seen[1] and live_by_org(emulator)[1]["okta"] == [seen[1]]

    rc, results, output = ansible.run_playbook("drift_check", inventory, check=True)
    assert rc == 0, output[-3000:]
    assert "not drift, a converge would rotate okta (declared state: rotated)" in " ".join(output.split())


@pytest.mark.filterwarnings("ignore:This process .* is multi-threaded:DeprecationWarning")
# The same case as the next test, under ansible-runner (as AWX runs it): make exhaustive.
@pytest.mark.exhaustive
def test_a_state_rotated_entry_under_ansible_runner(emulator, tmp_path):
    job = runner_jobs(emulator, tmp_path, {"url": emulator.url, "api_key": emulator.api_key(1)},
                      job_vars={"resolver_scim_tokens": ROTATED})
    for _run in range(2):
        run = job("converge.yml")
        assert (run.status, run.rc) == ("successful", 0), run.stdout.read()[-3000:]
    assert job("drift_check.yml", check=True).rc == 0


def test_rotate_under_a_limit_checks_the_names_before_anything_changes(ansible, emulator, tmp_path):
    inventory = ansible.inventory(orgs=2)
    rc, _results, output = ansible.run_playbook("converge", inventory)
    assert rc == 0, output[-3000:]
    before = emulator.tokens()
    emulator.clear_log()
    rc, _results, output = ansible.playbook(os.path.join(REPO, "playbooks", "rotate.yml"), inventory=inventory,
                                            extra_args=["--limit", "org1-acme,org2-globex", "-e",
                                                        "rotate_tokens=otka"])
    assert rc != 0
    assert "rotate_tokens names otka, which no targeted org declares" in " ".join(output.split())
    assert emulator.mutating() == [] and emulator.tokens() == before


def test_a_drift_check_ends_with_each_unreadable_org_and_why(ansible, emulator, tmp_path):
    inventory = ansible.inventory(orgs=3, host_vars={"org1-acme": {"resolver_url": "http://127.0.0.1:9"},
                                                     "org2-globex": {"resolver_api_key": "wrong-key"},
                                                     "org3-initech": {"resolver_scim_org": "initech"}})
    rc, results, output = ansible.run_playbook("converge", inventory)
    assert rc != 0
    assert "org3-initech (resolver_scim_org initech)" in summary(results)
    rc, _results, output = ansible.run_playbook("drift_check", inventory, check=True)
    assert rc != 0 and "Error while resolving" not in output and "is undefined" not in output
    text = " ".join(output.split())
    assert "org1-acme could not be read: " in text and "127.0.0.1:9" in text
    assert "org2-globex could not be read: " in text and "API key" in text
    assert "org3-initech (resolver_scim_org initech): no drift" in text


def test_two_rotates_with_a_wrong_entra_secret_leave_every_live_token_held(ansible, emulator, tmp_path):
    _sp, inventory, _inbox = setup(ansible, emulator, tmp_path, okta=False)
    rc, _results, output = ansible.run_playbook("converge", inventory)
    assert rc == 0, output[-3000:]
    inventory = ansible.inventory(orgs=1, store_dir=tmp_path / "store", group_vars=dict(
        _group_vars(inventory), resolver_scim_entra_client_secret="wrong-secret"))
    for _run in range(2):
        rc, _results, output = ansible.run_playbook("rotate", inventory, extra_vars={"rotate_tokens": "entra"})
        assert rc != 0
    held = {r["token_id"] for r in _store_records(tmp_path / "store")}
    live = live_by_org(emulator)[1]["entra"]
    assert set(live) <= held, (live, held)
    assert len(live) <= 2
    assert_no_secret(ansible, emulator)


def _group_vars(inventory):
    with open(os.path.join(inventory, "group_vars", "resolver_orgs.yml"), encoding="utf-8") as handle:
        return yaml.safe_load(handle)


def _store_records(store):
    found = []
    for root, _dirs, files in os.walk(str(store)):
        for name in files:
            if name.endswith(".json"):
                with open(os.path.join(root, name), encoding="utf-8") as handle:
                    found.append(json.load(handle))
    return found


def test_the_converge_summary_in_the_words_of_the_first_hour(ansible, emulator, tmp_path):
    inventory = ansible.inventory(orgs=1)
    rc, results, output = ansible.run_playbook("converge", inventory, check=True)
    assert rc == 0, output[-3000:]
    assert "would create okta: no token named 'okta' exists" in flat(summary(results)["org1-acme"])
    rc, results, output = ansible.run_playbook("converge", inventory)
    assert rc == 0, output[-3000:]
    held = records(str(tmp_path / "store"))["org1-acme"]["okta"]["token_id"]

    # a token made by hand under a declared name, and one under a name declared nowhere
    by_hand = emulator.issue_token("okta", ["acme.com", "acme.org"])["id"]
    stray = emulator.issue_token("legacy")["id"]
    rc, results, output = ansible.run_playbook("converge", inventory)
    assert rc == 0, output[-3000:]
    text = flat(summary(results)["org1-acme"])
    assert ("healed okta: the store holds token %s, not the live token %s (made by hand or by another tool"
            % (held, by_hand)) in text
    assert "whatever was given token %s by hand stops working" % by_hand in text
    assert "then revoke %s, %s" % (held, by_hand) in text
    assert ("unmanaged: legacy (token(s) %s) declared nowhere, left live; to revoke them, declare them state: absent "
            "or set resolver_scim_exclusive: true" % stray) in text

    # a failed issue says what did not happen, and only that
    emulator.age_tokens(705)
    emulator.faults({"method": "POST", "path": "^/user/scimTokens$", "status": 503, "count": 10})
    rc, results, output = ansible.run_playbook("converge", inventory)
    assert rc != 0
    text = flat(summary(results)["org1-acme"])
    assert "renewed okta" not in text and "FAILED okta: did not renew it, stopped at the issue step" in text


def test_a_store_that_never_saw_the_org_is_explained_once(ansible, emulator, tmp_path):
    rc, _results, output = ansible.run_playbook("converge", ansible.inventory(orgs=1))
    assert rc == 0, output[-3000:]
    wrong = ansible.inventory(orgs=1, store_dir=str(tmp_path / "elsewhere"))
    rc, results, output = ansible.run_playbook("converge", wrong)
    assert rc != 0
    # once, as ansible shows every failed task's msg: the error line and the failed result (not its refused too)
    assert output.count("replacing them would revoke tokens that the right store location") == 2, output
    assert "the failed task above has the whole message" in flat(summary(results)["org1-acme"])


def test_a_failed_give_back_says_what_the_idp_holds_and_what_the_next_run_does(ansible, emulator, tmp_path):
    sp, inventory, _inbox = setup(ansible, emulator, tmp_path, okta=False)
    rc, _results, output = ansible.run_playbook("converge", inventory)
    assert rc == 0, output[-3000:]
    old = records(str(tmp_path / "store"))["org1-acme"]["entra"]["token_id"]
    emulator.age_tokens(705)
    # the test after saving fails, and so does the test of the previous token when it is given back
    emulator.faults({"method": "POST", "path": "validateCredentials$", "status": 400, "skip": 1, "count": 2})
    rc, _results, output = ansible.run_playbook("converge", inventory)
    assert rc != 0
    new = idp(emulator, sp)["token_id"]
    assert new != old
    text = " ".join(output.split())
    assert ("giving back token %s failed too" % old) in text
    assert ("still holds the new token %s, which Resolver accepts; both tokens stay live, and the next run hands "
            "token %s over again, tests it and only then revokes token %s" % (new, new, old)) in text

    emulator.faults()
    rc, _results, output = ansible.run_playbook("converge", inventory)
    assert rc == 0, output[-3000:]
    assert idp(emulator, sp)["token_id"] == new and live_by_org(emulator)[1]["entra"] == [new]
