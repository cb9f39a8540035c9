# Copyright: (c) 2026, resolver.scim contributors
# GNU General Public License v3.0+ (see LICENSES/GPL-3.0-or-later.txt or https://www.gnu.org/licenses/gpl-3.0.txt)
"""The aws_secretsmanager store's verbs (roles/scim_tokens/tasks/store/aws_secretsmanager) run by real
ansible-playbook against moto's Secrets Manager server on loopback, with IAM authentication on, and amazon.aws and
community.aws from the `ansible` wheel (make store-collections).

API calls are counted with moto's request recorder. Every run is -vvvv, and its output and recorded results are
scanned for every token value and AWS secret key of the test.
"""

import collections
import json
import os
import pathlib
import re
import secrets
import stat
import sys

import pytest

import store_servers
from conftest import Ansible
from store_servers import SHOW_KNOWN, SHOW_RECORDS, StoreRuns, item, shadow_library, store_play, token_value, verb

pytestmark = pytest.mark.xdist_group("aws_secretsmanager")

STORE = "aws_secretsmanager"


AwsRun = collections.namedtuple("AwsRun", "rc results output calls")


class AwsRuns(StoreRuns):
    """ansible-playbook runs of the store's verbs for one org, with the secrets to scan their output for."""

    def __init__(self, tmp_path, moto, collections):
        super().__init__(Ansible(tmp_path, None), tmp_path, collections)
        self.moto = moto
        self.access_key, self.secret_key = moto.keys["writer"]
        self.secrets = {moto.keys["writer"][1], moto.keys["reader"][1]}

    def env(self, **extra):
        """The standard credential chain, isolated: keys in the environment, no config files, no instance role."""
        env = {"AWS_ACCESS_KEY_ID": self.access_key, "AWS_SECRET_ACCESS_KEY": self.secret_key,
               "AWS_REGION": "us-east-1", "AWS_CONFIG_FILE": os.devnull, "AWS_SHARED_CREDENTIALS_FILE": os.devnull,
               "AWS_EC2_METADATA_DISABLED": "true"}
        env.update(extra)
        return {k: v for k, v in env.items() if v is not None}

    def run(self, tasks, settings=None, collections=None, env=None, verbosity=4):
        """Run tasks over the org's host; return an AwsRun with the API calls moto served meanwhile."""
        environment = self.env() if env is None else env
        environment["ANSIBLE_COLLECTIONS_PATH"] = store_servers.collections_path(
            self.collections if collections is None else collections)
        variables = {"resolver_scim_aws_endpoint_url": self.moto.url}
        variables.update(settings or {})
        mark = self.moto.calls_mark()
        rc, results, output = self.ansible.playbook(store_play(variables, tasks, org=self.org), verbosity=verbosity,
                                                    env=environment, inventory=self.org + ",")
        return AwsRun(rc, results, output, self.moto.calls_since(mark))

    def name(self, key):
        return "resolver-scim/%s/%s" % (self.org, key)

    def value(self, key, **kwargs):
        return json.loads(self.moto.client().get_secret_value(SecretId=self.name(key), **kwargs)["SecretString"])


@pytest.fixture
def aws(tmp_path, moto, store_collections):
    return AwsRuns(tmp_path, moto, store_collections)


def shown(results, task):
    result = next(r for r in reversed(results) if r["task"] == task)["result"]
    return {key: value for key, value in result.items() if key.startswith("scim_tokens_")}


def failure(results):
    return [r for r in results if r["status"] == "failed"][-1]["result"]["msg"]


