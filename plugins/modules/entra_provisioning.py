#!/usr/bin/python
# -*- coding: utf-8 -*-
# Copyright: (c) 2026, resolver.scim contributors
# GNU General Public License v3.0+ (see LICENSES/GPL-3.0-or-later.txt or https://www.gnu.org/licenses/gpl-3.0.txt)

DOCUMENTATION = r"""
module: entra_provisioning
short_description: Hand a Resolver SCIM token to a Microsoft Entra ID enterprise app and prove it works
version_added: 0.1.0
description:
  - Sets the provisioning credentials of an Entra ID enterprise application (the portal's "Tenant URL" and
    "Secret Token") through Microsoft Graph v1.0, C(PUT /servicePrincipals/{id}/synchronization/secrets) with the
    keys C(BaseAddress) and C(SecretToken). Both keys are always sent.
  - With O(validate=true) (the default) Entra ID's own connection test, C(validateCredentials) of the SCIM
    provisioning job, runs twice. First on the new credentials before they are saved, so a token that does not work
    is never saved and the app keeps what it had. Then on the saved credentials.
  - With O(start_job=if_paused) (the default) a job that is paused or in quarantine (for example after the old
    token stopped working) is started once the credentials work. An active job is never started or restarted.
  - O(state=validated) sets nothing. It tests the saved credentials and starts a paused or quarantined job, for a
    drift check or after a repair.
  - B(Idempotence.) Graph never returns a saved token (it reads back as C(*)), so this module cannot tell which
    token Entra ID holds. With O(state=present) it always sends the credentials and reports C(changed=true). The
    caller keeps idempotence by recording which Resolver token it handed over (O(token_id) is echoed for that) and
    running this module only when that token changes; this is how the role C(resolver.scim.scim_tokens) is meant
    to call it.
  - The access token is requested through msal for the scope C(<graph_url>/.default), with a client secret, a
    certificate, a workload identity federation token or a managed identity (see the options).
author:
  - resolver.scim maintainers (@resolver-scim)
options:
  service_principal_id:
    description:
      - The Object ID of the enterprise application (Enterprise applications > the app > Overview), a GUID. This is
        not the Application (client) ID.
    type: str
    required: true
  job_id:
    description:
      - The provisioning job of the enterprise application, for example C(scim.0a1b2c....).
      - When left out, the service principal's jobs are read and the one with template C(scim) (a non-gallery SCIM
        app) is used. The task fails, naming the jobs it found, when there is none or more than one.
    type: str
  state:
    description:
      - V(present) sets the credentials (O(tenant_url) and O(secret_token)), validates them and starts a paused job.
      - V(validated) only tests the credentials Entra ID has saved and starts a paused job. O(tenant_url) and
        O(secret_token) are not used.
    type: str
    choices: [present, validated]
    default: present
  tenant_url:
    description:
      - The SCIM base URL Entra ID provisions to (Graph's C(BaseAddress), the portal's "Tenant URL"). This is
        Resolver's SCIM base URL, C(<Resolver URL>/scim/), for example C(https://acme.resolver.com/scim/). The role
        C(resolver.scim.scim_tokens) passes the SCIM base URL it verified the token at.
      - Required with O(state=present). Must be C(https://) (plain C(http://) only for a loopback test host).
    type: str
    aliases: [base_address]
  secret_token:
    description:
      - The Resolver SCIM token Entra ID sends as C(Authorization Bearer) (Graph's C(SecretToken)).
      - Required with O(state=present).
    type: str
  token_id:
    description:
      - The Resolver id of O(secret_token). Metadata only, not sent to Graph; it is echoed in RV(token_id) and the
        diff so that a caller can record which token the identity provider holds.
    type: int
  validate:
    description:
      - Test the credentials with Entra ID's C(validateCredentials) before saving them (the new ones) and after
        (the saved ones). A failure before saving leaves the app's credentials as they were; a failure after saving
        fails the task with RV(credentials_set=true).
      - Must be V(true) with O(state=validated).
    type: bool
    default: true
  start_job:
    description:
      - V(if_paused) starts the provisioning job when its status is C(Paused) or C(Quarantine), after the credentials
        are set (and validated). A job in any other status is left alone; a healthy job is never restarted.
      - V(never) leaves the job as it is.
    type: str
    choices: [if_paused, never]
    default: if_paused
extends_documentation_fragment:
  - resolver.scim.entra
attributes:
  check_mode:
    description:
      - With O(state=present), sends no request at all and reports what would be set (C(changed=true)).
      - With O(state=validated), gets a token, reads the job and runs C(validateCredentials) (which changes
        nothing), and reports whether the job would be started without starting it.
    support: full
  diff_mode:
    description: Shows the base address, the token's id and a short SHA-256 fingerprint of it, never its value,
      and the job status when the job is started.
    support: full
seealso:
  - module: resolver.scim.scim_token
  - name: "Microsoft Graph: Add synchronization secrets"
    description: The C(PUT /servicePrincipals/{id}/synchronization/secrets) call this module makes.
    link: https://learn.microsoft.com/en-us/graph/api/synchronization-serviceprincipal-put-synchronization
  - name: "Microsoft Graph: synchronizationJob validateCredentials"
    description: Entra ID's connection test this module runs.
    link: https://learn.microsoft.com/en-us/graph/api/synchronization-synchronizationjob-validatecredentials
"""

