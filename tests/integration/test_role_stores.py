# Copyright: (c) 2026, resolver.scim contributors
# GNU General Public License v3.0+ (see LICENSES/GPL-3.0-or-later.txt or https://www.gnu.org/licenses/gpl-3.0.txt)
"""The role with the secrets-manager stores (issue 13) against real servers: OpenBao (Vault's API) and moto's
Secrets Manager, both on loopback. Each test runs once per store:

- converge writes, a second run changes nothing, +705 days renews one token and the store keeps the previous value;
  the requests each store served per run are counted (OpenBao's audit log, moto's recorder), bounded by the
  store's README and written to tests/output/reliability/store_calls.{json,md};
- a run killed between the issue and the store write heals on the next run;
- a store that refuses, cannot be reached, is sealed or is asked in the wrong place (another region, another path
  prefix the credentials may also use): what the run does to the tokens, written to
  tests/output/reliability/store_failures.{json,md}.
"""

import collections
import contextlib
import fcntl
import json
import os
import signal
import stat
import subprocess
import sys
import time

import pytest

import store_servers
from conftest import REPO
from test_role import actions, live_by_org, recap
from test_store_hashi_vault import POLICY, READ_ONLY_POLICY

ORG = "org1-acme"
NAMES = ("okta", "entra-id")
REPORTS = os.path.join(REPO, "tests", "output", "reliability")
NOTHING = contextlib.nullcontext()
# A store case of the failure table: the store's group vars and environment for the run, a context the run happens
# in, and the Resolver changes the run makes (None: none).
Case = collections.namedtuple("Case", "case settings env context changes", defaults=(NOTHING, None))
# What the plan says of a store asked in the wrong place: it reads empty, but never saw the org.
NEVER_USED = "has never been used for this org, yet Resolver has live declared tokens it does not hold"


class Store:
    """One secrets-manager store as the role tests use it: its settings, how to read what it holds, how to count
    the requests it serves, and its documented request counts per verb (the store's README)."""

    name = None

    def __init__(self, store_collections):
        self.env = {"ANSIBLE_COLLECTIONS_PATH": store_servers.collections_path(store_collections)}
        self.vars = {"resolver_scim_token_store": self.name}
        self.secrets = []
        # The servers live for the whole session: each test's store starts empty under a path of its own.
        self.unique = store_servers.org_name()

    def inventory(self, ansible, **extra):
        return ansible.inventory(orgs=1, group_vars=dict(self.vars, **extra))

    def stored(self, name):
        """(token id, value, the value before it or None) that the store holds for the org's token ``name``."""
        raise NotImplementedError

    def failure_cases(self):
        """[Case] of stores that cannot be used, the ones that change the tokens last."""
        raise NotImplementedError

    def mark(self):
        raise NotImplementedError

    def calls_since(self, mark):
        """The requests the store served since mark(), by operation: Counter."""
        raise NotImplementedError

    # The store README's request counts per verb: a read of an org with this many token secrets, a check, a write.
    @staticmethod
    def read_calls(secrets):
        raise NotImplementedError

    @staticmethod
    def check_calls():
        raise NotImplementedError

    @staticmethod
    def write_calls(items):
        raise NotImplementedError

    @staticmethod
    def lock_calls():
        """Taking a free lock in the store and releasing it (lock.yml, unlock.yml); 0 for a store without."""
        return 0

    def rotation_bound(self, secrets):
        """A renewal of one token: the plan's read, the org's lock in the store, the read again under the locks,
        check, one write, the read back before revoking, and the release (docs/stores.md, the store's README)."""
        return 3 * self.read_calls(secrets) + self.lock_calls() + self.check_calls() + self.write_calls(1)


