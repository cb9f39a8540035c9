# Copyright: (c) 2026, resolver.scim contributors
# GNU General Public License v3.0+ (see LICENSES/GPL-3.0-or-later.txt or https://www.gnu.org/licenses/gpl-3.0.txt)
"""Your own IdP tasks are verified too (issue 20, items 2 and 5): the handover_tasks of the Okta example return the
target they hand the token to, and its handover_check_tasks (docs/examples/okta-check.yml) tell the converge and the
drift check whether Okta provisions with what it holds. An org without such tokens runs no task for it."""

import json
import os

import pytest

from conftest import REPO
from test_role import actions, assert_no_secret, recap, records

EXAMPLES = os.path.join(REPO, "docs", "examples")
# A no-change converge of an org that is not the first host (docs/performance.md): argument validation and the plan
# run; the store's read task (the file store reads in the plan's lookup) and the change-path include are skipped.
NO_CHANGE_TASKS = {"ok": 2, "skipped": 2}
ORG = "org1-acme"
PLAIN_ORG = "org2-globex"

# The Okta administrators of the test: they switch Okta as soon as the notice arrives and confirm it, the small
# "IdP" state file the check reads (never a token value).
CONFIRMING_HANDOVER = """---
- name: Notify the Okta administrators
  ansible.builtin.include_tasks: %s
- name: Confirm the switch as the Okta administrators do
  ansible.builtin.copy:
    dest: "{{ okta_handover_inbox }}/{{ resolver_scim_handover.org }}-{{ resolver_scim_handover.name }}.confirmed.json"
    content: '{"token_id": {{ resolver_scim_handover.token_id }}, "app_id": "{{ okta_app_id }}"}'
    mode: "0600"
""" % os.path.join(EXAMPLES, "okta-handover.yml")


def okta_inventory(ansible, tmp_path, app_id="0oa1first", check=True, orgs=2):
    """Org 1 hands its token "okta" to Okta app ``app_id`` (with the example check unless ``check`` is false); org 2
    only has a token handed to nobody."""
    inbox = tmp_path / "okta-inbox"
    inbox.mkdir(exist_ok=True)
    handover = tmp_path / "okta-handover-confirmed.yml"
    handover.write_text(CONFIRMING_HANDOVER)
    okta = {"name": "okta", "email_domains": ["{{ scim_domain }}.org"], "handover_tasks": str(handover)}
    if check:
        okta["handover_check_tasks"] = os.path.join(EXAMPLES, "okta-check.yml")
    plain = [{"name": "plain", "email_domains": ["{{ scim_domain }}.com"]}]
    return ansible.inventory(orgs=orgs, group_vars={"okta_handover_inbox": str(inbox), "okta_domain": "acme.okta.com",
                                                    "okta_app_id": app_id},
                             host_vars={ORG: {"resolver_scim_tokens": [okta]},
                                        PLAIN_ORG: {"resolver_scim_tokens": plain}})


def confirmation(tmp_path):
    return tmp_path / "okta-inbox" / ("%s-okta.confirmed.json" % ORG)


def drift_check(ansible, inventory, report):
    rc, _results, output = ansible.run_playbook("drift_check", inventory, check=True,
                                                extra_vars={"drift_report": str(report)})
    return rc, " ".join(output.split()), json.loads(report.read_text())["orgs"][ORG]["drift"]


