# Copyright: (c) 2026, resolver.scim contributors
# GNU General Public License v3.0+ (see LICENSES/GPL-3.0-or-later.txt or https://www.gnu.org/licenses/gpl-3.0.txt)
"""The docs quote what the code says: every quoted message exists in the code, every API path is one it uses.

Convention for quoted messages (docs/troubleshooting.md says it to readers too): in any table of docs/*.md whose
header's first cell starts with "Message", each `backticked` span of a row's first cell is a message, written as the
code writes it, with "…" (or "...") wherever the code fills something in. The literal parts must occur, in order,
within one string of the code: a Python string constant under plugins/ (adjacent literals joined, as Python joins
them) or a string in the YAML or template files under roles/.
"""

import ast
import glob
import os
import re

import pytest
import yaml

REPO = os.path.dirname(os.path.dirname(os.path.dirname(os.path.abspath(__file__))))
WILDCARD = re.compile(r"…|\.\.\.")
CORE_PATH = re.compile(r"(?<![\w.])/(?:user|object)/[A-Za-z0-9_{}%/.-]*[A-Za-z0-9_}]")


def doc_files(pattern="docs/*.md"):
    return sorted(glob.glob(os.path.join(REPO, pattern)))


def quoted_messages(path):
    """(line number, message) for every message quoted by the convention in one Markdown file."""
    found, in_message_table = [], False
    with open(path, encoding="utf-8") as handle:
        for number, line in enumerate(handle, 1):
            if not line.startswith("|"):
                in_message_table = False
                continue
            first_cell = re.split(r"(?<!\\)\|", line)[1].strip()
            if first_cell.startswith("Message"):
                in_message_table = True
            elif in_message_table and not set(first_cell) <= set("-: "):
                found += [(number, quote.replace("\\|", "|")) for quote in re.findall(r"`([^`]+)`", first_cell)]
    return found


def python_strings(path):
    with open(path, encoding="utf-8") as handle:
        tree = ast.parse(handle.read(), path)
    return [node.value for node in ast.walk(tree) if isinstance(node, ast.Constant) and isinstance(node.value, str)]


def yaml_strings(data):
    if isinstance(data, str):
        yield data
    elif isinstance(data, dict):
        for key, value in data.items():
            yield from yaml_strings(key)
            yield from yaml_strings(value)
    elif isinstance(data, list):
        for value in data:
            yield from yaml_strings(value)


def code_strings():
    strings = []
    for path in glob.glob(os.path.join(REPO, "plugins", "**", "*.py"), recursive=True):
        strings += python_strings(path)
    for path in glob.glob(os.path.join(REPO, "roles", "**", "*"), recursive=True):
        if path.endswith((".yml", ".yaml")):
            with open(path, encoding="utf-8") as handle:
                strings += list(yaml_strings(yaml.safe_load(handle)))
        elif path.endswith(".j2"):
            with open(path, encoding="utf-8") as handle:
                strings.append(handle.read())
    # "%%" is how a format string writes "%".
    return [s.replace("%%", "%") for s in strings]


CODE = code_strings()
QUOTES = [(os.path.relpath(path, REPO), number, quote)
          for path in doc_files() for number, quote in quoted_messages(path)]


def message_pattern(quote):
    literal_parts = [part for part in WILDCARD.split(quote) if part]
    return re.compile(".*?".join(re.escape(part) for part in literal_parts), re.DOTALL)


def test_the_convention_finds_the_troubleshooting_messages():
    # A guard on the parser: were the tables not recognised, the test below would pass on nothing.
    where = {path for path, _number, _quote in QUOTES}
    assert "docs/troubleshooting.md" in where
    assert len([q for q in QUOTES if q[0] == "docs/troubleshooting.md"]) >= 30


def test_message_pattern_treats_ellipsis_as_wildcard():
    pattern = message_pattern("Resolver refused … (HTTP …) for …: the credential is wrong")
    assert pattern.search("Resolver refused %s (HTTP %d) for %s: the credential is wrong, expired")
    # The stale quote of issue 16: the code names the request before its method and path.
    assert not any(message_pattern("Resolver refused GET /user/users/me (HTTP 401)").search(s) for s in CODE)


@pytest.mark.parametrize("path, number, quote", QUOTES, ids=["%s:%d" % q[:2] for q in QUOTES])
def test_quoted_message_is_in_the_code(path, number, quote):
    pattern = message_pattern(quote)
    assert any(pattern.search(s) for s in CODE), "%s:%d quotes a message the code does not have: %s" % (
        path, number, quote)


# Resolver endpoints the docs send users to but the collection never calls: creating an API key is a person's job.
USER_ONLY_PATHS = {"/user/apiKey"}


def known_core_paths():
    """Core API paths the code uses, and the ones the emulator serves (which stands for the documented API)."""
    paths = set(USER_ONLY_PATHS)
    sources = glob.glob(os.path.join(REPO, "plugins", "**", "*.py"), recursive=True)
    sources.append(os.path.join(REPO, "tests", "emulator", "resolver_emulator.py"))
    for source in sources:
        for value in python_strings(source):
            value = value.strip("^$")
            if value.startswith("/user/") and " " not in value:
                paths.add(re.sub(r"%s|%d|\(\\d\+\)", "*", value))
    return paths


def normalised(path):
    return re.sub(r"\{[^}/]+\}|%s|%d", "*", path.split("?")[0])


def test_known_core_paths_are_read_from_the_code():
    assert {"/user/users/me", "/user/org/*/user/*", "/user/scimTokens", "/user/authenticate"} <= known_core_paths()


@pytest.mark.parametrize("path", doc_files() + doc_files("README.md") + doc_files("roles/*/README.md")
                         + doc_files("plugins/*/*.py"), ids=lambda p: os.path.relpath(p, REPO))
def test_documented_api_paths_are_ones_the_code_uses(path):
    known = known_core_paths()
    with open(path, encoding="utf-8") as handle:
        mentioned = set(CORE_PATH.findall(handle.read()))
    unknown = sorted(p for p in mentioned if normalised(p) not in known
                     and normalised(p).rsplit("/", 1)[0] not in known)  # a member of a known collection: /{id}
    assert unknown == [], "%s names API paths the code does not use: %s" % (os.path.relpath(path, REPO), unknown)
