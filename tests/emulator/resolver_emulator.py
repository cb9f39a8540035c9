# Copyright: (c) 2026, resolver.scim contributors
# GNU General Public License v3.0+ (see LICENSES/GPL-3.0-or-later.txt or https://www.gnu.org/licenses/gpl-3.0.txt)
"""A Resolver Core API emulator: a real HTTP(S) server for tests and ``make demo``.

It implements the part of Resolver (../shared/resolver-api.md) the collection uses: orgs, users and memberships
with seeded API keys, 15-minute sessions, SCIM tokens with a two-year expiry, and the SCIM 2.0 Users list that
proves a token works. It has one switch per assumed API variant (see CONFIG_DEFAULTS and
docs/api-assumptions.md).

Test-only control routes live under /_emulator/ and are never part of the emulated API:
  GET  /_emulator/health                   liveness
  GET  /_emulator/seed                     seeded orgs, users, memberships and their API keys/passwords
  POST /_emulator/reset   {config}         back to the seed, with switches
  POST /_emulator/config  {switch: value}  change switches
  POST /_emulator/clock   {"offset_seconds": n}   server clock offset: sessions expire and tokens stop working
                                           by it; the listed expiry, which the collection compares with the
                                           controller's clock, does not move (use age_tokens for renewals)
  POST /_emulator/age_tokens {"days": n, "ids": [..]}  shift tokens' creation and expiry back (all, or ids)
  POST /_emulator/users/{id}/deactivate    deactivate a user (its tokens stop working)
  POST /_emulator/faults  [{rule}, ...]    inject faults; DELETE clears them
  POST /_emulator/tokens  {"org_id", "name", "email_domains"}  plant a token out of band (its secret is
                                           only in /_emulator/secrets)
  GET  /_emulator/tokens                   every token ever created, with "deleted" flags (no secrets);
                                           DELETE forgets them all
  GET  /_emulator/log     DELETE clears    request log: method, path, status, connection (no bodies)
  GET  /_emulator/secrets                  every API key, password and token value issued, Entra client secrets
                                           and access tokens too (for leak scans)
  /_emulator/entra/...                     the Entra ID stand-in's control routes (graph_emulator.py)

The same server is a Microsoft Entra ID / Graph stand-in under /_entra/login and /_entra/graph (graph_emulator.py
lists its routes); its validateCredentials makes a real SCIM request to this server's Resolver side.

A fault rule: {"method": "POST", "path": "^/user/scimTokens$", "skip": 0, "count": 1, "status": 503,
"retry_after": 1, "delay": 0, "drop": false, "malformed": false, "act": false, "org": 2}. ``org`` (optional)
limits the rule to requests made for that org; ``message`` (optional) is the error message of its body.
``act`` does the real work
before the fault (a create that succeeds on the server while its answer is lost); ``drop`` resets the
connection instead of answering; ``delay`` sleeps before answering. On /_entra/ paths a fault answers with a
body shaped like Graph's (or the token endpoint's) errors. Two faults of the transport (issue 21):
``"redirect": URL`` answers ``status`` (307 unless given) with ``Location: URL``; ``"trickle": seconds`` answers 200
with a 1 MB Content-Length, then sends one byte every ``seconds`` until the client leaves (at most ``trickle_for``
seconds, 120 unless given), and logs ``trickled_seconds``, how long it kept the client, when it ends.
"""

import argparse
import datetime
import itertools
import json
import os
import re
import secrets
import socket
import ssl
import struct
import sys
import threading
import time
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer
from urllib.parse import urlsplit

import graph_emulator

CONFIG_DEFAULTS = {
    "prefix": "",                        # "" or "/api": where the Core API sits
    "domains_wire": "list",              # "list" or "string": emailDomains in bodies, both ways
    "create_status": 201,                # 200 or 201 for a created token
    "auth_header": "authorization",      # "authorization" or "x-api-key": how API keys are accepted
    "login_org_field": "selectedOrgId",  # "selectedOrgId" or "orgId" in POST /user/authenticate
    "unauth_status": 401,                # 401 or 403 for a missing or bad credential
    "timestamps": "millis_z",            # "millis_z", "plain" (no ms, no Z), "offset" (+00:00) or "none" (not listed)
    "list_shape": "array",               # "array" or "wrapped" ({"data": [...]})
    "latency_ms": 0,                     # added to every API request (benchmarks)
    "scim_path": "/scim",                # "/scim" (documented connector base /scim/) or "/scim/v2": where SCIM is served
    # Entra / Graph (graph_emulator.py)
    "entra_secrets_put": "merge",        # "merge" (per key) or "replace" (all keys): PUT .../synchronization/secrets
    "entra_validate_failure_status": 400,  # 400 or 409: a validateCredentials whose credentials do not work
}
SESSION_SECONDS = 15 * 60
TOKEN_DAYS = 730


