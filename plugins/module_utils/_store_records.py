# -*- coding: utf-8 -*-
# Copyright: (c) 2026, resolver.scim contributors
# GNU General Public License v3.0+ (see LICENSES/GPL-3.0-or-later.txt or https://www.gnu.org/licenses/gpl-3.0.txt)
"""What a token store holds, from the records its read returned (metadata, never a value), and the keys records
live under. The file store's layout (plugin_utils/file_store.py) builds on these keys."""

import hashlib
import re

# Longest store key: with ".json" it stays far below the 255 bytes every common file system allows.
MAX_STORE_KEY = 100
PENDING = "@pending"
LEGACY_PENDING = ".pending"
# How store_key ends a key it hashed.
HASHED_KEY = re.compile(r"-[0-9a-f]{8}$")


def store_key(name):
    """A file-system-safe key for a token or org name; names that needed changing get a short hash against
    collisions, and long names are shortened (the hash keeps them distinct).

    A name that already ends like a hashed key ("-" and 8 hex digits) is hashed too, so that it cannot take the
    key of another name ("okta?" is "okta_-<hash>"; a token named "okta_-<hash>" gets "okta_-<hash>-<hash>").
    """
    safe = re.sub(r"[^A-Za-z0-9._-]", "_", name).lstrip(".") or "_"
    if safe != name or len(safe) > MAX_STORE_KEY or HASHED_KEY.search(name):
        safe = safe[:MAX_STORE_KEY - 9] + "-" + hashlib.sha256(name.encode("utf-8")).hexdigest()[:8]
    return safe


def pending_key(name):
    """The key of a token's pending handover record. No token's key contains "@" (store_key keeps letters, digits,
    ".", "_" and "-"), so no token name can produce it; the ".pending" of earlier versions could ("X.pending")."""
    return store_key(name) + PENDING


def legacy_pending_key(name):
    """Where earlier versions kept the pending record: read there, and removed once its handover finished."""
    return store_key(name) + LEGACY_PENDING


def store_view(records, org_id):
    """What the store holds per name, from the records a store read returned (never a value).

    Returns {"held": {name: current token id}, "pending": {name: token id handed over but not finished},
    "idp": {name: token id the identity provider was last given}, "problems": [...]}. A record of another org (two
    hosts sharing a store key) or a second record of a name is reported and not used, so a stray copy can never
    make a run replace the token an identity provider is using.
    """
    view = {"held": {}, "pending": {}, "idp": {}, "target": {}, "job": {}, "pending_keys": {}, "problems": []}
    for (slot, name), found in sorted(_records_by_slot(records, org_id, view["problems"]).items()):
        # Copies that agree on the token are one record: a pending record under its old and its new key.
        if len({_int_or_none(record.get("token_id")) for record, _source in found}) > 1:
            view["problems"].append("%s hold token %r more than once; none of them was used. Remove the copies."
                                    % (" and ".join(source for _record, source in found), name))
            view[slot][name] = None
        else:
            _hold(view, slot, name, found)
    return view


def _records_by_slot(records, org_id, problems):
    """This org's records with a token name, as {(slot, name): [(record, source)]}: slot "pending" for a pending
    handover, "held" for the rest. Every other record is left out, and ``problems`` says why."""
    by_slot = {}
    for record in records:
        if not isinstance(record, dict) or not isinstance(record.get("name"), str):
            problems.append("a store record without a token name was ignored")
            continue
        source = record.get("source") or "the store record of %r" % record["name"]
        if org_id is not None and record.get("org_id") not in (None, org_id):
            problems.append("%s belongs to org %s, not this org (%s); it was ignored. Give each org its own "
                            "resolver_scim_org." % (source, record.get("org_id"), org_id))
            continue
        slot = "pending" if record.get("status") == "pending" else "held"
        by_slot.setdefault((slot, record["name"]), []).append((record, source))
    return by_slot


def _hold(view, slot, name, found):
    """Enter the record of a name (``found``: its copies, which agree on the token) into the view."""
    record = found[0][0]
    view[slot][name] = _int_or_none(record.get("token_id"))
    if slot == "held" and "idp_token_id" in record:
        view["idp"][name] = _int_or_none(record.get("idp_token_id"))
        view["target"][name] = record.get("idp_target") or None
        view["job"][name] = record.get("idp_job_id") or None
    if slot == "pending":
        # Where the store found them (a store whose read gives no key keeps them under the current key).
        view["pending_keys"][name] = sorted({r.get("key") or pending_key(name) for r, _source in found})


def foreign_records(records, keys, org_id):
    """Why a store must not write the records ``keys`` (token keys) for org ``org_id``: a record it holds under one
    of those keys belongs to another org (two inventories that give two orgs one host name share a path). The
    same refusal as the file store's ``write_problems``, from the records a store's read returned."""
    problems = []
    for record in records or []:
        if not isinstance(record, dict) or not isinstance(record.get("name"), str):
            continue
        owner = record.get("org_id")
        if store_key(record["name"]) in keys and owner is not None and org_id is not None and owner != org_id:
            problems.append("%s belongs to org %s, not to this org (%s): it is not overwritten. Give each org its "
                            "own resolver_scim_org." % (record.get("source") or record["name"], owner, org_id))
    return problems


def changed_records(records, items):
    """The write items (``{name, key, expected_token_id}``) whose record no longer holds the token id the run's plan
    saw (None: no record): another run, on a node that shares the store but not the lock, wrote it meanwhile. A
    store compares before it writes (docs/stores.md, "Compare and swap") and writes none of these. ``records`` is
    what the store holds now (a read's records, metadata only); an item without ``expected_token_id`` is not
    compared. Returns ``[{name, key, message}]``; a message names the token and the record, never a value."""
    by_key = {}
    for record in records or []:
        if isinstance(record, dict) and isinstance(record.get("name"), str):
            pending = record.get("status") == "pending"
            by_key[record.get("key") or (pending_key if pending else store_key)(record["name"])] = record
    changed = []
    for item in items or []:
        if "expected_token_id" not in item:
            continue
        record = by_key.get(item["key"], {})
        found = _int_or_none(record.get("token_id"))
        if found != item["expected_token_id"]:
            changed.append({"name": item["name"], "key": item["key"], "message": (
                "%s: %s holds %s, not %s as this run's plan saw: another run wrote it meanwhile, so it was not "
                "overwritten." % (item["name"], record.get("source") or "the store record %r" % item["key"],
                                  "token %s" % found if found is not None else "no token",
                                  "token %s" % item["expected_token_id"] if item["expected_token_id"] is not None
                                  else "no record"))})
    return changed


def _int_or_none(value):
    return value if isinstance(value, int) and not isinstance(value, bool) else None


def pending_records_of(name, store):
    """Where a handover reads a pending value (``value_key``) and which records it removes when it finished
    (``pending_records``, as remove.yml takes them): the pending record under its key and, read from and then
    removed, one that an earlier version left under the old key. The old key is removed only where the read found
    this token's pending record: the same key may hold the record of a token named "<name>.pending"."""
    found = store.get("pending_keys", {}).get(name) or []
    keys = sorted(set(found) | {pending_key(name)})
    legacy = [key for key in found if key == legacy_pending_key(name)]
    return {"value_key": pending_key(name) if pending_key(name) in found or not legacy else legacy[0],
            "pending_records": [{"name": name, "store_key": key} for key in keys]}
