# Copyright: (c) 2026, resolver.scim contributors
# GNU General Public License v3.0+ (see LICENSES/GPL-3.0-or-later.txt or https://www.gnu.org/licenses/gpl-3.0.txt)
"""Shared fixtures: the Resolver emulator on a free port, a runner for real ansible-playbook runs, and the real
secrets-manager servers (OpenBao, moto) the hashi_vault and aws_secretsmanager stores are tested against."""

import itertools
import json
import os
import subprocess
import sys
import threading
import urllib.request

import pytest
import trustme
import yaml

HERE = os.path.dirname(os.path.abspath(__file__))
sys.path.insert(0, os.path.join(HERE, "emulator"))
sys.path.insert(0, os.path.join(HERE, "servers"))

import entra_credentials  # noqa: E402  pylint: disable=wrong-import-position
import org_inventory  # noqa: E402  pylint: disable=wrong-import-position
import resolver_emulator  # noqa: E402  pylint: disable=wrong-import-position
import store_servers  # noqa: E402  pylint: disable=wrong-import-position

# The changing methods the emulator serves; any other method gets 501 from http.server, which fails the module.
MUTATING = ("POST", "DELETE")
REPO = os.path.dirname(HERE)

# Where the reliability matrices leave their tables for docs/reliability.md.
RELIABILITY_OUTPUT = os.path.join(REPO, "tests", "output", "reliability")


def write_reliability_report(name, rows, lines):
    """Write a matrix's rows (NAME.json) and its table (NAME.md, the lines) to RELIABILITY_OUTPUT."""
    os.makedirs(RELIABILITY_OUTPUT, exist_ok=True)
    with open(os.path.join(RELIABILITY_OUTPUT, name + ".json"), "w", encoding="utf-8") as handle:
        json.dump(rows, handle, indent=2)
    with open(os.path.join(RELIABILITY_OUTPUT, name + ".md"), "w", encoding="utf-8") as handle:
        handle.write("\n".join(lines) + "\n")


# The optional collections of the secrets-manager stores, from the `ansible` wheel (make store-collections).
STORE_COLLECTIONS = os.path.join(REPO, ".tmp", "store-collections")


class Emulator:
    """Handle on a running emulator, driven only through its HTTP control routes."""

    def __init__(self, server, ssl_context=None):
        self.server = server
        self.base = server.url
        self.ssl_context = ssl_context
        self.seed = None

    @property
    def url(self):
        """The Core API base URL a user would configure (with the prefix switch applied)."""
        return self.base + self.control("GET", "health")["config"]["prefix"]

    def control(self, method, route, body=None):
        data = None if body is None else json.dumps(body).encode()
        request = urllib.request.Request("%s/_emulator/%s" % (self.base, route), data=data, method=method,
                                         headers={"Content-Type": "application/json"})
        with urllib.request.urlopen(request, timeout=10, context=self.ssl_context) as answer:
            return json.loads(answer.read() or b"null")

    def reset(self, **config):
        self.seed = self.control("POST", "reset", config)
        return self.seed

    def member(self, org=1, admin=True):
        org_info = next(o for o in self.seed["orgs"] if o["id"] == org)
        return next(m for m in org_info["members"] if m["is_admin"] == admin)

    def api_key(self, org=1, admin=True):
        return self.member(org, admin)["api_key"]

    def faults(self, *rules):
        self.control("DELETE", "faults")
        if rules:
            self.control("POST", "faults", list(rules))

    def log(self):
        return self.control("GET", "log")["requests"]

    def clear_log(self):
        self.control("DELETE", "log")

    def mutating(self):
        return [r for r in self.log() if r["method"] in MUTATING and not r["path"].startswith("/_emulator")]

    def tokens(self, live_only=True, name=None):
        tokens = self.control("GET", "tokens")["tokens"]
        return [t for t in tokens if (not live_only or not t["deleted"]) and (name is None or t["name"] == name)]

    def age_tokens(self, days, ids=None):
        return self.control("POST", "age_tokens", {"days": days, "ids": ids or []})

    def secrets(self):
        return self.control("GET", "secrets")["secrets"]

    def issue_token(self, name="entra", email_domains=("acme.com",), org=1):
        """A new SCIM token created through the API (its secret is returned once, as by Resolver)."""
        headers = {"Authorization": "Bearer " + self.api_key(org), "Content-Type": "application/json"}
        request = urllib.request.Request(
            self.url + "/user/scimTokens", method="POST", headers=headers,
            data=json.dumps({"orgMembershipId": self.member(org)["membership_id"], "name": name,
                             "emailDomains": list(email_domains)}).encode())
        with urllib.request.urlopen(request, timeout=10, context=self.ssl_context) as answer:
            return json.loads(answer.read())

    def entra(self, method, route, body=None):
        """A control route of the Entra ID stand-in (/_emulator/entra/...)."""
        return self.control(method, "entra/" + route, body)

    def entra_connection(self, app="provisioner", **extra):
        """Connection options of resolver.scim.entra_provisioning for a seeded app registration."""
        seed = self.entra("GET", "seed")
        registration = next(a for a in seed["apps"] if a["name"] == app)
        # msal signs in over https only: the server's https listener (same state), trusted through ca_path.
        options = {"tenant_id": seed["tenant_id"], "client_id": registration["client_id"],
                   "client_secret": registration["client_secret"], "graph_url": self.base + "/_entra/graph",
                   "authority_url": getattr(self.server, "login_url", self.base) + "/_entra/login", "timeout": 5,
                   "ca_path": getattr(self.server, "login_ca", None)}
        options.update(extra)
        return {k: v for k, v in options.items() if v is not None}

    def app(self, name="provisioner"):
        return next(a for a in self.entra("GET", "seed")["apps"] if a["name"] == name)

    def register_certificate(self, certificate_pem, app="provisioner"):
        """Upload a certificate to an app registration (Certificates & secrets)."""
        return self.entra("POST", "apps/%s/certificates" % self.app(app)["client_id"], {"certificate": certificate_pem})

    def trust_issuer(self, issuer, subject, app="provisioner"):
        """A federated credential of an app registration: tokens of ``issuer`` (entra_credentials.Issuer) for
        ``subject``."""
        return self.entra("POST", "apps/%s/federated_credentials" % self.app(app)["client_id"], {
            "issuer": issuer.url, "subject": subject, "public_key": entra_credentials.public_key_pem(issuer.key)})

    def managed_identities(self, system=None, user_assigned=()):
        """The identities of the "Azure resource" the IMDS stand-in serves: app names (client ids are seeded)."""
        return self.entra("POST", "managed_identities", {
            "system": self.app(system)["client_id"] if system else None,
            "user_assigned": [self.app(name)["client_id"] for name in user_assigned]})

    def service_principal(self, name="resolver"):
        return next(sp for sp in self.entra("GET", "seed")["service_principals"] if sp["name"] == name)

    def scim_status(self, token, path="/scim/Users?count=1"):
        """Status code of a SCIM request made with ``token`` (proves a token works or not)."""
        request = urllib.request.Request(self.base + path, headers={"Authorization": "Bearer " + token})
        try:
            with urllib.request.urlopen(request, timeout=10, context=self.ssl_context) as answer:
                return answer.status
        except urllib.error.HTTPError as exc:
            return exc.code


