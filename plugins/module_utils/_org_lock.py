# -*- coding: utf-8 -*-
# Copyright: (c) 2026, resolver.scim contributors
# GNU General Public License v3.0+ (see LICENSES/GPL-3.0-or-later.txt or https://www.gnu.org/licenses/gpl-3.0.txt)
"""A lock directory that serialises the runs changing one org's tokens (used by the org_lock module).

``mkdir`` is atomic on every POSIX file system (NFS included), so exactly one run creates the directory;
the others wait. The directory holds ``owner.json``: the holder's host and the process of its run (the
ansible-playbook process, with its start time so that a reused PID is not mistaken for it). The owner file's
modification time is the lock's heartbeat: a small process (``keep_alive``) renews it while the run lives.

A lock whose process can be checked (this host, with /proc) is never broken while that process runs, and at once
when it is gone. Any other lock (another host, or no process recorded) is broken only after ``stale_after``
seconds without a heartbeat.
"""

import json
import os
import select
import shutil
import signal
import socket
import time
import uuid
import warnings

from ansible_collections.resolver.scim.plugins.module_utils._errors import LockError, LockTimeout

OWNER_FILE = "owner.json"
# The commands whose process lives as long as the run: a module process ends with its task.
ANSIBLE_PROGRAMS = frozenset(("ansible-playbook", "ansible", "ansible-pull", "ansible-console"))
# Processes are read from here (Linux). Without it no process is recorded or judged: only stale_after counts.
PROC = "/proc"
# Breaking takes milliseconds; a guard older than this was left by a run killed while breaking.
GUARD_STALE_SECONDS = 60
# The heartbeat renews the lock every quarter of the holder's stale_after, within these bounds: with stale_after of
# 40 s or more a waiter sees at least four beats per stale_after, whatever stale_after the holder was given.
HEARTBEAT_MAX_SECONDS = 10.0
HEARTBEAT_MIN_SECONDS = 0.25


def process(pid):
    """(parent PID, start time, argv) of a process on this host, or None when there is no such process.

    A zombie (killed, not yet collected by its parent) counts as gone: it will never release a lock.
    """
    try:
        state, parent_pid, start, argv = _proc_process(pid)
    except (OSError, ValueError, IndexError):
        return None
    return None if state == "Z" else (parent_pid, start, argv)


def _proc_process(pid):
    with open(os.path.join(PROC, str(pid), "stat"), encoding="utf-8", errors="replace") as handle:
        stat = handle.read()
    # The command name in parentheses may hold spaces or parentheses: fields are counted after the last ")".
    fields = stat.rsplit(")", 1)[1].split()
    with open(os.path.join(PROC, str(pid), "cmdline"), "rb") as handle:
        argv = [arg.decode("utf-8", "replace") for arg in handle.read().split(b"\0") if arg]
    try:
        with open(os.path.join(PROC, "sys", "kernel", "random", "boot_id"), encoding="utf-8") as handle:
            boot = handle.read().strip()
    except OSError:
        boot = ""
    # Field 3 is the state, 4 the parent PID, 22 the start time in clock ticks since boot.
    return fields[0], int(fields[1]), "%s/%s" % (boot, fields[19]), argv


def _is_ansible(argv):
    # "python /usr/bin/ansible-playbook ..." or "/usr/bin/ansible-playbook ...".
    return any(os.path.basename(arg) in ANSIBLE_PROGRAMS for arg in argv[:3])


def run_process():
    """(pid, start time) of the ansible process whose run this is, or None when there is none.

    Walks up from this process to the first ansible command, then on through its parents with the same command
    line: Ansible forks a worker per task, and only the process it forked from lives as long as the run. Under
    ansible-runner (AWX) that is the ansible-playbook it started, which dies with the job.
    """
    pid = os.getpid()
    found = None
    while pid > 0:  # an ansible-playbook may be PID 1 of a container
        current = process(pid)
        if current is None:
            break
        parent_pid, start, argv = current
        if found is not None and argv != found[2]:
            break
        if found is not None or _is_ansible(argv):
            found = (pid, start, argv)
        pid = parent_pid
    return found[:2] if found else None


def read_owner(path):
    """The holder's record, or None when the directory has no (complete) owner file yet."""
    try:
        with open(os.path.join(path, OWNER_FILE), encoding="utf-8") as handle:
            owner = json.load(handle)
    except (OSError, ValueError):
        return None
    return owner if isinstance(owner, dict) else None


def process_is_checkable(holder):
    """Whether the holder's process can be checked here: a record of this host, with its PID and start time, and
    /proc to read processes from."""
    return (bool(holder) and isinstance(holder.get("pid"), int) and bool(holder.get("start"))
            and holder.get("host") == socket.gethostname() and os.path.isdir(os.path.join(PROC, "self")))


