# Copyright: (c) 2026, resolver.scim contributors
# GNU General Public License v3.0+ (see LICENSES/GPL-3.0-or-later.txt or https://www.gnu.org/licenses/gpl-3.0.txt)
"""A Microsoft Entra ID / Microsoft Graph stand-in, served by the Resolver emulator's HTTP server.

It implements what ../shared/idp-apis.md says about provisioning an enterprise app over SCIM: the
client-credentials token endpoint and the synchronization API of Graph v1.0. Point the module's options at it:
``authority_url: <emulator>/_entra/login`` and ``graph_url: <emulator>/_entra/graph``.

Emulated routes (logged in /_emulator/log; faults apply to them like to the Resolver routes, the transport's
``redirect`` and ``trickle`` too: resolver_emulator.py describes them):
  POST /_entra/login/{tenant}/oauth2/v2.0/token            client credentials (form: client_id, client_secret,
                                                          scope={graph_url}/.default, grant_type); AADSTS errors
  GET  /_entra/graph/v1.0/servicePrincipals/{sp}/synchronization/jobs              {"value": [job, ...]}
  GET  /_entra/graph/v1.0/servicePrincipals/{sp}/synchronization/jobs/{job}        one job
  POST .../jobs/{job}/validateCredentials   {"useSavedCredentials": true} or {"credentials": [{key, value}, ...]}:
                                          a real SCIM request (GET {BaseAddress}/Users?filter=...) with SecretToken
                                          as the bearer, to this server's Resolver side; 204, or the failure status
                                          of the switch ``entra_validate_failure_status`` with a Graph error
  POST .../jobs/{job}/start                 204; the job becomes Active (starts are counted)
  PUT  /_entra/graph/v1.0/servicePrincipals/{sp}/synchronization/secrets   {"value": [{key, value}, ...]} -> 204;
                                          switch ``entra_secrets_put``: "merge" (per key) or "replace" (all keys)
  GET  /_entra/graph/v1.0/servicePrincipals/{sp}/synchronization/secrets   SecretToken masked as "*"
Graph errors are {"error": {"code", "message"}}: 401 InvalidAuthenticationToken, 403 Authorization_RequestDenied
(an app needs Synchronization.ReadWrite.All, or Application.ReadWrite.OwnedBy and to own the service principal),
404 Request_ResourceNotFound.

Test-only control routes (not logged):
  GET  /_emulator/entra/seed                     tenant, apps (client_id, client_secret, permissions) and service
                                                 principals with their jobs
  GET  /_emulator/entra/jobs/{job}               a job with its status and how often it was started
  POST /_emulator/entra/jobs/{job} {"status"}    set a job's status (Active, Paused, Quarantine, NotRun)
  POST /_emulator/entra/service_principals/{sp}/secrets {"BaseAddress", "SecretToken"}  plant saved credentials
  POST /_emulator/entra/service_principals {"name"}   add a service principal with one Active SCIM job (for tests
                                                 that give each org its own app)
  POST /_emulator/entra/service_principals/{sp}/put_fault {"lose": n, "lag_reads": m}   the next n PUTs of its
                                                 secrets answer 204 and change nothing (a lost write); with m, each
                                                 later PUT shows only after m reads of the saved credentials
                                                 (validateCredentials with useSavedCredentials, GET secrets): a
                                                 replica that lags. {} switches both off
  GET  /_emulator/entra/service_principals/{sp}/can_provision   can the "IdP" provision with what it holds now?
                                                 (the same real SCIM request as validateCredentials)
  GET  /_emulator/entra/service_principals/{sp}/history   every set of credentials it held, with the Resolver
                                                 token id, and "broken": the spans where what it held did not
                                                 work (BaseAddress not this server's SCIM base, token unknown,
                                                 deleted or expired) — a correct handover leaves it empty
"""

import json
import re
import ssl
import time
import urllib.error
import urllib.request
import uuid
from urllib.parse import parse_qs, quote, urlsplit