def start_server(**kwargs):
    server = resolver_emulator.make_server(**kwargs)
    thread = threading.Thread(target=server.serve_forever, daemon=True)
    thread.start()
    return server


def start_server_with_login(directory, **kwargs):
    """The emulator over http, with an https listener of the same state for Entra ID's sign-in (msal requires
    https), whose certificate a trustme CA (``server.login_ca``, written into ``directory``) signs. Returns
    (server, login listener); shut both down."""
    server = start_server(**kwargs)
    ca = trustme.CA()
    issued = ca.issue_cert("localhost", "127.0.0.1")
    chain, key, server.login_ca = (str(directory / name) for name in ("cert.pem", "key.pem", "ca.pem"))
    issued.private_key_and_cert_chain_pem.write_to_path(chain)
    issued.private_key_pem.write_to_path(key)
    ca.cert_pem.write_to_path(server.login_ca)
    login = start_server(certfile=chain, keyfile=key, state=server.state)
    server.login_url = login.url
    return server, login


@pytest.fixture(scope="session")
def emulator_server(tmp_path_factory):
    """The emulator with its https sign-in listener (start_server_with_login), for the whole session."""
    server, login = start_server_with_login(tmp_path_factory.mktemp("login-tls"))
    yield server
    login.shutdown()
    server.shutdown()


@pytest.fixture
def emulator(emulator_server):
    """A freshly reset emulator (default switches) for each test."""
    handle = Emulator(emulator_server)
    handle.reset()
    return handle


