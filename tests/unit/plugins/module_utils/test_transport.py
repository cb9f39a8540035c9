# Copyright: (c) 2026, resolver.scim contributors
# GNU General Public License v3.0+ (see LICENSES/GPL-3.0-or-later.txt or https://www.gnu.org/licenses/gpl-3.0.txt)
"""Both HTTP clients over real HTTP (issue 21): no redirect is followed, so nothing reaches the other host; one
deadline per request holds against a trickling body on every retry path; an oversized answer is refused."""

import time

import pytest

from ansible_collections.resolver.scim.plugins.module_utils._client import ResolverClient
from ansible_collections.resolver.scim.plugins.module_utils._entra import GraphClient
from ansible_collections.resolver.scim.plugins.module_utils._errors import (
    EntraError,
    ResolverError,
    ResponseFormatError,
    UncertainWriteError,
    UnreachableError,
)

from recording_server import RecordingServer  # pylint: disable=wrong-import-order

TIMEOUT = 2
# One byte every half second, for longer than any bound below: only the client's deadline ends it.
TRICKLE = {"trickle": 0.5, "trickle_for": 30}


@pytest.fixture
def other_host():
    with RecordingServer() as server:
        yield server


def resolver(emulator, session=False, **options):
    params = dict(url=emulator.url, api_key=emulator.api_key(), timeout=TIMEOUT)
    if session:
        admin = emulator.member()
        params.update(api_key=None, username=admin["email"], password=admin["password"], org_id=1)
    params.update(options)
    return ResolverClient(**params)


def graph(emulator):
    return GraphClient(**emulator.entra_connection(timeout=TIMEOUT))


def message_of(error_type, call):
    with pytest.raises(error_type) as caught:
        call()
    return str(caught.value)


def assert_redirect_refused(message, status, other_host, option):
    assert "a redirect (HTTP %d) to host %s, which is never followed" % (status, other_host.url.split("://")[1]) \
        in message
    assert "Set %s to the address that answers without one" % option in message
    assert "?" not in message  # the Location's path and query are never quoted


# ----- redirects: the other host receives nothing ----------------------------------------------------------------

def test_custom_key_header_never_follows_a_redirect(emulator, other_host):
    emulator.reset(auth_header="x-api-key")
    emulator.faults({"method": "GET", "path": "^/user/users/me$", "status": 302,
                     "redirect": other_host.url + "/user/users/me?next=%2Fhome"})
    client = resolver(emulator, api_key_header="x-api-key")
    message = message_of(ResolverError, lambda: client.request("GET", "/user/users/me"))
    assert other_host.received == []
    assert_redirect_refused(message, 302, other_host, "url")
    assert message.startswith("GET /user/users/me got a redirect")


def test_session_login_is_not_reposted_on_a_307(emulator, other_host):
    emulator.faults({"method": "POST", "path": "^/user/authenticate$", "redirect": other_host.url + "/login"})
    client = resolver(emulator, session=True)
    message = message_of(ResolverError, lambda: client.request("GET", "/user/users/me"))
    assert other_host.received == []
    assert_redirect_refused(message, 307, other_host, "url")


def test_entra_client_secret_is_not_reposted_on_a_307(emulator, other_host):
    emulator.faults({"method": "POST", "path": "/oauth2/v2.0/token$", "redirect": other_host.url + "/token"})
    client = graph(emulator)
    message = message_of(EntraError, client.access_token)
    assert other_host.received == []
    assert_redirect_refused(message, 307, other_host, "authority_url")
    assert message.startswith("get an access token: POST to ")


def test_graph_secrets_put_does_not_carry_the_scim_token_away(emulator, other_host):
    sp = emulator.service_principal()
    token = emulator.issue_token()
    emulator.faults({"method": "PUT", "path": "/synchronization/secrets$", "redirect": other_host.url + "/secrets"})
    client = graph(emulator)
    message = message_of(EntraError, lambda: client.set_secrets(sp["id"], emulator.base + "/scim/", token["token"]))
    assert other_host.received == []
    assert_redirect_refused(message, 307, other_host, "graph_url")
    assert token["token"] not in message


