# -*- coding: utf-8 -*-
# Copyright: (c) 2026, resolver.scim contributors
# GNU General Public License v3.0+ (see LICENSES/GPL-3.0-or-later.txt or https://www.gnu.org/licenses/gpl-3.0.txt)
"""Microsoft Entra ID provisioning credentials through Microsoft Graph v1.0.

An access token through msal (entra_signin.py: client secret, certificate, workload identity federation or managed
identity; docs/entra-id.md), then the synchronization API of one service principal: its jobs, its secrets
(BaseAddress and SecretToken), validateCredentials and start. Every text this module shows is redacted of every
credential, assertion, access token and the SCIM token.
"""

import os
import re
import time
from urllib.parse import quote, urlsplit

from ansible_collections.resolver.scim.plugins.module_utils import _transport as transport
from ansible_collections.resolver.scim.plugins.module_utils._env import env_fallback
from ansible_collections.resolver.scim.plugins.module_utils._transport import (
    RETRYABLE_STATUSES,
    RetryPolicy,
    describe_network_error,
    plain_http_refused,
    redact,
    requests,
)
from ansible_collections.resolver.scim.plugins.module_utils._entra_signin import (
    MANAGED_IDENTITY,
    SIGN_IN_ARGUMENT_SPEC,
    MsalTransport,
    SignIn,
)
from ansible_collections.resolver.scim.plugins.module_utils._errors import (
    HOST_LIKE,
    NOT_SHOWN,
    PATH_LIKE,
    CredentialsRejected,
    EntraError,
    InputError,
    TransportRefusal,
    quoted,
)

DEFAULT_AUTHORITY = "https://login.microsoftonline.com"
DEFAULT_GRAPH = "https://graph.microsoft.com"
SCIM_TEMPLATE = "scim"
# Microsoft: start a job only when it is paused or in quarantine, never continuously.
STARTABLE_STATUSES = ("Paused", "Quarantine")
PERMISSION_HINT = ("The app registration (client_id %s) needs the Microsoft Graph application permission "
                   "Synchronization.ReadWrite.All, or Application.ReadWrite.OwnedBy with the app made an owner of the "
                   "service principal, and admin consent for it.")
_GUID = re.compile(r"^[0-9a-fA-F]{8}-(?:[0-9a-fA-F]{4}-){3}[0-9a-fA-F]{12}$")
_TENANT = re.compile(r"^[A-Za-z0-9](?:[A-Za-z0-9.-]*[A-Za-z0-9])?$")
_JOB_ID = re.compile(r"^[A-Za-z0-9][A-Za-z0-9._-]*$")

# The connection options of group/resolver.scim.entra; documented in plugins/doc_fragments/entra.py.
# Environment names as Azure tools (AZURE_TENANT_ID, AZURE_CLIENT_SECRET, AZURE_AUTHORITY_HOST) and AWX's
# "Microsoft Azure Resource Manager" credential (AZURE_TENANT, AZURE_SECRET) set them; an empty variable counts as
# unset.
ENTRA_ARGUMENT_SPEC = dict(
    SIGN_IN_ARGUMENT_SPEC,
    tenant_id=dict(type="str", fallback=(env_fallback, ["AZURE_TENANT_ID", "AZURE_TENANT"])),
    client_id=dict(type="str", fallback=(env_fallback, ["AZURE_CLIENT_ID"])),
    client_secret=dict(type="str", no_log=True, fallback=(env_fallback, ["AZURE_CLIENT_SECRET", "AZURE_SECRET"])),
    authority_url=dict(type="str", default=DEFAULT_AUTHORITY, fallback=(env_fallback, ["AZURE_AUTHORITY_HOST"])),
    graph_url=dict(type="str", default=DEFAULT_GRAPH),
    validate_certs=dict(type="bool", default=True),
    ca_path=dict(type="path"),
    timeout=dict(type="int", default=30),
)


