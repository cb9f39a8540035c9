# Copyright: (c) 2026, resolver.scim contributors
# GNU General Public License v3.0+ (see LICENSES/GPL-3.0-or-later.txt or https://www.gnu.org/licenses/gpl-3.0.txt)
"""The Graph client over real HTTP against the Entra ID stand-in: token, retries, error mapping, redaction, TLS."""

import ssl

import pytest
import trustme

from ansible_collections.resolver.scim.plugins.module_utils._transport import REDACTED, RetryPolicy
from ansible_collections.resolver.scim.plugins.module_utils._entra import GraphClient, find_scim_job
from ansible_collections.resolver.scim.plugins.module_utils._errors import CredentialsRejected, EntraError, InputError

from conftest import Emulator, start_server  # pylint: disable=wrong-import-order


class FakeTime:
    """A monotonic clock and sleep that tests can move; requests still go over real HTTP."""

    def __init__(self):
        self.now = 1000.0
        self.sleeps = []

    def monotonic(self):
        return self.now

    def sleep(self, seconds):
        self.sleeps.append(seconds)
        self.now += seconds


def make_client(emulator, clock=None, app="provisioner", **changes):
    options = emulator.entra_connection(app)
    options.update(changes)
    if clock:
        options.update(sleep=clock.sleep, monotonic=clock.monotonic)
    return GraphClient(**options)


def calls(emulator):
    return [(r["method"], r["path"].rsplit("/", 1)[-1], r["status"]) for r in emulator.log()
            if r["path"].startswith("/_entra/")]


def credentials(emulator, token):
    return [("BaseAddress", emulator.base + "/scim/"), ("SecretToken", token["token"])]


def test_one_token_for_every_call_and_a_full_handover(emulator):
    sp = emulator.service_principal()
    token = emulator.issue_token()
    client = make_client(emulator)
    job = find_scim_job(client, sp["id"])
    assert job == {"id": sp["jobs"][0]["id"], "template_id": "scim", "status": "Active"}
    client.validate_credentials(sp["id"], job["id"], "validate new credentials", credentials(emulator, token))
    client.set_secrets(sp["id"], emulator.base + "/scim/", token["token"])
    client.validate_credentials(sp["id"], job["id"], "validate saved credentials")
    assert client.job(sp["id"], job["id"])["status"] == "Active"
    assert [c[0] for c in calls(emulator)].count("POST") == 3  # one token request, two tests
    # msal's tenant discovery, then the token (docs/api-assumptions.md)
    assert calls(emulator)[:2] == [("GET", "openid-configuration", 200), ("POST", "token", 200)]
    saved = client.request("GET", "servicePrincipals/%s/synchronization/secrets" % sp["id"], "read back")
    assert {s["key"]: s["value"] for s in saved["value"]} == {"BaseAddress": emulator.base + "/scim/",
                                                              "SecretToken": "*"}


def test_retry_after_is_honoured_for_graph_and_the_token_endpoint(emulator):
    sp = emulator.service_principal()
    token = emulator.issue_token()
    emulator.faults({"method": "POST", "path": "/oauth2/v2.0/token$", "count": 1, "status": 503, "retry_after": 3},
                    {"method": "PUT", "path": "/secrets$", "count": 2, "status": 429, "retry_after": 2})
    clock = FakeTime()
    make_client(emulator, clock).set_secrets(sp["id"], emulator.base + "/scim/", token["token"])
    assert clock.sleeps == [3.0, 2.0, 2.0]
    assert calls(emulator) == [("GET", "openid-configuration", 200), ("POST", "token", 503), ("POST", "token", 200),
                               ("PUT", "secrets", 429),
                               ("PUT", "secrets", 429), ("PUT", "secrets", 204)]
    assert emulator.entra("GET", "service_principals/%s/can_provision" % sp["id"])["can_provision"] is True


