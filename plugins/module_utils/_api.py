# -*- coding: utf-8 -*-
# Copyright: (c) 2026, resolver.scim contributors
# GNU General Public License v3.0+ (see LICENSES/GPL-3.0-or-later.txt or https://www.gnu.org/licenses/gpl-3.0.txt)
"""Resolver Core API resources: paths and wire formats, read tolerantly.

Every assumption about the API that is not public is marked ASSUMED here and listed in
docs/api-assumptions.md with the emulator switch that tests it.
"""

import datetime
import re

from ansible_collections.resolver.scim.plugins.module_utils._errors import (
    ApiValidationError,
    NotFoundError,
    PermissionDeniedError,
    ResponseFormatError,
    ServerError,
    UncertainWriteError,
)
from ansible_collections.resolver.scim.plugins.module_utils._tokens import ScimToken

WHOAMI_PATH = "/user/users/me"
MEMBERSHIP_PATH = "/user/org/%s/user/%s"
TOKENS_PATH = "/user/scimTokens"
DOMAIN_FORMATS = ("auto", "list", "string")

_TIMESTAMP = re.compile(
    r"^(\d{4})-(\d{2})-(\d{2})[T ](\d{2}):(\d{2})(?::(\d{2})(?:[.,](\d{1,9}))?)?\s*(Z|z|[+-]\d{2}:?\d{2})?$")


def parse_timestamp(value):
    """ISO 8601 → aware UTC datetime. ASSUMED: UTC, with or without milliseconds, 'Z' or an offset."""
    if not isinstance(value, str):
        raise ValueError("not a timestamp string: %r" % (value,))
    match = _TIMESTAMP.match(value.strip())
    if not match:
        raise ValueError("not an ISO 8601 timestamp: %r" % (value,))
    year, month, day, hour, minute, second, fraction, zone = match.groups()
    micro = int((fraction or "0")[:6].ljust(6, "0"))
    parsed = datetime.datetime(int(year), int(month), int(day), int(hour), int(minute), int(second or 0), micro,
                               tzinfo=datetime.timezone.utc)
    if zone and zone not in ("Z", "z"):
        sign = 1 if zone[0] == "+" else -1
        digits = zone[1:].replace(":", "")
        offset = datetime.timedelta(hours=int(digits[:2]), minutes=int(digits[2:]))
        if offset >= datetime.timedelta(hours=24):
            raise ValueError("timestamp offset out of range: %r" % (value,))
        parsed -= sign * offset
    return parsed


def domains_from_wire(value):
    """ASSUMED: emailDomains is a JSON array of strings or one comma-separated string."""
    if value is None:
        return ()
    if isinstance(value, str):
        items = value.split(",")
    elif isinstance(value, list) and all(isinstance(v, str) for v in value):
        items = [part for v in value for part in v.split(",")]
    else:
        raise ValueError("emailDomains is neither a list of strings nor a string: %r" % (value,))
    return tuple(sorted(set(d.strip().lower() for d in items if d.strip())))


def domains_to_wire(domains, form):
    return list(domains) if form == "list" else ",".join(domains)


def _int_id(value, field):
    if isinstance(value, bool):
        raise ValueError("%s is not an integer id: %r" % (field, value))
    if isinstance(value, int):
        return value
    if isinstance(value, str) and value.strip().isdigit():
        return int(value.strip())
    raise ValueError("%s is not an integer id: %r" % (field, value))


def _timestamp_field(data, *names):
    for field in names:
        if data.get(field) not in (None, ""):
            return parse_timestamp(data[field])
    return None


def token_from_wire(data):
    """Read one token's metadata; unknown fields are ignored, a missing id or name is an error."""
    if not isinstance(data, dict):
        raise ResponseFormatError("a SCIM token in Resolver's answer is not an object: %s" % type(data).__name__)
    try:
        membership = data.get("orgMembershipId")
        return ScimToken(
            id=_int_id(data.get("id"), "id"),
            name=data["name"] if isinstance(data.get("name"), str) else _missing("name"),
            org_membership_id=None if membership is None else _int_id(membership, "orgMembershipId"),
            email_domains=domains_from_wire(data.get("emailDomains")),
            created=_timestamp_field(data, "createdOn", "createdAt", "created"),
            expires=_timestamp_field(data, "tokenExpiry", "expiresOn", "expires"),
        )
    except (ValueError, KeyError) as exc:
        raise ResponseFormatError("Resolver returned a SCIM token this collection cannot read: %s" % exc)


