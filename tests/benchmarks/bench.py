# Copyright: (c) 2026, resolver.scim contributors
# GNU General Public License v3.0+ (see LICENSES/GPL-3.0-or-later.txt or https://www.gnu.org/licenses/gpl-3.0.txt)
"""make bench: wall time, CPU time and API requests of the role against Ansible's floor and hand-written baselines.

Starts the emulator with 50 orgs, then for N declared tokens and O orgs (inventory hosts, --forks 10) measures:
  role_noop      playbooks/converge.yml with nothing to do
  role_create    playbooks/converge.yml creating every token (the org's tokens wiped before each run)
  drift_check    playbooks/drift_check.yml --check
  debug_floor    one ansible.builtin.debug task on the same hosts: what Ansible itself costs to touch them
  plan_task      the role's one task that talks to Resolver on its own: scim_token_plan with require_admin
  uri_baseline   the same reads written by hand with ansible.builtin.uri (one list request per declared token)
  token_loop     resolver.scim.scim_token called once per declared token in a loop
Each figure is the median of --runs runs; the scenarios of a cell take turns run by run, so that a change in the
machine's load hits them alike. CPU time is user + system of ansible-playbook and every process it waited for
(getrusage of children), which a busy machine inflates far less than wall time; "others" is the CPU that every
other process took meanwhile per second of wall time (from /proc/stat; 0 on an otherwise idle machine, up to
the number of cores on a saturated one). Targets are ratios between
scenarios measured in the same run, never absolute times. Prints a table, writes JSON, and checks the targets of
docs/performance.md.

    python tests/benchmarks/bench.py [--runs 3] [--floors | --full] [--collections DIR] [--out FILE]
"""

import argparse
import json
import os
import platform
import resource
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
SCENARIOS = ("role_noop", "role_create", "drift_check", "debug_floor", "plan_task", "uri_baseline", "token_loop")

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


DEBUG_FLOOR = [{
    "name": "Ansible's floor: one task that does nothing on every org host", "hosts": "resolver_orgs",
    "gather_facts": False, "tasks": [{"name": "Touch the host", "ansible.builtin.debug": {"msg": "{{ inventory_hostname }}"}}]}]

PLAN_TASK = [{
    "name": "The role's read of an org on its own", "hosts": "resolver_orgs", "gather_facts": False,
    "module_defaults": {"group/resolver.scim.resolver": {"url": "{{ resolver_url }}", "api_key": "{{ resolver_api_key }}"}},
    "tasks": [{"name": "Plan", "resolver.scim.scim_token_plan": {"tokens": "{{ resolver_scim_tokens }}",
                                                                 "require_admin": True}}]}]


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


def children_cpu():
    usage = resource.getrusage(resource.RUSAGE_CHILDREN)
    return usage.ru_utime + usage.ru_stime


TICK = os.sysconf("SC_CLK_TCK") if hasattr(os, "sysconf") else 100


def machine_busy_cpu(emulator_pid):
    """CPU seconds the whole machine spent busy, minus the emulator's: with children_cpu, what other processes
    (other users of a shared machine) took while a playbook ran. None where /proc is missing."""
    try:
        with open("/proc/stat", encoding="ascii") as handle:
            fields = [int(x) for x in handle.readline().split()[1:]]
        with open("/proc/%d/stat" % emulator_pid, encoding="ascii") as handle:
            emulator = handle.read().rsplit(")", 1)[1].split()
    except OSError:
        return None
    idle = fields[3] + fields[4]  # idle + iowait
    return (sum(fields[:8]) - idle - int(emulator[11]) - int(emulator[12])) / float(TICK)


def run_playbook(playbook, inventory, collections, emulator_pid, extra=()):
    """Run ansible-playbook; return (wall seconds, CPU seconds of it and its waited-for children, CPU seconds of
    every other process on the machine meanwhile, process)."""
    env = dict(os.environ, ANSIBLE_NOCOLOR="1", ANSIBLE_COLLECTIONS_PATH=collections,
               NO_PROXY="127.0.0.1,localhost", ANSIBLE_LOCALHOST_WARNING="0")
    command = [os.path.join(BIN, "ansible-playbook"), "-i", inventory, "--forks", str(FORKS), playbook] + list(extra)
    cpu_before, busy_before, started = children_cpu(), machine_busy_cpu(emulator_pid), time.monotonic()
    completed = subprocess.run(command, env=env, capture_output=True, text=True, check=False)
    elapsed, cpu, busy = time.monotonic() - started, children_cpu() - cpu_before, machine_busy_cpu(emulator_pid)
    others = None if busy is None or busy_before is None else max(0.0, busy - busy_before - cpu)
    return elapsed, cpu, others, completed


