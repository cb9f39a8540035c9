# Copyright: (c) 2026, resolver.scim contributors
# GNU General Public License v3.0+ (see LICENSES/GPL-3.0-or-later.txt or https://www.gnu.org/licenses/gpl-3.0.txt)
"""Pending handover records have keys no token name can produce (issue 21.5), and the ones an earlier version left
under "<key>.pending" are read there and removed once their handover finished."""

import json

from hypothesis import given
from hypothesis import strategies as st

from ansible_collections.resolver.scim.plugins.module_utils._store_records import (
    legacy_pending_key,
    pending_key,
    pending_records_of,
    store_key,
    store_view,
)
from ansible_collections.resolver.scim.plugins.plugin_utils.file_store import read_records


@given(st.text(min_size=1, max_size=140), st.text(min_size=1, max_size=140))
def test_no_token_name_has_the_key_of_a_pending_record(name, other):
    assert store_key(other) != pending_key(name)


def test_the_old_pending_key_was_the_key_of_another_token():
    assert legacy_pending_key("X") == store_key("X.pending")


def pending(key, token_id=7):
    return {"name": "X", "token_id": token_id, "org_id": 1, "status": "pending", "key": key}


def test_a_pending_record_under_the_old_key_is_handed_over_from_there_and_both_keys_are_removed():
    found = pending_records_of("X", store_view([pending("X.pending")], 1))
    assert found == {"value_key": "X.pending", "pending_records": [{"name": "X", "store_key": "X.pending"},
                                                                   {"name": "X", "store_key": "X@pending"}]}


def test_the_record_of_a_token_named_x_pending_is_never_removed_for_x():
    view = store_view([pending("X@pending"), {"name": "X.pending", "token_id": 9, "org_id": 1, "status": "current",
                                              "key": "X.pending"}], 1)
    assert view["pending"] == {"X": 7} and view["held"] == {"X.pending": 9}
    assert pending_records_of("X", view) == {"value_key": "X@pending",
                                             "pending_records": [{"name": "X", "store_key": "X@pending"}]}


def test_copies_under_the_old_and_the_new_key_that_agree_are_one_record():
    view = store_view([pending("X.pending"), pending("X@pending")], 1)
    assert view["pending"] == {"X": 7} and view["problems"] == []
    assert pending_records_of("X", view)["value_key"] == "X@pending"
    assert store_view([pending("X.pending"), pending("X@pending", 8)], 1)["pending"] == {"X": None}


def test_a_store_whose_read_gives_no_key_keepspending_records_of_under_the_new_key():
    view = store_view([{"name": "X", "token_id": 7, "status": "pending"}], 1)
    assert pending_records_of("X", view)["pending_records"] == [{"name": "X", "store_key": "X@pending"}]


def test_the_file_store_readspending_records_of_under_both_keys(tmp_path):
    for key, record in (("X.pending", pending(None)), ("Y@pending", dict(pending(None), name="Y")),
                        ("X.pending.pending", dict(pending(None), name="X.pending", status="current"))):
        (tmp_path / (key + ".json")).write_text(json.dumps(record))
    records, problems = read_records(str(tmp_path))
    assert problems == [str(tmp_path / "X.pending.pending.json") + " holds token 'X.pending' but is not its record "
                        "(X.pending.json); it was ignored. Remove the copy."]
    assert {(r["name"], r["key"]) for r in records} == {("X", "X.pending"), ("Y", "Y@pending")}