EXAMPLES = r"""
- name: Hand a new Resolver token to Entra ID, test it, and resume a paused provisioning job
  resolver.scim.entra_provisioning:
    tenant_id: 72f988bf-86f1-41af-91ab-2d7cd011db47
    client_id: 0c1f6a2e-5b8a-4d3c-9f7e-2a1b3c4d5e6f
    client_secret: "{{ entra_client_secret }}"
    service_principal_id: 6c2d1e0f-3a4b-4c5d-8e9f-0a1b2c3d4e5f
    tenant_url: https://acme.resolver.com/scim/
    secret_token: "{{ new_token.token }}"
    token_id: "{{ new_token.token_id }}"
  register: handover

- name: The same with the AWX "Microsoft Azure Resource Manager" credential (AZURE_TENANT, AZURE_CLIENT_ID, AZURE_SECRET)
  resolver.scim.entra_provisioning:
    service_principal_id: 6c2d1e0f-3a4b-4c5d-8e9f-0a1b2c3d4e5f
    tenant_url: https://acme.resolver.com/scim/
    secret_token: "{{ new_token.token }}"

- name: Sign in with a certificate instead of a secret (the PEM holds the private key and the certificate)
  resolver.scim.entra_provisioning:
    tenant_id: 72f988bf-86f1-41af-91ab-2d7cd011db47
    client_id: 0c1f6a2e-5b8a-4d3c-9f7e-2a1b3c4d5e6f
    client_certificate_path: /runner/credentials/entra-provisioner.pem
    service_principal_id: 6c2d1e0f-3a4b-4c5d-8e9f-0a1b2c3d4e5f
    tenant_url: https://acme.resolver.com/scim/
    secret_token: "{{ new_token.token }}"

- name: On AKS with workload identity (AZURE_CLIENT_ID, AZURE_TENANT_ID, AZURE_FEDERATED_TOKEN_FILE set in the pod)
  resolver.scim.entra_provisioning:
    service_principal_id: 6c2d1e0f-3a4b-4c5d-8e9f-0a1b2c3d4e5f
    tenant_url: https://acme.resolver.com/scim/
    secret_token: "{{ new_token.token }}"

- name: On an Azure VM with a system-assigned managed identity
  resolver.scim.entra_provisioning:
    managed_identity: true
    service_principal_id: 6c2d1e0f-3a4b-4c5d-8e9f-0a1b2c3d4e5f
    tenant_url: https://acme.resolver.com/scim/
    secret_token: "{{ new_token.token }}"

- name: Set the connection options once for every Entra ID task of a play
  module_defaults:
    group/resolver.scim.entra:
      tenant_id: "{{ entra_tenant_id }}"
      client_id: "{{ entra_client_id }}"
      client_secret: "{{ entra_client_secret }}"
  block:
    - name: Drift check - do the saved credentials still work? (never starts anything in check mode)
      resolver.scim.entra_provisioning:
        service_principal_id: 6c2d1e0f-3a4b-4c5d-8e9f-0a1b2c3d4e5f
        state: validated
      check_mode: true

- name: A US Government tenant, with a known job and no automatic start
  resolver.scim.entra_provisioning:
    authority_url: https://login.microsoftonline.us
    graph_url: https://graph.microsoft.us
    service_principal_id: 6c2d1e0f-3a4b-4c5d-8e9f-0a1b2c3d4e5f
    job_id: scim.4c5d6e7f8a9b0c1d2e3f4a5b6c7d8e9f.0a1b2c3d4e5f6a7b8c9d0e1f2a3b4c5d
    tenant_url: https://acme.resolver.com/scim/
    secret_token: "{{ new_token.token }}"
    start_job: never
"""

