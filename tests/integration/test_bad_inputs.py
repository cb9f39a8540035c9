# Copyright: (c) 2026, resolver.scim contributors
# GNU General Public License v3.0+ (see LICENSES/GPL-3.0-or-later.txt or https://www.gnu.org/licenses/gpl-3.0.txt)
"""Bad-input matrix (issue 6, item 2): every bad input fails before any mutating request, with a message that
names the option and what is accepted, and never with a traceback.

Module cases run as tasks of one real playbook; role cases run as hosts of one real converge (each host one
bad declaration), so the whole matrix costs two ansible-playbook runs. The table goes to
tests/output/reliability/bad_inputs.md.
"""

import json
import os

import org_inventory

from conftest import REPO

TOKEN = "resolver.scim.scim_token"
PRESENT = {"name": "okta", "email_domains": ["acme.com"]}
# Key-like values given where they do not belong must never be quoted back. They reach the tasks as extra vars, as
# from a vault: ansible-core itself quotes the playbook lines around a failed task.
SECRET = "rk-Misplaced0Key0Value"
SECRET_VARS = {"misplaced": SECRET, "misplaced_inner": SECRET[:8] + "\n" + SECRET[8:]}

# (case, module, arguments, connection changes (None removes an option), what the message must say)
MODULE_CASES = [
    ("domain with @", TOKEN, {"name": "okta", "email_domains": ["admin@acme.com"]}, {},
     "email_domains value 'admin@acme.com' contains '@': give the domain only, for example 'acme.com'"),
    ("domain with a scheme", TOKEN, {"name": "okta", "email_domains": ["https://acme.com"]}, {},
     "email_domains value 'https://acme.com' is not a valid domain name"),
    ("domain with a path", TOKEN, {"name": "okta", "email_domains": ["acme.com/users"]}, {},
     "email_domains value 'acme.com/users' is not a valid domain name"),
    ("domain with a space", TOKEN, {"name": "okta", "email_domains": ["acme.com acme.org"]}, {},
     "contains a space: give one domain per list item"),
    ("domain without a dot", TOKEN, {"name": "okta", "email_domains": ["acme"]}, {},
     "email_domains value (its value is not shown, in case it is a secret given to the wrong option) is not a valid "
     "domain name"),
    ("wildcard domain", TOKEN, {"name": "okta", "email_domains": ["*.acme.com"]}, {},
     "email_domains value '*.acme.com' is not a valid domain name"),
    ("domain label of 64 characters", TOKEN, {"name": "okta", "email_domains": ["a" * 64 + ".com"]}, {},
     "is not a valid domain name: use letters, digits and hyphens"),
    ("empty domain", TOKEN, {"name": "okta", "email_domains": [""]}, {},
     "email_domains contains an empty value; give domain names such as 'acme.com'"),
    ("empty domain list", TOKEN, {"name": "okta", "email_domains": []}, {},
     "email_domains must list at least one email domain"),
    ("no domains for present", TOKEN, {"name": "okta"}, {},
     "email_domains is required with state=present"),
    ("empty name", TOKEN, {"name": "", "email_domains": ["acme.com"]}, {},
     "name must be a non-empty string"),
    ("oversized name", TOKEN, {"name": "x" * 300, "email_domains": ["acme.com"]}, {},
     "name is 300 characters long; at most"),
    ("name with trailing space", TOKEN, {"name": "okta ", "email_domains": ["acme.com"]}, {},
     "has leading or trailing spaces"),
    ("negative days", TOKEN, dict(PRESENT, rotate_before_days=-1), {},
     "rotate_before_days must be a whole number of days from 0 to 729; got -1"),
    ("absurd days", TOKEN, dict(PRESENT, rotate_before_days=100000), {},
     "rotate_before_days must be a whole number of days from 0 to 729; got 100000"),
    ("unknown state", TOKEN, dict(PRESENT, state="gone"), {},
     "value of state must be one of: present, absent, rotated, got: gone"),
    ("unknown previous", TOKEN, dict(PRESENT, previous="delete"), {},
     "value of previous must be one of: revoke, keep, got: delete"),
    ("token_id with present", TOKEN, dict(PRESENT, token_id=3), {},
     "token_id is only used with state=absent"),
    ("api_key with username/password", TOKEN, PRESENT, {"username": "admin@acme.com", "password": "pw", "org_id": 1},
     "api_key cannot be combined with username/password"),
    ("no credentials", TOKEN, PRESENT, {"api_key": None},
     "No credentials: set api_key (or RESOLVER_API_KEY)"),
    ("username without org_id", TOKEN, PRESENT, {"api_key": None, "username": "admin@acme.com", "password": "pw"},
     "org_id is required with username/password"),
    ("missing url", TOKEN, PRESENT, {"url": None},
     "url is required: set the url option or the RESOLVER_URL environment variable"),
    ("url without scheme", TOKEN, PRESENT, {"url": "acme.resolver.com"},
     "url 'acme.resolver.com' is not an http(s) URL: give the scheme and host, for example https://acme.resolver.com"),
    ("ftp url", TOKEN, PRESENT, {"url": "ftp://acme.resolver.com"},
     "is not an http(s) URL"),
    ("url carrying credentials", TOKEN, PRESENT, {"url": "https://admin:pw@acme.resolver.com"},
     "url must not carry credentials; use api_key or username/password instead"),
    ("plain http to a remote host", TOKEN, PRESENT, {"url": "http://acme.resolver.com"},
     "uses plain http:// to a non-loopback host"),
    ("ca_path that does not exist", TOKEN, PRESENT, {"ca_path": "/nonexistent/ca.pem"},
     "ca_path '/nonexistent/ca.pem' does not exist or is not a file; give a PEM CA bundle"),
    ("zero timeout", TOKEN, PRESENT, {"timeout": 0},
     "timeout must be a positive number of seconds; got 0"),
    ("unknown api_key_header", TOKEN, PRESENT, {"api_key_header": "cookie"},
     "value of api_key_header must be one of: authorization, x-api-key, got: cookie"),
    ("unknown email_domains_format", TOKEN, PRESENT, {"email_domains_format": "csv"},
     "value of email_domains_format must be one of: auto, list, string, got: csv"),
    ("url and api_key swapped", TOKEN, PRESENT, {"url": "{{ misplaced }}", "api_key": "https://acme.resolver.com"},
     "api_key looks like a URL (its value is not shown): did you swap url and api_key?"),
    ("api_key given as url", TOKEN, PRESENT, {"url": "{{ misplaced }}"},
     "url is not an http(s) URL (it has no http:// or https:// scheme and host); its value is not shown"),
    ("api_key with a line break inside", TOKEN, PRESENT, {"api_key": "{{ misplaced_inner }}"},
     "api_key contains a control or invisible character (such as a line break, tab or zero-width space)"),
    ("info: url without scheme", "resolver.scim.scim_token_info", {}, {"url": "acme.resolver.com"},
     "is not an http(s) URL"),
    ("membership: api_key with password", "resolver.scim.org_membership_info", {}, {"password": "pw"},
     "api_key cannot be combined with username/password"),
    ("plan: duplicate names", "resolver.scim.scim_token_plan",
     {"tokens": [PRESENT, dict(PRESENT, email_domains=["acme.org"])]}, {},
     "tokens[1] (okta) repeats the name 'okta' of tokens[0]; each token name may be declared once"),
    ("plan: rotate an undeclared name", "resolver.scim.scim_token_plan", {"tokens": [PRESENT], "rotate": ["entra"]}, {},
     "rotate names entra, which tokens does not declare; declared: okta"),
    ("lock: negative timeout", "resolver.scim.org_lock", {"path": "/tmp/resolver-scim-bad-input.lock", "timeout": -1},
     None, "timeout must be a number of seconds, 0 or more; got -1"),
]

