# Copyright: (c) 2026, resolver.scim contributors
# GNU General Public License v3.0+ (see LICENSES/GPL-3.0-or-later.txt or https://www.gnu.org/licenses/gpl-3.0.txt)
"""The identity provider's side is verified, not assumed (issue 20): the IdP check of every converge and drift check,
a changed Entra ID app, two orgs on one app, and a renamed entry whose new handover fails."""

import json
import os

import pytest

from conftest import REPO
from test_handover import broken_spans, graph_requests, idp, setup
from test_role import actions, assert_no_secret, live_by_org, recap, records


def entra_inventory(ansible, emulator, apps, **group_vars):
    """One org per app in ``apps`` (service principal ids), each with one token "entra" handed to its app."""
    variables = {"resolver_scim_tokens": [{"name": "entra", "email_domains": ["{{ scim_domain }}.com"],
                                           "entra": {"service_principal_id": "{{ entra_app }}"}}]}
    variables.update(("resolver_scim_entra_" + key, value) for key, value in emulator.entra_connection().items()
                     if key != "timeout")
    variables.update(group_vars)
    hosts = ["org1-acme", "org2-globex", "org3-initech"][:len(apps)]
    return ansible.inventory(orgs=len(apps), group_vars=variables,
                             host_vars=dict((host, {"entra_app": app}) for host, app in zip(hosts, apps)))


def resolver_requests(emulator):
    """Resolver API requests of the run (not Graph's, nor the SCIM request Entra ID's test itself makes)."""
    return [r for r in emulator.log() if not r["path"].startswith(("/_entra/", "/_emulator", "/scim"))]


def test_a_token_changed_in_entra_behind_our_back_is_found_and_repaired(ansible, emulator, tmp_path):
    sp, inventory, _inbox = setup(ansible, emulator, tmp_path, okta=False)
    store = str(tmp_path / "store")
    rc, _results, output = ansible.run_playbook("converge", inventory)
    assert rc == 0, output[-3000:]
    held = records(store)["org1-acme"]["entra"]

    # a run with nothing to change: the IdP check costs a sign-in (two requests) and one test, the plan its three
    # Resolver reads
    emulator.clear_log()
    rc, _results, output = ansible.run_playbook("converge", inventory)
    assert rc == 0 and recap(output)["org1-acme"]["changed"] == 0, output[-3000:]
    checked = graph_requests(emulator)
    assert [r["path"].rsplit("/", 1)[-1] for r in checked] == ["openid-configuration", "token", "validateCredentials"], checked
    assert len(resolver_requests(emulator)) == 3, resolver_requests(emulator)
    pinned = {"no-change converge, 1 handed-over token: Resolver": len(resolver_requests(emulator)),
              "no-change converge, 1 handed-over token: Graph": len(checked)}
    emulator.clear_log()
    rc, _results, output = ansible.run_playbook("converge", inventory, extra_vars={"resolver_scim_idp_check": False})
    assert rc == 0 and graph_requests(emulator) == [], output[-3000:]
    pinned["the same with resolver_scim_idp_check=false: Graph"] = 0
    out = os.path.join(REPO, "tests", "output", "reliability")
    os.makedirs(out, exist_ok=True)
    with open(os.path.join(out, "idp_check_requests.json"), "w", encoding="utf-8") as handle:
        json.dump(pinned, handle, indent=1)

    # someone pastes another value into the portal: the drift check fails and names org, token and app
    emulator.entra("POST", "service_principals/%s/secrets" % sp["id"], {"SecretToken": "pasted-by-hand"})
    report = tmp_path / "drift.json"
    rc, _results, output = ansible.run_playbook("drift_check", inventory, check=True,
                                                extra_vars={"drift_report": str(report)})
    assert rc != 0, output[-3000:]
    flat = " ".join(output.split())
    assert "org1-acme: DRIFTED (idp_cannot_provision)" in flat, output[-3000:]
    assert "idp_cannot_provision entra: Entra ID (service principal" in flat
    drift = json.loads(report.read_text())["orgs"]["org1-acme"]["drift"]["idp_cannot_provision"]
    assert [item["name"] for item in drift] == ["entra"]
    assert drift[0]["reason"].startswith("Entra ID (service principal %s) cannot provision" % sp["id"])
    assert drift[0]["reason"].endswith("hand the live token %s over again" % held["token_id"])

    # the converge hands the stored token over again (no new token), and the next drift check is clean
    issued = len(emulator.tokens(live_only=False))
    rc, results, output = ansible.run_playbook("converge", inventory)
    assert rc == 0, output[-3000:]
    assert actions(results, "org1-acme") == {"entra": "handover"}
    assert len(emulator.tokens(live_only=False)) == issued
    assert idp(emulator, sp)["can_provision"] is True and idp(emulator, sp)["token_id"] == held["token_id"]
    rc, _results, output = ansible.run_playbook("drift_check", inventory, check=True)
    assert rc == 0, output[-3000:]
    assert held["idp_target"].endswith("/" + sp["id"]) and held["idp_job_id"]
    assert_no_secret(ansible, emulator)


