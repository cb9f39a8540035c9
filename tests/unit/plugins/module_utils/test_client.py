# Copyright: (c) 2026, resolver.scim contributors
# GNU General Public License v3.0+ (see LICENSES/GPL-3.0-or-later.txt or https://www.gnu.org/licenses/gpl-3.0.txt)
"""The API client over real HTTP against the emulator: auth, sessions, retries, TLS and error messages."""

import http.server
import socket
import ssl
import threading
import traceback

import pytest
import requests
import trustme

from ansible_collections.resolver.scim.plugins.module_utils import _transport as transport
from ansible_collections.resolver.scim.plugins.module_utils import _client as client_mod
from ansible_collections.resolver.scim.plugins.module_utils._api import ResolverApi
from ansible_collections.resolver.scim.plugins.module_utils._transport import RetryPolicy, parse_retry_after, redact
from ansible_collections.resolver.scim.plugins.module_utils._client import ResolverClient
from ansible_collections.resolver.scim.plugins.module_utils._errors import (
    ApiValidationError,
    AuthenticationError,
    ConfigurationError,
    NotFoundError,
    PermissionDeniedError,
    RateLimitedError,
    ResolverError,
    ServerError,
    TLSError,
    UncertainWriteError,
    UnreachableError,
)

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


def make_client(emulator, clock=None, **kwargs):
    options = dict(url=emulator.url, api_key=emulator.api_key(), timeout=3)
    options.update(kwargs)
    if clock:
        options.update(sleep=clock.sleep, monotonic=clock.monotonic)
    return ResolverClient(**options)


def paths(emulator):
    return [(r["method"], r["path"], r["status"]) for r in emulator.log()]


# ----- authentication ---------------------------------------------------------------------------------

def test_api_key_in_authorization_header(emulator):
    assert make_client(emulator).request("GET", "/user/users/me")["id"] == 10


def test_api_key_in_x_api_key_header(emulator):
    emulator.reset(auth_header="x-api-key")
    assert make_client(emulator, api_key_header="x-api-key").request("GET", "/user/users/me")["id"] == 10
    with pytest.raises(AuthenticationError):
        make_client(emulator).request("GET", "/user/users/me")


@pytest.mark.parametrize("org_field", ["selectedOrgId", "orgId"])
def test_session_login_with_either_org_field(emulator, org_field):
    emulator.reset(login_org_field=org_field)
    admin = emulator.member()
    client = make_client(emulator, api_key=None, username=admin["email"], password=admin["password"], org_id=1)
    assert client.request("GET", "/user/users/me")["email"] == admin["email"]
    assert paths(emulator) == [("POST", "/user/authenticate", 200), ("GET", "/user/users/me", 200)]


def test_session_is_renewed_before_it_expires_and_reobtained_after(emulator):
    admin = emulator.member()
    clock = FakeTime()
    client = make_client(emulator, clock, api_key=None, username=admin["email"], password=admin["password"],
                         org_id=1)
    client.request("GET", "/user/users/me")
    # 13 minutes later: still valid on the server, but inside the renewal window.
    clock.now += 13 * 60
    emulator.control("POST", "clock", {"offset_seconds": 13 * 60})
    client.request("GET", "/user/users/me")
    # 20 more minutes: the session has expired on the server; renewal fails, a new login follows.
    clock.now += 20 * 60
    emulator.control("POST", "clock", {"offset_seconds": 33 * 60})
    client.request("GET", "/user/users/me")
    assert paths(emulator) == [
        ("POST", "/user/authenticate", 200), ("GET", "/user/users/me", 200),
        ("GET", "/user/authenticate", 200), ("GET", "/user/users/me", 200),
        ("GET", "/user/authenticate", 401), ("POST", "/user/authenticate", 200), ("GET", "/user/users/me", 200),
    ]


def test_session_expired_early_logs_in_again_once(emulator):
    admin = emulator.member()
    client = make_client(emulator, api_key=None, username=admin["email"], password=admin["password"], org_id=1)
    client.request("GET", "/user/users/me")
    emulator.control("POST", "clock", {"offset_seconds": 16 * 60})  # server says expired, client thinks fresh
    assert client.request("GET", "/user/users/me")["id"] == 10
    assert [p[2] for p in paths(emulator)] == [200, 200, 401, 200, 200]


