#!/usr/bin/env bash
# make packaging: the built tarball as Galaxy and docs.ansible.com would treat it.
#   1. galaxy-importer (Galaxy's own import checks, ansible-lint included) in its own venv;
#   2. antsibull-docs lint-collection-docs on the collection installed from the tarball;
#   3. the generated docsite (antsibull-docs sphinx-init + Sphinx) builds with warnings as errors.
# Tools are pinned in hacking/packaging-requirements/; each venv is made once and reused.
set -euo pipefail
here=$(cd "$(dirname "$0")/.." && pwd)
dist=${1:?usage: packaging.sh DIST_DIR TMP_DIR}
tmp=${2:?usage: packaging.sh DIST_DIR TMP_DIR}
python=${PYTHON:-python3}
requirements="${here}/hacking/packaging-requirements"
tarball=$(ls "${dist}"/resolver-scim-*.tar.gz)
installed="${tmp}/collections"

make_venv() {  # make_venv DIR REQUIREMENTS_FILE
  if [ ! -f "$1/.installed" ] || [ "$2" -nt "$1/.installed" ]; then
    rm -rf "$1"
    "${python}" -m venv "$1"
    "$1/bin/python" -m pip install --quiet --disable-pip-version-check -r "$2"
    touch "$1/.installed"
  fi
}

echo "== galaxy-importer"
make_venv "${tmp}/venv-importer" "${requirements}/importer.txt"
cat > "${tmp}/galaxy-importer.cfg" <<'CFG'
[galaxy-importer]
LOG_LEVEL_MAIN = INFO
RUN_ANSIBLE_TEST = False
RUN_ANSIBLE_LINT = True
CHECK_CHANGELOG = True
CFG
log="${tmp}/galaxy-importer.log"
# The importer runs ansible-lint and ansible-doc from its venv's PATH.
if ! (cd "${tmp}" && PATH="${tmp}/venv-importer/bin:${PATH}" GALAXY_IMPORTER_CONFIG="${tmp}/galaxy-importer.cfg" \
      "${tmp}/venv-importer/bin/python" -m galaxy_importer.main "${tarball}") >"${log}" 2>&1; then
  cat "${log}"; echo "galaxy-importer failed" >&2; exit 1
fi
# The importer reports problems as log lines and still exits 0 for some of them: any ERROR or WARNING fails, but
# one. Its ansible-lint runs with only the collection itself on ANSIBLE_COLLECTIONS_PATH, so it cannot resolve the
# awx.awx modules of playbooks/awx_configure.yml (awx.awx is deliberately not a dependency: only that playbook
# needs it). Galaxy's import log shows the same warning; `make lint` checks that playbook with awx.awx installed.
awx_unresolved="syntax-check\[unknown-module\]: couldn't resolve module/action 'awx\.awx\."
if grep -E "^(ERROR|WARNING)|: (ERROR|WARNING) " "${log}" | grep -vE "${awx_unresolved}"; then
  echo "galaxy-importer reported the lines above (full log: ${log})" >&2; exit 1
fi
grep "Importer processing completed successfully" "${log}"

echo "== antsibull-docs lint-collection-docs"
make_venv "${tmp}/venv-docs" "${requirements}/docs.txt"
export ANSIBLE_COLLECTIONS_PATH="${installed}" PATH="${tmp}/venv-docs/bin:${PATH}"
antsibull-docs lint-collection-docs --plugin-docs --validate-collection-refs all --disallow-unknown-collection-refs \
  "${installed}/ansible_collections/resolver/scim"

echo "== docsite build"
site="${tmp}/docsite"
rm -rf "${site}" && mkdir -m 700 "${site}"
antsibull-docs sphinx-init --use-current --fail-on-error --dest-dir "${site}" resolver.scim >/dev/null
# build.sh as generated, except for -W: offline, Sphinx cannot fetch the intersphinx inventories of docs.ansible.com
# and docs.python.org, so references into them stay unresolved. Those warnings are expected here; any other fails.
(cd "${site}" && mkdir -p rst && chmod og-w rst \
  && antsibull-docs --config-file antsibull-docs.cfg collection --cleanup everything --fail-on-error --use-current \
       --dest-dir rst resolver.scim \
  && sphinx-build -M html rst build -c . --keep-going -w warnings.log) >"${tmp}/docsite.log" 2>&1 \
  || { cat "${tmp}/docsite.log"; echo "the docsite build failed" >&2; exit 1; }
offline="intersphinx inventory|failed to reach any of the inventories|undefined label: '(ansible_configuration_settings|common_return_values|action_plugins)'"
if grep -vE "${offline}" "${site}/warnings.log" | grep -q .; then
  grep -vE "${offline}" "${site}/warnings.log"; echo "the docsite build warned (above)" >&2; exit 1
fi
for page in scim_token_module scim_token_plan_module org_lock_module scim_tokens_role; do
  test -s "${site}/build/html/collections/resolver/scim/${page}.html"
done
echo "docsite: ${site}/build/html/collections/resolver/scim/index.html"
