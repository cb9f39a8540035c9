#!/usr/bin/python
# -*- coding: utf-8 -*-
# Copyright: (c) 2026, resolver.scim contributors
# GNU General Public License v3.0+ (see LICENSES/GPL-3.0-or-later.txt or https://www.gnu.org/licenses/gpl-3.0.txt)

DOCUMENTATION = r"""
module: scim_token_plan
short_description: Plan a Resolver org's SCIM tokens against a declared list, with one read
version_added: 0.1.0
description:
  - Reads the org's SCIM tokens once and decides, for every declared token, what M(resolver.scim.scim_token) would
    do. It runs the same decision code as that module, so a role can call M(resolver.scim.scim_token) only for the
    entries that need action. Read-only; the planning step of the C(resolver.scim.scim_tokens) role.
  - Also reports drift by category (missing, expiring, expired, domain mismatch, unstored, superseded, extra), so
    it doubles as a scheduled drift check.
  - Every entry is validated before the read; a bad entry fails the task with a message that names it.
author:
  - resolver.scim maintainers (@resolver-scim)
options:
  tokens:
    description:
      - The declared tokens, one entry per identity provider connection.
      - Each entry has C(name) (required), C(email_domains) (required unless C(state=absent)), C(state)
        (V(present), V(absent) or V(rotated); default V(present)), C(rotate_before_days) (default V(30)) and
        C(previous) (V(revoke) or V(keep); default V(revoke)), as in M(resolver.scim.scim_token). Names must be
        unique.
    type: list
    elements: dict
    required: true
  exclusive:
    description: Plan the removal of the org's tokens whose name is not declared in O(tokens).
    type: bool
    default: false
  stored:
    description:
      - Token name to the id of the token whose value the secret store holds.
      - When given and O(heal_unstored=true), a live token the store does not hold is planned for replacement
        (action C(healed)), so that no live token exists whose value nobody holds. Leave it out when nothing is
        stored.
    type: dict
  heal_unstored:
    description: Plan to replace a live token whose value the store (O(stored)) does not hold.
    type: bool
    default: true
  rotate:
    description: Names of declared tokens to rotate now, whatever their expiry (a forced rotation).
    type: list
    elements: str
    default: []
  require_admin:
    description:
      - Before planning, read the caller's org membership (two more requests, on the same connection) and fail
        unless the caller is an Administrator of the org, the only role that may change SCIM tokens. The membership
        is returned in RV(membership).
      - The C(resolver.scim.scim_tokens) role sets this, so that one module run per org does the whole read.
    type: bool
    default: false
  label:
    description: How error messages name O(tokens), for example V(resolver_scim_tokens) when a role calls this module.
    type: str
    default: tokens
extends_documentation_fragment:
  - resolver.scim.connection
  - resolver.scim.attributes
  - resolver.scim.attributes.info_module
seealso:
  - module: resolver.scim.scim_token
  - module: resolver.scim.scim_token_info
  - module: resolver.scim.org_membership_info
"""

EXAMPLES = r"""
- name: Plan two identity providers for an org
  resolver.scim.scim_token_plan:
    tokens:
      - name: okta
        email_domains: [acme.com, acme.org]
      - name: entra-id
        email_domains: [acme-labs.com]
        rotate_before_days: 60
  register: scim_plan

- name: Carry out only what the plan says
  resolver.scim.scim_token:
    name: "{{ item.name }}"
    email_domains: "{{ item.email_domains }}"
    state: "{{ item.module_state }}"
  loop: "{{ scim_plan.actions }}"
  no_log: true

- name: Fail a scheduled check when anything drifted
  resolver.scim.scim_token_plan:
    tokens: "{{ declared_tokens }}"
    exclusive: true
  register: scim_drift
  failed_when: scim_drift.drifted
"""

