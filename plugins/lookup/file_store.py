# -*- coding: utf-8 -*-
# Copyright: (c) 2026, resolver.scim contributors
# GNU General Public License v3.0+ (see LICENSES/GPL-3.0-or-later.txt or https://www.gnu.org/licenses/gpl-3.0.txt)

DOCUMENTATION = r"""
name: file_store
short_description: Read and check the scim_tokens role's file token store on the controller
version_added: 0.1.0
description:
  - Reads or checks one org's directory of the V(file) and V(vault) token stores of the C(resolver.scim.scim_tokens)
    role, without ever returning or printing a token value. Used by the role's store task files.
  - With O(verb=read), returns one record per stored token (C(name), C(token_id), C(org_id), C(org),
    C(email_domains), C(expires), C(status) and C(source), the file's path). A file that is not valid JSON or not a
    token record fails the lookup naming the file only; a record stored under another name's file (a backup copy)
    is skipped with a warning.
  - With O(verb=check), returns the reasons why new records for O(keys) could not be written, or an empty list
    when they can. A symbolic link or a file where a directory belongs, a directory that is not writable, and a
    record that belongs to another org id are such reasons.
  - With O(verb=missing_dirs), returns the directories that must be created, outermost first.
  - With O(verb=known), returns V(true) when the org's directory exists, so the store was used for the org before
    (the role's check creates it before the first token is issued), and V(false) for a directory that was never used
    for the org, such as a wrong store directory or one on another machine.
  - With O(verb=value), returns the token value of the record of each of O(keys), for the step that hands a stored
    token over to an identity provider. Use it only in a task with C(no_log=true).
author:
  - resolver.scim maintainers (@resolver-scim)
options:
  _terms:
    description: The org's store directory (C(~) is expanded).
    required: true
    type: list
    elements: path
  verb:
    description: What to do.
    type: str
    choices: [read, check, missing_dirs, value, known]
    default: read
  keys:
    description: With O(verb=check), the store keys of the token records about to be written; with O(verb=value), of the records to read.
    type: list
    elements: str
    default: []
  org_id:
    description: With O(verb=check), the Resolver org id the records belong to.
    type: int
  password_file:
    description: With O(verb=read), a vault password file that must exist (the V(vault) store checks its setting).
    type: str
"""

EXAMPLES = r"""
- name: Which token ids does the store hold for this org?
  ansible.builtin.debug:
    msg: "{{ query('resolver.scim.file_store', '~/.resolver-scim/tokens/acme-prod') | map(attribute='token_id') }}"
"""

RETURN = r"""
_list:
  description:
    - Records (O(verb=read)), problems (O(verb=check)), directories (O(verb=missing_dirs)), values (O(verb=value)) or
      one boolean per directory (O(verb=known)).
  type: list
  elements: raw
"""

import os

from ansible.errors import AnsibleLookupError
from ansible.plugins.lookup import LookupBase
from ansible.utils.display import Display

from ansible_collections.resolver.scim.plugins.module_utils._errors import PATH_LIKE, StoreError, quoted
from ansible_collections.resolver.scim.plugins.plugin_utils.file_store import (
    missing_directories,
    org_known,
    read_records,
    read_value,
    write_problems,
)

display = Display()


class LookupModule(LookupBase):
    def run(self, terms, variables=None, **kwargs):
        self.set_options(var_options=variables, direct=kwargs)
        verb = self.get_option("verb")
        result = []
        for directory in terms:
            directory = os.path.expanduser(directory)
            try:
                if verb == "read":
                    password_file = self.get_option("password_file")
                    if password_file is not None and not (password_file and os.path.isfile(password_file)):
                        raise StoreError("resolver_scim_token_store=vault needs resolver_scim_vault_password_file, the "
                                         "path of an existing file holding the vault password; got %s."
                                         % quoted(password_file, PATH_LIKE))
                    records, problems = read_records(directory)
                    for problem in problems:
                        display.warning(problem)
                    result.extend(records)
                elif verb == "value":
                    result.extend(read_value(directory, key) for key in self.get_option("keys"))
                elif verb == "known":
                    result.append(org_known(directory))
                elif verb == "check":
                    result.extend(write_problems(directory, self.get_option("keys"), self.get_option("org_id")))
                else:
                    result.extend(missing_directories(directory))
            except StoreError as exc:
                raise AnsibleLookupError(str(exc))
        return result
