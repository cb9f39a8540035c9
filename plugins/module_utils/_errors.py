# -*- coding: utf-8 -*-
# Copyright: (c) 2026, resolver.scim contributors
# GNU General Public License v3.0+ (see LICENSES/GPL-3.0-or-later.txt or https://www.gnu.org/licenses/gpl-3.0.txt)
"""Every exception the collection raises on purpose; each message is safe to show (never a secret)."""

import re

NOT_SHOWN = "its value is not shown, in case it is a secret given to the wrong option"
# A value that may be quoted back as a domain, a host or a URL (with scheme, user, port and path).
HOST_LIKE = re.compile(r"^(?:[a-z][a-z0-9+.-]*://)?(?:[a-z0-9._-]+@)?(?:[a-z0-9*-]{1,63}\.)+[a-z]{2,63}"
                       r"(?::\d{1,5})?(?:/[a-z0-9._~/-]*)?$", re.IGNORECASE)
# A file path: absolute, home- or dot-relative, without spaces or line breaks.
PATH_LIKE = re.compile(r"^(?:/|~|\.{1,2}/)[^\s]*$")


def quoted(value, shape):
    """``'value'`` when it matches ``shape`` (the form the option asks for), else a note that it is not shown: a
    message quotes back a domain, a URL or a path, never a value that may be a secret pasted into the wrong field."""
    if isinstance(value, str) and shape.match(value):
        return repr(value)
    return "(%s)" % NOT_SHOWN


def kind_of(value):
    """A value of the wrong type, described without the value."""
    return "a %s" % type(value).__name__


class InputError(ValueError):
    """A bad option value, found before any request; the message names the option and what is accepted."""


class ResolverError(Exception):
    """An expected failure, with a message that is safe to show (never a secret)."""

    def __init__(self, message, status=None):
        super().__init__(message)
        self.message = message
        self.status = status

    def __str__(self):
        return self.message


class ConfigurationError(ResolverError):
    """The connection options cannot work; found before any request."""


class AuthenticationError(ResolverError):
    """Resolver refused the credential itself (bad key, bad password, no membership)."""


class PermissionDeniedError(ResolverError):
    """The credential is valid but may not do this (SCIM tokens need Administrator)."""


class NotFoundError(ResolverError):
    """The resource does not exist (or is not visible to this user)."""


class ApiValidationError(ResolverError):
    """Resolver refused the request content; the message carries its reason."""


class RateLimitedError(ResolverError):
    """Still rate limited when the retry budget ran out."""


class ServerError(ResolverError):
    """Resolver answered with a server error that retries did not clear."""


class UnreachableError(ResolverError):
    """No answer: DNS, refused connection, reset or timeout."""


class TLSError(ResolverError):
    """The server certificate was not accepted."""


class ResponseFormatError(ResolverError):
    """The answer was not in a shape this collection understands."""


class UncertainWriteError(ResolverError):
    """A write may or may not have taken effect; the caller must re-read to find out."""


class TokenRunFailed(ResolverError):
    """The run must fail, but what it learned (a new token that failed verification) is returned too."""

    def __init__(self, message, result=None):
        super().__init__(message)
        self.result = result or {}


class EntraError(ResolverError):
    """An expected failure of one step, with a message that is safe to show (redacted)."""

    def __init__(self, message, status=None, code=None, detail=None):
        super().__init__(message, status)
        self.code = code
        self.detail = detail  # the service's own message (redacted)


class CredentialsRejected(EntraError):
    """validateCredentials answered that the credentials do not work (not a permission or transport problem)."""


class LockTimeout(Exception):
    """The lock was still held by another run when the wait ran out."""


class LockError(Exception):
    """The lock path cannot be used as a lock (for example a symbolic link)."""


class StoreError(Exception):
    """The file store cannot be used as it is; the message names the path and never a stored value."""


class TransportRefusal(Exception):
    """An answer the transport (_transport.py) does not hand on; ``describe(option)`` says why in words safe to show."""

    status = None  # the HTTP status, where it tells something (a redirect's)


class RedirectRefused(TransportRefusal):
    def __init__(self, status, target):
        super().__init__(status)
        self.status = status
        self.target = target  # where the Location header points, by host only

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
    def __init__(self, limit):
        super().__init__(limit)
        self.limit = limit  # in bytes

    def describe(self, option):
        return ("an answer larger than %d MiB, which no answer of this API is: check %s (another service or a proxy "
                "answered?)" % (self.limit // (1024 * 1024), option))