DECLARED = [{"name": "okta", "email_domains": ["acme.com"]}]
# (case, host vars, what the message must say)
ROLE_CASES = [
    ("duplicate names", {"resolver_scim_tokens": DECLARED + DECLARED},
     "resolver_scim_tokens[1] (okta) repeats the name 'okta' of resolver_scim_tokens[0]"),
    ("domain with @", {"resolver_scim_tokens": [{"name": "okta", "email_domains": ["admin@acme.com"]}]},
     "resolver_scim_tokens[0] (okta).email_domains value 'admin@acme.com' contains '@'"),
    ("absurd days", {"resolver_scim_tokens": [dict(DECLARED[0], rotate_before_days=900)]},
     "resolver_scim_tokens[0] (okta).rotate_before_days must be a whole number of days from 0 to 729"),
    ("no domains", {"resolver_scim_tokens": [{"name": "okta"}]},
     "resolver_scim_tokens[0] (okta).email_domains must be a list of domains, for example [acme.com]"),
    # (A string is a comma-separated list, as for every Ansible list option; a mapping is not a list.)
    ("domains as a mapping", {"resolver_scim_tokens": [{"name": "okta", "email_domains": {"acme.com": True}}]},
     "unable to convert to list"),
    ("unknown state", {"resolver_scim_tokens": [dict(DECLARED[0], state="gone")]},
     "value of state must be one of: present, absent, rotated, got: gone"),
    ("unknown key", {"resolver_scim_tokens": [dict(DECLARED[0], domains=["acme.com"])]},
     "resolver_scim_tokens.domains. Supported parameters include: email_domains, entra, handover_check_tasks, "
     "handover_tasks, name"),
    ("entry without a name", {"resolver_scim_tokens": [{"email_domains": ["acme.com"]}]},
     "missing required arguments: name found in resolver_scim_tokens"),
    ("tokens not a list", {"resolver_scim_tokens": "okta"},
     "Elements value for option 'resolver_scim_tokens' is of type str and we were unable to convert to dict"),
    ("rotate an undeclared name", {"resolver_scim_rotate": ["entra"], "resolver_scim_tokens": DECLARED},
     "rotate names entra, which resolver_scim_tokens does not declare; declared: okta"),
    ("unknown store", {"resolver_scim_token_store": "s3", "resolver_scim_tokens": DECLARED},
     "value of resolver_scim_token_store must be one of: file, vault, none, custom, hashi_vault, aws_secretsmanager, got: s3"),
    ("vault store without password file", {"resolver_scim_token_store": "vault", "resolver_scim_tokens": DECLARED},
     "resolver_scim_token_store=vault needs resolver_scim_vault_password_file"),
    ("url without scheme", {"resolver_url": "acme.resolver.com", "resolver_scim_tokens": DECLARED},
     "url 'acme.resolver.com' is not an http(s) URL"),
]


