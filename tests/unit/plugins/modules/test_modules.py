# Copyright: (c) 2026, resolver.scim contributors
# GNU General Public License v3.0+ (see LICENSES/GPL-3.0-or-later.txt or https://www.gnu.org/licenses/gpl-3.0.txt)
"""Module level: each module's argument spec as Ansible validates it, and run() over a fake Resolver API."""

import datetime

import pytest
from ansible.module_utils.common.arg_spec import ArgumentSpecValidator

from ansible_collections.resolver.scim.plugins.module_utils._errors import InputError, TokenRunFailed
from ansible_collections.resolver.scim.plugins.module_utils._module import CONNECTION_ARGUMENT_SPEC
from ansible_collections.resolver.scim.plugins.module_utils._tokens import ScimToken, utcnow
from ansible_collections.resolver.scim.plugins.modules import scim_token, scim_token_plan, scim_token_revoke


def validated(module, **params):
    spec = dict(CONNECTION_ARGUMENT_SPEC)
    spec.update(module.ARGUMENT_SPEC)
    result = ArgumentSpecValidator(spec).validate(dict(params, url="https://acme.resolver.com", api_key="k"))
    return result


class FakeModule:
    def __init__(self, module, check_mode=False, **params):
        result = validated(module, **params)
        assert not result.error_messages, result.error_messages
        self.params = result.validated_parameters
        self.check_mode = check_mode
        self.warnings = []

    def warn(self, message):
        self.warnings.append(message)


class FakeClient:
    base_url = "https://acme.resolver.com/api"


class FakeApi:
    """Stands in for ResolverApi (not for HTTP): an org's tokens, and what was asked of it."""

    def __init__(self, tokens, admin=True):
        self.tokens = {t.id: t for t in tokens}
        self.client = FakeClient()
        self.admin = admin
        self.calls = []

    def whoami(self):
        return {"org_id": 12}

    def membership_facts(self):
        self.calls.append("membership")
        return {"user_id": 56, "org_id": 12, "org_name": "Acme", "email": "svc@acme.com", "org_membership_id": 34,
                "is_admin": self.admin}

    def list_tokens(self):
        self.calls.append("list")
        return list(self.tokens.values())

    def delete_token(self, token_id):
        self.calls.append(("delete", token_id))
        return self.tokens.pop(token_id, None) is not None


def token(id, days_left, name="okta"):  # pylint: disable=redefined-builtin
    expires = utcnow() + datetime.timedelta(days=days_left)
    return ScimToken(id, name, 34, ("acme.com",), expires - datetime.timedelta(days=730), expires)


def test_token_entries_are_validated_by_ansible_from_the_one_spec():
    bad = validated(scim_token_plan, tokens=[{"name": "okta", "state": "gone"}])
    assert "value of state must be one of: present, absent, rotated, got: gone found in tokens" in \
        " ".join(bad.error_messages)
    unknown = validated(scim_token_plan, tokens=[{"name": "okta", "domains": ["acme.com"]}])
    assert "tokens.domains" in " ".join(unknown.error_messages)
    good = validated(scim_token_plan, tokens=[{"name": "okta", "email_domains": ["acme.com"]}])
    assert good.validated_parameters["tokens"][0]["rotate_before_days"] == 30
    assert validated(scim_token, name="okta", email_domains=["acme.com"]).validated_parameters["previous"] == "revoke"


def test_plan_run_reads_once_and_uses_only_this_orgs_store_records():
    api = FakeApi([token(1, 600)])
    module = FakeModule(scim_token_plan, tokens=[{"name": "okta", "email_domains": ["acme.com"]}], require_admin=True,
                        store_records=[{"name": "okta", "token_id": 1, "org_id": 12},
                                       {"name": "okta", "token_id": 9, "org_id": 99, "source": "other.json"}])
    changed, result, diff = scim_token_plan.run(module, api)
    assert (changed, diff, result["actions"]) == (False, None, [])
    assert api.calls == ["membership", "list"]
    assert result["store_problems"] and "other.json belongs to org 99" in module.warnings[0]
    assert result["api_url"] == "https://acme.resolver.com/api" and result["membership"]["org_id"] == 12


