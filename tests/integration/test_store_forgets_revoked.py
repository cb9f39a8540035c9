# Copyright: (c) 2026, resolver.scim contributors
# GNU General Public License v3.0+ (see LICENSES/GPL-3.0-or-later.txt or https://www.gnu.org/licenses/gpl-3.0.txt)
"""Issue 23.6: a store must not keep the value of a token it has seen revoked. A token revoked outside the role and
then declared absent left its record, value included, in the store: the plan saw no token to delete and did
nothing (before the fix the file store still held okta.json after the converge)."""

import json
import urllib.request

from org_inventory import DECLARED_TOKENS
from test_role import live_by_org, recap

ORG = "org1-acme"


def test_a_token_revoked_by_hand_and_declared_absent_leaves_no_value_in_the_store(ansible, emulator, tmp_path):
    rc, _results, output = ansible.run_playbook("converge", ansible.inventory(orgs=1))
    assert rc == 0, output[-3000:]
    directory = tmp_path / "store" / ORG
    revoked = json.loads((directory / "okta.json").read_text())["token_id"]
    request = urllib.request.Request("%s/user/scimTokens/%d" % (emulator.url, revoked), method="DELETE",
                                     headers={"Authorization": "Bearer " + emulator.api_key(1)})
    with urllib.request.urlopen(request, timeout=10):
        pass
    inventory = ansible.inventory(orgs=1, group_vars={"resolver_scim_tokens": [
        dict(entry, state="absent") if entry["name"] == "okta" else entry for entry in DECLARED_TOKENS]})
    emulator.clear_log()
    rc, _results, output = ansible.run_playbook("converge", inventory)
    assert rc == 0 and recap(output)[ORG]["changed"] > 0, output[-3000:]
    assert sorted(path.name for path in directory.iterdir()) == ["entra-id.json"]
    assert emulator.mutating() == []  # nothing left to revoke in Resolver
    assert "okta" not in live_by_org(emulator)[1]
    rc, _results, output = ansible.run_playbook("converge", inventory)
    assert rc == 0 and recap(output)[ORG]["changed"] == 0, output[-3000:]