def write_report(rows):
    out = os.path.join(REPO, "tests", "output", "reliability")
    os.makedirs(out, exist_ok=True)
    lines = ["| # | where | bad input | failed before any change | message names it | traceback |",
             "|---|---|---|---|---|---|"]
    yes_no = {True: "yes", False: "NO"}
    for i, r in enumerate(rows, 1):
        cells = (i, r["where"], r["case"], yes_no[r["no_change"]], yes_no[r["named"]], "yes" if r["traceback"] else "no")
        lines.append("| %d | %s | %s | %s | %s | %s |" % cells)
    with open(os.path.join(out, "bad_inputs.md"), "w", encoding="utf-8") as handle:
        handle.write("\n".join(lines) + "\n")
    with open(os.path.join(out, "bad_inputs.json"), "w", encoding="utf-8") as handle:
        json.dump(rows, handle, indent=1)


def module_play(ansible):
    tasks = []
    for index, (_case, module, args, changes, _fragment) in enumerate(MODULE_CASES):
        task = {"name": "case %02d" % index, module: args, "ignore_errors": True}
        if changes is not None:
            connection = ansible.connection()
            connection.update(changes)
            task["module_defaults"] = {"group/resolver.scim.resolver": {
                k: v for k, v in connection.items() if v is not None}}
        tasks.append(task)
    return [{"hosts": "localhost", "gather_facts": False, "tasks": tasks}]


def test_bad_input_matrix(ansible, emulator, tmp_path):
    rows = []
    emulator.clear_log()
    rc, results, output = ansible.playbook(module_play(ansible), verbosity=3,
                                           extra_args=["-e", json.dumps(SECRET_VARS)])
    assert rc == 0, output[-3000:]  # every case is ignore_errors; the play itself must finish
    by_task = {r["task"]: r for r in results}
    # The module cases fail on their arguments: not one request reaches Resolver.
    requests = emulator.log()
    for index, (case, module, _args, _changes, fragment) in enumerate(MODULE_CASES):
        record = by_task["case %02d" % index]
        message = record["result"].get("msg", "")
        rows.append({"where": module.rsplit(".", 1)[-1], "case": case, "message": message,
                     "no_change": record["status"] == "failed" and not requests,
                     "named": fragment in message, "traceback": "Traceback" in json.dumps(record["result"])})

    hosts = {}
    for index, (_case, host_vars, _fragment) in enumerate(ROLE_CASES):
        host = dict(org_inventory.org_hosts(emulator.seed, emulator.url, 1)["org1-acme"])
        host.update(host_vars)
        hosts["case%02d" % index] = host
    inventory = org_inventory.write_inventory(str(tmp_path / "bad-role-inventory"), hosts,
                                              {"resolver_scim_token_store_dir": str(tmp_path / "store")})
    emulator.clear_log()
    rc, results, role_output = ansible.run_playbook("converge", inventory, verbosity=3)
    assert rc != 0
    mutating = emulator.mutating()
    for index, (case, _host_vars, fragment) in enumerate(ROLE_CASES):
        failures = [r for r in results if r["host"] == "case%02d" % index and r["status"] == "failed"]
        message = failures[0]["result"].get("msg", "") if failures else ""
        rows.append({"where": "role", "case": case, "message": message,
                     "no_change": bool(failures) and not mutating,
                     "named": fragment in message, "traceback": "Traceback" in json.dumps(failures)})
    write_report(rows)

    assert "Traceback" not in output + role_output
    assert SECRET[:8] not in output and SECRET[8:] not in output
    # Nothing was stored either (the vault case gets as far as the org's lock, which it releases).
    store = tmp_path / "store"
    assert not list(store.rglob("*.json")) and not list(store.glob("*.lock"))
    bad = [(r["where"], r["case"], r["message"]) for r in rows if not (r["no_change"] and r["named"]) or r["traceback"]]
    assert bad == [], "\n".join("%s / %s: %s" % row for row in bad)
