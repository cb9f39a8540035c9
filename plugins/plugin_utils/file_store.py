# -*- coding: utf-8 -*-
# Copyright: (c) 2026, resolver.scim contributors
# GNU General Public License v3.0+ (see LICENSES/GPL-3.0-or-later.txt or https://www.gnu.org/licenses/gpl-3.0.txt)
"""The file (and ansible-vault) token store's directory layout, read and checked on the controller.

One directory per org (``<store dir>/<org key>``), one JSON record per token name (``<token key>.json``), keys
made safe by ``_store_records.store_key``. Reading returns metadata only, never a value, and a problem message names a
file, never its content: a store that AWX prints into a job log must not leak what it holds.
"""

import json
import os
import stat

from ansible_collections.resolver.scim.plugins.module_utils._errors import StoreError
from ansible_collections.resolver.scim.plugins.module_utils._store_records import legacy_pending_key, pending_key, store_key

RECORD_FIELDS = ("name", "token_id", "org_id", "org", "email_domains", "expires", "status", "idp_token_id", "idp_target",
                 "idp_job_id")
# Fields a record has only once a handover finished (which token the identity provider holds, and where).
IDP_FIELDS = ("idp_token_id", "idp_target", "idp_job_id")


def org_directory(store_dir, org):
    """The org's directory: the store dir (``~`` expanded) and the org's safe key."""
    return os.path.join(os.path.expanduser(store_dir), store_key(org))


def _kind(path):
    """'missing', 'dir', 'file', 'link' or 'other', without following a symlink."""
    try:
        mode = os.lstat(path).st_mode
    except FileNotFoundError:
        return "missing"
    if stat.S_ISLNK(mode):
        return "link"
    if stat.S_ISDIR(mode):
        return "dir"
    return "file" if stat.S_ISREG(mode) else "other"


def _check_directory(directory):
    kind = _kind(directory)
    if kind == "link":
        raise StoreError("%s is a symbolic link; the token store does not follow links. Replace it with a "
                         "directory." % directory)
    if kind not in ("missing", "dir"):
        raise StoreError("%s should be the org's store directory but is not a directory; move it away." % directory)
    return kind == "dir"


def _load(path):
    try:
        with open(path, encoding="utf-8") as handle:
            data = json.load(handle)
    except (OSError, UnicodeDecodeError) as exc:
        raise StoreError("%s cannot be read (%s); fix its permissions or remove it."
                         % (path, getattr(exc, "strerror", None) or type(exc).__name__))
    except ValueError as exc:
        raise StoreError("%s is not valid JSON (%s at line %s); fix or remove it."
                         % (path, getattr(exc, "msg", "parse error"), getattr(exc, "lineno", "?")))
    token_id = data.get("token_id") if isinstance(data, dict) else None
    if not isinstance(data, dict) or not isinstance(data.get("name"), str) or not isinstance(token_id, int) \
            or isinstance(token_id, bool):
        raise StoreError("%s is not a token record (it needs a name and an integer token_id); fix or remove it."
                         % path)
    return data


def org_known(directory):
    """Whether the store was used for the org: its directory exists (created before the first token is issued)."""
    return _check_directory(directory)


def read_records(directory):
    """The org's token records as metadata (no values), each with its ``source`` path, and problems found.

    A record whose file name is not its name's key (a backup copy, a renamed file) is reported and not used,
    so the file that counts never depends on directory order.
    """
    if not _check_directory(directory):
        return [], []
    records, problems = [], []
    for entry in sorted(os.listdir(directory)):
        if not entry.endswith(".json"):
            continue
        path = os.path.join(directory, entry)
        if _kind(path) != "file":
            problems.append("%s is not a regular file; it was ignored." % path)
            continue
        data = _load(path)
        name = data["name"]
        # A pending record of an earlier version is read under its old key until its handover removes it.
        keys = [pending_key(name), legacy_pending_key(name)] if data.get("status") == "pending" else [store_key(name)]
        if entry[:-len(".json")] not in keys:
            problems.append("%s holds token %r but is not its record (%s.json); it was ignored. Remove the copy."
                            % (path, name, keys[0]))
            continue
        record = dict((field, data.get(field)) for field in RECORD_FIELDS if field in data or field not in IDP_FIELDS)
        record.update(source=path, key=entry[:-len(".json")])
        records.append(record)
    return records, problems


def read_value(directory, key):
    """The stored value of one record (for a step that must hand it over); errors name the file only."""
    path = os.path.join(directory, key + ".json")
    if _kind(path) != "file":
        raise StoreError("%s does not exist or is not a regular file, so its token cannot be handed over." % path)
    value = _load(path).get("token")
    if not isinstance(value, str) or not value:
        raise StoreError("%s holds no token value." % path)
    return value


def write_problems(directory, keys, org_id):
    """Why the store could not take new records for ``keys`` (token keys) of org ``org_id``: checked before a
    token is issued, so that a store that cannot be written never costs a live token whose value is lost."""
    problems = []
    try:
        exists = _check_directory(directory)
    except StoreError as exc:
        return [str(exc)]
    existing = directory
    while not os.path.isdir(existing):
        existing = os.path.dirname(existing) or "."
    if not os.access(existing, os.W_OK | os.X_OK):
        problems.append("%s is not writable for this user (uid %d)." % (existing, os.getuid()))
    if not exists:
        return problems
    for key in keys:
        path = os.path.join(directory, key + ".json")
        kind = _kind(path)
        if kind == "missing":
            continue
        if kind != "file":
            problems.append("%s exists but is not a regular file, so the new record cannot replace it." % path)
            continue
        try:
            owner = _load(path).get("org_id")
        except StoreError as exc:
            problems.append(str(exc))
            continue
        if owner is not None and org_id is not None and owner != org_id:
            problems.append("%s belongs to org %s, not to this org (%s): it is not overwritten. Give each org its "
                            "own resolver_scim_org." % (path, owner, org_id))
    return problems


def missing_directories(directory):
    """The directories to create, outermost first, so that each gets mode 0700 whatever the umask."""
    missing = []
    current = os.path.abspath(directory)
    while _kind(current) == "missing":
        missing.append(current)
        parent = os.path.dirname(current)
        if parent == current:
            break
        current = parent
    return list(reversed(missing))