LOGIN = "/_entra/login/"
GRAPH = "/_entra/graph/v1.0/"
SCOPE_SUFFIX = "/_entra/graph/.default"
ACCESS_TOKEN_SECONDS = 3599
ALL_PERMISSIONS = "Synchronization.ReadWrite.All"
OWNED_BY = "Application.ReadWrite.OwnedBy"
JOB_STATUSES = ("Active", "Paused", "Quarantine", "NotRun", "NotConfigured")
SECRET_KEYS = ("BaseAddress", "SecretToken", "ClientIdentifier", "ClientSecret", "SyncNotificationSettings")
SENSITIVE_KEYS = ("SecretToken", "ClientSecret")
VALIDATE_PROBE_TIMEOUT = 5

# Seeded service principals: name -> jobs as (templateId, status).
SEED_SERVICE_PRINCIPALS = {
    "resolver": [("scim", "Active")],
    "resolver-paused": [("scim", "Paused")],
    "resolver-quarantine": [("scim", "Quarantine")],
    "no-jobs": [],
    "two-scim-jobs": [("scim", "Active"), ("scim", "Paused")],
    "gallery-only": [("salesforce", "Active")],
}
# Seeded app registrations: name -> permissions (application, admin-consented).
SEED_APPS = {
    "provisioner": [ALL_PERMISSIONS],
    "owner": [OWNED_BY],            # owns the "resolver" service principal only
    "no-permission": [],
}


class GraphError(Exception):
    def __init__(self, status, code, message, headers=None):
        super().__init__(message)
        self.status, self.code, self.message, self.headers = status, code, message, headers or {}

    def body(self):
        return {"error": {"code": self.code, "message": self.message,
                          "innerError": {"request-id": str(uuid.uuid4()), "date": _now_iso()}}}


class LoginError(Exception):
    def __init__(self, status, error, aadsts, description):
        super().__init__(description)
        self.status, self.error, self.aadsts, self.description = status, error, aadsts, description

    def body(self):
        return {"error": self.error,
                "error_description": "AADSTS%d: %s\r\nTrace ID: %s\r\nCorrelation ID: %s\r\nTimestamp: %s"
                                     % (self.aadsts, self.description, uuid.uuid4(), uuid.uuid4(), _now_iso()),
                "error_codes": [self.aadsts], "timestamp": _now_iso()}


def _now_iso():
    return time.strftime("%Y-%m-%d %H:%M:%SZ", time.gmtime())


def fault_body(path, status, message="injected fault"):
    """The body of an injected fault, shaped like the service it hits."""
    if path.startswith(LOGIN):
        return LoginError(status, "temporarily_unavailable" if status >= 429 else "invalid_client", 50196,
                          message).body()
    codes = {401: "InvalidAuthenticationToken", 403: "Authorization_RequestDenied", 404: "Request_ResourceNotFound",
             429: "TooManyRequests", 503: "ServiceUnavailable"}
    if status == 403 and message == "injected fault":
        message = "Insufficient privileges to complete the operation."
    return GraphError(status, codes.get(status, "generalException"), message).body()