def test_bad_password_message(emulator):
    client = make_client(emulator, api_key=None, username="admin@acme.com", password="wrong-pass", org_id=1)
    with pytest.raises(AuthenticationError) as info:
        client.request("GET", "/user/users/me")
    assert "rejected the login of user 'admin@acme.com'" in str(info.value)
    assert "wrong-pass" not in str(info.value)


def test_not_a_member_message(emulator):
    admin = emulator.member()
    client = make_client(emulator, api_key=None, username=admin["email"], password=admin["password"], org_id=2)
    with pytest.raises(AuthenticationError, match="not an active member of org 2"):
        client.request("GET", "/user/users/me")


@pytest.mark.parametrize("unauth_status", [401, 403])
def test_bad_api_key_message_names_credential_never_value(emulator, unauth_status):
    emulator.reset(unauth_status=unauth_status)
    with pytest.raises(AuthenticationError) as info:
        make_client(emulator, api_key="rk-secret-value").request("GET", "/user/users/me")
    message = str(info.value)
    assert "the API key (api_key / RESOLVER_API_KEY)" in message
    assert "Administrator" in message
    assert "rk-secret-value" not in message


def test_not_administrator_message(emulator):
    client = make_client(emulator, api_key=emulator.api_key(admin=False))
    client.request("GET", "/user/users/me")
    with pytest.raises(PermissionDeniedError, match="needs an Administrator"):
        client.request("GET", "/user/scimTokens")


def test_not_found_and_validation_messages(emulator):
    client = make_client(emulator)
    client.request("GET", "/user/users/me")
    with pytest.raises(NotFoundError, match="not found") as info:
        client.request("GET", "/user/org/1/user/999")
    # Once a request has worked, a 404 is about the resource, not the base URL.
    assert "try url" not in str(info.value)
    with pytest.raises(ApiValidationError, match="not in this org's SSO setup"):
        client.request("POST", "/user/scimTokens", {"orgMembershipId": 100, "name": "x",
                                                    "emailDomains": ["evil.com"]})


@pytest.mark.parametrize("options, message", [
    (dict(url=""), "url is required"),
    (dict(url="acme.resolver.com"), "is not an http(s) URL"),
    (dict(url="http://acme.resolver.com"), "plain http://"),
    (dict(url="https://user:pw@acme.resolver.com"), "must not carry credentials"),
    (dict(api_key=None), "No credentials"),
    (dict(api_key=None, username="a@b.com", password="x"), "org_id is required"),
    (dict(username="a@b.com"), "cannot be combined"),
    (dict(api_key_header="cookie"), "api_key_header must be one of"),
])
def test_configuration_errors_before_any_request(emulator, options, message):
    with pytest.raises(ConfigurationError) as info:
        make_client(emulator, **options)
    assert message in str(info.value)
    assert emulator.log() == []


def test_plain_http_to_loopback_is_allowed_and_remote_only_when_asked():
    assert client_mod.check_url("http://127.0.0.1:8080/api/") == "http://127.0.0.1:8080/api"
    assert client_mod.check_url("http://[::1]:8080") == "http://[::1]:8080"
    assert client_mod.check_url("http://acme.example.com", allow_plain_http=True) == "http://acme.example.com"


# ----- retries ---------------------------------------------------------------------------------------

@pytest.mark.parametrize("status", [429, 503])
def test_get_is_retried_honouring_retry_after(emulator, status):
    clock = FakeTime()
    emulator.faults({"method": "GET", "path": "^/user/users/me$", "count": 2, "status": status, "retry_after": 7})
    assert make_client(emulator, clock).request("GET", "/user/users/me")["id"] == 10
    assert clock.sleeps == [7.0, 7.0]
    assert [p[2] for p in paths(emulator)] == [status, status, 200]


