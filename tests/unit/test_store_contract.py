# Copyright: (c) 2026, resolver.scim contributors
# GNU General Public License v3.0+ (see LICENSES/GPL-3.0-or-later.txt or https://www.gnu.org/licenses/gpl-3.0.txt)
"""The store interface as the role really uses it. The contract is the verb table in docs/stores.md ("The store
interface"), read here: every built-in store and docs/examples/custom-store has the required verbs, its verbs read
only the item fields the role sends them, and each verb sets the facts it must set. The table's item fields are
what the role sends.

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
from ansible_collections.resolver.scim.plugins.module_utils._tokens import ScimToken

REPO = os.path.dirname(os.path.dirname(os.path.dirname(os.path.abspath(__file__))))
ROLE = os.path.join(REPO, "roles", "scim_tokens")
STORES = sorted(path for path in glob.glob(os.path.join(ROLE, "tasks", "store", "*")) if os.path.isdir(path)) + [
    os.path.join(REPO, "docs", "examples", "custom-store")]
DOC = os.path.join(REPO, "docs", "stores.md")
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


def backticked(text):
    return re.findall(r"`([^`]+)`", text)


def contract():
    """{verb: row} of the verb table in docs/stores.md: required (its Required cell), receives (the variables),
    fields and fields_sometimes (of each item, the second after "when recorded:"), must_set (the facts before
    "may set")."""
    with open(DOC, encoding="utf-8") as handle:
        text = handle.read()
    section = text.split("## The store interface", 1)[1].split("\n## ", 1)[0]
    rows = {}
    for line in section.splitlines():
        cells = [cell.strip() for cell in line.strip().strip("|").split("|")]
        if len(cells) != 6 or not re.match(r"`\w+\.yml`$", cells[0]):
            continue
        always, _sep, sometimes = cells[4].partition("when recorded:")
        rows[cells[0].strip("`")[:-len(".yml")]] = {
            "required": cells[1], "receives": [name for name in backticked(cells[3]) if name.startswith("scim_tokens_")],
            "fields": set(backticked(always)), "fields_sometimes": set(backticked(sometimes)),
            "must_set": backticked(cells[5].split("may set")[0])}
    assert rows, "docs/stores.md has no verb table under \"The store interface\""
    return rows


def item_inputs():
    """{list input a verb loops over: verb}: the variable a row receives whose items have fields."""
    return {row["receives"][0]: verb for verb, row in contract().items() if row["fields"]}


def sent_fields():
    """{(verb, input): (fields every call sends, fields some call sends)}."""
    per_call = {}
    for verb, variables in role_calls():
        for name in item_inputs():
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
    for (verb, name), (always, _sometimes) in sorted(sent_fields().items()):
        if not os.path.isfile(os.path.join(store, verb + ".yml")):
            continue
        sometimes = contract()[verb]["fields_sometimes"]
        for task in verb_tasks(store, verb):
            for field in sorted(fields_read(task, name)):
                if field in always or (field in sometimes and guarded(task, field)):
                    continue
                problems.append("%s.yml task %r reads %s.%s, which the role %s" % (
                    verb, task.get("name"), name, field,
                    "sends only sometimes (read it with `is defined`)" if field in sometimes
                    else "does not always send (it sends %s)" % ", ".join(sorted(always))))
    assert problems == []


def store_kind(store):
    """The store's kind: a built-in store's directory name, and custom for the example of a store of your own."""
    return "custom" if store.startswith(os.path.join(REPO, "docs")) else os.path.basename(store)


def read_by_lookup(kind):
    """Whether the store's variables (vars/main/store/<kind>.yml) say its records come without a read.yml."""
    variables = load(os.path.join(ROLE, "vars", "main", "store", kind + ".yml"))
    return variables["scim_tokens_%s_store_read_by_lookup" % kind] is True


def test_the_table_has_every_verb_the_role_includes():
    assert {verb for verb, _vars in role_calls()} == set(contract())


@pytest.mark.parametrize("store", STORES, ids=store_id)
def test_the_required_verbs_exist(store):
    required = {verb for verb, row in contract().items() if row["required"].startswith("required")}
    assert {"read", "write", "remove"} <= required, required
    if read_by_lookup(store_kind(store)):
        required.discard("read")
    missing = sorted(verb for verb in required if not os.path.isfile(os.path.join(store, verb + ".yml")))
    assert missing == []
    # The store's lock is taken only with a way to release it.
    assert os.path.isfile(os.path.join(store, "lock.yml")) == os.path.isfile(os.path.join(store, "unlock.yml"))


def facts_set(store, verb):
    """The facts a verb's tasks set, or None when it only fails (a store that cannot do it says so: the none store
    keeps no value to hand over)."""
    tasks = verb_tasks(store, verb)
    if all("ansible.builtin.fail" in task for task in tasks):
        return None
    return {fact for task in tasks for fact in task.get("ansible.builtin.set_fact") or task.get("set_fact") or {}}


@pytest.mark.parametrize("store", STORES, ids=store_id)
def test_every_verb_sets_the_facts_it_must_set(store):
    role_text = "".join(open(path, encoding="utf-8").read()  # pylint: disable=consider-using-with
                        for path in glob.glob(os.path.join(ROLE, "tasks", "*.yml")) + [os.path.join(ROLE, "vars", "main", "main.yml")]
                        + glob.glob(os.path.join(ROLE, "vars", "main", "store", "*.yml")))
    missing = []
    for verb, row in sorted(contract().items()):
        for fact in row["must_set"]:
            assert fact in role_text, "the role never reads %s, which docs/stores.md says %s.yml must set" % (fact, verb)
            if not os.path.isfile(os.path.join(store, verb + ".yml")):
                continue
            facts = facts_set(store, verb)
            if facts is not None and fact not in facts:
                missing.append("%s.yml sets no %s" % (verb, fact))
    assert missing == []


def test_the_table_lists_the_fields_the_role_sends():
    sent = sent_fields()
    for name, verb in item_inputs().items():
        always, sometimes = sent[(verb, name)]
        row = contract()[verb]
        # Every call sends the fields of the table; some calls send more (a remove of plan actions), of which a
        # verb may read only those the table names, with `is defined`.
        assert row["fields"] == always, verb
        assert row["fields_sometimes"] <= sometimes - always, verb


def facts_the_role_sets():
    """Every fact a task of the role sets, the store verbs' included."""
    paths = glob.glob(os.path.join(ROLE, "tasks", "*.yml")) + glob.glob(os.path.join(ROLE, "tasks", "store", "*", "*.yml"))
    return {fact for path in paths for task, _variables in tasks_in(load(path))
            for fact in task.get("ansible.builtin.set_fact") or {}}


def test_every_include_of_a_verb_passes_what_the_table_says_it_receives():
    """Each variable a verb receives comes with the include, or is the role's own (a role variable or a fact)."""
    role_own = (set(load(os.path.join(ROLE, "vars", "main", "main.yml"))) | set(load(os.path.join(ROLE, "defaults", "main.yml")))
                | facts_the_role_sets())
    missing = sorted({(verb, name) for verb, variables in role_calls() for name in contract()[verb]["receives"]
                      if name not in variables and name not in role_own})
    assert missing == []