def test_write_read_new_version_remove(aws):
    okta_v1, entra_v1, okta_v2 = token_value(), token_value(), token_value()
    aws.secrets |= {okta_v1, entra_v1, okta_v2}

    run = aws.run([verb(STORE, "check")])
    assert run.rc == 0, run.output[-3000:]
    # Read the marker (none yet), then create it: the credentials may read and write under the org.
    assert run.calls == ["GetSecretValue", "DescribeSecret", "CreateSecret", "DescribeSecret"]
    run = aws.run([verb(STORE, "check")])
    assert run.rc == 0, run.output[-3000:]
    assert run.calls == ["GetSecretValue", "DescribeSecret", "GetSecretValue", "UpdateSecret", "GetResourcePolicy",
                         "DescribeSecret"]

    run = aws.run([verb(STORE, "write", scim_tokens_store_items=[
        item("okta", okta_v1, 101), item("Entra ID", entra_v1, 102, key="entra-id", status="pending",
                                         idp_token_id=102)])])
    assert run.rc == 0, run.output[-3000:]
    assert run.calls == ["DescribeSecret", "CreateSecret", "DescribeSecret"] * 2
    assert aws.value("okta") == {"token": okta_v1, "name": "okta", "token_id": 101, "email_domains": ["acme.com"],
                                 "expires": "2028-06-01T00:00:00Z", "org": "acme", "org_id": 1, "status": "current"}

    run = aws.run([verb(STORE, "read"), SHOW_RECORDS])
    assert run.rc == 0, run.output[-3000:]
    assert aws.records(run.results) == [
        {"name": "Entra ID", "token_id": 102, "org_id": 1, "email_domains": ["acme.com"],
         "expires": "2028-06-01T00:00:00Z", "status": "pending", "idp_token_id": 102,
         "source": "aws secretsmanager %s (us-east-1)" % aws.name("entra-id"), "key": "entra-id"},
        {"name": "okta", "token_id": 101, "org_id": 1, "email_domains": ["acme.com"],
         "expires": "2028-06-01T00:00:00Z", "status": "current",
         "source": "aws secretsmanager %s (us-east-1)" % aws.name("okta"), "key": "okta"}]
    # One ListSecrets, one GetSecretValue per secret under the org: two tokens and the write-check marker.
    assert run.calls == ["ListSecrets"] + ["GetSecretValue"] * 3

    # A renewal writes a new version; Secrets Manager keeps the one before it as AWSPREVIOUS.
    run = aws.run([verb(STORE, "write", scim_tokens_store_items=[item("okta", okta_v2, 103)])])
    assert run.rc == 0, run.output[-3000:]
    assert run.calls == ["DescribeSecret", "GetSecretValue", "UpdateSecret", "GetResourcePolicy", "DescribeSecret"]
    assert aws.value("okta")["token"] == okta_v2
    assert aws.value("okta", VersionStage="AWSPREVIOUS")["token"] == okta_v1
    run = aws.run([verb(STORE, "read"), SHOW_RECORDS])
    assert {r["name"]: r["token_id"] for r in aws.records(run.results)} == {"Entra ID": 102, "okta": 103}

    # Remove schedules the secret for deletion: reads no longer list it, restore-secret brings it back.
    run = aws.run([verb(STORE, "remove", scim_tokens_store_names=[
        {"name": "okta", "store_key": "okta"}, {"name": "never stored", "store_key": "never-stored"}])])
    assert run.rc == 0, run.output[-3000:]
    assert run.calls == ["DescribeSecret", "DeleteSecret", "DescribeSecret"]
    assert aws.moto.client().describe_secret(SecretId=aws.name("okta"))["DeletedDate"]
    run = aws.run([verb(STORE, "read"), SHOW_RECORDS])
    assert [r["name"] for r in aws.records(run.results)] == ["Entra ID"]
    assert run.calls == ["ListSecrets"] + ["GetSecretValue"] * 2
    aws.moto.client().restore_secret(SecretId=aws.name("okta"))
    run = aws.run([verb(STORE, "read"), SHOW_RECORDS])
    assert {r["name"]: r["token_id"] for r in aws.records(run.results)} == {"Entra ID": 102, "okta": 103}

    aws.assert_clean()


def test_an_org_without_secrets_reads_no_records(aws):
    run = aws.run([verb(STORE, "read"), SHOW_RECORDS, *SHOW_KNOWN])
    assert run.rc == 0, run.output[-3000:]
    assert aws.records(run.results) == []
    assert run.calls == ["ListSecrets"]
    # The store never saw the org (as in a region where it has no secrets), and says where it looked.
    assert shown(run.results, "known") == {"scim_tokens_store_org_known": False}
    assert shown(run.results, "source") == {
        "scim_tokens_store_org_source": "aws secretsmanager resolver-scim/%s/ (us-east-1)" % aws.org}
    # The write-check marker, written by the check before the first token is issued, makes the store know it.
    assert aws.run([verb(STORE, "check")]).rc == 0
    run = aws.run([verb(STORE, "read"), SHOW_RECORDS, *SHOW_KNOWN])
    assert aws.records(run.results) == [] and shown(run.results, "known") == {"scim_tokens_store_org_known": True}
    aws.assert_clean()


def test_keys_in_variables_and_the_write_check_off(aws):
    """Credentials from role variables instead of the environment; with the write check off only reads."""
    settings = {"resolver_scim_aws_access_key": aws.access_key, "resolver_scim_aws_secret_key": aws.secret_key,
                "resolver_scim_aws_region": "us-east-1", "resolver_scim_aws_write_check": False}
    run = aws.run([verb(STORE, "check")], settings=settings,
                  env=aws.env(AWS_ACCESS_KEY_ID=None, AWS_SECRET_ACCESS_KEY=None, AWS_REGION=None))
    assert run.rc == 0, run.output[-3000:]
    assert run.calls == ["GetSecretValue"]
    aws.assert_clean()


def test_check_and_read_name_the_missing_collections(aws, tmp_path):
    for verb_name in ("check", "read"):
        run = aws.run([verb(STORE, verb_name)], collections="")
        assert run.rc != 0
        message = failure(run.results)
        assert "the amazon.aws and community.aws collections are not installed" in message
        assert "ansible-galaxy collection install amazon.aws community.aws" in message
        assert run.calls == []
    only_amazon = tmp_path / "only-amazon" / "ansible_collections" / "amazon"
    only_amazon.mkdir(parents=True)
    (only_amazon / "aws").symlink_to(pathlib.Path(aws.collections, "ansible_collections", "amazon", "aws"))
    run = aws.run([verb(STORE, "check")], collections=str(tmp_path / "only-amazon"))
    assert run.rc != 0
    assert "the community.aws collection (its secretsmanager_secret module writes the secrets) is not installed" \
        in failure(run.results)
    assert run.calls == []
    aws.assert_clean()


