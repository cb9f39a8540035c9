# Copyright: (c) 2026, resolver.scim contributors
# GNU General Public License v3.0+ (see LICENSES/GPL-3.0-or-later.txt or https://www.gnu.org/licenses/gpl-3.0.txt)
"""Each store brings its own variables (docs/stores.md, "Each store's variables"): the role's generic files never
name a store, and every store's variables file vars/main/store/<kind>.yml answers everything they ask of it. So a new
store is its folder of verbs and its variables file."""

import glob
import os
import re

import pytest
import yaml

REPO = os.path.dirname(os.path.dirname(os.path.dirname(os.path.abspath(__file__))))
ROLE = os.path.join(REPO, "roles", "scim_tokens")
# The built-in stores, and custom: a store of your own (resolver_scim_token_store_tasks).
KINDS = sorted([os.path.basename(path) for path in glob.glob(os.path.join(ROLE, "tasks", "store", "*"))
                if os.path.isdir(path)] + ["custom"])
# Filter and test arguments that are not a store's name: select('none'), rejectattr('value', 'none').
JINJA_TESTS = re.compile(r"\b(?:select|reject)(?:attr)?\([^()]*\)")
# The store setting itself, whose default (one of the choices in meta/argument_specs.yml) names a store.
STORE_SETTING = re.compile(r"^scim_tokens_store: .*$", re.MULTILINE)


def load(path):
    with open(path, encoding="utf-8") as handle:
        return yaml.safe_load(handle)


def generic_files(role):
    """The role's files that serve every store: its tasks outside tasks/store/<kind>/, vars/main/main.yml and
    defaults/main.yml. The README and meta/argument_specs.yml describe the stores to users, so they name them."""
    return sorted(glob.glob(os.path.join(role, "tasks", "*.yml"))) + [
        os.path.join(role, "vars", "main", "main.yml"), os.path.join(role, "defaults", "main.yml")]


def store_names_in(text, kinds):
    """Where a text names a store: a store's name in quotes, a comparison with the store setting, or the name of a
    secrets-manager store anywhere (also inside a variable name such as scim_tokens_hashi_vault_connection)."""
    text = JINJA_TESTS.sub("", STORE_SETTING.sub("", text))
    found = []
    for kind in kinds:
        found += re.findall(r"""['"]%s['"]""" % kind, text)
        if "_" in kind:
            found += re.findall(re.escape(kind), text)
    found += re.findall(r"scim_tokens_store\s*(?:==|!=|\bnot in\b|\bin\b)[^\n]*", text)
    return found


def named_stores(role, kinds):
    """{generic file: the store names in it}."""
    hits = {}
    for path in generic_files(role):
        with open(path, encoding="utf-8") as handle:
            found = store_names_in(handle.read(), kinds)
        if found:
            hits[os.path.relpath(path, role)] = found
    return hits


def test_the_generic_role_files_name_no_store():
    assert named_stores(ROLE, KINDS) == {}


@pytest.mark.parametrize("text", ["when: scim_tokens_store != 'none'", "{{ scim_tokens_store in ['file', 'vault'] }}",
                                  "password_file=x if store == \"vault\" else none",
                                  "module_defaults: {{ scim_tokens_hashi_vault_connection }}",
                                  "# read by read.yml (aws_secretsmanager)"])
def test_a_store_name_is_found(text):
    assert store_names_in(text, KINDS)


@pytest.mark.parametrize("text", ["{{ x | rejectattr('value', 'none') | items2dict }}",
                                  "(scim_tokens_store_tasks ~ '/lock.yml') is file",
                                  "writing to the {{ scim_tokens_store }} store failed",
                                  "scim_tokens_store: \"{{ resolver_scim_token_store | default('file') }}\""])
def test_what_is_not_a_store_name(text):
    assert store_names_in(text, KINDS) == []


def test_the_store_setting_defaults_to_a_store_the_specs_name():
    option = load(os.path.join(ROLE, "meta", "argument_specs.yml"))["argument_specs"]["main"]["options"][
        "resolver_scim_token_store"]
    assert sorted(option["choices"]) == KINDS
    with open(os.path.join(ROLE, "defaults", "main.yml"), encoding="utf-8") as handle:
        assert "default('%s')" % option["default"] in STORE_SETTING.search(handle.read()).group(0)


def answers_asked():
    """The answers vars/main/main.yml asks of the org's store: scim_tokens_<kind>_store_<answer>. The task directory is
    optional (tasks/store/<kind> by default)."""
    with open(os.path.join(ROLE, "vars", "main", "main.yml"), encoding="utf-8") as handle:
        asked = set(re.findall(r"scim_tokens_store_answer ~ '(\w+)'", handle.read()))
    assert {"read_by_lookup", "records", "knows_org", "location"} <= asked, asked
    return asked - {"tasks"}


@pytest.mark.parametrize("kind", KINDS)
def test_every_store_answers_what_the_role_asks(kind):
    variables = load(os.path.join(ROLE, "vars", "main", "store", kind + ".yml"))
    missing = sorted(answer for answer in answers_asked() if "scim_tokens_%s_store_%s" % (kind, answer) not in variables)
    assert missing == []
    # Its names carry the kind (vars/main/store/*.yml are loaded together): none may set another store's or the role's.
    prefixes = ("scim_tokens_%s_" % kind, "scim_tokens_%s_" % kind.split("_")[0])
    assert [name for name in variables if not name.startswith(prefixes)] == []
    assert isinstance(variables["scim_tokens_%s_store_read_by_lookup" % kind], bool)
