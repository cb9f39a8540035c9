# Copyright: (c) 2026, resolver.scim contributors
# GNU General Public License v3.0+ (see LICENSES/GPL-3.0-or-later.txt or https://www.gnu.org/licenses/gpl-3.0.txt)
"""The records of the secrets-manager stores, from what their lookups return: metadata only, and a secret the role did
not write refused by its location, never its content."""

import json

import pytest
from ansible.errors import AnsibleFilterError

from ansible_collections.resolver.scim.plugins.plugin_utils.secret_store_records import store_records

VALUE = "scim-SECRET-value"
VAULT = dict(location="vault kv2 secret/resolver-scim/acme/{key}", fix_in="Vault")
PREFIX = "resolver-scim/acme/"
AWS = dict(location="aws secretsmanager resolver-scim/acme/{key} (us-east-1)", fix_in="Secrets Manager",
           prefix=PREFIX, skip=[PREFIX + ".write-check"], json_text=True)


def secret(**fields):
    return dict({"name": "okta", "token_id": 7, "org_id": 12, "email_domains": ["acme.com"],
                 "expires": "2028-01-01T00:00:00Z", "status": "current", "token": VALUE}, **fields)


def refusal(secrets, **options):
    with pytest.raises(AnsibleFilterError) as raised:
        store_records(secrets, **options)
    assert VALUE not in str(raised.value)
    return str(raised.value)


def test_a_vault_secret_becomes_its_record_without_the_value():
    records = store_records({"okta": secret(idp_token_id=7, idp_target="okta-app")}, **VAULT)
    assert records == [{"name": "okta", "token_id": 7, "org_id": 12, "email_domains": ["acme.com"],
                        "expires": "2028-01-01T00:00:00Z", "status": "current", "idp_token_id": 7,
                        "idp_target": "okta-app", "source": "vault kv2 secret/resolver-scim/acme/okta", "key": "okta"}]


def test_missing_optional_fields_take_their_defaults():
    minimal = {"name": "okta", "token_id": 7}
    assert store_records({"okta": minimal}, **VAULT)[0] == {
        "name": "okta", "token_id": 7, "org_id": None, "email_domains": [], "expires": None, "status": "current",
        "source": "vault kv2 secret/resolver-scim/acme/okta", "key": "okta"}


def test_records_come_in_key_order():
    secrets = {"b": secret(name="b"), "a": secret(name="a")}
    assert [record["key"] for record in store_records(secrets, **VAULT)] == ["a", "b"]


def test_a_pending_record_is_a_record():
    assert store_records({"okta@pending": secret(status="pending")}, **VAULT)[0]["status"] == "pending"


@pytest.mark.parametrize("fields", [
    {"name": None}, {"name": ""}, {"name": 7}, {"token_id": None}, {"status": "revoked"}, {"status": None},
    {"email_domains": "acme.com"}, {"email_domains": {"acme.com": True}},
], ids=repr)
def test_a_secret_the_role_did_not_write_is_refused_by_its_location(fields):
    message = refusal({"good": secret(), "hand-made": secret(**fields)}, **VAULT)
    assert message == ("Not a resolver.scim token record (needs name, token_id, email_domains as a list and status "
                       "current or pending): vault kv2 secret/resolver-scim/acme/hand-made. Fix or remove it in Vault.")


def test_a_vault_secret_that_is_not_a_mapping_is_refused():
    assert "acme/odd." in refusal({"odd": VALUE}, **VAULT)


def test_every_refused_secret_is_named():
    message = refusal({"b": {"note": VALUE}, "a": {}, "ok": secret()}, **VAULT)
    assert "vault kv2 secret/resolver-scim/acme/a, vault kv2 secret/resolver-scim/acme/b." in message


def test_a_secrets_manager_secret_is_json_text():
    records = store_records({PREFIX + "okta": json.dumps(secret())}, **AWS)
    assert [(r["key"], r["source"]) for r in records] == [
        ("okta", "aws secretsmanager resolver-scim/acme/okta (us-east-1)")]


@pytest.mark.parametrize("text", ["not JSON " + VALUE, '{"token": "%s"' % VALUE, json.dumps([VALUE]),
                                  json.dumps(VALUE), ""], ids=repr)
def test_a_secrets_manager_secret_that_is_not_a_json_record_is_refused(text):
    message = refusal({PREFIX + "hand-made": text}, **AWS)
    assert message == ("Not a resolver.scim token record (needs JSON with name, token_id, email_domains as a list and "
                       "status current or pending): aws secretsmanager resolver-scim/acme/hand-made (us-east-1). Fix or "
                       "remove it in Secrets Manager.")


def test_only_the_orgs_own_names_are_read():
    # The name filter of ListSecrets matches prefixes case-insensitively, and lists deeper names too.
    secrets = {PREFIX + "okta": json.dumps(secret()), PREFIX + ".write-check": "{}",
               "Resolver-SCIM/ACME/x": "not JSON", PREFIX + "deeper/x": "not JSON", "resolver-scim/acme-2/x": "{}"}
    assert [record["key"] for record in store_records(secrets, **AWS)] == ["okta"]


def test_nothing_stored_is_no_records():
    assert store_records({}, **VAULT) == [] and store_records({}, **AWS) == []
