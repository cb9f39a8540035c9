# Copyright: (c) 2026, resolver.scim contributors
# GNU General Public License v3.0+ (see LICENSES/GPL-3.0-or-later.txt or https://www.gnu.org/licenses/gpl-3.0.txt)
"""Input messages quote a value back only when it has the shape the option asks for (issue 20 item 6): a secret
pasted into the wrong field (a client secret as tenant_id, a token as an email domain) never reaches a message."""

import pytest

from ansible_collections.resolver.scim.plugins.module_utils._entra import check_connection, check_job_id, check_object_id
from ansible_collections.resolver.scim.plugins.module_utils._errors import InputError
from ansible_collections.resolver.scim.plugins.module_utils._token_entries import validate_entries
from ansible_collections.resolver.scim.plugins.module_utils._tokens import normalize_domains

# Shaped like an Entra client secret and a Resolver token: what gets pasted into the wrong field.
CLIENT_SECRET = "Xy8Q~SECRETvalue.with-Dots_0123456789abcd"
TOKEN = "rk0Misplaced0Token0Value"
GUID = "0c1f6a2e-5b8a-4d3c-9f7e-2a1b3c4d5e6f"


def entra_connection(**changes):
    options = dict(tenant_id="contoso.onmicrosoft.com", client_id=GUID, client_secret="s", timeout=30, ca_path=None,
                   authority_url="https://login.microsoftonline.com", graph_url="https://graph.microsoft.com")
    options.update(changes)
    return options


def message_of(call, *args, **kwargs):
    with pytest.raises(InputError) as caught:
        call(*args, **kwargs)
    return str(caught.value)


@pytest.mark.parametrize("secret", [CLIENT_SECRET, "secret with/a slash"])
@pytest.mark.parametrize("option", ["tenant_id", "client_id", "authority_url", "graph_url", "ca_path"])
def test_a_secret_in_an_entra_connection_option_is_not_quoted(option, secret):
    message = message_of(check_connection, entra_connection(**{option: secret}))
    assert message.startswith(option) and "not shown" in message
    assert secret not in message and secret[:8] not in message


@pytest.mark.parametrize("url", ["https://user:%s@graph.microsoft.com" % TOKEN,
                                 "https://graph.microsoft.com/?key=%s" % TOKEN])
def test_a_url_carrying_a_credential_is_not_quoted(url):
    message = message_of(check_connection, entra_connection(graph_url=url))
    assert "without credentials, query or fragment" in message and TOKEN not in message


@pytest.mark.parametrize("check", [lambda value: check_object_id(value, "service_principal_id", "the app"),
                                   check_job_id])
def test_a_secret_as_an_id_is_not_quoted(check):
    message = message_of(check, CLIENT_SECRET)
    assert "not shown" in message and CLIENT_SECRET not in message and "Xy8Q" not in message


@pytest.mark.parametrize("changes, quoted", [
    ({"authority_url": "login.microsoftonline.us"}, "authority_url 'login.microsoftonline.us' is not an http(s) URL"),
    ({"graph_url": "http://graph.microsoft.us"}, "graph_url 'http://graph.microsoft.us' uses plain http://"),
    ({"ca_path": "/etc/pki/missing-ca.pem"}, "ca_path '/etc/pki/missing-ca.pem' does not exist"),
])
def test_a_value_of_the_right_shape_is_quoted(changes, quoted):
    assert quoted in message_of(check_connection, entra_connection(**changes))


@pytest.mark.parametrize("domains, expected", [
    ([TOKEN], "email_domains value (its value is not shown"),
    (["%s acme.com" % TOKEN], "contains a space"),
    ([{"value": TOKEN}], "got a dict in it"),
    (["acme"], "is not a valid domain name"),
])
def test_a_secret_as_an_email_domain_is_not_quoted(domains, expected):
    message = message_of(normalize_domains, domains)
    assert expected in message and TOKEN not in message and "'acme'" not in message


def test_a_domain_shaped_value_is_quoted():
    assert "value 'https://acme.com' is not a valid domain name" in message_of(normalize_domains, ["https://acme.com"])
    assert "value 'admin@acme.com' contains '@': give the domain only, for example 'acme.com'" in message_of(
        normalize_domains, ["admin@acme.com"])


@pytest.mark.parametrize("entry", [TOKEN, {"name": "okta", "email_domains": TOKEN},
                                   {"name": "okta", "email_domains": ["acme.com"], "rotate_before_days": TOKEN},
                                   {"name": "okta", "email_domains": ["acme.com"], "entra": TOKEN},
                                   {"name": "okta", "email_domains": ["acme.com"], "handover_tasks": [TOKEN]}])
def test_a_secret_in_a_declared_entry_is_not_quoted(entry):
    message = message_of(validate_entries, [entry], "resolver_scim_tokens")
    assert message.startswith("resolver_scim_tokens[0]") and TOKEN not in message
