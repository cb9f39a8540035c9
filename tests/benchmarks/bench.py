# Copyright: (c) 2026, resolver.scim contributors
# GNU General Public License v3.0+ (see LICENSES/GPL-3.0-or-later.txt or https://www.gnu.org/licenses/gpl-3.0.txt)
"""make bench: wall time and API requests of the role against the hand-written baselines (not a test).

Starts the emulator with 50 orgs, then for N declared tokens and O orgs (inventory hosts, --forks 10) measures:
  role_noop      playbooks/converge.yml with nothing to do
  role_create    playbooks/converge.yml creating every token (the org's tokens wiped before each run)
  drift_check    playbooks/drift_check.yml --check
  uri_baseline   the same reads written by hand with ansible.builtin.uri (one list request per declared token)
  token_loop     resolver.scim.scim_token called once per declared token in a loop
Each figure is the median of --runs runs (role_create: one run where the baselines are skipped).
Prints a table, writes JSON, and checks the targets of docs/performance.md.

    python tests/benchmarks/bench.py [--runs 3] [--full] [--out tests/output/bench/bench.json]
"""

import argparse
import json
import os
import platform
import shutil
import statistics
import subprocess
import sys
import tempfile
import time
import urllib.request

import yaml

HERE = os.path.dirname(os.path.abspath(__file__))
REPO = os.path.dirname(os.path.dirname(HERE))
sys.path.insert(0, os.path.join(REPO, "tests", "emulator"))

import org_inventory  # noqa: E402  pylint: disable=wrong-import-position

BIN = os.path.dirname(sys.executable)
FORKS = 10
SCENARIOS = ("role_noop", "role_create", "drift_check", "uri_baseline", "token_loop")

URI_BASELINE = [{
    "name": "Hand-written reads, as users write them today from the Swagger procedure",
    "hosts": "resolver_orgs", "gather_facts": False,
    "vars": {"auth": {"Authorization": "Bearer {{ resolver_api_key }}"}},
    "tasks": [
        {"name": "Who am I", "register": "me",
         "ansible.builtin.uri": {"url": "{{ resolver_url }}/user/users/me", "headers": "{{ auth }}"}},
        {"name": "My org membership", "register": "membership",
         "ansible.builtin.uri": {"url": "{{ resolver_url }}/user/org/{{ me.json.currentOrg.id }}/user/{{ me.json.id }}",
                                 "headers": "{{ auth }}"}},
        {"name": "Read the tokens, once per declared token", "register": "listed",
         "loop": "{{ resolver_scim_tokens }}", "loop_control": {"label": "{{ item.name }}"},
         "ansible.builtin.uri": {"url": "{{ resolver_url }}/user/scimTokens", "headers": "{{ auth }}"}},
        {"name": "Check each token is there", "loop": "{{ listed.results }}", "loop_control": {"label": "{{ item.item.name }}"},
         "ansible.builtin.assert": {"that": "item.json | selectattr('name', 'eq', item.item.name) | length > 0",
                                    "quiet": True}},
    ]}]

TOKEN_LOOP = [{
    "name": "scim_token once per declared token", "hosts": "resolver_orgs", "gather_facts": False,
    "module_defaults": {"group/resolver.scim.resolver": {"url": "{{ resolver_url }}", "api_key": "{{ resolver_api_key }}"}},
    "tasks": [{"name": "Each token", "loop": "{{ resolver_scim_tokens }}", "loop_control": {"label": "{{ item.name }}"},
               "no_log": True,
               "resolver.scim.scim_token": {"name": "{{ item.name }}", "email_domains": "{{ item.email_domains }}"}}]}]


class Emulator:
    def __init__(self, orgs):
        self.work = tempfile.mkdtemp(prefix="resolver-bench-")
        ready = os.path.join(self.work, "ready.json")
        self.process = subprocess.Popen(  # pylint: disable=consider-using-with
            [sys.executable, os.path.join(REPO, "tests", "emulator", "resolver_emulator.py"), "--orgs", str(orgs),
             "--ready-file", ready], stdout=subprocess.DEVNULL)
        for _attempt in range(100):
            if os.path.exists(ready) and os.path.getsize(ready):
                break
            time.sleep(0.1)
        with open(ready, encoding="utf-8") as handle:
            self.ready = json.load(handle)

    def control(self, method, route, body=None):
        data = None if body is None else json.dumps(body).encode()
        request = urllib.request.Request("%s/_emulator/%s" % (self.ready["base"], route), data=data, method=method,
                                         headers={"Content-Type": "application/json"})
        with urllib.request.urlopen(request, timeout=30) as answer:
            return json.loads(answer.read() or b"null")

    def stop(self):
        self.process.terminate()
        self.process.wait()
        shutil.rmtree(self.work, ignore_errors=True)


