# Copyright: (c) 2026, resolver.scim contributors
# GNU General Public License v3.0+ (see LICENSES/GPL-3.0-or-later.txt or https://www.gnu.org/licenses/gpl-3.0.txt)
"""Write an Ansible inventory with one host per emulator org (its admin API key, its SSO domain).

    python tests/emulator/org_inventory.py READY_JSON OUT_DIR [--orgs N] [--store-dir DIR]

READY_JSON is the emulator's --ready-file. The group_vars declare two tokens per org, as in the example inventory.
"""

import argparse
import json
import os
import sys

import yaml

DECLARED_TOKENS = [
    {"name": "okta", "email_domains": ["{{ scim_domain }}.com", "{{ scim_domain }}.org"]},
    {"name": "entra-id", "email_domains": ["{{ scim_domain }}-labs.com"]},
]


def org_hosts(seed, url, orgs=None):
    """Inventory hosts for the seeded orgs: name -> host vars."""
    hosts = {}
    for org in seed["orgs"][:orgs]:
        admin = next(m for m in org["members"] if m["is_admin"])
        slug = org["sso_domains"][0].split(".")[0]
        hosts["org%d-%s" % (org["id"], slug)] = {"resolver_url": url, "resolver_api_key": admin["api_key"],
                                                 "scim_domain": slug}
    return hosts


def write_inventory(out_dir, hosts, group_vars=None, python=None):
    """Write hosts.yml and group_vars/resolver_orgs.yml under out_dir; return the inventory directory."""
    os.makedirs(os.path.join(out_dir, "group_vars"), exist_ok=True)
    inventory = {"resolver_orgs": {"hosts": hosts, "vars": {
        "ansible_connection": "local", "ansible_python_interpreter": python or sys.executable}}}
    with open(os.path.join(out_dir, "hosts.yml"), "w", encoding="utf-8") as handle:
        yaml.safe_dump(inventory, handle, sort_keys=False)
    variables = {"resolver_scim_tokens": DECLARED_TOKENS}
    variables.update(group_vars or {})
    with open(os.path.join(out_dir, "group_vars", "resolver_orgs.yml"), "w", encoding="utf-8") as handle:
        yaml.safe_dump(variables, handle, sort_keys=False)
    return out_dir


def main(argv=None):
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("ready_file")
    parser.add_argument("out_dir")
    parser.add_argument("--orgs", type=int, default=None)
    parser.add_argument("--store-dir", default=None)
    args = parser.parse_args(argv)
    with open(args.ready_file, encoding="utf-8") as handle:
        ready = json.load(handle)
    group_vars = {"resolver_scim_token_store_dir": args.store_dir} if args.store_dir else {}
    write_inventory(args.out_dir, org_hosts(ready, ready["url"], args.orgs), group_vars)
    return 0


if __name__ == "__main__":
    sys.exit(main())
