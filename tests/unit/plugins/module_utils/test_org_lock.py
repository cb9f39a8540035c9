# Copyright: (c) 2026, resolver.scim contributors
# GNU General Public License v3.0+ (see LICENSES/GPL-3.0-or-later.txt or https://www.gnu.org/licenses/gpl-3.0.txt)
"""The org lock: one holder at a time across processes, waiting, timeouts, dead and stale holders, safe paths."""

import json
import multiprocessing
import os
import shutil
import signal
import socket
import stat
import subprocess
import sys
import time

import pytest

from ansible_collections.resolver.scim.plugins.module_utils import _org_lock as org_lock
from ansible_collections.resolver.scim.plugins.module_utils._errors import LockError, LockTimeout


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
    with pytest.raises(LockTimeout) as caught:
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
    beat = time.time() - 3700
    os.utime(str(path / org_lock.OWNER_FILE), (beat, beat))
    owner, _waited, broken = org_lock.acquire(str(path), timeout=0, stale_after=3600)
    assert [(holder["owner"], reason) for holder, reason, _silent in broken] == [("dead", "stale")]
    assert 3700 <= broken[0][2] < 3800
    assert org_lock.read_owner(str(path))["owner"] == owner["owner"]


def test_release_leaves_another_runs_lock_alone(tmp_path):
    path = str(tmp_path / "org1.lock")
    owner, _waited, _broken = org_lock.acquire(path, timeout=0, stale_after=3600)
    assert not org_lock.release(path, "someone else")
    assert os.path.isdir(path)
    assert org_lock.release(path, owner["owner"])
    assert not org_lock.release(path, owner["owner"])


# A stand-in for ansible-playbook: the lock is taken by a "module" process that a per-task worker fork starts,
# as Ansible runs modules, and both end before the run does. Its name makes it an ansible command line.
FAKE_RUN = r'''
import os, subprocess, sys, time
worker = os.fork()
if worker == 0:
    subprocess.run([sys.executable, "-c", "import sys; from ansible_collections.resolver.scim.plugins.module_utils "
                    "import _org_lock; _org_lock.acquire(sys.argv[1], 0, 3600, 'fake run')", sys.argv[1]], check=True)
    os._exit(0)
os.waitpid(worker, 0)
print("locked", flush=True)
time.sleep(600)
'''


@pytest.fixture
def fake_run(tmp_path):
    """Start a fake ansible-playbook run that takes the lock ``path`` and lives on; yield its Popen."""
    script = tmp_path / "bin" / "ansible-playbook"
    script.parent.mkdir()
    script.write_text(FAKE_RUN)
    # The collection's import root, so the fake module imports this checkout's org_lock.
    root = os.path.dirname(os.path.dirname(os.path.dirname(os.path.dirname(os.path.dirname(
        os.path.dirname(os.path.abspath(org_lock.__file__)))))))
    started = []

    def start(path):
        env = dict(os.environ, PYTHONPATH=root)
        run = subprocess.Popen([sys.executable, str(script), path], stdout=subprocess.PIPE, text=True, env=env)
        started.append(run)
        assert run.stdout.readline().strip() == "locked"
        return run

    yield start
    for run in started:
        run.kill()
        run.wait()


def test_a_killed_runs_lock_is_broken_at_once(fake_run, tmp_path):
    path = str(tmp_path / "org1.lock")
    run = fake_run(path)
    holder = org_lock.read_owner(path)
    # The run's own process is recorded, not the module or worker processes that took the lock and ended.
    assert holder["pid"] == run.pid and holder["host"] == socket.gethostname() and holder["start"]
    run.send_signal(signal.SIGKILL)
    run.wait()

    started = time.monotonic()
    owner, waited, broken = org_lock.acquire(path, timeout=60, stale_after=3600)
    seconds = time.monotonic() - started
    assert seconds < 2 and waited < 2, "a dead holder's lock must not be waited for (%.2f s)" % seconds
    assert [(dead, reason) for dead, reason, _silent in broken] == [(holder, "gone")]
    assert org_lock.read_owner(path)["owner"] == owner["owner"]


def test_a_live_runs_lock_is_not_broken(fake_run, tmp_path):
    path = str(tmp_path / "org1.lock")
    run = fake_run(path)
    with pytest.raises(LockTimeout) as caught:
        org_lock.acquire(path, timeout=1, stale_after=3600, poll=0.1)
    assert caught.value.args[0]["pid"] == run.pid and caught.value.args[0]["description"] == "fake run"


def _record(path, **owner):
    path.mkdir()
    (path / org_lock.OWNER_FILE).write_text(json.dumps(dict({"owner": "other", "since": time.time()}, **owner)))


def test_a_reused_pid_does_not_keep_a_dead_runs_lock(tmp_path):
    # The PID is alive (this test's parent), but it is not the process that took the lock: it started at another time.
    path = tmp_path / "org1.lock"
    _record(path, pid=os.getppid(), host=socket.gethostname(), start="another boot/12345")
    _owner, _waited, broken = org_lock.acquire(str(path), timeout=0, stale_after=3600)
    assert [reason for _holder, reason, _silent in broken] == ["gone"]