def check_endpoint(url, option, example):
    """Refuse an endpoint URL that cannot work or would send a secret in clear; return it without a trailing /."""
    parts = urlsplit(url or "")
    if parts.scheme not in ("http", "https") or not parts.hostname:
        raise InputError("%s %s is not an http(s) URL; give the scheme and host, for example %s."
                         % (option, quoted(url, HOST_LIKE), example))
    if parts.username or parts.password or parts.query or parts.fragment:
        raise InputError("%s must be a plain base URL, without credentials, query or fragment (%s); for example %s."
                         % (option, NOT_SHOWN, example))
    if plain_http_refused(parts):
        raise InputError("%s %r uses plain http:// to a non-loopback host, so secrets would travel unencrypted; use "
                         "https:// (plain http is accepted only for loopback test stand-ins)." % (option, url))
    return url.rstrip("/")


def check_connection(params):
    """The connection options, checked before any request."""
    managed_identity = params.get("managed_identity")
    for option, variables in (("tenant_id", "AZURE_TENANT_ID or AZURE_TENANT"), ("client_id", "AZURE_CLIENT_ID")):
        if not params[option] and not managed_identity:
            raise InputError("%s is required: set the %s option or the %s environment variable (the app registration "
                             "that may manage the enterprise app's provisioning)." % (option, option, variables))
    if params["tenant_id"] and not _TENANT.match(params["tenant_id"]):
        raise InputError("tenant_id is not a tenant (%s): give the Directory (tenant) ID, a GUID, or a verified "
                         "domain such as contoso.onmicrosoft.com." % NOT_SHOWN)
    if params["client_id"] and not _GUID.match(params["client_id"]):
        raise InputError("client_id is not an Application (client) ID (%s): give the GUID shown on the app "
                         "registration's Overview page." % NOT_SHOWN)
    authority = check_endpoint(params["authority_url"], "authority_url", DEFAULT_AUTHORITY)
    if not authority.startswith("https://") and not managed_identity:
        raise InputError("authority_url %s must be https:// (msal signs in over https only)."
                         % quoted(params["authority_url"], HOST_LIKE))
    if "/oauth2" in authority or (params["tenant_id"] and authority.lower().endswith("/" + params["tenant_id"].lower())):
        raise InputError("authority_url %r must be the authority host only, for example %s; the tenant and the "
                         "token path are added from tenant_id." % (params["authority_url"], DEFAULT_AUTHORITY))
    graph = check_endpoint(params["graph_url"], "graph_url", DEFAULT_GRAPH)
    if re.search(r"/(v1\.0|beta)$", graph):
        raise InputError("graph_url %r must be the Graph root without a version, for example %s (v1.0 is added)."
                         % (params["graph_url"], DEFAULT_GRAPH))
    if params["timeout"] is not None and params["timeout"] <= 0:
        raise InputError("timeout must be a positive number of seconds; got %s." % params["timeout"])
    if params["ca_path"] and not os.path.isfile(params["ca_path"]):
        raise InputError("ca_path %s does not exist or is not a file; give a PEM CA bundle."
                         % quoted(params["ca_path"], PATH_LIKE))
    return authority, graph


def check_object_id(value, option, what):
    if not value or not _GUID.match(value):
        raise InputError("%s is not an object ID (%s): give the GUID of %s." % (option, NOT_SHOWN, what))
    return value


def check_job_id(value):
    if value is not None and not _JOB_ID.match(value):
        raise InputError("job_id is not a synchronization job id such as scim.0a1b... (%s): leave it out to find the "
                         "SCIM job of the service principal." % NOT_SHOWN)
    return value


def _first_line(text, limit=300):
    return (text or "").strip().splitlines()[0][:limit] if (text or "").strip() else ""


# What to fix for each AADSTS code of a refused sign-in ({graph_url} is filled in).
_AADSTS_HINTS = (
    (("7000215", "7000222", "7000216"), "Check client_secret (or AZURE_CLIENT_SECRET / AZURE_SECRET): use the "
     "secret's Value, not its Secret ID, and check that it has not expired."),
    (("700027",), "Check the certificate: it must be one of the app registration's certificates (Certificates & "
     "secrets, same thumbprint), the private key must be that certificate's, and it must not have expired; upload "
     "the renewed certificate."),
    (("700024",), "Check the clock of the host that signs in: the assertion's time window did not match Entra ID's."),
    (("70021", "700211", "700213"), "Check the app registration's federated credentials (Certificates & secrets > "
     "Federated credentials): one must trust exactly the token's issuer and subject, with audience "
     "api://AzureADTokenExchange."),
    (("700016",), "Check client_id (or AZURE_CLIENT_ID) and that the app is registered in tenant_id's tenant."),
    (("90002", "900023", "90013"), "Check tenant_id (or AZURE_TENANT_ID / AZURE_TENANT) and that authority_url is "
     "the tenant's cloud."),
    (("500011", "1002012", "70011"), "Check graph_url: the token is requested for {graph_url}/.default."),
)


