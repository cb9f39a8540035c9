#!/usr/bin/python
# -*- coding: utf-8 -*-
# Copyright: (c) 2026, resolver.scim contributors
# GNU General Public License v3.0+ (see LICENSES/GPL-3.0-or-later.txt or https://www.gnu.org/licenses/gpl-3.0.txt)

DOCUMENTATION = r"""
module: scim_token
short_description: Create, renew, rotate and revoke Resolver SCIM tokens idempotently
version_added: 0.1.0
description:
  - Does steps 11 to 16 of Resolver's help article "Generating SCIM Tokens" as one idempotent task, and takes care
    of the two-year expiry that the article asks administrators to track in a calendar.
  - A token is identified by its O(name) within the org. When several live tokens share a name, the newest is
    I(current) and the others are I(superseded); a token newer than the current one is never revoked.
  - A new token is always created (and verified when O(verify=true)) before the token it replaces is revoked.
  - The token value is returned only in the run that created it (Resolver never shows it again). Put
    C(no_log=true) on a task that registers a new token, and store the value before doing anything else.
  - A create whose answer was lost (timeout, reset, 5xx after Resolver acted) is recovered. The tokens of this
    name that the run created are revoked and the create is tried once more, so a run never leaves a live
    token whose value it did not return.
author:
  - resolver.scim maintainers (@resolver-scim)
options:
  name:
    description:
      - The token's name within the org, for example the identity provider it serves (C(okta), C(entra-id)).
    type: str
    required: true
  email_domains:
    description:
      - Email domains the token may provision, without C(@). They must match the org's SSO setup.
      - Normalised (trimmed, lower-cased, de-duplicated, sorted); a value with C(@), a space, an empty value or
        anything that is not a domain name is refused before any request.
      - Required for O(state=present) and O(state=rotated).
    type: list
    elements: str
  state:
    description:
      - V(present) makes sure a live token with this name and these domains exists. It creates one when none is
        live, renews it (new token, old one revoked) when it expires within O(rotate_before_days), and replaces it
        when its domains differ (see O(recreate)). With nothing to do, it revokes superseded tokens
        (O(previous=revoke)) and otherwise changes nothing.
      - V(rotated) issues a new token now and revokes (or keeps, O(previous=keep)) the tokens it replaces. Always
        C(changed), like C(state=restarted) of a service; for scheduled or emergency rotation.
      - V(absent) deletes every token of this name, or only O(token_id). A token already gone counts as deleted.
    type: str
    choices: [present, absent, rotated]
    default: present
  rotate_before_days:
    description:
      - With O(state=present), renew the current token once it expires in fewer than this many days.
      - V(0) renews only expired tokens. At most 729 (tokens live 730 days).
    type: int
    default: 30
  recreate:
    description:
      - What O(state=present) does when the current token's domains differ from O(email_domains).
      - V(on_change) replaces it with a new token; V(never) fails with a message and changes nothing.
    type: str
    choices: [on_change, never]
    default: on_change
  previous:
    description:
      - What happens to the tokens a new one replaces (renewal, re-creation, rotation) and to superseded tokens.
      - V(revoke) deletes them once the new token exists (and works, with O(verify=true)).
      - V(keep) leaves them alive, so that the identity provider can be switched to the new token first; a later
        run with V(revoke) removes them.
    type: str
    choices: [revoke, keep]
    default: revoke
  verify:
    description:
      - Before revoking anything, prove that the new token authenticates at the SCIM endpoint (O(scim_url)).
      - When it does not, the previous tokens are kept and the task fails, still returning the new token in
        RV(token) so that it is not lost.
    type: bool
    default: false
  scim_url:
    description:
      - Base URL of Resolver's SCIM 2.0 service, used by O(verify), which checks the token with
        C(GET <scim_url>/Users?count=1).
      - Defaults to O(url) with a trailing C(/api) removed, plus C(/scim/), the SCIM connector base URL Resolver
        documents for identity providers (for example C(https://acme.resolver.com/scim/)).
      - Set it when your deployment serves SCIM elsewhere, for example C(https://acme.resolver.com/scim/v2/). A
        verification that gets HTTP 404 names the URL it tried.
    type: str
  org_membership_id:
    description:
      - The org membership that owns new tokens. Defaults to the caller's membership (who am I, then load the
        membership), which is looked up only when a token is created.
      - Resolver recommends a dedicated service account, because tokens stop working when their owner is deactivated.
    type: int
  token_id:
    description:
      - With O(state=absent), delete only this token (it must carry O(name)).
    type: int
extends_documentation_fragment:
  - resolver.scim.connection
  - resolver.scim.attributes
attributes:
  check_mode:
    description: Makes the same decision and returns the same RV(action) and RV(reason), sends no change and
      returns no token.
    support: full
  diff_mode:
    description: Shows the tokens of this name before and after (metadata and a short fingerprint, never a secret).
    support: full
seealso:
  - module: resolver.scim.scim_token_info
  - module: resolver.scim.org_membership_info
  - module: resolver.scim.scim_token_plan
"""

