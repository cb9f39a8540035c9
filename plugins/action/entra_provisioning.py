# -*- coding: utf-8 -*-
# Copyright: (c) 2026, resolver.scim contributors
# GNU General Public License v3.0+ (see LICENSES/GPL-3.0-or-later.txt or https://www.gnu.org/licenses/gpl-3.0.txt)
"""Runs resolver.scim.entra_provisioning in the controller process when the task runs there (documented by the module)."""

from ansible_collections.resolver.scim.plugins.modules import entra_provisioning
from ansible_collections.resolver.scim.plugins.plugin_utils.in_process import ModuleInProcess


class ActionModule(ModuleInProcess):
    MODULE = entra_provisioning