def _aadsts_hint(code, way):
    if way == MANAGED_IDENTITY:
        return ("Check that the Azure resource that runs this has a managed identity: the system-assigned one turned "
                "on, or the user-assigned one whose client_id is given assigned to it. managed_identity works only on "
                "Azure compute.")
    return next((hint for codes, hint in _AADSTS_HINTS if code in codes),
                "Check tenant_id, client_id, the %s and authority_url." % way)


class GraphClient:
    """One keep-alive HTTP session to Entra ID's token endpoint and Microsoft Graph, for one app registration."""

    def __init__(self, tenant_id, client_id, client_secret=None, authority_url=DEFAULT_AUTHORITY,
                 graph_url=DEFAULT_GRAPH, validate_certs=True, ca_path=None, timeout=30, retry_policy=None,
                 sleep=time.sleep, monotonic=time.monotonic, **sign_in):
        """``sign_in``: the other options of SIGN_IN_ARGUMENT_SPEC (a certificate, a token file, managed_identity)."""
        self.tenant_id = tenant_id
        self.client_id = client_id
        options = dict(sign_in, tenant_id=tenant_id, client_id=client_id, client_secret=client_secret,
                       authority_url=authority_url, graph_url=graph_url, timeout=timeout, ca_path=ca_path)
        self.authority_url, self.graph_url = check_connection(options)
        self._secrets = []
        self._sign_in = SignIn(options, self.add_secret)
        self.add_secret(client_secret)
        self._access_token = None
        self.timeout = timeout
        self.retry_policy = retry_policy or RetryPolicy()
        self._sleep = sleep
        self._monotonic = monotonic
        self.session = transport.new_session()
        self.verify = transport.tls_verify(validate_certs, ca_path)

    # ----- secrets -----------------------------------------------------------------------------------

    @property
    def secrets(self):
        return list(self._secrets)

    def close(self):
        self.session.close()

    def add_secret(self, *values):
        """Redact ``values`` (credentials, assertions, tokens, the SCIM token) from every text this client produces."""
        self._secrets.extend(value for value in values if isinstance(value, str) and value.strip())

    def redact(self, text):
        return redact(text, self._secrets)

    # ----- transport ---------------------------------------------------------------------------------

    def _send(self, method, url, step, option, **kwargs):
        """One request through the transport's retries; ``option`` is the one that set ``url`` (authority_url or
        graph_url), named when the answer is refused. Every Graph call made here is idempotent (PUT of the same
        secrets, a credential test, starting a stopped job), so all of them are retried."""
        host = urlsplit(url).netloc

        def attempt():
            try:
                return transport.send(self.session, method, url, self.timeout, verify=self.verify, **kwargs)
            except requests.exceptions.SSLError:
                raise EntraError("%s: TLS verification of %s failed. Point ca_path at the CA bundle that signs its "
                                 "certificate, or set validate_certs: false (not recommended)." % (step, host))
            except TransportRefusal as exc:
                # Not retried: a redirect would come again, and a slow server would hold the run as long again.
                raise EntraError("%s: %s to %s got %s." % (step, method, host, exc.describe(option)), exc.status)

        def network_error(exc, attempts, exhausted):
            return EntraError("%s: %s did not answer after %d attempt(s) (%s)." % (
                step, host, attempts, describe_network_error(exc, self.timeout))) if exhausted else None

        return self.retry_policy.send(attempt, RETRYABLE_STATUSES, network_error, self._sleep, self._monotonic)

    @staticmethod
    def _json(response):
        try:
            return response.json()
        except ValueError:
            return None

    # ----- token -------------------------------------------------------------------------------------

    def access_token(self):
        """An access token for Graph through msal (one sign-in per client, reused for every call)."""
        if self._access_token is None:
            step = "get an access token"
            sign_in = MsalTransport(
                lambda method, url, **kwargs: self._send(method, url, step, "authority_url", **kwargs), self.add_secret)
            authority = "%s/%s" % (self.authority_url, quote(self.tenant_id or "", safe=""))
            try:
                answer = self._sign_in.acquire(sign_in, authority, self.graph_url)
            except InputError as exc:  # the token file, read at sign-in
                raise EntraError(self.redact("%s: %s" % (step, exc)))
            token = answer.get("access_token") if isinstance(answer, dict) else None
            if not isinstance(token, str) or not token:
                raise self._login_error(sign_in.last, answer, step)
            self._access_token = token
            self.add_secret(token)
        return self._access_token

    def _login_error(self, response, answer, step):
        """What Entra ID (or the managed identity endpoint) said, and what to fix."""
        data = answer if isinstance(answer, dict) and answer.get("error") else (
            self._json(response) if response is not None else None)
        error, description = None, None
        if isinstance(data, dict):
            error, description = data.get("error"), _first_line(data.get("error_description"))
        code = re.match(r"^AADSTS(\d+)", description or "")
        status = response.status_code if response is not None else 0
        hint = _aadsts_hint(code.group(1) if code else None, self._sign_in.way).format(graph_url=self.graph_url)
        if status == 429 or status >= 500:
            hint = "Entra ID kept answering HTTP %d within the retry budget; try again later." % status
        if self._sign_in.way == MANAGED_IDENTITY:
            message = ("%s: the managed identity endpoint gave no token for %s (HTTP %d %s: %s). %s"
                       % (step, "client_id %s" % self.client_id if self.client_id else "the system-assigned identity",
                          status, error or "error", description or "no reason given", hint))
        else:
            message = ("%s: Entra ID refused the %s sign-in of client_id %s in tenant %s (HTTP %d %s: %s). %s"
                       % (step, self._sign_in.way, self.client_id, self.tenant_id, status, error or "error",
                          description or "no reason given", hint))
        return EntraError(self.redact(message), status, error)

    # ----- Graph -------------------------------------------------------------------------------------

    def request(self, method, path, step, json_body=None):
        """An authenticated Graph v1.0 request; the decoded JSON answer, or None for an empty body."""
        token = self.access_token()
        response = self._send(method, "%s/v1.0/%s" % (self.graph_url, path), step, "graph_url", json=json_body,
                              headers={"Authorization": "Bearer " + token})
        if 200 <= response.status_code < 300:
            if not response.content or not response.content.strip():
                return None
            data = self._json(response)
            if data is None:
                raise EntraError("%s: Graph answered %s %s with a body that is not JSON." % (step, method, path))
            return data
        raise self._graph_error(response, method, path, step)

    def _graph_error(self, response, method, path, step):
        status = response.status_code
        data = self._json(response)
        error = data.get("error") if isinstance(data, dict) else None
        code = error.get("code") if isinstance(error, dict) else None
        message = _first_line(error.get("message")) if isinstance(error, dict) else ""
        said = "HTTP %d %s: %s" % (status, code or "(no error code)", message or "no message")
        if status == 401:
            hint = ("Graph did not accept the access token: check that graph_url (%s) belongs to the same cloud as "
                    "authority_url (%s)." % (self.graph_url, self.authority_url))
        elif status == 403:
            hint = PERMISSION_HINT % self.client_id
        elif status == 404 and "/jobs/" in path:
            hint = ("The job or the service principal does not exist: leave job_id out to find the SCIM job, and "
                    "give service_principal_id as the enterprise application's Object ID.")
        elif status == 404:
            hint = ("service_principal_id must be the Object ID of the enterprise application (Enterprise "
                    "applications > the app > Overview), not the Application (client) ID, in tenant %s."
                    % self.tenant_id)
        elif status == 429:
            hint = ("Graph kept throttling within the retry budget of %d attempts / %ds; try again later."
                    % (self.retry_policy.attempts, self.retry_policy.budget))
        elif status >= 500:
            hint = "Graph had a server error that retries did not clear; try again later."
        else:
            hint = ""
        text = "%s: Graph refused %s %s (%s). %s" % (step, method, path.split("?")[0], said, hint)
        error_class = CredentialsRejected if (path.endswith("/validateCredentials") and 400 <= status < 500
                                              and status not in (401, 403, 404, 429)) else EntraError
        return error_class(self.redact(text.strip()), status, code, self.redact(message))

    # ----- the synchronization API of one service principal ------------------------------------------

    @staticmethod
    def _sync(sp_id, rest=""):
        return "servicePrincipals/%s/synchronization/%s" % (quote(sp_id, safe=""), rest)

    def jobs(self, sp_id):
        data = self.request("GET", self._sync(sp_id, "jobs"), "find the SCIM job")
        jobs = data.get("value") if isinstance(data, dict) else None
        if not isinstance(jobs, list):
            raise EntraError("find the SCIM job: Graph's job list has no 'value' array.")
        return [job_summary(j) for j in jobs if isinstance(j, dict)]

    def job(self, sp_id, job_id):
        data = self.request("GET", self._sync(sp_id, "jobs/" + quote(job_id, safe="")), "read job %s" % job_id)
        if not isinstance(data, dict):
            raise EntraError("read job %s: Graph's answer is not a job." % job_id)
        return job_summary(data)

    def set_secrets(self, sp_id, base_address, secret_token):
        """PUT both keys: whether Graph merges or replaces keys is not documented (docs/api-assumptions.md)."""
        body = {"value": [{"key": "BaseAddress", "value": base_address},
                          {"key": "SecretToken", "value": secret_token}]}
        self.request("PUT", self._sync(sp_id, "secrets"), "set credentials", json_body=body)

    def validate_credentials(self, sp_id, job_id, step, credentials=None):
        """Entra's "Test connection": the saved credentials (``credentials`` None) or the given ones, unsaved."""
        body = {"useSavedCredentials": True} if credentials is None else {
            "useSavedCredentials": False,
            "credentials": [{"key": key, "value": value} for key, value in credentials]}
        self.request("POST", self._sync(sp_id, "jobs/%s/validateCredentials" % quote(job_id, safe="")), step,
                     json_body=body)

    def start_job(self, sp_id, job_id):
        self.request("POST", self._sync(sp_id, "jobs/%s/start" % quote(job_id, safe="")), "start job %s" % job_id)