def test_a_killed_process_not_yet_collected_counts_as_gone(tmp_path):
    # Killed, but its parent (here: this test) has not waited for it yet: a zombie holds no lock.
    child = subprocess.Popen([sys.executable, "-c", "import time; time.sleep(60)"])
    try:
        start = org_lock.process(child.pid)[1]
        path = tmp_path / "org1.lock"
        _record(path, pid=child.pid, host=socket.gethostname(), start=start)
        assert org_lock.abandoned(str(path), org_lock.read_owner(str(path)), time.time(), 3600) is None
        child.kill()
        deadline = time.monotonic() + 10
        while org_lock.process(child.pid) is not None and time.monotonic() < deadline:
            time.sleep(0.05)
        assert org_lock.abandoned(str(path), org_lock.read_owner(str(path)), time.time(), 3600) == "gone"
    finally:
        child.kill()
        child.wait()


def test_a_lock_of_another_host_is_broken_only_when_stale(tmp_path):
    path = tmp_path / "org1.lock"
    # No such PID here, but the PID is another host's: only its age counts.
    _record(path, pid=2 ** 22 + 1, host="awx-node-2", start="boot/1")
    with pytest.raises(LockTimeout):
        org_lock.acquire(str(path), timeout=0, stale_after=3600)
    _owner, _waited, broken = org_lock.acquire(str(path), timeout=0, stale_after=3600,
                                               clock=lambda: time.time() + 3601)
    assert [reason for _holder, reason, _silent in broken] == ["stale"]


def test_a_lock_without_a_process_is_judged_by_age_only(tmp_path):
    # Written where no ansible process was found (or by an older version): nothing to check but its age.
    path = tmp_path / "org1.lock"
    _record(path, pid=2 ** 22 + 1, host=socket.gethostname())
    with pytest.raises(LockTimeout):
        org_lock.acquire(str(path), timeout=0, stale_after=3600)


def test_a_breaker_never_removes_a_lock_taken_since_it_judged(tmp_path):
    # Two runs found the same dead lock; the first broke it and took the lock. The second must leave it alone.
    path = tmp_path / "org1.lock"
    _record(path, pid=2 ** 22 + 1, host=socket.gethostname(), start="boot/1")
    dead = org_lock.read_owner(str(path))
    assert org_lock.abandoned(str(path), dead, time.time(), 3600) == "gone"
    owner, _waited, _broken = org_lock.acquire(str(path), timeout=0, stale_after=3600)
    assert org_lock._break(str(path), 3600, time.time) is None  # pylint: disable=protected-access
    assert org_lock.read_owner(str(path))["owner"] == owner["owner"]


def test_without_proc_no_process_is_recorded_or_judged(tmp_path, monkeypatch):
    # macOS has no /proc: a lock there is judged by its age only, never broken as "gone".
    path = tmp_path / "org1.lock"
    _record(path, pid=2 ** 22 + 1, host=socket.gethostname(), start="boot/1")
    monkeypatch.setattr(org_lock, "PROC", str(tmp_path / "no-proc"))
    assert org_lock.run_process() is None
    with pytest.raises(LockTimeout):
        org_lock.acquire(str(path), timeout=0, stale_after=3600)
    shutil.rmtree(str(path))
    owner, _waited, _broken = org_lock.acquire(str(path), timeout=0, stale_after=3600)
    assert owner["start"] is None and owner["pid"] == os.getpid()


def test_missing_parents_are_private_whatever_the_umask(tmp_path):
    previous = os.umask(0)
    try:
        owner, _waited, _broken = org_lock.acquire(str(tmp_path / "a" / "b" / "org1.lock"), timeout=0,
                                                   stale_after=3600)
    finally:
        os.umask(previous)
    for directory in ("a", "a/b", "a/b/org1.lock"):
        assert stat.S_IMODE(os.stat(str(tmp_path / directory)).st_mode) == 0o700, directory
    assert stat.S_IMODE(os.stat(str(tmp_path / "a/b/org1.lock" / org_lock.OWNER_FILE)).st_mode) == 0o600
    assert org_lock.release(str(tmp_path / "a/b/org1.lock"), owner["owner"])


def test_a_symlinked_lock_path_is_refused(tmp_path):
    elsewhere = tmp_path / "elsewhere"
    elsewhere.mkdir()
    (tmp_path / "org1.lock").symlink_to(elsewhere)
    with pytest.raises(LockError, match="symbolic link"):
        org_lock.acquire(str(tmp_path / "org1.lock"), timeout=5, stale_after=0)
    assert elsewhere.is_dir() and not list(elsewhere.iterdir())


def test_a_link_swapped_in_for_a_created_parent_is_not_followed(tmp_path, monkeypatch):
    # Another user swaps a link to their directory in for the parent just created: it is neither used nor chmodded.
    theirs = tmp_path / "theirs"
    theirs.mkdir(mode=0o755)
    real_mkdir = os.mkdir

    def mkdir_then_swap(name, mode=0o777, *, dir_fd=None):
        if dir_fd is None:
            return real_mkdir(name, mode)
        return os.symlink(str(theirs), name, dir_fd=dir_fd)

    monkeypatch.setattr(org_lock.os, "mkdir", mkdir_then_swap)
    with pytest.raises(OSError):
        org_lock.acquire(str(tmp_path / "locks" / "org1.lock"), timeout=0, stale_after=3600)
    monkeypatch.undo()
    assert stat.S_IMODE(theirs.stat().st_mode) == 0o755 and not list(theirs.iterdir())
