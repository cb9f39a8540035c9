# Copyright: (c) 2026, resolver.scim contributors
# GNU General Public License v3.0+ (see LICENSES/GPL-3.0-or-later.txt or https://www.gnu.org/licenses/gpl-3.0.txt)
"""Test-only connection: the local connection under another name, standing in for a remote host (SSH).

resolver.scim's action plugins run the module code in the controller only for the connection named local; this one
makes them take the path every remote host takes (transfer the module, run it in its own Python) on a machine that
has no SSH server.
"""

from ansible.plugins.connection.local import Connection as LocalConnection

DOCUMENTATION = r"""
name: remote_stand_in
short_description: The local connection under another name (resolver.scim tests only)
description: Runs commands on the controller like ansible.builtin.local, but is not named local.
author: resolver.scim maintainers (@resolver-scim)
options:
  become_success_timeout:
    type: int
    default: 10
    description: As in ansible.builtin.local.
  become_strip_preamble:
    type: bool
    default: true
    description: As in ansible.builtin.local.
extends_documentation_fragment:
  - connection_pipelining
"""


class Connection(LocalConnection):
    transport = "remote_stand_in"