def job_summary(job):
    status = job.get("status")
    return {"id": job.get("id"), "template_id": job.get("templateId"),
            "status": status.get("code") if isinstance(status, dict) else None}


def find_scim_job(client, sp_id):
    """The service principal's one SCIM job (templateId scim), or a clear error when there are none or several."""
    jobs = client.jobs(sp_id)
    scim = [j for j in jobs if str(j["template_id"] or "").lower() == SCIM_TEMPLATE]
    if len(scim) == 1:
        return scim[0]
    if not scim:
        others = ", ".join("%s (templateId %s)" % (j["id"], j["template_id"]) for j in jobs)
        raise EntraError("find the SCIM job: service principal %s has no provisioning job with templateId scim%s. "
                         "Turn on automatic provisioning of the enterprise app (Provisioning > Get started) first, "
                         "or give job_id." % (sp_id, "; its jobs: " + others if others else ""))
    raise EntraError("find the SCIM job: service principal %s has %d jobs with templateId scim (%s): set job_id to the "
                     "one that provisions Resolver." % (sp_id, len(scim), ", ".join(j["id"] for j in scim)))


def build_client(params):
    """A GraphClient from the module's connection options (checked before any request)."""
    return GraphClient(tenant_id=params["tenant_id"], client_id=params["client_id"],
                       client_secret=params["client_secret"], authority_url=params["authority_url"],
                       graph_url=params["graph_url"], validate_certs=params["validate_certs"],
                       ca_path=params["ca_path"], timeout=params["timeout"],
                       **{option: params[option] for option in SIGN_IN_ARGUMENT_SPEC})