def declared(n):
    return [{"name": "idp%02d" % i, "email_domains": ["{{ scim_domain }}.com"]} for i in range(1, n + 1)]


def run_playbook(playbook, inventory, extra=()):
    env = dict(os.environ, ANSIBLE_NOCOLOR="1", ANSIBLE_COLLECTIONS_PATH=os.path.join(REPO, ".tmp", "collections"),
               NO_PROXY="127.0.0.1,localhost", ANSIBLE_LOCALHOST_WARNING="0")
    command = [os.path.join(BIN, "ansible-playbook"), "-i", inventory, "--forks", str(FORKS), playbook] + list(extra)
    started = time.monotonic()
    completed = subprocess.run(command, env=env, capture_output=True, text=True, check=False)
    return time.monotonic() - started, completed


def measure(emulator, playbook, inventory, runs, extra=(), expect_rc=0, before=None):
    times, requests, connections = [], [], []
    for _run in range(runs):
        if before:
            before()
        emulator.control("DELETE", "log")
        elapsed, completed = run_playbook(playbook, inventory, extra)
        if completed.returncode != expect_rc:
            raise SystemExit("%s exited %d:\n%s" % (playbook, completed.returncode, completed.stdout[-4000:]))
        log = emulator.control("GET", "log")["requests"]
        times.append(elapsed)
        requests.append(len(log))
        connections.append(len({entry["connection"] for entry in log}))
    return {"seconds": round(statistics.median(times), 3), "requests": int(statistics.median(requests)),
            "connections": int(statistics.median(connections)), "runs": runs}


def bench_cell(emulator, n, orgs, latency, runs, work, baselines=True):
    cell_dir = os.path.join(work, "n%d-o%d-l%d" % (n, orgs, latency))
    store = os.path.join(cell_dir, "store")
    hosts = org_inventory.org_hosts(emulator.ready, emulator.ready["url"], orgs)
    inventory = org_inventory.write_inventory(cell_dir, hosts, {
        "resolver_scim_tokens": declared(n), "resolver_scim_token_store_dir": store})
    with open(os.path.join(cell_dir, "uri.yml"), "w", encoding="utf-8") as handle:
        yaml.safe_dump(URI_BASELINE, handle, sort_keys=False)
    with open(os.path.join(cell_dir, "loop.yml"), "w", encoding="utf-8") as handle:
        yaml.safe_dump(TOKEN_LOOP, handle, sort_keys=False)
    converge = os.path.join(REPO, "playbooks", "converge.yml")

    def wipe():
        emulator.control("DELETE", "tokens")
        shutil.rmtree(store, ignore_errors=True)

    emulator.control("POST", "config", {"latency_ms": latency})
    # Creating everything is slow and only a reference: one run unless --full, after one setup run otherwise.
    results = {"role_create": measure(emulator, converge, inventory, runs if baselines else 1, before=wipe)}
    results["role_noop"] = measure(emulator, converge, inventory, runs)
    results["drift_check"] = measure(emulator, os.path.join(REPO, "playbooks", "drift_check.yml"), inventory, runs,
                                     extra=["--check", "-e", "drift_report=" + os.path.join(cell_dir, "drift.json")])
    if baselines:
        results["uri_baseline"] = measure(emulator, os.path.join(cell_dir, "uri.yml"), inventory, runs)
        results["token_loop"] = measure(emulator, os.path.join(cell_dir, "loop.yml"), inventory, runs)
    emulator.control("POST", "config", {"latency_ms": 0})
    wipe()
    return [dict(scenario=name, n=n, orgs=orgs, latency_ms=latency, **figures) for name, figures in results.items()]


def cells(full):
    """(N, orgs, latency, baselines) to measure.

    Default: every N at one org with all scenarios; 10 and 50 orgs at N=10 for the role only; 100 ms for N=1 and 10
    at one org. --full: the whole grid, every scenario, both latencies (about an hour).
    """
    if full:
        grid = [(n, orgs) for n in (1, 10, 50) for orgs in (1, 10, 50)]
        return [(n, orgs, latency, True) for latency in (0, 100) for n, orgs in grid]
    chosen = [(1, 1, 0, True), (10, 1, 0, True), (50, 1, 0, True), (10, 10, 0, False), (10, 50, 0, False)]
    return chosen + [(1, 1, 100, True), (10, 1, 100, True)]


