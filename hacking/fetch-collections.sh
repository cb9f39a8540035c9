#!/usr/bin/env bash
# Put collections under DEST/ansible_collections without Galaxy, which CI cannot reach: the `ansible` package on
# PyPI carries the community collections, so take its wheel (pinned by the caller) and unpack only those named.
#   fetch-collections.sh PYTHON DEST ANSIBLE_VERSION NAMESPACE.NAME...
set -euo pipefail
usage="usage: fetch-collections.sh PYTHON DEST ANSIBLE_VERSION NAMESPACE.NAME..."
python=${1:?${usage}}
dest=${2:?${usage}}
ansible_package_version=${3:?${usage}}
shift 3
[ $# -gt 0 ] || { echo "${usage}" >&2; exit 2; }
wheels="${dest}/wheels"
"${python}" -m pip download --quiet --disable-pip-version-check --no-deps --only-binary :all: --dest "${wheels}" \
  "ansible==${ansible_package_version}"
"${python}" - "${wheels}/ansible-${ansible_package_version}-py3-none-any.whl" "${dest}" "$@" <<'PY'
import sys
import zipfile

wheel, dest, names = sys.argv[1], sys.argv[2], sys.argv[3:]
with zipfile.ZipFile(wheel) as archive:
    for name in names:
        prefix = "ansible_collections/%s/" % name.replace(".", "/")
        members = [m for m in archive.namelist() if m.startswith(prefix)]
        if not members:
            sys.exit("%s is not in %s" % (name, wheel))
        archive.extractall(dest, members)
PY
rm -rf "${wheels}"
