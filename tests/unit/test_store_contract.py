# Copyright: (c) 2026, resolver.scim contributors
# GNU General Public License v3.0+ (see LICENSES/GPL-3.0-or-later.txt or https://www.gnu.org/licenses/gpl-3.0.txt)
"""The store interface (docs/stores.md) as the role really uses it: every store's verbs read only the item fields
the role sends them, every verb the role includes exists, and every fact the role reads back is set.

What the role sends is read from its task files: each `include_tasks` of "{{ scim_tokens_store_tasks }}/<verb>.yml"
with the variables it passes, a literal list of items taken as written and an expression evaluated by the code
that builds it (module_utils' plan and store items). A verb may rely on a field that every call sends; a field only
some calls send must be read with `is defined` or `default`.
"""

import datetime
import glob
import os
import re

import pytest
import yaml

from ansible_collections.resolver.scim.plugins.module_utils import _plan, _run_outcome, _store_records, _store_migration, _token_entries
from ansible_collections.resolver.scim.plugins.module_utils.tokens import ScimToken

REPO = os.path.dirname(os.path.dirname(os.path.dirname(os.path.abspath(__file__))))
ROLE = os.path.join(REPO, "roles", "scim_tokens")
STORES = sorted(path for path in glob.glob(os.path.join(ROLE, "tasks", "store", "*")) if os.path.isdir(path)) + [
    os.path.join(REPO, "docs", "examples", "custom-store")]
# The list inputs a verb loops over; the other inputs are strings.
ITEM_INPUTS = ("scim_tokens_store_items", "scim_tokens_store_names")
# The facts the role reads back from a verb, each checked below to be read by the role.
FACTS = {"read": "scim_tokens_store_records", "value": "scim_tokens_stored_value", "lock": "scim_tokens_store_lock"}
INCLUDE = re.compile(r"\{\{\s*scim_tokens_store_tasks\s*\}\}/(\w+)\.yml")
NOW = datetime.datetime(2026, 11, 28, tzinfo=datetime.timezone.utc)


def tasks_in(node, inherited=None):
    """Every task of a task list, blocks, rescues and always sections included, with the vars it sees (its own
    and its blocks')."""
    for task in node or []:
        if not isinstance(task, dict):
            continue
        variables = dict(inherited or {}, **(task.get("vars") or {}))
        yield task, variables
        for section in ("block", "rescue", "always"):
            yield from tasks_in(task.get(section), variables)


def load(path):
    with open(path, encoding="utf-8") as handle:
        return yaml.safe_load(handle) or []


def include_target(task):
    for key in ("ansible.builtin.include_tasks", "ansible.builtin.import_tasks", "include_tasks", "import_tasks"):
        if key in task:
            target = task[key]
            return target.get("file") if isinstance(target, dict) else target
    return None


def role_calls():
    """[(verb, vars)] of every store verb the role's task files include."""
    calls = []
    for path in sorted(glob.glob(os.path.join(ROLE, "tasks", "*.yml"))):
        for task, variables in tasks_in(load(path)):
            match = INCLUDE.search(str(include_target(task) or ""))
            if match:
                calls.append((match.group(1), variables))
    return calls


def sample_plan():
    """A plan with every kind of store action: a write with a handover, a removal of a declared and of an
    undeclared token (exclusive)."""
    tokens = [ScimToken(1, "gone", 100, ["acme.com"], NOW - datetime.timedelta(days=30), NOW + datetime.timedelta(days=700)),
              ScimToken(2, "stray", 100, ["acme.com"], NOW - datetime.timedelta(days=30), NOW + datetime.timedelta(days=700))]
    entries = _token_entries.validate_entries([
        {"name": "okta", "email_domains": ["acme.com"], "handover_tasks": "/tmp/handover.yml"},
        {"name": "gone", "state": "absent"}])
    return _plan.plan_org(entries, tokens, NOW, stored={"gone": 1}, exclusive=True)


def renamed_entry_handed_over():
    """outcome's arguments after a run in which entry okta took over the target of the undeclared token gone: the
    token the target held (gone's) is revoked only now, and its record forgotten."""
    target = "handover_tasks:/tmp/handover.yml"
    before = _store_records.store_view([{"name": "gone", "token_id": 1, "status": "current", "idp_token_id": 1,
                                         "idp_target": target}], 1)
    tokens = [ScimToken(1, "gone", 100, ["acme.com"], NOW - datetime.timedelta(days=30), NOW + datetime.timedelta(days=700))]
    entries = _token_entries.validate_entries([{"name": "okta", "email_domains": ["acme.com"],
                                                "handover_tasks": "/tmp/handover.yml"}])
    plan = _plan.plan_org(entries, tokens, NOW, store=before, exclusive=True)
    after = _store_records.store_view([{"name": "okta", "token_id": 7, "status": "current", "idp_token_id": 7,
                                        "idp_target": target}], 1)
    issued = {"results": [{"item": {"name": "okta"}, "token": "value", "token_id": 7, "expires": None,
                           "email_domains": ["acme.com"]}]}
    return plan, issued, after