class HashiVault(Store):
    name = "hashi_vault"

    def __init__(self, store_collections, openbao):
        super().__init__(store_collections)
        hvac = pytest.importorskip("hvac")
        self.openbao = openbao
        self.client = hvac.Client(url=openbao.url, token=openbao.root_token)
        self.token = openbao.token(POLICY)
        self.read_only = openbao.token(READ_ONLY_POLICY)
        # Vault takes the policy of the exact path over the org's glob: sys/capabilities-self for the org's
        # "<org>/*" (what check.yml asks) grants writing, a write of the okta secret itself is refused.
        self.prefix = "resolver-scim/" + self.unique
        self.no_okta = openbao.token(POLICY + 'path "secret/data/%s/%s/okta" '
                                              '{ capabilities = ["read"] }\n' % (self.prefix, ORG))
        self.wider = openbao.token(POLICY + POLICY.replace("resolver-scim/", "elsewhere/"))
        self.vars.update(resolver_scim_hashi_vault_url=openbao.url, resolver_scim_hashi_vault_token=self.token,
                         resolver_scim_hashi_vault_path_prefix=self.prefix)
        self.secrets = [self.token, self.read_only, self.no_okta, self.wider, openbao.root_token]

    def stored(self, name):
        path = "%s/%s/%s" % (self.prefix, ORG, name)
        kv = self.client.secrets.kv.v2
        latest = kv.read_secret_version(path=path, mount_point="secret", raise_on_deleted_version=True)["data"]
        version = latest["metadata"]["version"]
        previous = None
        if version > 1:
            previous = kv.read_secret_version(path=path, mount_point="secret", version=version - 1,
                                              raise_on_deleted_version=True)["data"]["data"]["token"]
        return latest["data"]["token_id"], latest["data"]["token"], previous

    def failure_cases(self):
        closed = "http://127.0.0.1:%d" % store_servers.free_port()
        return [
            Case("refuses (403: a token whose policy may only read)",
                 {"resolver_scim_hashi_vault_token": self.read_only}, {}),
            Case("unreachable (closed loopback port)", {"resolver_scim_hashi_vault_url": closed}, {}),
            Case("sealed", {}, {}, self.sealed()),
            # The okta token is issued, not stored and revoked again; entra-id is renewed as usual.
            Case("refuses the write after the check passed (403 on the okta secret)",
                 {"resolver_scim_hashi_vault_token": self.no_okta}, {}, changes="2 DELETE, 2 POST"),
            # The documented policy covers resolver-scim/ only, so the LIST of the other path is refused.
            Case("another path prefix, outside the token's policy",
                 {"resolver_scim_hashi_vault_path_prefix": "elsewhere/" + self.unique}, {}),
            # A policy that also covers the other prefix: the store there is empty and never saw the org.
            Case("another path prefix that the token's policy also allows",
                 {"resolver_scim_hashi_vault_path_prefix": "elsewhere/" + self.unique,
                  "resolver_scim_hashi_vault_token": self.wider},
                 {}),
        ]

    @contextlib.contextmanager
    def sealed(self):
        self.openbao.cli("operator", "seal")
        try:
            yield
        finally:
            self.openbao.cli("operator", "unseal", self.openbao.unseal_key())

    def mark(self):
        return self.openbao.audit_mark()

    def calls_since(self, mark):
        return collections.Counter(operation for operation, _path in self.openbao.requests_since(mark))

    # The README's "Requests" column, token auth.
    @staticmethod
    def read_calls(secrets):
        return 1 + 2 * secrets if secrets else 2

    @staticmethod
    def check_calls():
        return 1

    @staticmethod
    def write_calls(items):
        return items

    @staticmethod
    def lock_calls():
        # lock.yml: a read, a check-and-set write, a read that confirms the claim; unlock.yml: a read and a write.
        return 3 + 2