def test_a_token_changed_in_okta_behind_our_back_is_found_and_repaired(ansible, emulator, tmp_path):
    inventory = okta_inventory(ansible, tmp_path)
    store = str(tmp_path / "store")
    rc, _results, output = ansible.run_playbook("converge", inventory)
    assert rc == 0, output[-3000:]
    held = records(store)[ORG]["okta"]
    target = "okta:acme.okta.com/app/0oa1first"
    assert held["idp_token_id"] == held["token_id"] and held["idp_target"] == target
    rc, _results, output = ansible.run_playbook("converge", inventory)
    assert rc == 0 and recap(output)[ORG]["changed"] == 0, output[-3000:]

    # someone pastes another token into Okta: the drift check fails, naming org, token and target
    confirmation(tmp_path).write_text(json.dumps({"token_id": 999999, "app_id": "0oa1first"}))
    rc, flat, drift = drift_check(ansible, inventory, tmp_path / "drift.json")
    assert rc != 0 and "%s: DRIFTED (idp_cannot_provision)" % ORG in flat, flat[-3000:]
    assert [item["name"] for item in drift["idp_cannot_provision"]] == ["okta"]
    reason = drift["idp_cannot_provision"][0]["reason"]
    assert "(target %s) cannot provision with what it holds (Okta holds Resolver token 999999 in app 0oa1first, " \
        "not token %s)" % (target, held["token_id"]) in reason, reason
    assert reason.endswith("hand the live token %s over again" % held["token_id"])
    assert "idp_cannot_provision okta:" in flat

    # the converge hands the stored token over again (no new token); the next drift check is clean
    issued = len(emulator.tokens(live_only=False))
    rc, results, output = ansible.run_playbook("converge", inventory)
    assert rc == 0, output[-3000:]
    assert actions(results, ORG) == {"okta": "handover"}
    assert len(emulator.tokens(live_only=False)) == issued
    assert json.loads(confirmation(tmp_path).read_text())["token_id"] == held["token_id"]
    rc, flat, drift = drift_check(ansible, inventory, tmp_path / "drift2.json")
    assert rc == 0 and drift["idp_cannot_provision"] == [], flat[-3000:]
    assert_no_secret(ansible, emulator)


# The IdP check of your own tasks runs in make test through the next case; this one in make exhaustive.
@pytest.mark.exhaustive
def test_the_target_the_tasks_return_is_recorded_and_a_changed_one_is_drift(ansible, emulator, tmp_path):
    store = str(tmp_path / "store")
    rc, _results, output = ansible.run_playbook("converge", okta_inventory(ansible, tmp_path))
    assert rc == 0, output[-3000:]
    token_id = records(store)[ORG]["okta"]["token_id"]
    assert records(store)[ORG]["okta"]["idp_target"] == "okta:acme.okta.com/app/0oa1first"

    # the entry's tasks now name another Okta app: drift, and the converge hands the live token there
    moved = okta_inventory(ansible, tmp_path, app_id="0oa2second")
    rc, flat, drift = drift_check(ansible, moved, tmp_path / "drift.json")
    assert rc != 0 and "%s: DRIFTED (idp_target_changed)" % ORG in flat, flat[-3000:]
    assert [item["name"] for item in drift["idp_target_changed"]] == ["okta"]
    assert "the store records token %s as handed to okta:acme.okta.com/app/0oa1first, but the entry now names " \
        "okta:acme.okta.com/app/0oa2second" % token_id in drift["idp_target_changed"][0]["reason"]
    rc, results, output = ansible.run_playbook("converge", moved)
    assert rc == 0 and actions(results, ORG) == {"okta": "handover"}, output[-3000:]
    assert records(store)[ORG]["okta"]["token_id"] == token_id
    assert records(store)[ORG]["okta"]["idp_target"] == "okta:acme.okta.com/app/0oa2second"
    rc, flat, _drift = drift_check(ansible, moved, tmp_path / "drift2.json")
    assert rc == 0, flat[-3000:]

    # without a check, a returned target is not mistaken for a changed one: the task file's default is not drift
    rc, flat, drift = drift_check(ansible, okta_inventory(ansible, tmp_path, app_id="0oa2second", check=False),
                                  tmp_path / "drift3.json")
    assert rc == 0 and drift["idp_target_changed"] == [], flat[-3000:]


def test_an_org_without_checked_handovers_runs_no_extra_task(ansible, emulator, tmp_path):
    inventory = okta_inventory(ansible, tmp_path)
    rc, _results, output = ansible.run_playbook("converge", inventory)
    assert rc == 0, output[-3000:]
    rc, _results, output = ansible.run_playbook("converge", inventory)
    assert rc == 0, output[-3000:]
    with_checks = recap(output)
    rc, _results, output = ansible.run_playbook("converge", okta_inventory(ansible, tmp_path, check=False))
    assert rc == 0, output[-3000:]
    without_checks = recap(output)
    # the org without handed-over tokens: the same tasks either way, the no-change path of docs/performance.md
    assert with_checks[PLAIN_ORG] == without_checks[PLAIN_ORG]
    assert {key: with_checks[PLAIN_ORG][key] for key in NO_CHANGE_TASKS} == NO_CHANGE_TASKS, with_checks[PLAIN_ORG]
    # the org with a checked handover pays for its check only (the include, the reset, the check's two tasks, the note)
    assert with_checks[ORG]["changed"] == 0
    assert with_checks[ORG]["ok"] > without_checks[ORG]["ok"]
