# -*- coding: utf-8 -*-
# Copyright: (c) 2026, resolver.scim contributors
# GNU General Public License v3.0+ (see LICENSES/GPL-3.0-or-later.txt or https://www.gnu.org/licenses/gpl-3.0.txt)
"""The environment fallback of every module's options (Resolver's in _module.py, Entra ID's in _entra.py)."""

import os

from ansible.module_utils.basic import AnsibleFallbackNotFound


def env_fallback(*names, environ=None):
    """Like ansible's env_fallback, but an empty variable counts as unset: an AWX credential injects every field
    of its type, so an API-key credential still sets RESOLVER_ORG_ID="" (which would not convert to an int).
    ``environ`` replaces os.environ when the module code runs in the controller (plugins/plugin_utils/in_process.py)."""
    environ = os.environ if environ is None else environ
    for name in names:
        if environ.get(name):
            return environ[name]
    raise AnsibleFallbackNotFound