def find(rows, scenario, n, orgs, latency):
    for row in rows:
        if (row["scenario"], row["n"], row["orgs"], row["latency_ms"]) == (scenario, n, orgs, latency):
            return row
    return None


def targets(rows):
    """The targets of issue 7, each (text, met, evidence)."""
    checks = []
    noop = [find(rows, "role_noop", n, 1, 0) for n in (1, 10, 50)]
    checks.append(("no-change converge of one org: requests constant in N and <= 3 (API key)",
                   len({r["requests"] for r in noop}) == 1 and noop[0]["requests"] <= 3,
                   "requests for N=1/10/50: %s" % "/".join(str(r["requests"]) for r in noop)))
    role, uri = find(rows, "role_noop", 10, 1, 0), find(rows, "uri_baseline", 10, 1, 0)
    checks.append(("no-change converge of N=10 faster than the uri baseline", role["seconds"] < uri["seconds"],
                   "%.2f s vs %.2f s" % (role["seconds"], uri["seconds"])))
    slow = find(rows, "role_noop", 10, 1, 100)
    modules_talking = 1  # scim_token_plan (with require_admin) is the only module a no-change converge starts
    checks.append(("one connection per module run (keep-alive)", role["connections"] <= modules_talking,
                   "%d connections for %d requests in %d module runs"
                   % (role["connections"], role["requests"], modules_talking)))
    checks.append(("N=10 no-change converge at 100 ms latency costs <= ~5 round trips more than at 0 ms",
                   slow["seconds"] - role["seconds"] <= 0.5 + 0.25,
                   "%.2f s - %.2f s = %.2f s (5 round trips = 0.50 s)"
                   % (slow["seconds"], role["seconds"], slow["seconds"] - role["seconds"])))
    many = find(rows, "role_noop", 10, 50, 0)
    checks.append(("50 orgs with --forks 10 take <= 7x one org", many["seconds"] <= 7 * role["seconds"],
                   "%.2f s vs %.2f s (%.1fx)" % (many["seconds"], role["seconds"], many["seconds"] / role["seconds"])))
    return checks


def table(rows):
    header = ("scenario", "N", "orgs", "latency", "seconds", "requests", "connections")
    lines = ["%-13s %4s %5s %8s %9s %9s %12s" % header]
    for row in sorted(rows, key=lambda r: (r["latency_ms"], r["orgs"], r["n"], SCENARIOS.index(r["scenario"]))):
        lines.append("%-13s %4d %5d %6dms %9.2f %9d %12d"
                     % (row["scenario"], row["n"], row["orgs"], row["latency_ms"], row["seconds"], row["requests"],
                        row["connections"]))
    return "\n".join(lines)


def machine():
    return {"platform": platform.platform(), "python": platform.python_version(), "cpus": os.cpu_count(),
            "ansible_core": subprocess.run([os.path.join(BIN, "ansible"), "--version"], capture_output=True,
                                           text=True, check=False).stdout.splitlines()[0]}


def main(argv=None):
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--runs", type=int, default=3)
    parser.add_argument("--full", action="store_true", help="the whole N x orgs grid at both latencies")
    parser.add_argument("--out", default=os.path.join(REPO, "tests", "output", "bench", "bench.json"))
    args = parser.parse_args(argv)
    emulator = Emulator(orgs=50)
    work = tempfile.mkdtemp(prefix="resolver-bench-work-")
    rows = []
    try:
        for n, orgs, latency, baselines in cells(args.full):
            started = time.monotonic()
            rows += bench_cell(emulator, n, orgs, latency, args.runs, work, baselines)
            print("measured N=%d orgs=%d latency=%dms in %.0f s" % (n, orgs, latency, time.monotonic() - started),
                  flush=True)
    finally:
        emulator.stop()
        shutil.rmtree(work, ignore_errors=True)
    report = {"machine": machine(), "forks": FORKS, "runs": args.runs, "rows": rows,
              "targets": [{"target": t, "met": met, "evidence": e} for t, met, e in targets(rows)]}
    os.makedirs(os.path.dirname(args.out), exist_ok=True)
    with open(args.out, "w", encoding="utf-8") as handle:
        json.dump(report, handle, indent=2)
    print(table(rows))
    print()
    for entry in report["targets"]:
        print("[%s] %s: %s" % ("met" if entry["met"] else "NOT MET", entry["target"], entry["evidence"]))
    print("\nJSON: %s\nmachine: %s" % (args.out, json.dumps(report["machine"])))
    return 0


if __name__ == "__main__":
    sys.exit(main())
