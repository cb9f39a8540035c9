# Copyright: (c) 2026, resolver.scim contributors
# GNU General Public License v3.0+ (see LICENSES/GPL-3.0-or-later.txt or https://www.gnu.org/licenses/gpl-3.0.txt)
"""scim_token_plan's documentation names exactly the drift kinds the code can return (issue 22)."""

import os
import re

import yaml

from ansible_collections.resolver.scim.plugins.module_utils._plan import (
    DRIFT_CATEGORIES,
    DRIFT_OF_ACTION,
    IDP_CANNOT_PROVISION,
    IDP_TARGET_CHANGED,
)
from ansible_collections.resolver.scim.plugins.modules import scim_token_plan

KINDS = set(DRIFT_CATEGORIES)
REPO = os.path.dirname(os.path.dirname(os.path.dirname(os.path.dirname(os.path.dirname(os.path.abspath(__file__))))))


def kinds_named(text):
    return set(re.findall(r"C\(([a-z_]+)\)", text)) & KINDS


def test_the_code_returns_only_its_declared_kinds():
    # Every action's drift kind, the two that no action stands for and the IdP check's two are DRIFT_CATEGORIES.
    assert set(DRIFT_OF_ACTION.values()) | {"expired", "unknown_expiry", IDP_CANNOT_PROVISION,
                                            IDP_TARGET_CHANGED} == KINDS


def test_the_description_names_every_kind():
    description = " ".join(yaml.safe_load(scim_token_plan.DOCUMENTATION)["description"])
    listed = re.search(r"drift by category \(([^;]*)", description).group(1)
    assert set(re.findall(r"C\(([a-z_]+)\)", listed)) == KINDS


def test_the_return_value_documents_every_kind_and_its_sample_has_each():
    drift = yaml.safe_load(scim_token_plan.RETURN)["drift"]
    assert kinds_named(" ".join(drift["description"])) == KINDS
    assert set(drift["sample"]) == KINDS


def test_the_role_readme_drift_check_names_every_kind():
    with open(os.path.join(REPO, "roles", "scim_tokens", "README.md"), encoding="utf-8") as handle:
        readme = handle.read()
    section = readme[readme.index("## Drift check"):]
    assert set(re.findall(r"`([a-z_]+)`", section)) >= KINDS
