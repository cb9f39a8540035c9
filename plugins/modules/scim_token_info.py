#!/usr/bin/python
# -*- coding: utf-8 -*-
# Copyright: (c) 2026, resolver.scim contributors
# GNU General Public License v3.0+ (see LICENSES/GPL-3.0-or-later.txt or https://www.gnu.org/licenses/gpl-3.0.txt)

DOCUMENTATION = r"""
module: scim_token_info
short_description: List a Resolver org's SCIM tokens with their expiry, and flag the expiring ones
version_added: 0.1.0
description:
  - Lists the org's SCIM tokens as metadata (Resolver never shows a token value again), optionally only those of
    one O(name).
  - Flags tokens that expire within O(expiry_warning_days), tokens already expired, and names with more than one
    live token, and warns about each expiring or expired token. Read-only.
author:
  - resolver.scim maintainers (@resolver-scim)
options:
  name:
    description: Only list tokens with this name.
    type: str
  expiry_warning_days:
    description: A live token that expires in fewer than this many days is listed in RV(expiring) and warned about.
    type: int
    default: 30
  check_values:
    description:
      - Stored token values to check against the live tokens, for example before copying them to another store.
      - Each value is checked only when its O(check_values[].token_id) is a live token of the org, by using it once in
        C(GET <scim_url>/Users?count=1), a read (the request of O(resolver.scim.scim_token#module:verify)).
      - Resolver never shows a token value again, so no read can tell which live token a working value belongs to;
        the check proves that the token is live and that the value works. See RV(value_checks).
    type: list
    elements: dict
    default: []
    suboptions:
      token_id:
        description: The id of the token the value is recorded for.
        type: int
        required: true
      value:
        description: The token value (never returned or logged).
        type: str
        required: true
  scim_url:
    description:
      - Base URL of Resolver's SCIM 2.0 service, where O(check_values) are used.
      - Defaults to O(url) with a trailing C(/api) removed, plus C(/scim/).
    type: str
extends_documentation_fragment:
  - resolver.scim.connection
  - resolver.scim.attributes
  - resolver.scim.attributes.info_module
seealso:
  - module: resolver.scim.scim_token
  - module: resolver.scim.org_membership_info
  - module: resolver.scim.scim_token_plan
"""

EXAMPLES = r"""
- name: List every SCIM token of the org
  resolver.scim.scim_token_info:
    url: https://acme.resolver.com
    api_key: "{{ resolver_api_key }}"
  register: scim

- name: Fail a scheduled check when a token expires within 45 days
  resolver.scim.scim_token_info:
    expiry_warning_days: 45
  register: scim
  failed_when: scim.expiring | length > 0 or scim.expired | length > 0

- name: Tokens of one name
  resolver.scim.scim_token_info:
    name: okta
  register: okta
"""

RETURN = r"""
tokens:
  description: The tokens, oldest first.
  returned: success
  type: list
  elements: dict
  contains:
    id:
      description: Token id.
      type: int
      sample: 1043
    name:
      description: Token name.
      type: str
      sample: okta
    email_domains:
      description: Email domains the token may provision.
      type: list
      elements: str
      sample: [acme.com, acme.org]
    org_membership_id:
      description: Org membership that owns the token.
      type: int
      sample: 3456
    created:
      description: Creation time (ISO 8601, UTC).
      type: str
      sample: "2026-11-28T12:00:00Z"
    expires:
      description: Expiry time (ISO 8601, UTC).
      type: str
      sample: "2028-11-28T12:00:00Z"
    days_to_expiry:
      description: Days until expiry, to the nearest day (730 for a new token; negative once expired).
      type: int
      sample: 730
    expired:
      description: Whether the token has expired.
      type: bool
      sample: false
  sample: [{"id": 1043, "name": "okta", "email_domains": ["acme.com"], "org_membership_id": 3456,
            "created": "2026-11-28T12:00:00Z", "expires": "2028-11-28T12:00:00Z", "days_to_expiry": 730,
            "expired": false}]
expiring:
  description: Live tokens that expire within O(expiry_warning_days), in the form of RV(tokens).
  returned: success
  type: list
  elements: dict
  sample: []
expired:
  description: Expired tokens, in the form of RV(tokens).
  returned: success
  type: list
  elements: dict
  sample: []
unknown_expiry:
  description:
    - Tokens that Resolver lists without an expiry or creation date, in the form of RV(tokens). Their renewal cannot
      be planned, so they are reported (with a warning) instead of being trusted never to expire.
  returned: success
  type: list
  elements: dict
  sample: []
duplicates:
  description: Names with more than one live token, and those tokens' ids (newest last).
  returned: success
  type: dict
  sample: {"okta": [1042, 1043]}
value_checks:
  description:
    - One result per item of O(check_values), in its order, never a value.
    - C(live) says the token id is a live token of the org; C(works) says the value authenticates at the SCIM
      endpoint (V(null) when the token is not live, whose value is then not sent).
  returned: success
  type: list
  elements: dict
  sample: [{"token_id": 1043, "live": true, "works": true}, {"token_id": 1042, "live": false, "works": null}]
"""

