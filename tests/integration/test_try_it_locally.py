# Copyright: (c) 2026, resolver.scim contributors
# GNU General Public License v3.0+ (see LICENSES/GPL-3.0-or-later.txt or https://www.gnu.org/licenses/gpl-3.0.txt)
"""docs/getting-started.md "Try it locally": the emulator as a command, its inventory, converge and drift check."""

import os
import subprocess
import sys

import pytest
import yaml

EMULATOR = os.path.join(os.path.dirname(os.path.dirname(os.path.abspath(__file__))), "emulator", "resolver_emulator.py")


@pytest.fixture
def emulator_command(tmp_path):
    """Start the emulator as the guide does; yield (its Popen, the lines it printed before serving)."""
    inventory = tmp_path / "inventory"
    process = subprocess.Popen([sys.executable, EMULATOR, "--port", "0", "--inventory", str(inventory)],
                               stdout=subprocess.PIPE, stderr=subprocess.PIPE, text=True)
    lines = []
    while not lines or not lines[-1].startswith("Inventory of the"):
        line = process.stdout.readline()
        assert line, "the emulator stopped: %s" % process.stderr.read()
        lines.append(line.strip())
    yield process, lines
    process.terminate()
    process.wait(30)


def test_the_emulator_prints_every_orgs_key_and_writes_their_inventory(emulator_command, tmp_path):
    _process, lines = emulator_command
    url = lines[0].rsplit(" ", 1)[-1]
    assert lines[0].startswith("Resolver emulator serving http://127.0.0.1:")
    keys = [line.rsplit(": ", 1)[-1] for line in lines[1:-1]]
    assert [line.split(":")[0] for line in lines[1:-1]] == [
        "Admin API key for org 1 (Acme Corp)", "Admin API key for org 2 (Globex)", "Admin API key for org 3 (Initech)"]
    hosts = yaml.safe_load((tmp_path / "inventory" / "hosts.yml").read_text())["resolver_orgs"]["hosts"]
    assert [(h["resolver_url"], h["resolver_api_key"]) for h in hosts.values()] == [(url, key) for key in keys]
    assert lines[-1] == "Inventory of the 3 orgs: %s" % (tmp_path / "inventory")


def test_a_busy_port_is_one_line_not_a_traceback(emulator_command):
    _process, lines = emulator_command
    port = lines[0].rsplit(":", 1)[-1]
    second = subprocess.run([sys.executable, EMULATOR, "--port", port], capture_output=True, text=True, timeout=60,
                            check=False)
    assert second.returncode == 1 and second.stdout == ""
    assert second.stderr == "resolver_emulator: cannot serve on 127.0.0.1 port %s: Address already in use\n" % port


def test_converge_drift_check_and_rotate_over_the_emulators_inventory(emulator_command, ansible, tmp_path):
    inventory = str(tmp_path / "inventory")
    rc, _results, output = ansible.run_playbook("converge", inventory)
    assert rc == 0, output[-3000:]
    assert len(list((tmp_path / "store").rglob("*.json"))) == 6  # two tokens in each of three orgs
    rc, _results, output = ansible.run_playbook("drift_check", inventory,
                                                extra_vars={"drift_report": str(tmp_path / "drift.json")})
    assert rc == 0, output[-3000:]
    # The store is not in the inventory directory, where Ansible would read each record as an inventory source.
    assert "not a valid group definition" not in output
    rc, _results, output = ansible.run_playbook("rotate", inventory,
                                                extra_vars={"rotate_tokens": "okta", "rotate_orgs": "org1-acme"})
    assert rc == 0 and "org1-acme" in output and "org2-globex" not in output.split("PLAY RECAP")[-1], output[-3000:]