def test_retry_without_retry_after_uses_bounded_jittered_backoff(emulator):
    clock = FakeTime()
    emulator.faults({"method": "GET", "path": "^/user/users/me$", "count": 3, "status": 502})
    make_client(emulator, clock).request("GET", "/user/users/me")
    assert len(clock.sleeps) == 3
    assert all(0 <= s <= 0.5 * 2 ** n for n, s in enumerate(clock.sleeps))


def test_retries_give_up_with_a_clear_message(emulator):
    clock = FakeTime()
    emulator.faults({"method": "GET", "path": "^/user/users/me$", "count": 99, "status": 429, "retry_after": 1})
    with pytest.raises(RateLimitedError, match="beyond the retry budget"):
        make_client(emulator, clock, retry_policy=RetryPolicy(attempts=3)).request("GET", "/user/users/me")
    assert len(emulator.log()) == 3


def test_retry_after_beyond_budget_is_not_waited_for(emulator):
    clock = FakeTime()
    emulator.faults({"method": "GET", "path": "^/user/users/me$", "count": 99, "status": 503, "retry_after": 600})
    with pytest.raises(ServerError, match="HTTP 503"):
        make_client(emulator, clock).request("GET", "/user/users/me")
    assert clock.sleeps == [] and len(emulator.log()) == 1


def test_dropped_connection_on_get_is_retried(emulator):
    clock = FakeTime()
    emulator.faults({"method": "GET", "path": "^/user/users/me$", "count": 1, "drop": True})
    assert make_client(emulator, clock).request("GET", "/user/users/me")["id"] == 10
    assert len(emulator.log()) == 2


def test_slow_get_times_out_and_is_retried(emulator):
    emulator.faults({"method": "GET", "path": "^/user/users/me$", "count": 1, "delay": 2.5})
    client = make_client(emulator, timeout=1)
    assert client.request("GET", "/user/users/me")["id"] == 10


def test_post_is_not_blindly_repeated_after_a_server_error(emulator):
    emulator.faults({"method": "POST", "path": "^/user/scimTokens$", "count": 1, "status": 503, "act": True})
    client = make_client(emulator, FakeTime())
    with pytest.raises(UncertainWriteError, match="may have reached the server"):
        client.request("POST", "/user/scimTokens", {"orgMembershipId": 100, "name": "okta",
                                                    "emailDomains": ["acme.com"]})
    assert [p[0] for p in paths(emulator)] == ["POST"]
    assert len(emulator.tokens()) == 1  # the server did act: the caller must re-read


def test_post_with_dropped_answer_is_uncertain(emulator):
    emulator.faults({"method": "POST", "path": "^/user/scimTokens$", "count": 1, "drop": True, "act": True})
    with pytest.raises(UncertainWriteError, match="got no answer"):
        make_client(emulator).request("POST", "/user/scimTokens", {"orgMembershipId": 100, "name": "okta",
                                                                   "emailDomains": ["acme.com"]})
    assert len([r for r in emulator.log() if r["method"] == "POST"]) == 1


def test_post_is_retried_after_429(emulator):
    clock = FakeTime()
    emulator.faults({"method": "POST", "path": "^/user/scimTokens$", "count": 1, "status": 429, "retry_after": 2})
    make_client(emulator, clock).request("POST", "/user/scimTokens", {"orgMembershipId": 100, "name": "okta",
                                                                      "emailDomains": ["acme.com"]})
    assert clock.sleeps == [2.0] and len(emulator.tokens()) == 1


def test_malformed_json_on_post_is_uncertain(emulator):
    emulator.faults({"method": "POST", "path": "^/user/scimTokens$", "count": 1, "malformed": True, "act": True})
    with pytest.raises(UncertainWriteError, match="not JSON"):
        make_client(emulator).request("POST", "/user/scimTokens", {"orgMembershipId": 100, "name": "okta",
                                                                   "emailDomains": ["acme.com"]})


def test_unreachable_message():
    client = ResolverClient(url="http://127.0.0.1:9", api_key="k", timeout=1,
                            retry_policy=RetryPolicy(attempts=2), sleep=lambda s: None)
    with pytest.raises(UnreachableError, match="did not answer GET /user/users/me after 2 attempt"):
        client.request("GET", "/user/users/me")