class Scenario:
    """A playbook to measure: its arguments, its expected exit code and what to do before each run."""

    def __init__(self, playbook, extra=(), expect_rc=0, before=None):
        self.playbook, self.extra, self.expect_rc, self.before = playbook, list(extra), expect_rc, before


def measure(emulator, scenarios, inventory, runs, collections):
    """Run every scenario ``runs`` times, taking turns; return {name: medians}."""
    samples = {name: {"seconds": [], "cpu_seconds": [], "others_cpu_seconds": [], "requests": [], "connections": []}
               for name in scenarios}
    for _run in range(runs):
        for name, scenario in scenarios.items():
            if scenario.before:
                scenario.before()
            emulator.control("DELETE", "log")
            elapsed, cpu, others, completed = run_playbook(scenario.playbook, inventory, collections,
                                                           emulator.process.pid, scenario.extra)
            if completed.returncode != scenario.expect_rc:
                raise SystemExit("%s exited %d:\n%s" % (scenario.playbook, completed.returncode,
                                                        completed.stdout[-4000:]))
            log = emulator.control("GET", "log")["requests"]
            figures = samples[name]
            figures["seconds"].append(elapsed)
            figures["cpu_seconds"].append(cpu)
            figures["others_cpu_seconds"].append(others or 0.0)
            figures["requests"].append(len(log))
            figures["connections"].append(len({entry["connection"] for entry in log}))
    return {name: {"seconds": round(statistics.median(f["seconds"]), 3),
                   "cpu_seconds": round(statistics.median(f["cpu_seconds"]), 3),
                   # Seconds of CPU that other processes took, per second of this playbook's wall time.
                   "others_load": round(statistics.median(o / w for o, w in zip(f["others_cpu_seconds"], f["seconds"])), 2),
                   "requests": int(statistics.median(f["requests"])),
                   "connections": int(statistics.median(f["connections"])), "runs": runs}
            for name, f in samples.items()}


def bench_cell(emulator, cell, runs, work, collections):
    n, orgs, latency, wanted = cell
    cell_dir = os.path.join(work, "n%d-o%d-l%d" % (n, orgs, latency))
    store = os.path.join(cell_dir, "store")
    hosts = org_inventory.org_hosts(emulator.ready, emulator.ready["url"], orgs)
    inventory = org_inventory.write_inventory(cell_dir, hosts, {
        "resolver_scim_tokens": declared(n), "resolver_scim_token_store_dir": store})
    written = {}
    for name, plays in (("uri_baseline", URI_BASELINE), ("token_loop", TOKEN_LOOP), ("debug_floor", DEBUG_FLOOR),
                        ("plan_task", PLAN_TASK)):
        written[name] = os.path.join(cell_dir, name + ".yml")
        with open(written[name], "w", encoding="utf-8") as handle:
            yaml.safe_dump(plays, handle, sort_keys=False)
    converge = os.path.join(REPO, "playbooks", "converge.yml")

    def wipe():
        emulator.control("DELETE", "tokens")
        shutil.rmtree(store, ignore_errors=True)

    scenarios = {
        "role_noop": Scenario(converge),
        "drift_check": Scenario(os.path.join(REPO, "playbooks", "drift_check.yml"),
                                extra=["--check", "-e", "drift_report=" + os.path.join(cell_dir, "drift.json")]),
        "debug_floor": Scenario(written["debug_floor"]),
        "plan_task": Scenario(written["plan_task"]),
        "uri_baseline": Scenario(written["uri_baseline"]),
        "token_loop": Scenario(written["token_loop"]),
    }
    emulator.control("POST", "config", {"latency_ms": latency})
    wipe()
    if "role_create" in wanted:
        # role_create and role_noop take turns: each create run starts from nothing, each no-change run follows one.
        results = measure(emulator, {"role_create": Scenario(converge, before=wipe), "role_noop": scenarios["role_noop"]},
                          inventory, runs, collections)
    else:
        # One converge creates the tokens (and stored values) that the no-change runs find; measured once for
        # reference when asked (creating 500 tokens three times over would take half an hour).
        once = measure(emulator, {"role_create": Scenario(converge)}, inventory, 1, collections)
        results = once if "role_create_once" in wanted else {}
    results.update(measure(emulator, {name: scenario for name, scenario in scenarios.items()
                                      if name in wanted and name not in results}, inventory, runs, collections))
    emulator.control("POST", "config", {"latency_ms": 0})
    wipe()
    return [dict(scenario=name, n=n, orgs=orgs, latency_ms=latency, **figures) for name, figures in results.items()]


