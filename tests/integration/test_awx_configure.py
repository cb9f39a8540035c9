# Copyright: (c) 2026, resolver.scim contributors
# GNU General Public License v3.0+ (see LICENSES/GPL-3.0-or-later.txt or https://www.gnu.org/licenses/gpl-3.0.txt)
"""playbooks/awx_configure.yml run for real against a stand-in awx.awx that records what it was asked to create.

There is no AWX controller here; the stand-in's modules take any arguments and append them to a file, so the
playbook's own logic is what is tested: one credential per org, each org's templates limited to it and given only
its credential, and settings that would put two orgs on one credential refused before anything is created.
"""

import json
import os

import pytest
import yaml

from conftest import REPO

AWX_MODULES = ("credential_type", "credential", "project", "inventory", "inventory_source", "job_template", "schedule")
RECORDING_MODULE = '''#!/usr/bin/python
import json, os
from ansible.module_utils.basic import _load_params
with open(os.environ["AWX_STAND_IN_LOG"], "a") as handle:
    handle.write(json.dumps({"module": "%s", "args": _load_params()}) + "\\n")
print(json.dumps({"changed": True}))
raise SystemExit(0)
'''
KEYS = {"acme-prod": "rk-prod-secret-0001", "acme-staging": "rk-staging-secret-0002"}


@pytest.fixture
def awx(ansible, tmp_path):
    """Run awx_configure.yml with the given settings; return (rc, output, the calls the stand-in recorded)."""
    modules = tmp_path / "stand-in" / "ansible_collections" / "awx" / "awx" / "plugins" / "modules"
    modules.mkdir(parents=True)
    for name in AWX_MODULES:
        (modules / (name + ".py")).write_text(RECORDING_MODULE % name)
    log = tmp_path / "awx-calls.jsonl"

    def configure(settings):
        (tmp_path / "awx.yml").write_text(yaml.safe_dump(settings))
        env = {"AWX_STAND_IN_LOG": str(log), "ANSIBLE_COLLECTIONS_PATH": os.pathsep.join(
            [str(tmp_path / "stand-in"), os.environ.get("ANSIBLE_COLLECTIONS_PATH", "")])}
        rc, _results, output = ansible.playbook(os.path.join(REPO, "playbooks", "awx_configure.yml"), verbosity=3,
                                                env=env, extra_args=["-e", "@%s" % (tmp_path / "awx.yml")])
        calls = [json.loads(line) for line in log.read_text().splitlines()] if log.exists() else []
        return rc, output, calls

    return configure


def settings(*orgs):
    return {"resolver_awx_project_url": "https://git.example.com/orgs.git", "resolver_awx_store_dir": "/srv/scim",
            "resolver_awx_orgs": list(orgs)}


def org(host, **inputs):
    return {"host": host, "credential_inputs": dict({"url": "https://acme.resolver.com", "api_key": KEYS[host]},
                                                    **inputs)}


def test_each_org_gets_its_own_credential_and_templates_limited_to_it(awx):
    rc, output, calls = awx(settings(org("acme-prod"), org("acme-staging")))
    assert rc == 0, output[-3000:]
    credentials = {c["args"]["name"]: c["args"]["inputs"]["api_key"] for c in calls if c["module"] == "credential"}
    assert credentials == {"Resolver SCIM API acme-prod": KEYS["acme-prod"],
                           "Resolver SCIM API acme-staging": KEYS["acme-staging"]}
    templates = {c["args"]["name"]: c["args"] for c in calls if c["module"] == "job_template"}
    assert sorted(templates) == sorted("Resolver SCIM %s %s" % (host, kind) for host in KEYS
                                       for kind in ("converge", "drift check", "rotate"))
    for name, template in templates.items():
        host = name.split()[2]
        assert template["limit"] == host and template["credentials"] == ["Resolver SCIM API %s" % host]
        assert template["ask_limit_on_launch"] is False and template["allow_simultaneous"] is False
        assert template["extra_vars"]["resolver_scim_token_store_dir"] == "/srv/scim"
    # The drift check runs in check mode and asks for variables, so a launch can give drift_report=PATH.
    drift = templates["Resolver SCIM acme-prod drift check"]
    assert drift["job_type"] == "check" and drift["ask_variables_on_launch"] is True
    assert templates["Resolver SCIM acme-prod converge"]["ask_variables_on_launch"] is False
    schedules = sorted((c["args"]["unified_job_template"], c["args"]["rrule"].split()[1])
                       for c in calls if c["module"] == "schedule")
    assert schedules == [("Resolver SCIM acme-prod converge", "RRULE:FREQ=WEEKLY;INTERVAL=1;BYDAY=MO"),
                         ("Resolver SCIM acme-prod drift check", "RRULE:FREQ=DAILY;INTERVAL=1"),
                         ("Resolver SCIM acme-staging converge", "RRULE:FREQ=WEEKLY;INTERVAL=1;BYDAY=MO"),
                         ("Resolver SCIM acme-staging drift check", "RRULE:FREQ=DAILY;INTERVAL=1")]
    assert not [key for key in KEYS.values() if key in output], "an API key reached the -vvv output"


@pytest.mark.parametrize("orgs", [
    pytest.param([org("acme-prod"), org("acme-prod")], id="one org twice"),
    pytest.param([{"host": "acme-prod", "credential_inputs": {"api_key": KEYS["acme-prod"]}}], id="no url"),
    pytest.param([{"credential_inputs": {"url": "https://acme.resolver.com"}}], id="no host"),
    pytest.param([], id="no org"),
])
def test_settings_that_cannot_give_each_org_its_credential_are_refused_first(awx, orgs):
    rc, output, calls = awx(settings(*orgs))
    assert rc != 0 and calls == []
    assert "resolver_awx_orgs, a list with one entry per org" in " ".join(output.split())
    assert not [key for key in KEYS.values() if key in output]