def test_one_connection_per_client(emulator):
    client = make_client(emulator)
    for _attempt in range(3):
        client.request("GET", "/user/users/me")
    assert len({r["connection"] for r in emulator.log()}) == 1


@pytest.mark.parametrize("value, expected", [("5", 5.0), ("", None), (None, None), ("soon", None),
                                             ("Wed, 21 Oct 2015 07:28:00 GMT", 0.0)])
def test_parse_retry_after(value, expected):
    assert parse_retry_after(value) == expected


# ----- TLS -------------------------------------------------------------------------------------------

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


def test_private_ca_is_accepted(tls_emulator):
    emulator, ca_pem = tls_emulator
    assert make_client(emulator, ca_path=ca_pem).request("GET", "/user/users/me")["id"] == 10


def test_unknown_issuer_is_refused_clearly(tls_emulator):
    emulator = tls_emulator[0]
    with pytest.raises(TLSError) as info:
        make_client(emulator).request("GET", "/user/users/me")
    assert "certificate verify failed" in str(info.value) and "ca_path" in str(info.value)


def test_hostname_mismatch_is_refused_clearly(tmp_path):
    ca = trustme.CA()
    cert = ca.issue_cert("resolver.example.com")
    cert_pem, ca_pem = tmp_path / "cert.pem", tmp_path / "ca.pem"
    cert.private_key_and_cert_chain_pem.write_to_path(str(cert_pem))
    ca.cert_pem.write_to_path(str(ca_pem))
    server = start_server(certfile=str(cert_pem), keyfile=str(cert_pem))
    try:
        client = ResolverClient(url=server.url, api_key="k", ca_path=str(ca_pem), timeout=3)
        with pytest.raises(TLSError, match="(?i)hostname|match"):
            client.request("GET", "/user/users/me")
    finally:
        server.shutdown()


def test_validate_certs_false_works(tls_emulator):
    emulator = tls_emulator[0]
    assert make_client(emulator, validate_certs=False).request("GET", "/user/users/me")["id"] == 10


# ----- resources over the client -----------------------------------------------------------------------

@pytest.mark.parametrize("switches", [
    {"domains_wire": "list", "create_status": 201, "timestamps": "millis_z"},
    {"domains_wire": "string", "create_status": 200, "timestamps": "plain"},
    {"domains_wire": "string", "timestamps": "offset", "list_shape": "wrapped", "prefix": "/api"},
])
def test_token_round_trip_in_every_wire_variant(emulator, switches):
    emulator.reset(**switches)
    api = ResolverApi(make_client(emulator))
    token, secret = api.create_token(api.caller_membership_id(), "okta", ["acme.com", "acme.org"])
    assert token.email_domains == ("acme.com", "acme.org") and token.expires is not None
    listed = api.list_tokens()
    assert [t.id for t in listed] == [token.id] and listed[0].email_domains == token.email_domains
    assert api.token_works(emulator.base + "/scim/", secret) is True
    assert api.delete_token(token.id) is True
    assert api.delete_token(token.id) is False
    assert api.token_works(emulator.base + "/scim/", secret) is False


@pytest.mark.parametrize("scim_path, served, other", [("/scim", "/scim/", "/scim/v2/"),
                                                      ("/scim/v2", "/scim/v2/", "/scim/")])
def test_token_check_at_either_scim_base_and_404_names_the_other(emulator, scim_path, served, other):
    emulator.reset(scim_path=scim_path)
    api = ResolverApi(make_client(emulator))
    _token, secret = api.create_token(api.caller_membership_id(), "okta", ["acme.com"])
    assert api.token_works(emulator.base + served, secret) is True
    with pytest.raises(NotFoundError) as caught:
        api.token_works(emulator.base + other, secret)
    message = caught.value.message
    assert "GET %s%sUsers?count=1 answered HTTP 404" % (emulator.base, other) in message
    assert "Set scim_url" in message and "(for example %s%s)" % (emulator.base, served) in message
    assert secret not in message