def is_running(pid, start):
    """Whether the process ``pid`` that started at ``start`` still runs (not a zombie, not a reused PID)."""
    current = process(pid)
    return current is not None and current[1] == start


def silence(path, now):
    """Seconds since the lock's last heartbeat: its owner file's modification time (or the directory's, while the
    owner file is not written yet)."""
    for name in (os.path.join(path, OWNER_FILE), path):
        try:
            return now - os.stat(name).st_mtime
        except OSError:
            continue
    return 0.0


def abandoned(path, holder, now, stale_after):
    """Why the lock may be broken, or None while its holder may still be at work.

    "gone": the holder's process on this host no longer runs. "stale": a holder whose process cannot be checked
    from here (another host) sent no heartbeat for more than ``stale_after`` seconds. A holder that runs on this
    host is never broken, whatever the age of its lock.
    """
    if process_is_checkable(holder):
        return None if is_running(holder["pid"], holder["start"]) else "gone"
    if silence(path, now) > stale_after:
        return "stale"
    return None


def _break(path, stale_after, clock):
    """Remove an abandoned lock; return (holder, reason, seconds without a heartbeat) when this run removed it.

    A guard directory lets one run at a time break, and the lock is judged again under it, so a run that
    judged a lock abandoned never removes a lock that another run broke and took in the meantime.
    """
    guard = path + ".breaking"
    try:
        os.mkdir(guard, 0o700)
    except FileExistsError:
        try:
            if clock() - os.stat(guard).st_mtime > GUARD_STALE_SECONDS:
                os.rmdir(guard)
        except OSError:
            pass  # another run finished breaking, or removed the left-over guard first
        return None
    try:
        holder = read_owner(path)
        now = clock()
        reason = abandoned(path, holder, now, stale_after)
        if reason is None or not os.path.isdir(path):
            return None
        silent = silence(path, now)
        doomed = "%s.broken-%s" % (path, uuid.uuid4().hex)
        os.rename(path, doomed)
        shutil.rmtree(doomed, ignore_errors=True)
        return holder, reason, silent
    finally:
        try:
            os.rmdir(guard)
        except FileNotFoundError:
            pass  # judged left over by another run: it is gone either way


def _open_directory(name, dir_fd=None, follow=True):
    flags = os.O_RDONLY | os.O_DIRECTORY | (0 if follow else os.O_NOFOLLOW)
    return os.open(name, flags, dir_fd=dir_fd)


def make_parents(directory):
    """Create the missing directories of ``directory``, each 0700 whatever the umask.

    Directories that exist are used as they are (a symbolic link to a shared directory is the user's choice);
    each one created here is opened without following links before it is used, so a link swapped in for it
    is refused rather than followed.
    """
    existing, missing = directory, []
    while not os.path.lexists(existing):
        existing, name = os.path.split(existing)
        missing.insert(0, name)
    if not missing:
        return
    parent = _open_directory(existing)
    try:
        for name in missing:
            try:
                os.mkdir(name, 0o700, dir_fd=parent)
            except FileExistsError:
                pass  # another run created it at the same moment
            child = _open_directory(name, dir_fd=parent, follow=False)
            os.fchmod(child, 0o700)
            os.close(parent)
            parent = child
    finally:
        os.close(parent)


def _write_owner(path, owner):
    """Write the owner file into the directory just created, refusing a link swapped in for it."""
    directory = _open_directory(path, follow=False)
    try:
        os.fchmod(directory, 0o700)
        handle = os.open(OWNER_FILE, os.O_WRONLY | os.O_CREAT | os.O_EXCL, 0o600, dir_fd=directory)
        with os.fdopen(handle, "w", encoding="utf-8") as stream:
            json.dump(owner, stream)
    finally:
        os.close(directory)


def acquire(path, timeout, stale_after, description="", poll=0.5, clock=time.time, sleep=time.sleep):
    """Create the lock directory, waiting up to ``timeout`` seconds (0: one attempt).

    Return (owner record, seconds waited, [(holder, reason, seconds without a heartbeat), ...] of the abandoned
    locks broken on the way);
    raise LockTimeout with the holder's record when the wait runs out.
    """
    path = os.path.abspath(path)
    make_parents(os.path.dirname(path))
    started = clock()
    broken = []
    while True:
        try:
            os.mkdir(path, 0o700)
        except FileExistsError:
            if os.path.islink(path):
                raise LockError("%s is a symbolic link, not a lock directory; remove it." % path)
            holder = read_owner(path)
            if abandoned(path, holder, clock(), stale_after):
                removed = _break(path, stale_after, clock)
                if removed:
                    broken.append(removed)
                    continue
            if clock() - started >= timeout:
                raise LockTimeout(holder)
            sleep(poll)
            continue
        run = run_process()
        owner = {"owner": uuid.uuid4().hex, "host": socket.gethostname(),
                 "pid": run[0] if run else os.getpid(), "start": run[1] if run else None,
                 "since": clock(), "description": description}
        try:
            _write_owner(path, owner)
        except OSError:
            shutil.rmtree(path, ignore_errors=True)
            raise
        return owner, clock() - started, broken