EXAMPLES = r"""
- name: Make sure Okta has a token for acme.com and acme.org (create, or renew within 30 days of expiry)
  resolver.scim.scim_token:
    url: https://acme.resolver.com
    api_key: "{{ resolver_api_key }}"
    name: okta
    email_domains: [acme.com, acme.org]
  register: okta_token
  no_log: true  # the result holds the new token value

- name: Store a newly issued token before anything else (it cannot be read again)
  ansible.builtin.copy:
    content: "{{ okta_token.token }}"
    dest: /secure/okta-scim-token
    mode: "0600"
  when: okta_token.token is defined
  no_log: true

- name: Renew earlier, and refuse to silently change the domains of an existing token
  resolver.scim.scim_token:
    name: entra-id
    email_domains: [acme-labs.com]
    rotate_before_days: 60
    recreate: never
  register: entra_token
  no_log: true

- name: Rotate now, keeping the old token alive until the identity provider has the new one
  resolver.scim.scim_token:
    name: okta
    email_domains: [acme.com, acme.org]
    state: rotated
    previous: keep
    verify: true
  register: rotated
  no_log: true

- name: Later, revoke the superseded token
  resolver.scim.scim_token:
    name: okta
    email_domains: [acme.com, acme.org]
    previous: revoke

- name: Delete every token named legacy-idp
  resolver.scim.scim_token:
    name: legacy-idp
    state: absent

- name: Delete one token by id
  resolver.scim.scim_token:
    name: okta
    token_id: 1234
    state: absent
"""

RETURN = r"""
action:
  description:
    - What the run did (or would do in check mode).
    - V(none), V(created), V(renewed) (the current token was about to expire), V(recreated) (its domains differed),
      V(rotated), V(revoked) (only superseded tokens were revoked) or V(deleted) (O(state=absent)).
  returned: always
  type: str
  sample: renewed
reason:
  description: Why, in one sentence.
  returned: always
  type: str
  sample: token 1042 expires in 12 days, inside rotate_before_days=30
token:
  description:
    - The new token's secret. Only in the run that created it, never in check mode; Resolver cannot show it again.
  returned: when a new token was issued
  type: str
  sample: 5e0f3c2b-...-redacted
token_id:
  description: Id of the current token after the run (the new one when one was issued); null when there is none.
  returned: always
  type: int
  sample: 1043
name:
  description: The token name.
  returned: always
  type: str
  sample: okta
email_domains:
  description: Domains of the current token.
  returned: always
  type: list
  elements: str
  sample: [acme.com, acme.org]
expires:
  description: Expiry of the current token (ISO 8601, UTC).
  returned: always
  type: str
  sample: "2028-11-28T12:00:00Z"
days_to_expiry:
  description: Days until the current token expires, to the nearest day (730 for a new token).
  returned: always
  type: int
  sample: 730
previous_token_ids:
  description:
    - Tokens that the new token replaced or that were superseded, revoked (O(previous=revoke)) or kept
      (O(previous=keep)); with O(state=absent), the deleted tokens.
  returned: always
  type: list
  elements: int
  sample: [1042]
diff:
  description: Tokens of this name before and after, as metadata; a new token shows only a short fingerprint.
  returned: always
  type: dict
  sample: {"before": {"name": "okta", "tokens": [{"id": 1042, "email_domains": ["acme.com"]}]},
           "after": {"name": "okta", "tokens": [{"id": 1043, "fingerprint": "sha256:0a1b2c3d4e5f"}]}}
"""

import copy

from ansible_collections.resolver.scim.plugins.module_utils._client import check_url
from ansible_collections.resolver.scim.plugins.module_utils._errors import InputError, TokenRunFailed
from ansible_collections.resolver.scim.plugins.module_utils._module import resolver_module, run_module
from ansible_collections.resolver.scim.plugins.module_utils._token_service import default_scim_url, execute_token_plan
from ansible_collections.resolver.scim.plugins.module_utils._tokens import (
    RECREATE_CHOICES,
    TOKEN_ENTRY_OPTIONS,
    check_days,
    check_name,
    decide,
    normalize_domains,
    utcnow,
)

ARGUMENT_SPEC = dict(
    copy.deepcopy(TOKEN_ENTRY_OPTIONS),
    recreate=dict(type="str", choices=list(RECREATE_CHOICES), default="on_change"),
    verify=dict(type="bool", default=False),
    scim_url=dict(type="str"),
    org_membership_id=dict(type="int"),
    token_id=dict(type="int", no_log=False),
)
MODULE_RULES = dict(supports_check_mode=True)


def validated(params, base_url):
    """Every option checked before the first request; returns (email_domains, verify_url)."""
    check_name(params["name"])
    state = params["state"]
    check_days(params["rotate_before_days"], "rotate_before_days")
    domains = None
    if state != "absent" or params["email_domains"]:
        if state != "absent" and params["email_domains"] is None:
            raise InputError("email_domains is required with state=%s: list the domains the token may provision, "
                             "for example [acme.com]." % state)
        domains = normalize_domains(params["email_domains"])
    if params["token_id"] is not None and state != "absent":
        raise InputError("token_id is only used with state=absent (to delete one token); remove it for state=%s."
                         % state)
    verify_url = None
    if params["verify"]:
        verify_url = (check_url(params["scim_url"], option="scim_url") if params["scim_url"]
                      else default_scim_url(base_url))
    return domains, verify_url


def run(module, api):
    params = module.params
    domains, verify_url = validated(params, api.client.base_url)
    now = utcnow()
    tokens = api.list_tokens()
    plan = decide(params["state"], params["name"], tokens, now, email_domains=domains,
                  rotate_before_days=params["rotate_before_days"], recreate=params["recreate"],
                  previous=params["previous"], token_id=params["token_id"])
    if plan.failure:
        raise TokenRunFailed(plan.failure, {"action": plan.action, "reason": plan.reason})
    result, diff = execute_token_plan(api, plan, params["name"], domains, now, module.check_mode,
                                      membership_id=params["org_membership_id"], verify_url=verify_url, tokens=tokens)
    return plan.changed, result, diff


def main():
    run_module(resolver_module(ARGUMENT_SPEC, **MODULE_RULES), run)


if __name__ == "__main__":
    main()
