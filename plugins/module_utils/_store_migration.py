# -*- coding: utf-8 -*-
# Copyright: (c) 2026, resolver.scim contributors
# GNU General Public License v3.0+ (see LICENSES/GPL-3.0-or-later.txt or https://www.gnu.org/licenses/gpl-3.0.txt)
"""Moving an org's token records from one store to another (the role's store_migrate entry point).

Pure decisions on what two stores' read verbs returned (metadata, never a value) and on what Resolver said of
each record's token; the role's store verbs do the reading and writing.
"""

from ansible_collections.resolver.scim.plugins.module_utils._store_records import pending_key, store_key

IDP_PREFIX = "idp_"


def record_key(record):
    """The key a record lives under: as its store read it, else the key the role writes it under."""
    if record.get("key"):
        return record["key"]
    return (pending_key if record.get("status") == "pending" else store_key)(record["name"])


def migration_plan(source, target):
    """Split the source's records: ``to_copy`` (the target has no record under the key), ``held`` (the target holds
    the same token there: copied before, so a rerun writes nothing; ``{name, store_key, token_id}``, as the remove
    verb takes them) and ``conflicts`` (the target holds another
    token there, which is never overwritten)."""
    held_by_key = dict((record_key(record), record) for record in target or [])
    plan = {"to_copy": [], "held": [], "conflicts": []}
    for record in source or []:
        there = held_by_key.get(record_key(record))
        if there is None:
            plan["to_copy"].append(dict(record, key=record_key(record)))
        elif there.get("token_id") == record.get("token_id"):
            plan["held"].append({"name": record.get("name"), "store_key": record_key(record),
                                 "token_id": record.get("token_id")})
        else:
            plan["conflicts"].append(refusal(record, "the target holds token %s under %s, which is not overwritten"
                                             % (there.get("token_id"), record_key(record))))
    return plan


def refusal(record, reason):
    """A record left where it is, named with its token and source, never a value."""
    return {"name": record.get("name"), "key": record_key(record), "token_id": record.get("token_id"),
            "source": record.get("source"), "reason": reason}


def migration_items(records, values, checks, org):
    """The write items (with values: use with no_log) of the records whose token Resolver lists as live and whose
    value works, and a refusal for each other record. ``values``: the records' ``{token_id, value}`` (as
    scim_token_info's ``check_values`` takes them) and ``checks``: its ``value_checks``, both in the order of
    ``records``."""
    items, refused = [], []
    for record, value, check in zip(records, values, checks):
        token_id = record.get("token_id")
        if not check.get("live"):
            refused.append(refusal(record, "token %s is not live in Resolver (revoked or expired), so its value is "
                                           "not copied" % token_id))
        elif not check.get("works"):
            refused.append(refusal(record, "the stored value does not authenticate at the SCIM endpoint, so it is "
                                           "not the value of live token %s; it is not copied" % token_id))
        else:
            item = dict((field, value) for field, value in record.items() if field.startswith(IDP_PREFIX))
            item.update(name=record["name"], key=record_key(record), token=value["value"],
                        token_id=token_id, email_domains=record.get("email_domains") or [],
                        expires=record.get("expires"), org=org, org_id=record.get("org_id"),
                        status=record.get("status") or "current", expected_token_id=None)
            items.append(item)
    return {"items": items, "refused": refused}
