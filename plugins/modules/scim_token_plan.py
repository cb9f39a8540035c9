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
  - Also reports drift by category (C(missing), C(expiring), C(expired), C(domain_mismatch), C(unstored),
    C(superseded), C(extra), C(unknown_expiry), C(handover_pending), C(store_unknown), C(idp_cannot_provision),
    C(idp_target_changed); see RV(drift)), so it doubles
    as a scheduled drift check.
  - Every entry is validated before the read; a bad entry fails the task with a message that names it.
author:
  - resolver.scim maintainers (@resolver-scim)
options:
  tokens:
    description:
      - The declared tokens, one entry per identity provider connection. Names must be unique.
      - An entry with O(tokens[].entra) or O(tokens[].handover_tasks) is planned for action C(handover) when the
        store does not record the live token as handed over (a new setup, or a run that stopped between the
        handover and its finish).
    type: list
    elements: dict
    required: true
    suboptions:
      name:
        description: The token's name in the org, as O(resolver.scim.scim_token#module:name).
        type: str
        required: true
      email_domains:
        description: Email domains the token may provision; required unless O(tokens[].state=absent).
        type: list
        elements: str
      state:
        description: As O(resolver.scim.scim_token#module:state).
        type: str
        choices: [present, absent, rotated]
        default: present
      rotate_before_days:
        description: As O(resolver.scim.scim_token#module:rotate_before_days).
        type: int
        default: 30
      previous:
        description: As O(resolver.scim.scim_token#module:previous).
        type: str
        choices: [revoke, keep]
        default: revoke
      entra:
        description:
          - Hand the token's value to this Microsoft Entra ID enterprise app (see M(resolver.scim.entra_provisioning)).
        type: dict
        suboptions:
          service_principal_id:
            description: The Object ID of the enterprise application.
            type: str
            required: true
          job_id:
            description: Its provisioning job; found from its SCIM job when left out.
            type: str
      handover_tasks:
        description: A task file that hands the token's value to its identity provider (the role includes it).
        type: str
      handover_check_tasks:
        description:
          - With O(tokens[].handover_tasks), a task file that asks the identity provider whether it can provision
            with the token it holds (the role includes it, without the value, and passes what it finds as
            O(idp_failing) and O(idp_targets_found)). Listed in RV(handover_checks) while the store records the live
            token as handed over.
        type: str
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
  store_records:
    description:
      - The records a token store read returns, one per stored token, each with C(name), C(token_id) and C(org_id)
        (and C(source), a location to name in messages). Never the token value.
      - The plan uses the one record of each name that belongs to this org. A record of another org, or a name
        recorded twice, is reported in RV(store_problems) and a warning and is not used, so a stray copy cannot
        make a run replace a token that an identity provider is using.
      - Mutually exclusive with O(stored); the C(resolver.scim.scim_tokens) role passes this.
    type: list
    elements: dict
  heal_unstored:
    description: Plan to replace a live token whose value the store (O(stored) or O(store_records)) does not hold.
    type: bool
    default: true
  store_org_known:
    description:
      - Whether the store of O(stored) or O(store_records) has ever been used for this org, because it holds a
        record of the org or the marker that the store's check leaves before the first token is issued. A store
        asked in the wrong place (another AWS region, Vault mount or path prefix, store directory, or a store on
        another machine) reads as empty, exactly like a lost store, and says V(false).
      - With V(false), a plan that would replace or revoke a live declared token the store does not hold (C(healed),
        C(renewed), C(rotated), C(recreated), C(revoked), C(handover)) is refused. The module fails before anything
        is changed, with a message (also in RV(refused)) that names the store, the tokens and what to do, and
        lists each of them under the drift category C(store_unknown). An org without a live declared token (a new
        one) is planned as usual, and so is a token declared C(absent).
    type: bool
    default: true
  store_is_new:
    description:
      - Confirm that the store is new for this org although the org has live tokens (the old store was lost, or the
        tokens were made outside this collection), and plan as with O(store_org_known=true). Meant for one run.
    type: bool
    default: false
  store_location:
    description:
      - Where the store looked for the org, named in the message of a refused plan, for example
        C(aws secretsmanager resolver-scim/acme/ (eu-west-1)).
    type: str
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
  idp_check:
    description:
      - Test what each Entra ID enterprise app holds. For every live token that O(store_records) records as handed
        to an app (C(idp_token_id) and C(idp_target) of the record), run Entra ID's C(validateCredentials) with the
        saved credentials, through Microsoft Graph with O(entra_connection). An app that cannot provision with what
        it holds is drift C(idp_cannot_provision), and its entry is planned for action C(handover) (the live token is
        handed over again).
      - Costs an access token and one validation per handed-over token (plus a job list when the record has no
        C(idp_job_id)). C(validateCredentials) changes nothing, so it also runs in check mode.
    type: bool
    default: false
  idp_failing:
    description:
      - Entry name to why its identity provider cannot provision with what it holds, as found by the entry's own
        check tasks (O(tokens[].handover_check_tasks)). Each such entry is drift C(idp_cannot_provision) and is
        planned for action C(handover), which hands its live token over again. Joins what O(idp_check) finds.
    type: dict
    default: {}
  idp_targets_found:
    description:
      - Entry name to the target its check tasks found the token is handed to now (for example
        C(okta:acme.okta.com/app/0oa1...)). It replaces the entry's default target (C(handover_tasks:<file>)); one
        that differs from the store's C(idp_target) is drift C(idp_target_changed), planned as a handover there.
    type: dict
    default: {}
  entra_connection:
    description:
      - The connection to Entra ID and Microsoft Graph, with the options (and environment fallbacks) of
        M(resolver.scim.entra_provisioning)'s C(group/resolver.scim.entra) - one way of signing in (a client secret,
        a certificate, a workload identity token file or a managed identity), C(authority_url), C(graph_url),
        C(validate_certs), C(ca_path), C(timeout).
      - Used by O(idp_check); its C(tenant_id) also completes the target an Entra ID entry is planned for
        (C(entra:<tenant_id>/<service_principal_id>)), so that a changed target is drift C(idp_target_changed).
    type: dict
    suboptions:
      tenant_id:
        description: As O(resolver.scim.entra_provisioning#module:tenant_id) (also C(AZURE_TENANT_ID), C(AZURE_TENANT)).
        type: str
      client_id:
        description: As O(resolver.scim.entra_provisioning#module:client_id) (also C(AZURE_CLIENT_ID)).
        type: str
      client_secret:
        description: As O(resolver.scim.entra_provisioning#module:client_secret) (also C(AZURE_CLIENT_SECRET),
          C(AZURE_SECRET)).
        type: str
      client_certificate_path:
        description: As O(resolver.scim.entra_provisioning#module:client_certificate_path) (also
          C(AZURE_CLIENT_CERTIFICATE_PATH)).
        type: path
      client_certificate:
        description: As O(resolver.scim.entra_provisioning#module:client_certificate).
        type: str
      client_certificate_password:
        description: As O(resolver.scim.entra_provisioning#module:client_certificate_password) (also
          C(AZURE_CLIENT_CERTIFICATE_PASSWORD)).
        type: str
      send_certificate_chain:
        description: As O(resolver.scim.entra_provisioning#module:send_certificate_chain).
        type: bool
        default: false
      federated_token_file:
        description: As O(resolver.scim.entra_provisioning#module:federated_token_file) (also
          C(AZURE_FEDERATED_TOKEN_FILE)).
        type: path
      managed_identity:
        description: As O(resolver.scim.entra_provisioning#module:managed_identity).
        type: bool
        default: false
      authority_url:
        description: As O(resolver.scim.entra_provisioning#module:authority_url).
        type: str
        default: https://login.microsoftonline.com
      graph_url:
        description: As O(resolver.scim.entra_provisioning#module:graph_url).
        type: str
        default: https://graph.microsoft.com
      validate_certs:
        description: As O(resolver.scim.entra_provisioning#module:validate_certs).
        type: bool
        default: true
      ca_path:
        description: As O(resolver.scim.entra_provisioning#module:ca_path).
        type: path
      timeout:
        description: As O(resolver.scim.entra_provisioning#module:timeout).
        type: int
        default: 30
  label:
    description:
      - How error messages name O(tokens). Meant for the C(resolver.scim.scim_tokens) role, which sets
        V(resolver_scim_tokens) so that its users read the name of their own variable.
    type: str
    default: tokens
  option_prefix:
    description:
      - What error messages put before the names of the other options. Meant for the C(resolver.scim.scim_tokens)
        role, which sets V(resolver_scim_) so that its users read the names of their own variables
        (V(resolver_scim_heal_unstored) for O(heal_unstored)).
    type: str
    default: ""
attributes:
  check_mode:
    description: Read-only; runs the same in check mode.
    support: full
  diff_mode:
    description:
      - Read-only. Returns RV(diff), the planned actions as a diff of the tokens' metadata; the
        C(resolver.scim.scim_tokens) role shows it with C(--diff). Never a value.
    support: full
extends_documentation_fragment:
  - resolver.scim.connection
  - resolver.scim.attributes
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
          M(resolver.scim.scim_token), C(healed) (a fresh token replaces a live one the store does not hold),
          C(handover) (the live token is handed to the identity provider that does not hold it yet), or C(refused)
          (in the failed result of a plan refused by O(store_org_known=false)).
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
      description:
        - A file-system-safe key for the name, at most 100 characters (names with other characters, or longer
          ones, are shortened and get a short hash appended).
      type: str
      sample: okta
    current_expires:
      description: Expiry of the current token before the action (ISO 8601, UTC), if there is one.
      type: str
      sample: "2028-11-28T12:00:00Z"
    handover:
      description:
        - For an entry with C(entra) or C(handover_tasks) whose value must be handed over in this run, where to
          (C(to), C(entra), C(tasks)) and where the value comes from (C(value_from), V(issue) for a new token,
          V(pending) or V(current) for one the store holds); else null.
      type: dict
      sample: {"to": "Entra ID (service principal 6c2d...)", "entra": {"service_principal_id": "6c2d...",
               "job_id": null}, "tasks": null, "value_from": "issue"}
    issue:
      description:
        - The M(resolver.scim.scim_token) arguments that carry out a creating action, or null. Outside check mode
          they keep the replaced tokens (C(previous=keep)) so that they can be revoked once the new value is stored.
      type: dict
      sample: {"name": "okta", "email_domains": ["acme.com"], "state": "present", "rotate_before_days": 30,
               "previous": "keep"}
  sample: [{"name": "okta", "email_domains": ["acme.com"], "state": "present", "rotate_before_days": 30,
            "previous": "revoke", "action": "none", "reason": "token 1042 is live for 700 days more",
            "module_state": "present", "create": false, "current_token_id": 1042,
            "current_expires": "2028-10-30T12:00:00Z", "revoke_ids": [], "issue": null, "store": null,
            "store_key": "okta"}]
actions:
  description: The RV(entries) whose action is not C(none); empty in a plan refused by O(store_org_known=false).
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
      C(extra) declared absent or, with O(exclusive), not declared; C(expired) expired tokens of declared names;
      C(unknown_expiry) a current token listed without an expiry or creation date (a converge cannot fix it, so
      it is reported instead of being trusted never to expire); C(handover_pending) an identity provider that does
      not hold the live token; C(store_unknown) a live token that a store never used for this org does not hold
      (see O(store_org_known); the module then fails, and its failed result carries this plan);
      C(idp_cannot_provision) an Entra ID app that fails its test with the saved credentials (O(idp_check));
      C(idp_target_changed) a token the store records as handed to another target than the entry names now.
  returned: success
  type: dict
  sample: {"missing": [], "expiring": [{"name": "okta", "reason": "token 1042 expires in 12 days"}], "expired": [],
           "domain_mismatch": [], "unstored": [], "superseded": [], "extra": [], "unknown_expiry": [],
           "handover_pending": [], "store_unknown": [], "idp_cannot_provision": [], "idp_target_changed": []}
drifted:
  description:
    - Whether a converge would change anything (RV(actions) is not empty), or a current token's expiry is unknown.
    - The rotation that an entry's C(state=rotated) asks of every run is an action but not drift.
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
handed_over:
  description: The live tokens the store records as held by their Entra ID app (what O(idp_check) tests), with
    C(name), C(token_id), C(target), C(service_principal_id) and C(job_id).
  returned: success
  type: list
  elements: dict
  sample: []
handover_checks:
  description:
    - The live tokens the store records as handed over by an entry's own tasks whose entry names
      O(tokens[].handover_check_tasks), with C(name), C(token_id), C(target) (as the store records it) and C(tasks)
      (the check task file); empty when there are none, so that an org without them runs no check task.
  returned: success
  type: list
  elements: dict
  sample: [{"name": "okta", "token_id": 1044, "target": "okta:acme.okta.com/app/0oa1", "tasks": "/plays/okta-check.yml"}]
idp_targets:
  description: Each declared entry's identity provider target (entry name to target), as the store records it.
  returned: success
  type: dict
  sample: {"entra": "entra:72f988bf-86f1-41af-91ab-2d7cd011db47/6c2d1e0f-3a4b-4c5d-8e9f-0a1b2c3d4e5f"}
idp_checked:
  description: What O(idp_check) found, one item per tested token (C(name), C(token_id), C(target), C(can_provision),
    C(reason)); empty without O(idp_check).
  returned: success
  type: list
  elements: dict
  sample: [{"name": "entra", "token_id": 1043, "target": "entra:72f9.../6c2d...", "can_provision": true, "reason": null}]
refused:
  description:
    - Set when the plan was refused (O(store_org_known=false) and live declared tokens the store does not hold). The
      module failed, and nothing may be changed. Why, and what to do, is the failure's C(msg) (printed once, not
      repeated here). Never a token value.
  returned: on failure, when the plan was refused
  type: str
  sample: "the token store was never used for this org: msg says why and what to do"
store_problems:
  description: Store records that were not used (another org's record, a name recorded twice), one sentence each.
  returned: success
  type: list
  elements: str
  sample: []
exclusive:
  description: The O(exclusive) this plan was made with (a drift report lists undeclared tokens only without it).
  returned: success
  type: bool
  sample: false
scim_url:
  description: Resolver's SCIM base URL for this API URL (the documented C(<host>/scim/)), the one an identity provider is given.
  returned: success
  type: str
  sample: https://acme.resolver.com/scim/
api_url:
  description: The Resolver Core API base URL the plan read (with the org id it identifies the org).
  returned: success
  type: str
  sample: https://acme.resolver.com/api
diff:
  description:
    - For each token name with a planned action, its tokens' C(id), C(email_domains) and C(expires) now
      (C(before)) and after the action (C(after)), as a Terraform plan shows them; a token to be issued shows
      C((known after the issue)) for its id and expiry, and C(handed_over_to) names the identity provider it goes
      to. A name without tokens is left out (of C(before) when it has none yet, of C(after) when all are revoked). Never a value.
  returned: when RV(actions) is not empty
  type: dict
  sample: {"before": {"okta": {"tokens": [{"id": 1042, "email_domains": ["acme.com"],
                                           "expires": "2026-12-18T12:00:00Z"}]}},
           "after": {"okta": {"tokens": [{"id": "(known after the issue)", "email_domains": ["acme.com"],
                                          "expires": "(known after the issue)"}]}},
           "before_header": "Acme Corp: SCIM tokens now",
           "after_header": "Acme Corp: SCIM tokens after the planned actions"}
membership:
  description: The caller's org membership, as M(resolver.scim.org_membership_info) returns it.
  returned: when O(require_admin=true)
  type: dict
  sample: {"user_id": 4711, "email": "scim-automation@acme.com", "org_id": 12, "org_name": "Acme Corp",
           "org_membership_id": 3456, "is_admin": true, "active": true, "membership": {"id": 3456}}
"""

import copy

from ansible_collections.resolver.scim.plugins.module_utils._plan import plan_org
from ansible_collections.resolver.scim.plugins.module_utils._store_records import store_view
from ansible_collections.resolver.scim.plugins.module_utils._token_entries import PLAN_ENTRY_OPTIONS, validate_entries
from ansible_collections.resolver.scim.plugins.module_utils._api import not_administrator
from ansible_collections.resolver.scim.plugins.module_utils._entra import (
    ENTRA_ARGUMENT_SPEC,
    build_client,
    find_scim_job,
)
from ansible_collections.resolver.scim.plugins.module_utils._errors import CredentialsRejected, EntraError, InputError, TokenRunFailed
from ansible_collections.resolver.scim.plugins.module_utils._module import resolver_module, run_module
from ansible_collections.resolver.scim.plugins.module_utils._plan_diff import plan_diff
from ansible_collections.resolver.scim.plugins.module_utils._token_service import default_scim_url
from ansible_collections.resolver.scim.plugins.module_utils._tokens import utcnow

ARGUMENT_SPEC = dict(
    tokens=dict(type="list", elements="dict", required=True, no_log=False, options=copy.deepcopy(PLAN_ENTRY_OPTIONS)),
    exclusive=dict(type="bool", default=False),
    stored=dict(type="dict"),
    store_records=dict(type="list", elements="dict"),
    heal_unstored=dict(type="bool", default=True),
    store_org_known=dict(type="bool", default=True),
    store_is_new=dict(type="bool", default=False),
    store_location=dict(type="str"),
    rotate=dict(type="list", elements="str", default=[]),
    require_admin=dict(type="bool", default=False),
    idp_check=dict(type="bool", default=False),
    idp_failing=dict(type="dict", default={}),
    idp_targets_found=dict(type="dict", default={}),
    entra_connection=dict(type="dict", options=copy.deepcopy(ENTRA_ARGUMENT_SPEC)),
    label=dict(type="str", default="tokens"),
    option_prefix=dict(type="str", default=""),
)
MODULE_RULES = dict(supports_check_mode=True)


# A refused plan fails with the whole message as msg; its result says so once more only in short.
REFUSED_SEE_MSG = "the token store was never used for this org: msg says why and what to do"


def what_is_stored(params, api, membership):
    """A store_view of what the store holds (None: nothing is stored)."""
    if params["store_records"] is not None:
        org_id = membership["org_id"] if membership else api.whoami()["org_id"]
        return store_view(params["store_records"], org_id)
    stored = params["stored"]
    if stored is None:
        return None
    try:
        held = dict((name, int(token_id)) for name, token_id in stored.items() if token_id is not None)
    except (TypeError, ValueError):
        raise InputError("stored must map token names to token ids (whole numbers).")
    return {"held": held, "pending": {}, "idp": {}, "problems": []}


def check_idps(connection, handed_over):
    """Entra ID's test of the saved credentials for each handed-over token: one access token, one validation each
    (and a job list when the job is not known). A test that cannot run counts as failed, with its reason."""
    found, client = [], None
    for item in handed_over:
        reason = None
        try:
            client = client or build_client(connection)
            job_id = item["job_id"] or find_scim_job(client, item["service_principal_id"])["id"]
            client.validate_credentials(item["service_principal_id"], job_id, "test the saved credentials")
        except CredentialsRejected as exc:
            reason = exc.detail or exc.message
        except EntraError as exc:
            reason = "the test could not run: %s" % client.redact(exc.message)
        except InputError as exc:
            reason = "the test could not run: %s" % exc
        found.append({"name": item["name"], "token_id": item["token_id"], "target": item["target"],
                      "can_provision": reason is None, "reason": reason})
    return found


def declared_entries(params):
    """The declared entries, checked with the options that refer to them, before any request."""
    entries = validate_entries(params["tokens"], params["label"])
    unknown = sorted(set(params["rotate"]) - {entry["name"] for entry in entries})
    if unknown:
        raise InputError("rotate names %s, which %s does not declare; declared: %s."
                         % (", ".join(unknown), params["label"], ", ".join(e["name"] for e in entries) or "none"))
    if params["stored"] is not None and params["store_records"] is not None:
        raise InputError("stored and store_records are mutually exclusive; give one.")
    return entries


def plan_arguments(params, store, check_mode):
    """What plan_org is asked besides the entries, the token list and the IdP check's findings."""
    return dict(store=store, exclusive=params["exclusive"], heal_unstored=params["heal_unstored"],
                rotate=params["rotate"], check_mode=check_mode,
                store_org_known=params["store_org_known"] or params["store_is_new"],
                store_location=params["store_location"],
                entra_tenant=(params["entra_connection"] or {}).get("tenant_id"),
                idp_targets_found=params["idp_targets_found"], option_prefix=params["option_prefix"])


def idp_checked_plan(params, entries, tokens, arguments):
    """The plan, made once more when the IdP check finds identity providers that cannot provision (each of their
    tokens is then handed over again)."""
    now = utcnow()
    # What the entries' own check tasks found (handover_check_tasks) joins what Entra ID's test finds.
    failing = dict(params["idp_failing"])
    result = plan_org(entries, tokens, now, idp_failing=failing, **arguments)
    checked = []
    if params["idp_check"] and result["handed_over"]:
        checked = check_idps(params["entra_connection"] or {}, result["handed_over"])
    failing.update((c["name"], c["reason"]) for c in checked if not c["can_provision"])
    if len(failing) > len(params["idp_failing"]):
        result = plan_org(entries, tokens, now, idp_failing=failing, **arguments)
    result["idp_checked"] = checked
    return result


def run(module, api):
    params = module.params
    entries = declared_entries(params)
    membership = None
    if params["require_admin"]:
        membership = api.membership_facts()
        if not membership["is_admin"]:
            raise not_administrator(membership)
    store = what_is_stored(params, api, membership)
    problems = store["problems"] if store else []
    for problem in problems:
        module.warn(problem)
    result = idp_checked_plan(params, entries, api.list_tokens(), plan_arguments(params, store, module.check_mode))
    result["store_problems"] = problems
    result["scim_url"] = default_scim_url(api.client.base_url)
    result["api_url"] = api.client.base_url
    result["exclusive"] = params["exclusive"]
    if membership is not None:
        result["membership"] = membership
    refused = result.pop("refused")
    if refused:
        # The failed result keeps the plan, so that a drift check reports the refused tokens as drift.
        raise TokenRunFailed(refused, dict(result, refused=REFUSED_SEE_MSG))
    return False, result, plan_diff(result, (membership or {}).get("org_name") or result["api_url"])


def main():
    run_module(resolver_module(ARGUMENT_SPEC, **MODULE_RULES), run)


if __name__ == "__main__":
    main()
