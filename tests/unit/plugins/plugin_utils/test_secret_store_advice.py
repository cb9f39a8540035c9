# Copyright: (c) 2026, resolver.scim contributors
# GNU General Public License v3.0+ (see LICENSES/GPL-3.0-or-later.txt or https://www.gnu.org/licenses/gpl-3.0.txt)
"""What a failed verb of a secrets-manager store advises, per class of error, and that no store credential in an
error reaches the message."""

import pytest

from ansible_collections.resolver.scim.plugins.plugin_utils.secret_store_advice import store_error_advice

VAULT_TOKEN = "hvs.SECRET-vault-token"
AWS_SECRET_KEY = "SECRET/aws+secret-key"
VAULT = {"url": "https://vault.example:8200", "auth_method": "token", "token": VAULT_TOKEN}
AWS = {"region": "eu-west-1", "access_key": "AKIAEXAMPLE", "secret_key": AWS_SECRET_KEY,
       "session_token": "SECRET-session"}
PYTHON = "/usr/bin/python3"
WRAPPED = ("Task failed: Finalization of task args for 'ansible.builtin.set_fact' failed: Error while resolving value "
           "for 'scim_tokens_store_records': The lookup plugin 'community.hashi_vault.vault_kv2_get' failed: ")


def vault_advice(msg, connection=None, **options):
    return store_error_advice({"failed": True, "msg": msg}, "hashi_vault", connection or VAULT, PYTHON, **options)


def aws_advice(msg):
    return store_error_advice({"failed": True, "msg": msg}, "aws_secretsmanager", AWS, PYTHON)


@pytest.mark.parametrize("error, advice", [
    ("couldn't resolve module/action 'community.hashi_vault.vault_kv2_write'",
     "the community.hashi_vault collection is not installed (tested with 7.1.0); install it with `ansible-galaxy "
     "collection install community.hashi_vault`"),
    ("Please install the required Python library (hvac)",
     "the Python library hvac is missing (tested with 2.4.0); install it with `/usr/bin/python3 -m pip install hvac`."),
    ("This module requires the required python library (hvac) on localhost's Python /opt/venv/bin/python. Please "
     "read the module documentation", "the Python library hvac is missing (tested with 2.4.0); install it with "
                                      "`/opt/venv/bin/python -m pip install hvac`."),
    ("InvalidRequest writing to path 'secret/data/resolver-scim/acme/okta'",
     "Vault refused the write as invalid, which its check-and-set does"),
    ("Vault is sealed", "Vault is sealed; unseal it, nothing was issued."),
    ("Authentication failed: these are missing: jwt",
     "there is no JWT to sign in with: the file none is missing, unreadable or empty"),
    ("permission denied", "Vault refused the credentials (token auth): check resolver_scim_hashi_vault_token / "
                          "VAULT_TOKEN and the policy."),
    ("[SSL: CERTIFICATE_VERIFY_FAILED] certificate verify failed",
     "the TLS connection failed; give the CA that signed Vault's certificate in resolver_scim_hashi_vault_ca_cert"),
    ("HTTPConnectionPool(host='127.0.0.1', port=1): Max retries exceeded with url",
     "Vault cannot be reached; check resolver_scim_hashi_vault_url (or VAULT_ADDR) and the network."),
    ("something new", "the store cannot be used."),
], ids=lambda value: value[:30])
def test_each_vault_error_gets_its_advice_then_the_error(error, advice):
    message = vault_advice(WRAPPED + error)
    assert message.startswith(advice) and message.endswith(" Error: " + error)


def test_no_vault_token_says_what_is_missing_whatever_vault_answered():
    message = vault_advice("permission denied", connection={"url": VAULT["url"]})
    assert message.startswith("no credential is set: give resolver_scim_hashi_vault_token or VAULT_TOKEN")


@pytest.mark.parametrize("auth_method, checks", [
    ("approle", "the AppRole role_id and secret_id"), ("jwt", "the JWT (its issuer, audience, subject and expiry)"),
    ("kubernetes", "the service account token against the role"), ("cert", "the client certificate"),
    ("aws_iam", "the AWS identity against the role's bound IAM principal"),
])
def test_refused_vault_credentials_name_what_to_check_per_auth_method(auth_method, checks):
    message = vault_advice("invalid role ID", connection={"url": VAULT["url"], "auth_method": auth_method},
                           auth_method=auth_method)
    assert message.startswith("Vault refused the credentials (%s auth): check %s" % (auth_method, checks))


@pytest.mark.parametrize("auth_method, jwt_file, named", [
    ("jwt", "/run/jwt", "/run/jwt"), ("kubernetes", "", "/var/run/sa-token"), ("jwt", "", "none")])
