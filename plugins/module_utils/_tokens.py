# -*- coding: utf-8 -*-
# Copyright: (c) 2026, resolver.scim contributors
# GNU General Public License v3.0+ (see LICENSES/GPL-3.0-or-later.txt or https://www.gnu.org/licenses/gpl-3.0.txt)
"""SCIM token model and decision logic: pure functions, no I/O, shared by every module (and so by the role)."""

import datetime
import hashlib
import math
import re

from ansible_collections.resolver.scim.plugins.module_utils._errors import HOST_LIKE, InputError, kind_of, quoted

STATES = ("present", "absent", "rotated")
RECREATE_CHOICES = ("on_change", "never")
PREVIOUS_CHOICES = ("revoke", "keep")
# Resolver tokens live two years; renewing earlier than that would renew on every run.
TOKEN_LIFETIME_DAYS = 730
MAX_NAME_LENGTH = 255
DEFAULT_ROTATE_BEFORE_DAYS = 30
# One declared token: scim_token's own options, and the suboptions of scim_token_plan's tokens (the role's
# resolver_scim_tokens entries). Ansible checks types and choices from it; _token_entries.validate_entries the rest.
TOKEN_ENTRY_OPTIONS = dict(
    name=dict(type="str", required=True),
    email_domains=dict(type="list", elements="str"),
    state=dict(type="str", choices=list(STATES), default="present"),
    rotate_before_days=dict(type="int", default=DEFAULT_ROTATE_BEFORE_DAYS),
    previous=dict(type="str", choices=list(PREVIOUS_CHOICES), default="revoke"),
)
_LABEL = re.compile(r"^(?!-)[a-z0-9-]{1,63}(?<!-)$")
_TLD = re.compile(r"^(?:[a-z]{2,63}|xn--[a-z0-9-]{1,59})$")


def normalize_domains(values, option="email_domains"):
    """Trim, lower-case, de-duplicate and sort email domains; refuse anything that is not a domain name."""
    if values is None or len(values) == 0:
        raise InputError("%s must list at least one email domain (for example ['acme.com'])." % option)
    result = set()
    for value in values:
        if not isinstance(value, str):
            raise InputError("%s must be a list of domain names; got %s in it." % (option, kind_of(value)))
        domain = value.strip().lower()
        if not domain:
            raise InputError("%s contains an empty value; give domain names such as 'acme.com'." % option)
        if "@" in domain:
            example = domain.rsplit("@", 1)[-1]
            raise InputError("%s value %s contains '@': give the domain only, for example %r."
                             % (option, quoted(value, HOST_LIKE), example if HOST_LIKE.match(example) else "acme.com"))
        if re.search(r"\s", domain):
            raise InputError("%s value %s contains a space: give one domain per list item."
                             % (option, quoted(value.strip(), HOST_LIKE)))
        labels = domain.split(".")
        if (len(domain) > 253 or len(labels) < 2 or not all(_LABEL.match(label) for label in labels)
                or not _TLD.match(labels[-1])):
            raise InputError("%s value %s is not a valid domain name: use letters, digits and hyphens in "
                             "dot-separated labels, for example 'acme.com' (IDN domains in punycode, 'xn--...')."
                             % (option, quoted(value, HOST_LIKE)))
        result.add(domain)
    return sorted(result)


def check_name(name, option="name"):
    if not isinstance(name, str) or not name.strip():
        raise InputError("%s must be a non-empty string (the token's name in the org, for example 'okta')." % option)
    if len(name) > MAX_NAME_LENGTH:
        raise InputError("%s is %d characters long; at most %d are accepted." % (option, len(name), MAX_NAME_LENGTH))
    if name != name.strip():
        raise InputError("%s %r has leading or trailing spaces; Resolver would keep them, so remove them." % (option, name))
    return name


def check_days(value, option, upper=TOKEN_LIFETIME_DAYS):
    if value is None or value < 0 or value >= upper:
        raise InputError("%s must be a whole number of days from 0 to %d; got %r." % (option, upper - 1, value))
    return value


def fingerprint(secret):
    """A short, non-reversible tag to match a stored secret with the token that was issued."""
    return "sha256:" + hashlib.sha256(secret.encode("utf-8")).hexdigest()[:12]


def utcnow():
    return datetime.datetime.now(datetime.timezone.utc)


def iso(value):
    return value.strftime("%Y-%m-%dT%H:%M:%SZ") if value else None


class ScimToken:
    """Metadata of one SCIM token as Resolver lists it (never the secret)."""

    __slots__ = ("id", "name", "org_membership_id", "email_domains", "created", "expires")

    def __init__(self, id, name, org_membership_id=None, email_domains=(), created=None, expires=None):  # pylint: disable=redefined-builtin
        self.id = id
        self.name = name
        self.org_membership_id = org_membership_id
        self.email_domains = tuple(sorted(set(d.lower() for d in email_domains)))
        self.created = created
        # Expiry is two years after creation when the server does not say.
        if expires is None and created is not None:
            expires = created + datetime.timedelta(days=TOKEN_LIFETIME_DAYS)
        self.expires = expires

    def __repr__(self):
        return "ScimToken(id=%r, name=%r, domains=%r, expires=%s)" % (
            self.id, self.name, self.email_domains, iso(self.expires))

    def __eq__(self, other):
        return isinstance(other, ScimToken) and self.as_dict() == other.as_dict()

    def __hash__(self):
        return hash(self.id)

    def is_live(self, now):
        return self.expires is None or self.expires > now

    def days_to_expiry(self, now):
        """Days left, to the nearest day: a new two-year token says 730 whether read just before or after it was
        made. Decisions compare exact times, never this number."""
        if self.expires is None:
            return None
        return int(math.floor((self.expires - now).total_seconds() / 86400 + 0.5))

    def sort_key(self):
        epoch = datetime.datetime.min.replace(tzinfo=datetime.timezone.utc)
        return (self.created or epoch, self.id if isinstance(self.id, int) else -1)

    def as_dict(self, now=None):
        data = {
            "id": self.id,
            "name": self.name,
            "org_membership_id": self.org_membership_id,
            "email_domains": list(self.email_domains),
            "created": iso(self.created),
            "expires": iso(self.expires),
        }
        if now is not None:
            data["days_to_expiry"] = self.days_to_expiry(now)
            data["expired"] = not self.is_live(now)
        return data