def test_a_changed_app_gets_the_token_and_two_orgs_on_one_app_are_refused(ansible, emulator, tmp_path):
    first, second = emulator.service_principal("resolver"), emulator.service_principal("resolver-paused")
    store = str(tmp_path / "store")
    rc, _results, output = ansible.run_playbook("converge", entra_inventory(ansible, emulator, [first["id"]]))
    assert rc == 0, output[-3000:]
    token_id = records(store)["org1-acme"]["entra"]["token_id"]

    # the entry now names another app: drift, and the converge hands the live token to it
    moved = entra_inventory(ansible, emulator, [second["id"]])
    rc, _results, output = ansible.run_playbook("drift_check", moved, check=True)
    flat = " ".join(output.split())
    assert rc != 0 and "org1-acme: DRIFTED (idp_target_changed)" in flat, output[-3000:]
    assert "idp_target_changed entra: the store records token %s as handed to" % token_id in flat
    rc, results, output = ansible.run_playbook("converge", moved)
    assert rc == 0 and actions(results, "org1-acme") == {"entra": "handover"}, output[-3000:]
    assert idp(emulator, second)["can_provision"] is True and idp(emulator, second)["token_id"] == token_id
    assert records(store)["org1-acme"]["entra"]["idp_target"].endswith("/" + second["id"])
    rc, _results, output = ansible.run_playbook("drift_check", moved, check=True)
    assert rc == 0, output[-3000:]

    # two orgs whose entries name the same app: refused before any change, naming both
    emulator.clear_log()
    shared = entra_inventory(ansible, emulator, [second["id"], second["id"]])
    rc, _results, output = ansible.run_playbook("converge", shared)
    flat = " ".join(output.split())
    assert rc != 0
    assert "orgs org1-acme (entry entra) and org2-globex (entry entra) hand their tokens to the same Entra ID app" \
        in flat, output[-3000:]
    assert "entra" not in live_by_org(emulator).get(2, {})
    assert [r for r in graph_requests(emulator) if r["method"] == "PUT"] == []
    assert_no_secret(ansible, emulator)


# The other removal repeats the case: make exhaustive.
@pytest.mark.parametrize("removal", [pytest.param("exclusive", marks=pytest.mark.exhaustive), "absent"])
def test_a_renamed_entry_whose_handover_fails_leaves_the_idp_its_token(ansible, emulator, tmp_path, removal):
    """Entry "entra" becomes "entra2" for the same app; the old name goes by resolver_scim_exclusive or is declared
    absent; the new name's test in Entra ID fails. The token Entra ID holds stays live until the next run hands
    the new one over, and only then is it revoked."""
    sp = emulator.service_principal("resolver")
    store = str(tmp_path / "store")
    rc, _results, output = ansible.run_playbook("converge", entra_inventory(ansible, emulator, [sp["id"]]))
    assert rc == 0, output[-3000:]
    old = records(store)["org1-acme"]["entra"]
    renamed = [{"name": "entra2", "email_domains": ["{{ scim_domain }}.com"],
                "entra": {"service_principal_id": "{{ entra_app }}"}}]
    if removal == "absent":
        renamed.append({"name": "entra", "state": "absent"})
    inventory = entra_inventory(ansible, emulator, [sp["id"]], resolver_scim_tokens=renamed,
                                resolver_scim_exclusive=removal == "exclusive")

    emulator.faults({"method": "POST", "path": "validateCredentials$", "status": 400, "count": 1})
    rc, _results, output = ansible.run_playbook("converge", inventory)
    emulator.faults()
    assert rc != 0 and "entra2 (entra validate_new)" in output, output[-3000:]
    assert idp(emulator, sp)["can_provision"] is True and idp(emulator, sp)["token_id"] == old["token_id"]
    assert emulator.scim_status(old["token"]) == 200

    rc, _results, output = ansible.run_playbook("converge", inventory)
    assert rc == 0, output[-3000:]
    held = records(store)["org1-acme"]
    assert "entra" not in held and held["entra2"]["idp_token_id"] == held["entra2"]["token_id"]
    assert idp(emulator, sp)["token_id"] == held["entra2"]["token_id"] and idp(emulator, sp)["can_provision"]
    assert emulator.scim_status(old["token"]) == 401
    assert live_by_org(emulator)[1] == {"entra2": [held["entra2"]["token_id"]]}
    assert broken_spans(emulator, sp) == []
    assert_no_secret(ansible, emulator)
