# Copyright: (c) 2026, resolver.scim contributors
# GNU General Public License v3.0+ (see LICENSES/GPL-3.0-or-later.txt or https://www.gnu.org/licenses/gpl-3.0.txt)
"""The pinned tools start without warnings: a warning printed by every command (cryptography's DSA deprecation,
issue 22) teaches users to skip the lines that matter."""

import os
import subprocess
import sys

import pytest

BIN = os.path.dirname(sys.executable)


@pytest.mark.parametrize("command", ["ansible", "ansible-playbook", "ansible-galaxy"])
def test_ansible_commands_print_no_warning(command):
    completed = subprocess.run([os.path.join(BIN, command), "--version"], capture_output=True, text=True,
                               timeout=120, check=False)
    assert completed.returncode == 0, completed.stderr
    assert "Warning" not in completed.stderr, completed.stderr
