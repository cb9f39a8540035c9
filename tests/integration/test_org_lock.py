# Copyright: (c) 2026, resolver.scim contributors
# GNU General Public License v3.0+ (see LICENSES/GPL-3.0-or-later.txt or https://www.gnu.org/licenses/gpl-3.0.txt)
"""resolver.scim.org_lock through real ansible-playbook runs: a killed run's lock does not block the next run."""

import os
import signal
import socket
import subprocess
import sys
import time

import yaml

MODULE = "resolver.scim.org_lock"


def start_holding_run(tmp_path, lock, marker):
    """Start an ansible-playbook that takes the lock, then works on in a later task; return its Popen."""
    play = [{"hosts": "localhost", "gather_facts": False, "tasks": [
        {"name": "Lock", MODULE: {"path": lock, "description": "the run that gets killed"}},
        {"name": "Work on", "ansible.builtin.shell": "touch %s && sleep 300" % marker},
    ]}]
    playbook = tmp_path / "holding.yml"
    playbook.write_text(yaml.safe_dump(play, sort_keys=False))
    env = dict(os.environ, ANSIBLE_PYTHON_INTERPRETER=sys.executable, ANSIBLE_LOCALHOST_WARNING="0",
               ANSIBLE_INVENTORY_UNPARSED_WARNING="0")
    command = [os.path.join(os.path.dirname(sys.executable), "ansible-playbook"), str(playbook), "-i", "localhost,",
               "-c", "local"]
    run = subprocess.Popen(command, env=env, cwd=str(tmp_path), stdout=subprocess.DEVNULL, stderr=subprocess.DEVNULL,
                           start_new_session=True)
    deadline = time.monotonic() + 120
    while not os.path.exists(marker):
        assert run.poll() is None and time.monotonic() < deadline, "the holding run did not reach its second task"
        time.sleep(0.2)
    return run


def test_a_killed_runs_lock_is_broken_at_once_and_a_live_one_is_not(ansible, tmp_path):
    lock, marker = str(tmp_path / "locks" / "org1.lock"), str(tmp_path / "working")
    holding = start_holding_run(tmp_path, lock, marker)
    try:
        # Alive, past the task that took the lock (whose processes have ended): the lock holds.
        busy = ansible.task(MODULE, {"path": lock, "wait": False}, module_defaults=False)
        assert busy["_status"] == "ok" and busy["acquired"] is False
        assert busy["holder"].startswith("pid %d on %s (the run that gets killed)" % (holding.pid, socket.gethostname()))
        # SIGKILL the whole run: nothing of it releases the lock.
        os.killpg(holding.pid, signal.SIGKILL)
        holding.wait(30)
    finally:
        if holding.poll() is None:
            os.killpg(holding.pid, signal.SIGKILL)
            holding.wait(30)
    assert os.path.isdir(lock)

    started = time.monotonic()
    taken = ansible.task(MODULE, {"path": lock, "timeout": 600}, module_defaults=False)
    seconds = time.monotonic() - started
    assert taken["_status"] == "ok" and taken["acquired"] is True, taken["_output"][-2000:]
    # The whole ansible-playbook run took a few seconds; waiting for the holder would take the 600 s timeout.
    assert taken["waited"] < 2 and seconds < 60
    assert "Broke the lock %s of a run on this host that is no longer running: pid %d on %s (the run that gets killed)" % (
        lock, holding.pid, socket.gethostname()) in " ".join(taken["_output"].split())
