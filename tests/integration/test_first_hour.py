# Copyright: (c) 2026, resolver.scim contributors
# GNU General Public License v3.0+ (see LICENSES/GPL-3.0-or-later.txt or https://www.gnu.org/licenses/gpl-3.0.txt)
"""What a new user hits in the first hour (issue 22), with real ansible-playbook runs against the emulators."""

import json
import os

import pytest
import yaml

from conftest import REPO
from test_awx import runner_jobs
from test_handover import setup
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
    inventory = ansible.inventory(orgs=3, host_vars={"org2-globex": {"resolver_api_key": "wrong-key"},
                                                     "org3-initech": {"resolver_scim_org": "initech"}})
    rc, _results, output = ansible.run_playbook("converge", inventory)
    assert rc != 0
    rc, _results, output = ansible.run_playbook("drift_check", inventory, check=True)
    assert rc != 0 and "Error while resolving" not in output and "is undefined" not in output
    text = " ".join(output.split())
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
