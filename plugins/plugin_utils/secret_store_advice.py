# -*- coding: utf-8 -*-
# Copyright: (c) 2026, resolver.scim contributors
# GNU General Public License v3.0+ (see LICENSES/GPL-3.0-or-later.txt or https://www.gnu.org/licenses/gpl-3.0.txt)
"""What to do about a secrets-manager store (hashi_vault, aws_secretsmanager) whose verb failed.

The rescue of every verb of these stores hands its ``ansible_failed_result`` here. The advice is chosen by words of
the error; the error goes along, with the store credentials masked (by the transport's ``redact``) in case an error
ever echoed them.
"""

import re

from ansible_collections.resolver.scim.plugins.module_utils._transport import redact
from ansible_collections.resolver.scim.plugins.plugin_utils.secret_store_records import NOT_A_RECORD

# The connection options (lookup keyword arguments) that are secrets.
SECRET_OPTIONS = ("token", "secret_id", "jwt", "secret_key", "session_token")
# Ansible's wrapping of a failed lookup, filter or argument names the internal task that failed, not what did.
ANSIBLE_WRAPPING = re.compile(r"^(Task failed: )?(Finalization of task args for '[^']+' failed: )?"
                              r"(Error while resolving value for '[^']+': The (lookup|filter) plugin '[^']+' failed: )?")
UNUSABLE = "the store cannot be used."
NO_VAULT_CREDENTIAL = (
    "no credential is set: give resolver_scim_hashi_vault_token or VAULT_TOKEN (an empty value counts as unset), or "
    "set resolver_scim_hashi_vault_auth_method=approle with resolver_scim_hashi_vault_role_id and "
    "resolver_scim_hashi_vault_secret_id (or ANSIBLE_HASHI_VAULT_ROLE_ID and ANSIBLE_HASHI_VAULT_SECRET_ID).")
VAULT_WHAT_TO_CHECK = {
    "approle": "the AppRole role_id and secret_id",
    "jwt": "the JWT (its issuer, audience, subject and expiry) against the role in resolver_scim_hashi_vault_role_id",
    "kubernetes": "the service account token against the role in resolver_scim_hashi_vault_role_id (its bound service "
                  "account names and namespaces) and the auth method's TokenReview access",
    "cert": "the client certificate against the certificate role",
    "aws_iam": "the AWS identity against the role's bound IAM principal",
}
# Per store, (words, advice) in order: the first rule whose every group of words has one in the (lower-cased) error
# gives the advice, filled in from the details of the failure.
ADVICE = {
    "hashi_vault": (
        ((("community.hashi_vault",), ("not found", "resolve")),
         "the community.hashi_vault collection is not installed (tested with 7.1.0); install it with `ansible-galaxy "
         "collection install community.hashi_vault`, or list it in your project's collections/requirements.yml (the "
         "resolver.scim execution environment has it)."),
        ((("required python library (hvac)",),),
         "the Python library hvac is missing (tested with 2.4.0); install it with `%(python)s -m pip install hvac`."),
        ((("invalidrequest writing",),),
         "Vault refused the write as invalid, which its check-and-set does when another run wrote the secret after "
         "this run read it: it was not overwritten (docs/stores.md, \"Compare and swap\")."),
        ((("sealed",),), "Vault is sealed; unseal it, nothing was issued."),
        ((("these are missing",), ("jwt",)),
         "there is no JWT to sign in with: the file %(jwt_file)s is missing, unreadable or empty; check "
         "resolver_scim_hashi_vault_jwt_file (kubernetes auth reads the pod's service account token unless it is "
         "set), resolver_scim_hashi_vault_jwt or ANSIBLE_HASHI_VAULT_JWT."),
        ((("permission denied", "forbidden", "invalid role", "invalid secret", "missing client token", "claim",
           "audience", "not authorized"),),
         "Vault refused the credentials (%(auth_method)s auth): check %(what_to_check)s and the policy."),
        ((("certificate", "ssl"),),
         "the TLS connection failed; give the CA that signed Vault's certificate in resolver_scim_hashi_vault_ca_cert "
         "(or VAULT_CACERT)."),
        ((("max retries", "connection", "timed out", "resolution"),),
         "Vault cannot be reached; check resolver_scim_hashi_vault_url (or VAULT_ADDR) and the network."),
    ),
    "aws_secretsmanager": (
        ((("amazon.aws",), ("not found", "resolve")),
         "the amazon.aws and community.aws collections are not installed (tested with 11.4.0 and 11.2.0); install "
         "them with `ansible-galaxy collection install amazon.aws community.aws`, or list them in your project's "
         "collections/requirements.yml (the resolver.scim execution environment has them)."),
        ((("community.aws",), ("couldn't resolve", "not found", "unable to load")),
         "the community.aws collection (its secretsmanager_secret module writes the secrets) is not installed "
         "(tested with 11.2.0); install it with `ansible-galaxy collection install community.aws`."),
        ((("boto3", "botocore"), ("import", "required")),
         "the Python libraries boto3 and botocore are missing or too old (tested with 1.44.8); install them with "
         "`%(python)s -m pip install boto3 botocore` (and in the modules' Python if it is another)."),
        ((("unable to locate credentials", "nocredentials"),),
         "no AWS credentials were found; give them the usual way (AWS_ACCESS_KEY_ID and AWS_SECRET_ACCESS_KEY, a "
         "profile, an instance or task role) or in resolver_scim_aws_access_key and resolver_scim_aws_secret_key."),
        ((("invalidclienttokenid", "unrecognizedclient", "signaturedoesnotmatch",
           "security token included in the request is invalid", "expiredtoken"),),
         "AWS refused the credentials (unknown, wrong or expired key; or a region not enabled for the account)."),
        ((("accessdenied", "not authorized"),),
         "AWS refused the request: the credentials' IAM policy does not allow it (docs/stores.md lists what the "
         "store needs)."),
        ((("must specify a region", "requires a region", "noregion"),),
         "no region is set; give resolver_scim_aws_region (or AWS_REGION)."),
        ((("certificate", "ssl"),), "the TLS connection failed; give the CA bundle in resolver_scim_aws_ca_bundle."),
        ((("region", "endpoint", "connect", "(500)", "max retries"),),
         "Secrets Manager cannot be reached in this region; check resolver_scim_aws_region (or AWS_REGION) and "
         "resolver_scim_aws_endpoint_url."),
    ),
}


