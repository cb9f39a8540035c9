# Copyright: (c) 2026, resolver.scim contributors
# GNU General Public License v3.0+ (see LICENSES/GPL-3.0-or-later.txt or https://www.gnu.org/licenses/gpl-3.0.txt)
"""The org lock: one holder at a time across processes, waiting, timeouts and stale locks."""

import json
import multiprocessing
import os
import time

import pytest

from ansible_collections.resolver.scim.plugins.module_utils import org_lock


def _hold_and_count(path, counter_path, rounds):
    """Take the lock, then check nobody else is inside (a read-modify-write that interleaving would break)."""
    for _round in range(rounds):
        owner, _waited, _broken = org_lock.acquire(path, timeout=60, stale_after=3600, poll=0.001)
        with open(counter_path, encoding="utf-8") as handle:
            value = int(handle.read())
        time.sleep(0.002)
        with open(counter_path, "w", encoding="utf-8") as handle:
            handle.write(str(value + 1))
        assert org_lock.release(path, owner["owner"])


# Other tests leave server threads running; the forked workers only touch files, so fork is safe here.
@pytest.mark.filterwarnings("ignore:This process .* is multi-threaded:DeprecationWarning")
def test_one_holder_at_a_time_across_processes(tmp_path):
    path = str(tmp_path / "locks" / "org1.lock")
    counter = tmp_path / "counter"
    counter.write_text("0")
    workers = [multiprocessing.Process(target=_hold_and_count, args=(path, str(counter), 25)) for _worker in range(4)]
    for worker in workers:
        worker.start()
    for worker in workers:
        worker.join(60)
        assert worker.exitcode == 0
    # Lost updates would show up as a smaller count.
    assert counter.read_text() == "100"
    assert not os.path.exists(path)


def test_waits_then_times_out_naming_the_holder(tmp_path):
    path = str(tmp_path / "org1.lock")
    holder, _waited, _broken = org_lock.acquire(path, timeout=1, stale_after=3600, description="first run")
    clock = iter([0.0, 0.0, 1.0, 2.0, 3.0])
    sleeps = []
    with pytest.raises(org_lock.LockTimeout) as caught:
        org_lock.acquire(path, timeout=2, stale_after=3600, clock=lambda: next(clock) + holder["since"],
                         sleep=sleeps.append)
    assert caught.value.args[0]["owner"] == holder["owner"]
    assert caught.value.args[0]["description"] == "first run"
    assert sleeps, "it must wait before giving up"
    assert os.path.isdir(path), "a run that timed out must not remove the holder's lock"


def test_a_stale_lock_is_broken_and_reported(tmp_path):
    path = tmp_path / "org1.lock"
    path.mkdir()
    (path / org_lock.OWNER_FILE).write_text(json.dumps({"owner": "dead", "pid": 1, "since": time.time() - 7200}))
    owner, _waited, broken = org_lock.acquire(str(path), timeout=0, stale_after=3600)
    assert [b["owner"] for b in broken] == ["dead"]
    assert org_lock.read_owner(str(path))["owner"] == owner["owner"]


def test_release_leaves_another_runs_lock_alone(tmp_path):
    path = str(tmp_path / "org1.lock")
    owner, _waited, _broken = org_lock.acquire(path, timeout=0, stale_after=3600)
    assert not org_lock.release(path, "someone else")
    assert os.path.isdir(path)
    assert org_lock.release(path, owner["owner"])
    assert not org_lock.release(path, owner["owner"])
