#!/usr/bin/env bash
# Put awx.awx under DEST/ansible_collections for linting playbooks/awx_configure.yml. Galaxy is not reachable
# from CI, but the `ansible` package on PyPI carries awx.awx: take its wheel and unpack only that collection.
set -euo pipefail
python=${1:?usage: fetch-awx-collection.sh PYTHON DEST}
dest=${2:?usage: fetch-awx-collection.sh PYTHON DEST}
# ansible 14 no longer ships awx.awx; 11.13.0 (an earlier line that does) carries awx.awx 24.6.1.
ansible_package_version=11.13.0
wheels="${dest}/wheels"
"${python}" -m pip download --quiet --disable-pip-version-check --no-deps --only-binary :all: --dest "${wheels}" "ansible==${ansible_package_version}"
"${python}" - "${wheels}/ansible-${ansible_package_version}-py3-none-any.whl" "${dest}" <<'PY'
import sys
import zipfile

wheel, dest = sys.argv[1:3]
with zipfile.ZipFile(wheel) as archive:
    members = [m for m in archive.namelist() if m.startswith("ansible_collections/awx/awx/")]
    if not members:
        sys.exit("awx.awx is not in %s" % wheel)
    archive.extractall(dest, members)
PY
rm -rf "${wheels}"
