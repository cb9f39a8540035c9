# -*- coding: utf-8 -*-
# Copyright: (c) 2026, resolver.scim contributors
# GNU General Public License v3.0+ (see LICENSES/GPL-3.0-or-later.txt or https://www.gnu.org/licenses/gpl-3.0.txt)
"""The Resolver Core API client: authentication, sessions, and what each status code and failure means (typed errors).

It sends through ``_transport.py`` (redirects, deadline, size cap, retries, redaction). Paths and payload shapes live
in ``api.py``; both are listed in docs/api-assumptions.md.
"""

import re
import time
import unicodedata
from urllib.parse import urlsplit

from ansible_collections.resolver.scim.plugins.module_utils import _transport as transport
from ansible_collections.resolver.scim.plugins.module_utils._transport import (
    RATE_LIMITED,
    RETRYABLE_STATUSES,
    RetryPolicy,
    describe_network_error,
    never_sent,
    plain_http_refused,
    redact,
    requests,
)
from ansible_collections.resolver.scim.plugins.module_utils._errors import (
    ApiValidationError,
    AuthenticationError,
    ConfigurationError,
    DeadlineExceeded,
    NotFoundError,
    PermissionDeniedError,
    RateLimitedError,
    RedirectRefused,
    ResolverError,
    ResponseFormatError,
    ServerError,
    TLSError,
    TransportRefusal,
    UncertainWriteError,
    UnreachableError,
)

API_KEY_HEADERS = ("authorization", "x-api-key")
# A session token lives 15 minutes; renew it once it is older than this.
SESSION_RENEW_AFTER = 12 * 60
# An Authorization value pasted whole ("Bearer rk-..."): the scheme is ours to add.
_BEARER_PREFIX = re.compile(r"^bearer\s+", re.IGNORECASE)
# Values that are safe to quote back in a url message: a lower-case host name (with scheme, port, path). An API key
# or password given as url does not look like this, and is then not quoted.
_HOST_LIKE = re.compile(r"^(?:[a-z][a-z0-9+.-]*://)?(?:[a-z0-9-]{1,63}\.)+[a-z]{2,63}"
                        r"(?::\d{1,5})?(?:/[a-z0-9._~/-]*)?$")
_NOT_TLS = re.compile(r"(?i)wrong version number|record layer failure|packet length too long|unknown protocol")


def clean_credential(value, option):
    """``value`` without surrounding whitespace (None when nothing is left); inner control characters refused.

    ``echo "$KEY" | ansible-vault encrypt_string`` keeps the newline, which requests refuses in a header and
    quotes whole in its error. The refusal here never quotes the value.
    """
    if value is None:
        return None
    value = value.strip()
    if any(unicodedata.category(char) in ("Cc", "Cf") for char in value):
        raise ConfigurationError("%s contains a control or invisible character (such as a line break, tab or "
                                 "zero-width space) inside it; its value is not shown. Copy it again from its "
                                 "source." % option)
    return value or None


def clean_api_key(value):
    """The API key as it goes after "Bearer ": trimmed, with a pasted "Bearer " prefix removed."""
    if value is None:
        return None
    value = clean_credential(_BEARER_PREFIX.sub("", value.strip()), "api_key")
    if value is None:
        return None
    if not value.isascii() or re.search(r"\s", value):
        raise ConfigurationError("api_key contains a space or a non-ASCII character inside it, which no API key "
                                 "has; its value is not shown. Copy the key again.")
    return value


def check_url(url, allow_plain_http=False, option="url"):
    """Refuse a base URL that cannot work or would expose credentials; return it without a trailing slash.

    A value is quoted back only when it looks like a host name: a secret given as url (url and api_key swapped)
    must not end up in the message.
    """
    url = clean_credential(url, option)
    if not url:
        raise ConfigurationError("url is required: set the url option or the RESOLVER_URL environment variable "
                                 "(for example https://acme.resolver.com).")
    parts = urlsplit(url)
    if parts.scheme not in ("http", "https") or not parts.hostname:
        if _HOST_LIKE.match(url):
            raise ConfigurationError("%s %r is not an http(s) URL: give the scheme and host, for example https://%s."
                                     % (option, url, url.split("://")[-1].strip("/")))
        raise ConfigurationError("%s is not an http(s) URL (it has no http:// or https:// scheme and host); its "
                                 "value is not shown in case it is a secret.%s Give the base URL, for example "
                                 "https://acme.resolver.com." % (option, " Did you swap url and api_key?"
                                                                 if option == "url" else ""))
    if parts.username or parts.password:
        raise ConfigurationError("%s must not carry credentials; use api_key or username/password instead." % option)
    base = "%s://%s%s" % (parts.scheme, parts.netloc, parts.path)
    if parts.query or parts.fragment:
        raise ConfigurationError("%s must not have a query or fragment (not shown); give the base URL only, for "
                                 "example %s." % (option, base))
    if plain_http_refused(parts, allow_plain_http):
        raise ConfigurationError(
            "%s %r uses plain http:// to a non-loopback host, so credentials would travel unencrypted (a name counts "
            "as loopback only when every address it resolves to is). Use https://, or set allow_plain_http: true "
            "if you really mean it." % (option, url))
    return url.rstrip("/")