class AwsSecretsManager(Store):
    name = "aws_secretsmanager"

    def __init__(self, store_collections, moto):
        super().__init__(store_collections)
        self.moto = moto
        self.client = moto.client()
        writer, reader = moto.keys["writer"], moto.keys["reader"]
        # The standard credential chain, isolated: keys in the environment, no config files, no instance role.
        self.base_env = {"AWS_REGION": "us-east-1", "AWS_CONFIG_FILE": os.devnull,
                         "AWS_SHARED_CREDENTIALS_FILE": os.devnull, "AWS_EC2_METADATA_DISABLED": "true"}
        self.env.update(self.base_env, AWS_ACCESS_KEY_ID=writer[0], AWS_SECRET_ACCESS_KEY=writer[1])
        self.reader_env = dict(self.env, AWS_ACCESS_KEY_ID=reader[0], AWS_SECRET_ACCESS_KEY=reader[1])
        self.prefix = "resolver-scim/%s/" % self.unique
        self.vars.update(resolver_scim_aws_endpoint_url=moto.url, resolver_scim_aws_secret_prefix=self.prefix)
        self.secrets = [writer[1], reader[1]]

    def stored(self, name):
        secret_id = "%s%s/%s" % (self.prefix, ORG, name)
        current = json.loads(self.client.get_secret_value(SecretId=secret_id)["SecretString"])
        try:
            previous = json.loads(self.client.get_secret_value(SecretId=secret_id,
                                                               VersionStage="AWSPREVIOUS")["SecretString"])["token"]
        except self.client.exceptions.ResourceNotFoundException:
            previous = None
        return current["token_id"], current["token"], previous

    def failure_cases(self):
        closed = "http://127.0.0.1:%d" % store_servers.free_port()
        return [
            Case("refuses (403: keys whose IAM policy may only read)", {}, self.reader_env),
            Case("unreachable (closed loopback port)", {"resolver_scim_aws_endpoint_url": closed}, {}),
            Case("a region that does not exist (us-nowhere-1)", {"resolver_scim_aws_region": "us-nowhere-1"}, {}),
            Case("another region (eu-west-1), where the org has no secrets", {"resolver_scim_aws_region": "eu-west-1"},
                 {}),
        ]

    def mark(self):
        return self.moto.calls_mark()

    def calls_since(self, mark):
        return collections.Counter(self.moto.calls_since(mark))

    # The README's "API calls" column. The org's write-check marker is one more secret of the org.
    @staticmethod
    def read_calls(secrets):
        return 1 + secrets + 1

    @staticmethod
    def check_calls():
        return 1 + 5

    @staticmethod
    def write_calls(items):
        # A GetSecretValue that compares the record (compare and swap), then 5 for a new version.
        return 6 * items


@pytest.fixture(params=["hashi_vault", "aws_secretsmanager"])
def store(request, store_collections):
    if request.param == "hashi_vault":
        return HashiVault(store_collections, request.getfixturevalue("openbao"))
    return AwsSecretsManager(store_collections, request.getfixturevalue("moto"))


def resolver_requests(emulator):
    return [r for r in emulator.log() if not r["path"].startswith("/_emulator")]


def leaks(output, emulator, store):
    return [s for s in list(emulator.secrets()) + store.secrets if s and s in output]


def assert_clean(ansible, emulator, store):
    found = [s for output in ansible.outputs for s in leaks(output, emulator, store)]
    assert found == [], "%d secret(s) found in the output" % len(found)


def merge_report(name, store, part, render):
    """Put one store's part into tests/output/reliability/<name>.json, next to the other store's (the tests of the
    two stores may run on two xdist workers at once, hence the lock), and render <name>.md from the whole."""
    os.makedirs(REPORTS, exist_ok=True)
    with open(os.path.join(REPORTS, name + ".json"), "a+", encoding="utf-8") as handle:
        fcntl.flock(handle, fcntl.LOCK_EX)
        handle.seek(0)
        try:
            report = json.loads(handle.read() or "{}")
        except ValueError:
            report = {}
        report[store] = part
        handle.seek(0)
        handle.truncate()
        json.dump(report, handle, indent=1, sort_keys=True)
        handle.flush()
        with open(os.path.join(REPORTS, name + ".md"), "w", encoding="utf-8") as markdown:
            markdown.write(render(report))