def store_error_advice(failed_result, store, connection, python, auth_method="token", jwt_file="",
                       service_account_token=""):
    """What to do about the failure ``failed_result`` of a verb of ``store``, then the error, secrets masked."""
    error = failed_error(failed_result, connection)
    if failed_result.get("assertion") is not None or error.startswith(NOT_A_RECORD):
        return error  # the store's own checks say what to do
    details = {"python": _python_in(error) or python, "auth_method": auth_method,
               "what_to_check": VAULT_WHAT_TO_CHECK.get(auth_method, "resolver_scim_hashi_vault_token / VAULT_TOKEN"),
               "jwt_file": jwt_file or (service_account_token if auth_method == "kubernetes" else "none")}
    return "%s Error: %s" % (_advice(store, error, connection) % details, error)


def failed_error(failed_result, connection):
    """The error of a failed task (a loop's is in its failed items), unwrapped and with the store's secrets masked."""
    items = [str(item.get("msg")) for item in failed_result.get("results") or [] if item.get("failed")]
    messages = _unique(items) or [str(failed_result.get("msg", "unknown error"))]
    text = "; ".join(ANSIBLE_WRAPPING.sub("", message, count=1) for message in messages)
    return redact(text, [connection.get(option) for option in SECRET_OPTIONS])


def _advice(store, error, connection):
    # community.hashi_vault reads VAULT_TOKEN itself, even when empty: say what is missing, not what Vault answered
    # to an empty token.
    if store == "hashi_vault" and connection.get("auth_method", "token") == "token" and "token" not in connection:
        return NO_VAULT_CREDENTIAL
    lowered = error.lower()
    for groups, advice in ADVICE[store]:
        if all(any(word in lowered for word in group) for group in groups):
            return advice
    return UNUSABLE


def _python_in(error):
    """The Python that community.hashi_vault says lacks hvac (it may be another than the playbook's)."""
    found = re.search(r"Python (\S+)\. Please", error)
    return found.group(1) if found else None


def _unique(messages):
    return list(dict.fromkeys(messages))