def test_throttling_beyond_the_budget_fails_with_graphs_code(emulator):
    sp = emulator.service_principal()
    emulator.faults({"method": "GET", "path": "/jobs$", "count": 50, "status": 429, "retry_after": 1})
    clock = FakeTime()
    with pytest.raises(EntraError) as caught:
        find_scim_job(make_client(emulator, clock), sp["id"])
    assert caught.value.status == 429 and len(clock.sleeps) == 4  # five attempts
    assert caught.value.message.startswith("find the SCIM job: Graph refused GET servicePrincipals/")
    assert "(HTTP 429 TooManyRequests: injected fault). Graph kept throttling within the retry budget of 5 " \
           "attempts / 60s" in caught.value.message


def test_a_long_retry_after_is_not_waited_beyond_the_budget(emulator):
    emulator.faults({"method": "GET", "path": "/jobs$", "count": 1, "status": 503, "retry_after": 120})
    clock = FakeTime()
    with pytest.raises(EntraError) as caught:
        make_client(emulator, clock).jobs(emulator.service_principal()["id"])
    assert caught.value.status == 503 and clock.sleeps == []
    assert "Graph had a server error that retries did not clear" in caught.value.message


def test_dropped_connections_are_retried_then_reported_without_details(emulator):
    sp = emulator.service_principal()
    emulator.faults({"method": "GET", "path": "/jobs$", "count": 1, "drop": True})
    clock = FakeTime()
    client = make_client(emulator, clock)
    assert len(client.jobs(sp["id"])) == 1 and len(clock.sleeps) == 1
    emulator.faults({"method": "GET", "path": "/jobs$", "count": 10, "drop": True})
    with pytest.raises(EntraError) as caught:
        client.jobs(sp["id"])
    assert caught.value.message == ("find the SCIM job: %s did not answer after 5 attempt(s) (connection closed by "
                                    "the server)." % emulator.base.split("://")[1])


def test_permission_and_not_found_messages(emulator):
    sp = emulator.service_principal()
    client = make_client(emulator, app="no-permission")
    with pytest.raises(EntraError) as caught:
        client.jobs(sp["id"])
    assert caught.value.status == 403 and caught.value.code == "Authorization_RequestDenied"
    assert "Synchronization.ReadWrite.All, or Application.ReadWrite.OwnedBy" in caught.value.message
    assert "(client_id %s)" % client.client_id in caught.value.message
    client = make_client(emulator)
    with pytest.raises(EntraError) as caught:
        client.jobs("00000000-0000-0000-0000-000000000000")
    assert "HTTP 404 Request_ResourceNotFound" in caught.value.message and "Object ID" in caught.value.message
    with pytest.raises(EntraError) as caught:
        client.job(sp["id"], "scim.nope")
    assert "The job or the service principal does not exist: leave job_id out" in caught.value.message


def test_unauthorized_graph_answer_points_at_the_cloud(emulator):
    emulator.faults({"method": "GET", "path": "/jobs$", "count": 1, "status": 401})
    with pytest.raises(EntraError) as caught:
        make_client(emulator).jobs(emulator.service_principal()["id"])
    assert "HTTP 401 InvalidAuthenticationToken" in caught.value.message
    assert "check that graph_url (%s/_entra/graph) belongs to the same cloud" % emulator.base in caught.value.message


@pytest.mark.parametrize("failure_status", [400, 409])
def test_credentials_that_do_not_work_are_a_typed_rejection(emulator, failure_status):
    emulator.reset(entra_validate_failure_status=failure_status)
    sp = emulator.service_principal()
    token = emulator.issue_token()
    emulator.control("POST", "age_tokens", {"days": 800, "ids": [token["id"]]})
    client = make_client(emulator)
    with pytest.raises(CredentialsRejected) as caught:
        client.validate_credentials(sp["id"], sp["jobs"][0]["id"], "validate new credentials",
                                    credentials(emulator, token))
    assert caught.value.status == failure_status
    assert caught.value.code == "SystemForCrossDomainIdentityManagementCredentialValidationUnauthorized"
    assert caught.value.detail == "Error validating credentials. Details: the SCIM endpoint answered HTTP 401: the " \
                                  "token was refused."
    # a permission problem on the same call is not a rejection of the credentials
    emulator.faults({"method": "POST", "path": "/validateCredentials$", "count": 1, "status": 403})
    with pytest.raises(EntraError) as caught:
        client.validate_credentials(sp["id"], sp["jobs"][0]["id"], "validate saved credentials")
    assert not isinstance(caught.value, CredentialsRejected) and caught.value.status == 403