RETURN = r"""
service_principal_id:
  description: The enterprise application's object id.
  returned: always
  type: str
  sample: 6c2d1e0f-3a4b-4c5d-8e9f-0a1b2c3d4e5f
job_id:
  description: The provisioning job that was validated or started (given, or found by template C(scim)); null when
    none was needed (O(validate=false) and O(start_job=never)) or in check mode without O(job_id).
  returned: always
  type: str
  sample: scim.4c5d6e7f8a9b0c1d2e3f4a5b6c7d8e9f.0a1b2c3d4e5f6a7b8c9d0e1f2a3b4c5d
job_status:
  description: The job's status code before the run (C(Active), C(Paused), C(Quarantine), ...); null when the job was
    not read.
  returned: always
  type: str
  sample: Quarantine
base_address:
  description: The BaseAddress (O(tenant_url)) that was set, or would be in check mode; null with O(state=validated).
  returned: always
  type: str
  sample: https://acme.resolver.com/scim/
token_fingerprint:
  description: A short SHA-256 fingerprint of O(secret_token), to match it with a stored token; never the token.
  returned: always
  type: str
  sample: "sha256:0a1b2c3d4e5f"
token_id:
  description: O(token_id), echoed.
  returned: always
  type: int
  sample: 1043
credentials_set:
  description: Whether the credentials were saved in Entra ID in this run (false in check mode).
  returned: always
  type: bool
  sample: true
validated:
  description: True when Entra ID's C(validateCredentials) accepted the saved credentials in this run, false when it
    refused them; null when they were not tested.
  returned: always
  type: bool
  sample: true
job_started:
  description: Whether the job was started because it was paused or in quarantine (false in check mode).
  returned: always
  type: bool
  sample: false
failed_step:
  description:
    - On failure, the step that failed. V(token) (access token), V(job) (finding or reading the job),
      V(validate_new) (the new credentials did not pass the test, nothing was saved), V(set), V(validate_saved) (the
      saved credentials did not pass the test, RV(credentials_set=true)) or V(start).
  returned: on failure
  type: str
  sample: validate_new
validation_error:
  description: Graph's error code and message when C(validateCredentials) refused the credentials.
  returned: when a validation failed
  type: dict
  sample: {"code": "SystemForCrossDomainIdentityManagementCredentialValidationUnauthorized",
           "message": "You appear to have entered invalid credentials."}
"""

from ansible.module_utils.basic import AnsibleModule, missing_required_lib

