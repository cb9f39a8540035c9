# Copyright: (c) 2026, resolver.scim contributors
# GNU General Public License v3.0+ (see LICENSES/GPL-3.0-or-later.txt or https://www.gnu.org/licenses/gpl-3.0.txt)
"""No live run's lock is broken (issue 21.3): two real converges of one org with a short stale_after and a slow
create take turns, whether the holder runs on this host (its process is checked) or on another (its heartbeat
keeps the lock); a dead holder's lock is broken at once, a silent one of another host after stale_after."""

import concurrent.futures
import json
import os
import re
import socket
import subprocess
import sys
import time

import pytest

from test_role import DECLARED, assert_store_matches_live

STALE_AFTER = 2
# Each create of the holding run answers this late (the work done first): the run holds the org's lock for
# several times stale_after.
CREATE_DELAY = 6
ORG = {"org1-acme": 1}
LOCK_VARS = {"resolver_scim_lock_stale_after": STALE_AFTER, "resolver_scim_lock_timeout": 120, "resolver_timeout": 30}
# ansible-playbook on "another host": its own host name (a UTS namespace), the same files, processes and network.
OTHER_HOST = ["unshare", "--uts", "sh", "-c", 'hostname "$0" && exec "$@"', "awx-node-2"]


def lock_results(results):
    return [item for r in results if "Lock the orgs" in r["task"] for item in r["result"].get("results", [])]


def converge_while_another_holds_the_lock(ansible, emulator, tmp_path, prefix=()):
    """Start a converge whose creates are slow; once it holds the org's lock, start a second one; return both runs."""
    inventory = ansible.inventory(orgs=1, group_vars=LOCK_VARS)
    emulator.faults({"method": "POST", "path": "^/user/scimTokens$", "act": True, "delay": CREATE_DELAY,
                     "count": len(DECLARED)})
    lock = tmp_path / "store" / "org1-acme.lock"
    with concurrent.futures.ThreadPoolExecutor(2) as pool:
        holding = pool.submit(ansible.run_playbook, "converge", inventory, prefix=prefix)
        deadline = time.monotonic() + 120
        while not lock.is_dir():
            assert not holding.done() and time.monotonic() < deadline, "the first run never took the lock"
            time.sleep(0.1)
        waiting = pool.submit(ansible.run_playbook, "converge", inventory)
        return holding.result(), waiting.result()


def assert_the_second_run_waited_without_breaking(emulator, tmp_path, holding, waiting):
    for rc, _results, output in (holding, waiting):
        assert rc == 0, output[-3000:]
        assert "Broke the lock" not in output, output[-3000:]
    [waited] = lock_results(waiting[1])
    assert waited["acquired"] is True and waited["waited"] > STALE_AFTER, waited
    # One token per name was ever issued, and the store holds it: the second run found nothing left to do.
    issued = emulator.tokens(live_only=False)
    assert sorted(t["name"] for t in issued) == sorted(DECLARED)
    assert_store_matches_live(emulator, str(tmp_path / "store"), orgs=ORG)


def test_a_slow_run_on_this_host_keeps_its_lock(ansible, emulator, tmp_path):
    holding, waiting = converge_while_another_holds_the_lock(ansible, emulator, tmp_path)
    assert_the_second_run_waited_without_breaking(emulator, tmp_path, holding, waiting)


def test_a_slow_run_on_another_host_keeps_its_lock_by_its_heartbeat(ansible, emulator, tmp_path):
    if subprocess.run(OTHER_HOST + ["true"], capture_output=True, check=False).returncode:
        pytest.skip("no UTS namespace for a run on another host name (needs root or user namespaces)")
    holding, waiting = converge_while_another_holds_the_lock(ansible, emulator, tmp_path, prefix=OTHER_HOST)
    assert_the_second_run_waited_without_breaking(emulator, tmp_path, holding, waiting)


def held_by(lock, beat_age, **owner):
    """A lock left at ``lock`` whose last heartbeat was ``beat_age`` seconds ago."""
    lock.mkdir(parents=True)
    record = dict({"owner": "left", "since": time.time() - beat_age, "description": "the run before"}, **owner)
    lock.joinpath("owner.json").write_text(json.dumps(record))
    os.utime(str(lock / "owner.json"), (record["since"], record["since"]))


def converge_past(ansible, lock_vars):
    rc, results, output = ansible.run_playbook("converge", ansible.inventory(orgs=1, group_vars=lock_vars))
    assert rc == 0, output[-3000:]
    [taken] = lock_results(results)
    return taken, " ".join(output.split())


def test_a_dead_holders_lock_on_this_host_is_broken_at_once(ansible, emulator, tmp_path):
    dead = subprocess.Popen([sys.executable, "-c", "import time; time.sleep(60)"])
    with open("/proc/%d/stat" % dead.pid, encoding="utf-8") as handle:
        start_ticks = handle.read().rsplit(")", 1)[1].split()[19]
    with open("/proc/sys/kernel/random/boot_id", encoding="utf-8") as handle:
        start = "%s/%s" % (handle.read().strip(), start_ticks)
    dead.kill()
    dead.wait()
    lock = tmp_path / "store" / "org1-acme.lock"
    held_by(lock, 1, pid=dead.pid, host=socket.gethostname(), start=start)
    # Not broken, the run would wait for the whole timeout and fail.
    taken, output = converge_past(ansible, {"resolver_scim_lock_timeout": 60})
    assert taken["waited"] < 10
    assert "Broke the lock %s of a run on this host that is no longer running: pid %d on %s (the run before)" % (
        lock, dead.pid, socket.gethostname()) in output
    assert_store_matches_live(emulator, str(tmp_path / "store"), orgs=ORG)


def test_a_silent_holders_lock_of_another_host_is_broken_after_stale_after(ansible, emulator, tmp_path):
    lock = tmp_path / "store" / "org1-acme.lock"
    held_by(lock, 30, pid=4242, host="awx-node-2", start="boot/1")
    taken, output = converge_past(ansible, {"resolver_scim_lock_stale_after": 10, "resolver_scim_lock_timeout": 60})
    assert taken["waited"] < 10
    silent = re.search(r"Broke the lock %s of a run on another host that sent no heartbeat for (\d+) s \(stale_after 10 "
                       r"s\); it may have died: pid 4242 on awx-node-2 \(the run before\)" % re.escape(str(lock)), output)
    assert silent and 30 <= int(silent.group(1)) < 90, output[-3000:]
    assert_store_matches_live(emulator, str(tmp_path / "store"), orgs=ORG)
