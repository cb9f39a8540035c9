# -*- coding: utf-8 -*-
# Copyright: (c) 2026, resolver.scim contributors
# GNU General Public License v3.0+ (see LICENSES/GPL-3.0-or-later.txt or https://www.gnu.org/licenses/gpl-3.0.txt)
"""The HTTP transport both clients (Resolver in _client.py, Microsoft Graph in _entra.py) send through; each of them
keeps only its own error mapping, the way amazon.aws builds AWSRetry on CloudRetry.

- No redirect is followed: requests would carry the body (a password, a client secret, a SCIM token) and any
  header but Authorization (an ``x-api-key``) to wherever a ``Location`` points.
- One deadline, ``timeout`` seconds from the start of the attempt, covers the connection and the whole body: a
  read timeout alone restarts with every byte, so a server that trickles its answer would hold the run (and the
  org's lock) for as long as it likes. A watchdog cuts the connection at the deadline.
- The body has a size cap: no answer of these APIs comes near it.
- Bounded retries (``RetryPolicy``): throttling and gateway answers and lost connections, ``Retry-After`` honoured;
  see docs/reliability.md#transport for how they combine with the deadline.
- Plain http:// only to loopback (unless allowed), network failures in fixed words, and ``redact``, the one
  redaction of every secret a client knows.
"""

import ipaddress
import json
import random
import socket
import threading
import time
import traceback
from email.utils import parsedate_to_datetime
from urllib.parse import urlsplit

from ansible_collections.resolver.scim.plugins.module_utils._errors import (
    DeadlineExceeded,
    RedirectRefused,
    ResponseTooLarge,
)

# The one guarded import of requests: the clients take it from here, the modules report it missing.
try:
    import requests
    REQUESTS_IMPORT_ERROR = None
except ImportError:
    requests = None
    REQUESTS_IMPORT_ERROR = traceback.format_exc()
HAS_REQUESTS = requests is not None

MAX_RESPONSE_BYTES = 4 * 1024 * 1024
_CHUNK_BYTES = 16 * 1024
# The longest wait for a connection, whatever timeout is.
MAX_CONNECT_SECONDS = 10
# A body cut short is a network failure like a reset connection.
NETWORK_ERRORS = (requests.exceptions.ConnectionError, requests.exceptions.Timeout,
                  requests.exceptions.ChunkedEncodingError) if HAS_REQUESTS else ()
# Throttling (429) and gateways that could not reach the service: worth another attempt.
RETRYABLE_STATUSES = frozenset((429, 502, 503, 504))
RATE_LIMITED = frozenset((429,))
REDACTED = "********"


class RetryPolicy:
    """Bounded retries: at most ``attempts`` tries and ``budget`` seconds in all."""

    def __init__(self, attempts=5, budget=60.0, backoff=0.5, max_backoff=8.0):
        self.attempts = attempts
        self.budget = budget
        self.backoff = backoff
        self.max_backoff = max_backoff

    def delay(self, retry_number, retry_after=None):
        if retry_after is not None:
            return retry_after
        # Full jitter spreads the retries of parallel runs (forks, AWX slices) apart.
        return random.uniform(0, min(self.max_backoff, self.backoff * (2 ** retry_number)))

    def send(self, attempt, retry_statuses, network_error, sleep=time.sleep, monotonic=time.monotonic):
        """``attempt()`` (one ``send``) until its answer's status is not in ``retry_statuses``, or the attempts or
        the budget run out (the last answer is returned then).

        A network failure is retried too, unless ``network_error(exc, attempts, exhausted)`` returns the client's
        error for it, which is raised; with ``exhausted`` true it must.
        """
        deadline = monotonic() + self.budget
        attempts = 0
        while True:
            attempts += 1
            try:
                response = attempt()
            except NETWORK_ERRORS as exc:
                error = network_error(exc, attempts, attempts >= self.attempts or monotonic() >= deadline)
                if error is not None:
                    raise error
                wait = self.delay(attempts - 1)
            else:
                if response.status_code not in retry_statuses:
                    return response
                wait = self.delay(attempts - 1, parse_retry_after(response.headers.get("Retry-After")))
                if attempts >= self.attempts or monotonic() + wait > deadline:
                    return response
            sleep(max(0.0, min(wait, deadline - monotonic())))


def parse_retry_after(value, now=None):
    """Seconds to wait from a Retry-After header (delta-seconds or HTTP date), or None."""
    if not value:
        return None
    value = value.strip()
    if value.isdigit():
        return float(value)
    try:
        when = parsedate_to_datetime(value)
    except (TypeError, ValueError, IndexError):
        return None
    if when is None:
        return None
    now = time.time() if now is None else now
    return max(0.0, when.timestamp() - now)


def describe_network_error(exc, timeout):
    """A fixed phrase per kind of network failure: the exception's own text (URLs, headers) is never passed on."""
    if isinstance(exc, requests.exceptions.ReadTimeout):
        return "no response within timeout=%ss" % timeout
    if isinstance(exc, requests.exceptions.ConnectTimeout):
        return "connection timed out"
    text = repr(exc)
    if "NewConnectionError" in text or "Connection refused" in text:
        return "connection refused or host unknown"
    if "reset" in text.lower() or "aborted" in text.lower() or "RemoteDisconnected" in text:
        return "connection closed by the server"
    return "connection failed"