def test_a_missing_jwt_names_the_file_it_came_from(auth_method, jwt_file, named):
    message = vault_advice("these are missing: jwt", connection={"auth_method": "jwt"}, auth_method=auth_method,
                           jwt_file=jwt_file, service_account_token="/var/run/sa-token")
    assert message.startswith("there is no JWT to sign in with: the file %s is missing" % named)


@pytest.mark.parametrize("error, advice", [
    ("The lookup plugin 'amazon.aws.secretsmanager_secret' was not found",
     "the amazon.aws and community.aws collections are not installed (tested with 11.4.0 and 11.2.0)"),
    ("couldn't resolve module/action 'community.aws.secretsmanager_secret'",
     "the community.aws collection (its secretsmanager_secret module writes the secrets) is not installed"),
    ("Failed to import the required Python library (botocore and boto3)",
     "the Python libraries boto3 and botocore are missing or too old (tested with 1.44.8); install them with "
     "`/usr/bin/python3 -m pip install boto3 botocore`"),
    ("Unable to locate credentials", "no AWS credentials were found; give them the usual way"),
    ("An error occurred (UnrecognizedClientException) when calling the ListSecrets operation",
     "AWS refused the credentials (unknown, wrong or expired key; or a region not enabled for the account)."),
    ("An error occurred (AccessDeniedException) when calling the PutSecretValue operation",
     "AWS refused the request: the credentials' IAM policy does not allow it"),
    ("You must specify a region.", "no region is set; give resolver_scim_aws_region (or AWS_REGION)."),
    ("SSL validation failed", "the TLS connection failed; give the CA bundle in resolver_scim_aws_ca_bundle."),
    ('Could not connect to the endpoint URL: "https://secretsmanager.us-nowhere-1.amazonaws.com/"',
     "Secrets Manager cannot be reached in this region; check resolver_scim_aws_region"),
    ("something new", "the store cannot be used."),
], ids=lambda value: value[:30])
def test_each_secrets_manager_error_gets_its_advice_then_the_error(error, advice):
    message = aws_advice(WRAPPED.replace("community.hashi_vault.vault_kv2_get", "amazon.aws.secretsmanager_secret")
                         + error)
    assert message.startswith(advice) and message.endswith(" Error: " + error)


def test_the_stores_own_checks_explain_themselves():
    failed = {"failed": True, "assertion": "x | length == 0", "msg": "These credentials may not list secret/x/"}
    assert store_error_advice(failed, "hashi_vault", VAULT, PYTHON) == "These credentials may not list secret/x/"


def test_a_refused_record_explains_itself():
    refusal = "Not a resolver.scim token record (needs …): vault kv2 secret/x. Fix or remove it in Vault."
    wrapped = WRAPPED.replace("lookup plugin 'community.hashi_vault.vault_kv2_get'",
                              "filter plugin 'resolver.scim.store_records'")
    assert vault_advice(wrapped + refusal) == refusal


def test_a_loops_error_is_that_of_its_failed_items_once_each():
    failed = {"failed": True, "msg": "One or more items failed",
              "results": [{"failed": True, "msg": "Vault is sealed"}, {"failed": False, "msg": "ok"},
                          {"failed": True, "msg": "Vault is sealed"}, {"failed": True, "msg": "permission denied"}]}
    message = store_error_advice(failed, "hashi_vault", VAULT, PYTHON)
    assert message.endswith(" Error: Vault is sealed; permission denied")


def test_a_failure_without_a_message():
    assert vault_advice(None).endswith("Error: None")
    assert store_error_advice({"failed": True}, "hashi_vault", VAULT, PYTHON).endswith("Error: unknown error")


@pytest.mark.parametrize("connection, store, secret", [
    (VAULT, "hashi_vault", VAULT_TOKEN),
    ({"auth_method": "approle", "role_id": "r", "secret_id": "SECRET-id"}, "hashi_vault", "SECRET-id"),
    ({"auth_method": "jwt", "jwt": "eyJ.SECRET.jwt"}, "hashi_vault", "eyJ.SECRET.jwt"),
    (AWS, "aws_secretsmanager", AWS_SECRET_KEY),
    (AWS, "aws_secretsmanager", "SECRET-session"),
])
def test_a_store_credential_in_an_error_is_masked(connection, store, secret):
    errors = ["permission denied for %s" % secret, "permission denied for %r" % {"token": secret}]
    for error in errors:
        message = store_error_advice({"failed": True, "msg": error}, store, connection, PYTHON)
        assert "SECRET" not in message and "********" in message