class Ansible:
    """Runs real ansible-playbook processes and returns each task's recorded result."""

    def __init__(self, tmp_path, emulator):
        self.tmp_path = tmp_path
        self.emulator = emulator
        # itertools.count is thread-safe, so tests may run playbooks side by side.
        self.runs = itertools.count(1)
        self.outputs = []

    def connection(self, org=1, admin=True, **extra):
        options = {"url": self.emulator.url, "api_key": self.emulator.api_key(org, admin), "timeout": 5}
        options.update(extra)
        return {k: v for k, v in options.items() if v is not None}

    def playbook(self, playbook, check=False, diff=False, verbosity=0, env=None, extra_args=(), inventory=None,
                 prefix=()):
        """Run a playbook (a path, or a list of plays to write out); return (rc, results, output).

        ``prefix``: a command that runs ansible-playbook (its arguments follow), e.g. one that gives it another host name.
        """
        run_dir = self.tmp_path / ("run%02d" % next(self.runs))
        run_dir.mkdir()
        if not isinstance(playbook, str):
            path = run_dir / "playbook.yml"
            path.write_text(yaml.safe_dump(playbook, sort_keys=False))
            playbook = str(path)
        record = run_dir / "record.jsonl"
        environment = dict(os.environ)
        environment.update({
            "RECORD_PATH": str(record),
            "ANSIBLE_CALLBACK_PLUGINS": os.path.join(HERE, "integration", "callback_plugins"),
            "ANSIBLE_CALLBACKS_ENABLED": "record",
            "ANSIBLE_NOCOLOR": "1",
            "ANSIBLE_LOCALHOST_WARNING": "0",
            "ANSIBLE_INVENTORY_UNPARSED_WARNING": "0",
            "ANSIBLE_PYTHON_INTERPRETER": sys.executable,
            "NO_PROXY": "127.0.0.1,localhost,::1",
        })
        environment.update(env or {})
        command = list(prefix) + [os.path.join(os.path.dirname(sys.executable), "ansible-playbook"), playbook]
        command += ["-i", inventory or "localhost,", "-c", "local"]
        if check:
            command.append("--check")
        if diff:
            command.append("--diff")
        if verbosity:
            command.append("-" + "v" * verbosity)
        command += list(extra_args)
        completed = subprocess.run(command, env=environment, cwd=str(run_dir), capture_output=True, text=True,
                                   timeout=600, check=False)
        output = completed.stdout + completed.stderr
        self.outputs.append(output)
        results = []
        if record.exists():
            results = [json.loads(line) for line in record.read_text().splitlines()]
        return completed.returncode, results, output

    def inventory(self, orgs=3, group_vars=None, host_vars=None, store_dir=None):
        """Write an inventory with one host per emulator org (file store under tmp_path); return its path."""
        hosts = org_inventory.org_hosts(self.emulator.seed, self.emulator.url, orgs)
        for name, extra in (host_vars or {}).items():
            hosts[name].update(extra)
        variables = {"resolver_scim_token_store_dir": str(store_dir or self.tmp_path / "store"), "resolver_timeout": 5}
        variables.update(group_vars or {})
        return org_inventory.write_inventory(str(self.tmp_path / ("inventory%02d" % next(self.runs))), hosts,
                                             variables)

    def run_playbook(self, name, inventory, check=False, diff=False, verbosity=0, extra_vars=None, env=None,
                     prefix=()):
        """Run one of the collection's playbooks (playbooks/NAME.yml) over an inventory."""
        extra = ["-e", json.dumps(extra_vars)] if extra_vars else []
        return self.playbook(os.path.join(REPO, "playbooks", name + ".yml"), check=check, diff=diff,
                             verbosity=verbosity, extra_args=extra, inventory=inventory, env=env, prefix=prefix)

    def task(self, module, args, check=False, diff=False, connection=None, env=None, verbosity=0,
             module_defaults=True):
        """Run one module as a task (connection options via the action group's module_defaults: the resolver group's
        by default, or ``module_defaults`` itself when it is a dict)."""
        play = {"hosts": "localhost", "gather_facts": False, "tasks": [
            {"name": "under test", module: args, "register": "outcome"}]}
        if isinstance(module_defaults, dict):
            play["module_defaults"] = module_defaults
        elif module_defaults:
            play["module_defaults"] = {"group/resolver.scim.resolver": connection or self.connection()}
        rc, results, output = self.playbook([play], check=check, diff=diff, env=env, verbosity=verbosity)
        under_test = [r for r in results if r["task"] == "under test"]
        assert under_test, "the task did not run (rc=%s):\n%s" % (rc, output[-3000:])
        result = under_test[-1]["result"]
        result["_status"] = under_test[-1]["status"]
        result["_output"] = output
        return result


@pytest.fixture
def ansible(tmp_path, emulator):
    return Ansible(tmp_path, emulator)


@pytest.fixture(scope="session")
def store_collections():
    """The collections path holding community.hashi_vault, amazon.aws and community.aws."""
    for name in ("community/hashi_vault", "amazon/aws", "community/aws"):
        if not os.path.isfile(os.path.join(STORE_COLLECTIONS, "ansible_collections", name, "MANIFEST.json")):
            pytest.fail("%s is missing: run `make store-collections` (the store tests need it)"
                        % name.replace("/", "."))
    return STORE_COLLECTIONS


@pytest.fixture(scope="session")
def openbao(tmp_path_factory):
    """An OpenBao dev server on loopback for this test session (or xdist worker), stopped at the end."""
    server = store_servers.OpenBao(tmp_path_factory.mktemp("openbao"))
    yield server
    server.close()


@pytest.fixture(scope="session")
def moto(tmp_path_factory):
    """moto's Secrets Manager on loopback, with IAM authentication on, stopped at the end."""
    server = store_servers.Moto(tmp_path_factory.mktemp("moto"))
    yield server
    server.close()


def pytest_configure(config):
    config.addinivalue_line("markers", "exhaustive: the long matrices and the repeats of a case in other variants "
                                       "(make exhaustive, which CI runs after make test)")
