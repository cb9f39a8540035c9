# Copyright: (c) 2026, resolver.scim contributors
# GNU General Public License v3.0+ (see LICENSES/GPL-3.0-or-later.txt or https://www.gnu.org/licenses/gpl-3.0.txt)
"""Docs a new user reads in the first hour say what the code and the build do (issue 22)."""

import os
import re

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
