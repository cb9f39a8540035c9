# Copyright: (c) 2026, resolver.scim contributors
# GNU General Public License v3.0+ (see LICENSES/GPL-3.0-or-later.txt or https://www.gnu.org/licenses/gpl-3.0.txt)
"""resolver.scim.org_lock as a module: its arguments parsed by AnsibleModule, its result as Ansible gets it."""

import json
import socket
import time

import pytest
from ansible.module_utils.testing import patch_module_args

from ansible_collections.resolver.scim.plugins.module_utils import _org_lock as lock_utils
from ansible_collections.resolver.scim.plugins.modules import org_lock


def run_module(capsys, **args):
    with patch_module_args(args), pytest.raises(SystemExit):
        org_lock.main()
    return json.loads(capsys.readouterr().out)


def held_by_another_run(path):
    path.mkdir()
    (path / lock_utils.OWNER_FILE).write_text(json.dumps({
        "owner": "other", "pid": 4242, "host": "awx-node-2", "start": "boot/1", "since": time.time(),
        "description": "Converge (acme-prod)"}))


def test_try_lock_reports_the_holder_instead_of_failing(capsys, tmp_path):
    path = tmp_path / "org1.lock"
    held_by_another_run(path)
    started = time.monotonic()
    result = run_module(capsys, path=str(path), wait=False, timeout=900)
    assert time.monotonic() - started < 5, "wait=false must not wait for the timeout"
    assert "failed" not in result and result["acquired"] is False and result["owner"] == ""
    assert result["holder"].startswith("pid 4242 on awx-node-2 (Converge (acme-prod)), since ")
    assert lock_utils.read_owner(str(path))["owner"] == "other", "the holder's lock is left alone"


def test_try_lock_takes_a_free_lock(capsys, tmp_path):
    path = tmp_path / "org1.lock"
    result = run_module(capsys, path=str(path), wait=False)
    assert result["acquired"] is True and result["owner"] == lock_utils.read_owner(str(path))["owner"]
    assert "holder" not in result
    assert run_module(capsys, path=str(path), state="unlocked", owner=result["owner"])["released"] is True


def test_try_lock_breaks_a_dead_runs_lock_first(capsys, tmp_path, monkeypatch):
    # In this (controller) process module warnings go to the display, not into the result: collect them.
    warnings = []
    monkeypatch.setattr(org_lock.AnsibleModule, "warn", lambda _module, message: warnings.append(message))
    path = tmp_path / "org1.lock"
    path.mkdir()
    (path / lock_utils.OWNER_FILE).write_text(json.dumps({
        "owner": "dead", "pid": 2 ** 22 + 1, "host": socket.gethostname(), "start": "boot/1", "since": time.time(),
        "description": "Rotate (acme-prod)"}))
    result = run_module(capsys, path=str(path), wait=False)
    assert result["acquired"] is True
    [warning] = warnings
    assert warning.startswith("Broke the lock %s of a run on this host that is no longer running: pid %d on %s "
                              "(Rotate (acme-prod))"
                              % (path, 2 ** 22 + 1, socket.gethostname()))


def test_waiting_still_fails_when_the_timeout_runs_out(capsys, tmp_path):
    path = tmp_path / "org1.lock"
    held_by_another_run(path)
    result = run_module(capsys, path=str(path), timeout=0)
    assert result["failed"] is True and "still locked by pid 4242 on awx-node-2" in result["msg"]


def test_check_mode_takes_nothing(capsys, tmp_path):
    path = tmp_path / "org1.lock"
    result = run_module(capsys, path=str(path), wait=False, _ansible_check_mode=True)
    assert result["acquired"] is True and result["owner"] == "" and not path.exists()


def test_a_symlink_as_lock_path_fails_naming_it(capsys, tmp_path):
    (tmp_path / "org1.lock").symlink_to(tmp_path)
    result = run_module(capsys, path=str(tmp_path / "org1.lock"))
    assert result["failed"] is True
    assert result["msg"] == "Cannot use the lock: %s is a symbolic link, not a lock directory; remove it." % (
        tmp_path / "org1.lock")


@pytest.mark.parametrize("option", ["timeout", "stale_after"])
def test_negative_seconds_are_refused(capsys, tmp_path, option):
    result = run_module(capsys, path=str(tmp_path / "org1.lock"), **{option: -1})
    assert result["failed"] is True and result["msg"].startswith("%s must be a number of seconds" % option)
    assert not (tmp_path / "org1.lock").exists()
