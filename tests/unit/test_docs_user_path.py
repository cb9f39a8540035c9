# Copyright: (c) 2026, resolver.scim contributors
# GNU General Public License v3.0+ (see LICENSES/GPL-3.0-or-later.txt or https://www.gnu.org/licenses/gpl-3.0.txt)
"""Docs a new user reads in the first hour say what the code and the build do (issue 22)."""

import os
import re
import subprocess
import sys

from test_docs import quoted_messages

REPO = os.path.dirname(os.path.dirname(os.path.dirname(os.path.abspath(__file__))))


def read(*path):
    with open(os.path.join(REPO, *path), encoding="utf-8") as handle:
        return handle.read()


def make_variable(name):
    return re.search(r"^%s\s*:=\s*(\S+)" % name, read("Makefile"), re.M).group(1)


def test_stores_doc_gives_the_offline_install_next_to_galaxy_with_the_tested_versions():
    stores = read("docs", "stores.md")
    galaxy = stores.index("ansible-galaxy collection install -r extensions/stores/requirements.yml")
    offline = stores.index("**Without Galaxy**")
    # In the install steps, before the store interface, not only under Development.
    assert galaxy < offline < stores.index("## The store interface")
    version = make_variable("STORE_ANSIBLE_VERSION")
    section = stores[offline:stores.index("## The store interface")]
    fetch = re.search(r"hacking/fetch-collections\.sh \S+ \S+ (\S+) (.+)", section)
    assert fetch and fetch.group(1) == version
    assert fetch.group(2).split() == ["community.hashi_vault", "amazon.aws", "community.aws"]
    assert "ansible==%s" % version in section and "ansible-%s-py3-none-any.whl" % version in section


STORE_DIR = os.path.join(REPO, "roles", "scim_tokens", "tasks", "store")
BUILT_IN_STORES = sorted(os.listdir(STORE_DIR))


def store_names(text):
    return sorted(set(re.findall(r"[a-z_]+", text)) & set(BUILT_IN_STORES + ["custom"]))


def test_role_readme_lists_every_store():
    readme = read("roles", "scim_tokens", "README.md")
    every = sorted(BUILT_IN_STORES + ["custom"])
    example = re.search(r"^resolver_scim_token_store: file\s+# (.*)$", readme, re.M).group(1)
    assert store_names(example) == every
    row = re.search(r"^\| `resolver_scim_token_store` \| `file` \| (.*)$", readme, re.M).group(1)
    assert store_names(row) == every


def test_role_readme_names_the_stores_with_value_yml():
    readme = " ".join(read("roles", "scim_tokens", "README.md").split())
    sentence = re.search(r"also needs `value\.yml`[^.]*\.", readme).group(0)
    with_value = sorted(s for s in BUILT_IN_STORES if os.path.exists(os.path.join(STORE_DIR, s, "value.yml")))
    assert store_names(sentence.split("which", 1)[1]) == sorted(with_value + (["custom"] if "custom" in sentence else []))


def test_role_readme_leaves_the_custom_store_record_to_docs_stores():
    readme = read("roles", "scim_tokens", "README.md")
    custom = readme[readme.index("- **A store of your own**"):readme.index("## Crash safety")]
    assert "docs/stores.md#the-store-interface" in custom
    # The record's fields are defined once, in docs/stores.md; a second list here went out of date before.
    assert "scim_tokens_store_records" not in custom and "token_id" not in custom


def test_emulator_help_lists_every_control_route():
    emulator = os.path.join(REPO, "tests", "emulator")
    routes = set()
    for name in ("resolver_emulator.py", "graph_emulator.py"):
        routes |= set(re.findall(r"/_emulator/[a-z_]+", read("tests", "emulator", name).split('"""', 2)[2]))
    assert "/_emulator/age_tokens" in routes
    completed = subprocess.run([sys.executable, os.path.join(emulator, "resolver_emulator.py"), "--help"],
                               capture_output=True, text=True, timeout=60, check=True)
    assert sorted(r for r in routes if r not in completed.stdout) == []


def test_development_doc_tells_the_clock_from_token_ageing():
    development = " ".join(read("docs", "development.md").split())
    assert "resolver_emulator.py --help" in development
    ageing = development[development.index("**Clock or ageing?**"):]
    assert "/_emulator/clock" in ageing and "/_emulator/age_tokens" in ageing


def test_troubleshooting_has_the_entra_messages_under_the_quoted_message_check():
    path = os.path.join(REPO, "docs", "troubleshooting.md")
    lines = read("docs", "troubleshooting.md").splitlines()
    start = lines.index("## From Entra ID and Microsoft Graph (handovers)") + 1
    end = next(n for n in range(start, len(lines)) if lines[n].startswith("## "))
    # test_docs.py checks every message that its convention finds: the section's must be among them.
    quoted = [quote for number, quote in quoted_messages(path) if start < number <= end]
    assert len(quoted) >= 15
    assert "troubleshooting.md#from-entra-id-and-microsoft-graph-handovers" in read("docs", "entra-id.md")