def _tls_reason(exc):
    text = str(exc)
    match = re.search(r"(certificate verify failed: [^(']+|[Hh]ostname mismatch[^(']*|doesn't match[^(']*)", text)
    return match.group(1).strip().rstrip(",") if match else "the TLS handshake failed"


def other_base_url(base_url):
    """The base URL to suggest after a 404 on the first request: one /api removed (missing or doubled), or added."""
    return base_url[:-len("/api")] if base_url.endswith("/api") else base_url + "/api"


class ResolverClient:
    """One keep-alive HTTP session to one Resolver environment, authenticated as one user in one org."""

    def __init__(self, url, api_key=None, api_key_header="authorization", username=None, password=None,
                 org_id=None, validate_certs=True, ca_path=None, timeout=30, allow_plain_http=False,
                 retry_policy=None, sleep=time.sleep, monotonic=time.monotonic):
        api_key, password = clean_api_key(api_key), clean_credential(password, "password")
        username = clean_credential(username, "username")
        if api_key and re.match(r"(?i)https?://", api_key):
            raise ConfigurationError("api_key looks like a URL (its value is not shown): did you swap url and "
                                     "api_key? url is the Resolver address, api_key the key.")
        self.base_url = check_url(url, allow_plain_http)
        if api_key and (username or password):
            raise ConfigurationError("api_key cannot be combined with username/password: use either API-key "
                                     "auth or session auth (check RESOLVER_API_KEY, RESOLVER_USERNAME and "
                                     "RESOLVER_PASSWORD in the environment too).")
        if not api_key and not (username and password):
            raise ConfigurationError("No credentials: set api_key (or RESOLVER_API_KEY), or username and password "
                                     "(or RESOLVER_USERNAME and RESOLVER_PASSWORD) with org_id.")
        if username and org_id is None:
            raise ConfigurationError("org_id is required with username/password (session auth logs in to one org); "
                                     "set org_id or RESOLVER_ORG_ID.")
        if api_key_header not in API_KEY_HEADERS:
            raise ConfigurationError("api_key_header must be one of %s, got %r."
                                     % (", ".join(API_KEY_HEADERS), api_key_header))
        self.api_key = api_key
        self.api_key_header = api_key_header
        self.username = username
        self.password = password
        self.org_id = org_id
        self.timeout = timeout
        self.retry_policy = retry_policy or RetryPolicy()
        self._sleep = sleep
        self._monotonic = monotonic
        self._session_token = None
        self._session_obtained = None
        # Token values this client has seen (issued tokens): redacted like the credentials.
        self._seen_secrets = []
        # Set once Resolver has accepted the credential: a later 401/403 then means "not allowed".
        self.authenticated = False

        self.session = transport.new_session()
        self._direct_session = None
        self.verify = transport.tls_verify(validate_certs, ca_path)

    # ----- credentials -------------------------------------------------------------------------------

    @property
    def credential(self):
        """Describe the credential in use, never its value."""
        if self.api_key:
            return "the API key (api_key / RESOLVER_API_KEY)"
        return "user %r (username/password, org_id %s)" % (self.username, self.org_id)

    @property
    def secrets(self):
        return [s for s in [self.api_key, self.password, self._session_token] + self._seen_secrets if s]

    def remember_secret(self, secret):
        """Redact ``secret`` (a token value Resolver returned) wherever this client redacts credentials."""
        self._seen_secrets.append(secret)

    def redact(self, text):
        return redact(text, self.secrets)

    def _auth_headers(self):
        if self.api_key:
            if self.api_key_header == "x-api-key":
                return {"x-api-key": self.api_key}
            return {"Authorization": "Bearer " + self.api_key}
        self._ensure_session()
        return {"Authorization": "Bearer " + self._session_token}

    def _ensure_session(self):
        if self._session_token is None:
            self.login()
        elif self._monotonic() - self._session_obtained >= SESSION_RENEW_AFTER:
            try:
                self._renew_session()
            except (AuthenticationError, PermissionDeniedError):
                self.login()

    def login(self):
        body = {"email": self.username, "password": self.password,
                # The org field's name is not public: send both spellings (docs/api-assumptions.md).
                "selectedOrgId": self.org_id, "orgId": self.org_id}
        response = self._send("POST", "/user/authenticate", json_body=body, headers={}, idempotent=True)
        if response.status_code == 401:
            raise AuthenticationError("Resolver rejected the login of %s: check the username and password."
                                      % self.credential, 401)
        if response.status_code == 403:
            raise AuthenticationError("Resolver refused the login of %s (403): the user may be locked or not "
                                      "allowed to use the API." % self.credential, 403)
        if response.status_code == 404:
            raise AuthenticationError("Resolver says %s is not an active member of org %s (HTTP 404 from POST "
                                      "%s/user/authenticate). If the user and org are right, check the base URL: "
                                      "try url: %s." % (self.credential, self.org_id, self.base_url,
                                                        other_base_url(self.base_url)), 404)
        self._store_session(self._parse(response, "POST /user/authenticate"))

    def _renew_session(self):
        response = self._send("GET", "/user/authenticate",
                              headers={"Authorization": "Bearer " + self._session_token})
        if response.status_code in (401, 403):
            raise AuthenticationError("session renewal refused", response.status_code)
        self._store_session(self._parse(response, "GET /user/authenticate"))

    def _store_session(self, data):
        token = data.get("token") if isinstance(data, dict) else None
        if not isinstance(token, str) or not token:
            raise ResponseFormatError("Resolver's login answer has no 'token' field.")
        self._session_token = token
        self._session_obtained = self._monotonic()
        self.authenticated = True

    # ----- requests ----------------------------------------------------------------------------------

    def request(self, method, path, json_body=None, what=None):
        """Send an authenticated API request and return its decoded JSON (None for an empty body).

        GET and DELETE are retried on 429/502/503/504 and lost connections. POST is retried only when
        Resolver certainly did not act (429, or no connection made); any other failure after the request
        may have reached the server raises UncertainWriteError so that the caller re-reads.
        """
        what = what or "%s %s" % (method, path)
        unsafe = method == "POST"
        response = self._send(method, path, json_body=json_body, headers=self._auth_headers(), idempotent=not unsafe)
        if response.status_code in (401, 403) and self.username:
            # The session may have expired early or been revoked: log in again, once.
            self.login()
            response = self._send(method, path, json_body=json_body, headers=self._auth_headers(),
                                  idempotent=not unsafe)
        self._raise_for_status(response, what, unsafe)
        self.authenticated = True
        if not response.content or not response.content.strip():
            return None
        try:
            return self._parse(response, what)
        except ResponseFormatError as exc:
            if unsafe:
                raise UncertainWriteError("%s: %s" % (what, exc.message), response.status_code)
            raise

    def probe_bearer(self, url, token):
        """GET ``url`` with ``token`` as its bearer secret and return the status code (for SCIM liveness checks)."""
        response = self._send("GET", url, headers={"Authorization": "Bearer " + token}, absolute=True)
        return response.status_code

    def _session_for(self, url):
        """Plain http:// carries the credential in clear, so it never goes through a proxy from the environment
        (not even after a redirect, which is why the proxy is not merely overridden per request)."""
        if not url.startswith("http://"):
            return self.session
        if self._direct_session is None:
            self._direct_session = transport.new_session(trust_env=False)
        return self._direct_session

    def _tls_error(self, exc, url):
        where = url.split("?")[0]
        if _NOT_TLS.search(str(exc)):
            return TLSError("%s did not answer TLS: the server there speaks plain HTTP or another protocol. Check "
                            "the scheme and port of url (https:// pointed at a plain-HTTP port?)." % where)
        if self.verify is False:
            return TLSError("TLS with %s failed (%s) although validate_certs is false, so the certificate is not the "
                            "problem: check the scheme and port of url, and any proxy on the way."
                            % (where, _tls_reason(exc)))
        return TLSError("TLS verification of %s failed: %s. Point ca_path at the CA bundle that signed the server "
                        "certificate, or set validate_certs: false (not recommended)." % (where, _tls_reason(exc)))

    def _send(self, method, path, json_body=None, headers=None, idempotent=True, absolute=False):
        """One request through the transport's retries: a POST only on 429 or when no connection was made (it
        cannot have acted); every failure mapped to a ResolverError."""
        url = path if absolute else self.base_url + path
        where = path.split("?")[0]

        def attempt():
            try:
                return transport.send(self._session_for(url), method, url, self.timeout, json=json_body,
                                      headers=headers, verify=self.verify)
            except requests.exceptions.SSLError as exc:
                raise self._tls_error(exc, self.base_url if not absolute else url)
            except TransportRefusal as exc:
                raise self._refusal_error(exc, method, where, idempotent)
            except transport.NETWORK_ERRORS:
                raise
            except Exception as exc:  # pylint: disable=broad-except
                # Anything else (an invalid header or URL) may quote the request, credential included: keep the type.
                raise ResolverError("%s %s could not be sent (%s); the error text is not shown because it may quote "
                                    "a credential." % (method, where, type(exc).__name__)) from None

        def network_error(exc, attempts, exhausted):
            reason = describe_network_error(exc, self.timeout)
            if not idempotent and not never_sent(exc):
                return UncertainWriteError("%s %s got no answer (%s)" % (method, path, reason))
            if exhausted:
                return UnreachableError("Resolver at %s did not answer %s %s after %d attempt(s): %s."
                                        % (self.base_url, method, where, attempts, reason))
            return None

        return self.retry_policy.send(attempt, RETRYABLE_STATUSES if idempotent else RATE_LIMITED, network_error,
                                      self._sleep, self._monotonic)

    @staticmethod
    def _refusal_error(refusal, method, path, idempotent):
        """A redirect, an answer not complete by the deadline or one over the size cap: none of them is retried
        (a slow server would be as slow again, and hold the org's lock as long again)."""
        message = "%s %s got %s." % (method, path, refusal.describe("url"))
        if isinstance(refusal, RedirectRefused):
            return ResolverError(message, refusal.status)
        if not idempotent:
            return UncertainWriteError(message)
        return (UnreachableError if isinstance(refusal, DeadlineExceeded) else ResponseFormatError)(message)

    def _parse(self, response, what):
        try:
            return response.json()
        except ValueError:
            raise ResponseFormatError("%s answered with a body that is not JSON (status %s)."
                                      % (what, response.status_code))

    def _server_message(self, response):
        try:
            data = response.json()
        except ValueError:
            return None
        if isinstance(data, dict):
            for key in ("message", "error", "detail"):
                if isinstance(data.get(key), str) and data[key].strip():
                    return self.redact(data[key].strip())[:300]
        return None

    def _raise_for_status(self, response, what, unsafe):
        status = response.status_code
        if 200 <= status < 300:
            return
        detail = self._server_message(response)
        suffix = (": %s" % detail) if detail else ""
        if status in (401, 403):
            if self.authenticated:
                raise PermissionDeniedError(
                    "Resolver refused %s for %s (HTTP %d): the user is authenticated but not allowed. "
                    "Reading org memberships and managing SCIM tokens needs an Administrator in this org%s."
                    % (what, self.credential, status, suffix), status)
            raise AuthenticationError(
                "Resolver refused %s (HTTP %d) for %s: the credential is wrong, expired or revoked, or the user "
                "is not allowed (SCIM tokens need an Administrator)%s." % (what, status, self.credential, suffix),
                status)
        if status == 404 and not self.authenticated:
            # Nothing has worked yet, so the likeliest cause is the base URL, not the resource.
            raise NotFoundError("%s: not found (HTTP 404)%s. Nothing has worked yet in this run, so the base URL is "
                                "probably wrong: %s was tried, and Resolver serves the API either at the root or "
                                "under /api; try url: %s." % (what, suffix, response.url.split("?")[0],
                                                              other_base_url(self.base_url)), status)
        if status == 404:
            raise NotFoundError("%s: not found (HTTP 404)%s." % (what, suffix), status)
        if status in (400, 409, 422):
            raise ApiValidationError("Resolver refused %s (HTTP %d)%s." % (what, status, suffix or ": no reason given"),
                                     status)
        if status == 429:
            raise RateLimitedError("Resolver kept rate limiting %s (HTTP 429) beyond the retry budget of %d attempts "
                                   "/ %ds; try again later or with fewer forks." % (what, self.retry_policy.attempts,
                                                                                    self.retry_policy.budget), status)
        if status >= 500 and unsafe:
            raise UncertainWriteError("%s failed with HTTP %d after it may have reached the server%s"
                                      % (what, status, suffix), status)
        if status >= 500:
            raise ServerError("Resolver answered %s with HTTP %d%s." % (what, status, suffix), status)
        raise ResolverError("Resolver answered %s with unexpected HTTP %d%s." % (what, status, suffix), status)
