#!/usr/bin/python
# -*- coding: utf-8 -*-
# Copyright: (c) 2026, resolver.scim contributors
# GNU General Public License v3.0+ (see LICENSES/GPL-3.0-or-later.txt or https://www.gnu.org/licenses/gpl-3.0.txt)

DOCUMENTATION = r"""
module: org_lock
short_description: Serialise the runs that change one Resolver org's SCIM tokens
version_added: 0.1.0
description:
  - Takes or releases a lock directory on the host that runs it, so that two runs changing the same org's tokens
    at the same time (two AWX jobs, a scheduled converge and a manual rotate) take turns instead of each issuing a
    token. The role C(resolver.scim.scim_tokens) locks an org only when its plan has something to do, and plans
    again under the lock.
  - Creating a directory is atomic, also on NFS, so exactly one run holds the lock. The others wait up to
    O(timeout) seconds and then fail with the holder's process, host and start time; with O(wait=false) they do
    not wait and get RV(acquired=false) and the holder instead.
  - The lock records the host and the process of the run that holds it (the C(ansible-playbook) process, with
    its start time, so that a reused process ID does not count). The module itself runs in a process that ends
    with its task (Ansible's worker process, forked by C(ansible-playbook) for each task, or a module process under
    it), so the module walks up its parent processes to the C(ansible-playbook) process, which lives as long as the
    run.
  - A lock of this host is never broken while its process runs, however old it is, and is broken at once, with a
    warning, when that process is gone (a run that was killed).
  - A lock of another host cannot be checked that way. Its holder renews a heartbeat instead, the modification time
    of the lock's C(owner.json), from a small background process that the module starts when it takes the lock.
    That process touches the file every quarter of O(stale_after), bounded to between 0.25 and 10 seconds,
    and ends as soon as the lock is released, or taken from this run, or the run's C(ansible-playbook) process ends
    (it waits on that process, and stays in its process group), so it never outlives a killed run. A lock of another
    host is broken, with a warning, after O(stale_after) seconds without a heartbeat.
  - A background heartbeat rather than renewals between tasks, because one slow request (or a long handover) can
    outlast O(stale_after) while no task starts, and because it adds no task to a run; only a run that takes a lock
    starts one, so an org with nothing to change costs nothing.
  - The lock only protects runs that share the file system of O(path). Runs on different machines (AWX execution
    nodes) need a shared O(path) or must not run at the same time (AWX job templates do not by default).
  - Talks to no API; it is not in the C(resolver.scim.resolver) action group.
author:
  - resolver.scim maintainers (@resolver-scim)
options:
  path:
    description:
      - The lock directory, for example C(~/.resolver-scim/tokens/acme-prod.lock).
      - Missing parent directories are created with mode C(0700) whatever the umask. A symbolic link as O(path)
        is refused.
    type: path
    required: true
  state:
    description: V(locked) takes the lock, waiting for another holder; V(unlocked) releases it.
    type: str
    choices: [locked, unlocked]
    default: locked
  owner:
    description:
      - With O(state=unlocked), the RV(owner) that O(state=locked) returned. A lock that another run holds (or that
        was broken as stale and taken by another run) is left alone.
    type: str
  timeout:
    description:
      - Seconds to wait for another run to release the lock. V(0) tries once and fails if the lock is held.
      - Not used with O(wait=false).
    type: int
    default: 900
  wait:
    description:
      - V(false) tries once and does not fail when another run holds the lock; RV(acquired) is V(false) and
        RV(holder) names that run. A caller that locks several orgs in turn uses it to come back to a busy org
        later instead of waiting while it holds another org's lock, which could deadlock with a run that
        locks the same orgs in another order.
      - A lock left by a dead run is broken first (see O(stale_after)), also with V(false).
    type: bool
    default: true
  stale_after:
    description:
      - Seconds without a heartbeat after which a lock of another host is taken to be left by a dead run and
        broken. Keep it well above 10 seconds (the longest interval between two heartbeats) and above the time
        attributes of a shared file system may lag (NFS C(acregmax), 60 seconds by default); the controllers'
        clocks must agree, since the heartbeat's time is compared with the waiting run's clock.
      - Also sets how often this run's heartbeat beats (every quarter of it, 0.25 to 10 seconds).
      - A lock of this host is judged by its process instead, whatever its age; it is broken at once when its run is
        no longer running, and never while it runs.
    type: int
    default: 3600
  description:
    description: Shown to a run that waits for this lock, for example the playbook and org.
    type: str
    default: ""
attributes:
  check_mode:
    description: In check mode nothing is locked; nothing is changed that a lock would protect.
    support: full
    details: RV(acquired) is V(true) and RV(owner) empty.
  diff_mode:
    description: A lock is not state; there is nothing to diff.
    support: none
notes:
  - The module never reports a change, because a run removes its lock before it ends; only its warnings tell.
  - Processes are read from C(/proc) (Linux, including execution environments). Where there is none (macOS), and
    for runs whose modules do not run under an C(ansible-playbook) (or C(ansible), C(ansible-pull),
    C(ansible-console)) process on the host of O(path), no process is recorded and no heartbeat is started, since
    nothing tells how long the run lives; such a lock is broken after O(stale_after) seconds from when it was
    taken, so there keep O(stale_after) above the longest run.
  - The host is known by its host name. Containers that share O(path) must have distinct host names (the
    default for containers and Kubernetes pods), since a process ID means nothing in another container.
seealso:
  - module: resolver.scim.scim_token_plan
  - module: resolver.scim.scim_token
"""