def render_calls(report):
    lines = ["Store requests per converge of one org with 2 tokens (tests/integration/test_role_stores.py; OpenBao's "
             "audit log, moto's recorder). Resolver requests alongside.", "",
             "| store | run | store requests | by operation | README bound | Resolver requests |",
             "|---|---|---|---|---|---|"]
    for store, runs in sorted(report.items()):
        for run, counts in runs.items():
            operations = ", ".join("%s %d" % item for item in sorted(counts["by_operation"].items()))
            lines.append("| %s | %s | %d | %s | %d | %d |" % (store, run, counts["store"], operations,
                                                              counts["bound"], counts["resolver"]))
    return "\n".join(lines) + "\n"


def test_converge_no_change_renewal_and_the_requests_per_run(ansible, emulator, store):
    inventory = store.inventory(ansible)
    rc, _results, output = ansible.run_playbook("converge", inventory, verbosity=4, env=store.env)
    assert rc == 0, output[-3000:]
    live = live_by_org(emulator)[1]
    for name in NAMES:
        token_id, value, _previous = store.stored(name)
        assert [token_id] == live[name] and emulator.scim_status(value) == 200

    measured = {}
    emulator.clear_log()
    mark = store.mark()
    rc, _results, output = ansible.run_playbook("converge", inventory, env=store.env)
    calls = store.calls_since(mark)
    assert rc == 0 and recap(output)[ORG]["changed"] == 0 and emulator.mutating() == [], output[-3000:]
    measured["no-change converge"] = {
        "store": sum(calls.values()), "by_operation": dict(calls), "bound": store.read_calls(len(NAMES)),
        "resolver": len(resolver_requests(emulator))}

    # One token due: it is renewed, the store holds the new value and the one before it for a rollback.
    old_id, old_value, _previous = store.stored("okta")
    emulator.age_tokens(705, ids=[old_id])
    emulator.clear_log()
    mark = store.mark()
    rc, results, output = ansible.run_playbook("converge", inventory, verbosity=4, env=store.env)
    calls = store.calls_since(mark)
    assert rc == 0 and actions(results, ORG) == {"okta": "renewed"}, output[-3000:]
    measured["rotation of one token (+705 days)"] = {
        "store": sum(calls.values()), "by_operation": dict(calls), "bound": store.rotation_bound(len(NAMES)),
        "resolver": len(resolver_requests(emulator))}
    new_id, new_value, previous = store.stored("okta")
    assert new_id != old_id and live_by_org(emulator)[1]["okta"] == [new_id]
    assert emulator.scim_status(new_value) == 200 and emulator.scim_status(old_value) == 401
    assert previous == old_value

    merge_report("store_calls", store.name, measured, render_calls)
    for run, counts in measured.items():
        assert 0 < counts["store"] <= counts["bound"], (run, counts)
    # Compare and swap costs a converge with nothing to do no request: it sends the read and nothing else.
    assert measured["no-change converge"]["store"] == store.read_calls(len(NAMES)), measured
    assert_clean(ansible, emulator, store)


def kill_converge_after_an_issue(emulator, inventory, env, tmp_path):
    """Run the converge and SIGKILL it as soon as Resolver has issued a token, before the store can hold it."""
    issued = len(emulator.tokens(live_only=False))
    environment = dict(os.environ, ANSIBLE_PYTHON_INTERPRETER=sys.executable, NO_PROXY="127.0.0.1,localhost,::1",
                       ANSIBLE_NOCOLOR="1", **env)
    command = [os.path.join(os.path.dirname(sys.executable), "ansible-playbook"),
               os.path.join(REPO, "playbooks", "converge.yml"), "-i", inventory]
    # A SaaS-like round trip: the kill lands while the next issue is on its way, never after the store write.
    emulator.control("POST", "config", {"latency_ms": 300})
    process = subprocess.Popen(command, env=environment, cwd=str(tmp_path),  # pylint: disable=consider-using-with
                               stdout=subprocess.DEVNULL, stderr=subprocess.DEVNULL, start_new_session=True)
    try:
        deadline = time.monotonic() + 120
        while time.monotonic() < deadline and process.poll() is None:
            if len(emulator.tokens(live_only=False)) > issued:
                os.killpg(process.pid, signal.SIGKILL)
                break
            time.sleep(0.02)
        process.wait(timeout=30)
    finally:
        emulator.control("POST", "config", {"latency_ms": 0})
    assert process.returncode == -signal.SIGKILL


