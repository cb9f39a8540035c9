# -*- coding: utf-8 -*-
# Copyright: (c) 2026, resolver.scim contributors
# GNU General Public License v3.0+ (see LICENSES/GPL-3.0-or-later.txt or https://www.gnu.org/licenses/gpl-3.0.txt)
"""A lock directory that serialises the runs changing one org's tokens (used by the org_lock module).

``mkdir`` is atomic on every POSIX file system (NFS included), so exactly one run creates the directory;
the others wait. The directory holds ``owner.json`` so a waiting run can name the holder, and a lock left
by a run that was killed is broken once it is older than ``stale_after`` seconds.
"""

import json
import os
import shutil
import socket
import time
import uuid

OWNER_FILE = "owner.json"


class LockTimeout(Exception):
    """The lock was still held by another run when the wait ran out."""


def read_owner(path):
    """The holder's record, or None when the directory has no (complete) owner file yet."""
    try:
        with open(os.path.join(path, OWNER_FILE), encoding="utf-8") as handle:
            return json.load(handle)
    except (OSError, ValueError):
        return None


def _age(path, owner, now):
    since = owner.get("since") if owner else None
    if not isinstance(since, (int, float)):
        # An owner file is written right after mkdir; without one, judge by the directory's own time.
        try:
            since = os.stat(path).st_mtime
        except OSError:
            return 0.0
    return now - since


def _break(path):
    """Remove a stale lock. Renaming first means only one of several waiting runs removes it."""
    doomed = "%s.stale-%s" % (path, uuid.uuid4().hex)
    try:
        os.rename(path, doomed)
    except OSError:
        return  # another run broke (or released) it first
    shutil.rmtree(doomed, ignore_errors=True)


def acquire(path, timeout, stale_after, description="", poll=0.5, clock=time.time, sleep=time.sleep):
    """Create the lock directory, waiting up to ``timeout`` seconds; return (owner record, seconds waited,
    records of the stale locks broken on the way)."""
    parent = os.path.dirname(path)
    if parent:
        os.makedirs(parent, mode=0o700, exist_ok=True)
    started = clock()
    broken = []
    while True:
        try:
            os.mkdir(path, 0o700)
        except FileExistsError:
            now = clock()
            holder = read_owner(path)
            if _age(path, holder, now) > stale_after:
                broken.append(holder)
                _break(path)
                continue
            if now - started >= timeout:
                raise LockTimeout(holder)
            sleep(poll)
            continue
        owner = {"owner": uuid.uuid4().hex, "pid": os.getpid(), "host": socket.gethostname(),
                 "since": clock(), "description": description}
        with open(os.path.join(path, OWNER_FILE), "w", encoding="utf-8") as handle:
            json.dump(owner, handle)
        return owner, clock() - started, broken


def release(path, owner):
    """Remove the lock if ``owner`` still holds it; return True when it was removed."""
    holder = read_owner(path)
    if not holder or holder.get("owner") != owner:
        return False
    shutil.rmtree(path, ignore_errors=True)
    return True
