# -*- coding: utf-8 -*-
# Copyright: (c) 2026, resolver.scim contributors
# GNU General Public License v3.0+ (see LICENSES/GPL-3.0-or-later.txt or https://www.gnu.org/licenses/gpl-3.0.txt)
"""Filters of the role's store_migrate entry point; the logic lives in module_utils/_store_migration.py
(unit-tested). Each filter is documented in the YAML file of its name next to this one."""

from ansible_collections.resolver.scim.plugins.module_utils._store_migration import migration_items, migration_plan


class FilterModule:  # pylint: disable=too-few-public-methods
    def filters(self):
        return {
            "store_migration": migration_plan,
            "store_migration_items": migration_items,
        }
