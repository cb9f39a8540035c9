# -*- coding: utf-8 -*-
# Copyright: (c) 2026, resolver.scim contributors
# GNU General Public License v3.0+ (see LICENSES/GPL-3.0-or-later.txt or https://www.gnu.org/licenses/gpl-3.0.txt)
"""Carry out a token plan against Resolver safely: create first, verify, revoke last; recover lost creates."""

from ansible_collections.resolver.scim.plugins.module_utils._errors import (
    ResolverError,
    TokenRunFailed,
    UncertainWriteError,
)
from ansible_collections.resolver.scim.plugins.module_utils._tokens import fingerprint, iso, named


def default_scim_url(base_url):
    """The SCIM connector base URL Resolver documents for identity providers, ``<env URL>/scim/``, for a Core API
    base URL (a trailing /api removed). ``/scim/v2/`` is a tolerated variant that users set with scim_url."""
    base = base_url.rstrip("/")
    if base.endswith("/api"):
        base = base[:-len("/api")]
    return base + "/scim/"


def create_token_once(api, membership_id, name, email_domains, known_ids):
    """Create one token and return (metadata, secret).

    When Resolver may have created it without our getting the answer (timeout, reset, 5xx), the token is
    live but its value is lost: re-read the list, revoke every token of this name that this run created,
    and try once more. So a run never leaves a live token whose value it did not return.
    """
    failures = []
    for _attempt in range(2):
        try:
            return api.create_token(membership_id, name, email_domains)
        except UncertainWriteError as exc:
            failures.append(exc.message)
            try:
                orphans = [t for t in api.list_tokens() if t.name == name and t.id not in known_ids]
                for orphan in orphans:
                    api.delete_token(orphan.id)
            except ResolverError as cleanup:
                raise TokenRunFailed(
                    "Creating the token %r got no usable answer (%s), and checking whether Resolver created it "
                    "failed too (%s). A token named %r may exist whose value nobody has: run again, then "
                    "resolver.scim.scim_token_info shows it; delete it with state=absent and token_id."
                    % (name, exc.message, cleanup.message, name))
    raise TokenRunFailed("Creating the token %r failed twice without a usable answer (%s); any token Resolver created "
                         "in the attempt was revoked, and the previous token(s) were kept." % (name, "; ".join(failures)))


def token_view(token, now):
    """Metadata for results and diffs (never a secret)."""
    return {"id": token.id, "email_domains": list(token.email_domains), "expires": iso(token.expires),
            "days_to_expiry": token.days_to_expiry(now)}


def current_fields(token, now):
    """The result fields that describe the current token (token_view, with the id as token_id)."""
    fields = token_view(token, now)
    fields["token_id"] = fields.pop("id")
    return fields


def execute_token_plan(api, plan, name, email_domains, now, check_mode, membership_id=None, verify_url=None, tokens=()):
    """Carry out ``plan``; return (result, diff). In check mode nothing is sent but the decision is the same."""
    mine = named(tokens, name)
    before = {"name": name, "tokens": [token_view(t, now) for t in mine]}
    previous = plan.revoke + plan.keep
    result = {"action": plan.action, "reason": plan.reason, "name": name,
              "previous_token_ids": [t.id for t in previous]}
    current = plan.current
    new_token, secret = None, None

    if plan.create and not check_mode:
        membership_id = membership_id or api.caller_membership_id()
        new_token, secret = create_token_once(api, membership_id, name, email_domains, {t.id for t in tokens})
        result["token"] = secret
        if verify_url:
            try:
                works, problem = api.token_works(verify_url, secret), "does not authenticate at %s" % verify_url
            except ResolverError as exc:
                works, problem = False, "could not be checked at %s (%s)" % (verify_url, exc.message)
            if not works:
                result.update(current_fields(new_token, now), previous_token_ids=[])
                raise TokenRunFailed(
                    "The new token %s was created but %s (verify=true), so the previous token(s) %s were kept. "
                    "The new token is returned in 'token' so that it is not lost; check the SCIM endpoint "
                    "(scim_url) and the org's SSO setup, then run again."
                    % (new_token.id, problem, ", ".join(str(t.id) for t in previous) or "(none)"), result)
    if not check_mode:
        for token in plan.revoke:
            try:
                api.delete_token(token.id)
            except ResolverError as exc:
                if secret is None:
                    raise
                # The new token exists: its value must reach the caller even though the revocation failed.
                result.update(current_fields(new_token, now))
                raise TokenRunFailed("The new token %s was created, but revoking token %s failed (%s). The new token "
                                     "is returned in 'token'; run again to revoke the old one."
                                     % (new_token.id, token.id, exc.message), result)

    if plan.create:
        current = new_token
    if current is not None:
        result.update(current_fields(current, now))
    else:
        result.update(token_id=None, email_domains=list(email_domains or ()), expires=None, days_to_expiry=None)

    after_tokens = [token_view(t, now) for t in mine if t not in plan.revoke]
    if plan.create:
        after_tokens.append(token_view(new_token, now) if new_token else
                            {"id": "(new)", "email_domains": list(email_domains), "expires": "(two years on)"})
        if secret:
            after_tokens[-1]["fingerprint"] = fingerprint(secret)
    diff = {"before": before, "after": {"name": name, "tokens": after_tokens}}
    return result, diff