def test_plan_run_refuses_a_non_admin_and_an_undeclared_rotation():
    module = FakeModule(scim_token_plan, tokens=[{"name": "okta", "email_domains": ["acme.com"]}], require_admin=True)
    with pytest.raises(Exception, match="is not an Administrator"):
        scim_token_plan.run(module, FakeApi([], admin=False))
    module = FakeModule(scim_token_plan, tokens=[{"name": "okta", "email_domains": ["acme.com"]}], rotate=["entra"])
    with pytest.raises(InputError, match="rotate names entra"):
        scim_token_plan.run(module, FakeApi([]))


def test_revoke_run_revokes_listed_ids_in_one_read_and_guards_names():
    api = FakeApi([token(1, 10), token(2, 600, "legacy"), token(3, 600, "entra")])
    changed, result, diff = scim_token_revoke.run(FakeModule(scim_token_revoke, token_ids=[1, 2, 7]), api)
    assert changed and result == {"revoked": [1, 2], "already_absent": [7]}
    assert api.calls == ["list", ("delete", 1), ("delete", 2)]
    assert [t["id"] for t in diff["after"]["tokens"]] == []
    with pytest.raises(InputError, match="3 \\(entra\\)"):
        scim_token_revoke.run(FakeModule(scim_token_revoke, token_ids=[3], names=["okta"]), api)
    assert 3 in api.tokens


def test_revoke_run_in_check_mode_sends_nothing():
    api = FakeApi([token(1, 10)])
    changed, result, _diff = scim_token_revoke.run(FakeModule(scim_token_revoke, check_mode=True, token_ids=[1]), api)
    assert changed and result["revoked"] == [1] and api.calls == ["list"] and 1 in api.tokens
    assert scim_token_revoke.run(FakeModule(scim_token_revoke, token_ids=[]), api) == (
        False, {"revoked": [], "already_absent": []}, None)


def test_scim_token_run_in_check_mode_decides_without_creating():
    api = FakeApi([token(1, 10)])
    module = FakeModule(scim_token, check_mode=True, name="okta", email_domains=["acme.com"])
    changed, result, diff = scim_token.run(module, api)
    assert changed and result["action"] == "renewed" and "token" not in result
    assert api.calls == ["list"] and diff["after"]["tokens"][-1]["id"] == "(new)"


def test_plan_run_fails_a_refused_plan_and_keeps_the_plan_in_the_failure():
    declared = [{"name": "okta", "email_domains": ["acme.com"]}]
    api = FakeApi([token(1, 600)])
    module = FakeModule(scim_token_plan, check_mode=True, tokens=declared, store_records=[], store_org_known=False,
                        store_location="file store /srv/scim/acme", option_prefix="resolver_scim_")
    with pytest.raises(TokenRunFailed) as failed:
        scim_token_plan.run(module, api)
    assert failed.value.message.startswith("The token store (file store /srv/scim/acme) has never been used")
    assert "resolver_scim_heal_unstored=false" in failed.value.message
    result = failed.value.result
    assert result["refused"] == scim_token_plan.REFUSED_SEE_MSG and result["actions"] == []
    assert [e["name"] for e in result["drift"]["store_unknown"]] == ["okta"] and result["drifted"]
    assert api.calls == ["list"]
    # Confirmed as new, the same store heals; a store that knows the org is planned as before, without "refused".
    for option in ({"store_org_known": False, "store_is_new": True}, {"store_org_known": True}):
        params = dict(tokens=declared, store_records=[], **option)
        changed, result, _diff = scim_token_plan.run(FakeModule(scim_token_plan, **params), FakeApi([token(1, 600)]))
        assert not changed and [e["action"] for e in result["actions"]] == ["healed"] and "refused" not in result