def test_every_secret_is_redacted_from_what_a_service_echoes(emulator):
    """A service that echoes the client secret or the SCIM token in an error: neither reaches the message."""
    sp = emulator.service_principal()
    token = emulator.issue_token()
    connection = emulator.entra_connection()
    client = make_client(emulator)
    client.add_secret(token["token"])
    emulator.faults({"method": "PUT", "path": "/secrets$", "count": 1, "status": 400,
                     "message": "bad value %s for client %s" % (token["token"], connection["client_secret"])})
    with pytest.raises(EntraError) as caught:
        client.set_secrets(sp["id"], emulator.base + "/scim/", token["token"])
    assert caught.value.message.count(REDACTED) == 2 and caught.value.detail.count(REDACTED) == 2
    assert token["token"] not in caught.value.message and connection["client_secret"] not in caught.value.message
    access_token = [s for s in emulator.secrets() if s.startswith("eyJ0eXAi.")][-1]
    assert client.redact("Bearer %s" % access_token) == "Bearer " + REDACTED
    emulator.faults({"method": "POST", "path": "/oauth2/v2.0/token$", "count": 1, "status": 400,
                     "message": "secret %s refused" % connection["client_secret"]})
    with pytest.raises(EntraError) as caught:
        make_client(emulator).access_token()
    assert connection["client_secret"] not in caught.value.message and REDACTED in caught.value.message


@pytest.mark.parametrize("changes, expected", [
    ({"tenant_id": ""}, "tenant_id is required"),
    ({"client_id": "not-a-guid"}, "client_id is not an Application (client) ID (its value is not shown"),
    ({"authority_url": "ftp://login.microsoftonline.com"}, "authority_url 'ftp://login.microsoftonline.com' is not"),
    ({"authority_url": "https://login.microsoftonline.com/common/oauth2/v2.0/token"}, "must be the authority host"),
    ({"graph_url": "https://graph.microsoft.com/beta"}, "must be the Graph root without a version"),
    ({"graph_url": "https://user:pw@graph.microsoft.com"}, "without credentials, query or fragment"),
    ({"graph_url": "http://graph.example.net"}, "uses plain http:// to a non-loopback host"),
])
def test_connection_options_are_checked_before_any_request(emulator, changes, expected):
    emulator.clear_log()
    with pytest.raises(InputError) as caught:
        make_client(emulator, **changes)
    assert expected in str(caught.value)
    assert emulator.log() == []


@pytest.fixture(scope="module")
def tls_emulator(tmp_path_factory):
    ca = trustme.CA()
    directory = tmp_path_factory.mktemp("tls")
    cert = ca.issue_cert("localhost", "127.0.0.1")
    cert_pem, key_pem, ca_pem = directory / "cert.pem", directory / "key.pem", directory / "ca.pem"
    cert.private_key_and_cert_chain_pem.write_to_path(str(cert_pem))
    cert.private_key_pem.write_to_path(str(key_pem))
    ca.cert_pem.write_to_path(str(ca_pem))
    server = start_server(certfile=str(cert_pem), keyfile=str(key_pem))
    context = ssl.create_default_context()
    ca.configure_trust(context)
    handle = Emulator(server, ssl_context=context)
    handle.reset()
    yield handle, str(ca_pem)
    server.shutdown()


def test_tls_with_a_private_ca_and_an_unknown_issuer(tls_emulator):
    emulator, ca_pem = tls_emulator
    sp = emulator.service_principal()
    assert len(make_client(emulator, ca_path=ca_pem).jobs(sp["id"])) == 1
    with pytest.raises(EntraError) as caught:
        make_client(emulator, retry_policy=RetryPolicy(attempts=1)).access_token()
    assert caught.value.message == ("get an access token: TLS verification of %s failed. Point ca_path at the CA "
                                    "bundle that signs its certificate, or set validate_certs: false (not "
                                    "recommended)." % emulator.base.split("://")[1])
