# Copyright: (c) 2026, resolver.scim contributors
# GNU General Public License v3.0+ (see LICENSES/GPL-3.0-or-later.txt or https://www.gnu.org/licenses/gpl-3.0.txt)
"""Both clients redact through the one ``redact`` of _transport.py (issue 23): the Graph client too hides a secret
where an exception or a JSON body quotes it escaped, as a certificate's private key is (its line breaks as \\n)."""

import json

import pytest

import entra_credentials
from ansible_collections.resolver.scim.plugins.module_utils._entra import GraphClient


@pytest.mark.parametrize("quote", [repr, json.dumps], ids=["repr", "json"])
def test_the_graph_client_redacts_a_private_key_quoted_with_escapes(emulator, quote):
    key = entra_credentials.new_key()
    pem = entra_credentials.key_pem(key) + entra_credentials.certificate_pem(key)
    options = dict(emulator.entra_connection(client_secret=None), client_certificate=pem)
    client = GraphClient(**options)
    key_lines = entra_credentials.key_pem(key).splitlines()[1:-1]
    redacted = client.redact("msal said: %s" % quote({"private_key": pem}))
    assert "********" in redacted and not any(line in redacted for line in key_lines)