# ----- credentials as users paste them (issues 16 and 17) ----------------------------------------------

def raised(error_type, call):
    with pytest.raises(error_type) as info:
        call()
    return str(info.value)


def test_credentials_with_surrounding_whitespace_are_trimmed(emulator):
    # echo "$KEY" | ansible-vault encrypt_string keeps the newline; requests would refuse it in a header.
    client = make_client(emulator, url=" %s/\n" % emulator.url, api_key=" %s\n" % emulator.api_key())
    assert client.request("GET", "/user/users/me")["id"] == 10
    admin = emulator.member()
    client = make_client(emulator, api_key=None, username="\t%s \n" % admin["email"],
                         password="%s\r\n" % admin["password"], org_id=1)
    assert client.request("GET", "/user/users/me")["email"] == admin["email"]


@pytest.mark.parametrize("option", ["api_key", "password", "username", "url"])
@pytest.mark.parametrize("inner", ["\n", "\t", "\x07", "\u200b"])
def test_inner_control_character_is_refused_without_quoting_the_value(emulator, option, inner):
    value = "rk-Secret%sValue42" % inner
    options = {"api_key": None, "username": "admin@acme.com", "password": "pw", "org_id": 1} \
        if option in ("password", "username") else {}
    options[option] = value
    message = raised(ConfigurationError, lambda: make_client(emulator, **options))
    assert message.startswith("%s contains a control or invisible character" % option)
    assert "Secret" not in message and "Value42" not in message
    assert emulator.log() == []


@pytest.mark.parametrize("key", ["rk-abc def", "rk-caf\u00e9"])
def test_api_key_with_inner_space_or_non_ascii_is_refused_without_quoting_it(emulator, key):
    message = raised(ConfigurationError, lambda: make_client(emulator, api_key=key))
    assert "api_key contains a space or a non-ASCII character" in message and "rk-" not in message


@pytest.mark.parametrize("prefix", ["Bearer ", "bearer ", "BEARER\t", "Bearer   "])
@pytest.mark.parametrize("header", ["authorization", "x-api-key"])
def test_api_key_pasted_with_its_bearer_scheme_is_accepted(emulator, prefix, header):
    emulator.reset(auth_header=header)
    client = make_client(emulator, api_key=prefix + emulator.api_key(), api_key_header=header)
    assert client.request("GET", "/user/users/me")["id"] == 10


def test_swapped_url_and_api_key_is_explained_without_quoting_the_key(emulator):
    key = emulator.api_key()
    message = raised(ConfigurationError, lambda: make_client(emulator, url=key, api_key=emulator.url))
    assert "did you swap url and api_key" in message and key not in message and emulator.url not in message
    # Only the key in url (api_key from elsewhere): still not quoted.
    message = raised(ConfigurationError, lambda: make_client(emulator, url=key))
    assert "url is not an http(s) URL" in message and "Did you swap url and api_key?" in message
    assert key not in message and key[3:12] not in message


@pytest.mark.parametrize("url, quoted", [
    ("acme.resolver.com", True),
    ("acme.resolver.com/api", True),
    ("ftp://acme.resolver.com", True),
    ("rk-0123456789abcdef", False),
    ("eyJhbGciOiJIUzI1NiJ9.eyJzdWIiOiIxIn0.c2lnbmF0dXJl", False),
    ("Secret.Pass.word", False),
])
def test_a_non_url_is_quoted_only_when_it_looks_like_a_host_name(url, quoted):
    message = raised(ConfigurationError, lambda: client_mod.check_url(url))
    assert (url in message) is quoted
    assert "is not an http(s) URL" in message


def test_url_query_is_not_quoted():
    message = raised(ConfigurationError, lambda: client_mod.check_url("https://acme.resolver.com/api?key=s3cr3t"))
    assert "must not have a query or fragment" in message and "https://acme.resolver.com/api" in message
    assert "s3cr3t" not in message