RETURN = r"""
entries:
  description: Every declared entry (and, with O(exclusive), every undeclared name), normalised, with its decision.
  returned: success
  type: list
  elements: dict
  contains:
    name:
      description: Token name.
      type: str
      sample: okta
    email_domains:
      description: Normalised email domains.
      type: list
      elements: str
      sample: [acme.com]
    action:
      description:
        - C(none), C(created), C(renewed), C(recreated), C(rotated), C(revoked) or C(deleted) as in
          M(resolver.scim.scim_token), or C(healed) (a fresh token replaces a live one the store does not hold).
      type: str
      sample: renewed
    reason:
      description: Why, in one sentence.
      type: str
      sample: token 1042 expires in 12 days, inside rotate_before_days=30
    module_state:
      description: The O(resolver.scim.scim_token#module:state) that carries out the action.
      type: str
      sample: present
    create:
      description: Whether the action issues a new token (whose value must then be stored).
      type: bool
      sample: true
    current_token_id:
      description: The current live token of the name before the action, if any.
      type: int
      sample: 1042
    revoke_ids:
      description: Tokens the action revokes.
      type: list
      elements: int
      sample: [1042]
    store:
      description: What the secret store must do, C(write), C(remove), or null.
      type: str
      sample: write
    store_key:
      description: A file-system-safe key for the name (names with other characters get a short hash appended).
      type: str
      sample: okta
  sample: [{"name": "okta", "email_domains": ["acme.com"], "state": "present", "rotate_before_days": 30,
            "previous": "revoke", "action": "none", "reason": "token 1042 is live for 700 days more",
            "module_state": "present", "create": false, "current_token_id": 1042, "revoke_ids": [], "store": null,
            "store_key": "okta"}]
actions:
  description: The RV(entries) whose action is not C(none).
  returned: success
  type: list
  elements: dict
  sample: []
undeclared:
  description: Tokens whose name is not declared, in the form of RV(resolver.scim.scim_token_info#module:tokens).
  returned: success
  type: list
  elements: dict
  sample: []
drift:
  description:
    - Drift by category, each a list of C(name) and C(reason) (C(expired) lists C(name), C(token_id), C(expires)).
    - C(missing) no live token; C(expiring) inside C(rotate_before_days); C(domain_mismatch) other domains;
      C(unstored) the store does not hold the live token; C(superseded) older tokens of a name;
      C(extra) declared absent or, with O(exclusive), not declared; C(expired) expired tokens of declared names.
  returned: success
  type: dict
  sample: {"missing": [], "expiring": [{"name": "okta", "reason": "token 1042 expires in 12 days"}], "expired": [],
           "domain_mismatch": [], "unstored": [], "superseded": [], "extra": []}
drifted:
  description: Whether a converge would change anything (RV(actions) is not empty).
  returned: success
  type: bool
  sample: true
next_expiry:
  description: The earliest expiry among the current tokens of the declared names (ISO 8601, UTC).
  returned: success
  type: str
  sample: "2028-11-28T12:00:00Z"
tokens:
  description: Every token of the org, in the form of RV(resolver.scim.scim_token_info#module:tokens).
  returned: success
  type: list
  elements: dict
  sample: []
membership:
  description: The caller's org membership, as M(resolver.scim.org_membership_info) returns it.
  returned: when O(require_admin=true)
  type: dict
  sample: {"user_id": 4711, "email": "scim-automation@acme.com", "org_id": 12, "org_name": "Acme Corp",
           "org_membership_id": 3456, "is_admin": true, "active": true, "membership": {"id": 3456}}
"""

from ansible_collections.resolver.scim.plugins.module_utils.client import PermissionDeniedError
from ansible_collections.resolver.scim.plugins.module_utils.module import resolver_module, run_module
from ansible_collections.resolver.scim.plugins.module_utils.org_plan import plan_org, validate_entries
from ansible_collections.resolver.scim.plugins.module_utils.tokens import InputError, utcnow

ARGUMENT_SPEC = dict(
    tokens=dict(type="list", elements="dict", required=True, no_log=False),
    exclusive=dict(type="bool", default=False),
    stored=dict(type="dict"),
    heal_unstored=dict(type="bool", default=True),
    rotate=dict(type="list", elements="str", default=[]),
    require_admin=dict(type="bool", default=False),
    label=dict(type="str", default="tokens"),
)
MODULE_RULES = dict(supports_check_mode=True)


def run(module, api):
    params = module.params
    entries = validate_entries(params["tokens"], params["label"])
    unknown = sorted(set(params["rotate"]) - {entry["name"] for entry in entries})
    if unknown:
        raise InputError("rotate names %s, which %s does not declare; declared: %s."
                         % (", ".join(unknown), params["label"], ", ".join(e["name"] for e in entries) or "none"))
    stored = params["stored"]
    if stored is not None:
        try:
            stored = dict((name, int(token_id)) for name, token_id in stored.items() if token_id is not None)
        except (TypeError, ValueError):
            raise InputError("stored must map token names to token ids (whole numbers).")
    membership = None
    if params["require_admin"]:
        membership = api.membership_facts()
        if not membership["is_admin"]:
            raise PermissionDeniedError(
                "%s is not an Administrator of org %s (%s); only Administrators manage SCIM tokens. Use the API key or "
                "account of a dedicated Administrator service account."
                % (membership["email"], membership["org_id"], membership["org_name"]))
    result = plan_org(entries, api.list_tokens(), utcnow(), stored=stored, exclusive=params["exclusive"],
                      heal_unstored=params["heal_unstored"], rotate=params["rotate"])
    if membership is not None:
        result["membership"] = membership
    return False, result, None


def main():
    run_module(resolver_module(ARGUMENT_SPEC, **MODULE_RULES), run)


if __name__ == "__main__":
    main()