def produced_fields(expression):
    """The fields of the items an expression of the role's task files gives, from the code that builds them."""
    plan = sample_plan()
    issued = {"results": [{"item": {"name": "okta"}, "token": "value", "token_id": 7, "expires": None,
                           "email_domains": ["acme.com"]}]}
    if "token_store_items(" in expression:
        items = _run_outcome.store_items(plan, issued, "acme", 1)
    elif expression.strip() == "{{ scim_tokens_handover.pending_records }}":
        stored = _store_records.store_view([{"name": "okta", "token_id": 7, "status": "pending",
                                             "key": _store_records.legacy_pending_key("okta")}], 1)
        handovers = _run_outcome.handover_items(plan, issued, stored, "https://scim", "acme", 1)
        items = [record for handover in handovers for record in handover["pending_records"]]
    elif expression.strip() == "{{ scim_tokens_outcome.forget }}":
        items = _run_outcome.outcome(*renamed_entry_handed_over())["forget"]
    elif expression.strip().startswith("{{ scim_tokens_plan.actions"):
        selected = re.search(r"selectattr\('store', 'eq', '(\w+)'\)", expression).group(1)
        items = [action for action in plan["actions"] if action["store"] == selected]
    elif "scim_tokens_migrate" in expression:
        items = migrated_fields(expression)
    else:
        pytest.fail("the store test does not know what %r gives: teach produced_fields" % expression)
    assert items, "the sample plan gives no item for %r" % expression
    return [set(item) for item in items]


def migrated_fields(expression):
    """What the store_migrate entry point writes (the records it copies) and removes (those the target holds)."""
    record = {"name": "okta", "token_id": 7, "org_id": 1, "email_domains": ["acme.com"], "expires": None,
              "status": "pending", "idp_token_id": 7, "idp_target": "entra:t/sp", "idp_job_id": "job",
              "source": "file"}
    if ".held" in expression:
        return _store_migration.migration_plan([record], [dict(record, source="vault")])["held"]
    copy = _store_migration.migration_plan([record], [])["to_copy"]
    return _store_migration.migration_items(copy, [{"token_id": 7, "value": "v"}], [{"live": True, "works": True}],
                                           "acme")["items"]


def sent_fields():
    """{(verb, input): (fields every call sends, fields some call sends)}."""
    per_call = {}
    for verb, variables in role_calls():
        for name in ITEM_INPUTS:
            if name not in variables:
                continue
            value = variables[name]
            items = [set(item) for item in value] if isinstance(value, list) else produced_fields(value)
            per_call.setdefault((verb, name), []).extend(items)
    return {key: (set.intersection(*items), set.union(*items)) for key, items in per_call.items()}


def verb_tasks(store, verb):
    """The tasks of a verb's file and of the files it includes from its store (or the file store it imports)."""
    path = os.path.join(store, verb + ".yml")
    found, queue = [], [path]
    while queue:
        current = queue.pop()
        for task, _variables in tasks_in(load(current)):
            found.append(task)
            target = include_target(task)
            if target and "{{" not in target:
                queue.append(os.path.normpath(os.path.join(os.path.dirname(current), target)))
    return found


def fields_read(task, name):
    """The item fields a task reads from the input ``name``: through its loop variable when it loops over the input,
    and through attribute filters applied to the input anywhere in the task."""
    text = yaml.safe_dump(task, width=10 ** 6)
    read = set()
    if name in str(task.get("loop", "")):
        loop_var = (task.get("loop_control") or {}).get("loop_var", "item")
        read |= set(re.findall(r"\b%s\.([A-Za-z_]\w*)" % loop_var, text))
        read |= set(re.findall(r"\b%s\[['\"](\w+)['\"]\]" % loop_var, text))
    for chain in re.findall(r"\b%s((?:\s*\|\s*[\w.]+(?:\([^()]*\))?)+)" % name, text):
        read |= set(re.findall(r"(?:attribute|key_name|value_name)=['\"](\w+)['\"]", chain))
        read |= set(re.findall(r"(?:select|reject)attr\(['\"](\w+)['\"]", chain))
    return read