ROLE = ("role_create_once", "role_noop", "drift_check")
EVERY = ("role_create", "role_noop", "drift_check", "uri_baseline", "token_loop")
# The cells of the floor targets (issue 15): one org with 10 tokens and 50 orgs with 2 tokens each against one
# debug task on the same hosts, and creating one token against the no-change converge of the same org.
# plan_task shows how much of the role's cost is its one task that talks to Resolver.
FLOORS = [(10, 1, 0, ("role_noop", "debug_floor", "plan_task")), (2, 50, 0, ("role_noop", "debug_floor", "plan_task")),
          (1, 1, 0, ("role_create", "role_noop"))]


def cells(full=False, floors=False):
    """(N, orgs, latency, scenarios) to measure.

    --floors: only the cells of the floor targets (a few minutes). Default: those, every N at one org with all
    scenarios, 10 and 50 orgs at N=10 for the role only, and 100 ms for N=1 and 10 at one org. --full: the whole
    grid, every scenario, both latencies (about an hour), and the floor cells.
    """
    if floors:
        return FLOORS
    if full:
        grid = [(n, orgs) for n in (1, 10, 50) for orgs in (1, 10, 50)]
        every = [(n, orgs, latency, EVERY + FLOORS[0][3][1:] if (n, orgs, latency) == (10, 1, 0) else EVERY)
                 for latency in (0, 100) for n, orgs in grid]
        return every + FLOORS[1:2]
    chosen = [(1, 1, 0, EVERY), (10, 1, 0, EVERY + FLOORS[0][3][1:]), (50, 1, 0, EVERY), FLOORS[1],
              (10, 10, 0, ROLE), (10, 50, 0, ROLE)]
    return chosen + [(1, 1, 100, EVERY), (10, 1, 100, EVERY)]


def find(rows, scenario, n, orgs, latency):
    for row in rows:
        if (row["scenario"], row["n"], row["orgs"], row["latency_ms"]) == (scenario, n, orgs, latency):
            return row
    return None


def ratio(row, base):
    return "%.2fx wall (%.2f s / %.2f s), %.2fx CPU (%.2f s / %.2f s)" % (
        row["seconds"] / base["seconds"], row["seconds"], base["seconds"],
        row["cpu_seconds"] / base["cpu_seconds"], row["cpu_seconds"], base["cpu_seconds"])


def floor_targets(rows):
    """The targets of issue 15 (ratios of scenarios measured in the same run), each (text, met, evidence)."""
    checks = []
    many, floor = find(rows, "role_noop", 2, 50, 0), find(rows, "debug_floor", 2, 50, 0)
    if many and floor:
        checks.append(("50 orgs, 2 tokens each, no change, --forks 10: role <= 3x the debug floor, <= 3 requests "
                       "per org", many["seconds"] <= 3 * floor["seconds"] and many["requests"] <= 3 * 50,
                       "%s; %.1f requests per org" % (ratio(many, floor), many["requests"] / 50.0)))
    one, floor = find(rows, "role_noop", 10, 1, 0), find(rows, "debug_floor", 10, 1, 0)
    if one and floor:
        checks.append(("one org, 10 tokens, no change: role <= 1.5x the debug floor on one host",
                       one["seconds"] <= 1.5 * floor["seconds"], ratio(one, floor)))
    create, noop = find(rows, "role_create", 1, 1, 0), find(rows, "role_noop", 1, 1, 0)
    if create and noop:
        checks.append(("creating one token in one org <= 2x the one-org no-change converge",
                       create["seconds"] <= 2 * noop["seconds"], ratio(create, noop)))
    return checks


