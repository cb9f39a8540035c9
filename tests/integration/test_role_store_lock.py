# Copyright: (c) 2026, resolver.scim contributors
# GNU General Public License v3.0+ (see LICENSES/GPL-3.0-or-later.txt or https://www.gnu.org/licenses/gpl-3.0.txt)
"""Issue 13.7: runs on different execution nodes (no shared lock directory) take turns through the org's lock in
the hashi_vault store, against a real OpenBao server."""

import concurrent.futures
import time

import pytest

import store_servers
from test_role import DECLARED, actions, live_by_org
from test_store_hashi_vault import POLICY


def assert_clean(ansible, emulator, *store_secrets):
    secrets = list(emulator.secrets()) + [s for s in store_secrets if s]
    leaks = [s for s in secrets for output in ansible.outputs if s in output]
    assert leaks == [], "%d secret(s) found in the output" % len(leaks)


class TwoNodes:
    """Converges of the same orgs with the hashi_vault store, as on two AWX execution nodes: each run has a lock
    directory of its own, so nothing but Vault is shared between them."""

    def __init__(self, ansible, emulator, openbao, store_collections, tmp_path, orgs, **group_vars):
        self.hvac = hvac = pytest.importorskip("hvac")
        self.ansible, self.emulator, self.openbao = ansible, emulator, openbao
        self.token = openbao.token(POLICY)
        # A prefix of this test's own: the OpenBao server lives for the whole session.
        self.prefix = "resolver-scim/" + store_servers.org_name()
        settings = dict({"resolver_scim_token_store": "hashi_vault", "resolver_scim_hashi_vault_url": openbao.url,
                         "resolver_scim_hashi_vault_token": self.token,
                         "resolver_scim_hashi_vault_path_prefix": self.prefix}, **group_vars)
        self.env = {"ANSIBLE_COLLECTIONS_PATH": store_servers.collections_path(store_collections)}
        self.nodes = [ansible.inventory(orgs=orgs, group_vars=dict(settings, resolver_scim_lock_dir=str(tmp_path / n)))
                      for n in ("node-a", "node-b")]
        self.client = hvac.Client(url=openbao.url, token=openbao.root_token)
        rc, _results, output = ansible.run_playbook("converge", self.nodes[0], env=self.env)
        assert rc == 0, output[-3000:]

    def race(self):
        """+705 days, then one converge on each node, started together: both want to renew every token."""
        self.emulator.age_tokens(705)
        # A SaaS-like round trip makes both runs plan before either issues a token, the race the lock exists for.
        self.emulator.control("POST", "config", {"latency_ms": 150})
        with concurrent.futures.ThreadPoolExecutor(2) as pool:
            runs = list(pool.map(lambda nodes: self.ansible.run_playbook("converge", nodes, verbosity=4, env=self.env),
                                 self.nodes))
        self.emulator.control("POST", "config", {"latency_ms": 0})
        assert_clean(self.ansible, self.emulator, self.token, self.openbao.root_token)
        return runs

    def stored(self, org, key):
        path = "%s/%s/%s" % (self.prefix, org, key)
        return self.client.secrets.kv.v2.read_secret_version(path=path, mount_point="secret",
                                                             raise_on_deleted_version=True)["data"]["data"]

    def lock_path(self, org):
        return "secret/data/%s/%s/.lock" % (self.prefix, org)

    def claim(self, org):
        """Take the org's lock as another run would (lock.yml's protocol: check-and-set on the version read);
        False when a run holds it."""
        path = "%s/%s/.lock" % (self.prefix, org)
        try:
            found = self.client.secrets.kv.v2.read_secret_version(path=path, mount_point="secret",
                                                                  raise_on_deleted_version=True)["data"]
        except self.hvac.exceptions.InvalidPath:
            found = {"data": {}, "metadata": {"version": 0}}
        now = int(time.time())
        if found["data"].get("state") == "held" and int(found["data"]["expires"]) > now:
            return False
        self.client.secrets.kv.v2.create_or_update_secret(
            path=path, mount_point="secret", cas=found["metadata"]["version"],
            secret={"state": "held", "owner": "run-of-the-test", "holder": "the test's run (%s)" % org, "taken": now,
                    "expires": now + 600})
        return True

    def lock_exists(self, org):
        try:
            self.stored(org, ".lock")
        except self.hvac.exceptions.InvalidPath:
            return False
        return True

    def release(self, org):
        self.client.secrets.kv.v2.create_or_update_secret(path="%s/%s/.lock" % (self.prefix, org),
                                                          mount_point="secret", secret={"state": "free", "owner": ""})

    def assert_renewed_once(self, orgs, renewals):
        """Each name of each org was issued once by the first converge and once per renewal, never more; the store
        holds the one live token, and the org's lock in Vault is free."""
        issued = sorted((t["orgId"], t["name"]) for t in self.emulator.tokens(live_only=False))
        assert issued == sorted((org_id, name) for org_id in orgs.values() for name in DECLARED
                                for _issue in range(1 + renewals))
        live = live_by_org(self.emulator)
        for org, org_id in orgs.items():
            for name in DECLARED:
                record = self.stored(org, name)
                assert [record["token_id"]] == live[org_id][name]
                assert self.emulator.scim_status(record["token"]) == 200
            assert self.stored(org, ".lock")["state"] == "free"


