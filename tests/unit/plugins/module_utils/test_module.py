# Copyright: (c) 2026, resolver.scim contributors
# GNU General Public License v3.0+ (see LICENSES/GPL-3.0-or-later.txt or https://www.gnu.org/licenses/gpl-3.0.txt)
"""The module harness: an exception nobody expected still ends in a clean failure with every secret redacted."""

import json

import pytest
from ansible.module_utils._internal import _traceback
from ansible.module_utils.testing import patch_module_args

from ansible_collections.resolver.scim.plugins.module_utils._module import resolver_module, run_module


@pytest.fixture(autouse=True)
def tracebacks_on(monkeypatch):
    """As with ANSIBLE_DISPLAY_TRACEBACK=error: fail_json then puts a traceback into the result."""
    monkeypatch.setattr(_traceback, "_is_traceback_enabled", lambda event: True)


def run_and_capture(capsys, args, run):
    with patch_module_args(args), pytest.raises(SystemExit):
        run_module(resolver_module({}), run)
    return json.loads(capsys.readouterr().out)


def test_unexpected_exception_is_a_clean_failure_without_secrets(emulator, capsys):
    key = emulator.api_key()
    issued = []

    def run(_module, api):
        _token, secret = api.create_token(api.caller_membership_id(), "okta", ["acme.com"])
        issued.append(secret)
        # What requests says of a header it refuses, and what a careless bug might raise.
        raise ValueError("Invalid leading whitespace in header value: %r; token %s" % ("Bearer " + key + "\n", secret))

    result = run_and_capture(capsys, {"url": emulator.url, "api_key": key}, run)
    text = json.dumps(result)
    assert result["failed"] is True
    assert result["msg"].startswith("Unexpected error (ValueError: Invalid leading whitespace in header value")
    assert "Traceback" in result["exception"] and "ValueError" in result["exception"]
    assert key not in text and issued[0] not in text and "********" in result["msg"]


def test_a_secret_quoted_with_escapes_is_redacted(emulator, capsys):
    # repr() escapes the quote and backslashes of this key: the raw value no longer occurs in the text.
    key = 'rk-"Quoted\\Key'

    def run(_module, _api):
        raise ValueError("header value %r" % ("Bearer " + key))

    result = run_and_capture(capsys, {"url": emulator.url, "api_key": key}, run)
    assert result["msg"].startswith("Unexpected error (ValueError: header value 'Bearer ********'")
    assert "Quoted" not in json.dumps(result)


def test_session_token_is_redacted(emulator, capsys):
    admin = emulator.member()
    sessions = []

    def run(_module, api):
        api.whoami()
        sessions.append(api.client.secrets[-1])
        raise KeyError({"session": sessions[0]})

    args = {"url": emulator.url, "username": admin["email"], "password": admin["password"], "org_id": 1}
    result = run_and_capture(capsys, args, run)
    assert result["msg"].startswith("Unexpected error (KeyError: ")
    assert sessions[0] not in json.dumps(result) and admin["password"] not in json.dumps(result)


def test_traceback_of_an_expected_failure_carries_no_secret(emulator, capsys):
    # With tracebacks on, ansible-core would format the exception chain; the client's own errors cut it.
    key = emulator.api_key()

    def run(_module, api):
        api.client.probe_bearer(emulator.base + "/scim/v2/Users", key + "\n")

    result = run_and_capture(capsys, {"url": emulator.url, "api_key": key}, run)
    assert "could not be sent (InvalidHeader)" in result["msg"] and "Traceback" in json.dumps(result)
    assert key not in json.dumps(result)
