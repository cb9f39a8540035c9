# Copyright: (c) 2026, resolver.scim contributors
# GNU General Public License v3.0+ (see LICENSES/GPL-3.0-or-later.txt or https://www.gnu.org/licenses/gpl-3.0.txt)
"""`--diff` of the role shows the planned token changes as a Terraform plan does (issue 22): names, domains, expiry
and ids before and after, never a value; a run with nothing to do shows no token diff."""

from test_role import live_by_org, recap

ORG = "org1-acme"
NOW_HEADER = "SCIM tokens now"
AFTER_HEADER = "SCIM tokens after the planned actions"
NEW = "(known after the issue)"


def assert_no_secret(output, emulator):
    assert [s for s in emulator.secrets() if s and s in output] == []


def test_diff_shows_token_metadata_and_never_a_value(ansible, emulator):
    inventory = ansible.inventory(orgs=1)

    # First converge: both tokens are new.
    rc, _results, output = ansible.run_playbook("converge", inventory, diff=True)
    assert rc == 0, output[-3000:]
    assert output.count(AFTER_HEADER) == 1, output[-5000:]
    plan = output[output.index(NOW_HEADER):]
    assert '+    "okta": {' in plan and '+    "entra-id": {' in plan, plan[:2500]
    assert plan.count('"id": "%s"' % NEW) == 2 and '"acme.com"' in plan
    assert_no_secret(output, emulator)

    # Nothing to do: no token diff, nothing changed.
    rc, _results, output = ansible.run_playbook("converge", inventory, diff=True)
    assert rc == 0 and recap(output)[ORG]["changed"] == 0, output[-3000:]
    assert NOW_HEADER not in output and AFTER_HEADER not in output

    # A renewal, in check mode first: the old token (id, domains, expiry) goes, a new one comes.
    old_id = live_by_org(emulator)[1]["okta"][0]
    emulator.age_tokens(705, ids=[old_id])
    for check in (True, False):
        rc, _results, output = ansible.run_playbook("converge", inventory, check=check, diff=True)
        assert rc == 0, output[-3000:]
        plan = output[output.index(NOW_HEADER):]
        assert '-                "id": %d\n' % old_id in plan, plan[:3000]
        assert '-                "expires": "' in plan and '+                "id": "%s"\n' % NEW in plan
        assert "entra-id" not in plan[:plan.index("TASK")]
        assert_no_secret(output, emulator)
    assert live_by_org(emulator)[1]["okta"] != [old_id]