class EntraState:
    """One Entra tenant: app registrations, access tokens, service principals and their provisioning jobs.

    ``resolver`` is the Resolver emulator's State (its lock guards this state too; its config holds the switches).
    """

    def __init__(self, resolver):
        self.resolver = resolver
        self.reset()

    @property
    def lock(self):
        return self.resolver.lock

    def reset(self):
        with self.lock:
            self.tenant_id = str(uuid.uuid4())
            self.apps, self.access_tokens, self.service_principals, self.jobs = {}, {}, {}, {}
            for name, permissions in SEED_APPS.items():
                client_id = str(uuid.uuid4())
                self.apps[client_id] = {"name": name, "client_id": client_id, "permissions": list(permissions),
                                        "client_secret": self.resolver._secret("cs~")}  # pylint: disable=W0212
            owner = next(a["client_id"] for a in self.apps.values() if a["name"] == "owner")
            for name, jobs in SEED_SERVICE_PRINCIPALS.items():
                self.add_service_principal(name, jobs, [owner] if name == "resolver" else [])

    def add_service_principal(self, name, jobs, owners=()):
        """A service principal with jobs [(templateId, status)]; its id (called with the lock held)."""
        sp_id = str(uuid.uuid4())
        self.service_principals[sp_id] = {"id": sp_id, "displayName": name, "secrets": {}, "history": [],
                                          "owners": list(owners), "put_fault": {}, "lagging": None}
        for template, status in jobs:
            job_id = "%s.%s.%s" % (template, uuid.uuid4().hex, uuid.uuid4().hex)
            self.jobs[job_id] = {"id": job_id, "sp": sp_id, "templateId": template, "status": status, "starts": 0}
        return sp_id

    def seed_info(self):
        with self.lock:
            return {
                "tenant_id": self.tenant_id,
                "apps": [dict(a) for a in self.apps.values()],
                "service_principals": [{
                    "name": sp["displayName"], "id": sp_id, "owners": list(sp["owners"]),
                    "jobs": [{"id": j["id"], "templateId": j["templateId"], "status": j["status"]}
                             for j in self.jobs.values() if j["sp"] == sp_id]}
                    for sp_id, sp in self.service_principals.items()],
            }

    # ----- the Resolver side ----------------------------------------------------------------------------

    def scim_base(self):
        """The SCIM base URL of this server's Resolver side, as an IdP must be given it."""
        return self.resolver.server_url + self.resolver.config["scim_path"] + "/"

    def base_address_problem(self, base_address):
        """Why ``base_address`` is not this server's SCIM base (None when it is): the rule the SCIM endpoint applies
        to the path, with the host being any loopback name for this server's port."""
        own, given = urlsplit(self.resolver.server_url), urlsplit(base_address or "")
        if not base_address:
            return "no BaseAddress saved"
        if given.scheme != own.scheme or given.port != own.port or \
                given.hostname not in ("127.0.0.1", "localhost", "::1"):
            return "BaseAddress %s is not this server (%s)" % (base_address, self.resolver.server_url)
        if given.path.rstrip("/") != self.resolver.config["scim_path"]:
            return "BaseAddress path %s is not where SCIM is served (%s/)" % (given.path,
                                                                              self.resolver.config["scim_path"])
        return None

    def probe(self, base_address, secret):
        """What Entra's credential test does: a real SCIM read at BaseAddress with the token. (ok, reason)."""
        parts = urlsplit(base_address or "")
        if parts.scheme not in ("http", "https") or parts.hostname not in ("127.0.0.1", "localhost", "::1"):
            return False, "Unavailable", "BaseAddress %r cannot be reached" % (base_address,)
        url = base_address.rstrip("/") + "/Users?filter=" + quote('userName eq "%s"' % uuid.uuid4())
        request = urllib.request.Request(url, headers={"Authorization": "Bearer " + (secret or ""),
                                                       "Accept": "application/scim+json"})
        context = ssl.create_default_context()
        context.check_hostname, context.verify_mode = False, ssl.CERT_NONE
        opener = urllib.request.build_opener(urllib.request.ProxyHandler({}), urllib.request.HTTPSHandler(
            context=context))
        try:
            with opener.open(request, timeout=VALIDATE_PROBE_TIMEOUT) as answer:
                status = answer.status
        except urllib.error.HTTPError as exc:
            status = exc.code
        except (urllib.error.URLError, OSError):
            return False, "Unavailable", "no answer from %s" % base_address
        if 200 <= status < 300:
            return True, None, None
        if status in (401, 403):
            return False, "Unauthorized", "the SCIM endpoint answered HTTP %d: the token was refused" % status
        return False, "Unavailable", "the SCIM endpoint answered HTTP %d" % status

    def resolver_token(self, secret):
        with self.lock:
            return next((t for t in self.resolver.tokens.values() if secret and t["secret"] == secret), None)

    # ----- history ------------------------------------------------------------------------------------

    def record(self, sp, source):
        """Remember what the service principal holds from now on (called with the lock held)."""
        secrets = sp["secrets"]
        token = self.resolver_token(secrets.get("SecretToken"))
        sp["history"].append({"at": time.time(), "source": source, "base_address": secrets.get("BaseAddress"),
                              "token_id": token["id"] if token else None,
                              "has_token": bool(secrets.get("SecretToken"))})

    def history(self, sp_id):
        with self.lock:
            sp = self._sp(sp_id)
            held = [dict(h) for h in sp["history"]]
            now = time.time()
            broken = []
            for index, entry in enumerate(held):
                end = held[index + 1]["at"] if index + 1 < len(held) else now
                reason, since = self._broken_since(entry, end)
                if reason:
                    broken.append({"from": since, "to": end, "token_id": entry["token_id"],
                                   "base_address": entry["base_address"], "reason": reason})
            return {"held": held, "broken": broken}

    def _broken_since(self, entry, end):
        problem = self.base_address_problem(entry["base_address"])
        if problem:
            return problem, entry["at"]
        if not entry["has_token"]:
            return "no SecretToken saved", entry["at"]
        token = self.resolver.tokens.get(entry["token_id"]) if entry["token_id"] else None
        if token is None:
            return "SecretToken is not a token Resolver issued", entry["at"]
        deleted_at = token.get("deleted_at")
        expiry = token["tokenExpiry"].timestamp()
        if deleted_at is not None and deleted_at < end:
            return "token %s was deleted while held" % token["id"], max(entry["at"], deleted_at)
        if expiry < end:
            return "token %s expired while held" % token["id"], max(entry["at"], expiry)
        return None, None

    def can_provision(self, sp_id):
        with self.lock:
            sp = self._sp(sp_id)
            base, secret = sp["secrets"].get("BaseAddress"), sp["secrets"].get("SecretToken")
        ok, code, reason = self.probe(base, secret)
        token = self.resolver_token(secret)
        return {"can_provision": ok, "reason": reason, "code": code, "base_address": base,
                "token_id": token["id"] if token else None}

    # ----- the token endpoint -------------------------------------------------------------------------

    def issue_token(self, tenant, form):
        if tenant != self.tenant_id:
            raise LoginError(400, "invalid_request", 90002, "Tenant '%s' not found. Check to make sure you have the "
                             "correct tenant ID and are signing into the correct cloud." % tenant)
        if form.get("grant_type") != "client_credentials":
            raise LoginError(400, "unsupported_grant_type", 70003, "The app requested an unsupported grant type.")
        app = self.apps.get(form.get("client_id", ""))
        if app is None:
            raise LoginError(400, "unauthorized_client", 700016, "Application with identifier '%s' was not found "
                             "in the directory '%s'." % (form.get("client_id", ""), tenant))
        if "client_assertion" in form or form.get("client_secret") != app["client_secret"]:
            raise LoginError(401, "invalid_client", 7000215, "Invalid client secret provided. Ensure the secret "
                             "being sent in the request is the client secret value, not the client secret ID, for "
                             "a secret added to app '%s'." % app["client_id"])
        scope = form.get("scope", "")
        if not scope.endswith("/.default"):
            raise LoginError(400, "invalid_scope", 1002012, "The provided value for scope %s is not valid. Client "
                             "credential flows must have a scope value with /.default suffixed to the resource "
                             "identifier (application ID URI)." % scope)
        if not scope.endswith(SCOPE_SUFFIX):
            raise LoginError(400, "invalid_resource", 500011, "The resource principal named %s was not found in "
                             "the tenant named %s." % (scope[:-len("/.default")], tenant))
        token = self.resolver._secret("eyJ0eXAi.")  # pylint: disable=protected-access
        self.access_tokens[token] = {"client_id": app["client_id"], "expires": time.time() + ACCESS_TOKEN_SECONDS}
        return {"token_type": "Bearer", "expires_in": ACCESS_TOKEN_SECONDS, "ext_expires_in": ACCESS_TOKEN_SECONDS,
                "access_token": token}

    # ----- Graph ----------------------------------------------------------------------------------------

    def _caller(self, headers):
        match = re.match(r"^\s*bearer\s+(\S+)\s*$", headers.get("Authorization") or "", re.I)
        grant = self.access_tokens.get(match.group(1)) if match else None
        if grant is None or grant["expires"] <= time.time():
            raise GraphError(401, "InvalidAuthenticationToken", "Access token validation failure. Invalid audience."
                             if grant is None else "Lifetime validation failed, the token is expired.")
        return self.apps[grant["client_id"]]

    def _sp(self, sp_id):
        sp = self.service_principals.get(sp_id)
        if sp is None:
            raise GraphError(404, "Request_ResourceNotFound", "Resource '%s' does not exist or one of its queried "
                             "reference-property objects are not present." % sp_id)
        return sp

    def _authorized_sp(self, app, sp_id):
        if ALL_PERMISSIONS not in app["permissions"] and OWNED_BY not in app["permissions"]:
            raise GraphError(403, "Authorization_RequestDenied", "Insufficient privileges to complete the operation.")
        sp = self._sp(sp_id)
        if ALL_PERMISSIONS not in app["permissions"] and app["client_id"] not in sp["owners"]:
            raise GraphError(403, "Authorization_RequestDenied", "Insufficient privileges to complete the operation.")
        return sp

    def _job(self, sp_id, job_id):
        job = self.jobs.get(job_id)
        if job is None or job["sp"] != sp_id:
            raise GraphError(404, "Request_ResourceNotFound", "The synchronization job '%s' was not found." % job_id)
        return job

    @staticmethod
    def job_view(job):
        return {"id": job["id"], "templateId": job["templateId"],
                "schedule": {"interval": "PT40M", "state": "Active" if job["status"] == "Active" else "Disabled"},
                "status": {"code": job["status"], "lastExecution": None, "quarantine": None if job["status"] !=
                           "Quarantine" else {"reason": "EncounteredQuarantineException"}}}

    @staticmethod
    def _key_values(items, what):
        if not isinstance(items, list) or not all(isinstance(i, dict) and isinstance(i.get("key"), str)
                                                  and isinstance(i.get("value"), str) for i in items):
            raise GraphError(400, "BadRequest", "%s must be a list of {key, value} string pairs" % what)
        unknown = [i["key"] for i in items if i["key"] not in SECRET_KEYS]
        if unknown:
            raise GraphError(400, "BadRequest", "Unknown synchronization secret key(s): %s" % ", ".join(unknown))
        return {i["key"]: i["value"] for i in items}

    def graph(self, method, path, headers, body):  # pylint: disable=too-many-return-statements
        """Answer one Graph request: (status, body). The SCIM probe of validateCredentials runs without the lock."""
        match = re.match(r"^servicePrincipals/([^/]+)/synchronization/(jobs|secrets)(?:/([^/]+))?(?:/([^/]+))?$",
                         path[len(GRAPH):])
        if not match:
            raise GraphError(400, "BadRequest", "Resource not found for the segment '%s'." % path[len(GRAPH):])
        sp_id, collection, job_id, action = match.groups()
        with self.lock:
            sp = self._authorized_sp(self._caller(headers), sp_id)
            if collection == "secrets" and job_id is None:
                if method == "PUT":
                    self.put_secrets(sp, self._key_values((body or {}).get("value"), "value"))
                    return 204, None
                if method == "GET":
                    self.read_saved(sp)
                    return 200, {"value": [{"key": k, "value": "*" if k in SENSITIVE_KEYS else v}
                                           for k, v in sp["secrets"].items()]}
            if collection == "jobs" and job_id is None and method == "GET":
                return 200, {"value": [self.job_view(j) for j in self.jobs.values() if j["sp"] == sp_id]}
            job = self._job(sp_id, job_id) if collection == "jobs" and job_id is not None else None
            if job and action is None and method == "GET":
                return 200, self.job_view(job)
            if job and action == "start" and method == "POST":
                job["status"], job["starts"] = "Active", job["starts"] + 1
                return 204, None
            if not (job and action == "validateCredentials" and method == "POST"):
                raise GraphError(405, "Request_BadRequest", "Method %s not allowed here." % method)
            if (body or {}).get("useSavedCredentials"):
                credentials = dict(self.read_saved(sp))
            else:
                credentials = self._key_values((body or {}).get("credentials"), "credentials")
            failure_status = int(self.resolver.config["entra_validate_failure_status"])
        # Outside the lock: the probe is a real request to this same server, served by another thread.
        ok, code, reason = self.probe(credentials.get("BaseAddress"), credentials.get("SecretToken"))
        if ok:
            return 204, None
        raise GraphError(failure_status, "SystemForCrossDomainIdentityManagementCredentialValidation" + code,
                         "Error validating credentials. Details: %s." % reason)

    def put_secrets(self, sp, given):
        """A PUT of secrets, as the service principal's put_fault says: applied, lost, or applied after some reads."""
        fault = sp["put_fault"]
        if fault.get("lose", 0) > 0:
            fault["lose"] -= 1
            return
        if fault.get("lag_reads", 0) > 0:
            # A PUT again while one lags is replicated with it: the reads still to go are not reset.
            reads = sp["lagging"]["reads"] if sp["lagging"] else fault["lag_reads"]
            sp["lagging"] = {"secrets": given, "reads": reads}
            return
        self.apply_secrets(sp, given)

    def apply_secrets(self, sp, given):
        if self.resolver.config["entra_secrets_put"] == "replace":
            sp["secrets"] = {}
        sp["secrets"].update(given)
        self.record(sp, "PUT")

    def read_saved(self, sp):
        """The saved credentials as one read sees them: a lagging PUT shows once enough reads went by."""
        lagging = sp["lagging"]
        if lagging is not None:
            lagging["reads"] -= 1
            if lagging["reads"] < 0:
                sp["lagging"] = None
                self.apply_secrets(sp, lagging["secrets"])
        return sp["secrets"]

    # ----- control routes -----------------------------------------------------------------------------

    def control(self, method, path, body):
        """Answer /_emulator/entra/{path}; (status, body)."""
        if path == "seed":
            return self.seed_info()
        if path == "service_principals" and method == "POST":
            with self.lock:
                return {"id": self.add_service_principal(str(body.get("name") or "app"), [("scim", "Active")])}
        match = re.match(r"^jobs/([^/]+)$", path)
        if match:
            with self.lock:
                job = self.jobs.get(match.group(1))
                if job is None:
                    raise GraphError(404, "NotFound", "no such job")
                if method == "POST":
                    if body.get("status") not in JOB_STATUSES:
                        raise GraphError(400, "BadRequest", "status must be one of %s" % ", ".join(JOB_STATUSES))
                    job["status"] = body["status"]
                return dict(job)
        match = re.match(r"^service_principals/([^/]+)/(secrets|can_provision|history|put_fault)$", path)
        if match:
            sp_id, what = match.groups()
            if what == "put_fault" and method == "POST":
                with self.lock:
                    sp = self._sp(sp_id)
                    sp["put_fault"] = {k: int(body[k]) for k in ("lose", "lag_reads") if k in body}
                    sp["lagging"] = None
                    return {"put_fault": dict(sp["put_fault"])}
            if what == "secrets" and method == "POST":
                with self.lock:
                    sp = self._sp(sp_id)
                    sp["secrets"].update({k: v for k, v in body.items() if k in SECRET_KEYS})
                    self.record(sp, "control")
                    return {"secrets": sorted(sp["secrets"])}
            if what == "can_provision":
                return self.can_provision(sp_id)
            if what == "history":
                return self.history(sp_id)
        raise GraphError(404, "NotFound", "no such entra control route: %s %s" % (method, path))


def serve(state, method, path, headers, raw):
    """Answer one /_entra/ request: (status, body, headers)."""
    try:
        if path.startswith(LOGIN):
            match = re.match(r"^([^/]+)/oauth2/v2\.0/token$", path[len(LOGIN):])
            if not match or method != "POST":
                raise LoginError(404, "invalid_request", 90002, "No such endpoint.")
            form = {k: v[0] for k, v in parse_qs(raw.decode("utf-8", "replace")).items()}
            with state.lock:
                return 200, state.issue_token(match.group(1), form), {}
        if path.startswith(GRAPH):
            try:
                body = json.loads(raw) if raw else None
            except ValueError:
                raise GraphError(400, "BadRequest", "Unable to read JSON request payload.")
            status, answer = state.graph(method, path, headers, body)
            return status, answer, {}
        raise GraphError(404, "Request_ResourceNotFound", "no such route")
    except (GraphError, LoginError) as exc:
        return exc.status, exc.body(), getattr(exc, "headers", {})