def targets(rows):
    """The targets of issues 7 and 15 whose cells were measured, each (text, met, evidence)."""
    checks = floor_targets(rows)
    noop = [find(rows, "role_noop", n, 1, 0) for n in (1, 10, 50)]
    role, uri = find(rows, "role_noop", 10, 1, 0), find(rows, "uri_baseline", 10, 1, 0)
    slow, many = find(rows, "role_noop", 10, 1, 100), find(rows, "role_noop", 10, 50, 0)
    if not all(noop + [uri, slow, many]):
        return checks
    checks.append(("no-change converge of one org: requests constant in N and <= 3 (API key)",
                   len({r["requests"] for r in noop}) == 1 and noop[0]["requests"] <= 3,
                   "requests for N=1/10/50: %s" % "/".join(str(r["requests"]) for r in noop)))
    checks.append(("no-change converge of N=10 faster than the uri baseline", role["seconds"] < uri["seconds"],
                   "%.2f s vs %.2f s" % (role["seconds"], uri["seconds"])))
    api_reads = 1  # scim_token_plan (with require_admin) is the only task of a no-change converge that talks to Resolver
    checks.append(("one connection per plan (keep-alive)", role["connections"] <= api_reads,
                   "%d connections for %d requests in %d plan run(s)" % (role["connections"], role["requests"], api_reads)))
    checks.append(("N=10 no-change converge at 100 ms latency costs <= ~5 round trips more than at 0 ms",
                   slow["seconds"] - role["seconds"] <= 0.5 + 0.25,
                   "%.2f s - %.2f s = %.2f s (5 round trips = 0.50 s)"
                   % (slow["seconds"], role["seconds"], slow["seconds"] - role["seconds"])))
    checks.append(("50 orgs with --forks 10 take <= 7x one org", many["seconds"] <= 7 * role["seconds"],
                   "%.2f s vs %.2f s (%.1fx)" % (many["seconds"], role["seconds"], many["seconds"] / role["seconds"])))
    return checks


def table(rows):
    header = ("scenario", "N", "orgs", "latency", "seconds", "cpu", "others", "requests", "connections")
    lines = ["%-13s %4s %5s %8s %9s %9s %7s %9s %12s" % header]
    for row in sorted(rows, key=lambda r: (r["latency_ms"], r["orgs"], r["n"], SCENARIOS.index(r["scenario"]))):
        lines.append("%-13s %4d %5d %6dms %9.2f %9.2f %7.2f %9d %12d"
                     % (row["scenario"], row["n"], row["orgs"], row["latency_ms"], row["seconds"], row["cpu_seconds"],
                        row["others_load"], row["requests"], row["connections"]))
    return "\n".join(lines)


def machine():
    return {"platform": platform.platform(), "python": platform.python_version(), "cpus": os.cpu_count(),
            "ansible_core": subprocess.run([os.path.join(BIN, "ansible"), "--version"], capture_output=True,
                                           text=True, check=False).stdout.splitlines()[0]}


def main(argv=None):
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--runs", type=int, default=3)
    scope = parser.add_mutually_exclusive_group()
    scope.add_argument("--full", action="store_true", help="the whole N x orgs grid at both latencies")
    scope.add_argument("--floors", action="store_true", help="only the cells of the floor targets (a few minutes)")
    parser.add_argument("--collections", default=os.path.join(REPO, ".tmp", "collections"),
                        help="ANSIBLE_COLLECTIONS_PATH holding the resolver.scim to measure (default: make install's)")
    parser.add_argument("--out", default=os.path.join(REPO, "tests", "output", "bench", "bench.json"))
    args = parser.parse_args(argv)
    load = os.getloadavg()
    emulator = Emulator(orgs=50)
    work = tempfile.mkdtemp(prefix="resolver-bench-work-")
    rows = []
    try:
        for cell in cells(args.full, args.floors):
            started = time.monotonic()
            rows += bench_cell(emulator, cell, args.runs, work, args.collections)
            print("measured N=%d orgs=%d latency=%dms in %.0f s" % (cell[:3] + (time.monotonic() - started,)),
                  flush=True)
    finally:
        emulator.stop()
        shutil.rmtree(work, ignore_errors=True)
    report = {"machine": machine(), "load_before": load, "load_after": os.getloadavg(), "forks": FORKS,
              "runs": args.runs, "collections": args.collections, "rows": rows,
              "targets": [{"target": t, "met": met, "evidence": e} for t, met, e in targets(rows)]}
    os.makedirs(os.path.dirname(args.out), exist_ok=True)
    with open(args.out, "w", encoding="utf-8") as handle:
        json.dump(report, handle, indent=2)
    print(table(rows))
    print()
    for entry in report["targets"]:
        print("[%s] %s: %s" % ("met" if entry["met"] else "NOT MET", entry["target"], entry["evidence"]))
    print("\nJSON: %s\nmachine: %s\nload average before/after: %s / %s"
          % (args.out, json.dumps(report["machine"]), " ".join("%.2f" % x for x in load),
             " ".join("%.2f" % x for x in report["load_after"])))
    return 0


if __name__ == "__main__":
    sys.exit(main())