def guarded(task, field):
    text = yaml.safe_dump(task, width=10 ** 6)
    return re.search(r"\.%s\s+is\s+defined|\.%s\s*\|\s*default\(" % (field, field), text) is not None


def store_id(store):
    return os.path.relpath(store, REPO)


def test_the_role_sends_items_to_write_and_remove():
    sent = sent_fields()
    assert {"write", "remove"} <= {verb for verb, _name in sent}
    # Every call to remove names the record by the same fields as the plan does.
    assert sent[("remove", "scim_tokens_store_names")][0] >= {"name", "store_key"}


@pytest.mark.parametrize("store", STORES, ids=store_id)
def test_verbs_read_only_the_fields_the_role_sends(store):
    problems = []
    for (verb, name), (always, sometimes) in sorted(sent_fields().items()):
        if not os.path.isfile(os.path.join(store, verb + ".yml")):
            continue
        for task in verb_tasks(store, verb):
            for field in sorted(fields_read(task, name)):
                if field in always or (field in sometimes and guarded(task, field)):
                    continue
                problems.append("%s.yml task %r reads %s.%s, which the role %s" % (
                    verb, task.get("name"), name, field,
                    "sends only sometimes (read it with `is defined`)" if field in sometimes
                    else "never sends (it sends %s)" % ", ".join(sorted(always))))
    assert problems == []


def read_by_lookup():
    """The built-in stores the role reads by lookup instead of a read.yml (vars/main.yml)."""
    variables = load(os.path.join(ROLE, "vars", "main.yml"))
    text = variables["scim_tokens_store_on_disk"] + variables["scim_tokens_store_read_by_lookup"]
    names = set(re.findall(r"scim_tokens_store == '(\w+)'", text))
    for listed in re.findall(r"scim_tokens_store in \[([^\]]*)\]", text):
        names |= set(re.findall(r"'(\w+)'", listed))
    assert names, "vars/main.yml no longer says which stores are read by lookup"
    return names


@pytest.mark.parametrize("store", STORES, ids=store_id)
def test_the_verbs_the_role_includes_exist(store):
    included = {verb for verb, _vars in role_calls()}
    optional = {"check", "lock", "unlock"}
    if os.path.basename(store) in read_by_lookup():
        optional.add("read")
    assert included - optional, included
    missing = sorted(verb for verb in included - optional if not os.path.isfile(os.path.join(store, verb + ".yml")))
    assert missing == []
    # The store's lock is taken only with a way to release it.
    assert os.path.isfile(os.path.join(store, "lock.yml")) == os.path.isfile(os.path.join(store, "unlock.yml"))


@pytest.mark.parametrize("store", STORES, ids=store_id)
def test_every_fact_the_role_reads_back_is_set(store):
    role_text = "".join(open(path, encoding="utf-8").read()  # pylint: disable=consider-using-with
                        for path in glob.glob(os.path.join(ROLE, "tasks", "*.yml")) + [os.path.join(ROLE, "vars", "main.yml")])
    missing = []
    for verb, fact in sorted(FACTS.items()):
        assert fact in role_text, "the role no longer reads %s: update FACTS" % fact
        if not os.path.isfile(os.path.join(store, verb + ".yml")):
            continue
        tasks = verb_tasks(store, verb)
        facts = set()
        for task in tasks:
            facts |= set(task.get("ansible.builtin.set_fact") or task.get("set_fact") or {})
        # A verb that only fails says the store cannot do it (the none store keeps no value to hand over).
        refuses = all("ansible.builtin.fail" in task for task in tasks)
        if fact not in facts and not refuses:
            missing.append("%s.yml sets no %s" % (verb, fact))
    assert missing == []


def documented_fields(verb):
    """The `{...}` field list of a verb's Input column in docs/stores.md's interface table."""
    with open(os.path.join(REPO, "docs", "stores.md"), encoding="utf-8") as handle:
        for line in handle:
            if line.startswith("| `%s.yml`" % verb):
                fields = re.search(r"\{([^}]*)\}", line.split("|")[3])
                return {field.strip() for field in fields.group(1).split(",")}
    raise AssertionError("docs/stores.md has no row for %s.yml" % verb)


@pytest.mark.parametrize("verb, name", [("write", "scim_tokens_store_items"), ("remove", "scim_tokens_store_names")])
def test_the_docs_list_the_fields_every_call_sends(verb, name):
    always = sent_fields()[(verb, name)][0]
    assert documented_fields(verb) == always
