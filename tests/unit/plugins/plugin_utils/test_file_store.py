# Copyright: (c) 2026, resolver.scim contributors
# GNU General Public License v3.0+ (see LICENSES/GPL-3.0-or-later.txt or https://www.gnu.org/licenses/gpl-3.0.txt)
"""The file store read and checked on the controller: no value in any message, no path escape, no link followed."""

import json
import os

import pytest

from ansible_collections.resolver.scim.plugins.module_utils._errors import StoreError
from ansible_collections.resolver.scim.plugins.module_utils._store_records import store_key
from ansible_collections.resolver.scim.plugins.plugin_utils.file_store import (
    missing_directories,
    org_directory,
    org_known,
    read_records,
    write_problems,
)

SECRET = "scim-SECRET-value"


def write(path, data):
    with open(path, "w", encoding="utf-8") as handle:
        handle.write(data if isinstance(data, str) else json.dumps(data))


def record(name, token_id=1, org_id=12):
    return {"name": name, "token_id": token_id, "org_id": org_id, "token": SECRET}


@pytest.mark.parametrize("content", [
    {"token_id": 1, "token": SECRET},                 # no name
    json.dumps(SECRET),                               # a bare JSON string
    "{\"name\": \"okta\", \"token\": \"%s\"" % SECRET,  # broken JSON
])
def test_a_malformed_record_fails_naming_the_file_only(tmp_path, content):
    write(tmp_path / "okta.json", content)
    with pytest.raises(StoreError) as caught:
        read_records(str(tmp_path))
    assert str(tmp_path / "okta.json") in str(caught.value) and SECRET not in str(caught.value)


def test_records_are_metadata_and_a_copy_under_another_file_is_ignored(tmp_path):
    write(tmp_path / "okta.json", record("okta", 1))
    write(tmp_path / "okta-backup.json", record("okta", 2))
    records, problems = read_records(str(tmp_path))
    assert [(r["name"], r["token_id"]) for r in records] == [("okta", 1)]
    assert "token" not in records[0] and records[0]["source"] == str(tmp_path / "okta.json")
    assert len(problems) == 1 and "okta-backup.json" in problems[0] and SECRET not in problems[0]


def test_glob_characters_in_an_org_name_are_just_characters(tmp_path):
    directory = org_directory(str(tmp_path), "acme [prod]")
    os.makedirs(directory)
    write(os.path.join(directory, "okta.json"), record("okta"))
    assert [r["name"] for r in read_records(directory)[0]] == ["okta"]


@pytest.mark.parametrize("org", ["../shared", "../../x", "/etc", ".hidden", "a/b"])
def test_org_names_cannot_leave_the_store_directory(tmp_path, org):
    directory = org_directory(str(tmp_path / "store"), org)
    assert os.path.dirname(directory) == str(tmp_path / "store")


def test_long_names_fit_a_file_name_and_stay_distinct():
    long_name = "n" * 252
    assert len(store_key(long_name) + ".json") <= 255
    assert store_key(long_name) != store_key(long_name[:-1] + "m")


def test_a_symlinked_org_directory_is_refused(tmp_path):
    os.makedirs(tmp_path / "elsewhere")
    os.symlink(tmp_path / "elsewhere", tmp_path / "acme")
    with pytest.raises(StoreError, match="symbolic link"):
        read_records(str(tmp_path / "acme"))
    assert "symbolic link" in write_problems(str(tmp_path / "acme"), ["okta"], 12)[0]


def test_write_problems_before_anything_is_issued(tmp_path):
    directory = tmp_path / "acme"
    assert write_problems(str(directory), ["okta"], 12) == []        # created on write
    os.makedirs(directory)
    os.mkdir(directory / "okta.json")
    write(directory / "entra.json", record("entra", org_id=99))
    problems = write_problems(str(directory), ["okta", "entra", "new"], 12)
    assert len(problems) == 2
    assert "okta.json exists but is not a regular file" in problems[0]
    assert "belongs to org 99" in problems[1]
    write(tmp_path / "file-not-dir", "x")
    assert "is not a directory" in write_problems(str(tmp_path / "file-not-dir"), ["okta"], 12)[0]


def test_missing_directories_outermost_first(tmp_path):
    assert missing_directories(str(tmp_path / "a" / "b")) == [str(tmp_path / "a"), str(tmp_path / "a" / "b")]


def test_the_org_is_known_once_its_directory_exists(tmp_path):
    directory = tmp_path / "acme"
    assert org_known(str(directory)) is False        # a store directory never used for the org, or the wrong one
    os.makedirs(directory)
    assert org_known(str(directory)) is True         # created by the check before the first issue, even if empty
    write(tmp_path / "file-not-dir", "x")
    with pytest.raises(StoreError, match="is not a directory"):
        org_known(str(tmp_path / "file-not-dir"))