def assert_first_converge_killed_after_an_issue_heals(ansible, emulator, inventory, env, stored, tmp_path):
    """The very first converge of an org dies after Resolver issued a token and before the store held it: the
    store's check had already made the store know the org (its marker or directory), so the next converge heals
    the unstored token instead of refusing it, and each name ends with one live token, the one the store holds.
    ``stored(name)`` is the token id the store holds."""
    kill_converge_after_an_issue(emulator, inventory, env, tmp_path)
    killed = [t["id"] for t in emulator.tokens()]
    assert killed and {t["name"] for t in emulator.tokens()} <= set(NAMES)
    rc, results, output = ansible.run_playbook("converge", inventory, verbosity=4, env=env)
    assert rc == 0, output[-3000:]
    done = actions(results, ORG)
    assert set(done) == set(NAMES) and set(done.values()) <= {"healed", "created"} and "healed" in done.values()
    live = live_by_org(emulator)[1]
    assert live == {name: [stored(name)] for name in NAMES} and not set(killed) & {stored(n) for n in NAMES}
    assert [t for t in emulator.tokens() if t["id"] in killed] == []


# The killed run holds the org's lock in Vault (hashi_vault) until its lease ends: a short lease lets the next run
# take it over in seconds rather than the default 15 minutes.
KILLED_RUN_LEASE = {"resolver_scim_hashi_vault_lock_lease": 5}


# Each kill case once per store in make test; its repeat with the other store in make exhaustive.
@pytest.mark.parametrize("store", ["hashi_vault", pytest.param("aws_secretsmanager", marks=pytest.mark.exhaustive)],
                         indirect=True)
def test_a_first_converge_killed_after_its_first_issue_heals(ansible, emulator, store, tmp_path):
    assert_first_converge_killed_after_an_issue_heals(ansible, emulator, store.inventory(ansible, **KILLED_RUN_LEASE),
                                                      store.env,
                                                      lambda name: store.stored(name)[0], tmp_path)
    assert_clean(ansible, emulator, store)


def test_a_first_converge_killed_after_its_first_issue_heals_with_the_file_store(ansible, emulator, tmp_path):
    store = tmp_path / "store"
    assert_first_converge_killed_after_an_issue_heals(
        ansible, emulator, ansible.inventory(orgs=1), {},
        lambda name: json.loads((store / ORG / ("%s.json" % name)).read_text())["token_id"], tmp_path)
    assert stat.S_IMODE(os.stat(store / ORG).st_mode) == 0o700


@pytest.mark.parametrize("store", [pytest.param("hashi_vault", marks=pytest.mark.exhaustive), "aws_secretsmanager"],
                         indirect=True)
def test_a_run_killed_between_issue_and_store_heals(ansible, emulator, store, tmp_path):
    """SIGKILL the converge once Resolver has issued the renewal but before the store holds it: the store still
    holds the old, working token; the next run replaces the unstored token with a fresh one, stores it and revokes
    the others, leaving one live token per name, the one the store holds."""
    inventory = store.inventory(ansible, **KILLED_RUN_LEASE)
    rc, _results, output = ansible.run_playbook("converge", inventory, env=store.env)
    assert rc == 0, output[-3000:]
    old_id, old_value, _previous = store.stored("okta")
    entra_id = store.stored("entra-id")[0]
    emulator.age_tokens(705, ids=[old_id])
    kill_converge_after_an_issue(emulator, inventory, store.env, tmp_path)
    killed = [t["id"] for t in emulator.tokens(name="okta") if t["id"] != old_id]
    assert len(killed) == 1
    # Killed in the gap: the store never saw the new token, and the token it holds was not revoked.
    assert store.stored("okta")[0] == old_id and emulator.scim_status(old_value) == 200

    issued = len(emulator.tokens(live_only=False))
    rc, results, output = ansible.run_playbook("converge", inventory, verbosity=4, env=store.env)
    assert rc == 0, output[-3000:]
    assert actions(results, ORG) == {"okta": "healed"}
    healed_id, healed_value, previous = store.stored("okta")
    assert healed_id not in (old_id, killed[0]) and len(emulator.tokens(live_only=False)) == issued + 1
    assert live_by_org(emulator)[1] == {"okta": [healed_id], "entra-id": [entra_id]}
    assert emulator.scim_status(healed_value) == 200 and emulator.scim_status(old_value) == 401
    assert previous == old_value

    assert_clean(ansible, emulator, store)