def test_check_names_the_missing_boto3(aws, tmp_path):
    shadow = shadow_library(str(tmp_path / "no-boto3"), "boto3", "botocore")
    run = aws.run([verb(STORE, "check")], env=dict(aws.env(), PYTHONPATH=shadow))
    assert run.rc != 0
    message = failure(run.results)
    assert "The Python libraries boto3 and botocore are missing" in message
    assert "-m pip install boto3 botocore" in message
    assert run.calls == []
    aws.assert_clean()


def test_check_proves_the_modules_python_too(aws, tmp_path):
    """The lookups run in the controller's Python; modules in the host's, here one that cannot import boto3."""
    shadow = shadow_library(str(tmp_path / "no-boto3"), "boto3", "botocore")
    python = tmp_path / "python-without-boto3"
    python.write_text('#!/bin/sh\nPYTHONPATH=%s exec %s "$@"\n' % (shadow, sys.executable))
    python.chmod(python.stat().st_mode | stat.S_IEXEC)
    run = aws.run([verb(STORE, "check")], env=dict(aws.env(), ANSIBLE_PYTHON_INTERPRETER=str(python)))
    assert run.rc != 0
    failed_tasks = [r["task"] for r in run.results if r["status"] == "failed"]
    assert failed_tasks[0] == "Write a new version of the org's write-check marker"
    assert "the Python libraries boto3 and botocore are missing or too old" in failure(run.results)
    assert run.calls == ["GetSecretValue"]
    aws.assert_clean()


def test_credentials_that_may_only_read_fail_the_check_and_the_write(aws):
    aws.access_key, aws.secret_key = aws.moto.keys["reader"]
    run = aws.run([verb(STORE, "check")])
    assert run.rc != 0
    message = failure(run.results)
    assert "AWS refused the request: the credentials' IAM policy does not allow it" in message
    assert "not authorized to perform: secretsmanager:CreateSecret" in message
    assert run.calls == ["GetSecretValue", "DescribeSecret", "CreateSecret"]
    value = token_value()
    run = aws.run([verb(STORE, "write", scim_tokens_store_items=[item("okta", value, 1)])])
    assert run.rc != 0
    assert "AWS refused the request" in failure(run.results)
    aws.assert_clean(value)


def test_unknown_or_missing_credentials_fail_check_and_read(aws):
    aws.access_key, aws.secret_key = "AKIA" + secrets.token_hex(8).upper(), secrets.token_urlsafe(30)
    aws.secrets.add(aws.secret_key)
    for verb_name in ("check", "read"):
        run = aws.run([verb(STORE, verb_name)])
        assert run.rc != 0
        assert "AWS refused the credentials" in failure(run.results)
    run = aws.run([verb(STORE, "check")],
                  env=aws.env(AWS_ACCESS_KEY_ID=None, AWS_SECRET_ACCESS_KEY=None))
    assert run.rc != 0
    assert "no AWS credentials were found" in failure(run.results)
    assert run.calls == []
    aws.assert_clean()


def test_a_region_that_does_not_answer_or_no_region_fails_the_check(aws):
    run = aws.run([verb(STORE, "check")],
                  env=aws.env(AWS_REGION="us-nowhere-1", AWS_MAX_ATTEMPTS="1"))
    assert run.rc != 0
    assert "Secrets Manager cannot be reached in this region; check resolver_scim_aws_region" in failure(run.results)
    run = aws.run([verb(STORE, "check")], env=aws.env(AWS_REGION=None))
    assert run.rc != 0
    assert "no region is set; give resolver_scim_aws_region" in failure(run.results)
    assert run.calls == []
    aws.assert_clean()


def test_a_malformed_record_fails_the_read_naming_its_location_only(aws):
    inside = token_value()
    aws.moto.client().create_secret(Name=aws.name("hand-made"), SecretString="not JSON " + inside)
    run = aws.run([verb(STORE, "read")])
    assert run.rc != 0
    message = failure(run.results)
    assert "Not a resolver.scim token record" in message
    assert "aws secretsmanager %s (us-east-1)" % aws.name("hand-made") in message
    aws.assert_clean(inside)


def test_the_role_readme_of_the_store_lists_every_variable_the_verbs_read():
    store_dir = pathlib.Path(store_servers.STORE_DIR) / STORE
    used = set()
    # Its verbs and its variables file (connection and paths).
    for path in [*store_dir.glob("*.yml"), pathlib.Path(store_servers.ROLE_DIR, "vars", "main", "store", STORE + ".yml")]:
        used |= set(re.findall(r"resolver_scim_aws_\w+", path.read_text()))
    readme = (store_dir / "README.md").read_text()
    assert sorted(v for v in used if "`%s`" % v not in readme) == []
