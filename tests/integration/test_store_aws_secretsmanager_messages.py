# Copyright: (c) 2026, resolver.scim contributors
# GNU General Public License v3.0+ (see LICENSES/GPL-3.0-or-later.txt or https://www.gnu.org/licenses/gpl-3.0.txt)
"""The aws_secretsmanager store's messages when the endpoint cannot be reached or a remove fails (issue 22): each
says what went wrong in the user's words, with AWS's own error, and no Ansible-internal text ("Finalization of task
args"); a failing remove does not blame a missing collection. Real ansible-playbook runs against moto's server."""

import pytest

import store_servers
from store_servers import item, token_value, verb
from test_store_aws_secretsmanager import STORE, AwsRuns, failure

pytestmark = pytest.mark.xdist_group("aws_secretsmanager")

ANSIBLE_INTERNALS = ("Finalization of task args", "Task failed:", "The lookup plugin")
UNREACHABLE = "Secrets Manager cannot be reached"
OKTA = {"name": "okta", "store_key": "okta"}


@pytest.fixture(name="aws")
def aws_runs(tmp_path, moto, store_collections):
    return AwsRuns(tmp_path, moto, store_collections)


def assert_plain(message):
    assert not [text for text in ANSIBLE_INTERNALS if text in message], message


@pytest.mark.parametrize("verb_name", ["check", "remove"] + [pytest.param(v, marks=pytest.mark.exhaustive) for v in ("read", "write")])
def test_a_closed_endpoint_says_it_cannot_be_reached(aws, verb_name):
    closed = "http://127.0.0.1:%d" % store_servers.free_port()
    value = token_value()
    aws.secrets.add(value)
    variables = {"scim_tokens_store_items": [item("okta", value, 7)], "scim_tokens_store_names": [OKTA]}
    run = aws.run([verb(STORE, verb_name, **variables)],
                  settings={"resolver_scim_aws_endpoint_url": closed})
    assert run.rc != 0
    message = failure(run.results)
    assert UNREACHABLE in message and closed in message, message
    assert_plain(message)
    assert "is not installed" not in message
    aws.assert_clean()


# Ways a remove fails that have nothing to do with a missing collection: AWS refuses the keys' request, AWS refuses
# the recovery window, the caller names a token without its key (the module's arguments cannot be made).
REMOVE_FAILURES = {
    "refused": ({}, [OKTA], "reader", "AWS refused the request: the credentials' IAM policy does not allow it"),
    "recovery window": ({"resolver_scim_aws_recovery_window": 3}, [OKTA], "writer",
                        "RecoveryWindowInDays value must be between 7 and 30 days"),
    "a name without its key": ({}, [{"name": "okta"}], "writer", "has no attribute 'store_key'"),
}


@pytest.mark.parametrize("case", sorted(REMOVE_FAILURES))
def test_a_failing_remove_says_why_and_blames_no_collection(aws, moto, case):
    settings, names, keys, expected = REMOVE_FAILURES[case]
    value = token_value()
    aws.secrets.add(value)
    run = aws.run([verb(STORE, "check"), verb(STORE, "write", scim_tokens_store_items=[item("okta", value, 7)])])
    assert run.rc == 0, run.output[-3000:]
    access_key, secret_key = moto.keys[keys]
    run = aws.run([verb(STORE, "remove", scim_tokens_store_names=names)], settings=settings,
                  env=aws.env(AWS_ACCESS_KEY_ID=access_key, AWS_SECRET_ACCESS_KEY=secret_key))
    assert run.rc != 0
    message = failure(run.results)
    assert "is not installed" not in message and expected in message, message
    assert_plain(message)
    aws.assert_clean()
