# Copyright: (c) 2026, resolver.scim contributors
# GNU General Public License v3.0+ (see LICENSES/GPL-3.0-or-later.txt or https://www.gnu.org/licenses/gpl-3.0.txt)
"""resolver.scim.entra_provisioning runs in the controller process when its task runs there (issue 20), so a
controller-side handover writes no AnsiballZ file, which would hold the client secret and the SCIM token in clear
for as long as a killed run leaves it behind. A delegated task still runs the module file."""

import os

from test_in_process import IN_PROCESS, MODULE_FILE, STAND_IN

ENTRA = "resolver.scim.entra_provisioning"


def handover_play(emulator, token, hosts="localhost"):
    args = {"service_principal_id": emulator.service_principal()["id"], "tenant_url": emulator.base + "/scim/",
            "secret_token": token["token"], "token_id": token["id"]}
    return {"hosts": hosts, "gather_facts": False,
            "module_defaults": {"group/resolver.scim.entra": emulator.entra_connection()},
            "tasks": [{"name": "hand over", ENTRA: args}]}


def left_behind(remote_tmp):
    """Every file under the remote temp directory (ANSIBLE_KEEP_REMOTE_FILES keeps what a killed run would)."""
    return [os.path.join(d, f) for d, _dirs, files in os.walk(remote_tmp) for f in files]


def run_keeping_remote_files(ansible, play, tmp_path, connection):
    remote_tmp = tmp_path / ("remote-tmp-" + connection)
    env = dict(STAND_IN, ANSIBLE_KEEP_REMOTE_FILES="1", ANSIBLE_REMOTE_TMP=str(remote_tmp))
    play = dict(play, vars={"ansible_connection": connection})
    rc, results, output = ansible.playbook([play], verbosity=3, env=env)
    assert rc == 0 and [r["status"] for r in results] == ["ok"], output[-3000:]
    return left_behind(remote_tmp), output


def test_a_controller_side_handover_writes_no_module_file(ansible, emulator, tmp_path):
    token = emulator.issue_token()
    files, output = run_keeping_remote_files(ansible, handover_play(emulator, token), tmp_path, "local")
    assert IN_PROCESS in output and MODULE_FILE not in output
    assert files == []
    state = emulator.entra("GET", "service_principals/%s/can_provision" % emulator.service_principal()["id"])
    assert state["can_provision"] is True and state["token_id"] == token["id"]


def test_a_handover_on_another_host_runs_the_module_file_which_holds_the_secrets(ansible, emulator, tmp_path):
    """What docs/reliability.md warns about: a module file on the host that runs it, with the secrets inside."""
    token = emulator.issue_token()
    files, output = run_keeping_remote_files(ansible, handover_play(emulator, token), tmp_path, "remote_stand_in")
    assert MODULE_FILE + " (connection remote_stand_in)" in output
    module_files = [f for f in files if os.path.basename(f) == "AnsiballZ_entra_provisioning.py"]
    assert len(module_files) == 1
    with open(module_files[0], encoding="utf-8") as handle:
        assert token["token"] in handle.read()
