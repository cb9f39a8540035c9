# Copyright: (c) 2026, resolver.scim contributors
# GNU General Public License v3.0+ (see LICENSES/GPL-3.0-or-later.txt or https://www.gnu.org/licenses/gpl-3.0.txt)
"""entra_provisioning goes through the same harness as the other modules (issue 20): an unexpected exception whose
text quotes a credential or the SCIM token is reported with every known secret redacted, and the Graph client's
session is closed."""

import pytest
from ansible.module_utils.common.arg_spec import ArgumentSpecValidator

from ansible_collections.resolver.scim.plugins.module_utils._module import run_module
from ansible_collections.resolver.scim.plugins.modules import entra_provisioning
from ansible_collections.resolver.scim.plugins.plugin_utils.in_process import (
    ModuleExit,
    TaskModule,
    closing,
    for_environment,
)


def entra_module(emulator, **params):
    spec = dict(entra_provisioning.CONNECTION_SPEC, **entra_provisioning.ARGUMENT_SPEC)
    params = dict(emulator.entra_connection(), service_principal_id=emulator.service_principal()["id"],
                  tenant_url=emulator.base + "/scim/", **params)
    validation = ArgumentSpecValidator(for_environment(spec, {})).validate(params)
    assert validation.error_messages == []
    return TaskModule(validation.validated_parameters, False,
                      set(validation._no_log_values))  # pylint: disable=protected-access


def test_an_unexpected_error_is_redacted_and_the_session_closed(emulator):
    token = emulator.issue_token()
    module = entra_module(emulator, secret_token=token["token"])
    clients = []

    def run(module, client):
        clients.append(client)
        client.access_token()
        raise KeyError("%s %s %s" % (module.params["client_secret"], token["token"], client.secrets[-1]))

    with pytest.raises(ModuleExit) as done:
        run_module(module, closing(run), entra_provisioning.connect)
    result = done.value.result
    assert result["failed"] is True and result["msg"].startswith("Unexpected error (KeyError: ")
    assert result["msg"].count("********") == 3
    assert all(secret not in result["msg"] + result.get("exception", "") for secret in clients[0].secrets)
    assert all(not adapter.poolmanager.pools for adapter in clients[0].session.adapters.values())