EXAMPLES = r"""
- name: Take the org's lock only if it is free
  resolver.scim.org_lock:
    path: "~/.resolver-scim/tokens/{{ inventory_hostname }}.lock"
    wait: false
  register: org_lock

- name: Say who is busy with the org
  ansible.builtin.debug:
    msg: "{{ inventory_hostname }} is busy: {{ org_lock.holder }}"
  when: not org_lock.acquired

- name: Change the org's tokens one run at a time
  block:
    - name: Lock the org
      resolver.scim.org_lock:
        path: "~/.resolver-scim/tokens/{{ inventory_hostname }}.lock"
        description: "converge of {{ inventory_hostname }}"
      register: org_lock

    - name: Issue the token
      resolver.scim.scim_token:
        name: okta
        email_domains: [acme.com]
  always:
    - name: Release the org
      resolver.scim.org_lock:
        path: "~/.resolver-scim/tokens/{{ inventory_hostname }}.lock"
        state: unlocked
        owner: "{{ org_lock.owner | default(omit) }}"
"""

RETURN = r"""
acquired:
  description: Whether this run holds the lock now. V(false) only with O(wait=false).
  returned: state is locked
  type: bool
  sample: true
holder:
  description: The run that holds the lock (process, host, description, since when), when RV(acquired) is V(false).
  returned: state is locked and acquired is false
  type: str
  sample: "pid 4242 on awx-node-2 (Converge (acme-prod)), since 2026-11-28T12:00:00Z"
owner:
  description: Identifies this run's hold on the lock; pass it to O(state=unlocked). Empty in check mode and when
    RV(acquired) is V(false).
  returned: state is locked
  type: str
  sample: 6f1c0b0e6a2d4c1e9f3b8a7d5c4e2f10
waited:
  description: Seconds spent waiting for another run.
  returned: state is locked
  type: float
  sample: 12.5
released:
  description: Whether this run's lock was found and removed.
  returned: state is unlocked
  type: bool
  sample: true
"""

import datetime
import socket

from ansible.module_utils.basic import AnsibleModule

from ansible_collections.resolver.scim.plugins.module_utils import _org_lock as org_lock
from ansible_collections.resolver.scim.plugins.module_utils._errors import LockError, LockTimeout
from ansible_collections.resolver.scim.plugins.module_utils._tokens import iso

ARGUMENT_SPEC = dict(
    path=dict(type="path", required=True),
    state=dict(type="str", choices=["locked", "unlocked"], default="locked"),
    owner=dict(type="str", no_log=False),
    timeout=dict(type="int", default=900),
    wait=dict(type="bool", default=True),
    stale_after=dict(type="int", default=3600),
    description=dict(type="str", default=""),
)
MODULE_RULES = dict(supports_check_mode=True)
# No connection options, and run(module) returns the result: the lock is a directory, not a Resolver resource.
TALKS_TO_RESOLVER = False


def held_since(holder):
    if not holder:
        return "a run that has not written its owner file yet"
    return "pid %s on %s (%s), since %s" % (
        holder.get("pid"), holder.get("host"), holder.get("description") or "no description", _iso(holder.get("since")))


def _iso(seconds):
    try:
        return iso(datetime.datetime.fromtimestamp(float(seconds), datetime.timezone.utc))
    except (TypeError, ValueError):
        return "an unknown time"


def broke(path, holder, reason, silent, stale_after):
    """The warning for a lock broken on the way: which case applied, and whose lock it was."""
    if reason == "gone":
        return "Broke the lock %s of a run on this host that is no longer running: %s." % (path, held_since(holder))
    where = "on another host" if holder and holder.get("host") != socket.gethostname() else "whose process cannot be checked"
    return "Broke the lock %s of a run %s that sent no heartbeat for %d s (stale_after %d s); it may have died: %s." % (
        path, where, silent, stale_after, held_since(holder))


def run(module):
    params = module.params
    for option in ("timeout", "stale_after"):
        if params[option] < 0:
            module.fail_json(msg="%s must be a number of seconds, 0 or more; got %s." % (option, params[option]))
    if params["state"] == "unlocked":
        if not params["owner"]:
            module.fail_json(msg="state=unlocked needs owner, the owner returned when the lock was taken.")
        released = False if module.check_mode else org_lock.release(params["path"], params["owner"])
        return {"changed": False, "released": released}
    if module.check_mode:
        return {"changed": False, "acquired": True, "owner": "", "waited": 0.0}
    timeout = params["timeout"] if params["wait"] else 0
    try:
        owner, waited, broken = org_lock.acquire(params["path"], timeout, params["stale_after"],
                                                 description=params["description"])
    except LockTimeout as exc:
        if not params["wait"]:
            return {"changed": False, "acquired": False, "owner": "", "waited": 0.0,
                    "holder": held_since(exc.args[0])}
        module.fail_json(msg="%s is still locked by %s after waiting %s seconds. If that run is no longer alive, "
                             "remove the directory %s."
                             % (params["path"], held_since(exc.args[0]), params["timeout"], params["path"]))
    except LockError as exc:
        module.fail_json(msg="Cannot use the lock: %s" % exc)
    except OSError as exc:
        module.fail_json(msg="Cannot create the lock %s: %s." % (params["path"], exc.strerror))
    for holder, reason, silent in broken:
        module.warn(broke(params["path"], holder, reason, silent, params["stale_after"]))
    try:
        org_lock.keep_alive(params["path"], owner, params["stale_after"])
    except OSError as exc:
        module.warn("The lock %s is held without a heartbeat (%s): a run on another host may break it after "
                    "stale_after seconds." % (params["path"], exc.strerror))
    return {"changed": False, "acquired": True, "owner": owner["owner"], "waited": round(waited, 3)}


def main():
    module = AnsibleModule(argument_spec=ARGUMENT_SPEC, **MODULE_RULES)
    module.exit_json(**run(module))


if __name__ == "__main__":
    main()