from ansible_collections.resolver.scim.plugins.module_utils._entra import (
    ENTRA_ARGUMENT_SPEC,
    STARTABLE_STATUSES,
    build_client,
    check_endpoint,
    check_job_id,
    check_object_id,
    find_scim_job,
)
from ansible_collections.resolver.scim.plugins.module_utils._entra_signin import HAS_MSAL
from ansible_collections.resolver.scim.plugins.module_utils._errors import CredentialsRejected, EntraError, InputError
from ansible_collections.resolver.scim.plugins.module_utils._module import run_module
from ansible_collections.resolver.scim.plugins.module_utils._tokens import fingerprint

# The in-process harness (plugins/plugin_utils/in_process.py) and main() build the module from these.
CONNECTION_SPEC = ENTRA_ARGUMENT_SPEC

ARGUMENT_SPEC = dict(
    service_principal_id=dict(type="str", required=True),
    job_id=dict(type="str"),
    state=dict(type="str", choices=["present", "validated"], default="present"),
    tenant_url=dict(type="str", aliases=["base_address"]),
    secret_token=dict(type="str", no_log=True),
    token_id=dict(type="int", no_log=False),
    validate=dict(type="bool", default=True),
    start_job=dict(type="str", choices=["if_paused", "never"], default="if_paused"),
)
MODULE_RULES = dict(supports_check_mode=True)
NOT_READ = "(not readable: Graph never returns saved credentials)"


def check_params(params):
    """Every option checked before the first request."""
    check_object_id(params["service_principal_id"], "service_principal_id",
                    "the enterprise application (its Object ID on the Overview page, not the Application ID)")
    check_job_id(params["job_id"])
    if params["state"] == "validated":
        given = [o for o in ("tenant_url", "secret_token") if params[o] is not None]
        if given:
            named = " and ".join(given)
            raise InputError("%s %s only used with state=present: state=validated tests the credentials Entra ID has "
                             "saved; remove %s." % (named, "are" if len(given) > 1 else "is", named))
        if not params["validate"]:
            raise InputError("validate=false leaves state=validated nothing to do; use validate=true.")
        return
    if not params["tenant_url"]:
        raise InputError("tenant_url is required with state=present: give Resolver's SCIM base URL, for example "
                         "https://acme.resolver.com/scim/.")
    check_endpoint(params["tenant_url"], "tenant_url", "https://acme.resolver.com/scim/")
    token = params["secret_token"]
    if not token:
        raise InputError("secret_token is required with state=present: give the Resolver SCIM token to hand over.")
    if token != token.strip() or any(c.isspace() for c in token):
        raise InputError("secret_token contains spaces or line breaks; give the token value exactly as Resolver "
                         "issued it.")


def step(result, name, call, *args, **kwargs):
    """Run one step; while it runs, ``result`` names it as the failed step (kept if it raises)."""
    result["failed_step"] = name
    value = call(*args, **kwargs)
    del result["failed_step"]
    return value


def resolve_job(client, params, result, need_status):
    """The job to validate/start: given (read only when its status matters) or found by template scim."""
    sp_id, job_id = params["service_principal_id"], params["job_id"]
    if job_id and not need_status:
        result["job_id"] = job_id
        return
    if job_id:
        job = step(result, "job", client.job, sp_id, job_id)
    else:
        job = step(result, "job", find_scim_job, client, sp_id)
    result["job_id"], result["job_status"] = job["id"], job["status"]


def validate(client, params, result, name, credentials=None):
    """Entra's connection test; a refusal fails the run with Graph's code and message in validation_error."""
    step_label = "validate new credentials" if credentials else "validate saved credentials"
    try:
        step(result, name, client.validate_credentials, params["service_principal_id"], result["job_id"],
             step_label, credentials)
    except CredentialsRejected as exc:
        result["validation_error"] = {"code": exc.code, "message": exc.detail}
        if credentials:
            raise EntraError("%s Nothing was saved: the enterprise app keeps its current credentials. Check that the "
                             "token is live and that tenant_url is Resolver's SCIM base URL." % exc.message)
        result["validated"] = False
        if result["credentials_set"]:
            raise EntraError("%s The new credentials were saved before this test, so the enterprise app holds them "
                             "now: set the previous token again, or fix the cause and run again." % exc.message)
        raise EntraError("%s The credentials Entra ID has saved do not work: hand over a live token "
                         "(state=present)." % exc.message)
    if not credentials:
        result["validated"] = True