def test_a_relative_location_is_refused_too_without_quoting_it(emulator):
    emulator.faults({"method": "GET", "path": "^/user/users/me$", "redirect": "/elsewhere?key=abc"})
    message = message_of(ResolverError, lambda: resolver(emulator).request("GET", "/user/users/me"))
    assert "a redirect (HTTP 307) to another path on the same host" in message and "abc" not in message
    assert [entry["path"] for entry in emulator.log()] == ["/user/users/me"]


# ----- one deadline per request --------------------------------------------------------------------------------

def timed(call):
    started = time.monotonic()
    call()
    return time.monotonic() - started


def fails_within_twice_the_timeout(error_type, call):
    """The error's message, after checking that ``call`` failed within about 2x timeout (a generous bound)."""
    caught = []

    def run():
        with pytest.raises(error_type) as error:
            call()
        caught.append(str(error.value))

    assert timed(run) < 2 * TIMEOUT + 1
    assert "not complete within timeout=%ds" % TIMEOUT in caught[0]
    return caught[0]


def test_a_trickling_get_fails_at_the_deadline_and_is_not_retried(emulator):
    emulator.faults(dict(TRICKLE, method="GET", path="^/user/scimTokens$"))
    client = resolver(emulator)
    message = fails_within_twice_the_timeout(UnreachableError, lambda: client.request("GET", "/user/scimTokens"))
    assert message.startswith("GET /user/scimTokens got an answer that was not complete")
    assert client.request("GET", "/user/users/me")["id"] == 10  # the client still works after the cut


def test_a_trickle_after_a_retry_fails_at_the_deadline(emulator):
    emulator.faults({"method": "GET", "path": "^/user/scimTokens$", "status": 503, "retry_after": 0},
                    dict(TRICKLE, method="GET", path="^/user/scimTokens$"))
    fails_within_twice_the_timeout(UnreachableError, lambda: resolver(emulator).request("GET", "/user/scimTokens"))


def test_a_trickle_after_a_session_login_again_fails_at_the_deadline(emulator):
    client = resolver(emulator, session=True)
    client.request("GET", "/user/users/me")
    emulator.faults({"method": "GET", "path": "^/user/users/me$", "status": 401},
                    dict(TRICKLE, method="POST", path="^/user/authenticate$"))
    fails_within_twice_the_timeout(UnreachableError, lambda: client.request("GET", "/user/users/me"))


def test_a_trickling_create_is_an_uncertain_write(emulator):
    emulator.faults(dict(TRICKLE, method="POST", path="^/user/scimTokens$"))
    body = {"orgMembershipId": emulator.member()["membership_id"], "name": "okta", "emailDomains": ["acme.com"]}
    fails_within_twice_the_timeout(UncertainWriteError,
                                   lambda: resolver(emulator).request("POST", "/user/scimTokens", json_body=body))


@pytest.mark.parametrize("path", ["/oauth2/v2.0/token$", "/synchronization/jobs$"])
def test_a_trickling_token_endpoint_or_graph_fails_at_the_deadline(emulator, path):
    emulator.faults(dict(TRICKLE, path=path))
    client = graph(emulator)
    fails_within_twice_the_timeout(EntraError, lambda: client.jobs(emulator.service_principal()["id"]))


# ----- size cap ------------------------------------------------------------------------------------------------

@pytest.mark.parametrize("headers", [{"Content-Type": "application/json"}, {"Connection": "close"}],
                         ids=["with Content-Length", "without Content-Length"])
def test_an_oversized_answer_is_refused(headers):
    huge = b"[" + b"1," * (3 * 1024 * 1024) + b"1]"
    with RecordingServer(answer=(200, headers, huge)) as server:
        client = ResolverClient(url=server.url, api_key="rk-test", timeout=TIMEOUT)
        message = message_of(ResponseFormatError, lambda: client.request("GET", "/user/scimTokens"))
    assert "an answer larger than 4 MiB, which no answer of this API is: check url" in message
