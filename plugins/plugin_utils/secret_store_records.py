# -*- coding: utf-8 -*-
# Copyright: (c) 2026, resolver.scim contributors
# GNU General Public License v3.0+ (see LICENSES/GPL-3.0-or-later.txt or https://www.gnu.org/licenses/gpl-3.0.txt)
"""The token records of a secrets-manager store (hashi_vault, aws_secretsmanager), from what its lookup returned.

A record is the secret's metadata, never its value. A secret this role did not write is refused by its location
only: a store that AWX prints into a job log must not leak what it holds.
"""

import json

from ansible.errors import AnsibleFilterError

NOT_A_RECORD = "Not a resolver.scim token record"
RECORD_STATUSES = ("current", "pending")


def store_records(secrets, location, fix_in, prefix="", skip=(), json_text=False):
    """The records of ``secrets`` ({secret name: secret}), in name order.

    Only names directly under ``prefix`` are the org's, less the store's own ones (names in ``skip``); the key is
    the name without ``prefix``. ``location`` says where a record lives, with ``{key}`` for its key.
    """
    keys = sorted(_org_keys(secrets, prefix, skip))
    records = [_record(_secret_data(secrets[prefix + key], json_text), key, location) for key in keys]
    malformed = [record["source"] for record in records if not _valid(record)]
    if malformed:
        raise AnsibleFilterError(_refusal(malformed, fix_in, json_text))
    return records


def _org_keys(secrets, prefix, skip):
    # Secrets Manager's name filter matches prefixes case-insensitively: only the org's own names count.
    return [name[len(prefix):] for name in secrets
            if name.startswith(prefix) and "/" not in name[len(prefix):] and name not in skip]


def _secret_data(secret, json_text):
    """The fields a secret holds ({} for anything but a mapping); JSON text when ``json_text``."""
    if json_text and isinstance(secret, str):
        try:
            secret = json.loads(secret)
        except ValueError:
            return {}
    return secret if isinstance(secret, dict) else {}


def _record(data, key, location):
    record = {"name": data.get("name"), "token_id": data.get("token_id"), "org_id": data.get("org_id"),
              "email_domains": data.get("email_domains", []), "expires": data.get("expires"),
              "status": data.get("status", "current"), "source": location.replace("{key}", key), "key": key}
    record.update((field, value) for field, value in data.items() if isinstance(field, str) and field.startswith("idp_"))
    return record


def _valid(record):
    return (isinstance(record["name"], str) and record["name"] != "" and record["token_id"] is not None
            and record["status"] in RECORD_STATUSES and isinstance(record["email_domains"], list))


def _refusal(malformed, fix_in, json_text):
    return ("%s (needs %sname, token_id, email_domains as a list and status current or pending): %s. Fix or "
            "remove it in %s." % (NOT_A_RECORD, "JSON with " if json_text else "", ", ".join(malformed), fix_in))
