# Copyright: (c) 2026, resolver.scim contributors
# GNU General Public License v3.0+ (see LICENSES/GPL-3.0-or-later.txt or https://www.gnu.org/licenses/gpl-3.0.txt)
"""The org lock's liveness (issue 21.3): a live holder on this host is never broken, whatever the lock's age; a
holder elsewhere keeps its lock with a heartbeat, and loses it after stale_after without one."""

import json
import os
import socket
import subprocess
import sys
import time

import pytest

from ansible_collections.resolver.scim.plugins.module_utils import _org_lock as org_lock
from ansible_collections.resolver.scim.plugins.module_utils._errors import LockTimeout
from ansible_collections.resolver.scim.plugins.modules import org_lock as org_lock_module

# The heartbeat is forked from this (possibly multi-threaded) test process; it only calls os functions.
pytestmark = pytest.mark.filterwarnings("ignore:This process .* is multi-threaded:DeprecationWarning")


@pytest.fixture
def live_process():
    """A process of this host that runs until the test ends (or kills it): (Popen, start time)."""
    child = subprocess.Popen([sys.executable, "-c", "import time; time.sleep(120)"])
    yield child, org_lock.process(child.pid)[1]
    child.kill()
    child.wait()


def hold(path, beat_age=0.0, **owner):
    """Write a holder's lock at ``path`` whose last heartbeat was ``beat_age`` seconds ago; return its record."""
    record = dict({"owner": "holder", "since": time.time() - 7200, "description": "the other run"}, **owner)
    path.mkdir()
    (path / org_lock.OWNER_FILE).write_text(json.dumps(record))
    beat = time.time() - beat_age
    os.utime(str(path / org_lock.OWNER_FILE), (beat, beat))
    return record


def wait_until(condition, seconds=10):
    deadline = time.monotonic() + seconds
    while not condition():
        assert time.monotonic() < deadline, "gave up waiting"
        time.sleep(0.05)


def test_a_live_holder_on_this_host_is_never_broken_however_old(tmp_path, live_process):
    child, start = live_process
    path = tmp_path / "org1.lock"
    hold(path, beat_age=7200, pid=child.pid, host=socket.gethostname(), start=start)
    assert org_lock.abandoned(str(path), org_lock.read_owner(str(path)), time.time(), 2) is None
    with pytest.raises(LockTimeout):
        org_lock.acquire(str(path), timeout=0.5, stale_after=0, poll=0.05)
    assert org_lock.read_owner(str(path))["owner"] == "holder"


def test_a_dead_holder_on_this_host_is_broken_at_once_saying_so(tmp_path, live_process):
    child, start = live_process
    path = tmp_path / "org1.lock"
    holder = hold(path, pid=child.pid, host=socket.gethostname(), start=start)
    child.kill()
    child.wait()
    _owner, waited, broken = org_lock.acquire(str(path), timeout=60, stale_after=3600)
    assert waited < 5 and [(dead, reason) for dead, reason, _silent in broken] == [(holder, "gone")]
    message = org_lock_module.broke(str(path), holder, "gone", broken[0][2], 3600)
    assert message.startswith("Broke the lock %s of a run on this host that is no longer running: pid %d on %s "
                              "(the other run)" % (path, child.pid, socket.gethostname()))


def test_a_holder_of_another_host_keeps_its_lock_while_its_heartbeat_is_fresh(tmp_path):
    # Taken two hours ago, but its heartbeat is a second old: its run is at work.
    path = tmp_path / "org1.lock"
    hold(path, beat_age=1, pid=4242, host="awx-node-2", start="boot/1")
    with pytest.raises(LockTimeout):
        org_lock.acquire(str(path), timeout=0, stale_after=60)


def test_a_holder_of_another_host_without_a_heartbeat_is_broken_saying_so(tmp_path):
    path = tmp_path / "org1.lock"
    holder = hold(path, beat_age=90, pid=4242, host="awx-node-2", start="boot/1")
    _owner, _waited, broken = org_lock.acquire(str(path), timeout=0, stale_after=60)
    [(dead, reason, silent)] = broken
    assert (dead, reason) == (holder, "stale") and 90 <= silent < 120
    assert org_lock_module.broke(str(path), dead, reason, silent, 60).startswith(
        "Broke the lock %s of a run on another host that sent no heartbeat for 90 s (stale_after 60 s); it may have "
        "died: pid 4242 on awx-node-2 (the other run)" % path)


def heartbeats(owner_file, count):
    """The owner file's modification times over ``count`` heartbeats of 0.25 s."""
    seen = []
    for _beat in range(count):
        time.sleep(0.3)
        seen.append(os.stat(owner_file).st_mtime)
    return seen


def test_the_heartbeat_renews_the_lock_until_the_run_ends(tmp_path, live_process):
    child, start = live_process
    path = tmp_path / "org1.lock"
    owner = hold(path, beat_age=3600, pid=child.pid, host=socket.gethostname(), start=start)
    beating = org_lock.keep_alive(str(path), owner, stale_after=1)
    try:
        assert org_lock.heartbeat_interval(1) == 0.25
        seen = heartbeats(str(path / org_lock.OWNER_FILE), 4)
        assert seen == sorted(seen) and len(set(seen)) == 4 and time.time() - seen[-1] < 1
        # A waiter on another host sees a fresh heartbeat although the lock was taken two hours ago.
        assert org_lock.silence(str(path), time.time()) < 1
        child.kill()
        child.wait()
        wait_until(lambda: org_lock.process(beating) is None)
    finally:
        if org_lock.process(beating) is not None:
            os.kill(beating, 9)


def test_the_heartbeat_ends_when_the_lock_is_released(tmp_path, live_process):
    child, start = live_process
    path = tmp_path / "org1.lock"
    owner = hold(path, pid=child.pid, host=socket.gethostname(), start=start)
    beating = org_lock.keep_alive(str(path), owner, stale_after=1)
    try:
        assert org_lock.process(beating) is not None
        assert org_lock.release(str(path), "holder")
        wait_until(lambda: org_lock.process(beating) is None)
        assert child.poll() is None, "the run lives on; only its heartbeat for this lock ended"
    finally:
        if org_lock.process(beating) is not None:
            os.kill(beating, 9)


def test_no_heartbeat_without_a_recorded_run_process(tmp_path):
    # No ansible process was found (no /proc, or not under Ansible): nothing to tie a heartbeat's life to.
    path = tmp_path / "org1.lock"
    owner = hold(path, pid=os.getpid(), host=socket.gethostname(), start=None)
    assert org_lock.keep_alive(str(path), owner, stale_after=1) is None
