# Copyright: (c) 2026, resolver.scim contributors
# GNU General Public License v3.0+ (see LICENSES/GPL-3.0-or-later.txt or https://www.gnu.org/licenses/gpl-3.0.txt)
"""The Galaxy artifact: build, install from the tarball, and read every module's documentation from it."""

import json
import os
import subprocess
import sys
import tarfile

import pytest

ROOT = os.path.dirname(os.path.dirname(os.path.dirname(os.path.abspath(__file__))))
BIN = os.path.dirname(sys.executable)
API_MODULES = ["org_membership_info", "scim_token", "scim_token_info", "scim_token_plan"]
MODULES = API_MODULES + ["org_lock"]
# The modules that run in the controller process when their task runs there.
ACTIONS = MODULES + ["scim_token_revoke", "entra_provisioning"]


def run(*command, env=None):
    completed = subprocess.run(command, cwd=ROOT, capture_output=True, text=True, env=env, check=False, timeout=300)
    assert completed.returncode == 0, completed.stdout + completed.stderr
    return completed.stdout


@pytest.fixture(scope="module")
def installed(tmp_path_factory):
    work = tmp_path_factory.mktemp("galaxy")
    run(os.path.join(BIN, "ansible-galaxy"), "collection", "build", "--force", "--output-path", str(work), ROOT)
    tarball = next(work.glob("resolver-scim-*.tar.gz"))
    env = dict(os.environ, ANSIBLE_COLLECTIONS_PATH=str(work / "collections"))
    # Installed where Ansible is configured to look, as `make install` does: no collections path warning.
    installing = subprocess.run([os.path.join(BIN, "ansible-galaxy"), "collection", "install", "--force", "-p",
                                 str(work / "collections"), str(tarball)], env=env, capture_output=True, text=True,
                                check=False, timeout=300)
    assert installing.returncode == 0 and "WARNING" not in installing.stderr, installing.stdout + installing.stderr
    return tarball, env


def test_tarball_has_the_collection_and_no_dev_files(installed):
    tarball = installed[0]
    with tarfile.open(tarball) as archive:
        names = archive.getnames()
    assert "meta/runtime.yml" in names and "plugins/module_utils/_client.py" in names
    for module in ACTIONS:
        assert "plugins/modules/%s.py" % module in names and "plugins/action/%s.py" % module in names
    assert "plugins/plugin_utils/in_process.py" in names
    for playbook in ("converge", "drift_check", "rotate"):
        assert "playbooks/%s.yml" % playbook in names
    assert "roles/scim_tokens/meta/argument_specs.yml" in names and "roles/scim_tokens/README.md" in names
    assert not [n for n in names if n.startswith((".venv", ".tmp", "collections/", "tests/output", ".git/"))]


@pytest.mark.parametrize("module", MODULES)
def test_ansible_doc_from_the_installed_tarball(installed, module):
    env = installed[1]
    doc = json.loads(run(os.path.join(BIN, "ansible-doc"), "--json", "resolver.scim." + module, env=env))
    entry = doc["resolver.scim." + module]
    assert entry["doc"]["collection"] == "resolver.scim" and entry["doc"]["version_added"]
    assert entry["examples"].strip() and entry["return"]
    assert all(option.get("description") for option in entry["doc"]["options"].values())
    text = run(os.path.join(BIN, "ansible-doc"), "resolver.scim." + module, env=env)
    if module in API_MODULES:
        assert "api_key" in entry["doc"]["options"]
        assert entry["doc"]["attributes"]["action_group"]["membership"] == ["resolver.scim.resolver"]
        assert "RESOLVER_URL" in text
    else:
        # The lock talks to no API: no connection options, not in the action group.
        assert "api_key" not in entry["doc"]["options"] and "action_group" not in entry["doc"]["attributes"]
        assert {"path", "wait", "timeout", "stale_after"} <= set(entry["doc"]["options"])


def test_entra_module_documentation_from_the_installed_tarball(installed):
    """entra_provisioning has the Entra connection options and its own action group."""
    env = installed[1]
    doc = json.loads(run(os.path.join(BIN, "ansible-doc"), "--json", "resolver.scim.entra_provisioning", env=env))
    entry = doc["resolver.scim.entra_provisioning"]
    options = entry["doc"]["options"]
    assert {"tenant_id", "client_id", "client_secret", "authority_url", "graph_url", "service_principal_id",
            "secret_token", "tenant_url"} <= set(options) and "api_key" not in options
    assert entry["doc"]["attributes"]["action_group"]["membership"] == ["resolver.scim.entra"]
    assert entry["examples"].strip() and entry["return"]
    text = run(os.path.join(BIN, "ansible-doc"), "resolver.scim.entra_provisioning", env=env)
    assert "AZURE_TENANT" in text and "Synchronization.ReadWrite.All" in text


# One module in make test; the others in make exhaustive (make packaging lints every module's docs too).
@pytest.mark.parametrize("module", [m if m == "scim_token_plan" else pytest.param(m, marks=pytest.mark.exhaustive)
                                    for m in ACTIONS])
def test_every_action_plugin_is_documented_by_its_module(installed, module):
    doc = json.loads(run(os.path.join(BIN, "ansible-doc"), "--json", "resolver.scim." + module, env=installed[1]))
    assert doc["resolver.scim." + module]["doc"]["has_action"] is True


@pytest.mark.parametrize("entry_point", ["main", "drift_check"])
def test_role_documentation_from_the_installed_tarball(installed, entry_point):
    env = installed[1]
    doc = json.loads(run(os.path.join(BIN, "ansible-doc"), "-t", "role", "--json", "-e", entry_point,
                         "resolver.scim.scim_tokens", env=env))
    options = doc["resolver.scim.scim_tokens"]["entry_points"][entry_point]["options"]
    assert options["resolver_scim_tokens"]["required"] is True
    assert all(option.get("description") for option in options.values())
    assert options["resolver_scim_token_store"]["choices"] == ["file", "vault", "none", "custom", "hashi_vault",
                                                               "aws_secretsmanager"]