def render_failures(report):
    lines = ["Role-level runs (converge, one org, both tokens due for renewal) with a store that cannot be used "
             "(tests/integration/test_role_stores.py, -vvvv).", "",
             "| store | case | run | failed at | Resolver changes | token lost | a stored token revoked | "
             "secret in output |", "|---|---|---|---|---|---|---|---|"]
    for store, rows in sorted(report.items()):
        for row in rows:
            lines.append("| %s | %s | %s | %s | %s | %s | %s | %s |" % (
                store, row["case"], row["run"], row["failed_at"], row["resolver_changes"] or "none",
                yes(row["token_lost"]), yes(row["stored_token_revoked"]), yes(row["secret_in_output"])))
    return "\n".join(lines) + "\n"


def yes(flag):
    return "yes" if flag else "no"


def describe_changes(requests):
    counts = collections.Counter(r["method"] for r in requests)
    return ", ".join("%d %s" % (counts[method], method) for method in sorted(counts))


def test_a_store_that_cannot_be_used_fails_before_anything_is_revoked(ansible, emulator, store):
    rc, _results, output = ansible.run_playbook("converge", store.inventory(ansible), env=store.env)
    assert rc == 0, output[-3000:]
    # Both tokens due: a run with a store that works would issue, store and revoke.
    emulator.age_tokens(705)

    rows, messages = [], {}
    cases = store.failure_cases()
    for case in cases:
        inventory = store.inventory(ansible, **case.settings)
        emulator.clear_log()
        with case.context:
            rc, results, output = ansible.run_playbook("converge", inventory, verbosity=4,
                                                       env=dict(store.env, **case.env))
        failed = [r["task"] for r in results if r["status"] == "failed"]
        messages[case.case] = " ".join(str(r["result"].get("msg")) for r in results if r["status"] == "failed")
        holds = {name: store.stored(name) for name in NAMES}
        live = live_by_org(emulator)[1]
        rows.append({
            "case": case.case, "run": "failed" if rc else "ok", "failed_at": failed[0] if failed else "",
            "resolver_changes": describe_changes(emulator.mutating()),
            # A live token whose value the store does not hold: nobody can use it.
            "token_lost": any(live.get(name) != [holds[name][0]] for name in NAMES),
            # The token the store holds (the identity provider's) no longer works.
            "stored_token_revoked": any(emulator.scim_status(holds[name][1]) != 200 for name in NAMES),
            "secret_in_output": bool(leaks(output, emulator, store))})
    merge_report("store_failures", store.name, rows, render_failures)

    assert [row["resolver_changes"] or None for row in rows] == [case.changes for case in cases]
    assert not [row for row in rows if row["secret_in_output"]]
    for row in rows:
        assert row["run"] == "failed" and not row["token_lost"] and not row["stored_token_revoked"], row
    # A store asked in the wrong place fails at the plan, saying what it found and what to do.
    misplaced = [row for case, row in zip(cases, rows) if "where the org has no secrets" in case.case
                 or "also allows" in case.case]
    assert len(misplaced) == 1
    assert misplaced[0]["failed_at"].endswith("Plan the declared tokens with one read of the org")
    assert NEVER_USED in messages[misplaced[0]["case"]]
    assert "resolver_scim_store_is_new=true for one run" in messages[misplaced[0]["case"]]