def maybe_start(module, client, params, result):
    if params["start_job"] == "never" or result["job_status"] not in STARTABLE_STATUSES:
        return False
    if not module.check_mode:
        step(result, "start", client.start_job, params["service_principal_id"], result["job_id"])
        result["job_started"] = True
    return True


def hand_over(module, client, result):
    """Carry out ``state``; ``result`` fills in as steps complete, so that a failure reports them too."""
    params = module.params
    present = params["state"] == "present"
    need_job = params["validate"] or params["start_job"] == "if_paused"
    if present and module.check_mode:
        result["msg"] = ("Would set BaseAddress %s and SecretToken %s%s on service principal %s%s%s. Check mode sends "
                         "no request." % (params["tenant_url"], result["token_fingerprint"],
                                          " (token %s)" % params["token_id"] if params["token_id"] is not None else "",
                                          params["service_principal_id"],
                                          ", test them before and after saving" if params["validate"] else "",
                                          ", and start the SCIM job if it is paused or in quarantine"
                                          if params["start_job"] == "if_paused" else ""))
        return True, diff_of(result, started=False)
    step(result, "token", client.access_token)
    if need_job:
        resolve_job(client, params, result, need_status=params["start_job"] == "if_paused")
    if present:
        credentials = [("BaseAddress", params["tenant_url"]), ("SecretToken", params["secret_token"])]
        if params["validate"]:
            validate(client, params, result, "validate_new", credentials)
        step(result, "set", client.set_secrets, params["service_principal_id"], params["tenant_url"],
             params["secret_token"])
        result["credentials_set"] = True
    if params["validate"]:
        validate(client, params, result, "validate_saved")
    started = maybe_start(module, client, params, result)
    return present or started, diff_of(result, started)


def diff_of(result, started):
    before, after = {}, {}
    if result["base_address"] is not None:
        before.update(base_address=NOT_READ, secret_token=NOT_READ)
        after.update(base_address=result["base_address"], secret_token=result["token_fingerprint"],
                     token_id=result["token_id"])
    if result["job_status"] is not None:
        before["job_status"] = result["job_status"]
        after["job_status"] = "Active" if started else result["job_status"]
    return {"before": before, "after": after}


def connect(module):
    """Check every option, then the Graph client (no request yet)."""
    params = module.params
    if not HAS_MSAL:
        raise InputError(missing_required_lib("msal"))
    check_params(params)
    client = build_client(params)
    client.add_secret(params["secret_token"])
    if not params["validate_certs"]:
        module.warn("validate_certs is false: the certificates of Entra ID and Graph are not checked, so anyone on "
                    "the network path could read the client secret and the SCIM token.")
    return client


def run(module, client):
    params = module.params
    present = params["state"] == "present"
    result = {"service_principal_id": params["service_principal_id"], "job_id": params["job_id"], "job_status": None,
              "base_address": params["tenant_url"] if present else None,
              "token_fingerprint": fingerprint(params["secret_token"]) if present and params["secret_token"] else None,
              "token_id": params["token_id"], "credentials_set": False, "validated": None, "job_started": False}
    try:
        changed, diff = hand_over(module, client, result)
    except EntraError as exc:
        # What the run did before it failed is reported with the failure (run_module passes exc.result on).
        exc.result = dict(result, changed=result["credentials_set"] or result["job_started"])
        raise
    return changed, result, diff


def main():
    run_module(AnsibleModule(argument_spec=dict(CONNECTION_SPEC, **ARGUMENT_SPEC), **MODULE_RULES), run, connect)


if __name__ == "__main__":
    main()