def _utcnow():
    return datetime.datetime.now(datetime.timezone.utc)


def bearer(headers):
    """The credential of an ``Authorization: Bearer`` header (scheme matched case-insensitively), or None."""
    match = re.match(r"^\s*bearer\s+(\S+)\s*$", headers.get("Authorization") or "", re.I)
    return match.group(1) if match else None


class ApiError(Exception):
    def __init__(self, status, message):
        super().__init__(message)
        self.status = status
        self.message = message


class State:
    """Everything the emulated Resolver knows; guarded by one lock."""

    def __init__(self, seed_orgs=3):
        self.lock = threading.RLock()
        self.seed_orgs = seed_orgs
        self.server_url = ""  # set by make_server; the Entra stand-in checks BaseAddress against it
        self.log_generation = 0
        self.reset({})

    def clear_log(self):
        """Start a new log. A request still answering (a delay fault outliving its client's timeout) belongs to
        the old one, so a test never sees a request from the test before it."""
        self.log = []
        self.log_generation += 1

    def reset(self, config):
        with self.lock:
            self.config = dict(CONFIG_DEFAULTS)
            self.configure(config)
            self.clock_offset = 0.0
            self.orgs, self.users, self.memberships, self.api_keys = {}, {}, {}, {}
            self.sessions, self.tokens = {}, {}
            self.faults = []
            self.clear_log()
            self.issued = []  # every secret ever handed out, for leak scans
            self.ids = itertools.count(1000)
            self._seed()
            self.entra = graph_emulator.EntraState(self)

    def configure(self, config):
        unknown = set(config) - set(CONFIG_DEFAULTS)
        if unknown:
            raise ApiError(400, "unknown emulator switch(es): %s" % ", ".join(sorted(unknown)))
        self.config.update(config)

    def now(self):
        return _utcnow() + datetime.timedelta(seconds=self.clock_offset)

    def _secret(self, prefix):
        value = prefix + secrets.token_urlsafe(24)
        self.issued.append(value)
        return value

    def _seed(self):
        names = ["Acme Corp", "Globex", "Initech", "Umbrella", "Hooli"]
        for n in range(1, self.seed_orgs + 1):
            slug = names[(n - 1) % len(names)].split()[0].lower() + ("" if n <= len(names) else str(n))
            domains = ["%s.com" % slug, "%s.org" % slug, "%s-labs.com" % slug, "example.com"]
            org = {"id": n, "name": names[(n - 1) % len(names)], "sso_domains": domains}
            self.orgs[n] = org
            self.add_user(n, "admin@%s.com" % slug, admin=True, user_id=n * 10, membership_id=n * 100)
            self.add_user(n, "viewer@%s.com" % slug, admin=False, user_id=n * 10 + 1, membership_id=n * 100 + 1)

    def add_user(self, org_id, email, admin, user_id=None, membership_id=None):
        user_id = user_id or next(self.ids)
        membership_id = membership_id or next(self.ids)
        self.users[user_id] = {"id": user_id, "email": email, "firstName": email.split("@")[0].title(),
                               "lastName": "User", "active": True, "password": self._secret("pw-")}
        self.memberships[membership_id] = {"id": membership_id, "orgId": org_id, "userId": user_id,
                                           "isAdmin": admin, "active": True}
        self.api_keys[self._secret("rk-")] = membership_id
        return self.users[user_id]

    def seed_info(self):
        keys = {m: k for k, m in self.api_keys.items()}
        return {"orgs": [{
            "id": org["id"], "name": org["name"], "sso_domains": org["sso_domains"],
            "members": [{"user_id": m["userId"], "email": self.users[m["userId"]]["email"],
                         "password": self.users[m["userId"]]["password"], "membership_id": m["id"],
                         "is_admin": m["isAdmin"], "api_key": keys.get(m["id"])}
                        for m in self.memberships.values() if m["orgId"] == org["id"]],
        } for org in self.orgs.values()]}

    # ----- time formats -------------------------------------------------------------------------------

    def stamp(self, value):
        style = self.config["timestamps"]
        if style == "none":
            return None
        if style == "plain":
            return value.strftime("%Y-%m-%dT%H:%M:%S")
        if style == "offset":
            return value.strftime("%Y-%m-%dT%H:%M:%S+00:00")
        return value.strftime("%Y-%m-%dT%H:%M:%S.") + "%03dZ" % (value.microsecond // 1000)

    def domains_out(self, domains):
        return list(domains) if self.config["domains_wire"] == "list" else ",".join(domains)

    def domains_in(self, value):
        if self.config["domains_wire"] == "list":
            if not isinstance(value, list) or not all(isinstance(v, str) for v in value):
                raise ApiError(400, "emailDomains must be an array of strings")
            items = value
        else:
            if not isinstance(value, str):
                raise ApiError(400, "emailDomains must be a comma-separated string")
            items = value.split(",")
        items = [d.strip().lower() for d in items if d.strip()]
        if not items:
            raise ApiError(400, "emailDomains must not be empty")
        return sorted(set(items))

    # ----- auth -------------------------------------------------------------------------------------

    def membership_for(self, headers):
        """The caller's membership, from an API key or a session token."""
        credential = None
        if self.config["auth_header"] == "x-api-key":
            credential = headers.get("x-api-key")
        else:
            credential = bearer(headers)
        membership_id = self.api_keys.get(credential)
        if membership_id is None and credential in self.sessions:
            session = self.sessions[credential]
            if session["expires"] > self.now():
                membership_id = session["membership_id"]
        if membership_id is None:
            raise ApiError(self.config["unauth_status"], "Not authenticated")
        membership = self.memberships[membership_id]
        if not membership["active"] or not self.users[membership["userId"]]["active"]:
            raise ApiError(self.config["unauth_status"], "User is deactivated")
        return membership

    def require_admin(self, membership):
        if not membership["isAdmin"]:
            raise ApiError(403, "Administrator permission required")

    def login(self, body):
        if not isinstance(body, dict):
            raise ApiError(400, "body must be an object")
        org_id = body.get(self.config["login_org_field"])
        user = next((u for u in self.users.values() if u["email"] == body.get("email")), None)
        if user is None or body.get("password") != user["password"]:
            raise ApiError(401, "Invalid credentials")
        membership = next((m for m in self.memberships.values() if m["userId"] == user["id"] and m["active"]
                           and user["active"] and (org_id is None or m["orgId"] == org_id)), None)
        if membership is None:
            raise ApiError(404, "Not an active member of any org")
        return self._new_session(membership["id"])

    def _new_session(self, membership_id):
        token = self._secret("st-")
        self.sessions[token] = {"membership_id": membership_id,
                                "expires": self.now() + datetime.timedelta(seconds=SESSION_SECONDS)}
        return {"token": token}

    # ----- SCIM tokens ------------------------------------------------------------------------------

    def token_view(self, token):
        return {"id": token["id"], "name": token["name"], "orgMembershipId": token["orgMembershipId"],
                "emailDomains": self.domains_out(token["emailDomains"]),
                "createdOn": self.stamp(token["createdOn"]), "tokenExpiry": self.stamp(token["tokenExpiry"])}

    def org_tokens(self, org_id):
        return [t for t in sorted(self.tokens.values(), key=lambda t: t["id"])
                if t["orgId"] == org_id and not t["deleted"]]

    def create_token(self, caller, body):
        if not isinstance(body, dict):
            raise ApiError(400, "body must be an object")
        membership = self.memberships.get(body.get("orgMembershipId"))
        if not isinstance(body.get("orgMembershipId"), int) or membership is None \
                or membership["orgId"] != caller["orgId"]:
            raise ApiError(400, "orgMembershipId must be a membership of this org")
        name = body.get("name")
        if not isinstance(name, str) or not name.strip() or len(name) > 255:
            raise ApiError(400, "name must be a non-empty string of at most 255 characters")
        domains = self.domains_in(body.get("emailDomains"))
        sso = self.orgs[caller["orgId"]]["sso_domains"]
        outside = [d for d in domains if d not in sso]
        if outside:
            raise ApiError(400, "emailDomains %s are not in this org's SSO setup" % ", ".join(outside))
        return self.plant_token(caller["orgId"], membership["id"], name, domains)

    def plant_token(self, org_id, membership_id, name, domains):
        now = _utcnow()
        token = {"id": next(self.ids), "orgId": org_id, "orgMembershipId": membership_id, "name": name,
                 "emailDomains": domains, "createdOn": now,
                 "tokenExpiry": now + datetime.timedelta(days=TOKEN_DAYS), "secret": self._secret("scim-"),
                 "deleted": False}
        self.tokens[token["id"]] = token
        return dict(self.token_view(token), token=token["secret"])

    def scim_token(self, headers):
        secret = bearer(headers)
        token = next((t for t in self.tokens.values() if t["secret"] == secret), None)
        if token is None or token["deleted"] or token["tokenExpiry"] <= self.now():
            raise ApiError(401, "invalid SCIM token")
        owner = self.memberships[token["orgMembershipId"]]
        if not owner["active"] or not self.users[owner["userId"]]["active"]:
            raise ApiError(401, "the token's owner is deactivated")
        return token

    # ----- faults -----------------------------------------------------------------------------------

    def caller_org(self, headers):
        """The org a request acts for (API key, session or SCIM token), or None; lets a fault hit one org only."""
        credential = headers.get("x-api-key") or bearer(headers)
        membership_id = self.api_keys.get(credential) or self.sessions.get(credential, {}).get("membership_id")
        if membership_id is not None:
            return self.memberships[membership_id]["orgId"]
        token = next((t for t in self.tokens.values() if t["secret"] == credential), None)
        return token["orgId"] if token else None

    def take_fault(self, method, path, headers):
        for rule in self.faults:
            if rule.get("method", method).upper() != method or not re.search(rule.get("path", ""), path):
                continue
            if "org" in rule and rule["org"] != self.caller_org(headers):
                continue
            if rule.get("skip", 0) > 0:
                rule["skip"] -= 1
                continue
            if rule.get("count", 1) <= 0:
                continue
            rule["count"] = rule.get("count", 1) - 1
            return rule
        return None


class Handler(BaseHTTPRequestHandler):
    protocol_version = "HTTP/1.1"
    server_version = "ResolverEmulator/1.0"
    state = None  # set by make_server
    connection_ids = itertools.count(1)
    log_generation = None  # the log a request belongs to, taken when it arrives

    def log_message(self, format, *args):  # pylint: disable=redefined-builtin
        """Quiet: the request log at /_emulator/log is the record."""

    def setup(self):
        super().setup()
        self.connection_id = next(self.connection_ids)

    def do_GET(self):
        self.dispatch("GET")

    def do_POST(self):
        self.dispatch("POST")

    def do_DELETE(self):
        self.dispatch("DELETE")

    def do_PUT(self):  # the Graph stand-in's synchronization secrets
        self.dispatch("PUT")

    # ----- plumbing -------------------------------------------------------------------------------

    def read_body(self):
        length = int(self.headers.get("Content-Length") or 0)
        raw = self.rfile.read(length) if length else b""
        if not raw:
            return None
        try:
            return json.loads(raw)
        except ValueError:
            raise ApiError(400, "body is not JSON")

    def send(self, status, body=None, headers=None, raw=None):
        """Log, then answer: a test that reads the log after its request has returned sees the entry."""
        self.record(status)
        payload = raw if raw is not None else (b"" if body is None else json.dumps(body).encode())
        self.send_response(status)
        if payload:
            self.send_header("Content-Type", "application/json")
        self.send_header("Content-Length", str(len(payload)))
        for key, value in (headers or {}).items():
            self.send_header(key, value)
        self.end_headers()
        self.wfile.write(payload)

    def record(self, status, **extra):
        if self.path.startswith("/_emulator/"):
            return
        with self.state.lock:
            if self.log_generation != self.state.log_generation:
                return
            self.state.log.append(dict({"method": self.command, "path": urlsplit(self.path).path, "status": status,
                                        "connection": self.connection_id, "time": time.time()}, **extra))

    def drop(self):
        """Reset the connection without an answer."""
        self.record(0)
        self.connection.setsockopt(socket.SOL_SOCKET, socket.SO_LINGER, struct.pack("ii", 1, 0))
        self.close_connection = True
        self.connection.close()

    def dispatch(self, method):
        state = self.state
        self.log_generation = state.log_generation
        path = urlsplit(self.path).path
        if path.startswith("/_emulator/"):
            return self.control(method, path)
        if path.startswith("/_entra/"):
            return self.entra(method, path)
        api_path = None
        prefix = state.config["prefix"]
        if path.startswith("/scim/"):  # SCIM sits at the host root, whatever the API prefix
            api_path = path
        elif path.startswith(prefix + "/") and (prefix or not path.startswith("/api/")):
            api_path = path[len(prefix):]
        try:
            body = self.read_body()
            if state.config["latency_ms"]:
                time.sleep(state.config["latency_ms"] / 1000.0)
            with state.lock:
                fault = state.take_fault(method, api_path or path, self.headers)
            if fault and not fault.get("act"):
                return self.apply_fault(fault, None)
            if api_path is None:
                raise ApiError(404, "no such route")
            with state.lock:
                status, answer = self.route(method, api_path, body)
            if fault:
                return self.apply_fault(fault, (status, answer))
            return self.send(status, answer)
        except ApiError as exc:
            return self.send(exc.status, {"message": exc.message})
        except (ConnectionError, OSError):
            return None

    def entra(self, method, path):
        """The Entra ID / Graph stand-in (graph_emulator.py); faults apply as to the Resolver routes."""
        state = self.state
        try:
            length = int(self.headers.get("Content-Length") or 0)
            raw = self.rfile.read(length) if length else b""
            with state.lock:
                fault = state.take_fault(method, path, self.headers)
            if fault and not fault.get("act"):
                return self.apply_fault(fault, None)
            status, body, headers = graph_emulator.serve(state.entra, method, path, self.headers, raw,
                                                         urlsplit(self.path).query)
            if fault:
                return self.apply_fault(fault, (status, body))
            return self.send(status, body, headers)
        except (ConnectionError, OSError):
            return None

    def trickle(self, seconds, limit):
        """Promise a large body, then send it one byte every ``seconds`` until the client leaves or ``limit``."""
        started = time.monotonic()
        self.send_response(200)
        self.send_header("Content-Type", "application/json")
        self.send_header("Content-Length", str(10 ** 6))
        self.end_headers()
        try:
            while time.monotonic() - started < limit:
                self.wfile.write(b" ")
                time.sleep(seconds)
        except OSError:
            pass  # the client has gone: what the fault waits for
        self.close_connection = True
        self.record(200, trickled_seconds=round(time.monotonic() - started, 2))

    def apply_fault(self, fault, answer):
        if fault.get("delay"):
            time.sleep(fault["delay"])
        if fault.get("drop"):
            return self.drop()
        if fault.get("redirect"):
            return self.send(fault.get("status", 307), {"message": "moved"}, {"Location": fault["redirect"]})
        if fault.get("trickle"):
            return self.trickle(fault["trickle"], fault.get("trickle_for", 120))
        if fault.get("malformed"):
            return self.send(200, raw=b'{"id": 1, "token": ')
        if fault.get("status"):
            headers = {"Retry-After": str(fault["retry_after"])} if fault.get("retry_after") is not None else {}
            path = urlsplit(self.path).path
            message = fault.get("message", "injected fault")
            body = graph_emulator.fault_body(path, fault["status"], message) if path.startswith("/_entra/") \
                else {"message": message}
            return self.send(fault["status"], body, headers)
        status, body = answer if answer else (500, {"message": "injected fault"})
        return self.send(status, body)

    # ----- the emulated API -----------------------------------------------------------------------

    def route(self, method, path, body):  # pylint: disable=too-many-return-statements
        state = self.state
        if path.startswith("/scim/"):
            return self.scim(method, path)
        if path == "/user/authenticate" and method == "POST":
            return 200, state.login(body)
        caller = state.membership_for(self.headers)
        if path == "/user/authenticate" and method == "GET":
            return 200, state._new_session(caller["id"])  # pylint: disable=protected-access
        if path == "/user/users/me" and method == "GET":
            user, org = state.users[caller["userId"]], state.orgs[caller["orgId"]]
            view = {k: v for k, v in user.items() if k != "password"}
            return 200, dict(view, currentOrg={"id": org["id"], "name": org["name"]})
        match = re.match(r"^/user/org/(\d+)/user/(\d+)$", path)
        if match and method == "GET":
            org_id, user_id = int(match.group(1)), int(match.group(2))
            if caller["orgId"] != org_id:
                raise ApiError(403, "not a member of this org")
            state.require_admin(caller)
            found = next((m for m in state.memberships.values() if m["orgId"] == org_id and m["userId"] == user_id),
                         None)
            if found is None:
                raise ApiError(404, "membership not found")
            return 200, dict(found, email=state.users[user_id]["email"])
        if path == "/user/scimTokens":
            state.require_admin(caller)
            if method == "GET":
                views = [state.token_view(t) for t in state.org_tokens(caller["orgId"])]
                return 200, ({"data": views} if state.config["list_shape"] == "wrapped" else views)
            if method == "POST":
                return int(state.config["create_status"]), state.create_token(caller, body)
        match = re.match(r"^/user/scimTokens/(\d+)$", path)
        if match:
            state.require_admin(caller)
            token = state.tokens.get(int(match.group(1)))
            if token is None or token["deleted"] or token["orgId"] != caller["orgId"]:
                raise ApiError(404, "SCIM token not found")
            if method == "GET":
                return 200, state.token_view(token)
            if method == "DELETE":
                token["deleted"], token["deleted_at"] = True, time.time()
                return 204, None
        raise ApiError(404 if method == "GET" else 405, "no such route: %s %s" % (method, path))

    def scim(self, method, path):
        """The SCIM Users list, empty: what a token check needs (the collection provisions no users)."""
        state = self.state
        root = state.config["scim_path"]
        if not path.startswith(root + "/"):
            raise ApiError(404, "no SCIM service at %s; this deployment serves SCIM under %s/" % (path, root))
        state.scim_token(self.headers)
        if path[len(root):] == "/Users" and method == "GET":
            return 200, {"schemas": ["urn:ietf:params:scim:api:messages:2.0:ListResponse"],
                         "totalResults": 0, "Resources": []}
        raise ApiError(404, "no such SCIM route")

    # ----- control routes -------------------------------------------------------------------------

    def control(self, method, path):
        state = self.state
        try:
            body = self.read_body()
            if path.startswith("/_emulator/entra/"):
                # Not under the lock: can_provision makes a real SCIM request to this server.
                return self.send(200, state.entra.control(method, path[len("/_emulator/entra/"):], body or {}))
            with state.lock:
                answer = self.control_route(method, path, body)
            self.send(200, answer)
        except ApiError as exc:
            self.send(exc.status, {"message": exc.message})
        except graph_emulator.GraphError as exc:
            self.send(exc.status, exc.body())

    def control_route(self, method, path, body):  # pylint: disable=too-many-return-statements
        state = self.state
        if path == "/_emulator/health":
            return {"ok": True, "config": state.config}
        if path == "/_emulator/seed":
            return state.seed_info()
        if path == "/_emulator/reset" and method == "POST":
            state.reset(body or {})
            return state.seed_info()
        if path == "/_emulator/config" and method == "POST":
            state.configure(body or {})
            return state.config
        if path == "/_emulator/clock" and method == "POST":
            state.clock_offset = float((body or {}).get("offset_seconds", 0))
            return {"offset_seconds": state.clock_offset}
        if path == "/_emulator/age_tokens" and method == "POST":
            shift = datetime.timedelta(days=float(body["days"]))
            aged = [t for t in state.tokens.values() if not body.get("ids") or t["id"] in body["ids"]]
            for token in aged:
                token["createdOn"] -= shift
                token["tokenExpiry"] -= shift
            return {"aged": [t["id"] for t in aged]}
        match = re.match(r"^/_emulator/users/(\d+)/deactivate$", path)
        if match and method == "POST":
            state.users[int(match.group(1))]["active"] = False
            return {"deactivated": int(match.group(1))}
        if path == "/_emulator/faults":
            if method == "DELETE":
                state.faults = []
            elif method == "POST":
                state.faults.extend(body if isinstance(body, list) else [body])
            return {"faults": state.faults}
        if path == "/_emulator/tokens":
            if method == "POST":
                org = body["org_id"]
                owner = body.get("org_membership_id") or org * 100
                view = state.plant_token(org, owner, body["name"], sorted(body["email_domains"]))
                view.pop("token")
                return view
            if method == "DELETE":  # forget every token (benchmarks start each create-all run from nothing)
                state.tokens = {}
            return {"tokens": [dict(state.token_view(t), deleted=t["deleted"], orgId=t["orgId"])
                               for t in sorted(state.tokens.values(), key=lambda t: t["id"])]}
        if path == "/_emulator/log":
            if method == "DELETE":
                state.clear_log()
            return {"requests": state.log}
        if path == "/_emulator/secrets":
            return {"secrets": list(state.issued)}
        raise ApiError(404, "no such control route")


def make_server(host="127.0.0.1", port=0, certfile=None, keyfile=None, seed_orgs=3, config=None, state=None):
    """Build a server (not yet serving). Its state is ``server.state``; its base URL ``server.url``. Given a
    ``state``, it is another listener of that server (an https one for Entra ID's sign-in, which msal requires)."""
    shared = state is not None
    state = state or State(seed_orgs=seed_orgs)
    if config:
        state.reset(config)
    handler = type("BoundHandler", (Handler,), {"state": state, "connection_ids": itertools.count(1)})
    server = ThreadingHTTPServer((host, port), handler)
    server.daemon_threads = True
    scheme = "http"
    if certfile:
        context = ssl.SSLContext(ssl.PROTOCOL_TLS_SERVER)
        context.load_cert_chain(certfile, keyfile)
        server.socket = context.wrap_socket(server.socket, server_side=True)
        scheme = "https"
    server.state = state
    server.url = "%s://%s:%d" % (scheme, "localhost" if certfile else host, server.server_address[1])
    if not shared:
        state.server_url = server.url
    return server


def control_routes():
    """The test-only control routes of both emulators, as their docstrings list them, for --help."""
    own = __doc__[__doc__.index("Test-only control routes"):__doc__.index("\n\nThe same server")]
    entra = graph_emulator.__doc__[graph_emulator.__doc__.index("Test-only control routes"):]
    return own + "\n\nEntra ID stand-in (graph_emulator.py). " + entra.strip()


def main(argv=None):
    parser = argparse.ArgumentParser(description="Resolver API emulator (test double).", epilog=control_routes(),
                                     formatter_class=argparse.RawDescriptionHelpFormatter)
    parser.add_argument("--host", default="127.0.0.1")
    parser.add_argument("--port", type=int, default=0, help="0 picks a free port")
    parser.add_argument("--cert", help="PEM certificate (serves HTTPS)")
    parser.add_argument("--key", help="PEM private key for --cert")
    parser.add_argument("--orgs", type=int, default=3, help="how many orgs to seed")
    parser.add_argument("--config", default="{}", help="JSON object of switches, e.g. '{\"prefix\": \"/api\"}'")
    parser.add_argument("--ready-file", help="write {url, api_key} as JSON here once serving")
    parser.add_argument("--inventory", metavar="DIR",
                        help="write an Ansible inventory of every org to DIR (its token store next to it, in "
                             "DIR/../store: inside DIR, Ansible would parse the records as inventory)")
    args = parser.parse_args(argv)
    try:
        server = make_server(args.host, args.port, args.cert, args.key, args.orgs, json.loads(args.config))
    except OSError as exc:
        # A busy port is the usual case: one line, not a traceback.
        print("resolver_emulator: cannot serve on %s port %d: %s" % (args.host, args.port, exc.strerror or exc),
              file=sys.stderr)
        return 1
    seed = server.state.seed_info()
    api_url = server.url + server.state.config["prefix"]
    print("Resolver emulator serving %s" % api_url, flush=True)
    for org in seed["orgs"]:
        admin = next(m for m in org["members"] if m["is_admin"])
        print("Admin API key for org %d (%s): %s" % (org["id"], org["name"], admin["api_key"]), flush=True)
    if args.inventory:
        import org_inventory  # pylint: disable=import-outside-toplevel  # needs PyYAML, only for --inventory
        org_inventory.write_inventory(args.inventory, org_inventory.org_hosts(seed, api_url), {
            "resolver_scim_token_store_dir": os.path.join(os.path.dirname(os.path.abspath(args.inventory)), "store")})
        print("Inventory of the %d orgs: %s" % (len(seed["orgs"]), os.path.abspath(args.inventory)), flush=True)
    if args.ready_file:
        with open(args.ready_file, "w", encoding="utf-8") as handle:
            json.dump({"url": api_url, "base": server.url, "api_key": seed["orgs"][0]["members"][0]["api_key"],
                       "orgs": seed["orgs"]}, handle)
    try:
        server.serve_forever()
    except KeyboardInterrupt:
        pass
    return 0


if __name__ == "__main__":
    sys.exit(main())