def release(path, owner):
    """Remove the lock if ``owner`` still holds it; return True when it was removed."""
    holder = read_owner(path)
    if not holder or holder.get("owner") != owner or os.path.islink(path):
        return False
    shutil.rmtree(path, ignore_errors=True)
    return True


def heartbeat_interval(stale_after):
    """Seconds between two heartbeats of a holder given ``stale_after``."""
    return min(HEARTBEAT_MAX_SECONDS, max(HEARTBEAT_MIN_SECONDS, stale_after / 4.0))


def keep_alive(path, owner, stale_after):
    """Start the lock's heartbeat: a process that renews the owner file's time every ``heartbeat_interval`` seconds
    until the lock is released (or taken from this run) or the run's process ends; return its PID.

    The run's process is the one recorded in ``owner`` (the ansible-playbook process; see ``run_process``): the
    module's own process, or Ansible's worker process that runs it in-process, ends with the task, long before the
    lock is released. The heartbeat is forked twice, so that no zombie is left to the worker and it lives on after
    the task; it stays in the run's process group, so a signal to the whole run (Ctrl-C excepted) ends it too.
    Return None for a lock without a recorded run process, which then has no heartbeat.
    """
    if not owner.get("start"):
        return None
    reader, writer = os.pipe()
    with warnings.catch_warnings():
        # The worker may have threads; the forked child only calls os functions, never their locks.
        warnings.simplefilter("ignore", DeprecationWarning)
        middle = os.fork()
    if middle == 0:
        os.close(reader)
        _fork_heartbeat(writer, path, owner, heartbeat_interval(stale_after))
    os.close(writer)
    with os.fdopen(reader, "rb") as pipe:
        pid = pipe.read()
    try:
        os.waitpid(middle, 0)
    except ChildProcessError:
        pass  # already collected by a SIGCHLD handler of the caller
    return int(pid) if pid else None


def _fork_heartbeat(writer, path, owner, interval):
    """In the middle child: fork the heartbeat, tell its PID, exit. Never returns."""
    try:
        pid = os.fork()
        if pid:
            os.write(writer, str(pid).encode())
        else:
            os.close(writer)
            _detach()
            _beat(path, owner, interval)
    finally:
        os._exit(0)


def _detach():
    """Let go of the task's files (its output pipes would stay open otherwise) and of Ctrl-C: the heartbeat ends
    when the run does, not before."""
    signal.signal(signal.SIGINT, signal.SIG_IGN)
    signal.signal(signal.SIGTERM, signal.SIG_DFL)
    null = os.open(os.devnull, os.O_RDWR)
    for standard in (0, 1, 2):
        os.dup2(null, standard)
    os.closerange(3, os.sysconf("SC_OPEN_MAX"))


def _beat(path, owner, interval):
    """Renew the owner file's time while the lock is this run's and the run's process lives.

    The file is opened only to read it, never held open: on NFS a file held open cannot be removed (it is renamed
    to .nfs…), which would keep a released lock's directory from being removed.
    """
    run_ended = _waiter(owner["pid"], owner["start"])
    while not run_ended(interval):
        holder = read_owner(path)
        if not holder or holder.get("owner") != owner["owner"]:
            return  # released, or broken and taken by another run
        os.utime(os.path.join(path, OWNER_FILE), follow_symlinks=False)


def _waiter(pid, start):
    """A function that waits up to N seconds for the run's process to end and tells whether it has."""
    try:
        pidfd = os.pidfd_open(pid)
    except (AttributeError, OSError):
        pidfd = None  # Linux before 5.3: look every time instead
    if not is_running(pid, start):  # checked after opening: the descriptor is then of the recorded process
        return lambda seconds: True
    if pidfd is None:
        def ended(seconds):
            time.sleep(seconds)
            return not is_running(pid, start)
        return ended
    poller = select.poll()
    poller.register(pidfd, select.POLLIN)
    return lambda seconds: bool(poller.poll(seconds * 1000))