def test_unexpected_transport_error_never_carries_its_text(emulator):
    # A token value with a newline (as a server might return one) is refused by requests with an error that
    # quotes the whole header; the client passes on only the exception's type.
    client = make_client(emulator)
    token = "scim-%s\nX" % "Secret"  # built, so that the traceback's source lines do not show it
    with pytest.raises(ResolverError) as info:
        client.probe_bearer(emulator.base + "/scim/v2/Users", token)
    assert "could not be sent (InvalidHeader)" in str(info.value)
    # Nor does its traceback (ansible-core formats the chain when tracebacks are on).
    formatted = "".join(traceback.format_exception(info.type, info.value, info.tb))
    assert "InvalidHeader" in formatted and "scim-Secret" not in formatted


def test_redact_covers_the_forms_exceptions_quote_values_in():
    secret = 'pa"ss\\wo\nrd'
    text = "raw %s repr %r json %s" % (secret, secret, '"pa\\"ss\\\\wo\\nrd"')
    assert redact(text, [secret, None, ""]) == "raw ******** repr '********' json \"********\""


def test_issued_tokens_are_redacted_from_server_messages(emulator):
    api = ResolverApi(make_client(emulator))
    _token, secret = api.create_token(api.caller_membership_id(), "okta", ["acme.com"])
    assert api.client.redact("echo %s" % secret) == "echo ********"


# ----- loopback and proxies (issue 17, item 8) ---------------------------------------------------------

def test_localhost_names_count_as_loopback_only_when_every_address_is(monkeypatch):
    assert transport.is_loopback("localhost") and transport.is_loopback("127.0.0.2")
    assert transport.is_loopback("::1") and not transport.is_loopback("10.0.0.5")
    real = socket.getaddrinfo
    answers = {"evil.localhost": ["10.0.0.5"], "split.localhost": ["127.0.0.1", "192.0.2.7"],
               "lab.localhost": ["127.0.0.1", "::1"]}

    def fake_getaddrinfo(host, *args, **kwargs):
        if host in answers:
            return [(socket.AF_INET, socket.SOCK_STREAM, 6, "", (a, 0)) for a in answers[host]]
        if host == "gone.localhost":
            raise socket.gaierror("Name or service not known")
        return real(host, *args, **kwargs)

    monkeypatch.setattr(transport.socket, "getaddrinfo", fake_getaddrinfo)
    assert transport.is_loopback("lab.localhost")
    assert not transport.is_loopback("evil.localhost")
    assert not transport.is_loopback("split.localhost")
    assert not transport.is_loopback("gone.localhost")
    message = raised(ConfigurationError, lambda: client_mod.check_url("http://evil.localhost:8080"))
    assert "uses plain http:// to a non-loopback host" in message
    assert client_mod.check_url("http://lab.localhost:8080") == "http://lab.localhost:8080"


class RecordingProxy(http.server.BaseHTTPRequestHandler):
    """A proxy that forwards nothing: it records what it was sent and answers 502."""

    received = []

    def answer(self):
        self.received.append((self.command, self.path, self.headers.get("Authorization")))
        self.send_response(502)
        self.send_header("Content-Length", "0")
        self.end_headers()

    do_GET = do_POST = do_DELETE = do_CONNECT = answer

    def log_message(self, *args):  # pylint: disable=arguments-differ
        pass


@pytest.fixture
def proxy_env(monkeypatch):
    server = http.server.ThreadingHTTPServer(("127.0.0.1", 0), RecordingProxy)
    threading.Thread(target=server.serve_forever, daemon=True).start()
    url = "http://127.0.0.1:%d" % server.server_address[1]
    for name in ("NO_PROXY", "no_proxy"):
        monkeypatch.delenv(name, raising=False)
    for name in ("http_proxy", "HTTP_PROXY", "https_proxy", "HTTPS_PROXY", "all_proxy", "ALL_PROXY"):
        monkeypatch.setenv(name, url)
    RecordingProxy.received = []
    yield RecordingProxy.received
    server.shutdown()