import datetime

from ansible_collections.resolver.scim.plugins.module_utils._client import check_url
from ansible_collections.resolver.scim.plugins.module_utils._module import resolver_module, run_module
from ansible_collections.resolver.scim.plugins.module_utils._token_service import default_scim_url
from ansible_collections.resolver.scim.plugins.module_utils._tokens import (
    ScimToken,
    check_days,
    utcnow,
)

ARGUMENT_SPEC = dict(
    name=dict(type="str"),
    expiry_warning_days=dict(type="int", default=30),
    check_values=dict(type="list", elements="dict", default=[], options=dict(
        token_id=dict(type="int", required=True, no_log=False),
        value=dict(type="str", required=True, no_log=True),
    )),
    scim_url=dict(type="str"),
)
MODULE_RULES = dict(supports_check_mode=True)


def value_checks(api, checks, live_ids, scim_url):
    """Whether each value's token is live and, for a live one, whether the value works (one SCIM read each)."""
    return [{"token_id": check["token_id"], "live": check["token_id"] in live_ids,
             "works": api.token_works(scim_url, check["value"]) if check["token_id"] in live_ids else None}
            for check in checks]


def run(module, api):
    warning_days = check_days(module.params["expiry_warning_days"], "expiry_warning_days")
    name = module.params["name"]
    now = utcnow()
    tokens = sorted((t for t in api.list_tokens() if name is None or t.name == name), key=ScimToken.sort_key)
    listed = [t.as_dict(now) for t in tokens]
    expired = [t for t in listed if t["expired"]]
    # Exact times, as scim_token decides a renewal (days_to_expiry is rounded for reading).
    expiring = [view for token, view in zip(tokens, listed) if token.is_live(now) and token.expires is not None
                and token.expires - now < datetime.timedelta(days=warning_days)]
    live_by_name = {}
    for token in listed:
        if not token["expired"]:
            live_by_name.setdefault(token["name"], []).append(token["id"])
    unknown = [t for t in listed if t["expires"] is None]
    for token in unknown:
        module.warn("SCIM token %s (%s) is listed without an expiry or creation date, so nobody can tell when it stops "
                    "working; rotate it, and check docs/api-assumptions.md (token expiry)." % (token["id"], token["name"]))
    for token in expired:
        module.warn("SCIM token %s (%s) expired on %s: provisioning with it has stopped."
                    % (token["id"], token["name"], token["expires"]))
    for token in expiring:
        module.warn("SCIM token %s (%s) expires in %d day(s), on %s."
                    % (token["id"], token["name"], token["days_to_expiry"], token["expires"]))
    scim_url = (check_url(module.params["scim_url"], option="scim_url") if module.params["scim_url"]
                else default_scim_url(api.client.base_url))
    live_ids = {token["id"] for token in listed if not token["expired"]}
    result = dict(tokens=listed, expiring=expiring, expired=expired, unknown_expiry=unknown,
                  duplicates={k: v for k, v in live_by_name.items() if len(v) > 1},
                  value_checks=value_checks(api, module.params["check_values"], live_ids, scim_url))
    return False, result, None


def main():
    run_module(resolver_module(ARGUMENT_SPEC, **MODULE_RULES), run)


if __name__ == "__main__":
    main()
