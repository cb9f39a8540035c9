#!/usr/bin/python
# -*- coding: utf-8 -*-
# Copyright: (c) 2026, resolver.scim contributors
# GNU General Public License v3.0+ (see LICENSES/GPL-3.0-or-later.txt or https://www.gnu.org/licenses/gpl-3.0.txt)

DOCUMENTATION = r"""
module: scim_token_revoke
short_description: Revoke several Resolver SCIM tokens by id in one run
version_added: 0.1.0
description:
  - Revokes (deletes) the SCIM tokens listed in O(token_ids), with one token list and one request per token on a
    single connection. A token that is already gone counts as revoked.
  - The last step of a converge of the C(resolver.scim.scim_tokens) role, which passes every token its plan
    replaced, so that an org with many undeclared tokens is cleaned up in one task.
  - To remove the tokens of one name, or to replace a token, use M(resolver.scim.scim_token) instead.
author:
  - resolver.scim maintainers (@resolver-scim)
options:
  token_ids:
    description: Ids of the tokens to revoke. An empty list does nothing.
    type: list
    elements: int
    required: true
  names:
    description:
      - When given, only tokens with one of these names may be revoked; an id that belongs to a token of another
        name fails the task before anything is revoked.
    type: list
    elements: str
extends_documentation_fragment:
  - resolver.scim.connection
  - resolver.scim.attributes
attributes:
  check_mode:
    description: Reads the token list and reports which tokens would be revoked; sends no change.
    support: full
  diff_mode:
    description: Shows the listed tokens before and after (metadata only).
    support: full
seealso:
  - module: resolver.scim.scim_token
  - module: resolver.scim.scim_token_plan
"""

EXAMPLES = r"""
- name: Revoke the tokens a plan says are superseded
  resolver.scim.scim_token_revoke:
    token_ids: "{{ scim_plan.actions | map(attribute='revoke_ids') | flatten }}"

- name: Revoke two leftover tokens, refusing any that is not an old Okta token
  resolver.scim.scim_token_revoke:
    token_ids: [1041, 1042]
    names: [okta, okta-old]
"""

RETURN = r"""
revoked:
  description: Ids of the tokens this run revoked (in check mode, would revoke).
  returned: success
  type: list
  elements: int
  sample: [1041, 1042]
already_absent:
  description: Ids that Resolver does not list (already revoked).
  returned: success
  type: list
  elements: int
  sample: []
"""

from ansible_collections.resolver.scim.plugins.module_utils._errors import InputError
from ansible_collections.resolver.scim.plugins.module_utils._module import resolver_module, run_module
from ansible_collections.resolver.scim.plugins.module_utils._token_service import token_view
from ansible_collections.resolver.scim.plugins.module_utils._tokens import utcnow

ARGUMENT_SPEC = dict(
    token_ids=dict(type="list", elements="int", required=True, no_log=False),
    names=dict(type="list", elements="str"),
)
MODULE_RULES = dict(supports_check_mode=True)


def run(module, api):
    wanted = sorted(set(module.params["token_ids"]))
    if not wanted:
        return False, {"revoked": [], "already_absent": []}, None
    now = utcnow()
    listed = dict((t.id, t) for t in api.list_tokens())
    present = [listed[i] for i in wanted if i in listed]
    names = module.params["names"]
    if names is not None:
        foreign = ["%s (%s)" % (t.id, t.name) for t in present if t.name not in names]
        if foreign:
            raise InputError("token_ids include token(s) %s, whose names are not in names (%s); nothing was revoked."
                             % (", ".join(foreign), ", ".join(names)))
    revoked, absent = [], [i for i in wanted if i not in listed]
    for token in present:
        if module.check_mode or api.delete_token(token.id):
            revoked.append(token.id)
        else:
            absent.append(token.id)
    diff = {"before": {"tokens": [dict(token_view(t, now), name=t.name) for t in present]},
            "after": {"tokens": [dict(token_view(t, now), name=t.name) for t in present if t.id not in revoked]}}
    return bool(revoked), {"revoked": revoked, "already_absent": sorted(absent)}, diff


def main():
    run_module(resolver_module(ARGUMENT_SPEC, **MODULE_RULES), run)


if __name__ == "__main__":
    main()