def _missing(field):
    raise ValueError("field %r is missing or not a string" % field)


def _token_list(data):
    """ASSUMED: the list is a JSON array; a wrapper object with one array in a usual key is read too."""
    if isinstance(data, dict):
        for key in ("data", "items", "content", "results", "scimTokens", "tokens"):
            if isinstance(data.get(key), list):
                return data[key]
    if isinstance(data, list):
        return data
    if data is None:
        return []
    raise ResponseFormatError("GET %s answered with %s, not a list of tokens." % (TOKENS_PATH, type(data).__name__))


def not_administrator(identity, why=""):
    """The error for a caller who is not an Administrator, naming the account by email (never a credential)."""
    org = identity["org_id"] if not identity.get("org_name") else "%s (%s)" % (identity["org_id"], identity["org_name"])
    return PermissionDeniedError(
        "%s (user %s) is not an Administrator of org %s%s; only Administrators manage SCIM tokens. Use the API key or "
        "account of a dedicated Administrator service account."
        % (identity.get("email") or "The API user", identity["user_id"], org, why), 403)


class ResolverApi:
    """The Resolver resources this collection uses, over one ResolverClient."""

    def __init__(self, client, email_domains_format="auto"):
        if email_domains_format not in DOMAIN_FORMATS:
            raise ValueError("email_domains_format must be one of %s" % ", ".join(DOMAIN_FORMATS))
        self.client = client
        self.email_domains_format = email_domains_format
        self._seen_domains_form = None
        self._identity = None

    @property
    def secrets(self):
        """Every credential and token this API object sent or received, to redact from any text."""
        return self.client.secrets

    def close(self):
        self.client.session.close()

    # ----- identity ---------------------------------------------------------------------------------

    def whoami(self):
        """The caller: user_id, email, org_id, org_name (``GET /user/users/me``), read once per run."""
        if self._identity is None:
            data = self.client.request("GET", WHOAMI_PATH, what="who am I (GET %s)" % WHOAMI_PATH)
            if not isinstance(data, dict):
                raise ResponseFormatError("GET %s did not answer with an object." % WHOAMI_PATH)
            org = data.get("currentOrg") if isinstance(data.get("currentOrg"), dict) else {}
            try:
                self._identity = {
                    "user_id": _int_id(data.get("id"), "id"),
                    "org_id": _int_id(org.get("id"), "currentOrg.id"),
                    "email": data.get("email"),
                    "first_name": data.get("firstName"),
                    "last_name": data.get("lastName"),
                    "org_name": org.get("name"),
                }
            except ValueError as exc:
                raise ResponseFormatError("GET %s answered without a usable %s." % (WHOAMI_PATH, exc))
        return self._identity

    def membership(self, org_id, user_id):
        """One org membership (``GET /user/org/{orgId}/user/{userId}``); its top-level id is what tokens need."""
        path = MEMBERSHIP_PATH % (org_id, user_id)
        data = self.client.request("GET", path, what="load the org membership of user %s in org %s (GET %s)"
                                   % (user_id, org_id, path))
        if not isinstance(data, dict):
            raise ResponseFormatError("GET %s did not answer with an object." % path)
        try:
            membership_id = _int_id(data.get("id"), "id")
        except ValueError as exc:
            raise ResponseFormatError("GET %s answered without a usable %s." % (path, exc))
        is_admin = data.get("isAdmin")
        return {
            "org_membership_id": membership_id,
            "is_admin": is_admin if isinstance(is_admin, bool) else None,
            "active": data.get("active") if isinstance(data.get("active"), bool) else None,
            "raw": data,
        }

    def membership_facts(self, user_id=None, org_id=None):
        """A user's org membership (default: the caller's, in the caller's org) as module results.

        Reading a membership needs an Administrator, so a caller whose membership reads without ``isAdmin``
        is reported as one (docs/api-assumptions.md).
        """
        identity = self.whoami()
        user_id = user_id or identity["user_id"]
        org_id = org_id or identity["org_id"]
        is_caller = user_id == identity["user_id"] and org_id == identity["org_id"]
        try:
            membership = self.membership(org_id, user_id)
        except PermissionDeniedError as exc:
            if not is_caller:
                raise
            raise not_administrator(identity, ": Resolver refused to read its own org membership (HTTP %s), which "
                                              "needs an Administrator" % exc.status)
        is_admin = membership["is_admin"]
        if is_admin is None and is_caller:
            is_admin = True
        return dict(
            user_id=user_id,
            email=identity["email"] if is_caller else membership["raw"].get("email"),
            org_id=org_id,
            org_name=identity["org_name"] if org_id == identity["org_id"] else None,
            org_membership_id=membership["org_membership_id"],
            is_admin=is_admin,
            active=membership["active"],
            membership=membership["raw"],
        )

    def caller_membership_id(self):
        return self.membership_facts()["org_membership_id"]

    # ----- SCIM tokens ------------------------------------------------------------------------------

    def list_tokens(self):
        data = self.client.request("GET", TOKENS_PATH, what="list SCIM tokens (GET %s)" % TOKENS_PATH)
        items = _token_list(data)
        for item in items:
            if isinstance(item, dict) and item.get("emailDomains") is not None:
                self._seen_domains_form = "list" if isinstance(item["emailDomains"], list) else "string"
                break
        return [token_from_wire(item) for item in items]

    def create_token(self, org_membership_id, name, email_domains):
        """POST a new token; return (metadata, secret). May raise UncertainWriteError: re-list to learn more."""
        form = self.email_domains_format
        if form == "auto":
            form = self._seen_domains_form or "string"
        try:
            data = self._post_token(org_membership_id, name, email_domains, form)
        except ApiValidationError:
            if self.email_domains_format != "auto" or self._seen_domains_form is not None:
                raise
            # Nothing told us the server's form: a 400 means nothing was created, so try the other one once.
            form = "list" if form == "string" else "string"
            data = self._post_token(org_membership_id, name, email_domains, form)
        self._seen_domains_form = form
        secret = data.get("token") if isinstance(data, dict) else None
        if not isinstance(secret, str) or not secret:
            raise UncertainWriteError("POST %s answered without the token value." % TOKENS_PATH)
        self.client.remember_secret(secret)
        try:
            return token_from_wire(dict(data, name=data.get("name") or name)), secret
        except ResponseFormatError as exc:
            # ASSUMED: the answer carries an integer id. Without one the token is still found by re-listing.
            raise UncertainWriteError("POST %s: %s" % (TOKENS_PATH, exc.message))

    def _post_token(self, org_membership_id, name, email_domains, form):
        body = {"orgMembershipId": org_membership_id, "name": name,
                "emailDomains": domains_to_wire(email_domains, form)}
        return self.client.request("POST", TOKENS_PATH, json_body=body,
                                   what="add a SCIM token (POST %s)" % TOKENS_PATH)

    def delete_token(self, token_id):
        """Delete one token; False when it was already gone (404)."""
        path = "%s/%s" % (TOKENS_PATH, token_id)
        try:
            self.client.request("DELETE", path, what="delete SCIM token %s (DELETE %s)" % (token_id, path))
        except NotFoundError:
            return False
        return True

    def token_works(self, scim_url, secret):
        """ASSUMED: a token authenticates ``GET <scim_url>/Users?count=1``; 401/403 when it does not."""
        probe = scim_url.rstrip("/") + "/Users?count=1"
        status = self.client.probe_bearer(probe, secret)
        if status in (401, 403):
            return False
        if 200 <= status < 300:
            return True
        if status == 404:
            # ASSUMED: the documented /scim/ base; some deployments may serve /scim/v2/ (docs/api-assumptions.md).
            raise NotFoundError(
                "GET %s answered HTTP 404, so Resolver's SCIM service is not at %s. Set scim_url to the SCIM base URL "
                "of this deployment, the one the identity provider uses (for example %s)."
                % (probe, scim_url, _other_scim_base(scim_url)), status)
        raise ServerError("The SCIM endpoint %s answered HTTP %d to the token check." % (scim_url, status), status)


def _other_scim_base(scim_url):
    """The other known form of a SCIM base URL: /scim/ for /scim/v2/ and the reverse."""
    base = scim_url.rstrip("/")
    if base.endswith("/scim/v2"):
        return base[:-len("/v2")] + "/"
    return base + "/v2/" if base.endswith("/scim") else base + "/scim/"