def never_sent(exc):
    """Whether a network failure happened before the request left (no connection was made)."""
    return isinstance(exc, requests.exceptions.ConnectTimeout) or "NewConnectionError" in repr(exc)


def redact(text, secrets):
    """``text`` with every secret replaced, also as Python repr and JSON escape it (how exceptions quote values)."""
    variants = set()
    for secret in secrets:
        if isinstance(secret, str) and secret.strip():
            variants.update((secret, secret.strip(), repr(secret)[1:-1], json.dumps(secret)[1:-1]))
    # Longest first, so that a secret inside another is not replaced half-way.
    for variant in sorted(variants, key=len, reverse=True):
        text = text.replace(variant, REDACTED)
    return text


def is_loopback(host):
    """A loopback address, or a localhost name every address of which is loopback (a hosts entry can point
    ``*.localhost`` anywhere, so the name alone proves nothing)."""
    try:
        return ipaddress.ip_address(host.strip("[]")).is_loopback
    except ValueError:
        pass
    if host not in ("localhost", "localhost.localdomain") and not host.endswith(".localhost"):
        return False
    try:
        addresses = {info[4][0] for info in socket.getaddrinfo(host, None)}
    except (OSError, UnicodeError):
        return False
    try:
        return bool(addresses) and all(ipaddress.ip_address(a.split("%")[0]).is_loopback for a in addresses)
    except ValueError:
        return False


def plain_http_refused(parts, allow_plain_http=False):
    """Whether a URL (``urlsplit`` parts) would send secrets unencrypted to another host: plain http:// goes only
    to loopback test stand-ins, unless the user allows it."""
    return parts.scheme == "http" and not allow_plain_http and not is_loopback(parts.hostname)


def new_session(trust_env=True):
    session = requests.Session()
    session.trust_env = trust_env
    session.headers.update({"Accept": "application/json", "User-Agent": "resolver.scim-ansible"})
    return session


def tls_verify(validate_certs, ca_path):
    """requests' ``verify`` for every request (a Session-level setting loses to REQUESTS_CA_BUNDLE)."""
    if not validate_certs:
        # The module warns once in its own words; urllib3's per-request warning adds only noise.
        requests.packages.urllib3.disable_warnings()  # pylint: disable=no-member
    return ca_path if (ca_path and validate_certs) else bool(validate_certs)


def redirect_target(location):
    """Where a ``Location`` header points, by host only: its path and query may carry anything."""
    try:
        parts = urlsplit(location or "")
        host, port = parts.hostname, parts.port
    except ValueError:
        return "an address that is not a URL"
    if not location:
        return "nowhere (no Location header)"
    if not host:
        return "another path on the same host"
    return "host %s%s" % (host, ":%d" % port if port else "")


def send(session, method, url, timeout, **kwargs):
    """One request with redirects refused, ``timeout`` as one deadline for all of it, and a size cap.

    Returns the response with its body read; raises a TransportRefusal, or what requests raises for the network.
    """
    deadline = time.monotonic() + timeout
    response = session.request(method, url, allow_redirects=False, stream=True,
                               timeout=(min(MAX_CONNECT_SECONDS, timeout), timeout), **kwargs)
    try:
        if 300 <= response.status_code < 400:
            raise RedirectRefused(response.status_code, redirect_target(response.headers.get("Location")))
        length = response.headers.get("Content-Length") or ""
        if length.isdigit() and int(length) > MAX_RESPONSE_BYTES:
            raise ResponseTooLarge(MAX_RESPONSE_BYTES)
        # What requests would set after reading the body itself (stream=False); every caller reads it from there.
        response._content = _read_body(response, deadline, timeout)  # pylint: disable=protected-access
    finally:
        response.close()
    return response


def _read_body(response, deadline, timeout):
    watchdog = _Watchdog(response, deadline - time.monotonic())
    chunks, size = [], 0
    try:
        for chunk in response.iter_content(_CHUNK_BYTES):
            size += len(chunk)
            if size > MAX_RESPONSE_BYTES:
                raise ResponseTooLarge(MAX_RESPONSE_BYTES)
            if time.monotonic() > deadline:
                raise DeadlineExceeded(timeout)
            chunks.append(chunk)
    except (requests.exceptions.RequestException, OSError):
        if watchdog.cut:
            raise DeadlineExceeded(timeout) from None
        raise
    finally:
        watchdog.stop()
    if watchdog.cut:  # a body without a length ends where the connection does: cut short, not complete
        raise DeadlineExceeded(timeout)
    return b"".join(chunks)


class _Watchdog:
    """Shuts the response's socket down at the deadline, which ends a read that is blocked or trickling."""

    def __init__(self, response, seconds):
        self.cut = False
        self._response = response
        self._lock = threading.Lock()
        self._timer = threading.Timer(max(0.0, seconds), self._fire)
        self._timer.daemon = True
        self._timer.start()

    def _fire(self):
        with self._lock:
            if self._response is None:
                return
            # The connection goes back to the pool (and leaves the response) once the body is read: leave it be.
            connection = getattr(self._response.raw, "connection", None)
            sock = getattr(connection, "sock", None)
            if sock is None:
                return
            self.cut = True
            try:
                socket.socket.shutdown(sock, socket.SHUT_RDWR)
            except OSError:
                pass

    def stop(self):
        self._timer.cancel()
        with self._lock:
            self._response = None