def test_plain_http_credentials_never_go_through_a_proxy(emulator, proxy_env):
    key = emulator.api_key()
    # The fixture works: an ordinary requests call to the same URL goes to the proxy, key and all.
    requests.get(emulator.url + "/user/users/me", headers={"Authorization": "Bearer " + key}, timeout=5)
    assert proxy_env == [("GET", emulator.url + "/user/users/me", "Bearer " + key)]
    del proxy_env[:]
    client = make_client(emulator)
    assert client.request("GET", "/user/users/me")["id"] == 10
    assert client.probe_bearer(emulator.base + "/scim/v2/Users", "not-a-token") == 401
    assert proxy_env == []


def test_https_still_uses_the_proxy_which_sees_only_connect(tls_emulator, proxy_env):
    emulator, ca_pem = tls_emulator
    client = ResolverClient(url=emulator.base, api_key="k", ca_path=ca_pem, retry_policy=RetryPolicy(attempts=1))
    with pytest.raises(UnreachableError):
        client.request("GET", "/user/users/me")
    host = emulator.base.split("://")[1]
    assert proxy_env == [("CONNECT", host, None)]


# ----- messages users search for (issue 16, item 5) ----------------------------------------------------

@pytest.mark.parametrize("prefix, suffix, suggested", [
    ("/api", "", "/api"),         # /api missing
    ("", "/api", ""),             # /api where there is none
    ("/api", "/api/api", "/api"),  # /api doubled
])
def test_404_on_the_first_request_points_at_the_base_url(emulator, prefix, suffix, suggested):
    emulator.reset(prefix=prefix)
    client = make_client(emulator, url=emulator.base + suffix)
    message = raised(NotFoundError, lambda: ResolverApi(client).whoami())
    assert "who am I (GET /user/users/me): not found (HTTP 404)" in message
    assert "%s%s/user/users/me was tried" % (emulator.base, suffix) in message
    assert message.endswith("try url: %s%s." % (emulator.base, suggested))


def test_404_on_session_login_points_at_the_base_url_too(emulator):
    emulator.reset(prefix="/api")
    admin = emulator.member()
    client = make_client(emulator, url=emulator.base, api_key=None, username=admin["email"],
                         password=admin["password"], org_id=1)
    message = raised(AuthenticationError, lambda: client.request("GET", "/user/users/me"))
    assert "not an active member of org 1" in message and "try url: %s/api." % emulator.base in message


@pytest.mark.parametrize("validate_certs", [True, False])
def test_https_to_a_plain_http_port_says_the_server_did_not_answer_tls(emulator, validate_certs):
    url = emulator.url.replace("http://", "https://")
    client = make_client(emulator, url=url, validate_certs=validate_certs)
    message = raised(TLSError, lambda: client.request("GET", "/user/users/me"))
    assert "%s did not answer TLS" % url in message and "Check the scheme and port" in message
    assert "ca_path" not in message and "validate_certs" not in message


def test_tls_failure_with_validate_certs_off_does_not_suggest_turning_it_off(tmp_path):
    # A server that accepts TCP and closes at once: the handshake fails whatever the certificate settings.
    listener = socket.socket()
    listener.bind(("127.0.0.1", 0))
    listener.listen(5)

    def close_each():
        while True:
            try:
                connection, _address = listener.accept()
            except OSError:
                return
            connection.close()

    threading.Thread(target=close_each, daemon=True).start()
    try:
        client = ResolverClient(url="https://127.0.0.1:%d" % listener.getsockname()[1], api_key="k", timeout=2,
                                validate_certs=False, retry_policy=RetryPolicy(attempts=1))
        with pytest.raises(ResolverError) as info:
            client.request("GET", "/user/users/me")
    finally:
        listener.close()
    assert "validate_certs: false" not in str(info.value)


def test_non_administrator_is_named_by_email(emulator):
    api = ResolverApi(make_client(emulator, api_key=emulator.api_key(admin=False)))
    viewer = emulator.member(admin=False)
    message = raised(PermissionDeniedError, api.membership_facts)
    assert message.startswith("%s (user " % viewer["email"])
    assert "is not an Administrator of org 1 (" in message
