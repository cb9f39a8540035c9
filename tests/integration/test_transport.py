# Copyright: (c) 2026, resolver.scim contributors
# GNU General Public License v3.0+ (see LICENSES/GPL-3.0-or-later.txt or https://www.gnu.org/licenses/gpl-3.0.txt)
"""The transport through real ansible-playbook runs (issue 21): a trickling answer ends a module task and a converge
within about twice the timeout, and a redirected secrets PUT reaches no other host and reports no change."""

import time

from recording_server import RecordingServer  # pylint: disable=wrong-import-order

TIMEOUT = 3
# One byte every half second; trickle_for only bounds the test's duration should the client never give up.
TRICKLE = {"trickle": 0.5, "trickle_for": 40}


def trickled_seconds(emulator, expected):
    """How long each trickled answer kept its client, as the emulator saw it (it logs that once the client left)."""
    for _attempt in range(100):
        seconds = [entry["trickled_seconds"] for entry in emulator.log() if "trickled_seconds" in entry]
        if len(seconds) >= expected:
            return seconds
        time.sleep(0.5)
    raise AssertionError("the emulator is still trickling: %s" % emulator.log())


def test_a_trickling_answer_fails_the_module_task_near_its_timeout(ansible, emulator):
    emulator.faults(dict(TRICKLE, method="GET", path="^/user/users/me$"))
    result = ansible.task("resolver.scim.org_membership_info", {}, connection=ansible.connection(timeout=TIMEOUT))
    assert result["_status"] == "failed", result["_output"][-3000:]
    assert "GET /user/users/me got an answer that was not complete within timeout=%ds" % TIMEOUT in result["msg"]
    assert trickled_seconds(emulator, 1)[0] < 2 * TIMEOUT


def test_a_trickling_create_fails_the_converge_near_its_timeout_and_leaves_no_token(ansible, emulator, tmp_path):
    inventory = ansible.inventory(orgs=1, group_vars={"resolver_timeout": TIMEOUT})
    # Resolver creates the token each time; only its answer trickles (the org's lock is held meanwhile).
    emulator.faults(dict(TRICKLE, method="POST", path="^/user/scimTokens$", act=True, count=100))
    rc, _results, output = ansible.run_playbook("converge", inventory)
    assert rc != 0, output[-3000:]
    assert "failed twice without a usable answer" in output
    assert "not complete within timeout=%ds" % TIMEOUT in output
    assert all(seconds < 2 * TIMEOUT for seconds in trickled_seconds(emulator, 2))
    assert emulator.tokens() == []  # every token whose answer was lost was revoked
    emulator.faults()
    rc, _results, output = ansible.run_playbook("converge", inventory)
    assert rc == 0, output[-3000:]  # the lock was released: the next run converges
    assert sorted(token["name"] for token in emulator.tokens()) == ["entra-id", "okta"]


def test_a_redirected_secrets_put_sends_no_token_away_and_changes_nothing(ansible, emulator):
    token = emulator.issue_token()
    args = {"service_principal_id": emulator.service_principal()["id"], "tenant_url": emulator.base + "/scim/",
            "secret_token": token["token"], "token_id": token["id"], "validate": False}
    with RecordingServer() as other_host:
        emulator.faults({"method": "PUT", "path": "/synchronization/secrets$", "redirect": other_host.url + "/s"})
        result = ansible.task("resolver.scim.entra_provisioning", args,
                              module_defaults={"group/resolver.scim.entra": emulator.entra_connection()})
    assert result["_status"] == "failed", result["_output"][-3000:]
    assert other_host.received == []
    assert result["changed"] is False and result["credentials_set"] is False
    assert "which is never followed so that no credential goes to another host. Set graph_url" in result["msg"]
    assert token["token"] not in result["_output"]
