#!/usr/bin/python
# -*- coding: utf-8 -*-
# Copyright: (c) 2026, resolver.scim contributors
# GNU General Public License v3.0+ (see LICENSES/GPL-3.0-or-later.txt or https://www.gnu.org/licenses/gpl-3.0.txt)

DOCUMENTATION = r"""
module: org_membership_info
short_description: Find a Resolver user's org membership id (who am I, then load the membership)
version_added: 0.1.0
description:
  - Does steps 1 to 10 of Resolver's help article "Generating SCIM Tokens" in one read-only task.
  - With no options it reads the caller (C(GET /user/users/me)) and then the caller's membership in its current
    org (C(GET /user/org/{orgId}/user/{userId})), whose id is what a SCIM token is created against.
  - O(user_id) and O(org_id) look up another user's membership.
  - Loading a membership needs an Administrator; the module fails with a message saying so when the caller is not one.
author:
  - resolver.scim maintainers (@resolver-scim)
options:
  user_id:
    description:
      - Internal id of the user whose membership to load. Defaults to the caller.
    type: int
extends_documentation_fragment:
  - resolver.scim.connection
  - resolver.scim.attributes
  - resolver.scim.attributes.info_module
seealso:
  - module: resolver.scim.scim_token
  - module: resolver.scim.scim_token_info
"""

EXAMPLES = r"""
- name: Who am I, and what is my org membership id?
  resolver.scim.org_membership_info:
    url: https://acme.resolver.com
    api_key: "{{ resolver_api_key }}"
  register: me

- name: Show it
  ansible.builtin.debug:
    msg: "{{ me.email }} is membership {{ me.org_membership_id }} in {{ me.org_name }} (admin: {{ me.is_admin }})"

- name: Load another user's membership, connection options from RESOLVER_* environment variables
  resolver.scim.org_membership_info:
    user_id: 4711
  register: service_account

- name: Session authentication instead of an API key
  resolver.scim.org_membership_info:
    url: https://acme.resolver.com
    username: scim-service@acme.com
    password: "{{ vault_resolver_password }}"
    org_id: 12
"""

RETURN = r"""
user_id:
  description: Internal id of the user.
  returned: success
  type: int
  sample: 4711
email:
  description: Email of the user, when Resolver reports it (always for the caller).
  returned: success
  type: str
  sample: scim-service@acme.com
org_id:
  description: Internal id of the org (C(currentOrg.id)).
  returned: success
  type: int
  sample: 12
org_name:
  description: Name of the org, when Resolver reports it.
  returned: success
  type: str
  sample: Acme Corp
org_membership_id:
  description: The org membership id; C(resolver.scim.scim_token) creates tokens against it.
  returned: success
  type: int
  sample: 3456
is_admin:
  description:
    - Whether the user is an Administrator of the org. For the caller this is true whenever the membership could be
      read (reading one needs an Administrator) unless Resolver says otherwise; for another user it is Resolver's
      C(isAdmin), or null when Resolver does not report it.
  returned: success
  type: bool
  sample: true
active:
  description: Whether the membership is active, when Resolver reports it.
  returned: success
  type: bool
  sample: true
membership:
  description: The membership object as Resolver returned it, unknown fields included.
  returned: success
  type: dict
  sample: {"id": 3456, "orgId": 12, "userId": 4711, "isAdmin": true, "active": true}
"""

from ansible_collections.resolver.scim.plugins.module_utils._module import resolver_module, run_module

ARGUMENT_SPEC = dict(user_id=dict(type="int"))
MODULE_RULES = dict(supports_check_mode=True)


def run(module, api):
    return False, api.membership_facts(module.params["user_id"], module.params["org_id"]), None


def main():
    run_module(resolver_module(ARGUMENT_SPEC, **MODULE_RULES), run)


if __name__ == "__main__":
    main()
