# -*- coding: utf-8 -*-
# Copyright: (c) 2026, resolver.scim contributors
# GNU General Public License v3.0+ (see LICENSES/GPL-3.0-or-later.txt or https://www.gnu.org/licenses/gpl-3.0.txt)
"""Every exception the collection raises on purpose; each message is safe to show (never a secret)."""


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
