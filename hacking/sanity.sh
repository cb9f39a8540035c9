#!/usr/bin/env bash
# Run `ansible-test sanity` on a copy of the collection at a real ansible_collections/resolver/scim path
# (ansible-test refuses symlinks), seeding its pip bootstrap cache so that no download is needed.
set -euo pipefail
here=$(cd "$(dirname "$0")/.." && pwd)
venv=${VENV:-${here}/.venv}
python="${venv}/bin/python"
# Outside the work tree: inside it, ansible-test would list files with the work tree's git and skip them all.
dest="${SANITY_ROOT:-${TMPDIR:-/tmp}/resolver-scim-sanity}/ansible_collections/resolver/scim"

pip_version=$("${python}" - <<'PY'
from ansible_test._internal.python_requirements import get_venv_packages
print(get_venv_packages(type("P", (), {"version": None})())["pip"])
PY
)
cache="${HOME}/.ansible/test/cache/get_pip_${pip_version//./_}.py"
if [ ! -s "${cache}" ]; then
  mkdir -p "$(dirname "${cache}")"
  cp "${here}/hacking/ansible_test_get_pip.py" "${cache}"
fi

rm -rf "${dest}"
mkdir -p "${dest}"
(cd "${here}" && git ls-files -co --exclude-standard -z | xargs -0 cp --parents -t "${dest}")

py_version=$("${python}" -c 'import sys; print("%d.%d" % sys.version_info[:2])')
cd "${dest}"
export PATH="${venv}/bin:${PATH}"
ansible-test sanity --venv --python "${py_version}" --color no --requirements "$@"
