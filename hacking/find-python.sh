#!/usr/bin/env bash
# Print a CPython >= 3.12 (ansible-core 2.21 needs it), else python3 (then an older ansible-core is installed).
# pyenv installs are looked up directly because they are often not on PATH (and its shims may not run).
set -u
works() { "$1" -c 'import sys, venv; sys.exit(sys.version_info < (3, 12))' >/dev/null 2>&1; }
root=$(pyenv root 2>/dev/null || echo "${HOME}/.pyenv")
for minor in 3.12 3.13; do
  for candidate in "$(command -v "python${minor}" 2>/dev/null)" "${root}"/versions/"${minor}".*/bin/python3; do
    if [ -n "${candidate}" ] && [ -x "${candidate}" ] && works "${candidate}"; then echo "${candidate}"; exit 0; fi
  done
done
command -v python3