class Plan:
    """What one scim_token run does and why. Creating comes first, revoking last."""

    def __init__(self, action, reason, create=False, current=None, revoke=(), keep=(), failure=None):
        self.action = action
        self.reason = reason
        self.create = create
        self.current = current
        self.revoke = list(revoke)
        self.keep = list(keep)
        self.failure = failure

    @property
    def changed(self):
        return self.failure is None and (self.create or bool(self.revoke))

    def __repr__(self):
        return "Plan(action=%r, create=%r, revoke=%r, keep=%r, failure=%r)" % (
            self.action, self.create, [t.id for t in self.revoke], [t.id for t in self.keep], self.failure)


def _ids(tokens):
    return ", ".join(str(t.id) for t in tokens)


def _days(n):
    return "%d day%s" % (n, "" if n == 1 else "s")


def named(tokens, name):
    """The tokens of one name, oldest first."""
    return sorted((t for t in tokens if t.name == name), key=ScimToken.sort_key)


def current_token(tokens, now):
    """The newest live token of a list of same-named tokens, or None."""
    live = [t for t in tokens if t.is_live(now)]
    return max(live, key=ScimToken.sort_key) if live else None


def _supersede(old, previous):
    """Plan arguments that revoke or keep the tokens a new one replaces, as ``previous`` says."""
    return {"keep": old} if previous == "keep" else {"revoke": old}


def decide(state, name, tokens, now, email_domains=None, rotate_before_days=DEFAULT_ROTATE_BEFORE_DAYS, recreate="on_change",
           previous="revoke", token_id=None):
    """Decide what ``scim_token`` must do for one token name, given every token of the org.

    The newest live token of the name is *current*; all others of the name (older or expired) are
    *superseded*. A token newer than the current one is never revoked.
    """
    mine = named(tokens, name)
    current = current_token(mine, now)
    superseded = [t for t in mine if t is not current]
    wanted = tuple(email_domains or ())

    if state == "absent":
        if token_id is not None:
            other = [t for t in tokens if t.id == token_id and t.name != name]
            if other:
                return Plan("none", "token %s is named %r, not %r" % (token_id, other[0].name, name),
                            failure="token_id %s belongs to the token named %r, not %r; nothing was deleted."
                            % (token_id, other[0].name, name))
            mine = [t for t in mine if t.id == token_id]
            if not mine:
                return Plan("none", "token %s does not exist (already absent)" % token_id)
            return Plan("deleted", "token %s named %r exists" % (token_id, name), revoke=mine)
        if not mine:
            return Plan("none", "no token named %r exists" % name)
        return Plan("deleted", "%d token(s) named %r exist: %s" % (len(mine), name, _ids(mine)), revoke=mine)

    if state == "rotated":
        reason = "state=rotated: issue a new token"
        if current is not None:
            reason += " to replace token %s" % current.id
        old = ([current] if current else []) + superseded
        return Plan("rotated", reason, create=True, **_supersede(old, previous))

    if current is None:
        if mine:
            reason = "every token named %r has expired (newest: token %s, expired %s)" % (
                name, mine[-1].id, iso(mine[-1].expires))
        else:
            reason = "no token named %r exists" % name
        return Plan("created", reason, create=True, **_supersede(superseded, previous))

    if current.email_domains != wanted:
        reason = "token %s covers %s, but email_domains asks for %s" % (
            current.id, ", ".join(current.email_domains) or "no domains", ", ".join(wanted))
        if recreate == "never":
            return Plan("none", reason, current=current,
                        failure=reason + "; recreate=never forbids replacing it. Set recreate: on_change to "
                        "replace the token, or change email_domains to match.")
        return Plan("recreated", reason, create=True, **_supersede([current] + superseded, previous))

    remaining = current.expires - now if current.expires else None
    if remaining is not None and remaining < datetime.timedelta(days=rotate_before_days):
        reason = "token %s expires in %s, inside rotate_before_days=%d" % (
            current.id, _days(current.days_to_expiry(now)), rotate_before_days)
        return Plan("renewed", reason, create=True, **_supersede([current] + superseded, previous))

    if current.expires is None:
        reason = "token %s is live (no expiry reported) and covers the requested domains" % current.id
    else:
        reason = "token %s is live for %s more (beyond rotate_before_days=%d) and covers the requested domains" % (
            current.id, _days(current.days_to_expiry(now)), rotate_before_days)
    if superseded and previous == "revoke":
        return Plan("revoked", reason + "; revoking superseded token(s) %s" % _ids(superseded),
                    current=current, revoke=superseded)
    if superseded:
        reason += "; superseded token(s) %s kept (previous=keep)" % _ids(superseded)
    return Plan("none", reason, current=current, keep=superseded)
