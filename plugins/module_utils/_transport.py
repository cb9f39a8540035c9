# -*- coding: utf-8 -*-
# Copyright: (c) 2026, resolver.scim contributors
# GNU General Public License v3.0+ (see LICENSES/GPL-3.0-or-later.txt or https://www.gnu.org/licenses/gpl-3.0.txt)
"""One HTTP attempt as both clients (Resolver in client.py, Microsoft Graph in entra.py) make it.

- No redirect is followed: requests would carry the body (a password, a client secret, a SCIM token) and any
  header but Authorization (an ``x-api-key``) to wherever a ``Location`` points.
- One deadline, ``timeout`` seconds from the start of the attempt, covers the connection and the whole body: a
  read timeout alone restarts with every byte, so a server that trickles its answer would hold the run (and the
  org's lock) for as long as it likes. A watchdog cuts the connection at the deadline.
- The body has a size cap: no answer of these APIs comes near it.
Retries stay with each client; see docs/reliability.md#transport for how they combine with the deadline.
"""

import socket
import threading
import time
import traceback
from urllib.parse import urlsplit

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


class TransportRefusal(Exception):
    """An answer this transport does not hand on; ``describe(option)`` says why in words safe to show."""

    status = None  # the HTTP status, where it tells something (a redirect's)


class RedirectRefused(TransportRefusal):
    def __init__(self, status, location):
        super().__init__(status)
        self.status = status
        self.target = redirect_target(location)

    def describe(self, option):
        return ("a redirect (HTTP %d) to %s, which is never followed so that no credential goes to another host. "
                "Set %s to the address that answers without one" % (self.status, self.target, option))


class DeadlineExceeded(TransportRefusal):
    def __init__(self, timeout):
        super().__init__(timeout)
        self.timeout = timeout

    def describe(self, option):
        return ("an answer that was not complete within timeout=%ss: the server (or a proxy on the way to %s) sent it "
                "too slowly or never finished it" % (self.timeout, option))


class ResponseTooLarge(TransportRefusal):
    def describe(self, option):
        return ("an answer larger than %d MiB, which no answer of this API is: check %s (another service or a proxy "
                "answered?)" % (MAX_RESPONSE_BYTES // (1024 * 1024), option))


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
            raise RedirectRefused(response.status_code, response.headers.get("Location"))
        length = response.headers.get("Content-Length") or ""
        if length.isdigit() and int(length) > MAX_RESPONSE_BYTES:
            raise ResponseTooLarge()
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
                raise ResponseTooLarge()
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