def lock_attempts(run):
    """How many attempts each org's lock in Vault took in a run."""
    _rc, results, _output = run
    return [r["result"].get("attempts", 1) for r in results
            if r["task"].endswith("Take the org's lock, waiting while another run holds it") and r["status"] == "ok"]


def issued_tokens(run):
    _rc, results, _output = run
    return any(r["task"].endswith("Issue new tokens, keeping the tokens they replace live for now")
               and r["status"] == "ok" for r in results)


# The case over two orgs (below) covers it in make test.
@pytest.mark.exhaustive
def test_two_execution_nodes_take_turns_through_the_lock_in_vault(ansible, emulator, openbao, store_collections,
                                                                  tmp_path):
    """Issue 13.7: no shared lock directory, so only the lock in Vault keeps the two runs from both renewing."""
    nodes = TwoNodes(ansible, emulator, openbao, store_collections, tmp_path, orgs=1)
    runs = nodes.race()
    for rc, _results, output in runs:
        assert rc == 0, output[-3000:]
    nodes.assert_renewed_once({"org1-acme": 1}, renewals=1)
    # One run renewed; the other waited for Vault's lock, planned again and found nothing left to do.
    assert sorted(issued_tokens(run) for run in runs) == [False, True]
    assert sorted(max(lock_attempts(run)) for run in runs)[1] > 1


def test_two_execution_nodes_over_two_orgs_take_turns_through_the_locks_in_vault(ansible, emulator, openbao,
                                                                                 store_collections, tmp_path):
    """Two runs over the same two orgs, started together, both end well with one renewal per token. Whether they
    could have deadlocked is left to chance here (taking the locks in parallel, they did in 2 races of about
    10); the next test makes the dangerous interleaving happen."""
    orgs = {"org1-acme": 1, "org2-globex": 2}
    nodes = TwoNodes(ansible, emulator, openbao, store_collections, tmp_path, orgs=2, resolver_scim_lock_timeout=120)
    runs = nodes.race()
    for rc, _results, output in runs:
        assert rc == 0 and "is locked by" not in output, output[-3000:]
    nodes.assert_renewed_once(orgs, renewals=1)
    assert [len(lock_attempts(run)) for run in runs] == [2, 2]


@pytest.mark.exhaustive
def test_a_run_waiting_for_one_orgs_lock_in_vault_holds_no_later_orgs_lock(ansible, emulator, openbao,
                                                                           store_collections, tmp_path):
    """The deadlock two runs over the same orgs could meet, made to happen: another run (this test, following the
    lock's protocol) holds org1's lock and wants org2's next. The converge, waiting for org1, must not have taken
    org2's lock meanwhile, or each would wait for the other until resolver_scim_lock_timeout."""
    orgs = {"org1-acme": 1, "org2-globex": 2}
    nodes = TwoNodes(ansible, emulator, openbao, store_collections, tmp_path, orgs=2, resolver_scim_lock_timeout=120)
    emulator.age_tokens(705)
    nodes.claim("org1-acme")
    mark = openbao.audit_mark()
    with concurrent.futures.ThreadPoolExecutor(1) as pool:
        converging = pool.submit(ansible.run_playbook, "converge", nodes.nodes[0], verbosity=4, env=nodes.env)
        try:
            # Two reads of org1's lock: the converge has found it held and is waiting. Hosts taking their locks in
            # parallel would have tried org2's at the same time as org1's first.
            lock_reads, deadline = 0, time.monotonic() + 300
            while lock_reads < 2 and not converging.done() and time.monotonic() < deadline:
                time.sleep(0.5)
                lock_reads = openbao.requests_since(mark).count(("read", nodes.lock_path("org1-acme")))
            assert not converging.done(), converging.result()[2][-3000:]
            assert lock_reads >= 2, "the converge never waited for org1's lock"
            assert nodes.claim("org2-globex"), "the waiting converge holds org2's lock: %s" % nodes.stored(
                "org2-globex", ".lock")
            nodes.release("org2-globex")
        finally:
            nodes.release("org1-acme")
        rc, _results, output = run = converging.result()
    assert rc == 0, output[-3000:]
    nodes.assert_renewed_once(orgs, renewals=1)
    assert max(lock_attempts(run)) > 1


def test_no_lock_in_vault_when_turned_off_or_in_check_mode(ansible, emulator, openbao, store_collections, tmp_path):
    """resolver_scim_store_lock: false takes no lock in Vault, nor does check mode; turned back on, a renewal does."""
    nodes = TwoNodes(ansible, emulator, openbao, store_collections, tmp_path, orgs=1, resolver_scim_store_lock=False)
    assert live_by_org(emulator)[1] and not nodes.lock_exists("org1-acme")
    emulator.age_tokens(705)
    emulator.clear_log()
    rc, results, output = ansible.run_playbook("converge", nodes.nodes[0], check=True, env=nodes.env,
                                               extra_vars={"resolver_scim_store_lock": True})
    assert rc == 0 and actions(results, "org1-acme")["okta"] == "would renew", output[-3000:]
    assert emulator.mutating() == [] and not nodes.lock_exists("org1-acme")
    rc, results, output = ansible.run_playbook("converge", nodes.nodes[0], env=nodes.env,
                                               extra_vars={"resolver_scim_store_lock": True})
    assert rc == 0 and lock_attempts((rc, results, output)) == [1], output[-3000:]
    nodes.assert_renewed_once({"org1-acme": 1}, renewals=1)
